//! TLS on our server's tls-port, driven by Debian's redis-cli (OpenSSL) with
//! certificates made at test time by the openssl tool: mutual TLS, tls-auth-clients
//! changed at run time, a plain-text client refused, a CA the server does not trust
//! refused.

mod common;
use common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, and a server and a client certificate it signs (X.509 v3), plus a second CA
/// with its own client certificate.
fn make_certs(dir: &Path) {
    std::fs::write(
        dir.join("ext.cnf"),
        "[ v3 ]\nkeyUsage = digitalSignature, keyEncipherment\nbasicConstraints = CA:FALSE\n",
    )
    .unwrap();
    for ca in ["ca", "other-ca"] {
        openssl(dir, &["genrsa", "-out", &format!("{ca}.key"), "2048"]);
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-sha256",
                "-days",
                "30",
                "-subj",
                &format!("/O=Test/CN={ca}"),
                "-key",
                &format!("{ca}.key"),
                "-out",
                &format!("{ca}.crt"),
            ],
        );
    }
    for (name, ca) in [("server", "ca"), ("client", "ca"), ("stranger", "other-ca")] {
        openssl(dir, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-sha256",
                "-subj",
                &format!("/O=Test/CN={name}"),
                "-key",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-sha256",
                "-days",
                "30",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.crt"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "v3",
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }
}

/// Runs Debian's redis-cli over TLS with `cert` (a name in `dir`, or none).
fn cli(dir: &Path, port: u16, cert: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("/usr/bin/redis-cli");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--tls",
        "--cacert",
    ])
    .arg(dir.join("ca.crt"));
    if let Some(c) = cert {
        cmd.arg("--cert")
            .arg(dir.join(format!("{c}.crt")))
            .arg("--key")
            .arg(dir.join(format!("{c}.key")));
    }
    let out = cmd.args(args).output().expect("redis-cli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && !text.contains("Error"),
        text.trim().to_string(),
    )
}

#[test]
fn tls_port_with_client_certificates() {
    if real_server().is_none() || !Path::new("/usr/bin/redis-cli").exists() {
        return;
    }
    let certs = tempdir::Dir::new("tls-certs");
    let dir = certs.0.clone();
    make_certs(&dir);
    let tls_port = free_port();
    let s = Server::start(
        &our_server(),
        &[
            "--tls-port",
            &tls_port.to_string(),
            "--tls-cert-file",
            dir.join("server.crt").to_str().unwrap(),
            "--tls-key-file",
            dir.join("server.key").to_str().unwrap(),
            "--tls-ca-cert-file",
            dir.join("ca.crt").to_str().unwrap(),
        ],
    );
    // Mutual TLS: a client certificate from the trusted CA is accepted.
    assert_eq!(
        cli(&dir, tls_port, Some("client"), &["PING"]),
        (true, "PONG".into())
    );
    let (ok, _) = cli(&dir, tls_port, Some("client"), &["SET", "k", "v"]);
    assert!(ok);
    assert_eq!(
        cli(&dir, tls_port, Some("client"), &["GET", "k"]),
        (true, "v".into())
    );
    // No certificate, or one from another CA: refused.
    assert!(!cli(&dir, tls_port, None, &["PING"]).0);
    assert!(!cli(&dir, tls_port, Some("stranger"), &["PING"]).0);
    // tls-auth-clients optional: no certificate is fine, a bad one still is not.
    let (ok, _) = cli(
        &dir,
        tls_port,
        Some("client"),
        &["CONFIG", "SET", "tls-auth-clients", "optional"],
    );
    assert!(ok);
    assert_eq!(cli(&dir, tls_port, None, &["PING"]), (true, "PONG".into()));
    assert!(!cli(&dir, tls_port, Some("stranger"), &["PING"]).0);
    // A plain-text client on the TLS port sees the connection end, no reply.
    let mut plain = std::net::TcpStream::connect(("127.0.0.1", tls_port)).unwrap();
    plain
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    plain.write_all(b"PING\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(buf.is_empty(), "{buf:?}");
    // The plain port still works beside the TLS one.
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["GET", "k"]).unwrap(),
        redis_formats::RespValue::Bulk(b"v".to_vec())
    );
    // A bad certificate file is refused by CONFIG SET and the old context stays.
    let r = c
        .cmd(&["CONFIG", "SET", "tls-cert-file", "/nonexistent.crt"])
        .unwrap();
    assert!(
        matches!(&r, redis_formats::RespValue::Error(e) if String::from_utf8_lossy(e).contains("Unable to update TLS configuration")),
        "{r:?}"
    );
    assert_eq!(
        cli(&dir, tls_port, Some("client"), &["PING"]),
        (true, "PONG".into())
    );
}
