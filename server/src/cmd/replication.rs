//! Replication commands: REPLCONF, PSYNC, SYNC, REPLICAOF / SLAVEOF, ROLE, WAIT.
//! The logic lives in `crate::replication`.

use crate::dispatch::{CmdResult, Ctx};
use crate::log::{log, Level};
use crate::replication::{master, replica};

pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("replconf", master::replconf),
    ("psync", master::sync),
    ("sync", master::sync),
    ("replicaof", replicaof),
    ("slaveof", replicaof),
    ("role", master::role),
    ("wait", master::wait),
    ("failover", master::failover),
];

/// REPLICAOF host port | NO ONE (and SLAVEOF).
fn replicaof(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.repl.failover.is_some() {
        return Err("ERR REPLICAOF not allowed while failing over.".into());
    }
    if ctx.arg_is(1, "no") && ctx.arg_is(2, "one") {
        if ctx.srv.repl.master.is_some() {
            replica::unset_master(ctx.srv);
            let who = crate::cmd::client::info_line(ctx.client, ctx.now_ms, None);
            log(
                Level::Notice,
                &format!("MASTER MODE enabled (user request from '{who}')"),
            );
        }
        ctx.out.ok();
        return Ok(());
    }
    if ctx.client.repl.as_ref().is_some_and(|r| r.is_replica) {
        return Err("ERR Command is not valid when client is a replica.".into());
    }
    let port = redis_formats::num::parse_i64(ctx.argv[2])
        .filter(|p| (0..=65535).contains(p))
        .ok_or("ERR Invalid master port")? as u16;
    let host = String::from_utf8_lossy(ctx.argv[1]).into_owned();
    if let Some(m) = &ctx.srv.repl.master {
        if m.host.eq_ignore_ascii_case(&host) && m.port == port {
            log(
                Level::Notice,
                "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
            );
            ctx.out.simple(b"OK Already connected to specified master");
            return Ok(());
        }
    }
    replica::set_master(ctx.srv, host.clone(), port);
    let who = crate::cmd::client::info_line(ctx.client, ctx.now_ms, None);
    log(
        Level::Notice,
        &format!("REPLICAOF {host}:{port} enabled (user request from '{who}')"),
    );
    ctx.out.ok();
    Ok(())
}
