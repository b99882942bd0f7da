//! Bit operations on byte strings as Redis numbers them: bit 0 is the most significant
//! bit of the first byte. Used by SETBIT/GETBIT/BITCOUNT/BITPOS/BITOP/BITFIELD.

/// Number of set bits in `s`.
pub fn popcount(s: &[u8]) -> u64 {
    let mut words = s.chunks_exact(8);
    let mut n: u64 = 0;
    for w in &mut words {
        n += u64::from_ne_bytes(w.try_into().expect("8-byte chunk")).count_ones() as u64;
    }
    n + words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// Number of set bits among bits `first..=last` of `s` (both inside `s`).
pub fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    debug_assert!(first <= last && last < s.len() as u64 * 8);
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n = popcount(&s[fb..=lb]);
    // Take away the bits of the edge bytes that lie outside the range.
    let before = (first & 7) as u32;
    if before > 0 {
        n -= (s[fb] >> (8 - before)).count_ones() as u64;
    }
    let after = 7 - (last & 7) as u32;
    if after > 0 {
        n -= (s[lb] & ((1u8 << after) - 1)).count_ones() as u64;
    }
    n
}

/// Position of the first bit equal to `bit` among bits `first..=last` of `s` (both
/// inside `s`), if any.
pub fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    debug_assert!(first <= last && last < s.len() as u64 * 8);
    // A byte with no bit of interest: all zeros when looking for a one, and so on.
    let skip: u8 = if bit { 0 } else { 0xff };
    let mut pos = first;
    // Bit by bit up to a byte boundary.
    while pos <= last && pos & 7 != 0 {
        if bit_at(s, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    // Whole bytes (8 at a time where possible).
    let end_byte = ((last + 1) >> 3) as usize; // bytes fully inside the range
    let mut byte = (pos >> 3) as usize;
    let skip_word = u64::from_ne_bytes([skip; 8]);
    while byte + 8 <= end_byte
        && u64::from_ne_bytes(s[byte..byte + 8].try_into().expect("8 bytes")) == skip_word
    {
        byte += 8;
    }
    while byte < end_byte {
        if s[byte] != skip {
            let b = if bit { s[byte] } else { !s[byte] };
            return Some(byte as u64 * 8 + b.leading_zeros() as u64);
        }
        byte += 1;
    }
    // The tail after the last whole byte.
    pos = pos.max(end_byte as u64 * 8);
    while pos <= last {
        if bit_at(s, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

/// Bit `pos` of `s`, or 0 past its end.
#[inline]
pub fn bit_at(s: &[u8], pos: u64) -> bool {
    let byte = (pos >> 3) as usize;
    byte < s.len() && s[byte] & (0x80 >> (pos & 7)) != 0
}

/// The 72-bit big-endian window starting at byte `byte` (zero past the end).
fn window(s: &[u8], byte: usize) -> u128 {
    let mut w: u128 = 0;
    for i in 0..9 {
        w = (w << 8) | s.get(byte + i).copied().unwrap_or(0) as u128;
    }
    w
}

/// The unsigned integer of `bits` bits (1..=64) at bit `offset`; bits past the end
/// of `s` read as zero.
pub fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    debug_assert!((1..=64).contains(&bits));
    let byte = (offset >> 3) as usize;
    if byte >= s.len() {
        return 0;
    }
    let shift = 72 - (offset & 7) as u32 - bits;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    (window(s, byte) >> shift) as u64 & mask
}

/// The two's complement integer of `bits` bits at bit `offset` (zero past the end).
pub fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(s, offset, bits);
    if bits < 64 && u & (1 << (bits - 1)) != 0 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset`; `s` must hold them.
pub fn set_unsigned(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    debug_assert!((1..=64).contains(&bits));
    debug_assert!(offset + bits as u64 <= s.len() as u64 * 8);
    let byte = (offset >> 3) as usize;
    let shift = 72 - (offset & 7) as u32 - bits;
    let mask: u128 = if bits == 64 {
        u64::MAX as u128
    } else {
        (1u128 << bits) - 1
    };
    let w = (window(s, byte) & !(mask << shift)) | ((value as u128 & mask) << shift);
    let used = ((offset & 7) as usize + bits as usize).div_ceil(8);
    for i in 0..used {
        s[byte + i] = (w >> (64 - 8 * i)) as u8;
    }
}

/// BITFIELD's OVERFLOW behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Keep the low bits (modular arithmetic).
    Wrap,
    /// Clamp to the type's minimum or maximum.
    Sat,
    /// Refuse the operation.
    Fail,
}

/// `value + incr` in a signed field of `bits` bits. Returns the value to store and
/// whether it overflowed (with `Fail` the value is meaningless then).
pub fn signed_add(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i64, bool) {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let exact = value as i128 + incr as i128;
    if exact >= min as i128 && exact <= max as i128 {
        return (exact as i64, false);
    }
    let v = match ow {
        Overflow::Sat if exact > max as i128 => max,
        Overflow::Sat => min,
        _ => {
            // Wrap: two's complement truncation to `bits` bits.
            let c = value.wrapping_add(incr) as u64;
            if bits < 64 {
                let sign = 1u64 << (bits - 1);
                let high = u64::MAX << bits;
                (if c & sign != 0 { c | high } else { c & !high }) as i64
            } else {
                c as i64
            }
        }
    };
    (v, true)
}

/// `value + incr` in an unsigned field of `bits` bits (1..=63). `value` may exceed
/// the field (a SET value, given as the u64 of the signed argument, as Redis does).
pub fn unsigned_add(value: u64, incr: i64, bits: u32, ow: Overflow) -> (u64, bool) {
    let max: u64 = (1u64 << bits) - 1;
    let exact = value as i128 + incr as i128;
    if value <= max && exact >= 0 && exact <= max as i128 {
        return (exact as u64, false);
    }
    let v = match ow {
        Overflow::Sat if value > max || exact > max as i128 => max,
        Overflow::Sat => 0,
        _ => value.wrapping_add(incr as u64) & max,
    };
    (v, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(s: &[u8]) -> Vec<bool> {
        (0..s.len() as u64 * 8).map(|i| bit_at(s, i)).collect()
    }

    #[test]
    fn counting_matches_bit_by_bit() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..300 {
            let s: Vec<u8> = (0..rng.usize(1..40)).map(|_| rng.u8(..)).collect();
            let b = bits_of(&s);
            assert_eq!(popcount(&s), b.iter().filter(|&&x| x).count() as u64);
            let first = rng.u64(0..b.len() as u64);
            let last = rng.u64(first..b.len() as u64);
            let slice = &b[first as usize..=last as usize];
            assert_eq!(
                count_bits(&s, first, last),
                slice.iter().filter(|&&x| x).count() as u64
            );
            for want in [false, true] {
                let expect = slice
                    .iter()
                    .position(|&x| x == want)
                    .map(|p| p as u64 + first);
                assert_eq!(find_bit(&s, want, first, last), expect);
            }
        }
    }

    #[test]
    fn find_bit_over_long_runs() {
        let mut s = vec![0u8; 100];
        assert_eq!(find_bit(&s, true, 0, 799), None);
        assert_eq!(find_bit(&s, false, 3, 799), Some(3));
        s[77] = 0x01;
        assert_eq!(find_bit(&s, true, 0, 799), Some(77 * 8 + 7));
        let ones = vec![0xffu8; 50];
        assert_eq!(find_bit(&ones, false, 0, 399), None);
    }

    #[test]
    fn fields_roundtrip() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..2000 {
            let mut s: Vec<u8> = (0..20).map(|_| rng.u8(..)).collect();
            let bits = rng.u32(1..=64);
            let offset = rng.u64(0..(160 - bits as u64));
            let before = bits_of(&s);
            let v = rng.u64(..);
            set_unsigned(&mut s, offset, bits, v);
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            assert_eq!(get_unsigned(&s, offset, bits), v & mask);
            let after = bits_of(&s);
            for (i, (a, b)) in before.iter().zip(&after).enumerate() {
                let i = i as u64;
                if i < offset || i >= offset + bits as u64 {
                    assert_eq!(a, b, "bit {i} outside the field changed");
                }
            }
        }
        assert_eq!(get_signed(&[0xff], 0, 8), -1);
        assert_eq!(get_signed(&[0x80], 0, 4), -8);
        assert_eq!(get_signed(&[0x70], 0, 4), 7);
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
        assert_eq!(get_unsigned(&[0xff], 100, 8), 0);
    }

    #[test]
    fn overflow_rules() {
        use Overflow::*;
        assert_eq!(signed_add(100, 100, 8, Wrap), (-56, true));
        assert_eq!(signed_add(100, 100, 8, Sat), (127, true));
        assert_eq!(signed_add(-100, -100, 8, Sat), (-128, true));
        assert_eq!(signed_add(1, 2, 8, Fail), (3, false));
        assert_eq!(signed_add(i64::MAX, 1, 64, Wrap), (i64::MIN, true));
        assert_eq!(signed_add(i64::MIN, -1, 64, Sat), (i64::MIN, true));
        assert_eq!(signed_add(300, 0, 8, Wrap), (44, true));
        assert_eq!(unsigned_add(250, 10, 8, Wrap), (4, true));
        assert_eq!(unsigned_add(250, 10, 8, Sat), (255, true));
        assert_eq!(unsigned_add(5, -10, 8, Sat), (0, true));
        assert_eq!(unsigned_add(5, -10, 8, Wrap), (251, true));
        assert_eq!(unsigned_add(-1i64 as u64, 0, 8, Sat), (255, true));
        assert_eq!(unsigned_add(-1i64 as u64, 0, 8, Wrap), (255, true));
        assert_eq!(unsigned_add(256, 0, 8, Wrap), (0, true));
        assert_eq!(unsigned_add(3, 4, 63, Fail), (7, false));
    }
}
