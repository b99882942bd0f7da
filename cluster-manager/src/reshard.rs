//! `--cluster reshard` and the slot move it is built on: SETSLOT IMPORTING /
//! MIGRATING, GETKEYSINSLOT + MIGRATE ... KEYS in batches of
//! `--cluster-pipeline`, then SETSLOT NODE on the target, the source and the
//! other masters (Redis's order).

use crate::cluster::Manager;
use crate::log;
use crate::node::{Node, SLOTS};
use redis_formats::RespValue;

/// Print a dot per moved key.
pub const OPT_VERBOSE: u32 = 1 << 7;
/// Do not print the "Moving slot" line.
pub const OPT_QUIET: u32 = 1 << 6;
/// Move the keys only: no SETSLOT before or after (fix's cold moves).
pub const OPT_COLD: u32 = 1 << 1;
/// Update the manager's slot maps of source and target after the move.
pub const OPT_UPDATE: u32 = 1 << 2;

fn err_text(v: &RespValue) -> String {
    match v {
        RespValue::Error(e) => String::from_utf8_lossy(e).into_owned(),
        _ => String::new(),
    }
}

/// `CLUSTER SETSLOT <slot> <status> <id>` on `node`.
pub(crate) fn set_slot(node: &mut Node, slot: usize, status: &str, id: &str) -> Result<(), String> {
    match node.command(&["CLUSTER", "SETSLOT", &slot.to_string(), status, id]) {
        None => Err("CLUSTER SETSLOT failed to run".into()),
        Some(v @ RespValue::Error(_)) => Err(err_text(&v)),
        Some(_) => Ok(()),
    }
}

/// Two distinct nodes of the manager, mutably.
fn pair(nodes: &mut [Node], a: usize, b: usize) -> (&mut Node, &mut Node) {
    assert_ne!(a, b);
    if a < b {
        let (x, y) = nodes.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = nodes.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

/// `MIGRATE ip port "" 0 timeout [REPLACE] [AUTH pass | AUTH2 user pass] KEYS k...`
fn migrate(
    m: &Manager,
    source: &mut Node,
    target: &Node,
    keys: &[Vec<u8>],
    replace: bool,
) -> Option<RespValue> {
    let cfg = m.cfg;
    let mut args: Vec<Vec<u8>> = vec![
        b"MIGRATE".to_vec(),
        target.ip.as_bytes().to_vec(),
        target.port.to_string().into_bytes(),
        Vec::new(),
        b"0".to_vec(),
        cfg.cluster.timeout.to_string().into_bytes(),
    ];
    if replace {
        args.push(b"REPLACE".to_vec());
    }
    if let Some(pass) = &cfg.auth {
        match &cfg.user {
            Some(u) => {
                args.push(b"AUTH2".to_vec());
                args.push(u.clone());
            }
            None => args.push(b"AUTH".to_vec()),
        }
        args.push(pass.clone());
    }
    args.push(b"KEYS".to_vec());
    args.extend(keys.iter().cloned());
    source.command(&args)
}

/// Moves every key of `slot` from `src` to `dst` (Redis's
/// `clusterManagerMigrateKeysInSlot`, without the fix-only branches).
fn migrate_keys_in_slot(
    m: &mut Manager,
    src: usize,
    dst: usize,
    slot: usize,
    verbose: bool,
) -> Result<(), Option<String>> {
    let pipeline = m.cfg.cluster.pipeline.to_string();
    let replace_opt = m.cfg.cluster.replace;
    loop {
        let keys = {
            let s = &mut m.nodes[src];
            match s.command(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), &pipeline]) {
                None => return Err(None),
                Some(v @ RespValue::Error(_)) => {
                    let e = err_text(&v);
                    s.print_reply_error(&e);
                    return Err(Some(e));
                }
                Some(RespValue::Array(items)) => items
                    .into_iter()
                    .filter_map(|k| k.as_bytes().map(<[u8]>::to_vec))
                    .collect::<Vec<_>>(),
                Some(_) => return Err(None),
            }
        };
        if keys.is_empty() {
            return Ok(());
        }
        let mut nodes = std::mem::take(&mut m.nodes);
        let (s, t) = pair(&mut nodes, src, dst);
        let mut reply = migrate(m, s, t, &keys, false);
        let mut result = Ok(());
        if let Some(RespValue::Error(e)) = &reply {
            let busy = String::from_utf8_lossy(e).contains("BUSYKEY");
            if busy {
                log::warn("\n*** Target key exists\n");
                if !replace_opt {
                    // Keys whose values differ stop the move unless --cluster-replace.
                    log::warn("*** Checking key values on both nodes...\n");
                    let mut args: Vec<Vec<u8>> = vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec()];
                    args.extend(keys.iter().cloned());
                    let (r1, r2) = (s.command(&args), t.command(&args));
                    let diffs: Option<Vec<String>> = match (&r1, &r2) {
                        (Some(RespValue::Array(a)), Some(RespValue::Array(b))) => {
                            let zero = "0".repeat(40);
                            Some(
                                keys.iter()
                                    .zip(a.iter().zip(b.iter()))
                                    .filter_map(|(k, (h1, h2))| {
                                        let h1 = h1.as_bytes().unwrap_or_default();
                                        let h2 = h2.as_bytes().unwrap_or_default();
                                        if h1 == zero.as_bytes()
                                            || h2 == zero.as_bytes()
                                            || h1 == h2
                                        {
                                            None
                                        } else {
                                            Some(String::from_utf8_lossy(k).into_owned())
                                        }
                                    })
                                    .collect(),
                            )
                        }
                        _ => {
                            if let Some(v @ RespValue::Error(_)) = &r1 {
                                s.print_reply_error(&err_text(v));
                            }
                            if let Some(v @ RespValue::Error(_)) = &r2 {
                                t.print_reply_error(&err_text(v));
                            }
                            None
                        }
                    };
                    match diffs {
                        None => {
                            log::err("*** Value check failed!\n");
                            m.nodes = nodes;
                            return Err(None);
                        }
                        Some(d) if !d.is_empty() => {
                            let mut msg = format!(
                                "*** Found {} key(s) in both source node and target node having \
                                 different values.\n    Source node: {}:{}\n    Target node: \
                                 {}:{}\n    Keys(s):\n",
                                d.len(),
                                s.ip,
                                s.port,
                                t.ip,
                                t.port
                            );
                            for k in d {
                                msg.push_str(&format!("    - {k}\n"));
                            }
                            log::err(&msg);
                            log::err(
                                "Please fix the above key(s) manually and try again or \
                                 relaunch the command \nwith --cluster-replace option to force \
                                 key overriding.\n",
                            );
                            m.nodes = nodes;
                            return Err(None);
                        }
                        Some(_) => {}
                    }
                }
                log::warn("*** Replacing target keys...\n");
                reply = migrate(m, s, t, &keys, true);
                if let Some(v @ RespValue::Error(_)) = &reply {
                    let e = err_text(v);
                    log::out("\n");
                    s.print_reply_error(&e);
                    result = Err(Some(e));
                } else if reply.is_none() {
                    result = Err(None);
                }
            } else {
                let e = String::from_utf8_lossy(e).into_owned();
                log::out("\n");
                s.print_reply_error(&e);
                result = Err(Some(e));
            }
        } else if reply.is_none() {
            result = Err(None);
        }
        m.nodes = nodes;
        result?;
        crate::progress::keys_moved(keys.len() as u64);
        if verbose {
            log::out(&".".repeat(keys.len()));
        }
    }
}

/// Redis's `clusterManagerMoveSlot` (hot move with the SETSLOT dance).
pub fn move_slot(
    m: &mut Manager,
    src: usize,
    dst: usize,
    slot: usize,
    opts: u32,
) -> Result<(), Option<String>> {
    if opts & OPT_QUIET == 0 {
        let (s, t) = (&m.nodes[src], &m.nodes[dst]);
        log::out(&format!(
            "Moving slot {slot} from {}:{} to {}:{}: ",
            s.ip, s.port, t.ip, t.port
        ));
    }
    let src_id = m.nodes[src].id().to_string();
    let dst_id = m.nodes[dst].id().to_string();
    let cold = opts & OPT_COLD != 0;
    if !cold {
        set_slot(&mut m.nodes[dst], slot, "importing", &src_id).map_err(Some)?;
        set_slot(&mut m.nodes[src], slot, "migrating", &dst_id).map_err(Some)?;
    }
    let moved = migrate_keys_in_slot(m, src, dst, slot, opts & OPT_VERBOSE != 0);
    if opts & OPT_QUIET == 0 {
        log::out("\n");
    }
    moved?;
    if cold {
        if opts & OPT_UPDATE != 0 {
            m.nodes[src].slots[slot] = false;
            m.nodes[dst].slots[slot] = true;
        }
        return Ok(());
    }
    // The target first, so a crash cannot leave the slot without an owner.
    set_slot(&mut m.nodes[dst], slot, "node", &dst_id).map_err(Some)?;
    // A source that just lost its last slot may already be a replica.
    if let Err(e) = set_slot(&mut m.nodes[src], slot, "node", &dst_id) {
        if !e.starts_with("ERR Please use SETSLOT only with masters.") {
            return Err(Some(e));
        }
    }
    for i in 0..m.nodes.len() {
        if i == src || i == dst || m.nodes[i].is_slave() {
            continue;
        }
        set_slot(&mut m.nodes[i], slot, "node", &dst_id).map_err(Some)?;
    }
    if opts & OPT_UPDATE != 0 {
        m.nodes[src].slots[slot] = false;
        m.nodes[dst].slots[slot] = true;
    }
    Ok(())
}

/// Reads one answer like Redis: one `read(2)` of at most `max` bytes from
/// fd 0, the rest of a longer line dropped, the last byte cut off.
fn read_answer(max: usize) -> Option<String> {
    let mut buf = vec![0u8; max];
    // SAFETY: buf is valid for max bytes.
    let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), max) };
    if n <= 0 {
        return None;
    }
    let n = n as usize;
    if buf[n - 1] != b'\n' {
        let mut b = [0u8; 1];
        // SAFETY: b is valid for one byte.
        while unsafe { libc::read(0, b.as_mut_ptr().cast(), 1) } == 1 && b[0] != b'\n' {}
    }
    let line = &buf[..n - 1];
    let end = line.iter().position(|&c| c == 0).unwrap_or(line.len());
    Some(String::from_utf8_lossy(&line[..end]).into_owned())
}

/// A master usable as source/target (`None` and an error line otherwise).
fn node_for_resharding(m: &Manager, id: &str, target: Option<usize>) -> Result<Option<usize>, ()> {
    match m.node_by_name(id) {
        Some(i) if !m.nodes[i].is_slave() => {
            if let Some(t) = target {
                if m.nodes[i].id() == m.nodes[t].id() {
                    log::err("*** It is not possible to use the target node as source node.\n");
                    return Ok(None);
                }
            }
            Ok(Some(i))
        }
        _ => {
            log::err(&format!(
                "*** The specified node ({id}) is not known or not a master, please retry.\n"
            ));
            Err(())
        }
    }
}

/// The slots to move: from each source (most slots first) its share of
/// `numslots`, the first rounded up and the others down.
pub(crate) fn reshard_table(
    m: &Manager,
    sources: &[usize],
    numslots: usize,
) -> Vec<(usize, usize)> {
    let total: i64 = sources.iter().map(|&i| m.nodes[i].slots_count).sum();
    let mut sorted = sources.to_vec();
    sorted.sort_by(|&a, &b| m.nodes[b].slots_count.cmp(&m.nodes[a].slots_count));
    let mut moved = Vec::new();
    for (k, &i) in sorted.iter().enumerate() {
        let n = numslots as f32 / total as f32 * m.nodes[i].slots_count as f32;
        let max = if k == 0 { n.ceil() } else { n.floor() } as usize;
        let mut count = 0;
        for slot in 0..SLOTS {
            if !m.nodes[i].slots[slot] {
                continue;
            }
            if count >= max || moved.len() >= numslots {
                break;
            }
            moved.push((i, slot));
            count += 1;
        }
    }
    moved
}

/// `--cluster reshard host:port`
pub fn reshard(m: &mut Manager, host: (String, i64)) -> bool {
    if !m.load_from_node(Node::new(&host.0, host.1, 0)) {
        return false;
    }
    m.check_cluster(false);
    if !m.errors.is_empty() {
        eprintln!("*** Please fix your cluster problems before resharding");
        return false;
    }
    let mut slots = m.cfg.cluster.slots;
    if slots == 0 {
        while slots <= 0 || slots > SLOTS as i64 {
            log::out(&format!(
                "How many slots do you want to move (from 1 to {SLOTS})? "
            ));
            match read_answer(6) {
                Some(a) => slots = redis_cli_core::opts::atoi32(a.as_bytes()),
                None => return eof_abort(),
            }
        }
    }
    let to = match &m.cfg.cluster.to {
        Some(t) => String::from_utf8_lossy(t).into_owned(),
        None => loop {
            log::out("What is the receiving node ID? ");
            match read_answer(255) {
                Some(a) if !a.is_empty() => break a,
                Some(_) => {}
                None => return eof_abort(),
            }
        },
    };
    let Ok(Some(target)) = node_for_resharding(m, &to, None) else {
        return false;
    };
    let mut sources = Vec::new();
    let mut all = false;
    match &m.cfg.cluster.from {
        None => {
            log::out(
                "Please enter all the source node IDs.\n  Type 'all' to use all the nodes as \
                 source nodes for the hash slots.\n  Type 'done' once you entered all the \
                 source nodes IDs.\n",
            );
            loop {
                log::out(&format!("Source node #{}: ", sources.len() + 1));
                let Some(a) = read_answer(255) else {
                    return eof_abort();
                };
                if a == "done" {
                    break;
                } else if a == "all" {
                    all = true;
                    break;
                }
                match node_for_resharding(m, &a, Some(target)) {
                    Ok(Some(i)) => sources.push(i),
                    Ok(None) => {}
                    Err(()) => return false,
                }
            }
        }
        Some(from) => {
            for id in String::from_utf8_lossy(from).split(',') {
                if id == "all" {
                    all = true;
                    break;
                }
                if id.is_empty() {
                    continue;
                }
                match node_for_resharding(m, id, Some(target)) {
                    Ok(Some(i)) => sources.push(i),
                    Ok(None) => {}
                    Err(()) => return false,
                }
            }
        }
    }
    if all {
        let tid = m.nodes[target].id().to_string();
        sources = (0..m.nodes.len())
            .filter(|&i| {
                let n = &m.nodes[i];
                !n.is_slave() && n.replicate.is_none() && n.id() != tid
            })
            .collect();
    }
    if sources.is_empty() {
        eprintln!("*** No source nodes given, operation aborted.");
        return false;
    }
    let mut text = format!("\nReady to move {slots} slots.\n  Source nodes:\n");
    for &s in &sources {
        text.push_str(&m.nodes[s].info_text(4));
        text.push('\n');
    }
    text.push_str("  Destination node:\n");
    text.push_str(&m.nodes[target].info_text(4));
    text.push('\n');
    log::out(&text);
    let table = reshard_table(m, &sources, slots as usize);
    let mut plan = String::from("  Resharding plan:\n");
    for &(s, slot) in &table {
        plan.push_str(&format!(
            "    Moving slot {slot} from {}\n",
            m.nodes[s].id()
        ));
    }
    log::out(&plan);
    if !m.cfg.cluster.yes {
        log::out("Do you want to proceed with the proposed reshard plan (yes/no)? ");
        let mut buf = [0u8; 4];
        // SAFETY: buf is valid for 4 bytes.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), 4) };
        if n < 3 || &buf[..3] != b"yes" {
            return false;
        }
    }
    let _bar = crate::progress::start(table.len() as u64, crate::progress::Unit::Slots);
    for (s, slot) in table {
        if let Err(e) = move_slot(m, s, target, slot, OPT_VERBOSE) {
            crate::progress::finish();
            if let Some(e) = e {
                log::err(&format!("clusterManagerMoveSlot failed: {e}\n"));
            }
            return false;
        }
        crate::progress::slot_done();
    }
    true
}

/// Redis loops forever re-asking on EOF; with nothing left to read we stop
/// instead of spinning.
fn eof_abort() -> bool {
    log::out("\n");
    eprintln!("*** No answer on standard input, operation aborted.");
    false
}
