//! `redis-check-aof` built from this crate alone (for timing without building the server):
//! `cargo run --release -p redis-check --example check_aof -- appendonly.aof`.

fn main() {
    std::process::exit(redis_check::aof_main(std::env::args_os().collect()));
}
