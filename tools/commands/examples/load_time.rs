//! Measures the one-time cost of loading the table and the cost of a lookup:
//! `cargo run --release -p redis-commands --example load_time`.

use redis_commands::table;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let t0 = Instant::now();
    let t = table();
    let load = t0.elapsed();
    println!(
        "loaded {} commands ({} with subcommands) in {:.2} ms",
        t.len(),
        t.len_all(),
        load.as_secs_f64() * 1e3
    );
    let names: [&[u8]; 4] = [b"GET", b"set", b"ZRangeByScore", b"nosuch"];
    let n = 4_000_000;
    let t0 = Instant::now();
    for i in 0..n {
        black_box(t.get(black_box(names[i % 4])));
    }
    println!(
        "get(name): {:.1} ns per lookup",
        t0.elapsed().as_secs_f64() * 1e9 / n as f64
    );
    let argv: [&[u8]; 3] = [b"config", b"GET", b"maxmemory"];
    let t0 = Instant::now();
    for _ in 0..n {
        black_box(t.lookup(black_box(&argv)));
    }
    println!(
        "lookup(config get ...): {:.1} ns per lookup",
        t0.elapsed().as_secs_f64() * 1e9 / n as f64
    );
}
