//! Start-up queries: connecting with AUTH (Redis's getRedisContext), reading
//! the server's save/appendonly settings, and the cluster's masters.

use redis_formats::RespValue;

use crate::cluster::{self, Node};
use crate::conn::{self, Conn, Target};
use crate::engine::fatal;

/// Connects and authenticates. Connection failures are printed and give
/// `None`; an AUTH error is printed and ends the program, as in Redis.
pub async fn context(t: &Target) -> Option<Conn> {
    let stream = match conn::connect(t).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", e.message(t));
            return None;
        }
    };
    let mut c = Conn::new(stream);
    if let Some((user, pass)) = &t.auth {
        let mut args: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(u) = user {
            args.push(u);
        }
        args.push(pass);
        match c.command(&args).await {
            Ok(RespValue::Error(e)) => fatal(&format!(
                "Node {} replied with error:\n{}",
                t.describe(),
                String::from_utf8_lossy(&e)
            )),
            Ok(_) => {}
            Err(_) => {
                eprintln!("ERROR: failed to fetch reply from {}", t.describe());
                return None;
            }
        }
    }
    Some(c)
}

/// `CONFIG GET save` and `appendonly`; `None` when they cannot be read.
/// A NOAUTH error ends the program.
pub async fn server_config(t: &Target) -> Option<(String, String)> {
    let mut c = context(t).await?;
    let mut vals = Vec::new();
    for name in ["save", "appendonly"] {
        let reply = c.command(&["CONFIG", "GET", name]).await.ok()?;
        match &reply {
            RespValue::Error(e) => {
                if e.starts_with(b"NOAUTH") {
                    fatal(&format!(
                        "Node {} replied with error:\n{}",
                        t.describe(),
                        String::from_utf8_lossy(e)
                    ));
                }
                return None;
            }
            RespValue::Map(pairs) => {
                let v = pairs.first()?.1.as_bytes().unwrap_or(b"");
                vals.push(String::from_utf8_lossy(v).into_owned());
            }
            other => {
                let items = other.as_slice()?;
                let v = items.get(1)?.as_bytes().unwrap_or(b"");
                vals.push(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    let aof = vals.pop()?;
    let save = vals.pop()?;
    Some((save, aof))
}

/// Reads the masters with CLUSTER SLOTS, or prints why not and exits.
pub async fn cluster_nodes(t: &Target) -> Vec<Node> {
    let Some(mut c) = context(t).await else {
        std::process::exit(1);
    };
    let failed = || -> ! {
        fatal(&format!(
            "Failed to fetch cluster configuration from {}",
            t.describe()
        ))
    };
    let reply = match c.command(&["CLUSTER", "SLOTS"]).await {
        Ok(r) => r,
        Err(_) => failed(),
    };
    if let RespValue::Error(e) = &reply {
        eprintln!(
            "Cluster node {} replied with error:\n{}",
            t.describe(),
            String::from_utf8_lossy(e)
        );
        failed();
    }
    match cluster::parse_slots(&reply) {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => failed(),
        Err(e) => {
            eprintln!("{e}.");
            failed()
        }
    }
}
