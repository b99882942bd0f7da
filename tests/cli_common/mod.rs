//! Helpers shared by the integration tests: start a server binary on a free
//! loopback port (killed on drop), find the reference binaries, and run a
//! command with its stdout on a pseudo-terminal.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A path on PATH for `name`, or None. When CI=true a missing binary is a
/// failure rather than a reason to skip.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|f| f.is_file())
    });
    if found.is_none() && std::env::var("CI").as_deref() == Ok("true") {
        panic!("{name} not found on PATH (required when CI=true)");
    }
    found
}

/// A free TCP port on 127.0.0.1 (bind to 0, read it, release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running server, killed when dropped.
pub struct Server {
    pub port: u16,
    child: Child,
}

impl Server {
    /// Starts `bin --port P --bind 127.0.0.1 <args>` on a free port and waits
    /// (≤10 s) for PING; retries other ports if one was taken meanwhile.
    pub fn start(bin: &std::path::Path, args: &[&str]) -> Server {
        (0..5)
            .find_map(|_| Server::start_on(bin, free_port(), args))
            .unwrap_or_else(|| panic!("server {} did not answer PING", bin.display()))
    }

    /// Starts a server on a given port (to restart one where it was);
    /// None if it does not answer PING within 10 s.
    pub fn start_on(bin: &std::path::Path, port: u16, args: &[&str]) -> Option<Server> {
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut s = Server { port, child };
        s.wait_ready(Duration::from_secs(10)).then_some(s)
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let t = Instant::now();
        while t.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.command(&["PING"]).as_deref() == Some(&b"+PONG\r\n"[..]) {
                // The port may have been taken by another test's server meanwhile
                // (then ours failed to bind): only our own process counts.
                let pid = format!("process_id:{}\r\n", self.child.id());
                return self
                    .command(&["INFO", "server"])
                    .is_some_and(|r| String::from_utf8_lossy(&r).contains(&pid));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Sends one command and returns the raw reply bytes (one read, 2 s limit).
    pub fn command(&self, args: &[&str]) -> Option<Vec<u8>> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        s.write_all(&req).ok()?;
        let mut buf = vec![0u8; 65536];
        let n = s.read(&mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    /// Sends several commands on one connection and waits for all replies.
    pub fn pipeline(&self, cmds: &[Vec<Vec<u8>>]) -> Vec<redis_formats::RespValue> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let mut req = Vec::new();
        for c in cmds {
            redis_formats::command::encode_command(c, &mut req);
        }
        s.write_all(&req).expect("write");
        let mut dec = redis_formats::ReplyDecoder::new();
        let mut out = Vec::new();
        let mut buf = [0u8; 16384];
        while out.len() < cmds.len() {
            while let Ok(Some(v)) = dec.next() {
                out.push(v);
            }
            if out.len() >= cmds.len() {
                break;
            }
            match s.read(&mut buf) {
                Ok(0) | Err(_) => panic!("server closed during pipeline"),
                Ok(n) => dec.feed(&buf[..n]),
            }
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Output of one run.
#[derive(Debug, PartialEq, Eq)]
pub struct RunOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: Option<i32>,
}

impl RunOutput {
    pub fn describe(&self) -> String {
        format!(
            "code {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
    }
}

fn wait_limited(child: &mut Child, limit: Duration) -> Option<i32> {
    let t = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) => return st.code(),
            Ok(None) if t.elapsed() < limit => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Runs `bin args` with `stdin` piped in, stdout/stderr captured (10 s limit).
pub fn run_pipe(
    bin: &std::path::Path,
    args: &[Vec<u8>],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> RunOutput {
    use std::os::unix::ffi::OsStrExt;
    let mut cmd = Command::new(bin);
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .env_remove("REDISCLI_AUTH")
        .env("HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn cli");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let code = wait_limited(&mut child, Duration::from_secs(10));
    let _ = w.join();
    RunOutput {
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
        code,
    }
}

/// Opens a pseudo-terminal pair (master, slave).
pub fn open_pty() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut m, mut s) = (0, 0);
    let ws = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two fds we then own.
    let r = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &ws,
        )
    };
    assert_eq!(r, 0, "openpty failed");
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(m),
            std::os::fd::OwnedFd::from_raw_fd(s),
        )
    }
}

/// Runs `bin args` with stdout on a pseudo-terminal (tty mode), stdin piped
/// from `stdin` and stderr captured separately (10 s limit).
pub fn run_tty(
    bin: &std::path::Path,
    args: &[Vec<u8>],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> RunOutput {
    use std::os::unix::ffi::OsStrExt;
    let (master, slave) = open_pty();
    let mut cmd = Command::new(bin);
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)))
        .env_remove("REDISCLI_AUTH")
        .env("HOME", "/nonexistent")
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn cli");
    // Our copy of the slave was moved into Stdio and is closed after spawn.
    drop(cmd);
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let w = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut err_pipe = child.stderr.take().expect("stderr");
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let mut mf = std::fs::File::from(master);
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        let mut buf = [0u8; 4096];
        // Reading the master fails with EIO once the child side is closed.
        while let Ok(n) = mf.read(&mut buf) {
            if n == 0 {
                break;
            }
            v.extend_from_slice(&buf[..n]);
        }
        v
    });
    let code = wait_limited(&mut child, Duration::from_secs(10));
    let _ = w.join();
    RunOutput {
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
        code,
    }
}

/// An interactive program on a pseudo-terminal (stdin, stdout and stderr).
/// Cursor-position queries are answered so line editors do not stall.
pub struct PtySession {
    child: Child,
    writer: std::fs::File,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    mark: usize,
}

impl PtySession {
    /// Spawns `bin args` on a fresh pty with the given environment.
    pub fn spawn(bin: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> PtySession {
        use std::os::fd::AsFd;
        let (master, slave) = open_pty();
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env_remove("REDISCLI_AUTH")
            .stdin(Stdio::from(
                slave.as_fd().try_clone_to_owned().expect("dup"),
            ))
            .stdout(Stdio::from(
                slave.as_fd().try_clone_to_owned().expect("dup"),
            ))
            .stderr(Stdio::from(slave));
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Make the pty the child's controlling terminal so Ctrl-C raises
        // SIGINT as in a real terminal.
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY as _, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on pty");
        drop(cmd);
        let writer = std::fs::File::from(master.try_clone().expect("dup master"));
        let mut answer = std::fs::File::from(master.try_clone().expect("dup master"));
        let mut reader = std::fs::File::from(master);
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out2 = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answer.write_all(b"\x1b[1;1R");
                }
                out2.lock().unwrap().extend_from_slice(chunk);
            }
        });
        PtySession {
            child,
            writer,
            output,
            mark: 0,
        }
    }

    /// Types bytes as a user would (with a short pause per call).
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to pty");
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Waits (≤ 5 s) until `needle` shows up after the last match; returns
    /// everything seen since then. Panics with the screen so far on timeout.
    pub fn expect(&mut self, needle: &str) -> String {
        let t = Instant::now();
        loop {
            {
                let out = self.output.lock().unwrap();
                let seen = &out[self.mark..];
                if let Some(p) = seen
                    .windows(needle.len())
                    .position(|w| w == needle.as_bytes())
                {
                    let text = String::from_utf8_lossy(&seen[..p + needle.len()]).into_owned();
                    self.mark += p + needle.len();
                    return text;
                }
                if t.elapsed() > Duration::from_secs(5) {
                    panic!(
                        "timed out waiting for {needle:?}; output since last match:\n{}",
                        String::from_utf8_lossy(seen)
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What was printed after the last `expect` match.
    pub fn since_mark(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()[self.mark..]).into_owned()
    }

    /// Everything printed so far.
    pub fn all_output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits (≤ 5 s) for the program to exit; its exit code.
    pub fn wait(&mut self) -> Option<i32> {
        wait_limited(&mut self.child, Duration::from_secs(5))
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
