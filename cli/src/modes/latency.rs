//! `--latency`, `--latency-history`, `--latency-dist` and `--intrinsic-latency`.

use super::reconnecting_command;
use crate::opts::OutputMode;
use crate::session::{out, Session};
use crate::signals;
use std::time::{Duration, Instant};

const SAMPLE_RATE_MS: u64 = 10;

fn print_stats(mode: OutputMode, min: i64, max: i64, avg: f64, count: i64) {
    let text = match mode {
        OutputMode::Standard => format!("min: {min}, max: {max}, avg: {avg:.2} ({count} samples)"),
        OutputMode::Csv => format!("{min},{max},{avg:.2},{count}\n"),
        OutputMode::Raw => format!("{min} {max} {avg:.2} {count}\n"),
        OutputMode::Json => {
            format!("{{\"min\": {min}, \"max\": {max}, \"avg\": {avg:.2}, \"count\": {count}}}\n")
        }
        // Redis prints nothing for --quoted-json here.
        OutputMode::QuotedJson => String::new(),
    };
    out(text.as_bytes());
}

fn ms_since(t: Instant) -> i64 {
    t.elapsed().as_millis() as i64
}

/// `--latency` / `--latency-history`: PING round trips in milliseconds.
pub fn latency(s: &mut Session) -> i32 {
    let history = s.cfg.latency_history;
    let history_interval = if s.cfg.interval_us != 0 {
        s.cfg.interval_us / 1000
    } else {
        15000
    };
    let interval_ms = if s.cfg.interval_us == 0 {
        1000
    } else {
        s.cfg.interval_us / 1000
    };
    let mode = s.cfg.output;
    let (mut min, mut max, mut tot, mut count) = (0i64, 0i64, 0i64, 0i64);
    let mut avg;
    let mut history_start = Instant::now();
    loop {
        let start = Instant::now();
        reconnecting_command(s, &[b"PING"]);
        let lat = ms_since(start);
        count += 1;
        if count == 1 {
            min = lat;
            max = lat;
            tot = lat;
            avg = lat as f64;
        } else {
            min = min.min(lat);
            max = max.max(lat);
            tot += lat;
            avg = tot as f64 / count as f64;
        }
        if mode == OutputMode::Standard {
            out(b"\x1b[0G\x1b[2K");
            print_stats(mode, min, max, avg, count);
        } else if history {
            print_stats(mode, min, max, avg, count);
        } else if ms_since(history_start) > interval_ms {
            print_stats(mode, min, max, avg, count);
            return 0;
        }
        if history && ms_since(history_start) > history_interval {
            out(format!(
                " -- {:.2} seconds range\n",
                ms_since(history_start) as f32 / 1000.0
            )
            .as_bytes());
            history_start = Instant::now();
            min = 0;
            max = 0;
            tot = 0;
            count = 0;
        }
        std::thread::sleep(Duration::from_millis(SAMPLE_RATE_MS));
    }
}

const PALETTE_COLOR: &[u8] = &[
    0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 144, 143, 142, 184, 226, 214, 208, 202, 196,
];
const PALETTE_MONO: &[u8] = &[
    0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253,
];

/// Bucket upper bounds in microseconds (0: everything above) and their symbol.
const BUCKETS: &[(i64, u8)] = &[
    (10, b'.'),
    (125, b'-'),
    (250, b'*'),
    (500, b'#'),
    (1000, b'1'),
    (2000, b'2'),
    (3000, b'3'),
    (4000, b'4'),
    (5000, b'5'),
    (6000, b'6'),
    (7000, b'7'),
    (8000, b'8'),
    (9000, b'9'),
    (10000, b'A'),
    (20000, b'B'),
    (30000, b'C'),
    (40000, b'D'),
    (50000, b'E'),
    (100000, b'F'),
    (200000, b'G'),
    (300000, b'H'),
    (400000, b'I'),
    (500000, b'J'),
    (1000000, b'K'),
    (2000000, b'L'),
    (4000000, b'M'),
    (8000000, b'N'),
    (16000000, b'O'),
    (30000000, b'P'),
    (60000000, b'Q'),
    (0, b'?'),
];

fn legend(palette: &[u8]) -> String {
    let mut o = String::new();
    o.push_str("---------------------------------------------\n");
    o.push_str(". - * #          .01 .125 .25 .5 milliseconds\n");
    o.push_str("1,2,3,...,9      from 1 to 9     milliseconds\n");
    o.push_str("A,B,C,D,E        10,20,30,40,50  milliseconds\n");
    o.push_str("F,G,H,I,J        .1,.2,.3,.4,.5       seconds\n");
    o.push_str("K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds\n");
    o.push_str("From 0 to 100%: ");
    for c in palette {
        o.push_str(&format!("\x1b[48;5;{c}m "));
    }
    o.push_str("\x1b[0m\n");
    o.push_str("---------------------------------------------\n");
    o
}

/// `--latency-dist`: a coloured spectrum of PING latencies per interval.
pub fn latency_dist(s: &mut Session) -> i32 {
    let palette = if s.cfg.mono {
        PALETTE_MONO
    } else {
        PALETTE_COLOR
    };
    let interval_ms = if s.cfg.interval_us != 0 {
        s.cfg.interval_us / 1000
    } else {
        1000
    };
    let mut counts = vec![0i64; BUCKETS.len()];
    let mut count = 0i64;
    let mut outputs = 0u64;
    let mut history_start = Instant::now();
    loop {
        let start = Instant::now();
        reconnecting_command(s, &[b"PING"]);
        let lat = start.elapsed().as_micros() as i64;
        count += 1;
        let idx = BUCKETS
            .iter()
            .position(|(max, _)| *max == 0 || lat <= *max)
            .unwrap_or(BUCKETS.len() - 1);
        counts[idx] += 1;
        if count > 0 && ms_since(history_start) > interval_ms {
            let mut o = String::new();
            if outputs % 20 == 0 {
                o.push_str(&legend(palette));
            }
            outputs += 1;
            o.push_str("\x1b[38;5;0m");
            for (j, (_, ch)) in BUCKETS.iter().enumerate() {
                let ci = ((counts[j] as f64 / count as f64) * (palette.len() - 1) as f64).ceil()
                    as usize;
                o.push_str(&format!(
                    "\x1b[48;5;{}m{}",
                    palette[ci.min(palette.len() - 1)],
                    *ch as char
                ));
                counts[j] = 0;
            }
            o.push_str("\x1b[0m\n");
            out(o.as_bytes());
            history_start = Instant::now();
            count = 0;
        }
        std::thread::sleep(Duration::from_millis(SAMPLE_RATE_MS));
    }
}

/// CPU work the optimiser cannot remove (an RC4-like shuffle).
fn compute_something_fast() -> u64 {
    let mut s: [u8; 256] = std::array::from_fn(|k| k as u8);
    let (mut i, mut j) = (0u8, 0u8);
    let mut output = 0u64;
    for _ in 0..1000 {
        i = i.wrapping_add(1);
        j = j.wrapping_add(s[i as usize]);
        s.swap(i as usize, j as usize);
        output += s[(s[i as usize].wrapping_add(s[j as usize])) as usize] as u64;
    }
    std::hint::black_box(output)
}

/// `--intrinsic-latency SECONDS`: the longest stall of this process.
pub fn intrinsic(seconds: i64) -> i32 {
    signals::install_cancel();
    let run_time_us = seconds * 1_000_000;
    let t0 = Instant::now();
    let us = |t: Instant| t.duration_since(t0).as_micros() as i64;
    let test_end = run_time_us;
    let (mut max_latency, mut runs) = (0i64, 0i64);
    loop {
        let start = Instant::now();
        compute_something_fast();
        let end = Instant::now();
        let latency = end.duration_since(start).as_micros() as i64;
        runs += 1;
        if latency <= 0 {
            continue;
        }
        if latency > max_latency {
            max_latency = latency;
            out(format!("Max latency so far: {max_latency} microseconds.\n").as_bytes());
        }
        let avg_us = run_time_us as f64 / runs as f64;
        let avg_ns = avg_us * 1e3;
        if signals::cancelled() || us(end) > test_end {
            out(format!(
                "\n{runs} total runs (avg latency: {avg_us:.4} microseconds / {avg_ns:.2} nanoseconds per run).\n"
            )
            .as_bytes());
            out(format!(
                "Worst run took {:.0}x longer than the average latency.\n",
                max_latency as f64 / avg_us
            )
            .as_bytes());
            return 0;
        }
    }
}
