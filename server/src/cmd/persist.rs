//! Persistence commands over `crate::rdb` and `crate::bgsave`: SAVE, BGSAVE, LASTSAVE,
//! DUMP and RESTORE (DEBUG RELOAD is in `debug.rs`), BGREWRITEAOF over `crate::aof`.

use crate::dispatch::{errors, CmdError, CmdResult, Ctx};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("bgrewriteaof", bgrewriteaof),
    ("bgsave", bgsave),
    ("dump", dump),
    ("lastsave", lastsave),
    ("restore", restore),
    ("save", save),
];

/// SAVE: writes the snapshot in the foreground.
fn save(ctx: &mut Ctx) -> CmdResult {
    if crate::bgsave::in_progress(ctx.srv) {
        return Err(IN_PROGRESS.into());
    }
    ctx.srv.rdb_saves += 1;
    let path = crate::rdb::rdb_path(ctx.srv);
    match crate::rdb::save(ctx.srv, &path, ctx.now_ms) {
        Ok(()) => {
            ctx.out.ok();
            Ok(())
        }
        Err(_) => Err("ERR".into()),
    }
}

const IN_PROGRESS: &str = "ERR Background save already in progress";

/// BGSAVE [SCHEDULE]: forks a child that writes the snapshot (`crate::bgsave`).
/// Inside MULTI/EXEC it is scheduled for the cron, as Redis does.
fn bgsave(ctx: &mut Ctx) -> CmdResult {
    // SCHEDULE waits for another kind of child (an AOF rewrite) to end.
    if ctx.argc() > 2 || (ctx.argc() == 2 && !ctx.arg_is(1, "schedule")) {
        return Err(errors::SYNTAX.into());
    }
    let schedule = ctx.argc() == 2;
    if crate::bgsave::in_progress(ctx.srv) {
        return Err(IN_PROGRESS.into());
    }
    if crate::bgsave::has_active_child(ctx.srv) || ctx.client.in_exec {
        if schedule || ctx.client.in_exec {
            ctx.srv.bgsave.scheduled = true;
            ctx.out.simple(b"Background saving scheduled");
            return Ok(());
        }
        return Err("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into());
    }
    match crate::bgsave::start(ctx.srv, ctx.now_ms) {
        Ok(_) => {
            ctx.out.simple(b"Background saving started");
            Ok(())
        }
        Err(_) => Err("ERR".into()),
    }
}

/// BGREWRITEAOF: forks a child that writes a new AOF base (`crate::aof`); scheduled
/// while another child runs or inside MULTI/EXEC.
fn bgrewriteaof(ctx: &mut Ctx) -> CmdResult {
    let (in_exec, now) = (ctx.client.in_exec, ctx.now_ms);
    match crate::aof::bgrewriteaof(ctx.srv, in_exec, now) {
        Ok(msg) => {
            ctx.out.simple(msg.as_bytes());
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// LASTSAVE
fn lastsave(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.srv.last_save_ms / 1000);
    Ok(())
}

/// DUMP key
fn dump(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[1];
    let payload = match ctx.read_key(key) {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some(o) => {
            crate::rdb::dump_payload(&o.value).map_err(|e| CmdError::from(format!("ERR {e}")))?
        }
    };
    ctx.out.bulk(&payload);
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let argc = ctx.argc();
    let mut j = 4;
    while j < argc {
        let more = argc - j - 1;
        if ctx.arg_is(j, "replace") {
            replace = true;
        } else if ctx.arg_is(j, "absttl") {
            absttl = true;
        } else if ctx.arg_is(j, "idletime") && more >= 1 && freq.is_none() {
            let v = ctx.arg_i64(j + 1)?;
            if v < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            idle = Some(v);
            j += 1;
        } else if ctx.arg_is(j, "freq") && more >= 1 && idle.is_none() {
            let v = ctx.arg_i64(j + 1)?;
            if !(0..=255).contains(&v) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let key = ctx.argv[1];
    if !replace && ctx.write_key(key).is_some() {
        return Err("BUSYKEY Target key name already exists.".into());
    }
    let mut ttl = ctx.arg_i64(2)?;
    if ttl < 0 {
        return Err("ERR Invalid TTL value, must be >= 0".into());
    }
    let value = match crate::rdb::restore_payload(ctx.argv[3], ctx.srv) {
        Ok(v) => v,
        Err(true) => return Err("ERR DUMP payload version or checksum are wrong".into()),
        Err(false) => return Err("ERR Bad data format".into()),
    };
    let deleted = replace && ctx.delete_key(key);
    if ttl > 0 && !absttl {
        ttl = ttl.saturating_add(ctx.now_ms);
    }
    if ttl > 0 && ttl <= ctx.now_ms {
        // Already expired: nothing is created (an old value is still deleted).
        if deleted {
            ctx.notify(crate::pubsub::class::GENERIC, "del", key);
            ctx.dirty(1);
            ctx.propagate_as(&[b"DEL", key]);
        }
        ctx.out.ok();
        return Ok(());
    }
    let mut obj = ctx.new_object(value);
    let lfu = crate::evict::is_lfu(ctx.srv.config.maxmemory_policy);
    if let (true, Some(f)) = (lfu, freq) {
        obj.lru = (crate::evict::lfu_minutes(ctx.now_ms) << 8) | f as u32;
    } else if let (false, Some(secs)) = (lfu, idle) {
        let clock = ctx.srv.lru_clock as i64;
        obj.lru = (clock - secs).rem_euclid(1 << 24) as u32;
    }
    let db = ctx.client.db;
    ctx.srv.keyspace.dbs[db].add(key, obj);
    if ttl > 0 {
        ctx.srv.keyspace.dbs[db].set_expire(key, ttl);
        // A relative TTL is propagated as an absolute one.
        if !absttl && ctx.propagating() {
            let t = ttl.to_string();
            let mut v: Vec<&[u8]> = ctx.argv.to_vec();
            v[2] = t.as_bytes();
            v.push(b"ABSTTL");
            ctx.propagate_as(&v);
        }
    }
    ctx.notify(crate::pubsub::class::GENERIC, "restore", key);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}
