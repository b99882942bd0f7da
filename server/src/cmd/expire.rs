//! Key expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT), TTL,
//! PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.

use crate::dispatch::{CmdError, CmdResult, Ctx};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("expire", expire),
    ("expireat", expireat),
    ("expiretime", expiretime),
    ("persist", persist),
    ("pexpire", pexpire),
    ("pexpireat", pexpireat),
    ("pexpiretime", pexpiretime),
    ("pttl", pttl),
    ("ttl", ttl),
];

/// The NX/XX/GT/LT conditions of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Conditions {
    fn any(&self) -> bool {
        self.nx || self.xx || self.gt || self.lt
    }
}

fn parse_conditions(ctx: &Ctx) -> Result<Conditions, CmdError> {
    let mut c = Conditions::default();
    for i in 3..ctx.argc() {
        let opt = &ctx.argv[i];
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => c.nx = true,
            b"xx" => c.xx = true,
            b"gt" => c.gt = true,
            b"lt" => c.lt = true,
            _ => {
                return Err(
                    format!("ERR Unsupported option {}", String::from_utf8_lossy(opt)).into(),
                )
            }
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if c.gt && c.lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    Ok(c)
}

/// EXPIRE and friends: `base_ms` is 0 for the *AT forms, now for the relative ones;
/// `unit_ms` 1000 for seconds.
fn expire_generic(ctx: &mut Ctx, base_ms: i64, unit_ms: i64) -> CmdResult {
    let cond = parse_conditions(ctx)?;
    let mut when = ctx.arg_i64(2)?;
    let invalid = || {
        CmdError::from(format!(
            "ERR invalid expire time in '{}' command",
            ctx.cmd.name
        ))
    };
    if unit_ms == 1000 {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid());
        }
        when *= 1000;
    }
    if when > i64::MAX - base_ms {
        return Err(invalid());
    }
    when += base_ms;
    let key = ctx.argv[1];
    if ctx.write_key(key).is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    if cond.any() {
        let current = ctx.db().expire_of(key);
        let refused = (cond.nx && current.is_some())
            || (cond.xx && current.is_none())
            // No TTL counts as infinite: GT always fails, LT always passes.
            || (cond.gt && current.is_none_or(|c| when <= c))
            || (cond.lt && current.is_some_and(|c| when >= c));
        if refused {
            ctx.out.int(0);
            return Ok(());
        }
    }
    // A time already past deletes the key (as a master does; not while loading).
    if when <= crate::state::now_ms() && !crate::keyspace::is_loading() {
        ctx.db().remove(key);
        ctx.notify(crate::pubsub::class::GENERIC, "del", key);
        ctx.out.int(1);
        let del: &[u8] = if ctx.srv.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.propagate_as(&[del, key]);
    } else {
        ctx.db().set_expire(key, when);
        ctx.out.int(1);
        ctx.notify(crate::pubsub::class::GENERIC, "expire", key);
        // Propagated as PEXPIREAT with the absolute time (options kept).
        if ctx.propagating() && (base_ms != 0 || unit_ms == 1000 || ctx.cmd.name != "pexpireat") {
            let ms = when.to_string();
            let mut v: Vec<&[u8]> = Vec::with_capacity(ctx.argc());
            v.push(b"PEXPIREAT");
            v.push(key);
            v.push(ms.as_bytes());
            v.extend_from_slice(&ctx.argv[3..]);
            ctx.propagate_as(&v);
        }
    }
    ctx.dirty(1);
    Ok(())
}

/// EXPIRE key seconds [NX|XX|GT|LT]
pub fn expire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms;
    expire_generic(ctx, now, 1000)
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
pub fn pexpire(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now_ms;
    expire_generic(ctx, now, 1)
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
pub fn expireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, 1000)
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
pub fn pexpireat(ctx: &mut Ctx) -> CmdResult {
    expire_generic(ctx, 0, 1)
}

/// TTL and friends: -2 without the key, -1 without a TTL, else the TTL (relative or
/// absolute; seconds are rounded to the nearest).
fn ttl_generic(ctx: &mut Ctx, ms: bool, absolute: bool) -> CmdResult {
    let key = ctx.argv[1];
    if ctx.read_key_notouch(key).is_none() {
        ctx.out.int(-2);
        return Ok(());
    }
    match ctx.db().expire_of(key) {
        None => ctx.out.int(-1),
        Some(when) => {
            let t = if absolute {
                when
            } else {
                when - crate::state::now_ms()
            }
            .max(0);
            ctx.out.int(if ms { t } else { (t + 500) / 1000 });
        }
    }
    Ok(())
}

/// TTL key
pub fn ttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, false)
}

/// PTTL key
pub fn pttl(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, false)
}

/// EXPIRETIME key
pub fn expiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, false, true)
}

/// PEXPIRETIME key
pub fn pexpiretime(ctx: &mut Ctx) -> CmdResult {
    ttl_generic(ctx, true, true)
}

/// PERSIST key
pub fn persist(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.argv[1];
    let removed = ctx.write_key(key).is_some() && ctx.db().persist(key);
    if removed {
        ctx.notify(crate::pubsub::class::GENERIC, "persist", key);
        ctx.dirty(1);
    }
    ctx.out.int(removed as i64);
    Ok(())
}
