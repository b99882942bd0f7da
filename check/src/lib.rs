//! `redis-check-rdb` and `redis-check-aof`: Redis 7.0's checkers over `redis-rdb`.
//!
//! The plain invocations print what Debian's Redis 7.0.15 checkers print, byte for byte on
//! valid files, with the same verdicts and exit codes on damaged ones. Extra options
//! (`redis-check-rdb --json/--stats/...`) only exist where Redis would print its usage.

pub mod aof;
mod aof_ext;
pub mod rdb;
mod rdb_ext;
mod util;

pub use aof::aof_main;
pub use rdb::rdb_main;
