//! COMMAND and its subcommands, answered from the command table. Only what this
//! server implements is shown: a command without a handler is unknown here, and a
//! container lists only its implemented subcommands.

use super::is_implemented;
use crate::dispatch::{errors, CmdResult, Ctx};
use redis_commands::{AclCategories, CommandSpec};
use std::borrow::Cow;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("command", command),
    ("command|count", count),
    ("command|docs", docs),
    ("command|getkeys", getkeys),
    ("command|getkeysandflags", getkeysandflags),
    ("command|help", help),
    ("command|info", info),
    ("command|list", list),
];

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// The spec as this server exposes it: containers keep only implemented subcommands.
fn exposed(spec: &CommandSpec) -> Cow<'_, CommandSpec> {
    if spec.subcommands.iter().all(is_implemented) {
        return Cow::Borrowed(spec);
    }
    let mut s = spec.clone();
    s.subcommands.retain(is_implemented);
    Cow::Owned(s)
}

/// Top-level commands this server implements.
fn implemented() -> impl Iterator<Item = &'static CommandSpec> {
    redis_commands::table().iter().filter(|s| is_implemented(s))
}

/// Looks up `name` (`get` or `config|get`), implemented only.
fn lookup_name(name: &[u8]) -> Option<&'static CommandSpec> {
    let spec = redis_commands::table().get_by_fullname(&name.to_ascii_lowercase())?;
    is_implemented(spec).then_some(spec)
}

/// COMMAND: every implemented command's info.
pub fn command(ctx: &mut Ctx) -> CmdResult {
    let all: Vec<_> = implemented().collect();
    ctx.out.array(all.len());
    for s in all {
        exposed(s).write_info(ctx.out);
    }
    Ok(())
}

/// COMMAND COUNT
pub fn count(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(implemented().count() as i64);
    Ok(())
}

/// COMMAND HELP
pub fn help(ctx: &mut Ctx) -> CmdResult {
    super::client::reply_help(ctx, HELP);
    Ok(())
}

/// COMMAND INFO [name ...]
pub fn info(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() == 2 {
        return command(ctx);
    }
    ctx.out.array(ctx.argc() - 2);
    for i in 2..ctx.argc() {
        match lookup_name(ctx.argv[i]) {
            Some(s) => exposed(s).write_info(ctx.out),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [name ...]
pub fn docs(ctx: &mut Ctx) -> CmdResult {
    let specs: Vec<&CommandSpec> = if ctx.argc() == 2 {
        implemented().collect()
    } else {
        (2..ctx.argc())
            .filter_map(|i| lookup_name(ctx.argv[i]))
            .collect()
    };
    ctx.out.map(specs.len());
    for s in specs {
        exposed(s).write_docs_entry(ctx.out);
    }
    Ok(())
}

enum Filter {
    None,
    Module,
    AclCat(Option<AclCategories>),
    Pattern(Vec<u8>),
}

fn list_into(specs: &'static [CommandSpec], filter: &Filter, out: &mut Vec<&'static str>) {
    for s in specs {
        if !is_implemented(s) {
            continue;
        }
        let name: &'static str = s.name.as_str();
        let keep = match filter {
            Filter::None => true,
            Filter::Module => false,
            Filter::AclCat(None) => false,
            Filter::AclCat(Some(c)) => s.acl_bits.0 & c.0 != 0,
            Filter::Pattern(p) => glob_match_nocase(p, name.as_bytes()),
        };
        if keep {
            out.push(name);
        }
        list_into(&s.subcommands, filter, out);
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
pub fn list(ctx: &mut Ctx) -> CmdResult {
    let mut filter = Filter::None;
    let mut i = 2;
    while i < ctx.argc() {
        let more = ctx.argc() - 1 - i;
        if ctx.arg_is(i, "filterby") && more == 2 {
            let arg = &ctx.argv[i + 2];
            filter = if ctx.arg_is(i + 1, "module") {
                Filter::Module
            } else if ctx.arg_is(i + 1, "aclcat") {
                let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
                Filter::AclCat(AclCategories::from_name(&name))
            } else if ctx.arg_is(i + 1, "pattern") {
                Filter::Pattern(arg.to_vec())
            } else {
                return Err(errors::SYNTAX.into());
            };
            i += 3;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let mut names = Vec::new();
    let table = redis_commands::table();
    for s in table.iter() {
        list_into(std::slice::from_ref(s), &filter, &mut names);
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

fn getkeys_impl(ctx: &mut Ctx, with_flags: bool) -> CmdResult {
    let args = &ctx.argv[2..];
    let Some(spec) = redis_commands::table()
        .lookup(args)
        .filter(|s| is_implemented(s))
    else {
        return Err("ERR Invalid command specified".into());
    };
    let keys = spec
        .key_refs(args)
        .map_err(|e| crate::dispatch::CmdError(e.reply_text().into()))?;
    ctx.out.array(keys.len());
    for k in keys {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(args[k.pos]);
            let names: Vec<&str> = k.flags.names().collect();
            ctx.out.set(names.len());
            for n in names {
                ctx.out.simple(n.as_bytes());
            }
        } else {
            ctx.out.bulk(args[k.pos]);
        }
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
pub fn getkeys(ctx: &mut Ctx) -> CmdResult {
    getkeys_impl(ctx, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
pub fn getkeysandflags(ctx: &mut Ctx) -> CmdResult {
    getkeys_impl(ctx, true)
}

/// Redis's `stringmatchlen` with `nocase`: `*`, `?`, `[...]` (with `^` and ranges)
/// and `\` escapes. Used by COMMAND LIST FILTERBY PATTERN.
pub fn glob_match_nocase(pattern: &[u8], s: &[u8]) -> bool {
    fn lower(c: u8) -> u8 {
        c.to_ascii_lowercase()
    }
    fn m(p: &[u8], s: &[u8], depth: usize) -> bool {
        if depth > 1000 {
            return false;
        }
        let (mut pi, mut si) = (0, 0);
        while pi < p.len() {
            match p[pi] {
                b'*' => {
                    while pi + 1 < p.len() && p[pi + 1] == b'*' {
                        pi += 1;
                    }
                    if pi + 1 == p.len() {
                        return true;
                    }
                    for k in si..=s.len() {
                        if m(&p[pi + 1..], &s[k..], depth + 1) {
                            return true;
                        }
                    }
                    return false;
                }
                b'?' => {
                    if si >= s.len() {
                        return false;
                    }
                    si += 1;
                }
                b'[' => {
                    if si >= s.len() {
                        return false;
                    }
                    pi += 1;
                    let not = pi < p.len() && p[pi] == b'^';
                    if not {
                        pi += 1;
                    }
                    let mut matched = false;
                    loop {
                        if pi >= p.len() {
                            pi -= 1;
                            break;
                        }
                        if p[pi] == b'\\' && pi + 2 < p.len() {
                            pi += 1;
                            if lower(p[pi]) == lower(s[si]) {
                                matched = true;
                            }
                        } else if p[pi] == b']' {
                            break;
                        } else if pi + 2 < p.len() && p[pi + 1] == b'-' {
                            let (mut a, mut b) = (lower(p[pi]), lower(p[pi + 2]));
                            if a > b {
                                std::mem::swap(&mut a, &mut b);
                            }
                            let c = lower(s[si]);
                            if c >= a && c <= b {
                                matched = true;
                            }
                            pi += 2;
                        } else if lower(p[pi]) == lower(s[si]) {
                            matched = true;
                        }
                        pi += 1;
                    }
                    if matched == not {
                        return false;
                    }
                    si += 1;
                }
                b'\\' if pi + 1 < p.len() => {
                    pi += 1;
                    if si >= s.len() || lower(p[pi]) != lower(s[si]) {
                        return false;
                    }
                    si += 1;
                }
                c => {
                    if si >= s.len() || lower(c) != lower(s[si]) {
                        return false;
                    }
                    si += 1;
                }
            }
            pi += 1;
        }
        si == s.len()
    }
    m(pattern, s, 0)
}

#[cfg(test)]
mod tests {
    use super::glob_match_nocase as g;

    #[test]
    fn globs() {
        assert!(g(b"config|*re*", b"config|rewrite"));
        assert!(g(b"cl*help", b"client|help"));
        assert!(g(b"SET", b"set"));
        assert!(!g(b"non_exists*", b"set"));
        assert!(g(b"[a-c]et", b"bet"));
        assert!(!g(b"[^a-c]et", b"bet"));
        assert!(g(b"h?llo", b"hello"));
    }
}
