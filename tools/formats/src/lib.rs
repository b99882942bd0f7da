//! The shared library of the suite: everything that is a wire or file format.
//!
//! - [`request`]: the server's incremental request parser (RESP multibulk and inline).
//! - [`reply`]: the server's reply encoder, RESP2 and RESP3, with Redis's RESP2 downgrades.
//! - [`value`] and [`decode`]: decoded replies and the clients' incremental RESP3 decoder.
//! - [`command`]: encoding a command as a RESP multibulk request (clients).
//! - [`skip`]: finding where a reply ends without decoding it (load generators).
//! - [`slot`]: cluster key slots (CRC16/XMODEM with hash tags).
//! - [`glob`]: Redis's glob pattern rules.
//! - [`num`]: Redis's strict number parsing and formatting, shared by parsers and replies.
//!
//! Binaries depend on this crate; it depends on none of them.

pub mod command;
pub mod decode;
pub mod glob;
pub mod num;
pub mod reply;
pub mod request;
pub mod skip;
pub mod slot;
pub mod value;

pub use decode::{DecodeError, ReplyDecoder};
pub use reply::{ProtoVersion, ReplyBuf};
pub use request::{Batch, ParseLimits, ProtocolError, Request, RequestParser};
pub use value::RespValue;
