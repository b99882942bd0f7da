//! `--cluster fix`: closing open slots (Redis's cases 1-4), covering
//! uncovered slots, and resolving slots with several owners.

use crate::cluster::Manager;
use crate::create::confirm;
use crate::log;
use crate::node::{slots_string, Node, SLOTS};
use crate::reshard::{move_slot, OPT_COLD, OPT_UPDATE, OPT_VERBOSE};
use redis_formats::RespValue;

fn count_keys(n: &mut Node, slot: usize) -> Result<i64, ()> {
    match n.command(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]) {
        Some(RespValue::Integer(c)) => Ok(c),
        Some(RespValue::Error(e)) => {
            n.print_reply_error(&String::from_utf8_lossy(&e));
            Err(())
        }
        _ => Err(()),
    }
}

/// `CLUSTER SETSLOT slot status id`, printing an error reply.
fn set_slot(n: &mut Node, slot: usize, status: &str, id: &str) -> Result<(), ()> {
    crate::reshard::set_slot(n, slot, status, id).map_err(|e| {
        if e != "CLUSTER SETSLOT failed to run" {
            n.print_reply_error(&e);
        }
    })
}

fn clear_slot_status(n: &mut Node, slot: usize) -> bool {
    let r = n.command(&["CLUSTER", "SETSLOT", &slot.to_string(), "STABLE"]);
    n.check_reply(r.as_ref(), true)
}

/// `CLUSTER DELSLOTS`, where "not assigned" errors are fine when nobody
/// owns the slot.
fn del_slot(n: &mut Node, slot: usize) -> bool {
    match n.command(&["CLUSTER", "DELSLOTS", &slot.to_string()]) {
        None => false,
        Some(RespValue::Error(e)) => {
            let e = String::from_utf8_lossy(&e).into_owned();
            // Redis asks CLUSTER SLOTS whether anybody owns the slot.
            let owned = match n.command(&["CLUSTER", "SLOTS"]) {
                Some(RespValue::Array(ranges)) => ranges.iter().any(|r| match r {
                    RespValue::Array(f) if f.len() >= 3 => {
                        let (a, b) = (&f[0], &f[1]);
                        matches!((a, b), (RespValue::Integer(a), RespValue::Integer(b))
                            if (*a..=*b).contains(&(slot as i64)))
                    }
                    _ => false,
                }),
                Some(RespValue::Error(se)) => {
                    n.print_reply_error(&String::from_utf8_lossy(&se));
                    true
                }
                _ => true,
            };
            if owned {
                n.print_reply_error(&e);
                false
            } else {
                true
            }
        }
        Some(_) => true,
    }
}

/// MULTI; DELSLOTS; ADDSLOTS; [SETSLOT STABLE]; BUMPEPOCH; EXEC. Only the
/// ADDSLOTS result counts.
fn set_slot_owner(n: &mut Node, slot: usize, clear: bool) -> bool {
    let s = slot.to_string();
    let r = n.command(&["MULTI"]);
    if !n.check_reply(r.as_ref(), true) {
        return false;
    }
    let _ = n.command(&["CLUSTER", "DELSLOTS", s.as_str()]);
    let _ = n.command(&["CLUSTER", "ADDSLOTS", s.as_str()]);
    if clear {
        let _ = n.command(&["CLUSTER", "SETSLOT", s.as_str(), "STABLE"]);
    }
    let _ = n.command(&["CLUSTER", "BUMPEPOCH"]);
    match n.command(&["EXEC"]) {
        Some(RespValue::Array(items)) => {
            for (i, r) in items.iter().enumerate() {
                if let RespValue::Error(e) = r {
                    if i == 1 {
                        n.print_reply_error(&String::from_utf8_lossy(e));
                        return false;
                    }
                }
            }
            true
        }
        r => {
            n.check_reply(r.as_ref(), true);
            false
        }
    }
}

/// Among `cands`, the master with most keys in `slot` (the first on ties).
fn node_with_most_keys(m: &mut Manager, cands: &[usize], slot: usize) -> Option<usize> {
    let mut best: Option<(usize, i64)> = None;
    for &i in cands {
        if m.nodes[i].is_slave() || m.nodes[i].replicate.is_some() {
            continue;
        }
        let c = count_keys(&mut m.nodes[i], slot).ok()?;
        let better = match best {
            None => true,
            Some((_, n)) => c > n,
        };
        if better {
            best = Some((i, c));
        }
    }
    best.map(|b| b.0)
}

fn unreachable_guard(m: &Manager, what: &str) {
    if m.unreachable_masters > 0 && !m.cfg.cluster.fix_with_unreachable_masters {
        log::warn(&format!(
            "*** Fixing {what} with {} unreachable masters is dangerous: redis-cli will assume \
             that slots about masters that are not reachable are not covered, and will try to \
             reassign them to the reachable nodes. This can cause data loss and is rarely what \
             you want to do. If you really want to proceed use the \
             --cluster-fix-with-unreachable-masters option.\n",
            m.unreachable_masters
        ));
        std::process::exit(1);
    }
}

/// Redis's `clusterManagerFixOpenSlot`.
pub fn fix_open_slot(m: &mut Manager, slot: usize) -> bool {
    unreachable_guard(m, "open slots");
    log::info(&format!(">>> Fixing open slot {slot}\n"));
    let mut owners = Vec::new();
    for i in 0..m.nodes.len() {
        if m.nodes[i].is_slave() {
            continue;
        }
        if m.nodes[i].slots[slot] {
            owners.push(i);
        } else {
            let Ok(c) = count_keys(&mut m.nodes[i], slot) else {
                return false;
            };
            if c > 0 {
                let n = &m.nodes[i];
                log::warn(&format!(
                    "*** Found keys about slot {slot} in non-owner node {}:{}!\n",
                    n.ip, n.port
                ));
                owners.push(i);
            }
        }
    }
    let mut owner = if owners.len() == 1 {
        Some(owners[0])
    } else {
        None
    };
    let slot_s = slot.to_string();
    let (mut migrating, mut importing) = (Vec::new(), Vec::new());
    let (mut mig_str, mut imp_str) = (String::new(), String::new());
    let addr = |n: &Node| format!("{}:{}", n.ip, n.port);
    for i in 0..m.nodes.len() {
        if m.nodes[i].is_slave() {
            continue;
        }
        let is_mig = m.nodes[i].migrating.iter().any(|(s, _)| atoi(s) == slot);
        let is_imp = !is_mig && m.nodes[i].importing.iter().any(|(s, _)| atoi(s) == slot);
        if is_mig {
            if !migrating.is_empty() {
                mig_str.push(',');
            }
            mig_str.push_str(&addr(&m.nodes[i]));
            migrating.push(i);
        } else if is_imp {
            if !importing.is_empty() {
                imp_str.push(',');
            }
            imp_str.push_str(&addr(&m.nodes[i]));
            importing.push(i);
        } else if Some(i) != owner {
            let Ok(c) = count_keys(&mut m.nodes[i], slot) else {
                return false;
            };
            if c > 0 {
                log::warn(&format!(
                    "*** Found keys about slot {slot} in node {}!\n",
                    addr(&m.nodes[i])
                ));
                if !importing.is_empty() {
                    imp_str.push(',');
                }
                imp_str.push_str(&addr(&m.nodes[i]));
                importing.push(i);
            }
        }
    }
    if !mig_str.is_empty() {
        log::out(&format!("Set as migrating in: {mig_str}\n"));
    }
    if !imp_str.is_empty() {
        log::out(&format!("Set as importing in: {imp_str}\n"));
    }
    if owner.is_none() {
        log::info(">>> No single clear owner for the slot, selecting an owner by # of keys...\n");
        let all: Vec<usize> = (0..m.nodes.len()).collect();
        let Some(o) = node_with_most_keys(m, &all, slot) else {
            log::err("[ERR] Can't select a slot owner. Impossible to fix.\n");
            return false;
        };
        log::warn(&format!(
            "*** Configuring {} as the slot owner\n",
            addr(&m.nodes[o])
        ));
        if !clear_slot_status(&mut m.nodes[o], slot)
            || !set_slot_owner(&mut m.nodes[o], slot, false)
        {
            return false;
        }
        m.nodes[o].slots[slot] = true;
        migrating.retain(|&x| x != o);
        importing.retain(|&x| x != o);
        owner = Some(o);
    }
    let owner = owner.expect("owner chosen above");
    if owners.len() > 1 {
        let owner_id = m.nodes[owner].id().to_string();
        for &n in &owners {
            if n == owner {
                continue;
            }
            if !del_slot(&mut m.nodes[n], slot) {
                return false;
            }
            m.nodes[n].slots[slot] = false;
            if set_slot(&mut m.nodes[n], slot, "node", &owner_id).is_err()
                || set_slot(&mut m.nodes[n], slot, "importing", &owner_id).is_err()
            {
                return false;
            }
            importing.retain(|&x| x != n);
            importing.push(n);
            migrating.retain(|&x| x != n);
        }
    }
    let unhandled = |m: &Manager, mig: &str, imp: &str| {
        let o = &m.nodes[owner];
        log::err(&format!(
            "[ERR] Sorry, redis-cli can't fix this slot yet (work in progress). Slot is set as \
             migrating in {mig}, as importing in {imp}, owner is {}:{}\n",
            o.ip, o.port
        ));
        false
    };
    if migrating.len() == 1 && importing.len() == 1 {
        let (src, dst) = (migrating[0], importing[0]);
        log::info(&format!(
            ">>> Case 1: Moving slot {slot} from {} to {}\n",
            addr(&m.nodes[src]),
            addr(&m.nodes[dst])
        ));
        return move_slot(m, src, dst, slot, OPT_VERBOSE | OPT_UPDATE).is_ok();
    }
    if migrating.is_empty() && !importing.is_empty() {
        log::info(&format!(
            ">>> Case 2: Moving all the {slot} slot keys to its owner {}\n",
            addr(&m.nodes[owner])
        ));
        for &n in &importing {
            if n == owner {
                continue;
            }
            if move_slot(m, n, owner, slot, OPT_VERBOSE | OPT_COLD).is_err() {
                return false;
            }
            log::info(&format!(
                ">>> Setting {slot} as STABLE in {}\n",
                addr(&m.nodes[n])
            ));
            if !clear_slot_status(&mut m.nodes[n], slot) {
                return false;
            }
        }
        let owner_id = m.nodes[owner].id().to_string();
        for i in 0..m.nodes.len() {
            if i == owner || m.nodes[i].is_slave() {
                continue;
            }
            if set_slot(&mut m.nodes[i], slot, "NODE", &owner_id).is_err() {
                return false;
            }
        }
        return true;
    }
    if migrating.len() == 1 && importing.len() > 1 {
        let src = migrating[0];
        let target_id = m.nodes[src]
            .migrating
            .iter()
            .find(|(s, _)| atoi(s) == slot)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        let mut dst = None;
        for &n in &importing {
            if count_keys(&mut m.nodes[n], slot).unwrap_or(-1) > 0 {
                return unhandled(m, &mig_str, &imp_str);
            }
            if m.nodes[n].id() == target_id {
                dst = Some(n);
            }
        }
        match dst {
            Some(d) => {
                log::info(&format!(
                    ">>> Case 3: Moving slot {slot} from {} to {} and closing it on all the \
                     other importing nodes.\n",
                    addr(&m.nodes[src]),
                    addr(&m.nodes[d])
                ));
                if move_slot(m, src, d, slot, OPT_VERBOSE).is_err() {
                    return false;
                }
                for &n in &importing {
                    if n != d && !clear_slot_status(&mut m.nodes[n], slot) {
                        return false;
                    }
                }
            }
            None => {
                log::info(&format!(
                    ">>> Case 3: Closing slot {slot} on both migrating and importing nodes.\n"
                ));
                if !clear_slot_status(&mut m.nodes[src], slot) {
                    return false;
                }
                for &n in &importing {
                    if !clear_slot_status(&mut m.nodes[n], slot) {
                        return false;
                    }
                }
            }
        }
        return true;
    }
    let mut try_close = importing.is_empty() && migrating.len() == 1;
    if try_close {
        let n = migrating[0];
        if owner != n {
            match m.nodes[n].command(&["CLUSTER", "GETKEYSINSLOT", slot_s.as_str(), "10"]) {
                Some(RespValue::Array(keys)) => try_close = keys.is_empty(),
                r => {
                    m.nodes[n].check_reply(r.as_ref(), true);
                    return false;
                }
            }
        }
    }
    if try_close {
        let n = migrating[0];
        log::info(&format!(
            ">>> Case 4: Closing slot {slot} on {}\n",
            addr(&m.nodes[n])
        ));
        return clear_slot_status(&mut m.nodes[n], slot);
    }
    unhandled(m, &mig_str, &imp_str)
}

fn atoi(s: &str) -> usize {
    redis_cli_core::opts::atoi(s.as_bytes()).max(0) as usize
}

/// Redis's `clusterManagerFixSlotsCoverage`: returns how many slots were
/// fixed, or -1 on error.
pub fn fix_slots_coverage(m: &mut Manager, covered: &[bool]) -> i64 {
    unreachable_guard(m, "slots coverage");
    log::info(">>> Fixing slots coverage...\n");
    let mut uncovered: Vec<(usize, Vec<usize>)> = Vec::new();
    for (slot, _) in covered.iter().enumerate().filter(|(_, c)| !**c) {
        let mut with_keys = Vec::new();
        for i in 0..m.nodes.len() {
            if m.nodes[i].is_slave() || m.nodes[i].replicate.is_some() {
                continue;
            }
            let n = &mut m.nodes[i];
            match n.command(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "1"]) {
                Some(RespValue::Array(k)) => {
                    if !k.is_empty() {
                        with_keys.push(i);
                    }
                }
                r => {
                    n.check_reply(r.as_ref(), true);
                    return -1;
                }
            }
        }
        uncovered.push((slot, with_keys));
    }
    let list = |sel: &[&(usize, Vec<usize>)]| {
        let mut v = vec![false; SLOTS];
        for (s, _) in sel {
            v[*s] = true;
        }
        slots_string(&v)
    };
    let none: Vec<&(usize, Vec<usize>)> = uncovered.iter().filter(|u| u.1.is_empty()).collect();
    let single: Vec<&(usize, Vec<usize>)> = uncovered.iter().filter(|u| u.1.len() == 1).collect();
    let multi: Vec<&(usize, Vec<usize>)> = uncovered.iter().filter(|u| u.1.len() > 1).collect();
    let mut fixed = 0;
    if !none.is_empty() {
        log::out(&format!(
            "The following uncovered slots have no keys across the cluster:\n{}\n",
            list(&none)
        ));
        // These always ask, even with --cluster-yes, as in Redis.
        if confirm(false, "Fix these slots by covering with a random node?") {
            let masters: Vec<usize> = (0..m.nodes.len())
                .filter(|&i| !m.nodes[i].is_slave())
                .collect();
            for (slot, _) in none {
                let n = masters[fastrand::usize(..masters.len())];
                log::info(&format!(
                    ">>> Covering slot {slot} with {}:{}\n",
                    m.nodes[n].ip, m.nodes[n].port
                ));
                if !set_slot_owner(&mut m.nodes[n], *slot, false) {
                    return -1;
                }
                m.nodes[n].slots[*slot] = true;
                fixed += 1;
            }
        }
    }
    if !single.is_empty() {
        log::out(&format!(
            "The following uncovered slots have keys in just one node:\n{}\n",
            list(&single)
        ));
        if confirm(false, "Fix these slots by covering with those nodes?") {
            for (slot, nodes) in single {
                let n = nodes[0];
                log::info(&format!(
                    ">>> Covering slot {slot} with {}:{}\n",
                    m.nodes[n].ip, m.nodes[n].port
                ));
                if !set_slot_owner(&mut m.nodes[n], *slot, false) {
                    return -1;
                }
                m.nodes[n].slots[*slot] = true;
                fixed += 1;
            }
        }
    }
    if !multi.is_empty() {
        log::out(&format!(
            "The following uncovered slots have keys in multiple nodes:\n{}\n",
            list(&multi)
        ));
        if confirm(false, "Fix these slots by moving keys into a single node?") {
            let _bar = crate::progress::start(multi.len() as u64, crate::progress::Unit::Slots);
            for (slot, nodes) in multi {
                let slot = *slot;
                let Some(target) = node_with_most_keys(m, nodes, slot) else {
                    return -1;
                };
                log::info(&format!(
                    ">>> Covering slot {slot} moving keys to {}:{}\n",
                    m.nodes[target].ip, m.nodes[target].port
                ));
                if !set_slot_owner(&mut m.nodes[target], slot, true) {
                    return -1;
                }
                m.nodes[target].slots[slot] = true;
                let tid = m.nodes[target].id().to_string();
                for &src in nodes {
                    if src == target {
                        continue;
                    }
                    if set_slot(&mut m.nodes[src], slot, "NODE", &tid).is_err()
                        || set_slot(&mut m.nodes[src], slot, "IMPORTING", &tid).is_err()
                        || move_slot(m, src, target, slot, OPT_VERBOSE | OPT_COLD).is_err()
                        || !clear_slot_status(&mut m.nodes[src], slot)
                    {
                        return -1;
                    }
                }
                fixed += 1;
                crate::progress::slot_done();
            }
        }
    }
    fixed
}

/// Redis's `clusterManagerFixMultipleSlotOwners`.
pub fn fix_multiple_slot_owners(m: &mut Manager, slot: usize, owners: &[usize]) -> bool {
    log::info(&format!(">>> Fixing multiple owners for slot {slot}...\n"));
    let owner = node_with_most_keys(m, owners, slot).unwrap_or(owners[0]);
    log::info(&format!(
        ">>> Setting slot {slot} owner: {}:{}\n",
        m.nodes[owner].ip, m.nodes[owner].port
    ));
    if !set_slot_owner(&mut m.nodes[owner], slot, false) {
        return false;
    }
    let oid = m.nodes[owner].id().to_string();
    let mut success = false;
    for i in 0..m.nodes.len() {
        if i == owner || m.nodes[i].is_slave() {
            continue;
        }
        let Ok(count) = count_keys(&mut m.nodes[i], slot) else {
            return false;
        };
        success = true;
        del_slot(&mut m.nodes[i], slot);
        if set_slot(&mut m.nodes[i], slot, "node", &oid).is_err() {
            return false;
        }
        if count > 0 && move_slot(m, i, owner, slot, OPT_VERBOSE | OPT_COLD).is_err() {
            return false;
        }
    }
    success
}
