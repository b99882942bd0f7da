//! The special modes selected by options (everything but one-shot commands
//! and the REPL).

pub mod eval;
pub mod keys;
pub mod latency;
pub mod pipe;
pub mod rdb;
pub mod stat;
pub mod typeorder;

use crate::conn::Conn;
use crate::session::{out, Session};
use redis_formats::RespValue;
use std::time::Duration;

/// Sends a command, reconnecting (with Redis's `Reconnecting... N` line)
/// while the link is down. Used by the long-running monitoring modes.
pub fn reconnecting_command(s: &mut Session, args: &[&[u8]]) -> RespValue {
    let mut tries = 0;
    loop {
        if let Some(c) = s.conn.as_mut() {
            match c.command(args) {
                Ok(v) => {
                    if tries > 0 {
                        out(b"\r\x1b[0K");
                    }
                    return v;
                }
                Err(crate::conn::ConnError::Protocol(e)) => {
                    crate::session::err(format!("Error: {e}\n").as_bytes());
                    std::process::exit(1);
                }
                Err(_) => s.conn = None,
            }
        }
        while s.conn.is_none() {
            tries += 1;
            out(format!("\r\x1b[0KReconnecting... {tries}\r").as_bytes());
            let target = match &s.cfg.socket {
                Some(p) => crate::conn::Target::Unix(p.clone()),
                None => crate::conn::Target::Tcp {
                    host: s.cfg.host.clone(),
                    port: s.cfg.port,
                },
            };
            let tls = s.cfg.tls.then_some(&s.cfg.tls_opts);
            match Conn::connect(&target, tls) {
                Ok(c) => s.conn = Some(c),
                Err(crate::conn::ConnError::Tls(e)) => {
                    crate::session::err(format!("TLS Error: {e}\n").as_bytes());
                    std::process::exit(1);
                }
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}
