//! DUMP / RESTORE payloads: `<type><value><2-byte RDB version LE><CRC-64 LE>`.

use crate::crc64::crc64;
use crate::reader::Reader;
use crate::value::Value;
use crate::writer::{encode_value, NotExpressible};

/// Why a payload is refused (RESTORE's "DUMP payload version or checksum are wrong").
#[derive(Debug, Clone, PartialEq)]
pub enum DumpError {
    /// Too short, wrong version or wrong checksum.
    BadFooter,
    /// The value does not decode.
    BadValue(String),
}

/// Encodes `value` as Redis 7.0's DUMP does (RDB version 10).
pub fn encode(value: &Value) -> Result<Vec<u8>, NotExpressible> {
    let mut body = Vec::new();
    let t = encode_value(&mut body, value, true)?;
    let mut out = Vec::with_capacity(body.len() + 11);
    out.push(t);
    out.extend_from_slice(&body);
    out.extend_from_slice(&10u16.to_le_bytes());
    let c = crc64(0, &out);
    out.extend_from_slice(&c.to_le_bytes());
    Ok(out)
}

/// Checks the footer (version at most `max_version`, CRC) and decodes the value; returns
/// the RDB type byte with it.
pub fn decode(payload: &[u8], max_version: u16) -> Result<(u8, Value), DumpError> {
    if payload.len() < 10 {
        return Err(DumpError::BadFooter);
    }
    let n = payload.len();
    let ver = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    if ver > max_version {
        return Err(DumpError::BadFooter);
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&payload[n - 8..]);
    let stored = u64::from_le_bytes(c);
    if stored != 0 && stored != crc64(0, &payload[..n - 8]) {
        return Err(DumpError::BadFooter);
    }
    let body = &payload[..n - 10];
    let mut r = Reader::new(body);
    r.set_version(ver as u32);
    let t = r
        .read_u8()
        .map_err(|e| DumpError::BadValue(e.check_message()))?;
    let v = r
        .read_object(t)
        .map_err(|e| DumpError::BadValue(e.check_message()))?;
    if r.offset() != body.len() as u64 {
        return Err(DumpError::BadValue("trailing bytes".into()));
    }
    Ok((t, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_dump_of_a_string() {
        // DUMP of SET k hello on Redis 7.0.15.
        let p = b"\x00\x05hello\x0a\x00";
        let mut full = p.to_vec();
        full.extend_from_slice(&crc64(0, p).to_le_bytes());
        assert_eq!(encode(&Value::String(b"hello".to_vec())).unwrap(), full);
        assert_eq!(
            decode(&full, 10).unwrap(),
            (0, Value::String(b"hello".to_vec()))
        );
        let mut bad = full.clone();
        bad[3] ^= 1;
        assert_eq!(decode(&bad, 10), Err(DumpError::BadFooter));
    }

    #[test]
    fn round_trips() {
        let vals = vec![
            Value::List((0..1000).map(|i| format!("e{i}").into_bytes()).collect()),
            Value::Set(vec![b"1".to_vec(), b"3".to_vec(), b"2".to_vec()]),
            Value::Set(vec![b"a".to_vec(), b"b".to_vec()]),
            Value::ZSet(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), -2.0)]),
        ];
        for v in vals {
            let p = encode(&v).unwrap();
            let (_, back) = decode(&p, 10).unwrap();
            match (&v, &back) {
                (Value::Set(a), Value::Set(b)) => {
                    let mut a = a.clone();
                    let mut b = b.clone();
                    a.sort();
                    b.sort();
                    assert_eq!(a, b);
                }
                (Value::ZSet(a), Value::ZSet(b)) => assert_eq!(a.len(), b.len()),
                _ => assert_eq!(v, back),
            }
        }
    }
}
