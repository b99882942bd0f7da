//! `redis-rdb`: the file-format half of the shared library.
//!
//! - [`crc64`]: Redis's CRC-64 (Jones, reflected).
//! - [`lzf`]: LZF compression as Redis uses it for RDB strings.
//! - [`reader`]: a streaming RDB reader (versions 1..12 and Valkey's 80), with Redis's
//!   deep sanitization of embedded encodings and the byte offsets `redis-check-rdb` prints.
//! - [`writer`]: an RDB version 10 writer with Redis 7.0's encodings; [`dump`]: DUMP/RESTORE
//!   payloads.
//! - [`aof`]: the AOF side: RESP command streams, the Redis 7 manifest, `#TS:` annotations.
//! - [`encodings`]: listpack, ziplist, intset, zipmap validators and codecs.

#![warn(missing_docs)]

pub mod aof;
pub mod crc64;
pub mod dump;
pub mod encodings;
pub mod error;
pub mod lzf;
pub mod reader;
pub mod value;
pub mod writer;

pub use error::{ErrorKind, RdbError, Result};
pub use reader::{Header, KeyEntry, Reader, Record};
pub use value::Value;
