//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (see `crate::scripting`).

use crate::dispatch::{CmdResult, Ctx};
use crate::scripting::{self, Engine};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("eval", eval),
    ("eval_ro", eval_ro),
    ("evalsha", evalsha),
    ("evalsha_ro", evalsha_ro),
    ("script|exists", script_exists),
    ("script|flush", script_flush),
    ("script|help", script_help),
    ("script|kill", script_kill),
    ("script|load", script_load),
];

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, false)
}

fn eval_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, true)
}

fn evalsha(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, false)
}

fn evalsha_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, true)
}

/// The engine, created on first use.
pub fn engine(srv: &mut crate::state::Server) -> &mut Box<Engine> {
    srv.lua.get_or_insert_with(Engine::new)
}

fn eval_generic(ctx: &mut Ctx, by_sha: bool, ro: bool) -> CmdResult {
    // EVAL shows in MONITOR before the commands its script runs (it is skip-monitor
    // for the dispatcher), as Redis's evalCommand feeds it itself.
    if !ctx.srv.monitors.is_empty() {
        crate::introspection::feed_monitors(ctx.srv, ctx.client, ctx.argv, 0);
    }
    if by_sha && ctx.arg(1).len() != 40 {
        return Err(NOSCRIPT.into());
    }
    let numkeys = ctx.arg_i64(2)?;
    if numkeys > ctx.argc() as i64 - 3 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let sha = if by_sha {
        let mut s = [0u8; 40];
        for (d, c) in s.iter_mut().zip(ctx.arg(1)) {
            *d = c.to_ascii_lowercase();
        }
        s
    } else {
        scripting::sha1_hex(ctx.arg(1))
    };
    let body = ctx.argv[1];
    let engine = engine(ctx.srv);
    if engine.get(&sha).is_none() {
        if by_sha {
            return Err(NOSCRIPT.into());
        }
        engine.create(sha, body)?;
    }
    // The engine leaves the server while the script runs (commands it calls get
    // the server); it goes back whatever happens.
    let mut engine = ctx.srv.lua.take().expect("engine present");
    let argv = ctx.argv;
    let nk = numkeys as usize;
    let call = scripting::Call {
        sha,
        keys: &argv[3..3 + nk],
        args: &argv[3 + nk..],
        ro,
    };
    let r = scripting::run_script(&mut engine, ctx, &call);
    // A SCRIPT FLUSH cannot run inside a script, so the slot is still empty.
    ctx.srv.lua = Some(engine);
    // Propagated by its effects (the commands it ran), not as itself.
    ctx.prevent_propagation();
    r.map_err(Into::into)
}

/// SCRIPT LOAD script
fn script_load(ctx: &mut Ctx) -> CmdResult {
    let body = ctx.argv[2];
    let sha = scripting::sha1_hex(body);
    engine(ctx.srv).create(sha, body)?;
    ctx.out.bulk(&sha);
    Ok(())
}

/// SCRIPT EXISTS sha [sha ...]
fn script_exists(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argc() - 2;
    ctx.out.array(n);
    for i in 2..ctx.argc() {
        let found = ctx.srv.lua.as_ref().is_some_and(|e| e.exists(ctx.argv[i]));
        ctx.out.int(found as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn script_flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 3 || (ctx.argc() == 3 && !ctx.arg_is(2, "sync") && !ctx.arg_is(2, "async")) {
        return Err("ERR SCRIPT FLUSH only support SYNC|ASYNC option".into());
    }
    // Freeing the interpreter is quick enough here either way.
    ctx.srv.lua = None;
    ctx.out.ok();
    Ok(())
}

/// SCRIPT KILL: nothing can be running when a command is served under the lock (a
/// busy script answers SCRIPT KILL itself, see `crate::scripting`).
fn script_kill(_ctx: &mut Ctx) -> CmdResult {
    Err("NOTBUSY No scripts in execution right now.".into())
}

/// SCRIPT HELP
fn script_help(ctx: &mut Ctx) -> CmdResult {
    crate::cmd::help::reply_help(
        ctx,
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}
