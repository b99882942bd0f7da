//! String commands.

use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::object::Value;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("decr", decr),
    ("decrby", decrby),
    ("get", get),
    ("incr", incr),
    ("incrby", incrby),
    ("mget", mget),
    ("mset", mset),
    ("set", set),
];

/// The string value of `key` for reading, or WRONGTYPE.
fn read_string<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Value>, CmdError> {
    match ctx.read_key(key) {
        None => Ok(None),
        Some(o) if o.value.is_string() => Ok(Some(&o.value)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

/// GET key
pub fn get(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[1].clone();
    match ctx.read_key_out(&key) {
        (Some(o), out) if o.value.is_string() => o.value.reply_bulk(out),
        (Some(_), _) => return Err(errors::WRONGTYPE.into()),
        (None, out) => out.null(),
    }
    Ok(())
}

/// MGET key [key ...]
pub fn mget(ctx: &mut Ctx) -> CmdResult {
    ctx.out.array(ctx.argc() - 1);
    for i in 1..ctx.argc() {
        let key = ctx.argv[i].clone();
        match ctx.read_key_out(&key) {
            (Some(o), out) if o.value.is_string() => o.value.reply_bulk(out),
            (_, out) => out.null(),
        }
    }
    Ok(())
}

/// When a SET-style expiry ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    None,
    KeepTtl,
    At(i64),
}

/// Parses an expire argument for `cmd` (seconds or ms, relative or absolute) into an
/// absolute unix ms time, with Redis's checks and messages.
fn parse_expire(ctx: &Ctx, arg: &[u8], unit_ms: i64, absolute: bool) -> Result<i64, CmdError> {
    let n = redis_formats::num::parse_i64(arg).ok_or(CmdError::from(errors::NOT_INTEGER))?;
    let invalid = || {
        CmdError::from(format!(
            "ERR invalid expire time in '{}' command",
            ctx.cmd.name
        ))
    };
    if n <= 0 {
        return Err(invalid());
    }
    let ms = n.checked_mul(unit_ms).ok_or_else(invalid)?;
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(ctx.now_ms).ok_or_else(invalid)
    }
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]
pub fn set(ctx: &mut Ctx) -> CmdResult {
    let mut nx = false;
    let mut xx = false;
    let mut get = false;
    let mut expiry = Expiry::None;
    let mut i = 3;
    while i < ctx.argc() {
        let a = ctx.arg(i);
        let next = ctx.argv.get(i + 1);
        let word = a.to_ascii_uppercase();
        match word.as_slice() {
            b"NX" if !xx => nx = true,
            b"XX" if !nx => xx = true,
            b"GET" => get = true,
            b"KEEPTTL" if expiry == Expiry::None => expiry = Expiry::KeepTtl,
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if expiry == Expiry::None && next.is_some() => {
                let (unit, abs) = match word.as_slice() {
                    b"EX" => (1000, false),
                    b"PX" => (1, false),
                    b"EXAT" => (1000, true),
                    _ => (1, true),
                };
                let next = next.expect("checked").clone();
                expiry = Expiry::At(parse_expire(ctx, &next, unit, abs)?);
                i += 1;
            }
            _ => return Err(errors::SYNTAX.into()),
        }
        i += 1;
    }
    let key = ctx.argv[1].clone();
    let old = if get {
        read_string(ctx, &key)?.cloned()
    } else {
        None
    };
    let exists = if get {
        old.is_some()
    } else {
        ctx.write_key(&key).is_some()
    };
    if (nx && exists) || (xx && !exists) {
        if get {
            match old {
                Some(v) => v.reply_bulk(ctx.out),
                None => ctx.out.null(),
            }
        } else {
            ctx.out.null();
        }
        return Ok(());
    }
    ctx.set_key(&key, Value::string(&ctx.argv[2]), expiry == Expiry::KeepTtl);
    if let Expiry::At(when) = expiry {
        ctx.db().set_expire(&key, when);
    }
    ctx.dirty(1);
    if get {
        match old {
            Some(v) => v.reply_bulk(ctx.out),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.ok();
    }
    Ok(())
}

/// MSET key value [key value ...]
pub fn mset(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc().is_multiple_of(2) {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            ctx.cmd.name
        )
        .into());
    }
    for i in (1..ctx.argc()).step_by(2) {
        let key = ctx.argv[i].clone();
        ctx.set_key(&key, Value::string(&ctx.argv[i + 1]), false);
    }
    ctx.dirty((ctx.argc() as u64 - 1) / 2);
    ctx.out.ok();
    Ok(())
}

fn incr_by(ctx: &mut Ctx, delta: i64) -> CmdResult {
    let key = ctx.argv[1].clone();
    let current = match ctx.write_key(&key) {
        None => 0,
        Some(o) => match &o.value {
            Value::Int(n) => *n,
            v if v.is_string() => v
                .with_bytes(|b| {
                    if b.len() > 20 {
                        None
                    } else {
                        redis_formats::num::parse_i64(b)
                    }
                })
                .ok_or(CmdError::from(errors::NOT_INTEGER))?,
            _ => return Err(errors::WRONGTYPE.into()),
        },
    };
    let new = current
        .checked_add(delta)
        .ok_or(CmdError::from(errors::OVERFLOW))?;
    match ctx.write_key(&key) {
        Some(o) => o.value = Value::Int(new),
        None => ctx.set_key(&key, Value::Int(new), false),
    }
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
    let d = ctx.arg_i64(2)?;
    incr_by(ctx, d)
}

/// DECRBY key decrement
pub fn decrby(ctx: &mut Ctx) -> CmdResult {
    let d = ctx.arg_i64(2)?;
    if d == i64::MIN {
        return Err("ERR decrement would overflow".into());
    }
    incr_by(ctx, -d)
}
