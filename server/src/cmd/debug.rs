//! DEBUG: the subcommands Redis's test suite uses to inspect and steer the server.
//!
//! DEBUG is refused unless `enable-debug-command` allows it (the dispatcher checks, as
//! Redis does right after arity). Subcommands that need subsystems this server does
//! not have yet (RDB, AOF) reply with the error Redis gives when that step fails.

use super::help::reply_help;
use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::log::{log, Level};
use crate::object::{Object, Value};
use sha1::{Digest, Sha1};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[("debug", debug)];

/// DEBUG QUICKLIST-PACKED-THRESHOLD: elements at least this big go into their own
/// plain list node (for the list type). Redis's default is 1 GiB.
static QUICKLIST_PACKED_THRESHOLD: AtomicU64 = AtomicU64::new(1 << 30);

/// The threshold set by DEBUG QUICKLIST-PACKED-THRESHOLD (bytes).
pub fn quicklist_packed_threshold() -> u64 {
    QUICKLIST_PACKED_THRESHOLD.load(Ordering::Relaxed)
}

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RDB loading and RESTORE skip the CRC64 check.
static SKIP_CHECKSUM_VALIDATION: AtomicBool = AtomicBool::new(false);

/// True when DEBUG SET-SKIP-CHECKSUM-VALIDATION 1 is in force (read by the RDB
/// loader and RESTORE).
pub fn skip_checksum_validation() -> bool {
    SKIP_CHECKSUM_VALIDATION.load(Ordering::Relaxed)
}

/// DEBUG PAUSE-CRON: the periodic cron does nothing while set.
static PAUSE_CRON: AtomicBool = AtomicBool::new(false);

/// True while DEBUG PAUSE-CRON 1 is in force.
pub fn cron_paused() -> bool {
    PAUSE_CRON.load(Ordering::Relaxed)
}

const HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
];

/// C's `atoi`: optional spaces and sign, then digits; anything else ends the number.
fn atoi(s: &[u8]) -> i64 {
    let s = match s.iter().position(|c| !c.is_ascii_whitespace()) {
        Some(p) => &s[p..],
        None => return 0,
    };
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    if neg {
        -v
    } else {
        v
    }
}

/// C's `strtod` on the longest numeric prefix (0 when there is none).
fn strtod_prefix(s: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(s);
    let s = s.trim_start();
    let end = s
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || "+-.eE".contains(*c))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    (1..=end)
        .rev()
        .find_map(|n| s[..n].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// DEBUG <subcommand> [args...]
pub fn debug(ctx: &mut Ctx) -> CmdResult {
    let sub = ctx.argv[1].to_ascii_lowercase();
    let argc = ctx.argc();
    match (sub.as_slice(), argc) {
        (b"help", 2) => reply_help(ctx, HELP),
        (b"sleep", 3) => {
            let secs = strtod_prefix(ctx.argv[2]);
            let us = (secs * 1_000_000.0) as i64;
            if us > 0 {
                // Holding the lock, as Redis blocks its only thread.
                std::thread::sleep(std::time::Duration::from_micros(us as u64));
            }
            ctx.out.ok();
        }
        (b"set-skip-checksum-validation", 3) => {
            SKIP_CHECKSUM_VALIDATION.store(atoi(ctx.argv[2]) != 0, Ordering::Relaxed);
            ctx.out.ok();
        }
        (b"pause-cron", 3) => {
            PAUSE_CRON.store(atoi(ctx.argv[2]) != 0, Ordering::Relaxed);
            ctx.out.ok();
        }
        (b"loadaof", _) => {
            crate::aof::debug_loadaof(ctx.shared, ctx.srv);
            ctx.srv.dirty = 0;
            ctx.out.ok();
        }
        (b"aof-flush-sleep", 3) => {
            ctx.srv.aof.flush_sleep_us = atoi(ctx.argv[2]).max(0) as u64;
            ctx.out.ok();
        }
        (b"set-disable-deny-scripts", 3) => {
            ctx.srv.script_disable_deny = atoi(ctx.argv[2]) != 0;
            ctx.out.ok();
        }
        (b"set-active-expire", 3) => {
            ctx.srv.active_expire_enabled = atoi(ctx.argv[2]) != 0;
            ctx.out.ok();
        }
        (b"object", 3) => debug_object(ctx)?,
        (b"digest", 2) => {
            let d = dataset_digest(ctx.srv);
            ctx.out.simple(hex(&d).as_bytes());
        }
        (b"digest-value", _) => {
            ctx.out.array(argc - 2);
            for j in 2..argc {
                let key = ctx.argv[j];
                // No lookup: a debug command sees logically expired keys too.
                let db = &ctx.srv.keyspace.dbs[ctx.client.db];
                let mut d = [0u8; 20];
                if let Some(o) = db.keys.get(key) {
                    object_digest(&mut d, o, db.expire_of(key).is_some());
                }
                ctx.out.simple(hex(&d).as_bytes());
            }
        }
        (b"htstats", 3) => {
            let Some(dbid) = redis_formats::num::parse_i64(ctx.argv[2]) else {
                return Err(errors::NOT_INTEGER.into());
            };
            if dbid < 0 || dbid as usize >= ctx.srv.keyspace.dbs.len() {
                return Err("ERR Out of range database".into());
            }
            let db = &ctx.srv.keyspace.dbs[dbid as usize];
            let mut s = String::from("[Dictionary HT]\n");
            s.push_str(&db.keys.stats_text());
            s.push_str("[Expires HT]\n");
            s.push_str(&db.expires.stats_text());
            ctx.out.verbatim(b"txt", s.as_bytes());
        }
        (b"htstats-key", 3) => {
            let key = ctx.argv[2];
            let Some(o) = ctx.read_key_notouch(key) else {
                return Err(errors::NO_SUCH_KEY.into());
            };
            let text = match &o.value {
                Value::Hash(h) => h.table().map(|t| t.stats_text()),
                Value::Set(s @ crate::types::set::Set::Packed(_)) => {
                    // A small set reported as a hash table: the stats of the table
                    // Redis would hold.
                    let mut d = crate::keyspace::dict::Dict::<()>::new();
                    s.for_each(|it| {
                        it.with_bytes(|b| d.insert(b, ()));
                    });
                    Some(d.stats_text())
                }
                Value::Set(s) => s.table().map(|t| t.stats_text()),
                _ => None,
            };
            if let Some(text) = text {
                ctx.out.verbatim(b"txt", text.as_bytes());
                return Ok(());
            }
            // Strings and small encodings are not stored in a hash table.
            return Err(
                "ERR The value stored at the specified key is not represented using an hash table"
                    .into(),
            );
        }
        (b"listpack", 3) | (b"quicklist", 3) | (b"quicklist", 4) => {
            let key = ctx.argv[2];
            if ctx.read_key_notouch(key).is_none() {
                return Err(errors::NO_SUCH_KEY.into());
            }
            let db = &ctx.srv.keyspace.dbs[ctx.client.db];
            if sub == b"quicklist"
                && matches!(db.keys.get(key).map(|o| &o.value), Some(Value::List(_)))
            {
                // Redis prints its node layout on stdout; ours is not Redis's.
                ctx.out.simple(b"Quicklist structure printed on stdout");
                return Ok(());
            }
            if sub == b"listpack" {
                if let Some(v) = db.keys.get(key).map(|o| &o.value) {
                    if v.encoding() == "listpack" {
                        // Our packed entries, one per line (Redis dumps its listpack).
                        let mut dump = String::from("{packed entries}\n");
                        let mut add = |i: crate::types::packed::Item<'_>| {
                            i.with_bytes(|b| dump.push_str(&String::from_utf8_lossy(b)));
                            dump.push('\n');
                        };
                        match v {
                            Value::Hash(h) => h.for_each(|f, v| {
                                add(f);
                                add(v);
                            }),
                            Value::ZSet(z) => z.for_range(0, z.len(), false, |m, sc| {
                                add(crate::types::packed::Item::Str(m));
                                add(crate::types::packed::Item::Float(sc));
                            }),
                            _ => {}
                        }
                        print!("{dump}");
                        ctx.out.simple(b"Listpack structure printed on stdout");
                        return Ok(());
                    }
                }
            }
            return Err(if sub == b"listpack" {
                "ERR Not a listpack encoded object."
            } else {
                "ERR Not a quicklist encoded object."
            }
            .into());
        }
        (b"quicklist-packed-threshold", 3) => match parse_memory(ctx.argv[2]) {
            Some(sz) if sz <= 1 << 32 => {
                let v = if sz == 0 { 1 << 30 } else { sz };
                QUICKLIST_PACKED_THRESHOLD.store(v, Ordering::Relaxed);
                ctx.out.ok();
            }
            _ => {
                return Err(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb".into(),
                )
            }
        },
        (b"config-rewrite-force-all", 2) => {
            // Redis passes its config file path even when it has none (NULL), which
            // then fails with EFAULT.
            let Some(path) = ctx.srv.config_file.clone() else {
                return Err("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address".into());
            };
            let users = crate::acl::user_lines(&ctx.srv.acl);
            if let Err(e) = ctx.srv.config.rewrite_file(&path, &users, true) {
                let msg = e.to_string();
                let msg = msg.split(" (os error").next().unwrap_or(&msg).to_string();
                return Err(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {msg}").into());
            }
            ctx.out.ok();
        }
        (b"reload", _) => {
            let (mut save, mut flush, mut merge) = (true, true, false);
            for j in 2..argc {
                match ctx.argv[j].to_ascii_lowercase().as_slice() {
                    b"merge" => merge = true,
                    b"noflush" => flush = false,
                    b"nosave" => save = false,
                    _ => {
                        return Err(
                            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
                                .into(),
                        )
                    }
                }
            }
            let path = crate::rdb::rdb_path(ctx.srv);
            let now = ctx.now_ms;
            if save && crate::rdb::save(ctx.srv, &path, now).is_err() {
                return Err("ERR".into());
            }
            if flush {
                for db in ctx.srv.keyspace.dbs.iter_mut() {
                    db.clear();
                }
                // Redis's emptyData takes the functions too.
                ctx.srv.functions.flush();
            }
            if let Err(e) = crate::rdb::load(ctx.srv, &path, merge, now) {
                log(Level::Warning, &e);
                return Err("ERR Error trying to load the RDB dump".into());
            }
            log(Level::Warning, "DB reloaded by DEBUG RELOAD");
            ctx.out.ok();
        }
        (b"mallctl", 3 | 4) => mallctl_int(ctx)?,
        (b"mallctl-str", 3 | 4) => mallctl_str(ctx)?,
        (b"change-repl-id", 2) => {
            log(
                Level::Warning,
                "Changing replication IDs after receiving DEBUG change-repl-id",
            );
            // No replication ids exist yet (replication is a later issue): the
            // replication code takes this over; run_id is a different id and stays.
            ctx.out.ok();
        }
        (b"log", 3) => {
            log(
                Level::Warning,
                &format!("DEBUG LOG: {}", String::from_utf8_lossy(ctx.argv[2])),
            );
            ctx.out.ok();
        }
        (b"leak", 3) => {
            std::mem::forget(ctx.argv[2].to_vec());
            ctx.out.ok();
        }
        (b"error", 3) => {
            let mut e = vec![b'-'];
            e.extend(ctx.argv[2].iter().map(|&c| match c {
                b'\r' | b'\n' => b' ',
                c => c,
            }));
            e.extend_from_slice(b"\r\n");
            ctx.out.raw(&e);
        }
        (b"populate", 3..=5) => populate(ctx)?,
        (b"protocol", 3) => protocol(ctx)?,
        (b"stringmatch-test", 2) => {
            ctx.out
                .simple(b"Apparently Redis did not crash: test passed");
        }
        _ => return Err(super::help::subcommand_syntax_error(ctx)),
    }
    Ok(())
}

/// Redis's memtoull: a number with an optional b/k/kb/m/mb/g/gb unit.
fn parse_memory(s: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(s).ok()?.to_ascii_lowercase();
    let units: [(&str, u64); 7] = [
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ];
    let (num, mul) = units
        .iter()
        .find_map(|(u, m)| s.strip_suffix(u).map(|n| (n, *m)))
        .unwrap_or((s.as_str(), 1));
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mul)
}

/// DEBUG OBJECT key: `Value at:<addr> refcount:<n> encoding:<enc>
/// serializedlength:<n> lru:<n> lru_seconds_idle:<n>`.
fn debug_object(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[2];
    let sharing = crate::evict::shares_integers(&ctx.srv.config);
    let clock = ctx.srv.lru_clock;
    let db = &ctx.srv.keyspace.dbs[ctx.client.db];
    let Some(o) = db.keys.get(key) else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    let refcount = if sharing && matches!(o.value, Value::Int(0..=9999)) {
        i32::MAX
    } else {
        1
    };
    let (serialized, extra) = match &o.value {
        Value::List(l) => {
            let fill = ctx.srv.config.list_max_listpack_size as i64;
            let lay = list_layout(l, fill, quicklist_packed_threshold());
            let extra = format!(
                " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
                lay.nodes,
                l.len() as f64 / lay.nodes.max(1) as f64,
                fill,
                (ctx.srv.config.list_compress_depth != 0) as i32,
                lay.uncompressed
            );
            (lay.serialized, extra)
        }
        v => (serialized_length(v), String::new()),
    };
    let text = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
        o as *const Object,
        refcount,
        o.value.encoding(),
        serialized,
        o.lru & 0xff_ffff,
        crate::evict::idle_seconds(clock, o.lru),
        extra
    );
    ctx.out.simple(text.as_bytes());
    Ok(())
}

/// Bytes of an RDB length prefix.
fn rdb_len_size(len: u64) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len <= u32::MAX as u64 {
        5
    } else {
        9
    }
}

/// Bytes of an integer in RDB's compact integer encoding, if it fits 32 bits.
fn rdb_int_size(n: i64) -> Option<usize> {
    if (-(1 << 7)..(1 << 7)).contains(&n) {
        Some(2)
    } else if (-(1 << 15)..(1 << 15)).contains(&n) {
        Some(3)
    } else if (-(1i64 << 31)..(1i64 << 31)).contains(&n) {
        Some(5)
    } else {
        None
    }
}

/// Bytes of a string as RDB writes it with `rdbcompression yes`: strings over 20 bytes
/// are LZF-compressed when that saves at least 4 bytes.
fn rdb_raw_string_size(b: &[u8]) -> usize {
    if b.len() <= 11 {
        if let Some(sz) = redis_formats::num::parse_i64(b).and_then(rdb_int_size) {
            return sz;
        }
    }
    if b.len() > 20 {
        if let Ok(c) = lzf::compress(b) {
            if c.len() <= b.len() - 4 {
                return 1 + rdb_len_size(c.len() as u64) + rdb_len_size(b.len() as u64) + c.len();
            }
        }
    }
    rdb_len_size(b.len() as u64) + b.len()
}

/// The size of a value as RDB would write it (DEBUG OBJECT's serializedlength).
pub fn serialized_length(v: &Value) -> usize {
    match v {
        Value::Int(n) => rdb_int_size(*n).unwrap_or_else(|| {
            let len = n.to_string().len();
            rdb_len_size(len as u64) + len
        }),
        Value::Str(_) | Value::Raw(_) => v.with_bytes(rdb_raw_string_size),
        Value::List(l) => list_serialized_length(l),
        Value::Hash(h) => hash_serialized_length(h),
        Value::Set(s) => set_serialized_length(s),
        Value::ZSet(z) => zset_serialized_length(z),
        Value::Stream(_) => {
            let mut buf = Vec::new();
            let (rv, _) = crate::rdb::to_rdb(v);
            let _ = redis_rdb::writer::encode_value(&mut buf, &rv, true);
            buf.len()
        }
    }
}

/// A sorted set as RDB writes it: the listpack as one string (`listpack`), or the
/// count then each member and its 8-byte binary score (`skiplist`).
fn zset_serialized_length(z: &crate::types::zset::ZSet) -> usize {
    use crate::types::zset::ZSet;
    match z {
        ZSet::Packed(_) => {
            let mut texts: Vec<Vec<u8>> = Vec::with_capacity(z.len() * 2);
            z.for_range(0, z.len(), false, |m, s| {
                texts.push(m.to_vec());
                texts.push(redis_formats::num::format_double(s).into_bytes());
            });
            let lp = crate::types::zset::listpack_bytes(texts.iter().map(|t| t.as_slice()));
            rdb_raw_string_size(&lp)
        }
        ZSet::Skiplist(_) => {
            let mut n = rdb_len_size(z.len() as u64);
            z.for_range(0, z.len(), false, |m, _| n += rdb_raw_string_size(m) + 8);
            n
        }
    }
}

/// RDB size of a set: an intset is one string holding the intset's bytes (8-byte
/// header, then the members little-endian in the set's width); a hashtable set is
/// its length and each member as a string.
fn set_serialized_length(s: &crate::types::set::Set) -> usize {
    use crate::types::set::{IntSet, Set};
    match s {
        Set::Ints(is) => {
            let (width, bytes): (u32, Vec<u8>) = match &**is {
                IntSet::W16(v) => (2, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                IntSet::W32(v) => (4, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                IntSet::W64(v) => (8, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            };
            let mut blob = Vec::with_capacity(8 + bytes.len());
            blob.extend_from_slice(&width.to_le_bytes());
            blob.extend_from_slice(&(is.len() as u32).to_le_bytes());
            blob.extend_from_slice(&bytes);
            rdb_raw_string_size(&blob)
        }
        _ => {
            let mut n = rdb_len_size(s.len() as u64);
            s.for_each(|it| n += it.with_bytes(rdb_raw_string_size));
            n
        }
    }
}

/// RDB size of a hash: a listpack-encoded hash is one string holding the listpack's
/// bytes; a hashtable is its length, then each field and value as strings.
fn hash_serialized_length(h: &crate::types::hash::Hash) -> usize {
    use crate::types::hash::Hash;
    match h {
        Hash::Table(_) => {
            let mut n = rdb_len_size(h.len() as u64);
            h.for_each(|k, v| {
                n += k.with_bytes(rdb_raw_string_size) + v.with_bytes(rdb_raw_string_size);
            });
            n
        }
        _ => {
            let mut lp = redis_rdb::encodings::listpack::Builder::new();
            h.for_each(|k, v| {
                k.with_bytes(|b| lp.push(b));
                v.with_bytes(|b| lp.push(b));
            });
            rdb_raw_string_size(&lp.finish())
        }
    }
}

/// The C name of a jemalloc control (NUL-terminated), or None if it has a NUL.
fn mallctl_name(arg: &[u8]) -> Option<std::ffi::CString> {
    std::ffi::CString::new(arg).ok()
}

fn errno_text(code: i32) -> String {
    std::io::Error::from_raw_os_error(code)
        .to_string()
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// DEBUG MALLCTL key [int]: reads (and writes) an integer jemalloc control, trying
/// 64, 32, 16 then 8-bit widths as Redis does, since mallctl wants the exact size.
fn mallctl_int(ctx: &mut Ctx) -> CmdResult {
    let Some(name) = mallctl_name(ctx.argv[2]) else {
        return Err(format!("ERR {}", errno_text(libc::ENOENT)).into());
    };
    let new = if ctx.argc() > 3 {
        Some(ctx.arg_i64(3)?)
    } else {
        None
    };
    let mut size = std::mem::size_of::<i64>();
    while size > 0 {
        let mut old: i64 = 0;
        let mut old_size = size;
        let mut val = new.unwrap_or(0);
        // SAFETY: `old` and `val` are 8-byte buffers and the sizes passed never exceed
        // 8, so jemalloc reads and writes inside them (little-endian: the low bytes).
        let ret = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&mut old as *mut i64).cast(),
                &mut old_size,
                if new.is_some() {
                    (&mut val as *mut i64).cast()
                } else {
                    std::ptr::null_mut()
                },
                if new.is_some() { size } else { 0 },
            )
        };
        if ret == 0 {
            ctx.out.int(old);
            return Ok(());
        }
        if ret == libc::EPERM && new.is_some() {
            // A write-only control: write without reading.
            // SAFETY: as above.
            let w = unsafe {
                tikv_jemalloc_sys::mallctl(
                    name.as_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    (&mut val as *mut i64).cast(),
                    size,
                )
            };
            if w == 0 {
                ctx.out.ok();
                return Ok(());
            }
        }
        if ret == libc::EINVAL {
            // jemalloc shrinks the length it was given to the control's size; Redis
            // halves that (so a 4-byte control is never read: EINVAL in the end).
            size = old_size / 2;
            continue;
        }
        return Err(format!("ERR {}", errno_text(ret)).into());
    }
    Err(format!("ERR {}", errno_text(libc::EINVAL)).into())
}

/// DEBUG MALLCTL-STR key [string|VOID]: reads (and writes) a string jemalloc control;
/// `VOID` writes nothing but triggers the control (e.g. thread.tcache.flush).
fn mallctl_str(ctx: &mut Ctx) -> CmdResult {
    let Some(name) = mallctl_name(ctx.argv[2]) else {
        return Err(format!("ERR {}", errno_text(libc::ENOENT)).into());
    };
    let mut old: *const libc::c_char = std::ptr::null();
    let mut sz = std::mem::size_of::<*const libc::c_char>();
    // SAFETY: `old` is a pointer-sized buffer; jemalloc stores a pointer to a static
    // string in it.
    let rret = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            (&mut old as *mut *const libc::c_char).cast(),
            &mut sz,
            std::ptr::null_mut(),
            0,
        )
    };
    if rret != 0 && !(rret == libc::EPERM && ctx.argc() > 3) {
        return Err(format!("ERR {}", errno_text(rret)).into());
    }
    let mut wret = 0;
    if ctx.argc() > 3 {
        let value = std::ffi::CString::new(ctx.argv[3].to_vec()).unwrap_or_default();
        let mut ptr = value.as_ptr();
        let void = ctx.argv[3] == b"VOID";
        // SAFETY: a pointer-sized value (or nothing, for VOID) is passed in.
        wret = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                if void {
                    std::ptr::null_mut()
                } else {
                    (&mut ptr as *mut *const libc::c_char).cast()
                },
                if void { 0 } else { sz },
            )
        };
    }
    if rret == 0 {
        // SAFETY: jemalloc returned a NUL-terminated static string (or null).
        let text = if old.is_null() {
            Vec::new()
        } else {
            unsafe { std::ffi::CStr::from_ptr(old) }.to_bytes().to_vec()
        };
        ctx.out.bulk(&text);
    } else if wret != 0 {
        return Err(format!("ERR {}", errno_text(wret)).into());
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// Appends one listpack entry (encoding, data, back-length) for `item` to `lp`.
fn listpack_entry(lp: &mut Vec<u8>, item: crate::types::packed::Item<'_>) {
    use crate::types::packed::Item;
    let start = lp.len();
    let int = match item {
        Item::Int(n) => Some(n),
        Item::Str(_) | Item::Float(_) => None,
    };
    match int {
        Some(n) if (0..128).contains(&n) => lp.push(n as u8),
        Some(n) if (-4096..4096).contains(&n) => {
            let v = (n as u16) & 0x1fff;
            lp.push(0xc0 | (v >> 8) as u8);
            lp.push(v as u8);
        }
        Some(n) if i16::try_from(n).is_ok() => {
            lp.push(0xf1);
            lp.extend_from_slice(&(n as i16).to_le_bytes());
        }
        Some(n) if (-(1 << 23)..(1 << 23)).contains(&n) => {
            lp.push(0xf2);
            lp.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
        }
        Some(n) if i32::try_from(n).is_ok() => {
            lp.push(0xf3);
            lp.extend_from_slice(&(n as i32).to_le_bytes());
        }
        Some(n) => {
            lp.push(0xf4);
            lp.extend_from_slice(&n.to_le_bytes());
        }
        None => item.with_bytes(|b| {
            let l = b.len();
            if l < 64 {
                lp.push(0x80 | l as u8);
            } else if l < 4096 {
                lp.push(0xe0 | (l >> 8) as u8);
                lp.push(l as u8);
            } else {
                lp.push(0xf0);
                lp.extend_from_slice(&(l as u32).to_le_bytes());
            }
            lp.extend_from_slice(b);
        }),
    }
    let l = lp.len() - start;
    if l <= 127 {
        lp.push(l as u8);
    } else if l < 16383 {
        lp.push((l >> 7) as u8);
        lp.push((l & 127) as u8 | 128);
    } else if l < 2097151 {
        lp.push((l >> 14) as u8);
        lp.push(((l >> 7) & 127) as u8 | 128);
        lp.push((l & 127) as u8 | 128);
    } else if l < 268435455 {
        lp.push((l >> 21) as u8);
        lp.push(((l >> 14) & 127) as u8 | 128);
        lp.push(((l >> 7) & 127) as u8 | 128);
        lp.push((l & 127) as u8 | 128);
    } else {
        lp.push((l >> 28) as u8);
        lp.push(((l >> 21) & 127) as u8 | 128);
        lp.push(((l >> 14) & 127) as u8 | 128);
        lp.push(((l >> 7) & 127) as u8 | 128);
        lp.push((l & 127) as u8 | 128);
    }
}

/// What Redis's quicklist would look like for a list's contents (DEBUG OBJECT).
struct ListLayout {
    /// RDB size (QUICKLIST_2 encoding).
    serialized: usize,
    /// Number of nodes.
    nodes: usize,
    /// Listpack bytes (and plain node values) in all nodes.
    uncompressed: usize,
}

/// Regroups a list's elements into nodes as Redis's quicklist fills them when
/// they are pushed in order (our nodes are laid out differently; the figures are
/// what Redis reports for the same contents built by RPUSH).
fn list_layout(l: &crate::types::list::List, fill: i64, threshold: u64) -> ListLayout {
    const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
    let mut out = ListLayout {
        serialized: 0,
        nodes: 0,
        uncompressed: 0,
    };
    let mut lp: Vec<u8> = Vec::new();
    let mut count = 0usize;
    let flush = |lp: &mut Vec<u8>, count: &mut usize, out: &mut ListLayout| {
        if *count == 0 {
            return;
        }
        let total = lp.len() + 7;
        let mut blob = Vec::with_capacity(total);
        blob.extend_from_slice(&(total as u32).to_le_bytes());
        blob.extend_from_slice(&((*count).min(65535) as u16).to_le_bytes());
        blob.extend_from_slice(lp);
        blob.push(0xff);
        out.serialized += 1 + rdb_raw_string_size(&blob);
        out.uncompressed += total;
        out.nodes += 1;
        lp.clear();
        *count = 0;
    };
    let mut entry = Vec::new();
    for item in l.iter() {
        let sz = item.with_bytes(|b| b.len());
        if sz as u64 >= threshold {
            flush(&mut lp, &mut count, &mut out);
            item.with_bytes(|b| {
                out.serialized += 1 + rdb_raw_string_size(b);
                out.uncompressed += b.len();
            });
            out.nodes += 1;
            continue;
        }
        if count > 0 {
            let new_sz = lp.len() + 7 + sz + 8;
            let fits = if fill < 0 {
                let i = ((-fill) as usize) - 1;
                i < LEVELS.len() && new_sz <= LEVELS[i]
            } else {
                new_sz <= 8192 && (count as i64) < fill
            };
            if !fits {
                flush(&mut lp, &mut count, &mut out);
            }
        }
        entry.clear();
        listpack_entry(&mut entry, item);
        lp.extend_from_slice(&entry);
        count += 1;
    }
    flush(&mut lp, &mut count, &mut out);
    out.serialized += rdb_len_size(out.nodes as u64);
    out
}

fn list_serialized_length(l: &crate::types::list::List) -> usize {
    list_layout(l, -2, quicklist_packed_threshold()).serialized
}

/// DEBUG POPULATE count [prefix] [size]
fn populate(ctx: &mut Ctx) -> CmdResult {
    // Redis's getPositiveLongFromObjectOrReply: one message for both failures.
    let positive = |ctx: &Ctx, i: usize| -> Result<u64, CmdError> {
        match redis_formats::num::parse_i64(ctx.argv[i]) {
            Some(n) if n >= 0 => Ok(n as u64),
            _ => Err("ERR value is out of range, must be positive".into()),
        }
    };
    let count = positive(ctx, 2)?;
    let size = if ctx.argc() == 5 {
        positive(ctx, 4)? as usize
    } else {
        0
    };
    let prefix = if ctx.argc() >= 4 {
        ctx.argv[3].to_vec()
    } else {
        b"key".to_vec()
    };
    let lru = crate::evict::initial_lru(ctx.srv, ctx.now_ms);
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for j in 0..count {
        key.clear();
        key.extend_from_slice(&prefix);
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if db.lookup(&key, now).is_some() {
            continue;
        }
        let mut val = format!("value:{j}").into_bytes();
        if size > 0 {
            val.resize(size, 0);
        }
        db.add(&key, Object::new(Value::string_from_vec(val), lru));
    }
    ctx.out.ok();
    Ok(())
}

/// DEBUG PROTOCOL <type>: a sample reply of each RESP type.
fn protocol(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.argv[2].to_ascii_lowercase();
    let out = &mut *ctx.out;
    match name.as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.big_number(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" => {
            out.array(3);
            (0..3).for_each(|j| out.int(j));
        }
        b"set" => {
            out.set(3);
            (0..3).for_each(|j| out.int(j));
        }
        b"map" => {
            out.map(3);
            for j in 0..3 {
                out.int(j);
                out.boolean(j == 1);
            }
        }
        b"attrib" => {
            if out.resp3() {
                out.raw(b"|1\r\n");
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !out.resp3() {
                return Err("ERR RESP2 is not supported by this command".into());
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        b"verbatim" => out.verbatim(b"txt", b"This is a verbatim\nstring"),
        _ => return Err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false".into()),
    }
    Ok(())
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// XORs SHA1(data) into `digest` (order-independent accumulation).
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = Sha1::digest(data);
    for (d, x) in digest.iter_mut().zip(h.iter()) {
        *d ^= x;
    }
}

/// digest = SHA1(digest xor SHA1(data)) (order-dependent accumulation).
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    let h = Sha1::digest(&digest[..]);
    digest.copy_from_slice(&h);
}

/// Redis's type number of a value (as RDB and the digest use it).
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Int(_) | Value::Str(_) | Value::Raw(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mixes a value's digest into `digest` as Redis's DEBUG DIGEST does: its type, its
/// contents (per type), and a mark when the key has a TTL.
fn object_digest(digest: &mut [u8; 20], o: &Object, has_ttl: bool) {
    mix_digest(digest, &type_code(&o.value).to_be_bytes());
    match &o.value {
        v @ (Value::Int(_) | Value::Str(_) | Value::Raw(_)) => {
            v.with_bytes(|b| mix_digest(digest, b));
        }
        Value::List(l) => {
            for item in l.iter() {
                item.with_bytes(|b| mix_digest(digest, b));
            }
        }
        Value::Set(s) => s.for_each(|it| it.with_bytes(|b| xor_digest(digest, b))),
        Value::Hash(h) => h.for_each(|k, v| {
            let mut ele = [0u8; 20];
            k.with_bytes(|b| mix_digest(&mut ele, b));
            v.with_bytes(|b| mix_digest(&mut ele, b));
            xor_digest(digest, &ele);
        }),
        Value::ZSet(z) => {
            // Each member's digest is mixed from the member and its score as "%.17g",
            // then xored in (order-independent).
            z.for_range(0, z.len(), false, |m, s| {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, m);
                mix_digest(&mut ele, redis_formats::num::format_double(s).as_bytes());
                xor_digest(digest, &ele);
            });
        }
        Value::Stream(s) => {
            use crate::types::stream::{for_each_field, with_elem, MAX_ID, MIN_ID};
            s.range(MIN_ID, MAX_ID, false, |lp, head, e| {
                mix_digest(digest, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                for_each_field(lp, head, e, |f, v| {
                    with_elem(f, |b| mix_digest(digest, b));
                    with_elem(v, |b| mix_digest(digest, b));
                });
                true
            });
        }
    }
    if has_ttl {
        xor_digest(digest, b"!!expire!!");
    }
}

/// The digest of the whole dataset (all zeros when empty).
pub fn dataset_digest(srv: &crate::state::Server) -> [u8; 20] {
    let mut fin = [0u8; 20];
    for (j, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(j as u32).to_be_bytes());
        for e in db.keys.iter() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, &e.key);
            object_digest(&mut d, &e.value, e.value.has_expire);
            xor_digest(&mut fin, &d);
        }
    }
    fin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_parsers() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b" -12x"), -12);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(strtod_prefix(b"0.5"), 0.5);
        assert_eq!(strtod_prefix(b"1.5abc"), 1.5);
        assert_eq!(strtod_prefix(b"abc"), 0.0);
        assert_eq!(parse_memory(b"1kb"), Some(1024));
        assert_eq!(parse_memory(b"10"), Some(10));
        assert_eq!(parse_memory(b"x"), None);
    }

    #[test]
    fn serialized_lengths() {
        assert_eq!(serialized_length(&Value::Int(5)), 2);
        assert_eq!(serialized_length(&Value::Int(300)), 3);
        assert_eq!(serialized_length(&Value::Int(1 << 20)), 5);
        assert_eq!(serialized_length(&Value::Int(1 << 40)), 1 + 13);
        assert_eq!(serialized_length(&Value::string(b"hello")), 6);
        assert_eq!(serialized_length(&Value::string(b"007")), 4);
    }
}
