//! Hash commands: Redis 7.0's t_hash.c (HSET ... HSCAN), plus the field-expiry
//! commands of Redis 7.4/8.0 (HEXPIRE family, HTTL family, HPERSIST, HGETDEL, HGETEX,
//! HSETEX).
//!
//! Field TTLs: expired fields vanish on access (every hash command purges the fields
//! of the hash it touches whose time has come, and deletes the key when none is
//! left) and in the background ([`active_expire_fields`], run by the cron over the
//! hashes registered as having TTLs).

use super::keyspace::{parse_cursor, parse_scan_options};
use super::set::{lookup_out, range_long, reply_scan};
use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::longdouble::LongDouble;
use crate::object::Value;
use crate::pubsub::class;
use crate::types::hash::{Hash, Limits};
use crate::types::packed::{Input, Item};
use parking_lot::Mutex;
use redis_formats::glob::glob_match;
use redis_formats::ReplyBuf;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("hdel", hdel),
    ("hexists", hexists),
    ("hexpire", hexpire),
    ("hexpireat", hexpireat),
    ("hexpiretime", hexpiretime),
    ("hget", hget),
    ("hgetall", hgetall),
    ("hgetdel", hgetdel),
    ("hgetex", hgetex),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hkeys", hkeys),
    ("hlen", hlen),
    ("hmget", hmget),
    ("hmset", hset),
    ("hpersist", hpersist),
    ("hpexpire", hpexpire),
    ("hpexpireat", hpexpireat),
    ("hpexpiretime", hpexpiretime),
    ("hpttl", hpttl),
    ("hrandfield", hrandfield),
    ("hscan", hscan),
    ("hset", hset),
    ("hsetex", hsetex),
    ("hsetnx", hsetnx),
    ("hstrlen", hstrlen),
    ("httl", httl),
    ("hvals", hvals),
];

/// Largest absolute field expiry (unix ms), as Redis 7.4's EB_EXPIRE_TIME_MAX.
const MAX_EXPIRE_MS: i64 = (1 << 48) - 1;

// ---- the registry of hashes with field TTLs ----

/// A database index and a key.
type DbKey = (usize, Vec<u8>);

/// (db, key) of hashes that may hold field TTLs. Only touched under the server lock;
/// the count lets the common path (no TTL anywhere) skip the purge check.
static TTL_HASHES: Mutex<Option<HashSet<DbKey>>> = Mutex::new(None);
static TTL_HASH_COUNT: AtomicUsize = AtomicUsize::new(0);

fn register(db: usize, key: &[u8]) {
    let mut g = TTL_HASHES.lock();
    let set = g.get_or_insert_with(HashSet::new);
    if set.insert((db, key.to_vec())) {
        TTL_HASH_COUNT.store(set.len(), Ordering::Relaxed);
    }
}

/// Background field expiry, called by the cron: visits up to `max_keys` registered
/// hashes, drops their expired fields (at most `max_fields` in all), deletes the
/// hashes that became empty and forgets the ones without TTLs. Returns the number of
/// fields removed.
pub fn active_expire_fields(
    srv: &mut crate::state::Server,
    now: i64,
    max_keys: usize,
    max_fields: usize,
) -> usize {
    if TTL_HASH_COUNT.load(Ordering::Relaxed) == 0 {
        return 0;
    }
    // A rotating window over the registry, so every hash gets its turn.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let batch: Vec<(usize, Vec<u8>)> = {
        let g = TTL_HASHES.lock();
        match g.as_ref() {
            Some(s) if !s.is_empty() => {
                let start = NEXT.fetch_add(max_keys, Ordering::Relaxed) % s.len();
                s.iter()
                    .chain(s.iter())
                    .skip(start)
                    .take(max_keys.min(s.len()))
                    .cloned()
                    .collect()
            }
            _ => return 0,
        }
    };
    let mut removed = 0;
    let mut forget = Vec::new();
    for (dbi, key) in batch {
        if removed >= max_fields {
            break;
        }
        let Some(db) = srv.keyspace.dbs.get_mut(dbi) else {
            forget.push((dbi, key));
            continue;
        };
        let (gone, empty, keep) = match db.keys.get_mut(&key).map(|o| &mut o.value) {
            Some(Value::Hash(h)) if h.has_ttls() => {
                let n = h.remove_expired(now, max_fields - removed);
                (n, h.is_empty(), h.has_ttls() && !h.is_empty())
            }
            _ => (0, false, false),
        };
        removed += gone;
        if gone > 0 {
            srv.notify(class::HASH, "hexpired", &key, dbi);
        }
        if empty {
            srv.keyspace.dbs[dbi].remove(&key);
            srv.notify(class::GENERIC, "del", &key, dbi);
        }
        if !keep {
            forget.push((dbi, key));
        }
    }
    if !forget.is_empty() {
        let mut g = TTL_HASHES.lock();
        if let Some(s) = g.as_mut() {
            for f in &forget {
                s.remove(f);
            }
            TTL_HASH_COUNT.store(s.len(), Ordering::Relaxed);
        }
    }
    removed
}

// ---- lookups ----

/// Drops the expired fields of the hash at `key` (deleting the key when none is
/// left). Only called when some hash has TTLs.
fn purge_fields(ctx: &mut Ctx, key: &[u8]) {
    let now = ctx.now_ms;
    let dbi = ctx.client.db;
    let db = ctx.db();
    if db.is_expired(key, now) {
        return;
    }
    let (gone, empty) = match db.keys.get_mut(key).map(|o| &mut o.value) {
        Some(Value::Hash(h)) if h.has_ttls() => {
            let gone = h.remove_expired(now, usize::MAX);
            if !h.is_empty() && h.has_ttls() {
                register(dbi, key);
            }
            (gone, h.is_empty())
        }
        _ => (0, false),
    };
    if gone > 0 {
        ctx.notify(class::HASH, "hexpired", key);
    }
    if empty {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

/// The hash at `key` (None if missing), or WRONGTYPE; with the reply buffer. A hash
/// with field TTLs loses its expired fields first (and is deleted if none is left).
fn hash_out<'a>(
    ctx: &'a mut Ctx,
    key: &[u8],
    read: bool,
) -> Result<(Option<&'a mut Hash>, &'a mut ReplyBuf), CmdError> {
    let found: Option<*mut Value> = lookup_out(ctx, key, read)
        .0
        .map(|o| &mut o.value as *mut Value);
    let Some(v) = found else {
        return Ok((None, &mut *ctx.out));
    };
    // SAFETY: `v` points into the keyspace borrowed from `ctx` for 'a; it is used
    // before anything else touches `ctx`, and not after the purge below.
    match unsafe { &mut *v } {
        Value::Hash(h) if !h.has_ttls() => {
            h.rehash_step();
            return Ok((Some(h), &mut *ctx.out));
        }
        Value::Hash(_) => {}
        _ => return Err(errors::WRONGTYPE.into()),
    }
    purge_fields(ctx, key);
    let dbi = ctx.client.db;
    match ctx.srv.keyspace.dbs[dbi]
        .keys
        .get_mut(key)
        .map(|o| &mut o.value)
    {
        Some(Value::Hash(h)) => {
            h.rehash_step();
            Ok((Some(h), &mut *ctx.out))
        }
        _ => Ok((None, &mut *ctx.out)),
    }
}

fn limits(ctx: &Ctx) -> Limits {
    Limits {
        entries: ctx.srv.config.hash_max_listpack_entries as u64,
        value: ctx.srv.config.hash_max_listpack_value as u64,
    }
}

/// The hash at `key` for writing, created empty if missing (Redis's
/// hashTypeLookupWriteOrCreate).
fn hash_or_create<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<&'a mut Hash, CmdError> {
    // One lookup when the hash exists (the common case). Returning a borrow from one
    // branch and using `ctx` in the other is what the borrow checker cannot see
    // through yet, hence the pointer.
    let found: Option<*mut Hash> = hash_out(ctx, key, false)?.0.map(|h| h as *mut Hash);
    if let Some(h) = found {
        // SAFETY: `h` points into the keyspace borrowed from `ctx` for 'a; nothing
        // touches `ctx` between the lookup and this return.
        return Ok(unsafe { &mut *h });
    }
    let obj = ctx.new_object(Value::Hash(Hash::default()));
    ctx.db().add(key, obj);
    match hash_out(ctx, key, false)?.0 {
        Some(h) => Ok(h),
        None => unreachable!("just created"),
    }
}

/// Deletes `key` if its hash became empty.
fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty = matches!(
        ctx.db().keys.get(key).map(|o| &o.value),
        Some(Value::Hash(h)) if h.is_empty()
    );
    if empty {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    empty
}

#[inline]
fn reply_item(out: &mut ReplyBuf, it: Item<'_>) {
    match it {
        Item::Int(n) => out.bulk_int(n),
        Item::Str(s) => out.bulk(s),
        Item::Float(_) => it.with_bytes(|b| out.bulk(b)),
    }
}

fn arity_error(ctx: &Ctx) -> CmdError {
    format!(
        "ERR wrong number of arguments for '{}' command",
        ctx.cmd.name
    )
    .into()
}

// ---- Redis 7.0 commands ----

/// HSET key field value [field value ...] (and HMSET, which replies +OK)
pub fn hset(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() % 2 == 1 {
        return Err(arity_error(ctx));
    }
    let lim = limits(ctx);
    let h = hash_or_create(ctx, argv[1])?;
    h.try_conversion(argv[2..].iter().map(|a| a.len()), lim);
    let pairs = &argv[2..];
    let mut created = 0;
    // A new small hash written whole: one allocation of the final size rather than
    // one growth per field (less allocator churn, less fragmentation).
    if h.is_empty() && fresh_fields_fit(pairs, lim) {
        if let Hash::Packed(p) = h {
            let items: Vec<Input> = pairs.iter().map(|a| Input::Bytes(a)).collect();
            p.insert(0, &items);
            created = (pairs.len() / 2) as i64;
        }
    }
    if created == 0 {
        for pair in pairs.chunks_exact(2) {
            created += h.set(pair[0], pair[1], lim) as i64;
        }
    }
    if argv[0].len() > 1 && argv[0][1].eq_ignore_ascii_case(&b's') {
        ctx.out.int(created);
    } else {
        ctx.out.ok();
    }
    ctx.notify(class::HASH, "hset", argv[1]);
    ctx.dirty((argv.len() as u64 - 2) / 2);
    Ok(())
}

/// True when `pairs` (field, value, ...) can go into an empty packed hash as they are:
/// few enough for the listpack limit and no field given twice.
fn fresh_fields_fit(pairs: &[&[u8]], lim: Limits) -> bool {
    let n = pairs.len() / 2;
    if n as u64 > lim.entries || n > 64 {
        return false;
    }
    let fields = || pairs.iter().step_by(2);
    fields()
        .enumerate()
        .all(|(i, f)| fields().skip(i + 1).all(|g| g != f))
}

/// HSETNX key field value
pub fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let lim = limits(ctx);
    let h = hash_or_create(ctx, argv[1])?;
    if h.contains(argv[2]) {
        ctx.out.int(0);
        return Ok(());
    }
    h.try_conversion(argv[2..4].iter().map(|a| a.len()), lim);
    h.set(argv[2], argv[3], lim);
    ctx.out.int(1);
    ctx.notify(class::HASH, "hset", argv[1]);
    ctx.dirty(1);
    Ok(())
}

/// HGET key field
pub fn hget(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    match hash_out(ctx, argv[1], true)? {
        (None, out) => out.null(),
        (Some(h), out) => h.with_value(argv[2], |v| match v {
            Some(v) => reply_item(out, v),
            None => out.null(),
        }),
    }
    Ok(())
}

/// HMGET key field [field ...]
pub fn hmget(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (h, out) = hash_out(ctx, argv[1], true)?;
    out.array(argv.len() - 2);
    for f in &argv[2..] {
        match &h {
            None => out.null(),
            Some(h) => h.with_value(f, |v| match v {
                Some(v) => reply_item(out, v),
                None => out.null(),
            }),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]
pub fn hdel(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let deleted = match hash_out(ctx, argv[1], false)?.0 {
        None => 0,
        Some(h) => {
            let mut n = 0;
            for f in &argv[2..] {
                if h.remove(f) {
                    n += 1;
                    if h.is_empty() {
                        break;
                    }
                }
            }
            n
        }
    };
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", argv[1]);
        delete_if_empty(ctx, argv[1]);
        ctx.dirty(deleted);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// HLEN key
pub fn hlen(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (h, out) = hash_out(ctx, argv[1], true)?;
    out.int(h.map_or(0, |h| h.len()) as i64);
    Ok(())
}

/// HSTRLEN key field
pub fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (h, out) = hash_out(ctx, argv[1], true)?;
    let n = h.map_or(0, |h| {
        h.with_value(argv[2], |v| v.map_or(0, |v| v.with_bytes(|b| b.len())))
    });
    out.int(n as i64);
    Ok(())
}

/// HEXISTS key field
pub fn hexists(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (h, out) = hash_out(ctx, argv[1], true)?;
    out.int(h.is_some_and(|h| h.contains(argv[2])) as i64);
    Ok(())
}

fn getall(ctx: &mut Ctx, keys: bool, vals: bool) -> CmdResult {
    let argv = ctx.argv;
    let (h, out) = hash_out(ctx, argv[1], true)?;
    let n = h.as_ref().map_or(0, |h| h.len());
    if keys && vals {
        out.map(n);
    } else {
        out.array(n);
    }
    if let Some(h) = h {
        h.for_each(|k, v| {
            if keys {
                reply_item(out, k);
            }
            if vals {
                reply_item(out, v);
            }
        });
    }
    Ok(())
}

/// HKEYS key
pub fn hkeys(ctx: &mut Ctx) -> CmdResult {
    getall(ctx, true, false)
}

/// HVALS key
pub fn hvals(ctx: &mut Ctx) -> CmdResult {
    getall(ctx, false, true)
}

/// HGETALL key
pub fn hgetall(ctx: &mut Ctx) -> CmdResult {
    getall(ctx, true, true)
}

/// Sets a field keeping its TTL (HINCRBY and HINCRBYFLOAT, as Redis 7.4 does).
fn set_keep_ttl(h: &mut Hash, field: &[u8], value: &[u8], lim: Limits) {
    let ttl = if h.has_ttls() {
        h.field_expire(field).unwrap_or(0)
    } else {
        0
    };
    h.set(field, value, lim);
    if ttl != 0 {
        h.set_field_expire(field, ttl);
    }
}

/// HINCRBY key field increment
pub fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let incr = super::args::parse_i64_arg(argv[3])?;
    let lim = limits(ctx);
    let h = hash_or_create(ctx, argv[1])?;
    let current = h.with_value(argv[2], |v| match v {
        None => Ok(0),
        Some(Item::Int(n)) => Ok(n),
        Some(v) => v
            .with_bytes(redis_formats::num::parse_i64)
            .ok_or(CmdError::from("ERR hash value is not an integer")),
    })?;
    let new = current
        .checked_add(incr)
        .ok_or(CmdError::from("ERR increment or decrement would overflow"))?;
    let mut buf = [0u8; 20];
    set_keep_ttl(
        h,
        argv[2],
        redis_formats::num::format_i64(new, &mut buf),
        lim,
    );
    ctx.out.int(new);
    ctx.notify(class::HASH, "hincrby", argv[1]);
    ctx.dirty(1);
    Ok(())
}

/// HINCRBYFLOAT key field increment
pub fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let incr = LongDouble::parse(argv[3]).ok_or(CmdError::from(errors::NOT_FLOAT))?;
    if incr.checked_add(LongDouble::from_i64(0)).is_none() {
        return Err("ERR value is NaN or Infinity".into());
    }
    let lim = limits(ctx);
    let h = hash_or_create(ctx, argv[1])?;
    let current = h.with_value(argv[2], |v| match v {
        None => Ok(LongDouble::from_i64(0)),
        Some(Item::Int(n)) => Ok(LongDouble::from_i64(n)),
        Some(v) => v
            .with_bytes(LongDouble::parse)
            .ok_or(CmdError::from("ERR hash value is not a float")),
    })?;
    let sum = current.checked_add(incr).ok_or(CmdError::from(
        "ERR increment would produce NaN or Infinity",
    ))?;
    let text = sum.to_human();
    set_keep_ttl(h, argv[2], &text, lim);
    ctx.out.bulk(&text);
    ctx.notify(class::HASH, "hincrbyfloat", argv[1]);
    // Propagated as HSET key field <result>.
    ctx.propagate_as(&[b"HSET", argv[1], argv[2], &text]);
    ctx.dirty(1);
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
pub fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() == 2 {
        let (h, out) = hash_out(ctx, argv[1], true)?;
        match h {
            None => out.null(),
            Some(h) => out.bulk(&h.random_pair().0),
        }
        return Ok(());
    }
    let l = range_long(argv[2], -i64::MAX, i64::MAX, None)?;
    let withvalues = match argv.len() {
        3 => false,
        4 if ctx.arg_is(3, "withvalues") => {
            if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
                return Err("ERR value is out of range".into());
            }
            true
        }
        _ => return Err(errors::SYNTAX.into()),
    };
    let (h, out) = hash_out(ctx, argv[1], true)?;
    let Some(h) = h else {
        out.array(0);
        return Ok(());
    };
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let resp3 = out.resp3();
    let pair = |out: &mut ReplyBuf, k: Item<'_>, v: Item<'_>| {
        if withvalues && resp3 {
            out.array(2);
        }
        reply_item(out, k);
        if withvalues {
            reply_item(out, v);
        }
    };
    if !uniq || count == 1 {
        out.array(if withvalues && !resp3 {
            count as usize * 2
        } else {
            count as usize
        });
        h.random_pairs(count as usize, |k, v| pair(out, k, v));
        return Ok(());
    }
    let size = h.len();
    let n = (count as usize).min(size);
    out.array(if withvalues && !resp3 { n * 2 } else { n });
    if count as usize >= size {
        h.for_each(|k, v| pair(out, k, v));
        return Ok(());
    }
    for (k, v) in h.random_distinct(n) {
        pair(out, Item::Str(&k), Item::Str(&v));
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
pub fn hscan(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let cursor = parse_cursor(argv[2])?;
    if hash_out(ctx, argv[1], true)?.0.is_none() {
        reply_scan(ctx.out, 0, &[]);
        return Ok(());
    }
    let opts = parse_scan_options(ctx, 3, false)?;
    let Some(Value::Hash(h)) = ctx.srv.keyspace.dbs[ctx.client.db]
        .keys
        .get(argv[1])
        .map(|o| &o.value)
    else {
        unreachable!("looked up above");
    };
    let mut items = Vec::new();
    let next = h.scan(cursor, opts.count, |k, v| {
        k.with_bytes(|kb| {
            if opts
                .pattern
                .as_ref()
                .is_none_or(|p| glob_match(p, kb, false))
            {
                items.push(kb.to_vec());
                items.push(v.to_vec());
            }
        })
    });
    reply_scan(ctx.out, next, &items);
    Ok(())
}

// ---- field expiry (Redis 7.4 / 8.0) ----

/// Parses `FIELDS numfields field...` at argument `at`; returns the index of the
/// first field and their count (they must run to the end when `to_end`).
fn parse_fields(ctx: &Ctx, at: usize, per_field: usize) -> Result<(usize, usize), CmdError> {
    parse_fields_msg(
        ctx,
        at,
        per_field,
        "Parameter `numFields` should be greater than 0",
    )
}

/// [`parse_fields`] with the count error of the 8.0 commands (HGETDEL, HGETEX, HSETEX).
fn parse_fields_8(ctx: &Ctx, at: usize, per_field: usize) -> Result<(usize, usize), CmdError> {
    parse_fields_msg(
        ctx,
        at,
        per_field,
        "Number of fields must be a positive integer",
    )
}

fn parse_fields_msg(
    ctx: &Ctx,
    at: usize,
    per_field: usize,
    count_msg: &'static str,
) -> Result<(usize, usize), CmdError> {
    let argv = ctx.argv;
    if at >= argv.len() || !ctx.arg_is(at, "fields") {
        return Err("ERR Mandatory argument FIELDS is missing or not at the right position".into());
    }
    if at + 1 >= argv.len() {
        return Err(arity_error(ctx));
    }
    let n = range_long(argv[at + 1], 1, i64::MAX, Some(count_msg))? as usize;
    let rest = argv.len() - at - 2;
    if n.checked_mul(per_field) != Some(rest) {
        return Err("ERR The `numfields` parameter must match the number of arguments".into());
    }
    Ok((at + 2, n))
}

#[derive(Clone, Copy, PartialEq)]
enum Cond {
    None,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// HEXPIRE / HPEXPIRE / HEXPIREAT / HPEXPIREAT key time [NX|XX|GT|LT] FIELDS n f...
fn hexpire_generic(ctx: &mut Ctx, millis: bool, absolute: bool) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let exists = hash_out(ctx, key, false)?.0.is_some();
    let t = super::args::parse_i64_arg(argv[2])?;
    if t < 0 {
        return Err("ERR invalid expire time, must be >= 0".into());
    }
    let invalid = || {
        CmdError::from(format!(
            "ERR invalid expire time in '{}' command",
            ctx.cmd.name
        ))
    };
    let mut when = if millis {
        t
    } else {
        if t > MAX_EXPIRE_MS / 1000 {
            return Err(invalid());
        }
        t * 1000
    };
    let base = if absolute { 0 } else { ctx.now_ms };
    if when > MAX_EXPIRE_MS - base {
        return Err(invalid());
    }
    when += base;
    let mut at = 3;
    let cond = if at < argv.len() {
        let c = if ctx.arg_is(at, "nx") {
            Cond::Nx
        } else if ctx.arg_is(at, "xx") {
            Cond::Xx
        } else if ctx.arg_is(at, "gt") {
            Cond::Gt
        } else if ctx.arg_is(at, "lt") {
            Cond::Lt
        } else {
            Cond::None
        };
        if c != Cond::None {
            at += 1;
        }
        c
    } else {
        Cond::None
    };
    let (first, n) = parse_fields(ctx, at, 1)?;
    if !exists {
        ctx.out.array(n);
        (0..n).for_each(|_| ctx.out.int(-2));
        return Ok(());
    }
    let now = ctx.now_ms;
    let dbi = ctx.client.db;
    let mut changed = 0;
    let mut removed = 0;
    let (h, out) = hash_out(ctx, key, false)?;
    let h = h.expect("exists");
    out.array(n);
    for f in &argv[first..first + n] {
        let Some(prev) = h.field_expire(f) else {
            out.int(-2);
            continue;
        };
        let ok = match (cond, prev) {
            (Cond::Nx, p) => p == 0,
            (Cond::Xx, p) => p != 0,
            (Cond::Gt, 0) => false,
            (Cond::Gt, p) => when > p,
            (Cond::Lt, 0) => true,
            (Cond::Lt, p) => when < p,
            (Cond::None, _) => true,
        };
        if !ok {
            out.int(0);
            continue;
        }
        changed += 1;
        if when <= now {
            h.remove(f);
            removed += 1;
            out.int(2);
        } else {
            h.set_field_expire(f, when);
            out.int(1);
        }
    }
    let has_ttls = h.has_ttls();
    if changed > 0 {
        ctx.dirty(1);
        // Redis 7.4: `hdel` when a time in the past deleted fields, else `hexpire`.
        ctx.notify(
            class::HASH,
            if removed > 0 { "hdel" } else { "hexpire" },
            key,
        );
    }
    if !delete_if_empty(ctx, key) && has_ttls {
        register(dbi, key);
    }
    Ok(())
}

/// HEXPIRE key seconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hexpire(ctx: &mut Ctx) -> CmdResult {
    hexpire_generic(ctx, false, false)
}

/// HPEXPIRE key milliseconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hpexpire(ctx: &mut Ctx) -> CmdResult {
    hexpire_generic(ctx, true, false)
}

/// HEXPIREAT key unix-time-seconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hexpireat(ctx: &mut Ctx) -> CmdResult {
    hexpire_generic(ctx, false, true)
}

/// HPEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT] FIELDS numfields field [field ...]
pub fn hpexpireat(ctx: &mut Ctx) -> CmdResult {
    hexpire_generic(ctx, true, true)
}

#[derive(Clone, Copy)]
enum TtlKind {
    Ttl,
    Pttl,
    ExpireTime,
    PexpireTime,
}

/// HTTL / HPTTL / HEXPIRETIME / HPEXPIRETIME key FIELDS numfields field [field ...]
fn httl_generic(ctx: &mut Ctx, kind: TtlKind) -> CmdResult {
    let argv = ctx.argv;
    let (first, n) = {
        hash_out(ctx, argv[1], true)?;
        parse_fields(ctx, 2, 1)?
    };
    let now = ctx.now_ms;
    let (h, out) = hash_out(ctx, argv[1], true)?;
    out.array(n);
    for f in &argv[first..first + n] {
        match h.as_ref().and_then(|h| h.field_expire(f)) {
            None => out.int(-2),
            Some(0) => out.int(-1),
            Some(e) => out.int(match kind {
                TtlKind::Ttl => (e - now + 999) / 1000,
                TtlKind::Pttl => e - now,
                TtlKind::ExpireTime => (e + 999) / 1000,
                TtlKind::PexpireTime => e,
            }),
        }
    }
    Ok(())
}

/// HTTL key FIELDS numfields field [field ...]
pub fn httl(ctx: &mut Ctx) -> CmdResult {
    httl_generic(ctx, TtlKind::Ttl)
}

/// HPTTL key FIELDS numfields field [field ...]
pub fn hpttl(ctx: &mut Ctx) -> CmdResult {
    httl_generic(ctx, TtlKind::Pttl)
}

/// HEXPIRETIME key FIELDS numfields field [field ...]
pub fn hexpiretime(ctx: &mut Ctx) -> CmdResult {
    httl_generic(ctx, TtlKind::ExpireTime)
}

/// HPEXPIRETIME key FIELDS numfields field [field ...]
pub fn hpexpiretime(ctx: &mut Ctx) -> CmdResult {
    httl_generic(ctx, TtlKind::PexpireTime)
}

/// HPERSIST key FIELDS numfields field [field ...]
pub fn hpersist(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    hash_out(ctx, argv[1], false)?;
    let (first, n) = parse_fields(ctx, 2, 1)?;
    let mut changed = false;
    let (mut h, out) = hash_out(ctx, argv[1], false)?;
    out.array(n);
    for f in &argv[first..first + n] {
        match h.as_ref().and_then(|h| h.field_expire(f)) {
            None => out.int(-2),
            Some(0) => out.int(-1),
            Some(_) => {
                if let Some(h) = h.as_deref_mut() {
                    h.set_field_expire(f, 0);
                }
                changed = true;
                out.int(1);
            }
        }
    }
    if changed {
        ctx.dirty(1);
        ctx.notify(class::HASH, "hpersist", argv[1]);
    }
    Ok(())
}

/// HGETDEL key FIELDS numfields field [field ...]
pub fn hgetdel(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    hash_out(ctx, argv[1], false)?;
    let (first, n) = parse_fields_8(ctx, 2, 1)?;
    let mut deleted = 0;
    let (h, out) = hash_out(ctx, argv[1], false)?;
    out.array(n);
    let mut h = h;
    for f in &argv[first..first + n] {
        let Some(hh) = h.as_deref_mut() else {
            out.null();
            continue;
        };
        let v = hh.with_value(f, |v| v.map(|v| v.to_vec()));
        match v {
            Some(v) => {
                out.bulk(&v);
                hh.remove(f);
                deleted += 1;
            }
            None => out.null(),
        }
    }
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", argv[1]);
        delete_if_empty(ctx, argv[1]);
        ctx.dirty(deleted);
    }
    Ok(())
}

/// An expiry option of HGETEX / HSETEX.
#[derive(Clone, Copy, PartialEq)]
enum ExOpt {
    None,
    At(i64),
    Persist,
    KeepTtl,
}

/// Parses `EX s | PX ms | EXAT t | PXAT t-ms` (and PERSIST / KEEPTTL when allowed)
/// at argument `i`; returns the option and how many arguments it took (0: none).
fn parse_ex_opt(
    ctx: &Ctx,
    i: usize,
    persist_ok: bool,
    keepttl_ok: bool,
) -> Result<(ExOpt, usize), CmdError> {
    let argv = ctx.argv;
    if i >= argv.len() {
        return Ok((ExOpt::None, 0));
    }
    if persist_ok && ctx.arg_is(i, "persist") {
        return Ok((ExOpt::Persist, 1));
    }
    if keepttl_ok && ctx.arg_is(i, "keepttl") {
        return Ok((ExOpt::KeepTtl, 1));
    }
    let (millis, absolute) = if ctx.arg_is(i, "ex") {
        (false, false)
    } else if ctx.arg_is(i, "px") {
        (true, false)
    } else if ctx.arg_is(i, "exat") {
        (false, true)
    } else if ctx.arg_is(i, "pxat") {
        (true, true)
    } else {
        return Ok((ExOpt::None, 0));
    };
    if i + 1 >= argv.len() {
        return Err(errors::SYNTAX.into());
    }
    let t = super::args::parse_i64_arg(argv[i + 1])?;
    let invalid = || {
        CmdError::from(format!(
            "ERR invalid expire time in '{}' command",
            ctx.cmd.name
        ))
    };
    if t < 0 {
        return Err(invalid());
    }
    let mut when = if millis {
        t
    } else {
        t.checked_mul(1000)
            .filter(|&x| x <= MAX_EXPIRE_MS)
            .ok_or_else(invalid)?
    };
    let base = if absolute { 0 } else { ctx.now_ms };
    if when > MAX_EXPIRE_MS - base {
        return Err(invalid());
    }
    when += base;
    Ok((ExOpt::At(when), 2))
}

/// HGETEX key [EX s | PX ms | EXAT t | PXAT t-ms | PERSIST] FIELDS numfields field...
pub fn hgetex(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    hash_out(ctx, key, false)?;
    let (opt, used) = parse_ex_opt(ctx, 2, true, false)?;
    let (first, n) = parse_fields_8(ctx, 2 + used, 1)?;
    let now = ctx.now_ms;
    let dbi = ctx.client.db;
    let (h, out) = hash_out(ctx, key, false)?;
    out.array(n);
    let Some(h) = h else {
        (0..n).for_each(|_| out.null());
        return Ok(());
    };
    let mut changed = 0;
    for f in &argv[first..first + n] {
        let v = h.with_value(f, |v| v.map(|v| v.to_vec()));
        let Some(v) = v else {
            out.null();
            continue;
        };
        out.bulk(&v);
        match opt {
            ExOpt::At(when) if when <= now => {
                h.remove(f);
                changed += 1;
            }
            ExOpt::At(when) => {
                h.set_field_expire(f, when);
                changed += 1;
            }
            ExOpt::Persist if h.field_expire(f).is_some_and(|e| e != 0) => {
                h.set_field_expire(f, 0);
                changed += 1;
            }
            _ => {}
        }
    }
    let has_ttls = h.has_ttls();
    if changed > 0 {
        ctx.dirty(1);
        let event = match opt {
            ExOpt::At(when) if when <= now => "hdel",
            ExOpt::At(_) => "hexpire",
            _ => "hpersist",
        };
        ctx.notify(class::HASH, event, key);
    }
    if !delete_if_empty(ctx, key) && has_ttls {
        register(dbi, key);
    }
    Ok(())
}

/// HSETEX key [FNX|FXX] [EX s | PX ms | EXAT t | PXAT t-ms | KEEPTTL] FIELDS
/// numfields field value [field value ...]
pub fn hsetex(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let exists = hash_out(ctx, key, false)?.0.is_some();
    let mut i = 2;
    let mut fnx = false;
    let mut fxx = false;
    let mut opt = ExOpt::None;
    loop {
        if i >= argv.len() {
            break;
        }
        if ctx.arg_is(i, "fnx") && !fnx && !fxx {
            fnx = true;
            i += 1;
            continue;
        }
        if ctx.arg_is(i, "fxx") && !fnx && !fxx {
            fxx = true;
            i += 1;
            continue;
        }
        if opt == ExOpt::None {
            let (o, used) = parse_ex_opt(ctx, i, false, true)?;
            if used > 0 {
                opt = o;
                i += used;
                continue;
            }
        }
        break;
    }
    let (first, n) = parse_fields_8(ctx, i, 2)?;
    let fields = &argv[first..first + 2 * n];
    let lim = limits(ctx);
    let now = ctx.now_ms;
    let dbi = ctx.client.db;
    // The conditions look at the hash as it is.
    if fnx || fxx {
        let (h, _) = hash_out(ctx, key, false)?;
        let all_ok = fields.chunks_exact(2).all(|p| {
            let has = h.as_ref().is_some_and(|h| h.contains(p[0]));
            if fnx {
                !has
            } else {
                has
            }
        });
        if !all_ok {
            ctx.out.int(0);
            return Ok(());
        }
    }
    let past = matches!(opt, ExOpt::At(w) if w <= now);
    if !exists && past {
        ctx.out.int(1);
        return Ok(());
    }
    let h = hash_or_create(ctx, key)?;
    h.try_conversion(fields.iter().map(|a| a.len()), lim);
    for p in fields.chunks_exact(2) {
        if past {
            h.remove(p[0]);
            continue;
        }
        let keep = if opt == ExOpt::KeepTtl {
            h.field_expire(p[0]).unwrap_or(0)
        } else {
            0
        };
        h.set(p[0], p[1], lim);
        match opt {
            ExOpt::At(when) => h.set_field_expire(p[0], when),
            ExOpt::KeepTtl if keep != 0 => h.set_field_expire(p[0], keep),
            _ => {}
        }
    }
    let has_ttls = h.has_ttls();
    ctx.dirty(1);
    if past {
        ctx.notify(class::HASH, "hdel", key);
    } else {
        ctx.notify(class::HASH, "hset", key);
        if matches!(opt, ExOpt::At(_)) {
            ctx.notify(class::HASH, "hexpire", key);
        }
    }
    if !delete_if_empty(ctx, key) && has_ttls {
        register(dbi, key);
    }
    ctx.out.int(1);
    Ok(())
}
