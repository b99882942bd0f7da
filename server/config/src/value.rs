//! Reading and writing one parameter by its table entry: the text CONFIG GET prints,
//! and the validation and error texts of setting it (from CONFIG SET or a config line).

use crate::table::{flags, Kind, NumFmt, ParamDef, Special};
use crate::types::*;
use crate::util::{c_str, c_strtoll, memtoull, strerror, trimmed_f};
use redis_formats::num::parse_i64;

/// State that only matters while reading config files: Redis resets the save points
/// at the first `save` line of the files and appends the later ones.
#[derive(Default)]
pub(crate) struct SetCtx {
    pub reading_file: bool,
    pub save_loaded: bool,
}

/// The value as CONFIG GET prints it.
pub(crate) fn get_value(c: &Config, d: &ParamDef) -> Vec<u8> {
    match &d.kind {
        Kind::Bool { get, .. } => (if get(c) { "yes" } else { "no" }).into(),
        Kind::Num { get, fmt, .. } => format_num(get(c), *fmt).into_bytes(),
        Kind::Enum { get, names, .. } => {
            enum_name(names, get(c), d.flags & flags::MULTI_ARG != 0).into_bytes()
        }
        Kind::Str { get, .. } => get(c).unwrap_or(b"").to_vec(),
        Kind::Special(s) => special_get(c, *s).into_bytes(),
    }
}

pub(crate) fn format_num(v: i128, fmt: NumFmt) -> String {
    match fmt {
        NumFmt::MemoryPercent if v < 0 => format!("{}%", -v),
        NumFmt::Octal => format!("{:o}", v),
        _ => v.to_string(),
    }
}

/// The name(s) of an enum value; for flag sets, the names of the set bits in table
/// order, or "unknown" when some bits have no name.
pub(crate) fn enum_name(names: &[(&str, i32)], v: i32, bitflags: bool) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut unmatched = v;
    for &(name, code) in names {
        if v == code {
            return name.to_string();
        }
        if bitflags && code != 0 && code == (unmatched & code) {
            out.push(name);
            unmatched &= !code;
        }
    }
    if out.is_empty() || unmatched != 0 {
        "unknown".to_string()
    } else {
        out.join(" ")
    }
}

fn special_get(c: &Config, s: Special) -> String {
    match s {
        Special::Dir => c.dir.to_string_lossy().into_owned(),
        Special::Save => {
            let v: Vec<String> = c.save.iter().map(|(s, n)| format!("{} {}", s, n)).collect();
            v.join(" ")
        }
        Special::ClientOutputBufferLimit => {
            let names = ["normal", "slave", "pubsub"];
            let v: Vec<String> = c
                .client_output_buffer_limit
                .iter()
                .zip(names)
                .map(|(l, n)| format!("{} {} {} {}", n, l.hard_bytes, l.soft_bytes, l.soft_seconds))
                .collect();
            v.join(" ")
        }
        Special::OomScoreAdjValues => {
            let v = c.oom_score_adj_values;
            format!("{} {} {}", v[0], v[1], v[2])
        }
        Special::NotifyKeyspaceEvents => notify_flags_to_string(c.notify_keyspace_events),
        Special::Bind => {
            let v: Vec<String> = c
                .bind
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect();
            v.join(" ")
        }
        Special::ReplicaOf => match &c.replicaof {
            Some((h, p)) => format!("{} {}", String::from_utf8_lossy(h), p),
            None => String::new(),
        },
        Special::LatencyPercentiles => {
            let v: Vec<String> = c
                .latency_tracking_info_percentiles
                .iter()
                .map(|p| trimmed_f(*p))
                .collect();
            v.join(" ")
        }
    }
}

/// The `notify-keyspace-events` text of a flag set (e.g. "AKE").
pub fn notify_flags_to_string(f: u32) -> String {
    use notify::*;
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, ch) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(ch);
            }
        }
    }
    for (bit, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if f & bit != 0 {
            s.push(ch);
        }
    }
    s
}

/// Parses `notify-keyspace-events` classes; None on an unknown character.
pub fn notify_flags_from_str(s: &[u8]) -> Option<u32> {
    use notify::*;
    let mut f = 0;
    for &c in c_str(s) {
        f |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

fn bad_enum(names: &[(&str, i32)]) -> String {
    let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let mut s = format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    );
    // Redis formats it into a 256-byte buffer.
    s.truncate(255);
    s
}

/// Sets a parameter from its arguments (already split for multi-argument ones).
/// Returns whether the value changed (Redis's "apply" trigger), or the error text.
pub(crate) fn set_value(
    c: &mut Config,
    d: &ParamDef,
    args: &[Vec<u8>],
    ctx: &mut SetCtx,
) -> Result<bool, String> {
    let volatile = d.flags & flags::VOLATILE != 0;
    let arg0 = || args.first().map(|a| a.as_slice()).unwrap_or(b"");
    match &d.kind {
        Kind::Bool {
            get, set, check, ..
        } => {
            let v = match arg0().to_ascii_lowercase().as_slice() {
                b"yes" => true,
                b"no" => false,
                _ => return Err("argument must be 'yes' or 'no'".into()),
            };
            if let Some(chk) = check {
                chk(v)?;
            }
            if get(c) != v {
                set(c, v);
                return Ok(true);
            }
            Ok(volatile)
        }
        Kind::Num {
            get,
            set,
            min,
            max,
            fmt,
            unsigned,
            ..
        } => {
            let raw = parse_num(arg0(), *fmt)?;
            let v: i128 = if *unsigned {
                raw as u64 as i128
            } else {
                raw as i128
            };
            if *fmt == NumFmt::MemoryPercent && v < 0 {
                if v < *min {
                    return Err(format!(
                        "percentage argument must be less or equal to {}",
                        -min
                    ));
                }
            } else if v < *min || v > *max {
                return Err(if *fmt == NumFmt::Octal {
                    format!("argument must be between {:o} and {:o} inclusive", min, max)
                } else {
                    format!("argument must be between {} and {} inclusive", min, max)
                });
            }
            // Redis treats hz as a hint and caps it to 1..=500.
            let v = if d.name == "hz" { v.clamp(1, 500) } else { v };
            if get(c) != v {
                set(c, v);
                return Ok(true);
            }
            Ok(volatile)
        }
        Kind::Enum {
            get,
            set,
            names,
            check,
            ..
        } => {
            let bitflags = d.flags & flags::MULTI_ARG != 0;
            if args.is_empty() || (!bitflags && args.len() != 1) {
                return Err(bad_enum(names));
            }
            let mut v = 0;
            for a in args {
                let a = c_str(a);
                let mut matched = false;
                for &(n, code) in names.iter() {
                    if a.eq_ignore_ascii_case(n.as_bytes()) {
                        v |= code;
                        matched = true;
                    }
                }
                if !matched {
                    return Err(bad_enum(names));
                }
            }
            if let Some(chk) = check {
                chk(v)?;
            }
            if get(c) != v {
                set(c, v);
                return Ok(true);
            }
            Ok(volatile)
        }
        Kind::Str {
            get,
            set,
            empty_is_null,
            binary,
            check,
            ..
        } => {
            let a = if *binary { arg0() } else { c_str(arg0()) };
            if let Some(chk) = check {
                chk(c, a)?;
            }
            let new = if *empty_is_null && a.is_empty() {
                None
            } else {
                Some(a.to_vec())
            };
            if get(c) != new.as_deref() {
                set(c, new);
                return Ok(true);
            }
            Ok(volatile)
        }
        Kind::Special(s) => special_set(c, *s, args, ctx),
    }
}

fn parse_num(a: &[u8], fmt: NumFmt) -> Result<i64, String> {
    match fmt {
        NumFmt::Int => {
            parse_i64(a).ok_or_else(|| "argument couldn't be parsed into an integer".into())
        }
        NumFmt::Memory => memtoull(a)
            .map(|v| v as i64)
            .ok_or_else(|| "argument must be a memory value".into()),
        NumFmt::MemoryPercent => {
            if let Some(v) = memtoull(a) {
                return Ok(v as i64);
            }
            if a.len() > 1 && a.ends_with(b"%") {
                if let Some(v) = parse_i64(&a[..a.len() - 1]) {
                    if v >= 0 {
                        return Ok(-v);
                    }
                }
            }
            Err("argument must be a memory or percent value".into())
        }
        NumFmt::Octal => {
            parse_octal(a).ok_or_else(|| "argument couldn't be parsed as an octal number".into())
        }
    }
}

/// C's `strtoll(s, &end, 8)` accepted only when it consumed everything without overflow.
fn parse_octal(s: &[u8]) -> Option<i64> {
    let s = c_str(s);
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
    while i < s.len() && (b'0'..=b'7').contains(&s[i]) {
        v = v * 8 + (s[i] - b'0') as i128;
        if v > i64::MAX as i128 + 1 {
            return None;
        }
        i += 1;
    }
    if i == start {
        // Nothing converted: only the empty string ends at its terminator.
        return if s.is_empty() { Some(0) } else { None };
    }
    if i != s.len() {
        return None;
    }
    let v = if neg { -v } else { v };
    if v > i64::MAX as i128 || v < i64::MIN as i128 {
        return None;
    }
    Some(v as i64)
}

fn special_set(
    c: &mut Config,
    s: Special,
    args: &[Vec<u8>],
    ctx: &mut SetCtx,
) -> Result<bool, String> {
    match s {
        Special::Dir => {
            if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            set_dir(c, c_str(&args[0]))?;
            Ok(true)
        }
        Special::Save => {
            // A single empty argument resets the save points at once, even after an
            // earlier `save` line of the files (Redis's setConfigSaveOption).
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                c.save.clear();
                &[]
            } else {
                args
            };
            if args.len() % 2 == 1 {
                return Err("Invalid save parameters".into());
            }
            let mut points = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                let (secs, ok1) = c_strtoll(c_str(&pair[0]));
                let (changes, ok2) = c_strtoll(c_str(&pair[1]));
                if !ok1 || !ok2 || secs < 1 || changes < 0 {
                    return Err("Invalid save parameters".into());
                }
                // Redis keeps the change count in a C int.
                points.push((secs as u64, changes as i32));
            }
            if ctx.reading_file && ctx.save_loaded {
                c.save.extend(points);
            } else {
                if ctx.reading_file {
                    ctx.save_loaded = true;
                }
                c.save = points;
            }
            Ok(true)
        }
        Special::ClientOutputBufferLimit => {
            if args.len() & 3 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut new = c.client_output_buffer_limit;
            for g in args.chunks(4) {
                let class = match g[0].to_ascii_lowercase().as_slice() {
                    b"normal" => ClientClass::Normal,
                    b"slave" | b"replica" => ClientClass::Replica,
                    b"pubsub" => ClientClass::Pubsub,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let hard = memtoull(c_str(&g[1]));
                let soft = memtoull(c_str(&g[2]));
                let (secs, ok) = c_strtoll(c_str(&g[3]));
                // The seconds go through a C int before the sign check.
                let secs = secs as i32;
                match (hard, soft) {
                    (Some(h), Some(s)) if ok && secs >= 0 => {
                        new[class as usize] =
                            OutputBufferLimit { hard_bytes: h, soft_bytes: s, soft_seconds: secs as i64 };
                    }
                    _ => {
                        return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration."
                            .into())
                    }
                }
            }
            c.client_output_buffer_limit = new;
            Ok(true)
        }
        Special::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut v = [0i32; 3];
            for (i, a) in args.iter().enumerate() {
                let (n, ok) = c_strtoll(c_str(a));
                if !ok || !(-2000..=2000).contains(&n) {
                    return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .into(),
                    );
                }
                v[i] = n as i32;
            }
            let changed = v != c.oom_score_adj_values;
            c.oom_score_adj_values = v;
            Ok(changed)
        }
        Special::NotifyKeyspaceEvents => {
            if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            match notify_flags_from_str(&args[0]) {
                Some(f) => {
                    c.notify_keyspace_events = f;
                    Ok(true)
                }
                None => Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
            }
        }
        Special::Bind => {
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            c.bind = args.iter().map(|a| c_str(a).to_vec()).collect();
            Ok(true)
        }
        Special::ReplicaOf => {
            if args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            c.replicaof = None;
            if args[0].eq_ignore_ascii_case(b"no") && args[1].eq_ignore_ascii_case(b"one") {
                return Ok(true);
            }
            let (p, ok) = c_strtoll(c_str(&args[1]));
            let p = p as i32;
            if !ok || !(0..=65535).contains(&p) {
                return Err("Invalid master port".into());
            }
            c.replicaof = Some((c_str(&args[0]).to_vec(), p));
            Ok(true)
        }
        Special::LatencyPercentiles => {
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            let mut v = Vec::with_capacity(args.len());
            for a in args {
                let p = match parse_double(a) {
                    Some(p) => p,
                    None => {
                        c.latency_tracking_info_percentiles.clear();
                        return Err("Invalid latency-tracking-info-percentiles parameters".into());
                    }
                };
                if !(0.0..=100.0).contains(&p) {
                    c.latency_tracking_info_percentiles.clear();
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into(),
                    );
                }
                v.push(p);
            }
            c.latency_tracking_info_percentiles = v;
            Ok(true)
        }
    }
}

/// Redis's `string2d`: a whole-string strtod without leading space, not NaN.
fn parse_double(a: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(a).ok()?;
    if s.is_empty() || s.as_bytes()[0].is_ascii_whitespace() {
        return None;
    }
    let v: f64 = match s.parse() {
        Ok(v) => v,
        Err(_) => redis_formats::num::parse_hex_float(s)?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Changes the process's working directory, as Redis's `dir` does, and records it.
pub(crate) fn set_dir(c: &mut Config, path: &[u8]) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    std::env::set_current_dir(p).map_err(|e| strerror(&e))?;
    c.dir = std::env::current_dir().map_err(|e| strerror(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_double;

    #[test]
    fn doubles_as_strtod() {
        assert_eq!(parse_double(b"99.9"), Some(99.9));
        assert_eq!(parse_double(b"1e1"), Some(10.0));
        assert_eq!(parse_double(b"0x1p3"), Some(8.0));
        assert_eq!(parse_double(b"0x1.8p1"), Some(3.0));
        assert_eq!(parse_double(b"0X10"), Some(16.0));
        assert_eq!(parse_double(b"-0x.8"), Some(-0.5));
        assert_eq!(parse_double(b"0x"), None);
        assert_eq!(parse_double(b"0x1p"), None);
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"nan"), None);
        assert_eq!(parse_double(b""), None);
        assert_eq!(parse_double(b"inf"), Some(f64::INFINITY));
    }
}
