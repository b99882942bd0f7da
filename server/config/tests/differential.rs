//! Differential tests against Debian's redis-server 7.0.15 (found on PATH; when it is
//! missing the tests are skipped, unless CI=true where that is a failure):
//! - every CONFIG GET `*` value of our defaults (and of a non-default config) equals
//!   the real server's, with both started from the same directory;
//! - start-up errors (bad files, bad arguments): same stderr bytes and exit code, via
//!   the `config_check` example, which prints errors as the server's main does;
//! - CONFIG SET error texts and CONFIG GET values after CONFIG SET.

use redis_formats::command::encode_command;
use redis_formats::{ReplyDecoder, RespValue};
use redis_server_config::Config;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn real_redis() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    });
    if found.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!("redis-server not found on PATH (CI=true)");
    }
    found
}

fn ours() -> PathBuf {
    // Integration tests live in target/<profile>/deps; cargo builds examples next door.
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("config_check");
    assert!(
        p.is_file(),
        "{} missing (cargo test builds examples)",
        p.display()
    );
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a command that must exit by itself within 5 s.
fn run_bounded(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut si = child.stdin.take().unwrap();
        let _ = si.write_all(stdin);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{:?} did not exit; stdout {:?}",
                cmd,
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redis-cfg-diff-{}-{}", tag, std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Client {
    s: TcpStream,
    dec: ReplyDecoder,
}

impl Client {
    fn connect(port: u16) -> Client {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                return Client {
                    s,
                    dec: ReplyDecoder::new(),
                };
            }
            assert!(
                Instant::now() < deadline,
                "real redis-server did not start on {}",
                port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    fn cmd(&mut self, args: &[&[u8]]) -> RespValue {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.s.write_all(&out).unwrap();
        loop {
            if let Some(v) = self.dec.next().unwrap() {
                return v;
            }
            let mut buf = [0u8; 65536];
            let n = self.s.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed");
            self.dec.feed(&buf[..n]);
        }
    }
    fn config_get_all(&mut self) -> Vec<(Vec<u8>, Vec<u8>)> {
        pairs(self.cmd(&[b"CONFIG", b"GET", b"*"]))
    }
}

fn pairs(v: RespValue) -> Vec<(Vec<u8>, Vec<u8>)> {
    let items = v.as_slice().unwrap().to_vec();
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = items
        .chunks(2)
        .map(|c| {
            (
                c[0].as_bytes().unwrap().to_vec(),
                c[1].as_bytes().unwrap().to_vec(),
            )
        })
        .collect();
    out.sort();
    out
}

fn start_real(redis: &Path, dir: &Path, args: &[&str]) -> (Guard, Client) {
    let port = free_port();
    let child = Command::new(redis)
        .current_dir(dir)
        .args(args)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let g = Guard(child);
    (g, Client::connect(port))
}

fn ours_get_all(dir: &Path, args: &[&str]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let out = run_bounded(Command::new(ours()).current_dir(dir).args(args), b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&[u8]> = out.stdout.split(|&c| c == b'\n').collect();
    let mut v: Vec<(Vec<u8>, Vec<u8>)> = lines
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| (c[0].to_vec(), c[1].to_vec()))
        .collect();
    v.sort();
    v
}

fn compare_all(tag: &str, file: Option<&str>, args: &[&str]) {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir(tag);
    let mut a: Vec<String> = Vec::new();
    if let Some(f) = file {
        std::fs::write(dir.join("r.conf"), f).unwrap();
        a.push(dir.join("r.conf").display().to_string());
    }
    a.extend(args.iter().map(|s| s.to_string()));
    let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    let (_g, mut c) = start_real(&redis, &dir, &a);
    let theirs = c.config_get_all();
    // Our side gets the same port/bind/daemonize options as the real server.
    let port = c.s.peer_addr().unwrap().port().to_string();
    let mut oa = a.clone();
    oa.extend(["--port", &port, "--bind", "127.0.0.1", "--daemonize", "no"]);
    let ours = ours_get_all(&dir, &oa);
    assert_eq!(ours.len(), theirs.len());
    let mut diffs = Vec::new();
    for (o, t) in ours.iter().zip(&theirs) {
        if o != t {
            diffs.push(format!(
                "ours {}={:?} theirs {}={:?}",
                String::from_utf8_lossy(&o.0),
                String::from_utf8_lossy(&o.1),
                String::from_utf8_lossy(&t.0),
                String::from_utf8_lossy(&t.1)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn defaults_match_config_get_star() {
    // No parameter is skipped: `dir` matches because both start in the same directory.
    compare_all("defaults", None, &[]);
}

#[test]
fn non_defaults_match_config_get_star() {
    let file = "maxmemory 100mb\nmaxmemory-policy allkeys-lfu\nsave 900 1\nsave 300 10\n\
                slave-priority 7\nhash-max-ziplist-entries 99\nnotify-keyspace-events Kx\n\
                client-output-buffer-limit pubsub 64mb 16mb 90 replica 0 0 0\n\
                oom-score-adj-values 10 20 30\noom-score-adj absolute\nunixsocketperm 755\n\
                maxmemory-clients 7%\nmasterauth \"p w\"\nlatency-tracking-info-percentiles 1.5 2\n\
                shutdown-on-sigterm \"now force\"\nloglevel warning\nhz 600\ntimeout 77\n\
                list-max-ziplist-size 4\nproc-title-template \"{title} x\"\nappendfilename a.aof\n\
                tls-auth-clients optional\ntls-protocols \"TLSv1.2 TLSv1.3\"\nlua-time-limit 100\n\
                active-defrag-ignore-bytes 1gb\nclient-query-buffer-limit 2gb\n";
    compare_all(
        "nondefaults",
        Some(file),
        &[
            "--save",
            "60",
            "5",
            "--databases",
            "4",
            "--maxclients",
            "123",
        ],
    );
}

/// Each case: config file content (None = no file), command-line args (after the file).
const BAD_STARTS: &[(Option<&str>, &[&str])] = &[
    (Some("\nport 99999\n"), &[]),
    (Some("foo bar\n"), &[]),
    (Some("port 1 2\n"), &[]),
    (Some("port \"1\n"), &[]),
    (Some("appendonly maybe\n"), &[]),
    (Some("maxmemory 1zb\n"), &[]),
    (Some("maxmemory -1\n"), &[]),
    (Some("loglevel loud\n"), &[]),
    (Some("save 0 1\n"), &[]),
    (Some("save 1\n"), &[]),
    (Some("slaveof a b\n"), &[]),
    (Some("replicaof 1.2.3.4\n"), &[]),
    (Some("mymodule.opt\n"), &[]),
    (Some("sentinel monitor x\n"), &[]),
    (Some("cluster-enabled yes\nreplicaof 1.2.3.4 5\n"), &[]),
    (Some("hz abc\n"), &[]),
    (Some("databases 0\n"), &[]),
    (Some("unixsocketperm 999\n"), &[]),
    (Some("unixsocketperm 9\n"), &[]),
    (Some("maxmemory-clients 101%\n"), &[]),
    (Some("dbfilename a/b\n"), &[]),
    (Some("appendfilename \"\"\n"), &[]),
    (Some("appenddirname a/b\n"), &[]),
    (
        Some("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"),
        &[],
    ),
    (Some("client-output-buffer-limit master 1 2 3\n"), &[]),
    (Some("client-output-buffer-limit normal 1 2\n"), &[]),
    (Some("client-output-buffer-limit normal 1x 2 3\n"), &[]),
    (Some("oom-score-adj-values 1 2\n"), &[]),
    (Some("oom-score-adj-values 1 2 3000\n"), &[]),
    (Some("notify-keyspace-events Q\n"), &[]),
    (Some("shutdown-on-sigint save nosave\n"), &[]),
    (Some("shutdown-on-sigint sometimes\n"), &[]),
    (Some("latency-tracking-info-percentiles 101\n"), &[]),
    (Some("latency-tracking-info-percentiles abc\n"), &[]),
    (Some("proc-title-template {x}\n"), &[]),
    (Some("cluster-announce-hostname a_b\n"), &[]),
    (Some("logfile /nonexistent-dir/x.log\n"), &[]),
    (Some("rename-command nosuchcmd x\n"), &[]),
    (Some("activedefrag yes\n"), &[]),
    (Some("dir /nonexistent-dir\n"), &[]),
    (Some("list-max-ziplist-entries 1 2\n"), &[]),
    (Some("user\n"), &[]),
    (Some("include\n"), &[]),
    (Some("maxclients 0\n"), &[]),
    (Some("proto-max-bulk-len 1000\n"), &[]),
    (Some("tcp-backlog -1\n"), &[]),
    (Some("set-max-intset-entries -1\n"), &[]),
    (Some("repl-diskless-load maybe\n"), &[]),
    (Some("unixsocketperm 8\n"), &[]),
    (Some("unixsocketperm -1\n"), &[]),
    (Some("unixsocketperm 0x7\n"), &[]),
    (Some("unixsocketperm 77777777777777777777777\n"), &[]),
    (Some("save 10 x\n"), &[]),
    (Some("save 10 -1\n"), &[]),
    (Some("client-output-buffer-limit normal 1 2 -1\n"), &[]),
    (Some("client-output-buffer-limit normal 1 2 x\n"), &[]),
    (Some("oom-score-adj-values 1 2 x\n"), &[]),
    (Some("replicaof host 70000\n"), &[]),
    (Some("replicaof host\n"), &[]),
    (Some("notify-keyspace-events a b\n"), &[]),
    (Some("dir\n"), &[]),
    (Some("dir a b\n"), &[]),
    (Some("maxmemory \"\"\nport x\n"), &[]),
    (Some("PORT 99999\n"), &[]),
    (Some("Slave-Priority x\n"), &[]),
    (Some("\t  port   abc  \r\n"), &[]),
    (Some("port 1 # comment\n"), &[]),
    (Some("port 'x\n"), &[]),
    (Some("port \"a\"b\n"), &[]),
    (Some("loadmodule\n"), &[]),
    (Some("rename-command get\n"), &[]),
    (Some("# ok\nport 7000\n"), &["--hz", "x"]),
    (None, &["--port", "99999"]),
    (None, &["--nosuch", "1"]),
    (None, &["--port"]),
    (None, &["--maxmemory", "1", "2"]),
    (None, &["--port", "1", "--loglevel", "loud"]),
    (None, &["--save", "x"]),
    (None, &["--appendonly"]),
    (None, &["--port 99999"]),
    (None, &["--bind", "a", "--port", "1 2"]),
];

#[test]
fn startup_errors_match() {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("bad");
    let mut failures = Vec::new();
    for (i, (file, args)) in BAD_STARTS.iter().enumerate() {
        let mut a: Vec<String> = Vec::new();
        if let Some(f) = file {
            let p = dir.join(format!("bad{}.conf", i));
            std::fs::write(&p, f).unwrap();
            a.push(p.display().to_string());
        }
        a.extend(args.iter().map(|s| s.to_string()));
        let theirs = run_bounded(Command::new(&redis).current_dir(&dir).args(&a), b"");
        let ours = run_bounded(Command::new(ours()).current_dir(&dir).args(&a), b"");
        if theirs.stderr != ours.stderr || theirs.status.code() != ours.status.code() {
            failures.push(format!(
                "case {:?} {:?}:\n theirs ({:?}) {:?}\n ours   ({:?}) {:?}",
                file,
                args,
                theirs.status.code(),
                String::from_utf8_lossy(&theirs.stderr),
                ours.status.code(),
                String::from_utf8_lossy(&ours.stderr)
            ));
        }
        assert_eq!(
            theirs.status.code(),
            Some(1),
            "case {:?} {:?} must fail on real redis",
            file,
            args
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        BAD_STARTS.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdin_config_errors_match() {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("stdin");
    for (stdin, args) in [
        (&b"port 5\nhz x\n"[..], &["-"][..]),
        (b"maxmemory 1zb\n", &["--port", "5", "-"][..]),
    ] {
        let theirs = run_bounded(Command::new(&redis).current_dir(&dir).args(args), stdin);
        let ours = run_bounded(Command::new(ours()).current_dir(&dir).args(args), stdin);
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert_eq!(ours.status.code(), theirs.status.code());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cant_open_config_file_matches() {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("open");
    for args in [
        &["/nonexistent-dir/r.conf"][..],
        &["--include", "/nonexistent-dir/r.conf"][..],
        &["../missing.conf"][..],
        &["missing.conf", "--port", "1"][..],
    ] {
        let theirs = run_bounded(Command::new(&redis).current_dir(&dir).args(args), b"");
        let ours = run_bounded(Command::new(ours()).current_dir(&dir).args(args), b"");
        assert_eq!(theirs.status.code(), Some(1));
        assert_eq!(ours.status.code(), Some(1));
        // Redis logs it ("pid:C date time # message"); compare the message.
        let t = String::from_utf8_lossy(&theirs.stdout);
        let msg = t
            .lines()
            .find_map(|l| l.split_once(" # ").map(|(_, m)| m.to_string()))
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&ours.stdout).trim_end(), msg);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_version_and_test_memory_match() {
    let Some(redis) = real_redis() else { return };
    for args in [&["--help"][..], &["-h"][..], &["--test-memory"][..]] {
        let theirs = run_bounded(Command::new(&redis).args(args), b"");
        let ours = run_bounded(Command::new(ours()).args(args), b"");
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr),
            "{:?}",
            args
        );
        assert_eq!(ours.status.code(), theirs.status.code());
    }
    let theirs = run_bounded(Command::new(&redis).arg("--version"), b"");
    let ours = run_bounded(Command::new(ours()).arg("-v"), b"");
    let prefix = "Redis server v=7.0.15 sha=00000000:0 malloc=";
    assert!(String::from_utf8_lossy(&theirs.stdout).starts_with(prefix));
    assert!(String::from_utf8_lossy(&ours.stdout).starts_with(prefix));
}

#[test]
fn config_set_errors_and_values_match() {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("set");
    let (_g, mut c) = start_real(&redis, &dir, &["--save", "", "--appendonly", "no"]);
    let port = c.s.peer_addr().unwrap().port();
    let mut ours = Config {
        port,
        bind: vec![b"127.0.0.1".to_vec()],
        save: Vec::new(),
        ..Config::default()
    };
    let cases: &[&[&str]] = &[
        &["foo", "bar"],
        &["port", "99999"],
        &["port", "abc"],
        &["daemonize", "yes"],
        &["port", "1", "PORT", "2"],
        &["daemonize", "yes", "foo", "bar"],
        &["foo", "bar", "daemonize", "yes"],
        &["slave-priority", "x"],
        &["dir", "/tmp"],
        &["dbfilename", "x.rdb"],
        &["maxmemory-clients", "200%"],
        &["maxmemory-clients", "-5"],
        &["unixsocketperm", "999"],
        &["loglevel", "foo"],
        &["shutdown-on-sigint", "save nosave"],
        &["shutdown-on-sigint", "now save"],
        &["shutdown-on-sigint", ""],
        &["maxmemory", "1x"],
        &["maxmemory", "-1"],
        &["maxmemory", "99999999999gb"],
        &["maxmemory", "0"],
        &["appendonly", "maybe"],
        &["activedefrag", "yes"],
        &["cluster-announce-hostname", "a_b"],
        &["proc-title-template", "{title}"],
        &["proc-title-template", "{x"],
        &["notify-keyspace-events", "KEA"],
        &["notify-keyspace-events", "Q"],
        &["notify-keyspace-events", "gx$E"],
        &["oom-score-adj", "relative"],
        &["oom-score-adj-values", "1 2"],
        &["oom-score-adj-values", "1 2 5000"],
        &["oom-score-adj-values", "1  2 3"],
        &["client-output-buffer-limit", "normal 1 2"],
        &["client-output-buffer-limit", "master 1 2 3"],
        &["client-output-buffer-limit", "replica 1mb 2mb 3"],
        &["client-output-buffer-limit", "pubsub 1 2 -1"],
        &["save", "10 1 20"],
        &["save", "10 1 20 2"],
        &["save", "0 1"],
        &["save", ""],
        &["latency-tracking-info-percentiles", "50 101"],
        &["latency-tracking-info-percentiles", "50 abc"],
        &["latency-tracking-info-percentiles", "1.5 99.999"],
        &["hz", "1000"],
        &["hz", "abc"],
        &["hz", "10"],
        &["slaveof", "no one"],
        &["timeout", "5", "tcp-keepalive", "-1"],
        &["requirepass", "", "masterauth", "x"],
        &["list-max-ziplist-size", "-5"],
        &["lua-time-limit", "100"],
        &["maxclients", "0"],
        &["set-max-intset-entries", "-1"],
        &["proto-max-bulk-len", "1000"],
        &["client-query-buffer-limit", "1k"],
        &["repl-backlog-size", "0"],
        &["slowlog-log-slower-than", "-2"],
        &["maxmemory-policy", "allkeys-random"],
        &["appendfsync", "sometimes"],
        &["appendfilename", "x.aof"],
        &["tls-auth-clients", "optional"],
        &["replica-announce-ip", "1.2.3.4", "replica-announce-ip", "x"],
        &[
            "slave-announce-ip",
            "1.2.3.4",
            "replica-announce-ip",
            "5.6.7.8",
        ],
        &["rdb-key-save-delay", "abc"],
        &["watchdog-period", "-1"],
        &["client-output-buffer-limit", ""],
        &["oom-score-adj-values", ""],
        &["notify-keyspace-events", ""],
        &["unixsocketperm", ""],
        &["maxmemory", "kb"],
        &["maxmemory-clients", "0%"],
        &["maxmemory-clients", "%"],
        &["maxmemory-clients", "0"],
        &["hash-max-ziplist-value", "1k"],
        &["zset-max-ziplist-value", "1K"],
        &["stream-node-max-bytes", "1.5kb"],
        &["timeout", "+1"],
        &["timeout", " 1"],
        &["timeout", "01"],
        &["timeout", "-0"],
        &["timeout", "1 "],
        &["timeout", "0x10"],
        &["timeout", "2147483648"],
        &["timeout", "99999999999999999999"],
        &["appendonly", "YES"],
        &["appendonly", "No"],
        &["appendonly", " no"],
        &["maxmemory", "1GB"],
        &["maxmemory", "1Gb"],
        &["maxmemory", "1.5gb"],
        &["maxmemory", "1 gb"],
        &["maxmemory", "+1"],
        &["maxmemory", "0"],
        &["maxmemory-clients", "5%%"],
        &["maxmemory-clients", "-5%"],
        &["maxmemory-clients", "05%"],
        &["maxmemory-clients", "100%"],
        &["maxmemory-clients", "0"],
        &["lfu-decay-time", "-1"],
        &["maxclients", "4294967296"],
        &["maxclients", "-1"],
        &["maxclients", "10000"],
        &["active-defrag-max-scan-fields", "-1"],
        &["cluster-link-sendbuf-limit", "-1"],
        &["cluster-link-sendbuf-limit", "18446744073709551615"],
        &["cluster-link-sendbuf-limit", "18446744073709551616"],
        &["repl-backlog-ttl", "-1"],
        &["auto-aof-rewrite-min-size", "1tb"],
        &[
            "latency-tracking-info-percentiles",
            "0x1p3 0X1.8p1 1e1 +5 .5 5.",
        ],
        &["latency-tracking-info-percentiles", "0x1p"],
        &["latency-tracking-info-percentiles", "inf"],
        &["latency-tracking-info-percentiles", "nan"],
    ];
    let mut failures = Vec::new();
    for case in cases {
        let mut argv: Vec<&[u8]> = vec![b"CONFIG", b"SET"];
        argv.extend(case.iter().map(|s| s.as_bytes()));
        let theirs = match c.cmd(&argv) {
            RespValue::Error(e) => String::from_utf8_lossy(&e).into_owned(),
            RespValue::Status(s) => String::from_utf8_lossy(&s).into_owned(),
            other => panic!("{:?}", other),
        };
        let pairs: Vec<(&[u8], &[u8])> = case
            .chunks(2)
            .map(|p| (p[0].as_bytes(), p[1].as_bytes()))
            .collect();
        let mine = match ours.set(&pairs) {
            Ok(_) => "OK".to_string(),
            Err(e) => e,
        };
        if mine != theirs {
            failures.push(format!("{:?}: theirs {:?} ours {:?}", case, theirs, mine));
        }
        // And the values read back.
        for p in case.chunks(2) {
            if p[0] == "dir" {
                continue; // the test process and the server run in different directories
            }
            let t = c.cmd(&[b"CONFIG", b"GET", p[0].as_bytes()]);
            let t = t
                .as_slice()
                .unwrap()
                .get(1)
                .and_then(|v| v.as_bytes())
                .map(|b| b.to_vec());
            let o = ours.get_one(p[0].as_bytes());
            if t != o {
                failures.push(format!(
                    "{:?}: get {}: theirs {:?} ours {:?}",
                    case, p[0], t, o
                ));
            }
        }
    }
    // Several patterns at once, as sets (Redis's order is its hash table's).
    let pats: &[&[u8]] = &[
        b"*max-*-entries*",
        b"port",
        b"PORT",
        b"slave*",
        b"rdb-key-save-delay",
        b"nope",
    ];
    let mut argv: Vec<&[u8]> = vec![b"CONFIG", b"GET"];
    argv.extend_from_slice(pats);
    let theirs = pairs(c.cmd(&argv));
    let mut mine: Vec<(Vec<u8>, Vec<u8>)> = ours
        .get(pats)
        .into_iter()
        .map(|(k, v)| (k.into_bytes(), v))
        .collect();
    mine.sort();
    assert_eq!(mine, theirs);
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rewrite_matches() {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("rewrite");
    let conf = dir.join("r.conf");
    let port = free_port();
    let original = format!(
        "# my config\nport {}\nbind 127.0.0.1\nslave-priority 50\nsave 900 1\nsave 300 10\n\n\n\
         rename-command FLUSHALL \"\"\nmaxmemory 1gb\nhz 10\n  # indented comment\n\
         client-output-buffer-limit normal 0 0 0\ndaemonize no\nappendonly no\ntimeout 0\n\
         notify-keyspace-events \"\"\nloglevel notice\n",
        port
    );
    std::fs::write(&conf, &original).unwrap();
    let child = Command::new(&redis)
        .current_dir(&dir)
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _g = Guard(child);
    let mut c = Client::connect(port);
    let sets: &[&[&str]] = &[
        &["maxmemory-clients", "10%"],
        &["notify-keyspace-events", "KEA"],
        &["maxmemory", "0"],
        &["proto-max-bulk-len", "1000000000"],
        &["save", "60 5"],
        &["client-output-buffer-limit", "pubsub 64mb 16mb 90"],
        &["oom-score-adj-values", "1 2 3"],
        &["masterauth", "a \"quoted\" pass"],
        &["shutdown-on-sigint", "now save"],
        &["timeout", "30"],
        &["loglevel", "warning"],
        &["slave-read-only", "no"],
        &["list-max-ziplist-size", "-3"],
        &["maxmemory-policy", "volatile-ttl"],
        &["latency-tracking-info-percentiles", ""],
    ];
    let mut ours =
        redis_server_config::load_config_text(Config::default(), original.as_bytes(), &mut Accept)
            .unwrap()
            .config;
    ours.dir = std::fs::canonicalize(&dir).unwrap();
    for s in sets {
        let mut argv: Vec<&[u8]> = vec![b"CONFIG", b"SET"];
        argv.extend(s.iter().map(|x| x.as_bytes()));
        assert_eq!(c.cmd(&argv), RespValue::Status(b"OK".to_vec()), "{:?}", s);
        let pairs: Vec<(&[u8], &[u8])> = s
            .chunks(2)
            .map(|p| (p[0].as_bytes(), p[1].as_bytes()))
            .collect();
        ours.set(&pairs).unwrap();
    }
    assert_eq!(
        c.cmd(&[b"CONFIG", b"REWRITE"]),
        RespValue::Status(b"OK".to_vec())
    );
    let theirs = std::fs::read_to_string(&conf).unwrap();
    let mine = String::from_utf8(ours.rewrite_text(
        original.as_bytes(),
        &[redis_server_config::DEFAULT_USER_LINE.as_bytes().to_vec()],
    ))
    .unwrap();
    // Lines up to the signature are in file order; Redis appends the rest in its hash
    // table's order, so compare those as sets.
    let split = |s: &str| -> (String, Vec<String>) {
        let (head, tail) = s.split_once("# Generated by CONFIG REWRITE\n").unwrap();
        let mut t: Vec<String> = tail.lines().map(|l| l.to_string()).collect();
        t.sort();
        (head.to_string(), t)
    };
    assert_eq!(
        split(&mine),
        split(&theirs),
        "ours:\n{}\ntheirs:\n{}",
        mine,
        theirs
    );
    // A second rewrite of the result, too.
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"hz", b"20"]),
        RespValue::Status(b"OK".to_vec())
    );
    ours.set(&[(b"hz", b"20")]).unwrap();
    assert_eq!(
        c.cmd(&[b"CONFIG", b"REWRITE"]),
        RespValue::Status(b"OK".to_vec())
    );
    let theirs2 = std::fs::read_to_string(&conf).unwrap();
    let mine2 = String::from_utf8(ours.rewrite_text(
        theirs.as_bytes(),
        &[redis_server_config::DEFAULT_USER_LINE.as_bytes().to_vec()],
    ))
    .unwrap();
    assert_eq!(mine2, theirs2);
    assert!(
        theirs2.contains("hz 20\n") && theirs2.contains("masterauth \"a \\\"quoted\\\" pass\"\n"),
        "{}",
        theirs2
    );
    let _ = std::fs::remove_dir_all(&dir);
}

struct Accept;
impl redis_server_config::Directives for Accept {
    fn rename_command(&mut self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }
    fn user(&mut self, _: &[Vec<u8>]) -> Result<(), String> {
        Ok(())
    }
    fn loadmodule(&mut self, _: &[u8], _: &[Vec<u8>]) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn command_line_forms_match() {
    // Each form goes through Redis's option synthesis: a lone --save (last, or followed
    // by another option) means `save ""`, quoted multi-value options, "--name value" in
    // one argument, stdin-less `-` placement rules.
    compare_all("cl1", None, &["--hz", "20", "--save"]);
    compare_all("cl2", None, &["--save", "--hz", "20"]);
    compare_all("cl3", None, &["--save", "900 1 300 10", "--maxmemory 5mb"]);
    compare_all(
        "cl4",
        Some("save 1 1\ninclude /dev/null\nsave 2 2\n"),
        &["--loglevel", "debug"],
    );
    compare_all(
        "cl5",
        Some("timeout 1\n"),
        &[
            "--oom-score-adj-values",
            "-5",
            "6",
            "7",
            "--notify-keyspace-events",
            "Ex",
        ],
    );
}

#[test]
fn glob_matches_keys_on_real_redis() {
    // Random patterns over a small alphabet (with every special character), checked
    // against KEYS on the real server (case-sensitive stringmatchlen).
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("glob");
    let (_g, mut c) = start_real(&redis, &dir, &["--save", "", "--appendonly", "no"]);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let key_alpha = b"abAB-]^\\[*?\xc3";
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for _ in 0..60 {
        let len = 1 + rnd(5);
        let k: Vec<u8> = (0..len).map(|_| key_alpha[rnd(key_alpha.len())]).collect();
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for k in &keys {
        assert_eq!(c.cmd(&[b"SET", k, b"1"]), RespValue::Status(b"OK".to_vec()));
    }
    let pat_alpha = b"abAB*?[]^-\\\xc3";
    let mut failures = Vec::new();
    let mut matched = 0;
    for _ in 0..3000 {
        let len = 1 + rnd(7);
        let p: Vec<u8> = (0..len).map(|_| pat_alpha[rnd(pat_alpha.len())]).collect();
        if p == b"*" {
            continue; // KEYS special-cases a lone `*`
        }
        let mut theirs: Vec<Vec<u8>> = match c.cmd(&[b"KEYS", &p]) {
            RespValue::Array(v) => v
                .into_iter()
                .map(|x| x.as_bytes().unwrap().to_vec())
                .collect(),
            other => panic!("{:?}", other),
        };
        theirs.sort();
        let mut mine: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| redis_server_config::glob_match(&p, k, false))
            .cloned()
            .collect();
        mine.sort();
        matched += theirs.len();
        if mine != theirs {
            failures.push(format!(
                "{:?}: theirs {:?} ours {:?}",
                String::from_utf8_lossy(&p),
                theirs,
                mine
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        matched > 500,
        "the patterns must match something ({})",
        matched
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nocase_globs_match_config_get_on_real_redis() {
    let Some(redis) = real_redis() else { return };
    let dir = tmpdir("nocase");
    let (_g, mut c) = start_real(&redis, &dir, &["--save", "", "--appendonly", "no"]);
    let ours = Config::default();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let alpha = b"aAeEmMpPsSxX-**?[]^\\";
    let mut failures = Vec::new();
    let mut matched = 0;
    for _ in 0..1500 {
        let len = 2 + rnd(8);
        let mut p: Vec<u8> = (0..len).map(|_| alpha[rnd(alpha.len())]).collect();
        if !p.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            p.push(b'*');
        }
        let names = |v: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<Vec<u8>> {
            v.into_iter().map(|(k, _)| k).collect()
        };
        let theirs = names(pairs(c.cmd(&[b"CONFIG", b"GET", &p])));
        let mut mine: Vec<Vec<u8>> = ours
            .get(&[&p])
            .into_iter()
            .map(|(k, _)| k.into_bytes())
            .collect();
        mine.sort();
        matched += theirs.len();
        if mine != theirs {
            failures.push(format!(
                "{:?}: theirs {} ours {}",
                String::from_utf8_lossy(&p),
                theirs.len(),
                mine.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        matched > 1000,
        "the patterns must match something ({})",
        matched
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shipped_config_files_load_the_same() {
    // Redis's reference redis.conf and Debian's, when present on this machine, with
    // the options that would detach, log to a file or write a pid file overridden.
    let overrides = [
        "--daemonize",
        "no",
        "--logfile",
        "",
        "--pidfile",
        "",
        "--dir",
        ".",
    ];
    for (i, path) in ["/tmp/redis-src/redis.conf", "/etc/redis/redis.conf"]
        .iter()
        .enumerate()
    {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        compare_all(&format!("shipped{}", i), Some(&text), &overrides);
    }
}
