//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP. The parameter logic (names, types,
//! validation, error texts, rewrite rules) is the redis-server-config crate's; this
//! module applies changes to the running server.

use super::help::reply_help;
use crate::config::{apply_failed_error, SetContext};
use crate::dispatch::{errors, CmdResult, Ctx};
use crate::log::{log, Level};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("config|get", get),
    ("config|set", set),
    ("config|resetstat", resetstat),
    ("config|rewrite", rewrite),
    ("config|help", help),
];

/// CONFIG GET parameter [parameter ...]
pub fn get(ctx: &mut Ctx) -> CmdResult {
    let patterns: Vec<&[u8]> = ctx.argv[2..].iter().map(|a| &a[..]).collect();
    let pairs = ctx.srv.config.get(&patterns);
    ctx.out.map(pairs.len());
    for (name, value) in pairs {
        ctx.out.bulk(name.as_bytes());
        ctx.out.bulk(&value);
    }
    Ok(())
}

/// CONFIG SET parameter value [parameter value ...]: all or nothing, including the
/// side effects on the running server (rolled back if one fails).
pub fn set(ctx: &mut Ctx) -> CmdResult {
    if !ctx.argc().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    // Values of sensitive parameters never reach SLOWLOG or MONITOR, even when the
    // command fails (Redis redacts them all before checking any).
    for i in (2..ctx.argc()).step_by(2) {
        if crate::config::is_sensitive(ctx.argv[i]) {
            ctx.redact(i + 1);
        }
    }
    let pairs: Vec<(&[u8], &[u8])> = ctx.argv[2..].chunks(2).map(|p| (p[0], p[1])).collect();
    let before = ctx.srv.config.snapshot();
    let set_ctx = SetContext {
        local_client: is_local(ctx),
        loading: false,
    };
    let changed = ctx.srv.config.set_with(&pairs, set_ctx)?;
    for (i, name) in changed.iter().enumerate() {
        // Setting the addresses already bound keeps the listeners (Redis closes and
        // reopens them; ours are owned by their accept tasks, so reopening first would
        // find the addresses in use).
        if *name == "bind" && before.bind == ctx.srv.config.bind {
            continue;
        }
        if let Err(msg) = apply(ctx, name) {
            // As Redis: the old values come back, and what was already applied is
            // applied again with them (listeners, oom-score-adj, requirepass...).
            let bind_changed = before.bind != ctx.srv.config.bind;
            ctx.srv.config.restore(before);
            ctx.srv.apply_notify_config();
            for prev in &changed[..i] {
                if *prev != "bind" || bind_changed {
                    let _ = apply(ctx, prev);
                }
            }
            return Err(apply_failed_error(name, &msg).into());
        }
    }
    ctx.out.ok();
    Ok(())
}

fn is_local(ctx: &Ctx) -> bool {
    match &ctx.client.peer {
        crate::client::Peer::Unix { .. } => true,
        crate::client::Peer::Tcp { addr, .. } => addr.ip().is_loopback(),
    }
}

/// Makes a changed parameter take effect.
fn apply(ctx: &mut Ctx, name: &str) -> Result<(), String> {
    let cfg = &ctx.srv.config;
    match name {
        "port" | "bind" => {
            let (bind, port, backlog) = (cfg.bind.clone(), cfg.port, cfg.tcp_backlog);
            let mut guard = ctx.shared.listeners.lock();
            if let Some(l) = guard.as_mut() {
                // The accept tasks need the Arc; rebuild it from the registry's owner.
                let shared = crate::state::shared_arc(ctx.shared);
                l.rebind(&shared, &bind, port, backlog).map_err(|e| {
                    log(Level::Warning, &e);
                    if name == "port" {
                        "Unable to listen on this port. Check server logs.".to_string()
                    } else {
                        "Failed to bind to specified addresses.".to_string()
                    }
                })?;
            }
            ctx.srv.tcp_port = port;
        }
        "requirepass" => {
            let pass = cfg.requirepass.clone();
            crate::acl::set_default_password(ctx.srv, ctx.client, pass.as_deref());
        }
        "loglevel" => crate::log::set_level(crate::startup::log_level(cfg.loglevel)),
        "repl-backlog-size" => crate::replication::resize_backlog(ctx.srv),
        "slowlog-max-len" => {
            let max = cfg.slowlog_max_len as i64;
            ctx.srv.slowlog.trim(max);
        }
        "maxmemory" => {
            let used = crate::alloc::used_memory();
            let max = cfg.maxmemory;
            if max > 0 && max < used {
                log(
                    Level::Warning,
                    &format!(
                        "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
                    ),
                );
            }
            // Redis evicts from a timer right after the command (startEvictionTimeProc):
            // not inside EXEC (the cron does it then), each deletion propagated alone.
            if !ctx.client.in_exec {
                let now = ctx.now_ms;
                let _ = crate::evict::perform_evictions(ctx.srv, now);
                crate::propagate::flush_no_multi(ctx.srv);
            }
        }
        "notify-keyspace-events" => ctx.srv.apply_notify_config(),
        "oom-score-adj" | "oom-score-adj-values" => {
            let class = if ctx.srv.repl.master.is_some() {
                crate::oom::REPLICA
            } else {
                crate::oom::MASTER
            };
            crate::oom::apply(&ctx.srv.config, class)?
        }
        // Redis rebuilds its TLS context when a TLS setting changes while TLS is in
        // use; the new context serves the next connections.
        "tls-session-cache-size"
        | "tls-session-cache-timeout"
        | "tls-cluster"
        | "tls-replication"
        | "tls-prefer-server-ciphers"
        | "tls-session-caching"
        | "tls-cert-file"
        | "tls-key-file"
        | "tls-key-file-pass"
        | "tls-client-cert-file"
        | "tls-client-key-file"
        | "tls-client-key-file-pass"
        | "tls-dh-params-file"
        | "tls-ca-cert-file"
        | "tls-ca-cert-dir"
        | "tls-protocols"
        | "tls-ciphers"
        | "tls-ciphersuites"
            if crate::tls::wanted(cfg) =>
        {
            let c = crate::tls::configure(cfg)
                .map_err(|_| "Unable to update TLS configuration. Check server logs.")?;
            ctx.srv.tls = Some(std::sync::Arc::new(c));
        }
        "tls-port" => {
            if ctx.srv.tls.is_none() {
                let c = crate::tls::configure(cfg)
                    .map_err(|_| "Unable to update TLS configuration. Check server logs.")?;
                ctx.srv.tls = Some(std::sync::Arc::new(c));
            }
            let cfg = &ctx.srv.config;
            let (bind, port, backlog) = (cfg.bind.clone(), cfg.tls_port, cfg.tcp_backlog);
            let mut guard = ctx.shared.listeners.lock();
            if let Some(l) = guard.as_mut() {
                let shared = crate::state::shared_arc(ctx.shared);
                l.rebind_tls(&shared, &bind, port, backlog).map_err(|e| {
                    log(Level::Warning, &e);
                    "Unable to listen on this port. Check server logs.".to_string()
                })?;
            }
        }
        "aof-disable-auto-gc" if !cfg.aof_disable_auto_gc => {
            crate::aof::delete_history(ctx.srv);
        }
        "appendonly" => {
            if cfg.appendonly {
                let (in_exec, now) = (ctx.client.in_exec, ctx.now_ms);
                if crate::aof::start_append_only(ctx.srv, in_exec, now).is_err() {
                    return Err("Unable to turn on AOF. Check server logs.".into());
                }
            } else {
                crate::aof::stop_append_only(ctx.srv);
            }
        }
        _ => {}
    }
    Ok(())
}

/// CONFIG RESETSTAT
pub fn resetstat(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.reset_stats();
    ctx.out.ok();
    Ok(())
}

/// CONFIG REWRITE
pub fn rewrite(ctx: &mut Ctx) -> CmdResult {
    let Some(path) = ctx.srv.config_file.clone() else {
        return Err("ERR The server is running without a config file".into());
    };
    let users = crate::acl::user_lines(&ctx.srv.acl);
    match ctx.srv.config.rewrite(&path, &users) {
        Ok(()) => {
            log(Level::Notice, "CONFIG REWRITE executed with success.");
            ctx.out.ok();
            Ok(())
        }
        Err(e) => {
            log(Level::Warning, &format!("CONFIG REWRITE failed: {e}"));
            Err(e.into())
        }
    }
}

/// CONFIG HELP
pub fn help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx,
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}
