//! Reports in Redis 7.0's forms (full, `-q`, `--csv`, the live progress line)
//! and the extras: `.hgrm` percentile files and JSON.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds within Redis's bounds.
pub const HIST_LOW: u64 = 10;
pub const HIST_HIGH: u64 = 3_000_000;

/// A new histogram with Redis's bounds and `precision` significant figures.
pub fn new_histogram(precision: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(HIST_LOW, HIST_HIGH, precision.clamp(1, 5))
        .expect("valid histogram bounds")
}

/// What the run header says about the server(s).
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// `CONFIG GET save` / `appendonly` of the single server, when fetched.
    pub config: Option<(String, String)>,
    /// Cluster mode: each master's config (None when it could not be fetched).
    pub cluster: Option<Vec<Option<(String, String)>>>,
}

/// One finished (or interrupted) test.
pub struct TestResult {
    pub title: String,
    pub finished: u64,
    pub elapsed_ms: u64,
    pub hist: Histogram<u64>,
}

/// The summary figures of a result, in milliseconds like Redis prints them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub rps: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// The figures as printed (rps to 2 decimals, latencies to 3), so JSON
    /// shows the report's numbers rather than single-precision noise.
    pub fn rounded(self) -> Summary {
        let r = |v: f64, d: i32| {
            let m = 10f64.powi(d);
            (v * m).round() / m
        };
        Summary {
            rps: r(self.rps, 2),
            avg_ms: r(self.avg_ms, 3),
            min_ms: r(self.min_ms, 3),
            p50_ms: r(self.p50_ms, 3),
            p95_ms: r(self.p95_ms, 3),
            p99_ms: r(self.p99_ms, 3),
            max_ms: r(self.max_ms, 3),
        }
    }
}

impl TestResult {
    /// Redis computes these in single precision; so do we, so figures round alike.
    pub fn summary(&self) -> Summary {
        let h = &self.hist;
        let ms = |v: u64| (v as f32 / 1000.0) as f64;
        let (min, max) = if h.is_empty() {
            (0, 0)
        } else {
            (h.min(), h.max())
        };
        Summary {
            rps: (self.finished as f32 / (self.elapsed_ms as f32 / 1000.0)) as f64,
            avg_ms: (h.mean() as f32 / 1000.0) as f64,
            min_ms: ms(min),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(max),
        }
    }
}

/// Run settings shown in the full report's header.
pub struct Header<'a> {
    pub clients: usize,
    pub datasize: usize,
    pub keepalive: bool,
    pub threads: usize,
    pub server: &'a ServerInfo,
}

/// Formats a float like C's `%.Nf`, including `inf` and `-nan`.
pub fn cfmt(v: f64, prec: usize) -> String {
    if v.is_nan() {
        "-nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v:.prec$}")
    }
}

/// The blank-out that precedes every redraw of the progress line.
pub fn clear(last_printed: usize) -> String {
    format!("{:>w$}\r", " ", w = last_printed.max(1))
}

/// The full report.
pub fn full(r: &TestResult, h: &Header, last_printed: usize) -> String {
    let s = r.summary();
    let mut o = clear(last_printed);
    let _ = writeln!(o, "====== {} ======", r.title);
    let _ = writeln!(
        o,
        "  {} requests completed in {} seconds",
        r.finished,
        cfmt((r.elapsed_ms as f32 / 1000.0) as f64, 2)
    );
    let _ = writeln!(o, "  {} parallel clients", h.clients);
    let _ = writeln!(o, "  {} bytes payload", h.datasize);
    let _ = writeln!(o, "  keep alive: {}", h.keepalive as u8);
    if let Some(nodes) = &h.server.cluster {
        let _ = writeln!(o, "  cluster mode: yes ({} masters)", nodes.len());
        for (i, cfg) in nodes.iter().enumerate() {
            if let Some((save, aof)) = cfg {
                let _ = writeln!(o, "  node [{i}] configuration:");
                let _ = writeln!(
                    o,
                    "    save: {}",
                    if save.is_empty() { "NONE" } else { save }
                );
                let _ = writeln!(o, "    appendonly: {aof}");
            }
        }
    } else if let Some((save, aof)) = &h.server.config {
        let _ = writeln!(o, "  host configuration \"save\": {save}");
        let _ = writeln!(o, "  host configuration \"appendonly\": {aof}");
    }
    let _ = writeln!(
        o,
        "  multi-thread: {}",
        if h.threads > 0 { "yes" } else { "no" }
    );
    if h.threads > 0 {
        let _ = writeln!(o, "  threads: {}", h.threads);
    }
    o.push('\n');
    o.push_str("Latency by percentile distribution:\n");
    for (pct, value, count) in percentile_rows(&r.hist) {
        let _ = writeln!(
            o,
            "{pct:.3}% <= {:.3} milliseconds (cumulative count {count})",
            value as f64 / 1000.0
        );
    }
    o.push('\n');
    o.push_str("Cumulative distribution of latencies:\n");
    for (pct, value, count) in cumulative_rows(&r.hist) {
        let _ = writeln!(
            o,
            "{pct:.3}% <= {:.3} milliseconds (cumulative count {count})",
            value as f64 / 1000.0
        );
    }
    o.push('\n');
    o.push_str("Summary:\n");
    let _ = writeln!(
        o,
        "  throughput summary: {} requests per second",
        cfmt(s.rps, 2)
    );
    o.push_str("  latency summary (msec):\n");
    let _ = writeln!(
        o,
        "    {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "avg", "min", "p50", "p95", "p99", "max"
    );
    let _ = writeln!(
        o,
        "    {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
        s.avg_ms, s.min_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
    );
    o
}

/// The `-q` line.
pub fn quiet(r: &TestResult, last_printed: usize) -> String {
    let s = r.summary();
    format!(
        "{}{}: {} requests per second, p50={:.3} msec\n",
        clear(last_printed),
        r.title,
        cfmt(s.rps, 2),
        s.p50_ms
    )
}

/// The `--csv` header line.
pub const CSV_HEADER: &str = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n";

/// One `--csv` line.
pub fn csv(r: &TestResult) -> String {
    let s = r.summary();
    format!(
        "\"{}\",\"{}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\"\n",
        r.title,
        cfmt(s.rps, 2),
        s.avg_ms,
        s.min_ms,
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.max_ms
    )
}

/// The live progress line (without the clearing prefix).
pub fn progress(title: &str, inst_rps: f64, rps: f64, inst_avg_ms: f64, avg_ms: f64) -> String {
    format!(
        "{title}: rps={} (overall: {}) avg_msec={} (overall: {})\r",
        cfmt(inst_rps, 1),
        cfmt(rps, 1),
        cfmt(inst_avg_ms, 3),
        cfmt(avg_ms, 3)
    )
}

/// Rows of the percentile distribution: percentile levels halving the
/// distance to 100% (one tick per half distance), each with the highest value
/// of its bucket and the cumulative count; a row is shown when the count moved,
/// and the final 100% row always.
pub fn percentile_rows(h: &Histogram<u64>) -> Vec<(f64, u64, u64)> {
    let mut rows = Vec::new();
    let total = h.len();
    if total == 0 {
        return rows;
    }
    let mut prev = None;
    let mut cumulative = 0u64;
    for v in h.iter_quantiles(1) {
        cumulative += v.count_since_last_iteration();
        let value = h.highest_equivalent(v.value_iterated_to());
        let pct = v.quantile_iterated_to() * 100.0;
        if prev != Some(cumulative) || cumulative == total {
            rows.push((pct, value, cumulative));
        }
        prev = Some(cumulative);
    }
    rows
}

/// Rows of the cumulative distribution: 0.1 ms steps up to 2 ms, then 1 ms
/// steps, until every recorded value is counted.
pub fn cumulative_rows(h: &Histogram<u64>) -> Vec<(f64, u64, u64)> {
    let mut rows = Vec::new();
    let total = h.len();
    if total == 0 {
        return rows;
    }
    let mut step = 100u64;
    let mut upto = step;
    let mut prev = None;
    loop {
        let value = h.highest_equivalent(upto);
        let cumulative = h.count_between(0, upto);
        let pct = cumulative as f64 / total as f64 * 100.0;
        if prev != Some(cumulative) || cumulative == total {
            rows.push((pct, value, cumulative));
        }
        prev = Some(cumulative);
        if cumulative >= total {
            break;
        }
        // Like Redis's linear iterator, a new step size applies from the
        // level after the next one.
        upto += step;
        if value > 2000 {
            step = 1000;
        }
    }
    rows
}

/// The percentile distribution in HdrHistogram's `.hgrm` text (values in ms),
/// the format its plotters read.
pub fn hgrm(h: &Histogram<u64>) -> String {
    let mut o = String::new();
    o.push_str("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
    let total = h.len();
    let mut cumulative = 0u64;
    for v in h.iter_quantiles(5) {
        cumulative += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
        if q < 1.0 {
            let _ = writeln!(
                o,
                "{value:12.3} {q:14.12} {cumulative:10} {:14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(o, "{value:12.3} {q:14.12} {cumulative:10}");
        }
    }
    let (mean, sd, max) = if total == 0 {
        (0.0, 0.0, 0.0)
    } else {
        (
            h.mean() / 1000.0,
            h.stdev() / 1000.0,
            h.max() as f64 / 1000.0,
        )
    };
    let _ = writeln!(o, "#[Mean    = {mean:12.3}, StdDeviation   = {sd:12.3}]");
    let _ = writeln!(o, "#[Max     = {max:12.3}, Total count    = {total:12}]");
    let _ = writeln!(
        o,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        // HdrHistogram's sub-bucket count for this precision.
        (2 * 10u64.pow(h.sigfig() as u32)).next_power_of_two()
    );
    o
}

/// One test in the `--json` file.
#[derive(Serialize)]
pub struct JsonTest {
    pub test: String,
    pub requests: u64,
    pub seconds: f64,
    #[serde(flatten)]
    pub summary: Summary,
    /// Fixed-rate runs: the target rate; latencies are then measured from each
    /// request's scheduled send time (coordinated omission corrected).
    pub target_rps: Option<u64>,
    pub percentiles: Vec<JsonPercentile>,
}

/// One percentile row.
#[derive(Serialize)]
pub struct JsonPercentile {
    pub percentile: f64,
    pub latency_ms: f64,
    pub count: u64,
}

impl JsonTest {
    /// The JSON figures of a result.
    pub fn from_result(r: &TestResult, target_rps: Option<u64>) -> Self {
        JsonTest {
            test: r.title.clone(),
            requests: r.finished,
            seconds: r.elapsed_ms as f64 / 1000.0,
            summary: r.summary().rounded(),
            target_rps,
            percentiles: percentile_rows(&r.hist)
                .into_iter()
                .map(|(p, v, c)| JsonPercentile {
                    percentile: p,
                    latency_ms: v as f64 / 1000.0,
                    count: c,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TestResult {
        let mut hist = new_histogram(3);
        for v in [50u64, 80, 90, 120, 400, 2500, 9000] {
            hist.record(v).unwrap();
        }
        TestResult {
            title: "SET".into(),
            finished: 7,
            elapsed_ms: 10,
            hist,
        }
    }

    #[test]
    fn rows_end_with_everything_counted() {
        let r = sample();
        let p = percentile_rows(&r.hist);
        assert_eq!(p.last().unwrap().2, 7);
        assert_eq!(p.last().unwrap().0, 100.0);
        let c = cumulative_rows(&r.hist);
        assert_eq!(c.last().unwrap().2, 7);
        assert_eq!(c[0].1, 103); // Redis's first row: highest value equivalent to 100us.
        assert!(c.iter().any(|row| row.1 == 3103), "{c:?}");
    }

    #[test]
    fn text_forms() {
        let r = sample();
        assert_eq!(
            quiet(&r, 0),
            " \rSET: 700.00 requests per second, p50=0.127 msec\n"
        );
        assert!(csv(&r).starts_with("\"SET\",\"700.00\",\""));
        let f = full(
            &r,
            &Header {
                clients: 5,
                datasize: 3,
                keepalive: true,
                threads: 0,
                server: &ServerInfo::default(),
            },
            0,
        );
        assert!(f.contains("====== SET ======\n  7 requests completed in 0.01 seconds\n"));
        assert!(
            f.contains("\n          avg       min       p50       p95       p99       max\n"),
            "{f}"
        );
        assert!(f.trim_end().ends_with("9.007"), "{f}");
        assert_eq!(cfmt(f64::NAN, 1), "-nan");
    }

    #[test]
    fn hgrm_has_header_and_footer() {
        let t = hgrm(&sample().hist);
        assert!(t.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        assert!(t.contains("#[Max     =        9.007, Total count    =            7]"));
        assert!(t.contains("SubBuckets     =         2048]"), "{t}");
    }
}
