//! The modes whose output depends on time or on the machine (so they cannot
//! be compared byte for byte): their shape, exit codes and effects.

#[path = "cli_common/mod.rs"]
mod common;

use common::{find_binary, run_pipe, Server};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-cli"))
}

fn args(a: &[&str]) -> Vec<Vec<u8>> {
    a.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Runs for `secs` then interrupts with SIGINT; returns stdout.
fn run_for(a: &[&str], secs: f64) -> String {
    let mut child = Command::new(ours())
        .args(a)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_secs_f64(secs));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    text(&out.stdout)
}

#[test]
fn latency_modes() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let p = server.port.to_string();
    // Non-tty --latency samples for -i seconds, prints one line and exits 0.
    let r = run_pipe(
        &ours(),
        &args(&["-p", &p, "--latency", "-i", "0.3"]),
        b"",
        &[],
    );
    assert_eq!(r.code, Some(0));
    let line = text(&r.stdout);
    let f: Vec<&str> = line.trim_end().split(' ').collect();
    assert_eq!(f.len(), 4, "{line:?}");
    assert!(
        f[2].contains('.') && f[3].parse::<u64>().unwrap() > 5,
        "{line:?}"
    );
    let r = run_pipe(
        &ours(),
        &args(&["-p", &p, "--latency", "--csv", "-i", "0.2"]),
        b"",
        &[],
    );
    assert_eq!(text(&r.stdout).matches(',').count(), 3);
    let r = run_pipe(
        &ours(),
        &args(&["-p", &p, "--latency", "--json", "-i", "0.2"]),
        b"",
        &[],
    );
    assert!(
        text(&r.stdout).starts_with("{\"min\": "),
        "{}",
        text(&r.stdout)
    );
    // --latency-history keeps printing and closes each range.
    let out = run_for(&["-p", &p, "--latency-history", "-i", "0.3", "--raw"], 1.0);
    assert!(out.contains(" -- 0.3"), "{out:?}");
    // --latency-dist draws a legend and spectrum lines.
    let out = run_for(&["-p", &p, "--latency-dist", "-i", "0.2"], 0.8);
    assert!(
        out.contains("K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds"),
        "{out:?}"
    );
    assert!(out.contains("\x1b[48;5;"), "{out:?}");
}

#[test]
fn intrinsic_latency_reports() {
    let r = run_pipe(&ours(), &args(&["--intrinsic-latency", "1"]), b"", &[]);
    assert_eq!(r.code, Some(0));
    let out = text(&r.stdout);
    assert!(out.starts_with("Max latency so far: "), "{out}");
    assert!(out.contains(" total runs (avg latency: "), "{out}");
    assert!(out.contains("Worst run took "), "{out}");
}

#[test]
fn stat_mode_lines() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    server.command(&["SET", "a", "1"]).unwrap();
    let out = run_for(
        &["-p", &server.port.to_string(), "--stat", "-i", "0.2"],
        1.0,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("------- data ------"), "{out}");
    assert!(lines[1].starts_with("keys       mem      clients"), "{out}");
    assert!(lines.len() >= 4, "{out}");
    assert!(lines[2].starts_with("1          "), "{out}");
    assert!(lines[3].contains("(+"), "{out}");
}

#[test]
fn lru_test_prints_rates() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let out = run_for(&["-p", &server.port.to_string(), "--lru-test", "1000"], 2.3);
    assert!(out.contains(" Gets/sec | Hits: "), "{out}");
    assert!(server.command(&["DBSIZE"]).unwrap() != b":0\r\n");
}

#[test]
fn rdb_and_functions_rdb_are_valid() {
    let (Some(bin), Some(check)) = (find_binary("redis-server"), find_binary("redis-check-rdb"))
    else {
        return;
    };
    let server = Server::start(&bin, &[]);
    server.command(&["SET", "k", "v"]).unwrap();
    server
        .command(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
        ])
        .unwrap();
    let dir = std::env::temp_dir().join(format!("redis-cli-rdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = server.port.to_string();
    for (opt, file) in [("--rdb", "all.rdb"), ("--functions-rdb", "fn.rdb")] {
        let path = dir.join(file).to_string_lossy().into_owned();
        let r = run_pipe(&ours(), &args(&["-p", &p, opt, &path]), b"", &[]);
        assert_eq!(r.code, Some(0), "{}", r.describe());
        let err = text(&r.stderr);
        assert!(err.contains("sending REPLCONF rdb-only 1"), "{err}");
        assert!(err.contains("Transfer finished with success"), "{err}");
        let st = Command::new(&check)
            .arg(&path)
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        let report = text(&st.stdout);
        assert!(st.status.success(), "{report}");
        let keys_line = report
            .lines()
            .find(|l| l.contains("keys read"))
            .unwrap_or("");
        if opt == "--rdb" {
            assert!(keys_line.contains("1 keys read"), "{report}");
        } else {
            assert!(keys_line.contains("0 keys read"), "{report}");
            let bytes = std::fs::read(&path).unwrap();
            let code = b"register_function";
            assert!(
                bytes.windows(code.len()).any(|w| w == code),
                "function library missing from {path}"
            );
        }
    }
    // "-" writes the payload to stdout.
    let r = run_pipe(&ours(), &args(&["-p", &p, "--rdb", "-"]), b"", &[]);
    assert!(r.stdout.starts_with(b"REDIS"), "{}", r.describe());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn replica_mode_shows_propagated_commands() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &["--repl-diskless-sync-delay", "0"]);
    let mut child = Command::new(ours())
        .args(["-p", &server.port.to_string(), "--replica"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the master lists us as a replica, then write.
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        let info = server.command(&["INFO", "replication"]).unwrap_or_default();
        if text(&info).contains("connected_slaves:1") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500)); // past the ACK
    server.command(&["SET", "repl-key", "v1"]).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        text(&out.stdout).contains("\"SET\",\"repl-key\",\"v1\""),
        "stdout {:?} stderr {:?}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("Logging commands from master."));
}

#[test]
fn pipe_mode_counts_replies_and_errors() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let p = server.port.to_string();
    let mut input = Vec::new();
    for i in 0..20000 {
        redis_formats::command::encode_command(
            &[&b"SET"[..], format!("k{i}").as_bytes(), b"v"],
            &mut input,
        );
    }
    redis_formats::command::encode_command(&[&b"NOPE"[..]], &mut input);
    let r = run_pipe(&ours(), &args(&["-p", &p, "--pipe"]), &input, &[]);
    assert_eq!(r.code, Some(1), "an error reply makes the exit code 1");
    assert_eq!(
        text(&r.stdout),
        "All data transferred. Waiting for the last reply...\n\
         Last reply received from server.\n\
         errors: 1, replies: 20001\n"
    );
    assert!(text(&r.stderr).starts_with("ERR unknown command 'NOPE'"));
    assert_eq!(server.command(&["DBSIZE"]).unwrap(), b":20000\r\n");
}

#[test]
fn pipe_mode_gives_up_after_pipe_timeout() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let mut input = Vec::new();
    // A reply that never comes: the ECHO marker queues behind it.
    redis_formats::command::encode_command(&[&b"BLPOP"[..], b"nolist", b"0"], &mut input);
    let p = server.port.to_string();
    let t = Instant::now();
    let r = run_pipe(
        &ours(),
        &args(&["-p", &p, "--pipe", "--pipe-timeout", "1"]),
        &input,
        &[],
    );
    assert!(t.elapsed() < Duration::from_secs(8));
    assert_eq!(r.code, Some(1));
    assert_eq!(text(&r.stderr), "No replies for 1 seconds: exiting.\n");
    assert!(
        text(&r.stdout).ends_with("errors: 1, replies: 0\n"),
        "{}",
        r.describe()
    );
}

/// A port that answers anything with `reply` and closes.
fn fake_server(reply: &'static [u8]) -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            let mut c = c;
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let _ = c.write_all(reply);
        }
    });
    port
}

#[test]
fn non_redis_peers_give_hiredis_errors() {
    let Some(reference) = find_binary("redis-cli") else {
        return;
    };
    for reply in [
        &b"HTTP/1.1 400 Bad Request\r\n\r\n"[..],
        b"\x00abc\r\n",
        b"+OK\r\n",
    ] {
        let port = fake_server(reply).to_string();
        for extra in [&[][..], &["-3"][..], &["-r", "2"][..]] {
            let mut a = vec!["-p", port.as_str()];
            a.extend_from_slice(extra);
            a.push("ping");
            let mine = run_pipe(&ours(), &args(&a), b"", &[]);
            let theirs = run_pipe(&reference, &args(&a), b"", &[]);
            assert_eq!(mine, theirs, "{a:?}");
        }
    }
}
