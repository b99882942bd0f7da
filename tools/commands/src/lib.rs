//! The suite's single command table: every built-in command of Redis 7.0.15 with its
//! arity, flags, legacy key range, ACL categories, tips, key specs, subcommands and docs,
//! observed from the real server (`examples/generate.rs`) and embedded as `commands.json`.
//!
//! - [`table`] loads it once; [`CommandTable`] looks commands up by name.
//! - [`CommandSpec::key_positions`] finds the keys of a command line as `COMMAND GETKEYS` does.
//! - [`CommandSpec::write_info`] and [`CommandSpec::write_docs`] answer `COMMAND INFO` and
//!   `COMMAND DOCS` byte for byte as Redis does, in RESP2 and RESP3.
//! - [`CommandSpec::synopsis`] gives redis-cli's `help` synopsis of a command.

pub mod flags;
pub mod help;
pub mod keys;
pub mod spec;
pub mod table;
mod write;

pub use flags::{AclCategories, CommandFlags, KeyFlags};
pub use help::CLI_HELP_GROUPS;
pub use keys::{KeyRef, KeysError};
pub use spec::{ArgDoc, ArgType, BeginSearch, CommandDoc, CommandSpec, FindKeys, KeySpec};
pub use table::{table, CommandTable};
