//! BGSAVE, save points and stop-writes-on-bgsave-error, ours next to Debian's
//! redis-server 7.0.15: the snapshot a child writes loads in Redis with the same
//! DEBUG DIGEST, and the replies around a failed save are Redis's.

mod common;
use common::*;
use redis_formats::RespValue;
use std::time::{Duration, Instant};

fn ok(c: &mut Client, args: &[&str]) {
    assert_eq!(
        c.cmd(args).unwrap(),
        RespValue::Status(b"OK".to_vec()),
        "{args:?}"
    );
}

fn info_field(c: &mut Client, section: &str, field: &str) -> String {
    let RespValue::Bulk(b) = c.cmd(&["INFO", section]).unwrap() else {
        panic!("INFO {section}");
    };
    let text = String::from_utf8_lossy(&b).into_owned();
    let want = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&want).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// Waits (at most 20 s) until no BGSAVE runs.
fn wait_bgsave_done(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(c, "persistence", "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn digest(c: &mut Client) -> RespValue {
    c.cmd(&["DEBUG", "DIGEST"]).unwrap()
}

/// A dataset of every type, in several databases, with TTLs.
fn populate(c: &mut Client) {
    ok(c, &["DEBUG", "POPULATE", "20000", "key", "20"]);
    ok(c, &["SET", "s", "string"]);
    c.cmd(&["RPUSH", "l", "a", "b", "c"]).unwrap();
    c.cmd(&["HSET", "h", "f", "v", "g", "w"]).unwrap();
    c.cmd(&["SADD", "set", "1", "2", "x"]).unwrap();
    c.cmd(&["ZADD", "z", "1", "a", "2.5", "b"]).unwrap();
    c.cmd(&["PFADD", "hll", "a", "b", "c"]).unwrap();
    c.cmd(&["PEXPIRE", "s", "100000000"]).unwrap();
    ok(c, &["SELECT", "5"]);
    ok(c, &["SET", "other-db", "1"]);
    ok(c, &["SELECT", "0"]);
}

#[test]
fn bgsave_snapshot_loads_in_redis_with_the_same_digest() {
    let Some(real) = real_server() else { return };
    let s = Server::start(&our_server(), &["--enable-debug-command", "yes"]);
    let mut c = s.client();
    populate(&mut c);
    let before = c.cmd(&["LASTSAVE"]).unwrap();
    assert_eq!(
        c.cmd(&["BGSAVE"]).unwrap(),
        RespValue::Status(b"Background saving started".to_vec())
    );
    // The parent keeps serving while the child writes.
    ok(&mut c, &["SET", "written-during-bgsave", "1"]);
    wait_bgsave_done(&mut c);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    assert_eq!(info_field(&mut c, "stats", "total_forks"), "1");
    assert_ne!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_time_sec"),
        "-1"
    );
    let after = c.cmd(&["LASTSAVE"]).unwrap();
    assert!(
        matches!((&before, &after), (RespValue::Integer(a), RespValue::Integer(b)) if b >= a),
        "{before:?} {after:?}"
    );
    // The write made after the fork is still counted as unsaved.
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "1"
    );
    assert_eq!(
        c.cmd(&["DEL", "written-during-bgsave"]).unwrap(),
        RespValue::Integer(1)
    );
    let ours = digest(&mut c);
    let file = s.dir.0.join("dump.rdb");
    assert!(file.exists(), "no dump.rdb");
    let r = Server::start(
        &real,
        &[
            "--dir",
            s.dir.0.to_str().unwrap(),
            "--enable-debug-command",
            "yes",
        ],
    );
    let mut rc = r.client();
    assert_eq!(digest(&mut rc), ours);
    assert_eq!(rc.cmd(&["DBSIZE"]).unwrap(), RespValue::Integer(20006));
}

#[test]
fn save_points_start_a_bgsave() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    ok(&mut c, &["CONFIG", "SET", "save", "1 2"]);
    ok(&mut c, &["SET", "a", "1"]);
    // One change is below the save point: nothing is saved.
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(info_field(&mut c, "stats", "total_forks"), "0");
    ok(&mut c, &["SET", "b", "1"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "persistence", "rdb_changes_since_last_save") != "0" {
        assert!(Instant::now() < deadline, "save point never fired");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(info_field(&mut c, "stats", "total_forks"), "1");
    assert!(s.dir.0.join("dump.rdb").exists());
}

/// A BGSAVE that fails (the file name is a directory): the same replies as Redis
/// for writes, PING and reads, then writes come back once a save succeeds.
#[test]
fn failed_bgsave_stops_writes_like_redis() {
    let Some(real) = real_server() else { return };
    let mut transcripts = Vec::new();
    for bin in [our_server(), real] {
        let s = Server::start(&bin, &[]);
        std::fs::create_dir(s.dir.0.join("dump.rdb")).unwrap();
        let mut c = s.client();
        let mut t = Vec::new();
        ok(&mut c, &["SET", "k", "v"]);
        t.push(c.cmd(&["BGSAVE"]).unwrap());
        wait_bgsave_done(&mut c);
        t.push(RespValue::Bulk(
            info_field(&mut c, "persistence", "rdb_last_bgsave_status").into_bytes(),
        ));
        // No save point: writes are still allowed.
        t.push(c.cmd(&["SET", "k", "w"]).unwrap());
        ok(&mut c, &["CONFIG", "SET", "save", "3600 1"]);
        for cmd in [
            &["SET", "k", "x"][..],
            &["PING"],
            &["GET", "k"],
            &["INCR", "n"],
            &["DEL", "k"],
        ] {
            t.push(c.cmd(cmd).unwrap());
        }
        ok(&mut c, &["MULTI"]);
        t.push(c.cmd(&["SET", "k", "y"]).unwrap());
        t.push(c.cmd(&["EXEC"]).unwrap());
        std::fs::remove_dir(s.dir.0.join("dump.rdb")).unwrap();
        t.push(c.cmd(&["BGSAVE"]).unwrap());
        wait_bgsave_done(&mut c);
        t.push(c.cmd(&["SET", "k", "z"]).unwrap());
        t.push(c.cmd(&["BGSAVE", "now"]).unwrap());
        transcripts.push(t);
    }
    assert_eq!(transcripts[0], transcripts[1]);
    assert!(matches!(&transcripts[0][3], RespValue::Error(e) if e.starts_with(b"MISCONF")));
}

#[test]
fn bgsave_inside_exec_is_scheduled() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["MULTI"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]).unwrap(),
        RespValue::Status(b"QUEUED".to_vec())
    );
    assert_eq!(
        c.cmd(&["EXEC"]).unwrap(),
        RespValue::Array(vec![RespValue::Status(
            b"Background saving scheduled".to_vec()
        )])
    );
    // The cron starts it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "stats", "total_forks") != "1" {
        assert!(Instant::now() < deadline, "scheduled BGSAVE never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_bgsave_done(&mut c);
    assert!(s.dir.0.join("dump.rdb").exists());
}

/// SIGTERM with save points: the cron saves, the process exits 0; SHUTDOWN ABORT
/// cancels a SIGTERM the (paused) cron has not acted on yet.
#[test]
fn sigterm_saves_then_exits_and_abort_cancels_it() {
    let mut s = Server::start(
        &our_server(),
        &["--save", "3600 1", "--enable-debug-command", "yes"],
    );
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    let pid = s.child.id() as i32;
    ok(&mut c, &["DEBUG", "PAUSE-CRON", "1"]);
    // SAFETY: signals the server we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(200));
    ok(&mut c, &["SHUTDOWN", "ABORT"]);
    ok(&mut c, &["DEBUG", "PAUSE-CRON", "0"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        c.cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
    assert!(!s.dir.0.join("dump.rdb").exists());
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "server did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(s.dir.0.join("dump.rdb").exists());
}

fn oom_score_adj(pid: u32) -> i32 {
    std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// oom-score-adj moves the server's score (relative to where it started) and gives a
/// BGSAVE child the background class's value; turning it off restores the start.
#[test]
fn oom_score_adj_by_role() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    let pid = s.child.id();
    let base = oom_score_adj(pid);
    ok(
        &mut c,
        &["CONFIG", "SET", "oom-score-adj-values", "10 20 30"],
    );
    assert_eq!(oom_score_adj(pid), base);
    ok(&mut c, &["CONFIG", "SET", "oom-score-adj", "yes"]);
    assert_eq!(oom_score_adj(pid), base + 10);
    ok(&mut c, &["SET", "k", "v"]);
    ok(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    c.cmd(&["BGSAVE"]).unwrap();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    let child: u32 = children.split_whitespace().next().unwrap().parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while oom_score_adj(child) != base + 30 {
        assert!(Instant::now() < deadline, "child's oom_score_adj not set");
        std::thread::sleep(Duration::from_millis(10));
    }
    ok(&mut c, &["CONFIG", "SET", "oom-score-adj", "no"]);
    assert_eq!(oom_score_adj(pid), base);
    let r = c
        .cmd(&["CONFIG", "SET", "oom-score-adj-values", "-2001 0 0"])
        .unwrap();
    assert!(
        matches!(r, RespValue::Error(e) if String::from_utf8_lossy(&e).contains("between -2000 and 2000"))
    );
    // SHUTDOWN stops the (slow) child too.
    let _ = c.cmd(&["SHUTDOWN", "NOSAVE"]);
}
