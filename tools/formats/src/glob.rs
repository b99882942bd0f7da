//! Redis's glob matching (`stringmatchlen`): KEYS and SCAN MATCH, CONFIG GET, and
//! wherever else Redis matches glob patterns.
//!
//! The rules, quirks included: `*` any run (never tried against an empty remainder, so
//! `*` does not match the empty string), `?` one byte, `[...]` a class with `^`
//! negation, `a-z` ranges (ends swapped when reversed, compared as *signed* chars as
//! C does), `\x` escapes, an unterminated class ends at the pattern's end; `nocase`
//! folds ASCII letters except inside `\x` escapes of a class.
//!
//! Redis recurses at every `*` and gives up as soon as a later `*` has tried every
//! position (nothing before it can then succeed). That is the same as remembering only
//! the latest `*`, which is what this iterative version does: no recursion, so no
//! pattern can exhaust the stack, and the time stays O(pattern × string).

/// What one run of literal matching ended on.
enum Step {
    Match,
    NoMatch,
    /// A `*` at this pattern index, with string bytes left at the given index.
    Star(usize, usize),
}

#[inline]
fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// Matches from pattern index `p` and string index `i` until the end, a mismatch, or
/// a `*` met while string bytes remain.
fn run(pat: &[u8], s: &[u8], mut p: usize, mut i: usize, nocase: bool) -> Step {
    // Past the end the C string has its NUL terminator.
    let at = |k: usize| pat.get(k).copied().unwrap_or(0);
    let plen = pat.len();
    while p < plen && i < s.len() {
        match pat[p] {
            b'*' => return Step::Star(p, i),
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    if at(p) == b'\\' && plen.saturating_sub(p) >= 2 {
                        p += 1;
                        if pat[p] == s[i] {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if p >= plen {
                        p -= 1;
                        break;
                    } else if plen - p >= 3 && pat[p + 1] == b'-' {
                        // C compares `char`s: bytes >= 0x80 are negative.
                        let mut start = fold(pat[p], nocase) as i8;
                        let mut end = fold(pat[p + 2], nocase) as i8;
                        let c = fold(s[i], nocase) as i8;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        p += 2;
                        if c >= start && c <= end {
                            matched = true;
                        }
                    } else if fold(pat[p], nocase) == fold(s[i], nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return Step::NoMatch;
                }
                i += 1;
            }
            c => {
                let c = if c == b'\\' && plen - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if fold(c, nocase) != fold(s[i], nocase) {
                    return Step::NoMatch;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    if p == plen && i == s.len() {
        Step::Match
    } else {
        Step::NoMatch
    }
}

/// True if `s` matches the glob `pattern` by Redis's rules (see the module docs).
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    // The latest `*`: the pattern index after it and the string index to try next.
    let mut star: Option<(usize, usize)> = None;
    let mut step = run(pattern, s, 0, 0, nocase);
    loop {
        match step {
            Step::Match => return true,
            Step::Star(mut p, i) => {
                while p + 1 < pattern.len() && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                star = Some((p + 1, i));
                step = run(pattern, s, p + 1, i, nocase);
            }
            Step::NoMatch => match star {
                // This `*` has tried every position: nothing earlier can help.
                Some((_, i)) if i + 1 >= s.len() => return false,
                Some((p, i)) => {
                    star = Some((p, i + 1));
                    step = run(pattern, s, p, i + 1, nocase);
                }
                None => return false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "anything"));
        assert!(!m("*", ""));
        assert!(m("", ""));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("a*", "a"));
        assert!(m("a*b*", "ab"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        assert!(m("foo*bar", "foobazbar"));
        assert!(!m("foo*bar", "foobarbaz"));
        assert!(m("*bar", "barbar"));
    }

    #[test]
    fn quirks() {
        // Unterminated class: the class runs to the end of the pattern.
        assert!(m("[abc", "b"));
        assert!(m("[^", "x"));
        assert!(!m("[", "x"));
        // A trailing backslash is a literal backslash.
        assert!(m("a\\", "a\\"));
        // Escape inside a class.
        assert!(m("[\\]]", "]"));
        // Signed comparison of range ends.
        assert!(m("[a-\u{7f}]", "b"));
        assert!(glob_match(b"[\x80-a]", b"\x90", false));
        assert!(glob_match(b"[\x80-a]", b"0", false));
        assert!(!glob_match(b"[\x80-a]", b"z", false));
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"[A-C]x", b"bX", true));
    }

    #[test]
    fn long_patterns_do_not_recurse() {
        let pat = "*a".repeat(50_000);
        let s = "a".repeat(49_999);
        assert!(!glob_match(pat.as_bytes(), s.as_bytes(), false));
        let s = "a".repeat(50_000);
        assert!(glob_match(pat.as_bytes(), s.as_bytes(), false));
    }
}

/// Cases written against Redis for CONFIG GET patterns.
#[cfg(test)]
mod more_cases {
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
