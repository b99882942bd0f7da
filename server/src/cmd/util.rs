//! Small helpers shared by command handlers: Redis's HELP replies, subcommand syntax
//! errors, and integer arguments with Redis's range messages.

use crate::dispatch::{errors, CmdError, Ctx};

/// Redis's reply to `<COMMAND> HELP`: a header naming the command in upper case, the
/// given lines, then the HELP entry itself, all as status replies.
pub fn reply_help(ctx: &mut Ctx, lines: &[&str]) {
    let name = String::from_utf8_lossy(&ctx.argv[0]).to_uppercase();
    ctx.out.array(lines.len() + 3);
    ctx.out.simple(
        format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes(),
    );
    for l in lines {
        ctx.out.simple(l.as_bytes());
    }
    ctx.out.simple(b"HELP");
    ctx.out.simple(b"    Prints this help.");
}

/// Redis's "unknown subcommand or wrong number of arguments" error for the subcommand
/// in `argv[1]`.
pub fn subcommand_syntax_error(ctx: &Ctx) -> CmdError {
    let sub = &ctx.argv[1];
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(&ctx.argv[0]).to_uppercase()
    )
    .into()
}

/// Argument `i` as a C `int` (Redis's getIntFromObjectOrReply): "not an integer" when
/// it does not parse, "value is out of range, value must between..." outside 32 bits; `msg` replaces both
/// messages when given (as SWAPDB's "invalid first DB index").
pub fn arg_i32(ctx: &Ctx, i: usize, msg: Option<&'static str>) -> Result<i32, CmdError> {
    let Some(n) = redis_formats::num::parse_i64(&ctx.argv[i]) else {
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
