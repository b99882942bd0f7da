//! Incremental RESP2/RESP3 reply decoder for clients.
//!
//! Bytes are fed as they arrive; [`ReplyDecoder::next`] returns each complete reply.
//! Partially received aggregates are kept on an explicit stack, so a large reply that
//! arrives in many reads is decoded once, never re-parsed from its start.

use crate::num::parse_i64;
use crate::value::RespValue;
use std::fmt;

/// Deepest nesting of aggregates accepted (beyond it the stream is rejected).
pub const MAX_DEPTH: usize = 512;

/// The stream is not valid RESP; the connection should be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AggKind {
    Array,
    Map,
    Set,
    Push,
    Attribute,
}

#[derive(Debug)]
struct Partial {
    kind: AggKind,
    /// Number of child values still expected.
    remaining: usize,
    items: Vec<RespValue>,
}

/// Decodes a stream of replies. Feed bytes with [`feed`](Self::feed) (or write into
/// [`spare`](Self::buffer_mut)) and pull replies with [`next`](Self::next).
#[derive(Debug, Default)]
pub struct ReplyDecoder {
    buf: Vec<u8>,
    pos: usize,
    stack: Vec<Partial>,
}

enum Token {
    Value(RespValue),
    Open(AggKind, usize),
}

impl ReplyDecoder {
    /// A decoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn feed(&mut self, data: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(data);
    }

    /// The internal buffer, for reading straight into it (`buf.extend`/`resize`).
    pub fn buffer_mut(&mut self) -> &mut Vec<u8> {
        self.compact();
        &mut self.buf
    }

    /// Bytes received but not yet consumed by a complete token.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when no partial reply is buffered.
    pub fn is_idle(&self) -> bool {
        self.pending() == 0 && self.stack.is_empty()
    }

    fn compact(&mut self) {
        if self.pos > 0 && (self.pos == self.buf.len() || self.pos > 64 * 1024) {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// The next complete reply, `Ok(None)` if more bytes are needed.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<RespValue>, DecodeError> {
        loop {
            let Some(token) = self.token()? else {
                return Ok(None);
            };
            let mut value = match token {
                Token::Open(kind, n) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(DecodeError("too deeply nested reply".into()));
                    }
                    let remaining = match kind {
                        AggKind::Map => n.checked_mul(2),
                        AggKind::Attribute => n.checked_mul(2).and_then(|n| n.checked_add(1)),
                        _ => Some(n),
                    }
                    .ok_or_else(|| DecodeError("aggregate too long".into()))?;
                    if remaining == 0 {
                        build(kind, Vec::new())
                    } else {
                        self.stack.push(Partial {
                            kind,
                            remaining,
                            items: Vec::with_capacity(remaining.min(1024)),
                        });
                        continue;
                    }
                }
                Token::Value(v) => v,
            };
            // Attach the finished value to its parents, closing every parent it completes.
            loop {
                let Some(top) = self.stack.last_mut() else {
                    return Ok(Some(value));
                };
                top.items.push(value);
                top.remaining -= 1;
                if top.remaining > 0 {
                    break;
                }
                let done = self.stack.pop().expect("top exists");
                value = build(done.kind, done.items);
            }
        }
    }

    fn line(&self, from: usize) -> Option<(usize, usize)> {
        let rest = &self.buf[from..];
        let cr = rest.windows(2).position(|w| w == b"\r\n")?;
        Some((from, from + cr))
    }

    fn token(&mut self) -> Result<Option<Token>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let t = self.buf[self.pos];
        let Some((start, end)) = self.line(self.pos + 1) else {
            return Ok(None);
        };
        let after_line = end + 2;
        let text = &self.buf[start..end];
        let int = |what: &str| {
            parse_i64(text).ok_or_else(|| {
                DecodeError(format!(
                    "invalid {what} '{}'",
                    String::from_utf8_lossy(&text[..text.len().min(32)])
                ))
            })
        };
        let token = match t {
            b'+' => Token::Value(RespValue::Status(text.to_vec())),
            b'-' => Token::Value(RespValue::Error(text.to_vec())),
            b':' => Token::Value(RespValue::Integer(int("integer")?)),
            b',' => Token::Value(RespValue::Double(text.to_vec())),
            b'(' => Token::Value(RespValue::BigNumber(text.to_vec())),
            b'_' => Token::Value(RespValue::Nil),
            b'#' => match text {
                b"t" => Token::Value(RespValue::Boolean(true)),
                b"f" => Token::Value(RespValue::Boolean(false)),
                _ => return Err(DecodeError("invalid boolean".into())),
            },
            b'$' | b'!' | b'=' => {
                let n = int("bulk length")?;
                if n < 0 {
                    if t == b'$' {
                        self.pos = after_line;
                        return Ok(Some(Token::Value(RespValue::Nil)));
                    }
                    return Err(DecodeError("invalid bulk length".into()));
                }
                let n = n as usize;
                if self.buf.len() < after_line + n + 2 {
                    return Ok(None);
                }
                if &self.buf[after_line + n..after_line + n + 2] != b"\r\n" {
                    return Err(DecodeError("bulk string not terminated by CRLF".into()));
                }
                let body = self.buf[after_line..after_line + n].to_vec();
                self.pos = after_line + n + 2;
                let v = match t {
                    b'$' => RespValue::Bulk(body),
                    b'!' => RespValue::Error(body),
                    _ => {
                        if body.len() < 4 || body[3] != b':' {
                            return Err(DecodeError("invalid verbatim string".into()));
                        }
                        RespValue::Verbatim {
                            format: body[..3].to_vec(),
                            text: body[4..].to_vec(),
                        }
                    }
                };
                return Ok(Some(Token::Value(v)));
            }
            b'*' | b'%' | b'~' | b'>' | b'|' => {
                let n = int("aggregate length")?;
                if n < 0 {
                    if t == b'*' {
                        self.pos = after_line;
                        return Ok(Some(Token::Value(RespValue::Nil)));
                    }
                    return Err(DecodeError("invalid aggregate length".into()));
                }
                let kind = match t {
                    b'*' => AggKind::Array,
                    b'%' => AggKind::Map,
                    b'~' => AggKind::Set,
                    b'>' => AggKind::Push,
                    _ => AggKind::Attribute,
                };
                Token::Open(kind, n as usize)
            }
            other => {
                return Err(DecodeError(format!(
                    "unexpected reply type byte '{}'",
                    (other as char).escape_default()
                )))
            }
        };
        self.pos = after_line;
        Ok(Some(token))
    }
}

fn build(kind: AggKind, mut items: Vec<RespValue>) -> RespValue {
    fn pairs(items: Vec<RespValue>) -> Vec<(RespValue, RespValue)> {
        let mut out = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            out.push((k, v));
        }
        out
    }
    match kind {
        AggKind::Array => RespValue::Array(items),
        AggKind::Set => RespValue::Set(items),
        AggKind::Push => RespValue::Push(items),
        AggKind::Map => RespValue::Map(pairs(items)),
        AggKind::Attribute => {
            let value = items.pop().expect("attribute has its value");
            RespValue::Attribute {
                attrs: pairs(items),
                value: Box::new(value),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RespValue::*;

    fn decode_all(input: &[u8]) -> Vec<RespValue> {
        let mut d = ReplyDecoder::new();
        d.feed(input);
        let mut out = Vec::new();
        while let Some(v) = d.next().unwrap() {
            out.push(v);
        }
        assert!(d.is_idle());
        out
    }

    const SAMPLE: &[u8] = b"+OK\r\n-ERR bad\r\n:-12\r\n$3\r\nfoo\r\n$-1\r\n*-1\r\n_\r\n\
*2\r\n$1\r\na\r\n*1\r\n:1\r\n%1\r\n+k\r\n,1.5\r\n~2\r\n#t\r\n#f\r\n(123456789012345678901\r\n\
=8\r\ntxt:abcd\r\n>2\r\n+message\r\n$0\r\n\r\n!3\r\nERR\r\n*0\r\n|1\r\n+a\r\n+b\r\n:7\r\n";

    fn expected() -> Vec<RespValue> {
        vec![
            Status(b"OK".to_vec()),
            Error(b"ERR bad".to_vec()),
            Integer(-12),
            Bulk(b"foo".to_vec()),
            Nil,
            Nil,
            Nil,
            Array(vec![Bulk(b"a".to_vec()), Array(vec![Integer(1)])]),
            Map(vec![(Status(b"k".to_vec()), Double(b"1.5".to_vec()))]),
            Set(vec![Boolean(true), Boolean(false)]),
            BigNumber(b"123456789012345678901".to_vec()),
            Verbatim {
                format: b"txt".to_vec(),
                text: b"abcd".to_vec(),
            },
            Push(vec![Status(b"message".to_vec()), Bulk(vec![])]),
            Error(b"ERR".to_vec()),
            Array(vec![]),
            Attribute {
                attrs: vec![(Status(b"a".to_vec()), Status(b"b".to_vec()))],
                value: Box::new(Integer(7)),
            },
        ]
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(decode_all(SAMPLE), expected());
    }

    #[test]
    fn split_at_every_byte() {
        for cut in 0..SAMPLE.len() {
            let mut d = ReplyDecoder::new();
            let mut out = Vec::new();
            d.feed(&SAMPLE[..cut]);
            while let Some(v) = d.next().unwrap() {
                out.push(v);
            }
            d.feed(&SAMPLE[cut..]);
            while let Some(v) = d.next().unwrap() {
                out.push(v);
            }
            assert_eq!(out, expected(), "cut at {cut}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let mut d = ReplyDecoder::new();
        let mut out = Vec::new();
        for b in SAMPLE {
            d.feed(std::slice::from_ref(b));
            while let Some(v) = d.next().unwrap() {
                out.push(v);
            }
        }
        assert_eq!(out, expected());
    }

    #[test]
    fn reencodes_to_same_bytes_for_resp3_shapes() {
        let input = b"*2\r\n$1\r\na\r\n%1\r\n+k\r\n,1.5\r\n";
        let v = decode_all(input);
        let mut out = Vec::new();
        v[0].encode(&mut out);
        assert_eq!(out, input);
    }

    #[test]
    fn rejects_garbage() {
        let mut d = ReplyDecoder::new();
        d.feed(b"?what\r\n");
        assert!(d.next().is_err());
        let mut d = ReplyDecoder::new();
        d.feed(b":12a\r\n");
        assert!(d.next().is_err());
        let mut d = ReplyDecoder::new();
        d.feed(b"$3\r\nfooXY");
        assert!(d.next().is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut d = ReplyDecoder::new();
        d.feed(&b"*1\r\n".repeat(MAX_DEPTH + 1));
        assert!(d.next().is_err());
    }

    #[test]
    fn agrees_with_redis_protocol_crate() {
        use redis_protocol::resp3::decode::complete::decode;
        // Every reply of SAMPLE (less the RESP2 nulls, which that crate's RESP3 decoder
        // does not take) is accepted by the reference decoder and consumes the same
        // number of bytes as ours.
        let sample: Vec<u8> = {
            let s = SAMPLE.to_vec();
            let at = s.windows(10).position(|w| w == b"$-1\r\n*-1\r\n").unwrap();
            [&s[..at], &s[at + 10..]].concat()
        };
        let mut rest = &sample[..];
        let mut ours = ReplyDecoder::new();
        ours.feed(&sample);
        let mut consumed_before = 0;
        while let Some((_, used)) = decode(rest).unwrap() {
            ours.next().unwrap().unwrap();
            let consumed = sample.len() - ours.pending();
            assert_eq!(consumed - consumed_before, used);
            consumed_before = consumed;
            rest = &rest[used..];
            if rest.is_empty() {
                break;
            }
        }
        assert!(rest.is_empty());
    }
}
