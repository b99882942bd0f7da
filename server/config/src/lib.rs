//! Redis 7.0.15's configuration, for our redis-server.
//!
//! - [`Config`]: every parameter as a typed field, with Redis's defaults.
//! - Start-up: [`parse_command_line`] and [`load_config`] read `redis-server
//!   [/path/to/redis.conf] [--name value ...] [-]` exactly as Redis does, returning
//!   Redis's fatal error text (the caller prints it and exits with code 1).
//! - Runtime: [`Config::get`], [`Config::set_with`], [`Config::snapshot`] /
//!   [`Config::restore`], [`Config::rewrite`] hold the logic of CONFIG GET / SET /
//!   REWRITE; the server writes the replies.
//! - [`glob_match`]: Redis's glob rules, shared with KEYS / SCAN MATCH.
//!
//! No networking and no I/O besides reading config files (and `--include`d ones),
//! checking the log file can be opened (as Redis does at start-up), changing the
//! working directory for `dir`, and writing the rewritten config file.

mod glob;
mod load;
mod rewrite;
mod runtime;
mod table;
#[cfg(test)]
mod tests;
mod types;
mod util;
mod value;

pub use glob::glob_match;
pub use load::*;
pub use rewrite::DEFAULT_USER_LINE;
pub use runtime::{apply_failed_error, is_sensitive, param_info, params, ParamInfo, SetContext};
pub use table::flags;
pub use types::*;
pub use value::{notify_flags_from_str, notify_flags_to_string};

/// The Redis version we are compatible with, as printed in banners and errors.
pub const REDIS_VERSION: &str = "7.0.15";
