//! redis-benchmark against Debian's redis-server, compared with Debian's
//! redis-benchmark where the output should match in form.

#[path = "common/bench_support.rs"]
mod bench_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use bench_support::{on_path, run_bounded, wait_bounded, Server};

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-benchmark"))
}

const LIMIT: Duration = Duration::from_secs(60);

/// Debian's server and benchmark, or None to skip.
fn real() -> Option<(PathBuf, PathBuf)> {
    Some((on_path("redis-server")?, on_path("redis-benchmark")?))
}

fn server(bin: &PathBuf) -> Server {
    Server::start(
        bin,
        &["--save", "", "--appendonly", "no", "--daemonize", "no"],
    )
}

/// Replaces every number (and C's inf/nan) by `N`, so only the form remains.
fn shape(s: &str) -> String {
    let mut out = String::new();
    let mut in_num = false;
    let s = s.replace("-nan", "0").replace("inf", "0");
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_num {
                out.push('N');
            }
            in_num = true;
        } else if c == '.' && in_num {
            // keep scanning the fraction as part of the number
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

/// The report lines (progress redraws dropped), in shape form, with runs of
/// identical shapes collapsed (the number of histogram rows depends on data).
fn report_shape(stdout: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for piece in stdout.split(['\r', '\n']) {
        if piece.contains("rps=") || (piece.trim().is_empty() && !piece.is_empty()) {
            continue;
        }
        // Column widths follow the figures' widths: keep the indentation,
        // collapse the padding between columns.
        let indent = piece.len() - piece.trim_start().len();
        let sh = format!(
            "{}{}",
            &piece[..indent],
            shape(piece.trim_start())
                .split(' ')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        );
        if lines.last() != Some(&sh) || sh.is_empty() {
            lines.push(sh);
        }
    }
    lines
}

fn both(args: &[&str]) -> Option<(bench_support::Run, bench_support::Run, Server)> {
    let (srv_bin, deb) = real()?;
    let srv = server(&srv_bin);
    let port = srv.port.to_string();
    let mut full = vec!["-p", port.as_str()];
    full.extend_from_slice(args);
    let a = run_bounded(&ours(), &full, LIMIT);
    let b = run_bounded(&deb, &full, LIMIT);
    assert!(!a.timed_out && !b.timed_out);
    Some((a, b, srv))
}

#[test]
fn quiet_lines_have_debians_form() {
    let Some((a, b, _s)) = both(&[
        "-q",
        "-n",
        "300",
        "-c",
        "5",
        "-t",
        "ping,set,get,lrange_100,mset",
    ]) else {
        return;
    };
    assert_eq!(a.code(), Some(0), "{}", a.stderr());
    let (ra, rb) = (report_shape(&a.stdout()), report_shape(&b.stdout()));
    assert_eq!(ra, rb);
    assert!(
        ra.iter()
            .any(|l| l == "MSET (N keys): N requests per second, pN=N msec"),
        "{ra:?}"
    );
}

#[test]
fn csv_has_debians_form() {
    let Some((a, b, _s)) = both(&[
        "--csv",
        "-n",
        "300",
        "-c",
        "5",
        "-t",
        "ping,incr,lpush,lrange_300",
    ]) else {
        return;
    };
    assert_eq!(a.code(), Some(0));
    // CSV has no progress lines at all: compare every line.
    let la: Vec<String> = a.stdout().lines().map(shape).collect();
    let lb: Vec<String> = b.stdout().lines().map(shape).collect();
    assert_eq!(la, lb);
    assert_eq!(la.len(), 7);
}

#[test]
fn full_report_has_debians_form() {
    let Some((a, b, _s)) = both(&["-n", "500", "-c", "7", "-d", "10", "-t", "set,lrange_100"])
    else {
        return;
    };
    assert_eq!(a.code(), Some(0));
    let (ra, rb) = (report_shape(&a.stdout()), report_shape(&b.stdout()));
    assert_eq!(ra, rb);
    let text = a.stdout();
    for needle in [
        "====== SET ======\n  500 requests completed in ",
        "  7 parallel clients\n  10 bytes payload\n  keep alive: 1\n",
        "\nLatency by percentile distribution:\n",
        "\nCumulative distribution of latencies:\n",
        "\nSummary:\n  throughput summary: ",
        "          avg       min       p50       p95       p99       max\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in {text}");
    }
}

#[test]
fn threads_report_and_exact_request_count() {
    let Some((a, b, s)) = both(&[
        "--threads",
        "2",
        "-P",
        "5",
        "-c",
        "10",
        "-n",
        "10010",
        "-t",
        "set",
    ]) else {
        return;
    };
    assert_eq!(report_shape(&a.stdout()), report_shape(&b.stdout()));
    let stats = s.client().text(&["INFO", "commandstats"]);
    // Each binary sent 10010 SETs.
    assert!(stats.contains("cmdstat_set:calls=20020,"), "{stats}");
}

#[test]
fn hdr_out_and_json_files_parse() {
    let Some((srv_bin, _)) = real() else { return };
    let s = server(&srv_bin);
    let dir = std::env::temp_dir().join(format!("bench-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (hgrm, json) = (dir.join("lat.hgrm"), dir.join("out.json"));
    let port = s.port.to_string();
    let r = run_bounded(
        &ours(),
        &[
            "-p",
            &port,
            "-q",
            "-n",
            "400",
            "-c",
            "4",
            "-t",
            "get,set",
            "--hdr-out",
            hgrm.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        LIMIT,
    );
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 2);
    assert_eq!(tests[0]["test"], "SET");
    assert_eq!(tests[1]["requests"], 400);
    assert!(tests[1]["rps"].as_f64().unwrap() > 0.0);
    assert!(tests[1]["p99_ms"].as_f64().unwrap() >= tests[1]["p50_ms"].as_f64().unwrap());
    // Two tests: one .hgrm per test, named after it.
    for name in ["lat.SET.hgrm", "lat.GET.hgrm"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let mut last_count = 0;
        let mut rows = 0;
        for line in text.lines().skip(2) {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<f64> = line
                .split_whitespace()
                .map(|c| c.parse().unwrap())
                .collect();
            assert!(cols.len() == 3 || cols.len() == 4, "{line}");
            assert!(cols[1] >= 0.0 && cols[1] <= 1.0);
            last_count = cols[2] as u64;
            rows += 1;
        }
        assert!(rows > 3);
        assert_eq!(last_count, 400);
        assert!(text.contains("#[Max     ="));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_options_match_debian() {
    let Some((_, deb)) = real() else { return };
    for args in [
        &["--foo"][..],
        &["-c"],
        &["-n", "10", "-p"],
        &["-r", "-x"],
        &["-u"],
        &["-u", "http://x"],
        &["-u", "redis://a%zz@h"],
        &["--help"],
        &["--version"],
    ] {
        let a = run_bounded(&ours(), args, LIMIT);
        let b = run_bounded(&deb, args, LIMIT);
        assert_eq!(a.stdout(), b.stdout(), "stdout for {args:?}");
        assert_eq!(a.stderr(), b.stderr(), "stderr for {args:?}");
        assert_eq!(a.code(), b.code(), "exit code for {args:?}");
    }
}

#[test]
fn unreachable_server_message_and_exit_code() {
    let Some((_, deb)) = real() else { return };
    let port = bench_support::free_port().to_string();
    let args = ["-p", port.as_str(), "-n", "10", "-c", "2", "-q"];
    // Debian's prints its messages and then spins until killed; ours exits.
    let b = run_bounded(&deb, &args, Duration::from_secs(2));
    let a = run_bounded(&ours(), &args, LIMIT);
    assert!(!a.timed_out);
    assert_eq!(a.code(), Some(1));
    let expected = format!(
        "Could not connect to Redis at 127.0.0.1:{port}: Connection refused\nWARNING: Could not fetch server CONFIG\n"
    );
    assert!(b.stderr().starts_with(&expected), "{}", b.stderr());
    assert!(a.stderr().starts_with(&expected), "{}", a.stderr());
    // An unknown host: both exit 1 with the same lines.
    let args = ["-h", "nosuchhost.invalid", "-n", "10", "-c", "2", "-q"];
    let a = run_bounded(&ours(), &args, LIMIT);
    let b = run_bounded(&deb, &args, LIMIT);
    assert_eq!((a.code(), a.stderr()), (b.code(), b.stderr()));
}

#[test]
fn custom_command_with_rand_int_and_keyspace() {
    let Some((srv_bin, _)) = real() else { return };
    let s = server(&srv_bin);
    let port = s.port.to_string();
    let r = run_bounded(
        &ours(),
        &[
            "-p",
            &port,
            "-q",
            "-n",
            "2000",
            "-r",
            "40",
            "set",
            "k:__rand_int__",
            "v",
        ],
        LIMIT,
    );
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert!(
        r.stdout().contains("set k:__rand_int__ v: "),
        "{}",
        r.stdout()
    );
    let mut c = s.client();
    assert_eq!(c.int(&["DBSIZE"]), 40);
    let key = c.text(&["RANDOMKEY"]);
    assert_eq!(key.len(), 2 + 12, "{key}");
    assert!(key[2..].bytes().all(|b| b.is_ascii_digit()));
    assert!(key[2..].parse::<u64>().unwrap() < 40);
    // -r with the default tests: SET spreads over the keyspace.
    c.cmd(&["FLUSHALL"]).unwrap();
    let r = run_bounded(
        &ours(),
        &["-p", &port, "-q", "-n", "1000", "-r", "50", "-t", "set"],
        LIMIT,
    );
    assert_eq!(r.code(), Some(0));
    assert_eq!(c.int(&["DBSIZE"]), 50);
    // Without -r every request uses the same key.
    c.cmd(&["FLUSHALL"]).unwrap();
    let r = run_bounded(
        &ours(),
        &["-p", &port, "-q", "-n", "300", "-t", "set,incr"],
        LIMIT,
    );
    assert_eq!(r.code(), Some(0));
    assert_eq!(c.int(&["DBSIZE"]), 2);
    assert_eq!(c.text(&["GET", "counter:__rand_int__"]), "300");
}

#[test]
fn dbnum_resp3_and_stdin_argument() {
    let Some((srv_bin, _)) = real() else { return };
    let s = server(&srv_bin);
    let port = s.port.to_string();
    let mut child = Command::new(ours())
        .args([
            "-p",
            &port,
            "-q",
            "-n",
            "50",
            "--dbnum",
            "3",
            "-3",
            "-x",
            "set",
            "fromstdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"payload").unwrap();
    let r = wait_bounded(child, LIMIT);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let mut c = s.client();
    c.cmd(&["SELECT", "3"]).unwrap();
    assert_eq!(c.text(&["GET", "fromstdin"]), "payload");
}

#[test]
fn server_error_reply_ends_the_run() {
    let Some((srv_bin, deb)) = real() else { return };
    let s = server(&srv_bin);
    let port = s.port.to_string();
    let args = ["-p", port.as_str(), "-q", "-n", "10", "nosuchcommand"];
    let a = run_bounded(&ours(), &args, LIMIT);
    let b = run_bounded(&deb, &args, LIMIT);
    assert_eq!(a.code(), Some(1));
    assert_eq!((a.code(), a.stderr()), (b.code(), b.stderr()));
}

#[test]
fn sigint_prints_the_partial_report() {
    let Some((srv_bin, _)) = real() else { return };
    let s = server(&srv_bin);
    let port = s.port.to_string();
    let child = Command::new(ours())
        .args(["-p", &port, "-n", "100000000", "-c", "4", "-t", "set"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    std::thread::sleep(Duration::from_millis(1500));
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let r = wait_bounded(child, Duration::from_secs(20));
    assert!(!r.timed_out, "did not stop on SIGINT");
    assert_eq!(r.code(), Some(130));
    let out = r.stdout();
    assert!(out.contains("====== SET ======"), "{out}");
    assert!(out.contains("requests completed in"));
    assert!(out.contains("  throughput summary: "));
    // Partial: far fewer than asked for.
    assert!(!out.contains("100000000 requests completed"));
}

#[test]
fn idle_mode_reports_server_errors() {
    let Some((srv_bin, _)) = real() else { return };
    let s = server(&srv_bin);
    s.client()
        .cmd(&["CONFIG", "SET", "maxclients", "3"])
        .unwrap();
    let port = s.port.to_string();
    let r = run_bounded(
        &ours(),
        &["-p", &port, "-c", "10", "-I"],
        Duration::from_secs(20),
    );
    assert!(!r.timed_out);
    assert_eq!(r.code(), Some(1));
    assert!(r
        .stdout()
        .starts_with("Creating 10 idle connections and waiting forever (Ctrl+C when done)\n"));
    assert!(r.stderr().contains("Error"), "{}", r.stderr());
}

#[test]
fn fixed_rate_and_duration() {
    let Some((srv_bin, _)) = real() else { return };
    let s = server(&srv_bin);
    let port = s.port.to_string();
    let r = run_bounded(
        &ours(),
        &[
            "-p", &port, "--csv", "-c", "4", "-n", "600", "--rps", "1000", "-t", "get",
        ],
        LIMIT,
    );
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    let line = r.stdout().lines().nth(1).unwrap().to_string();
    let rps: f64 = line
        .split(',')
        .nth(1)
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap();
    assert!((800.0..1150.0).contains(&rps), "{line}");
    let t0 = std::time::Instant::now();
    let r = run_bounded(
        &ours(),
        &[
            "-p",
            &port,
            "--csv",
            "-c",
            "4",
            "--duration",
            "1.5",
            "-t",
            "ping_mbulk",
        ],
        LIMIT,
    );
    let took = t0.elapsed();
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert!(r.stdout().contains("\"PING_MBULK\","));
}

#[test]
fn reconnecting_clients_and_unix_socket() {
    let Some((srv_bin, deb)) = real() else { return };
    let sock = std::env::temp_dir().join(format!("bench-{}.sock", std::process::id()));
    let sock_s = sock.to_str().unwrap().to_string();
    let s = Server::start(
        &srv_bin,
        &[
            "--save",
            "",
            "--appendonly",
            "no",
            "--unixsocket",
            &sock_s,
            "--unixsocketperm",
            "700",
        ],
    );
    let port = s.port.to_string();
    // -k 0: Redis's warning, and every request still served.
    let args = [
        "-p",
        port.as_str(),
        "-k",
        "0",
        "-n",
        "200",
        "-c",
        "5",
        "-q",
        "-t",
        "set",
    ];
    let a = run_bounded(&ours(), &args, LIMIT);
    let b = run_bounded(&deb, &args, LIMIT);
    assert_eq!(a.code(), Some(0));
    assert_eq!(a.stderr(), b.stderr());
    assert_eq!(report_shape(&a.stdout()), report_shape(&b.stdout()));
    let mut c = s.client();
    assert!(c
        .text(&["INFO", "commandstats"])
        .contains("cmdstat_set:calls=400,"));
    // -s: the same run over the Unix socket.
    let r = run_bounded(
        &ours(),
        &["-s", &sock_s, "-n", "300", "-q", "-t", "get"],
        LIMIT,
    );
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert!(c
        .text(&["INFO", "commandstats"])
        .contains("cmdstat_get:calls=300,"));
}
