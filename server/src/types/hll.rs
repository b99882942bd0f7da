//! HyperLogLog: the string layout Redis 7.0 stores, and the algorithms over it.
//!
//! A HyperLogLog is a plain string value, so it must be byte-for-byte what Redis
//! writes (GET, DUMP and replication carry it across servers):
//!
//! - a 16-byte header: `HYLL`, the encoding byte (0 dense, 1 sparse), three zero
//!   bytes, then the cached cardinality as a little-endian u64 whose top bit set
//!   means "stale";
//! - dense: 16384 registers of 6 bits, packed from the least significant bit of each
//!   byte on (12288 bytes);
//! - sparse: run-length opcodes, `00xxxxxx` ZERO (1..64 empty registers),
//!   `01xxxxxx yyyyyyyy` XZERO (1..16384 empty registers), `1vvvvvxx` VAL (1..4
//!   registers holding 1..32).
//!
//! Elements are hashed with MurmurHash64A (seed 0xadc83b19); the low 14 bits choose
//! the register, the position of the first set bit in the rest is the value.
//! Cardinality uses Otmar Ertl's estimator (arXiv:1702.01284), as Redis 7.0 does.
//! Sparse updates split and merge opcodes exactly as Redis does, so the same
//! sequence of additions yields the same bytes.

/// Header length.
pub const HDR: usize = 16;
/// Register index bits.
pub const P: u32 = 14;
/// Hash bits left for the run of zeros.
pub const Q: u32 = 64 - P;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
/// Largest register value in the dense encoding.
const REGISTER_MAX: u8 = 63;
/// Length of a dense HyperLogLog string.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
/// Encoding byte values.
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2).
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// A sparse representation that does not describe exactly 16384 registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

// ---------------------------------------------------------------------------
// Hashing.

/// MurmurHash2, 64-bit version (endian neutral, as Redis's copy).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate().rev() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the length of its `0..01` pattern.
#[inline]
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------
// Header.

/// A new, empty HyperLogLog: sparse, one XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let l = XZERO_MAX_LEN - 1;
    v.push(0x40 | (l >> 8) as u8);
    v.push((l & 0xff) as u8);
    v
}

/// Redis's isHLLObjectOrReply checks on the bytes of a string value: long enough
/// for the header, the magic, a known encoding, and the exact length if dense.
pub fn is_valid(v: &[u8]) -> bool {
    v.len() >= HDR
        && &v[..4] == b"HYLL"
        && v[4] <= SPARSE
        && (v[4] != DENSE || v.len() == DENSE_SIZE)
}

/// The cached cardinality, if it is up to date.
#[inline]
pub fn cached_card(v: &[u8]) -> Option<u64> {
    if v[15] & 0x80 != 0 {
        return None;
    }
    Some(u64::from_le_bytes(v[8..16].try_into().expect("8 bytes")))
}

/// Stores a freshly computed cardinality in the header.
#[inline]
pub fn set_cached_card(v: &mut [u8], card: u64) {
    v[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale (the other bytes stay as they were).
#[inline]
pub fn invalidate_cache(v: &mut [u8]) {
    v[15] |= 0x80;
}

// ---------------------------------------------------------------------------
// Dense registers.

/// Register `i` of the dense registers `r` (which are `DENSE_SIZE - HDR` bytes).
#[inline]
pub fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = r[byte] as u32;
    let b1 = r.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

/// Sets register `i` of the dense registers `r` to `val` (at most 63).
#[inline]
pub fn dense_put(r: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = val as u32;
    r[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    r[byte] |= (v << fb) as u8;
    if let Some(b1) = r.get_mut(byte + 1) {
        *b1 &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b1 |= (v >> (8 - fb)) as u8;
    }
}

/// Raises register `i` to `count` if it is lower; true if it changed.
#[inline]
pub fn dense_set(r: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(r, i) {
        dense_put(r, i, count);
        true
    } else {
        false
    }
}

/// Adds the histogram of the dense registers to `histo`.
fn dense_histo(r: &[u8], histo: &mut [u32; 64]) {
    // 16 registers in every 12 bytes.
    for c in r.chunks_exact(12) {
        let w = |k: usize| c[k] as u32;
        let regs = [
            w(0) & 63,
            (w(0) >> 6 | w(1) << 2) & 63,
            (w(1) >> 4 | w(2) << 4) & 63,
            (w(2) >> 2) & 63,
            w(3) & 63,
            (w(3) >> 6 | w(4) << 2) & 63,
            (w(4) >> 4 | w(5) << 4) & 63,
            (w(5) >> 2) & 63,
            w(6) & 63,
            (w(6) >> 6 | w(7) << 2) & 63,
            (w(7) >> 4 | w(8) << 4) & 63,
            (w(8) >> 2) & 63,
            w(9) & 63,
            (w(9) >> 6 | w(10) << 2) & 63,
            (w(10) >> 4 | w(11) << 4) & 63,
            (w(11) >> 2) & 63,
        ];
        for x in regs {
            histo[x as usize] += 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Sparse opcodes.

#[inline]
fn is_zero(op: u8) -> bool {
    op & 0xc0 == 0
}

#[inline]
fn is_xzero(op: u8) -> bool {
    op & 0xc0 == 0x40
}

#[inline]
fn is_val(op: u8) -> bool {
    op & 0x80 != 0
}

#[inline]
fn zero_len(op: u8) -> usize {
    (op & 0x3f) as usize + 1
}

/// XZERO's length; the byte after the string reads as 0 (Redis's strings end in NUL).
#[inline]
fn xzero_len(v: &[u8], p: usize) -> usize {
    ((((v[p] & 0x3f) as usize) << 8) | v.get(p + 1).copied().unwrap_or(0) as usize) + 1
}

#[inline]
fn val_value(op: u8) -> u8 {
    ((op >> 2) & 0x1f) + 1
}

#[inline]
fn val_len(op: u8) -> usize {
    (op & 0x3) as usize + 1
}

#[inline]
fn val_op(val: u8, len: usize) -> u8 {
    ((val - 1) << 2 | (len as u8 - 1)) | 0x80
}

/// Writes a ZERO or XZERO opcode for `len` registers at `seq[n..]`; returns its size.
fn zero_run(seq: &mut [u8], n: usize, len: usize) -> usize {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        seq[n] = ((l >> 8) as u8) | 0x40;
        seq[n + 1] = (l & 0xff) as u8;
        2
    } else {
        seq[n] = (len - 1) as u8;
        1
    }
}

/// Calls `f(first_register, run_length, value)` for each opcode of a sparse
/// HyperLogLog (values 0 for ZERO/XZERO); stops early when `f` returns false.
/// Returns the number of registers walked.
fn sparse_walk(v: &[u8], mut f: impl FnMut(usize, usize, u8) -> bool) -> usize {
    let mut idx = 0usize;
    let mut p = HDR;
    while p < v.len() {
        let op = v[p];
        let (run, val, oplen) = if is_zero(op) {
            (zero_len(op), 0, 1)
        } else if is_xzero(op) {
            (xzero_len(v, p), 0, 2)
        } else {
            (val_len(op), val_value(op), 1)
        };
        if !f(idx, run, val) {
            return idx;
        }
        idx += run;
        p += oplen;
    }
    idx
}

/// Converts a sparse HyperLogLog to dense in place (the header, cached cardinality
/// included, is kept). Nothing changes if it is already dense.
pub fn sparse_to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&v[..HDR]);
    dense[4] = DENSE;
    let regs = &mut dense[HDR..];
    let mut overflow = false;
    let idx = sparse_walk(v, |first, run, val| {
        if val == 0 {
            return true;
        }
        if first + run > REGISTERS {
            overflow = true;
            return false;
        }
        for i in first..first + run {
            dense_put(regs, i, val);
        }
        true
    });
    if overflow || idx != REGISTERS {
        return Err(Corrupt);
    }
    *v = dense;
    Ok(())
}

/// Raises register `index` of a sparse HyperLogLog to `count` (Redis's
/// hllSparseSet): splits the opcode covering it, merges equal neighbours, and
/// promotes to dense when the value does not fit a VAL opcode or the string would
/// grow past `max_bytes`. Ok(true) if the register changed.
pub fn sparse_set(
    v: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: the opcode covering `index`.
    let end = v.len();
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    while p < end {
        let op = v[p];
        let oplen;
        if is_zero(op) {
            span = zero_len(op);
            oplen = 1;
        } else if is_val(op) {
            span = val_len(op);
            oplen = 1;
        } else {
            span = xzero_len(v, p);
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let op = v[p];
    let oldlen = if is_xzero(op) { 2 } else { 1 };
    let has_next = p + oldlen < end;

    // Step 2: the trivial cases, then the split.
    let mut done = false;
    if is_val(op) {
        if val_value(op) >= count {
            return Ok(false);
        }
        if val_len(op) == 1 {
            v[p] = val_op(count, 1);
            done = true;
        }
    } else if is_zero(op) && zero_len(op) == 1 {
        v[p] = val_op(count, 1);
        done = true;
    }
    if !done {
        let mut seq = [0u8; 5];
        let mut n = 0;
        let last = first + span - 1;
        if !is_val(op) {
            if index != first {
                n += zero_run(&mut seq, n, index - first);
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                n += zero_run(&mut seq, n, last - index);
            }
        } else {
            let cur = val_value(op);
            if index != first {
                seq[n] = val_op(cur, index - first);
                n += 1;
            }
            seq[n] = val_op(count, 1);
            n += 1;
            if index != last {
                seq[n] = val_op(cur, last - index);
                n += 1;
            }
        }
        // Step 3: put the new sequence in place of the old opcode.
        let new_len = end + n - oldlen;
        if n > oldlen && new_len > max_bytes {
            return promote(v, index, count);
        }
        if has_next {
            v.splice(p..p + oldlen, seq[..n].iter().copied());
        } else {
            // The opcode was the last one (an XZERO cut short by the end of the
            // string loses what falls past the new length, as in Redis).
            v.truncate(p);
            v.extend_from_slice(&seq[..n]);
            v.truncate(new_len);
        }
    }

    // Step 4: merge adjacent VAL opcodes of equal value, looking at up to five
    // opcodes from the one before the change.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < v.len() {
        if scan == 0 {
            break;
        }
        scan -= 1;
        let op = v[p];
        if is_xzero(op) {
            p += 2;
            continue;
        }
        if is_zero(op) {
            p += 1;
            continue;
        }
        if p + 1 < v.len() && is_val(v[p + 1]) {
            let next = v[p + 1];
            if val_value(op) == val_value(next) {
                let len = val_len(op) + val_len(next);
                if len <= VAL_MAX_LEN {
                    v[p + 1] = val_op(val_value(op), len);
                    v.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(v);
    Ok(true)
}

fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(v)?;
    dense_set(&mut v[HDR..], index, count);
    Ok(true)
}

/// Adds an element (Redis's hllAdd): Ok(true) if a register changed.
#[inline]
pub fn add(v: &mut Vec<u8>, ele: &[u8], sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    match v[4] {
        DENSE => Ok(dense_set(&mut v[HDR..], index, count)),
        _ => sparse_set(v, index, count, sparse_max_bytes),
    }
}

/// Raises `max[i]` to register i of the HyperLogLog `v` (validated), for every i.
pub fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        let r = &v[HDR..];
        for (i, m) in max.iter_mut().enumerate() {
            let val = dense_get(r, i);
            if val > *m {
                *m = val;
            }
        }
        return Ok(());
    }
    let mut overflow = false;
    let idx = sparse_walk(v, |first, run, val| {
        if val == 0 {
            return true;
        }
        if first + run > REGISTERS {
            overflow = true;
            return false;
        }
        for m in &mut max[first..first + run] {
            if val > *m {
                *m = val;
            }
        }
        true
    });
    if overflow || idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Estimation.

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram.
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    // llroundl, then the double it is stored in, then the cast to uint64_t, as
    // x86-64 does them: a value out of the long long range becomes 2^63.
    let r = (ALPHA_INF * m * m / z).round();
    if (0.0..9_223_372_036_854_775_808.0).contains(&r) {
        r as u64
    } else {
        1u64 << 63
    }
}

/// The estimated cardinality of a validated HyperLogLog (Redis's hllCount);
/// a sparse one that does not cover exactly 16384 registers is corrupt.
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    if v[4] == DENSE {
        dense_histo(&v[HDR..], &mut histo);
    } else {
        let idx = sparse_walk(v, |_, run, val| {
            histo[val as usize] = histo[val as usize].wrapping_add(run as u32);
            true
        });
        if idx != REGISTERS {
            return Err(Corrupt);
        }
    }
    Ok(estimate(&histo))
}

/// The estimated cardinality of one register per byte (PFCOUNT of many keys).
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    let mut histo = [0u32; 64];
    for c in max.chunks_exact(8) {
        if c == [0u8; 8] {
            histo[0] += 8;
        } else {
            for &b in c {
                histo[b as usize & 63] += 1;
            }
        }
    }
    estimate(&histo)
}

/// PFDEBUG DECODE's text for a sparse HyperLogLog: `z:len`, `Z:len`, `v:val,len`.
pub fn decode(v: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let mut p = HDR;
    while p < v.len() {
        let op = v[p];
        if is_zero(op) {
            let _ = write!(s, "z:{} ", zero_len(op));
            p += 1;
        } else if is_xzero(op) {
            let _ = write!(s, "Z:{} ", xzero_len(v, p));
            p += 2;
        } else {
            let _ = write!(s, "v:{},{} ", val_value(op), val_len(op));
            p += 1;
        }
    }
    s.truncate(s.trim_end_matches(' ').len());
    s
}

/// PFSELFTEST: register access, then dense and sparse estimates that agree and stay
/// within bounds while adding ten million elements. Err carries the failure text.
pub fn self_test(sparse_max_bytes: usize) -> Result<(), String> {
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut bytes = vec![0u8; REGISTERS];
    let mut rng = fastrand::Rng::new();
    for _ in 0..1000 {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = rng.u8(..) & REGISTER_MAX;
            *b = r;
            dense_put(&mut regs, i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let val = dense_get(&regs, i);
            if val != b {
                return Err(format!(
                    "TESTFAILED Register {i} should be {b} but is {val}"
                ));
            }
        }
    }
    let mut dense = new_sparse();
    sparse_to_dense(&mut dense).map_err(|_| "TESTFAILED sparse encoding not used".to_string())?;
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.u64(..);
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, run) = pat_len(&ele);
        dense_set(&mut dense[HDR..], index, run);
        if sparse[4] == DENSE {
            dense_set(&mut sparse[HDR..], index, run);
        } else {
            let _ = sparse_set(&mut sparse, index, run, sparse_max_bytes);
        }
        if j != checkpoint {
            continue;
        }
        if j < (sparse_max_bytes / 2) as u64 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if card != count(&sparse).unwrap_or(u64::MAX) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let mut maxerr = (relerr * 6.0 * checkpoint as f64).ceil() as u64;
        if j == 10 {
            maxerr = 1;
        }
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_tails_and_pattern_lengths() {
        // The exact values are checked against Redis in tests/server_hll_geo.rs
        // (byte-identical strings after the same PFADDs).
        let (i, c) = pat_len(b"a");
        assert!(i < REGISTERS && (1..=51).contains(&c));
        // Every tail length takes its own path.
        let mut seen = std::collections::HashSet::new();
        for n in 0..20 {
            seen.insert(murmur64a(&vec![7u8; n], 0xadc8_3b19));
        }
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn new_sparse_layout() {
        let v = new_sparse();
        assert_eq!(v.len(), 18);
        assert_eq!(&v[16..], &[0x7f, 0xff]);
        assert!(is_valid(&v));
        assert_eq!(count(&v), Ok(0));
        assert_eq!(cached_card(&v), Some(0));
        assert_eq!(decode(&v), "Z:16384");
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut r = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_put(&mut r, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&r, i), (i % 64) as u8);
        }
        let mut h = [0u32; 64];
        dense_histo(&r, &mut h);
        assert!(h.iter().all(|&n| n == 256));
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut s = new_sparse();
        let mut d = new_sparse();
        sparse_to_dense(&mut d).unwrap();
        for n in 0..2000u32 {
            let e = n.to_string();
            add(&mut s, e.as_bytes(), 3000).unwrap();
            add(&mut d, e.as_bytes(), 3000).unwrap();
            if n % 97 == 0 {
                assert_eq!(count(&s), count(&d));
            }
        }
        assert_eq!(s[4], DENSE, "promoted past 3000 bytes");
        assert_eq!(&s[HDR..], &d[HDR..]);
        let c = count(&s).unwrap();
        assert!((1900..2100).contains(&c), "{c}");
    }

    #[test]
    fn sparse_split_and_merge() {
        let mut v = new_sparse();
        assert_eq!(sparse_set(&mut v, 100, 3, 3000), Ok(true));
        assert_eq!(decode(&v), "Z:100 v:3,1 Z:16283");
        assert_eq!(sparse_set(&mut v, 101, 3, 3000), Ok(true));
        assert_eq!(decode(&v), "Z:100 v:3,2 Z:16282");
        assert_eq!(sparse_set(&mut v, 101, 2, 3000), Ok(false));
        assert_eq!(sparse_set(&mut v, 0, 1, 3000), Ok(true));
        assert_eq!(decode(&v), "v:1,1 Z:99 v:3,2 Z:16282");
        assert_eq!(v[15] & 0x80, 0x80);
        let mut m = [0u8; REGISTERS];
        merge_into(&mut m, &v).unwrap();
        assert_eq!((m[0], m[1], m[100], m[101], m[102]), (1, 0, 3, 3, 0));
    }

    #[test]
    fn corrupt_sparse_is_detected() {
        let mut v = new_sparse();
        v.extend_from_slice(b"hello");
        assert_eq!(count(&v), Err(Corrupt));
        let mut m = [0u8; REGISTERS];
        assert_eq!(merge_into(&mut m, &v), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut v), Err(Corrupt));
        let mut short = new_sparse();
        short.pop();
        // Reads past the end as Redis reads its NUL terminator: no panic.
        let _ = count(&short);
        let _ = sparse_set(&mut short, 16000, 3, 3000);
    }

    #[test]
    fn estimator_edges() {
        let mut h = [0u32; 64];
        h[0] = REGISTERS as u32;
        assert_eq!(estimate(&h), 0);
        let mut h = [0u32; 64];
        h[63] = REGISTERS as u32;
        assert_eq!(estimate(&h), 1 << 63);
    }
}
