//! The interactive mode used as a person would, on a pseudo-terminal:
//! prompt and MULTI, hints that follow typing, completion, history across
//! sessions (never storing AUTH), Ctrl-R, reconnect after a server restart,
//! and -c redirection in a two-node cluster.

#[path = "cli_common/mod.rs"]
mod common;

use common::{find_binary, run_pipe, PtySession, Server};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-cli"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redis-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn repl(port: u16, home: &std::path::Path, extra: &[&str]) -> PtySession {
    let p = port.to_string();
    let mut args = vec!["-p", p.as_str()];
    args.extend_from_slice(extra);
    let hist = home.join("history");
    let rc = home.join("rc");
    PtySession::spawn(
        &ours(),
        &args,
        &[
            ("HOME", home.to_str().unwrap()),
            ("REDISCLI_HISTFILE", hist.to_str().unwrap()),
            ("REDISCLI_RCFILE", rc.to_str().unwrap()),
            ("TERM", "xterm-256color"),
            // Plain text keeps typed lines contiguous in the captured output.
            ("NO_COLOR", "1"),
        ],
    )
}

#[test]
fn prompt_multi_hints_completion() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let home = scratch("prompt");
    let mut s = repl(server.port, &home, &[]);
    let prompt = format!("127.0.0.1:{}> ", server.port);
    s.expect(&prompt);
    s.send(b"select 2\r");
    s.expect(&format!("127.0.0.1:{}[2]> ", server.port));
    s.send(b"multi\r");
    s.expect(&format!("127.0.0.1:{}[2](TX)> ", server.port));
    s.send(b"set k v\r");
    s.expect("QUEUED");
    s.send(b"exec\r");
    s.expect("1) OK");
    s.expect(&format!("127.0.0.1:{}[2]> ", server.port));
    // Hints come from COMMAND DOCS and follow what is typed.
    s.send(b"get");
    s.expect(" key");
    s.send(b" mykey ");
    s.send(b"\x15"); // Ctrl-U: clear the line
    s.send(b"set k v ");
    s.expect("[NX|XX]");
    s.send(b"\x15");
    // :set nohints turns them off.
    s.send(b":set nohints\r");
    s.send(b"lpush");
    s.expect("lpush");
    std::thread::sleep(Duration::from_millis(300));
    let after = s.since_mark();
    assert!(
        !after.contains("element"),
        "hint shown after :set nohints: {after:?}"
    );
    // ... and :set hints brings them back.
    s.send(b"\x15:set hints\r");
    s.send(b"lpush");
    s.expect("key element [element ...]");
    // Tab completes command names.
    s.send(b"\x15hge\t");
    s.expect("HGET");
    // ... and subcommands.
    s.send(b"\x15config rew\t");
    s.expect("CONFIG REWRITE");
    s.send(b"\x15help @hash\r");
    s.expect("HSETNX");
    s.send(b"quit\r");
    assert_eq!(s.wait(), Some(0));
}

#[test]
fn history_across_sessions_and_ctrl_r() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let home = scratch("history");
    {
        let mut s = repl(server.port, &home, &[]);
        s.expect("> ");
        s.send(b"set histkey first\r");
        s.expect("OK");
        s.send(b"auth not-a-real-password\r");
        s.expect("> ");
        s.send(b"echo second\r");
        s.expect("\"second\"");
        s.send(b"exit\r");
        assert_eq!(s.wait(), Some(0));
    }
    let hist = std::fs::read_to_string(home.join("history")).expect("history file");
    assert!(hist.contains("set histkey first"), "{hist}");
    assert!(hist.contains("echo second"), "{hist}");
    assert!(!hist.contains("auth"), "AUTH stored in history: {hist}");

    let mut s = repl(server.port, &home, &[]);
    s.expect("> ");
    // Up arrow walks the previous session's lines ("exit" was the last).
    s.send(b"\x1b[A");
    s.expect("exit");
    s.send(b"\x1b[A");
    s.expect("echo second");
    s.send(b"\x15");
    // Ctrl-R searches backwards.
    s.send(b"\x12histk");
    s.expect("set histkey first");
    s.send(b"\r");
    s.expect("OK");
    s.send(b"get histkey\r");
    s.expect("\"first\"");
    drop(s);
}

#[test]
fn reconnects_after_server_restart() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let port = server.port;
    let home = scratch("reconnect");
    let mut s = repl(port, &home, &[]);
    s.expect(&format!("127.0.0.1:{port}> "));
    s.send(b"select 3\r");
    s.expect(&format!("127.0.0.1:{port}[3]> "));
    drop(server);
    s.send(b"ping\r");
    s.expect("Error: Server closed the connection");
    s.expect("not connected> ");
    let server = Server::start_on(&bin, port, &[]).expect("restart on the same port");
    s.send(b"ping\r");
    s.expect("PONG");
    // The reconnect selects the db again.
    s.expect(&format!("127.0.0.1:{port}[3]> "));
    drop(server);
}

/// A two-node cluster: slots 0-8191 on `a`, 8192-16383 on `b`.
fn cluster(bin: &std::path::Path) -> Option<(Server, Server)> {
    let dir = scratch("cluster");
    let conf = |n: &str| {
        dir.join(format!("nodes-{n}.conf"))
            .to_string_lossy()
            .into_owned()
    };
    let (ca, cb) = (conf("a"), conf("b"));
    let a = Server::start(
        bin,
        &["--cluster-enabled", "yes", "--cluster-config-file", &ca],
    );
    let b = Server::start(
        bin,
        &["--cluster-enabled", "yes", "--cluster-config-file", &cb],
    );
    a.command(&["CLUSTER", "ADDSLOTSRANGE", "0", "8191"])?;
    b.command(&["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"])?;
    a.command(&["CLUSTER", "MEET", "127.0.0.1", &b.port.to_string()])?;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(15) {
        let ok = |s: &Server| {
            s.command(&["CLUSTER", "INFO"])
                .map(|r| String::from_utf8_lossy(&r).contains("cluster_state:ok"))
                .unwrap_or(false)
        };
        if ok(&a) && ok(&b) {
            return Some((a, b));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn cluster_redirection() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let (a, b) = cluster(&bin).expect("cluster did not form");
    // "foo" hashes to slot 12182, served by b.
    let home = scratch("redirect");
    let mut s = repl(a.port, &home, &["-c"]);
    s.expect(&format!("127.0.0.1:{}> ", a.port));
    s.send(b"set foo bar\r");
    s.expect(&format!(
        "-> Redirected to slot [12182] located at 127.0.0.1:{}",
        b.port
    ));
    s.expect("OK");
    s.expect(&format!("127.0.0.1:{}> ", b.port));
    s.send(b"get foo\r");
    s.expect("\"bar\"");
    drop(s);

    // Non-interactive -c follows silently, byte-identical to Redis's.
    let args: Vec<Vec<u8>> = ["-c", "-p", &a.port.to_string(), "get", "foo"]
        .iter()
        .map(|x| x.as_bytes().to_vec())
        .collect();
    let mine = run_pipe(&ours(), &args, b"", &[]);
    assert_eq!(mine.stdout, b"bar\n");
    assert_eq!(mine.code, Some(0));
    if let Some(reference) = find_binary("redis-cli") {
        assert_eq!(mine, run_pipe(&reference, &args, b"", &[]));
    }
    // Beyond Redis: with -c, --scan and --bigkeys walk every master.
    a.command(&["SET", "bar", "1"])
        .expect("bar lives on a (slot 5061)");
    let walk = |mode: &str| {
        let args: Vec<Vec<u8>> = ["-c", "-p", &a.port.to_string(), mode]
            .iter()
            .map(|x| x.as_bytes().to_vec())
            .collect();
        let r = run_pipe(&ours(), &args, b"", &[]);
        assert_eq!(r.code, Some(0), "{}", r.describe());
        String::from_utf8_lossy(&r.stdout).into_owned()
    };
    let mut keys: Vec<String> = walk("--scan").lines().map(str::to_string).collect();
    keys.sort();
    assert_eq!(keys, ["bar", "foo"]);
    assert!(walk("--bigkeys").contains("Sampled 2 keys in the keyspace!"));
    assert!(walk("--memkeys").contains("2 strings with"));
    // Without -c the MOVED error is printed.
    let args: Vec<Vec<u8>> = ["-p", &a.port.to_string(), "get", "foo"]
        .iter()
        .map(|x| x.as_bytes().to_vec())
        .collect();
    let moved = run_pipe(&ours(), &args, b"", &[]);
    assert_eq!(
        String::from_utf8_lossy(&moved.stdout),
        format!("MOVED 12182 127.0.0.1:{}\n\n", b.port)
    );
}

#[test]
fn subscribe_ctrl_c_and_colour() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let home = scratch("stream");
    let p = server.port.to_string();
    let mut s = PtySession::spawn(
        &ours(),
        &["-p", &p],
        &[
            ("HOME", home.to_str().unwrap()),
            ("REDISCLI_HISTFILE", "/dev/null"),
            ("TERM", "xterm-256color"),
        ],
    );
    s.expect(&format!("127.0.0.1:{p}> "));
    // The command word is highlighted on a colour terminal.
    s.send(b"ping");
    s.expect("\x1b[1;33mping\x1b[0m");
    s.send(b"\r");
    s.expect("PONG");
    s.send(b"subscribe news\r");
    s.expect("Reading messages... (press Ctrl-C to quit)");
    s.expect("(integer) 1");
    server
        .command(&["PUBLISH", "news", "hello"])
        .expect("publish");
    s.expect("\"hello\"");
    s.send(b"\x03");
    s.expect(&format!("127.0.0.1:{p}> "));
    s.send(b"echo back\r");
    s.expect("\"back\"");
    s.send(b"\x04"); // Ctrl-D on an empty line exits
    assert_eq!(s.wait(), Some(0));
}

#[test]
fn warns_before_keys_star_on_a_big_keyspace() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &["--enable-debug-command", "yes"]);
    server
        .command(&["DEBUG", "POPULATE", "100000"])
        .expect("populate");
    let home = scratch("warn");
    let mut s = repl(server.port, &home, &[]);
    let prompt = format!("127.0.0.1:{}> ", server.port);
    s.expect(&prompt);
    s.send(b"keys *\r");
    s.expect("Warning: this database has 100000 keys. Run 'keys *' anyway? (y/N) ");
    s.send(b"n\r");
    let seen = s.expect(&prompt);
    assert!(!seen.contains("key:"), "KEYS ran after a no: {seen:?}");
    s.send(b"flushall\r");
    s.expect("anyway? (y/N) ");
    s.send(b"y\r");
    s.expect("OK");
    s.send(b"dbsize\r");
    s.expect("(integer) 0");
}

#[test]
fn rc_file_preferences() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let server = Server::start(&bin, &[]);
    let home = scratch("rc");
    std::fs::write(home.join("rc"), ":set nohints\n:set bogus\n").unwrap();
    let mut s = repl(server.port, &home, &[]);
    s.expect(".redisclirc: unknown redis-cli preference 'bogus'");
    s.expect(&format!("127.0.0.1:{}> ", server.port));
    s.send(b"lpush");
    s.expect("lpush");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !s.since_mark().contains("element"),
        "rc :set nohints ignored"
    );
}

#[test]
fn starts_without_server_then_gets_hints() {
    let Some(bin) = find_binary("redis-server") else {
        return;
    };
    let port = common::free_port();
    let home = scratch("late");
    let mut s = repl(port, &home, &[]);
    s.expect("not connected> ");
    let server = Server::start_on(&bin, port, &[]).expect("server on the chosen port");
    s.send(b"ping\r");
    s.expect("PONG");
    s.expect(&format!("127.0.0.1:{port}> "));
    s.send(b"get");
    s.expect(" key");
    drop(server);
}
