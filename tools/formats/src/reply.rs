//! The server's reply encoder: RESP3 types written as RESP3, or downgraded to RESP2
//! exactly as Redis 7.0 does (maps and sets become arrays, doubles become bulk strings,
//! booleans become integers, nulls become `$-1` or `*-1`).

use crate::num::format_double;

/// The protocol a connection speaks (HELLO 2 / HELLO 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtoVersion {
    #[default]
    Resp2,
    Resp3,
}

/// A position in a [`ReplyBuf`] whose aggregate length is filled in later.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Deferred(usize);

/// Replies accumulated for one connection, written to the socket in batches.
#[derive(Debug, Default)]
pub struct ReplyBuf {
    /// The encoded bytes.
    pub buf: Vec<u8>,
    /// The protocol the replies are encoded in.
    pub proto: ProtoVersion,
}

impl ReplyBuf {
    /// An empty RESP2 buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when RESP3 is spoken.
    pub fn resp3(&self) -> bool {
        self.proto == ProtoVersion::Resp3
    }

    fn line(&mut self, t: u8, s: &[u8]) {
        self.buf.push(t);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn head(&mut self, t: u8, n: i64) {
        self.buf.push(t);
        push_i64(&mut self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply (`+text`). Newlines in `s` are replaced with spaces, as Redis does.
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend(
            s.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` is the full text without the leading `-`, for example
    /// `ERR syntax error` or `WRONGTYPE Operation ...`. Newlines become spaces.
    pub fn error(&mut self, msg: &str) {
        self.simple_error_bytes(msg.as_bytes());
    }

    /// [`error`](Self::error) for byte strings (errors that echo user input).
    pub fn simple_error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend(
            msg.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `:n`
    pub fn int(&mut self, n: i64) {
        self.head(b':', n);
    }

    /// A bulk string.
    pub fn bulk(&mut self, s: &[u8]) {
        self.head(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `n` (as Redis's addReplyBulkLongLong).
    pub fn bulk_int(&mut self, n: i64) {
        let mut tmp = Vec::with_capacity(20);
        push_i64(&mut tmp, n);
        self.bulk(&tmp);
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    /// An array header for `n` elements.
    pub fn array(&mut self, n: usize) {
        self.head(b'*', n as i64);
    }

    /// A map header for `n` pairs (`*2n` in RESP2).
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.head(b'%', n as i64);
        } else {
            self.head(b'*', 2 * n as i64);
        }
    }

    /// A set header for `n` elements (`*n` in RESP2).
    pub fn set(&mut self, n: usize) {
        let t = if self.resp3() { b'~' } else { b'*' };
        self.head(t, n as i64);
    }

    /// A push header for `n` elements (`*n` in RESP2).
    pub fn push(&mut self, n: usize) {
        let t = if self.resp3() { b'>' } else { b'*' };
        self.head(t, n as i64);
    }

    /// A double: `,d` in RESP3, a bulk string in RESP2, formatted as `%.17g`.
    pub fn double(&mut self, d: f64) {
        let s = format_double(d);
        if self.resp3() {
            self.line(b',', s.as_bytes());
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// A double already formatted by the caller (`,text` or a bulk string).
    pub fn double_text(&mut self, s: &[u8]) {
        if self.resp3() {
            self.line(b',', s);
        } else {
            self.bulk(s);
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3() {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// A verbatim string (`=len\r\nfmt:text`), a plain bulk string in RESP2.
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        if self.resp3() {
            self.head(b'=', (text.len() + 4) as i64);
            self.buf.extend_from_slice(format);
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A big number: `(digits` in RESP3, a bulk string in RESP2.
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.resp3() {
            self.line(b'(', digits);
        } else {
            self.bulk(digits);
        }
    }

    /// Raw protocol bytes, appended as they are.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Marks the place of an aggregate header whose length is not known yet.
    pub fn defer(&mut self) -> Deferred {
        Deferred(self.buf.len())
    }

    fn fill(&mut self, d: Deferred, t: u8, n: i64) {
        let mut head = Vec::with_capacity(24);
        head.push(t);
        push_i64(&mut head, n);
        head.extend_from_slice(b"\r\n");
        self.buf.splice(d.0..d.0, head);
    }

    /// Fills a deferred array header with `n` elements.
    pub fn set_array_len(&mut self, d: Deferred, n: usize) {
        self.fill(d, b'*', n as i64);
    }

    /// Fills a deferred map header with `n` pairs.
    pub fn set_map_len(&mut self, d: Deferred, n: usize) {
        if self.resp3() {
            self.fill(d, b'%', n as i64);
        } else {
            self.fill(d, b'*', 2 * n as i64);
        }
    }

    /// Fills a deferred set header with `n` elements.
    pub fn set_set_len(&mut self, d: Deferred, n: usize) {
        let t = if self.resp3() { b'~' } else { b'*' };
        self.fill(d, t, n as i64);
    }

    /// Bytes encoded so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Appends the decimal digits of `n`.
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(crate::num::format_i64(n, &mut [0; 20]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut ReplyBuf)) -> (String, String) {
        let mut r2 = ReplyBuf::new();
        f(&mut r2);
        let mut r3 = ReplyBuf {
            proto: ProtoVersion::Resp3,
            ..Default::default()
        };
        f(&mut r3);
        (
            String::from_utf8(r2.buf).unwrap(),
            String::from_utf8(r3.buf).unwrap(),
        )
    }

    #[test]
    fn downgrades() {
        assert_eq!(both(|r| r.null()), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(|r| r.map(2)), ("*4\r\n".into(), "%2\r\n".into()));
        assert_eq!(both(|r| r.set(3)), ("*3\r\n".into(), "~3\r\n".into()));
        assert_eq!(
            both(|r| r.double(1.5)),
            ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into())
        );
        assert_eq!(
            both(|r| r.boolean(true)),
            (":1\r\n".into(), "#t\r\n".into())
        );
        assert_eq!(
            both(|r| r.verbatim(b"txt", b"hi")),
            ("$2\r\nhi\r\n".into(), "=6\r\ntxt:hi\r\n".into())
        );
        assert_eq!(both(|r| r.int(i64::MIN)).0, ":-9223372036854775808\r\n");
    }

    #[test]
    fn deferred_headers() {
        let mut r = ReplyBuf::new();
        r.bulk(b"x");
        let d = r.defer();
        r.int(1);
        r.int(2);
        r.set_map_len(d, 1);
        assert_eq!(r.buf, b"$1\r\nx\r\n*2\r\n:1\r\n:2\r\n");
    }

    #[test]
    fn errors_lose_newlines() {
        let mut r = ReplyBuf::new();
        r.error("ERR a\r\nb");
        assert_eq!(r.buf, b"-ERR a  b\r\n");
    }
}
