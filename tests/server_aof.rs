//! The append-only file, ours next to Debian's redis-server 7.0.15:
//! (a) the AOF directory ours writes loads in Redis with the same DEBUG DIGEST and
//!     Redis's redis-check-aof accepts it;
//! (b) Redis's AOF directory (RDB preamble or not) loads in ours with the same digest;
//! (c) the propagated command stream (the incr file) equals Redis's for the same
//!     workload, absolute times masked;
//! (d) appendfsync always: every acknowledged write survives a SIGKILL;
//! plus BGREWRITEAOF (new base, history removed) and CONFIG SET appendonly yes.

mod common;
use common::*;
use redis_formats::RespValue;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `bin` with `dir` as its working directory (data kept after it stops).
fn start_in(bin: &Path, dir: &Path, extra: &[&str]) -> Server {
    let d = dir.to_str().unwrap();
    let mut args = vec![
        "--dir",
        d,
        "--enable-debug-command",
        "yes",
        "--appendonly",
        "yes",
    ];
    args.extend_from_slice(extra);
    Server::start(bin, &args)
}

fn info_field(c: &mut Client, field: &str) -> String {
    let RespValue::Bulk(b) = c.cmd(&["INFO", "persistence"]).unwrap() else {
        panic!("INFO");
    };
    let text = String::from_utf8_lossy(&b).into_owned();
    let want = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&want).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO persistence"))
}

fn digest(c: &mut Client) -> RespValue {
    c.cmd(&["DEBUG", "DIGEST"]).unwrap()
}

fn run(c: &mut Client, line: &str) -> RespValue {
    c.cmd(&args(line)).unwrap()
}

/// A workload touching every type, TTLs, rewritten commands, MULTI/EXEC, a served
/// blocking pop and expiry (deterministic: no random pops).
fn workload(s: &Server) {
    let mut c = s.client();
    for line in [
        "SET str hello",
        "SET num 42",
        "SET ttl v EX 1000",
        "SET ttl2 v PX 500000 GET",
        "SETEX sx 1000 v",
        "PSETEX psx 1000000 v",
        "EXPIRE num 2000",
        "PEXPIRE str 3000000",
        "EXPIREAT str 4102444800",
        "INCRBYFLOAT fl 1.5",
        "INCRBYFLOAT fl 2.25",
        "APPEND str -world",
        "GETSET gs new",
        "GETEX ttl EX 5000",
        "GETEX ttl2 PERSIST",
        "RPUSH list a b c d e f",
        "LPOP list",
        "LMPOP 1 list RIGHT COUNT 2",
        "LMOVE list list2 LEFT RIGHT",
        "HSET h f1 v1 f2 2",
        "HINCRBYFLOAT h f2 0.5",
        "SADD set m1",
        "SPOP set",
        "SADD set a b c 1 2 3",
        "SREM set c",
        "ZADD z 1 a 2 b 3 c 4.5 d",
        "ZPOPMIN z",
        "ZMPOP 1 z MAX COUNT 2",
        "SELECT 3",
        "SET db3 x",
        "SELECT 0",
        "SET gone soon",
        "EXPIRE gone -1",
        "SET short v PX 1",
        "GETDEL str2",
        "DEL nothing",
    ] {
        run(&mut c, line);
    }
    run(&mut c, "MULTI");
    run(&mut c, "INCR counter");
    run(&mut c, "SELECT 5");
    run(&mut c, "SET inmulti 1");
    run(&mut c, "SELECT 0");
    run(&mut c, "EXEC");
    // A blocking pop served by a later push.
    let mut b = s.client();
    b.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$5\r\nbkey1\r\n$1\r\n0\r\n");
    std::thread::sleep(Duration::from_millis(100));
    run(&mut c, "RPUSH bkey1 x y");
    assert!(matches!(b.read_reply().unwrap(), RespValue::Array(_)));
    let mut bz = s.client();
    bz.send_raw(b"*3\r\n$8\r\nBZPOPMAX\r\n$3\r\nbz1\r\n$1\r\n0\r\n");
    std::thread::sleep(Duration::from_millis(100));
    run(&mut c, "ZADD bz1 1 one 2 two");
    assert!(matches!(bz.read_reply().unwrap(), RespValue::Array(_)));
    // Lazy expiry of `short` by a read.
    std::thread::sleep(Duration::from_millis(20));
    run(&mut c, "GET short");
    run(&mut c, "FLUSHDB");
    run(&mut c, "SET after flush");
    run(&mut c, "RPUSH after2 1 2 3");
    run(&mut c, "SADD keep x y z");
    run(&mut c, "HSET keeph a 1");
    run(&mut c, "ZADD keepz 1 q");
    run(&mut c, "SET keepttl v EX 10000");
    stream_workload(s, &mut c);
}

/// Streams: `ms-*` IDs and `~` trims propagate as what they became, XREADGROUP as its
/// effects (XCLAIM, XGROUP SETID / CREATECONSUMER), also when a blocked one is served.
fn stream_workload(s: &Server, c: &mut Client) {
    run(c, "CONFIG SET stream-node-max-entries 4");
    for i in 1..=20 {
        run(c, &format!("XADD st {i}-* f{i} v"));
    }
    for line in [
        "XADD st MAXLEN ~ 10 21-1 f v",
        "XADD st MINID ~ 15 LIMIT 4 21-2 f v",
        "XTRIM st MAXLEN ~ 5",
        "XTRIM st MAXLEN = 7",
        "XADD st NOMKSTREAM 22-* a b",
        "XADD nost NOMKSTREAM 1-1 a b",
        "XDEL st 22-0",
        "XGROUP CREATE st g 0",
        "XGROUP CREATE st g2 $ ENTRIESREAD 3",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS st >",
        "XREADGROUP GROUP g bob NOACK COUNT 1 STREAMS st >",
        "XREADGROUP GROUP g alice STREAMS st 0",
        "XGROUP CREATECONSUMER st g carol",
        "XACK st g 17-0",
        "XCLAIM st g bob 0 18-0",
        "XAUTOCLAIM st g carol 0 0-0 COUNT 1",
        "XSETID st 30-0",
        "XADD empty MAXLEN 0 1-1 a b",
    ] {
        run(c, line);
    }
    // A blocked XREADGROUP (NOACK, new consumer) served by a later XADD.
    let mut b = s.client();
    b.send_raw(b"*10\r\n$10\r\nXREADGROUP\r\n$5\r\nGROUP\r\n$2\r\ng2\r\n$4\r\ndave\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$5\r\nNOACK\r\n$7\r\nSTREAMS\r\n$2\r\nst\r\n$1\r\n>\r\n");
    std::thread::sleep(Duration::from_millis(100));
    run(c, "XADD st 31-1 late x");
    assert!(matches!(b.read_reply().unwrap(), RespValue::Array(_)));
}

fn incr_files(dir: &Path) -> Vec<u8> {
    let d = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(d.join("appendonly.aof.manifest")).unwrap();
    let mut out = Vec::new();
    for l in manifest.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        if f.len() >= 6 && f[5] == "i" {
            out.extend(std::fs::read(d.join(f[1])).unwrap());
        }
    }
    out
}

/// Replaces 13-digit numbers (unix ms) and `#TS:` values by X.
fn mask_times(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b).into_owned();
    let mut out = String::new();
    for line in s.split("\r\n") {
        if line.len() == 13 && line.bytes().all(|c| c.is_ascii_digit()) {
            out.push_str("<ms>");
        } else if line.len() == 2 && line == "13" {
            out.push_str("$13");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

fn check_aof(manifest: &Path) -> String {
    let o = Command::new("/usr/bin/redis-check-aof")
        .arg(manifest)
        .stdin(Stdio::null())
        .output()
        .expect("redis-check-aof");
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn shutdown(s: &Server) {
    let mut c = s.client();
    let _ = c.cmd(&["SHUTDOWN", "NOSAVE"]);
}

/// (c): the incr file holds the same commands as Redis's for the same workload.
#[test]
fn propagated_stream_matches_redis() {
    let Some(real) = real_server() else { return };
    let mut streams = Vec::new();
    for bin in [our_server(), real] {
        let d = tempdir::Dir::new("aof-stream");
        let s = start_in(&bin, &d.0, &[]);
        workload(&s);
        shutdown(&s);
        drop(s);
        streams.push(mask_times(&incr_files(&d.0)));
    }
    assert!(
        streams[0].contains("BZPOPMAX") || streams[0].contains("ZPOPMAX"),
        "{}",
        streams[0]
    );
    assert_eq!(streams[0], streams[1]);
}

/// (a) and (b), with and without the RDB preamble.
#[test]
fn aof_dirs_load_across_servers() {
    let Some(real) = real_server() else { return };
    for preamble in ["yes", "no"] {
        for (writer, reader) in [(our_server(), real.clone()), (real.clone(), our_server())] {
            let d = tempdir::Dir::new("aof-load");
            let extra = ["--aof-use-rdb-preamble", preamble];
            let s = start_in(&writer, &d.0, &extra);
            workload(&s);
            // A rewrite, then more writes into the new incr file.
            let mut c = s.client();
            run(&mut c, "BGREWRITEAOF");
            let deadline = Instant::now() + Duration::from_secs(20);
            while info_field(&mut c, "aof_rewrite_in_progress") != "0"
                || info_field(&mut c, "aof_rewrite_scheduled") != "0"
            {
                assert!(Instant::now() < deadline, "rewrite did not finish");
                std::thread::sleep(Duration::from_millis(20));
            }
            run(&mut c, "SET post rewrite");
            run(&mut c, "LPUSH post2 a b");
            let want = digest(&mut c);
            shutdown(&s);
            drop(s);
            let manifest = d.0.join("appendonlydir/appendonly.aof.manifest");
            let report = check_aof(&manifest);
            assert!(report.contains("is valid"), "{preamble}: {report}");
            let s = start_in(&reader, &d.0, &extra);
            let mut c = s.client();
            assert_eq!(
                digest(&mut c),
                want,
                "preamble {preamble}, writer {writer:?}"
            );
        }
    }
}

/// An old single-file AOF is moved into the directory and loaded.
#[test]
fn old_single_file_aof_is_upgraded() {
    let d = tempdir::Dir::new("aof-old");
    std::fs::write(
        d.0.join("appendonly.aof"),
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    )
    .unwrap();
    let s = start_in(&our_server(), &d.0, &[]);
    let mut c = s.client();
    assert_eq!(run(&mut c, "GET k"), RespValue::Bulk(b"v".to_vec()));
    assert!(d.0.join("appendonlydir/appendonly.aof").exists());
    let m = std::fs::read_to_string(d.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert!(m.starts_with("file appendonly.aof seq 1 type b\n"), "{m}");
}

/// A truncated tail is cut with aof-load-truncated, and refused without it.
#[test]
fn truncated_tail() {
    for truncated_ok in ["yes", "no"] {
        let d = tempdir::Dir::new("aof-trunc");
        let s = start_in(&our_server(), &d.0, &[]);
        let mut c = s.client();
        run(&mut c, "SET a 1");
        run(&mut c, "SET b 2");
        shutdown(&s);
        drop(s);
        let incr = d.0.join("appendonlydir/appendonly.aof.1.incr.aof");
        let mut data = std::fs::read(&incr).unwrap();
        data.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nc");
        std::fs::write(&incr, &data).unwrap();
        let port = free_port();
        let mut child = Command::new(our_server())
            .args(["--port", &port.to_string(), "--dir", d.0.to_str().unwrap()])
            .args(["--appendonly", "yes", "--aof-load-truncated", truncated_ok])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if truncated_ok == "no" {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(1));
            let log = String::from_utf8_lossy(&out.stdout);
            assert!(
                log.contains(
                    "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"
                ),
                "{log}"
            );
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut c = loop {
            if let Ok(c) = Client::connect(port) {
                break c;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(run(&mut c, "MGET a b c"), {
            RespValue::Array(vec![
                RespValue::Bulk(b"1".to_vec()),
                RespValue::Bulk(b"2".to_vec()),
                RespValue::Nil,
            ])
        });
        let _ = child.kill();
        let _ = child.wait();
        let len = std::fs::metadata(&incr).unwrap().len() as usize;
        assert_eq!(len, data.len() - b"*3\r\n$3\r\nSET\r\n$1\r\nc".len());
    }
}

/// (d): appendfsync always, SIGKILL right after replies: every INCR acknowledged is
/// in the AOF.
#[test]
fn fsync_always_survives_sigkill() {
    let d = tempdir::Dir::new("aof-kill");
    let mut s = start_in(&our_server(), &d.0, &["--appendfsync", "always"]);
    let mut c = s.client();
    let mut last = 0;
    for _ in 0..200 {
        let RespValue::Integer(n) = run(&mut c, "INCR counter") else {
            panic!()
        };
        last = n;
    }
    let _ = s.child.kill();
    let _ = s.child.wait();
    let s = start_in(&our_server(), &d.0, &[]);
    let mut c = s.client();
    assert_eq!(
        run(&mut c, "GET counter"),
        RespValue::Bulk(last.to_string().into_bytes())
    );
}

/// CONFIG SET appendonly yes rewrites first (a base with the dataset), and BGREWRITEAOF
/// makes the old files history (removed).
#[test]
fn switch_on_at_runtime_and_rewrite() {
    let d = tempdir::Dir::new("aof-switch");
    let dir = d.0.to_str().unwrap();
    let s = Server::start(&our_server(), &["--dir", dir]);
    let mut c = s.client();
    run(&mut c, "SET before on");
    assert_eq!(
        run(&mut c, "CONFIG SET appendonly yes"),
        RespValue::Status(b"OK".to_vec())
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the cron reap the child.
    std::thread::sleep(Duration::from_millis(300));
    run(&mut c, "SET after on");
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    let m = std::fs::read_to_string(d.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
    assert_eq!(
        m,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert_eq!(
        run(&mut c, "BGREWRITEAOF"),
        RespValue::Status(b"Background append only file rewriting started".to_vec())
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = std::fs::read_to_string(d.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
        // The manifest is written with history files first, then without them.
        if m.contains("2.base") && !m.contains(" type h") {
            assert_eq!(
                m,
                "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
            );
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let files: Vec<PathBuf> = std::fs::read_dir(d.0.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(info_field(&mut c, "aof_rewrites"), "2");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
}
