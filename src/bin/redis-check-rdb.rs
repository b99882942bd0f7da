//! `redis-check-rdb`: a drop-in for Redis 7.0's RDB checker.

fn main() {
    std::process::exit(redis_check::rdb_main(std::env::args_os().collect()));
}
