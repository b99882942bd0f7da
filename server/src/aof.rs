//! The append-only file, in Redis 7.0's multi-part layout.
//!
//! `appenddirname` holds a manifest (`<appendfilename>.manifest`) naming one base file
//! (`<appendfilename>.<seq>.base.rdb` with `aof-use-rdb-preamble`, else `.base.aof`:
//! the dataset when it was last rewritten), the incr files written since
//! (`<appendfilename>.<seq>.incr.aof`: the commands propagated by `crate::propagate`,
//! with a SELECT whenever the database changes and `#TS:` annotations with
//! `aof-timestamp-enabled`), and history files (old ones, deleted at once unless
//! `aof-disable-auto-gc`). Manifest text is parsed and written by `redis_rdb::aof`.
//!
//! - Writing: [`feed`] appends to a buffer; [`flush`] writes it (the connection calls
//!   it before its replies leave, the cron every tick) and fsyncs per `appendfsync`:
//!   `always` at once, `everysec` in a background thread about once a second, `no`
//!   never.
//! - Rewrite (BGREWRITEAOF, `auto-aof-rewrite-*`, `CONFIG SET appendonly yes`): the
//!   parent opens a new incr file and forks; the child writes the new base to a temp
//!   file; when the cron reaps it ([`rewrite_done`]) the temp file becomes the base,
//!   older incr files become history and the manifest is replaced. Only one child runs
//!   at a time (`crate::bgsave::ChildKind`).
//! - Loading ([`load_at_startup`]): the manifest's base (RDB or commands) then its incr
//!   files, commands replayed through the dispatcher with a fake client; an old
//!   single-file AOF is moved into the directory first, as Redis 7.0 upgrades it.

use crate::bgsave::ChildKind;
use crate::log::{log, Level};
use crate::state::{Server, Shared};
use redis_rdb::aof::{FileType, Manifest, ManifestEntry};
use redis_server_config::AppendFsync;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A step failed (already logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

/// Whether the AOF is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Off,
    On,
    /// Switched on at runtime: the first rewrite has not finished yet.
    WaitRewrite,
}

/// The AOF state kept in the server.
#[derive(Debug)]
pub struct AofState {
    pub status: Status,
    /// Commands not written yet.
    pub buf: Vec<u8>,
    /// The database the last command written was for (None: a SELECT comes first).
    pub selected_db: Option<usize>,
    /// The incr file being appended to.
    pub file: Option<File>,
    pub manifest: Manifest,
    pub base_seq: i64,
    pub incr_seq: i64,
    /// Sizes (INFO aof_current_size, aof_base_size).
    pub current_size: u64,
    pub rewrite_base_size: u64,
    pub last_incr_size: u64,
    pub last_incr_fsync_offset: u64,
    /// Unix seconds of the last fsync.
    pub last_fsync_s: i64,
    /// A background fsync is running.
    pub fsync_in_progress: Arc<AtomicBool>,
    pub flush_postponed_start: i64,
    pub delayed_fsync: u64,
    pub last_write_ok: bool,
    pub last_write_error: String,
    pub rewrite_scheduled: bool,
    /// Rewrites started (INFO aof_rewrites).
    pub rewrites: u64,
    pub last_bgrewrite_ok: bool,
    pub consecutive_failures: u64,
    /// Unix seconds the running rewrite started (-1: none), and the last one's length.
    pub rewrite_time_start_s: i64,
    pub rewrite_time_last_s: i64,
    /// The last `#TS:` annotation written.
    pub cur_timestamp: i64,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each write.
    pub flush_sleep_us: u64,
    /// The back-off after repeated rewrite failures (Redis's aofRewriteLimited).
    limit_delay_minutes: i64,
    limit_next_rewrite_s: i64,
}

impl Default for AofState {
    fn default() -> Self {
        AofState {
            status: Status::Off,
            buf: Vec::new(),
            selected_db: None,
            file: None,
            manifest: Manifest::default(),
            base_seq: 0,
            incr_seq: 0,
            current_size: 0,
            rewrite_base_size: 0,
            last_incr_size: 0,
            last_incr_fsync_offset: 0,
            last_fsync_s: 0,
            fsync_in_progress: Arc::new(AtomicBool::new(false)),
            flush_postponed_start: 0,
            delayed_fsync: 0,
            last_write_ok: true,
            last_write_error: String::new(),
            rewrite_scheduled: false,
            rewrites: 0,
            last_bgrewrite_ok: true,
            consecutive_failures: 0,
            rewrite_time_start_s: -1,
            rewrite_time_last_s: -1,
            cur_timestamp: 0,
            flush_sleep_us: 0,
            limit_delay_minutes: 0,
            limit_next_rewrite_s: 0,
        }
    }
}

impl AofState {
    /// Whether propagated commands are wanted.
    pub fn accepts_feed(&self) -> bool {
        self.status != Status::Off
    }
}

fn now_s() -> i64 {
    crate::state::now_ms() / 1000
}

fn os(b: &[u8]) -> &std::ffi::OsStr {
    std::ffi::OsStr::from_bytes(b)
}

fn dir(srv: &Server) -> PathBuf {
    PathBuf::from(os(&srv.config.appenddirname))
}

fn filename(srv: &Server) -> String {
    String::from_utf8_lossy(&srv.config.appendfilename).into_owned()
}

fn manifest_name(srv: &Server) -> String {
    format!("{}.manifest", filename(srv))
}

fn temp_incr_name(srv: &Server) -> String {
    format!("temp-{}.incr", filename(srv))
}

fn in_dir(srv: &Server, name: &str) -> PathBuf {
    dir(srv).join(name)
}

// ---------------------------------------------------------------------------
// Feeding and flushing.

/// Appends one propagated command (RESP) for database `db`.
pub fn feed(srv: &mut Server, db: usize, cmd: &[u8]) {
    let a = &mut srv.aof;
    match a.status {
        Status::Off => return,
        Status::On => {}
        // Before the first rewrite's child runs there is nothing to append to: the
        // rewrite will take the dataset as it is then.
        Status::WaitRewrite => {
            if srv.bgsave.child.map(|c| c.kind) != Some(ChildKind::Aof) {
                return;
            }
        }
    }
    if srv.config.aof_timestamp_enabled {
        let now = now_s();
        if a.cur_timestamp < now {
            a.cur_timestamp = now;
            a.buf.extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
        }
    }
    if a.selected_db != Some(db) {
        let n = db.to_string();
        a.buf.extend_from_slice(
            format!("*2\r\n$6\r\nSELECT\r\n${}\r\n{}\r\n", n.len(), n).as_bytes(),
        );
        a.selected_db = Some(db);
    }
    a.buf.extend_from_slice(cmd);
}

/// Writes the buffer to the incr file and fsyncs as `appendfsync` says (Redis's
/// flushAppendOnlyFile). `force` writes even while a background fsync runs.
pub fn flush(srv: &mut Server, force: bool) {
    let policy = srv.config.appendfsync;
    let no_fsync_on_rewrite =
        srv.config.no_appendfsync_on_rewrite && crate::bgsave::has_active_child(srv);
    let a = &mut srv.aof;
    let Some(file) = a.file.as_mut() else {
        return;
    };
    let now = now_s();
    let mut sync_in_progress = false;
    if a.buf.is_empty() {
        let pending = a.last_incr_fsync_offset != a.last_incr_size;
        let go = match policy {
            AppendFsync::Everysec => {
                pending && now > a.last_fsync_s && {
                    sync_in_progress = a.fsync_in_progress.load(Ordering::Acquire);
                    !sync_in_progress
                }
            }
            AppendFsync::Always => pending,
            _ => false,
        };
        if !go {
            return;
        }
    } else {
        if policy == AppendFsync::Everysec {
            sync_in_progress = a.fsync_in_progress.load(Ordering::Acquire);
        }
        if policy == AppendFsync::Everysec && !force && sync_in_progress {
            if a.flush_postponed_start == 0 {
                a.flush_postponed_start = now;
                return;
            } else if now - a.flush_postponed_start < 2 {
                return;
            }
            a.delayed_fsync += 1;
            log(Level::Notice, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.");
        }
        a.flush_postponed_start = 0;
        if a.flush_sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(a.flush_sleep_us));
        }
        match file.write_all(&a.buf) {
            Ok(()) => {
                if !a.last_write_ok {
                    log(
                        Level::Warning,
                        "AOF write error looks solved, Redis can write again.",
                    );
                    a.last_write_ok = true;
                }
                let n = a.buf.len() as u64;
                a.current_size += n;
                a.last_incr_size += n;
                if a.buf.capacity() > 1 << 20 {
                    a.buf = Vec::new();
                } else {
                    a.buf.clear();
                }
            }
            Err(e) => {
                log(
                    Level::Warning,
                    &format!("Error writing to the AOF file: {e}"),
                );
                // A partial write is cut back so the file stays whole.
                let _ = file.set_len(a.last_incr_size);
                let _ = file.seek(SeekFrom::End(0));
                if policy == AppendFsync::Always {
                    log(Level::Warning, "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
                    std::process::exit(1);
                }
                a.last_write_ok = false;
                a.last_write_error = e.to_string();
                return;
            }
        }
    }
    if no_fsync_on_rewrite {
        return;
    }
    match policy {
        AppendFsync::Always => {
            if let Err(e) = file.sync_data() {
                log(
                    Level::Warning,
                    &format!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting..."),
                );
                std::process::exit(1);
            }
            a.last_incr_fsync_offset = a.last_incr_size;
            a.last_fsync_s = now;
        }
        AppendFsync::Everysec if now > a.last_fsync_s => {
            if !sync_in_progress {
                background_fsync(file, &a.fsync_in_progress);
                a.last_incr_fsync_offset = a.last_incr_size;
            }
            a.last_fsync_s = now;
        }
        _ => {}
    }
}

/// fsync in a thread of its own (Redis's bio job).
fn background_fsync(file: &File, busy: &Arc<AtomicBool>) {
    let Ok(f) = file.try_clone() else {
        return;
    };
    busy.store(true, Ordering::Release);
    let busy = busy.clone();
    std::thread::spawn(move || {
        let _ = f.sync_data();
        busy.store(false, Ordering::Release);
    });
}

/// The cron's part: write what is buffered (everysec fsync), start a scheduled or
/// automatic rewrite.
pub fn cron(srv: &mut Server, now_ms: i64) {
    if srv.aof.status == Status::Off && !srv.aof.rewrite_scheduled {
        return;
    }
    flush(srv, false);
    if crate::bgsave::has_active_child(srv) {
        return;
    }
    if srv.aof.rewrite_scheduled {
        if !rewrite_limited(srv) {
            let _ = start_rewrite(srv, now_ms);
        }
        return;
    }
    // auto-aof-rewrite-percentage / -min-size.
    let pct = srv.config.auto_aof_rewrite_percentage as u64;
    let min = srv.config.auto_aof_rewrite_min_size.max(0) as u64;
    if srv.aof.status == Status::On && pct > 0 && srv.aof.current_size > min {
        let base = srv.aof.rewrite_base_size.max(1);
        let growth = (srv.aof.current_size * 100 / base).saturating_sub(100);
        if growth >= pct && !rewrite_limited(srv) {
            log(
                Level::Notice,
                &format!("Starting automatic rewriting of AOF on {growth}% growth"),
            );
            let _ = start_rewrite(srv, now_ms);
        }
    }
}

/// After three failed rewrites in a row, automatic and scheduled rewrites wait 1,
/// then 2, 4... up to 60 minutes (BGREWRITEAOF itself is never held).
fn rewrite_limited(srv: &mut Server) -> bool {
    let a = &mut srv.aof;
    if a.consecutive_failures < 3 {
        a.limit_delay_minutes = 0;
        a.limit_next_rewrite_s = 0;
        return false;
    }
    let now = now_s();
    if a.limit_next_rewrite_s != 0 {
        if now < a.limit_next_rewrite_s {
            return true;
        }
        a.limit_next_rewrite_s = 0;
        return false;
    }
    a.limit_delay_minutes = if a.limit_delay_minutes == 0 {
        1
    } else {
        (a.limit_delay_minutes * 2).min(60)
    };
    a.limit_next_rewrite_s = now + a.limit_delay_minutes * 60;
    log(
        Level::Warning,
        &format!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            a.limit_delay_minutes
        ),
    );
    true
}

// ---------------------------------------------------------------------------
// The manifest.

fn persist_manifest(srv: &Server, m: &Manifest) -> std::io::Result<()> {
    let text = redis_rdb::aof::format_manifest(m);
    let tmp = in_dir(srv, &format!("temp-{}", manifest_name(srv)));
    let r = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, in_dir(srv, &manifest_name(srv)))?;
        if let Ok(d) = File::open(dir(srv)) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = &r {
        log(
            Level::Warning,
            &format!(
                "Error trying to write the temporary AOF manifest file {}: {e}",
                tmp.display()
            ),
        );
    }
    r
}

fn create_dir(srv: &Server) -> bool {
    let d = dir(srv);
    if d.is_dir() {
        return true;
    }
    match std::fs::create_dir(&d) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => true,
        Err(e) => {
            log(
                Level::Warning,
                &format!("Can't open or create append-only dir {}: {e}", d.display()),
            );
            false
        }
    }
}

fn new_base_name(srv: &mut Server, m: &mut Manifest, seq: &mut i64) -> String {
    if let Some(mut b) = m.base.take() {
        b.kind = FileType::History;
        m.history.insert(0, b);
    }
    *seq += 1;
    let suffix = if srv.config.aof_use_rdb_preamble {
        "rdb"
    } else {
        "aof"
    };
    let name = format!("{}.{}.base.{suffix}", filename(srv), seq);
    m.base = Some(ManifestEntry {
        name: name.clone(),
        seq: *seq,
        kind: FileType::Base,
    });
    name
}

fn new_incr_name(srv: &Server, m: &mut Manifest, seq: &mut i64) -> String {
    *seq += 1;
    let name = format!("{}.{}.incr.aof", filename(srv), seq);
    m.incr.push(ManifestEntry {
        name: name.clone(),
        seq: *seq,
        kind: FileType::Incr,
    });
    name
}

/// Deletes the history files (unless aof-disable-auto-gc) and drops them from the
/// manifest.
pub fn delete_history(srv: &mut Server) {
    if srv.config.aof_disable_auto_gc || srv.aof.manifest.history.is_empty() {
        return;
    }
    let hist = std::mem::take(&mut srv.aof.manifest.history);
    for h in &hist {
        log(
            Level::Notice,
            &format!("Removing the history file {} in the background", h.name),
        );
        let _ = std::fs::remove_file(in_dir(srv, &h.name));
    }
    let m = srv.aof.manifest.clone();
    let _ = persist_manifest(srv, &m);
}

// ---------------------------------------------------------------------------
// Writing a base (the rewrite).

/// Writes the dataset as an AOF base to `path` (RDB preamble or commands), through a
/// temporary file renamed over it.
pub fn write_base(srv: &Server, path: &Path, now_ms: i64) -> std::io::Result<()> {
    let tmp = PathBuf::from(format!("temp-rewriteaof-{}.aof", std::process::id()));
    let r = (|| {
        let file = File::create(&tmp).inspect_err(|e| {
            log(
                Level::Warning,
                &format!("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {e}"),
            )
        })?;
        if srv.config.aof_use_rdb_preamble {
            crate::rdb::write_snapshot_to(srv, file, now_ms, true)?;
        } else {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
            write_commands(srv, &mut w, now_ms)?;
            w.flush()?;
            w.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, path).inspect_err(|e| {
            log(
                Level::Warning,
                &format!("Error moving temp append only file on the final destination: {e}"),
            )
        })
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Items per command in a command-format base (Redis's AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

fn bulk(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    write!(w, "${}\r\n", b.len())?;
    w.write_all(b)?;
    w.write_all(b"\r\n")
}

/// Writes `items` (each `per` arguments) as commands of at most ITEMS_PER_CMD items.
fn batched(
    w: &mut impl Write,
    name: &[u8],
    key: &[u8],
    items: &[Vec<u8>],
    per: usize,
) -> std::io::Result<()> {
    for chunk in items.chunks(ITEMS_PER_CMD * per) {
        write!(w, "*{}\r\n", 2 + chunk.len())?;
        bulk(w, name)?;
        bulk(w, key)?;
        for a in chunk {
            bulk(w, a)?;
        }
    }
    Ok(())
}

/// Writes one command of bulk strings.
fn command(w: &mut impl Write, args: &[&[u8]]) -> std::io::Result<()> {
    write!(w, "*{}\r\n", args.len())?;
    args.iter().try_for_each(|a| bulk(w, a))
}

/// A stream as the commands that rebuild it exactly, in Redis 7.0's forms: one XADD
/// per entry (an empty stream as `XADD key MAXLEN 0 0-1 x y`), XSETID with the last ID,
/// entries added and max deleted ID, then per group XGROUP CREATE ... ENTRIESREAD and
/// per consumer either its pending entries as `XCLAIM ... JUSTID FORCE` or, without
/// any, XGROUP CREATECONSUMER.
fn write_stream(
    w: &mut impl Write,
    key: &[u8],
    s: &crate::types::stream::Stream,
) -> std::io::Result<()> {
    use crate::types::stream::{fmt_id, for_each_field, with_elem, MAX_ID, MIN_ID};
    let (mut b1, mut b2) = ([0u8; 42], [0u8; 42]);
    if s.length > 0 {
        let mut r = Ok(());
        s.range(MIN_ID, MAX_ID, false, |lp, h, e| {
            let mut fields: Vec<Vec<u8>> = Vec::with_capacity(e.nfields * 2);
            for_each_field(lp, h, e, |f, v| {
                fields.push(with_elem(f, |b| b.to_vec()));
                fields.push(with_elem(v, |b| b.to_vec()));
            });
            r = (|| {
                write!(w, "*{}\r\n", 3 + fields.len())?;
                bulk(w, b"XADD")?;
                bulk(w, key)?;
                bulk(w, fmt_id(e.id, &mut b1))?;
                fields.iter().try_for_each(|f| bulk(w, f))
            })();
            r.is_ok()
        });
        r?;
    } else {
        command(w, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"])?;
    }
    let added = s.entries_added.to_string();
    command(
        w,
        &[
            b"XSETID",
            key,
            fmt_id(s.last_id, &mut b1),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            fmt_id(s.max_deleted_id, &mut b2),
        ],
    )?;
    for (name, g) in &s.groups {
        let read = g.entries_read.to_string();
        command(
            w,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                fmt_id(g.last_id, &mut b1),
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        )?;
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                command(w, &[b"XGROUP", b"CREATECONSUMER", key, name, cname])?;
                continue;
            }
            for id in &c.pel {
                let nack = &g.pel[id];
                let (time, count) = (
                    nack.delivery_time.to_string(),
                    nack.delivery_count.to_string(),
                );
                command(
                    w,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        fmt_id(*id, &mut b1),
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// The dataset as commands (Redis's rewriteAppendOnlyFileRio).
fn write_commands(srv: &Server, w: &mut impl Write, _now_ms: i64) -> std::io::Result<()> {
    use crate::object::Value;
    if srv.config.aof_timestamp_enabled {
        write!(w, "#TS:{}\r\n", now_s())?;
    }
    // The function libraries first, as FUNCTION LOAD commands (Redis's rewriteFunctions).
    for lib in srv.functions.libs.values() {
        w.write_all(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n")?;
        bulk(w, &lib.code)?;
    }
    let delay = srv.config.rdb_key_save_delay;
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.write_all(b"*2\r\n$6\r\nSELECT\r\n")?;
        bulk(w, i.to_string().as_bytes())?;
        for e in db.keys.iter() {
            let key: &[u8] = &e.key;
            let mut items: Vec<Vec<u8>> = Vec::new();
            match &e.value.value {
                Value::List(l) => {
                    for it in l.iter() {
                        it.with_bytes(|b| items.push(b.to_vec()));
                    }
                    batched(w, b"RPUSH", key, &items, 1)?;
                }
                Value::Set(s) => {
                    s.for_each(|it| it.with_bytes(|b| items.push(b.to_vec())));
                    batched(w, b"SADD", key, &items, 1)?;
                }
                Value::ZSet(z) => {
                    z.for_range(0, z.len(), false, |m, s| {
                        items.push(redis_rdb::writer::format_g17(s).into_bytes());
                        items.push(m.to_vec());
                    });
                    batched(w, b"ZADD", key, &items, 2)?;
                }
                Value::Hash(h) => {
                    h.for_each(|f, v| {
                        f.with_bytes(|b| items.push(b.to_vec()));
                        v.with_bytes(|b| items.push(b.to_vec()));
                    });
                    batched(w, b"HMSET", key, &items, 2)?;
                }
                Value::Stream(s) => write_stream(w, key, s)?,
                v => {
                    w.write_all(b"*3\r\n$3\r\nSET\r\n")?;
                    bulk(w, key)?;
                    v.with_bytes(|b| bulk(w, b))?;
                }
            }
            if e.value.has_expire {
                if let Some(t) = db.expire_of(key) {
                    w.write_all(b"*3\r\n$9\r\nPEXPIREAT\r\n")?;
                    bulk(w, key)?;
                    bulk(w, t.to_string().as_bytes())?;
                }
            }
            if delay != 0 {
                crate::rdb::debug_delay(delay);
            }
        }
    }
    Ok(())
}

/// Opens the next incr file (or, while switching on, the temp incr file) for the
/// writes made during a rewrite (Redis's openNewIncrAofForAppend).
fn open_new_incr(srv: &mut Server) -> Result<(), Failed> {
    let (name, m) = match srv.aof.status {
        Status::Off => return Ok(()),
        Status::WaitRewrite => (temp_incr_name(srv), None),
        Status::On => {
            let mut m = srv.aof.manifest.clone();
            let mut seq = srv.aof.incr_seq;
            let name = new_incr_name(srv, &mut m, &mut seq);
            (name, Some((m, seq)))
        }
    };
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(in_dir(srv, &name));
    let f = match f {
        Ok(f) => f,
        Err(e) => {
            log(
                Level::Warning,
                &format!("Can't open the append-only file {name}: {e}"),
            );
            return Err(Failed);
        }
    };
    if let Some((m, _)) = &m {
        if persist_manifest(srv, m).is_err() {
            return Err(Failed);
        }
    }
    log(
        Level::Notice,
        &format!("Creating AOF incr file {name} on background rewrite"),
    );
    if let Some(old) = srv.aof.file.take() {
        background_fsync(&old, &srv.aof.fsync_in_progress);
        srv.aof.last_fsync_s = now_s();
    }
    srv.aof.file = Some(f);
    srv.aof.last_incr_size = 0;
    srv.aof.last_incr_fsync_offset = 0;
    if let Some((m, seq)) = m {
        srv.aof.manifest = m;
        srv.aof.incr_seq = seq;
    }
    Ok(())
}

/// Starts a background rewrite (Redis's rewriteAppendOnlyFileBackground).
pub fn start_rewrite(srv: &mut Server, now_ms: i64) -> Result<(), Failed> {
    if crate::bgsave::has_active_child(srv) {
        return Err(Failed);
    }
    if !create_dir(srv) {
        srv.aof.last_bgrewrite_ok = false;
        return Err(Failed);
    }
    srv.aof.selected_db = None;
    flush(srv, true);
    if open_new_incr(srv).is_err() {
        srv.aof.last_bgrewrite_ok = false;
        return Err(Failed);
    }
    srv.aof.rewrites += 1;
    let before = std::time::Instant::now();
    // SAFETY: as in `crate::bgsave::start`: the child only reads its copy of the
    // state, writes its file and the log, and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        crate::log::set_role(b'C');
        let _ = crate::oom::apply(&srv.config, crate::oom::BACKGROUND_CHILD);
        let tmp = format!("temp-rewriteaof-bg-{}.aof", std::process::id());
        // A panic must end the child here, never unwind into the parent's event loop.
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match write_base(srv, Path::new(&tmp), now_ms) {
                Ok(()) => {
                    log(
                        Level::Notice,
                        &format!("Successfully created the temporary AOF base file {tmp}"),
                    );
                    0
                }
                Err(_) => 1,
            }
        }))
        .unwrap_or(1);
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(code) }
    }
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        srv.aof.last_bgrewrite_ok = false;
        log(
            Level::Warning,
            &format!("Can't rewrite append only file in background: fork: {e}"),
        );
        return Err(Failed);
    }
    log(
        Level::Notice,
        &format!("Background append only file rewriting started by pid {pid}"),
    );
    srv.aof.rewrite_scheduled = false;
    srv.aof.rewrite_time_start_s = now_ms / 1000;
    let fork_us = before.elapsed().as_micros() as u64;
    crate::bgsave::child_started(srv, ChildKind::Aof, pid, now_ms, fork_us);
    Ok(())
}

/// The rewrite child ended (`status` from waitpid; None: it was reaped elsewhere).
pub fn rewrite_done(
    srv: &mut Server,
    child: crate::bgsave::Child,
    status: Option<i32>,
    now_ms: i64,
) {
    let tmp = format!("temp-rewriteaof-bg-{}.aof", child.pid);
    let ok = status.is_some_and(|s| libc::WIFEXITED(s) && libc::WEXITSTATUS(s) == 0);
    if ok {
        log(
            Level::Notice,
            "Background AOF rewrite terminated with success",
        );
        if finish_rewrite(srv, &tmp).is_ok() {
            srv.aof.last_bgrewrite_ok = true;
            srv.aof.consecutive_failures = 0;
            log(
                Level::Notice,
                "Background AOF rewrite finished successfully",
            );
            if srv.aof.status == Status::WaitRewrite {
                srv.aof.status = Status::On;
            }
        } else {
            srv.aof.last_bgrewrite_ok = false;
            srv.aof.consecutive_failures += 1;
        }
    } else if let Some(s) = status.filter(|&s| libc::WIFEXITED(s)) {
        let _ = s;
        srv.aof.last_bgrewrite_ok = false;
        srv.aof.consecutive_failures += 1;
        log(
            Level::Warning,
            "Background AOF rewrite terminated with error",
        );
    } else {
        let sig = status.map(|s| libc::WTERMSIG(s)).unwrap_or(0);
        if sig != libc::SIGUSR1 {
            srv.aof.last_bgrewrite_ok = false;
            srv.aof.consecutive_failures += 1;
        }
        log(
            Level::Warning,
            &format!("Background AOF rewrite terminated by signal {sig}"),
        );
    }
    cleanup_after_rewrite(srv, child.pid);
    srv.aof.rewrite_time_last_s = now_ms / 1000 - srv.aof.rewrite_time_start_s;
    srv.aof.rewrite_time_start_s = -1;
    // Still switching on: try again.
    if srv.aof.status == Status::WaitRewrite {
        srv.aof.rewrite_scheduled = true;
    }
}

fn finish_rewrite(srv: &mut Server, tmp: &str) -> Result<(), Failed> {
    let mut m = srv.aof.manifest.clone();
    let mut base_seq = srv.aof.base_seq;
    let mut incr_seq = srv.aof.incr_seq;
    let base_name = new_base_name(srv, &mut m, &mut base_seq);
    let base_path = in_dir(srv, &base_name);
    if let Err(e) = std::fs::rename(tmp, &base_path) {
        log(
            Level::Warning,
            &format!(
                "Error trying to rename the temporary AOF base file {tmp} into {}: {e}",
                base_path.display()
            ),
        );
        return Err(Failed);
    }
    log(
        Level::Notice,
        &format!("Successfully renamed the temporary AOF base file {tmp} into {base_name}"),
    );
    if srv.aof.status == Status::WaitRewrite {
        let temp_incr = temp_incr_name(srv);
        let new_incr = new_incr_name(srv, &mut m, &mut incr_seq);
        if let Err(e) = std::fs::rename(in_dir(srv, &temp_incr), in_dir(srv, &new_incr)) {
            log(
                Level::Warning,
                &format!(
                    "Error trying to rename the temporary AOF incr file {} into {}: {e}",
                    in_dir(srv, &temp_incr).display(),
                    in_dir(srv, &new_incr).display()
                ),
            );
            let _ = std::fs::remove_file(&base_path);
            return Err(Failed);
        }
        log(
            Level::Notice,
            &format!(
                "Successfully renamed the temporary AOF incr file {temp_incr} into {new_incr}"
            ),
        );
    }
    // The incr files are history now, but for the one being written (with the AOF
    // on), each put first in the history list from the newest (Redis's
    // markRewrittenIncrAofAsHistory).
    let keep = if srv.aof.file.is_some() {
        m.incr.pop()
    } else {
        None
    };
    while let Some(mut e) = m.incr.pop() {
        e.kind = FileType::History;
        m.history.insert(0, e);
    }
    m.incr.extend(keep);
    if persist_manifest(srv, &m).is_err() {
        let _ = std::fs::remove_file(&base_path);
        return Err(Failed);
    }
    srv.aof.manifest = m;
    srv.aof.base_seq = base_seq;
    srv.aof.incr_seq = incr_seq;
    if srv.aof.status != Status::Off {
        let base_size = std::fs::metadata(&base_path).map(|m| m.len()).unwrap_or(0);
        srv.aof.current_size = base_size + srv.aof.last_incr_size;
        srv.aof.rewrite_base_size = srv.aof.current_size;
    }
    delete_history(srv);
    Ok(())
}

fn cleanup_after_rewrite(srv: &mut Server, pid: libc::pid_t) {
    let _ = std::fs::remove_file(format!("temp-rewriteaof-bg-{pid}.aof"));
    let _ = std::fs::remove_file(format!("temp-rewriteaof-{pid}.aof"));
    if srv.aof.status == Status::WaitRewrite {
        // The switch-on failed: what was buffered and the temp incr file go.
        srv.aof.buf.clear();
        let name = temp_incr_name(srv);
        log(
            Level::Notice,
            &format!("Removing the temp incr aof file {name} in the background"),
        );
        let _ = std::fs::remove_file(in_dir(srv, &name));
    }
}

/// A rewrite child was killed (SHUTDOWN, CONFIG SET appendonly no).
pub fn rewrite_killed(srv: &mut Server, pid: libc::pid_t) {
    log(
        Level::Notice,
        &format!("Killing running AOF rewrite child: {pid}"),
    );
    cleanup_after_rewrite(srv, pid);
    if srv.aof.rewrite_time_start_s >= 0 {
        srv.aof.rewrite_time_last_s = now_s() - srv.aof.rewrite_time_start_s;
    }
    srv.aof.rewrite_time_start_s = -1;
}

/// BGREWRITEAOF's work; the reply text or error.
pub fn bgrewriteaof(
    srv: &mut Server,
    in_exec: bool,
    now_ms: i64,
) -> Result<&'static str, &'static str> {
    if srv.bgsave.child.map(|c| c.kind) == Some(ChildKind::Aof) {
        return Err("ERR Background append only file rewriting already in progress");
    }
    if crate::bgsave::has_active_child(srv) || in_exec {
        srv.aof.rewrite_scheduled = true;
        srv.aof.consecutive_failures = 0;
        return Ok("Background append only file rewriting scheduled");
    }
    match start_rewrite(srv, now_ms) {
        Ok(()) => Ok("Background append only file rewriting started"),
        Err(Failed) => Err("ERR Can't execute an AOF background rewriting. Please check the server logs for more information."),
    }
}

/// CONFIG SET appendonly yes at runtime (Redis's startAppendOnly).
pub fn start_append_only(srv: &mut Server, in_exec: bool, now_ms: i64) -> Result<(), Failed> {
    if srv.aof.status != Status::Off {
        return Ok(());
    }
    srv.aof.status = Status::WaitRewrite;
    crate::propagate::refresh_active(srv);
    let child = srv.bgsave.child.map(|c| c.kind);
    if child.is_some() && child != Some(ChildKind::Aof) {
        srv.aof.rewrite_scheduled = true;
        log(Level::Warning, "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
    } else if in_exec {
        srv.aof.rewrite_scheduled = true;
        log(Level::Warning, "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
    } else {
        if child == Some(ChildKind::Aof) {
            log(Level::Warning, "AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
            crate::bgsave::kill_child(srv);
        }
        if start_rewrite(srv, now_ms).is_err() {
            srv.aof.status = Status::Off;
            crate::propagate::refresh_active(srv);
            log(Level::Warning, "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
            return Err(Failed);
        }
    }
    srv.aof.last_fsync_s = now_s();
    if !srv.aof.last_write_ok {
        log(Level::Warning, "AOF reopen, just ignore the last error.");
        srv.aof.last_write_ok = true;
    }
    Ok(())
}

/// CONFIG SET appendonly no (Redis's stopAppendOnly).
pub fn stop_append_only(srv: &mut Server) {
    if srv.aof.status == Status::Off {
        return;
    }
    flush(srv, true);
    if let Some(f) = &srv.aof.file {
        if let Err(e) = f.sync_data() {
            log(Level::Warning, &format!("Fail to fsync the AOF file: {e}"));
        }
    }
    srv.aof.last_fsync_s = now_s();
    srv.aof.file = None;
    srv.aof.selected_db = None;
    srv.aof.status = Status::Off;
    srv.aof.rewrite_scheduled = false;
    srv.aof.last_incr_size = 0;
    srv.aof.last_incr_fsync_offset = 0;
    if srv.bgsave.child.map(|c| c.kind) == Some(ChildKind::Aof) {
        crate::bgsave::kill_child(srv);
    }
    srv.aof.buf = Vec::new();
    crate::propagate::refresh_active(srv);
}

/// At shutdown: the buffer is written and fsynced.
pub fn flush_for_shutdown(srv: &mut Server) {
    if srv.aof.status == Status::Off {
        return;
    }
    flush(srv, true);
    if let Some(f) = &srv.aof.file {
        let _ = f.sync_all();
    }
}

// ---------------------------------------------------------------------------
// Loading.

/// What loading one file did (Redis's AOF_* codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoadResult {
    Ok,
    NotExist,
    Empty,
    OpenErr,
    Failed,
    Truncated,
}

/// Redis's aofLoadManifestFromDisk: the manifest, if the directory holds one.
/// Err: a fatal error (logged).
fn load_manifest(srv: &mut Server) -> Result<(), Failed> {
    srv.aof.manifest = Manifest::default();
    if !dir(srv).is_dir() {
        return Ok(());
    }
    let path = in_dir(srv, &manifest_name(srv));
    if !path.exists() {
        return Ok(());
    }
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            log(
                Level::Warning,
                &format!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {e}",
                    path.display()
                ),
            );
            return Err(Failed);
        }
    };
    match redis_rdb::aof::parse_manifest(&text) {
        Ok(m) => {
            srv.aof.base_seq = m.base.as_ref().map(|b| b.seq).unwrap_or(0);
            srv.aof.incr_seq = m.incr.last().map(|i| i.seq).unwrap_or(0);
            srv.aof.manifest = m;
            Ok(())
        }
        Err(e) => {
            log(Level::Warning, "\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if let Some((n, line)) = &e.line {
                log(
                    Level::Warning,
                    &format!("Reading the manifest file, at line {n}\n"),
                );
                log(Level::Warning, &format!(">>> '{line}'\n"));
            }
            log(Level::Warning, &format!("{}\n", e.msg));
            Err(Failed)
        }
    }
}

/// Moves an old single-file AOF into the directory with a manifest naming it the base
/// (Redis's aofUpgradePrepare). Err: fatal.
fn upgrade(srv: &mut Server) -> Result<(), Failed> {
    if !create_dir(srv) {
        return Err(Failed);
    }
    let name = filename(srv);
    srv.aof.manifest.base = Some(ManifestEntry {
        name: name.clone(),
        seq: 1,
        kind: FileType::Base,
    });
    srv.aof.base_seq = 1;
    let m = srv.aof.manifest.clone();
    persist_manifest(srv, &m).map_err(|_| Failed)?;
    if let Err(e) = std::fs::rename(&name, in_dir(srv, &name)) {
        log(
            Level::Warning,
            &format!(
                "Error trying to move the old AOF file {name} into dir {}: {e}",
                String::from_utf8_lossy(&srv.config.appenddirname)
            ),
        );
        return Err(Failed);
    }
    log(
        Level::Notice,
        &format!(
            "Successfully migrated an old-style AOF file ({name}) into the AOF directory ({}).",
            String::from_utf8_lossy(&srv.config.appenddirname)
        ),
    );
    Ok(())
}

/// Start-up with `appendonly yes`: loads the files, opens the incr file to append to
/// (creating a base first for an empty directory) and removes history files, as
/// Redis's aofLoadManifestFromDisk, loadDataFromDisk, aofOpenIfNeededOnServerStart and
/// aofDelHistoryFiles. False on a fatal error (the server exits with 1).
pub fn load_at_startup(shared: &Shared, srv: &mut Server) -> bool {
    if load_manifest(srv).is_err() {
        return false;
    }
    let start = std::time::Instant::now();
    crate::keyspace::set_loading(true);
    let r = load_files(shared, srv);
    crate::keyspace::set_loading(false);
    match r {
        LoadResult::Failed | LoadResult::OpenErr => return false,
        LoadResult::NotExist => {}
        _ => log(
            Level::Notice,
            &format!(
                "DB loaded from append only file: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ),
        ),
    }
    srv.aof.status = Status::On;
    if !open_on_start(srv) {
        return false;
    }
    delete_history(srv);
    crate::propagate::refresh_active(srv);
    true
}

/// DEBUG LOADAOF: empties the dataset and loads the AOF files again (exits on a
/// load error, as Redis).
pub fn debug_loadaof(shared: &Shared, srv: &mut Server) {
    if srv.aof.status != Status::Off {
        flush(srv, true);
    }
    for db in srv.keyspace.dbs.iter_mut() {
        db.clear();
    }
    if load_manifest(srv).is_err() {
        std::process::exit(1);
    }
    delete_history(srv);
    let active = srv.prop.active;
    srv.prop.active = false;
    for db in srv.keyspace.dbs.iter_mut() {
        db.log_deletions = false;
    }
    crate::keyspace::set_loading(true);
    let r = load_files(shared, srv);
    crate::keyspace::set_loading(false);
    srv.prop.active = active;
    for db in srv.keyspace.dbs.iter_mut() {
        db.log_deletions = active;
    }
    if r != LoadResult::Ok && r != LoadResult::Empty {
        std::process::exit(1);
    }
    log(Level::Warning, "Append Only File loaded by DEBUG LOADAOF");
}

fn open_on_start(srv: &mut Server) -> bool {
    if !create_dir(srv) {
        return false;
    }
    let now = crate::state::now_ms();
    if srv.aof.manifest.base.is_none() && srv.aof.manifest.incr.is_empty() {
        let mut m = srv.aof.manifest.clone();
        let mut seq = srv.aof.base_seq;
        let name = new_base_name(srv, &mut m, &mut seq);
        if write_base(srv, &in_dir(srv, &name), now).is_err() {
            return false;
        }
        srv.aof.manifest = m;
        srv.aof.base_seq = seq;
        log(
            Level::Notice,
            &format!("Creating AOF base file {name} on server start"),
        );
    }
    let had_incr = !srv.aof.manifest.incr.is_empty();
    let name = if had_incr {
        srv.aof
            .manifest
            .incr
            .last()
            .expect("non-empty")
            .name
            .clone()
    } else {
        let mut m = srv.aof.manifest.clone();
        let mut seq = srv.aof.incr_seq;
        let n = new_incr_name(srv, &mut m, &mut seq);
        srv.aof.manifest = m;
        srv.aof.incr_seq = seq;
        n
    };
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(in_dir(srv, &name));
    match f {
        Ok(f) => srv.aof.file = Some(f),
        Err(e) => {
            log(
                Level::Warning,
                &format!("Can't open the append-only file {name}: {e}"),
            );
            return false;
        }
    }
    let m = srv.aof.manifest.clone();
    if persist_manifest(srv, &m).is_err() {
        return false;
    }
    let size = std::fs::metadata(in_dir(srv, &name))
        .map(|m| m.len())
        .unwrap_or(0);
    srv.aof.last_incr_size = size;
    srv.aof.last_incr_fsync_offset = size;
    if srv.aof.current_size == 0 {
        srv.aof.current_size = total_size(srv).unwrap_or(0);
        srv.aof.rewrite_base_size = srv
            .aof
            .manifest
            .base
            .as_ref()
            .and_then(|b| std::fs::metadata(in_dir(srv, &b.name)).ok())
            .map(|m| m.len())
            .unwrap_or(0);
    }
    let verb = if had_incr { "Opening" } else { "Creating" };
    log(
        Level::Notice,
        &format!("{verb} AOF incr file {name} on server start"),
    );
    true
}

fn total_size(srv: &Server) -> Result<u64, LoadResult> {
    let m = &srv.aof.manifest;
    let mut total = 0;
    for e in m.base.iter().chain(m.incr.iter()) {
        match std::fs::metadata(in_dir(srv, &e.name)) {
            Ok(md) => total += md.len(),
            Err(err) => {
                log(
                    Level::Warning,
                    &format!(
                        "Unable to obtain the AOF file {} length. stat: {err}",
                        e.name
                    ),
                );
                return Err(if err.kind() == std::io::ErrorKind::NotFound {
                    LoadResult::NotExist
                } else {
                    LoadResult::OpenErr
                });
            }
        }
    }
    Ok(total)
}

fn load_files(shared: &Shared, srv: &mut Server) -> LoadResult {
    let name = filename(srv);
    if Path::new(&name).is_file() {
        let m = &srv.aof.manifest;
        let upgrade_needed = !dir(srv).is_dir()
            || (m.base.is_none() && m.incr.is_empty())
            || (m.base.as_ref().is_some_and(|b| b.name == name)
                && m.incr.is_empty()
                && !in_dir(srv, &name).exists());
        if upgrade_needed && upgrade(srv).is_err() {
            return LoadResult::Failed;
        }
    }
    let m = srv.aof.manifest.clone();
    if m.base.is_none() && m.incr.is_empty() {
        return LoadResult::NotExist;
    }
    let total = match total_size(srv) {
        Ok(0) => return LoadResult::Empty,
        Ok(t) => t,
        Err(LoadResult::NotExist) => return LoadResult::Failed,
        Err(r) => return r,
    };
    let total_num = m.base.iter().count() + m.incr.len();
    let mut n = 0;
    let mut base_size = 0;
    let mut ret = LoadResult::Ok;
    for (e, is_base) in m
        .base
        .iter()
        .map(|b| (b, true))
        .chain(m.incr.iter().map(|i| (i, false)))
    {
        n += 1;
        let last = n == total_num;
        if is_base {
            base_size = std::fs::metadata(in_dir(srv, &e.name))
                .map(|m| m.len())
                .unwrap_or(0);
        }
        let start = std::time::Instant::now();
        ret = load_single(shared, srv, &e.name);
        if ret == LoadResult::Ok || (ret == LoadResult::Truncated && last) {
            log(
                Level::Notice,
                &format!(
                    "DB loaded from {} file {}: {:.3} seconds",
                    if is_base { "base" } else { "incr" },
                    e.name,
                    start.elapsed().as_secs_f64()
                ),
            );
        }
        if !is_base && ret == LoadResult::Empty {
            ret = LoadResult::Ok;
        }
        if ret == LoadResult::Truncated && !last {
            ret = LoadResult::Failed;
            log(
                Level::Warning,
                "Fatal error: the truncated file is not the last file",
            );
        }
        if ret == LoadResult::OpenErr || ret == LoadResult::Failed {
            return ret;
        }
    }
    srv.aof.current_size = total;
    srv.aof.rewrite_base_size = base_size;
    ret
}

/// Replays one file (Redis's loadSingleAppendOnlyFile).
fn load_single(shared: &Shared, srv: &mut Server, name: &str) -> LoadResult {
    let path = in_dir(srv, name);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            if e.kind() == std::io::ErrorKind::NotFound {
                log(
                    Level::Warning,
                    &format!("The append log file {name} doesn't exist: {e}"),
                );
                return LoadResult::NotExist;
            }
            log(
                Level::Warning,
                &format!("Fatal error: can't open the append log file {name} for reading: {e}"),
            );
            return LoadResult::OpenErr;
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return LoadResult::Empty;
    }
    let mut sig = [0u8; 5];
    let is_rdb = file.read_exact(&mut sig).is_ok() && &sig == b"REDIS";
    let _ = file.seek(SeekFrom::Start(0));
    let mut start = 0u64;
    if is_rdb {
        let old_style = name == filename(srv);
        log(
            Level::Notice,
            if old_style {
                "Reading RDB preamble from AOF file..."
            } else {
                "Reading RDB base file on AOF loading..."
            },
        );
        let loaded = redis_rdb::aof::rdb_preamble_len(BufReader::new(&file))
            .map_err(|e| e.to_string())
            .and_then(|len| {
                crate::rdb::load(srv, &path, false, crate::state::now_ms()).map(|_| len)
            });
        match loaded {
            Ok(len) => {
                start = len;
                if old_style {
                    log(Level::Notice, "Reading the remaining AOF tail...");
                }
            }
            Err(e) => {
                log(
                    Level::Warning,
                    &if old_style {
                        format!("Error reading the RDB preamble of the AOF file {name}, AOF loading aborted")
                    } else {
                        format!("Error reading the RDB base file {name}, AOF loading aborted")
                    },
                );
                log(
                    Level::Warning,
                    &format!("Unrecoverable error reading the append only file {name}: {e}"),
                );
                return LoadResult::Failed;
            }
        }
    }
    if file.seek(SeekFrom::Start(start)).is_err() {
        return LoadResult::Failed;
    }
    let mut reader =
        redis_rdb::aof::CommandReader::new(BufReader::with_capacity(1 << 16, file), start);
    let mut client = crate::client::Client::new(
        u64::MAX,
        crate::client::Peer::Unix {
            path: String::new(),
        },
        -1,
        crate::state::now_ms(),
        true,
    );
    client.must_obey = true;
    let mut out = redis_formats::ReplyBuf::new();
    let mut valid_up_to = start;
    let mut valid_before_multi = start;
    let table = redis_commands::table();
    loop {
        match reader.next_item() {
            Ok(None) => break,
            Ok(Some(redis_rdb::aof::Item::Command { args, .. })) => {
                let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
                let Some(spec) = table
                    .lookup(&argv)
                    .filter(|s| crate::cmd::handler(s).is_some())
                else {
                    log(
                        Level::Warning,
                        &format!(
                            "Unknown command '{}' reading the append only file {name}",
                            String::from_utf8_lossy(&args[0])
                        ),
                    );
                    return LoadResult::Failed;
                };
                if spec.name == "multi" {
                    valid_before_multi = valid_up_to;
                }
                if client.multi.is_some() && spec.name != "exec" && spec.name != "multi" {
                    if let Some(m) = client.multi.as_mut() {
                        m.queue.push(
                            args.iter()
                                .map(|a| bytes::Bytes::copy_from_slice(a))
                                .collect(),
                        );
                    }
                } else {
                    crate::dispatch::call_queued(shared, srv, &mut client, &argv, &mut out);
                }
                out.buf.clear();
                valid_up_to = reader.offset();
            }
            Ok(Some(_)) => {}
            Err(e) => {
                // Ran off the end: a truncated tail; else a format error.
                if reader.offset() >= size || e.offset >= size {
                    return uxeof(srv, name, &path, valid_up_to);
                }
                log(
                    Level::Warning,
                    &format!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"),
                );
                return LoadResult::Failed;
            }
        }
    }
    if client.multi.is_some() {
        log(
            Level::Warning,
            &format!("Revert incomplete MULTI/EXEC transaction in AOF file {name}"),
        );
        return uxeof(srv, name, &path, valid_before_multi);
    }
    LoadResult::Ok
}

/// An unexpected end of file: cut the tail with aof-load-truncated, else fail.
fn uxeof(srv: &mut Server, name: &str, path: &Path, valid_up_to: u64) -> LoadResult {
    if srv.config.aof_load_truncated {
        log(
            Level::Warning,
            &format!("!!! Warning: short read while loading the AOF file {name}!!!"),
        );
        log(
            Level::Warning,
            &format!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!"),
        );
        match OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(valid_up_to))
        {
            Ok(()) => {
                log(
                    Level::Warning,
                    &format!("AOF {name} loaded anyway because aof-load-truncated is enabled"),
                );
                return LoadResult::Truncated;
            }
            Err(e) => log(
                Level::Warning,
                &format!("Error truncating the AOF file {name}: {e}"),
            ),
        }
    }
    log(
        Level::Warning,
        &format!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."),
    );
    LoadResult::Failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_selects_the_database_once() {
        let mut srv = Server::new(redis_server_config::Config::default());
        srv.aof.status = Status::On;
        feed(&mut srv, 0, b"*1\r\n$4\r\nPING\r\n");
        feed(&mut srv, 0, b"*1\r\n$4\r\nPING\r\n");
        feed(&mut srv, 12, b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(
            srv.aof.buf,
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n*1\r\n$4\r\nPING\r\n"
        );
        // Nothing is kept while the AOF is off.
        srv.aof = AofState::default();
        feed(&mut srv, 0, b"*1\r\n$4\r\nPING\r\n");
        assert!(srv.aof.buf.is_empty());
    }

    #[test]
    fn pending_operations_are_wrapped_in_a_transaction() {
        let mut srv = Server::new(redis_server_config::Config::default());
        srv.aof.status = Status::On;
        crate::propagate::refresh_active(&mut srv);
        srv.prop.push(0, &[b"DEL", b"a"]);
        srv.prop.push(1, &[b"SET", b"b", b"c"]);
        crate::propagate::flush(&mut srv, true);
        let text = String::from_utf8(srv.aof.buf.clone()).unwrap();
        assert_eq!(
            text,
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\nc\r\n*1\r\n$4\r\nEXEC\r\n"
        );
        // One operation alone is not wrapped.
        srv.aof.buf.clear();
        srv.prop.push(1, &[b"DEL", b"x"]);
        crate::propagate::flush(&mut srv, true);
        assert_eq!(srv.aof.buf, b"*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n");
    }
}
