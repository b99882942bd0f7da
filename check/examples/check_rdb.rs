//! `redis-check-rdb` built from this crate alone (for timing without building the server):
//! `cargo run --release -p redis-check --example check_rdb -- dump.rdb`.

fn main() {
    std::process::exit(redis_check::rdb_main(std::env::args_os().collect()));
}
