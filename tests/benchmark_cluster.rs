//! redis-benchmark --cluster against a three-master cluster of Debian's
//! redis-server, including a slot reassignment in the middle of a run.

#[path = "common/bench_support.rs"]
mod bench_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bench_support::{on_path, run_bounded, wait_bounded, Server};
use redis_formats::RespValue;

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-benchmark"))
}

struct Cluster {
    nodes: Vec<Server>,
    ids: Vec<String>,
    _dir: TempDir,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Three masters owning 0-5460, 5461-10922, 10923-16383, waited for until
/// every node says cluster_state:ok (30 s at most).
fn cluster(bin: &PathBuf) -> Cluster {
    let dir = std::env::temp_dir().join(format!(
        "bench-cluster-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap().to_string();
    let nodes: Vec<Server> = (0..3)
        .map(|i| {
            let sub = format!("{d}/n{i}");
            std::fs::create_dir_all(&sub).unwrap();
            Server::start(
                bin,
                &[
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--dir",
                    &sub,
                ],
            )
        })
        .collect();
    let ranges = [("0", "5460"), ("5461", "10922"), ("10923", "16383")];
    let mut ids = Vec::new();
    for (n, (a, b)) in nodes.iter().zip(ranges) {
        let mut c = n.client();
        assert!(matches!(
            c.cmd(&["CLUSTER", "ADDSLOTSRANGE", a, b]).unwrap(),
            RespValue::Status(_)
        ));
        ids.push(c.text(&["CLUSTER", "MYID"]));
    }
    for n in &nodes[1..] {
        n.client()
            .cmd(&["CLUSTER", "MEET", "127.0.0.1", &nodes[0].port.to_string()])
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !nodes.iter().all(|n| {
        let info = n.client().text(&["CLUSTER", "INFO"]);
        info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
    }) {
        assert!(Instant::now() < deadline, "cluster did not form");
        std::thread::sleep(Duration::from_millis(100));
    }
    Cluster {
        nodes,
        ids,
        _dir: TempDir(dir),
    }
}

#[test]
fn cluster_mode_routes_keys_to_their_masters() {
    let Some(bin) = on_path("redis-server") else {
        return;
    };
    let c = cluster(&bin);
    let port = c.nodes[0].port.to_string();
    let r = run_bounded(
        &ours(),
        &[
            "-p",
            &port,
            "--cluster",
            "-q",
            "-n",
            "3000",
            "-c",
            "6",
            "-r",
            "1000",
            "-t",
            "set,get",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let out = r.stdout();
    assert!(
        out.starts_with("Cluster has 3 master nodes:\n\nMaster 0: "),
        "{out}"
    );
    assert!(out.contains("SET: ") && out.contains("GET: "));
    let mut sets = 0;
    for n in &c.nodes {
        let mut cl = n.client();
        // No redirections were needed: every node holds some keys, all its own.
        assert!(cl.int(&["DBSIZE"]) > 0);
        let stats = cl.text(&["INFO", "commandstats"]);
        let calls = stats
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_set:calls="))
            .map(|rest| rest.split(',').next().unwrap().parse::<u64>().unwrap())
            .unwrap_or(0);
        sets += calls;
    }
    assert_eq!(sets, 3000);
}

#[test]
fn cluster_mode_follows_moved_after_a_reshard() {
    let Some(bin) = on_path("redis-server") else {
        return;
    };
    let c = cluster(&bin);
    let port = c.nodes[0].port.to_string();
    let child = Command::new(ours())
        .args([
            "-p",
            &port,
            "--cluster",
            "--csv",
            "--duration",
            "4",
            "-c",
            "3",
            "GET",
            "key:{tag}",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    // Hand node 0's first 200 (empty) slots to node 1, on every node.
    for n in &c.nodes {
        let mut cl = n.client();
        for slot in 0..200 {
            let r = cl
                .cmd(&["CLUSTER", "SETSLOT", &slot.to_string(), "NODE", &c.ids[1]])
                .unwrap();
            assert!(matches!(r, RespValue::Status(_)), "{r:?}");
        }
    }
    let r = wait_bounded(child, Duration::from_secs(90));
    assert!(!r.timed_out);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert!(
        r.stderr()
            .contains("WARNING: Cluster slots configuration changed, fetching new one..."),
        "the run ended before the reshard was seen: {}",
        r.stderr()
    );
    assert!(r.stdout().contains("\"GET key:{tag}\","));
}
