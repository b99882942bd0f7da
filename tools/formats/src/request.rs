//! The server's request parser: RESP multibulk and inline commands.
//!
//! The parser keeps its place across reads: when a command arrives in many pieces, each
//! call resumes where the last one stopped, so no byte is parsed twice. Arguments of
//! multibulk commands are zero-copy slices of the read buffer. Limits and error texts
//! are Redis 7.0's; after a [`ProtocolError`] the server replies with
//! [`ProtocolError::message`] and closes the connection.

use crate::num::parse_i64;
use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Longest inline command, and longest multibulk/bulk header line, that is accepted.
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// Bulk arguments this long or longer get room reserved so they are read in place.
pub const BIG_ARG: usize = 32 * 1024;
/// Without authentication, a command may have at most this many arguments...
pub const UNAUTH_MAX_ARGS: i64 = 10;
/// ...and each argument at most this many bytes.
pub const UNAUTH_MAX_BULK: i64 = 16384;

/// Limits that come from the server's configuration and the connection's state.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: i64,
    /// False while the connection still has to AUTH (smaller limits apply).
    pub authenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The command name and its arguments.
    pub argv: Vec<Bytes>,
    /// True if it came as an inline command (not multibulk).
    pub inline: bool,
}

/// A protocol violation; the connection is answered with [`message`](Self::message)
/// and closed, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMbulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl ProtocolError {
    /// The error reply text (without the leading `-`).
    pub fn message(&self) -> String {
        match self {
            ProtocolError::TooBigInline => "ERR Protocol error: too big inline request".into(),
            ProtocolError::UnbalancedQuotes => {
                "ERR Protocol error: unbalanced quotes in request".into()
            }
            ProtocolError::TooBigMbulkCount => {
                "ERR Protocol error: too big mbulk count string".into()
            }
            ProtocolError::InvalidMultibulkLength => {
                "ERR Protocol error: invalid multibulk length".into()
            }
            ProtocolError::UnauthenticatedMultibulkLength => {
                "ERR Protocol error: unauthenticated multibulk length".into()
            }
            ProtocolError::TooBigBulkCount => {
                "ERR Protocol error: too big bulk count string".into()
            }
            ProtocolError::ExpectedDollar(c) => {
                format!("ERR Protocol error: expected '$', got '{}'", *c as char)
            }
            ProtocolError::InvalidBulkLength => "ERR Protocol error: invalid bulk length".into(),
            ProtocolError::UnauthenticatedBulkLength => {
                "ERR Protocol error: unauthenticated bulk length".into()
            }
        }
    }

    /// The short reason Redis writes to its log.
    pub fn log_reason(&self) -> &'static str {
        match self {
            ProtocolError::TooBigInline => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in inline request",
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid mbulk count",
            ProtocolError::UnauthenticatedMultibulkLength => "unauth mbulk count",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::ExpectedDollar(_) => "expected $ but got something else",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauth bulk length",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ProtocolError {}

/// Complete commands parsed from a read buffer, kept as argument offsets: nothing is
/// copied and nothing is reference-counted. The buffer must not lose its front bytes
/// while a batch refers to them: the owner runs the commands, then removes
/// [`consumed`](Self::consumed) bytes from the buffer and tells the parser
/// ([`RequestParser::consume`]).
#[derive(Debug, Default)]
pub struct Batch {
    /// `(start, end)` of each argument: in the read buffer, or, for an inline command,
    /// in `inline_args`.
    spans: Vec<(usize, usize)>,
    /// Per command: its first span, its argument count and whether it came inline.
    cmds: Vec<(usize, usize, bool)>,
    /// Unescaped arguments of inline commands.
    inline_args: Vec<u8>,
    /// Buffer bytes the parsed commands take, from the start of the buffer.
    consumed: usize,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of commands in the batch.
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// True when no command is in the batch.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Bytes of the buffer the batch's commands take (from its start).
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Number of arguments (the name included) of command `i`.
    pub fn argc(&self, i: usize) -> usize {
        self.cmds[i].1
    }

    /// True if command `i` came as an inline command.
    pub fn is_inline(&self, i: usize) -> bool {
        self.cmds[i].2
    }

    /// The arguments of command `i`, as slices of `buf` (the buffer it was parsed from).
    pub fn args<'b>(&'b self, buf: &'b [u8], i: usize) -> impl ExactSizeIterator<Item = &'b [u8]> {
        let (first, n, inline) = self.cmds[i];
        let src: &'b [u8] = if inline { &self.inline_args } else { buf };
        self.spans[first..first + n]
            .iter()
            .map(move |&(s, e)| &src[s..e])
    }

    /// Forgets every command (the caller has removed [`consumed`](Self::consumed)
    /// bytes from the buffer, or will not look at them again).
    pub fn clear(&mut self) {
        self.spans.clear();
        self.cmds.clear();
        self.inline_args.clear();
        self.consumed = 0;
        // A huge command must not pin its offsets table for the connection's life.
        if self.spans.capacity() > 4096 {
            self.spans = Vec::new();
        }
        if self.inline_args.capacity() > 64 * 1024 {
            self.inline_args = Vec::new();
        }
    }
}

/// Parser state for one connection. See the module docs.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Where parsing resumes in the buffer.
    pos: usize,
    /// Where the command being parsed starts (the end of the last complete one).
    cmd_start: usize,
    /// Bulk arguments still expected by the current multibulk command (0: none open).
    remaining: usize,
    /// Length of the bulk argument whose header was read but whose body was not.
    bulk_len: Option<usize>,
    /// Offsets of the arguments read so far for the current command.
    args: Vec<(usize, usize)>,
}

fn find(buf: &[u8], from: usize, byte: u8) -> Option<usize> {
    buf[from..]
        .iter()
        .position(|&b| b == byte)
        .map(|i| i + from)
}

impl RequestParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when a command has been partly received.
    pub fn in_command(&self) -> bool {
        self.remaining > 0 || self.pos > self.cmd_start
    }

    /// Bytes the current command still needs at least (a read-size hint, 0 if unknown).
    pub fn wanted(&self, buf: &BytesMut) -> usize {
        match self.bulk_len {
            Some(n) => (self.pos + n + 2).saturating_sub(buf.len()),
            None => 0,
        }
    }

    /// The caller removed `n` bytes (at most the batch's [`Batch::consumed`]) from the
    /// front of the buffer.
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.cmd_start);
        self.pos -= n;
        self.cmd_start -= n;
        for a in self.args.iter_mut() {
            a.0 -= n;
            a.1 -= n;
        }
    }

    /// Parses the next complete command from `buf` into `batch`; `Ok(false)` means more
    /// bytes are needed (what was already parsed is remembered). The buffer keeps its
    /// bytes: see [`Batch`].
    pub fn parse_next(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
        batch: &mut Batch,
    ) -> Result<bool, ProtocolError> {
        loop {
            if self.remaining == 0 {
                if self.pos >= buf.len() {
                    return Ok(false);
                }
                if buf[self.pos] != b'*' {
                    match self.inline(buf, batch)? {
                        Some(true) => return Ok(true),
                        Some(false) => continue, // empty line
                        None => return Ok(false),
                    }
                }
                match self.multibulk_header(buf, limits)? {
                    None => return Ok(false),
                    Some(0) => {
                        // `*0` or a negative count: an empty command, skipped.
                        self.command_done(batch);
                        continue;
                    }
                    Some(n) => {
                        self.remaining = n;
                        self.args.clear();
                        self.args.reserve(n.min(1024));
                    }
                }
            }
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => match self.bulk_header(buf, limits)? {
                        Some(len) => len,
                        None => return Ok(false),
                    },
                };
                if buf.len() - self.pos < len + 2 {
                    return Ok(false);
                }
                self.args.push((self.pos, self.pos + len));
                self.pos += len + 2;
                self.bulk_len = None;
                self.remaining -= 1;
            }
            batch.cmds.push((batch.spans.len(), self.args.len(), false));
            batch.spans.extend_from_slice(&self.args);
            self.args.clear();
            if self.args.capacity() > 1024 {
                self.args = Vec::new();
            }
            self.command_done(batch);
            return Ok(true);
        }
    }

    /// The command (or empty line) ending at `pos` is complete.
    fn command_done(&mut self, batch: &mut Batch) {
        self.cmd_start = self.pos;
        batch.consumed = self.pos;
    }

    /// Parses the next complete command from `buf`, consuming its bytes, and returns
    /// it with its own copies of the arguments. `Ok(None)` means more bytes are needed.
    /// (The server uses [`parse_next`](Self::parse_next), which copies nothing.)
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
    ) -> Result<Option<Request>, ProtocolError> {
        let mut batch = Batch::new();
        let got = self.parse_next(buf, limits, &mut batch);
        let req = match got {
            Ok(true) => Some(Request {
                argv: batch.args(buf, 0).map(Bytes::copy_from_slice).collect(),
                inline: batch.is_inline(0),
            }),
            Ok(false) => None,
            Err(e) => return Err(e),
        };
        let n = batch.consumed();
        buf.advance(n);
        self.consume(n);
        Ok(req)
    }

    /// Reads `*N\r\n`. `Some(0)` for an empty command.
    fn multibulk_header(
        &mut self,
        buf: &BytesMut,
        limits: &ParseLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = find(buf, self.pos, b'\r') else {
            if buf.len() - self.pos > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigMbulkCount);
            }
            return Ok(None);
        };
        if cr + 1 >= buf.len() {
            return Ok(None);
        }
        let n = parse_i64(&buf[self.pos + 1..cr])
            .filter(|&n| n <= i32::MAX as i64)
            .ok_or(ProtocolError::InvalidMultibulkLength)?;
        if n > UNAUTH_MAX_ARGS && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.pos = cr + 2;
        Ok(Some(n.max(0) as usize))
    }

    /// Reads `$N\r\n`, reserving room for a big argument so it is read in place.
    fn bulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: &ParseLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = find(buf, self.pos, b'\r') else {
            if buf.len() - self.pos > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigBulkCount);
            }
            return Ok(None);
        };
        if cr + 1 >= buf.len() {
            return Ok(None);
        }
        if buf[self.pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[self.pos]));
        }
        let n = parse_i64(&buf[self.pos + 1..cr])
            .filter(|&n| n >= 0 && n <= limits.max_bulk_len)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if n > UNAUTH_MAX_BULK && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        self.pos = cr + 2;
        let n = n as usize;
        if n >= BIG_ARG {
            let have = buf.len() - self.pos;
            if have < n + 2 {
                buf.reserve(n + 2 - have);
            }
        }
        self.bulk_len = Some(n);
        Ok(Some(n))
    }

    /// Reads an inline command into `batch`. `Some(false)` for an empty line, `None`
    /// if incomplete.
    fn inline(&mut self, buf: &BytesMut, batch: &mut Batch) -> Result<Option<bool>, ProtocolError> {
        let Some(nl) = find(buf, self.pos, b'\n') else {
            if buf.len() - self.pos > INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(None);
        };
        let mut end = nl;
        if end > self.pos && buf[end - 1] == b'\r' {
            end -= 1;
        }
        let argv = split_args(&buf[self.pos..end]).ok_or(ProtocolError::UnbalancedQuotes)?;
        self.pos = nl + 1;
        self.command_done(batch);
        if argv.is_empty() {
            return Ok(Some(false));
        }
        batch.cmds.push((batch.spans.len(), argv.len(), true));
        for a in argv {
            let s = batch.inline_args.len();
            batch.inline_args.extend_from_slice(&a);
            batch.spans.push((s, batch.inline_args.len()));
        }
        Ok(Some(true))
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits a line into arguments with Redis's rules (as redis-cli and inline commands
/// do): spaces separate; `"..."` takes `\n \r \t \b \a \\ \" \xHH` escapes; `'...'`
/// takes `\'`; a closing quote must be followed by a space or the end. `None` when
/// quotes are unbalanced.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    cur.push(hex_val(line[i + 2])? * 16 + hex_val(line[i + 3])?);
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    c if is_space(c) => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(r) = p.parse(&mut buf, &ParseLimits::default())? {
            out.push(r.argv.iter().map(|a| a.to_vec()).collect());
        }
        Ok(out)
    }

    fn v(args: &[&str]) -> Vec<Vec<u8>> {
        args.iter().map(|a| a.as_bytes().to_vec()).collect()
    }

    const STREAM: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n*0\r\n\r\n\
set a \"b\\x41\\n\" 'c\\'d'\n*1\r\n$0\r\n\r\n";

    fn expected() -> Vec<Vec<Vec<u8>>> {
        vec![
            v(&["SET", "k", "hello"]),
            v(&["PING"]),
            v(&["set", "a", "bA\n", "c'd"]),
            vec![vec![]],
        ]
    }

    #[test]
    fn multibulk_and_inline() {
        assert_eq!(parse_all(STREAM).unwrap(), expected());
    }

    #[test]
    fn every_split_point_gives_the_same_commands() {
        for cut in 0..=STREAM.len() {
            let mut p = RequestParser::new();
            let mut buf = BytesMut::from(&STREAM[..cut]);
            let mut out = Vec::new();
            while let Some(r) = p.parse(&mut buf, &ParseLimits::default()).unwrap() {
                out.push(r.argv.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
            }
            buf.extend_from_slice(&STREAM[cut..]);
            while let Some(r) = p.parse(&mut buf, &ParseLimits::default()).unwrap() {
                out.push(r.argv.iter().map(|a| a.to_vec()).collect());
            }
            assert_eq!(out, expected(), "cut at {cut}");
            assert!(buf.is_empty());
        }
    }

    /// The server's way: parse every complete command into a batch, run them, then
    /// drop their bytes; the stream cut anywhere gives the same commands.
    #[test]
    fn batches_over_every_split_point() {
        for cut in 0..=STREAM.len() {
            let mut p = RequestParser::new();
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for chunk in [&STREAM[..cut], &STREAM[cut..]] {
                buf.extend_from_slice(chunk);
                let mut batch = Batch::new();
                while p
                    .parse_next(&mut buf, &ParseLimits::default(), &mut batch)
                    .unwrap()
                {}
                for i in 0..batch.len() {
                    assert_eq!(batch.argc(i), batch.args(&buf, i).len());
                    out.push(batch.args(&buf, i).map(|a| a.to_vec()).collect::<Vec<_>>());
                }
                let n = batch.consumed();
                buf.advance(n);
                p.consume(n);
                batch.clear();
            }
            assert_eq!(out, expected(), "cut at {cut}");
            assert!(buf.is_empty());
            assert!(!p.in_command());
        }
    }

    #[test]
    fn large_command_in_small_reads_is_linear() {
        // 200,000 arguments fed 16 KiB at a time; each call resumes where it stopped.
        let n = 200_000;
        let mut input = format!("*{}\r\n", n).into_bytes();
        for i in 0..n {
            let a = format!("arg{i}");
            input.extend_from_slice(format!("${}\r\n{}\r\n", a.len(), a).as_bytes());
        }
        let mut p = RequestParser::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in input.chunks(16 * 1024) {
            buf.extend_from_slice(chunk);
            if let Some(r) = p.parse(&mut buf, &ParseLimits::default()).unwrap() {
                got = Some(r);
            }
        }
        let r = got.unwrap();
        assert_eq!(r.argv.len(), n);
        assert_eq!(&r.argv[n - 1][..], b"arg199999");
    }

    #[test]
    fn errors_match_redis() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"*3000000000\r\n",
                "ERR Protocol error: invalid multibulk length",
            ),
            (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
            (
                b"*1\r\nfoo\r\n",
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
            (
                b"*1\r\n$600000000\r\n",
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"set \"a\"b\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"set \"ab\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, msg) in cases {
            let err = parse_all(input).unwrap_err();
            assert_eq!(&err.message(), msg, "{:?}", String::from_utf8_lossy(input));
        }
        let big = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(parse_all(&big).unwrap_err(), ProtocolError::TooBigInline);
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; INLINE_MAX_SIZE + 1]);
        assert_eq!(
            parse_all(&big).unwrap_err(),
            ProtocolError::TooBigMbulkCount
        );
        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; INLINE_MAX_SIZE + 1]);
        assert_eq!(parse_all(&big).unwrap_err(), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = ParseLimits {
            authenticated: false,
            ..Default::default()
        };
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, &limits).unwrap_err(),
            ProtocolError::UnauthenticatedMultibulkLength
        );
        let mut p = RequestParser::new();
        let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
        assert_eq!(
            p.parse(&mut buf, &limits).unwrap_err(),
            ProtocolError::UnauthenticatedBulkLength
        );
    }

    #[test]
    fn split_args_rules() {
        assert_eq!(split_args(b"  a  b ").unwrap(), v(&["a", "b"]));
        assert_eq!(
            split_args(b"a\"b c\"d").unwrap_or_default(),
            Vec::<Vec<u8>>::new()
        );
        assert_eq!(split_args(b"\"\\x4g\"").unwrap(), v(&["x4g"]));
        assert_eq!(split_args(b"''").unwrap(), v(&[""]));
        assert!(split_args(b"'a").is_none());
    }
}
