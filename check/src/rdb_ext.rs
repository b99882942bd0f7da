//! `redis-check-rdb` beyond Redis. Reachable only with more than one argument, where Redis
//! prints its usage, so the plain invocation is untouched:
//!
//! - `--json`: every key as a JSON line (`db`, `key`, `type`, `encoding`, `expire_at_ms`,
//!   `ttl` (milliseconds left when read, negative if already expired), `value`); bytes that
//!   are not UTF-8 become `{"hex": "..."}`.
//! - `--keys GLOB`, `--type TYPE`: filters for `--json` and `--stats`.
//! - `--stats` (tables; with `--json`, one JSON object): keys and bytes per db and type,
//!   encodings, the 20 biggest keys.
//! - `--salvage OUT.rdb`: (reads the file into memory) writes every readable key to a valid RDB 10 file, skipping
//!   damaged stretches; losses go to stderr; exit code 0 = nothing lost, 2 = something lost.
//! - `--convert-to N OUT.rdb`: rewrites any readable file (RDB 1..12, Valkey 80) as RDB
//!   version N (10 only); refuses, writing nothing, when a value has no RDB 10 form.
//!
//! Errors of the check itself go to stderr in Redis's error-block format; exit code 1.
//! When stderr is a terminal, `--json`, `--stats` and `--salvage` show a progress bar there.

use crate::rdb::{check_stream, State, Verdict};
use comfy_table::{presets::UTF8_FULL, Table};
use redis_rdb::value::{types, Value};
use redis_rdb::writer::{Options, Writer};
use redis_rdb::{KeyEntry, Reader, Record};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufReader, Write};

#[derive(Default)]
struct Opts {
    json: bool,
    stats: bool,
    keys: Option<Vec<u8>>,
    kind: Option<String>,
    salvage: Option<OsString>,
    convert: Option<(u32, OsString)>,
    file: Option<OsString>,
}

fn parse(args: &[OsString]) -> Option<Opts> {
    use std::os::unix::ffi::OsStrExt;
    let mut o = Opts::default();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_bytes();
        match a {
            b"--json" => o.json = true,
            b"--stats" => o.stats = true,
            b"--keys" => {
                i += 1;
                o.keys = Some(args.get(i)?.as_bytes().to_vec());
            }
            b"--type" => {
                i += 1;
                o.kind = Some(args.get(i)?.to_string_lossy().to_lowercase());
            }
            b"--salvage" => {
                i += 1;
                o.salvage = Some(args.get(i)?.clone());
            }
            b"--convert-to" => {
                let n: u32 = args.get(i + 1)?.to_str()?.parse().ok()?;
                o.convert = Some((n, args.get(i + 2)?.clone()));
                i += 2;
            }
            _ if a.starts_with(b"--") => return None,
            _ => {
                if o.file.is_some() {
                    return None;
                }
                o.file = Some(args[i].clone());
            }
        }
        i += 1;
    }
    o.file.as_ref()?;
    Some(o)
}

/// Runs an extended invocation; `None` when the arguments are not ours.
pub fn run(args: &[OsString]) -> Option<i32> {
    let o = parse(args)?;
    let file = o.file.clone()?;
    if let Some(out) = &o.salvage {
        return Some(salvage(&file, out));
    }
    if let Some((n, out)) = &o.convert {
        return Some(convert(&file, *n, out));
    }
    if !o.json && !o.stats {
        return None;
    }
    Some(inspect(&o, &file))
}

fn bytes_json(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => Json::String(s.to_string()),
        Err(_) => json!({ "hex": b.iter().map(|c| format!("{c:02x}")).collect::<String>() }),
    }
}

fn score_json(s: f64) -> Json {
    serde_json::Number::from_f64(s)
        .map(Json::Number)
        .unwrap_or_else(|| Json::String(redis_rdb::writer::format_score(s)))
}

/// Lower-case hex digits, for `\u00xx` escapes and `{"hex": ...}`.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string, escaped as serde_json escapes: `"` and `\` and the
/// control characters (short forms for \b \f \n \r \t, else `\u00xx`); nothing else.
fn push_str(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    buf.reserve(b.len() + 2);
    buf.push(b'"');
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x20 && c != b'"' && c != b'\\' {
            continue;
        }
        buf.extend_from_slice(&b[start..i]);
        start = i + 1;
        match c {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x08 => buf.extend_from_slice(b"\\b"),
            0x0c => buf.extend_from_slice(b"\\f"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            _ => buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]),
        }
    }
    buf.extend_from_slice(&b[start..]);
    buf.push(b'"');
}

/// Appends bytes as `bytes_json` would print them.
fn push_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => push_str(buf, s),
        Err(_) => {
            buf.reserve(2 * b.len() + 10);
            buf.extend_from_slice(b"{\"hex\":\"");
            for c in b {
                buf.push(HEX[(c >> 4) as usize]);
                buf.push(HEX[(c & 15) as usize]);
            }
            buf.extend_from_slice(b"\"}");
        }
    }
}

/// Appends a value as `value_json` would print it, without building the JSON tree for the
/// common types (the `--json` hot path).
fn push_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::String(s) => push_bytes(buf, s),
        Value::List(l) | Value::Set(l) => {
            buf.push(b'[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                push_bytes(buf, e);
            }
            buf.push(b']');
        }
        Value::ZSet(z) => {
            buf.push(b'[');
            for (i, (m, sc)) in z.iter().enumerate() {
                buf.extend_from_slice(if i > 0 { b",[" } else { b"[" });
                push_bytes(buf, m);
                buf.push(b',');
                if sc.is_finite() {
                    let _ = serde_json::to_writer(&mut *buf, sc);
                } else {
                    push_str(buf, &redis_rdb::writer::format_score(*sc));
                }
                buf.push(b']');
            }
            buf.push(b']');
        }
        Value::Hash(h)
            if h.iter()
                .all(|f| f.expire_ms.is_none() && std::str::from_utf8(&f.field).is_ok()) =>
        {
            // An object: fields in byte order, the last of equal fields winning (a map's).
            let mut fs: Vec<_> = h.iter().collect();
            fs.sort_by(|a, b| a.field.cmp(&b.field));
            buf.push(b'{');
            let mut first = true;
            for (i, f) in fs.iter().enumerate() {
                if fs.get(i + 1).is_some_and(|n| n.field == f.field) {
                    continue;
                }
                if !first {
                    buf.push(b',');
                }
                first = false;
                push_bytes(buf, &f.field);
                buf.push(b':');
                push_bytes(buf, &f.value);
            }
            buf.push(b'}');
        }
        _ => {
            let _ = serde_json::to_writer(&mut *buf, &value_json(v));
        }
    }
}

/// Appends an integer or `null`.
fn push_opt_int(buf: &mut Vec<u8>, n: Option<i64>) {
    match n {
        Some(n) => {
            let _ = serde_json::to_writer(&mut *buf, &n);
        }
        None => buf.extend_from_slice(b"null"),
    }
}

/// Appends one `--json` line: the keys in the order a JSON map prints them.
fn push_key_line(buf: &mut Vec<u8>, k: &KeyEntry, now: i64) {
    buf.extend_from_slice(b"{\"db\":");
    let _ = serde_json::to_writer(&mut *buf, &k.db);
    buf.extend_from_slice(b",\"encoding\":\"");
    buf.extend_from_slice(types::encoding_name(k.rdb_type).as_bytes());
    buf.extend_from_slice(b"\",\"expire_at_ms\":");
    push_opt_int(buf, k.expire_ms);
    buf.extend_from_slice(b",\"key\":");
    push_bytes(buf, &k.key);
    buf.extend_from_slice(b",\"ttl\":");
    push_opt_int(buf, k.expire_ms.map(|e| e - now));
    buf.extend_from_slice(b",\"type\":\"");
    buf.extend_from_slice(k.value.kind().as_bytes());
    buf.extend_from_slice(b"\",\"value\":");
    push_value(buf, &k.value);
    buf.extend_from_slice(b"}\n");
}

/// A value as JSON.
pub fn value_json(v: &Value) -> Json {
    match v {
        Value::String(s) => bytes_json(s),
        Value::List(l) | Value::Set(l) => Json::Array(l.iter().map(|e| bytes_json(e)).collect()),
        Value::ZSet(z) => Json::Array(
            z.iter()
                .map(|(m, s)| json!([bytes_json(m), score_json(*s)]))
                .collect(),
        ),
        Value::Hash(h) => {
            let all_text = h.iter().all(|f| std::str::from_utf8(&f.field).is_ok());
            let has_ttl = h.iter().any(|f| f.expire_ms.is_some());
            if all_text && !has_ttl {
                let mut m = Map::new();
                for f in h {
                    m.insert(
                        String::from_utf8_lossy(&f.field).into_owned(),
                        bytes_json(&f.value),
                    );
                }
                Json::Object(m)
            } else {
                Json::Array(
                    h.iter()
                        .map(|f| {
                            json!({"field": bytes_json(&f.field), "value": bytes_json(&f.value),
                                   "expire_at_ms": f.expire_ms})
                        })
                        .collect(),
                )
            }
        }
        Value::Stream(s) => json!({
            "length": s.length,
            "last_id": s.last_id.to_string(),
            "entries": s.entries().iter().map(|e| json!({
                "id": e.id.to_string(),
                "fields": e.fields.iter().map(|(f, v)| json!([bytes_json(f), bytes_json(v)])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "groups": s.groups.iter().map(|g| json!({
                "name": bytes_json(&g.name),
                "last_delivered_id": g.last_id.to_string(),
                "pending": g.pending.len(),
                "consumers": g.consumers.iter().map(|c| json!({
                    "name": bytes_json(&c.name),
                    "pending": c.pending.len(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        Value::Module { id, name } => json!({ "module": name, "id": id }),
    }
}

fn wanted(o: &Opts, k: &KeyEntry) -> bool {
    if let Some(p) = &o.keys {
        if !redis_formats::glob::glob_match(p, &k.key, false) {
            return false;
        }
    }
    if let Some(t) = &o.kind {
        if k.value.kind() != t {
            return false;
        }
    }
    true
}

/// One of the biggest keys: bytes, db, key, type, encoding, elements.
type BigKey = (u64, u64, Vec<u8>, &'static str, &'static str, usize);

#[derive(Default)]
struct Stats {
    per: BTreeMap<(u64, &'static str), (u64, u64)>,
    /// Keys per (type, encoding); printed as "type encoding".
    encodings: BTreeMap<(&'static str, &'static str), u64>,
    biggest: Vec<BigKey>,
    /// Whether `biggest` starts with the sorted best `BIGGEST` keys seen so far.
    trimmed: bool,
}

/// How many of the biggest keys are kept.
const BIGGEST: usize = 20;

impl Stats {
    fn add(&mut self, k: &KeyEntry, size: u64) {
        let e = self.per.entry((k.db, k.value.kind())).or_default();
        e.0 += 1;
        e.1 += size;
        *self
            .encodings
            .entry((k.value.kind(), types::encoding_name(k.rdb_type)))
            .or_default() += 1;
        // After a trim, a key that would sort after the last of the kept ones cannot enter.
        if self.trimmed {
            let last = &self.biggest[BIGGEST - 1];
            if size < last.0 || (size == last.0 && k.key >= last.2) {
                return;
            }
        }
        self.biggest.push((
            size,
            k.db,
            k.key.clone(),
            k.value.kind(),
            types::encoding_name(k.rdb_type),
            k.value.len(),
        ));
        if self.biggest.len() > 10 * BIGGEST {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.biggest
            .sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
        self.biggest.truncate(BIGGEST);
        self.trimmed = self.biggest.len() == BIGGEST;
    }
}

fn inspect(o: &Opts, file: &OsString) -> i32 {
    let f = match std::fs::File::open(file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("Cannot open {}: {}", file.to_string_lossy(), e);
            return 1;
        }
    };
    let pb = progress(f.metadata().map(|m| m.len()).unwrap_or(0));
    // A hidden bar still reads the clock on every update.
    let hidden = pb.is_hidden();
    let f = BufReader::with_capacity(1 << 16, f);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut stats = Stats::default();
    let now = crate::util::now_ms();
    let mut st = State::default();
    st.accept_newer = true;
    let mut progress = Vec::new();
    let mut line = Vec::new();
    let (v, _) = check_stream(f, &mut progress, &mut st, |k, size| {
        if !hidden {
            pb.set_position(k.start_offset + size);
        }
        if !wanted(o, k) {
            return;
        }
        if o.stats {
            stats.add(k, size);
        } else {
            line.clear();
            push_key_line(&mut line, k, now);
            let _ = out.write_all(&line);
        }
    });
    pb.finish_and_clear();
    if o.stats {
        stats.trim();
        print_stats(&mut out, &stats, o.json);
    }
    let _ = out.flush();
    if v != Verdict::Ok {
        // The check's own lines, error block included, go to stderr.
        let _ = std::io::stderr().write_all(&progress);
        return 1;
    }
    0
}

/// A byte progress bar on stderr, shown only when stderr is a terminal.
fn progress(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        pb.set_style(style);
    }
    pb
}

fn print_stats(out: &mut impl Write, s: &Stats, as_json: bool) {
    if as_json {
        let per: Vec<Json> = s
            .per
            .iter()
            .map(|((db, t), (n, b))| json!({"db": db, "type": t, "keys": n, "bytes": b}))
            .collect();
        let encodings: Map<String, Json> = s
            .encodings
            .iter()
            .map(|((t, e), n)| (format!("{t} {e}"), json!(n)))
            .collect();
        let biggest: Vec<Json> = s
            .biggest
            .iter()
            .map(|(b, db, k, t, e, n)| {
                json!({"db": db, "key": bytes_json(k), "type": t, "encoding": e, "bytes": b, "elements": n})
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            json!({"per_db_and_type": per, "encodings": encodings, "biggest": biggest})
        );
        return;
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL)
        .set_header(vec!["db", "type", "keys", "bytes"]);
    for ((db, ty), (n, b)) in &s.per {
        t.add_row(vec![
            db.to_string(),
            ty.to_string(),
            n.to_string(),
            b.to_string(),
        ]);
    }
    let _ = writeln!(out, "{t}");
    let mut t = Table::new();
    t.load_preset(UTF8_FULL)
        .set_header(vec!["type and encoding", "keys"]);
    for ((ty, e), n) in &s.encodings {
        t.add_row(vec![format!("{ty} {e}"), n.to_string()]);
    }
    let _ = writeln!(out, "{t}");
    let mut t = Table::new();
    t.load_preset(UTF8_FULL)
        .set_header(vec!["bytes", "db", "key", "type", "encoding", "elements"]);
    for (b, db, k, ty, e, n) in &s.biggest {
        t.add_row(vec![
            b.to_string(),
            db.to_string(),
            String::from_utf8_lossy(k).into_owned(),
            ty.to_string(),
            e.to_string(),
            n.to_string(),
        ]);
    }
    let _ = writeln!(out, "{t}");
}

/// Reads one record at `pos` of `data` (version `ver`); returns it and the bytes it used.
fn record_at(data: &[u8], pos: usize, ver: u32, db: u64) -> Option<(Record, usize)> {
    let mut r = Reader::new(&data[pos..]);
    r.set_version(ver);
    r.set_db(db);
    let rec = r.next_record().ok()?;
    Some((rec, r.offset() as usize))
}

/// Whether records parse from `p` on: the first a key with a non-empty name or a SELECTDB,
/// then more until the end marker or 4 in a row.
fn chain_ok(data: &[u8], p: usize, ver: u32, db: u64) -> bool {
    let Some((first, used)) = record_at(data, p, ver, db) else {
        return false;
    };
    match &first {
        Record::Key(k) if !k.key.is_empty() => {}
        Record::SelectDb(n) if *n < 1 << 16 => {}
        _ => return false,
    }
    let mut q = p + used;
    for _ in 0..3 {
        if q >= data.len() || (data[q] == 0xff && data.len() - q <= 9) {
            return true;
        }
        match record_at(data, q, ver, db) {
            // An end marker with more than its checksum after it is a 0xff byte of data
            // (a chain through it once made the salvage stop early, losing every later key).
            Some((Record::Eof { .. }, _)) => return false,
            // Runs of zero bytes read as keys with empty names and values.
            Some((Record::Key(k), _)) if k.key.is_empty() => return false,
            Some((_, used)) => q += used,
            None => return false,
        }
    }
    true
}

fn salvage(file: &OsString, out_path: &OsString) -> i32 {
    let data = match std::fs::read(file) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Cannot read {}: {}", file.to_string_lossy(), e);
            return 1;
        }
    };
    let mut r = Reader::new(&data[..]);
    let ver = match r.read_header() {
        Ok(h) => h.version,
        Err(_) => {
            eprintln!("[salvage] no valid RDB header; assuming version 10");
            10
        }
    };
    let out = match std::fs::File::create(out_path) {
        Ok(f) => std::io::BufWriter::new(f),
        Err(e) => {
            eprintln!("Cannot create {}: {}", out_path.to_string_lossy(), e);
            return 1;
        }
    };
    let mut w = match Writer::new(out, Options::default()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("Cannot write: {e}");
            return 1;
        }
    };
    let pb = progress(data.len() as u64);
    let mut pos = 9usize.min(data.len());
    let mut db = 0u64;
    let mut written_db: Option<u64> = None;
    let mut saved = 0u64;
    let mut lost_ranges = 0u64;
    let mut skipped = 0u64;
    let mut clean_end = false;
    let mut crc_bad = false;
    let mut last_key: Vec<u8> = Vec::new();
    while pos < data.len() {
        pb.set_position(pos as u64);
        match record_at(&data, pos, ver, db) {
            Some((rec, used)) => {
                match rec {
                    Record::SelectDb(n) => db = n,
                    Record::Key(k) => {
                        if written_db != Some(k.db) {
                            let _ = w.select_db(k.db);
                            written_db = Some(k.db);
                        }
                        match w.key(&k.key, &k.value, k.expire_ms) {
                            Ok(Ok(())) => saved += 1,
                            Ok(Err(e)) => {
                                eprintln!(
                                    "[salvage] key '{}' skipped: {e}",
                                    String::from_utf8_lossy(&k.key)
                                );
                                skipped += 1;
                            }
                            Err(e) => {
                                eprintln!("Cannot write: {e}");
                                return 1;
                            }
                        }
                        last_key = k.key;
                    }
                    Record::Function(f) => {
                        let _ = w.function(&f);
                    }
                    Record::Aux { key, value } => {
                        let _ = w.aux(&key, &value);
                    }
                    Record::Eof { stored, .. } => {
                        let computed = redis_rdb::crc64::crc64(0, &data[..pos + 1]);
                        if matches!(stored, Some(s) if s != 0 && s != computed) {
                            eprintln!(
                                "[salvage] the file's checksum does not match: some values read may be damaged"
                            );
                            crc_bad = true;
                        }
                        clean_end = true;
                        break;
                    }
                    _ => {}
                }
                pos += used;
            }
            None => {
                // Resynchronise: the next offset where a key (or SELECTDB) record starts
                // a chain of records that parse up to the end marker or for 4 records.
                let start = pos;
                let next = (pos + 1..data.len()).find(|&p| chain_ok(&data, p, ver, db));
                lost_ranges += 1;
                let end = next.unwrap_or(data.len());
                eprintln!(
                    "[salvage] lost bytes {start}..{end} ({} bytes) after key '{}'",
                    end - start,
                    String::from_utf8_lossy(&last_key)
                );
                pos = end;
            }
        }
    }
    pb.finish_and_clear();
    if !clean_end && lost_ranges == 0 {
        eprintln!("[salvage] the file ends before its end marker");
        lost_ranges += 1;
    }
    if let Err(e) = w.finish() {
        eprintln!("Cannot write: {e}");
        return 1;
    }
    eprintln!(
        "[salvage] {saved} keys written to {}; {lost_ranges} damaged stretches skipped; {skipped} keys not expressible",
        out_path.to_string_lossy()
    );
    if lost_ranges > 0 || skipped > 0 || crc_bad {
        2
    } else {
        0
    }
}

fn convert(file: &OsString, to: u32, out_path: &OsString) -> i32 {
    if to != 10 {
        eprintln!("Cannot convert to RDB version {to}: only version 10 (Redis 7.0) can be written");
        return 1;
    }
    let f = match std::fs::File::open(file) {
        Ok(f) => BufReader::new(f),
        Err(e) => {
            eprintln!("Cannot open {}: {}", file.to_string_lossy(), e);
            return 1;
        }
    };
    let mut r = Reader::new(f);
    if let Err(e) = r.read_header() {
        eprintln!("{e}");
        return 1;
    }
    let mut buf = Vec::new();
    let mut w = match Writer::new(&mut buf, Options::default()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("Cannot write: {e}");
            return 1;
        }
    };
    let mut written_db = None;
    loop {
        let rec = match r.next_record() {
            Ok(rec) => rec,
            Err(e) => {
                eprintln!("Cannot convert: {e}");
                return 1;
            }
        };
        let res = match rec {
            Record::Aux { key, value } => w.aux(&key, &value).map(Ok),
            Record::Function(p) => w.function(&p).map(Ok),
            Record::Key(k) => {
                if written_db != Some(k.db) {
                    let _ = w.select_db(k.db);
                    written_db = Some(k.db);
                }
                if let Value::Stream(s) = &k.value {
                    if s.groups
                        .iter()
                        .any(|g| g.consumers.iter().any(|c| c.active_time != -1))
                    {
                        eprintln!(
                            "note: stream '{}': consumers' active-time (RDB 11+) has no RDB 10 field and is dropped",
                            String::from_utf8_lossy(&k.key)
                        );
                    }
                }
                w.key(&k.key, &k.value, k.expire_ms).map(|r| {
                    r.map_err(|e| format!("key '{}': {e}", String::from_utf8_lossy(&k.key)))
                })
            }
            Record::ModuleAux { name, .. } => Ok(Err(format!(
                "module auxiliary data of '{name}' cannot be carried over"
            ))),
            Record::Eof { stored, computed } => {
                if matches!(stored, Some(s) if s != 0 && s != computed) {
                    eprintln!("Cannot convert: RDB CRC error");
                    return 1;
                }
                break;
            }
            _ => Ok(Ok(())),
        };
        match res {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => {
                eprintln!("Cannot convert to RDB version 10: {msg}");
                return 1;
            }
            Err(e) => {
                eprintln!("Cannot write: {e}");
                return 1;
            }
        }
    }
    if let Err(e) = w.finish() {
        eprintln!("Cannot write: {e}");
        return 1;
    }
    if let Err(e) = std::fs::write(out_path, &buf) {
        eprintln!("Cannot write {}: {}", out_path.to_string_lossy(), e);
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_rdb::value::HashField;

    fn field(f: &[u8], v: &[u8], ttl: Option<i64>) -> HashField {
        HashField {
            field: f.to_vec(),
            value: v.to_vec(),
            expire_ms: ttl,
        }
    }

    /// The streaming writer prints what serializing `value_json`'s tree prints.
    #[test]
    fn push_value_matches_the_json_tree() {
        let values = vec![
            Value::String(b"plain \"quoted\" \\ \n\0 \xc3\xa9".to_vec()),
            Value::String((0u8..0x80).collect()),
            Value::String(b"\xff\x00not utf-8".to_vec()),
            Value::String(Vec::new()),
            Value::List(vec![b"a".to_vec(), b"\xfe".to_vec(), Vec::new()]),
            Value::List(Vec::new()),
            Value::Set(vec![b"1".to_vec(), b"x\ty".to_vec()]),
            Value::ZSet(vec![
                (b"a".to_vec(), 1.0),
                (b"b".to_vec(), -2.5),
                (b"\x80".to_vec(), 1e300),
                (b"c".to_vec(), f64::INFINITY),
                (b"d".to_vec(), f64::NEG_INFINITY),
                (b"e".to_vec(), 0.1),
            ]),
            Value::Hash(vec![
                field(b"z", b"1", None),
                field(b"a", b"\xff", None),
                field(b"m", b"first", None),
                field(b"m", b"second", None),
                field("é".as_bytes(), b"", None),
            ]),
            Value::Hash(vec![field(b"\xff", b"v", None), field(b"a", b"b", None)]),
            Value::Hash(vec![field(b"f", b"v", Some(1_700_000_000_000))]),
            Value::Hash(Vec::new()),
            Value::Module {
                id: 42,
                name: "mymodule1".into(),
            },
        ];
        for v in &values {
            let mut ours = Vec::new();
            push_value(&mut ours, v);
            let tree = value_json(v).to_string();
            assert_eq!(String::from_utf8(ours).unwrap(), tree, "{v:?}");
        }
    }

    /// A `--json` line is what the `json!` object of its fields prints.
    #[test]
    fn key_line_matches_the_json_object() {
        for (key, expire_ms, rdb_type) in [
            (b"k".to_vec(), None, 0u8),
            (b"\xffbin".to_vec(), Some(1_700_000_000_000i64), 17u8),
        ] {
            let k = KeyEntry {
                db: 3,
                key,
                expire_ms,
                idle: None,
                freq: None,
                rdb_type,
                value: Value::List(vec![b"x".to_vec()]),
                start_offset: 0,
            };
            let now = 1_600_000_000_000i64;
            let mut ours = Vec::new();
            push_key_line(&mut ours, &k, now);
            let tree = json!({
                "db": k.db,
                "key": bytes_json(&k.key),
                "type": k.value.kind(),
                "encoding": types::encoding_name(k.rdb_type),
                "expire_at_ms": k.expire_ms,
                "ttl": k.expire_ms.map(|e| e - now),
                "value": value_json(&k.value),
            });
            assert_eq!(String::from_utf8(ours).unwrap(), format!("{tree}\n"));
        }
    }

    /// A resynchronisation point must not be accepted through a 0xff byte in the middle
    /// of the file that reads as the end marker, nor through keys with empty names.
    #[test]
    fn chain_stops_at_an_end_marker_before_the_end() {
        let rec = |k: &[u8], v: &[u8]| {
            let mut r = vec![0u8, k.len() as u8];
            r.extend_from_slice(k);
            r.push(v.len() as u8);
            r.extend_from_slice(v);
            r
        };
        let mut data = b"REDIS0010".to_vec();
        let first = data.len();
        data.extend(rec(b"k", b"v"));
        // The bytes an end marker reads as its checksum, then records.
        data.push(0xff);
        data.extend_from_slice(&[0x11; 8]);
        for i in 0..8u8 {
            data.extend(rec(&[b'a' + i], b"1"));
        }
        data.push(0xff);
        data.extend_from_slice(&[0; 8]);
        assert!(!chain_ok(&data, first, 10, 0));
        // From the real records on, the chain holds.
        let real = first + rec(b"k", b"v").len() + 9;
        assert!(chain_ok(&data, real, 10, 0));
        // Nor through zero bytes, which read as keys with empty names.
        let mut data = b"REDIS0010".to_vec();
        data.extend(rec(b"k", b"v"));
        data.extend_from_slice(&[0; 12]);
        data.extend(rec(b"a", b"1"));
        data.push(0xff);
        data.extend_from_slice(&[0; 8]);
        assert!(!chain_ok(&data, first, 10, 0));
    }
}
