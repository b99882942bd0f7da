//! `CLUSTER NODES` text as a node might send it: parsing it, and printing
//! what was parsed, must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redis_cluster_manager::node::Node;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for friends in [false, true] {
        let mut n = Node::new("127.0.0.1", 7000, 17000);
        n.apply_cluster_nodes(&text, friends);
        let _ = n.info_text(2);
        let _ = n.flags_string();
        for f in &n.friends {
            let _ = f.info_text(2);
            let _ = f.slots_string();
        }
    }
});
