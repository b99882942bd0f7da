//! `--json` for `check` and `info` (beyond Redis, which prints text only):
//! one JSON document on stdout instead of the report, same exit code.

use crate::cluster::Manager;
use crate::node::{Node, SLOTS};
use serde_json::{json, Value};

/// Slot ranges as `[[start, end], ...]`.
fn ranges(n: &Node) -> Value {
    let mut out = Vec::new();
    let mut i = 0;
    while i < SLOTS {
        if n.slots[i] {
            let start = i;
            while i + 1 < SLOTS && n.slots[i + 1] {
                i += 1;
            }
            out.push(json!([start, i]));
        }
        i += 1;
    }
    Value::Array(out)
}

fn node(m: &Manager, i: usize) -> Value {
    let n = &m.nodes[i];
    let keys = m.report.keys.iter().find(|(j, _)| *j == i).map(|(_, k)| *k);
    json!({
        "id": n.id(),
        "host": n.ip,
        "port": n.port,
        "role": if n.is_slave() { "replica" } else { "master" },
        "replicates": n.replicate,
        "replicas": n.replicas_count,
        "slots": ranges(n),
        "slots_count": n.slots_count,
        "flags": n.flags_string(),
        "keys": keys,
        "migrating": n.migrating.iter().map(|(s, d)| json!({"slot": s, "to": d})).collect::<Vec<_>>(),
        "importing": n.importing.iter().map(|(s, d)| json!({"slot": s, "from": d})).collect::<Vec<_>>(),
    })
}

/// The `check` document.
pub fn check(m: &Manager, ok: bool) -> String {
    let nodes: Vec<Value> = (0..m.nodes.len()).map(|i| node(m, i)).collect();
    let doc = json!({
        "ok": ok,
        "nodes_agree": m.report.agree,
        "open_slots": m.report.open_slots,
        "covered_slots": m.report.covered_slots,
        "all_slots_covered": m.report.covered_slots == SLOTS,
        "errors": m.errors.iter().map(|e| e.trim_end()).collect::<Vec<_>>(),
        "nodes": nodes,
    });
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}

/// The `info` document.
pub fn info(m: &Manager) -> String {
    let keys: i64 = m.report.keys.iter().map(|(_, k)| *k).sum();
    let masters: Vec<Value> = m.report.keys.iter().map(|(i, _)| node(m, *i)).collect();
    let doc = json!({
        "keys": keys,
        "masters": masters.len(),
        "keys_per_slot": keys as f64 / SLOTS as f64,
        "nodes": masters,
    });
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}
