//! The AOF side: RESP command streams (with `#TS:` annotations and an optional RDB
//! preamble), and Redis 7's multi-part layout (an `appenddirname` directory with a
//! manifest of `file NAME seq N type b|h|i` lines).
//!
//! [`Scanner`] reads a command stream the way `redis-check-aof` does and reports the last
//! offset where a whole command (or MULTI/EXEC block) ended, the line count, and Redis's
//! error texts, without holding more than one argument's first bytes in memory.

use std::io::{self, BufRead, Read};

/// A manifest entry kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// `type b`: the base (RDB or RESP).
    Base,
    /// `type h`: history, not loaded.
    History,
    /// `type i`: an increment.
    Incr,
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// File name (no path).
    pub name: String,
    /// Sequence number.
    pub seq: i64,
    /// Kind.
    pub kind: FileType,
}

/// A parsed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file.
    pub base: Option<ManifestEntry>,
    /// Increments, in order.
    pub incr: Vec<ManifestEntry>,
    /// History files.
    pub history: Vec<ManifestEntry>,
}

/// A manifest error as Redis words it, with the offending line when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// 1-based line number and trimmed text of the offending line.
    pub line: Option<(usize, String)>,
    /// Redis's message.
    pub msg: &'static str,
}

/// Splits like Redis's `sdssplitargs` (quotes and escapes); `None` on unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let b = line.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\'
                    && i + 3 < b.len()
                    && b[i + 1] == b'x'
                    && b[i + 2].is_ascii_hexdigit()
                    && b[i + 3].is_ascii_hexdigit()
                {
                    let h = u8::from_str_radix(&line[i + 2..i + 4], 16).unwrap_or(0);
                    cur.push(h);
                    i += 3;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    cur.push(match b[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if b[i] == b'"' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else if insq {
                if i >= b.len() {
                    return None;
                }
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if b[i] == b'\'' {
                    if i + 1 < b.len() && !b[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(b[i]);
                }
            } else {
                if i >= b.len() || b[i].is_ascii_whitespace() {
                    break;
                }
                match b[i] {
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
}

/// Parses manifest text with Redis's rules (`aofLoadManifestFromFile`).
pub fn parse_manifest(text: &[u8]) -> Result<Manifest, ManifestError> {
    let mut m = Manifest::default();
    let mut maxseq = 0i64;
    let mut linenum = 0usize;
    let mut rest = text;
    if text.is_empty() {
        return Err(ManifestError {
            line: None,
            msg: "Found an empty AOF manifest",
        });
    }
    while !rest.is_empty() {
        // fgets with a 1025-byte buffer.
        let cut = rest
            .iter()
            .take(1024)
            .position(|&c| c == b'\n')
            .map(|p| p + 1)
            .unwrap_or(rest.len().min(1024));
        let raw = &rest[..cut];
        rest = &rest[cut..];
        linenum += 1;
        if raw.first() == Some(&b'#') {
            continue;
        }
        if !raw.contains(&b'\n') {
            return Err(ManifestError {
                line: None,
                msg: "The AOF manifest file contains too long line",
            });
        }
        let s = String::from_utf8_lossy(raw);
        let line = s.trim_matches([' ', '\t', '\r', '\n']).to_string();
        let bad = |line: &str, msg| ManifestError {
            line: Some((linenum, line.to_string())),
            msg,
        };
        if line.is_empty() {
            return Err(bad(&line, "Invalid AOF manifest file format"));
        }
        let argv = match split_args(&line) {
            Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
            _ => return Err(bad(&line, "Invalid AOF manifest file format")),
        };
        let mut name = None;
        let mut seq = 0i64;
        let mut kind = None;
        for kv in argv.chunks(2) {
            if kv[0].eq_ignore_ascii_case("file") {
                if kv[1].contains('/') {
                    return Err(bad(&line, "File can't be a path, just a filename"));
                }
                name = Some(kv[1].clone());
            } else if kv[0].eq_ignore_ascii_case("seq") {
                seq = atoll(&kv[1]);
            } else if kv[0].eq_ignore_ascii_case("type") {
                kind = kv[1].bytes().next();
            }
        }
        let (Some(name), Some(kind)) = (name, kind) else {
            return Err(bad(&line, "Invalid AOF manifest file format"));
        };
        if seq == 0 || kind == 0 {
            return Err(bad(&line, "Invalid AOF manifest file format"));
        }
        match kind {
            b'b' => {
                if m.base.is_some() {
                    return Err(bad(&line, "Found duplicate base file information"));
                }
                m.base = Some(ManifestEntry {
                    name,
                    seq,
                    kind: FileType::Base,
                });
            }
            b'h' => m.history.push(ManifestEntry {
                name,
                seq,
                kind: FileType::History,
            }),
            b'i' => {
                if seq <= maxseq {
                    return Err(bad(&line, "Found a non-monotonic sequence number"));
                }
                maxseq = seq;
                m.incr.push(ManifestEntry {
                    name,
                    seq,
                    kind: FileType::Incr,
                });
            }
            _ => return Err(bad(&line, "Unknown AOF file type")),
        }
    }
    Ok(m)
}

/// Writes a manifest the way Redis does.
pub fn format_manifest(m: &Manifest) -> String {
    let mut s = String::new();
    let mut line = |e: &ManifestEntry| {
        let t = match e.kind {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        };
        s.push_str(&format!(
            "file {} seq {} type {}\n",
            name_repr(&e.name),
            e.seq,
            t
        ));
    };
    if let Some(b) = &m.base {
        line(b);
    }
    for h in &m.history {
        line(h);
    }
    for i in &m.incr {
        line(i);
    }
    s
}

fn atoll(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in d.bytes() {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    if neg {
        -v
    } else {
        v
    }
}

/// A file name as Redis writes it in a manifest: as is, or quoted with C escapes when
/// it holds spaces, quotes, backslashes or unprintable bytes (`sdsneedsrepr` /
/// `sdscatrepr`).
fn name_repr(name: &str) -> String {
    let needs = name
        .bytes()
        .any(|c| c == b'\\' || c == b'"' || !(0x21..0x7f).contains(&c));
    if !needs {
        return name.to_string();
    }
    let mut s = String::from("\"");
    for c in name.bytes() {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// Whether a manifest-looking file (`fileIsManifest`): some non-comment line starts with `file`.
pub fn looks_like_manifest(text: &[u8]) -> bool {
    looks_like_manifest_in(text).unwrap_or(false)
}

/// [`looks_like_manifest`] over a reader, one line (at most 1024 bytes, like `fgets`) at a
/// time, so a big AOF is not read into memory.
pub fn looks_like_manifest_in<R: BufRead>(mut r: R) -> io::Result<bool> {
    let mut found = false;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let n = (&mut r).take(1024).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(found);
        }
        if line[0] != b'#' && line.starts_with(b"file") {
            found = true;
        }
    }
}

/// Whether a file starts with an RDB header (`fileIsRDB`: at least 8 bytes, `REDIS` magic).
pub fn starts_with_rdb(head: &[u8], size: u64) -> bool {
    size >= 8 && head.starts_with(b"REDIS")
}

/// Reads the RDB preamble of an AOF base file (which must start at the beginning of `r`)
/// to its checksum and returns its length: where the RESP tail starts.
pub fn rdb_preamble_len<R: Read>(r: R) -> crate::Result<u64> {
    let mut rd = crate::Reader::new(r);
    rd.read_header()?;
    loop {
        if let crate::Record::Eof { .. } = rd.next_record()? {
            return Ok(rd.offset());
        }
    }
}

/// How a scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// End of input.
    Eof,
    /// A malformed command: Redis's error text (already formatted with the offset; raw
    /// bytes, as it may quote a byte of the file).
    Error(Vec<u8>),
    /// A byte that starts neither a command nor an annotation.
    FormatError,
    /// `#TS:` annotation later than the limit at this offset (truncate-to-timestamp).
    Timestamp {
        /// Offset of the annotation line.
        offset: u64,
    },
    /// A `#TS:` annotation that does not parse.
    BadTimestamp,
}

/// The outcome of scanning a command stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Offset after the last complete command outside MULTI (Redis's `ok_up_to`).
    pub ok_up_to: u64,
    /// Why the scan stopped.
    pub stop: Stop,
    /// Whether end of input was hit by some read.
    pub hit_eof: bool,
    /// Open MULTI depth at the end.
    pub multi: i64,
    /// Commands read completely.
    pub commands: u64,
    /// Offsets where each complete top-level command or transaction started and ended.
    pub command_spans: Vec<(u64, u64)>,
}

/// A RESP command-stream scanner with `redis-check-aof`'s rules.
pub struct Scanner<R> {
    r: R,
    pos: u64,
    /// Redis's global line counter (starts at 1, +1 per `\r\n` consumed in commands; it is
    /// not reset between the files of a manifest).
    pub line: i64,
    /// Offset of the last read that failed or was attempted (Redis's `epos`).
    pub epos: u64,
    hit_eof: bool,
    /// Keep the spans of complete commands (costs memory per command).
    pub record_spans: bool,
}

impl<R: BufRead> Scanner<R> {
    /// A scanner over `r`, whose first byte is at file offset `start`.
    pub fn new(r: R, start: u64, line: i64) -> Scanner<R> {
        Scanner {
            r,
            pos: start,
            line,
            epos: 0,
            hit_eof: false,
            record_spans: false,
        }
    }

    fn err(&self, msg: String) -> Stop {
        self.err_bytes(msg.into_bytes())
    }

    fn err_bytes(&self, msg: Vec<u8>) -> Stop {
        let mut m = format!("0x{:16x}: ", self.epos).into_bytes();
        m.extend_from_slice(&msg);
        Stop::Error(m)
    }

    /// fgets: at most `max - 1` bytes, through the first `\n`.
    fn fgets(&mut self, max: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        while out.len() < max - 1 {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                self.hit_eof = true;
                break;
            }
            let want = (max - 1 - out.len()).min(buf.len());
            let nl = buf[..want].iter().position(|&c| c == b'\n');
            let take = nl.map(|p| p + 1).unwrap_or(want);
            out.extend_from_slice(&buf[..take]);
            self.r.consume(take);
            if nl.is_some() {
                break;
            }
        }
        self.pos += out.len() as u64;
        Ok(out)
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        let b = self.r.fill_buf()?;
        if b.is_empty() {
            self.hit_eof = true;
            Ok(None)
        } else {
            Ok(Some(b[0]))
        }
    }

    fn consume_newline(&mut self, two: [u8; 2]) -> Result<(), Stop> {
        if two != *b"\r\n" {
            let h = |c: u8| format!("{:02x}", c as i8 as i32 as u32);
            return Err(self.err(format!("Expected \\r\\n, got: {}{}", h(two[0]), h(two[1]))));
        }
        self.line += 1;
        Ok(())
    }

    fn read_long(&mut self, prefix: u8) -> io::Result<Result<Option<i64>, Stop>> {
        self.epos = self.pos;
        let buf = self.fgets(128)?;
        if buf.is_empty() {
            return Ok(Ok(None));
        }
        if buf[0] != prefix {
            let mut m = format!("Expected prefix '{}', got: '", prefix as char).into_bytes();
            m.push(buf[0]);
            m.push(b'\'');
            return Ok(Err(self.err_bytes(m)));
        }
        let (v, end) = strtol(&buf[1..]);
        let rest = &buf[1 + end..];
        // Past the end of the line C reads stale bytes of its line buffer; zeros here.
        let two = [
            rest.first().copied().unwrap_or(0),
            rest.get(1).copied().unwrap_or(0),
        ];
        Ok(self.consume_newline(two).map(|_| Some(v)))
    }

    /// Reads one command (the `*` is next). `Ok(Ok(Some(first_arg_prefix)))` when complete.
    fn command(&mut self, multi: &mut i64, name: &str) -> io::Result<Result<bool, Stop>> {
        let argc = match self.read_long(b'*')? {
            Ok(Some(v)) => v,
            Ok(None) => return Ok(Ok(false)),
            Err(s) => return Ok(Err(s)),
        };
        for i in 0..argc.max(0) {
            let len = match self.read_long(b'$')? {
                Ok(Some(v)) => v,
                Ok(None) => return Ok(Ok(false)),
                Err(s) => return Ok(Err(s)),
            };
            if !(0..=i64::MAX - 2).contains(&len) {
                return Ok(Err(self.err(format!(
                    "Expected to read string of {len} bytes, which is not in the suitable range"
                ))));
            }
            let want = len as u64 + 2;
            self.epos = self.pos;
            let mut head = Vec::new();
            let mut tail = [0u8; 2];
            let mut got: u64 = 0;
            while got < want {
                let buf = self.r.fill_buf()?;
                if buf.is_empty() {
                    self.hit_eof = true;
                    break;
                }
                let n = (buf.len() as u64).min(want - got) as usize;
                for (k, &c) in buf[..n].iter().enumerate() {
                    let at = got + k as u64;
                    if at < 8 && head.len() < 8 {
                        head.push(c);
                    }
                    if at + 2 >= want {
                        tail[(at + 2 - want) as usize] = c;
                    }
                }
                self.r.consume(n);
                got += n as u64;
            }
            self.pos += got;
            if got != want {
                return Ok(Err(
                    self.err(format!("Expected to read {want} bytes, got {got} bytes"))
                ));
            }
            if let Err(s) = self.consume_newline(tail) {
                return Ok(Err(s));
            }
            if i == 0 {
                let arg = &head[..head.len().min(len as usize)];
                if len == 5 && arg.eq_ignore_ascii_case(b"multi") {
                    let before = *multi;
                    *multi += 1;
                    if before != 0 {
                        return Ok(Err(self.err(format!("Unexpected MULTI in AOF {name}"))));
                    }
                } else if len == 4 && arg.eq_ignore_ascii_case(b"exec") {
                    *multi -= 1;
                    if *multi != 0 {
                        return Ok(Err(self.err(format!("Unexpected EXEC in AOF {name}"))));
                    }
                }
            }
        }
        Ok(Ok(true))
    }

    /// Scans to the end or the first error. `name` is used in MULTI/EXEC messages;
    /// `to_timestamp` stops at the first `#TS:` annotation later than it.
    pub fn scan(&mut self, name: &str, to_timestamp: Option<i64>) -> io::Result<Scan> {
        let mut multi = 0i64;
        let mut ok_up_to = self.pos;
        let mut commands = 0u64;
        let mut spans = Vec::new();
        let stop = loop {
            if multi == 0 {
                ok_up_to = self.pos;
            }
            let Some(c) = self.peek()? else {
                break Stop::Eof;
            };
            if c == b'#' {
                self.epos = self.pos;
                let start = self.pos;
                let l = self.fgets(1024)?;
                if let Some(limit) = to_timestamp {
                    if l.starts_with(b"#TS:") {
                        let (ts, end) = strtol(&l[4..]);
                        if l.get(4 + end) != Some(&b'\r') {
                            break Stop::BadTimestamp;
                        }
                        if ts > limit {
                            break Stop::Timestamp { offset: start };
                        }
                    }
                }
            } else if c == b'*' {
                let start = self.pos;
                match self.command(&mut multi, name)? {
                    Ok(true) => {
                        commands += 1;
                        if multi == 0 && self.record_spans {
                            spans.push((start, self.pos));
                        }
                    }
                    Ok(false) => break Stop::Eof,
                    Err(s) => break s,
                }
            } else {
                break Stop::FormatError;
            }
        };
        let stop = if self.hit_eof && multi != 0 && matches!(stop, Stop::Eof) {
            self.err("Reached EOF before reading EXEC for MULTI".into())
        } else {
            stop
        };
        Ok(Scan {
            ok_up_to,
            stop,
            hit_eof: self.hit_eof,
            multi,
            commands,
            command_spans: spans,
        })
    }
}

/// One item of an AOF command stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A command with its arguments; `offset` is where it starts.
    Command {
        /// File offset of its `*`.
        offset: u64,
        /// Arguments.
        args: Vec<Vec<u8>>,
    },
    /// A `#TS:<unix seconds>` annotation (Redis 7's `aof-timestamp-enabled`).
    Timestamp {
        /// File offset of the `#`.
        offset: u64,
        /// Seconds.
        unix_secs: i64,
    },
    /// Any other `#` line (kept so offsets stay meaningful).
    Annotation {
        /// File offset of the `#`.
        offset: u64,
        /// The line without its line ending.
        text: Vec<u8>,
    },
}

/// Why [`CommandReader::next_item`] stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// Offset of the item that could not be read.
    pub offset: u64,
    /// What was wrong.
    pub msg: String,
}

/// Reads an AOF command stream (the part after any RDB preamble) item by item, keeping
/// the arguments: what a server replays. Arguments are read in chunks as they arrive, so
/// a length claiming more than the input is an error, not an allocation.
pub struct CommandReader<R> {
    r: R,
    pos: u64,
}

impl<R: BufRead> CommandReader<R> {
    /// A reader whose first byte is at file offset `start`.
    pub fn new(r: R, start: u64) -> CommandReader<R> {
        CommandReader { r, pos: start }
    }

    /// Offset after the last item read.
    pub fn offset(&self) -> u64 {
        self.pos
    }

    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        (&mut self.r).take(64 * 1024).read_until(b'\n', &mut v)?;
        self.pos += v.len() as u64;
        Ok(v)
    }

    fn number(&mut self, prefix: u8, start: u64) -> Result<i64, StreamError> {
        let l = self.line().map_err(|e| StreamError {
            offset: start,
            msg: e.to_string(),
        })?;
        let bad = |msg: &str| StreamError {
            offset: start,
            msg: msg.to_string(),
        };
        if l.is_empty() {
            return Err(bad("unexpected end of file"));
        }
        if l[0] != prefix || !l.ends_with(b"\r\n") {
            return Err(bad("malformed length line"));
        }
        let body = &l[1..l.len() - 2];
        let (v, used) = strtol(body);
        if used != body.len() || used == 0 {
            return Err(bad("malformed number"));
        }
        Ok(v)
    }

    /// The next item; `Ok(None)` at a clean end of input.
    pub fn next_item(&mut self) -> Result<Option<Item>, StreamError> {
        let start = self.pos;
        let first = match self.r.fill_buf() {
            Ok([]) => return Ok(None),
            Ok(b) => b[0],
            Err(e) => {
                return Err(StreamError {
                    offset: start,
                    msg: e.to_string(),
                })
            }
        };
        if first == b'#' {
            let l = self.line().map_err(|e| StreamError {
                offset: start,
                msg: e.to_string(),
            })?;
            let text = l
                .strip_suffix(b"\r\n")
                .or_else(|| l.strip_suffix(b"\n"))
                .unwrap_or(&l)
                .to_vec();
            if let Some(ts) = text.strip_prefix(b"#TS:") {
                let (v, used) = strtol(ts);
                if used == ts.len() && used > 0 {
                    return Ok(Some(Item::Timestamp {
                        offset: start,
                        unix_secs: v,
                    }));
                }
            }
            return Ok(Some(Item::Annotation {
                offset: start,
                text,
            }));
        }
        if first != b'*' {
            return Err(StreamError {
                offset: start,
                msg: "not a command".into(),
            });
        }
        let argc = self.number(b'*', start)?;
        let mut args = Vec::with_capacity(argc.clamp(0, 1024) as usize);
        for _ in 0..argc.max(0) {
            let len = self.number(b'$', start)?;
            if len < 0 {
                return Err(StreamError {
                    offset: start,
                    msg: "negative bulk length".into(),
                });
            }
            let want = len as u64 + 2;
            let mut v = Vec::new();
            let got = (&mut self.r)
                .take(want)
                .read_to_end(&mut v)
                .map_err(|e| StreamError {
                    offset: start,
                    msg: e.to_string(),
                })?;
            self.pos += got as u64;
            if (got as u64) < want || !v.ends_with(b"\r\n") {
                return Err(StreamError {
                    offset: start,
                    msg: "truncated or malformed argument".into(),
                });
            }
            v.truncate(len as usize);
            args.push(v);
        }
        Ok(Some(Item::Command {
            offset: start,
            args,
        }))
    }
}

/// C's `strtol` on a byte string: value (clamped) and bytes used (0 when no digits).
pub fn strtol(b: &[u8]) -> (i64, usize) {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let ds = i;
    let mut v: i128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + (b[i] - b'0') as i128).min(i64::MAX as i128 + 1);
        i += 1;
    }
    if i == ds {
        return (0, 0);
    }
    let v = if neg { -v } else { v };
    (v.clamp(i64::MIN as i128, i64::MAX as i128) as i64, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names_are_quoted_as_redis() {
        assert_eq!(
            name_repr("appendonly.aof.1.incr.aof"),
            "appendonly.aof.1.incr.aof"
        );
        assert_eq!(name_repr("a b"), "\"a b\"");
        assert_eq!(name_repr("q\"\\\n\x01"), "\"q\\\"\\\\\\n\\x01\"");
        let m = Manifest {
            base: Some(ManifestEntry {
                name: "x y.1.base.rdb".into(),
                seq: 1,
                kind: FileType::Base,
            }),
            ..Default::default()
        };
        let text = format_manifest(&m);
        assert_eq!(text, "file \"x y.1.base.rdb\" seq 1 type b\n");
        assert_eq!(parse_manifest(text.as_bytes()).unwrap(), m);
    }

    fn scan(data: &[u8]) -> (Scan, i64) {
        let mut s = Scanner::new(data, 0, 1);
        let r = s.scan("f", None).unwrap();
        (r, s.line)
    }

    #[test]
    fn valid_stream() {
        let d = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nEXEC\r\n";
        let (r, line) = scan(d);
        assert_eq!(r.stop, Stop::Eof);
        assert_eq!(r.ok_up_to, d.len() as u64);
        assert_eq!(line, 12);
    }

    #[test]
    fn truncated() {
        let d = b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI";
        let (r, _) = scan(d);
        assert_eq!(r.ok_up_to, 14);
        assert_eq!(
            r.stop,
            Stop::Error(b"0x              16: Expected to read 6 bytes, got 2 bytes".to_vec())
        );
    }

    #[test]
    fn command_reader() {
        let d = b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPI";
        let mut r = CommandReader::new(&d[..], 0);
        assert_eq!(
            r.next_item().unwrap(),
            Some(Item::Timestamp {
                offset: 0,
                unix_secs: 1_700_000_000
            })
        );
        assert_eq!(
            r.next_item().unwrap(),
            Some(Item::Command {
                offset: 16,
                args: vec![b"SELECT".to_vec(), b"0".to_vec()]
            })
        );
        let e = r.next_item().unwrap_err();
        assert_eq!(e.offset, 39);
    }

    #[test]
    fn preamble() {
        let mut w = crate::writer::Writer::new(Vec::new(), Default::default()).unwrap();
        w.select_db(0).unwrap();
        let mut d = w.finish().unwrap();
        let n = d.len() as u64;
        d.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        assert!(starts_with_rdb(&d, d.len() as u64));
        assert_eq!(rdb_preamble_len(&d[..]).unwrap(), n);
    }

    #[test]
    fn manifest() {
        let m = parse_manifest(
            b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        )
        .unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incr.len(), 1);
        assert_eq!(
            parse_manifest(b"file a seq 1 type x\n").unwrap_err().msg,
            "Unknown AOF file type"
        );
        assert!(looks_like_manifest(b"# c\nfile x\n"));
        let text = format_manifest(&m);
        assert_eq!(parse_manifest(text.as_bytes()).unwrap(), m);
    }
}
