//! Small number/text helpers with the exact edge behaviour of the C library functions
//! Redis's config code relies on (strtoll, strtoull, memory units, sdscatrepr).

/// C's `strtoll(s, &end, 10)`: leading whitespace, optional sign, digits, saturating on
/// overflow. Returns the value and whether the whole input was consumed (`*end == '\0'`;
/// true for the empty string, as in C, since `end` then points at the terminator).
pub(crate) fn c_strtoll(s: &[u8]) -> (i64, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i128 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if v < (1i128 << 64) {
            v = v * 10 + (s[i] - b'0') as i128;
        }
        i += 1;
    }
    if i == start {
        // No digits: nothing converted, end = the start of the string.
        return (0, s.is_empty() || s[0] == 0);
    }
    let v = if neg { -v } else { v };
    let v = v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    (v, i == s.len())
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb, any case).
/// Overflow wraps as in C. `None` on a bad unit, a sign, or stray characters.
pub(crate) fn memtoull(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = s[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    // strtoull saturates on overflow (Redis does not check ERANGE).
    let mut v: u64 = 0;
    for &c in &s[..digits] {
        v = v
            .checked_mul(10)
            .and_then(|x| x.checked_add((c - b'0') as u64))
            .unwrap_or(u64::MAX);
        if v == u64::MAX {
            break;
        }
    }
    Some(v.wrapping_mul(mul))
}

/// Redis's `sdscatrepr`: a double-quoted string with C escapes, used by CONFIG REWRITE.
pub(crate) fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{:02x}", c)),
        }
    }
    out.push('"');
    out
}

/// C's `printf("%f")` with trailing zeros (and a trailing dot) removed, as Redis prints
/// `latency-tracking-info-percentiles`.
pub(crate) fn trimmed_f(v: f64) -> String {
    let mut s = format!("{:.6}", v);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// The `strerror` text of an I/O error (Rust appends " (os error N)"; Redis does not).
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Truncates at the first NUL byte, as storing into a C string does.
pub(crate) fn c_str(v: &[u8]) -> &[u8] {
    match v.iter().position(|&c| c == 0) {
        Some(i) => &v[..i],
        None => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoll_like_c() {
        assert_eq!(c_strtoll(b"12"), (12, true));
        assert_eq!(c_strtoll(b" 12"), (12, true));
        assert_eq!(c_strtoll(b"+12"), (12, true));
        assert_eq!(c_strtoll(b"-12"), (-12, true));
        assert_eq!(c_strtoll(b"12x"), (12, false));
        assert_eq!(c_strtoll(b""), (0, true));
        assert_eq!(c_strtoll(b"x"), (0, false));
        assert_eq!(c_strtoll(b"99999999999999999999"), (i64::MAX, true));
        assert_eq!(c_strtoll(b"-99999999999999999999"), (i64::MIN, true));
    }

    #[test]
    fn memory_units() {
        assert_eq!(memtoull(b"1gb"), Some(1 << 30));
        assert_eq!(memtoull(b"1GB"), Some(1 << 30));
        assert_eq!(memtoull(b"100mb"), Some(100 << 20));
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1kb"), Some(1024));
        assert_eq!(memtoull(b"5b"), Some(5));
        assert_eq!(memtoull(b"1g"), Some(1_000_000_000));
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"kb"), Some(0));
        assert_eq!(memtoull(b"-1"), None);
        assert_eq!(memtoull(b"1x"), None);
        assert_eq!(memtoull(b"1 kb"), None);
        assert_eq!(memtoull(b"99999999999gb"), Some(15140462030378500096));
        assert_eq!(
            memtoull(b"99999999999999999999999gb"),
            Some(18446744072635809792)
        );
    }

    #[test]
    fn repr_quotes() {
        assert_eq!(repr(b"a b"), "\"a b\"");
        assert_eq!(repr(b""), "\"\"");
        assert_eq!(repr(b"a\"\\\n\x01"), "\"a\\\"\\\\\\n\\x01\"");
    }

    #[test]
    fn percentiles_print() {
        assert_eq!(trimmed_f(50.0), "50");
        assert_eq!(trimmed_f(99.9), "99.9");
        assert_eq!(trimmed_f(0.0), "0");
    }
}
