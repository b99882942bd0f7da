//! Set commands (Redis 7.0's t_set.c behaviour): SADD, SREM, SCARD, SISMEMBER,
//! SMISMEMBER, SMEMBERS, SRANDMEMBER, SPOP, SMOVE, the algebra (SINTER, SINTERCARD,
//! SUNION, SDIFF and their STORE forms) and SSCAN.

use super::keyspace::{parse_cursor, parse_scan_options};
use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::object::{Object, Value};
use crate::pubsub::class;
use crate::types::packed::Item;
use crate::types::set::Set;
use redis_formats::glob::glob_match;
use redis_formats::ReplyBuf;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("sadd", sadd),
    ("scard", scard),
    ("sdiff", sdiff),
    ("sdiffstore", sdiffstore),
    ("sinter", sinter),
    ("sintercard", sintercard),
    ("sinterstore", sinterstore),
    ("sismember", sismember),
    ("smembers", sinter),
    ("smismember", smismember),
    ("smove", smove),
    ("spop", spop),
    ("srandmember", srandmember),
    ("srem", srem),
    ("sscan", sscan),
    ("sunion", sunion),
    ("sunionstore", sunionstore),
];

/// Looks `key` up (read or write) and hands out the reply buffer beside it.
pub(crate) fn lookup_out<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
    read: bool,
) -> (Option<&'a mut Object>, &'a mut ReplyBuf) {
    let touch = !ctx.client.no_touch;
    (
        lookup_key(ctx.srv, ctx.client.db, key, ctx.now_ms, read, touch),
        &mut *ctx.out,
    )
}

/// The set at `key` (None if missing), or WRONGTYPE; with the reply buffer.
fn set_out<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
    read: bool,
) -> Result<(Option<&'a mut Set>, &'a mut ReplyBuf), CmdError> {
    match lookup_out(ctx, key, read) {
        (None, out) => Ok((None, out)),
        (Some(o), out) => match &mut o.value {
            Value::Set(s) => {
                s.rehash_step();
                Ok((Some(s), out))
            }
            _ => Err(errors::WRONGTYPE.into()),
        },
    }
}

/// Redis's getRangeLongFromObjectOrReply: `msg` replaces both errors when given.
pub(crate) fn range_long(
    arg: &[u8],
    min: i64,
    max: i64,
    msg: Option<&'static str>,
) -> Result<i64, CmdError> {
    let err = |default: String| -> CmdError {
        match msg {
            Some(m) => CmdError::from(format!("ERR {m}")),
            None => CmdError::from(default),
        }
    };
    let n =
        redis_formats::num::parse_i64(arg).ok_or_else(|| err(errors::NOT_INTEGER.to_string()))?;
    if n < min || n > max {
        return Err(err(format!(
            "ERR value is out of range, value must between {min} and {max}"
        )));
    }
    Ok(n)
}

fn max_intset(ctx: &Ctx) -> u64 {
    ctx.srv.config.set_max_intset_entries as u64
}

#[inline]
fn reply_item(out: &mut ReplyBuf, it: Item<'_>) {
    match it {
        Item::Int(n) => out.bulk_int(n),
        Item::Str(s) => out.bulk(s),
        Item::Float(_) => it.with_bytes(|b| out.bulk(b)),
    }
}

/// SADD key member [member ...]
pub fn sadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let max = max_intset(ctx);
    let added = match set_out(ctx, argv[1], false)?.0 {
        Some(s) => argv[2..].iter().filter(|m| s.add(m, max)).count(),
        None => {
            let mut s = Set::new_for(argv[2]);
            let n = argv[2..].iter().filter(|m| s.add(m, max)).count();
            let obj = ctx.new_object(Value::Set(s));
            ctx.db().add(argv[1], obj);
            n
        }
    };
    if added > 0 {
        ctx.notify(class::SET, "sadd", argv[1]);
    }
    ctx.dirty(added as u64);
    ctx.out.int(added as i64);
    Ok(())
}

/// Deletes `key` (with its `del` event) if its set became empty.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let empty = matches!(
        ctx.db().keys.get(key).map(|o| &o.value),
        Some(Value::Set(s)) if s.is_empty()
    );
    if empty {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

/// SREM key member [member ...]
pub fn srem(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let removed = match set_out(ctx, argv[1], false)?.0 {
        None => 0,
        Some(s) => {
            let mut n = 0;
            for m in &argv[2..] {
                if s.remove(m) {
                    n += 1;
                    if s.is_empty() {
                        break;
                    }
                }
            }
            n
        }
    };
    if removed > 0 {
        ctx.notify(class::SET, "srem", argv[1]);
        delete_if_empty(ctx, argv[1]);
        ctx.dirty(removed);
    }
    ctx.out.int(removed as i64);
    Ok(())
}

/// SMOVE source destination member
pub fn smove(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (src, dst, m): (&[u8], &[u8], &[u8]) = (argv[1], argv[2], argv[3]);
    let src_type = lookup_out(ctx, src, false)
        .0
        .map(|o| matches!(o.value, Value::Set(_)));
    let dst_type = lookup_out(ctx, dst, false)
        .0
        .map(|o| matches!(o.value, Value::Set(_)));
    let Some(src_is_set) = src_type else {
        ctx.out.int(0);
        return Ok(());
    };
    if !src_is_set || dst_type == Some(false) {
        return Err(errors::WRONGTYPE.into());
    }
    if src == dst {
        let hit = set_out(ctx, src, false)?.0.is_some_and(|s| s.contains(m));
        ctx.out.int(hit as i64);
        return Ok(());
    }
    let removed = set_out(ctx, src, false)?.0.is_some_and(|s| s.remove(m));
    if !removed {
        ctx.out.int(0);
        return Ok(());
    }
    ctx.notify(class::SET, "srem", src);
    delete_if_empty(ctx, src);
    let max = max_intset(ctx);
    if dst_type.is_none() {
        let obj = ctx.new_object(Value::Set(Set::new_for(m)));
        ctx.db().add(dst, obj);
    }
    ctx.dirty(1);
    if set_out(ctx, dst, false)?.0.is_some_and(|s| s.add(m, max)) {
        ctx.dirty(1);
        ctx.notify(class::SET, "sadd", dst);
    } else {
        // The destination already had the member: WATCHes on it hold.
        ctx.unchanged_keys |= 1 << 2;
    }
    ctx.out.int(1);
    Ok(())
}

/// SISMEMBER key member
pub fn sismember(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (s, out) = set_out(ctx, argv[1], true)?;
    out.int(s.is_some_and(|s| s.contains(argv[2])) as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]
pub fn smismember(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (s, out) = set_out(ctx, argv[1], true)?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        out.int(s.as_ref().is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SCARD key
pub fn scard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (s, out) = set_out(ctx, argv[1], true)?;
    out.int(s.map_or(0, |s| s.len()) as i64);
    Ok(())
}

/// SPOP key [count]
pub fn spop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let key: &[u8] = argv[1];
    if argv.len() == 3 {
        return spop_count(ctx);
    }
    let m = match set_out(ctx, key, false)? {
        (None, out) => {
            out.null();
            return Ok(());
        }
        (Some(s), _) => s.pop_random(),
    };
    ctx.notify(class::SET, "spop", key);
    ctx.out.bulk(&m);
    delete_if_empty(ctx, key);
    ctx.dirty(1);
    // Propagated as SREM key member.
    ctx.propagate_as(&[b"SREM", key, &m]);
    Ok(())
}

fn spop_count(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let count = range_long(
        argv[2],
        0,
        i64::MAX,
        Some("value is out of range, must be positive"),
    )? as usize;
    let max = max_intset(ctx);
    let prop = ctx.srv.prop.active;
    let (s, out) = set_out(ctx, key, false)?;
    let Some(s) = s else {
        out.set(0);
        return Ok(());
    };
    if count == 0 {
        out.set(0);
        return Ok(());
    }
    let size = s.len();
    ctx.notify(class::SET, "spop", key);
    let (s, out) = set_out(ctx, key, false)?;
    let s = s.expect("checked above");
    if count >= size {
        // The whole set, in the order the union Redis builds would give.
        let mut u = Set::new_intset();
        s.for_each(|it| {
            it.with_bytes(|b| u.add(b, max));
        });
        out.set(size);
        u.for_each(|it| reply_item(out, it));
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
        ctx.dirty(size as u64);
        ctx.propagate_as(&[b"DEL", key]);
        return Ok(());
    }
    out.set(count);
    let remaining = size - count;
    // Propagated as one SREM per popped member.
    let mut popped: Vec<Vec<u8>> = Vec::new();
    if remaining * 5 > count {
        for _ in 0..count {
            let m = s.pop_random();
            out.bulk(&m);
            if prop {
                popped.push(m.to_vec());
            }
        }
    } else {
        // Draw the members that stay into a new set; the rest is the reply.
        let mut newset: Option<Set> = None;
        for _ in 0..remaining {
            let m = s.pop_random();
            newset.get_or_insert_with(|| Set::new_for(&m)).add(&m, max);
        }
        s.for_each(|it| {
            reply_item(out, it);
            if prop {
                it.with_bytes(|b| popped.push(b.to_vec()));
            }
        });
        *s = newset.expect("remaining > 0");
    }
    ctx.dirty(count as u64);
    if prop {
        let db = ctx.client.db;
        for m in &popped {
            ctx.also_propagate(db, &[b"SREM", key, m]);
        }
        ctx.prevent_propagation();
    }
    Ok(())
}

/// SRANDMEMBER key [count]
pub fn srandmember(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 3 {
        return Err(errors::SYNTAX.into());
    }
    if argv.len() == 2 {
        let (s, out) = set_out(ctx, argv[1], true)?;
        match s {
            None => out.null(),
            Some(s) => out.bulk(&s.random()),
        }
        return Ok(());
    }
    let l = range_long(argv[2], -i64::MAX, i64::MAX, None)?;
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    let (s, out) = set_out(ctx, argv[1], true)?;
    let Some(s) = s else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    if !uniq || count == 1 {
        out.array(count as usize);
        match &*s {
            Set::Ints(is) => {
                for _ in 0..count {
                    out.bulk_int(is.get(fastrand::usize(..is.len())));
                }
            }
            Set::Packed(p) => {
                let offs: Vec<usize> = p.iter_offsets().map(|(o, _)| o).collect();
                for _ in 0..count {
                    reply_item(out, p.at(offs[fastrand::usize(..offs.len())]).0);
                }
            }
            Set::Table(_) => {
                for _ in 0..count {
                    out.bulk(&s.random());
                }
            }
        }
        return Ok(());
    }
    let size = s.len();
    if count as usize >= size {
        out.array(size);
        s.for_each(|it| reply_item(out, it));
        return Ok(());
    }
    let picked = s.random_distinct(count as usize);
    out.array(picked.len());
    for m in &picked {
        out.bulk(m);
    }
    Ok(())
}

/// The sets at `keys` (None for missing keys), or WRONGTYPE.
fn load_sets<'a>(
    srv: &'a mut crate::state::Server,
    dbi: usize,
    now: i64,
    touch: bool,
    keys: &[&[u8]],
) -> Result<Vec<Option<&'a Set>>, CmdError> {
    // Lookups first (they may expire keys and count hits), then shared borrows.
    for k in keys {
        if let Some(o) = lookup_key(srv, dbi, k, now, true, touch) {
            if !matches!(o.value, Value::Set(_)) {
                return Err(errors::WRONGTYPE.into());
            }
        }
    }
    let db = &srv.keyspace.dbs[dbi];
    Ok(keys
        .iter()
        .map(|k| match db.keys.get(k).map(|o| &o.value) {
            Some(Value::Set(s)) => Some(s),
            _ => None,
        })
        .collect())
}

/// Stores `result` at `dst` (or deletes `dst` when empty) and replies its size.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &str) {
    let n = result.len();
    if n > 0 {
        ctx.set_key(dst, Value::Set(result), false);
        ctx.out.int(n as i64);
        ctx.notify(class::SET, event, dst);
        ctx.dirty(1);
    } else {
        ctx.out.int(0);
        if ctx.delete_key(dst) {
            ctx.dirty(1);
            ctx.notify(class::GENERIC, "del", dst);
        }
    }
}

/// SINTER / SMEMBERS / SINTERSTORE / SINTERCARD.
fn sinter_generic(
    ctx: &mut Ctx,
    first: usize,
    nkeys: usize,
    dst: Option<&[u8]>,
    card_only: bool,
    limit: usize,
) -> CmdResult {
    let argv = ctx.argv;
    let max = max_intset(ctx);
    let keys = &argv[first..first + nkeys];
    let touch = !ctx.client.no_touch;
    let sets = load_sets(&mut *ctx.srv, ctx.client.db, ctx.now_ms, touch, keys)?;
    if sets.iter().any(|s| s.is_none()) {
        if let Some(dst) = dst {
            if ctx.delete_key(dst) {
                ctx.notify(class::GENERIC, "del", dst);
                ctx.dirty(1);
            }
            ctx.out.int(0);
        } else if card_only {
            ctx.out.int(0);
        } else {
            ctx.out.set(0);
        }
        return Ok(());
    }
    let mut sets: Vec<&Set> = sets.into_iter().flatten().collect();
    sets.sort_by_key(|s| s.len());
    let mut result: Vec<Vec<u8>> = Vec::new();
    let mut card = 0usize;
    let base = sets[0];
    let mut buf = Vec::new();
    base.for_each(|it| {
        if card_only && limit > 0 && card >= limit {
            return;
        }
        buf.clear();
        it.with_bytes(|b| buf.extend_from_slice(b));
        let all = sets[1..]
            .iter()
            .all(|s| std::ptr::eq(*s, base) || s.contains(&buf));
        if all {
            card += 1;
            if !card_only {
                result.push(buf.clone());
            }
        }
    });
    if card_only {
        ctx.out.int(card as i64);
        return Ok(());
    }
    match dst {
        Some(dst) => {
            let mut s = Set::new_intset();
            for m in &result {
                s.add(m, max);
            }
            store_result(ctx, dst, s, "sinterstore");
        }
        None => {
            ctx.out.set(result.len());
            for m in &result {
                ctx.out.bulk(m);
            }
        }
    }
    Ok(())
}

/// SINTER key [key ...] (and SMEMBERS key)
pub fn sinter(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argc() - 1;
    sinter_generic(ctx, 1, n, None, false, 0)
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = ctx.argc() - 2;
    sinter_generic(ctx, 2, n, Some(argv[1]), false, 0)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = range_long(
        argv[1],
        1,
        i64::MAX,
        Some("numkeys should be greater than 0"),
    )?;
    if numkeys > (argv.len() - 2) as i64 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if ctx.arg_is(j, "limit") && j + 1 < argv.len() {
            j += 1;
            limit = range_long(argv[j], 0, i64::MAX, Some("LIMIT can't be negative"))? as usize;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    sinter_generic(ctx, 2, numkeys, None, true, limit)
}

#[derive(PartialEq, Clone, Copy)]
enum Op {
    Union,
    Diff,
}

fn sunion_diff(ctx: &mut Ctx, first: usize, dst: Option<&[u8]>, op: Op) -> CmdResult {
    let argv = ctx.argv;
    let max = max_intset(ctx);
    let keys = &argv[first..];
    let touch = !ctx.client.no_touch;
    let mut sets = load_sets(&mut *ctx.srv, ctx.client.db, ctx.now_ms, touch, keys)?;
    let sameset = sets[0].is_some()
        && sets[1..]
            .iter()
            .any(|s| s.is_some_and(|s| std::ptr::eq(s, sets[0].expect("checked"))));
    let mut result = Set::new_intset();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                s.for_each(|it| {
                    it.with_bytes(|b| result.add(b, max));
                });
            }
        }
        Op::Diff if sameset => {}
        Op::Diff => {
            if let Some(first) = sets[0] {
                let algo_one: usize = sets.iter().flatten().map(|_| first.len()).sum::<usize>() / 2;
                let algo_two: usize = sets.iter().flatten().map(|s| s.len()).sum();
                if algo_one <= algo_two {
                    sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |s| s.len())));
                    let mut buf = Vec::new();
                    first.for_each(|it| {
                        buf.clear();
                        it.with_bytes(|b| buf.extend_from_slice(b));
                        if !sets[1..].iter().flatten().any(|s| s.contains(&buf)) {
                            result.add(&buf, max);
                        }
                    });
                } else {
                    first.for_each(|it| {
                        it.with_bytes(|b| result.add(b, max));
                    });
                    for s in sets[1..].iter().flatten() {
                        if result.is_empty() {
                            break;
                        }
                        s.for_each(|it| {
                            it.with_bytes(|b| result.remove(b));
                        });
                    }
                }
            }
        }
    }
    match dst {
        Some(dst) => {
            let event = match op {
                Op::Union => "sunionstore",
                Op::Diff => "sdiffstore",
            };
            store_result(ctx, dst, result, event)
        }
        None => {
            ctx.out.set(result.len());
            let out = &mut *ctx.out;
            result.for_each(|it| reply_item(out, it));
        }
    }
    Ok(())
}

/// SUNION key [key ...]
pub fn sunion(ctx: &mut Ctx) -> CmdResult {
    sunion_diff(ctx, 1, None, Op::Union)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sunion_diff(ctx, 2, Some(argv[1]), Op::Union)
}

/// SDIFF key [key ...]
pub fn sdiff(ctx: &mut Ctx) -> CmdResult {
    sunion_diff(ctx, 1, None, Op::Diff)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sunion_diff(ctx, 2, Some(argv[1]), Op::Diff)
}

/// Replies a SCAN-shaped answer: the cursor, then the collected items.
pub(crate) fn reply_scan(out: &mut ReplyBuf, cursor: u64, items: &[Vec<u8>]) {
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(items.len());
    for i in items {
        out.bulk(i);
    }
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
pub fn sscan(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let cursor = parse_cursor(argv[2])?;
    if set_out(ctx, argv[1], true)?.0.is_none() {
        reply_scan(ctx.out, 0, &[]);
        return Ok(());
    }
    let opts = parse_scan_options(ctx, 3, false)?;
    let Some(Value::Set(s)) = ctx.srv.keyspace.dbs[ctx.client.db]
        .keys
        .get(argv[1])
        .map(|o| &o.value)
    else {
        unreachable!("looked up above");
    };
    let out = &mut *ctx.out;
    let mut items = Vec::new();
    let next = s.scan(cursor, opts.count, |it| {
        it.with_bytes(|b| {
            if opts
                .pattern
                .as_ref()
                .is_none_or(|p| glob_match(p, b, false))
            {
                items.push(b.to_vec());
            }
        })
    });
    reply_scan(out, next, &items);
    Ok(())
}
