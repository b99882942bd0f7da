//! Configuration: the full registry of Redis's parameters lives in the
//! `redis-server-config` crate; this module re-exports it for the server's modules.

pub use redis_server_config::*;
