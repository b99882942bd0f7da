//! Shared by the checker tests: running both checkers on the same file, masking log
//! prefixes, deterministic damage.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's binary `name`, found on PATH (`None` = skip, a failure under CI=true).
pub fn debian(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not on PATH (needed under CI=true: apt-get install redis-server)");
        }
        eprintln!("skipping: {name} not on PATH");
    }
    found
}

/// What a run printed and returned.
#[derive(Debug, PartialEq, Eq)]
pub struct Out {
    pub stdout: String,
    pub code: Option<i32>,
}

/// Runs `bin args` in `dir` with `stdin` fed, killing it after 20 s.
pub fn run(bin: &Path, dir: &Path, args: &[&str], stdin: &[u8]) -> Out {
    use std::io::Write;
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn checker");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    // Read stdout on a thread so a big output cannot block the child.
    let mut so = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut so, &mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = reader.join().unwrap_or_default();
    let o = Output2 {
        stdout,
        code: status.and_then(|s| s.code()),
    };
    Out {
        stdout: mask(&String::from_utf8_lossy(&o.stdout)),
        code: o.code,
    }
}

struct Output2 {
    stdout: Vec<u8>,
    code: Option<i32>,
}

/// Replaces Redis's log prefixes (`1234:C 30 Nov 2026 23:03:44.014 #`) by `PID:C DATE #`.
pub fn mask(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| {
            let digits = l.bytes().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 && l[digits..].starts_with(":C ") {
                if let Some(p) = l.find(" # ") {
                    return format!("PID:C DATE{}", &l[p..]);
                }
            }
            l.to_string()
        })
        .collect()
}

/// A tiny deterministic generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A damaged copy of `d`: truncation, bit flips, a byte overwritten or a few bytes removed.
pub fn damage(d: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = d.to_vec();
    match rng.below(4) {
        0 => v.truncate(rng.below(d.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
        }
        2 => {
            let i = rng.below(v.len());
            v[i] = rng.next() as u8;
        }
        _ => {
            let i = rng.below(v.len());
            let n = (1 + rng.below(5)).min(v.len() - i);
            v.drain(i..i + n);
        }
    }
    v
}
