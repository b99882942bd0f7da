//! `redis-check-aof`: a drop-in for Redis 7.0's AOF checker.

fn main() {
    std::process::exit(redis_check::aof_main(std::env::args_os().collect()));
}
