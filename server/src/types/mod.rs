//! The collection data structures, one module per type, apart from their commands
//! (`cmd/`), as Redis splits `t_list.c` from `quicklist.c`.
//!
//! Each type is an enum of its encodings. The in-memory layouts are ours; what users
//! see (OBJECT ENCODING, the conversion thresholds) is Redis 7.0's.

pub mod geohash;
pub mod hash;
pub mod hll;
pub mod list;
pub mod packed;
pub mod set;
pub mod stream;
pub mod zset;
