//! Reply formatting in Redis's output styles: tty, raw, csv, json and
//! quoted-json. Each function returns the bytes to print.

use crate::opts::OutputMode;
use redis_formats::RespValue;

/// A reply shape Redis's redis-cli cannot print; it exits with this text.
#[derive(Debug, Clone, PartialEq)]
pub struct Unprintable(pub String);

/// Appends `s` quoted the way Redis's `sdscatrepr` does: `"..."` with
/// `\n \r \t \a \b \\ \"` escapes and `\xhh` for other unprintable bytes.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Redis's C-string view of an error text: it stops at the first NUL.
fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

fn check(v: &RespValue) -> Result<(), Unprintable> {
    match v {
        // hiredis knows big numbers but redis-cli 7.0 has no printer for
        // them; hiredis does not parse attributes at all.
        RespValue::BigNumber(_) => Err(Unprintable("Unknown reply type: 13\n".into())),
        RespValue::Attribute { .. } => Err(Unprintable(
            "Error: Protocol error, got \"|\" as reply type byte\n".into(),
        )),
        RespValue::Array(v) | RespValue::Set(v) | RespValue::Push(v) => {
            v.iter().try_for_each(check)
        }
        RespValue::Map(m) => m.iter().try_for_each(|(k, v)| {
            check(k)?;
            check(v)
        }),
        _ => Ok(()),
    }
}

/// Whether the tty style prints `v` over several lines.
fn multiline(v: &RespValue) -> bool {
    match v {
        RespValue::Array(e) | RespValue::Set(e) | RespValue::Push(e) => match e.len() {
            0 => false,
            1 => multiline(&e[0]),
            _ => true,
        },
        RespValue::Map(m) => match m.len() {
            0 => false,
            1 => multiline(&m[0].1),
            _ => true,
        },
        _ => false,
    }
}

/// The tty style (`1) "a"`), with `prefix` the indentation of nested items.
pub fn tty(out: &mut Vec<u8>, v: &RespValue, prefix: &[u8]) {
    match v {
        RespValue::Error(e) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(cstr(e));
            out.push(b'\n');
        }
        RespValue::Status(s) => {
            out.extend_from_slice(cstr(s));
            out.push(b'\n');
        }
        RespValue::Integer(i) => out.extend_from_slice(format!("(integer) {i}\n").as_bytes()),
        RespValue::Double(d) => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(cstr(d));
            out.push(b'\n');
        }
        RespValue::Bulk(b) => {
            repr(out, b);
            out.push(b'\n');
        }
        RespValue::Verbatim { text, .. } => {
            out.extend_from_slice(text);
            out.push(b'\n');
        }
        RespValue::Nil => out.extend_from_slice(b"(nil)\n"),
        RespValue::Boolean(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        RespValue::Array(_) | RespValue::Set(_) | RespValue::Push(_) | RespValue::Map(_) => {
            tty_aggregate(out, v, prefix)
        }
        // Rejected by `check` before formatting.
        RespValue::BigNumber(_) | RespValue::Attribute { .. } => {}
    }
}

fn tty_aggregate(out: &mut Vec<u8>, v: &RespValue, prefix: &[u8]) {
    let (count, sep, empty) = match v {
        RespValue::Array(e) => (e.len(), b')', &b"(empty array)\n"[..]),
        RespValue::Set(e) => (e.len(), b'~', &b"(empty set)\n"[..]),
        RespValue::Push(e) => (e.len(), b')', &b"(empty push)\n"[..]),
        RespValue::Map(m) => (m.len(), b'#', &b"(empty hash)\n"[..]),
        _ => unreachable!("only aggregates reach here"),
    };
    if count == 0 {
        out.extend_from_slice(empty);
        return;
    }
    let width = count.to_string().len();
    let mut child = prefix.to_vec();
    child.resize(child.len() + width + 2, b' ');
    for idx in 0..count {
        if idx > 0 {
            out.extend_from_slice(prefix);
        }
        out.extend_from_slice(format!("{:>width$}", idx + 1).as_bytes());
        out.push(sep);
        out.push(b' ');
        match v {
            RespValue::Map(m) => {
                let (k, val) = &m[idx];
                tty(out, k, &child);
                out.pop(); // the key's newline
                out.extend_from_slice(b" => ");
                if multiline(val) {
                    out.push(b'\n');
                    out.extend_from_slice(&child);
                }
                tty(out, val, &child);
            }
            RespValue::Array(e) | RespValue::Set(e) | RespValue::Push(e) => {
                tty(out, &e[idx], &child)
            }
            _ => unreachable!(),
        }
    }
}

/// The raw style: strings as they are, aggregates joined by `mb_delim`.
pub fn raw(out: &mut Vec<u8>, v: &RespValue, mb_delim: &[u8]) {
    match v {
        RespValue::Nil => {}
        RespValue::Error(s) | RespValue::Status(s) | RespValue::Bulk(s) => {
            out.extend_from_slice(s);
            if v.is_error() {
                out.push(b'\n');
            }
        }
        RespValue::Verbatim { text, .. } => out.extend_from_slice(text),
        RespValue::Boolean(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        RespValue::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        RespValue::Double(d) => out.extend_from_slice(cstr(d)),
        RespValue::Array(e) | RespValue::Set(e) | RespValue::Push(e) => {
            for (i, x) in e.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                raw(out, x, mb_delim);
            }
        }
        RespValue::Map(m) => {
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                raw(out, k, mb_delim);
                out.push(b' ');
                raw(out, x, mb_delim);
            }
        }
        RespValue::BigNumber(_) | RespValue::Attribute { .. } => {}
    }
}

/// The Lua debugger's raw style: status lines are coloured by their tag on
/// xterm-like terminals, and `<endsession>` ends the session (returns true).
pub fn raw_ldb(out: &mut Vec<u8>, v: &RespValue, mb_delim: &[u8], color: bool) -> bool {
    match v {
        RespValue::Status(st) => {
            if st.starts_with(b"<endsession>") {
                return true;
            }
            let has = |t: &[u8]| st.windows(t.len()).any(|w| w == t);
            let mut c = "white";
            if has(b"<debug>") {
                c = "bold";
            }
            if has(b"<redis>") {
                c = "green";
            }
            if has(b"<reply>") {
                c = "cyan";
            }
            if has(b"<error>") {
                c = "red";
            }
            if has(b"<hint>") {
                c = "bold";
            }
            if has(b"<value>") || has(b"<retval>") {
                c = "magenta";
            }
            if st.len() > 4 && st[3].is_ascii_digit() {
                if st[1] == b'>' {
                    c = "yellow";
                } else if st[2] == b'#' {
                    c = "bold";
                }
            }
            if !color {
                out.extend_from_slice(st);
                return false;
            }
            let bold = u8::from(c == "bold");
            let code = match c {
                "red" => 31,
                "green" => 32,
                "yellow" => 33,
                "cyan" => 36,
                "magenta" => 35,
                _ => 37,
            };
            out.extend_from_slice(format!("\x1b[{bold};{code};49m").as_bytes());
            out.extend_from_slice(st);
            out.extend_from_slice(b"\x1b[0m");
            false
        }
        RespValue::Array(e) | RespValue::Set(e) | RespValue::Push(e) => {
            let mut ended = false;
            for (i, x) in e.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(mb_delim);
                }
                ended |= raw_ldb(out, x, mb_delim, color);
            }
            ended
        }
        other => {
            raw(out, other, mb_delim);
            false
        }
    }
}

/// The `--csv` style (maps are flattened).
pub fn csv(out: &mut Vec<u8>, v: &RespValue) {
    match v {
        RespValue::Error(e) => {
            out.extend_from_slice(b"ERROR,");
            repr(out, cstr(e));
        }
        RespValue::Status(s) | RespValue::Bulk(s) => repr(out, s),
        RespValue::Verbatim { text, .. } => repr(out, text),
        RespValue::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        RespValue::Double(d) => out.extend_from_slice(cstr(d)),
        RespValue::Nil => out.extend_from_slice(b"NULL"),
        RespValue::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        RespValue::Array(e) | RespValue::Set(e) | RespValue::Push(e) => {
            for (i, x) in e.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(out, x);
            }
        }
        RespValue::Map(m) => {
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(out, k);
                out.push(b',');
                csv(out, x);
            }
        }
        RespValue::BigNumber(_) | RespValue::Attribute { .. } => {}
    }
}

/// A JSON string, escaped as Redis's `escapeJsonString` does (bytes >= 0x80
/// are passed through untouched).
fn json_string(out: &mut Vec<u8>, s: &[u8], quoted: bool) {
    if quoted {
        // --quoted-json: Redis's repr, with every backslash doubled.
        let mut tmp = Vec::with_capacity(s.len() + 2);
        repr(&mut tmp, s);
        for c in tmp {
            if c == b'\\' {
                out.extend_from_slice(b"\\\\");
            } else {
                out.push(c);
            }
        }
        return;
    }
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            0..=0x1f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// The `--json` / `--quoted-json` style.
pub fn json(out: &mut Vec<u8>, v: &RespValue, quoted: bool) {
    match v {
        RespValue::Error(e) => {
            out.extend_from_slice(b"error:");
            json_string(out, cstr(e), quoted);
        }
        RespValue::Status(s) | RespValue::Bulk(s) => json_string(out, s, quoted),
        RespValue::Verbatim { text, .. } => json_string(out, text, quoted),
        RespValue::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        RespValue::Double(d) => out.extend_from_slice(cstr(d)),
        RespValue::Nil => out.extend_from_slice(b"null"),
        RespValue::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        RespValue::Array(e) | RespValue::Set(e) | RespValue::Push(e) => {
            out.push(b'[');
            for (i, x) in e.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json(out, x, quoted);
            }
            out.push(b']');
        }
        RespValue::Map(m) => {
            out.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match k {
                    RespValue::Error(_)
                    | RespValue::Status(_)
                    | RespValue::Bulk(_)
                    | RespValue::Verbatim { .. } => json(out, k, quoted),
                    _ => {
                        // JSON keys must be strings: quote the rendering.
                        let mut key = Vec::new();
                        json(&mut key, k, quoted);
                        if key.first() == Some(&b'"') {
                            out.extend_from_slice(&key);
                        } else {
                            out.push(b'"');
                            out.extend_from_slice(&key);
                            out.push(b'"');
                        }
                    }
                }
                out.push(b':');
                json(out, x, quoted);
            }
            out.push(b'}');
        }
        RespValue::BigNumber(_) | RespValue::Attribute { .. } => {}
    }
}

/// Formats a whole reply in `mode`, with the trailing separator Redis adds.
/// `verbatim` is Redis's "raw strings" flag for INFO-like commands.
pub fn reply(
    v: &RespValue,
    mode: OutputMode,
    verbatim: bool,
    mb_delim: &[u8],
    cmd_delim: &[u8],
) -> Result<Vec<u8>, Unprintable> {
    check(v)?;
    let mut out = Vec::new();
    if verbatim {
        raw(&mut out, v, mb_delim);
        return Ok(out);
    }
    match mode {
        OutputMode::Standard => tty(&mut out, v, b""),
        OutputMode::Raw => {
            raw(&mut out, v, mb_delim);
            out.extend_from_slice(cmd_delim);
        }
        OutputMode::Csv => {
            csv(&mut out, v);
            out.push(b'\n');
        }
        OutputMode::Json | OutputMode::QuotedJson => {
            json(&mut out, v, mode == OutputMode::QuotedJson);
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// Whether a push is a client-tracking invalidation (shown specially in tty mode).
pub fn invalidate_tty(v: &RespValue) -> Option<Vec<u8>> {
    let RespValue::Push(e) = v else { return None };
    if e.len() != 2 {
        return None;
    }
    let name = match &e[0] {
        RespValue::Bulk(b) | RespValue::Status(b) => b,
        _ => return None,
    };
    if !name.starts_with(b"invalidate") {
        return None;
    }
    let RespValue::Array(keys) = &e[1] else {
        return None;
    };
    let mut out = b"-> invalidate: ".to_vec();
    for (i, k) in keys.iter().enumerate() {
        out.push(b'\'');
        out.extend_from_slice(cstr(k.as_bytes().unwrap_or(b"")));
        out.push(b'\'');
        if i + 1 < keys.len() {
            out.extend_from_slice(b", ");
        }
    }
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RespValue::*;

    fn t(v: &RespValue) -> String {
        String::from_utf8(reply(v, OutputMode::Standard, false, b"\n", b"\n").unwrap()).unwrap()
    }

    #[test]
    fn tty_nested() {
        let v = Array(vec![
            Bulk(b"a".to_vec()),
            Array(vec![Integer(1), Nil]),
            Array(vec![]),
        ]);
        assert_eq!(
            t(&v),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)\n3) (empty array)\n"
        );
    }

    #[test]
    fn tty_map_alignment() {
        let v = Map(vec![
            (Bulk(b"k".to_vec()), Array(vec![Integer(1), Integer(2)])),
            (Bulk(b"j".to_vec()), Double(b"1.5".to_vec())),
        ]);
        assert_eq!(
            t(&v),
            "1# \"k\" => \n   1) (integer) 1\n   2) (integer) 2\n2# \"j\" => (double) 1.5\n"
        );
    }

    #[test]
    fn repr_escapes() {
        let mut o = Vec::new();
        repr(&mut o, b"a\"\\\n\x01\xff");
        assert_eq!(o, b"\"a\\\"\\\\\\n\\x01\\xff\"");
    }

    #[test]
    fn json_and_csv() {
        let v = Array(vec![
            Bulk(b"a\n\x01".to_vec()),
            Nil,
            Boolean(true),
            Integer(-3),
        ]);
        let mut o = Vec::new();
        json(&mut o, &v, false);
        assert_eq!(o, b"[\"a\\n\\u0001\",null,true,-3]");
        let mut o = Vec::new();
        csv(&mut o, &v);
        assert_eq!(o, b"\"a\\n\\x01\",NULL,true,-3");
        assert!(reply(&BigNumber(b"1".to_vec()), OutputMode::Raw, false, b"", b"").is_err());
    }
}
