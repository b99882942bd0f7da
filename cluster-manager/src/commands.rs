//! `check`, `info`, `call`, `set-timeout`, `add-node`, `del-node`.

use crate::cluster::Manager;
use crate::log;
use crate::node::{parse_address, Node, PORT_INCR};
use redis_cli_core::opts::atoi32;
use redis_formats::RespValue;
use std::net::ToSocketAddrs;
use std::time::Duration;

const INVALID_HOST_ARG: &str = "[ERR] Invalid arguments: you need to pass either a valid \
address (ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)\n";

/// Redis's `getClusterHostFromCmdArgs`: `host:port` or `host port`.
pub(crate) fn host_from_args(argv: &[String]) -> Option<(String, i64)> {
    let (ip, port) = if argv.len() == 1 {
        let (ip, port, _) = parse_address(&argv[0])?;
        (ip, port)
    } else {
        (argv[0].clone(), atoi32(argv[1].as_bytes()))
    };
    if port == 0 {
        return None;
    }
    Some((ip, port))
}

/// Prints Redis's invalid host arguments error; returns false.
pub(crate) fn invalid_args() -> bool {
    eprint!("{INVALID_HOST_ARG}");
    false
}

/// `--cluster info host:port`
pub fn info(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ip, port)) = host_from_args(argv) else {
        return invalid_args();
    };
    if !m.load_from_node(Node::new(&ip, port, 0)) {
        return false;
    }
    m.show_cluster_info();
    true
}

/// `--cluster check host:port`
pub fn check(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ip, port)) = host_from_args(argv) else {
        return invalid_args();
    };
    if !m.load_from_node(Node::new(&ip, port, 0)) {
        return false;
    }
    m.show_cluster_info();
    m.check_cluster(false)
}

/// `--cluster call host:port command args...`
pub fn call(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ip, port)) = host_from_args(&argv[..1]) else {
        return invalid_args();
    };
    if !m.load_from_node(Node::new(&ip, port, 0)) {
        return false;
    }
    let cmd = &argv[1..];
    log::info(">>> Calling");
    let mut line = String::new();
    for a in cmd {
        line.push(' ');
        line.push_str(a);
    }
    line.push('\n');
    log::out(&line);
    let (only_masters, only_replicas) = (m.cfg.cluster.only_masters, m.cfg.cluster.only_replicas);
    let cfg = m.cfg;
    for n in m.nodes.iter_mut() {
        if only_masters && n.replicate.is_some() {
            continue;
        }
        if only_replicas && n.replicate.is_none() {
            continue;
        }
        if n.conn.is_none() && !n.connect(cfg) {
            continue;
        }
        match n.command(cmd) {
            None => log::out(&format!("{}:{}: Failed!\n", n.ip, n.port)),
            Some(v) => {
                let mut out = Vec::new();
                redis_cli_core::format::raw(&mut out, &v, &cfg.mb_delim);
                log::out(&format!(
                    "{}:{}: {}\n",
                    n.ip,
                    n.port,
                    String::from_utf8_lossy(&out)
                ));
            }
        }
    }
    true
}

/// `--cluster set-timeout host:port milliseconds`
pub fn set_timeout(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ip, port)) = host_from_args(&argv[..1]) else {
        return invalid_args();
    };
    let timeout = atoi32(argv[1].as_bytes());
    if timeout < 100 {
        eprintln!("Setting a node timeout of less than 100 milliseconds is a bad idea.");
        return false;
    }
    if !m.load_from_node(Node::new(&ip, port, 0)) {
        return false;
    }
    log::info(">>> Reconfiguring node timeout in every cluster node...\n");
    let (mut ok, mut errs) = (0, 0);
    let t = timeout.to_string();
    for n in m.nodes.iter_mut() {
        let mut fail = |n: &Node, e: Option<RespValue>| {
            let text = match e {
                Some(RespValue::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
                _ => String::new(),
            };
            log::err(&format!(
                "ERR setting node-timeout for {}:{}: {}\n",
                n.ip, n.port, text
            ));
            errs += 1;
        };
        match n.command(&["CONFIG", "SET", "cluster-node-timeout", t.as_str()]) {
            Some(RespValue::Error(e)) => {
                fail(n, Some(RespValue::Error(e)));
                continue;
            }
            None => {
                fail(n, None);
                continue;
            }
            Some(_) => {}
        }
        match n.command(&["CONFIG", "REWRITE"]) {
            Some(RespValue::Error(e)) => {
                fail(n, Some(RespValue::Error(e)));
                continue;
            }
            None => {
                fail(n, None);
                continue;
            }
            Some(_) => {}
        }
        log::warn(&format!("*** New timeout set for {}:{}\n", n.ip, n.port));
        ok += 1;
    }
    log::info(&format!(">>> New node timeout set. {ok} OK, {errs} ERR.\n"));
    true
}

/// The master with the fewest replicas (first one on ties).
fn node_with_least_replicas(m: &Manager) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, n) in m.nodes.iter().enumerate() {
        if n.is_slave() {
            continue;
        }
        if best.map_or(true, |b| n.replicas_count < m.nodes[b].replicas_count) {
            best = Some(i);
        }
    }
    best
}

/// `--cluster add-node new_host:new_port existing_host:existing_port`
pub fn add_node(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ref_ip, ref_port)) = host_from_args(&argv[1..]) else {
        return invalid_args();
    };
    let Some((ip, port)) = host_from_args(&argv[..1]) else {
        return invalid_args();
    };
    log::info(&format!(
        ">>> Adding node {ip}:{port} to cluster {ref_ip}:{ref_port}\n"
    ));
    if !m.load_from_node(Node::new(&ref_ip, ref_port, 0)) {
        return false;
    }
    if !m.check_cluster(false) {
        return false;
    }
    let mut master: Option<usize> = None;
    if m.cfg.cluster.slave {
        match &m.cfg.cluster.master_id {
            Some(id) => {
                let id = String::from_utf8_lossy(id).into_owned();
                match m.node_by_name(&id) {
                    Some(i) => master = Some(i),
                    None => {
                        log::err(&format!("[ERR] No such master ID {id}\n"));
                        return false;
                    }
                }
            }
            None => {
                let Some(i) = node_with_least_replicas(m) else {
                    log::err("[ERR] No master found in the cluster\n");
                    return false;
                };
                log::out(&format!(
                    "Automatically selected master {}:{}\n",
                    m.nodes[i].ip, m.nodes[i].port
                ));
                master = Some(i);
            }
        }
    }
    let mut new = Node::new(&ip, port, 0);
    if !new.connect(m.cfg) {
        log::err(&format!("[ERR] Sorry, can't connect to node {ip}:{port}\n"));
        return false;
    }
    if !new.load_cluster_node(false) {
        return false;
    }
    if !new.check_empty() {
        return false;
    }
    if master.is_none() {
        // Functions go to a new master; a replica gets them from its master.
        log::info(">>> Getting functions from cluster\n");
        match m.nodes[0].command(&["FUNCTION", "DUMP"]) {
            Some(RespValue::Bulk(dump)) => {
                log::info(&format!(
                    ">>> Send FUNCTION LIST to {ip}:{port} to verify there is no functions in it\n"
                ));
                match new.command(&["FUNCTION", "LIST"]) {
                    Some(RespValue::Array(items)) if !items.is_empty() => {
                        log::err(
                            ">>> New node already contains functions and can not be added to \
                             the cluster. Use FUNCTION FLUSH and try again.\r\n",
                        );
                        return false;
                    }
                    Some(RespValue::Array(_)) => {}
                    other => {
                        let e = match other {
                            Some(RespValue::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
                            _ => "NULL reply".into(),
                        };
                        log::err(&format!(">>> Failed on CLUSTER LIST (error = '{e}')\r\n"));
                        return false;
                    }
                }
                log::info(&format!(">>> Send FUNCTION RESTORE to {ip}:{port}\n"));
                let args: [&[u8]; 3] = [b"FUNCTION", b"RESTORE", &dump];
                match new.command(&args) {
                    Some(RespValue::Error(e)) => {
                        log::err(&format!(
                            ">>> Failed loading functions to the new node (error = '{}')\r\n",
                            String::from_utf8_lossy(&e)
                        ));
                        return false;
                    }
                    None => {
                        log::err(
                            ">>> Failed loading functions to the new node (error = 'NULL reply')\r\n",
                        );
                        return false;
                    }
                    Some(_) => {}
                }
            }
            other => {
                let e = match other {
                    Some(RespValue::Error(e)) => String::from_utf8_lossy(&e).into_owned(),
                    _ => "NULL reply".into(),
                };
                log::info(&format!(
                    ">>> Failed retrieving Functions from the cluster, skip this step as Redis \
                     version do not support function command (error = '{e}')\n"
                ));
            }
        }
    }
    log::info(&format!(
        ">>> Send CLUSTER MEET to node {ip}:{port} to make it join the cluster.\n"
    ));
    let (first_host, first_port, first_bus) = {
        let f = &m.nodes[0];
        (f.ip.clone(), f.port, f.bus_port)
    };
    let Some(first_ip) = (first_host.as_str(), 0u16)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .map(|a| a.ip().to_string())
    else {
        eprintln!("Invalid IP address or hostname specified: {first_host}");
        return false;
    };
    let (p, b) = (first_port.to_string(), first_bus.to_string());
    let r = if first_bus == 0 || first_bus == first_port + PORT_INCR {
        new.command(&["CLUSTER", "MEET", first_ip.as_str(), p.as_str()])
    } else {
        new.command(&["CLUSTER", "MEET", first_ip.as_str(), p.as_str(), b.as_str()])
    };
    if !new.check_reply(r.as_ref(), true) {
        return false;
    }
    m.nodes.push(new);
    let new_idx = m.nodes.len() - 1;
    if let Some(mi) = master {
        std::thread::sleep(Duration::from_secs(1));
        m.wait_for_join();
        let (mip, mport, mname) = {
            let mn = &m.nodes[mi];
            (mn.ip.clone(), mn.port, mn.id().to_string())
        };
        log::info(&format!(
            ">>> Configure node as replica of {mip}:{mport}.\n"
        ));
        let n = &mut m.nodes[new_idx];
        let r = n.command(&["CLUSTER", "REPLICATE", mname.as_str()]);
        if !n.check_reply(r.as_ref(), true) {
            return false;
        }
    }
    log::ok("[OK] New node added correctly.\n");
    true
}

/// `--cluster del-node host:port node_id`
pub fn del_node(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ip, port)) = host_from_args(&argv[..1]) else {
        return invalid_args();
    };
    let node_id = &argv[1];
    log::info(&format!(
        ">>> Removing node {node_id} from cluster {ip}:{port}\n"
    ));
    if !m.load_from_node(Node::new(&ip, port, 0)) {
        return false;
    }
    let Some(target) = m.node_by_name(node_id) else {
        log::err(&format!("[ERR] No such node ID {node_id}\n"));
        return false;
    };
    if m.nodes[target].slots_count != 0 {
        let n = &m.nodes[target];
        log::err(&format!(
            "[ERR] Node {}:{} is not empty! Reshard data away and try again.\n",
            n.ip, n.port
        ));
        return false;
    }
    log::info(">>> Sending CLUSTER FORGET messages to the cluster...\n");
    for i in 0..m.nodes.len() {
        if i == target {
            continue;
        }
        let is_replica_of_target = m.nodes[i]
            .replicate
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(node_id));
        if is_replica_of_target {
            let Some(mi) = node_with_least_replicas(m) else {
                log::err("[ERR] No master found in the cluster\n");
                return false;
            };
            let (mip, mport, mname) = {
                let mn = &m.nodes[mi];
                (mn.ip.clone(), mn.port, mn.id().to_string())
            };
            let n = &mut m.nodes[i];
            log::info(&format!(
                ">>> {}:{} as replica of {mip}:{mport}\n",
                n.ip, n.port
            ));
            let r = n.command(&["CLUSTER", "REPLICATE", mname.as_str()]);
            if !n.check_reply(r.as_ref(), true) {
                return false;
            }
        }
        let n = &mut m.nodes[i];
        let r = n.command(&["CLUSTER", "FORGET", node_id.as_str()]);
        if !n.check_reply(r.as_ref(), true) {
            return false;
        }
    }
    log::info(">>> Sending CLUSTER RESET SOFT to the deleted node.\n");
    let n = &mut m.nodes[target];
    let r = n.command(&["CLUSTER", "RESET", "SOFT"]);
    n.check_reply(r.as_ref(), true)
}

/// One node as Redis's `backup` writes it in nodes.json.
fn node_json(n: &Node, error_count: usize) -> String {
    let replicate = match &n.replicate {
        Some(r) => format!("\"{r}\""),
        None => "null".into(),
    };
    let slots = n.slots_string().replace('-', ",");
    let mut j = format!(
        "  {{\n    \"name\": \"{}\",\n    \"host\": \"{}\",\n    \"port\": {},\n    \
         \"replicate\": {},\n    \"slots\": [{}],\n    \"slots_count\": {},\n    \
         \"flags\": \"{}\",\n    \"current_epoch\": {}",
        n.id(),
        n.ip,
        n.port,
        replicate,
        slots,
        n.slots_count,
        n.flags_string(),
        n.current_epoch
    );
    if error_count > 0 {
        j.push_str(&format!(",\n    \"cluster_errors\": {error_count}"));
    }
    let pairs = |v: &[(String, String)]| {
        v.iter()
            .map(|(s, d)| format!("\"{s}\": \"{d}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    if !n.migrating.is_empty() {
        j.push_str(&format!(
            ",\n    \"migrating\": {{{}}}",
            pairs(&n.migrating)
        ));
    }
    if !n.importing.is_empty() {
        j.push_str(&format!(
            ",\n    \"importing\": {{{}}}",
            pairs(&n.importing)
        ));
    }
    j.push_str("\n  }");
    j
}

/// `--cluster backup host:port backup_directory`: every master's RDB
/// (`redis-node-<ip>-<port>-<id>.rdb`) and nodes.json.
pub fn backup(m: &mut Manager, argv: &[String]) -> bool {
    let Some((ip, port)) = host_from_args(&argv[..1]) else {
        return invalid_args();
    };
    if !m.load_from_node(Node::new(&ip, port, 0)) {
        return false;
    }
    let no_issues = m.check_cluster(false);
    let errors = if no_issues { 0 } else { m.errors.len() };
    let dir = &argv[1];
    let mut json = String::from("[\n");
    for (k, n) in m.nodes.iter_mut().enumerate() {
        if k > 0 {
            json.push_str(",\n");
        }
        json.push_str(&node_json(n, errors));
        if n.replicate.is_some() {
            continue;
        }
        log::info(&format!(">>> Node {}:{} -> Saving RDB...\n", n.ip, n.port));
        let mut file = dir.clone();
        if !file.ends_with('/') {
            file.push('/');
        }
        file.push_str(&format!("redis-node-{}-{}-{}.rdb", n.ip, n.port, n.id()));
        if let Some(c) = n.conn.take() {
            redis_cli_core::modes::rdb::sync_to_file(c, &file);
        }
    }
    json.push_str("\n]");
    let mut path = dir.clone();
    if !path.ends_with('/') {
        path.push('/');
    }
    path.push_str("nodes.json");
    log::info(&format!("Saving cluster configuration to: {path}\n"));
    if std::fs::write(&path, json).is_err() {
        log::err(&format!("Could not save nodes to: {path}\n"));
        log::ok("[ERR] Failed to back cluster!\n");
        return false;
    }
    if !no_issues {
        log::warn(
            "*** Cluster seems to have some problems, please be aware of it if you're going to \
             restore this backup.\n",
        );
    }
    log::ok(&format!("[OK] Backup created into: {dir}\n"));
    true
}
