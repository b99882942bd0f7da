//! RDB version 10 writer, with the encodings Redis 7.0 chooses under its default
//! configuration: integers and LZF for strings, quicklist v2 (listpack nodes of up to 8 KB)
//! for lists, intset for small integer sets, listpack for small hashes (up to 512 fields of up to 64 bytes) and sorted sets (128 members).

use crate::crc64::crc64;
use crate::encodings::{intset, listpack, parse_strict_i64};
use crate::reader::opcodes;
use crate::value::{types, Stream, Value};
use std::io::{self, Write};

/// Writer options (Redis's `rdbcompression` and `rdbchecksum`).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Compress strings longer than 20 bytes with LZF when it saves space.
    pub compression: bool,
    /// Write the CRC-64 trailer (else 8 zero bytes).
    pub checksum: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compression: true,
            checksum: true,
        }
    }
}

/// Why a value cannot be written as RDB 10.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotExpressible(pub String);

impl std::fmt::Display for NotExpressible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Encodes a length.
pub fn encode_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Encodes a string the way `rdbSaveRawString` does.
pub fn encode_string(out: &mut Vec<u8>, s: &[u8], compression: bool) {
    if s.len() <= 11 {
        if let Some(v) = parse_strict_i64(s) {
            if (-(1 << 7)..(1 << 7)).contains(&v) {
                out.extend_from_slice(&[0xc0, v as u8]);
                return;
            } else if (-(1 << 15)..(1 << 15)).contains(&v) {
                out.push(0xc1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
                return;
            } else if (-(1i64 << 31)..(1i64 << 31)).contains(&v) {
                out.push(0xc2);
                out.extend_from_slice(&(v as i32).to_le_bytes());
                return;
            }
        }
    }
    if compression && s.len() > 20 {
        if let Some(c) = crate::lzf::compress(s) {
            out.push(0xc3);
            encode_len(out, c.len() as u64);
            encode_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    encode_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Encodes a value for RDB 10: returns the type byte and appends the payload to `out`.
pub fn encode_value(out: &mut Vec<u8>, v: &Value, compression: bool) -> Result<u8, NotExpressible> {
    match v {
        Value::String(s) => {
            encode_string(out, s, compression);
            Ok(types::STRING)
        }
        Value::List(items) => {
            // Quicklist v2 nodes of at most 8 KB (list-max-listpack-size -2); elements
            // bigger than that go in plain nodes.
            let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut cur = listpack::Builder::new();
            for it in items {
                if it.len() >= 8192 {
                    if !cur.is_empty() {
                        nodes.push((2, std::mem::take(&mut cur).finish()));
                    }
                    nodes.push((1, it.clone()));
                    continue;
                }
                let mut probe = cur.clone();
                probe.push(it);
                if probe.byte_len() > 8192 && !cur.is_empty() {
                    nodes.push((2, std::mem::take(&mut cur).finish()));
                    cur.push(it);
                } else {
                    cur = probe;
                }
            }
            if !cur.is_empty() {
                nodes.push((2, cur.finish()));
            }
            encode_len(out, nodes.len() as u64);
            for (container, data) in nodes {
                encode_len(out, container);
                encode_string(out, &data, compression);
            }
            Ok(types::LIST_QUICKLIST_2)
        }
        Value::Set(members) => {
            let ints: Option<Vec<i64>> = members.iter().map(|m| parse_strict_i64(m)).collect();
            match ints {
                Some(mut v) if v.len() <= 512 => {
                    v.sort_unstable();
                    v.dedup();
                    encode_string(out, &intset::encode(&v), compression);
                    Ok(types::SET_INTSET)
                }
                _ => {
                    encode_len(out, members.len() as u64);
                    for m in members {
                        encode_string(out, m, compression);
                    }
                    Ok(types::SET)
                }
            }
        }
        Value::ZSet(items) => {
            if items.len() <= 128 && items.iter().all(|(m, _)| m.len() <= 64) {
                let mut sorted: Vec<&(Vec<u8>, f64)> = items.iter().collect();
                sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                let mut b = listpack::Builder::new();
                for (m, s) in sorted {
                    b.push(m);
                    b.push(format_score(*s).as_bytes());
                }
                encode_string(out, &b.finish(), compression);
                Ok(types::ZSET_LISTPACK)
            } else {
                encode_len(out, items.len() as u64);
                // Redis writes from the tail of the skiplist (highest score first).
                let mut sorted: Vec<&(Vec<u8>, f64)> = items.iter().collect();
                sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
                for (m, s) in sorted {
                    encode_string(out, m, compression);
                    out.extend_from_slice(&s.to_le_bytes());
                }
                Ok(types::ZSET_2)
            }
        }
        Value::Hash(fields) => {
            if fields.iter().any(|f| f.expire_ms.is_some()) {
                return Err(NotExpressible(
                    "hash fields with TTLs (Redis 7.4) have no RDB 10 form".into(),
                ));
            }
            if fields.len() <= 512
                && fields
                    .iter()
                    .all(|f| f.field.len() <= 64 && f.value.len() <= 64)
            {
                let mut b = listpack::Builder::new();
                for f in fields {
                    b.push(&f.field);
                    b.push(&f.value);
                }
                encode_string(out, &b.finish(), compression);
                Ok(types::HASH_LISTPACK)
            } else {
                encode_len(out, fields.len() as u64);
                for f in fields {
                    encode_string(out, &f.field, compression);
                    encode_string(out, &f.value, compression);
                }
                Ok(types::HASH)
            }
        }
        Value::Stream(s) => {
            encode_stream(out, s, compression);
            Ok(types::STREAM_LISTPACKS_2)
        }
        Value::Module { name, .. } => Err(NotExpressible(format!(
            "module value of type '{name}' cannot be re-encoded (its module is needed)"
        ))),
    }
}

/// A score as Redis 7.0 stores it in a listpack (`d2string`: integers in decimal when
/// within ±2^62, else `%.17g`).
pub fn format_score(s: f64) -> String {
    if s.is_nan() {
        return "nan".into();
    }
    if s.is_infinite() {
        return if s > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if s == 0.0 {
        return if s.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let half = (i64::MAX / 2) as f64;
    if (-half..=half).contains(&s) && s == s.trunc() {
        return format!("{}", s as i64);
    }
    format_g17(s)
}

/// C's `%.17g`.
pub fn format_g17(v: f64) -> String {
    let sci = format!("{v:.16e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |t: &str| -> String {
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t.to_string()
        }
    };
    if !(-4..17).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", trim(mant), sign, exp.abs())
    } else {
        trim(&format!("{:.*}", (16 - exp) as usize, v))
    }
}

fn encode_stream(out: &mut Vec<u8>, s: &Stream, compression: bool) {
    encode_len(out, s.nodes.len() as u64);
    for (id, lp) in &s.nodes {
        encode_string(out, &id.to_be(), compression);
        encode_string(out, lp, compression);
    }
    encode_len(out, s.length);
    encode_len(out, s.last_id.ms);
    encode_len(out, s.last_id.seq);
    let first = s
        .first_id
        .unwrap_or_else(|| s.entries().first().map(|e| e.id).unwrap_or_default());
    let maxdel = s.max_deleted_id.unwrap_or_default();
    encode_len(out, first.ms);
    encode_len(out, first.seq);
    encode_len(out, maxdel.ms);
    encode_len(out, maxdel.seq);
    encode_len(out, s.entries_added.unwrap_or(s.length));
    encode_len(out, s.groups.len() as u64);
    for g in &s.groups {
        encode_string(out, &g.name, compression);
        encode_len(out, g.last_id.ms);
        encode_len(out, g.last_id.seq);
        // SCG_INVALID_ENTRIES_READ when unknown (v1 source).
        encode_len(out, g.entries_read.unwrap_or(u64::MAX));
        encode_len(out, g.pending.len() as u64);
        for p in &g.pending {
            out.extend_from_slice(&p.id.to_be());
            out.extend_from_slice(&p.delivery_time.to_le_bytes());
            encode_len(out, p.delivery_count);
        }
        encode_len(out, g.consumers.len() as u64);
        for c in &g.consumers {
            encode_string(out, &c.name, compression);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            encode_len(out, c.pending.len() as u64);
            for id in &c.pending {
                out.extend_from_slice(&id.to_be());
            }
        }
    }
}

/// A streaming RDB 10 writer: header, records, EOF and checksum.
pub struct Writer<W: Write> {
    out: W,
    crc: u64,
    opts: Options,
    buf: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// Writes the `REDIS0010` header.
    pub fn new(out: W, opts: Options) -> io::Result<Writer<W>> {
        let mut w = Writer {
            out,
            crc: 0,
            opts,
            buf: Vec::new(),
        };
        w.raw(b"REDIS0010")?;
        Ok(w)
    }

    fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc = crc64(self.crc, b);
        self.out.write_all(b)
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        let b = std::mem::take(&mut self.buf);
        self.raw(&b)
    }

    /// An AUX field.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.buf.push(opcodes::AUX);
        encode_string(&mut self.buf, key, false);
        encode_string(&mut self.buf, value, false);
        self.flush_buf()
    }

    /// SELECTDB.
    pub fn select_db(&mut self, db: u64) -> io::Result<()> {
        self.buf.push(opcodes::SELECTDB);
        encode_len(&mut self.buf, db);
        self.flush_buf()
    }

    /// RESIZEDB.
    pub fn resize_db(&mut self, size: u64, expires: u64) -> io::Result<()> {
        self.buf.push(opcodes::RESIZEDB);
        encode_len(&mut self.buf, size);
        encode_len(&mut self.buf, expires);
        self.flush_buf()
    }

    /// A FUNCTION2 record.
    pub fn function(&mut self, payload: &[u8]) -> io::Result<()> {
        self.buf.push(opcodes::FUNCTION2);
        encode_string(&mut self.buf, payload, self.opts.compression);
        self.flush_buf()
    }

    /// A key (with optional expiry in unix ms). Nothing is written when the value has no
    /// RDB 10 form.
    pub fn key(
        &mut self,
        key: &[u8],
        value: &Value,
        expire_ms: Option<i64>,
    ) -> io::Result<Result<(), NotExpressible>> {
        let mut body = Vec::new();
        let t = match encode_value(&mut body, value, self.opts.compression) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        if let Some(ms) = expire_ms {
            self.buf.push(opcodes::EXPIRETIME_MS);
            self.buf.extend_from_slice(&ms.to_le_bytes());
        }
        self.buf.push(t);
        encode_string(&mut self.buf, key, self.opts.compression);
        self.buf.extend_from_slice(&body);
        self.flush_buf()?;
        Ok(Ok(()))
    }

    /// EOF and checksum; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.raw(&[opcodes::EOF])?;
        let c = if self.opts.checksum { self.crc } else { 0 };
        self.out.write_all(&c.to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_like_redis() {
        assert_eq!(format_score(1.0), "1");
        assert_eq!(format_score(2.5), "2.5");
        assert_eq!(format_score(0.1), "0.10000000000000001");
        assert_eq!(format_score(-3.0), "-3");
        assert_eq!(format_score(1e300), "1.0000000000000001e+300");
        assert_eq!(format_score(1.5e-7), "1.4999999999999999e-07");
        assert_eq!(format_score(f64::INFINITY), "inf");
    }
}
