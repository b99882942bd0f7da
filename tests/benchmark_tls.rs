//! redis-benchmark --tls against Debian's redis-server with test certificates
//! made like Redis's own (utils/gen-test-certs.sh): a CA, and server and
//! client certificates that name no host.

#[path = "common/bench_support.rs"]
mod bench_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bench_support::{free_port, on_path, run_bounded, Server};

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-benchmark"))
}

fn openssl(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl")
        .status
        .success();
    assert!(ok, "openssl {args:?}");
}

fn make_certs(dir: &Path) {
    std::fs::write(
        dir.join("ext.cnf"),
        "[ server_cert ]\nkeyUsage = digitalSignature, keyEncipherment\n[ client_cert ]\nkeyUsage = digitalSignature, keyEncipherment\n",
    )
    .unwrap();
    openssl(dir, &["genrsa", "-out", "ca.key", "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-sha256",
            "-key",
            "ca.key",
            "-days",
            "30",
            "-subj",
            "/O=Test/CN=Certificate Authority",
            "-out",
            "ca.crt",
        ],
    );
    for (name, ext) in [("server", "server_cert"), ("client", "client_cert")] {
        openssl(dir, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-sha256",
                "-subj",
                &format!("/O=Test/CN={name}-only"),
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
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-in",
                &format!("{name}.csr"),
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }
}

#[test]
fn tls_with_client_certificate_and_cipher_lists() {
    let Some(srv) = on_path("redis-server") else {
        return;
    };
    if on_path("openssl").is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    make_certs(&dir);
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let tls_port = free_port().to_string();
    let s = Server::start(
        &srv,
        &[
            "--save",
            "",
            "--appendonly",
            "no",
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &p("server.crt"),
            "--tls-key-file",
            &p("server.key"),
            "--tls-ca-cert-file",
            &p("ca.crt"),
        ],
    );
    let base = [
        "--tls",
        "-p",
        &tls_port,
        "--cacert",
        &p("ca.crt"),
        "--cert",
        &p("client.crt"),
        "--key",
        &p("client.key"),
    ];
    let limit = Duration::from_secs(60);
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["-q", "-n", "500", "-c", "5", "-t", "set"]);
    let r = run_bounded(&ours(), &args, limit);
    assert_eq!(r.code(), Some(0), "{}", r.stderr());
    assert!(r.stdout().contains("SET: "));
    let mut c = s.client();
    assert!(c
        .text(&["INFO", "commandstats"])
        .contains("cmdstat_set:calls=500,"));
    // The suite's cipher options.
    for extra in [
        ["--tls-ciphers", "DEFAULT:-AES128-SHA256"],
        ["--tls-ciphersuites", "TLS_AES_128_GCM_SHA256"],
    ] {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(["-q", "-n", "100", "-t", "get"]);
        args.extend(extra);
        let r = run_bounded(&ours(), &args, limit);
        assert_eq!(r.code(), Some(0), "{extra:?}: {}", r.stderr());
    }
    // Without the CA the server's certificate is refused.
    let r = run_bounded(
        &ours(),
        &["--tls", "-p", &tls_port, "-q", "-n", "10", "-t", "get"],
        limit,
    );
    assert_eq!(r.code(), Some(1));
    assert!(
        r.stderr()
            .contains("Could not negotiate a TLS connection: "),
        "{}",
        r.stderr()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
