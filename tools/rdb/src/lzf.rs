//! LZF, the compression of Redis's RDB strings (`lzf_c.c`, `lzf_d.c`).
//!
//! Both directions are ours. The `lzf` crate was measured and tried: its decompressor is
//! slower than this one (`examples/bench_crc_lzf.rs`) and its compressor ports an older
//! liblzf (different match rules), so its output is not Redis's bytes. This compressor
//! follows liblzf 3.6 as Redis builds it (and Debian links it), checked byte for byte
//! against strings Redis 7.0.15 wrote. The decompressor never allocates more than the
//! announced length.

/// Why a compressed block does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LzfError;

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
///
/// Never allocates more than `expected_len`, and refuses up front when the ratio is
/// impossible for LZF (a back reference of at most 264 bytes costs at least 2 bytes).
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    // liblzf returns 0 on any error and Redis compares the result with the expected length,
    // so a stored length of 0 is accepted whatever the compressed bytes are.
    if expected_len == 0 {
        return Ok(Vec::new());
    }
    if expected_len > input.len().saturating_mul(132).saturating_add(32) {
        return Err(LzfError);
    }
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if i + n > input.len() || out.len() + n > expected_len {
                return Err(LzfError);
            }
            out.extend_from_slice(&input[i..i + n]);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                if i >= input.len() {
                    return Err(LzfError);
                }
                len += input[i] as usize;
                i += 1;
            }
            len += 2;
            if i >= input.len() {
                return Err(LzfError);
            }
            let back = ((ctrl & 0x1f) << 8) + input[i] as usize + 1;
            i += 1;
            if back > out.len() || out.len() + len > expected_len {
                return Err(LzfError);
            }
            let start = out.len() - back;
            if back >= len {
                out.extend_from_within(start..start + len);
            } else {
                for k in 0..len {
                    let b = out[start + k];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != expected_len {
        return Err(LzfError);
    }
    Ok(out)
}

/// Compresses like Redis's `rdbSaveLzfStringObject`: `None` when the input is 4 bytes or
/// shorter or when the result would not fit in `len - 4` bytes.
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() <= 4 {
        return None;
    }
    compress_bounded(input, input.len() - 4)
}

const HLOG: u32 = 16;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

fn hash_index(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HLOG) - 1)) as usize
}

/// liblzf 3.6's compressor as Redis and Debian build it (16-bit hash table, "very fast"
/// mode: after a match only the last two positions are hashed), so the output is the
/// same bytes. `None` when the output would not fit in `out_len` bytes.
pub fn compress_bounded(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n == 0 || out_len == 0 {
        return None;
    }
    let at = |i: usize| -> u32 { input.get(i).copied().unwrap_or(0) as u32 };
    let mut htab = vec![0usize; 1 << HLOG];
    let mut out = vec![0u8; out_len + 8];
    let mut lit: usize = 0;
    let mut op: usize = 1;
    let mut ip: usize = 0;
    let mut hval: u32 = (at(0) << 8) | at(1);
    while ip + 2 < n {
        hval = (hval << 8) | at(ip + 2);
        let slot = hash_index(hval);
        let r = htab[slot];
        htab[slot] = ip;
        let is_match = r > 0
            && r < ip
            && ip - r - 1 < MAX_OFF
            && input[r + 2] == input[ip + 2]
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1];
        if is_match {
            let off = ip - r - 1;
            let mut len: usize = 2;
            let maxlen = (n - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            let mut mismatch = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        mismatch = true;
                        break;
                    }
                }
            }
            if !mismatch {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2;
            lit = 0;
            ip += len + 1;
            if ip + 2 >= n {
                break;
            }
            ip -= 2;
            hval = (at(ip) << 8) | at(ip + 1);
            hval = (hval << 8) | at(ip + 2);
            htab[hash_index(hval)] = ip;
            ip += 1;
            hval = (hval << 8) | at(ip + 2);
            htab[hash_index(hval)] = ip;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < n {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut data = Vec::new();
        for i in 0..5000u32 {
            data.extend_from_slice(format!("key:{}:", i % 97).as_bytes());
        }
        let c = compress(&data).expect("compressible");
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
        assert_eq!(lzf::decompress(&c, data.len()).unwrap(), data);
        assert!(decompress(&c, data.len() + 1).is_err());
        assert!(decompress(&c, data.len() - 1).is_err());
    }

    #[test]
    fn same_bytes_as_redis() {
        // SET big <2000 x 'a'> as Redis 7.0.15 (Debian, liblzf 3.6) saves it.
        let data = vec![b'a'; 2000];
        let mut want = vec![0x01, 0x61, 0x61];
        for _ in 0..7 {
            want.extend_from_slice(&[0xe0, 0xff, 0x00]);
        }
        want.extend_from_slice(&[0xe0, 0x8b, 0x00, 0x01, 0x61, 0x61]);
        let c = compress(&data).unwrap();
        assert_eq!(c, want);
        assert_eq!(c.len(), 30);
        // "abc" x 400.
        let data = b"abc".repeat(400);
        let c = compress(&data).unwrap();
        assert_eq!(decompress(&c, data.len()).unwrap(), data);
    }

    #[test]
    fn redis_sample() {
        // "aaaa...a" (2000 bytes) as Redis 7.0.15 stores it.
        let data = vec![b'a'; 2000];
        let c = compress(&data).unwrap();
        assert_eq!(decompress(&c, 2000).unwrap(), data);
        assert!(decompress(&[0xff], 1 << 30).is_err());
        assert!(decompress(&[], 1).is_err());
    }
}
#[cfg(test)]
mod more_tests {
    /// Redis accepts an LZF string whose stored length is 0 whatever its bytes (liblzf's
    /// error result is 0 too); a damaged-file case of redis-check-rdb differed.
    #[test]
    fn zero_length_accepts_any_bytes() {
        assert_eq!(
            super::decompress(&[0x05, 1, 2], 0).unwrap(),
            Vec::<u8>::new()
        );
        assert_eq!(
            super::decompress(&[0xe0, 0xff, 0x00], 0).unwrap(),
            Vec::<u8>::new()
        );
        assert_eq!(super::decompress(&[], 0).unwrap(), Vec::<u8>::new());
        assert!(super::decompress(&[0x05, 1, 2], 1).is_err());
    }

    #[test]
    fn text_compresses() {
        let mut text = Vec::new();
        let mut i = 0u64;
        while text.len() < 1 << 16 {
            text.extend_from_slice(format!("user:{}:name=value-{} ", i % 5000, i % 77).as_bytes());
            i += 1;
        }
        for ch in text.chunks(16 << 10).filter(|c| c.len() > 100) {
            let c = super::compress(ch).expect("compressible");
            assert_eq!(super::decompress(&c, ch.len()).unwrap(), ch);
        }
    }
}
