//! `redis-server`: a drop-in for Redis 7.0's server.

fn main() {
    redis_server_core::main();
}
