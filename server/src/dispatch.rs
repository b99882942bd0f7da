//! From a parsed request to a reply: command lookup, the generic checks Redis makes
//! before running a command (existence, arity, authentication, memory), the call, and
//! the bookkeeping after it (stats, slowlog, latency, MONITOR).

use crate::client::{Client, ReplyMode};
use crate::cmd::{self, Handler};
use crate::state::{PauseKind, Server, Shared};
use bytes::Bytes;
use redis_commands::{CommandFlags, CommandSpec};
use redis_formats::ReplyBuf;
use std::borrow::Cow;
use std::time::Instant;

/// An error reply; the text is the whole message without the leading `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl From<&'static str> for CmdError {
    fn from(s: &'static str) -> Self {
        CmdError(Cow::Borrowed(s))
    }
}

impl From<String> for CmdError {
    fn from(s: String) -> Self {
        CmdError(Cow::Owned(s))
    }
}

/// What a handler returns: `Err` is sent as the error reply.
pub type CmdResult = Result<(), CmdError>;

/// Error texts shared by many commands, as Redis words them.
pub mod errors {
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NO_SUCH_KEY: &str = "ERR no such key";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const DB_INDEX: &str = "ERR DB index is out of range";
    pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
    pub const NOAUTH: &str = "NOAUTH Authentication required.";
}

/// Everything a command handler works with.
pub struct Ctx<'a> {
    /// The state shared with other connections (notifiers).
    pub shared: &'a Shared,
    /// The server state (locked).
    pub srv: &'a mut Server,
    /// The client running the command.
    pub client: &'a mut Client,
    /// The command name and arguments.
    pub argv: &'a [&'a [u8]],
    /// Where the reply goes.
    pub out: &'a mut ReplyBuf,
    /// The command being run.
    pub cmd: &'static CommandSpec,
    /// Unix ms when the command started (one clock reading per command).
    pub now_ms: i64,
    /// Arguments to show as `(redacted)` in SLOWLOG and MONITOR (bit i: argv[i]).
    pub redacted: u64,
    /// Written keys (argv positions) the command left unchanged, so their WATCHes hold
    /// (SMOVE into a set that already had the member), as Redis signals only changes.
    pub unchanged_keys: u64,
}

impl Ctx<'_> {
    /// The selected database.
    #[inline]
    pub fn db(&mut self) -> &mut crate::keyspace::Db {
        &mut self.srv.keyspace.dbs[self.client.db]
    }

    /// Argument `i` (0 is the command name).
    #[inline]
    pub fn arg(&self, i: usize) -> &[u8] {
        self.argv[i]
    }

    /// Number of arguments, the name included.
    #[inline]
    pub fn argc(&self) -> usize {
        self.argv.len()
    }

    /// Argument `i` as an integer, or Redis's "not an integer" error.
    pub fn arg_i64(&self, i: usize) -> Result<i64, CmdError> {
        redis_formats::num::parse_i64(self.argv[i]).ok_or(errors::NOT_INTEGER.into())
    }

    /// Argument `i` compared case-insensitively to `word`.
    pub fn arg_is(&self, i: usize, word: &str) -> bool {
        self.argv[i].eq_ignore_ascii_case(word.as_bytes())
    }

    /// Adds `n` to the server's count of changes (save points, INFO).
    pub fn dirty(&mut self, n: u64) {
        self.srv.dirty += n;
    }

    /// Raises keyspace event `event` of `class` for `key` of the selected
    /// database (see `crate::pubsub`); a single flag test when notifications are off.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.srv.pubsub.notify & class != 0 {
            self.notify_in(class, event, key, self.client.db);
        }
    }

    /// [`notify`](Self::notify) for database `db`.
    #[inline]
    pub fn notify_db(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        if self.srv.pubsub.notify & class != 0 {
            self.notify_in(class, event, key, db);
        }
    }

    #[cold]
    fn notify_in(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        self.srv.notify(class, event, key, db);
        self.flush_pushes();
    }

    /// Moves this client's pending pub/sub messages into its reply now (unless its
    /// replies are off: then they are added after the command).
    pub fn flush_pushes(&mut self) {
        if self.client.reply_mode != ReplyMode::Off && self.client.reply_mode != ReplyMode::SkipThis
        {
            crate::pubsub::flush_self(self.srv, self.out);
        }
    }

    /// Hides argument `i` (a password) from SLOWLOG and MONITOR, as Redis's
    /// redactClientCommandArgument. Arguments past the 63rd are never secrets in
    /// Redis's commands (AUTH, HELLO, MIGRATE put them first).
    pub fn redact(&mut self, i: usize) {
        if i < 64 {
            self.redacted |= 1 << i;
        }
    }
}

/// The "unknown command" / "unknown subcommand" error for `argv`, as Redis words it.
fn unknown_command_error(argv: &[&[u8]]) -> String {
    let table = redis_commands::table();
    if argv.len() >= 2 {
        if let Some(base) = table.get(argv[0]) {
            if !base.subcommands.is_empty() && cmd::is_implemented(base) {
                return format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    truncate_lossy(argv[1], 128),
                    String::from_utf8_lossy(argv[0]).to_uppercase()
                );
            }
        }
    }
    let mut args = String::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push('\'');
        args.push_str(&truncate_lossy(a, room));
        args.push_str("' ");
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        truncate_lossy(argv[0], 128),
        args
    )
}

fn truncate_lossy(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max)]).into_owned()
}

/// Table lookup through `rename-command`: an original name that was renamed is
/// unknown, a new name finds the original command.
fn renamed_lookup(srv: &Server, argv: &[&[u8]]) -> Option<&'static CommandSpec> {
    let table = redis_commands::table();
    let name = argv[0].to_ascii_lowercase();
    if srv.renames.contains_key(&name) {
        return None;
    }
    let original = srv
        .renames
        .iter()
        .find(|(_, new)| !new.is_empty() && **new == name)
        .map(|(orig, _)| orig.clone());
    match original {
        Some(orig) => {
            let mut v: Vec<&[u8]> = argv.to_vec();
            v[0] = &orig;
            table.lookup(&v)
        }
        None => table.lookup(argv),
    }
}

/// The table lookup, through the client's one-entry cache of its last command name
/// (commands with subcommands are not cached: their second argument decides).
#[inline]
fn cached_lookup(client: &mut Client, argv: &[&[u8]]) -> Option<&'static CommandSpec> {
    let name = *argv.first()?;
    if let Some((last, spec)) = &client.last_lookup {
        if last.is(name) {
            return Some(spec);
        }
    }
    let spec = redis_commands::table().lookup(argv)?;
    // A subcommand (`config|get`) was chosen by the second argument: not cached.
    if spec.subcommands.is_empty() && !spec.name.contains('|') {
        client.last_lookup = crate::client::CommandName::new(name).map(|n| (n, spec));
    }
    Some(spec)
}

/// Counts an error reply in INFO errorstats (by its first word) and stats.
pub fn count_error(srv: &mut Server, msg: &str) {
    srv.stats.total_error_replies += 1;
    let code = msg.split(' ').next().unwrap_or("ERR");
    let code = if code.is_empty() { "ERR" } else { code };
    if let Some(n) = srv.error_stats.get_mut(code) {
        *n += 1;
    } else if srv.error_stats.len() < 128 {
        srv.error_stats.insert(code.to_string(), 1);
    }
}

/// Refuses a command before it runs. Inside MULTI this also dooms the transaction
/// (EXEC answers EXECABORT), as Redis's flagTransaction.
fn reject(
    srv: &mut Server,
    client: &mut Client,
    out: &mut ReplyBuf,
    spec: Option<&CommandSpec>,
    msg: &str,
) {
    if let Some(m) = client.multi.as_mut() {
        m.aborted = true;
    }
    if let Some(spec) = spec {
        srv.command_stats[spec.id].rejected_calls += 1;
        // A refused EXEC ends the transaction, if any (Redis's execCommandAbort).
        if spec.name == "exec" {
            client.multi = None;
            crate::cmd::multi::unwatch_all(srv, client);
            let msg = format!("EXECABORT Transaction discarded because of: {msg}");
            count_error(srv, &msg);
            out.error(&msg);
            return;
        }
    }
    count_error(srv, msg);
    out.error(msg);
}

/// Runs one request for `client`. The caller holds the lock and writes `out` later;
/// it has checked CLIENT PAUSE with [`is_paused`] first.
pub fn execute(
    shared: &Shared,
    srv: &mut Server,
    client: &mut Client,
    argv: &[&[u8]],
    out: &mut ReplyBuf,
    clock: &mut Instant,
) {
    let start = *clock;
    let now = srv.wall_ms(start);
    client.last_interaction_ms = now;
    let reply_mark = out.len();
    if client.reply_mode == ReplyMode::Skip {
        client.reply_mode = ReplyMode::SkipThis;
    }
    srv.pubsub.current = client.id;
    // A command refused before it ran took no time worth a second clock reading.
    *clock = run(shared, srv, client, argv, out, now, start).unwrap_or(start);
    // Not for a command a busy script lets through: the keys it touched are served
    // after it (Redis's isInsideYieldingLongCommand). A fresh time, as Redis's
    // handleClientsBlockedOnKeys: a key that expired while the command ran (DEBUG
    // SLEEP in EXEC) serves nobody.
    if srv.blocked_clients > 0 && !crate::scripting::is_running() {
        crate::blocking::handle_ready(srv, crate::state::now_ms());
    }
    if srv.pubsub.notify != 0 {
        srv.flush_db_events();
    }
    match client.reply_mode {
        ReplyMode::Off => out.buf.truncate(reply_mark),
        ReplyMode::SkipThis => {
            out.buf.truncate(reply_mark);
            client.reply_mode = ReplyMode::On;
        }
        _ => {}
    }
    // Pushes for this client (its own subscriptions) go out whatever CLIENT REPLY
    // says, as Redis's CLIENT_PUSHING.
    crate::pubsub::flush_self(srv, out);
    if srv.tracking.deletions_on {
        crate::tracking::drain_deletions(srv);
    }
    if srv.tracking.active() {
        crate::tracking::after_command(srv, client, &mut out.buf);
    }
    srv.pubsub.current = 0;
}

fn run(
    shared: &Shared,
    srv: &mut Server,
    client: &mut Client,
    argv: &[&[u8]],
    out: &mut ReplyBuf,
    now: i64,
    start: Instant,
) -> Option<Instant> {
    let spec = if srv.renames.is_empty() {
        cached_lookup(client, argv)
    } else {
        renamed_lookup(srv, argv)
    };
    let spec = spec.filter(|s| cmd::is_implemented(s));
    let Some(spec) = spec else {
        client.last_cmd = "NULL";
        let msg = unknown_command_error(argv);
        reject(srv, client, out, None, &msg);
        return None;
    };
    client.last_cmd = spec.name.as_str();
    if !spec.arity_ok(argv.len()) {
        let msg = format!("ERR wrong number of arguments for '{}' command", spec.name);
        reject(srv, client, out, Some(spec), &msg);
        return None;
    }
    // A container command given alone fails the arity check above, so a spec that
    // got here is one with a handler.
    let Some(handler): Option<Handler> = cmd::handler(spec) else {
        let msg = unknown_command_error(argv);
        reject(srv, client, out, None, &msg);
        return None;
    };
    // DEBUG is "protected": refused unless enable-debug-command allows this client.
    if spec.name == "debug" && !protected_action_allowed(srv.config.enable_debug_command, client) {
        let msg = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
        reject(srv, client, out, Some(spec), msg);
        return None;
    }
    if !client.authenticated
        && !spec.has_flag(CommandFlags::NO_AUTH)
        && srv.acl.default_needs_auth()
    {
        reject(srv, client, out, Some(spec), errors::NOAUTH);
        return None;
    }
    // ACL: one flag test for users allowed everything (the default user).
    if !client.user.unrestricted && acl_denied(srv, client, out, spec, argv, now) {
        return None;
    }
    // As Redis: evict before every command while over maxmemory; only commands that
    // may grow memory are refused when nothing could be freed.
    crate::evict::publish_maxmemory(srv.config.maxmemory);
    srv.oom_before_command = srv.config.maxmemory > 0
        && !crate::replication::ignores_maxmemory(srv)
        && evict_and_propagate(srv, now).is_err();
    if !srv.tracking.self_buf.is_empty() {
        out.buf.extend_from_slice(&srv.tracking.self_buf);
        srv.tracking.self_buf.clear();
    }
    if srv.oom_before_command && denies_oom(srv, spec, argv) {
        reject(srv, client, out, Some(spec), errors::OOM);
        return None;
    }
    // A failed background save stops writes (and PING, as Redis) when
    // stop-writes-on-bgsave-error asks it; a script declaring its flags writes
    // unless `no-writes`.
    if !srv.last_bgsave_ok
        && (spec.has_flag(CommandFlags::WRITE)
            || spec.name == "ping"
            || crate::scripting::declared_writes(srv, spec, argv) == Some(true))
        && crate::bgsave::writes_denied(srv)
    {
        reject(srv, client, out, Some(spec), crate::bgsave::MISCONF);
        return None;
    }
    // NOREPLICAS, READONLY, MASTERDOWN (`crate::replication`).
    if srv.config.min_replicas_to_write > 0 || srv.repl.master.is_some() {
        // A script declaring its flags writes unless `no-writes` and runs stale only
        // with `allow-stale`.
        let (write, stale) = match crate::scripting::declared_flags(srv, spec, argv) {
            Some(f) => (
                f & crate::scripting::flags::NO_WRITES == 0,
                f & crate::scripting::flags::ALLOW_STALE != 0,
            ),
            None => (
                spec.has_flag(CommandFlags::WRITE),
                spec.has_flag(CommandFlags::STALE),
            ),
        };
        if let Some(msg) = crate::replication::check_command(srv, client, write, stale) {
            reject(srv, client, out, Some(spec), msg);
            return None;
        }
    }
    // In RESP2 a subscribed client may only (un)subscribe, ping, quit or reset.
    if client.is_pubsub()
        && client.resp == redis_formats::ProtoVersion::Resp2
        && !PUBSUB_CONTEXT_ALLOWED.contains(&spec.name.as_str())
    {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        );
        reject(srv, client, out, Some(spec), &msg);
        return None;
    }
    // MONITOR makes a client a replica for Redis: it may not touch the keyspace.
    if client.monitor
        && (spec.has_flag(CommandFlags::WRITE)
            || spec.has_flag(CommandFlags::READONLY)
            || MAY_REPLICATE.contains(&spec.name.as_str()))
    {
        reject(
            srv,
            client,
            out,
            Some(spec),
            "ERR Replica can't interact with the keyspace",
        );
        return None;
    }
    if let Some(m) = client.multi.as_mut() {
        if !crate::cmd::multi::NOT_QUEUED.contains(&spec.name.as_str()) {
            m.queue
                .push(argv.iter().map(|a| Bytes::copy_from_slice(a)).collect());
            out.simple(b"QUEUED");
            return None;
        }
    }
    Some(call(
        shared, srv, client, argv, out, spec, handler, now, start,
    ))
}

/// Eviction before a command; its deletions are propagated on their own.
fn evict_and_propagate(srv: &mut Server, now: i64) -> Result<(), crate::evict::OutOfMemory> {
    let r = crate::evict::perform_evictions(srv, now);
    crate::propagate::flush_no_multi(srv);
    // Evicted keys are invalidated before the reply (Redis flushes them here).
    if srv.tracking.deletions_on {
        crate::tracking::drain_deletions(srv);
    }
    r
}

/// True if the command may not run while over maxmemory: DENYOOM, or EVAL/EVALSHA of
/// a script whose shebang does not say `allow-oom` or `no-writes` (Redis derives the
/// script's command flags from its shebang).
fn denies_oom(srv: &Server, spec: &CommandSpec, argv: &[&[u8]]) -> bool {
    if spec.has_flag(CommandFlags::DENYOOM) {
        return true;
    }
    match spec.name.as_str() {
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" => {
            crate::scripting::shebang_denies_oom(srv, spec.name.starts_with("evalsha"), argv)
        }
        "fcall" | "fcall_ro" => argv
            .get(1)
            .and_then(|n| srv.functions.get(n))
            .is_some_and(|f| {
                use crate::scripting::flags;
                f.flags & (flags::ALLOW_OOM | flags::NO_WRITES) == 0
            }),
        _ => false,
    }
}

/// The commands a RESP2 client in pub/sub mode may run.
const PUBSUB_CONTEXT_ALLOWED: &[&str] = &[
    "ping",
    "subscribe",
    "ssubscribe",
    "unsubscribe",
    "sunsubscribe",
    "psubscribe",
    "punsubscribe",
    "quit",
    "reset",
];

/// Runs a command queued by MULTI, inside EXEC: the checks were made when it was
/// queued (Redis re-checks none of them either), so it goes straight to the call.
pub fn call_queued(
    shared: &Shared,
    srv: &mut Server,
    client: &mut Client,
    argv: &[&[u8]],
    out: &mut ReplyBuf,
) {
    let start = Instant::now();
    let now = srv.wall_ms(start);
    let table = redis_commands::table();
    let spec = if srv.renames.is_empty() {
        table.lookup(argv)
    } else {
        renamed_lookup(srv, argv)
    };
    let Some((spec, handler)) = spec.and_then(|s| cmd::handler(s).map(|h| (s, h))) else {
        out.error(&unknown_command_error(argv));
        return;
    };
    // ACL rules may have changed since the command was queued.
    if !client.user.unrestricted {
        let user = client.user.clone();
        if let Err(d) = user.check(spec, argv) {
            let ctx = crate::acl::LogContext::Multi;
            cmd::acl::log_denial(srv, client, &user, now, d, ctx, spec, argv, true);
            let msg = format!(
                "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}",
                d.exec_text()
            );
            count_error(srv, &msg);
            out.error(&msg);
            return;
        }
    }
    // The client's last command stays EXEC, as CLIENT INFO inside it shows.
    call(shared, srv, client, argv, out, spec, handler, now, start);
}

/// The ACL check of a client whose user is restricted: true (and the NOPERM reply
/// sent, the denial logged) if the user may not run this command.
#[cold]
#[inline(never)]
fn acl_denied(
    srv: &mut Server,
    client: &mut Client,
    out: &mut ReplyBuf,
    spec: &'static CommandSpec,
    argv: &[&[u8]],
    now: i64,
) -> bool {
    let user = client.user.clone();
    let Err(d) = user.check(spec, argv) else {
        return false;
    };
    let ctx = if client.multi.is_some() {
        crate::acl::LogContext::Multi
    } else {
        crate::acl::LogContext::Toplevel
    };
    cmd::acl::log_denial(srv, client, &user, now, d, ctx, spec, argv, true);
    reject(srv, client, out, Some(spec), &d.noperm(spec));
    true
}

/// The command `redis.call` names (through `rename-command`), implemented or not.
pub fn script_lookup(srv: &Server, argv: &[&[u8]]) -> Option<&'static CommandSpec> {
    let spec = if srv.renames.is_empty() {
        redis_commands::table().lookup(argv)
    } else {
        renamed_lookup(srv, argv)
    }?;
    Some(spec)
}

/// True for Redis's may-replicate commands (internal flag).
pub fn may_replicate(spec: &CommandSpec) -> bool {
    MAY_REPLICATE.contains(&spec.name.as_str())
}

/// Runs a command for a script (`redis.call`): the script's checks were made by the
/// caller; `now` is the script's start time, which its commands see.
pub fn call_from_script(
    shared: &Shared,
    srv: &mut Server,
    client: &mut Client,
    argv: &[&[u8]],
    out: &mut ReplyBuf,
    spec: &'static CommandSpec,
    now: i64,
) {
    let Some(handler) = cmd::handler(spec) else {
        out.error(&unknown_command_error(argv));
        return;
    };
    client.last_cmd = spec.name.as_str();
    call(
        shared,
        srv,
        client,
        argv,
        out,
        spec,
        handler,
        now,
        Instant::now(),
    );
}

/// Calls the handler and does the bookkeeping after it: WATCH flags, stats, latency
/// monitor, slowlog, MONITOR feeds. Returns the instant the handler ended.
#[allow(clippy::too_many_arguments)]
fn call(
    shared: &Shared,
    srv: &mut Server,
    client: &mut Client,
    argv: &[&[u8]],
    out: &mut ReplyBuf,
    spec: &'static CommandSpec,
    handler: Handler,
    now: i64,
    start: Instant,
) -> Instant {
    let dirty_before = srv.dirty;
    let watch_swap = if !srv.watched_keys.is_empty() && spec.name == "swapdb" {
        let db = |i: usize| redis_formats::num::parse_i64(argv[i]).unwrap_or(-1) as usize;
        crate::cmd::multi::keys_touched_by_swap(srv, db(1), db(2), now)
    } else {
        Vec::new()
    };

    crate::propagate::before_call(srv);
    let repl_offset_before = srv.repl.offset;
    let (result, redacted, unchanged) = {
        let mut ctx = Ctx {
            shared,
            srv,
            client,
            argv,
            out,
            cmd: spec,
            now_ms: now,
            redacted: 0,
            unchanged_keys: 0,
        };
        let r = handler(&mut ctx);
        (r, ctx.redacted, ctx.unchanged_keys)
    };
    if srv.prop.active {
        crate::propagate::after_call(
            srv,
            client.db,
            argv,
            spec,
            srv.dirty > dirty_before,
            // A script's commands are propagated with the script's other effects.
            client.in_exec || client.in_script,
        );
        if srv.repl.offset != repl_offset_before {
            client.woff = srv.repl.offset;
        }
    }
    if srv.repl.master.is_some() && srv.dirty > dirty_before {
        crate::replication::remember_replica_keys(srv, client, argv, spec);
    }
    if srv.pubsub.notify != 0 {
        srv.flush_db_events();
    }
    if !srv.pubsub.self_buf.is_empty()
        && client.reply_mode != ReplyMode::Off
        && client.reply_mode != ReplyMode::SkipThis
    {
        crate::pubsub::flush_self(srv, out);
    }
    let end = Instant::now();
    let duration_us = end.saturating_duration_since(start).as_micros() as u64;
    client.commands += 1;
    srv.stats.total_commands_processed += 1;
    let stats = &mut srv.command_stats[spec.id];
    stats.calls += 1;
    stats.usec += duration_us;
    // A command that blocked has its latency and slowlog entry recorded when it
    // is unblocked (crate::blocking), as Redis does.
    let blocked = client.outbox.is_blocked();
    if !blocked {
        record_latency(srv, spec.id, duration_us);
    }
    if srv.tracking.active() {
        track_call(srv, client, argv, spec, (dirty_before, unchanged));
    }
    if !srv.watched_keys.is_empty() {
        touch_watched(
            srv,
            client,
            argv,
            spec,
            (dirty_before, unchanged),
            &watch_swap,
            result.is_ok(),
        );
    }
    if let Err(CmdError(msg)) = result {
        srv.command_stats[spec.id].failed_calls += 1;
        if !std::mem::take(&mut srv.skip_error_stats) {
            count_error(srv, &msg);
        }
        out.error(&msg);
    }
    let fast = spec.has_flag(CommandFlags::FAST);
    srv.latency.add_sample_if_needed(
        if fast { "fast-command" } else { "command" },
        duration_us / 1000,
        srv.config.latency_monitor_threshold,
        now / 1000,
    );
    if !spec.has_flag(CommandFlags::SKIP_SLOWLOG) && !blocked {
        srv.slowlog.push_if_needed(
            argv,
            duration_us,
            now / 1000,
            client,
            srv.config.slowlog_log_slower_than,
            srv.config.slowlog_max_len as i64,
            redacted,
        );
    }
    if !srv.monitors.is_empty()
        && !spec.has_flag(CommandFlags::SKIP_MONITOR)
        && !spec.has_flag(CommandFlags::ADMIN)
    {
        crate::introspection::feed_monitors(srv, client, argv, redacted);
    }
    end
}

/// Client-side caching after a call: remembers the keys a tracking client read,
/// invalidates the keys a write changed (the same keys WATCH sees touched).
#[cold]
#[inline(never)]
fn track_call(
    srv: &mut Server,
    client: &Client,
    argv: &[&[u8]],
    spec: &'static CommandSpec,
    (dirty_before, unchanged): (u64, u64),
) {
    use redis_commands::KeyFlags;
    // Keys the command expired come first: a read then tracks them again.
    crate::tracking::drain_deletions(srv);
    if spec.has_flag(CommandFlags::READONLY)
        && !matches!(spec.name.as_str(), "eval_ro" | "evalsha_ro" | "fcall_ro")
    {
        if client.in_script {
            // A script's reads track the keys its caller declared.
            let caller = srv.pubsub.current;
            crate::scripting::with_caller_argv(|cargv| {
                if let Some(cspec) = redis_commands::table().lookup(cargv) {
                    crate::tracking::remember_keys(srv, caller, cspec, cargv);
                }
            });
        } else {
            crate::tracking::remember_keys(srv, client.id, spec, argv);
        }
    }
    if srv.dirty != dirty_before && spec.has_flag(CommandFlags::WRITE) {
        for k in spec.keys(argv) {
            if k.pos < 64 && unchanged & (1 << k.pos) != 0 {
                continue;
            }
            if k.flags.contains(KeyFlags::RW)
                || k.flags.contains(KeyFlags::OW)
                || k.flags.contains(KeyFlags::RM)
            {
                crate::tracking::invalidate_key(srv, argv[k.pos], true, srv.pubsub.current);
            }
        }
    }
    crate::tracking::limit_used_slots(srv);
}

/// Flags the clients watching keys this command changed: the written keys of a write
/// that changed the dataset, and the keys a successful SWAPDB swapped.
fn touch_watched(
    srv: &mut Server,
    client: &Client,
    argv: &[&[u8]],
    spec: &CommandSpec,
    (dirty_before, unchanged): (u64, u64),
    swapped: &[(usize, Vec<u8>)],
    ok: bool,
) {
    use redis_commands::KeyFlags;
    if ok {
        for (db, key) in swapped {
            crate::cmd::multi::touch_key(srv, *db, key);
        }
    }
    if srv.dirty == dirty_before || !spec.has_flag(CommandFlags::WRITE) {
        return;
    }
    for k in spec.keys(argv) {
        if k.pos < 64 && unchanged & (1 << k.pos) != 0 {
            continue;
        }
        if k.flags.contains(KeyFlags::RW)
            || k.flags.contains(KeyFlags::OW)
            || k.flags.contains(KeyFlags::RM)
        {
            crate::cmd::multi::touch_key(srv, client.db, argv[k.pos]);
        }
    }
}

/// Records a call's duration in its command's latency histogram (INFO
/// latencystats), when latency tracking is on.
pub fn record_latency(srv: &mut Server, cmd_id: usize, duration_us: u64) {
    if !srv.config.latency_tracking {
        return;
    }
    // Redis's bounds (1 ns .. 1 s, 2 significant digits): the same ~24 KB per
    // command as Redis allocates, which maxmemory headroom in its tests counts
    // on; longer calls are not recorded, as in Redis.
    let h = srv.command_stats[cmd_id].latency.get_or_insert_with(|| {
        Box::new(
            hdrhistogram::Histogram::new_with_bounds(1, 1_000_000_000, 2)
                .expect("valid histogram bounds"),
        )
    });
    let _ = h.record((duration_us * 1000).max(1));
}

/// Redis's allowProtectedAction: `yes`, or `local` for a unix socket or a client
/// connected from 127.0.0.1 / ::1.
fn protected_action_allowed(setting: crate::config::ProtectedAction, client: &Client) -> bool {
    use crate::config::ProtectedAction;
    match setting {
        ProtectedAction::Yes => true,
        ProtectedAction::No => false,
        ProtectedAction::Local => match &client.peer {
            crate::client::Peer::Unix { .. } => true,
            crate::client::Peer::Tcp { addr, .. } => {
                let ip = addr.ip().to_string();
                ip == "127.0.0.1" || ip == "::1"
            }
        },
    }
}

/// Commands that Redis marks `may-replicate` (an internal flag COMMAND INFO does not
/// show): CLIENT PAUSE WRITE holds them like writes.
const MAY_REPLICATE: &[&str] = &["eval", "evalsha", "fcall", "publish", "pfcount", "spublish"];

/// True if CLIENT PAUSE holds this request now (checked before [`execute`]).
pub fn is_paused(srv: &mut Server, client: &Client, argv: &[&[u8]], now: i64) -> bool {
    let Some((kind, until)) = srv.pause else {
        return false;
    };
    if now >= until {
        srv.pause = None;
        return false;
    }
    let Some(spec) = redis_commands::table().lookup(argv) else {
        return false;
    };
    match kind {
        PauseKind::All => true,
        PauseKind::Write => {
            // A script that declares its flags writes only without `no-writes`
            // (Redis's scriptFlagsToCmdFlags).
            let may_replicate = |s: &CommandSpec, argv: &[&[u8]]| {
                if let Some(writes) = crate::scripting::declared_writes(srv, s, argv) {
                    return writes;
                }
                s.has_flag(CommandFlags::WRITE) || MAY_REPLICATE.contains(&s.name.as_str())
            };
            // EXEC counts as a write when its transaction holds one, as in Redis.
            may_replicate(spec, argv)
                || (spec.name == "exec"
                    && client.multi.as_ref().is_some_and(|m| {
                        m.queue.iter().any(|q| {
                            let qa: Vec<&[u8]> = q.iter().map(|a| &a[..]).collect();
                            redis_commands::table()
                                .lookup(q)
                                .is_some_and(|s| may_replicate(s, &qa))
                        })
                    }))
        }
    }
}

/// Key access as Redis's lookupKeyRead/lookupKeyWrite: lazy expiry, keyspace hit and
/// miss counters (reads only), and the LRU/LFU touch (unless CLIENT NO-TOUCH).
impl Ctx<'_> {
    /// Looks a key up for reading.
    pub fn read_key(&mut self, key: &[u8]) -> Option<&mut crate::object::Object> {
        self.lookup(key, true)
    }

    /// Looks a key up for reading without updating its LRU/LFU data (Redis's
    /// LOOKUP_NOTOUCH: EXISTS, TYPE, TTL, OBJECT); hits and misses are counted.
    pub fn read_key_notouch(&mut self, key: &[u8]) -> Option<&mut crate::object::Object> {
        lookup_key(self.srv, self.client.db, key, self.now_ms, true, false)
    }

    /// Looks a key up for writing (no hit/miss accounting).
    pub fn write_key(&mut self, key: &[u8]) -> Option<&mut crate::object::Object> {
        self.lookup(key, false)
    }

    /// [`read_key`](Self::read_key) that also hands out the reply buffer, so a value
    /// can be written without copying it first.
    pub fn read_key_out(
        &mut self,
        key: &[u8],
    ) -> (Option<&mut crate::object::Object>, &mut ReplyBuf) {
        let touch = !self.client.no_touch || self.cmd.name == "touch";
        (
            lookup_key(self.srv, self.client.db, key, self.now_ms, true, touch),
            &mut *self.out,
        )
    }

    fn lookup(&mut self, key: &[u8], read: bool) -> Option<&mut crate::object::Object> {
        let touch = !self.client.no_touch || self.cmd.name == "touch";
        lookup_key(self.srv, self.client.db, key, self.now_ms, read, touch)
    }

    /// A new object for `value`, stamped for the eviction policy.
    pub fn new_object(&self, value: crate::object::Value) -> crate::object::Object {
        crate::object::Object::new(value, crate::evict::initial_lru(self.srv, self.now_ms))
    }

    /// Stores a value (SET semantics: the TTL is dropped unless `keep_ttl`). An
    /// expired old value is removed first, as Redis's setKey looks the key up for
    /// writing: KEEPTTL must not keep a TTL that already passed.
    pub fn set_key(&mut self, key: &[u8], value: crate::object::Value, keep_ttl: bool) {
        let lru = crate::evict::initial_lru(self.srv, self.now_ms);
        let keep_lru = crate::evict::is_lfu(self.srv.config.maxmemory_policy);
        let db = &mut self.srv.keyspace.dbs[self.client.db];
        db.expire_if_needed(key, self.now_ms);
        db.set_with(key, value, lru, keep_ttl, keep_lru);
    }

    /// Deletes a key; true if it existed.
    pub fn delete_key(&mut self, key: &[u8]) -> bool {
        let now = self.now_ms;
        let db = self.db();
        db.expire_if_needed(key, now);
        db.remove(key).is_some()
    }
}

/// Redis's lookupKey: lazy expiry, hit/miss counters for reads, LRU/LFU touch.
pub fn lookup_key<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    now_ms: i64,
    read: bool,
    touch: bool,
) -> Option<&'s mut crate::object::Object> {
    // Key-miss notifications (class m): a second lookup, only when they are on.
    if read
        && srv.pubsub.notify & crate::config::notify::KEY_MISS != 0
        && srv.keyspace.dbs[db].lookup(key, now_ms).is_none()
    {
        srv.stats.keyspace_misses += 1;
        srv.notify(crate::config::notify::KEY_MISS, "keymiss", key, db);
        return None;
    }
    let cfg = &srv.config;
    let found = if read {
        srv.keyspace.dbs[db].lookup(key, now_ms)
    } else {
        srv.keyspace.dbs[db].lookup_write(key, now_ms)
    };
    match found {
        Some(o) => {
            if read {
                srv.stats.keyspace_hits += 1;
            }
            // While a BGSAVE child shares the pages, a read does not write the
            // access time (each touch would copy a page), as Redis.
            if touch && srv.bgsave.child.is_none() {
                crate::evict::touch(
                    o,
                    cfg.maxmemory_policy,
                    srv.lru_clock,
                    now_ms,
                    cfg.lfu_log_factor,
                    cfg.lfu_decay_time,
                );
            }
            Some(o)
        }
        None => {
            if read {
                srv.stats.keyspace_misses += 1;
            }
            None
        }
    }
}
