//! The load generator: many connections spread over threads, each running
//! pre-encoded pipelines of requests and counting the replies.
//!
//! Every thread runs a single-threaded tokio runtime with its connections as
//! local tasks and its own latency histogram; the histograms are merged when
//! the test ends. Counters shared by all threads (requests issued, finished,
//! latency sums for the live line) are atomics, as in Redis.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use redis_formats::skip::skip_reply;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::{JoinSet, LocalSet};

use crate::cluster::{self, Node};
use crate::conn::{self, Target};
use crate::report::{self, TestResult};

/// Prints to stderr, flushes stdout and exits with code 1, like Redis's `exit(1)` paths.
pub fn fatal(msg: &str) -> ! {
    let _ = std::io::stdout().flush();
    eprintln!("{msg}");
    std::process::exit(1)
}

/// The cluster's masters, shared by every client and updated after MOVED/ASK.
pub struct ClusterState {
    pub nodes: Mutex<Vec<Node>>,
    /// Bumped at each slot map update.
    pub version: AtomicU64,
    fetching: AtomicBool,
    /// Settings to connect to nodes (TLS, auth are the run's).
    pub template: Target,
}

impl ClusterState {
    /// Wraps the masters read at start-up.
    pub fn new(nodes: Vec<Node>, template: Target) -> Self {
        ClusterState {
            nodes: Mutex::new(nodes),
            version: AtomicU64::new(0),
            fetching: AtomicBool::new(false),
            template,
        }
    }
}

/// Settings shared by every test of a run.
pub struct RunCtx {
    pub target: Target,
    pub cluster: Option<Arc<ClusterState>>,
    /// AUTH / CLIENT TRACKING / SELECT / HELLO sent before the first batch of a
    /// connection, and how many replies they owe. Cluster connections skip SELECT.
    pub prefix: (Vec<u8>, usize),
    pub cluster_prefix: (Vec<u8>, usize),
    pub clients: usize,
    pub threads: usize,
    /// `-n`, or `u64::MAX` with `--duration`.
    pub requests: u64,
    pub duration: Option<Duration>,
    pub keepalive: bool,
    pub keyspace: Option<u64>,
    pub pipeline: usize,
    pub rps: Option<u64>,
    pub precision: u8,
    pub csv: bool,
}

/// One test: the pipeline buffer and where its placeholders are.
pub struct Plan {
    pub title: String,
    /// `pipeline` copies of the encoded command.
    pub batch: Vec<u8>,
    /// Offsets of each `__rand_int__` in `batch`.
    pub rand_offsets: Vec<usize>,
    /// Offsets of each `{tag}` in `batch` (cluster mode only).
    pub tag_offsets: Vec<usize>,
}

impl Plan {
    /// Builds the buffer of `pipeline` copies of `cmd` and finds its placeholders.
    pub fn new(title: &str, cmd: &[u8], pipeline: usize, random: bool, cluster: bool) -> Plan {
        let batch = cmd.repeat(pipeline);
        let find = |pat: &[u8]| {
            let mut v = Vec::new();
            let mut i = 0;
            while i + pat.len() <= batch.len() {
                if &batch[i..i + pat.len()] == pat {
                    v.push(i);
                    i += pat.len();
                } else {
                    i += 1;
                }
            }
            v
        };
        Plan {
            title: title.to_string(),
            rand_offsets: if random {
                find(b"__rand_int__")
            } else {
                Vec::new()
            },
            tag_offsets: if cluster { find(b"{tag}") } else { Vec::new() },
            batch,
        }
    }
}

/// Writes `r` as 12 zero-padded digits (the low 12 digits, like Redis).
pub fn write_rand(dst: &mut [u8], mut r: u64) {
    for d in dst[..12].iter_mut().rev() {
        *d = b'0' + (r % 10) as u8;
        r /= 10;
    }
}

/// Counters shared by the threads of one test.
struct Shared {
    issued: AtomicU64,
    finished: AtomicU64,
    lat_sum: AtomicU64,
    lat_count: AtomicU64,
    live: AtomicUsize,
    /// Clients that left because writing to the server failed.
    write_failures: AtomicUsize,
    stop: AtomicBool,
    start: Instant,
    deadline: Option<Instant>,
}

/// How a test ended.
pub struct Outcome {
    pub result: TestResult,
    pub interrupted: bool,
    /// Width of the last progress line, for the report's clearing prefix.
    pub last_printed: usize,
}

/// SIGINT, caught from the first test on (before that Ctrl-C ends the program
/// as usual); the handler stays, so a Ctrl-C between two tests is not lost.
#[derive(Default)]
pub struct Interrupt(Option<tokio::signal::unix::Signal>);

impl Interrupt {
    fn listen(&mut self, rt: &tokio::runtime::Runtime) -> &mut tokio::signal::unix::Signal {
        self.0.get_or_insert_with(|| {
            let _guard = rt.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .expect("SIGINT handler")
        })
    }
}

/// Runs one test to its end (or to Ctrl-C) and returns its figures.
pub fn run_test(
    rt: &tokio::runtime::Runtime,
    run: &Arc<RunCtx>,
    plan: Plan,
    intr: &mut Interrupt,
) -> Outcome {
    let sig = intr.listen(rt);
    let plan = Arc::new(plan);
    let start = Instant::now();
    let sh = Arc::new(Shared {
        issued: AtomicU64::new(0),
        finished: AtomicU64::new(0),
        lat_sum: AtomicU64::new(0),
        lat_count: AtomicU64::new(0),
        live: AtomicUsize::new(run.clients),
        write_failures: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        start,
        deadline: run.duration.map(|d| start + d),
    });
    let last_printed = Rc::new(std::cell::Cell::new(0usize));
    let interrupted;
    let hist;
    if run.threads == 0 {
        let h = Rc::new(RefCell::new(report::new_histogram(run.precision)));
        let local = LocalSet::new();
        interrupted = local.block_on(rt, async {
            let mut set = JoinSet::new();
            for i in 0..run.clients {
                set.spawn_local(client(
                    i,
                    0,
                    run.clone(),
                    plan.clone(),
                    sh.clone(),
                    h.clone(),
                ));
            }
            let all = async { while set.join_next().await.is_some() {} };
            tokio::select! {
                _ = all => false,
                _ = progress(&sh, run, &plan.title, &last_printed, false) => false,
                _ = sig.recv() => true,
            }
        });
        drop(local);
        hist = Rc::try_unwrap(h)
            .map(|c| c.into_inner())
            .unwrap_or_else(|rc| rc.borrow().clone());
    } else {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (htx, mut hrx) = tokio::sync::mpsc::unbounded_channel();
        let mut handles = Vec::new();
        for t in 0..run.threads {
            let (run, plan, sh, mut stop_rx) =
                (run.clone(), plan.clone(), sh.clone(), stop_rx.clone());
            let htx = htx.clone();
            handles.push(std::thread::spawn(move || {
                let trt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let h = Rc::new(RefCell::new(report::new_histogram(run.precision)));
                let local = LocalSet::new();
                local.block_on(&trt, async {
                    let mut set = JoinSet::new();
                    for i in (t..run.clients).step_by(run.threads) {
                        set.spawn_local(client(
                            i,
                            t,
                            run.clone(),
                            plan.clone(),
                            sh.clone(),
                            h.clone(),
                        ));
                    }
                    let all = async { while set.join_next().await.is_some() {} };
                    tokio::select! {
                        _ = all => {}
                        _ = stop_rx.wait_for(|s| *s) => {}
                    }
                });
                drop(local);
                let out = h.borrow().clone();
                let _ = htx.send(out);
            }));
        }
        drop(htx);
        let mut merged = report::new_histogram(run.precision);
        let local = LocalSet::new();
        interrupted = local.block_on(rt, async {
            let collect = async {
                while let Some(h) = hrx.recv().await {
                    merged.add(&h).expect("same histogram bounds");
                }
            };
            tokio::pin!(collect);
            let stopped = tokio::select! {
                _ = &mut collect => false,
                _ = progress(&sh, run, &plan.title, &last_printed, false) => false,
                _ = sig.recv() => true,
            };
            if stopped {
                sh.stop.store(true, Relaxed);
                let _ = stop_tx.send(true);
                collect.await;
            }
            stopped
        });
        for h in handles {
            let _ = h.join();
        }
        hist = merged;
    }
    let elapsed_ms = start.elapsed().as_millis() as u64;
    let finished = sh.finished.load(Relaxed);
    Outcome {
        result: TestResult {
            title: plan.title.clone(),
            finished,
            elapsed_ms,
            hist,
        },
        interrupted,
        last_printed: last_printed.get(),
    }
}

/// Prints the live line every 250 ms (the first after 1 ms) and aborts when
/// every client is gone before the end. Never returns on its own.
async fn progress(
    sh: &Shared,
    run: &RunCtx,
    title: &str,
    last_printed: &std::cell::Cell<usize>,
    idle: bool,
) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut prev_tick = sh.start;
    let (mut prev_finished, mut prev_sum, mut prev_count) = (0u64, 0u64, 0u64);
    loop {
        let finished = sh.finished.load(Relaxed);
        if sh.live.load(Relaxed) == 0 && sh.write_failures.load(Relaxed) > 0 && !idle {
            fatal("All clients disconnected... aborting.");
        }
        if !run.csv {
            let mut out = std::io::stdout().lock();
            if idle {
                let _ = write!(out, "clients: {}\r", sh.live.load(Relaxed));
            } else {
                let now = Instant::now();
                let dt = (now - sh.start).as_millis() as f32 / 1000.0;
                let rps = finished as f32 / dt;
                let idt = (now - prev_tick).as_millis() as f32 / 1000.0;
                let irps = (finished - prev_finished) as f32 / idt;
                let (sum, count) = (sh.lat_sum.load(Relaxed), sh.lat_count.load(Relaxed));
                let mean = |s: u64, c: u64| {
                    if c == 0 {
                        0.0
                    } else {
                        s as f64 / c as f64 / 1000.0
                    }
                };
                let line = report::progress(
                    title,
                    irps as f64,
                    rps as f64,
                    mean(sum - prev_sum, count - prev_count),
                    mean(sum, count),
                );
                let _ = write!(out, "{}{}", report::clear(last_printed.get()), line);
                last_printed.set(line.len());
                prev_tick = now;
                (prev_finished, prev_sum, prev_count) = (finished, sum, count);
            }
            let _ = out.flush();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Which node (and so which address and prefix) client `i` of thread `t` uses.
fn pick_target(run: &RunCtx, i: usize, t: usize) -> (Target, Option<usize>) {
    match &run.cluster {
        None => (run.target.clone(), None),
        Some(c) => {
            let nodes = c.nodes.lock().expect("cluster lock");
            let n = nodes.len();
            let idx = if run.threads < n { i % n } else { t % n };
            (
                c.template.with_addr(&nodes[idx].ip, nodes[idx].port),
                Some(idx),
            )
        }
    }
}

/// The first text line of an error reply, without its type byte.
fn error_text(reply: &[u8]) -> String {
    let body = &reply[1..];
    let body = if reply[0] == b'!' {
        // Blob error: skip the length line.
        let nl = body.iter().position(|&c| c == b'\n').map_or(0, |p| p + 1);
        &body[nl..]
    } else {
        body
    };
    let end = body.iter().position(|&c| c == b'\r').unwrap_or(body.len());
    String::from_utf8_lossy(&body[..end]).into_owned()
}

/// One benchmark connection: sends its pipeline, counts replies, repeats.
async fn client(
    i: usize,
    t: usize,
    run: Arc<RunCtx>,
    plan: Arc<Plan>,
    sh: Arc<Shared>,
    hist: Rc<RefCell<Histogram<u64>>>,
) {
    let (target, node) = pick_target(&run, i, t);
    let (prefix, prefix_count) = if node.is_some() {
        &run.cluster_prefix
    } else {
        &run.prefix
    };
    let p = run.pipeline as u64;
    let mut batch = plan.batch.clone();
    let mut rng = fastrand::Rng::new();
    let mut rbuf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut rpos: usize;
    // Fixed-rate mode: this client's share of the rate, staggered among clients.
    let interval = run
        .rps
        .map(|r| Duration::from_secs_f64(run.pipeline as f64 * run.clients as f64 / r as f64));
    let mut next_send = interval.map(|iv| sh.start + iv.mul_f64(i as f64 / run.clients as f64));
    let mut slot_rr = i;
    let hostdesc = target.describe();
    loop {
        let mut stream = match conn::connect(&target).await {
            Ok(s) => s,
            Err(e) => fatal(&e.message(&target)),
        };
        let mut prefix_pending = *prefix_count;
        // Nothing read on a previous connection belongs to this one.
        rbuf.clear();
        rpos = 0;
        loop {
            if sh.stop.load(Relaxed) || sh.deadline.is_some_and(|d| Instant::now() >= d) {
                sh.live.fetch_sub(1, Relaxed);
                return;
            }
            if sh.issued.fetch_add(p, Relaxed) >= run.requests {
                sh.live.fetch_sub(1, Relaxed);
                return;
            }
            if let Some(ks) = run.keyspace {
                for &off in &plan.rand_offsets {
                    let r = if ks == 0 { 0 } else { rng.u64(0..ks) };
                    write_rand(&mut batch[off..off + 12], r);
                }
            }
            let mut cluster_version = 0;
            if let (Some(c), Some(idx)) = (&run.cluster, node) {
                if !plan.tag_offsets.is_empty() {
                    let nodes = c.nodes.lock().expect("cluster lock");
                    cluster_version = c.version.load(Relaxed);
                    let slots = &nodes[idx].slots;
                    if !slots.is_empty() {
                        slot_rr = slot_rr.wrapping_add(1);
                        let slot = slots[slot_rr % slots.len()];
                        for &off in &plan.tag_offsets {
                            cluster::write_tag(&mut batch[off..off + 5], slot);
                        }
                    }
                }
            }
            let start = match (next_send, interval) {
                (Some(at), Some(iv)) => {
                    tokio::time::sleep_until(at.into()).await;
                    next_send = Some(at + iv);
                    at
                }
                _ => Instant::now(),
            };
            let res = if prefix_pending > 0 {
                let mut first = Vec::with_capacity(prefix.len() + batch.len());
                first.extend_from_slice(prefix);
                first.extend_from_slice(&batch);
                stream.write_all(&first).await
            } else {
                stream.write_all(&batch).await
            };
            if let Err(e) = res {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("Error writing to the server: {}", conn::errstr(&e));
                }
                sh.write_failures.fetch_add(1, Relaxed);
                sh.live.fetch_sub(1, Relaxed);
                return;
            }
            let mut owed = run.pipeline + prefix_pending;
            let mut counted = 0u64;
            let mut latency: Option<u64> = None;
            while owed > 0 {
                match skip_reply(&rbuf[rpos..]) {
                    Ok(Some(s)) => {
                        let reply = &rbuf[rpos..rpos + s.len];
                        if s.push {
                            rpos += s.len;
                            continue;
                        }
                        if s.error {
                            let msg = error_text(reply);
                            if prefix_pending == 0 && node.is_some() && !plan.tag_offsets.is_empty()
                            {
                                if msg.starts_with("MOVED") || msg.starts_with("ASK") {
                                    refetch_slots(
                                        run.cluster.as_ref().expect("cluster"),
                                        cluster_version,
                                    )
                                    .await;
                                } else if msg.starts_with("CLUSTERDOWN") {
                                    eprintln!("Error from server {hostdesc}: {msg}.");
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                    refetch_slots(
                                        run.cluster.as_ref().expect("cluster"),
                                        cluster_version,
                                    )
                                    .await;
                                } else {
                                    fatal(&format!("Error from server {hostdesc}: {msg}"));
                                }
                            } else if node.is_some() {
                                fatal(&format!("Error from server {hostdesc}: {msg}"));
                            } else {
                                fatal(&format!("Error from server: {msg}"));
                            }
                        }
                        rpos += s.len;
                        owed -= 1;
                        if prefix_pending > 0 {
                            prefix_pending -= 1;
                        } else {
                            counted += 1;
                        }
                    }
                    Ok(None) => {
                        if rpos > 0 {
                            rbuf.drain(..rpos);
                            rpos = 0;
                        }
                        if rbuf.capacity() - rbuf.len() < 16 * 1024 {
                            rbuf.reserve(64 * 1024);
                        }
                        match stream.read_buf(&mut rbuf).await {
                            Ok(0) => fatal("Error: Server closed the connection"),
                            Ok(_) => {}
                            Err(e) => fatal(&format!("Error: {}", conn::errstr(&e))),
                        }
                        if latency.is_none() {
                            latency = Some(start.elapsed().as_micros() as u64);
                        }
                    }
                    Err(e) => fatal(&format!("Error: {}", e.0)),
                }
            }
            let lat = latency.unwrap_or(0).min(report::HIST_HIGH);
            let before = sh.finished.fetch_add(counted, Relaxed);
            let record = counted.min(run.requests.saturating_sub(before));
            if record > 0 {
                let _ = hist.borrow_mut().record_n(lat, record);
                sh.lat_sum.fetch_add(lat * record, Relaxed);
                sh.lat_count.fetch_add(record, Relaxed);
            }
            if !run.keepalive {
                break;
            }
        }
    }
}

/// Re-reads CLUSTER SLOTS after a redirection, unless another client already
/// did since `seen_version` or is doing it now.
async fn refetch_slots(c: &ClusterState, seen_version: u64) {
    if c.version.load(Relaxed) != seen_version || c.fetching.swap(true, Relaxed) {
        return;
    }
    eprintln!("WARNING: Cluster slots configuration changed, fetching new one...");
    let errmsg = "Failed to update cluster slots configuration";
    let first = {
        let nodes = c.nodes.lock().expect("cluster lock");
        c.template.with_addr(&nodes[0].ip, nodes[0].port)
    };
    let Some(mut conn) = crate::setup::context(&first).await else {
        fatal(errmsg);
    };
    let reply = match conn.command(&["CLUSTER", "SLOTS"]).await {
        Ok(r) => r,
        Err(_) => fatal(errmsg),
    };
    if let redis_formats::RespValue::Error(e) = &reply {
        fatal(&format!(
            "{errmsg}\nCLUSTER SLOTS ERROR: {}",
            String::from_utf8_lossy(e)
        ));
    }
    let fresh = match cluster::parse_slots(&reply) {
        Ok(n) => n,
        Err(e) => fatal(&format!("{errmsg}: {e}")),
    };
    {
        let mut nodes = c.nodes.lock().expect("cluster lock");
        for n in nodes.iter_mut() {
            n.slots.clear();
        }
        for f in fresh {
            match nodes.iter_mut().find(|n| n.name == f.name) {
                Some(n) => n.slots = f.slots,
                None => fatal(&format!(
                    "{errmsg}: could not find node with ID {} in current configuration.",
                    f.name
                )),
            }
        }
        c.version.fetch_add(1, Relaxed);
    }
    c.fetching.store(false, Relaxed);
}

/// `-I`: opens the connections and waits forever, reporting errors.
pub fn run_idle(rt: &tokio::runtime::Runtime, run: &Arc<RunCtx>, intr: &mut Interrupt) -> ! {
    let sig = intr.listen(rt);
    let sh = Shared {
        issued: AtomicU64::new(0),
        finished: AtomicU64::new(0),
        lat_sum: AtomicU64::new(0),
        lat_count: AtomicU64::new(0),
        live: AtomicUsize::new(0),
        write_failures: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        start: Instant::now(),
        deadline: None,
    };
    let sh = Arc::new(sh);
    let last = std::cell::Cell::new(0);
    let local = LocalSet::new();
    local.block_on(rt, async {
        for i in 0..run.clients {
            let (run2, sh2) = (run.clone(), sh.clone());
            tokio::task::spawn_local(async move {
                let (target, _) = pick_target(&run2, i, 0);
                // Redis connects without blocking in idle mode: a refused
                // connection or failed handshake shows up as a read error.
                let mut s = match conn::connect(&target).await {
                    Ok(s) => s,
                    Err(conn::ConnectError::Connect(e)) | Err(conn::ConnectError::Tls(e)) => {
                        fatal(&format!("Error: {e}"))
                    }
                };
                sh2.live.fetch_add(1, Relaxed);
                let mut buf = Vec::with_capacity(4096);
                loop {
                    match s.read_buf(&mut buf).await {
                        Ok(0) => fatal("Error: Server closed the connection"),
                        Ok(_) => {
                            if let Ok(Some(r)) = skip_reply(&buf) {
                                if r.error {
                                    fatal(&format!("Error from server: {}", error_text(&buf)));
                                }
                                buf.drain(..r.len);
                            }
                        }
                        Err(e) => fatal(&format!("Error: {}", conn::errstr(&e))),
                    }
                }
            });
        }
        tokio::select! {
            _ = progress(&sh, run, "", &last, true) => {}
            _ = sig.recv() => {}
        }
    });
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand_int_is_twelve_zero_padded_digits() {
        let mut b = *b"key:__rand_int__!";
        write_rand(&mut b[4..16], 42);
        assert_eq!(&b, b"key:000000000042!");
        write_rand(&mut b[4..16], 1_234_567_890_123_456);
        assert_eq!(&b[4..16], b"567890123456");
    }

    #[test]
    fn plan_finds_placeholders_in_every_pipelined_copy() {
        let mut cmd = Vec::new();
        redis_formats::command::encode_command(
            &["SET", "k:{tag}:__rand_int__", "v:__rand_int__"],
            &mut cmd,
        );
        let p = Plan::new("SET", &cmd, 3, true, true);
        assert_eq!(p.batch.len(), cmd.len() * 3);
        assert_eq!(p.rand_offsets.len(), 6);
        assert_eq!(p.tag_offsets.len(), 3);
        for &o in &p.rand_offsets {
            assert_eq!(&p.batch[o..o + 12], b"__rand_int__");
        }
        // Without -r or --cluster the placeholders are sent as they are.
        let p = Plan::new("SET", &cmd, 2, false, false);
        assert!(p.rand_offsets.is_empty() && p.tag_offsets.is_empty());
    }

    #[test]
    fn error_text_of_simple_and_blob_errors() {
        assert_eq!(
            error_text(b"-MOVED 3999 127.0.0.1:7001\r\n"),
            "MOVED 3999 127.0.0.1:7001"
        );
        assert_eq!(error_text(b"!9\r\nERR oops!\r\n"), "ERR oops!");
    }
}
