//! `--cluster import`: every key of a standalone server's db 0, moved (or
//! copied) to the master owning its slot with MIGRATE, as Redis does.

use crate::cluster::Manager;
use crate::commands::host_from_args;
use crate::log;
use crate::node::{Node, SLOTS};
use redis_cli_core::conn::{Conn, Target};
use redis_formats::RespValue;

/// `--cluster import host:port --cluster-from host:port [...]`
pub fn import(m: &mut Manager, argv: &[String], from_pass: Option<Vec<u8>>) -> bool {
    let Some((ip, port)) = host_from_args(argv) else {
        return crate::commands::invalid_args();
    };
    let Some(from) = &m.cfg.cluster.from else {
        eprintln!("[ERR] Option '--cluster-from' is required for subcommand 'import'.");
        return false;
    };
    let from = String::from_utf8_lossy(from).into_owned();
    let Some((src_ip, src_port)) = host_from_args(std::slice::from_ref(&from)) else {
        eprintln!(
            "[ERR] Invalid --cluster-from host. You need to pass a valid address (ie. \
             120.0.0.1:7000)."
        );
        return false;
    };
    log::info(&format!(
        ">>> Importing data from {src_ip}:{src_port} to cluster {ip}:{port}\n"
    ));
    if !m.load_from_node(Node::new(&ip, port, 0)) || !m.check_cluster(false) {
        return false;
    }
    let target = Target::Tcp {
        host: src_ip.clone(),
        port: src_port,
    };
    let tls = if m.cfg.tls {
        Some(&m.cfg.tls_opts)
    } else {
        None
    };
    let mut src = match Conn::connect(&target, tls) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "Could not connect to Redis at {src_ip}:{src_port}: {}.",
                e.errstr()
            );
            return false;
        }
    };
    if let Some(pass) = &from_pass {
        let mut args: Vec<Vec<u8>> = vec![b"AUTH".to_vec()];
        if let Some(u) = &m.cfg.cluster.from_user {
            args.push(u.clone());
        }
        args.push(pass.clone());
        match src.command(&args) {
            Err(_) => {
                eprint!("\nI/O error\n");
                return false;
            }
            Ok(RespValue::Error(e)) => {
                eprintln!("AUTH failed: {}", String::from_utf8_lossy(&e));
                return false;
            }
            Ok(_) => {}
        }
    }
    let src_err = |e: &str| {
        log::err(&format!(
            "Source {src_ip}:{src_port} replied with error:\n{e}\n"
        ));
        false
    };
    let info = match src.command(&["INFO"]) {
        Ok(RespValue::Error(e)) => return src_err(&String::from_utf8_lossy(&e)),
        Ok(v) => crate::node::reply_text(&v),
        Err(_) => return false,
    };
    if crate::node::info_field(&info, "cluster_enabled") != 0 {
        log::err("[ERR] The source node should not be a cluster node.\n");
        return false;
    }
    let size = match src.command(&["DBSIZE"]) {
        Ok(RespValue::Integer(n)) => n,
        Ok(RespValue::Error(e)) => return src_err(&String::from_utf8_lossy(&e)),
        _ => return false,
    };
    log::warn(&format!("*** Importing {size} keys from DB 0\n"));
    // slot -> the first master listed as its owner
    let mut owner: Vec<Option<usize>> = vec![None; SLOTS];
    for (slot, o) in owner.iter_mut().enumerate() {
        *o = m
            .nodes
            .iter()
            .position(|n| !n.is_slave() && n.slots_count != 0 && n.slots[slot]);
    }
    let mut extra: Vec<Vec<u8>> = Vec::new();
    if let Some(pass) = &m.cfg.auth {
        match &m.cfg.user {
            Some(u) => extra.extend([b"AUTH2".to_vec(), u.clone(), pass.clone()]),
            None => extra.extend([b"AUTH".to_vec(), pass.clone()]),
        }
    }
    if m.cfg.cluster.copy {
        extra.push(b"COPY".to_vec());
    }
    if m.cfg.cluster.replace {
        extra.push(b"REPLACE".to_vec());
    }
    let timeout = m.cfg.cluster.timeout.to_string();
    let _bar = crate::progress::start(size.max(0) as u64, crate::progress::Unit::Keys);
    let mut cursor = "0".to_string();
    loop {
        let (next, keys) = match src.command(&["SCAN", cursor.as_str(), "COUNT", "1000"]) {
            Ok(RespValue::Array(mut parts)) if parts.len() >= 2 => {
                let keys = match parts.pop() {
                    Some(RespValue::Array(k)) => k,
                    _ => Vec::new(),
                };
                let next = match &parts[0] {
                    RespValue::Integer(n) => n.to_string(),
                    v => String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned(),
                };
                (next, keys)
            }
            Ok(RespValue::Error(e)) => return src_err(&String::from_utf8_lossy(&e)),
            _ => return false,
        };
        for k in keys {
            let Some(key) = k.as_bytes() else { continue };
            let slot = redis_formats::slot::key_hash_slot(key) as usize;
            let Some(t) = owner[slot] else {
                log::err(&format!("[ERR] Slot {slot} has no owner in the cluster\n"));
                return false;
            };
            let (tip, tport) = (m.nodes[t].ip.clone(), m.nodes[t].port);
            log::out(&format!(
                "Migrating {} to {tip}:{tport}: ",
                String::from_utf8_lossy(key)
            ));
            let mut args: Vec<Vec<u8>> = vec![
                b"MIGRATE".to_vec(),
                tip.into_bytes(),
                tport.to_string().into_bytes(),
                key.to_vec(),
                b"0".to_vec(),
                timeout.clone().into_bytes(),
            ];
            args.extend(extra.iter().cloned());
            match src.command(&args) {
                Ok(RespValue::Error(e)) => return src_err(&String::from_utf8_lossy(&e)),
                Err(_) => return false,
                Ok(_) => {
                    crate::progress::keys_moved(1);
                    log::ok("OK\n")
                }
            }
        }
        if redis_cli_core::opts::atoi(next.as_bytes()) == 0 {
            break;
        }
        cursor = next;
    }
    true
}
