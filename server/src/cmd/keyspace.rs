//! Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, MOVE, COPY,
//! SWAPDB, DBSIZE, FLUSHDB, FLUSHALL, TOUCH, RANDOMKEY, KEYS, SCAN and OBJECT.
//!
//! Everything here is type-agnostic: values are moved, cloned or inspected through
//! `Value`'s methods, so new types (lists, hashes...) only extend `Value`.

use super::args::{arg_db_index, arg_i32};
use super::help::reply_help;
use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::keyspace::Db;
use crate::pubsub::class;
use redis_formats::glob::glob_match;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("copy", copy),
    ("dbsize", dbsize),
    ("del", del),
    ("exists", exists),
    ("flushall", flushall),
    ("flushdb", flushdb),
    ("keys", keys),
    ("move", move_),
    ("object|encoding", object_encoding),
    ("object|freq", object_freq),
    ("object|help", object_help),
    ("object|idletime", object_idletime),
    ("object|refcount", object_refcount),
    ("randomkey", randomkey),
    ("rename", rename),
    ("renamenx", renamenx),
    ("scan", scan),
    ("swapdb", swapdb),
    ("touch", touch),
    ("type", type_),
    ("unlink", unlink),
];

/// "source and destination objects are the same".
const SAME_OBJECT: &str = "ERR source and destination objects are the same";

/// DBSIZE
pub fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// DEL key [key ...] (and UNLINK: values are freed at once either way; freeing is
/// cheap next to Redis's because nothing here is shared with other threads).
pub fn del(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.argv[i];
        if ctx.delete_key(key) {
            ctx.notify(class::GENERIC, "del", key);
            n += 1;
        }
    }
    ctx.dirty(n);
    ctx.out.int(n as i64);
    Ok(())
}

/// UNLINK key [key ...]
pub fn unlink(ctx: &mut Ctx) -> CmdResult {
    del(ctx)
}

/// EXISTS key [key ...] (a key named twice counts twice).
pub fn exists(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.argv[i];
        if ctx.read_key_notouch(key).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// TOUCH key [key ...]
pub fn touch(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.argv[i];
        if ctx.read_key(key).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// TYPE key
pub fn type_(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[1];
    let name = ctx
        .read_key_notouch(key)
        .map_or("none", |o| o.value.type_name());
    ctx.out.simple(name.as_bytes());
    Ok(())
}

fn rename_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let src = ctx.argv[1];
    let dst = ctx.argv[2];
    if ctx.write_key(src).is_none() {
        return Err(errors::NO_SUCH_KEY.into());
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return Ok(());
    }
    if ctx.write_key(dst).is_some() {
        if nx {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.db().remove(dst);
    }
    let db = ctx.db();
    let expire = db.expire_of(src);
    let mut obj = db.remove(src).expect("looked up above");
    obj.has_expire = false;
    db.add(dst, obj);
    if let Some(when) = expire {
        db.set_expire(dst, when);
    }
    ctx.notify(class::GENERIC, "rename_from", src);
    ctx.notify(class::GENERIC, "rename_to", dst);
    ctx.dirty(1);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// RENAME key newkey
pub fn rename(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, false)
}

/// RENAMENX key newkey
pub fn renamenx(ctx: &mut Ctx) -> CmdResult {
    rename_generic(ctx, true)
}

/// MOVE key db
pub fn move_(ctx: &mut Ctx) -> CmdResult {
    let src_db = ctx.client.db;
    let dst_db = arg_db_index(ctx, 2)?;
    if dst_db == src_db {
        return Err(SAME_OBJECT.into());
    }
    let key = ctx.argv[1];
    if ctx.write_key(key).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let expire = ctx.db().expire_of(key);
    let now = ctx.now_ms;
    if lookup_key(ctx.srv, dst_db, key, now, false, true).is_some() {
        ctx.out.int(0);
        return Ok(());
    }
    let mut obj = ctx.db().remove(key).expect("looked up above");
    obj.has_expire = false;
    let dst = &mut ctx.srv.keyspace.dbs[dst_db];
    dst.add(key, obj);
    if let Some(when) = expire {
        dst.set_expire(key, when);
    }
    ctx.notify_db(class::GENERIC, "move_from", key, src_db);
    ctx.notify_db(class::GENERIC, "move_to", key, dst_db);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
pub fn copy(ctx: &mut Ctx) -> CmdResult {
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < ctx.argc() {
        if ctx.arg_is(j, "replace") {
            replace = true;
        } else if ctx.arg_is(j, "db") && j + 1 < ctx.argc() {
            dst_db = arg_db_index(ctx, j + 1)?;
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let key = ctx.argv[1];
    let newkey = ctx.argv[2];
    if src_db == dst_db && key == newkey {
        return Err(SAME_OBJECT.into());
    }
    let Some(o) = ctx.read_key(key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let value = o.value.clone();
    let expire = ctx.db().expire_of(key);
    let now = ctx.now_ms;
    if lookup_key(ctx.srv, dst_db, newkey, now, false, true).is_some() {
        if !replace {
            ctx.out.int(0);
            return Ok(());
        }
        ctx.srv.keyspace.dbs[dst_db].remove(newkey);
    }
    let obj = ctx.new_object(value);
    let dst = &mut ctx.srv.keyspace.dbs[dst_db];
    dst.add(newkey, obj);
    if let Some(when) = expire {
        dst.set_expire(newkey, when);
    }
    ctx.notify_db(class::GENERIC, "copy_to", newkey, dst_db);
    ctx.dirty(1);
    ctx.out.int(1);
    Ok(())
}

/// SWAPDB index1 index2
pub fn swapdb(ctx: &mut Ctx) -> CmdResult {
    let a = arg_i32(ctx, 1, Some("ERR invalid first DB index"))?;
    let b = arg_i32(ctx, 2, Some("ERR invalid second DB index"))?;
    let n = ctx.srv.keyspace.dbs.len() as i64;
    if !(0..n).contains(&(a as i64)) || !(0..n).contains(&(b as i64)) {
        return Err(errors::DB_INDEX.into());
    }
    // Clients keep their db number, so they see the other dataset from now on.
    ctx.srv.keyspace.swap_dbs(a as usize, b as usize);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// Whether FLUSHDB/FLUSHALL free the old data in the background.
fn flush_async(ctx: &Ctx) -> Result<bool, CmdError> {
    match ctx.argc() {
        1 => Ok(ctx.srv.config.lazyfree_lazy_user_flush),
        2 if ctx.arg_is(1, "sync") => Ok(false),
        2 if ctx.arg_is(1, "async") => Ok(true),
        _ => Err(errors::SYNTAX.into()),
    }
}

/// Keys above which an async flush hands the old tables to a thread (below it,
/// freeing in place is cheaper than a thread, as Redis's LAZYFREE_THRESHOLD).
const LAZYFREE_THRESHOLD: usize = 64;

/// Empties `db`. With `lazy` a big dataset is moved into `garbage` instead of being
/// freed here, for a background thread to free. Returns how many keys there were.
fn empty_db(db: &mut Db, lazy: bool, garbage: &mut Vec<Db>) -> usize {
    let n = db.len();
    if lazy && n > LAZYFREE_THRESHOLD {
        let mut old = std::mem::take(db);
        db.expired_keys = old.expired_keys;
        db.notify = old.notify;
        db.track_deletions = old.track_deletions;
        db.events = std::mem::take(&mut old.events);
        garbage.push(old);
    } else {
        db.clear();
    }
    db.avg_ttl = 0;
    db.expire_cursor = 0;
    n
}

/// Frees flushed databases on one background thread (Redis's lazyfree), so FLUSHALL
/// ASYNC returns at once whatever the dataset's size.
fn free_in_background(garbage: Vec<Db>) {
    if !garbage.is_empty() {
        std::thread::spawn(move || drop(garbage));
    }
}

/// FLUSHDB [ASYNC|SYNC]
pub fn flushdb(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_async(ctx)?;
    let mut garbage = Vec::new();
    let n = empty_db(ctx.db(), lazy, &mut garbage);
    free_in_background(garbage);
    ctx.dirty(n as u64);
    crate::tracking::invalidate_all(ctx.srv);
    // Propagated even when the database was already empty.
    ctx.force_propagation();
    ctx.out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]
pub fn flushall(ctx: &mut Ctx) -> CmdResult {
    let lazy = flush_async(ctx)?;
    let mut garbage = Vec::new();
    let mut n = 0;
    for db in ctx.srv.keyspace.dbs.iter_mut() {
        n += empty_db(db, lazy, &mut garbage);
    }
    free_in_background(garbage);
    ctx.dirty(n as u64);
    crate::tracking::invalidate_all(ctx.srv);
    // As Redis: a running BGSAVE would write the old data; with save points the
    // empty dataset is saved at once (which resets the change count).
    crate::bgsave::kill_rdb_child(ctx.srv);
    if !ctx.srv.config.save.is_empty() {
        let path = crate::rdb::rdb_path(ctx.srv);
        let _ = crate::rdb::save(ctx.srv, &path, ctx.now_ms);
    }
    ctx.force_propagation();
    ctx.out.ok();
    Ok(())
}

/// RANDOMKEY
pub fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms;
    match ctx.db().random_key(now) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

/// KEYS pattern
pub fn keys(ctx: &mut Ctx) -> CmdResult {
    let pattern = ctx.argv[1];
    let all = pattern == b"*";
    let now = ctx.now_ms;
    let db = &ctx.srv.keyspace.dbs[ctx.client.db];
    let out = &mut *ctx.out;
    let head = out.defer();
    let mut n = 0;
    for e in db.keys.iter() {
        if (all || glob_match(pattern, &e.key, false))
            && !(e.value.has_expire && db.is_expired(&e.key, now))
        {
            out.bulk(&e.key);
            n += 1;
        }
    }
    out.set_array_len(head, n);
    Ok(())
}

/// Parses an unsigned cursor as Redis does (C's strtoul, with a leading space
/// refused): a sign is allowed and `-n` wraps; "" is cursor 0.
pub fn parse_cursor(s: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::from("ERR invalid cursor");
    if s.first().is_some_and(|c| b" \t\n\x0b\x0c\r".contains(c)) {
        return Err(invalid());
    }
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        // No conversion: strtoul leaves the end pointer at the start.
        return if s.is_empty() { Ok(0) } else { Err(invalid()) };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(invalid());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// SCAN's options, as HSCAN/SSCAN/ZSCAN take them too (TYPE only for SCAN).
pub struct ScanOptions {
    /// COUNT (default 10).
    pub count: usize,
    /// MATCH, unless it is `*` (which matches everything).
    pub pattern: Option<Vec<u8>>,
    /// TYPE (SCAN only).
    pub type_name: Option<Vec<u8>>,
}

/// Parses the options from argument `first` on (`allow_type`: SCAN's TYPE).
pub fn parse_scan_options(
    ctx: &Ctx,
    first: usize,
    allow_type: bool,
) -> Result<ScanOptions, CmdError> {
    let mut o = ScanOptions {
        count: 10,
        pattern: None,
        type_name: None,
    };
    let mut i = first;
    while i < ctx.argc() {
        let more = i + 1 < ctx.argc();
        if ctx.arg_is(i, "count") && more {
            let n = ctx.arg_i64(i + 1)?;
            if n < 1 {
                return Err(errors::SYNTAX.into());
            }
            o.count = n as usize;
        } else if ctx.arg_is(i, "match") && more {
            let p = ctx.argv[i + 1];
            o.pattern = if p == b"*" { None } else { Some(p.to_vec()) };
        } else if ctx.arg_is(i, "type") && allow_type && more {
            o.type_name = Some(ctx.argv[i + 1].to_vec());
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 2;
    }
    Ok(o)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
pub fn scan(ctx: &mut Ctx) -> CmdResult {
    let mut cursor = parse_cursor(ctx.argv[1])?;
    let opts = parse_scan_options(ctx, 2, true)?;
    let db = &ctx.srv.keyspace.dbs[ctx.client.db];
    let mut keys: Vec<Vec<u8>> = Vec::new();
    // At most ten empty buckets per wanted key, so a sparse table cannot stall us.
    let mut max_iterations = opts.count.saturating_mul(10);
    loop {
        cursor = db.keys.scan(cursor, |e| keys.push(e.key.to_vec()));
        if cursor == 0 || max_iterations == 0 || keys.len() >= opts.count {
            break;
        }
        max_iterations -= 1;
    }
    let now = ctx.now_ms;
    let dbi = ctx.client.db;
    keys.retain(|k| {
        if let Some(p) = &opts.pattern {
            if !glob_match(p, k, false) {
                return false;
            }
        }
        if let Some(t) = &opts.type_name {
            // As Redis: a read lookup (expiring the key, counting a hit or miss).
            let name = lookup_key(ctx.srv, dbi, k, now, true, false)
                .map_or("none", |o| o.value.type_name());
            if !t.eq_ignore_ascii_case(name.as_bytes()) {
                return false;
            }
        }
        !ctx.srv.keyspace.dbs[dbi].expire_if_needed(k, now)
    });
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// OBJECT HELP
pub fn object_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}

/// OBJECT ENCODING key
pub fn object_encoding(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[2];
    match ctx.read_key_notouch(key).map(|o| o.value.encoding()) {
        Some(enc) => ctx.out.bulk(enc.as_bytes()),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Redis's refcount of shared small integers (OBJ_SHARED_REFCOUNT).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// OBJECT REFCOUNT key
///
/// Redis shares the integers 0..9999 between keys (refcount INT_MAX) unless an LRU or
/// LFU maxmemory policy is in force (they need a per-key clock). We report what Redis
/// would for a value written under the current settings.
pub fn object_refcount(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[2];
    let sharing = crate::evict::shares_integers(&ctx.srv.config);
    match ctx.read_key_notouch(key) {
        Some(o) => {
            let shared = sharing && matches!(o.value, crate::object::Value::Int(0..=9999));
            ctx.out.int(if shared { SHARED_REFCOUNT } else { 1 });
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// OBJECT IDLETIME key
pub fn object_idletime(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[2];
    let lfu = crate::evict::is_lfu(ctx.srv.config.maxmemory_policy);
    let clock = ctx.srv.lru_clock;
    let Some(o) = ctx.read_key_notouch(key) else {
        ctx.out.null();
        return Ok(());
    };
    if lfu {
        return Err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
    }
    let idle = crate::evict::idle_seconds(clock, o.lru);
    ctx.out.int(idle as i64);
    Ok(())
}

/// OBJECT FREQ key
pub fn object_freq(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[2];
    let lfu = crate::evict::is_lfu(ctx.srv.config.maxmemory_policy);
    let decay = ctx.srv.config.lfu_decay_time;
    let now = ctx.now_ms;
    let Some(o) = ctx.read_key_notouch(key) else {
        ctx.out.null();
        return Ok(());
    };
    if !lfu {
        return Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
    }
    let c = crate::evict::lfu_decayed_counter(o.lru, now, decay);
    ctx.out.int(c as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0").unwrap(), 0);
        assert_eq!(parse_cursor(b"").unwrap(), 0);
        assert_eq!(parse_cursor(b"+5").unwrap(), 5);
        assert_eq!(parse_cursor(b"-1").unwrap(), u64::MAX);
        assert_eq!(parse_cursor(b"007").unwrap(), 7);
        assert_eq!(parse_cursor(b"18446744073709551615").unwrap(), u64::MAX);
        assert!(parse_cursor(b"18446744073709551616").is_err());
        assert!(parse_cursor(b" 1").is_err());
        assert!(parse_cursor(b"1 ").is_err());
        assert!(parse_cursor(b"+").is_err());
        assert!(parse_cursor(b"abc").is_err());
        assert!(parse_cursor(b"0x10").is_err());
    }
}
