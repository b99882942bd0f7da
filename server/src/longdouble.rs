//! C `long double` numbers, for the commands Redis computes in that type
//! (INCRBYFLOAT, HINCRBYFLOAT): same parsing (`strtold` with Redis's checks), same
//! arithmetic, same "%.17Lf" output. Rust has no such type, so the operations run in
//! a small C file (csrc/longdouble.c) and the value travels as an opaque blob.

use std::os::raw::{c_char, c_int, c_longlong};

/// A C `long double` (80-bit extended on x86-64), stored opaquely.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub struct LongDouble([u8; 16]);

/// Room for any "%.17Lf" output (Redis's MAX_LONG_DOUBLE_CHARS).
const FORMAT_CAP: usize = 5 * 1024;

extern "C" {
    fn rs_ld_parse(s: *const c_char, len: usize, out: *mut u8) -> c_int;
    fn rs_ld_from_i64(n: c_longlong, out: *mut u8);
    fn rs_ld_add(a: *const u8, b: *const u8, out: *mut u8) -> c_int;
    fn rs_ld_format_human(a: *const u8, buf: *mut c_char, cap: usize) -> usize;
}

impl LongDouble {
    /// Parses `s` as Redis's string2ld does: the whole text must be a number for
    /// `strtold` (hex and `inf` included), with no leading space, no NaN, no overflow
    /// and no underflow to zero. `None` means "ERR value is not a valid float".
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        let mut out = LongDouble([0; 16]);
        // SAFETY: `s` is valid for `s.len()` bytes; `out` has the 16 bytes the C side writes.
        let ok = unsafe { rs_ld_parse(s.as_ptr().cast(), s.len(), out.0.as_mut_ptr()) };
        (ok == 1).then_some(out)
    }

    /// The exact value of `n`.
    pub fn from_i64(n: i64) -> LongDouble {
        let mut out = LongDouble([0; 16]);
        // SAFETY: `out` has the 16 bytes the C side writes.
        unsafe { rs_ld_from_i64(n, out.0.as_mut_ptr()) };
        out
    }

    /// `self + other`, or `None` when the sum is NaN or infinite.
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        let mut out = LongDouble([0; 16]);
        // SAFETY: all three blobs are 16 valid bytes holding long doubles.
        let finite = unsafe { rs_ld_add(self.0.as_ptr(), other.0.as_ptr(), out.0.as_mut_ptr()) };
        (finite == 1).then_some(out)
    }

    /// Redis's "human" text: "%.17Lf" with trailing zeros (and dot) removed, "-0"
    /// written "0", infinities as "inf"/"-inf".
    pub fn to_human(self) -> Vec<u8> {
        let mut buf = vec![0u8; FORMAT_CAP];
        // SAFETY: `buf` has `FORMAT_CAP` writable bytes; the C side writes at most that.
        let n = unsafe { rs_ld_format_human(self.0.as_ptr(), buf.as_mut_ptr().cast(), FORMAT_CAP) };
        buf.truncate(n);
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> Option<String> {
        let a = LongDouble::parse(a.as_bytes())?;
        let b = LongDouble::parse(b.as_bytes())?;
        Some(String::from_utf8(a.checked_add(b)?.to_human()).unwrap())
    }

    #[test]
    fn human_format_matches_redis() {
        assert_eq!(incr("0.1", "0.2").as_deref(), Some("0.3"));
        assert_eq!(incr("10", "0.5").as_deref(), Some("10.5"));
        assert_eq!(incr("0", "5.0e3").as_deref(), Some("5000"));
        assert_eq!(incr("1", "-1").as_deref(), Some("0"));
        assert_eq!(incr("-0.0", "0").as_deref(), Some("0"));
        assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
        assert_eq!(incr("0x10", "0").as_deref(), Some("16"));
        assert_eq!(incr("17179869184", "1.5").as_deref(), Some("17179869185.5"));
        assert_eq!(incr("1e-20", "0").as_deref(), Some("0"));
        let big = LongDouble::from_i64(i64::MAX).to_human();
        assert_eq!(big, b"9223372036854775807");
    }

    #[test]
    fn parse_rejects_what_redis_rejects() {
        for bad in [
            "", " 1", "1 ", "abc", "nan", "NaN", "1e5000", "-1e5000", "1e-5000", "1\x001",
        ] {
            assert!(LongDouble::parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        assert!(LongDouble::parse(&vec![b'1'; 5120]).is_none());
        for good in [
            "inf", "-inf", "+1.5", "1e4000", "0x1p-3", "1e-4940", ".5", "5.",
        ] {
            assert!(LongDouble::parse(good.as_bytes()).is_some(), "{good:?}");
        }
    }

    #[test]
    fn non_finite_sums_are_refused() {
        assert!(incr("inf", "1").is_none());
        assert!(incr("1e4932", "1e4932").is_none());
        assert_eq!(incr("inf", "-inf"), None);
    }
}
