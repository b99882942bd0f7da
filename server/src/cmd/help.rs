//! Redis's HELP replies and subcommand syntax errors, shared by command handlers.

use crate::dispatch::{CmdError, Ctx};

/// Redis's reply to `<COMMAND> HELP`: a header naming the command in upper case, the
/// given lines, then the HELP entry itself, all as status replies.
pub fn reply_help(ctx: &mut Ctx, lines: &[&str]) {
    let name = String::from_utf8_lossy(ctx.argv[0]).to_uppercase();
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
        String::from_utf8_lossy(ctx.argv[0]).to_uppercase()
    )
    .into()
}
