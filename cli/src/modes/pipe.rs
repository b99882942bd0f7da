//! `--pipe`: mass insertion of raw protocol from stdin.
//!
//! A writer thread streams stdin to the socket in large chunks while the main
//! thread decodes and counts replies, so neither direction waits on the
//! other. After EOF a final `ECHO` with 20 random bytes is sent; its reply
//! proves every earlier reply was received.

use crate::conn::{strerror, Stream};
use crate::session::{err, out, Session};
use redis_formats::{ReplyDecoder, RespValue};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHUNK: usize = 256 * 1024;

fn magic() -> [u8; 20] {
    // Enough entropy for a marker that must not collide with user data.
    let mut m = [0u8; 20];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ ((std::process::id() as u64) << 32);
    let mut x = seed | 1;
    for b in m.iter_mut() {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *b = (x.wrapping_mul(0x2545F4914F6CDD1D) >> 56) as u8;
    }
    m
}

fn echo_command(m: &[u8; 20]) -> Vec<u8> {
    // A leading CRLF keeps the ECHO well-formed after stray bytes in the input.
    let mut v = b"\r\n*2\r\n$4\r\nECHO\r\n$20\r\n".to_vec();
    v.extend_from_slice(m);
    v.extend_from_slice(b"\r\n");
    v
}

/// Runs the pipe mode; returns the exit code.
pub fn pipe_mode(s: &mut Session) -> i32 {
    let Some(conn) = s.conn.take() else { return 1 };
    let m = magic();
    let eof = Arc::new(AtomicBool::new(false));
    let timeout = s.cfg.pipe_timeout;
    let (reader, writer): (Box<dyn Read + Send>, Option<Box<dyn Write + Send>>) = match &conn.stream
    {
        Stream::Tcp(t) => match (t.try_clone(), t.try_clone()) {
            (Ok(r), Ok(w)) => (Box::new(r), Some(Box::new(w))),
            _ => return 1,
        },
        Stream::Unix(u) => match (u.try_clone(), u.try_clone()) {
            (Ok(r), Ok(w)) => (Box::new(r), Some(Box::new(w))),
            _ => return 1,
        },
        Stream::Tls(_) => return pipe_tls(conn, &m, timeout),
    };
    let _ = conn
        .stream
        .set_read_timeout(Some(Duration::from_millis(1000)));
    let mut writer = writer.expect("tcp and unix streams give a writer");
    let eof_w = eof.clone();
    let echo = echo_command(&m);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Err(e) = writer.write_all(&buf[..n]) {
                        err(format!("Error writing to the server: {}\n", strerror(&e)).as_bytes());
                        std::process::exit(1);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    err(format!("Error reading from stdin: {}\n", strerror(&e)).as_bytes());
                    std::process::exit(1);
                }
            }
        }
        out(b"All data transferred. Waiting for the last reply...\n");
        eof_w.store(true, Ordering::SeqCst);
        if let Err(e) = writer.write_all(&echo).and_then(|_| writer.flush()) {
            err(format!("Error writing to the server: {}\n", strerror(&e)).as_bytes());
            std::process::exit(1);
        }
    });
    read_replies(reader, &m, &eof, timeout)
}

/// Decodes replies and keeps Redis's tallies: errors are printed to stderr
/// as they come; the marker ECHO (once all input was sent) ends the run.
struct Tally {
    dec: ReplyDecoder,
    magic: [u8; 20],
    errors: u64,
    replies: u64,
    done: bool,
}

impl Tally {
    fn new(magic: [u8; 20]) -> Self {
        Tally {
            dec: ReplyDecoder::new(),
            magic,
            errors: 0,
            replies: 0,
            done: false,
        }
    }

    /// Consumes `bytes`; `eof` says whether the marker was already queued.
    ///
    /// Mass insertion answers with millions of `+OK` / `:n` lines, so simple
    /// replies are counted straight from the bytes; anything else (bulk,
    /// aggregates, a reply split across reads) goes through the decoder.
    fn feed(&mut self, bytes: &[u8], eof: bool) {
        let mut rest = bytes;
        while !rest.is_empty() {
            if !self.dec.is_idle() {
                // Finish the reply the decoder holds, then come back here.
                self.dec.feed(rest);
                self.drain(eof);
                return;
            }
            match rest[0] {
                b'+' | b':' | b'-' => match rest.iter().position(|&b| b == b'\n') {
                    Some(nl) if nl > 0 && rest[nl - 1] == b'\r' => {
                        if rest[0] == b'-' {
                            err(&[&rest[1..nl - 1], b"\n"].concat());
                            self.errors += 1;
                        }
                        self.replies += 1;
                        rest = &rest[nl + 1..];
                    }
                    _ => {
                        // Incomplete (or odd) line: let the decoder judge it.
                        self.dec.feed(rest);
                        self.drain(eof);
                        return;
                    }
                },
                _ => {
                    self.dec.feed(rest);
                    self.drain(eof);
                    return;
                }
            }
        }
    }

    fn drain(&mut self, eof: bool) {
        loop {
            match self.dec.next() {
                Ok(Some(v)) => {
                    match &v {
                        RespValue::Error(e) => {
                            err(&[&e[..], b"\n"].concat());
                            self.errors += 1;
                        }
                        RespValue::Bulk(b) if eof && b.as_slice() == self.magic => {
                            out(b"Last reply received from server.\n");
                            self.done = true;
                            // The marker itself is not counted.
                            self.replies = self.replies.wrapping_sub(1);
                        }
                        _ => {}
                    }
                    self.replies = self.replies.wrapping_add(1);
                }
                Ok(None) => return,
                Err(_) => {
                    err(b"Error reading replies from server\n");
                    std::process::exit(1);
                }
            }
        }
    }

    /// Prints the closing line; the exit code.
    fn finish(&self) -> i32 {
        out(format!("errors: {}, replies: {}\n", self.errors, self.replies).as_bytes());
        i32::from(self.errors > 0)
    }

    fn timed_out(&mut self, timeout: i64) {
        err(format!("No replies for {timeout} seconds: exiting.\n").as_bytes());
        self.errors += 1;
    }
}

fn quiet_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted
    )
}

/// Counts replies until the marker ECHO comes back (or the timeout hits).
fn read_replies(mut r: Box<dyn Read + Send>, m: &[u8; 20], eof: &AtomicBool, timeout: i64) -> i32 {
    let mut tally = Tally::new(*m);
    let mut buf = vec![0u8; CHUNK];
    let mut last_read = Instant::now();
    while !tally.done {
        match r.read(&mut buf) {
            Ok(0) => {
                // The server closed the link; what was decoded is all there is.
                std::process::exit(1);
            }
            Ok(n) => {
                last_read = Instant::now();
                tally.feed(&buf[..n], eof.load(Ordering::SeqCst));
            }
            Err(e) if quiet_error(&e) => {}
            Err(_) => std::process::exit(1),
        }
        if !tally.done
            && eof.load(Ordering::SeqCst)
            && timeout > 0
            && last_read.elapsed() > Duration::from_secs(timeout as u64)
        {
            tally.timed_out(timeout);
            break;
        }
    }
    tally.finish()
}

/// TLS streams cannot be split across threads: write a chunk, then take
/// whatever replies are ready, in one thread. The server buffers replies we
/// have not read yet, so blocking writes cannot deadlock.
fn pipe_tls(mut conn: crate::conn::Conn, m: &[u8; 20], timeout: i64) -> i32 {
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; CHUNK];
    let mut rbuf = vec![0u8; CHUNK];
    let mut tally = Tally::new(*m);
    let mut eof = false;
    let _ = conn.stream.set_read_timeout(Some(Duration::from_millis(1)));
    while !eof {
        let n = match stdin.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                err(format!("Error reading from stdin: {}\n", strerror(&e)).as_bytes());
                return 1;
            }
        };
        let data = if n == 0 {
            out(b"All data transferred. Waiting for the last reply...\n");
            eof = true;
            echo_command(m)
        } else {
            buf[..n].to_vec()
        };
        if let Err(e) = conn.write_all(&data) {
            err(format!("Error writing to the server: {}\n", e.errstr()).as_bytes());
            return 1;
        }
        // Take the replies that are ready without waiting.
        while let Ok(k) = conn.stream.read(&mut rbuf) {
            if k == 0 {
                return 1;
            }
            tally.feed(&rbuf[..k], eof);
        }
    }
    let _ = conn
        .stream
        .set_read_timeout(Some(Duration::from_millis(1000)));
    let mut last = Instant::now();
    while !tally.done {
        match conn.stream.read(&mut rbuf) {
            Ok(0) => return 1,
            Ok(k) => {
                last = Instant::now();
                tally.feed(&rbuf[..k], true);
            }
            Err(e) if quiet_error(&e) => {}
            Err(_) => return 1,
        }
        if !tally.done && timeout > 0 && last.elapsed() > Duration::from_secs(timeout as u64) {
            tally.timed_out(timeout);
            break;
        }
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_whatever_the_split() {
        let magic = *b"0123456789abcdefghij";
        let mut stream = Vec::new();
        for _ in 0..300 {
            stream.extend_from_slice(b"+OK\r\n");
        }
        stream.extend_from_slice(b"-ERR bad\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n+OK\r\n$20\r\n");
        stream.extend_from_slice(&magic);
        stream.extend_from_slice(b"\r\n");
        for chunk in [1, 2, 3, 7, 64, stream.len()] {
            let mut t = Tally::new(magic);
            for piece in stream.chunks(chunk) {
                t.feed(piece, true);
            }
            assert!(t.done, "chunk {chunk}");
            assert_eq!((t.replies, t.errors), (304, 1), "chunk {chunk}");
        }
    }
}
