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
//! The server's start-up, in short:
//!
//! ```
//! use redis_server_config::*;
//!
//! struct Mine; // the server's command table and ACL handle these directives
//! impl Directives for Mine {
//!     fn rename_command(&mut self, _: &[u8], _: &[u8]) -> Result<(), String> { Ok(()) }
//!     fn user(&mut self, _: &[Vec<u8>]) -> Result<(), String> { Ok(()) }
//!     fn loadmodule(&mut self, _: &[u8], _: &[Vec<u8>]) -> Result<(), String> {
//!         Err("modules are not supported".into())
//!     }
//! }
//!
//! let args: Vec<Vec<u8>> = vec![b"--port".to_vec(), b"7000".to_vec(), b"--save".to_vec(), b"".to_vec()];
//! let StartupCommand::Run(opts) = parse_command_line(&args) else { unreachable!() };
//! let loaded = match load_config(&opts, &mut std::io::empty(), &mut Mine) {
//!     Ok(l) => l,
//!     Err(e) => {
//!         // main: write e.stderr_text() to stderr (or log e.log_message()), exit(1)
//!         unreachable!("{:?}", e)
//!     }
//! };
//! let mut cfg = loaded.config;
//! assert_eq!(cfg.port, 7000);
//! assert!(cfg.save.is_empty());
//!
//! // CONFIG SET maxmemory 100mb maxmemory-policy allkeys-lru
//! let changed = cfg.set(&[(b"maxmemory", b"100mb"), (b"maxmemory-policy", b"allkeys-lru")]).unwrap();
//! assert_eq!(changed, ["maxmemory", "maxmemory-policy"]);
//! assert_eq!(cfg.get(&[b"maxmemory"]), [("maxmemory".to_string(), b"104857600".to_vec())]);
//! assert_eq!(
//!     cfg.set(&[(b"port", b"99999")]).unwrap_err(),
//!     "ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive"
//! );
//! ```
//!
//! Where this differs from Redis 7.0.15 (everything else is checked byte for byte
//! against Debian's redis-server by tests/differential.rs):
//! - CONFIG GET and CONFIG REWRITE's appended lines come in our table order; Redis's
//!   order is its hash table's and changes from run to run.
//! - `activedefrag yes` is refused with Redis's message, as Debian's build (no
//!   defrag-capable jemalloc) refuses it.
//! - `dir` reads back the directory recorded when it was last set (Redis asks getcwd).
//! - Sentinel mode is not implemented: `sentinel ...` lines fail as they do outside
//!   sentinel mode; [`StartupOptions::sentinel`] tells the server `--sentinel` was given.
//! - `rename-command`, `user` and `loadmodule` lines are handed to the server through
//!   [`Directives`] at their line, so their errors are reported as Redis does.
//!
//! No networking and no I/O besides reading config files (and `--include`d ones),
//! checking the log file can be opened (as Redis does at start-up), changing the
//! working directory for `dir`, and writing the rewritten config file.

mod load;
mod rewrite;
mod runtime;
mod table;
#[cfg(test)]
mod tests;
mod types;
mod util;
mod value;

pub use load::*;
pub use redis_formats::glob::glob_match;
pub use rewrite::DEFAULT_USER_LINE;
pub use runtime::{apply_failed_error, is_sensitive, param_info, params, ParamInfo, SetContext};
pub use table::flags;
pub use types::*;
pub use value::{notify_flags_from_str, notify_flags_to_string};

/// The Redis version we are compatible with, as printed in banners and errors.
pub const REDIS_VERSION: &str = "7.0.15";
