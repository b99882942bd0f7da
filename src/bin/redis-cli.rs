//! Redis's `redis-cli`: everything lives in the `redis-cli-core` crate; the
//! `--cluster` manager lives in `redis-cluster-manager`.

fn main() {
    redis_cli_core::set_cluster_manager(redis_cluster_manager::run);
    std::process::exit(redis_cli_core::main());
}
