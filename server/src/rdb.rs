//! The keyspace as RDB: our values to and from `redis_rdb`'s decoded values, the
//! snapshot writer (SAVE, DEBUG RELOAD) and the loader (start-up, DEBUG RELOAD), and the
//! DUMP payloads of one value. Formats live in the `redis-rdb` crate; this module only
//! maps our types onto them and applies Redis's loading rules (expired keys skipped,
//! empty collections skipped, encodings chosen by this server's thresholds).
//!
//! Partial: RDB version 10 only, written in the foreground; hash field TTLs (beyond
//! Redis 7.0) have no RDB 10 form and are dropped with a warning; no IDLE/FREQ records.
//! Function libraries are written (FUNCTION2 records, before the databases) and loaded.

use crate::log::{log, Level};
use crate::object::{Object, Value};
use crate::state::Server;
use crate::types::stream::{Group, Nack, Stream, INVALID_ENTRIES_READ};
use crate::types::{hash::Hash, list::List, set::Set, zset::ZSet};
use redis_rdb::value::{
    Consumer, ConsumerGroup, HashField, PendingEntry, Stream as RdbStream, Value as RdbValue,
};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Our value as `redis_rdb` models it (element lists in the value's order), and
/// whether something had to be left out (hash field TTLs).
pub fn to_rdb(v: &Value) -> (RdbValue, bool) {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => (RdbValue::String(v.to_bytes()), false),
        Value::List(l) => (
            RdbValue::List(l.iter().map(|i| i.to_vec()).collect()),
            false,
        ),
        Value::Set(s) => {
            let mut m = Vec::with_capacity(s.len());
            s.for_each(|i| m.push(i.to_vec()));
            (RdbValue::Set(m), false)
        }
        Value::ZSet(z) => {
            let mut m = Vec::with_capacity(z.len());
            z.for_range(0, z.len(), false, |member, score| {
                m.push((member.to_vec(), score))
            });
            (RdbValue::ZSet(m), false)
        }
        Value::Hash(h) => {
            let mut fields = Vec::with_capacity(h.len());
            h.for_each(|f, v| {
                fields.push(HashField {
                    field: f.to_vec(),
                    value: v.to_vec(),
                    expire_ms: None,
                })
            });
            (RdbValue::Hash(fields), h.has_ttls())
        }
        Value::Stream(s) => (RdbValue::Stream(Box::new(stream_to_rdb(s))), false),
    }
}

/// A stream as `redis_rdb` models it: our nodes are Redis's listpacks already.
fn stream_to_rdb(s: &Stream) -> RdbStream {
    RdbStream {
        nodes: s.nodes().map(|(k, lp)| (*k, lp.clone())).collect(),
        length: s.length,
        last_id: s.last_id,
        first_id: Some(s.first_id),
        max_deleted_id: Some(s.max_deleted_id),
        entries_added: Some(s.entries_added),
        groups: s
            .groups
            .iter()
            .map(|(name, g)| ConsumerGroup {
                name: name.clone(),
                last_id: g.last_id,
                entries_read: Some(g.entries_read as u64),
                pending: g
                    .pel
                    .iter()
                    .map(|(id, n)| PendingEntry {
                        id: *id,
                        delivery_time: n.delivery_time,
                        delivery_count: n.delivery_count,
                    })
                    .collect(),
                consumers: g
                    .consumers
                    .iter()
                    .map(|(cn, c)| Consumer {
                        name: cn.clone(),
                        seen_time: c.seen_time,
                        active_time: -1,
                        pending: c.pel.iter().copied().collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Our stream from a decoded one (the reader validated its listpacks and PELs).
fn stream_from_rdb(r: RdbStream) -> Stream {
    let mut s = Stream::new();
    for (k, lp) in r.nodes {
        s.push_node(k, lp);
    }
    s.length = r.length;
    s.last_id = r.last_id;
    s.first_id = match r.first_id {
        Some(id) => id,
        None => s.edge_id(true).unwrap_or_default(),
    };
    s.max_deleted_id = r.max_deleted_id.unwrap_or_default();
    s.entries_added = r.entries_added.unwrap_or(r.length);
    for g in r.groups {
        let mut grp = Group::new(g.last_id, INVALID_ENTRIES_READ);
        grp.entries_read = match g.entries_read {
            Some(n) => n as i64,
            None => s.estimate_distance(g.last_id),
        };
        let times: std::collections::HashMap<_, _> = g
            .pending
            .iter()
            .map(|p| (p.id, (p.delivery_time, p.delivery_count)))
            .collect();
        for c in g.consumers {
            let mut cons = crate::types::stream::Consumer {
                seen_time: c.seen_time,
                pel: Default::default(),
            };
            for id in c.pending {
                let (t, n) = times.get(&id).copied().unwrap_or((0, 1));
                grp.pel.insert(
                    id,
                    Nack {
                        delivery_time: t,
                        delivery_count: n,
                        consumer: c.name.clone(),
                    },
                );
                cons.pel.insert(id);
            }
            grp.consumers.insert(c.name, cons);
        }
        s.groups.insert(g.name, grp);
    }
    s
}

/// Builds our value from a decoded one, with the encodings this server's thresholds
/// give (what Redis's loader converts to). `None` for an empty collection (Redis skips
/// those) or a type this server does not have yet (streams, modules).
pub fn from_rdb(v: RdbValue, srv: &Server) -> Option<Value> {
    let cfg = &srv.config;
    match v {
        RdbValue::String(s) => Some(Value::string_from_vec(s)),
        RdbValue::List(items) => {
            if items.is_empty() {
                return None;
            }
            let limits = crate::cmd::list::limits(srv);
            let mut l = List::new();
            for it in &items {
                l.push(it, false, &limits);
            }
            Some(Value::List(l))
        }
        RdbValue::Set(members) => {
            let first = members.first()?;
            let mut s = Set::new_for(first);
            for m in &members {
                s.add(m, cfg.set_max_intset_entries as u64);
            }
            Some(Value::Set(s))
        }
        RdbValue::ZSet(items) => {
            if items.is_empty() {
                return None;
            }
            let mut z = ZSet::new_packed();
            for (m, score) in &items {
                match z.score(m) {
                    Some(old) => z.update(m, old, *score),
                    None => z.insert(
                        m,
                        *score,
                        cfg.zset_max_listpack_entries,
                        cfg.zset_max_listpack_value,
                    ),
                }
            }
            Some(Value::ZSet(z))
        }
        RdbValue::Hash(fields) => {
            if fields.is_empty() {
                return None;
            }
            let lim = crate::types::hash::Limits {
                entries: cfg.hash_max_listpack_entries as u64,
                value: cfg.hash_max_listpack_value as u64,
            };
            let mut h = Hash::default();
            for f in &fields {
                h.set(&f.field, &f.value, lim);
            }
            for f in &fields {
                if let Some(t) = f.expire_ms {
                    h.set_field_expire(&f.field, t);
                }
            }
            Some(Value::Hash(h))
        }
        RdbValue::Stream(st) => Some(Value::Stream(Box::new(stream_from_rdb(*st)))),
        RdbValue::Module { .. } => None,
    }
}

/// The path of the RDB file (`dir` is the working directory, as Redis chdirs to it).
pub fn rdb_path(srv: &Server) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(&srv.config.dbfilename))
}

/// Writes every database to `path` (through a temporary file renamed over it, as
/// Redis does), then counts the save (LASTSAVE, INFO, changes since the last save).
pub fn save(srv: &mut Server, path: &Path, now_ms: i64) -> std::io::Result<()> {
    let tmp = PathBuf::from(format!("temp-{}.rdb", std::process::id()));
    let cwd = || {
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
    };
    let result = match std::fs::File::create(&tmp) {
        Err(e) => {
            log(
                Level::Warning,
                &format!(
                    "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
                    tmp.display(),
                    cwd()
                ),
            );
            Err(e)
        }
        Ok(file) => match write_snapshot(srv, file, now_ms) {
            Err(e) => {
                log(Level::Warning, &format!("Write error saving DB on disk: {e}"));
                Err(e)
            }
            Ok(()) => std::fs::rename(&tmp, path).inspect_err(|e| {
                log(
                    Level::Warning,
                    &format!(
                        "Error moving temp DB file {} on the final destination {} (in server root dir {}): {e}",
                        tmp.display(),
                        path.display(),
                        cwd()
                    ),
                )
            }),
        },
    };
    match result {
        Ok(()) => {
            log(Level::Notice, "DB saved on disk");
            srv.dirty = 0;
            srv.last_save_ms = now_ms;
            srv.last_bgsave_ok = true;
            Ok(())
        }
        // A failed foreground save leaves rdb_last_bgsave_status alone, as Redis's
        // rdbSave (only a failed BGSAVE child sets it to err).
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_snapshot(srv: &Server, file: std::fs::File, now_ms: i64) -> std::io::Result<()> {
    write_snapshot_to(srv, file, now_ms, false)
}

/// Writes the dataset as an RDB file to `file` and syncs it; `aof_base` marks it as
/// an AOF base (the `aof-base` aux field).
pub fn write_snapshot_to(
    srv: &Server,
    file: std::fs::File,
    now_ms: i64,
    aof_base: bool,
) -> std::io::Result<()> {
    let out = write_snapshot_into(
        srv,
        BufWriter::with_capacity(1 << 16, file),
        now_ms,
        aof_base,
    )?;
    out.get_ref().sync_all()
}

/// Writes the dataset as an RDB into `out` (flushed, not synced) and gives it back.
/// A snapshot that is not an AOF base carries the replication id and offset
/// (`repl-stream-db`, `repl-id`, `repl-offset`) when Redis would write them.
pub fn write_snapshot_into<W: Write>(
    srv: &Server,
    out: W,
    now_ms: i64,
    aof_base: bool,
) -> std::io::Result<W> {
    write_snapshot_filtered(srv, out, now_ms, aof_base, true)
}

/// [`write_snapshot_into`], with the keys left out unless `data` (a replica's
/// REPLCONF rdb-filter-only).
pub fn write_snapshot_filtered<W: Write>(
    srv: &Server,
    out: W,
    now_ms: i64,
    aof_base: bool,
    data: bool,
) -> std::io::Result<W> {
    let opts = redis_rdb::writer::Options {
        compression: srv.config.rdbcompression,
        checksum: srv.config.rdbchecksum,
    };
    let mut w = redis_rdb::writer::Writer::new(out, opts)?;
    // rdb-key-save-delay: a pause per key, which tests use to catch a save under way.
    let delay = srv.config.rdb_key_save_delay;
    w.aux(b"redis-ver", b"7.0.15")?;
    w.aux(b"redis-bits", b"64")?;
    w.aux(b"ctime", (now_ms / 1000).to_string().as_bytes())?;
    w.aux(
        b"used-mem",
        crate::alloc::used_memory().to_string().as_bytes(),
    )?;
    if !aof_base {
        if let Some((db, id, off)) = crate::replication::rdb_aux(srv) {
            w.aux(b"repl-stream-db", db.to_string().as_bytes())?;
            w.aux(b"repl-id", id.as_bytes())?;
            w.aux(b"repl-offset", off.to_string().as_bytes())?;
        }
    }
    w.aux(b"aof-base", if aof_base { b"1" } else { b"0" })?;
    // Function libraries come before the databases, as Redis writes them.
    for lib in srv.functions.libs.values() {
        w.function(&lib.code)?;
    }
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() || !data {
            continue;
        }
        w.select_db(i as u64)?;
        w.resize_db(db.len() as u64, db.expires.len() as u64)?;
        for e in db.keys.iter() {
            if delay != 0 {
                debug_delay(delay);
            }
            let expire = if e.value.has_expire {
                db.expire_of(&e.key)
            } else {
                None
            };
            let (value, lossy) = to_rdb(&e.value.value);
            if lossy {
                log(
                    Level::Warning,
                    &format!(
                        "Hash field TTLs of key '{}' are not saved: RDB 10 cannot hold them",
                        String::from_utf8_lossy(&e.key)
                    ),
                );
            }
            if let Err(e) = w.key(&e.key, &value, expire)? {
                log(Level::Warning, &format!("Key not saved: {e}"));
            }
        }
    }
    let mut out = w.finish()?;
    out.flush()?;
    Ok(out)
}

/// Redis's debugDelay: sleeps `usec` microseconds, or for a negative value sleeps
/// 1 µs with probability 1/-usec (short pauses made statistically).
pub fn debug_delay(usec: i32) {
    let us = if usec < 0 {
        (fastrand::u32(..usec.unsigned_abs()) == 0) as u64
    } else {
        usec as u64
    };
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// What a load found.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    pub loaded: u64,
    pub expired: u64,
    /// The replication fields (repl-stream-db, repl-id, repl-offset), when all
    /// were present.
    pub repl: Option<(i64, String, i64)>,
}

/// Loads an RDB file into the databases. Keys already present are an error unless
/// `allow_dup` (then the file's value replaces them), as in Redis.
pub fn load(
    srv: &mut Server,
    path: &Path,
    allow_dup: bool,
    now_ms: i64,
) -> Result<LoadStats, String> {
    // Loading raises no keyspace events (Redis's dbAddRDBLoad).
    for db in srv.keyspace.dbs.iter_mut() {
        db.notify = 0;
    }
    let r = load_keys(srv, path, allow_dup, now_ms);
    srv.apply_notify_config();
    r
}

fn load_keys(
    srv: &mut Server,
    path: &Path,
    allow_dup: bool,
    now_ms: i64,
) -> Result<LoadStats, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut r = redis_rdb::reader::Reader::new(BufReader::with_capacity(1 << 16, file));
    r.read_header().map_err(|e| e.check_message())?;
    let mut stats = LoadStats::default();
    let (mut repl_db, mut repl_id, mut repl_off): (Option<i64>, Option<String>, Option<i64>) =
        (None, None, None);
    let lru = crate::evict::initial_lru(srv, now_ms);
    loop {
        let rec = r.next_record().map_err(|e| e.check_message())?;
        match rec {
            redis_rdb::reader::Record::Key(k) => {
                let db = k.db as usize;
                if db >= srv.keyspace.dbs.len() {
                    return Err(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        srv.keyspace.dbs.len()
                    ));
                }
                // A replica keeps expired keys: its master will send their DELs.
                if k.expire_ms.is_some_and(|t| t < now_ms) && srv.repl.master.is_none() {
                    stats.expired += 1;
                    continue;
                }
                let Some(value) = from_rdb(k.value, srv) else {
                    continue;
                };
                let d = &mut srv.keyspace.dbs[db];
                if d.keys.contains_key(&k.key) {
                    if !allow_dup {
                        return Err(format!(
                            "Duplicate key '{}' found in RDB file",
                            String::from_utf8_lossy(&k.key)
                        ));
                    }
                    d.remove(&k.key);
                }
                d.add(&k.key, Object::new(value, lru));
                if let Some(t) = k.expire_ms {
                    d.set_expire(&k.key, t);
                }
                stats.loaded += 1;
            }
            redis_rdb::reader::Record::Function(code) => {
                // A library already loaded is an error unless `allow_dup` (then the
                // file's replaces it), as for keys.
                if let Err(e) = srv.functions.load(&code, allow_dup, 0) {
                    return Err(format!("Failed loading library, {e}"));
                }
            }
            redis_rdb::reader::Record::Aux { key, value } => {
                let v = String::from_utf8_lossy(&value).into_owned();
                match key.as_slice() {
                    b"repl-stream-db" => repl_db = v.parse().ok(),
                    b"repl-id" => repl_id = Some(v),
                    b"repl-offset" => repl_off = v.parse().ok(),
                    _ => {}
                }
            }
            redis_rdb::reader::Record::Eof { stored, computed } => {
                if let Some(s) = stored {
                    if s != 0 && s != computed && srv.config.rdbchecksum {
                        return Err("Wrong RDB checksum. Aborting now.".into());
                    }
                }
                break;
            }
            _ => {}
        }
    }
    if let (Some(db), Some(id), Some(off)) = (repl_db, repl_id, repl_off) {
        stats.repl = Some((db, id, off));
    }
    Ok(stats)
}

/// DUMP's payload for a value (RDB 10 + version + CRC-64).
pub fn dump_payload(v: &Value) -> Result<Vec<u8>, String> {
    let (value, _) = to_rdb(v);
    redis_rdb::dump::encode(&value).map_err(|e| e.to_string())
}

/// Decodes a RESTORE payload: `Err(true)` for a bad version or checksum, `Err(false)`
/// for a value that does not decode (or an empty one).
pub fn restore_payload(payload: &[u8], srv: &Server) -> Result<Value, bool> {
    match redis_rdb::dump::decode(payload, 10) {
        Ok((_, v)) => from_rdb(v, srv).ok_or(false),
        Err(redis_rdb::dump::DumpError::BadFooter) => Err(true),
        Err(redis_rdb::dump::DumpError::BadValue(_)) => Err(false),
    }
}
