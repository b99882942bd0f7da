//! Skipping whole replies without decoding them.
//!
//! A load generator only needs to know where each reply ends and whether it
//! was an error; building a [`crate::RespValue`] per reply (and per element of
//! an LRANGE reply) would make the client, not the server, the bottleneck.

/// What [`skip_reply`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Bytes taken by the reply (attributes before it included).
    pub len: usize,
    /// The reply is an error (`-` simple error or `!` blob error).
    pub error: bool,
    /// The reply is an out-of-band RESP3 push (`>`), not the answer to a request.
    pub push: bool,
}

/// Why a buffer cannot hold a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipError(pub String);

/// Finds the end of the first complete reply in `buf`.
///
/// Returns `Ok(None)` while the reply is incomplete. Nesting is walked with an
/// explicit counter of values still owed, so deep aggregates cannot overflow
/// the stack.
pub fn skip_reply(buf: &[u8]) -> Result<Option<Skipped>, SkipError> {
    let mut pos = 0usize;
    // Values still to be skipped before the reply is complete.
    let mut owed: u64 = 1;
    let mut first = true;
    let mut out = Skipped {
        len: 0,
        error: false,
        push: false,
    };
    while owed > 0 {
        let Some(&kind) = buf.get(pos) else {
            return Ok(None);
        };
        let Some(eol) = find_crlf(buf, pos + 1) else {
            return Ok(None);
        };
        let line = &buf[pos + 1..eol];
        pos = eol + 2;
        owed -= 1;
        match kind {
            b'+' | b':' | b'_' | b',' | b'#' | b'(' => {}
            b'-' => {
                if first {
                    out.error = true;
                }
            }
            b'$' | b'=' | b'!' => {
                let n = parse_len(line)?;
                if kind == b'!' && first {
                    out.error = true;
                }
                if n >= 0 {
                    let end = pos + n as usize + 2;
                    if buf.len() < end {
                        return Ok(None);
                    }
                    pos = end;
                }
            }
            b'*' | b'~' | b'>' => {
                let n = parse_len(line)?;
                if kind == b'>' && first {
                    out.push = true;
                }
                if n > 0 {
                    owed += n as u64;
                }
            }
            b'%' => {
                let n = parse_len(line)?;
                if n > 0 {
                    owed += 2 * n as u64;
                }
            }
            b'|' => {
                // Attributes: a map, then the value they describe.
                let n = parse_len(line)?;
                owed += 2 * n.max(0) as u64 + 1;
                // The value after the attributes decides error/push.
                if first {
                    let inner = skip_attribute_body(buf, pos, n.max(0) as u64)?;
                    let Some(after) = inner else {
                        return Ok(None);
                    };
                    let rest = skip_reply(&buf[after..])?;
                    let Some(r) = rest else {
                        return Ok(None);
                    };
                    return Ok(Some(Skipped {
                        len: after + r.len,
                        error: r.error,
                        push: r.push,
                    }));
                }
            }
            other => {
                return Err(SkipError(format!(
                    "Protocol error, got {:?} as reply type byte",
                    other as char
                )))
            }
        }
        first = false;
    }
    out.len = pos;
    Ok(Some(out))
}

/// Skips the `2 * pairs` values of an attribute map starting at `pos`.
fn skip_attribute_body(buf: &[u8], mut pos: usize, pairs: u64) -> Result<Option<usize>, SkipError> {
    for _ in 0..2 * pairs {
        match skip_reply(&buf[pos..])? {
            Some(s) => pos += s.len,
            None => return Ok(None),
        }
    }
    Ok(Some(pos))
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < buf.len() {
        match buf[i..].iter().position(|&b| b == b'\r') {
            Some(off) => {
                let at = i + off;
                if at + 1 >= buf.len() {
                    return None;
                }
                if buf[at + 1] == b'\n' {
                    return Some(at);
                }
                i = at + 1;
            }
            None => return None,
        }
    }
    None
}

fn parse_len(line: &[u8]) -> Result<i64, SkipError> {
    crate::num::parse_i64(line)
        .filter(|&n| n >= -1)
        .ok_or_else(|| SkipError("Protocol error, bad length".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(b: &[u8]) -> Option<Skipped> {
        skip_reply(b).unwrap()
    }

    #[test]
    fn simple_kinds() {
        assert_eq!(skip(b"+OK\r\n").unwrap().len, 5);
        let e = skip(b"-ERR x\r\n+OK\r\n").unwrap();
        assert_eq!((e.len, e.error), (8, true));
        assert_eq!(skip(b":12\r\n").unwrap().len, 5);
        assert_eq!(skip(b"$-1\r\n").unwrap().len, 5);
        assert_eq!(skip(b"$3\r\nfoo\r\n").unwrap().len, 9);
        assert!(skip(b"!3\r\nbad\r\n").unwrap().error);
    }

    #[test]
    fn incomplete_replies_wait() {
        for b in [
            &b"+OK\r"[..],
            b"$3\r\nfo",
            b"*2\r\n:1\r\n",
            b"*",
            b"$3\r\nfoo\r",
        ] {
            assert_eq!(skip_reply(b).unwrap(), None, "{:?}", b);
        }
    }

    #[test]
    fn aggregates_and_nesting() {
        let b = b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n%1\r\n+k\r\n+v\r\nEXTRA";
        let s = skip(b).unwrap();
        assert_eq!(&b[s.len..], b"EXTRA");
        assert!(!s.error);
        assert_eq!(skip(b"*0\r\n").unwrap().len, 4);
        assert_eq!(skip(b"*-1\r\n").unwrap().len, 5);
        // An error nested in an array does not make the reply an error.
        assert!(!skip(b"*1\r\n-ERR x\r\n").unwrap().error);
    }

    #[test]
    fn push_and_attributes() {
        let p = skip(b">2\r\n+invalidate\r\n*1\r\n$1\r\nk\r\n").unwrap();
        assert!(p.push);
        let b = b"|1\r\n+ttl\r\n:3\r\n-ERR x\r\n";
        let a = skip(b).unwrap();
        assert_eq!((a.len, a.error), (b.len(), true));
        assert_eq!(skip_reply(b"|1\r\n+ttl\r\n:3\r\n").unwrap(), None);
    }

    #[test]
    fn bad_type_and_length() {
        assert!(skip_reply(b"?x\r\n").is_err());
        assert!(skip_reply(b"$-5\r\n").is_err());
        assert!(skip_reply(b"*x\r\n").is_err());
    }

    #[test]
    fn agrees_with_the_decoder() {
        let mut buf = Vec::new();
        let mut lens = Vec::new();
        let samples: [&[u8]; 4] = [
            b"+PONG\r\n",
            b"*2\r\n$1\r\na\r\n$-1\r\n",
            b",1.5\r\n",
            b"%1\r\n:1\r\n#t\r\n",
        ];
        for s in samples {
            buf.extend_from_slice(s);
            lens.push(s.len());
        }
        let mut dec = crate::ReplyDecoder::new();
        dec.feed(&buf);
        let mut pos = 0;
        for l in lens {
            let s = skip(&buf[pos..]).unwrap();
            assert_eq!(s.len, l);
            assert!(dec.next().unwrap().is_some());
            pos += l;
        }
    }
}
