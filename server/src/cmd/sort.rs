//! SORT and SORT_RO: sorting lists, sets and sorted sets, by their own elements or by
//! external keys (`BY pattern`, hash fields with `->`), with `GET` patterns, LIMIT,
//! ASC/DESC, ALPHA and STORE, in Redis 7.0's order of checks and with its quirks
//! (a BY pattern without `*` skips sorting; a set is still sorted alphabetically when
//! the result is stored, so replicas agree; missing weights count as 0).

use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::object::Value;
use std::cmp::Ordering;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[("sort", sort), ("sort_ro", sort_ro)];

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]
fn sort(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, false)
}

/// SORT_RO: SORT without STORE.
fn sort_ro(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, true)
}

/// One element to sort with its weight: a number, or for ALPHA with BY the looked-up
/// bytes (None when the weight key is missing, which sorts first).
struct Item {
    elem: Vec<u8>,
    score: f64,
    by: Option<Vec<u8>>,
}

/// The options of one SORT call.
struct Options {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<Vec<u8>>,
    by: Option<Vec<u8>>,
    gets: Vec<Vec<u8>>,
    dont_sort: bool,
}

fn parse_options(ctx: &Ctx, readonly: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: None,
        store: None,
        by: None,
        gets: Vec::new(),
        dont_sort: false,
    };
    let argc = ctx.argc();
    let mut j = 2;
    while j < argc {
        let left = argc - j - 1;
        if ctx.arg_is(j, "asc") {
            o.desc = false;
        } else if ctx.arg_is(j, "desc") {
            o.desc = true;
        } else if ctx.arg_is(j, "alpha") {
            o.alpha = true;
        } else if ctx.arg_is(j, "limit") && left >= 2 {
            let start = ctx.arg_i64(j + 1)?;
            let count = ctx.arg_i64(j + 2)?;
            o.limit = Some((start, count));
            j += 2;
        } else if !readonly && ctx.arg_is(j, "store") && left >= 1 {
            o.store = Some(ctx.arg(j + 1).to_vec());
            j += 1;
        } else if ctx.arg_is(j, "by") && left >= 1 {
            let pattern = ctx.arg(j + 1);
            // A pattern without '*' names one constant key: nothing to sort by.
            if !pattern.contains(&b'*') {
                o.dont_sort = true;
            } else if !ctx.client.user.may_read_any_key(ctx.cmd, ctx.argv) {
                return Err(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.".into(),
                );
            }
            o.by = Some(pattern.to_vec());
            j += 1;
        } else if ctx.arg_is(j, "get") && left >= 1 {
            if !ctx.client.user.may_read_any_key(ctx.cmd, ctx.argv) {
                return Err(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.".into(),
                );
            }
            o.gets.push(ctx.arg(j + 1).to_vec());
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// A BY/GET pattern split around its `*`: key prefix, key suffix, hash field.
type PatternParts<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);

/// Where `*` is replaced and which hash field (after `->`) a pattern reads.
fn split_pattern(pattern: &[u8]) -> Option<PatternParts<'_>> {
    let star = pattern.iter().position(|&b| b == b'*')?;
    let rest = &pattern[star + 1..];
    // The field part starts at the first "->" after the '*', if something follows it.
    let arrow = rest.windows(2).position(|w| w == b"->");
    match arrow {
        Some(a) if a + 2 < rest.len() => Some((&pattern[..star], &rest[..a], Some(&rest[a + 2..]))),
        _ => Some((&pattern[..star], rest, None)),
    }
}

/// Redis's lookupKeyByPattern: `#` is the element itself; otherwise the string key (or
/// hash field) the pattern names for this element, if it exists with the right type.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let (prefix, postfix, field) = split_pattern(pattern)?;
    let mut key = Vec::with_capacity(prefix.len() + elem.len() + postfix.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let now = ctx.now_ms;
    let o = ctx.read_key(&key)?;
    match (field, &o.value) {
        (None, v) if v.is_string() => Some(v.to_bytes()),
        (Some(f), Value::Hash(h)) => {
            // A field whose TTL has passed is gone, even before it is reaped.
            if h.field_expire(f).is_some_and(|t| t > 0 && t <= now) {
                return None;
            }
            h.with_value(f, |v| v.map(|i| i.to_vec()))
        }
        _ => None,
    }
}

/// C's strtod as SORT checks it: leading white space allowed, nothing may follow the
/// number, and neither NaN nor an out-of-range value is accepted. The empty string
/// reads as 0, as strtod consumes nothing and leaves no trailing byte.
fn sort_score(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if t.is_empty() {
        return if s.is_empty() { Some(0.0) } else { None };
    }
    let v: f64 = t.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    // strtod reports ERANGE for overflow to infinity (an explicit "inf" is fine).
    let lower = t.to_ascii_lowercase();
    if v.is_infinite() && !lower.trim_start_matches(['+', '-']).starts_with("inf") {
        return None;
    }
    Some(v)
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult {
    let mut o = parse_options(ctx, readonly)?;
    let key = ctx.argv[1];
    let (elements, is_set) = match ctx.read_key(key) {
        None => (Vec::new(), false),
        Some(obj) => match &mut obj.value {
            Value::List(l) => (l.iter().map(|i| i.to_vec()).collect(), false),
            Value::Set(s) => {
                let mut v = Vec::with_capacity(s.len());
                s.for_each(|i| v.push(i.to_vec()));
                (v, true)
            }
            Value::ZSet(z) => {
                // Redis converts a listpack sorted set to a skiplist for SORT.
                z.convert_to_skiplist();
                let mut v = Vec::with_capacity(z.len());
                z.for_range(0, z.len(), false, |m, _| v.push(m.to_vec()));
                (v, false)
            }
            _ => return Err(errors::WRONGTYPE.into()),
        },
    };
    // A set has no order of its own: sort it when the result is stored, so that
    // what is stored (or what a script sees) does not depend on the hash table.
    if o.dont_sort && is_set && (o.store.is_some() || ctx.client.in_script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }

    let len = elements.len() as i64;
    let (limit_start, limit_count) = o.limit.unwrap_or((0, -1));
    let mut start = limit_start.clamp(0, len);
    let count = limit_count.clamp(-1, len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            by: None,
        })
        .collect();
    // Without sorting, lists and sorted sets keep their order, reversed by DESC.
    if o.dont_sort && !is_set && o.desc {
        items.reverse();
    }

    let mut conversion_error = false;
    if !o.dont_sort {
        for it in items.iter_mut() {
            let weight = match &o.by {
                Some(p) => match lookup_by_pattern(ctx, p, &it.elem) {
                    Some(w) => w,
                    None => continue,
                },
                None => {
                    if !o.alpha {
                        match sort_score(&it.elem) {
                            Some(s) => it.score = s,
                            None => conversion_error = true,
                        }
                    }
                    continue;
                }
            };
            if o.alpha {
                it.by = Some(weight);
            } else {
                match sort_score(&weight) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        let alpha = o.alpha;
        let by_pattern = o.by.is_some();
        let desc = o.desc;
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                // A missing weight sorts first.
                a.by.cmp(&b.by)
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    if conversion_error {
        return Err("ERR One or more scores can't be converted into double".into());
    }

    let range: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let gets = std::mem::take(&mut o.gets);
    let per_item = gets.len().max(1);
    let output_len = per_item * range.len();
    match o.store {
        None => {
            let elems: Vec<Vec<u8>> = range.iter().map(|i| i.elem.clone()).collect();
            let mut values: Vec<Option<Vec<u8>>> = Vec::with_capacity(output_len);
            for elem in &elems {
                if gets.is_empty() {
                    values.push(Some(elem.clone()));
                }
                for g in &gets {
                    values.push(lookup_by_pattern(ctx, g, elem));
                }
            }
            ctx.out.array(values.len());
            for v in values {
                match v {
                    Some(b) => ctx.out.bulk(&b),
                    None => ctx.out.null(),
                }
            }
        }
        Some(dest) => {
            let elems: Vec<Vec<u8>> = range.iter().map(|i| i.elem.clone()).collect();
            let mut values: Vec<Vec<u8>> = Vec::with_capacity(output_len);
            for elem in &elems {
                if gets.is_empty() {
                    values.push(elem.clone());
                }
                for g in &gets {
                    values.push(lookup_by_pattern(ctx, g, elem).unwrap_or_default());
                }
            }
            if values.is_empty() {
                if ctx.delete_key(&dest) {
                    ctx.notify(crate::pubsub::class::GENERIC, "del", &dest);
                    ctx.dirty(1);
                }
            } else {
                let limits = super::list::limits(ctx.srv);
                let mut list = crate::types::list::List::new();
                for v in &values {
                    list.push(v, false, &limits);
                }
                ctx.set_key(&dest, Value::List(list), false);
                ctx.notify(crate::pubsub::class::LIST, "sortstore", &dest);
                ctx.dirty(output_len as u64);
            }
            ctx.out.int(output_len as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(split_pattern(b"w_*"), Some((&b"w_"[..], &b""[..], None)));
        assert_eq!(
            split_pattern(b"h_*->f"),
            Some((&b"h_"[..], &b""[..], Some(&b"f"[..])))
        );
        // "->" with nothing after it is part of the key name.
        assert_eq!(
            split_pattern(b"h_*->"),
            Some((&b"h_"[..], &b"->"[..], None))
        );
        // "->" before the '*' is part of the key name too.
        assert_eq!(
            split_pattern(b"a->*b"),
            Some((&b"a->"[..], &b"b"[..], None))
        );
        assert_eq!(split_pattern(b"nostar"), None);
    }

    #[test]
    fn scores_like_strtod() {
        assert_eq!(sort_score(b"1.5"), Some(1.5));
        assert_eq!(sort_score(b" 2"), Some(2.0));
        assert_eq!(sort_score(b""), Some(0.0));
        assert_eq!(sort_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(sort_score(b"2 "), None);
        assert_eq!(sort_score(b"abc"), None);
        assert_eq!(sort_score(b"nan"), None);
        assert_eq!(sort_score(b"1e400"), None);
    }
}
