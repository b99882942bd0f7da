//! Shared by the `redis-cli --cluster` tests: cluster-enabled Debian nodes on
//! loopback ports, our redis-cli and Debian's run side by side, and the
//! masking that makes their outputs comparable (node ids, ports, dots).
#![allow(dead_code)]

#[path = "../common/bench_support.rs"]
pub mod bench_support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use bench_support::{on_path, wait_bounded, Client, Run};
use redis_formats::RespValue;

pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-cli"))
}

/// Runs a redis-cli with `args` (stdin empty, no colors), 60 s at most.
pub fn cli(bin: &PathBuf, args: &[&str]) -> Run {
    cli_with(bin, args, "dumb", b"")
}

/// Runs a redis-cli with `args`, this TERM and this stdin, 60 s at most.
pub fn cli_with(bin: &PathBuf, args: &[&str], term: &str, input: &[u8]) -> Run {
    let mut child = Command::new(bin)
        .args(args)
        .env("TERM", term)
        .env_remove("REDISCLI_CLUSTER_YES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn redis-cli");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(input);
    }
    let r = wait_bounded(child, Duration::from_secs(60));
    assert!(!r.timed_out, "redis-cli {args:?} timed out");
    r
}

/// One cluster-enabled redis-server, killed (and its directory removed) on drop.
pub struct Node {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    extra: Vec<String>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port free for both the client and the cluster bus (port + 10000).
pub fn cluster_port() -> u16 {
    loop {
        let p = 20000 + fastrand::u16(..10000);
        let a = std::net::TcpListener::bind(("127.0.0.1", p));
        let b = std::net::TcpListener::bind(("127.0.0.1", p + 10000));
        if a.is_ok() && b.is_ok() {
            return p;
        }
    }
}

/// A node with persistence off.
pub fn start_node(bin: &std::path::Path) -> Node {
    start_node_with(bin, &[])
}

/// A node with persistence off unless `extra` (more redis-server options,
/// given last) turns it on.
pub fn start_node_with(bin: &std::path::Path, extra: &[&str]) -> Node {
    let port = cluster_port();
    let dir = std::env::temp_dir().join(format!("cm-test-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut node = Node {
        child: Command::new("true").spawn().expect("spawn true"),
        port,
        dir,
        bin: bin.to_path_buf(),
        extra: extra.iter().map(|s| s.to_string()).collect(),
    };
    node.spawn();
    node
}

impl Node {
    /// Starts the server on this node's port and directory and waits (10 s
    /// at most) for it to answer.
    fn spawn(&mut self) {
        let _ = self.child.wait();
        let d = self.dir.to_str().unwrap().to_string();
        self.child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-config-file", &format!("{d}/nodes.conf")])
            .args(["--dir", &d])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = Client::connect(self.port) {
                // PONG, or NOAUTH from a node with requirepass.
                if matches!(
                    c.cmd(&["PING"]),
                    Ok(RespValue::Status(_) | RespValue::Error(_))
                ) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not start",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the server dies with no chance to save or say goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again (same port, directory and options), after
    /// [`Node::kill`].
    pub fn restart(&mut self) {
        self.spawn();
    }

    /// This node's `CLUSTER NODES` text.
    pub fn cluster_nodes(&self) -> String {
        Client::connect(self.port)
            .unwrap()
            .text(&["CLUSTER", "NODES"])
    }
}

/// Waits (20 s at most) until every node says `cluster_state:ok`.
pub fn wait_cluster_ok(nodes: &[Node]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in nodes {
        loop {
            let ok = Client::connect(n.port)
                .map(|mut c| c.text(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
                .unwrap_or(false);
            if ok {
                break;
            }
            assert!(Instant::now() < deadline, "node {} not ok", n.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn addrs(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect()
}

/// Masks node ids (full and 8-character), ports and the join dots.
pub fn mask(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let mut l = line.to_string();
        if !l.is_empty() && l.trim_end_matches('\n').chars().all(|c| c == '.') {
            l = "<dots>\n".into();
        }
        let mut masked = String::new();
        let mut word = String::new();
        let flush = |w: &mut String, m: &mut String| {
            if w.len() == 40 && w.chars().all(|c| c.is_ascii_hexdigit()) {
                m.push_str("<ID>");
            } else if w.len() == 8 && w.chars().all(|c| c.is_ascii_hexdigit()) {
                m.push_str("<SHORTID>");
            } else {
                m.push_str(w);
            }
            w.clear();
        };
        for c in l.chars() {
            if c.is_ascii_alphanumeric() {
                word.push(c);
            } else {
                flush(&mut word, &mut masked);
                masked.push(c);
            }
        }
        flush(&mut word, &mut masked);
        // 127.0.0.1:NNNNN -> 127.0.0.1:<PORT>
        let mut res = String::new();
        let mut rest = masked.as_str();
        while let Some(i) = rest.find("127.0.0.1:") {
            res.push_str(&rest[..i + 10]);
            rest = &rest[i + 10..];
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 {
                res.push_str("<PORT>");
            }
            rest = &rest[digits..];
        }
        res.push_str(rest);
        out.push_str(&res);
    }
    out
}

/// The part before the first node listing exactly, the rest (whose node
/// order follows each server's CLUSTER NODES) as sorted lines.
pub fn split_report(s: &str) -> (String, Vec<String>) {
    let m = mask(s);
    let first_listing = [">>> Performing Cluster Check", "127.0.0.1:<PORT> ("]
        .iter()
        .filter_map(|p| m.find(p))
        .min();
    let (head, tail) = match first_listing {
        Some(i) => (m[..i].to_string(), m[i..].to_string()),
        None => (m.clone(), String::new()),
    };
    let mut lines: Vec<String> = tail.lines().map(str::to_string).collect();
    lines.sort();
    (head, lines)
}

pub fn assert_same(ours: &Run, real: &Run, what: &str) {
    assert_eq!(
        ours.code(),
        real.code(),
        "{what}: exit codes\nours: {}{}\nreal: {}{}",
        ours.stdout(),
        ours.stderr(),
        real.stdout(),
        real.stderr()
    );
    assert_eq!(
        split_report(&ours.stdout()),
        split_report(&real.stdout()),
        "{what}: stdout"
    );
    assert_eq!(mask(&ours.stderr()), mask(&real.stderr()), "{what}: stderr");
}

/// Waits (30 s at most) until `check` on `addr` is clean for both tools:
/// slot changes reach the replicas by gossip, a little after the command
/// returns.
pub fn settle(addr: &str, nodes: &[Node]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    // Three clean checks in a row: a view can agree for a moment while
    // gossip is still settling.
    let mut clean = 0;
    loop {
        let o = cli(&ours(), &["--cluster", "check", addr]);
        let real_ok = on_path("redis-cli")
            .map(|r| cli(&r, &["--cluster", "check", addr]).code() == Some(0))
            .unwrap_or(true);
        if o.code() == Some(0) && real_ok {
            clean += 1;
            if clean == 3 {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        clean = 0;
        if Instant::now() >= deadline {
            for n in nodes {
                let text = Client::connect(n.port).unwrap().text(&["CLUSTER", "NODES"]);
                eprintln!("{}:\n{text}", n.port);
            }
            panic!("cluster at {addr} did not settle:\n{}", o.stdout());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `n` keys whose hash slots are below `max_slot`.
pub fn keys_in_low_slots(n: usize, max_slot: u16) -> Vec<String> {
    (0..)
        .map(|i| format!("k{i}"))
        .filter(|k| redis_formats::slot::key_hash_slot(k.as_bytes()) < max_slot)
        .take(n)
        .collect()
}

/// Ids and ports of the masters owning slot 0 and slot 16383, then the rest
/// (by first slot).
pub fn owners(port: u16) -> (Vec<String>, Vec<u16>) {
    let nodes = Client::connect(port).unwrap().text(&["CLUSTER", "NODES"]);
    let mut masters: Vec<(u8, i64, String, u16)> = Vec::new();
    for line in nodes.lines() {
        let t: Vec<&str> = line.split(' ').collect();
        if !t[2].contains("master") {
            continue;
        }
        let p: u16 = t[1].split(['@', ':']).nth(1).unwrap().parse().unwrap();
        let slots = t[8..].join(" ");
        let rank = if slots.split(' ').any(|r| r == "0" || r.starts_with("0-")) {
            0
        } else if slots
            .split(' ')
            .any(|r| r.ends_with("-16383") || r == "16383")
        {
            1
        } else {
            2
        };
        // Ties (same rank) go by the first slot owned: the same in both sets.
        let first: i64 = t[8..]
            .iter()
            .filter(|r| !r.starts_with('['))
            .filter_map(|r| r.split('-').next().and_then(|x| x.parse().ok()))
            .min()
            .unwrap_or(i64::MAX);
        masters.push((rank, first, t[0].to_string(), p));
    }
    masters.sort();
    (
        masters.iter().map(|m| m.2.clone()).collect(),
        masters.iter().map(|m| m.3).collect(),
    )
}

/// Like `assert_same`, without the masters' slot lists (the fix above gave
/// slot 16000 to a random master, which differs between the two clusters).
pub fn assert_same_but_slots(ours: &Run, real: &Run, what: &str) {
    let strip = |r: &Run| {
        let (head, tail) = split_report(&r.stdout());
        let tail: Vec<String> = tail
            .into_iter()
            .filter(|l| !l.starts_with("   slots:["))
            .collect();
        (r.code(), head, tail, mask(&r.stderr()))
    };
    assert_eq!(strip(ours), strip(real), "{what}");
}
