//! Speed of our CRC-64 against the `crc` crate's CRC_64_REDIS, and of our LZF decompressor
//! against the `lzf` crate's. Run: `cargo run --release -p redis-rdb --example bench_crc_lzf`.

use std::time::Instant;

fn mbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

fn main() {
    let data: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let c = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);
    let c16 = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);
    // Best of 7 runs each, interleaved (the machine is shared).
    let mut best = [f64::MAX; 3];
    for _ in 0..7 {
        let t = Instant::now();
        let a = redis_rdb::crc64::crc64(0, &data);
        best[0] = best[0].min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let b = c.checksum(&data);
        best[1] = best[1].min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let b16 = c16.checksum(&data);
        best[2] = best[2].min(t.elapsed().as_secs_f64());
        assert_eq!(a, b);
        assert_eq!(a, b16);
    }
    println!(
        "crc64 64 MiB, best of 7: redis_rdb::crc64 {:.0} MB/s, crc crate default table {:.0} MB/s, crc crate Table<16> {:.0} MB/s",
        mbps(data.len(), best[0]),
        mbps(data.len(), best[1]),
        mbps(data.len(), best[2])
    );
    // LZF: text-like data that compresses about 3:1.
    let mut text = Vec::new();
    let mut i = 0u64;
    while text.len() < 16 << 20 {
        text.extend_from_slice(format!("user:{}:name=value-{} ", i % 5000, i % 77).as_bytes());
        i += 1;
    }
    let chunks: Vec<(Vec<u8>, usize)> = text
        .chunks(16 << 10)
        .filter_map(|ch| redis_rdb::lzf::compress(ch).map(|c| (c, ch.len())))
        .collect();
    for round in 0..2 {
        let t = Instant::now();
        let mut n = 0;
        for (c, len) in &chunks {
            n += redis_rdb::lzf::decompress(c, *len).unwrap().len();
        }
        let ours = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut m = 0;
        for (c, len) in &chunks {
            m += lzf::decompress(c, *len).unwrap().len();
        }
        let theirs = t.elapsed().as_secs_f64();
        assert_eq!(n, m);
        println!(
            "round {round}: lzf decompress 16 MiB: ours {:.0} MB/s, lzf crate {:.0} MB/s",
            mbps(n, ours),
            mbps(m, theirs)
        );
    }
    let t = Instant::now();
    let mut n = 0;
    for ch in text.chunks(16 << 10) {
        n += redis_rdb::lzf::compress(ch).map(|v| v.len()).unwrap_or(0);
    }
    println!(
        "lzf compress 16 MiB: ours {:.0} MB/s, ratio {:.2}",
        mbps(text.len(), t.elapsed().as_secs_f64()),
        text.len() as f64 / n as f64
    );
    let t = Instant::now();
    let mut m = 0;
    for ch in text.chunks(16 << 10) {
        m += lzf::compress(ch).map(|v| v.len()).unwrap_or(ch.len());
    }
    println!(
        "lzf compress 16 MiB: lzf crate {:.0} MB/s, ratio {:.2} (not Redis's bytes)",
        mbps(text.len(), t.elapsed().as_secs_f64()),
        text.len() as f64 / m as f64
    );
}
