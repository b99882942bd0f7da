//! `--stat` rolling server statistics and the `--lru-test` workload.

use super::reconnecting_command;
use crate::session::{err, out, Session};
use redis_formats::RespValue;
use std::time::{Duration, Instant};

/// An INFO field (`name:value`), cut at `\r` or `,` like Redis does.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    let p = info.find(field)? + field.len() + 1;
    let rest = info.get(p..)?;
    let end = rest.find(['\r', ',']).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn info_long(info: &str, field: &str) -> Option<i64> {
    info_field(info, field).map(|v| crate::opts::atoi(v.as_bytes()))
}

/// Redis's `bytesToHuman`: 100B, 4.00K, 2.50M, 1.00G.
pub fn bytes_to_human(n: i64) -> String {
    let (sign, n) = if n < 0 { ("-", -n) } else { ("", n) };
    let f = n as f64;
    let body = if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", f / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    };
    format!("{sign}{body}")
}

/// `--stat`: one line per interval, a header every 20 lines.
pub fn stat_mode(s: &mut Session) -> i32 {
    let mut requests: i64 = 0;
    let mut i = 0u64;
    loop {
        let info = match reconnecting_command(s, &[b"INFO"]) {
            RespValue::Error(e) => {
                err(format!("ERROR: {}\n", String::from_utf8_lossy(&e)).as_bytes());
                return 1;
            }
            v => String::from_utf8_lossy(v.as_bytes().unwrap_or(b"")).into_owned(),
        };
        let mut line = String::new();
        if i % 20 == 0 {
            line.push_str(
                "------- data ------ --------------------- load -------------------- - child -\n",
            );
            line.push_str(
                "keys       mem      clients blocked requests            connections          \n",
            );
        }
        i += 1;
        let keys: i64 = (0..20)
            .filter_map(|j| info_long(&info, &format!("db{j}:keys")))
            .sum();
        let l = |f: &str| info_long(&info, f).unwrap_or(i64::MIN);
        line.push_str(&format!("{:<11}", keys));
        line.push_str(&format!("{:<8}", bytes_to_human(l("used_memory"))));
        line.push_str(&format!(" {:<8}", l("connected_clients")));
        line.push_str(&format!("{:<8}", l("blocked_clients")));
        let total = l("total_commands_processed");
        let delta = if requests == 0 { 0 } else { total - requests };
        line.push_str(&format!("{:<19}", format!("{total} (+{delta})")));
        requests = total;
        line.push_str(&format!(" {:<12}", l("total_connections_received")));
        let child =
            l("bgsave_in_progress") | (l("aof_rewrite_in_progress") << 1) | (l("loading") << 2);
        line.push_str(match child {
            1 => "SAVE",
            2 => "AOF",
            3 => "SAVE+AOF",
            4 => "LOAD",
            _ => "",
        });
        line.push('\n');
        out(line.as_bytes());
        std::thread::sleep(Duration::from_micros(s.cfg.interval_us.max(0) as u64));
    }
}

/// A small xorshift generator (the workload only needs cheap randomness).
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A power-law pick in [min, max]; alpha 6.2 gives the 80-20 rule.
fn power_law(rng: &mut Rng, min: i64, max: i64, alpha: f64) -> i64 {
    let max = max + 1;
    let r = rng.next_f64();
    let (mn, mx) = (min as f64, max as f64);
    let pl = ((mx.powf(alpha + 1.0) - mn.powf(alpha + 1.0)) * r + mn.powf(alpha + 1.0))
        .powf(1.0 / (alpha + 1.0));
    (max - 1 - pl as i64) + min
}

/// `--lru-test N`: 50% SET / 50% GET cycles of one second over N keys with
/// an 80-20 access pattern, printing hit rates.
pub fn lru_test(s: &mut Session, keyspace: i64) -> i32 {
    const PIPELINE: usize = 250;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ std::process::id() as u64;
    let mut rng = Rng(seed | 1);
    let Some(c) = s.conn.as_mut() else { return 1 };
    loop {
        let start = Instant::now();
        let (mut hits, mut misses) = (0i64, 0i64);
        while start.elapsed() < Duration::from_millis(1000) {
            let mut buf = Vec::new();
            for _ in 0..PIPELINE {
                let val: Vec<u8> = (0..5)
                    .map(|_| b'A' + (rng.next_f64() * (b'z' - b'A') as f64) as u8)
                    .collect();
                let key = format!("lru:{}", power_law(&mut rng, 1, keyspace, 6.2));
                redis_formats::command::encode_command(
                    &[&b"SET"[..], key.as_bytes(), &val],
                    &mut buf,
                );
            }
            for _ in 0..PIPELINE {
                let key = format!("lru:{}", power_law(&mut rng, 1, keyspace, 6.2));
                redis_formats::command::encode_command(&[&b"GET"[..], key.as_bytes()], &mut buf);
            }
            if c.write_all(&buf).is_err() {
                err(b"I/O error during LRU test\n");
                return 1;
            }
            for j in 0..2 * PIPELINE {
                match c.read_reply() {
                    Err(_) => {
                        err(b"I/O error during LRU test\n");
                        return 1;
                    }
                    Ok(RespValue::Error(e)) if j >= PIPELINE => {
                        err(&[&e[..], b"\n"].concat());
                    }
                    Ok(_) if j < PIPELINE => {}
                    Ok(RespValue::Nil) => misses += 1,
                    Ok(_) => hits += 1,
                }
            }
        }
        let tot = (hits + misses) as f64;
        out(format!(
            "{} Gets/sec | Hits: {} ({:.2}%) | Misses: {} ({:.2}%)\n",
            hits + misses,
            hits,
            hits as f64 / tot * 100.0,
            misses,
            misses as f64 / tot * 100.0
        )
        .as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(-2 * 1024 * 1024), "-2.00M");
    }

    #[test]
    fn info_fields() {
        let info = "# Keyspace\r\ndb0:keys=5,expires=0\r\nused_memory:1000\r\n";
        assert_eq!(info_long(info, "db0:keys"), Some(5));
        assert_eq!(info_long(info, "used_memory"), Some(1000));
        assert_eq!(info_long(info, "db1:keys"), None);
    }
}
