//! The Redis server: networking, the keyspace, command execution.
//!
//! The path of a command: [`net`] reads bytes and parses requests with
//! `redis_formats::RequestParser`; [`dispatch`] looks the command up in the table of
//! `redis_commands`, makes Redis's generic checks and calls the handler bound in
//! [`cmd`]; handlers read and write the [`keyspace`] inside the [`state::Server`] and
//! encode replies into a `ReplyBuf`, which [`net`] writes back in one batch.

pub mod acl;
pub mod alloc;
pub mod aof;
pub mod bgsave;
pub mod bitmap;
pub mod blocking;
pub mod client;
pub mod cmd;
pub mod config;
pub mod cron;
pub mod dispatch;
pub mod evict;
pub mod introspection;
pub mod keyspace;
pub mod log;
pub mod longdouble;
pub mod net;
pub mod object;
pub mod oom;
pub mod propagate;
pub mod pubsub;
pub mod rdb;
pub mod replication;
pub mod scripting;
pub mod startup;
pub mod state;
pub mod tls;
pub mod tracking;
pub mod types;

#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;

pub use startup::main;
