//! redis-check-aof against Debian's, on AOFs Debian's redis-server writes at test time
//! (multi-part with and without an RDB preamble, with `#TS:` annotations, MULTI/EXEC)
//! and on damaged copies, with `--fix` and `--truncate-to-timestamp`.

mod check_common;
mod common;

use check_common::*;
use common::*;
use redis_formats::RespValue;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-check-aof"))
}

fn ok(c: &mut Client, args: &[&str]) {
    let r = c.cmd(args).expect("reply");
    assert!(!matches!(r, RespValue::Error(_)), "{args:?}: {r:?}");
}

fn wait_rewrite(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(RespValue::Bulk(b)) = c.cmd(&["INFO", "persistence"]) {
            let s = String::from_utf8_lossy(&b);
            if s.contains("aof_rewrite_in_progress:0") && s.contains("aof_rewrite_scheduled:0") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("AOF rewrite did not finish");
}

/// An appendonlydir written by Debian's server with `extra` options; returns its path
/// (inside a directory that lives as long as the returned server).
fn make_aof(real: &Path, extra: &[&str]) -> (Server, PathBuf) {
    let mut args = vec!["--appendonly", "yes"];
    args.extend_from_slice(extra);
    let srv = Server::start(real, &args);
    let mut c = srv.client();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["RPUSH", "l", "x", "y", "z"]);
    ok(&mut c, &["HSET", "h", "f", "v"]);
    ok(&mut c, &["BGREWRITEAOF"]);
    wait_rewrite(&mut c);
    ok(&mut c, &["SET", "b", "2"]);
    ok(&mut c, &["MULTI"]);
    ok(&mut c, &["SET", "c", "3"]);
    ok(&mut c, &["INCR", "c"]);
    ok(&mut c, &["EXEC"]);
    ok(&mut c, &["SADD", "s", "m1", "m2"]);
    ok(&mut c, &["SET", "bin", "\r\n\u{0}"]);
    let dir = srv.dir.0.join("appendonlydir");
    (srv, dir)
}

/// When a length line ends right after its number, Redis prints the line buffer's stale
/// byte after the NUL (`got: 00XX`); that byte is not reproducible, so it is masked.
fn mask_stale(s: &str) -> String {
    s.lines()
        .map(|l| match l.find("Expected \\r\\n, got: 00") {
            Some(p) => format!("{}00??\n", &l[..p + "Expected \\r\\n, got: ".len()]),
            None => format!("{l}\n"),
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn files_of(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs both checkers with `args` (the last naming a file in `dir`), each on its own copy
/// of `dir`, and asserts the same output, exit code and resulting files.
fn assert_same(real: &Path, dir: &Path, work: &Path, args: &[&str], stdin: &[u8], what: &str) {
    let a_dir = work.join("a");
    let b_dir = work.join("b");
    copy_dir(dir, &a_dir);
    copy_dir(dir, &b_dir);
    let mut a = run(real, &a_dir, args, stdin);
    let mut b = run(&ours(), &b_dir, args, stdin);
    a.stdout = mask_stale(&a.stdout);
    b.stdout = mask_stale(&b.stdout);
    assert_eq!(b, a, "redis-check-aof {args:?} differs ({what})");
    for f in files_of(&a_dir) {
        assert_eq!(
            std::fs::read(b_dir.join(&f)).ok(),
            std::fs::read(a_dir.join(&f)).ok(),
            "{f} after {args:?} ({what})"
        );
    }
}

#[test]
fn aof_checker_matches_debian() {
    let (Some(server), Some(checker)) = (real_server(), debian("redis-check-aof")) else {
        return;
    };
    let work = tempdir::Dir::new("checkaof");
    let variants: [&[&str]; 3] = [
        &[],
        &["--aof-use-rdb-preamble", "no"],
        &[
            "--aof-use-rdb-preamble",
            "no",
            "--aof-timestamp-enabled",
            "yes",
        ],
    ];
    let mut rng = Rng(0xa0f_5eed);
    for (vi, extra) in variants.iter().enumerate() {
        let (srv, dir) = make_aof(&server, extra);
        let files = files_of(&dir);
        let manifest = files
            .iter()
            .find(|f| f.ends_with(".manifest"))
            .unwrap()
            .clone();
        let data_files: Vec<String> = files
            .iter()
            .filter(|f| !f.ends_with(".manifest"))
            .cloned()
            .collect();
        // Valid: the manifest and each file alone.
        for f in &files {
            assert_same(&checker, &dir, &work.0, &[f], b"", "valid");
        }
        let ts = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 1)
        .to_string();
        assert_same(
            &checker,
            &dir,
            &work.0,
            &["--truncate-to-timestamp", &ts, &manifest],
            b"",
            "ts",
        );
        // Damaged copies.
        let damaged = work.0.join("damaged");
        for i in 0..40 {
            copy_dir(&dir, &damaged);
            let f = &data_files[rng.below(data_files.len())];
            let d = std::fs::read(damaged.join(f)).unwrap();
            std::fs::write(damaged.join(f), damage(&d, &mut rng)).unwrap();
            let target = if rng.below(2) == 0 { &manifest } else { f };
            let (args, stdin): (Vec<&str>, &[u8]) = match rng.below(4) {
                0 => (vec!["--fix", target], b"y\n"),
                1 => (vec!["--fix", target], b"n\n"),
                2 => (vec!["--truncate-to-timestamp", &ts, target], b""),
                _ => (vec![target], b""),
            };
            assert_same(
                &checker,
                &damaged,
                &work.0,
                &args,
                stdin,
                &format!("variant {vi} case {i}"),
            );
        }
        drop(srv);
    }
    // Arguments.
    let empty = work.0.join("empty");
    let fresh = || {
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::write(empty.join("zero.aof"), b"").unwrap();
        std::fs::write(empty.join("bad.manifest"), b"file x seq 1 type q\n").unwrap();
        std::fs::write(
            empty.join("one.aof"),
            b"*1\r\n$4\r\nPING\r\n*1\r\n$5\r\nMULTI\r\n",
        )
        .unwrap();
    };
    for args in [
        vec!["zero.aof"],
        vec!["missing.aof"],
        vec!["bad.manifest"],
        vec!["one.aof"],
        vec!["--fix", "one.aof"],
        vec!["--truncate-to-timestamp", "abc", "one.aof"],
        vec!["--bogus", "one.aof"],
    ] {
        let stdin: &[u8] = if args[0] == "--fix" { b"y\n" } else { b"" };
        fresh();
        let a = run(&checker, &empty, &args, stdin);
        fresh();
        let b = run(&ours(), &empty, &args, stdin);
        let strip = |s: &str| s.replace(&format!("{}", checker.display()), "redis-check-aof");
        let b_out = b
            .stdout
            .replace(&format!("{}", ours().display()), "redis-check-aof");
        assert_eq!((b_out, b.code), (strip(&a.stdout), a.code), "{args:?}");
    }
}

#[test]
fn fix_drop_later_repairs_a_non_last_file() {
    let (Some(server), Some(checker)) = (real_server(), debian("redis-check-aof")) else {
        return;
    };
    let (_srv, dir) = make_aof(&server, &["--aof-use-rdb-preamble", "no"]);
    let work = tempdir::Dir::new("droplater");
    let d = work.0.join("appendonlydir");
    copy_dir(&dir, &d);
    let files = files_of(&d);
    let base = files.iter().find(|f| f.contains(".base.")).unwrap();
    let manifest = files.iter().find(|f| f.ends_with(".manifest")).unwrap();
    let mut b = std::fs::read(d.join(base)).unwrap();
    let i = 30 + b[30..].iter().position(|&c| c == b'$').unwrap();
    b[i] = b'x';
    std::fs::write(d.join(base), b).unwrap();
    // Redis's --fix refuses: the damage is not in the last file.
    let a = run(&checker, &d, &["--fix", manifest], b"y\n");
    assert_eq!(a.code, Some(1));
    assert!(a.stdout.contains("because it is not the last file"));
    let o = run(&ours(), &d, &["--fix", "--drop-later", manifest], b"y\n");
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    assert!(o.stdout.contains("dropping their commands"), "{}", o.stdout);
    let a = run(&checker, &d, &[manifest], b"");
    assert_eq!(a.code, Some(0), "{}", a.stdout);
    let m = std::fs::read_to_string(d.join(manifest)).unwrap();
    assert!(m.contains("type h"), "{m}");
    let srv = Server::start(
        &server,
        &[
            "--appendonly",
            "yes",
            "--dir",
            work.0.to_str().unwrap(),
            "--appenddirname",
            "appendonlydir",
        ],
    );
    let mut c = srv.client();
    assert!(matches!(c.cmd(&["DBSIZE"]).unwrap(), RespValue::Integer(_)));
}
