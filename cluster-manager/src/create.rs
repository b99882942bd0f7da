//! `--cluster create`: Redis's slot allocation, replica placement with the
//! anti-affinity optimizer, then ADDSLOTS / set-config-epoch / MEET /
//! REPLICATE and the final check.

use crate::cluster::Manager;
use crate::log;
use crate::node::{parse_address, Node, SLOTS};
use redis_formats::RespValue;
use std::io::{Read, Write};
use std::net::ToSocketAddrs;
use std::time::Duration;

/// Redis's `confirmWithYes`: true with --cluster-yes, else asks on stdout and
/// reads up to 4 bytes of stdin, which must start with "yes".
pub fn confirm(yes: bool, msg: &str) -> bool {
    if yes {
        return true;
    }
    log::out(&format!("{msg} (type 'yes' to accept): "));
    let mut buf = [0u8; 4];
    let n = std::io::stdin().lock().read(&mut buf).unwrap_or(0);
    // Redis compares the first three of the (up to) four bytes read with a
    // NUL at index 3, so "yes\n" and "yes" are both accepted.
    n != 0 && n >= 3 && &buf[..3] == b"yes"
}

/// The anti-affinity score of the planned layout: 10000 for each replica on
/// its master's host, 1 for each replica sharing a host with a sibling.
/// With `offending`, one offending replica per bad group is listed.
fn anti_affinity_score(
    nodes: &[Node],
    ip_groups: &[Vec<usize>],
    mut offending: Option<&mut Vec<usize>>,
) -> i64 {
    let mut score = 0;
    for group in ip_groups {
        let Some(&first) = group.first() else {
            continue;
        };
        let ip = &nodes[first].ip;
        // master id -> role letters, the master's 'm' first.
        let mut related: Vec<(String, String)> = Vec::new();
        for &i in group {
            let n = &nodes[i];
            let key = n.replicate.clone().unwrap_or_else(|| n.id().to_string());
            let pos = match related.iter().position(|(k, _)| *k == key) {
                Some(p) => p,
                None => {
                    related.push((key, String::new()));
                    related.len() - 1
                }
            };
            if n.replicate.is_some() {
                related[pos].1.push('s');
            } else {
                related[pos].1.insert(0, 'm');
            }
        }
        for (name, types) in &related {
            if types.len() < 2 {
                continue;
            }
            if types.starts_with('m') {
                score += 10000 * (types.len() as i64 - 1);
            } else {
                score += types.len() as i64;
            }
            if let Some(off) = offending.as_deref_mut() {
                if let Some(j) = nodes
                    .iter()
                    .position(|n| n.replicate.as_deref() == Some(name) && &n.ip == ip)
                {
                    off.push(j);
                }
            }
        }
    }
    score
}

/// Redis's `clusterManagerOptimizeAntiAffinity`: random swaps of replicas'
/// masters that do not make the score worse.
fn optimize_anti_affinity(nodes: &mut [Node], ip_groups: &[Vec<usize>]) {
    if anti_affinity_score(nodes, ip_groups, None) == 0 {
        return;
    }
    log::info(">>> Trying to optimize slaves allocation for anti-affinity\n");
    let mut maxiter = 500 * nodes.len();
    while maxiter > 0 {
        let mut offenders = Vec::new();
        let score = anti_affinity_score(nodes, ip_groups, Some(&mut offenders));
        if score == 0 || offenders.is_empty() {
            break;
        }
        let first = offenders[fastrand::usize(..offenders.len())];
        let others: Vec<usize> = (0..nodes.len())
            .filter(|&i| i != first && nodes[i].replicate.is_some())
            .collect();
        if others.is_empty() {
            break;
        }
        let second = others[fastrand::usize(..others.len())];
        let (fm, sm) = (
            nodes[first].replicate.take(),
            nodes[second].replicate.take(),
        );
        nodes[first].replicate = sm.clone();
        nodes[first].dirty = true;
        nodes[second].replicate = fm.clone();
        nodes[second].dirty = true;
        if anti_affinity_score(nodes, ip_groups, None) > score {
            nodes[first].replicate = fm;
            nodes[second].replicate = sm;
        }
        maxiter -= 1;
    }
    let score = anti_affinity_score(nodes, ip_groups, None);
    if score == 0 {
        log::ok("[OK] Perfect anti-affinity obtained!\n");
    } else if score >= 10000 {
        log::warn("[WARNING] Some slaves are in the same host as their master\n");
    } else {
        log::warn("[WARNING] Some slaves of the same master are in the same host\n");
    }
}

/// Sends a node's planned config: REPLICATE for replicas, ADDSLOTS for
/// masters. A replica that failed stays dirty so it can be retried after the
/// join; a master is marked clean either way, as in Redis.
fn flush_node_config(n: &mut Node) -> Result<bool, Option<String>> {
    if !n.dirty {
        return Ok(false);
    }
    if let Some(m) = n.replicate.clone() {
        match n.command(&["CLUSTER", "REPLICATE", m.as_str()]) {
            None => return Err(None),
            Some(RespValue::Error(e)) => {
                return Err(Some(String::from_utf8_lossy(&e).into_owned()))
            }
            Some(_) => {}
        }
    } else {
        let mut args: Vec<String> = vec!["CLUSTER".into(), "ADDSLOTS".into()];
        args.extend((0..SLOTS).filter(|&s| n.slots[s]).map(|s| s.to_string()));
        if args.len() == 2 {
            n.dirty = false;
            return Err(None);
        }
        match n.command(&args) {
            None => {
                n.dirty = false;
                return Err(None);
            }
            Some(RespValue::Error(e)) => {
                n.dirty = false;
                return Err(Some(String::from_utf8_lossy(&e).into_owned()));
            }
            Some(_) => {}
        }
    }
    n.dirty = false;
    Ok(true)
}

/// The first IPv4 (else any) address of `host`, as text for CLUSTER MEET.
fn resolve_ip(host: &str) -> Option<String> {
    let addrs: Vec<_> = (host, 0u16).to_socket_addrs().ok()?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .map(|a| a.ip().to_string())
}

/// `--cluster create host1:port1 ... hostN:portN`
pub fn create(m: &mut Manager, argv: &[String]) -> bool {
    for addr in argv {
        let Some((ip, port, _)) = parse_address(addr) else {
            eprintln!("Invalid address format: {addr}");
            return false;
        };
        let mut node = Node::new(&ip, port, 0);
        if !node.connect(m.cfg) {
            return false;
        }
        if !node.load_cluster_node(false) {
            return false;
        }
        if !node.check_empty() {
            return false;
        }
        m.nodes.push(node);
    }
    let node_len = m.nodes.len();
    let replicas = m.cfg.cluster.replicas;
    let masters_count = node_len as i64 / (replicas + 1);
    if masters_count < 3 {
        log::err(&format!(
            "*** ERROR: Invalid configuration for cluster creation.\n\
             *** Redis Cluster requires at least 3 master nodes.\n\
             *** This is not possible with {node_len} nodes and {replicas} replicas per node."
        ));
        log::err(&format!(
            "\n*** At least {} nodes are required.\n",
            3 * (replicas + 1)
        ));
        return false;
    }
    let masters_count = masters_count as usize;
    log::info(&format!(
        ">>> Performing hash slots allocation on {node_len} nodes...\n"
    ));
    // Group by host, then interleave the hosts so masters spread over them.
    let mut ips: Vec<String> = Vec::new();
    let mut ip_groups: Vec<Vec<usize>> = Vec::new();
    for (i, n) in m.nodes.iter().enumerate() {
        match ips.iter().position(|ip| *ip == n.ip) {
            Some(p) => ip_groups[p].push(i),
            None => {
                ips.push(n.ip.clone());
                ip_groups.push(vec![i]);
            }
        }
    }
    let mut interleaved: Vec<usize> = Vec::with_capacity(node_len);
    let mut cursors = vec![0usize; ip_groups.len()];
    while interleaved.len() < node_len {
        for (g, group) in ip_groups.iter().enumerate() {
            if cursors[g] < group.len() {
                interleaved.push(group[cursors[g]]);
                cursors[g] += 1;
            }
        }
    }
    let masters: Vec<usize> = interleaved[..masters_count].to_vec();
    let mut rest: Vec<Option<usize>> = interleaved[masters_count..]
        .iter()
        .map(|&i| Some(i))
        .collect();
    // Slot ranges: Redis steps a float cursor and rounds each range end.
    let per_node = SLOTS as f32 / masters_count as f32;
    let mut first: i64 = 0;
    let mut cursor: f32 = 0.0;
    for (k, &mi) in masters.iter().enumerate() {
        let mut last = (cursor + per_node - 1.0).round() as i64;
        if last > SLOTS as i64 || k == masters_count - 1 {
            last = SLOTS as i64 - 1;
        }
        if last < first {
            last = first;
        }
        log::out(&format!("Master[{k}] -> Slots {first} - {last}\n"));
        let n = &mut m.nodes[mi];
        n.slots_count = 0;
        for s in first..=last {
            n.slots[s as usize] = true;
            n.slots_count += 1;
        }
        n.dirty = true;
        first = last + 1;
        cursor += per_node;
    }
    // Rotating the list sometimes gives a better start for the optimizer.
    if !rest.is_empty() {
        rest.rotate_left(1);
    }
    let mut start = 0usize;
    let mut available = rest.len();
    let mut assign_unused = false;
    loop {
        for &mi in &masters {
            let mut assigned = 0;
            while assigned < replicas {
                if available == 0 {
                    break;
                }
                let master_ip = m.nodes[mi].ip.clone();
                let mut found = None;
                let mut first_same = None;
                for (j, slot) in rest.iter_mut().enumerate().skip(start) {
                    let Some(ni) = *slot else { continue };
                    if m.nodes[ni].ip != master_ip {
                        found = Some(ni);
                        *slot = None;
                        break;
                    }
                    if first_same.is_none() {
                        first_same = Some(j);
                    }
                }
                let slave = match (found, first_same) {
                    (Some(ni), _) => ni,
                    (None, Some(j)) => {
                        start = j + 1;
                        rest[j].expect("non-empty slot")
                    }
                    (None, None) => break,
                };
                assigned += 1;
                available -= 1;
                let master_name = m.nodes[mi].name.clone();
                m.nodes[slave].replicate = master_name;
                m.nodes[slave].dirty = true;
                let (s, ma) = (&m.nodes[slave], &m.nodes[mi]);
                log::out(&format!(
                    "Adding replica {}:{} to {}:{}\n",
                    s.ip, s.port, ma.ip, ma.port
                ));
                if assign_unused {
                    break;
                }
            }
        }
        if !assign_unused && available > 0 {
            assign_unused = true;
            log::out("Adding extra replicas...\n");
            continue;
        }
        break;
    }
    optimize_anti_affinity(&mut m.nodes, &ip_groups);
    m.show_nodes();
    if !confirm(m.cfg.cluster.yes, "Can I set the above configuration?") {
        return true;
    }
    // Redis clears a master's dirty flag even when ADDSLOTS fails and keeps a
    // failed replica dirty for the retry after the join, so neither stops
    // the creation here.
    for n in m.nodes.iter_mut() {
        let _ = flush_node_config(n);
    }
    log::info(">>> Nodes configuration updated\n");
    log::info(">>> Assign a different config epoch to each node\n");
    for (k, n) in m.nodes.iter_mut().enumerate() {
        let _ = n.command(&["CLUSTER", "SET-CONFIG-EPOCH", &(k + 1).to_string()]);
    }
    log::info(">>> Sending CLUSTER MEET messages to join the cluster\n");
    let (first_host, first_port, first_bus) = {
        let f = &m.nodes[0];
        (f.ip.clone(), f.port, f.bus_port)
    };
    let Some(first_ip) = resolve_ip(&first_host) else {
        eprintln!("Invalid IP address or hostname specified: {first_host}");
        return false;
    };
    for n in m.nodes.iter_mut().skip(1) {
        let port = first_port.to_string();
        let bus = first_bus.to_string();
        let r = if first_bus == 0 || first_bus == first_port + crate::node::PORT_INCR {
            n.command(&["CLUSTER", "MEET", first_ip.as_str(), port.as_str()])
        } else {
            n.command(&[
                "CLUSTER",
                "MEET",
                first_ip.as_str(),
                port.as_str(),
                bus.as_str(),
            ])
        };
        match r {
            Some(RespValue::Error(e)) => {
                n.print_reply_error(&String::from_utf8_lossy(&e));
                return false;
            }
            None => {
                eprintln!("Failed to send CLUSTER MEET command.");
                return false;
            }
            Some(_) => {}
        }
    }
    // Give the join a second to start, so the wait does not see all nodes
    // agreeing while they are still empty.
    std::thread::sleep(Duration::from_secs(1));
    m.wait_for_join();
    // Replicas that could not REPLICATE before the join try again (errors
    // are not fatal, as in Redis: only dirty replicas are left).
    for n in m.nodes.iter_mut() {
        if n.dirty {
            let _ = flush_node_config(n);
        }
    }
    // Reload everything from the first node and check.
    let mut first = m.nodes.remove(0);
    m.nodes.clear();
    first.flags = 0;
    first.flags_str.clear();
    first.friends.clear();
    first.replicate = None;
    first.migrating.clear();
    first.importing.clear();
    if !m.load_from_node(first) {
        return false;
    }
    m.check_cluster(false);
    let _ = std::io::stdout().flush();
    true
}
