//! Byte-exact differential testing: a client that returns each reply as the bytes the
//! server sent, and a pair of connections (ours, Debian's) that runs scenarios on both.
#![allow(dead_code)]

use super::{args, our_server, real_server, Server};
use redis_formats::command::encode_command;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A client that returns each reply as the exact bytes the server sent.
pub struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// End (exclusive) of the line starting at `pos`, past its CRLF.
pub fn line_end(buf: &[u8], pos: usize) -> Option<usize> {
    buf[pos..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| pos + i + 2)
}

/// End of the complete reply starting at `pos`, if it has all arrived.
pub fn reply_end(buf: &[u8], pos: usize) -> Option<usize> {
    let t = *buf.get(pos)?;
    let end = line_end(buf, pos)?;
    let header = std::str::from_utf8(&buf[pos + 1..end - 2]).ok()?;
    match t {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(end),
        b'$' | b'!' | b'=' => {
            let n: i64 = header.parse().ok()?;
            if n < 0 {
                return Some(end);
            }
            let stop = end + n as usize + 2;
            (buf.len() >= stop).then_some(stop)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = header.parse().ok()?;
            let items = if t == b'%' || t == b'|' { 2 * n } else { n };
            let mut p = end;
            for _ in 0..items.max(0) {
                p = reply_end(buf, p)?;
            }
            // An attribute is followed by the reply it describes.
            if t == b'|' {
                p = reply_end(buf, p)?;
            }
            Some(p)
        }
        _ => panic!(
            "bad reply type byte {t:?} in {:?}",
            String::from_utf8_lossy(buf)
        ),
    }
}

impl RawClient {
    pub fn connect(port: u16) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        RawClient {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, args: &[Vec<u8>]) {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.stream.write_all(&out).expect("write");
    }

    pub fn read(&mut self) -> Vec<u8> {
        loop {
            if let Some(end) = reply_end(&self.buf, 0) {
                return self.buf.drain(..end).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = match self.stream.read(&mut chunk) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => r.expect("read reply"),
            };
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn cmd(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        self.send(args);
        self.read()
    }

    /// Sends a command line (Redis's quoting rules) and returns its reply's bytes.
    /// The server's port.
    pub fn port(&self) -> u16 {
        self.stream.peer_addr().expect("connected").port()
    }

    pub fn line(&mut self, line: &str) -> Vec<u8> {
        self.cmd(&args(line))
    }
}

pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n")
}

/// Our server and the real one, with a connection to each.
pub struct Pair {
    _ours: Server,
    _real: Server,
    pub a: RawClient,
    pub b: RawClient,
}

impl Pair {
    /// Starts both servers, or `None` when the real one is not installed.
    pub fn start(extra: &[&str]) -> Option<Pair> {
        let real_bin = real_server()?;
        let ours = Server::start(&our_server(), extra);
        let real = Server::start(&real_bin, extra);
        let a = RawClient::connect(ours.port);
        let b = RawClient::connect(real.port);
        Some(Pair {
            _ours: ours,
            _real: real,
            a,
            b,
        })
    }

    /// Switches both connections to RESP3. False if our server cannot (HELLO is
    /// not there yet in this build).
    pub fn hello3(&mut self) -> bool {
        let hello = args("HELLO 3");
        let ra = self.a.cmd(&hello);
        let rb = self.b.cmd(&hello);
        assert!(rb.starts_with(b"%"), "real HELLO 3: {}", show(&rb));
        if ra.starts_with(b"-ERR unknown command") {
            return false;
        }
        assert!(ra.starts_with(b"%"), "our HELLO 3: {}", show(&ra));
        true
    }

    /// Sends `cmd` to both and returns the two replies.
    pub fn both(&mut self, cmd: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
        (self.a.cmd(cmd), self.b.cmd(cmd))
    }

    /// Runs scenarios (lists of lines; `!sleep MS` pauses) and returns every
    /// difference. A scenario using a command our server does not have yet (from
    /// another area: lists, TTL...) is skipped and named in `skipped`.
    pub fn run(&mut self, scenarios: &[&[&str]], skipped: &mut Vec<String>) -> Vec<String> {
        let mut diffs = Vec::new();
        for sc in scenarios {
            self.both(&args("FLUSHALL"));
            for line in sc.iter() {
                if let Some(ms) = line.strip_prefix("!sleep ") {
                    std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
                    continue;
                }
                let cmd = args(line);
                let (ra, rb) = self.both(&cmd);
                if ra.starts_with(b"-ERR unknown command") && !rb.starts_with(b"-ERR unknown") {
                    skipped.push(format!("{line:?} (in scenario {:?})", sc[0]));
                    break;
                }
                if ra != rb {
                    diffs.push(format!(
                        "{line:?}\n   ours: {}\n   real: {}",
                        show(&ra),
                        show(&rb)
                    ));
                }
            }
        }
        diffs
    }
}
