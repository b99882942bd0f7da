//! CLIENT and its subcommands (Redis 7.0.15 has no CLIENT SETINFO or NO-TOUCH).

use super::connection::set_client_name;
use crate::client::{Client, ClientKind, ReplyMode};
use crate::dispatch::{errors, CmdResult, Ctx};
use crate::state::PauseKind;
use std::fmt::Write as _;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("client|getname", getname),
    ("client|help", help),
    ("client|id", id),
    ("client|info", info),
    ("client|kill", kill),
    ("client|list", list),
    ("client|no-evict", no_evict),
    ("client|pause", pause),
    ("client|reply", reply),
    ("client|setname", setname),
    ("client|unblock", unblock),
    ("client|unpause", unpause),
    ("client|tracking", tracking),
    ("client|caching", caching),
    ("client|getredir", getredir),
    ("client|trackinginfo", trackinginfo),
];

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

/// Writes a HELP reply: an array of status lines.
pub fn reply_help(ctx: &mut Ctx, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l.as_bytes());
    }
}

/// Redis's error for a subcommand called with an argument count its own code rejects.
pub fn subcommand_syntax_error(ctx: &Ctx) -> crate::dispatch::CmdError {
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&ctx.argv[1][..ctx.argv[1].len().min(128)]),
        String::from_utf8_lossy(ctx.argv[0]).to_uppercase()
    )
    .into()
}

/// CLIENT HELP
pub fn help(ctx: &mut Ctx) -> CmdResult {
    reply_help(ctx, HELP);
    Ok(())
}

/// CLIENT ID
pub fn id(ctx: &mut Ctx) -> CmdResult {
    ctx.out.int(ctx.client.id as i64);
    Ok(())
}

/// CLIENT GETNAME
pub fn getname(ctx: &mut Ctx) -> CmdResult {
    match &ctx.client.name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    Ok(())
}

/// CLIENT SETNAME name
pub fn setname(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.argv[2];
    set_client_name(ctx.client, name)?;
    ctx.out.ok();
    Ok(())
}

/// Bytes the request `argv` took in the query buffer (RESP multibulk form), which
/// Redis still holds while the command runs (CLIENT LIST's `qbuf` of the caller).
fn request_len(argv: &[&[u8]]) -> usize {
    let digits = |n: usize| n.to_string().len();
    let mut n = 1 + digits(argv.len()) + 2;
    for a in argv {
        n += 1 + digits(a.len()) + 2 + a.len() + 2;
    }
    n
}

/// The one-character client flags of CLIENT LIST.
fn flags_of(c: &Client) -> String {
    let mut f = String::new();
    match c.kind() {
        ClientKind::Replica => f.push('S'),
        ClientKind::Master => f.push('M'),
        _ => {}
    }
    if c.monitor {
        f.push('O');
    }
    if c.is_pubsub() {
        f.push('P');
    }
    if c.multi.is_some() {
        f.push('x');
    }
    if c.outbox.is_blocked_or_paused() {
        f.push('b');
    }
    let tf = c.outbox.tracking.load(std::sync::atomic::Ordering::Acquire);
    if tf != 0 {
        use crate::tracking::flag;
        f.push('t');
        if tf & flag::BROKEN_REDIR != 0 {
            f.push('R');
        }
        if tf & flag::BCAST != 0 {
            f.push('B');
        }
    }
    if c.close_after_reply {
        f.push('c');
    }
    if c.outbox.is_killed() {
        f.push('A');
    }
    if c.is_unix() {
        f.push('U');
    }
    if c.no_evict {
        f.push('e');
    }
    if f.is_empty() {
        f.push('N');
    }
    f
}

/// A client as Redis's CLIENT LIST / CLIENT INFO line (without the newline).
/// `current` is the running command's argv when `c` is the caller, and
/// `pending_out` the reply bytes it has queued in this batch.
pub fn info_line(c: &Client, now_ms: i64, current: Option<(&[&[u8]], usize)>) -> String {
    let now_s = now_ms / 1000;
    let (qbuf, argv_mem, obl) = match current {
        Some((argv, pending)) => (
            c.qbuf + request_len(argv),
            argv.iter().map(|a| a.len()).sum::<usize>(),
            pending,
        ),
        None => (c.qbuf, 0, 0),
    };
    let (sub, psub, ssub) = c.subs.as_ref().map_or((0, 0, 0), |s| {
        (s.channels.len(), s.patterns.len(), s.shard.len())
    });
    // Messages queued by other clients and not yet written (Redis's reply list).
    let omem = c.outbox.output_bytes();
    let tot_mem = qbuf + c.qbuf_free + argv_mem + c.rbs + std::mem::size_of::<Client>();
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} \
multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp={} obl={} oll={} omem={} \
tot-mem={} events=r cmd={} user={} redir={} resp={}",
        c.id,
        c.addr_string(),
        c.laddr_string(),
        c.fd,
        c.name
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default(),
        now_s - c.created_ms / 1000,
        now_s - c.last_interaction_ms / 1000,
        flags_of(c),
        c.db,
        sub,
        psub,
        ssub,
        c.multi.as_ref().map_or(-1, |m| m.queue.len() as i64),
        qbuf,
        c.qbuf_free,
        argv_mem,
        c.rbs,
        c.rbp,
        obl,
        usize::from(omem > 0),
        omem,
        tot_mem + omem,
        c.last_cmd,
        c.user,
        if c.outbox.tracking.load(std::sync::atomic::Ordering::Acquire) != 0 {
            c.outbox
                .tracking_redir
                .load(std::sync::atomic::Ordering::Acquire)
        } else {
            -1
        },
        if c.resp == redis_formats::ProtoVersion::Resp3 {
            3
        } else {
            2
        },
    );
    s
}

/// CLIENT INFO
pub fn info(ctx: &mut Ctx) -> CmdResult {
    let mut s = info_line(ctx.client, ctx.now_ms, Some((ctx.argv, ctx.out.len())));
    s.push('\n');
    ctx.out.verbatim(b"txt", s.as_bytes());
    Ok(())
}

/// Parses a client type name as CLIENT LIST/KILL TYPE take it.
fn kind_by_name(name: &[u8]) -> Option<ClientKind> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Some(ClientKind::Normal),
        b"slave" | b"replica" => Some(ClientKind::Replica),
        b"pubsub" => Some(ClientKind::PubSub),
        b"master" => Some(ClientKind::Master),
        _ => None,
    }
}

fn unknown_type(name: &[u8]) -> String {
    format!(
        "ERR Unknown client type '{}'",
        String::from_utf8_lossy(name)
    )
}

/// Every client, the caller included, in connection order (ids increase). Killed
/// clients whose connection has not ended yet are left out: Redis frees them at once.
fn all_clients<'a>(srv: &'a crate::state::Server, me: &'a Client) -> Vec<&'a Client> {
    let mut v: Vec<&Client> = srv
        .clients
        .iter()
        .filter(|c| !c.outbox.is_killed())
        .collect();
    v.push(me);
    v.sort_by_key(|c| c.id);
    v
}

/// CLIENT LIST [TYPE type] [ID id ...]
pub fn list(ctx: &mut Ctx) -> CmdResult {
    let mut kind = None;
    let mut ids: Option<Vec<u64>> = None;
    if ctx.argc() == 4 && ctx.arg_is(2, "type") {
        kind = Some(kind_by_name(ctx.argv[3]).ok_or_else(|| unknown_type(ctx.argv[3]))?);
    } else if ctx.argc() > 3 && ctx.arg_is(2, "id") {
        let mut v = Vec::new();
        for i in 3..ctx.argc() {
            let n = redis_formats::num::parse_i64(ctx.argv[i]).ok_or("ERR Invalid client ID")?;
            v.push(n as u64);
        }
        ids = Some(v);
    } else if ctx.argc() != 2 {
        return Err(errors::SYNTAX.into());
    }
    let pending = ctx.out.len();
    let me_id = ctx.client.id;
    let mut s = String::new();
    {
        let clients = all_clients(ctx.srv, ctx.client);
        let mut emit = |c: &Client| {
            let cur = (c.id == me_id).then_some((ctx.argv, pending));
            s.push_str(&info_line(c, ctx.now_ms, cur));
            s.push('\n');
        };
        match &ids {
            Some(ids) => {
                for id in ids {
                    if let Some(c) = clients.iter().find(|c| c.id == *id) {
                        emit(c);
                    }
                }
            }
            None => {
                for c in &clients {
                    if kind.is_none_or(|k| c.kind() == k) {
                        emit(c);
                    }
                }
            }
        }
    }
    ctx.out.verbatim(b"txt", s.as_bytes());
    Ok(())
}

/// CLIENT KILL addr | CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u] [SKIPME yes/no]
pub fn kill(ctx: &mut Ctx) -> CmdResult {
    let mut addr: Option<Vec<u8>> = None;
    let mut laddr: Option<Vec<u8>> = None;
    let mut user: Option<Vec<u8>> = None;
    let mut kind = None;
    let mut id = 0u64;
    let mut skipme = true;
    let old_form = ctx.argc() == 3;
    if old_form {
        addr = Some(ctx.argv[2].to_vec());
        skipme = false;
    } else {
        let mut i = 2;
        while i < ctx.argc() {
            let more = ctx.argc() > i + 1;
            if !more {
                return Err(errors::SYNTAX.into());
            }
            let v = &ctx.argv[i + 1];
            if ctx.arg_is(i, "id") {
                match redis_formats::num::parse_i64(v) {
                    Some(n) if n >= 1 => id = n as u64,
                    _ => return Err("ERR client-id should be greater than 0".into()),
                }
            } else if ctx.arg_is(i, "type") {
                kind = Some(kind_by_name(v).ok_or_else(|| unknown_type(v))?);
            } else if ctx.arg_is(i, "addr") {
                addr = Some(v.to_vec());
            } else if ctx.arg_is(i, "laddr") {
                laddr = Some(v.to_vec());
            } else if ctx.arg_is(i, "user") {
                if !ctx.srv.acl.users.contains_key(*v) {
                    return Err(format!("ERR No such user '{}'", String::from_utf8_lossy(v)).into());
                }
                user = Some(v.to_vec());
            } else if ctx.arg_is(i, "skipme") {
                if v.eq_ignore_ascii_case(b"yes") {
                    skipme = true;
                } else if v.eq_ignore_ascii_case(b"no") {
                    skipme = false;
                } else {
                    return Err(errors::SYNTAX.into());
                }
            } else {
                return Err(errors::SYNTAX.into());
            }
            i += 2;
        }
    }
    let matches = |c: &Client| {
        addr.as_deref()
            .is_none_or(|a| c.addr_string().as_bytes() == a)
            && laddr
                .as_deref()
                .is_none_or(|a| c.laddr_string().as_bytes() == a)
            && kind.is_none_or(|k| c.kind() == k)
            && (id == 0 || c.id == id)
            && user.as_deref().is_none_or(|u| c.user.name == u)
    };
    let mut killed = 0;
    for c in ctx.srv.clients.iter() {
        if matches(c) && !c.outbox.is_killed() {
            c.outbox.kill();
            killed += 1;
        }
    }
    let close_me = !skipme && matches(ctx.client);
    if close_me {
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err("ERR No such client".into());
        }
        ctx.out.ok();
    } else {
        ctx.out.int(killed);
    }
    if close_me {
        ctx.client.close_after_reply = true;
    }
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP
pub fn reply(ctx: &mut Ctx) -> CmdResult {
    if ctx.arg_is(2, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if ctx.arg_is(2, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if ctx.arg_is(2, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::Skip;
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    Ok(())
}

/// CLIENT NO-EVICT ON|OFF
pub fn no_evict(ctx: &mut Ctx) -> CmdResult {
    if ctx.arg_is(2, "on") {
        ctx.client.no_evict = true;
    } else if ctx.arg_is(2, "off") {
        ctx.client.no_evict = false;
    } else {
        return Err(errors::SYNTAX.into());
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]
pub fn unblock(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 4 {
        return Err(subcommand_syntax_error(ctx));
    }
    let mut error = false;
    if ctx.argc() == 4 {
        if ctx.arg_is(3, "error") {
            error = true;
        } else if !ctx.arg_is(3, "timeout") {
            return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into());
        }
    }
    let id = ctx.arg_i64(2)?;
    let done = id >= 0 && crate::blocking::client_unblock(ctx.srv, id as u64, error);
    ctx.out.int(done as i64);
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]
pub fn pause(ctx: &mut Ctx) -> CmdResult {
    let mut kind = PauseKind::All;
    if ctx.argc() == 4 {
        if ctx.arg_is(3, "write") {
            kind = PauseKind::Write;
        } else if !ctx.arg_is(3, "all") {
            return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into());
        }
    } else if ctx.argc() > 4 {
        return Err(subcommand_syntax_error(ctx));
    }
    let ms = redis_formats::num::parse_i64(ctx.argv[2])
        .ok_or("ERR timeout is not an integer or out of range")?;
    if ms < 0 {
        return Err("ERR timeout is negative".into());
    }
    let end = if ms > 0 {
        ctx.now_ms.saturating_add(ms)
    } else {
        0
    };
    // A second pause extends the first: the stricter kind and the later end win.
    ctx.srv.pause = Some(match ctx.srv.pause {
        Some((k, e)) => {
            let k = if k == PauseKind::All || kind == PauseKind::All {
                PauseKind::All
            } else {
                PauseKind::Write
            };
            (k, e.max(end))
        }
        None => (kind, end),
    });
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE
pub fn unpause(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.pause = None;
    ctx.shared.unpause.notify_waiters();
    ctx.out.ok();
    Ok(())
}

/// CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]
pub fn tracking(ctx: &mut Ctx) -> CmdResult {
    use crate::tracking::flag;
    let argc = ctx.argc();
    let mut redir: i64 = 0;
    let mut redir_outbox = None;
    let mut options = 0u32;
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < argc {
        let more = argc - 1 - j;
        if ctx.arg_is(j, "redirect") && more > 0 {
            j += 1;
            if redir != 0 {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            redir = ctx.arg_i64(j)?;
            let found = if redir as u64 == ctx.client.id {
                Some(ctx.client.outbox.clone())
            } else {
                ctx.srv
                    .clients
                    .iter()
                    .find(|c| c.id == redir as u64)
                    .map(|c| c.outbox.clone())
            };
            if found.is_none() {
                return Err("ERR The client ID you want redirect to does not exist".into());
            }
            redir_outbox = found;
        } else if ctx.arg_is(j, "bcast") {
            options |= flag::BCAST;
        } else if ctx.arg_is(j, "optin") {
            options |= flag::OPTIN;
        } else if ctx.arg_is(j, "optout") {
            options |= flag::OPTOUT;
        } else if ctx.arg_is(j, "noloop") {
            options |= flag::NOLOOP;
        } else if ctx.arg_is(j, "prefix") && more > 0 {
            j += 1;
            prefixes.push(ctx.argv[j]);
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    if ctx.arg_is(2, "on") {
        if options & flag::BCAST == 0 && !prefixes.is_empty() {
            return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
        }
        let (cur, own) = ctx
            .srv
            .tracking
            .trackers
            .get(&ctx.client.id)
            .map_or((0, &[][..]), |t| (t.flags, &t.prefixes[..]));
        if cur & flag::ON != 0 && (cur & flag::BCAST != 0) != (options & flag::BCAST != 0) {
            return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
        if options & flag::BCAST != 0 && options & (flag::OPTIN | flag::OPTOUT) != 0 {
            return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
        }
        if options & flag::OPTIN != 0 && options & flag::OPTOUT != 0 {
            return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
        }
        if (options & flag::OPTIN != 0 && cur & flag::OPTOUT != 0)
            || (options & flag::OPTOUT != 0 && cur & flag::OPTIN != 0)
        {
            return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
        }
        if options & flag::BCAST != 0 {
            let overlap = |a: &[u8], b: &[u8]| {
                let n = a.len().min(b.len());
                a[..n] == b[..n]
            };
            let txt = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            for (i, p) in prefixes.iter().enumerate() {
                if let Some(q) = own.iter().find(|q| overlap(q, p)) {
                    return Err(format!(
                        "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                        txt(p),
                        txt(q)
                    )
                    .into());
                }
                if let Some(q) = prefixes[i + 1..].iter().find(|q| overlap(q, p)) {
                    return Err(format!(
                        "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                        txt(p),
                        txt(q)
                    )
                    .into());
                }
            }
        }
        crate::tracking::enable(
            ctx.srv,
            ctx.client,
            redir as u64,
            redir_outbox,
            options,
            &prefixes,
        );
    } else if ctx.arg_is(2, "off") {
        crate::tracking::disable(ctx.srv, ctx.client.id);
    } else {
        return Err(errors::SYNTAX.into());
    }
    ctx.out.ok();
    Ok(())
}

/// CLIENT CACHING yes|no
pub fn caching(ctx: &mut Ctx) -> CmdResult {
    use crate::tracking::flag;
    let Some(t) = ctx.srv.tracking.trackers.get_mut(&ctx.client.id) else {
        return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into());
    };
    let yes = ctx.argv[2].eq_ignore_ascii_case(b"yes");
    if yes {
        if t.flags & flag::OPTIN == 0 {
            return Err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                    .into(),
            );
        }
    } else if ctx.argv[2].eq_ignore_ascii_case(b"no") {
        if t.flags & flag::OPTOUT == 0 {
            return Err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                    .into(),
            );
        }
    } else {
        return Err(errors::SYNTAX.into());
    }
    t.flags |= flag::CACHING;
    t.outbox
        .tracking
        .store(t.flags, std::sync::atomic::Ordering::Release);
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR
pub fn getredir(ctx: &mut Ctx) -> CmdResult {
    let r = ctx
        .srv
        .tracking
        .trackers
        .get(&ctx.client.id)
        .map_or(-1, |t| t.redirect as i64);
    ctx.out.int(r);
    Ok(())
}

/// CLIENT TRACKINGINFO
pub fn trackinginfo(ctx: &mut Ctx) -> CmdResult {
    use crate::tracking::flag;
    let t = ctx.srv.tracking.trackers.get(&ctx.client.id);
    let f = t.map_or(0, |t| t.flags);
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    let mut names: Vec<&[u8]> = vec![if f & flag::ON != 0 { b"on" } else { b"off" }];
    if f & flag::BCAST != 0 {
        names.push(b"bcast");
    }
    if f & flag::OPTIN != 0 {
        names.push(b"optin");
        if f & flag::CACHING != 0 {
            names.push(b"caching-yes");
        }
    }
    if f & flag::OPTOUT != 0 {
        names.push(b"optout");
        if f & flag::CACHING != 0 {
            names.push(b"caching-no");
        }
    }
    if f & flag::NOLOOP != 0 {
        names.push(b"noloop");
    }
    if f & flag::BROKEN_REDIR != 0 {
        names.push(b"broken_redirect");
    }
    out.set(names.len());
    for n in names {
        out.bulk(n);
    }
    out.bulk(b"redirect");
    out.int(t.map_or(-1, |t| t.redirect as i64));
    out.bulk(b"prefixes");
    match t {
        Some(t) => {
            out.array(t.prefixes.len());
            for p in &t.prefixes {
                out.bulk(p);
            }
        }
        None => out.array(0),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_len_matches_resp() {
        let argv: [&[u8]; 2] = [b"client", b"list"];
        // "*2\r\n$6\r\nclient\r\n$4\r\nlist\r\n"
        assert_eq!(request_len(&argv), 26);
    }

    #[test]
    fn types() {
        assert_eq!(kind_by_name(b"REPLICA"), Some(ClientKind::Replica));
        assert_eq!(kind_by_name(b"slave"), Some(ClientKind::Replica));
        assert_eq!(kind_by_name(b"x"), None);
    }
}
