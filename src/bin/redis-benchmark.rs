//! redis-benchmark: a drop-in replacement for Redis 7.0's load generator.
//! All the work is in the `redis-benchmark-core` crate.

fn main() {
    let code = redis_benchmark_core::main_with_args(std::env::args_os().skip(1).collect());
    std::process::exit(code);
}
