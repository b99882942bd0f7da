//! `redis-check-aof` beyond Redis (only reachable where Redis prints its usage).

use std::io::Write;

/// Runs an extended invocation; `None` when the arguments are not ours.
pub fn run(_args: &[std::ffi::OsString], _out: &mut impl Write) -> Option<i32> {
    None
}
