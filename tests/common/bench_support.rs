//! Test support: real binaries on PATH, servers on free loopback ports that
//! are killed on drop, commands with a bounded run time, and a tiny client.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use redis_formats::command::encode_command;
use redis_formats::{ReplyDecoder, RespValue};

/// A binary from PATH. When it is missing the test is skipped (`None`),
/// except under CI=true where that is a failure.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not on PATH (needed under CI=true)");
        }
        eprintln!("skipping: {name} not on PATH");
    }
    found
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process on 127.0.0.1, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Starts `bin --port P <args>` on a free port and waits (10 s at most) for PING.
    pub fn start(bin: &PathBuf, args: &[&str]) -> Server {
        let port = free_port();
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        let s = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut c) = Client::connect(port) {
                // Only our own process counts: another test's server may hold the
                // port if ours failed to bind it.
                let pid = format!("process_id:{}\r\n", s.child.id());
                if matches!(c.cmd(&["PING"]), Ok(RespValue::Status(_)))
                    && matches!(c.cmd(&["INFO", "server"]), Ok(RespValue::Bulk(b)) if String::from_utf8_lossy(&b).contains(&pid))
                {
                    return s;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server on port {port} did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A new client connection.
    pub fn client(&self) -> Client {
        Client::connect(self.port).expect("connect to test server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal blocking client for checks.
pub struct Client {
    s: TcpStream,
    d: ReplyDecoder,
}

impl Client {
    pub fn connect(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Client {
            s,
            d: ReplyDecoder::new(),
        })
    }

    pub fn cmd(&mut self, args: &[&str]) -> std::io::Result<RespValue> {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.s.write_all(&out)?;
        let mut buf = [0u8; 16384];
        loop {
            if let Some(v) = self.d.next().map_err(|e| std::io::Error::other(e.0))? {
                return Ok(v);
            }
            // A signal meant for a child (the cluster scenarios send SIGINT to a
            // redis-cli) can interrupt the read; it is not an answer.
            let n = match self.s.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => r?,
            };
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.d.feed(&buf[..n]);
        }
    }

    pub fn int(&mut self, args: &[&str]) -> i64 {
        match self.cmd(args).unwrap() {
            RespValue::Integer(n) => n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    pub fn text(&mut self, args: &[&str]) -> String {
        let v = self.cmd(args).unwrap();
        String::from_utf8_lossy(v.as_bytes().expect("text reply")).into_owned()
    }
}

/// The result of a bounded run.
pub struct Run {
    pub out: Output,
    /// The process was still running at the deadline and was killed.
    pub timed_out: bool,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
}

/// Runs `bin args`, killing it after `limit`.
pub fn run_bounded(bin: &PathBuf, args: &[&str], limit: Duration) -> Run {
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_bounded(child, limit)
}

/// Waits for `child` at most `limit`, then kills it; collects its output
/// (stdout must be piped; stderr is collected when piped).
pub fn wait_bounded(mut child: Child, limit: Duration) -> Run {
    let mut out_pipe = child.stdout.take().unwrap();
    // stderr may go elsewhere (a pty): then there is nothing to collect.
    let err_pipe = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut p) = err_pipe {
            let _ = p.read_to_end(&mut v);
        }
        v
    });
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        out: Output {
            status,
            stdout: t_out.join().unwrap(),
            stderr: t_err.join().unwrap(),
        },
        timed_out,
    }
}
