//! A decoded reply, as clients (redis-cli, redis-benchmark, tests) see it.

/// One RESP2 or RESP3 reply. Texts are kept as the bytes that came on the wire so a
/// client can print them exactly as Redis's redis-cli does.
#[derive(Debug, Clone, PartialEq)]
pub enum RespValue {
    /// `+OK`
    Status(Vec<u8>),
    /// `-ERR ...` and RESP3 blob errors (`!`).
    Error(Vec<u8>),
    /// `:42`
    Integer(i64),
    /// `$3\r\nfoo`
    Bulk(Vec<u8>),
    /// RESP2 `$-1` / `*-1` and RESP3 `_`.
    Nil,
    /// `*N`
    Array(Vec<RespValue>),
    /// RESP3 `%N`: key/value pairs in wire order.
    Map(Vec<(RespValue, RespValue)>),
    /// RESP3 `~N`
    Set(Vec<RespValue>),
    /// RESP3 `,` with the text as sent (`1.5`, `inf`, ...).
    Double(Vec<u8>),
    /// RESP3 `#t` / `#f`
    Boolean(bool),
    /// RESP3 `(` with the digits as sent.
    BigNumber(Vec<u8>),
    /// RESP3 `=`: a three-letter format (`txt`, `mkd`) and the text.
    Verbatim { format: Vec<u8>, text: Vec<u8> },
    /// RESP3 `>N`: out-of-band data (pub/sub messages, invalidations).
    Push(Vec<RespValue>),
    /// RESP3 `|N` attributes and the reply they were attached to.
    Attribute {
        attrs: Vec<(RespValue, RespValue)>,
        value: Box<RespValue>,
    },
}

impl RespValue {
    /// True for `-ERR` style replies.
    pub fn is_error(&self) -> bool {
        matches!(self, RespValue::Error(_))
    }

    /// The bytes of a string-like reply (status, error, bulk, double, big number, verbatim).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            RespValue::Status(b)
            | RespValue::Error(b)
            | RespValue::Bulk(b)
            | RespValue::Double(b)
            | RespValue::BigNumber(b) => Some(b),
            RespValue::Verbatim { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The elements of an array, set or push reply.
    pub fn as_slice(&self) -> Option<&[RespValue]> {
        match self {
            RespValue::Array(v) | RespValue::Set(v) | RespValue::Push(v) => Some(v),
            _ => None,
        }
    }

    /// Encodes this value back to RESP3 wire bytes (RESP2 shapes stay RESP2).
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn head(out: &mut Vec<u8>, t: u8, n: usize) {
            out.push(t);
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        fn line(out: &mut Vec<u8>, t: u8, b: &[u8]) {
            out.push(t);
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        match self {
            RespValue::Status(s) => line(out, b'+', s),
            RespValue::Error(s) if s.contains(&b'\r') || s.contains(&b'\n') => {
                // Only a blob error can carry a line break.
                head(out, b'!', s.len());
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            RespValue::Error(s) => line(out, b'-', s),
            RespValue::Integer(i) => line(out, b':', i.to_string().as_bytes()),
            RespValue::Bulk(b) => {
                head(out, b'$', b.len());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            RespValue::Nil => out.extend_from_slice(b"_\r\n"),
            RespValue::Array(v) | RespValue::Set(v) | RespValue::Push(v) => {
                let t = match self {
                    RespValue::Array(_) => b'*',
                    RespValue::Set(_) => b'~',
                    _ => b'>',
                };
                head(out, t, v.len());
                v.iter().for_each(|e| e.encode(out));
            }
            RespValue::Map(m) => {
                head(out, b'%', m.len());
                for (k, v) in m {
                    k.encode(out);
                    v.encode(out);
                }
            }
            RespValue::Double(d) => line(out, b',', d),
            RespValue::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            RespValue::BigNumber(n) => line(out, b'(', n),
            RespValue::Verbatim { format, text } => {
                head(out, b'=', format.len() + 1 + text.len());
                out.extend_from_slice(format);
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            RespValue::Attribute { attrs, value } => {
                head(out, b'|', attrs.len());
                for (k, v) in attrs {
                    k.encode(out);
                    v.encode(out);
                }
                value.encode(out);
            }
        }
    }
}
