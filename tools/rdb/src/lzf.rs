//! LZF, the compression of Redis's RDB strings (`lzf_c.c`, `lzf_d.c`).
//!
//! Compression is the `lzf` crate (a port of liblzf with the parameters Redis builds it with:
//! 16-bit hash, same match rules), so its output is Redis's byte for byte; decompression is
//! ours, bounded by the announced length (see `examples/bench_crc_lzf.rs` for the figures).

/// Why a compressed block does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LzfError;

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
///
/// Never allocates more than `expected_len`, and refuses up front when the ratio is
/// impossible for LZF (a back reference of at most 264 bytes costs at least 2 bytes).
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
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
/// shorter or when the result would not save at least 4 bytes.
pub fn compress(input: &[u8]) -> Option<Vec<u8>> {
    if input.len() <= 4 {
        return None;
    }
    match lzf::compress(input) {
        Ok(v) if v.len() < input.len() - 4 => Some(v),
        _ => None,
    }
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
    fn redis_sample() {
        // "aaaa...a" (2000 bytes) as Redis 7.0.15 stores it.
        let data = vec![b'a'; 2000];
        let c = compress(&data).unwrap();
        assert_eq!(decompress(&c, 2000).unwrap(), data);
        assert!(decompress(&[0xff], 1 << 30).is_err());
        assert!(decompress(&[], 1).is_err());
    }
}
