//! Argument parsing shared by command handlers, with Redis's checks and messages.

use crate::dispatch::{errors, CmdError, Ctx};

/// An integer argument (Redis's string2ll rules), or "value is not an integer".
#[inline]
pub fn parse_i64_arg(arg: &[u8]) -> Result<i64, CmdError> {
    redis_formats::num::parse_i64(arg).ok_or(CmdError::from(errors::NOT_INTEGER))
}

/// The unit of an expire argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireUnit {
    Seconds,
    Millis,
}

/// Converts an expire argument to an absolute unix-ms time as SET/GETEX/SETEX do:
/// an integer (else "not an integer"), positive and not overflowing once converted
/// (else "invalid expire time in '<command>' command"). `now_ms` is given for
/// relative times (EX/PX) and added to the value.
pub fn expire_at_ms(
    arg: &[u8],
    unit: ExpireUnit,
    now_ms: Option<i64>,
    command: &str,
) -> Result<i64, CmdError> {
    let n = parse_i64_arg(arg)?;
    let invalid = || CmdError::from(format!("ERR invalid expire time in '{command}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let ms = match unit {
        ExpireUnit::Seconds => n.checked_mul(1000).ok_or_else(invalid)?,
        ExpireUnit::Millis => n,
    };
    match now_ms {
        Some(now) => ms.checked_add(now).filter(|&t| t > 0).ok_or_else(invalid),
        None => Ok(ms),
    }
}

/// Redis's checkStringLength: a string of `size + append` bytes must not exceed
/// proto-max-bulk-len.
pub fn check_string_length(size: u64, append: u64, max: i64) -> Result<(), CmdError> {
    match size.checked_add(append) {
        Some(total) if total <= max.max(0) as u64 => Ok(()),
        _ => Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)".into()),
    }
}

/// Argument `i` as a C `int` (Redis's getIntFromObjectOrReply): "not an integer" when
/// it does not parse, "value is out of range, value must between..." outside 32 bits; `msg` replaces both
/// messages when given (as SWAPDB's "invalid first DB index").
pub fn arg_i32(ctx: &Ctx, i: usize, msg: Option<&'static str>) -> Result<i32, CmdError> {
    let Some(n) = redis_formats::num::parse_i64(ctx.argv[i]) else {
        return Err(msg.unwrap_or(errors::NOT_INTEGER).into());
    };
    i32::try_from(n).map_err(|_| {
        msg.unwrap_or("ERR value is out of range, value must between -2147483648 and 2147483647")
            .into()
    })
}

/// A database index argument checked against `databases`: "DB index is out of range".
pub fn arg_db_index(ctx: &Ctx, i: usize) -> Result<usize, CmdError> {
    let n = arg_i32(ctx, i, None)?;
    if n < 0 || n as usize >= ctx.srv.keyspace.dbs.len() {
        return Err(errors::DB_INDEX.into());
    }
    Ok(n as usize)
}

/// Redis's normalisation of an inclusive index range (LRANGE, LTRIM, ZRANGE...):
/// negative indexes count from the end, the range is clipped to `len`; `Some((start,
/// count))`, or `None` when nothing is left.
pub fn index_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, (end - start + 1) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_times() {
        let e = |a: &str, u, now| expire_at_ms(a.as_bytes(), u, now, "set");
        assert_eq!(e("10", ExpireUnit::Seconds, Some(5)), Ok(10_005));
        assert_eq!(e("10", ExpireUnit::Millis, None), Ok(10));
        assert_eq!(
            e("0", ExpireUnit::Millis, None),
            Err(CmdError::from(
                "ERR invalid expire time in 'set' command".to_string()
            ))
        );
        assert!(e("9223372036854775807", ExpireUnit::Seconds, None).is_err());
        assert!(e("9223372036854775807", ExpireUnit::Millis, Some(1)).is_err());
        assert_eq!(
            e("1x", ExpireUnit::Millis, None),
            Err(errors::NOT_INTEGER.into())
        );
    }

    #[test]
    fn string_length_limit() {
        assert!(check_string_length(10, 10, 20).is_ok());
        assert!(check_string_length(10, 11, 20).is_err());
        assert!(check_string_length(u64::MAX, 1, 20).is_err());
    }
}
