//! Redis's glob-style matcher (the rules of `stringmatchlen`), used by CONFIG GET and, in
//! the server, by KEYS, SCAN MATCH, PSUBSCRIBE and CLIENT KILL patterns.
//!
//! Rules: `*` matches any run of bytes (also empty), `?` one byte, `[abc]` a set,
//! `[^abc]` its complement, `[a-z]` a range (the ends may be reversed: `[z-a]` is the
//! same range), `\x` the byte `x` literally (also inside a set). An unterminated set
//! (`[abc`) behaves as if closed at the end of the pattern. `nocase` compares ASCII
//! letters case-insensitively, except for `\`-escaped bytes inside a set, which Redis
//! compares exactly. As in Redis, no pattern but the empty one matches the empty
//! string (callers special-case a lone `*`, as KEYS and SCAN do).

/// Returns whether `s` matches the glob `pattern` with Redis's rules.
///
/// Runs in time bounded by `pattern.len() * s.len()` in the worst case thanks to the
/// early stop after a failed `*` expansion (a `*` that cannot match at any offset makes
/// every earlier `*` fail as well), so hostile patterns such as `*a*a*a*a*b` do not
/// explode.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut give_up = false;
    match_from(pattern, s, nocase, &mut give_up)
}

#[inline]
fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn match_from(mut p: &[u8], mut s: &[u8], nocase: bool, give_up: &mut bool) -> bool {
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                // Collapse a run of stars; a trailing star matches everything left.
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_from(&p[1..], s, nocase, give_up) {
                        return true;
                    }
                    if *give_up {
                        return false;
                    }
                    s = &s[1..];
                }
                // The rest of the pattern matches nowhere in the rest of the string:
                // no longer match for an earlier star can help either.
                *give_up = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                p = &p[1..];
                let negate = p.first() == Some(&b'^');
                if negate {
                    p = &p[1..];
                }
                let c = s[0];
                let mut matched = false;
                loop {
                    if p.is_empty() {
                        // Unterminated set: it ends with the pattern.
                        break;
                    }
                    if p[0] == b'\\' && p.len() >= 2 {
                        p = &p[1..];
                        if p[0] == c {
                            matched = true;
                        }
                    } else if p[0] == b']' {
                        break;
                    } else if p.len() >= 3 && p[1] == b'-' {
                        // C compares `char`s, which are signed on the platforms Redis
                        // ships for: bytes >= 0x80 sort below ASCII in a range.
                        let sc = |b: u8| fold(b, nocase) as i8 as i32;
                        let (mut lo, mut hi) = (p[0] as i8 as i32, p[2] as i8 as i32);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let lo = if nocase && lo >= 0 { sc(lo as u8) } else { lo };
                        let hi = if nocase && hi >= 0 { sc(hi as u8) } else { hi };
                        let x = sc(c);
                        if x >= lo && x <= hi {
                            matched = true;
                        }
                        p = &p[2..];
                    } else if fold(p[0], nocase) == fold(c, nocase) {
                        matched = true;
                    }
                    p = &p[1..];
                }
                if matched == negate {
                    return false;
                }
                s = &s[1..];
                // `p` now starts at the closing `]` (or is empty when unterminated);
                // the common step below moves past it.
                if p.is_empty() {
                    // Mirror the C code, which steps back onto the last byte of an
                    // unterminated set and then past it: the pattern is consumed.
                    if s.is_empty() {
                        return true;
                    }
                    return false;
                }
            }
            b'\\' => {
                if p.len() >= 2 {
                    p = &p[1..];
                }
                if fold(p[0], nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if fold(c, nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // As stringmatchlen: nothing matches the empty string but the empty pattern
        // (KEYS and SCAN special-case a lone `*` before matching, as Redis does).
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("*max-*-entries*", "hash-max-listpack-entries"));
        assert!(!m("*max-*-entries*", "maxmemory"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("a*b*", "ab"));
        assert!(!m("a*b", "abc"));
    }

    #[test]
    fn escapes() {
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("a\\", "a\\"), "trailing backslash is literal");
        assert!(m("[a\\", "\\"), "trailing backslash in a set is literal");
    }

    #[test]
    fn unterminated_set() {
        assert!(m("[abc", "a"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "d"));
        assert!(!m("[abc", "ab"));
        assert!(!m("[", "["), "an empty unterminated set matches nothing");
        assert!(m("[^", "x"), "an empty negated set matches any byte");
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"PORT", b"port", true));
        assert!(glob_match(b"*MAX*", b"maxmemory", true));
        assert!(glob_match(b"[A-Z]x", b"qx", true));
        assert!(glob_match(b"[^A]", b"b", true));
        assert!(!glob_match(b"[^A]", b"a", true));
        assert!(!glob_match(b"PORT", b"port", false));
        // An escaped byte inside a set is compared exactly, even without case.
        assert!(!glob_match(b"[\\A]", b"a", true));
    }

    #[test]
    fn high_bytes_sort_below_ascii_in_ranges() {
        // As in C with signed chars: [a-\xff] is the range -1..=97.
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(glob_match(b"[a-\xff]", b"A", false));
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(!glob_match(b"[a-\xff]", b"\xc3", false));
    }

    #[test]
    fn pathological_is_fast() {
        let s = vec![b'a'; 10_000];
        let p = b"*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let t = std::time::Instant::now();
        assert!(!glob_match(p, &s, false));
        assert!(t.elapsed().as_secs() < 1);
    }
}
