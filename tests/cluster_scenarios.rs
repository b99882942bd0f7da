//! The operator scenarios of `redis-cli --cluster`, each played twice on twin
//! clusters of Debian redis-server nodes: once with our redis-cli, once with
//! Debian's. The outputs must match (ids, ports, timings and dots masked),
//! and the data must come through: no error seen by a client during a
//! reshard, no key lost after a reshard interrupted by Ctrl-C or by a node
//! killed half-way and then finished by `--cluster fix`. Also: nodes behind a
//! password, a master that is gone for good, and the progress bar (ours runs
//! with stderr on a pty there, while its stdout is still compared).

#[path = "cli_common/mod.rs"]
mod cli_common;
mod cluster_common;

use cluster_common::*;
use redis_formats::RespValue;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Creates a cluster of `n` fresh nodes with `cli` (`--cluster-yes`) and
/// waits until every node says ok.
fn create(
    cli_bin: &PathBuf,
    server: &std::path::Path,
    n: usize,
    replicas: &str,
    extra: &[&str],
) -> (Vec<Node>, Run) {
    let nodes: Vec<Node> = (0..n).map(|_| start_node_with(server, extra)).collect();
    let mut args = vec!["--cluster".to_string(), "create".to_string()];
    args.extend(addrs(&nodes));
    args.extend(["--cluster-replicas", replicas, "--cluster-yes"].map(String::from));
    let v: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cli(cli_bin, &v);
    assert_eq!(
        run.code(),
        Some(0),
        "create: {}{}",
        run.stdout(),
        run.stderr()
    );
    wait_cluster_ok(&nodes);
    (nodes, run)
}

/// Slot -> port of its master, from `CLUSTER SLOTS`.
fn slot_map(port: u16) -> Vec<u16> {
    let mut map = vec![0u16; 16384];
    let reply = Client::connect(port)
        .unwrap()
        .cmd(&["CLUSTER", "SLOTS"])
        .unwrap();
    let RespValue::Array(ranges) = reply else {
        panic!("CLUSTER SLOTS: {reply:?}")
    };
    for r in ranges {
        let RespValue::Array(r) = r else { continue };
        let (RespValue::Integer(a), RespValue::Integer(b), RespValue::Array(master)) =
            (&r[0], &r[1], &r[2])
        else {
            continue;
        };
        let RespValue::Integer(p) = master[1] else {
            continue;
        };
        for s in *a..=*b {
            map[s as usize] = p as u16;
        }
    }
    map
}

/// Writes every `(key, value)` on the master owning its slot.
fn load(port: u16, pairs: &[(String, String)]) {
    let map = slot_map(port);
    let mut clients: HashMap<u16, Client> = HashMap::new();
    for (k, v) in pairs {
        let p = map[redis_formats::slot::key_hash_slot(k.as_bytes()) as usize];
        let c = clients
            .entry(p)
            .or_insert_with(|| Client::connect(p).unwrap());
        assert!(matches!(
            c.cmd(&["SET", k, v]).unwrap(),
            RespValue::Status(_)
        ));
    }
}

/// Keys summed over the masters, and each key's value as its owner has it.
fn contents(port: u16, keys: &[String]) -> (i64, HashMap<String, String>) {
    let map = slot_map(port);
    let mut masters: Vec<u16> = map.clone();
    masters.sort();
    masters.dedup();
    let total = masters
        .iter()
        .map(|p| Client::connect(*p).unwrap().int(&["DBSIZE"]))
        .sum();
    let mut clients: HashMap<u16, Client> = HashMap::new();
    let mut values = HashMap::new();
    for k in keys {
        let p = map[redis_formats::slot::key_hash_slot(k.as_bytes()) as usize];
        let c = clients
            .entry(p)
            .or_insert_with(|| Client::connect(p).unwrap());
        if let RespValue::Bulk(v) = c.cmd(&["GET", k]).unwrap() {
            values.insert(k.clone(), String::from_utf8_lossy(&v).into_owned());
        }
    }
    (total, values)
}

/// A `redis-cli -c` fed SET/GET pairs on existing keys until stopped: what
/// a client of the cluster sees while slots move under it.
struct LoadClient {
    child: Child,
    stop: Arc<AtomicBool>,
    writer: std::thread::JoinHandle<(Vec<String>, HashMap<String, String>)>,
    reader: std::thread::JoinHandle<Vec<String>>,
}

impl LoadClient {
    fn start(cli_bin: &PathBuf, port: u16, keys: Vec<String>) -> LoadClient {
        let mut child = Command::new(cli_bin)
            .args(["-c", "-p", &port.to_string()])
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-cli -c");
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let writer = std::thread::spawn(move || {
            // What the client must print back, in order, and the last value
            // written to each key.
            let mut expected = Vec::new();
            let mut last = HashMap::new();
            let mut round = 0u64;
            while !flag.load(Ordering::Relaxed) {
                let mut batch = String::new();
                for _ in 0..50 {
                    round += 1;
                    let k = &keys[fastrand::usize(..keys.len())];
                    let v = format!("w{round}");
                    batch.push_str(&format!("SET {k} {v}\nGET {k}\n"));
                    expected.push("OK".to_string());
                    expected.push(v.clone());
                    last.insert(k.clone(), v);
                }
                if stdin.write_all(batch.as_bytes()).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            (expected, last)
        });
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                // Redirections are the client following MOVED/ASK, not errors.
                .filter(|l| !l.starts_with("-> Redirected to slot"))
                .collect()
        });
        LoadClient {
            child,
            stop,
            writer,
            reader,
        }
    }

    /// Stops writing, lets the client drain and exit (30 s at most), and
    /// returns the replies it printed, those expected, and the last value
    /// written to each key.
    fn finish(mut self) -> (Vec<String>, Vec<String>, HashMap<String, String>) {
        self.stop.store(true, Ordering::Relaxed);
        let (expected, last) = self.writer.join().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("load client did not finish");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (self.reader.join().unwrap(), expected, last)
    }
}

/// Checks a load client's replies: every one as expected, none missing.
fn assert_no_client_errors(what: &str, seen: &[String], expected: &[String]) {
    let first_bad = seen.iter().zip(expected).position(|(a, b)| a != b);
    assert!(
        first_bad.is_none() && seen.len() == expected.len(),
        "{what}: the client saw {} replies for {} expected; first difference at {first_bad:?}: {:?}",
        seen.len(),
        expected.len(),
        first_bad.map(|i| (&seen[i], &expected[i]))
    );
}

/// Runs a redis-cli with stdout piped and stderr on a pseudo-terminal;
/// returns the run (stderr empty) and what the terminal showed.
fn cli_stderr_on_tty(bin: &PathBuf, args: &[&str]) -> (Run, String) {
    let (master, slave) = cli_common::open_pty();
    let child = Command::new(bin)
        .args(args)
        // Not dumb (indicatif draws nothing there), not xterm (Redis's colors).
        .env("TERM", "vt100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .expect("spawn redis-cli");
    let tty = std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        // Ends with EIO once the child (the only holder of the slave) exits.
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let run = wait_bounded(child, Duration::from_secs(120));
    assert!(!run.timed_out, "redis-cli {args:?} timed out");
    (run, tty.join().unwrap())
}

/// Masters of the cluster at `port` and how many slots each serves.
fn slot_counts(port: u16) -> HashMap<u16, usize> {
    let mut counts = HashMap::new();
    for p in slot_map(port) {
        *counts.entry(p).or_insert(0) += 1;
    }
    counts
}

/// `id` of the node listening on `port`.
fn node_id(port: u16) -> String {
    Client::connect(port).unwrap().text(&["CLUSTER", "MYID"])
}

/// Waits (20 s at most) until every node of `nodes` lists `id` as `want`
/// (`master`/`slave`) or, with `want` empty, no longer lists it at all.
fn wait_seen(nodes: &[&Node], id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in nodes {
        loop {
            let text = n.cluster_nodes();
            let line = text.lines().find(|l| l.starts_with(id));
            let ok = match line {
                None => want.is_empty(),
                Some(l) => !want.is_empty() && l.split(' ').nth(2).unwrap_or("").contains(want),
            };
            if ok {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{id} never seen as {want:?} by {}:\n{text}",
                n.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn reshard_under_load_then_add_rebalance_replicas_and_remove() {
    let (Some(server), Some(real)) = (on_path("redis-server"), on_path("redis-cli")) else {
        return;
    };
    let (set_a, _) = create(&ours(), &server, 6, "1", &[]);
    let (set_b, _) = create(&real, &server, 6, "1", &[]);
    let (aa, ab) = (addrs(&set_a), addrs(&set_b));
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);
    let keys: Vec<String> = (0..20_000).map(|i| format!("key:{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), "v0".into())).collect();
    load(set_a[0].port, &pairs);
    load(set_b[0].port, &pairs);

    // Reshard 1000 slots while a -c client writes and reads; ours with its
    // stderr on a terminal, so the progress bar shows while stdout stays
    // Redis's bytes.
    let (ida, _) = owners(set_a[0].port);
    let (idb, _) = owners(set_b[0].port);
    let reshard = |addr: &str, ids: &[String]| -> Vec<String> {
        [
            "--cluster",
            "reshard",
            addr,
            "--cluster-from",
            &ids[0],
            "--cluster-to",
            &ids[1],
            "--cluster-slots",
            "1000",
            "--cluster-yes",
        ]
        .map(String::from)
        .to_vec()
    };
    let (ra, rb) = (reshard(&aa[0], &ida), reshard(&ab[0], &idb));
    let load_a = LoadClient::start(&ours(), set_a[0].port, keys.clone());
    let load_b = LoadClient::start(&ours(), set_b[0].port, keys.clone());
    std::thread::sleep(Duration::from_millis(300));
    let real2 = real.clone();
    let t = std::thread::spawn(move || {
        let v: Vec<&str> = rb.iter().map(String::as_str).collect();
        cli(&real2, &v)
    });
    let v: Vec<&str> = ra.iter().map(String::as_str).collect();
    let (o, tty) = cli_stderr_on_tty(&ours(), &v);
    let r = t.join().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (seen_a, exp_a, last_a) = load_a.finish();
    let (seen_b, exp_b, last_b) = load_b.finish();
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    assert_same(&o, &r, "reshard under load");
    assert!(
        tty.contains("/1000 slots"),
        "no progress bar on the terminal: {tty:?}"
    );
    assert!(!o.stdout().contains("slots,"), "the bar leaked into stdout");
    assert!(exp_a.len() > 1000, "the client barely ran: {}", exp_a.len());
    assert_no_client_errors("ours", &seen_a, &exp_a);
    assert_no_client_errors("debian", &seen_b, &exp_b);
    for (set, last) in [(&set_a, &last_a), (&set_b, &last_b)] {
        let (total, values) = contents(set[0].port, &keys);
        assert_eq!(total, 20_000, "key count after the reshard");
        for k in &keys {
            let want = last.get(k).map(String::as_str).unwrap_or("v0");
            assert_eq!(values.get(k).map(String::as_str), Some(want), "{k}");
        }
    }
    assert_eq!(slot_counts(set_a[0].port).len(), 3);
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);

    // add-node: a new empty master, then rebalance onto it
    // (--cluster-use-empty-masters): four masters of 4096 slots.
    let n1a = start_node(&server);
    let n1b = start_node(&server);
    let (n1a_addr, n1b_addr) = (
        format!("127.0.0.1:{}", n1a.port),
        format!("127.0.0.1:{}", n1b.port),
    );
    let o = cli(&ours(), &["--cluster", "add-node", &n1a_addr, &aa[0]]);
    let r = cli(&real, &["--cluster", "add-node", &n1b_addr, &ab[0]]);
    assert_same(&o, &r, "add-node");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    let (n1a_id, n1b_id) = (node_id(n1a.port), node_id(n1b.port));
    wait_seen(&set_a.iter().collect::<Vec<_>>(), &n1a_id, "master");
    wait_seen(&set_b.iter().collect::<Vec<_>>(), &n1b_id, "master");
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);
    // Ours with stderr on a terminal again: the bar counts the slots to
    // move (4096, less rounding).
    let (o, tty) = cli_stderr_on_tty(
        &ours(),
        &[
            "--cluster",
            "rebalance",
            &aa[0],
            "--cluster-use-empty-masters",
        ],
    );
    assert!(tty.contains("/409"), "no progress bar: {tty:?}");
    let r = cli(
        &real,
        &[
            "--cluster",
            "rebalance",
            &ab[0],
            "--cluster-use-empty-masters",
        ],
    );
    assert_same(&o, &r, "rebalance onto the new master");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    for set in [&set_a, &set_b] {
        let counts = slot_counts(set[0].port);
        assert_eq!(counts.len(), 4, "{counts:?}");
        assert!(
            counts.values().all(|&c| (4095..=4097).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(contents(set[0].port, &keys).0, 20_000);
    }
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);

    // add-node --cluster-slave: without a master id it goes to the master
    // with the fewest replicas (the new one); with --cluster-master-id to
    // that master.
    let n2a = start_node(&server);
    let n2b = start_node(&server);
    let n3a = start_node(&server);
    let n3b = start_node(&server);
    let at = |n: &Node| format!("127.0.0.1:{}", n.port);
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "add-node",
            &at(&n2a),
            &aa[0],
            "--cluster-slave",
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "add-node",
            &at(&n2b),
            &ab[0],
            "--cluster-slave",
        ],
    );
    assert_same(&o, &r, "add-node --cluster-slave");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    let (m0a, m0b) = (
        owners(set_a[0].port).0[0].clone(),
        owners(set_b[0].port).0[0].clone(),
    );
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "add-node",
            &at(&n3a),
            &aa[0],
            "--cluster-slave",
            "--cluster-master-id",
            &m0a,
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "add-node",
            &at(&n3b),
            &ab[0],
            "--cluster-slave",
            "--cluster-master-id",
            &m0b,
        ],
    );
    assert_same(&o, &r, "add-node --cluster-slave --cluster-master-id");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    for (n2, n3, n1_id, m0) in [(&n2a, &n3a, &n1a_id, &m0a), (&n2b, &n3b, &n1b_id, &m0b)] {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mine = |n: &Node| {
                n.cluster_nodes()
                    .lines()
                    .find(|l| l.contains("myself"))
                    .map(|l| l.split(' ').nth(3).unwrap_or("").to_string())
                    .unwrap_or_default()
            };
            if &mine(n2) == n1_id && &mine(n3) == m0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replicas not attached: {} {}",
                mine(n2),
                mine(n3)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let mut all_a: Vec<&Node> = set_a.iter().collect();
    all_a.extend([&n1a, &n2a, &n3a]);
    let mut all_b: Vec<&Node> = set_b.iter().collect();
    all_b.extend([&n1b, &n2b, &n3b]);
    let n2a_id = node_id(n2a.port);
    let n2b_id = node_id(n2b.port);
    wait_seen(&all_a, &n2a_id, "slave");
    wait_seen(&all_b, &n2b_id, "slave");
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);

    // Empty the new master again (--cluster-weight id=0), then del-node its
    // replica and it: back to three masters, no key lost.
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "rebalance",
            &aa[0],
            "--cluster-weight",
            &format!("{n1a_id}=0"),
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "rebalance",
            &ab[0],
            "--cluster-weight",
            &format!("{n1b_id}=0"),
        ],
    );
    assert_same(&o, &r, "rebalance with weight 0");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);
    for (addr, n2_id, n1_id, bin) in [
        (&aa[0], &n2a_id, &n1a_id, ours()),
        (&ab[0], &n2b_id, &n1b_id, real.clone()),
    ] {
        for id in [n2_id, n1_id] {
            let run = cli(&bin, &["--cluster", "del-node", addr, id]);
            assert_eq!(run.code(), Some(0), "del-node {id}: {}", run.stdout());
            assert!(run
                .stdout()
                .contains(">>> Sending CLUSTER RESET SOFT to the deleted node."));
        }
    }
    wait_seen(&set_a.iter().collect::<Vec<_>>(), &n1a_id, "");
    settle(&aa[0], &set_a);
    settle(&ab[0], &set_b);
    for set in [&set_a, &set_b] {
        assert_eq!(slot_counts(set[0].port).len(), 3);
        assert_eq!(contents(set[0].port, &keys).0, 20_000);
    }
    let o = cli(&ours(), &["--cluster", "check", &aa[0]]);
    let r = cli(&real, &["--cluster", "check", &ab[0]]);
    // Which master received which of the emptied node's slots follows each
    // cluster's node order: the per-master key counts may differ.
    let strip = |run: &Run| {
        let (head, tail) = split_report(&run.stdout());
        let tail: Vec<String> = tail
            .into_iter()
            .filter(|l| !l.contains(" keys | ") && !l.starts_with("   slots:["))
            .collect();
        (run.code(), head, tail)
    };
    assert_eq!(strip(&o), strip(&r), "check at the end");
    assert_eq!(o.code(), Some(0));
    assert!(
        o.stdout().contains("[OK] 20000 keys in 3 masters."),
        "{}",
        o.stdout()
    );
}

/// A hash tag whose slot lies in `range`.
fn tag_in(range: std::ops::Range<u16>) -> String {
    (0..)
        .map(|i| format!("t{i}"))
        .find(|t| range.contains(&redis_formats::slot::key_hash_slot(t.as_bytes())))
        .unwrap()
}

/// A fix report, comparable across runs whose interruption landed at a
/// slightly different key: ids, ports, key counts and dots masked, and the
/// duplicate-key lines (a MIGRATE batch cut by the kill can leave copies on
/// both nodes, or not) dropped.
fn norm_fix(s: &str) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    for l in mask(s).lines() {
        let mut l = l.to_string();
        if l.starts_with("Moving slot ") {
            if let Some(i) = l.find(": ") {
                l.truncate(i + 1);
            }
        }
        if l.contains(" keys") {
            l = l
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
        }
        let dup = [
            "*** Target key exists",
            "*** Checking key values on both nodes...",
            "*** Replacing target keys...",
        ];
        if l.is_empty() || l == "<dots>" || dup.contains(&l.as_str()) {
            continue;
        }
        lines.push(l);
    }
    split_report(&lines.join("\n"))
}

/// Waits (20 s at most) until `port`'s CLUSTER NODES shows `marker`.
fn wait_marker(port: u16, marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Client::connect(port)
        .unwrap()
        .text(&["CLUSTER", "NODES"])
        .contains(marker)
    {
        assert!(Instant::now() < deadline, "{marker} never seen on {port}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits (20 s at most) until `port` holds at least one key of `slot`.
fn wait_keys_in_slot(port: u16, slot: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let s = slot.to_string();
    let mut c = Client::connect(port).unwrap();
    while c.int(&["CLUSTER", "COUNTKEYSINSLOT", &s]) == 0 {
        assert!(
            Instant::now() < deadline,
            "no key of slot {slot} reached {port}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn fix_finishes_reshards_interrupted_by_ctrl_c_and_by_a_killed_node() {
    let (Some(server), Some(real)) = (on_path("redis-server"), on_path("redis-cli")) else {
        return;
    };
    // Three masters, no replicas; every write reaches the disk before it is
    // acknowledged, so a killed node comes back with what it had. DEBUG is
    // on for fix's value check of keys present on both sides.
    let extra = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--enable-debug-command",
        "yes",
    ];
    let (mut set_a, _) = create(&ours(), &server, 3, "0", &extra);
    let (mut set_b, _) = create(&real, &server, 3, "0", &extra);
    // Slot ranges after create: 0-5460, 5461-10922, 10923-16383. One heavy
    // slot at the start of the first and third ranges keeps a slot open long
    // enough to interrupt it.
    let (t1, t3) = (tag_in(1..20), tag_in(10924..10950));
    let (s1, s3) = (
        redis_formats::slot::key_hash_slot(t1.as_bytes()),
        redis_formats::slot::key_hash_slot(t3.as_bytes()),
    );
    let mut keys: Vec<String> = Vec::new();
    for i in 0..4000 {
        keys.push(format!("{{{t1}}}:{i}"));
        keys.push(format!("{{{t3}}}:{i}"));
        keys.push(format!("key:{i}"));
    }
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    for set in [&set_a, &set_b] {
        load(set[0].port, &pairs);
    }
    let port_of = |set: &[Node], slot: u16| -> usize {
        let p = slot_map(set[0].port)[slot as usize];
        set.iter().position(|n| n.port == p).unwrap()
    };

    for how in ["ctrl-c", "kill"] {
        // ctrl-c: first range -> second, SIGINT to the cli.
        // kill: third range -> second, SIGKILL to the receiving node, which
        // then restarts from its append-only file.
        let slot = if how == "ctrl-c" { s1 } else { s3 };
        let (runs, fixes) = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            for (set, bin) in [(&mut set_a, ours()), (&mut set_b, real.clone())] {
                handles.push(scope.spawn(move || {
                    let src = port_of(set, slot);
                    let dst = port_of(set, 5461);
                    let (src_id, dst_id) = (node_id(set[src].port), node_id(set[dst].port));
                    let addr = format!("127.0.0.1:{}", set[src].port);
                    let child = Command::new(&bin)
                        .args(["--cluster", "reshard", &addr, "--cluster-from", &src_id])
                        .args(["--cluster-to", &dst_id, "--cluster-slots", "100"])
                        .args(["--cluster-yes", "--cluster-pipeline", "10"])
                        .env("TERM", "dumb")
                        .stdin(Stdio::null())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap();
                    wait_marker(set[src].port, &format!("[{slot}->-"));
                    // Interrupt once some keys, not all, have moved: the
                    // state fix has to untangle, the same for both tools.
                    wait_keys_in_slot(set[dst].port, slot);
                    if how == "ctrl-c" {
                        // SAFETY: kill(2) on our own child's pid.
                        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
                    } else {
                        set[dst].kill();
                    }
                    let run = wait_bounded(child, Duration::from_secs(60));
                    if how == "kill" {
                        set[dst].restart();
                    }
                    wait_cluster_ok(set);
                    let args = ["--cluster", "fix", addr.as_str()];
                    let fix = if bin == ours() {
                        // Ours with stderr on a terminal: the bar counts open slots.
                        let (fix, tty) = cli_stderr_on_tty(&bin, &args);
                        assert!(tty.contains("/1 slots"), "no progress bar: {tty:?}");
                        fix
                    } else {
                        cli(&bin, &args)
                    };
                    (run, fix)
                }));
            }
            let mut out: Vec<(Run, Run)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let b = out.pop().unwrap();
            let a = out.pop().unwrap();
            ((a.0, b.0), (a.1, b.1))
        });
        let (ro, rr) = runs;
        assert_eq!(ro.code(), rr.code(), "{how}: reshard exit codes");
        if how == "kill" {
            assert_eq!(ro.code(), Some(1));
            assert!(
                ro.stdout().contains("clusterManagerMoveSlot failed: "),
                "{}",
                ro.stdout()
            );
            assert!(
                rr.stdout().contains("clusterManagerMoveSlot failed: "),
                "{}",
                rr.stdout()
            );
        } else {
            assert_eq!(ro.code(), None, "ours survived SIGINT");
        }
        let (fo, fr) = fixes;
        assert_eq!(fo.code(), Some(0), "{how}: fix\n{}", fo.stdout());
        assert_eq!(fo.code(), fr.code(), "{how}: fix exit codes");
        assert_eq!(
            norm_fix(&fo.stdout()),
            norm_fix(&fr.stdout()),
            "{how}: fix output"
        );
        assert!(
            fo.stdout()
                .contains(&format!(">>> Fixing open slot {slot}")),
            "{}",
            fo.stdout()
        );
        for (set, name) in [(&set_a, "ours"), (&set_b, "debian")] {
            settle(&format!("127.0.0.1:{}", set[0].port), set);
            let (total, values) = contents(set[0].port, &keys);
            assert_eq!(total, keys.len() as i64, "{how} ({name}): key count");
            for (k, v) in &pairs {
                assert_eq!(values.get(k), Some(v), "{how} ({name}): {k}");
            }
        }
    }
}

#[test]
fn password_protected_nodes_with_a_and_user() {
    let (Some(server), Some(real)) = (on_path("redis-server"), on_path("redis-cli")) else {
        return;
    };
    let extra = ["--requirepass", "s3cret", "--masterauth", "s3cret"];
    let set_a: Vec<Node> = (0..3).map(|_| start_node_with(&server, &extra)).collect();
    let set_b: Vec<Node> = (0..3).map(|_| start_node_with(&server, &extra)).collect();
    let (aa, ab) = (addrs(&set_a), addrs(&set_b));
    let with_auth = |mut v: Vec<String>| {
        v.splice(0..0, ["-a", "s3cret"].map(String::from));
        v
    };
    let run = |bin: &PathBuf, args: Vec<String>| {
        let v: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(bin, &v)
    };
    // Without the password every node refuses.
    let o = run(
        &ours(),
        vec!["--cluster".into(), "check".into(), aa[0].clone()],
    );
    let r = run(
        &real,
        vec!["--cluster".into(), "check".into(), ab[0].clone()],
    );
    assert_same(&o, &r, "check without a password");
    assert_eq!(o.code(), Some(1));
    // create, check and a reshard moving keys (MIGRATE ... AUTH) with -a.
    let create = |a: &[String]| {
        let mut v: Vec<String> = vec!["--cluster".into(), "create".into()];
        v.extend(a.iter().cloned());
        v.extend(["--cluster-replicas", "0", "--cluster-yes"].map(String::from));
        with_auth(v)
    };
    let (ca, cb) = (create(&aa), create(&ab));
    let real2 = real.clone();
    let t = std::thread::spawn(move || run(&real2, cb));
    let o = run(&ours(), ca);
    let r = t.join().unwrap();
    assert_same(&o, &r, "create with -a");
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout(), o.stderr());
    assert!(o
        .stderr()
        .contains("Warning: Using a password with '-a' or '-u' option"));
    for set in [&set_a, &set_b] {
        let deadline = Instant::now() + Duration::from_secs(20);
        for n in set.iter() {
            let mut c = Client::connect(n.port).unwrap();
            c.cmd(&["AUTH", "s3cret"]).unwrap();
            while !c.text(&["CLUSTER", "INFO"]).contains("cluster_state:ok") {
                assert!(Instant::now() < deadline, "cluster not ok");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // 200 keys in slot 0's range, written on the master of slot 0.
        let keys: Vec<String> = (0..)
            .map(|i| format!("k{i}"))
            .filter(|k| redis_formats::slot::key_hash_slot(k.as_bytes()) < 100)
            .take(200)
            .collect();
        let owner = set
            .iter()
            .find(|n| {
                let mut c = Client::connect(n.port).unwrap();
                c.cmd(&["AUTH", "s3cret"]).unwrap();
                c.text(&["CLUSTER", "NODES"])
                    .lines()
                    .any(|l| l.contains("myself") && l.contains(" 0-"))
            })
            .unwrap();
        let mut c = Client::connect(owner.port).unwrap();
        c.cmd(&["AUTH", "s3cret"]).unwrap();
        for k in &keys {
            assert!(matches!(
                c.cmd(&["SET", k, "v"]).unwrap(),
                RespValue::Status(_)
            ));
        }
    }
    let ids = |set: &[Node]| -> (String, String) {
        let mut c = Client::connect(set[0].port).unwrap();
        c.cmd(&["AUTH", "s3cret"]).unwrap();
        let nodes = c.text(&["CLUSTER", "NODES"]);
        let of = |want: &str| {
            nodes
                .lines()
                .find(|l| l.split(' ').skip(8).any(|r| r.starts_with(want)))
                .map(|l| l.split(' ').next().unwrap().to_string())
                .unwrap()
        };
        (of("0-"), of("5461-"))
    };
    let reshard = |addr: &str, (from, to): (String, String)| {
        with_auth(
            [
                "--cluster",
                "reshard",
                addr,
                "--cluster-from",
                &from,
                "--cluster-to",
                &to,
                "--cluster-slots",
                "100",
                "--cluster-yes",
            ]
            .map(String::from)
            .to_vec(),
        )
    };
    let o = run(&ours(), reshard(&aa[0], ids(&set_a)));
    let r = run(&real, reshard(&ab[0], ids(&set_b)));
    assert_same(&o, &r, "reshard with -a");
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout(), o.stderr());
    assert_eq!(
        o.stdout().matches('.').count(),
        r.stdout().matches('.').count()
    );
    // import from a password-protected standalone server
    // (--cluster-from-user/--cluster-from-pass), with --cluster-replace.
    let sources: Vec<bench_support::Server> = (0..2)
        .map(|_| bench_support::Server::start(&server, &["--save", "", "--appendonly", "no"]))
        .collect();
    for src in &sources {
        let mut c = src.client();
        for i in 0..20 {
            let k = format!("imp{i}");
            assert!(matches!(
                c.cmd(&["SET", &k, "x"]).unwrap(),
                RespValue::Status(_)
            ));
        }
        c.cmd(&["CONFIG", "SET", "requirepass", "srcpw"]).unwrap();
    }
    let import = |addr: &str, src: u16, pass: &str| {
        with_auth(
            [
                "--cluster",
                "import",
                addr,
                "--cluster-from",
                &format!("127.0.0.1:{src}"),
                "--cluster-from-user",
                "default",
                "--cluster-from-pass",
                pass,
                "--cluster-replace",
            ]
            .map(String::from)
            .to_vec(),
        )
    };
    let o = run(&ours(), import(&aa[0], sources[0].port, "wrong"));
    let r = run(&real, import(&ab[0], sources[1].port, "wrong"));
    assert_same_but_slots(&o, &r, "import with a wrong source password");
    assert_eq!(o.code(), Some(1), "{}{}", o.stdout(), o.stderr());
    // Ours with stderr on a terminal: the import bar counts keys, and the
    // password warning lands there too.
    let args = import(&aa[0], sources[0].port, "srcpw");
    let (o, tty) = cli_stderr_on_tty(
        &ours(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let r = run(&real, import(&ab[0], sources[1].port, "srcpw"));
    assert!(tty.contains("/20 keys"), "no progress bar: {tty:?}");
    assert!(
        tty.contains("Warning: Using a password with '-a'"),
        "{tty:?}"
    );
    let strip = |run: &Run| {
        let (head, tail) = split_report(&run.stdout());
        let tail: Vec<String> = tail
            .into_iter()
            .filter(|l| !l.starts_with("   slots:["))
            .collect();
        (run.code(), head, tail)
    };
    assert_eq!(
        strip(&o),
        strip(&r),
        "import from a password-protected source"
    );
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout(), o.stderr());
    assert_eq!(o.stdout().matches(": OK\n").count(), 20, "{}", o.stdout());
    // --user default --pass: AUTH with a user name (and MIGRATE ... AUTH2).
    let user = |a: &str| {
        [
            "--user",
            "default",
            "--pass",
            "s3cret",
            "--cluster",
            "check",
            a,
        ]
        .map(String::from)
        .to_vec()
    };
    let o = run(&ours(), user(&aa[0]));
    let r = run(&real, user(&ab[0]));
    assert_same(&o, &r, "check with --user");
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout(), o.stderr());
    assert!(
        o.stdout().contains("220 keys in 3 masters."),
        "{}",
        o.stdout()
    );
}

#[test]
fn fix_with_an_unreachable_master() {
    let (Some(server), Some(real)) = (on_path("redis-server"), on_path("redis-cli")) else {
        return;
    };
    let extra = ["--cluster-node-timeout", "1000"];
    let (mut set_a, _) = create(&ours(), &server, 3, "0", &extra);
    let (mut set_b, _) = create(&real, &server, 3, "0", &extra);
    let keys: Vec<String> = (0..300).map(|i| format!("key:{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), "v".into())).collect();
    // The master of slot 16383 goes away; the others mark it failed.
    for set in [&mut set_a, &mut set_b] {
        load(set[0].port, &pairs);
        let gone = slot_map(set[0].port)[16383];
        let i = set.iter().position(|n| n.port == gone).unwrap();
        set[i].kill();
        let id = set[i].port;
        let deadline = Instant::now() + Duration::from_secs(20);
        let first = set.iter().position(|n| n.port != id).unwrap();
        while !set[first]
            .cluster_nodes()
            .lines()
            .any(|l| l.contains(&format!(":{id}@")) && l.contains(",fail "))
        {
            assert!(Instant::now() < deadline, "the killed master never failed");
            std::thread::sleep(Duration::from_millis(50));
        }
        set.swap(0, first);
    }
    let (aa, ab) = (
        format!("127.0.0.1:{}", set_a[0].port),
        format!("127.0.0.1:{}", set_b[0].port),
    );
    // Random coverage picks differ between runs: compare without them.
    let strip = |run: &Run| {
        let (head, tail) = split_report(&run.stdout());
        let tail: Vec<String> = tail
            .into_iter()
            .filter(|l| !l.contains("Covering slot"))
            .collect();
        (run.code(), head, tail, mask(&run.stderr()))
    };
    for (what, extra, input) in [
        ("check", &[][..], &b""[..]),
        ("fix", &[][..], &b""[..]),
        (
            "fix",
            &["--cluster-fix-with-unreachable-masters"][..],
            &b"yes\n"[..],
        ),
    ] {
        let mut oa = vec!["--cluster", what, aa.as_str()];
        oa.extend_from_slice(extra);
        let mut ra = vec!["--cluster", what, ab.as_str()];
        ra.extend_from_slice(extra);
        let o = cli_with(&ours(), &oa, "dumb", input);
        let r = cli_with(&real, &ra, "dumb", input);
        assert_eq!(strip(&o), strip(&r), "{what} {extra:?}");
        let refused = o.stdout().contains("unreachable masters is dangerous");
        assert_eq!(refused, what == "fix" && extra.is_empty(), "{}", o.stdout());
    }
    // The dead master's slots are now served by the survivors.
    for set in [&set_a, &set_b] {
        let counts = slot_counts(set[0].port);
        assert_eq!(counts.values().sum::<usize>(), 16384);
        assert!(!counts.contains_key(&0), "{counts:?}");
    }
}
