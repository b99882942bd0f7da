//! `redis-check-rdb` beyond Redis (only reachable with more than one argument, where
//! Redis prints its usage).

/// Runs an extended invocation; `None` when the arguments are not ours.
pub fn run(_args: &[std::ffi::OsString]) -> Option<i32> {
    None
}
