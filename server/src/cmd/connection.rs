//! Connection commands: PING, ECHO, QUIT, SELECT.

use crate::dispatch::{CmdResult, Ctx};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("echo", echo),
    ("ping", ping),
    ("quit", quit),
    ("select", select),
];

/// PING [message]
pub fn ping(ctx: &mut Ctx) -> CmdResult {
    match ctx.argc() {
        1 => ctx.out.simple(b"PONG"),
        _ => ctx.out.bulk(&ctx.argv[1]),
    }
    Ok(())
}

/// ECHO message
pub fn echo(ctx: &mut Ctx) -> CmdResult {
    ctx.out.bulk(&ctx.argv[1]);
    Ok(())
}

/// QUIT: replies OK and closes once the reply is written.
pub fn quit(ctx: &mut Ctx) -> CmdResult {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// SELECT index
pub fn select(ctx: &mut Ctx) -> CmdResult {
    ctx.client.db = super::util::arg_db_index(ctx, 1)?;
    ctx.out.ok();
    Ok(())
}
