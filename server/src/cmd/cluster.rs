//! CLUSTER, READONLY, READWRITE and ASKING on a server without cluster mode: every one
//! answers Redis's "cluster support disabled" error (after the dispatcher's arity and
//! unknown-subcommand checks), as Redis 7.0 does with `cluster-enabled no`, so clients
//! that probe with CLUSTER INFO or READONLY see what they expect. Cluster mode itself
//! is not built yet (its issue); this server refuses `cluster-enabled yes`.

use crate::dispatch::{CmdResult, Ctx};

pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("asking", disabled),
    ("readonly", disabled),
    ("readwrite", disabled),
    ("cluster|addslots", disabled),
    ("cluster|addslotsrange", disabled),
    ("cluster|bumpepoch", disabled),
    ("cluster|count-failure-reports", disabled),
    ("cluster|countkeysinslot", disabled),
    ("cluster|delslots", disabled),
    ("cluster|delslotsrange", disabled),
    ("cluster|failover", disabled),
    ("cluster|flushslots", disabled),
    ("cluster|forget", disabled),
    ("cluster|getkeysinslot", disabled),
    ("cluster|help", disabled),
    ("cluster|info", disabled),
    ("cluster|keyslot", disabled),
    ("cluster|links", disabled),
    ("cluster|meet", disabled),
    ("cluster|myid", disabled),
    ("cluster|nodes", disabled),
    ("cluster|replicas", disabled),
    ("cluster|replicate", disabled),
    ("cluster|reset", disabled),
    ("cluster|saveconfig", disabled),
    ("cluster|set-config-epoch", disabled),
    ("cluster|setslot", disabled),
    ("cluster|shards", disabled),
    ("cluster|slaves", disabled),
    ("cluster|slots", disabled),
];

fn disabled(_ctx: &mut Ctx) -> CmdResult {
    Err("ERR This instance has cluster support disabled".into())
}
