//! String commands: SET and its variants, GET and its variants, multi-key MGET/MSET,
//! APPEND/SETRANGE/GETRANGE/STRLEN, and the counters (INCR family, INCRBYFLOAT).
//! LCS is in `lcs.rs`, the bit commands in `bits.rs` and `bitfield.rs`.
//!
//! Error precedence follows Redis 7.0: each command checks its arguments and the key
//! type in the same order Redis does, so the same bad request gets the same error.

use super::args::{check_string_length, expire_at_ms, parse_i64_arg, ExpireUnit};
use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::longdouble::LongDouble;
use crate::object::{IntBuf, Value};
use crate::pubsub::class;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("append", append),
    ("decr", decr),
    ("decrby", decrby),
    ("get", get),
    ("getdel", getdel),
    ("getex", getex),
    ("getrange", getrange),
    ("getset", getset),
    ("incr", incr),
    ("incrby", incrby),
    ("incrbyfloat", incrbyfloat),
    ("lcs", super::lcs::lcs),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("psetex", psetex),
    ("set", set),
    ("setex", setex),
    ("setnx", setnx),
    ("setrange", setrange),
    ("strlen", strlen),
    ("substr", getrange),
];

/// Redis's getGenericCommand: replies with the value of `key` (null if missing) or
/// fails with WRONGTYPE. Returns whether the key existed.
fn reply_get(ctx: &mut Ctx, key: &[u8]) -> Result<bool, CmdError> {
    match ctx.read_key_out(key) {
        (Some(o), out) if o.value.is_string() => {
            o.value.reply_bulk(out);
            Ok(true)
        }
        (Some(_), _) => Err(errors::WRONGTYPE.into()),
        (None, out) => {
            out.null();
            Ok(false)
        }
    }
}

/// GET key
pub fn get(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    reply_get(ctx, argv[1]).map(|_| ())
}

/// MGET key [key ...]
pub fn mget(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    ctx.out.array(argv.len() - 1);
    for key in &argv[1..] {
        match ctx.read_key_out(key) {
            (Some(o), out) if o.value.is_string() => o.value.reply_bulk(out),
            (_, out) => out.null(),
        }
    }
    Ok(())
}

/// The expiry an extended SET/GETEX option asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireOpt {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Options of SET (`is_set`) or GETEX, as Redis's parseExtendedStringArguments
/// accepts them: the same option may repeat, conflicting ones are a syntax error.
#[derive(Debug, Default)]
struct ExtOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// The expiry option and the index of its argument.
    expire: Option<(ExpireOpt, usize)>,
}

fn parse_ext_options(argv: &[&[u8]], is_set: bool) -> Result<ExtOptions, CmdError> {
    let mut o = ExtOptions::default();
    let mut j = if is_set { 3 } else { 2 };
    while j < argv.len() {
        let opt: &[u8] = argv[j];
        let has_next = j + 1 < argv.len();
        let is = |w: &str| opt.eq_ignore_ascii_case(w.as_bytes());
        // An expiry option may repeat itself but not follow another kind.
        let expire_ok = |kind: ExpireOpt, o: &ExtOptions| {
            !o.keepttl && !o.persist && o.expire.is_none_or(|(k, _)| k == kind) && has_next
        };
        let kind = if is("ex") {
            Some(ExpireOpt::Ex)
        } else if is("px") {
            Some(ExpireOpt::Px)
        } else if is("exat") {
            Some(ExpireOpt::ExAt)
        } else if is("pxat") {
            Some(ExpireOpt::PxAt)
        } else {
            None
        };
        if is_set && is("nx") && !o.xx {
            o.nx = true;
        } else if is_set && is("xx") && !o.nx {
            o.xx = true;
        } else if is_set && is("get") {
            o.get = true;
        } else if is_set && is("keepttl") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !is_set && is("persist") && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(kind) = kind.filter(|&k| expire_ok(k, &o)) {
            o.expire = Some((kind, j + 1));
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute unix-ms time of an expiry option's argument, with Redis's checks.
fn option_expire_ms(ctx: &Ctx, kind: ExpireOpt, arg: &[u8]) -> Result<i64, CmdError> {
    let (unit, relative) = match kind {
        ExpireOpt::Ex => (ExpireUnit::Seconds, true),
        ExpireOpt::Px => (ExpireUnit::Millis, true),
        ExpireOpt::ExAt => (ExpireUnit::Seconds, false),
        ExpireOpt::PxAt => (ExpireUnit::Millis, false),
    };
    expire_at_ms(arg, unit, relative.then_some(ctx.now_ms), &ctx.cmd.name)
}

/// Stores a string value with SET semantics (lazy expiry of the old key, TTL
/// dropped unless `keep_ttl`), and counts the change.
#[inline]
fn store(ctx: &mut Ctx, key: &[u8], value: Value, keep_ttl: bool) {
    ctx.set_key(key, value, keep_ttl);
    ctx.dirty(1);
}

/// Redis's setGenericCommand, shared by SET, SETNX, SETEX and PSETEX.
/// `ok`/`abort` are the replies when the value is (not) stored; `None` means +OK / null.
fn set_generic(
    ctx: &mut Ctx,
    opts: &ExtOptions,
    value_arg: usize,
    ok: Option<i64>,
    abort: Option<i64>,
) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let expire_at = match opts.expire {
        Some((kind, i)) => Some(option_expire_ms(ctx, kind, argv[i])?),
        None => None,
    };
    if opts.get {
        reply_get(ctx, key)?;
    }
    if opts.nx || opts.xx {
        let found = ctx.write_key(key).is_some();
        if (opts.nx && found) || (opts.xx && !found) {
            if !opts.get {
                match abort {
                    Some(n) => ctx.out.int(n),
                    None => ctx.out.null(),
                }
            }
            return Ok(());
        }
    }
    store(ctx, key, Value::string(argv[value_arg]), opts.keepttl);
    ctx.notify(class::STRING, "set", key);
    if let Some(when) = expire_at {
        ctx.db().set_expire(key, when);
        ctx.notify(class::GENERIC, "expire", key);
        // Propagated as SET key value PXAT <absolute ms>.
        if ctx.propagating() {
            let ms = when.to_string();
            ctx.propagate_as(&[b"SET", key, argv[value_arg], b"PXAT", ms.as_bytes()]);
        }
    } else if opts.get && ctx.propagating() {
        // Propagated without its GET arguments.
        let kept: Vec<&[u8]> = argv
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| *a)
            .collect();
        ctx.propagate_as(&kept);
    }
    if !opts.get {
        match ok {
            Some(n) => ctx.out.int(n),
            None => ctx.out.ok(),
        }
    }
    Ok(())
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]
pub fn set(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() == 3 {
        // The common case, kept lean.
        let argv = ctx.argv;
        store(ctx, argv[1], Value::string(argv[2]), false);
        ctx.notify(class::STRING, "set", argv[1]);
        ctx.out.ok();
        return Ok(());
    }
    let opts = parse_ext_options(ctx.argv, true)?;
    set_generic(ctx, &opts, 2, None, None)
}

/// SETNX key value
pub fn setnx(ctx: &mut Ctx) -> CmdResult {
    let opts = ExtOptions {
        nx: true,
        ..Default::default()
    };
    set_generic(ctx, &opts, 2, Some(1), Some(0))
}

/// SETEX key seconds value
pub fn setex(ctx: &mut Ctx) -> CmdResult {
    let opts = ExtOptions {
        expire: Some((ExpireOpt::Ex, 2)),
        ..Default::default()
    };
    set_generic(ctx, &opts, 3, None, None)
}

/// PSETEX key milliseconds value
pub fn psetex(ctx: &mut Ctx) -> CmdResult {
    let opts = ExtOptions {
        expire: Some((ExpireOpt::Px, 2)),
        ..Default::default()
    };
    set_generic(ctx, &opts, 3, None, None)
}

/// GETSET key value
pub fn getset(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    reply_get(ctx, argv[1])?;
    store(ctx, argv[1], Value::string(argv[2]), false);
    ctx.notify(class::STRING, "set", argv[1]);
    ctx.propagate_as(&[b"SET", argv[1], argv[2]]);
    Ok(())
}

/// GETDEL key
pub fn getdel(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if reply_get(ctx, argv[1])? {
        ctx.db().remove(argv[1]);
        ctx.notify(class::GENERIC, "del", argv[1]);
        ctx.dirty(1);
        let del: &[u8] = if ctx.srv.config.lazyfree_lazy_user_del {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.propagate_as(&[del, argv[1]]);
    }
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ts-ms|PERSIST]
pub fn getex(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let opts = parse_ext_options(argv, false)?;
    match ctx.read_key(key) {
        None => {
            ctx.out.null();
            return Ok(());
        }
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(_) => {}
    }
    // The expiry is validated only once the key is known to be a string.
    let expire_at = match opts.expire {
        Some((kind, i)) => Some(option_expire_ms(ctx, kind, argv[i])?),
        None => None,
    };
    if let Some(o) = ctx.srv.keyspace.dbs[ctx.client.db].keys.get(key) {
        o.value.reply_bulk(ctx.out);
    }
    let absolute = matches!(opts.expire, Some((ExpireOpt::ExAt | ExpireOpt::PxAt, _)));
    match expire_at {
        Some(when) if absolute && when <= ctx.now_ms && !crate::keyspace::is_loading() => {
            ctx.db().remove(key);
            ctx.notify(class::GENERIC, "del", key);
            ctx.dirty(1);
            let del: &[u8] = if ctx.srv.config.lazyfree_lazy_expire {
                b"UNLINK"
            } else {
                b"DEL"
            };
            ctx.propagate_as(&[del, key]);
        }
        Some(when) => {
            ctx.db().set_expire(key, when);
            ctx.notify(class::GENERIC, "expire", key);
            ctx.dirty(1);
            if ctx.propagating() {
                let ms = when.to_string();
                ctx.propagate_as(&[b"PEXPIREAT", key, ms.as_bytes()]);
            }
        }
        None if opts.persist && ctx.db().persist(key) => {
            ctx.notify(class::GENERIC, "persist", key);
            ctx.dirty(1);
            ctx.propagate_as(&[b"PERSIST", key]);
        }
        None => {}
    }
    Ok(())
}

/// MSET key value [key value ...]
pub fn mset(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, false)
}

/// MSETNX key value [key value ...]
pub fn msetnx(ctx: &mut Ctx) -> CmdResult {
    mset_generic(ctx, true)
}

fn mset_generic(ctx: &mut Ctx, nx: bool) -> CmdResult {
    let argv = ctx.argv;
    if argv.len().is_multiple_of(2) {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            ctx.cmd.name
        )
        .into());
    }
    if nx {
        for key in argv[1..].iter().step_by(2) {
            if ctx.write_key(key).is_some() {
                ctx.out.int(0);
                return Ok(());
            }
        }
    }
    for pair in argv[1..].chunks_exact(2) {
        ctx.set_key(pair[0], Value::string(pair[1]), false);
        ctx.notify(class::STRING, "set", pair[0]);
    }
    ctx.dirty((argv.len() as u64 - 1) / 2);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// APPEND key value
pub fn append(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (key, tail): (&[u8], &[u8]) = (argv[1], argv[2]);
    let max = ctx.srv.config.proto_max_bulk_len;
    let len = match ctx.write_key(key) {
        None => {
            let obj = ctx.new_object(Value::string(tail));
            ctx.db().add(key, obj);
            tail.len()
        }
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(o) => {
            check_string_length(o.value.str_len() as u64, tail.len() as u64, max)?;
            let raw = o.value.make_raw();
            raw.extend_from_slice(tail);
            raw.len()
        }
    };
    ctx.notify(class::STRING, "append", key);
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

/// STRLEN key
pub fn strlen(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = match ctx.read_key(argv[1]) {
        None => 0,
        Some(o) if o.value.is_string() => o.value.str_len(),
        Some(_) => return Err(errors::WRONGTYPE.into()),
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// The byte range GETRANGE returns for `start..=end` (Redis's index rules) over a
/// string of `len` bytes, or `None` for an empty reply.
pub(crate) fn getrange_bounds(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE key start end (and SUBSTR, its old name)
pub fn getrange(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let start = parse_i64_arg(argv[2])?;
    let end = parse_i64_arg(argv[3])?;
    match ctx.read_key_out(argv[1]) {
        (None, out) => out.bulk(b""),
        (Some(o), _) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        (Some(o), out) => {
            let mut buf: IntBuf = [0; 20];
            let s = o.value.as_bytes(&mut buf);
            match getrange_bounds(start, end, s.len()) {
                Some((a, b)) => out.bulk(&s[a..=b]),
                None => out.bulk(b""),
            }
        }
    }
    Ok(())
}

/// SETRANGE key offset value
pub fn setrange(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (key, value): (&[u8], &[u8]) = (argv[1], argv[3]);
    let offset = parse_i64_arg(argv[2])?;
    if offset < 0 {
        return Err("ERR offset is out of range".into());
    }
    let max = ctx.srv.config.proto_max_bulk_len;
    let offset_u = offset as u64;
    let len = match ctx.write_key(key) {
        None => {
            if value.is_empty() {
                ctx.out.int(0);
                return Ok(());
            }
            check_string_length(offset_u, value.len() as u64, max)?;
            let mut s = vec![0u8; offset as usize + value.len()];
            s[offset as usize..].copy_from_slice(value);
            let len = s.len();
            let obj = ctx.new_object(Value::Raw(Box::new(s)));
            ctx.db().add(key, obj);
            len
        }
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(o) => {
            if value.is_empty() {
                let n = o.value.str_len();
                ctx.out.int(n as i64);
                return Ok(());
            }
            check_string_length(offset_u, value.len() as u64, max)?;
            let raw = o.value.make_raw();
            let end = offset as usize + value.len();
            if raw.len() < end {
                raw.resize(end, 0);
            }
            raw[offset as usize..end].copy_from_slice(value);
            raw.len()
        }
    };
    ctx.notify(class::STRING, "setrange", key);
    ctx.dirty(1);
    ctx.out.int(len as i64);
    Ok(())
}

/// Redis's incrDecrCommand: adds `delta` to the integer at the key (0 if missing),
/// keeping its TTL.
fn incr_by(ctx: &mut Ctx, delta: i64) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let new = match ctx.write_key(key) {
        None => {
            let obj = ctx.new_object(Value::Int(delta));
            ctx.db().add(key, obj);
            delta
        }
        Some(o) => {
            let current = match &o.value {
                Value::Int(n) => *n,
                v if v.is_string() => v
                    .with_bytes(redis_formats::num::parse_i64)
                    .ok_or(CmdError::from(errors::NOT_INTEGER))?,
                _ => return Err(errors::WRONGTYPE.into()),
            };
            let new = current
                .checked_add(delta)
                .ok_or(CmdError::from(errors::OVERFLOW))?;
            o.value = Value::Int(new);
            new
        }
    };
    ctx.notify(class::STRING, "incrby", key);
    ctx.dirty(1);
    ctx.out.int(new);
    Ok(())
}

/// INCR key
pub fn incr(ctx: &mut Ctx) -> CmdResult {
    incr_by(ctx, 1)
}

/// DECR key
pub fn decr(ctx: &mut Ctx) -> CmdResult {
    incr_by(ctx, -1)
}

/// INCRBY key increment
pub fn incrby(ctx: &mut Ctx) -> CmdResult {
    let d = parse_i64_arg(ctx.argv[2])?;
    incr_by(ctx, d)
}

/// DECRBY key decrement
pub fn decrby(ctx: &mut Ctx) -> CmdResult {
    let d = parse_i64_arg(ctx.argv[2])?;
    if d == i64::MIN {
        return Err("ERR decrement would overflow".into());
    }
    incr_by(ctx, -d)
}

/// INCRBYFLOAT key increment: computed in C `long double` as Redis does, stored as
/// the "%.17Lf" text (an embstr/raw string, never an int), TTL kept.
pub fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let not_float = || CmdError::from(errors::NOT_FLOAT);
    let current = match ctx.write_key(key) {
        None => None,
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(o) => Some(match &o.value {
            Value::Int(n) => LongDouble::from_i64(*n),
            v => v.with_bytes(LongDouble::parse).ok_or_else(not_float)?,
        }),
    };
    let incr = LongDouble::parse(argv[2]).ok_or_else(not_float)?;
    let sum = current
        .unwrap_or_else(|| LongDouble::from_i64(0))
        .checked_add(incr)
        .ok_or(CmdError::from(
            "ERR increment would produce NaN or Infinity",
        ))?;
    let text = sum.to_human();
    let value = Value::plain_string(&text);
    match ctx.db().keys.get_mut(key) {
        Some(o) => o.value = value,
        None => {
            let obj = ctx.new_object(value);
            ctx.db().add(key, obj);
        }
    }
    ctx.notify(class::STRING, "incrbyfloat", key);
    ctx.out.bulk(&text);
    ctx.dirty(1);
    // Propagated as SET key <result> KEEPTTL: float results are not replayed.
    ctx.propagate_as(&[b"SET", key, &text, b"KEEPTTL"]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrange_index_rules() {
        assert_eq!(getrange_bounds(0, -1, 5), Some((0, 4)));
        assert_eq!(getrange_bounds(-3, -1, 5), Some((2, 4)));
        assert_eq!(getrange_bounds(-1, -3, 5), None);
        assert_eq!(getrange_bounds(3, 1, 5), None);
        assert_eq!(getrange_bounds(-100, 100, 5), Some((0, 4)));
        assert_eq!(getrange_bounds(10, 20, 5), None);
        assert_eq!(getrange_bounds(0, 0, 0), None);
        assert_eq!(getrange_bounds(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }

    fn parse(line: &str, is_set: bool) -> Result<ExtOptions, CmdError> {
        let argv: Vec<&[u8]> = line.split(' ').map(|a| a.as_bytes()).collect();
        parse_ext_options(&argv, is_set)
    }

    #[test]
    fn extended_options_follow_redis_conflict_rules() {
        assert!(parse("SET k v NX GET EX 10", true).is_ok());
        assert!(parse("SET k v EX 10 EX 20", true).is_ok());
        assert!(parse("SET k v nx NX", true).is_ok());
        assert!(parse("SET k v NX XX", true).is_err());
        assert!(parse("SET k v EX 10 PX 10", true).is_err());
        assert!(parse("SET k v KEEPTTL EX 10", true).is_err());
        assert!(parse("SET k v EX", true).is_err());
        assert!(parse("SET k v PERSIST", true).is_err());
        assert!(parse("GETEX k PERSIST", false).is_ok());
        assert!(parse("GETEX k PERSIST EX 1", false).is_err());
        assert!(parse("GETEX k NX", false).is_err());
        assert!(parse("GETEX k KEEPTTL", false).is_err());
        let o = parse("SET k v PXAT 5 GET", true).expect("valid");
        assert!(o.get);
        assert_eq!(o.expire, Some((ExpireOpt::PxAt, 4)));
    }
}
