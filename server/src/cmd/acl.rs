//! ACL (SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, DRYRUN, LOG,
//! LOAD, SAVE, HELP) and authentication (AUTH and HELLO's AUTH go through
//! [`authenticate`]). The user model and the check are in `crate::acl`.

use crate::acl::{self, Denial, Denied, LogContext, LogEntry, User};
use crate::client::Client;
use crate::dispatch::{CmdResult, Ctx};
use crate::state::Server;
use std::sync::Arc;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("acl|cat", cat),
    ("acl|deluser", deluser),
    ("acl|dryrun", dryrun),
    ("acl|genpass", genpass),
    ("acl|getuser", getuser),
    ("acl|help", help),
    ("acl|list", list),
    ("acl|load", load),
    ("acl|log", log),
    ("acl|save", save),
    ("acl|setuser", setuser),
    ("acl|users", users),
    ("acl|whoami", whoami),
];

/// Redis's ACLAuthenticateUser: on success the client is authenticated as the user;
/// a failure is logged (reason `auth`) with the attempted user name.
pub fn authenticate(ctx: &mut Ctx, user: &[u8], pass: &[u8]) -> bool {
    let found = ctx.srv.acl.users.get(user).cloned();
    if let Some(u) = found.filter(|u| u.password_ok(pass)) {
        ctx.client.authenticated = true;
        ctx.client.user = u;
        return true;
    }
    let context = if ctx.client.multi.is_some() || ctx.client.in_exec {
        LogContext::Multi
    } else {
        LogContext::Toplevel
    };
    let object = ctx.argv[0].to_vec();
    add_log(
        ctx.srv,
        ctx.client,
        ctx.now_ms,
        Denied::Auth,
        context,
        object,
        user.to_vec(),
        Some(ctx.argv),
    );
    false
}

/// Adds an ACL LOG entry for `client` (the script's caller for scripts).
#[allow(clippy::too_many_arguments)]
pub fn add_log(
    srv: &mut Server,
    client: &Client,
    now_ms: i64,
    reason: Denied,
    context: LogContext,
    object: Vec<u8>,
    username: Vec<u8>,
    argv: Option<&[&[u8]]>,
) {
    let client_info = super::client::info_line(client, now_ms, argv.map(|a| (a, 0)));
    let e = LogEntry {
        count: 1,
        reason,
        context,
        object,
        username,
        ctime: now_ms,
        client_info,
    };
    let max = srv.config.acllog_max_len;
    srv.acl.add_log(e, max);
}

/// Logs a command denial (the object is the command, key or channel).
#[allow(clippy::too_many_arguments)]
pub fn log_denial(
    srv: &mut Server,
    client: &Client,
    user: &User,
    now_ms: i64,
    d: Denial,
    context: LogContext,
    spec: &redis_commands::CommandSpec,
    argv: &[&[u8]],
    current: bool,
) {
    let object = match d.reason {
        Denied::Cmd => spec.name.as_bytes().to_vec(),
        _ => argv[d.pos].to_vec(),
    };
    add_log(
        srv,
        client,
        now_ms,
        d.reason,
        context,
        object,
        user.name.clone(),
        current.then_some(argv),
    );
}

/// The `strerror` text of an I/O error (without Rust's " (os error N)").
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == 0 || matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
}

fn pubsub_default_all(srv: &Server) -> bool {
    srv.config.acl_pubsub_default == crate::config::AclPubsubDefault::AllChannels
}

/// Closes the pub/sub clients of `old` whose subscriptions `new` no longer allows
/// (Redis's ACLKillPubsubClientsIfNeeded).
fn kill_revoked_subscribers(srv: &mut Server, current: &mut Client, new: &User, old: &Arc<User>) {
    let Some(upcoming) = acl::revoked_channels(new, old) else {
        return;
    };
    let revoked = |c: &Client| {
        Arc::ptr_eq(&c.user, old)
            && c.subs.as_ref().is_some_and(|s| {
                s.patterns
                    .iter()
                    .any(|p| acl::subscription_revoked(&upcoming, p, true))
                    || s.channels
                        .iter()
                        .chain(s.shard.iter())
                        .any(|ch| acl::subscription_revoked(&upcoming, ch, false))
            })
    };
    let mut killed = Vec::new();
    for c in srv.clients.iter() {
        if revoked(c) && !c.outbox.is_killed() {
            killed.push(c.slot);
        }
    }
    for slot in killed {
        if let Some(c) = srv.clients.get_mut(slot) {
            c.outbox.kill();
        }
    }
    if revoked(current) {
        current.close_after_reply = true;
    }
}

/// Points the clients of a removed user at the default user, unauthenticated, and
/// closes them (Redis's ACLFreeUserAndKillClients).
fn kill_clients_of(srv: &mut Server, current: &mut Client, old: &Arc<User>) {
    let default = srv.acl.default_user().clone();
    for c in srv.clients.iter_mut() {
        if Arc::ptr_eq(&c.user, old) {
            c.user = default.clone();
            c.authenticated = false;
            c.outbox.kill();
        }
    }
    if Arc::ptr_eq(&current.user, old) {
        current.user = default;
        current.authenticated = false;
        current.close_after_reply = true;
    }
}

/// ACL SETUSER username [rule ...]
fn setuser(ctx: &mut Ctx) -> CmdResult {
    for j in 2..ctx.argc() {
        ctx.redact(j);
    }
    let name = ctx.argv[2];
    if has_spaces(name) {
        return Err("ERR Usernames can't contain spaces or null characters".into());
    }
    let old = ctx.srv.acl.users.get(name).cloned();
    let all = pubsub_default_all(ctx.srv);
    let new = acl::set_user_from_rules(old.as_deref(), name, &ctx.argv[3..], all)
        .map_err(|e| format!("ERR {}", e.replace(['\r', '\n'], " ")))?;
    if let Some(old) = &old {
        kill_revoked_subscribers(ctx.srv, ctx.client, &new, old);
    }
    acl::install_user(ctx.srv, ctx.client, new);
    ctx.out.ok();
    Ok(())
}

/// ACL DELUSER username [username ...]
fn deluser(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv[2..].iter().any(|u| *u == b"default") {
        return Err("ERR The 'default' user cannot be removed".into());
    }
    let mut deleted = 0;
    for j in 2..ctx.argc() {
        if let Some(old) = ctx.srv.acl.users.remove(ctx.argv[j]) {
            kill_clients_of(ctx.srv, ctx.client, &old);
            deleted += 1;
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

fn reply_selector(ctx: &mut Ctx, s: &acl::Selector) {
    ctx.out.bulk(b"commands");
    ctx.out.bulk(&s.describe_commands());
    ctx.out.bulk(b"keys");
    ctx.out.bulk(&s.describe_keys());
    ctx.out.bulk(b"channels");
    ctx.out.bulk(&s.describe_channels());
}

/// ACL GETUSER username
fn getuser(ctx: &mut Ctx) -> CmdResult {
    let Some(u) = ctx.srv.acl.users.get(ctx.argv[2]).cloned() else {
        ctx.out.null();
        return Ok(());
    };
    ctx.out.map(6);
    ctx.out.bulk(b"flags");
    let flags: Vec<&str> = acl::uflags::NAMES
        .iter()
        .filter(|(_, f)| u.flags & f != 0)
        .map(|(n, _)| *n)
        .collect();
    ctx.out.set(flags.len());
    for f in flags {
        ctx.out.bulk(f.as_bytes());
    }
    ctx.out.bulk(b"passwords");
    ctx.out.array(u.passwords.len());
    for p in &u.passwords {
        ctx.out.bulk(p);
    }
    reply_selector(ctx, &u.selectors[0]);
    ctx.out.bulk(b"selectors");
    ctx.out.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        ctx.out.map(3);
        reply_selector(ctx, s);
    }
    Ok(())
}

/// ACL LIST
fn list(ctx: &mut Ctx) -> CmdResult {
    let lines = acl::user_lines(&ctx.srv.acl);
    ctx.out.array(lines.len());
    for l in lines {
        let mut line = b"user ".to_vec();
        line.extend_from_slice(&l);
        ctx.out.bulk(&line);
    }
    Ok(())
}

/// ACL USERS
fn users(ctx: &mut Ctx) -> CmdResult {
    let names: Vec<Vec<u8>> = ctx.srv.acl.users.keys().cloned().collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

/// ACL WHOAMI
fn whoami(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.client.user.name.clone();
    ctx.out.bulk(&name);
    Ok(())
}

/// ACL CAT [category]
fn cat(ctx: &mut Ctx) -> CmdResult {
    use redis_commands::flags::ACL_CATEGORY_NAMES;
    if ctx.argc() == 2 {
        ctx.out.array(ACL_CATEGORY_NAMES.len());
        for n in ACL_CATEGORY_NAMES {
            ctx.out.bulk(n.as_bytes());
        }
        return Ok(());
    }
    if ctx.argc() != 3 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let arg = ctx.argv[2];
    let cat = std::str::from_utf8(arg)
        .ok()
        .and_then(|s| redis_commands::AclCategories::from_name(&s.to_ascii_lowercase()));
    let Some(cat) = cat else {
        return Err(format!(
            "ERR Unknown category '{}'",
            lossy(&arg[..arg.len().min(128)])
        )
        .into());
    };
    let table = redis_commands::table();
    let names: Vec<&str> = table
        .iter()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
        .filter(|c| c.acl_bits.0 & cat.0 != 0 && !table.is_beyond_7_0(c))
        .map(|c| c.name.as_str())
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
    Ok(())
}

/// ACL GENPASS [bits]
fn genpass(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let bits = if ctx.argc() == 3 {
        ctx.arg_i64(2)?
    } else {
        256
    };
    if bits <= 0 || bits > 4096 {
        return Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096".into());
    }
    let chars = ((bits + 3) / 4) as usize;
    let mut pass = Vec::with_capacity(chars);
    let mut rnd = [0u8; 512];
    getrandom_fill(&mut rnd[..chars.div_ceil(2)]);
    for i in 0..chars {
        let b = rnd[i / 2];
        let nib = if i % 2 == 0 { b >> 4 } else { b & 15 };
        pass.push(b"0123456789abcdef"[nib as usize]);
    }
    ctx.out.bulk(&pass);
    Ok(())
}

/// Random bytes from the kernel (urandom), falling back to fastrand.
fn getrandom_fill(buf: &mut [u8]) {
    use std::io::Read;
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(buf).is_ok() {
            return;
        }
    }
    for b in buf.iter_mut() {
        *b = fastrand::u8(..);
    }
}

/// ACL LOG [count | RESET]
fn log(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let mut count: i64 = 10;
    if ctx.argc() == 3 {
        if ctx.arg_is(2, "reset") {
            ctx.srv.acl.log.clear();
            ctx.out.ok();
            return Ok(());
        }
        count = ctx.arg_i64(2)?.max(0);
    }
    let n = (count as usize).min(ctx.srv.acl.log.len());
    let now = crate::state::now_ms();
    ctx.out.array(n);
    for e in ctx.srv.acl.log.iter().take(n) {
        let out = &mut *ctx.out;
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(match e.reason {
            Denied::Cmd => b"command".as_slice(),
            Denied::Key => b"key",
            Denied::Channel => b"channel",
            Denied::Auth => b"auth",
        });
        out.bulk(b"context");
        out.bulk(match e.context {
            LogContext::Toplevel => b"toplevel".as_slice(),
            LogContext::Multi => b"multi",
            LogContext::Lua => b"lua",
        });
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        out.double((now - e.ctime) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// Reads and applies the ACL file: Redis's ACLLoadFromFile with the clients of the
/// replaced users closed (the default user's clients stay).
pub fn load_acl_file(srv: &mut Server, current: Option<&mut Client>) -> Result<(), String> {
    let filename = lossy(&srv.config.aclfile);
    let content = std::fs::read(&filename).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{filename}': {}",
            strerror(&e)
        )
    })?;
    let all = pubsub_default_all(srv);
    let mut users = acl::parse_acl_file(&content, &filename, all)?;
    let default = users
        .remove(&b"default"[..])
        .unwrap_or_else(|| User::new_default(all));
    let old_default = srv.acl.default_user().clone();
    let old_users = std::mem::take(&mut srv.acl.users);
    let new_default = Arc::new(default);
    srv.acl
        .users
        .insert(b"default".to_vec(), new_default.clone());
    for (name, u) in users {
        srv.acl.users.insert(name, Arc::new(u));
    }
    let mut scratch;
    let current = match current {
        Some(c) => c,
        None => {
            scratch = Client::new(
                0,
                crate::client::Peer::Unix {
                    path: String::new(),
                },
                -1,
                0,
                false,
            );
            &mut scratch
        }
    };
    for c in srv.clients.iter_mut() {
        if Arc::ptr_eq(&c.user, &old_default) {
            c.user = new_default.clone();
        }
    }
    if Arc::ptr_eq(&current.user, &old_default) {
        current.user = new_default.clone();
    }
    for (name, old) in old_users {
        if name != b"default" {
            kill_clients_of(srv, current, &old);
        }
    }
    Ok(())
}

/// ACL LOAD
fn load(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.config.aclfile.is_empty() {
        return Err(NO_ACLFILE.into());
    }
    if ctx.argc() != 2 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    load_acl_file(ctx.srv, Some(ctx.client)).map_err(|e| format!("ERR {e}"))?;
    ctx.out.ok();
    Ok(())
}

/// ACL SAVE
fn save(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.config.aclfile.is_empty() {
        return Err(NO_ACLFILE.into());
    }
    if ctx.argc() != 2 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let filename = lossy(&ctx.srv.config.aclfile);
    let text = acl::acl_file_text(&ctx.srv.acl);
    let tmp = format!(
        "{filename}.tmp-{}-{}",
        std::process::id(),
        crate::state::now_ms()
    );
    let r = std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, &filename));
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        crate::log::log(
            crate::log::Level::Warning,
            &format!("Writing ACL file for ACL SAVE: {e}"),
        );
        return Err("ERR There was an error trying to save the ACLs. Please check the server logs for more information".into());
    }
    ctx.out.ok();
    Ok(())
}

/// ACL DRYRUN username command [arg ...]
fn dryrun(ctx: &mut Ctx) -> CmdResult {
    let Some(u) = ctx.srv.acl.users.get(ctx.argv[2]).cloned() else {
        return Err(format!("ERR User '{}' not found", lossy(ctx.argv[2])).into());
    };
    let argv = &ctx.argv[3..];
    let spec = redis_commands::table().lookup(argv);
    let Some(spec) = spec else {
        return Err(format!("ERR Command '{}' not found", lossy(ctx.argv[3])).into());
    };
    if !spec.arity_ok(argv.len()) {
        return Err(format!("ERR wrong number of arguments for '{}' command", spec.name).into());
    }
    match u.check(spec, argv) {
        Ok(()) => ctx.out.ok(),
        Err(d) => {
            let msg = match d.reason {
                Denied::Cmd => format!(
                    "This user has no permissions to run the '{}' command",
                    spec.name
                ),
                Denied::Key => format!(
                    "This user has no permissions to access the '{}' key",
                    lossy(argv[d.pos])
                ),
                _ => format!(
                    "This user has no permissions to access the '{}' channel",
                    lossy(argv[d.pos])
                ),
            };
            ctx.out.bulk(msg.as_bytes());
        }
    }
    Ok(())
}

/// ACL HELP
fn help(ctx: &mut Ctx) -> CmdResult {
    super::help::reply_help(
        ctx,
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}
