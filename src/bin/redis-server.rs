//! `redis-server`: a drop-in for Redis 7.0's server.
//!
//! Like Redis, the same binary is also `redis-check-rdb` and `redis-check-aof` when started
//! under a name containing those words (Debian installs them as symlinks).

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let exe = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if exe.contains("redis-check-rdb") {
        std::process::exit(redis_check::rdb_main(args));
    }
    if exe.contains("redis-check-aof") {
        std::process::exit(redis_check::aof_main(args));
    }
    redis_server_core::main();
}
