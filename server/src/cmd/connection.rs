//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET.

use crate::client::{Client, ReplyMode};
use crate::dispatch::{errors, CmdResult, Ctx};
use crate::startup::REDIS_VERSION;
use crate::state::Server;
use redis_formats::ProtoVersion;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("auth", auth),
    ("echo", echo),
    ("hello", hello),
    ("ping", ping),
    ("quit", quit),
    ("reset", reset),
    ("select", select),
];

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// PING [message]
pub fn ping(ctx: &mut Ctx) -> CmdResult {
    // The table's arity is -1; PING itself rejects more than one argument.
    if ctx.argc() > 2 {
        return Err("ERR wrong number of arguments for 'ping' command".into());
    }
    // A RESP2 client in pub/sub mode gets an array, as a message would be.
    if ctx.client.is_pubsub() && ctx.client.resp == ProtoVersion::Resp2 {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(ctx.argv.get(1).map_or(&b""[..], |a| &a[..]));
        return Ok(());
    }
    match ctx.argc() {
        1 => ctx.out.simple(b"PONG"),
        _ => ctx.out.bulk(ctx.argv[1]),
    }
    Ok(())
}

/// ECHO message
pub fn echo(ctx: &mut Ctx) -> CmdResult {
    ctx.out.bulk(ctx.argv[1]);
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
    ctx.client.db = super::args::arg_db_index(ctx, 1)?;
    ctx.out.ok();
    Ok(())
}

/// True when the default user is flagged `nopass` (no `requirepass`).
pub fn default_user_nopass(srv: &Server) -> bool {
    srv.acl.default_user().nopass()
}

fn authenticate(ctx: &mut Ctx, user: &[u8], pass: &[u8]) -> bool {
    super::acl::authenticate(ctx, user, pass)
}

/// AUTH [username] password
pub fn auth(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(errors::SYNTAX.into());
    }
    ctx.redact(1);
    let (user, pass) = if ctx.argc() == 2 {
        if default_user_nopass(ctx.srv) {
            return Err(
                "ERR AUTH <password> called without any password configured for \
the default user. Are you sure your configuration is correct?"
                    .into(),
            );
        }
        (b"default".as_slice(), ctx.argv[1])
    } else {
        ctx.redact(2);
        (ctx.argv[1], ctx.argv[2])
    };
    let user = user.to_vec();
    if authenticate(ctx, &user, pass) {
        ctx.out.ok();
        Ok(())
    } else {
        Err(WRONGPASS.into())
    }
}

/// Redis's rule for client names: printable ASCII without spaces (`!`..`~`).
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// The error for a client name with forbidden characters.
pub const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";

/// Sets (or with an empty name, clears) the client's name.
pub fn set_client_name(client: &mut Client, name: &[u8]) -> CmdResult {
    if name.is_empty() {
        client.name = None;
        return Ok(());
    }
    if !valid_client_name(name) {
        return Err(BAD_CLIENT_NAME.into());
    }
    client.name = Some(name.to_vec());
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
pub fn hello(ctx: &mut Ctx) -> CmdResult {
    let mut ver = 0;
    if ctx.argc() >= 2 {
        ver = redis_formats::num::parse_i64(ctx.argv[1])
            .ok_or("ERR Protocol version is not an integer or out of range")?;
        if !(2..=3).contains(&ver) {
            return Err("NOPROTO unsupported protocol version".into());
        }
    }
    let mut j = 2;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        if ctx.arg_is(j, "auth") && more >= 2 {
            ctx.redact(j + 1);
            ctx.redact(j + 2);
            let (user, pass) = (ctx.argv[j + 1], ctx.argv[j + 2]);
            if !authenticate(ctx, user, pass) {
                return Err(WRONGPASS.into());
            }
            j += 3;
        } else if ctx.arg_is(j, "setname") && more >= 1 {
            let name = ctx.argv[j + 1];
            set_client_name(ctx.client, name)?;
            j += 2;
        } else {
            return Err(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(ctx.argv[j])
            )
            .into());
        }
    }
    if crate::acl::auth_required(ctx.srv, ctx.client) {
        return Err(
            "NOAUTH HELLO must be called with the client already authenticated, \
otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and \
select the RESP protocol version at the same time"
                .into(),
        );
    }
    if ver == 3 {
        ctx.client.set_resp(ProtoVersion::Resp3);
    } else if ver == 2 {
        ctx.client.set_resp(ProtoVersion::Resp2);
    }
    // The reply is in the protocol just chosen.
    ctx.out.proto = ctx.client.resp;
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if ctx.client.resp == ProtoVersion::Resp3 {
        3
    } else {
        2
    });
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(if ctx.srv.repl.master.is_some() {
        &b"replica"[..]
    } else {
        b"master"
    });
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// RESET: back to the state of a new connection.
pub fn reset(ctx: &mut Ctx) -> CmdResult {
    let id = ctx.client.id;
    if ctx.client.monitor {
        ctx.client.monitor = false;
        ctx.srv.monitors.retain(|(cid, _)| *cid != id);
    }
    ctx.client.multi = None;
    super::multi::unwatch_all(ctx.srv, ctx.client);
    crate::pubsub::forget_client(ctx.srv, ctx.client);
    if ctx.srv.tracking.clients != 0 {
        crate::tracking::disable(ctx.srv, ctx.client.id);
    }
    ctx.client.db = 0;
    ctx.client.set_resp(ProtoVersion::Resp2);
    ctx.out.proto = ProtoVersion::Resp2;
    // Redis's clientSetDefaultAuth.
    ctx.client.user = ctx.srv.acl.default_user().clone();
    ctx.client.authenticated = !ctx.srv.acl.default_needs_auth();
    ctx.client.name = None;
    // Like Redis, RESET clears OFF and a pending SKIP but not the skip of itself.
    if ctx.client.reply_mode != ReplyMode::SkipThis {
        ctx.client.reply_mode = ReplyMode::On;
    }
    ctx.out.simple(b"RESET");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names() {
        assert!(valid_client_name(b"my-name_1"));
        assert!(!valid_client_name(b"a b"));
        assert!(!valid_client_name(b"a\nb"));
        assert!(!valid_client_name("é".as_bytes()));
    }
}
