//! TLS (rustls) against Debian's redis-server with a throwaway CA: our
//! redis-cli and Debian's (OpenSSL) must print the same for the same options,
//! including certificate and cipher errors.

#[path = "cli_common/mod.rs"]
mod common;

use common::{find_binary, free_port, run_pipe, Server};
use std::path::{Path, PathBuf};
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A CA, and a server certificate it signed (valid for localhost/127.0.0.1).
fn make_certs(dir: &Path) -> bool {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .is_ok()
        && openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=Test CA",
            ],
        )
        && openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        )
        && openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        )
}

#[test]
fn tls_matches_redis() {
    let (Some(server_bin), Some(reference)) =
        (find_binary("redis-server"), find_binary("redis-cli"))
    else {
        return;
    };
    if find_binary("openssl").is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("redis-cli-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    assert!(make_certs(&dir), "openssl could not make test certificates");
    let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let tls_port = free_port().to_string();
    let _server = Server::start(
        &server_bin,
        &[
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &d("server.crt"),
            "--tls-key-file",
            &d("server.key"),
            "--tls-ca-cert-file",
            &d("ca.crt"),
            "--tls-auth-clients",
            "no",
        ],
    );
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_redis-cli"));
    let (ca, crt, key) = (d("ca.crt"), d("server.crt"), d("server.key"));
    let p = tls_port.as_str();
    let uri = format!("rediss://127.0.0.1:{p}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--tls", "--cacert", &ca, "-p", p, "ping"],
        vec![
            "--tls", "--cacert", &ca, "-p", p, "--no-raw", "echo", "over tls",
        ],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "-h",
            "localhost",
            "--sni",
            "localhost",
            "-p",
            p,
            "ping",
        ],
        vec!["--tls", "--insecure", "-p", p, "ping"],
        vec!["--tls", "--cacert", &crt, "-p", p, "ping"],
        vec!["--tls", "--cacert", "/nonexistent.crt", "-p", p, "ping"],
        vec!["--tls", "--cacertdir", "/", "-p", p, "ping"],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "--cert",
            "/nonexistent",
            "--key",
            &key,
            "-p",
            p,
            "ping",
        ],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "--cert",
            &crt,
            "--key",
            "/nonexistent",
            "-p",
            p,
            "ping",
        ],
        vec![
            "--tls", "--cacert", &ca, "--cert", &crt, "--key", &key, "-p", p, "ping",
        ],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "--tls-ciphers",
            "NOPE",
            "-p",
            p,
            "ping",
        ],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "--tls-ciphersuites",
            "NOPE",
            "-p",
            p,
            "ping",
        ],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "--tls-ciphersuites",
            "TLS_AES_256_GCM_SHA384",
            "-p",
            p,
            "ping",
        ],
        vec![
            "--tls",
            "--cacert",
            &ca,
            "--tls-ciphers",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "-p",
            p,
            "ping",
        ],
        vec!["-u", &uri, "--cacert", &ca, "ping"],
        vec!["-u", &uri, "--cacert", &ca, "lrange", "nolist", "0", "-1"],
    ];
    let mut failures = Vec::new();
    for c in &cases {
        let args: Vec<Vec<u8>> = c.iter().map(|a| a.as_bytes().to_vec()).collect();
        let a = run_pipe(&ours, &args, b"", &[]);
        let b = run_pipe(&reference, &args, b"", &[]);
        if a != b {
            failures.push(format!(
                "{c:?}\n=== ours: {}\n=== redis: {}",
                a.describe(),
                b.describe()
            ));
        }
    }
    // --pipe over TLS (a single-threaded path of its own).
    let mut input = Vec::new();
    for i in 0..30000 {
        redis_formats::command::encode_command(
            &[&b"SET"[..], format!("tls{i}").as_bytes(), b"value"],
            &mut input,
        );
    }
    let args: Vec<Vec<u8>> = ["--tls", "--cacert", &ca, "-p", p, "--pipe"]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let r = run_pipe(&ours, &args, &input, &[]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(
        String::from_utf8_lossy(&r.stdout).ends_with("errors: 0, replies: 30000\n"),
        "{}",
        r.describe()
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
