//! `redis-cli --cluster` (ours) next to Debian's redis-cli, each on its own
//! set of Debian redis-server nodes with cluster mode on: the same lines
//! (node ids, ports, timings and the join dots masked) and exit codes.

mod cluster_common;

use cluster_common::*;
use redis_formats::RespValue;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[test]
fn help_and_argument_errors_match() {
    let Some(real) = on_path("redis-cli") else {
        return;
    };
    for args in [
        &["--cluster", "help"][..],
        &["--cluster", "nope"],
        &["--cluster", "check"],
        &["--cluster", "check", "nohostport"],
        &["--cluster", "create", "127.0.0.1:1"],
        &["--cluster", "add-node", "127.0.0.1:1"],
        &["--cluster", "set-timeout", "127.0.0.1:1", "50"],
        &["--cluster", "info", "127.0.0.1", "1"],
        &["--cluster", "import", "127.0.0.1:1"],
        &[
            "--cluster",
            "import",
            "127.0.0.1:1",
            "--cluster-from",
            "nohost",
        ],
        &["--cluster", "reshard", "nohost"],
        &["--cluster", "backup", "127.0.0.1:1"],
        &["--cluster", "create", "nocolon", "127.0.0.1:1"],
        &["--cluster"],
    ] {
        let o = cli(&ours(), args);
        let r = cli(&real, args);
        assert_eq!(o.code(), r.code(), "{args:?}");
        assert_eq!(o.stdout(), r.stdout(), "{args:?}");
        assert_eq!(o.stderr(), r.stderr(), "{args:?}");
    }
}

#[test]
fn create_check_info_call_add_del_match_debian() {
    let (Some(server), Some(real)) = (on_path("redis-server"), on_path("redis-cli")) else {
        return;
    };
    let set_a: Vec<Node> = (0..6).map(|_| start_node(&server)).collect();
    let set_b: Vec<Node> = (0..6).map(|_| start_node(&server)).collect();
    let (aa, ab) = (addrs(&set_a), addrs(&set_b));

    // Without --cluster-yes: the plan, the prompt, and "no" leaves the
    // nodes alone (exit 0).
    let plan = |a: &[String]| {
        let mut v: Vec<String> = vec!["--cluster".into(), "create".into()];
        v.extend(a.iter().cloned());
        v.extend(["--cluster-replicas", "1"].map(String::from));
        v
    };
    let (pa, pb) = (plan(&aa), plan(&ab));
    let pa: Vec<&str> = pa.iter().map(String::as_str).collect();
    let pb: Vec<&str> = pb.iter().map(String::as_str).collect();
    let o = cli_with(&ours(), &pa, "dumb", b"no\n");
    let r = cli_with(&real, &pb, "dumb", b"no\n");
    assert_same(&o, &r, "create answered no");
    assert!(o
        .stdout()
        .ends_with("Can I set the above configuration? (type 'yes' to accept): "));
    assert_eq!(o.code(), Some(0));
    // The same in color (TERM=xterm), still answered no.
    let o = cli_with(&ours(), &pa, "xterm", b"no\n");
    let r = cli_with(&real, &pb, "xterm", b"no\n");
    assert_same(&o, &r, "create in color");
    assert!(o.stdout().contains("\x1b[29;1m>>> Performing hash slots"));

    // Create both clusters at once (each waits for its join).
    let create_args = |a: &[String]| {
        let mut v: Vec<String> = vec!["--cluster".into(), "create".into()];
        v.extend(a.iter().cloned());
        v.extend(["--cluster-replicas", "1", "--cluster-yes"].map(String::from));
        v
    };
    let (ca, cb) = (create_args(&aa), create_args(&ab));
    let real2 = real.clone();
    let t = std::thread::spawn(move || {
        let v: Vec<&str> = cb.iter().map(String::as_str).collect();
        cli(&real2, &v)
    });
    let v: Vec<&str> = ca.iter().map(String::as_str).collect();
    let o = cli(&ours(), &v);
    let r = t.join().unwrap();
    assert_same(&o, &r, "create");
    let out = o.stdout();
    for want in [
        ">>> Performing hash slots allocation on 6 nodes...\n",
        "Master[0] -> Slots 0 - 5460\n",
        "Master[1] -> Slots 5461 - 10922\n",
        "Master[2] -> Slots 10923 - 16383\n",
        "[OK] All nodes agree about slots configuration.\n",
        "[OK] All 16384 slots covered.\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    assert_eq!(o.code(), Some(0));

    // check and info, each tool on its own cluster.
    for sub in ["check", "info"] {
        let o = cli(&ours(), &["--cluster", sub, &aa[0]]);
        let r = cli(&real, &["--cluster", sub, &ab[0]]);
        assert_same(&o, &r, sub);
        assert_eq!(o.code(), Some(0), "{}", o.stdout());
    }
    // --json (beyond Redis): one document instead of the report.
    let o = cli(&ours(), &["--cluster", "check", &aa[0], "--json"]);
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    let v: serde_json::Value = serde_json::from_str(&o.stdout()).expect("check --json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["all_slots_covered"], true);
    assert_eq!(v["nodes"].as_array().unwrap().len(), 6);
    let masters = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["role"] == "master")
        .count();
    assert_eq!(masters, 3);
    let o = cli(&ours(), &["--cluster", "info", &aa[0], "--json"]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout()).expect("info --json");
    assert_eq!(v["masters"], 3);
    assert_eq!(v["keys"], 0);

    // --cluster-search-multiple-owners, and colors.
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "check",
            &aa[0],
            "--cluster-search-multiple-owners",
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "check",
            &ab[0],
            "--cluster-search-multiple-owners",
        ],
    );
    assert_same(&o, &r, "check multiple owners");
    assert!(o.stdout().contains("[OK] No multiple owners found."));
    let o = cli_with(
        &ours(),
        &["--cluster", "check", &aa[0]],
        "xterm-256color",
        b"",
    );
    let r = cli_with(
        &real,
        &["--cluster", "check", &ab[0]],
        "xterm-256color",
        b"",
    );
    assert_same(&o, &r, "check in color");
    // `host port` form.
    let p = set_a[1].port.to_string();
    let o = cli(&ours(), &["--cluster", "check", "127.0.0.1", &p]);
    assert!(o.stdout().contains("[OK] All 16384 slots covered."));

    // call, on every node and on masters only.
    for extra in [
        &[][..],
        &["--cluster-only-masters"],
        &["--cluster-only-replicas"],
    ] {
        let mut oa = vec!["--cluster", "call", aa[0].as_str(), "PING"];
        oa.extend_from_slice(extra);
        let mut ra = vec!["--cluster", "call", ab[0].as_str(), "PING"];
        ra.extend_from_slice(extra);
        let o = cli(&ours(), &oa);
        let r = cli(&real, &ra);
        assert_same(&o, &r, "call");
    }
    let o = cli(&ours(), &["--cluster", "call", &aa[0], "PING"]);
    assert_eq!(o.stdout().matches(": PONG\n").count(), 6, "{}", o.stdout());

    // reshard 100 slots (holding 300 keys) from the master of slot 0 to the
    // master of slot 16383; the dots (one per key) must match too.
    let keys = keys_in_low_slots(300, 100);
    for set in [&set_a, &set_b] {
        let (ids, ports) = owners(set[0].port);
        let (src_port, _) = (ports[0], ids[0].clone());
        let mut c = Client::connect(src_port).unwrap();
        for k in &keys {
            assert!(matches!(
                c.cmd(&["SET", k, "v"]).unwrap(),
                RespValue::Status(_)
            ));
        }
    }
    let (ida, _) = owners(set_a[0].port);
    let (idb, _) = owners(set_b[0].port);
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "reshard",
            &aa[0],
            "--cluster-from",
            &ida[0],
            "--cluster-to",
            &ida[1],
            "--cluster-slots",
            "100",
            "--cluster-yes",
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "reshard",
            &ab[0],
            "--cluster-from",
            &idb[0],
            "--cluster-to",
            &idb[1],
            "--cluster-slots",
            "100",
            "--cluster-yes",
        ],
    );
    assert_same(&o, &r, "reshard");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    assert!(
        o.stdout().contains("Moving slot 99 from "),
        "{}",
        o.stdout()
    );
    let (_, ports) = owners(set_a[0].port);
    let total: i64 = ports
        .iter()
        .map(|p| Client::connect(*p).unwrap().int(&["DBSIZE"]))
        .sum();
    assert_eq!(total, 300);
    let o = cli(&ours(), &["--cluster", "check", &aa[0]]);
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    assert!(
        o.stdout()
            .contains("slots:[0-99],[10923-16383] (5561 slots) master"),
        "{}",
        o.stdout()
    );
    // rebalance: within the default 2% threshold nothing moves; with 1%
    // (simulated first) the 300 keys' slots go back to the first master.
    for extra in [
        &[][..],
        &["--cluster-threshold", "1", "--cluster-simulate"],
        &["--cluster-threshold", "1"],
    ] {
        let mut oa = vec!["--cluster", "rebalance", aa[0].as_str()];
        oa.extend_from_slice(extra);
        let mut ra = vec!["--cluster", "rebalance", ab[0].as_str()];
        ra.extend_from_slice(extra);
        // A view can still flip for a moment after the reshard's gossip; a
        // rebalance that saw it refused to act, so it is safe to retry.
        let mut attempt = 0;
        let (o, r) = loop {
            let o = cli(&ours(), &oa);
            let r = cli(&real, &ra);
            let flipped = |x: &Run| x.stdout().contains("Nodes don't agree");
            attempt += 1;
            if attempt < 5 && (flipped(&o) || flipped(&r)) {
                settle(&aa[0], &set_a);
                settle(&ab[0], &set_b);
                continue;
            }
            break (o, r);
        };
        assert_same(&o, &r, "rebalance");
        assert_eq!(o.code(), Some(0), "{}", o.stdout());
        settle(&aa[0], &set_a);
        settle(&ab[0], &set_b);
    }
    let o = cli(&ours(), &["--cluster", "check", &aa[0]]);
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    assert!(
        o.stdout().contains("slots:[0-5461] (5462 slots) master"),
        "{}",
        o.stdout()
    );
    let (_, ports) = owners(set_a[0].port);
    assert_eq!(Client::connect(ports[0]).unwrap().int(&["DBSIZE"]), 300);

    // fix: slot 0 left open on purpose (Redis's case 1), then open with one
    // key already moved (case 2), then slot 16000 left uncovered.
    let slot0: Vec<&String> = keys
        .iter()
        .filter(|k| redis_formats::slot::key_hash_slot(k.as_bytes()) == 0)
        .collect();
    assert!(slot0.len() >= 2, "need keys in slot 0");
    for (scenario, want) in [
        ("open", ">>> Case 1: Moving slot 0 from "),
        (
            "half-migrated",
            ">>> Case 2: Moving all the 0 slot keys to its owner ",
        ),
        ("uncovered", ">>> Covering slot 16000 with "),
    ] {
        for set in [&set_a, &set_b] {
            let (ids, ports) = owners(set[0].port);
            let mut src = Client::connect(ports[0]).unwrap();
            let mut dst = Client::connect(ports[1]).unwrap();
            let ok = |r: RespValue| assert!(matches!(r, RespValue::Status(_)), "{r:?}");
            if scenario == "uncovered" {
                // Every node forgets the slot's owner.
                for n in set.iter() {
                    let mut c = Client::connect(n.port).unwrap();
                    ok(c.cmd(&["CLUSTER", "DELSLOTS", "16000"]).unwrap());
                }
                continue;
            }
            ok(dst
                .cmd(&["CLUSTER", "SETSLOT", "0", "IMPORTING", &ids[0]])
                .unwrap());
            ok(src
                .cmd(&["CLUSTER", "SETSLOT", "0", "MIGRATING", &ids[1]])
                .unwrap());
            if scenario == "half-migrated" {
                let p1 = ports[1].to_string();
                ok(src
                    .cmd(&["MIGRATE", "127.0.0.1", &p1, slot0[0], "0", "5000"])
                    .unwrap());
            }
        }
        let o = cli(&ours(), &["--cluster", "check", &aa[0]]);
        let r = cli(&real, &["--cluster", "check", &ab[0]]);
        assert_same(&o, &r, &format!("check of a broken cluster ({scenario})"));
        assert_eq!(o.code(), Some(1), "{}", o.stdout());
        let o = cli_with(&ours(), &["--cluster", "fix", &aa[0]], "dumb", b"yes\n");
        let r = cli_with(&real, &["--cluster", "fix", &ab[0]], "dumb", b"yes\n");
        assert_same(&o, &r, &format!("fix ({scenario})"));
        assert!(o.stdout().contains(want), "{}", o.stdout());
        for (set, a) in [(&set_b, &ab[0]), (&set_a, &aa[0])] {
            settle(a, set);
            // Every key is on the master that owns its slot (what a cluster client
            // reads). Node totals are not compared: a Debian node that lost a slot
            // may still hold stale copies of its keys for a moment.
            let nodes = Client::connect(set[0].port)
                .unwrap()
                .text(&["CLUSTER", "NODES"]);
            let mut slot_owner = vec![0u16; 16384];
            for line in nodes.lines() {
                let t: Vec<&str> = line.split(' ').collect();
                if t.len() < 9 || !t[2].contains("master") {
                    continue;
                }
                let p: u16 = t[1].split(['@', ':']).nth(1).unwrap().parse().unwrap();
                for r in t[8..].iter().filter(|r| !r.starts_with('[')) {
                    let mut it = r.split('-').map(|x| x.parse::<usize>().unwrap());
                    let lo = it.next().unwrap();
                    let hi = it.next().unwrap_or(lo);
                    slot_owner[lo..=hi].iter_mut().for_each(|o| *o = p);
                }
            }
            let mut conns: std::collections::HashMap<u16, Client> = Default::default();
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| {
                    let p = slot_owner[redis_formats::slot::key_hash_slot(k.as_bytes()) as usize];
                    let c = conns
                        .entry(p)
                        .or_insert_with(|| Client::connect(p).unwrap());
                    c.int(&["EXISTS", k.as_str()]) != 1
                })
                .collect();
            assert!(
                missing.is_empty(),
                "{scenario} on {a}: {} keys not on their slot's owner, e.g. {:?}\n{nodes}",
                missing.len(),
                missing.first()
            );
        }
    }

    // backup: every master's RDB and nodes.json.
    let dirs: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|t| {
            let d = std::env::temp_dir().join(format!("cm-backup-{}-{t}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            d
        })
        .collect();
    let (da, db) = (dirs[0].to_str().unwrap(), dirs[1].to_str().unwrap());
    let o = cli(&ours(), &["--cluster", "backup", &aa[0], da]);
    let r = cli(&real, &["--cluster", "backup", &ab[0], db]);
    let norm = |run: &Run, dir: &str| {
        let out = run.stdout().replace(dir, "<DIR>");
        let (head, tail) = split_report(&out);
        let tail: Vec<String> = tail
            .into_iter()
            .filter(|l| !l.starts_with("   slots:["))
            .collect();
        // stderr: the SYNC lines, with paths and byte counts masked.
        let err: Vec<String> = mask(&run.stderr().replace(dir, "<DIR>"))
            .lines()
            .map(|l| l.chars().filter(|c| !c.is_ascii_digit()).collect())
            .collect();
        (run.code(), head, tail, err)
    };
    assert_eq!(norm(&o, da), norm(&r, db), "backup");
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout(), o.stderr());
    let json = std::fs::read_to_string(dirs[0].join("nodes.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 6, "{json}");
    let rdbs: Vec<_> = std::fs::read_dir(&dirs[0])
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rdb"))
        .collect();
    assert_eq!(rdbs.len(), 3);
    for f in &rdbs {
        assert!(std::fs::read(f).unwrap().starts_with(b"REDIS"), "{f:?}");
    }
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }

    // import 50 keys from a standalone server (copied: they stay there too).
    let sources: Vec<bench_support::Server> = (0..2)
        .map(|_| bench_support::Server::start(&server, &["--save", "", "--appendonly", "no"]))
        .collect();
    for src in &sources {
        let mut c = src.client();
        for i in 0..50 {
            let k = format!("imp{i}");
            assert!(matches!(
                c.cmd(&["SET", &k, "x"]).unwrap(),
                RespValue::Status(_)
            ));
        }
    }
    let (fa, fb) = (
        format!("127.0.0.1:{}", sources[0].port),
        format!("127.0.0.1:{}", sources[1].port),
    );
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "import",
            &aa[0],
            "--cluster-from",
            &fa,
            "--cluster-copy",
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "import",
            &ab[0],
            "--cluster-from",
            &fb,
            "--cluster-copy",
        ],
    );
    assert_same_but_slots(&o, &r, "import");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    assert_eq!(o.stdout().matches(": OK\n").count(), 50, "{}", o.stdout());
    let (_, ports) = owners(set_a[0].port);
    let total: i64 = ports
        .iter()
        .map(|p| Client::connect(*p).unwrap().int(&["DBSIZE"]))
        .sum();
    assert_eq!(total, 350);
    assert_eq!(sources[0].client().int(&["DBSIZE"]), 50);
    // A cluster node as the source is refused.
    let o = cli(
        &ours(),
        &["--cluster", "import", &aa[0], "--cluster-from", &aa[1]],
    );
    let r = cli(
        &real,
        &["--cluster", "import", &ab[0], "--cluster-from", &ab[1]],
    );
    assert_same_but_slots(&o, &r, "import from a cluster node");
    assert_eq!(o.code(), Some(1));

    // set-timeout (CONFIG REWRITE fails: the nodes run without a config file).
    let o = cli(&ours(), &["--cluster", "set-timeout", &aa[0], "6000"]);
    let r = cli(&real, &["--cluster", "set-timeout", &ab[0], "6000"]);
    assert_same(&o, &r, "set-timeout");
    let mut c = Client::connect(set_a[2].port).unwrap();
    match c.cmd(&["CONFIG", "GET", "cluster-node-timeout"]).unwrap() {
        RespValue::Array(v) => assert_eq!(v[1].as_bytes(), Some(&b"6000"[..])),
        other => panic!("{other:?}"),
    }

    // add-node (a new empty master), then del-node of it.
    let new_a = start_node(&server);
    let new_b = start_node(&server);
    let na = format!("127.0.0.1:{}", new_a.port);
    let nb = format!("127.0.0.1:{}", new_b.port);
    let o = cli(&ours(), &["--cluster", "add-node", &na, &aa[0]]);
    let r = cli(&real, &["--cluster", "add-node", &nb, &ab[0]]);
    assert_same_but_slots(&o, &r, "add-node");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    // Wait until the new node is known, then delete it by id.
    let id_a = Client::connect(new_a.port)
        .unwrap()
        .text(&["CLUSTER", "MYID"]);
    let id_b = Client::connect(new_b.port)
        .unwrap()
        .text(&["CLUSTER", "MYID"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    for (nodes, id) in [(&set_a, &id_a), (&set_b, &id_b)] {
        loop {
            let known = nodes.iter().all(|n| {
                Client::connect(n.port)
                    .unwrap()
                    .text(&["CLUSTER", "NODES"])
                    .contains(id.as_str())
            });
            if known {
                break;
            }
            assert!(Instant::now() < deadline, "new node not seen");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let o = cli(&ours(), &["--cluster", "del-node", &aa[0], &id_a]);
    let r = cli(&real, &["--cluster", "del-node", &ab[0], &id_b]);
    assert_same_but_slots(&o, &r, "del-node");
    assert_eq!(o.code(), Some(0), "{}", o.stdout());
    let nodes = Client::connect(set_a[0].port)
        .unwrap()
        .text(&["CLUSTER", "NODES"]);
    assert!(!nodes.contains(id_a.as_str()), "{nodes}");
    // Errors: an unknown id, a node with slots.
    let o = cli(
        &ours(),
        &[
            "--cluster",
            "del-node",
            &aa[0],
            "0000000000000000000000000000000000000000",
        ],
    );
    let r = cli(
        &real,
        &[
            "--cluster",
            "del-node",
            &ab[0],
            "0000000000000000000000000000000000000000",
        ],
    );
    assert_same_but_slots(&o, &r, "del-node unknown");
    assert_eq!(o.code(), Some(1));
}
