//! The manager's view of a whole cluster: loading it from one node, the check
//! report, `info`, and waiting for a new cluster to agree on its config.

use crate::log;
use crate::node::{
    parse_address, reply_text, Node, FLAG_DISCONNECT, FLAG_FAIL, FLAG_NOADDR, SLOTS,
};
use redis_cli_core::opts::Config;
use redis_formats::RespValue;
use std::time::Duration;

/// How many one-second waits before the join wait reports unreachable links.
const JOIN_CHECK_AFTER: usize = 20;

/// The cluster being managed (Redis's `cluster_manager`).
pub struct Manager<'a> {
    pub cfg: &'a Config,
    pub nodes: Vec<Node>,
    /// Problems found by the check, in order.
    pub errors: Vec<String>,
    pub unreachable_masters: usize,
    /// `fix`: the check repairs what it finds.
    pub fix: bool,
    /// What the last check found (for `--json`).
    pub report: Report,
}

/// The findings of the last check and info, for `--json`.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub agree: bool,
    pub open_slots: Vec<String>,
    pub covered_slots: usize,
    /// (node index, DBSIZE) of each master listed by info.
    pub keys: Vec<(usize, i64)>,
}

impl<'a> Manager<'a> {
    /// An empty manager.
    pub fn new(cfg: &'a Config) -> Self {
        Manager {
            cfg,
            nodes: Vec::new(),
            errors: Vec::new(),
            unreachable_masters: 0,
            fix: false,
            report: Report::default(),
        }
    }

    /// Index of the node with this exact id.
    pub fn node_by_name(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| {
            n.name
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(name))
        })
    }

    /// Redis's `clusterManagerLoadInfoFromNode`: connects to `node`, reads
    /// the cluster from it and connects to every other node it knows.
    pub fn load_from_node(&mut self, mut node: Node) -> bool {
        if node.conn.is_none() && !node.connect(self.cfg) {
            return false;
        }
        if !node.load_cluster_node(true) {
            return false;
        }
        let friends = std::mem::take(&mut node.friends);
        self.nodes.clear();
        self.nodes.push(node);
        for mut f in friends {
            let mut valid = !f.ip.is_empty() && f.port != 0;
            if valid && f.conn.is_none() && !f.connect(self.cfg) {
                valid = false;
            }
            if valid {
                if f.load_info(false).is_ok() {
                    if f.flags & (FLAG_NOADDR | FLAG_DISCONNECT | FLAG_FAIL) != 0 {
                        valid = false;
                    }
                } else {
                    log::err(&format!(
                        "[ERR] Unable to load info for node {}:{}\n",
                        f.ip, f.port
                    ));
                    valid = false;
                }
            }
            if valid {
                self.nodes.push(f);
            } else if !f.is_slave() {
                self.unreachable_masters += 1;
            }
        }
        // Count the replicas of each master.
        for i in 0..self.nodes.len() {
            if let Some(m) = self.nodes[i].replicate.clone() {
                match self.node_by_name(&m) {
                    Some(j) => self.nodes[j].replicas_count += 1,
                    None => {
                        let n = &self.nodes[i];
                        log::warn(&format!(
                            "*** WARNING: {}:{} claims to be slave of unknown node ID {}.\n",
                            n.ip, n.port, m
                        ));
                    }
                }
            }
        }
        true
    }

    /// Prints every node's `M:`/`S:` lines.
    pub fn show_nodes(&self) {
        for n in &self.nodes {
            log::out(&format!("{}\n", n.info_text(0)));
        }
    }

    /// Redis's `clusterManagerShowClusterInfo` (the `info` report).
    pub fn show_cluster_info(&mut self) {
        let mut masters = 0;
        let mut keys: i64 = 0;
        for i in 0..self.nodes.len() {
            if self.nodes[i].is_slave() || self.nodes[i].name.is_none() {
                continue;
            }
            let name = self.nodes[i].id().to_string();
            let replicas = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(j, n)| {
                    *j != i && n.is_slave() && n.replicate.as_deref() == Some(name.as_str())
                })
                .count();
            let node = &mut self.nodes[i];
            let dbsize = match node.command(&["DBSIZE"]) {
                Some(RespValue::Integer(n)) if n >= 0 => n,
                other => {
                    let e = match &other {
                        Some(RespValue::Error(e)) => String::from_utf8_lossy(e).into_owned(),
                        _ => String::new(),
                    };
                    node.print_reply_error(&e);
                    return;
                }
            };
            let short: String = name.chars().take(8).collect();
            log::out(&format!(
                "{}:{} ({}...) -> {} keys | {} slots | {} slaves.\n",
                node.ip, node.port, short, dbsize, node.slots_count, replicas
            ));
            masters += 1;
            keys += dbsize;
            self.report.keys.push((i, dbsize));
        }
        log::ok(&format!("[OK] {keys} keys in {masters} masters.\n"));
        let per_slot = keys as f32 / SLOTS as f32;
        log::out(&format!("{per_slot:.2} keys per slot on average.\n"));
    }

    fn on_error(&mut self, e: String) {
        log::err(&format!("{e}\n"));
        self.errors.push(e);
    }

    /// Redis's `clusterManagerCheckCluster` (without the fix steps).
    pub fn check_cluster(&mut self, quiet: bool) -> bool {
        let Some(first) = self.nodes.first() else {
            return false;
        };
        log::info(&format!(
            ">>> Performing Cluster Check (using node {}:{})\n",
            first.ip, first.port
        ));
        let mut result = true;
        if !quiet {
            self.show_nodes();
        }
        self.report.agree = self.is_config_consistent();
        if !self.report.agree {
            self.on_error("[ERR] Nodes don't agree about configuration!".into());
            result = false;
        } else {
            log::ok("[OK] All nodes agree about slots configuration.\n");
        }
        log::info(">>> Check for open slots...\n");
        // Open slots in first-seen order; a later owner of a slot replaces
        // the earlier one as Redis's dictReplace does.
        let mut open: Vec<String> = Vec::new();
        let mut warnings = Vec::new();
        for n in &self.nodes {
            if !n.migrating.is_empty() {
                let list: Vec<&str> = n.migrating.iter().map(|(s, _)| s.as_str()).collect();
                warnings.push(format!(
                    "[WARNING] Node {}:{} has slots in migrating state {}.",
                    n.ip,
                    n.port,
                    list.join(",")
                ));
                for s in list {
                    if !open.iter().any(|o| o == s) {
                        open.push(s.to_string());
                    }
                }
            }
            if !n.importing.is_empty() {
                let list: Vec<&str> = n.importing.iter().map(|(s, _)| s.as_str()).collect();
                warnings.push(format!(
                    "[WARNING] Node {}:{} has slots in importing state {}.",
                    n.ip,
                    n.port,
                    list.join(",")
                ));
                for s in list {
                    if !open.iter().any(|o| o == s) {
                        open.push(s.to_string());
                    }
                }
            }
        }
        for w in warnings {
            self.on_error(w);
        }
        if !open.is_empty() {
            result = false;
            log::err(&format!(
                "[WARNING] The following slots are open: {}.\n",
                open.join(",")
            ));
            if self.fix {
                let _bar = crate::progress::start(open.len() as u64, crate::progress::Unit::Slots);
                for slot in &open {
                    let slot = redis_cli_core::opts::atoi(slot.as_bytes()).max(0) as usize;
                    result = crate::fix::fix_open_slot(self, slot);
                    if !result {
                        break;
                    }
                    crate::progress::slot_done();
                }
            }
        }
        log::info(">>> Check slots coverage...\n");
        let mut covered = vec![false; SLOTS];
        for n in &self.nodes {
            for (s, c) in covered.iter_mut().enumerate() {
                if n.slots[s] {
                    *c = true;
                }
            }
        }
        self.report.open_slots = open.clone();
        let coverage = covered.iter().filter(|c| **c).count();
        self.report.covered_slots = coverage;
        if coverage == SLOTS {
            log::ok(&format!("[OK] All {SLOTS} slots covered.\n"));
        } else {
            self.on_error(format!(
                "[ERR] Not all {SLOTS} slots are covered by nodes.\n"
            ));
            result = false;
            if self.fix && crate::fix::fix_slots_coverage(self, &covered) > 0 {
                result = true;
            }
        }
        if self.cfg.cluster.check_owners {
            log::info(">>> Check for multiple slot owners...\n");
            let mut multiple = 0;
            for slot in 0..SLOTS {
                let mut owners = Vec::new();
                for i in 0..self.nodes.len() {
                    if self.nodes[i].is_slave() {
                        continue;
                    }
                    if self.nodes[i].slots[slot] || self.count_keys_in_slot(i, slot) > 0 {
                        owners.push(i);
                    }
                }
                if owners.len() > 1 {
                    result = false;
                    log::err(&format!(
                        "[WARNING] Slot {slot} has {} owners:\n",
                        owners.len()
                    ));
                    for &i in &owners {
                        let n = &self.nodes[i];
                        log::err(&format!("    {}:{}\n", n.ip, n.port));
                    }
                    multiple += 1;
                    if self.fix {
                        result = crate::fix::fix_multiple_slot_owners(self, slot, &owners);
                        if !result {
                            log::err(&format!("Failed to fix multiple owners for slot {slot}\n"));
                            break;
                        }
                        multiple -= 1;
                    }
                }
            }
            if multiple == 0 {
                log::ok("[OK] No multiple owners found.\n");
            }
        }
        result
    }

    /// `CLUSTER COUNTKEYSINSLOT` on node `i` (-1 on error).
    fn count_keys_in_slot(&mut self, i: usize, slot: usize) -> i64 {
        match self.nodes[i].command(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]) {
            Some(RespValue::Integer(n)) => n,
            _ => -1,
        }
    }

    /// Do all nodes report the same slot owners?
    pub fn is_config_consistent(&mut self) -> bool {
        if self.nodes.len() <= 1 {
            return true;
        }
        let mut first: Option<String> = None;
        for n in &mut self.nodes {
            let Some(sig) = config_signature(n) else {
                return false;
            };
            match &first {
                None => first = Some(sig),
                Some(f) if *f != sig => return false,
                Some(_) => {}
            }
        }
        true
    }

    /// Redis's `clusterManagerWaitForClusterJoin`: a dot a second until the
    /// nodes agree, reporting unreachable bus ports now and then.
    pub fn wait_for_join(&mut self) {
        log::out("Waiting for the cluster to join\n");
        let check_after = JOIN_CHECK_AFTER + (self.nodes.len() as f32 * 0.15) as usize;
        let mut counter = 0;
        while !self.is_config_consistent() {
            log::out(".");
            std::thread::sleep(Duration::from_secs(1));
            counter += 1;
            if counter > check_after {
                let status = self.link_status();
                if !status.is_empty() {
                    log::out("\n");
                    log::err(&format!(
                        "Warning: {} node(s) may be unreachable\n",
                        status.len()
                    ));
                    for (addr, from) in status {
                        match parse_address(&addr) {
                            Some((ip, _, bus)) if bus != 0 => log::err(&format!(
                                " - The port {bus} of node {ip} may be unreachable from:\n"
                            )),
                            _ => log::err(&format!(" - Node {addr} may be unreachable from:\n")),
                        }
                        for f in from {
                            log::err(&format!("   {f}\n"));
                        }
                        log::err(
                            "Cluster bus ports must be reachable by every node.\n\
                             Remember that cluster bus ports are different from standard \
                             instance ports.\n",
                        );
                    }
                }
                counter = 0;
            }
        }
        log::out("\n");
    }

    /// Disconnected or handshaking links: address -> nodes that cannot reach it.
    fn link_status(&mut self) -> Vec<(String, Vec<String>)> {
        let mut status: Vec<(String, Vec<String>)> = Vec::new();
        for n in &mut self.nodes {
            let text = match n.command(&["CLUSTER", "NODES"]) {
                Some(RespValue::Error(_)) | None => continue,
                Some(v) => reply_text(&v),
            };
            let me = format!("{}:{}", n.ip, n.port);
            for line in text.lines() {
                let t: Vec<&str> = line.split(' ').collect();
                if t.len() < 8 || t[2].contains("myself") {
                    continue;
                }
                let bad = t[2].contains("disconnected")
                    || t[7].contains("disconnected")
                    || t[2].contains("handshake");
                if bad {
                    match status.iter_mut().find(|(a, _)| a == t[1]) {
                        Some((_, from)) => from.push(me.clone()),
                        None => status.push((t[1].to_string(), vec![me.clone()])),
                    }
                }
            }
        }
        status
    }
}

/// A node's view of slot ownership: `id:slots,...|id:slots` sorted, or
/// `None` when it cannot be read or no node owns slots.
pub fn config_signature(n: &mut Node) -> Option<String> {
    let text = match n.command(&["CLUSTER", "NODES"])? {
        RespValue::Error(_) => return None,
        v => reply_text(&v),
    };
    let mut configs = Vec::new();
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.pop();
    for line in lines {
        let t: Vec<&str> = line.splitn(9, ' ').collect();
        if t.len() < 9 {
            continue;
        }
        let mut slots: Vec<&str> = t[8]
            .split(' ')
            .filter(|s| !s.is_empty() && !s.starts_with('['))
            .collect();
        if slots.is_empty() {
            continue;
        }
        slots.sort_unstable();
        configs.push(format!("{}:{}", t[0], slots.join(",")));
    }
    if configs.is_empty() {
        return None;
    }
    configs.sort_unstable();
    Some(configs.join("|"))
}
