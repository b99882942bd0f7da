//! The suite's redis-benchmark: Redis 7.0's options, tests and reports, with
//! HdrHistogram latencies and a few extras (`--hdr-out`, `--json`, `--rps`,
//! `--duration`).
//!
//! - [`options`] / [`uri`]: the command line.
//! - [`suite`]: the built-in tests.
//! - [`engine`]: connections, pipelines, threads, cluster routing.
//! - [`report`]: the printed reports and the files.
//! - [`conn`], [`tls`], [`setup`], [`cluster`]: connections and start-up queries.
//!
//! Beyond Redis (none changes the default output; `--help` stays Redis's text):
//! - `--hdr-out FILE`: each test's latency distribution as HdrHistogram `.hgrm`
//!   text (milliseconds). With several tests, FILE gets the test's name before its
//!   extension (`lat.hgrm` → `lat.SET.hgrm`).
//! - `--json FILE`: every test's figures and percentile rows, rewritten after each test.
//! - `--rps N`: a fixed total request rate shared by the clients; latencies are
//!   measured from each request's scheduled send time, so a stalled server shows
//!   up in them (coordinated omission corrected). Timers have millisecond
//!   resolution, so very high per-client rates are approximate.
//! - `--duration SECONDS`: run each test for that long instead of `-n` requests.
//! - `-t xadd`: XADD (`XADD mystream * myfield DATA`), which Redis 7.0 lacks; never
//!   part of the default run.
//! - Ctrl-C prints the running test's partial report and exits with code 130.

pub mod cluster;
pub mod conn;
pub mod engine;
pub mod options;
pub mod report;
pub mod setup;
pub mod suite;
pub mod tls;
pub mod uri;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use redis_formats::command::encode_command;

use crate::engine::{Plan, RunCtx};
use crate::options::Options;
use crate::report::{Header, JsonTest, ServerInfo};

/// The Redis version we are a drop-in for.
pub const VERSION: &str = "7.0.15";

/// Exit code after Ctrl-C ended a run (its partial report printed).
pub const INTERRUPTED_EXIT: i32 = 130;

fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

/// Runs redis-benchmark with these arguments (program name excluded); returns the exit code.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let o = match options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            out(&e.stdout);
            eprint!("{}", e.stderr);
            return e.code;
        }
    };
    for w in &o.warnings {
        eprintln!("{w}");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    run(&rt, o)
}

fn prefix_for(o: &Options, with_select: bool) -> (Vec<u8>, usize) {
    let mut buf = Vec::new();
    let mut n = 0;
    if let Some(pass) = &o.auth {
        let mut a: Vec<&[u8]> = vec![b"AUTH"];
        if let Some(u) = &o.user {
            a.push(u);
        }
        a.push(pass);
        encode_command(&a, &mut buf);
        n += 1;
    }
    if o.enable_tracking {
        encode_command(&["CLIENT", "TRACKING", "on"], &mut buf);
        n += 1;
    }
    if o.dbnum != 0 && with_select {
        encode_command(&["SELECT".to_string(), o.dbnum.to_string()], &mut buf);
        n += 1;
    }
    if o.resp3 {
        encode_command(&["HELLO", "3"], &mut buf);
        n += 1;
    }
    (buf, n)
}

fn run(rt: &tokio::runtime::Runtime, mut o: Options) -> i32 {
    let tls = if o.tls.enabled {
        match tls::setup(&o.tls) {
            Ok(t) => Some(Arc::new(t)),
            Err(e) => {
                eprintln!("Could not negotiate a TLS connection: {e}");
                return 1;
            }
        }
    } else {
        None
    };
    let target = conn::Target {
        host: o.host.clone(),
        port: o.port,
        socket: o.socket.clone(),
        tls,
        auth: o.auth.clone().map(|p| (o.user.clone(), p)),
    };
    let mut info = ServerInfo::default();
    let mut cluster_state = None;
    if o.cluster {
        let nodes = rt.block_on(setup::cluster_nodes(&target));
        if nodes.len() <= 1 {
            eprintln!("Invalid cluster: {} node(s).", nodes.len());
            return 1;
        }
        out(&format!("Cluster has {} master nodes:\n\n", nodes.len()));
        let mut cfgs = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            out(&format!("Master {i}: {} {}:{}\n", n.name, n.ip, n.port));
            let cfg = rt.block_on(setup::server_config(&target.with_addr(&n.ip, n.port)));
            if cfg.is_none() {
                eprintln!("WARNING: Could not fetch node CONFIG {}:{}", n.ip, n.port);
            }
            cfgs.push(cfg);
        }
        out("\n");
        if o.threads == 0 {
            o.threads = nodes.len();
        }
        info.cluster = Some(cfgs);
        cluster_state = Some(Arc::new(engine::ClusterState::new(nodes, target.clone())));
    } else {
        info.config = rt.block_on(setup::server_config(&target));
        if info.config.is_none() {
            eprintln!("WARNING: Could not fetch server CONFIG");
        }
    }
    if !o.keepalive {
        eprintln!("WARNING: Keepalive disabled. You probably need 'echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse' for Linux and 'sudo sysctl -w net.inet.tcp.msl=1000' for Mac OS X in order to use a lot of clients/requests");
    }
    if !o.command.is_empty() && o.tests.is_some() {
        eprintln!("WARNING: Option -t is ignored.");
    }
    let run = Arc::new(RunCtx {
        target,
        cluster: cluster_state,
        prefix: prefix_for(&o, true),
        cluster_prefix: prefix_for(&o, false),
        clients: o.clients,
        threads: o.threads,
        requests: if o.duration.is_some() {
            u64::MAX
        } else {
            o.requests
        },
        duration: o.duration.map(Duration::from_secs_f64),
        keepalive: o.keepalive,
        keyspace: o.keyspace,
        pipeline: o.pipeline,
        rps: o.rps,
        precision: o.precision,
        csv: o.csv,
    });
    if o.idle {
        out(&format!(
            "Creating {} idle connections and waiting forever (Ctrl+C when done)\n",
            o.clients
        ));
        engine::run_idle(rt, &run, &mut engine::Interrupt::default());
    }
    if o.csv {
        out(report::CSV_HEADER);
    }
    let mut sess = Session {
        files: Files::new(&o),
        info,
        intr: engine::Interrupt::default(),
    };
    if !o.command.is_empty() {
        let title = o
            .command
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let mut args = o.command.clone();
        if o.stdin_arg {
            let mut data = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut data) {
                eprintln!("Reading from standard input: {}", conn::errstr(&e));
                return 1;
            }
            args.push(data);
        }
        let mut cmd = Vec::new();
        encode_command(&args, &mut cmd);
        sess.files.single = true;
        loop {
            let plan = Plan::new(&title, &cmd, o.pipeline, o.keyspace.is_some(), o.cluster);
            if let Some(code) = one(rt, &run, &o, plan, cmd.len(), &mut sess) {
                return code;
            }
            if !o.loop_forever {
                return 0;
            }
        }
    }
    let tag = if o.cluster { ":{tag}" } else { "" };
    let mut data_gen = suite::DataGen::default();
    loop {
        let data = data_gen.generate(o.datasize);
        let tests = suite::default_tests(&o.tests, &data, tag, o.keyspace.is_some());
        sess.files.single = tests.len() == 1;
        for t in tests {
            let mut cmd = Vec::new();
            if t.inline {
                cmd.extend_from_slice(&t.args.join(&b' '));
                cmd.extend_from_slice(b"\r\n");
            } else {
                encode_command(&t.args, &mut cmd);
            }
            let plan = Plan::new(&t.title, &cmd, o.pipeline, o.keyspace.is_some(), o.cluster);
            if let Some(code) = one(rt, &run, &o, plan, o.datasize, &mut sess) {
                return code;
            }
        }
        if !o.csv {
            out("\n");
        }
        if !o.loop_forever {
            return 0;
        }
    }
}

/// What a run carries from test to test.
struct Session {
    files: Files,
    info: ServerInfo,
    intr: engine::Interrupt,
}

/// The extra output files and what was written to them so far.
struct Files {
    hdr_out: Option<String>,
    json_out: Option<String>,
    json: Vec<JsonTest>,
    /// Only one test in the run: `--hdr-out` names the file itself.
    single: bool,
}

impl Files {
    fn new(o: &Options) -> Self {
        Files {
            hdr_out: o.hdr_out.clone(),
            json_out: o.json_out.clone(),
            json: Vec::new(),
            single: true,
        }
    }

    /// `--hdr-out FILE` for one test; with several, `FILE` gets the test's
    /// name before its extension (`out.hgrm` → `out.SET.hgrm`).
    fn hdr_path(&self, title: &str) -> Option<String> {
        let base = self.hdr_out.as_ref()?;
        if self.single {
            return Some(base.clone());
        }
        let name: String = title
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
            .trim_end_matches('_')
            .to_string();
        let p = std::path::Path::new(base);
        Some(match (p.file_stem(), p.extension()) {
            (Some(stem), Some(ext)) => p
                .with_file_name(format!(
                    "{}.{name}.{}",
                    stem.to_string_lossy(),
                    ext.to_string_lossy()
                ))
                .to_string_lossy()
                .into_owned(),
            _ => format!("{base}.{name}"),
        })
    }

    fn write(&mut self, r: &report::TestResult, rps: Option<u64>) -> Result<(), String> {
        if let Some(path) = self.hdr_path(&r.title) {
            std::fs::write(&path, report::hgrm(&r.hist))
                .map_err(|e| format!("{path}: {}", conn::errstr(&e)))?;
        }
        if let Some(path) = &self.json_out {
            self.json.push(JsonTest::from_result(r, rps));
            let text = serde_json::to_string_pretty(&serde_json::json!({ "tests": self.json }))
                .expect("json");
            std::fs::write(path, text + "\n")
                .map_err(|e| format!("{path}: {}", conn::errstr(&e)))?;
        }
        Ok(())
    }
}

/// Runs one test and prints its report; `Some(code)` ends the program.
fn one(
    rt: &tokio::runtime::Runtime,
    run: &Arc<RunCtx>,
    o: &Options,
    plan: Plan,
    datasize: usize,
    sess: &mut Session,
) -> Option<i32> {
    let Session { files, info, intr } = sess;
    let outcome = engine::run_test(rt, run, plan, intr);
    let r = &outcome.result;
    let text = if o.csv {
        report::csv(r)
    } else if o.quiet {
        report::quiet(r, outcome.last_printed)
    } else {
        report::full(
            r,
            &Header {
                clients: o.clients,
                datasize,
                keepalive: o.keepalive,
                threads: run.threads,
                server: info,
            },
            outcome.last_printed,
        )
    };
    out(&text);
    if let Err(e) = files.write(r, o.rps) {
        eprintln!("Could not write {e}");
        return Some(1);
    }
    if outcome.interrupted {
        return Some(INTERRUPTED_EXIT);
    }
    None
}
