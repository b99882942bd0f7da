//! Replication interop with Debian's redis-server 7.0.15: ours as a replica of
//! Debian's master and Debian's as a replica of ours (full sync diskless and to
//! disk, then the live stream), the link killed on either side and restored with
//! a partial resync, REPLICAOF NO ONE with the old sibling continuing by PSYNC, and
//! WAIT. Datasets are compared with DEBUG DIGEST.

mod common;
use common::*;
use redis_formats::RespValue;
use std::time::{Duration, Instant};

/// Both servers allow DEBUG; masters start diskless syncs at once.
const BASE: &[&str] = &[
    "--enable-debug-command",
    "yes",
    "--repl-diskless-sync-delay",
    "0",
];

fn start(bin: &std::path::Path, extra: &[&str]) -> Server {
    let mut args: Vec<&str> = BASE.to_vec();
    args.extend_from_slice(extra);
    Server::start(bin, &args)
}

fn text(v: RespValue) -> String {
    match v {
        RespValue::Bulk(b) | RespValue::Status(b) | RespValue::Verbatim { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        RespValue::Integer(n) => n.to_string(),
        RespValue::Error(e) => format!("-{}", String::from_utf8_lossy(&e)),
        other => format!("{other:?}"),
    }
}

fn cmd(s: &Server, args: &[&str]) -> String {
    text(s.client().cmd(args).expect("reply"))
}

/// A field of INFO (all sections).
fn info(s: &Server, field: &str) -> String {
    let all = cmd(s, &["INFO", "all"]);
    let key = format!("{field}:");
    all.lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or("")
        .to_string()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn replicate(replica: &Server, master: &Server) {
    let port = master.port.to_string();
    assert_eq!(cmd(replica, &["REPLICAOF", "127.0.0.1", &port]), "OK");
    wait_link_up(replica);
}

fn wait_link_up(replica: &Server) {
    wait_until("master_link_status:up", || {
        info(replica, "master_link_status") == "up"
    });
}

/// Waits until the replica applied everything the master fed, then compares the
/// datasets.
fn wait_synced(master: &Server, replica: &Server) {
    wait_until("offsets equal", || {
        let m = info(master, "master_repl_offset");
        !m.is_empty() && info(replica, "slave_repl_offset") == m
    });
    let dm = cmd(master, &["DEBUG", "DIGEST"]);
    let dr = cmd(replica, &["DEBUG", "DIGEST"]);
    assert_eq!(dm, dr, "DEBUG DIGEST differs");
    assert_ne!(dm, "0".repeat(40), "empty dataset");
}

/// Data of every type, in two databases, with TTLs.
fn populate(s: &Server, tag: &str) {
    let mut c = s.client();
    let lines = [
        format!("SET {tag}:s hello"),
        format!("SET {tag}:n 10"),
        format!("INCRBYFLOAT {tag}:f 1.5"),
        format!("RPUSH {tag}:l a b c d"),
        format!("SADD {tag}:set x y z 1 2"),
        format!("ZADD {tag}:z 1 a 2 b 3.5 c"),
        format!("HSET {tag}:h f1 v1 f2 v2"),
        format!("XADD {tag}:x 1-1 f v"),
        format!("SET {tag}:ttl v EX 1000"),
        format!("PFADD {tag}:hll a b c"),
        "SELECT 2".to_string(),
        format!("SET {tag}:db2 v"),
        format!("EXPIRE {tag}:db2 500"),
        "SELECT 0".to_string(),
        "DEBUG POPULATE 300 pop".to_string(),
    ];
    for l in lines {
        let r = c.cmd(&args(&l)).expect("reply");
        assert!(!matches!(r, RespValue::Error(_)), "{l}: {r:?}");
    }
}

/// Live writes, including a transaction and rewritten forms.
fn live_writes(s: &Server, tag: &str) {
    let mut c = s.client();
    let lines = [
        format!("SET {tag}:live1 v"),
        format!("INCR {tag}:n"),
        format!("LPOP {tag}:l"),
        format!("SPOP {tag}:set"),
        "MULTI".to_string(),
        format!("HSET {tag}:h f3 v3"),
        format!("ZINCRBY {tag}:z 1 a"),
        "EXEC".to_string(),
        format!("SETEX {tag}:ex 100 v"),
        format!("INCRBYFLOAT {tag}:f 2.25"),
        format!("EVAL \"redis.call('incr',KEYS[1]) return redis.call('incr',KEYS[1])\" 1 {tag}:ev"),
        "SELECT 3".to_string(),
        format!("SET {tag}:db3 v"),
        format!("DEL {tag}:missing"),
    ];
    for l in lines {
        let r = c.cmd(&args(&l)).expect("reply");
        assert!(!matches!(r, RespValue::Error(_)), "{l}: {r:?}");
    }
}

fn stat(s: &Server, f: &str) -> i64 {
    info(s, f).parse().unwrap_or(-1)
}

#[test]
fn ours_replica_of_debian() {
    let Some(real) = real_server() else { return };
    let master = start(&real, &[]);
    let ours = start(&our_server(), &[]);
    populate(&master, "a");
    replicate(&ours, &master);
    wait_synced(&master, &ours);
    live_writes(&master, "a");
    wait_synced(&master, &ours);
    // A read-only replica refuses writes, with Redis's error.
    assert_eq!(
        cmd(&ours, &["SET", "k", "v"]),
        "-READONLY You can't write against a read only replica."
    );
    assert_eq!(info(&ours, "role"), "slave");
    match ours.client().cmd(&["ROLE"]).expect("role") {
        RespValue::Array(a) => {
            assert_eq!(text(a[0].clone()), "slave");
            assert_eq!(text(a[3].clone()), "connected");
        }
        other => panic!("ROLE: {other:?}"),
    }
    // The link killed on the replica's side: a partial resync follows.
    let partial = stat(&master, "sync_partial_ok");
    assert_eq!(cmd(&ours, &["CLIENT", "KILL", "TYPE", "master"]), "1");
    live_writes(&master, "b");
    wait_until("partial resync", || {
        stat(&master, "sync_partial_ok") == partial + 1
    });
    wait_link_up(&ours);
    wait_synced(&master, &ours);
    // The link killed on the master's side: again partial.
    assert_eq!(cmd(&master, &["CLIENT", "KILL", "TYPE", "replica"]), "1");
    wait_until("second partial resync", || {
        stat(&master, "sync_partial_ok") == partial + 2
    });
    live_writes(&master, "c");
    wait_synced(&master, &ours);
    assert_eq!(stat(&master, "sync_full"), 1);
    // WAIT on Debian's master counts our ACK.
    let mut c = master.client();
    c.cmd(&["SET", "w", "1"]).expect("set");
    assert_eq!(text(c.cmd(&["WAIT", "1", "5000"]).expect("wait")), "1");
}

#[test]
fn debian_replica_of_ours() {
    let Some(real) = real_server() else { return };
    let ours = start(&our_server(), &[]);
    let replica = start(&real, &[]);
    populate(&ours, "a");
    // Diskless (Redis 7.0's default).
    replicate(&replica, &ours);
    wait_synced(&ours, &replica);
    live_writes(&ours, "a");
    wait_synced(&ours, &replica);
    assert_eq!(info(&ours, "connected_slaves"), "1");
    assert!(info(&ours, "slave0").contains("state=online"));
    // A second replica synced through the disk.
    assert_eq!(
        cmd(&ours, &["CONFIG", "SET", "repl-diskless-sync", "no"]),
        "OK"
    );
    let replica2 = start(&real, &[]);
    replicate(&replica2, &ours);
    wait_synced(&ours, &replica2);
    assert_eq!(stat(&ours, "sync_full"), 2);
    // WAIT: both replicas ack; asking for 3 times out with 2.
    let mut c = ours.client();
    c.cmd(&["SET", "w", "1"]).expect("set");
    assert_eq!(text(c.cmd(&["WAIT", "2", "5000"]).expect("wait")), "2");
    let t = Instant::now();
    assert_eq!(text(c.cmd(&["WAIT", "3", "300"]).expect("wait")), "2");
    assert!(t.elapsed() >= Duration::from_millis(250));
    // The link killed on either side: partial resyncs.
    assert_eq!(cmd(&ours, &["CLIENT", "KILL", "TYPE", "replica"]), "2");
    live_writes(&ours, "b");
    wait_until("partial resyncs", || stat(&ours, "sync_partial_ok") == 2);
    wait_synced(&ours, &replica);
    wait_synced(&ours, &replica2);
    assert_eq!(cmd(&replica, &["CLIENT", "KILL", "TYPE", "master"]), "1");
    wait_until("third partial resync", || {
        stat(&ours, "sync_partial_ok") == 3
    });
    live_writes(&ours, "c");
    wait_synced(&ours, &replica);
    assert_eq!(stat(&ours, "sync_full"), 2);
    // Each replica first asked to continue its own history (it was a master), as
    // Redis counts.
    assert_eq!(stat(&ours, "sync_partial_err"), 2);
}

/// A replica promoted with REPLICAOF NO ONE; its old sibling continues by PSYNC.
fn promotion(
    master_bin: &std::path::Path,
    promoted_bin: &std::path::Path,
    sibling_bin: &std::path::Path,
) {
    let master = start(master_bin, &[]);
    let promoted = start(promoted_bin, &[]);
    let sibling = start(sibling_bin, &[]);
    populate(&master, "a");
    replicate(&promoted, &master);
    replicate(&sibling, &master);
    live_writes(&master, "a");
    wait_synced(&master, &promoted);
    wait_synced(&master, &sibling);
    let old_id = info(&promoted, "master_replid");
    assert_eq!(cmd(&promoted, &["REPLICAOF", "NO", "ONE"]), "OK");
    assert_eq!(info(&promoted, "role"), "master");
    assert_eq!(info(&promoted, "master_replid2"), old_id);
    let off: i64 = info(&promoted, "master_repl_offset").parse().unwrap();
    assert_eq!(stat(&promoted, "second_repl_offset"), off + 1);
    replicate(&sibling, &promoted);
    assert_eq!(stat(&promoted, "sync_partial_ok"), 1);
    assert_eq!(stat(&promoted, "sync_full"), 0);
    live_writes(&promoted, "b");
    wait_synced(&promoted, &sibling);
    drop(master);
}

#[test]
fn promotion_ours_promoted_debian_sibling() {
    let Some(real) = real_server() else { return };
    promotion(&real, &our_server(), &real);
}

#[test]
fn promotion_debian_promoted_ours_sibling() {
    let Some(real) = real_server() else { return };
    promotion(&our_server(), &real, &our_server());
}

#[test]
fn chain_and_restart_from_rdb() {
    let Some(real) = real_server() else { return };
    // Debian -> ours -> Debian: our replica proxies the stream it applies.
    let master = start(&real, &[]);
    let middle = start(&our_server(), &[]);
    let leaf = start(&real, &[]);
    populate(&master, "a");
    replicate(&middle, &master);
    replicate(&leaf, &middle);
    live_writes(&master, "a");
    wait_synced(&master, &middle);
    wait_synced(&master, &leaf);
    assert_eq!(info(&leaf, "master_replid"), info(&master, "master_replid"));
    // Our master saves its replication id and offset in the RDB: restarted
    // from it, it still serves a partial resync.
    let ours = start(&our_server(), &["--save", "3600 1"]);
    let replica = start(&real, &[]);
    populate(&ours, "b");
    replicate(&replica, &ours);
    wait_synced(&ours, &replica);
    assert_eq!(cmd(&ours, &["SAVE"]), "OK");
    // Restarted in place (same port, same directory, so the same RDB).
    let mut restarted = ours;
    let _ = restarted.child.kill();
    let _ = restarted.child.wait();
    restarted.child = std::process::Command::new(our_server())
        .args(["--port", &restarted.port.to_string(), "--bind", "127.0.0.1"])
        .args(["--appendonly", "no", "--enable-debug-command", "yes"])
        .current_dir(&restarted.dir.0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("restart");
    wait_until("restarted server", || {
        Client::connect(restarted.port)
            .ok()
            .and_then(|mut c| c.cmd(&["PING"]).ok())
            .is_some_and(|r| matches!(r, RespValue::Status(_)))
    });
    wait_link_up(&replica);
    assert_eq!(stat(&restarted, "sync_partial_ok"), 1);
    assert_eq!(stat(&restarted, "sync_full"), 0);
    live_writes(&restarted, "c");
    wait_synced(&restarted, &replica);
}

/// The replication commands' replies and errors on a standalone master, byte for
/// byte against Debian's, in RESP2 and RESP3.
const SCENARIOS: &[&[&str]] = &[
    &["ROLE", "INFO nosuchsection"],
    &[
        "WAIT 0 0",
        "WAIT 1 10",
        "WAIT abc 0",
        "WAIT 1 abc",
        "WAIT 1 -1",
        "WAIT 1 1.5",
        "WAIT -1 0",
        "WAIT",
        "WAIT 1",
    ],
    &[
        "REPLCONF",
        "REPLCONF listening-port",
        "REPLCONF listening-port abc",
        "REPLCONF listening-port 1234",
        "REPLCONF ip-address 1.2.3.4",
        "REPLCONF capa eof capa psync2",
        "REPLCONF capa foo",
        "REPLCONF foo bar",
        "REPLCONF rdb-only 2",
        "REPLCONF rdb-only x",
        "REPLCONF rdb-only 1",
        "REPLCONF rdb-only 0",
        "REPLCONF rdb-filter-only functions",
        "REPLCONF rdb-filter-only \"\"",
        "REPLCONF rdb-filter-only bad",
        "REPLCONF rdb-filter-only \"functions bad\"",
        "REPLCONF listening-port 1 capa eof",
        "REPLCONF listening-port 1 nope 2",
        "REPLCONF ip-address 0123456789012345678901234567890123456789012345",
    ],
    &[
        "REPLICAOF",
        "REPLICAOF a",
        "REPLICAOF 127.0.0.1 abc",
        "REPLICAOF 127.0.0.1 70000",
        "REPLICAOF 127.0.0.1 -1",
        "REPLICAOF NO ONE",
        "SLAVEOF no one",
        "REPLICAOF a b c",
        "PSYNC",
        "PSYNC ?",
        "PSYNC ? abc",
        "PSYNC ? -1 FAILOVER",
        "SYNC extra",
        "ROLE extra",
    ],
    &[
        "FAILOVER",
        "FAILOVER ABORT",
        "FAILOVER TIMEOUT 0",
        "FAILOVER TIMEOUT -1",
        "FAILOVER TIMEOUT abc",
        "FAILOVER TIMEOUT 10 TIMEOUT 10",
        "FAILOVER TO h",
        "FAILOVER TO h x",
        "FAILOVER TO h 1",
        "FAILOVER FORCE",
        "FAILOVER TO 127.0.0.1 1 FORCE",
        "FAILOVER TO 127.0.0.1 1 FORCE TIMEOUT 10",
        "FAILOVER foo",
        "FAILOVER ABORT extra",
    ],
    &[
        "CONFIG SET min-replicas-to-write 1",
        "SET k v",
        "GET k",
        "INCR n",
        "MULTI",
        "SET k v",
        "EXEC",
        "CONFIG SET min-replicas-to-write 0",
        "SET k v",
    ],
];

#[test]
fn replication_commands_differential() {
    let Some(mut pair) = common::raw::Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let mut skipped = Vec::new();
    let diffs = pair.run(SCENARIOS, &mut skipped);
    assert!(diffs.is_empty(), "RESP2:\n{}", diffs.join("\n"));
    assert!(pair.hello3());
    let diffs = pair.run(SCENARIOS, &mut skipped);
    assert!(diffs.is_empty(), "RESP3:\n{}", diffs.join("\n"));
    assert!(skipped.is_empty(), "skipped: {skipped:?}");
}

/// FAILOVER hands the master role to the replica (PSYNC ... FAILOVER), both ways.
fn failover_between(master_bin: &std::path::Path, replica_bin: &std::path::Path) {
    let master = start(master_bin, &[]);
    let replica = start(replica_bin, &[]);
    populate(&master, "a");
    replicate(&replica, &master);
    wait_synced(&master, &replica);
    let port = replica.port.to_string();
    assert_eq!(cmd(&master, &["FAILOVER", "TO", "127.0.0.1", &port]), "OK");
    wait_until("roles swapped", || {
        info(&replica, "role") == "master"
            && info(&master, "role") == "slave"
            && info(&master, "master_link_status") == "up"
            && info(&master, "master_failover_state") == "no-failover"
    });
    assert_eq!(stat(&replica, "sync_partial_ok"), 1);
    live_writes(&replica, "b");
    wait_synced(&replica, &master);
}

#[test]
fn failover_ours_to_debian() {
    let Some(real) = real_server() else { return };
    failover_between(&our_server(), &real);
}

#[test]
fn failover_debian_to_ours() {
    let Some(real) = real_server() else { return };
    failover_between(&real, &our_server());
}
