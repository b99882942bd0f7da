//! FUNCTION and FCALL / FCALL_RO (see `crate::scripting::functions`).

use crate::dispatch::{CmdResult, Ctx};
use crate::scripting::functions::{self, Functions, FLAG_NAMES};
use crate::scripting::{self, Target};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("fcall", fcall),
    ("fcall_ro", fcall_ro),
    ("function|delete", function_delete),
    ("function|dump", function_dump),
    ("function|flush", function_flush),
    ("function|help", function_help),
    ("function|kill", function_kill),
    ("function|list", function_list),
    ("function|load", function_load),
    ("function|restore", function_restore),
    ("function|stats", function_stats),
];

fn fcall(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, false)
}

fn fcall_ro(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, true)
}

/// The AOF loader's client (Redis's mustObeyClient: no load time limit for it).
fn must_obey(ctx: &Ctx) -> bool {
    ctx.client.id == u64::MAX
}

fn fcall_generic(ctx: &mut Ctx, ro: bool) -> CmdResult {
    // Fed to MONITOR before the commands the function runs (FCALL is skip-monitor
    // for the dispatcher), as Redis's fcallCommandGeneric.
    if !ctx.srv.monitors.is_empty() {
        crate::introspection::feed_monitors(ctx.srv, ctx.client, ctx.argv, 0);
    }
    let Some(f) = ctx.srv.functions.get(ctx.arg(1)) else {
        return Err("ERR Function not found".into());
    };
    let (func_ref, flags) = (Functions::func_ref(f), f.flags);
    let name: *const [u8] = &f.name[..];
    let Ok(numkeys) = redis_formats::num::parse_i64(ctx.arg(2)).ok_or(()) else {
        return Err("ERR Bad number of keys provided".into());
    };
    if numkeys > ctx.argc() as i64 - 3 {
        return Err("ERR Number of keys can't be greater than number of args".into());
    }
    if numkeys < 0 {
        return Err("ERR Number of keys can't be negative".into());
    }
    let nk = numkeys as usize;
    let argv = ctx.argv;
    let mut engine = ctx.srv.functions.take_engine();
    let target = Target {
        func_ref,
        flags,
        // SAFETY: the function outlives the call: FUNCTION LOAD/DELETE/FLUSH/RESTORE
        // can run neither inside a script nor while one is busy.
        name: unsafe { &*name },
        keys: &argv[3..3 + nk],
        args: &argv[3 + nk..],
        ro,
        eval: false,
    };
    let r = scripting::run_target(&mut engine, ctx, &target);
    ctx.srv.functions.put_engine(engine);
    // Propagated by its effects (the commands it ran), not as itself.
    ctx.prevent_propagation();
    r.map_err(Into::into)
}

/// FUNCTION LOAD [REPLACE] code
fn function_load(ctx: &mut Ctx) -> CmdResult {
    let mut replace = false;
    let mut pos = 2;
    while pos < ctx.argc() - 1 {
        if ctx.arg_is(pos, "replace") {
            replace = true;
            pos += 1;
            continue;
        }
        return Err(format!(
            "ERR Unknown option given: {}",
            String::from_utf8_lossy(ctx.arg(pos))
        )
        .into());
    }
    if pos >= ctx.argc() {
        return Err("ERR Function code is missing".into());
    }
    let timeout = if must_obey(ctx) {
        0
    } else {
        functions::LOAD_TIMEOUT_MS
    };
    let code = ctx.argv[pos];
    let name = ctx
        .srv
        .functions
        .load(code, replace, timeout)
        .map_err(|e| format!("ERR {e}"))?;
    ctx.dirty(1);
    ctx.out.bulk(&name);
    Ok(())
}

/// FUNCTION DELETE library
fn function_delete(ctx: &mut Ctx) -> CmdResult {
    if !ctx.srv.functions.delete(ctx.argv[2]) {
        return Err("ERR Library not found".into());
    }
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn function_flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(subcommand_syntax_error(ctx).into());
    }
    if ctx.argc() == 3 && !ctx.arg_is(2, "sync") && !ctx.arg_is(2, "async") {
        return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option".into());
    }
    // Freeing the libraries is quick enough here either way.
    ctx.srv.functions.flush();
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax_error(ctx: &Ctx) -> String {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(ctx.arg(1)),
        String::from_utf8_lossy(ctx.arg(0)).to_uppercase()
    )
}

/// FUNCTION KILL: nothing can be running when a command is served under the lock (a
/// busy function answers FUNCTION KILL itself, see `crate::scripting`).
fn function_kill(_ctx: &mut Ctx) -> CmdResult {
    Err("NOTBUSY No scripts in execution right now.".into())
}

/// FUNCTION STATS (also answered while a function is busy: it allows busy).
fn function_stats(ctx: &mut Ctx) -> CmdResult {
    let running = scripting::running();
    if running.as_ref().is_some_and(|r| r.eval) {
        return Err(scripting::BUSY_EVAL.into());
    }
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    match running {
        None => out.null(),
        Some(r) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&r.name);
            out.bulk(b"command");
            out.array(r.argv.len());
            for a in &r.argv {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.int(r.duration_ms);
        }
    }
    let f = &ctx.srv.functions;
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(f.libs.len() as i64);
    out.bulk(b"functions_count");
    out.int(f.len() as i64);
    Ok(())
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn function_list(ctx: &mut Ctx) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < ctx.argc() {
        if !with_code && ctx.arg_is(i, "withcode") {
            with_code = true;
            i += 1;
            continue;
        }
        if pattern.is_none() && ctx.arg_is(i, "libraryname") {
            if i >= ctx.argc() - 1 {
                return Err("ERR library name argument was not given".into());
            }
            pattern = Some(ctx.argv[i + 1]);
            i += 2;
            continue;
        }
        return Err(format!(
            "ERR Unknown argument {}",
            String::from_utf8_lossy(ctx.arg(i))
        )
        .into());
    }
    let f = &ctx.srv.functions;
    let out = &mut *ctx.out;
    let matches =
        |name: &[u8]| pattern.is_none_or(|p| redis_formats::glob::glob_match(p, name, true));
    let n = f.libs.keys().filter(|n| matches(n)).count();
    out.array(n);
    for lib in f.libs.values().filter(|l| matches(&l.name)) {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(&lib.name);
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for key in &lib.functions {
            let func = &f.funcs[key];
            out.map(3);
            out.bulk(b"name");
            out.bulk(&func.name);
            out.bulk(b"description");
            match &func.desc {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names = FLAG_NAMES.iter().filter(|(_, v)| func.flags & v != 0);
            out.set(names.clone().count());
            for (name, _) in names {
                out.simple(name.as_bytes());
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

/// FUNCTION DUMP
fn function_dump(ctx: &mut Ctx) -> CmdResult {
    let payload = ctx.srv.functions.dump(ctx.srv.config.rdbcompression);
    ctx.out.bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
fn function_restore(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 4 {
        return Err(subcommand_syntax_error(ctx).into());
    }
    let (mut flush, mut replace) = (false, false);
    if ctx.argc() == 4 {
        if ctx.arg_is(3, "append") {
        } else if ctx.arg_is(3, "replace") {
            replace = true;
        } else if ctx.arg_is(3, "flush") {
            flush = true;
        } else {
            return Err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
                    .into(),
            );
        }
    }
    let codes = functions::parse_dump(ctx.argv[2]).map_err(|e| format!("ERR {e}"))?;
    ctx.srv
        .functions
        .restore(codes, flush, replace)
        .map_err(|e| format!("ERR {e}"))?;
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// FUNCTION HELP
fn function_help(ctx: &mut Ctx) -> CmdResult {
    super::help::reply_help(
        ctx,
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    );
    Ok(())
}
