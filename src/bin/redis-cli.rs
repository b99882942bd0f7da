//! Redis's `redis-cli`: everything lives in the `redis-cli-core` crate.

fn main() {
    std::process::exit(redis_cli_core::main());
}
