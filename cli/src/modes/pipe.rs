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

/// Counts replies until the marker ECHO comes back (or the timeout hits).
fn read_replies(mut r: Box<dyn Read + Send>, m: &[u8; 20], eof: &AtomicBool, timeout: i64) -> i32 {
    let mut dec = ReplyDecoder::new();
    let mut buf = vec![0u8; CHUNK];
    let (mut errors, mut replies) = (0u64, 0u64);
    let mut last_read = Instant::now();
    let mut done = false;
    while !done {
        match r.read(&mut buf) {
            Ok(0) => {
                // The server closed the link: consume what is buffered, then stop.
                count(&mut dec, m, eof, &mut errors, &mut replies, &mut done);
                if !done {
                    std::process::exit(1);
                }
            }
            Ok(n) => {
                dec.feed(&buf[..n]);
                last_read = Instant::now();
                count(&mut dec, m, eof, &mut errors, &mut replies, &mut done);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => {
                count(&mut dec, m, eof, &mut errors, &mut replies, &mut done);
                std::process::exit(1);
            }
        }
        if !done
            && eof.load(Ordering::SeqCst)
            && timeout > 0
            && last_read.elapsed() > Duration::from_secs(timeout as u64)
        {
            err(format!("No replies for {timeout} seconds: exiting.\n").as_bytes());
            errors += 1;
            break;
        }
    }
    out(format!("errors: {errors}, replies: {replies}\n").as_bytes());
    if errors > 0 {
        1
    } else {
        0
    }
}

fn count(
    dec: &mut ReplyDecoder,
    m: &[u8; 20],
    eof: &AtomicBool,
    errors: &mut u64,
    replies: &mut u64,
    done: &mut bool,
) {
    loop {
        match dec.next() {
            Ok(Some(v)) => {
                match &v {
                    RespValue::Error(e) => {
                        err(&[&e[..], b"\n"].concat());
                        *errors += 1;
                    }
                    RespValue::Bulk(b) if b.as_slice() == m && eof.load(Ordering::SeqCst) => {
                        out(b"Last reply received from server.\n");
                        *done = true;
                        *replies = replies.wrapping_sub(1);
                    }
                    _ => {}
                }
                *replies = replies.wrapping_add(1);
            }
            Ok(None) => return,
            Err(_) => {
                err(b"Error reading replies from server\n");
                std::process::exit(1);
            }
        }
    }
}

/// TLS streams cannot be split across threads: write a chunk, then drain
/// whatever replies are ready, in one thread. The server buffers replies we
/// have not read yet, so blocking writes cannot deadlock.
fn pipe_tls(mut conn: crate::conn::Conn, m: &[u8; 20], timeout: i64) -> i32 {
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; CHUNK];
    let (mut errors, mut replies) = (0u64, 0u64);
    let eof = AtomicBool::new(false);
    let mut done = false;
    let drain =
        |conn: &mut crate::conn::Conn, errors: &mut u64, replies: &mut u64, done: &mut bool| loop {
            match conn.buffered_reply() {
                Ok(Some(v)) => {
                    match &v {
                        RespValue::Error(e) => {
                            err(&[&e[..], b"\n"].concat());
                            *errors += 1;
                        }
                        RespValue::Bulk(b) if b.as_slice() == m && eof.load(Ordering::SeqCst) => {
                            out(b"Last reply received from server.\n");
                            *done = true;
                            *replies = replies.wrapping_sub(1);
                        }
                        _ => {}
                    }
                    *replies = replies.wrapping_add(1);
                }
                Ok(None) => return,
                Err(_) => {
                    err(b"Error reading replies from server\n");
                    std::process::exit(1);
                }
            }
        };
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                err(format!("Error reading from stdin: {}\n", strerror(&e)).as_bytes());
                return 1;
            }
        };
        let data = if n == 0 {
            out(b"All data transferred. Waiting for the last reply...\n");
            eof.store(true, Ordering::SeqCst);
            echo_command(m)
        } else {
            buf[..n].to_vec()
        };
        if let Err(e) = conn.write_all(&data) {
            err(format!("Error writing to the server: {}\n", e.errstr()).as_bytes());
            return 1;
        }
        // Drain ready replies without blocking.
        let _ = conn.stream.set_read_timeout(Some(Duration::from_millis(1)));
        while let Ok(k) = conn.read_some() {
            if k == 0 {
                break;
            }
            drain(&mut conn, &mut errors, &mut replies, &mut done);
        }
        if n == 0 {
            break;
        }
    }
    let _ = conn
        .stream
        .set_read_timeout(Some(Duration::from_millis(1000)));
    let mut last = Instant::now();
    while !done {
        drain(&mut conn, &mut errors, &mut replies, &mut done);
        if done {
            break;
        }
        match conn.read_some() {
            Ok(0) => return 1,
            Ok(_) => last = Instant::now(),
            Err(crate::conn::ConnError::Timeout) => {}
            Err(_) => return 1,
        }
        if timeout > 0 && last.elapsed() > Duration::from_secs(timeout as u64) {
            err(format!("No replies for {timeout} seconds: exiting.\n").as_bytes());
            errors += 1;
            break;
        }
    }
    out(format!("errors: {errors}, replies: {replies}\n").as_bytes());
    i32::from(errors > 0)
}
