//! `--cluster rebalance`: weights, balances, and slot moves from the most
//! loaded masters to the least (Redis's algorithm and output).

use crate::cluster::Manager;
use crate::log;
use crate::node::{Node, SLOTS};
use crate::reshard::{move_slot, reshard_table, OPT_QUIET, OPT_UPDATE};

/// The first node whose id starts with `name` (case-folded).
fn node_by_abbreviated_name(m: &Manager, name: &str) -> Option<usize> {
    let lc = name.to_ascii_lowercase();
    m.nodes
        .iter()
        .position(|n| n.name.as_deref().is_some_and(|id| id.starts_with(&lc)))
}

/// `--cluster rebalance host:port`
pub fn rebalance(m: &mut Manager, host: (String, i64)) -> bool {
    if !m.load_from_node(Node::new(&host.0, host.1, 0)) {
        return false;
    }
    let mut weights = vec![1.0f32; m.nodes.len()];
    for w in &m.cfg.cluster.weight {
        let w = String::from_utf8_lossy(w).into_owned();
        let Some((name, val)) = w.split_once('=') else {
            log::err(&format!("*** invalid input {w}\n"));
            return false;
        };
        let Some(i) = node_by_abbreviated_name(m, name) else {
            log::err(&format!("*** No such master node {name}\n"));
            return false;
        };
        weights[i] = redis_cli_core::opts::atof(val.as_bytes()) as f32;
    }
    let use_empty = m.cfg.cluster.empty_masters;
    let mut total_weight = 0.0f32;
    let mut involved = Vec::new();
    for (i, n) in m.nodes.iter().enumerate() {
        if n.is_slave() || n.replicate.is_some() {
            continue;
        }
        if !use_empty && n.slots_count == 0 {
            weights[i] = 0.0;
            continue;
        }
        total_weight += weights[i];
        involved.push(i);
    }
    m.check_cluster(true);
    if !m.errors.is_empty() {
        log::err("*** Please fix your cluster problems before rebalancing\n");
        return false;
    }
    let threshold = m.cfg.cluster.threshold as f32;
    let mut balance = vec![0i64; m.nodes.len()];
    let mut threshold_reached = false;
    let mut total_balance = 0i64;
    for &i in &involved {
        let n = &m.nodes[i];
        let expected = ((SLOTS as f32 / total_weight) * weights[i]) as i64;
        balance[i] = n.slots_count - expected;
        total_balance += balance[i];
        let over = if threshold > 0.0 {
            if n.slots_count > 0 {
                let err_perc = (100.0 - (100.0 * expected as f64 / n.slots_count as f64)).abs();
                err_perc > threshold as f64
            } else {
                expected > 1
            }
        } else {
            false
        };
        threshold_reached |= over;
    }
    if !threshold_reached {
        log::warn(&format!(
            "*** No rebalancing needed! All nodes are within the {:.2}% threshold.\n",
            m.cfg.cluster.threshold
        ));
        return true;
    }
    // Rounding can leave the balances summing above zero: givers must be
    // matched by receivers.
    while total_balance > 0 {
        for &i in &involved {
            if balance[i] <= 0 && total_balance > 0 {
                balance[i] -= 1;
                total_balance -= 1;
            }
        }
    }
    let mut sorted = involved.clone();
    sorted.sort_by_key(|&i| balance[i]);
    log::info(&format!(
        ">>> Rebalancing across {} nodes. Total weight = {:.2}\n",
        involved.len(),
        total_weight
    ));
    if m.cfg.verbose {
        for &i in &sorted {
            let n = &m.nodes[i];
            log::out(&format!(
                "{}:{} balance is {} slots\n",
                n.ip, n.port, balance[i]
            ));
        }
    }
    let simulate = m.cfg.cluster.simulate;
    // Every slot given away is received once: the bar counts the givers' surplus.
    let to_move: i64 = sorted.iter().map(|&i| balance[i].max(0)).sum();
    let _bar = if simulate {
        None
    } else {
        Some(crate::progress::start(
            to_move as u64,
            crate::progress::Unit::Slots,
        ))
    };
    let (mut dst_idx, mut src_idx) = (0usize, sorted.len().saturating_sub(1));
    while dst_idx < src_idx {
        let (dst, src) = (sorted[dst_idx], sorted[src_idx]);
        let numslots = balance[dst].abs().min(balance[src].abs());
        if numslots > 0 {
            log::out(&format!(
                "Moving {numslots} slots from {}:{} to {}:{}\n",
                m.nodes[src].ip, m.nodes[src].port, m.nodes[dst].ip, m.nodes[dst].port
            ));
            let table = reshard_table(m, &[src], numslots as usize);
            if table.len() != numslots as usize {
                log::err("*** Assertion failed: Reshard table != number of slots");
                return false;
            }
            if simulate {
                log::out(&"#".repeat(table.len()));
            } else {
                for (s, slot) in table {
                    if let Err(e) = move_slot(m, s, dst, slot, OPT_QUIET | OPT_UPDATE) {
                        crate::progress::finish();
                        log::err(&format!(
                            "*** clusterManagerMoveSlot: {}\n",
                            e.unwrap_or_default()
                        ));
                        return false;
                    }
                    crate::progress::slot_done();
                    log::out("#");
                }
            }
            log::out("\n");
        }
        balance[dst] += numslots;
        balance[src] -= numslots;
        if balance[dst] == 0 {
            dst_idx += 1;
        }
        if balance[src] == 0 {
            src_idx -= 1;
        }
    }
    true
}
