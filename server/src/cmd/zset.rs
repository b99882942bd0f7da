//! Sorted set commands (Redis 7.0's t_zset.c behaviour): ZADD and ZINCRBY, reads by
//! member, rank, score and lex ranges, the range removals, the set operations
//! (ZUNION/ZINTER/ZDIFF, their STORE forms, ZINTERCARD), the pops, ZRANDMEMBER and
//! ZSCAN.
//!
//! Every range (by rank, score or lex, forward or reversed, with LIMIT) is first
//! turned into an interval of forward ranks `[lo, hi)`; the data structure
//! (`types::zset`) then only counts, emits and removes by rank.
//!
//! The blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) are built on [`pop_from`], the
//! non-blocking core that writes the pop reply for a key known to hold a zset.

use super::keyspace::{parse_cursor, parse_scan_options};
use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::object::Value;
use crate::pubsub::class;
use crate::state::Server;
use crate::types::zset::ZSet;
use redis_formats::glob::glob_match;
use redis_formats::ReplyBuf;
use std::collections::HashMap;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("bzmpop", bzmpop),
    ("bzpopmax", bzpopmax),
    ("bzpopmin", bzpopmin),
    ("zadd", zadd),
    ("zcard", zcard),
    ("zcount", zcount),
    ("zdiff", zdiff),
    ("zdiffstore", zdiffstore),
    ("zincrby", zincrby),
    ("zinter", zinter),
    ("zintercard", zintercard),
    ("zinterstore", zinterstore),
    ("zlexcount", zlexcount),
    ("zmpop", zmpop),
    ("zmscore", zmscore),
    ("zpopmax", zpopmax),
    ("zpopmin", zpopmin),
    ("zrandmember", zrandmember),
    ("zrange", zrange),
    ("zrangebylex", zrangebylex),
    ("zrangebyscore", zrangebyscore),
    ("zrangestore", zrangestore),
    ("zrank", zrank),
    ("zrem", zrem),
    ("zremrangebylex", zremrangebylex),
    ("zremrangebyrank", zremrangebyrank),
    ("zremrangebyscore", zremrangebyscore),
    ("zrevrange", zrevrange),
    ("zrevrangebylex", zrevrangebylex),
    ("zrevrangebyscore", zrevrangebyscore),
    ("zrevrank", zrevrank),
    ("zscan", zscan),
    ("zscore", zscore),
    ("zunion", zunion),
    ("zunionstore", zunionstore),
];

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";
const MINMAX_FLOAT: &str = "ERR min or max is not a float";
const MINMAX_LEX: &str = "ERR min or max not valid string range item";

// ---------------------------------------------------------------------------
// Number parsing with C's strtod rules.

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's strtod over the whole of `s` (leading white space skipped): the value and
/// whether it over- or underflowed (ERANGE), or None when text is left over.
fn c_strtod(s: &[u8]) -> Option<(f64, bool)> {
    if s.is_empty() {
        // No conversion: the end pointer stays on the terminating NUL.
        return Some((0.0, false));
    }
    let start = s.iter().position(|&c| !is_c_space(c))?;
    let t = std::str::from_utf8(&s[start..]).ok()?;
    let v = match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) => redis_formats::num::parse_hex_float(t)?,
    };
    let erange = if v.is_infinite() {
        // Only a spelled-out infinity is not an overflow.
        !t.bytes().any(|c| c == b'i' || c == b'I')
    } else if v == 0.0 && !t.bytes().any(|c| c == b'x' || c == b'X') {
        let mantissa = t.split(['e', 'E']).next().unwrap_or("");
        mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c))
    } else {
        false
    };
    Some((v, erange))
}

/// Redis's getDoubleFromObject: the whole string, no leading space, no overflow or
/// underflow to zero, not NaN.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    // Fast path: a plain integer that a double holds exactly.
    if s.len() <= 15 {
        if let Some(n) = redis_formats::num::parse_i64(s) {
            return Some(n as f64);
        }
    }
    if s.is_empty() || is_c_space(s[0]) || s.contains(&0) {
        return None;
    }
    match c_strtod(s)? {
        (v, false) if !v.is_nan() => Some(v),
        _ => None,
    }
}

fn arg_score(s: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    parse_score(s).ok_or(CmdError::from(msg))
}

/// A score range bound: `(x` is exclusive. As zslParseRange: strtod on the C string
/// (up to a NUL), anything left over or NaN is an error.
fn parse_score_bound(s: &[u8]) -> Option<(f64, bool)> {
    let (s, ex) = match s.first() {
        Some(b'(') => (&s[1..], true),
        _ => (s, false),
    };
    let s = match s.iter().position(|&c| c == 0) {
        Some(i) => &s[..i],
        None => s,
    };
    let (v, _) = c_strtod(s)?;
    if v.is_nan() {
        None
    } else {
        Some((v, ex))
    }
}

/// A lex range bound.
#[derive(Clone, Copy)]
enum Lex<'a> {
    MinInf,
    MaxInf,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

fn parse_lex_bound(s: &[u8]) -> Option<Lex<'_>> {
    match s.first()? {
        // Redis checks the next byte of the C string: a NUL ends it.
        b'+' if s.len() == 1 || s[1] == 0 => Some(Lex::MaxInf),
        b'-' if s.len() == 1 || s[1] == 0 => Some(Lex::MinInf),
        b'(' => Some(Lex::Excl(&s[1..])),
        b'[' => Some(Lex::Incl(&s[1..])),
        _ => None,
    }
}

/// A parsed range of one of the three kinds.
enum Range<'a> {
    Score(f64, bool, f64, bool),
    Lex(Lex<'a>, Lex<'a>),
}

impl Lex<'_> {
    /// The member is at or above this bound taken as a minimum.
    fn gte_min(&self, m: &[u8]) -> bool {
        match *self {
            Lex::MinInf => true,
            Lex::MaxInf => false,
            Lex::Incl(x) => m >= x,
            Lex::Excl(x) => m > x,
        }
    }

    /// The member is at or below this bound taken as a maximum.
    fn lte_max(&self, m: &[u8]) -> bool {
        match *self {
            Lex::MinInf => false,
            Lex::MaxInf => true,
            Lex::Incl(x) => m <= x,
            Lex::Excl(x) => m < x,
        }
    }

    /// Rank for comparing bounds: -inf < strings < +inf.
    fn order(&self, other: &Lex<'_>) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (*self, *other) {
            (Lex::MinInf, Lex::MinInf) | (Lex::MaxInf, Lex::MaxInf) => Equal,
            (Lex::MinInf, _) | (_, Lex::MaxInf) => Less,
            (Lex::MaxInf, _) | (_, Lex::MinInf) => Greater,
            (Lex::Incl(a) | Lex::Excl(a), Lex::Incl(b) | Lex::Excl(b)) => a.cmp(b),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, Lex::Incl(_))
    }
}

/// Redis's checks that a lex range can hold anything (zslIsInLexRange): the bounds
/// in order, the last member not below min, the first not above max.
fn lex_in_range(z: &ZSet, min: Lex<'_>, max: Lex<'_>) -> bool {
    let cmp = min.order(&max);
    if cmp.is_gt() || (cmp.is_eq() && (min.exclusive() || max.exclusive())) {
        return false;
    }
    let n = z.len();
    n > 0
        && z.with_rank(n - 1, |m, _| min.gte_min(m)) == Some(true)
        && z.with_rank(0, |m, _| max.lte_max(m)) == Some(true)
}

/// The first member in a lex range, found as Redis finds it (a scan from the start
/// in a listpack, a skiplist descent otherwise: the same for members of equal score).
fn lex_first(z: &ZSet, min: Lex<'_>, max: Lex<'_>) -> Option<usize> {
    if !lex_in_range(z, min, max) {
        return None;
    }
    let f = z.count_prefix(|_, m| !min.gte_min(m));
    (z.with_rank(f, |m, _| max.lte_max(m)) == Some(true)).then_some(f)
}

/// The last member in a lex range (a scan from the end in a listpack, a descent
/// otherwise).
fn lex_last(z: &ZSet, min: Lex<'_>, max: Lex<'_>) -> Option<usize> {
    if !lex_in_range(z, min, max) {
        return None;
    }
    let n = z.len();
    let l = if z.is_packed() {
        let above = z.count_while(n - 1, true, |_, m| !max.lte_max(m));
        (n - 1).checked_sub(above)?
    } else {
        z.count_prefix(|_, m| max.lte_max(m)).checked_sub(1)?
    };
    (z.with_rank(l, |m, _| min.gte_min(m)) == Some(true)).then_some(l)
}

impl Range<'_> {
    /// The forward-rank interval `[lo, hi)` of a score range.
    fn score_ranks(z: &ZSet, min: f64, minex: bool, max: f64, maxex: bool) -> (usize, usize) {
        let lo = z.count_prefix(|s, _| if minex { s <= min } else { s < min });
        let hi = z.count_prefix(|s, _| if maxex { s < max } else { s <= max });
        (lo, hi.max(lo))
    }

    /// ZCOUNT / ZLEXCOUNT.
    fn count(&self, z: &ZSet) -> i64 {
        match *self {
            Range::Score(min, minex, max, maxex) => {
                let (lo, hi) = Self::score_ranks(z, min, minex, max, maxex);
                (hi - lo) as i64
            }
            Range::Lex(min, max) => {
                let Some(f) = lex_first(z, min, max) else {
                    return 0;
                };
                if z.is_packed() {
                    return z.count_while(f, false, |_, m| max.lte_max(m)) as i64;
                }
                // Rank arithmetic as Redis's skiplist count (it can go negative
                // when members of different scores break the lex order).
                let n = z.len() as i64;
                let mut count = n - f as i64;
                if let Some(l) = lex_last(z, min, max) {
                    count -= n - 1 - l as i64;
                }
                count
            }
        }
    }

    /// The ranks ZREMRANGEBYSCORE / ZREMRANGEBYLEX remove.
    fn removal(&self, z: &ZSet) -> (usize, usize) {
        match *self {
            Range::Score(min, minex, max, maxex) => Self::score_ranks(z, min, minex, max, maxex),
            Range::Lex(min, max) => {
                let f = if z.is_packed() {
                    match lex_first(z, min, max) {
                        Some(f) => f,
                        None => return (0, 0),
                    }
                } else {
                    z.count_prefix(|_, m| !min.gte_min(m))
                };
                (f, f + z.count_while(f, false, |_, m| max.lte_max(m)))
            }
        }
    }

    /// The forward ranks a range query returns, after `offset` and `limit` (negative:
    /// no limit), walking backward from the top with `rev`.
    fn select(&self, z: &ZSet, offset: i64, limit: i64, rev: bool) -> (usize, usize) {
        if offset < 0 {
            return (0, 0);
        }
        let offset = offset as usize;
        let cap = |n: usize| if limit < 0 { n } else { n.min(limit as usize) };
        match *self {
            Range::Score(min, minex, max, maxex) => {
                if offset > 0 && offset >= z.len() {
                    return (0, 0);
                }
                let (lo, hi) = Self::score_ranks(z, min, minex, max, maxex);
                let n = cap((hi - lo).saturating_sub(offset));
                if n == 0 {
                    (0, 0)
                } else if rev {
                    (hi - offset - n, hi - offset)
                } else {
                    (lo + offset, lo + offset + n)
                }
            }
            Range::Lex(min, max) => {
                if rev {
                    let Some(l) = lex_last(z, min, max) else {
                        return (0, 0);
                    };
                    let Some(from) = l.checked_sub(offset) else {
                        return (0, 0);
                    };
                    let n = cap(z.count_while(from, true, |_, m| min.gte_min(m)));
                    (from + 1 - n, from + 1)
                } else {
                    let Some(f) = lex_first(z, min, max) else {
                        return (0, 0);
                    };
                    let from = f + offset;
                    let n = cap(z.count_while(from, false, |_, m| max.lte_max(m)));
                    (from, from + n)
                }
            }
        }
    }
}

fn parse_range<'a>(min: &'a [u8], max: &'a [u8], lex: bool) -> Result<Range<'a>, CmdError> {
    if lex {
        match (parse_lex_bound(min), parse_lex_bound(max)) {
            (Some(a), Some(b)) => Ok(Range::Lex(a, b)),
            _ => Err(MINMAX_LEX.into()),
        }
    } else {
        match (parse_score_bound(min), parse_score_bound(max)) {
            (Some((a, ax)), Some((b, bx))) => Ok(Range::Score(a, ax, b, bx)),
            _ => Err(MINMAX_FLOAT.into()),
        }
    }
}

/// Redis's rank sanitising (ZRANGE, ZREMRANGEBYRANK): the forward interval of ranks
/// `start..=end` (negative from the end), empty when out of range.
fn rank_interval(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    super::args::index_range(start, end, len).map(|(s, n)| (s, s + n))
}

// ---------------------------------------------------------------------------
// Lookups.

/// The zset at `key` for reading (None when missing), or WRONGTYPE; the reply
/// buffer comes along.
fn read_zset<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
) -> Result<(Option<&'a mut ZSet>, &'a mut ReplyBuf), CmdError> {
    match ctx.read_key_out(key) {
        (Some(o), out) => match &mut o.value {
            Value::ZSet(z) => Ok((Some(z), out)),
            _ => Err(errors::WRONGTYPE.into()),
        },
        (None, out) => Ok((None, out)),
    }
}

/// The zset at `key` for writing.
fn write_zset<'a>(
    srv: &'a mut Server,
    db: usize,
    key: &[u8],
    now: i64,
    touch: bool,
) -> Result<Option<&'a mut ZSet>, CmdError> {
    match lookup_key(srv, db, key, now, false, touch) {
        Some(o) => match &mut o.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(errors::WRONGTYPE.into()),
        },
        None => Ok(None),
    }
}

fn touch(ctx: &Ctx) -> bool {
    !ctx.client.no_touch
}

// ---------------------------------------------------------------------------
// Replies.

/// Header of a list of `n` members, with scores or not (RESP2: a flat array; RESP3:
/// pairs as two-element arrays).
fn reply_members_header(out: &mut ReplyBuf, n: usize, withscores: bool) {
    if withscores && !out.resp3() {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

/// A score as Redis's addReplyDouble writes it ("%.17g"); integral scores that print
/// as integers take the integer formatter, which is much cheaper.
#[inline]
fn reply_score(out: &mut ReplyBuf, s: f64) {
    if s.fract() == 0.0 && s.abs() < 1e15 && !(s == 0.0 && s.is_sign_negative()) {
        let mut buf = [0u8; 20];
        out.double_text(redis_formats::num::format_i64(s as i64, &mut buf));
    } else {
        out.double(s);
    }
}

#[inline]
fn reply_member(out: &mut ReplyBuf, m: &[u8], s: f64, withscores: bool) {
    if withscores {
        if out.resp3() {
            out.array(2);
        }
        out.bulk(m);
        reply_score(out, s);
    } else {
        out.bulk(m);
    }
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY / ZREM / simple reads.

fn zadd_generic(ctx: &mut Ctx, incr_cmd: bool) -> CmdResult {
    let argv = ctx.argv;
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, incr_cmd);
    let mut idx = 2;
    while idx < argv.len() {
        let o: &[u8] = argv[idx];
        if o.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if o.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if o.eq_ignore_ascii_case(b"ch") {
            ch = true;
        } else if o.eq_ignore_ascii_case(b"incr") {
            incr = true;
        } else if o.eq_ignore_ascii_case(b"gt") {
            gt = true;
        } else if o.eq_ignore_ascii_case(b"lt") {
            lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = argv.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return Err(errors::SYNTAX.into());
    }
    let elements = elements / 2;
    if nx && xx {
        return Err("ERR XX and NX options at the same time are not compatible".into());
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible".into());
    }
    if incr && elements > 1 {
        return Err("ERR INCR option supports a single increment-element pair".into());
    }
    // Every score is checked before anything changes (all or nothing); a few fit on
    // the stack.
    let mut small = [0f64; 8];
    let mut large = Vec::new();
    let scores: &mut [f64] = if elements <= small.len() {
        &mut small[..elements]
    } else {
        large.resize(elements, 0.0);
        &mut large
    };
    for (j, sc) in scores.iter_mut().enumerate() {
        *sc = arg_score(argv[idx + j * 2], errors::NOT_FLOAT)?;
    }
    let scores: &[f64] = scores;
    let max_entries = ctx.srv.config.zset_max_listpack_entries;
    let max_value = ctx.srv.config.zset_max_listpack_value;
    let key: &[u8] = argv[1];
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = touch(ctx);
    let flags = ZaddFlags {
        nx,
        xx,
        gt,
        lt,
        incr,
    };
    let counts = match write_zset(ctx.srv, db, key, now, touch)? {
        Some(z) => zadd_apply(z, &argv[idx..], scores, flags, max_entries, max_value)?,
        None => {
            if xx {
                return finish_zadd(ctx, incr, ch, (0, 0, 0, 0.0));
            }
            // A new key from several distinct members: built whole, in one
            // allocation of the final size (less allocator churn than one insert each).
            if !incr && (2..=64).contains(&elements) {
                let members: Vec<&[u8]> = argv[idx..].chunks_exact(2).map(|p| p[1]).collect();
                let distinct = members
                    .iter()
                    .enumerate()
                    .all(|(i, m)| members[i + 1..].iter().all(|n| n != m));
                if distinct {
                    let mut items: Vec<(Vec<u8>, f64)> = members
                        .iter()
                        .zip(scores)
                        .map(|(m, s)| (m.to_vec(), *s))
                        .collect();
                    items.sort_by(|a, b| {
                        a.1.partial_cmp(&b.1)
                            .unwrap_or(std::cmp::Ordering::Equal)
                            .then_with(|| a.0.cmp(&b.0))
                    });
                    let z = ZSet::from_sorted(&items, max_entries, max_value);
                    let obj = ctx.new_object(Value::ZSet(z));
                    ctx.srv.keyspace.dbs[db].add(key, obj);
                    let n = elements as u64;
                    ctx.dirty(n);
                    return finish_zadd(ctx, incr, ch, (n, 0, n, scores[elements - 1]));
                }
            }
            let mut z = if max_entries == 0 || max_value < argv[idx + 1].len() {
                ZSet::new_skiplist()
            } else {
                ZSet::new_packed()
            };
            let counts = zadd_apply(&mut z, &argv[idx..], scores, flags, max_entries, max_value)?;
            let obj = ctx.new_object(Value::ZSet(z));
            ctx.srv.keyspace.dbs[db].add(key, obj);
            counts
        }
    };
    ctx.dirty(counts.0 + counts.1);
    finish_zadd(ctx, incr, ch, counts)
}

#[derive(Clone, Copy)]
struct ZaddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// Applies the score/member pairs of `pairs` (Redis's zsetAdd for each): returns
/// (added, updated, processed, last new score).
fn zadd_apply(
    z: &mut ZSet,
    pairs: &[&[u8]],
    scores: &[f64],
    f: ZaddFlags,
    max_entries: usize,
    max_value: usize,
) -> Result<(u64, u64, u64, f64), CmdError> {
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last_score = 0.0;
    for (pair, &score) in pairs.chunks_exact(2).zip(scores) {
        let m: &[u8] = pair[1];
        match z.score(m) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let mut s = score;
                if f.incr {
                    s += cur;
                    if s.is_nan() {
                        return Err(NAN_ERR.into());
                    }
                }
                if (f.lt && s >= cur) || (f.gt && s <= cur) {
                    continue;
                }
                processed += 1;
                last_score = s;
                if s != cur {
                    z.update(m, cur, s);
                    updated += 1;
                }
            }
            None if !f.xx => {
                z.insert(m, score, max_entries, max_value);
                added += 1;
                processed += 1;
                last_score = score;
            }
            None => {}
        }
    }
    Ok((added, updated, processed, last_score))
}

fn finish_zadd(ctx: &mut Ctx, incr: bool, ch: bool, counts: (u64, u64, u64, f64)) -> CmdResult {
    let (added, updated, processed, score) = counts;
    if incr {
        if processed > 0 {
            reply_score(ctx.out, score);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added } as i64);
    }
    if added > 0 || updated > 0 {
        let argv = ctx.argv;
        ctx.notify(class::ZSET, if incr { "zincr" } else { "zadd" }, argv[1]);
    }
    Ok(())
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut Ctx) -> CmdResult {
    zadd_generic(ctx, false)
}

/// ZINCRBY key increment member
pub fn zincrby(ctx: &mut Ctx) -> CmdResult {
    zadd_generic(ctx, true)
}

/// ZREM key member [member ...]
pub fn zrem(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = touch(ctx);
    let Some(z) = write_zset(ctx.srv, db, argv[1], now, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    let mut emptied = false;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            emptied = true;
            break;
        }
    }
    if emptied {
        ctx.srv.keyspace.dbs[db].remove(argv[1]);
    }
    if deleted > 0 {
        ctx.notify(class::ZSET, "zrem", argv[1]);
        if emptied {
            ctx.notify(class::GENERIC, "del", argv[1]);
        }
    }
    ctx.dirty(deleted);
    ctx.out.int(deleted as i64);
    Ok(())
}

/// ZCARD key
pub fn zcard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (z, out) = read_zset(ctx, argv[1])?;
    out.int(z.map_or(0, |z| z.len()) as i64);
    Ok(())
}

/// ZSCORE key member
pub fn zscore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (z, out) = read_zset(ctx, argv[1])?;
    match z.and_then(|z| z.score(argv[2])) {
        Some(s) => reply_score(out, s),
        None => out.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
pub fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (z, out) = read_zset(ctx, argv[1])?;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => reply_score(out, s),
            None => out.null(),
        }
    }
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let argv = ctx.argv;
    let (z, out) = read_zset(ctx, argv[1])?;
    let Some(z) = z else {
        out.null();
        return Ok(());
    };
    match z.rank(argv[2]) {
        Some((r, _)) => out.int(if rev { z.len() - 1 - r } else { r } as i64),
        None => out.null(),
    }
    Ok(())
}

/// ZRANK key member
pub fn zrank(ctx: &mut Ctx) -> CmdResult {
    zrank_generic(ctx, false)
}

/// ZREVRANK key member
pub fn zrevrank(ctx: &mut Ctx) -> CmdResult {
    zrank_generic(ctx, true)
}

fn count_generic(ctx: &mut Ctx, lex: bool) -> CmdResult {
    let argv = ctx.argv;
    let range = parse_range(argv[2], argv[3], lex)?;
    let (z, out) = read_zset(ctx, argv[1])?;
    out.int(z.map_or(0, |z| range.count(z)));
    Ok(())
}

/// ZCOUNT key min max
pub fn zcount(ctx: &mut Ctx) -> CmdResult {
    count_generic(ctx, false)
}

/// ZLEXCOUNT key min max
pub fn zlexcount(ctx: &mut Ctx) -> CmdResult {
    count_generic(ctx, true)
}

// ---------------------------------------------------------------------------
// Ranges.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis's zrangeGenericCommand: `first` is the index of the source key; `store`
/// names the destination (ZRANGESTORE).
fn zrange_generic(
    ctx: &mut Ctx,
    first: usize,
    store: Option<usize>,
    mut kind: Kind,
    mut rev: Option<bool>,
) -> CmdResult {
    let argv = ctx.argv;
    let mut withscores = false;
    let mut offset: i64 = 0;
    let mut limit: i64 = -1;
    let mut j = first + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a: &[u8] = argv[j];
        if store.is_none() && a.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            offset = ctx.arg_i64(j + 1)?;
            limit = ctx.arg_i64(j + 2)?;
            j += 2;
        } else if rev.is_none() && a.eq_ignore_ascii_case(b"rev") {
            rev = Some(true);
        } else if kind == Kind::Auto && a.eq_ignore_ascii_case(b"bylex") {
            kind = Kind::Lex;
        } else if kind == Kind::Auto && a.eq_ignore_ascii_case(b"byscore") {
            kind = Kind::Score;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        );
    }
    if withscores && kind == Kind::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX".into());
    }
    let (mut minidx, mut maxidx) = (first + 1, first + 2);
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let mut rank_args = (0, 0);
    let range = match kind {
        Kind::Rank => {
            rank_args = (ctx.arg_i64(minidx)?, ctx.arg_i64(maxidx)?);
            None
        }
        _ => Some(parse_range(argv[minidx], argv[maxidx], kind == Kind::Lex)?),
    };
    let (z, out) = read_zset(ctx, argv[first])?;
    // The forward ranks of the result, emitted reversed with `rev`.
    let (start, end) = match z.as_deref() {
        None => (0, 0),
        Some(z) => match &range {
            None => match rank_interval(rank_args.0, rank_args.1, z.len()) {
                None => (0, 0),
                Some((a, b)) if rev => (z.len() - b, z.len() - a),
                Some(ab) => ab,
            },
            Some(range) => range.select(z, offset, limit, rev),
        },
    };
    let Some(dst) = store else {
        let Some(z) = z else {
            out.array(0);
            return Ok(());
        };
        reply_members_header(out, end - start, withscores);
        z.for_range(start, end, rev, |m, s| reply_member(out, m, s, withscores));
        return Ok(());
    };
    let mut items = Vec::with_capacity(end - start);
    if let Some(z) = z {
        z.for_range(start, end, rev, |m, s| items.push((m.to_vec(), s)));
    }
    if items.is_empty() {
        store_result(ctx, argv[dst], &items, "zrangestore");
        return Ok(());
    }
    // As Redis's ZRANGESTORE: a rank range longer than the listpack limit starts as
    // a skiplist, anything else starts as a listpack and converts when an insert
    // outgrows it (members are added in the order of the reply).
    let max_entries = ctx.srv.config.zset_max_listpack_entries;
    let max_value = ctx.srv.config.zset_max_listpack_value;
    let mut result = if kind == Kind::Rank && items.len() > max_entries {
        ZSet::new_skiplist()
    } else {
        ZSet::new_packed()
    };
    for (m, s) in &items {
        result.insert(m, *s, max_entries, max_value);
    }
    ctx.set_key(argv[dst], Value::ZSet(result), false);
    ctx.dirty(1);
    ctx.out.int(items.len() as i64);
    ctx.notify(class::ZSET, "zrangestore", argv[dst]);
    Ok(())
}

/// Stores a result zset (already in order) at `dst` as the STORE commands do:
/// replies with its size; an empty result deletes `dst`.
fn store_result(ctx: &mut Ctx, dst: &[u8], items: &[(Vec<u8>, f64)], event: &str) {
    if items.is_empty() {
        ctx.out.int(0);
        if ctx.delete_key(dst) {
            ctx.notify(class::GENERIC, "del", dst);
            ctx.dirty(1);
        }
        return;
    }
    let z = ZSet::from_sorted(
        items,
        ctx.srv.config.zset_max_listpack_entries,
        ctx.srv.config.zset_max_listpack_value,
    );
    ctx.set_key(dst, Value::ZSet(z), false);
    ctx.dirty(1);
    ctx.out.int(items.len() as i64);
    ctx.notify(class::ZSET, event, dst);
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Kind::Auto, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 2, Some(1), Kind::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub fn zrevrange(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Kind::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub fn zrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Kind::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub fn zrevrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Kind::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub fn zrangebylex(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Kind::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub fn zrevrangebylex(ctx: &mut Ctx) -> CmdResult {
    zrange_generic(ctx, 1, None, Kind::Lex, Some(true))
}

fn zremrange_generic(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    let argv = ctx.argv;
    let mut ranks = (0, 0);
    let range = match kind {
        Kind::Rank => {
            ranks = (ctx.arg_i64(2)?, ctx.arg_i64(3)?);
            None
        }
        _ => Some(parse_range(argv[2], argv[3], kind == Kind::Lex)?),
    };
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = touch(ctx);
    let Some(z) = write_zset(ctx.srv, db, argv[1], now, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let (lo, hi) = match &range {
        None => rank_interval(ranks.0, ranks.1, z.len()).unwrap_or((0, 0)),
        Some(r) => r.removal(z),
    };
    z.remove_range(lo, hi);
    let emptied = z.is_empty();
    if emptied {
        ctx.srv.keyspace.dbs[db].remove(argv[1]);
    }
    if hi > lo {
        let event = match kind {
            Kind::Rank => "zremrangebyrank",
            Kind::Lex => "zremrangebylex",
            _ => "zremrangebyscore",
        };
        ctx.notify(class::ZSET, event, argv[1]);
        if emptied {
            ctx.notify(class::GENERIC, "del", argv[1]);
        }
    }
    ctx.dirty((hi - lo) as u64);
    ctx.out.int((hi - lo) as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
pub fn zremrangebyrank(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, Kind::Rank)
}

/// ZREMRANGEBYSCORE key min max
pub fn zremrangebyscore(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, Kind::Score)
}

/// ZREMRANGEBYLEX key min max
pub fn zremrangebylex(ctx: &mut Ctx) -> CmdResult {
    zremrange_generic(ctx, Kind::Lex)
}

// ---------------------------------------------------------------------------
// Set operations.

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

/// One input of a set operation: a sorted set, a set (scores 1), or nothing.
enum Source<'a> {
    None,
    ZSet(&'a ZSet),
    Set(&'a crate::types::set::Set),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::None => 0,
            Source::ZSet(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Source::None => {}
            Source::ZSet(z) => z.for_range(0, z.len(), false, f),
            Source::Set(s) => set_members(s, |m| f(m, 1.0)),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Source::None => None,
            Source::ZSet(z) => z.score(m),
            Source::Set(s) => set_contains(s, m).then_some(1.0),
        }
    }
}

/// The members of a set.
fn set_members(s: &crate::types::set::Set, mut f: impl FnMut(&[u8])) {
    s.for_each(|item| item.with_bytes(&mut f));
}

fn set_contains(s: &crate::types::set::Set, m: &[u8]) -> bool {
    s.contains(m)
}

fn sort_items(items: &mut [(Vec<u8>, f64)]) {
    items.sort_unstable_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

/// Redis's zunionInterDiffGenericCommand. `numkeys_idx` is the index of numkeys;
/// `dst` the destination for the STORE forms; `card_only` is ZINTERCARD.
fn setop_generic(
    ctx: &mut Ctx,
    dst: Option<usize>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let argv = ctx.argv;
    let setnum = ctx.arg_i64(numkeys_idx)?;
    if setnum < 1 {
        return Err(format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.cmd.name
        )
        .into());
    }
    if setnum > (argv.len() - (numkeys_idx + 1)) as i64 {
        return Err(errors::SYNTAX.into());
    }
    let setnum = setnum as usize;
    let first = numkeys_idx + 1;
    // Type checks first (lookups count hits and misses as Redis's do).
    for k in &argv[first..first + setnum] {
        if let Some(o) = ctx.read_key(k) {
            if !matches!(o.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(errors::WRONGTYPE.into());
            }
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: i64 = 0;
    let mut j = first + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a: &[u8] = argv[j];
        if op != SetOp::Diff
            && !card_only
            && remaining > setnum
            && a.eq_ignore_ascii_case(b"weights")
        {
            j += 1;
            for w in weights.iter_mut() {
                *w = arg_score(argv[j], "ERR weight value is not a float")?;
                j += 1;
            }
        } else if op != SetOp::Diff
            && !card_only
            && remaining >= 2
            && a.eq_ignore_ascii_case(b"aggregate")
        {
            let v: &[u8] = argv[j + 1];
            how = if v.eq_ignore_ascii_case(b"sum") {
                Aggregate::Sum
            } else if v.eq_ignore_ascii_case(b"min") {
                Aggregate::Min
            } else if v.eq_ignore_ascii_case(b"max") {
                Aggregate::Max
            } else {
                return Err(errors::SYNTAX.into());
            };
            j += 2;
        } else if dst.is_none() && !card_only && a.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && a.eq_ignore_ascii_case(b"limit") {
            limit = match redis_formats::num::parse_i64(argv[j + 1]) {
                Some(n) if n >= 0 => n,
                _ => return Err("ERR LIMIT can't be negative".into()),
            };
            j += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }

    let dbi = ctx.client.db;
    let now = ctx.now_ms;
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality = 0usize;
    {
        let db = &mut ctx.srv.keyspace.dbs[dbi];
        // Expire first so the shared borrows below see the final keyspace.
        for k in &argv[first..first + setnum] {
            db.expire_if_needed(k, now);
        }
        let mut srcs: Vec<(Source<'_>, f64)> = argv[first..first + setnum]
            .iter()
            .zip(&weights)
            .map(|(k, &w)| {
                let s = match db.peek(k, now).map(|o| &o.value) {
                    Some(Value::ZSet(z)) => Source::ZSet(z),
                    Some(Value::Set(s)) => Source::Set(s),
                    _ => Source::None,
                };
                (s, w)
            })
            .collect();
        if op != SetOp::Diff {
            srcs.sort_by_key(|(s, _)| s.len());
        }
        match op {
            SetOp::Inter => {
                if srcs[0].0.len() > 0 {
                    let (head, rest) = srcs.split_first().expect("at least one source");
                    let mut done = false;
                    head.0.for_each(|m, s| {
                        if done {
                            return;
                        }
                        let mut score = head.1 * s;
                        if score.is_nan() {
                            score = 0.0;
                        }
                        for (src, w) in rest {
                            match src.score(m) {
                                Some(v) => aggregate(&mut score, v * w, how),
                                None => return,
                            }
                        }
                        if card_only {
                            cardinality += 1;
                            if limit > 0 && cardinality >= limit as usize {
                                done = true;
                            }
                        } else {
                            items.push((m.to_vec(), score));
                        }
                    });
                }
            }
            SetOp::Union => {
                let mut acc: HashMap<Vec<u8>, f64, ahash::RandomState> = HashMap::default();
                for (src, w) in &srcs {
                    src.for_each(|m, s| {
                        let mut score = w * s;
                        if score.is_nan() {
                            score = 0.0;
                        }
                        match acc.get_mut(m) {
                            Some(t) => aggregate(t, score, how),
                            None => {
                                acc.insert(m.to_vec(), score);
                            }
                        }
                    });
                }
                items = acc.into_iter().collect();
            }
            SetOp::Diff => {
                let (head, rest) = srcs.split_first().expect("at least one source");
                head.0.for_each(|m, s| {
                    if rest.iter().all(|(src, _)| src.score(m).is_none()) {
                        items.push((m.to_vec(), s));
                    }
                });
            }
        }
    }
    if card_only {
        ctx.out.int(cardinality as i64);
        return Ok(());
    }
    sort_items(&mut items);
    if let Some(d) = dst {
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        store_result(ctx, argv[d], &items, event);
        return Ok(());
    }
    let out = &mut *ctx.out;
    reply_members_header(out, items.len(), withscores);
    for (m, s) in &items {
        reply_member(out, m, *s, withscores);
    }
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zunion(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, None, 1, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub fn zinter(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, None, 1, SetOp::Inter, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub fn zdiff(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, None, 1, SetOp::Diff, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]
pub fn zunionstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, Some(1), 2, SetOp::Union, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]
pub fn zinterstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, Some(1), 2, SetOp::Inter, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub fn zdiffstore(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, Some(1), 2, SetOp::Diff, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(ctx: &mut Ctx) -> CmdResult {
    setop_generic(ctx, None, 1, SetOp::Inter, true)
}

// ---------------------------------------------------------------------------
// Pops.

/// The non-blocking pop core (Redis's genericZpopCommand for one key), for ZPOPMIN,
/// ZPOPMAX, ZMPOP and the blocking pops once a key is ready.
///
/// When `key` in db `dbi` holds a sorted set, pops up to `count` members (at least
/// one) from the lowest (`max == false`) or highest end and writes the whole reply
/// to `out` (in `out`'s protocol):
/// - `emit_key == false, nested == false`: `[m, s, m, s...]` (ZPOPMIN/ZPOPMAX);
/// - `emit_key == false, nested == true`: `[[m, s], ...]` (ZPOPMIN with COUNT in RESP3);
/// - `emit_key == true, nested == false`: `[key, m, s, ...]` (BZPOPMIN/BZPOPMAX, count 1);
/// - `emit_key == true, nested == true`: `[key, [[m, s], ...]]` (ZMPOP/BZMPOP).
///
/// Deletes the key when it empties and adds the pops to `srv.dirty`. Returns the
/// number of members popped; 0, with nothing written, when the key is missing or
/// holds another type (a blocked client then waits on: `Served::NotReady`).
///
/// A blocking pop's `serve` is then `pop_from(srv, db, key, max, count, true,
/// nested, out, now_ms) > 0`, with `nested` false for BZPOPMIN/BZPOPMAX (count 1)
/// and true for BZMPOP; its arguments parse with [`parse_mpop_args`].
#[allow(clippy::too_many_arguments)]
pub fn pop_from(
    srv: &mut Server,
    dbi: usize,
    key: &[u8],
    max: bool,
    count: usize,
    emit_key: bool,
    nested: bool,
    out: &mut ReplyBuf,
    now_ms: i64,
) -> usize {
    let Some(Value::ZSet(z)) = srv.keyspace.dbs[dbi]
        .lookup(key, now_ms)
        .map(|o| &mut o.value)
    else {
        return 0;
    };
    let n = count.max(1).min(z.len());
    match (emit_key, nested) {
        (false, false) => out.array(n * 2),
        (false, true) => out.array(n),
        (true, false) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    let len = z.len();
    let (start, end) = if max { (len - n, len) } else { (0, n) };
    z.for_range(start, end, max, |m, s| {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        reply_score(out, s);
    });
    z.remove_range(start, end);
    let emptied = z.is_empty();
    srv.notify(
        class::ZSET,
        if max { "zpopmax" } else { "zpopmin" },
        key,
        dbi,
    );
    if emptied {
        srv.keyspace.dbs[dbi].remove(key);
        srv.notify(class::GENERIC, "del", key, dbi);
    }
    srv.dirty += n as u64;
    n
}

/// Pops from the first non-empty key of `keys` (Redis's genericZpopCommand).
fn zpop_keys(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    max: bool,
    count: Option<usize>,
    emit_key: bool,
    nested: bool,
    nil_when_empty: bool,
) -> CmdResult {
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = touch(ctx);
    let mut found = None;
    for k in keys {
        if write_zset(ctx.srv, db, k, now, touch)?.is_some() {
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let n = pop_from(
        ctx.srv,
        db,
        key,
        max,
        count.unwrap_or(1),
        emit_key,
        nested,
        ctx.out,
        now,
    );
    // ZMPOP is propagated as ZPOPMIN/ZPOPMAX key count.
    if ctx.cmd.name == "zmpop" && n > 0 {
        propagate_zpop(ctx, key, max, Some(n));
    }
    Ok(())
}

/// Propagates a pop as ZPOPMIN/ZPOPMAX key [count].
fn propagate_zpop(ctx: &mut Ctx, key: &[u8], max: bool, count: Option<usize>) {
    if !ctx.propagating() {
        return;
    }
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    match count {
        None => ctx.propagate_as(&[name, key]),
        Some(n) => ctx.propagate_as(&[name, key, n.to_string().as_bytes()]),
    }
}

fn zpop_minmax(ctx: &mut Ctx, max: bool) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(errors::SYNTAX.into());
    }
    let count = if ctx.argc() == 3 {
        match redis_formats::num::parse_i64(ctx.argv[2]) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Err("ERR value is out of range, must be positive".into()),
        }
    } else {
        None
    };
    let nested = ctx.out.resp3() && count.is_some();
    let argv = ctx.argv;
    zpop_keys(ctx, &argv[1..2], max, count, false, nested, false)
}

/// ZPOPMIN key [count]
pub fn zpopmin(ctx: &mut Ctx) -> CmdResult {
    zpop_minmax(ctx, false)
}

/// ZPOPMAX key [count]
pub fn zpopmax(ctx: &mut Ctx) -> CmdResult {
    zpop_minmax(ctx, true)
}

/// The arguments of ZMPOP / BZMPOP from `numkeys_idx` on: the keys' index range, the
/// end (true: MAX) and the count. Public for BZMPOP.
pub fn parse_mpop_args(
    ctx: &Ctx,
    numkeys_idx: usize,
) -> Result<(std::ops::Range<usize>, bool, usize), CmdError> {
    let argv = ctx.argv;
    let numkeys = match redis_formats::num::parse_i64(argv[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err("ERR numkeys should be greater than 0".into()),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= argv.len() {
        return Err(errors::SYNTAX.into());
    }
    let w: &[u8] = argv[where_idx];
    let max = if w.eq_ignore_ascii_case(b"min") {
        false
    } else if w.eq_ignore_ascii_case(b"max") {
        true
    } else {
        return Err(errors::SYNTAX.into());
    };
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"count") && more > 0 {
            j += 1;
            count = match redis_formats::num::parse_i64(argv[j]) {
                Some(n) if n >= 1 => Some(n as usize),
                _ => return Err("ERR count should be greater than 0".into()),
            };
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok((
        numkeys_idx + 1..numkeys_idx + 1 + numkeys,
        max,
        count.unwrap_or(1),
    ))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, max, count) = parse_mpop_args(ctx, 1)?;
    let argv = ctx.argv;
    zpop_keys(ctx, &argv[keys], max, Some(count), true, true, true)
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN.

/// ZRANDMEMBER key [count [WITHSCORES]]
pub fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() >= 3 {
        let l = ctx.arg_i64(2)?;
        if l == i64::MIN {
            return Err(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                    .into(),
            );
        }
        let withscores = if argv.len() > 4 || (argv.len() == 4 && !ctx.arg_is(3, "withscores")) {
            return Err(errors::SYNTAX.into());
        } else if argv.len() == 4 {
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
                return Err("ERR value is out of range".into());
            }
            true
        } else {
            false
        };
        return zrandmember_count(ctx, l, withscores);
    }
    let (z, out) = read_zset(ctx, argv[1])?;
    match z.and_then(|z| z.random(|m, _| out.bulk(m))) {
        Some(()) => {}
        None => out.null(),
    }
    Ok(())
}

fn zrandmember_count(ctx: &mut Ctx, l: i64, withscores: bool) -> CmdResult {
    let argv = ctx.argv;
    let (z, out) = read_zset(ctx, argv[1])?;
    let Some(z) = z else {
        out.array(0);
        return Ok(());
    };
    let size = z.len();
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    if !uniq || count == 1 {
        let count = count as usize;
        reply_members_header(out, count, withscores);
        for _ in 0..count {
            z.random(|m, s| reply_member(out, m, s, withscores));
        }
        return Ok(());
    }
    if count as usize >= size {
        // The whole set, walked from the highest rank down as Redis's iterator does.
        reply_members_header(out, size, withscores);
        z.for_range(0, size, true, |m, s| reply_member(out, m, s, withscores));
        return Ok(());
    }
    let count = count as usize;
    // Distinct random ranks: a partial Fisher-Yates shuffle of all ranks when the
    // sample is a large part of the set, else rejection of repeats.
    let ranks: Vec<usize> = if count * 3 > size {
        let mut all: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = fastrand::usize(i..size);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut v = Vec::with_capacity(count);
        while v.len() < count {
            let r = fastrand::usize(..size);
            if seen.insert(r) {
                v.push(r);
            }
        }
        v
    };
    reply_members_header(out, count, withscores);
    for r in ranks {
        z.with_rank(r, |m, s| reply_member(out, m, s, withscores));
    }
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
pub fn zscan(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let cursor = parse_cursor(argv[2])?;
    {
        let (z, out) = read_zset(ctx, argv[1])?;
        if z.is_none() {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return Ok(());
        }
    }
    let opts = parse_scan_options(ctx, 3, false)?;
    let now = ctx.now_ms;
    let dbi = ctx.client.db;
    let Some(Value::ZSet(z)) = ctx.srv.keyspace.dbs[dbi]
        .peek(argv[1], now)
        .map(|o| &o.value)
    else {
        unreachable!("checked above");
    };
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, opts.count, |m, s| {
        if opts
            .pattern
            .as_ref()
            .is_none_or(|p| glob_match(p, m, false))
        {
            found.push((m.to_vec(), s));
        }
    });
    let out = &mut *ctx.out;
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(found.len() * 2);
    for (m, s) in &found {
        out.bulk(m);
        out.bulk(redis_formats::num::format_double(*s).as_bytes());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// BZPOPMIN, BZPOPMAX, BZMPOP: the pops above, waiting through `crate::blocking`.

/// The pending pop of a client blocked in BZPOPMIN, BZPOPMAX or BZMPOP.
struct ZSetWait {
    max: bool,
    /// BZMPOP's count (its reply nests the pairs under the key).
    count: Option<usize>,
}

impl crate::blocking::BlockedOp for ZSetWait {
    fn serve(
        &mut self,
        srv: &mut Server,
        db: usize,
        key: &[u8],
        out: &mut ReplyBuf,
        now_ms: i64,
    ) -> crate::blocking::Served {
        let n = pop_from(
            srv,
            db,
            key,
            self.max,
            self.count.unwrap_or(1),
            true,
            self.count.is_some(),
            out,
            now_ms,
        );
        if n > 0 && srv.prop.active {
            let name: &[u8] = if self.max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            match self.count {
                None => srv.prop.push(db, &[name, key]),
                Some(_) => srv.prop.push(db, &[name, key, n.to_string().as_bytes()]),
            }
        }
        if n > 0 {
            crate::blocking::Served::Done
        } else {
            crate::blocking::Served::NotReady
        }
    }
}

/// Redis's blockingGenericZpopCommand: pops from the first non-empty key at once,
/// else waits (or answers a null array where the client may not block).
fn bzpop_generic(
    ctx: &mut Ctx,
    keys: std::ops::Range<usize>,
    max: bool,
    timeout_idx: usize,
    count: Option<usize>,
) -> CmdResult {
    let argv = ctx.argv;
    let deadline = crate::blocking::parse_timeout(argv[timeout_idx], ctx.now_ms)?;
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = touch(ctx);
    for k in &argv[keys.clone()] {
        if write_zset(ctx.srv, db, k, now, touch)?.is_some() {
            let n = pop_from(
                ctx.srv,
                db,
                k,
                max,
                count.unwrap_or(1),
                true,
                count.is_some(),
                ctx.out,
                now,
            );
            propagate_zpop(ctx, k, max, count.map(|_| n));
            return Ok(());
        }
    }
    if ctx.client.deny_blocking {
        ctx.out.null_array();
        return Ok(());
    }
    crate::blocking::block(
        ctx,
        &argv[keys],
        deadline,
        Box::new(ZSetWait { max, count }),
    );
    Ok(())
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argc();
    bzpop_generic(ctx, 1..n - 1, false, n - 1, None)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argc();
    bzpop_generic(ctx, 1..n - 1, true, n - 1, None)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, max, count) = parse_mpop_args(ctx, 2)?;
    bzpop_generic(ctx, keys, max, 1, Some(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_redis() {
        assert_eq!(parse_score(b"0"), Some(0.0));
        assert_eq!(parse_score(b"-12"), Some(-12.0));
        assert!(parse_score(b"-0").unwrap().is_sign_negative());
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b"1e-400"), None);
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1 "), None);
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score(b"abc"), None);
        assert_eq!(parse_score_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_score_bound(b"(inf"), Some((f64::INFINITY, true)));
        assert_eq!(parse_score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_score_bound(b"x"), None);
        assert_eq!(parse_score_bound(b"(nan"), None);
    }

    #[test]
    fn integral_scores_print_as_percent_17g() {
        for x in [
            0.0,
            -0.0,
            1.0,
            -7.0,
            123456789.0,
            999999999999999.0,
            1e15,
            1e16,
            2.5,
        ] {
            let mut a = ReplyBuf::new();
            reply_score(&mut a, x);
            let mut b = ReplyBuf::new();
            b.double(x);
            assert_eq!(a.buf, b.buf, "{x}");
        }
    }

    #[test]
    fn rank_intervals() {
        assert_eq!(rank_interval(0, -1, 5), Some((0, 5)));
        assert_eq!(rank_interval(-2, -1, 5), Some((3, 5)));
        assert_eq!(rank_interval(3, 1, 5), None);
        assert_eq!(rank_interval(-100, 100, 5), Some((0, 5)));
        assert_eq!(rank_interval(5, 10, 5), None);
    }
}
