//! Differential tests: every invocation in tests/cli_corpus.txt runs through
//! our redis-cli and Debian's against the same real redis-server (state reset
//! before each run), in non-tty mode and with stdout on a pseudo-terminal;
//! stdout, stderr and the exit code must be byte-for-byte identical.
//!
//! Corpus lines: `[@notty|@ttyonly] [@env:K=V] ARGS [<<< "STDIN"]`, words
//! split with Redis's quoting rules, `$PORT` replaced by the server's port
//! and `$SOCK` by its unix socket.

#[path = "cli_common/mod.rs"]
mod common;

use common::{find_binary, run_pipe, run_tty, RunOutput, Server};
use redis_formats::request::split_args;
use std::path::{Path, PathBuf};

struct Case {
    line: String,
    args: Vec<Vec<u8>>,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
    notty: bool,
    ttyonly: bool,
}

fn parse_corpus(text: &str, port: u16, sock: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (argpart, stdin) = match t.split_once(" <<< ") {
            Some((a, s)) => {
                let v = split_args(s.as_bytes()).expect("stdin quoting");
                assert_eq!(v.len(), 1, "stdin must be one quoted string: {t}");
                (a, v.into_iter().next().unwrap_or_default())
            }
            None => (t, Vec::new()),
        };
        let words = split_args(argpart.as_bytes()).unwrap_or_else(|| panic!("bad quoting: {t}"));
        let mut case = Case {
            line: t.to_string(),
            args: Vec::new(),
            stdin,
            env: Vec::new(),
            notty: false,
            ttyonly: false,
        };
        let mut opts_done = false;
        for w in words {
            let ws = String::from_utf8_lossy(&w).into_owned();
            if !opts_done && ws == "@notty" {
                case.notty = true;
            } else if !opts_done && ws == "@ttyonly" {
                case.ttyonly = true;
            } else if !opts_done && ws.starts_with("@env:") {
                let (k, v) = ws[5..].split_once('=').expect("@env:K=V");
                case.env.push((k.to_string(), v.to_string()));
            } else {
                opts_done = true;
                let replaced = ws
                    .replace("$PORT", &port.to_string())
                    .replace("$SOCK", sock);
                if replaced != ws {
                    case.args.push(replaced.into_bytes());
                } else {
                    case.args.push(w);
                }
            }
        }
        out.push(case);
    }
    out
}

fn b(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Puts the server back in the same state before every run.
fn reset(server: &Server) {
    server.pipeline(&[
        b(&["FLUSHALL"]),
        b(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
        b(&["RPUSH", "list", "a", "b", "c"]),
        b(&["HSET", "h", "f1", "v1", "f2", "v2"]),
        b(&["SET", "s", "hello\nworld"]),
        vec![
            b"SET".to_vec(),
            b"bin".to_vec(),
            vec![0, 1, 0xff, b'"', b'\\'],
        ],
        b(&["SET", "utf", "caf\u{e9} \u{1f600}"]),
        b(&["ZADD", "z", "1", "a", "2.5", "b", "-3", "c"]),
        b(&["SADD", "set", "x", "y", "z"]),
        b(&["SET", "n", "10"]),
        b(&["XADD", "st", "1-1", "f", "v"]),
        b(&["SELECT", "2"]),
        b(&["SET", "k2", "db2"]),
        b(&["SELECT", "3"]),
        b(&["HSET", "h3", "a", "1", "b", "2", "c", "3"]),
    ]);
}

fn run(bin: &Path, case: &Case, tty: bool) -> RunOutput {
    let env: Vec<(&str, &str)> = case
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if tty {
        run_tty(bin, &case.args, &case.stdin, &env)
    } else {
        run_pipe(bin, &case.args, &case.stdin, &env)
    }
}

/// argv[0] appears in one message; make both spellings the same.
fn normalise(mut o: RunOutput, bin: &Path) -> RunOutput {
    let name = bin.to_string_lossy().into_owned();
    let fix = |v: &mut Vec<u8>| {
        let s = String::from_utf8_lossy(v).into_owned();
        if s.contains(&name) {
            *v = s.replace(&name, "redis-cli").into_bytes();
        }
    };
    fix(&mut o.stdout);
    fix(&mut o.stderr);
    o
}

fn differential(tty_mode: bool) {
    let (Some(server_bin), Some(ref_cli)) = (find_binary("redis-server"), find_binary("redis-cli"))
    else {
        eprintln!("redis-server / redis-cli not on PATH: skipped");
        return;
    };
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_redis-cli"));
    let sock = std::env::temp_dir().join(format!(
        "redis-cli-diff-{}-{}.sock",
        std::process::id(),
        tty_mode
    ));
    let sock_s = sock.to_string_lossy().into_owned();
    let server = Server::start(
        &server_bin,
        &[
            "--enable-debug-command",
            "yes",
            "--unixsocket",
            &sock_s,
            "--unixsocketperm",
            "700",
        ],
    );
    let corpus =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_corpus.txt"))
            .expect("corpus");
    let cases = parse_corpus(&corpus, server.port, &sock_s);
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &cases {
        if (tty_mode && case.notty) || (!tty_mode && case.ttyonly) {
            continue;
        }
        reset(&server);
        let a = normalise(run(&ours, case, tty_mode), &ours);
        reset(&server);
        let b = normalise(run(&ref_cli, case, tty_mode), &ref_cli);
        ran += 1;
        if a != b {
            failures.push(format!(
                "[{}] {}\n=== ours: {}\n=== redis: {}\n",
                if tty_mode { "tty" } else { "pipe" },
                case.line,
                a.describe(),
                b.describe()
            ));
        }
    }
    eprintln!(
        "{} invocations in {} mode, {} differ",
        ran,
        if tty_mode { "tty" } else { "non-tty" },
        failures.len()
    );
    assert!(ran >= 100, "corpus too small: {ran}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_non_tty() {
    differential(false);
}

#[test]
fn corpus_tty() {
    differential(true);
}
