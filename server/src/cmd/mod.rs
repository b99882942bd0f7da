//! Command handlers, bound to the command table by name.
//!
//! The table (crate `redis-commands`) declares every command once: name, arity, flags,
//! key specs and docs. This module binds a handler to each name the server implements.
//! Adding a command is its table entry plus one line here and its handler.

use crate::dispatch::{CmdResult, Ctx};
use redis_commands::CommandSpec;
use std::sync::OnceLock;

pub mod acl;
pub mod args;
mod bitfield;
mod bits;
pub mod client;
mod cluster;
mod command;
mod config;
pub mod connection;
pub mod debug;
mod expire;
mod functions;
mod geo;
pub mod hash;
pub mod help;
mod hll;
pub mod info;
pub mod keyspace;
mod lcs;
pub mod list;
pub mod multi;
mod persist;
mod pubsub;
mod replication;
mod scripting;
pub mod server;
mod set;
mod sort;
mod stream;
mod strings;
pub mod zset;

/// A command implementation.
pub type Handler = fn(&mut Ctx) -> CmdResult;

/// Every module's handler list. Each module declares `pub const HANDLERS` with the full
/// command names (`get`, `config|get`) it implements.
const GROUPS: &[&[(&str, Handler)]] = &[
    acl::HANDLERS,
    bits::HANDLERS,
    client::HANDLERS,
    cluster::HANDLERS,
    command::HANDLERS,
    config::HANDLERS,
    connection::HANDLERS,
    debug::HANDLERS,
    expire::HANDLERS,
    functions::HANDLERS,
    geo::HANDLERS,
    hash::HANDLERS,
    hll::HANDLERS,
    info::HANDLERS,
    keyspace::HANDLERS,
    multi::HANDLERS,
    list::HANDLERS,
    persist::HANDLERS,
    replication::HANDLERS,
    scripting::HANDLERS,
    pubsub::HANDLERS,
    server::HANDLERS,
    sort::HANDLERS,
    set::HANDLERS,
    stream::HANDLERS,
    strings::HANDLERS,
    zset::HANDLERS,
];

fn by_id() -> &'static [Option<Handler>] {
    static BY_ID: OnceLock<Vec<Option<Handler>>> = OnceLock::new();
    BY_ID.get_or_init(|| {
        let table = redis_commands::table();
        let mut v = vec![None; table.len_all()];
        for (name, h) in GROUPS.iter().flat_map(|g| g.iter()) {
            let spec = table
                .get_by_fullname(name.as_bytes())
                .unwrap_or_else(|| panic!("handler for unknown command {name}"));
            v[spec.id] = Some(*h);
        }
        v
    })
}

/// The handler of `spec`, if the server implements it.
#[inline]
pub fn handler(spec: &CommandSpec) -> Option<Handler> {
    by_id()[spec.id]
}

/// True if the server implements `spec` (for a container: any of its subcommands).
pub fn is_implemented(spec: &CommandSpec) -> bool {
    handler(spec).is_some() || spec.subcommands.iter().any(|s| handler(s).is_some())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_handler_names_a_table_command() {
        let declared: usize = super::GROUPS.iter().map(|g| g.len()).sum();
        assert_eq!(
            super::by_id().iter().flatten().count(),
            declared,
            "a name is bound twice"
        );
    }
}
