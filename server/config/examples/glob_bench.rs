//! Measures `glob_match` on typical KEYS/SCAN patterns:
//! `cargo run --release -p redis-server-config --example glob_bench`.

use redis_server_config::glob_match;
use std::time::Instant;

fn main() {
    let keys: Vec<Vec<u8>> = (0..1_000_000)
        .map(|i| format!("user:{}:name", i).into_bytes())
        .collect();
    for (pat, nocase) in [
        (&b"user:*:name"[..], false),
        (b"user:1?3*", false),
        (b"*[0-4]:name", false),
        (b"USER:*", true),
        (b"nomatch*", false),
    ] {
        let t = Instant::now();
        let n = keys.iter().filter(|k| glob_match(pat, k, nocase)).count();
        let el = t.elapsed();
        println!(
            "{:<14} nocase={:<5} matched {:>7} of 1M keys in {:>6.1} ms ({:.0} ns/key)",
            String::from_utf8_lossy(pat),
            nocase,
            n,
            el.as_secs_f64() * 1e3,
            el.as_nanos() as f64 / 1e6
        );
    }
}
