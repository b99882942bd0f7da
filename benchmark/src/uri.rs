//! `-u redis://[[user:]pass@]host[:port][/db]`, with Redis's percent-decoding
//! and its messages for bad URIs (stderr, exit code 1).

use crate::options::{atoi, Exit, Options};

fn fail(msg: &str) -> Exit {
    Exit {
        stdout: String::new(),
        stderr: format!("{msg}\n"),
        code: 1,
    }
}

fn percent_decode(s: &[u8]) -> Result<Vec<u8>, Exit> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if s.len() - i < 3 {
                return Err(fail("Incomplete URI encoding"));
            }
            let hex = |c: u8| match c.to_ascii_lowercase() {
                d @ b'0'..=b'9' => Some(d - b'0'),
                d @ b'a'..=b'f' => Some(d - b'a' + 10),
                _ => None,
            };
            match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(fail("Illegal character in URI encoding")),
            }
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Applies a URI to the options.
pub fn apply(uri: &[u8], o: &mut Options) -> Result<(), Exit> {
    let lower: Vec<u8> = uri.iter().map(u8::to_ascii_lowercase).collect();
    let mut cur = if lower.starts_with(b"rediss://") {
        o.tls.enabled = true;
        &uri[9..]
    } else if lower.starts_with(b"redis://") {
        &uri[8..]
    } else {
        return Err(fail("Invalid URI scheme"));
    };
    if cur.is_empty() {
        return Ok(());
    }
    if let Some(at) = cur.iter().position(|&c| c == b'@') {
        let userinfo = &cur[..at];
        let pass = match userinfo.iter().position(|&c| c == b':') {
            Some(colon) => {
                o.user = Some(percent_decode(&userinfo[..colon])?);
                &userinfo[colon + 1..]
            }
            None => userinfo,
        };
        o.auth = Some(percent_decode(pass)?);
        cur = &cur[at + 1..];
    }
    if cur.is_empty() {
        return Ok(());
    }
    let slash = cur.iter().position(|&c| c == b'/');
    if cur[0] != b'/' {
        let hostport = &cur[..slash.unwrap_or(cur.len())];
        // Redis looks for the port colon anywhere after the userinfo.
        let host = match cur.iter().position(|&c| c == b':') {
            Some(colon) => {
                o.port = atoi(&cur[colon + 1..]) as u16;
                &cur[..colon]
            }
            None => hostport,
        };
        o.host = String::from_utf8_lossy(host).into_owned();
    }
    let rest = match slash {
        Some(s) => &cur[s + 1..],
        None => return Ok(()),
    };
    if !rest.is_empty() {
        o.dbnum = atoi(rest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_uri() {
        let mut o = Options::default();
        apply(b"redis://us%65r:p%40ss@example.com:7000/3", &mut o).unwrap();
        assert_eq!(o.user.as_deref(), Some(&b"user"[..]));
        assert_eq!(o.auth.as_deref(), Some(&b"p@ss"[..]));
        assert_eq!((o.host.as_str(), o.port, o.dbnum), ("example.com", 7000, 3));
        assert!(!o.tls.enabled);
    }

    #[test]
    fn bad_uris() {
        let mut o = Options::default();
        assert_eq!(
            apply(b"http://x", &mut o).unwrap_err().stderr,
            "Invalid URI scheme\n"
        );
        assert_eq!(
            apply(b"redis://a%zz@h", &mut o).unwrap_err().stderr,
            "Illegal character in URI encoding\n"
        );
        apply(b"rediss://h", &mut o).unwrap();
        assert!(o.tls.enabled);
        assert_eq!(o.host, "h");
    }
}
