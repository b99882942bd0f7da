//! What the server records about itself: the slow log, latency events, MONITOR feeds
//! and the instantaneous rates of INFO.

use crate::client::Client;
use crate::state::Server;
use std::collections::{BTreeMap, VecDeque};

/// Most arguments a slow log entry keeps, and most bytes per argument.
const SLOWLOG_MAX_ARGS: usize = 32;
const SLOWLOG_MAX_ARG_LEN: usize = 128;

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub time: i64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

/// The slow log: newest first, bounded by `slowlog-max-len`.
#[derive(Debug, Default)]
pub struct SlowLog {
    pub entries: VecDeque<SlowLogEntry>,
    pub next_id: u64,
}

impl SlowLog {
    /// An empty log.
    pub fn new(_max: usize) -> Self {
        SlowLog::default()
    }

    /// Records a command that ran at least `threshold_us` (a negative threshold
    /// disables the log; 0 logs everything).
    #[allow(clippy::too_many_arguments)] // the dispatcher's per-command values, unbundled
    pub fn push_if_needed(
        &mut self,
        argv: &[&[u8]],
        duration_us: u64,
        now_s: i64,
        client: &Client,
        threshold_us: i64,
        max_len: i64,
        redacted: u64,
    ) {
        if threshold_us < 0 || (duration_us as i64) < threshold_us {
            return;
        }
        let mut args = Vec::with_capacity(argv.len().min(SLOWLOG_MAX_ARGS));
        for (i, a) in argv.iter().enumerate() {
            if i == SLOWLOG_MAX_ARGS - 1 && argv.len() > SLOWLOG_MAX_ARGS {
                args.push(
                    format!("... ({} more arguments)", argv.len() - SLOWLOG_MAX_ARGS + 1)
                        .into_bytes(),
                );
                break;
            }
            if i < 64 && redacted & (1 << i) != 0 {
                args.push(b"(redacted)".to_vec());
            } else if a.len() > SLOWLOG_MAX_ARG_LEN {
                let mut v = a[..SLOWLOG_MAX_ARG_LEN].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARG_LEN).as_bytes(),
                );
                args.push(v);
            } else {
                args.push(a.to_vec());
            }
        }
        self.entries.push_front(SlowLogEntry {
            id: self.next_id,
            time: now_s,
            duration_us,
            args,
            peer: client.addr_string(),
            name: client.name.clone().unwrap_or_default(),
        });
        self.next_id += 1;
        self.trim(max_len);
    }

    /// Drops the oldest entries beyond `max_len`.
    pub fn trim(&mut self, max_len: i64) {
        let max = max_len.max(0) as usize;
        self.entries.truncate(max);
    }
}

/// Samples kept per latency event.
pub const LATENCY_HISTORY_LEN: usize = 160;

/// One latency event's history.
#[derive(Debug, Default, Clone)]
pub struct LatencyEvent {
    /// `(unix seconds, latency ms)`, oldest first.
    pub samples: VecDeque<(i64, u64)>,
    /// Highest latency ever recorded for the event.
    pub max: u64,
}

/// LATENCY's event histories, by event name.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    pub events: BTreeMap<String, LatencyEvent>,
}

impl LatencyMonitor {
    /// Records `latency_ms` for `event` if monitoring is on and it reaches the threshold.
    pub fn add_sample_if_needed(
        &mut self,
        event: &str,
        latency_ms: u64,
        threshold: i64,
        now_s: i64,
    ) {
        if threshold <= 0 || (latency_ms as i64) < threshold {
            return;
        }
        self.add_sample(event, latency_ms, now_s);
    }

    /// Records a sample; samples within the same second keep the highest.
    pub fn add_sample(&mut self, event: &str, latency_ms: u64, now_s: i64) {
        let ev = self.events.entry(event.to_string()).or_default();
        ev.max = ev.max.max(latency_ms);
        if let Some(last) = ev.samples.back_mut() {
            if last.0 == now_s {
                last.1 = last.1.max(latency_ms);
                return;
            }
        }
        ev.samples.push_back((now_s, latency_ms));
        if ev.samples.len() > LATENCY_HISTORY_LEN {
            ev.samples.pop_front();
        }
    }
}

/// A rolling average of a per-second rate (INFO instantaneous_* fields).
#[derive(Debug, Default, Clone)]
pub struct RateSampler {
    samples: VecDeque<f64>,
    last_value: u64,
    last_ms: i64,
}

impl RateSampler {
    const SAMPLES: usize = 16;

    /// Adds a reading of the counter `value` at `now_ms`.
    pub fn track(&mut self, value: u64, now_ms: i64) {
        if self.last_ms > 0 && now_ms > self.last_ms {
            let rate = (value.saturating_sub(self.last_value)) as f64 * 1000.0
                / (now_ms - self.last_ms) as f64;
            self.samples.push_back(rate);
            if self.samples.len() > Self::SAMPLES {
                self.samples.pop_front();
            }
        }
        self.last_value = value;
        self.last_ms = now_ms;
    }

    /// The average rate per second.
    pub fn rate(&self) -> f64 {
        if self.samples.is_empty() {
            0.0
        } else {
            self.samples.iter().sum::<f64>() / self.samples.len() as f64
        }
    }
}

/// Quotes `s` as Redis's `sdscatrepr` does (MONITOR lines, DEBUG output).
pub fn repr(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            c if (0x20..0x7f).contains(&c) => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Sends the command to every MONITOR client, as Redis formats it.
pub fn feed_monitors(srv: &mut Server, client: &Client, argv: &[&[u8]], redacted: u64) {
    let now = crate::state::now_us();
    let mut line = format!(
        "+{}.{:06} [{} ",
        now / 1_000_000,
        now % 1_000_000,
        client.db
    )
    .into_bytes();
    match &client.peer {
        _ if client.in_script => line.extend_from_slice(b"lua"),
        crate::client::Peer::Unix { path } => {
            line.extend_from_slice(format!("unix:{path}").as_bytes())
        }
        crate::client::Peer::Tcp { addr, .. } => {
            line.extend_from_slice(addr.to_string().as_bytes())
        }
    }
    line.push(b']');
    for (i, a) in argv.iter().enumerate() {
        line.push(b' ');
        if i < 64 && redacted & (1 << i) != 0 {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(a, &mut line);
        }
    }
    line.extend_from_slice(b"\r\n");
    srv.monitors.retain(|(_, ob)| !ob.is_killed());
    for (_, ob) in &srv.monitors {
        ob.send(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_escapes() {
        let mut out = Vec::new();
        repr(b"a\"b\\\n\x01", &mut out);
        assert_eq!(out, b"\"a\\\"b\\\\\\n\\x01\"");
    }

    #[test]
    fn latency_keeps_max_per_second() {
        let mut m = LatencyMonitor::default();
        m.add_sample_if_needed("command", 5, 0, 10);
        assert!(m.events.is_empty());
        m.add_sample_if_needed("command", 5, 1, 10);
        m.add_sample_if_needed("command", 9, 1, 10);
        m.add_sample_if_needed("command", 3, 1, 11);
        let ev = &m.events["command"];
        assert_eq!(ev.samples, [(10, 9), (11, 3)]);
        assert_eq!(ev.max, 9);
    }
}
