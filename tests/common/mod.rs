//! Shared helpers for the integration tests: start servers (ours or Debian's) on free
//! loopback ports, talk RESP to them, compare replies byte for byte.
#![allow(dead_code)]

pub mod raw;

use redis_formats::command::encode_command;
use redis_formats::{ReplyDecoder, RespValue};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Our redis-server, built by cargo for this test run.
pub fn our_server() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-server"))
}

/// Debian's redis-server (the oracle). `None` when absent, which is a failure in CI.
pub fn real_server() -> Option<PathBuf> {
    let p = Path::new("/usr/bin/redis-server");
    if p.exists() {
        Some(p.to_path_buf())
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("Debian's redis-server is required in CI (apt-get install redis-server)");
    } else {
        eprintln!("skipping: /usr/bin/redis-server not installed");
        None
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// A server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: tempdir::Dir,
}

/// Minimal temporary directories (removed on drop).
pub mod tempdir {
    use std::path::PathBuf;

    /// A directory under the system temp dir, removed on drop.
    pub struct Dir(pub PathBuf);

    impl Dir {
        /// Creates a fresh directory.
        pub fn new(tag: &str) -> Dir {
            let p = std::env::temp_dir().join(format!(
                "redis-suite-{tag}-{}-{}",
                std::process::id(),
                fastrand_u64()
            ));
            std::fs::create_dir_all(&p).expect("create temp dir");
            Dir(p)
        }
    }

    fn fastrand_u64() -> u64 {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Server {
    /// Starts `bin` on a free port with persistence off and `extra` arguments, and waits
    /// (bounded) until it answers PING.
    pub fn start(bin: &Path, extra: &[&str]) -> Server {
        for _attempt in 0..5 {
            let port = free_port();
            let dir = tempdir::Dir::new("srv");
            let mut cmd = Command::new(bin);
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args(extra)
                .current_dir(&dir.0)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = cmd.spawn().expect("spawn server");
            let mut s = Server { child, port, dir };
            if s.wait_ready(Duration::from_secs(10)) {
                return s;
            }
        }
        panic!("server {} did not start", bin.display());
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Client::connect(self.port) {
                if let Ok(RespValue::Status(s)) = c.cmd(&["PING"]) {
                    if s == b"PONG" {
                        // The port may have been taken by another test's server
                        // meanwhile (then ours failed to bind): only our process counts.
                        return is_process(&mut c, self.child.id());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// A new client connection.
    pub fn client(&self) -> Client {
        Client::connect(self.port).expect("connect to server")
    }
}

/// True if the server behind `c` is the process `pid` (INFO server's process_id).
fn is_process(c: &mut Client, pid: u32) -> bool {
    let want = format!("process_id:{pid}\r\n");
    matches!(c.cmd(&["INFO", "server"]), Ok(RespValue::Bulk(b)) if String::from_utf8_lossy(&b).contains(&want))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking RESP client with a read timeout.
pub struct Client {
    pub stream: TcpStream,
    decoder: ReplyDecoder,
}

impl Client {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            decoder: ReplyDecoder::new(),
        })
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Sends a command and returns its decoded reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> std::io::Result<RespValue> {
        let mut buf = Vec::new();
        encode_command(args, &mut buf);
        self.stream.write_all(&buf)?;
        self.read_reply()
    }

    /// Reads one decoded reply.
    pub fn read_reply(&mut self) -> std::io::Result<RespValue> {
        loop {
            if let Some(v) = self
                .decoder
                .next()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?
            {
                return Ok(v);
            }
            let mut chunk = [0u8; 16384];
            // A signal meant for a child (the scenarios send SIGINT to a redis-cli) can
            // interrupt the read; it is not an answer.
            let n = match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => r?,
            };
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.decoder.feed(&chunk[..n]);
        }
    }

    /// Sends a command and returns the raw bytes of its reply (one whole reply).
    pub fn cmd_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        let v = self.cmd(args).expect("reply");
        let mut out = Vec::new();
        v.encode(&mut out);
        out
    }

    /// Reads until the server closes the connection (bounded by the read timeout);
    /// returns everything read.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = self.stream.read_to_end(&mut out);
        out
    }
}

/// Sends every command to both servers (each on one connection, in order) and asserts
/// the replies are the same bytes. `cmds` are whitespace-free argument lists.
pub fn assert_same_replies(ours: &Server, real: &Server, cmds: &[Vec<&str>]) {
    let mut a = ours.client();
    let mut b = real.client();
    for c in cmds {
        let ra = a.cmd(c).expect("our reply");
        let rb = b.cmd(c).expect("real reply");
        assert_eq!(
            ra, rb,
            "different replies for {:?}\n ours: {:?}\n real: {:?}",
            c, ra, rb
        );
    }
}

/// Splits a line into arguments with Redis's quoting rules.
pub fn args(line: &str) -> Vec<Vec<u8>> {
    redis_formats::request::split_args(line.as_bytes()).expect("balanced quotes")
}
