//! Replication-protocol modes: `--rdb` / `--functions-rdb` (fetch a snapshot)
//! and `--replica` (show the command stream a master sends).

use crate::conn::Conn;
use crate::opts::OutputMode;
use crate::session::{err, Session};
use redis_formats::RespValue;
use std::io::{Read, Write};

const EOF_MARK_SIZE: usize = 40;

fn die(msg: &str) -> ! {
    err(msg.as_bytes());
    std::process::exit(1);
}

/// `REPLCONF a b`, logged to stderr; false when the server refused it.
fn replconf(c: &mut Conn, a: &str, b: &str) -> bool {
    err(format!("sending REPLCONF {a} {b}\n").as_bytes());
    match c.command(&[&b"REPLCONF"[..], a.as_bytes(), b.as_bytes()]) {
        Err(_) => die("\nI/O error\n"),
        Ok(RespValue::Error(e)) => {
            err(format!("REPLCONF {a} error: {}\n", String::from_utf8_lossy(&e)).as_bytes());
            false
        }
        Ok(_) => true,
    }
}

/// How the snapshot's end is known.
enum Payload {
    Len(u64),
    Mark([u8; EOF_MARK_SIZE]),
}

/// Sends SYNC and reads the `$<len>` or `$EOF:<mark>` header.
fn send_sync(c: &mut Conn) -> Payload {
    if c.write_all(b"SYNC\r\n").is_err() {
        die("Error writing to master\n");
    }
    // Read the header line byte by byte; the master may send bare newlines
    // as keepalives while it prepares the snapshot.
    let mut line = Vec::new();
    loop {
        let mut b = [0u8; 1];
        match c.stream.read(&mut b) {
            Ok(1) => {}
            _ => die("Error reading bulk length while SYNCing\n"),
        }
        if b[0] == b'\n' {
            if line.is_empty() {
                continue;
            }
            break;
        }
        line.push(b[0]);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.first() == Some(&b'-') {
        die(&format!(
            "SYNC with master failed: {}\n",
            String::from_utf8_lossy(&line)
        ));
    }
    if line.len() >= 5 + EOF_MARK_SIZE && &line[1..5] == b"EOF:" {
        let mut m = [0u8; EOF_MARK_SIZE];
        m.copy_from_slice(&line[5..5 + EOF_MARK_SIZE]);
        return Payload::Mark(m);
    }
    Payload::Len(crate::opts::atoi(&line[1..]).max(0) as u64)
}

/// Streams the snapshot to `sink`; returns its size and any bytes read past
/// the end mark (they belong to the command stream that follows).
fn transfer(c: &mut Conn, payload: &Payload, mut sink: impl FnMut(&[u8])) -> (u64, Vec<u8>) {
    let mut buf = vec![0u8; 16 * 1024];
    match payload {
        Payload::Len(n) => {
            let mut left = *n;
            while left > 0 {
                let want = (left as usize).min(buf.len());
                match c.stream.read(&mut buf[..want]) {
                    Ok(k) if k > 0 => {
                        sink(&buf[..k]);
                        left -= k as u64;
                    }
                    _ => die("I/O Error reading RDB payload from socket\n"),
                }
            }
            (*n, Vec::new())
        }
        Payload::Mark(mark) => {
            // Keep the last 40 bytes unwritten until we know they are not the mark.
            let mut pending: Vec<u8> = Vec::new();
            let mut total = 0u64;
            loop {
                let k = match c.stream.read(&mut buf) {
                    Ok(k) if k > 0 => k,
                    _ => die("I/O Error reading RDB payload from socket\n"),
                };
                pending.extend_from_slice(&buf[..k]);
                if let Some(pos) = find(&pending, mark) {
                    sink(&pending[..pos]);
                    total += pos as u64;
                    return (total, pending[pos + EOF_MARK_SIZE..].to_vec());
                }
                if pending.len() > EOF_MARK_SIZE {
                    let flush = pending.len() - EOF_MARK_SIZE;
                    sink(&pending[..flush]);
                    total += flush as u64;
                    pending.drain(..flush);
                }
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `--rdb FILE` / `--functions-rdb FILE` (`-` for stdout).
pub fn get_rdb(s: &mut Session) -> i32 {
    let filename = s.cfg.rdb_filename.clone().unwrap_or_default();
    let functions = s.cfg.functions_rdb_mode;
    let Some(mut c) = s.conn.take() else { return 1 };
    replconf(&mut c, "capa", "eof");
    replconf(&mut c, "rdb-only", "1");
    if functions && !replconf(&mut c, "rdb-filter-only", "functions") {
        die("Failed requesting functions only RDB from server, aborting\n");
    }
    let payload = send_sync(&mut c);
    match &payload {
        Payload::Mark(_) => err(format!(
            "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{filename}'\n"
        )
        .as_bytes()),
        Payload::Len(n) => {
            err(format!("SYNC sent to master, writing {n} bytes to '{filename}'\n").as_bytes())
        }
    }
    let to_stdout = filename == "-";
    let mut file: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o644)
            .open(&filename)
        {
            Ok(f) => Box::new(std::io::BufWriter::with_capacity(256 * 1024, f)),
            Err(e) => die(&format!(
                "Error opening '{filename}': {}\n",
                crate::conn::strerror(&e)
            )),
        }
    };
    let (size, _) = transfer(&mut c, &payload, |chunk| {
        if let Err(e) = file.write_all(chunk) {
            die(&format!(
                "Error writing data to file: {}\n",
                crate::conn::strerror(&e)
            ));
        }
    });
    if let Err(e) = file.flush() {
        die(&format!(
            "Error writing data to file: {}\n",
            crate::conn::strerror(&e)
        ));
    }
    drop(file);
    match payload {
        Payload::Mark(_) => {
            err(format!("Transfer finished with success after {size} bytes\n").as_bytes())
        }
        Payload::Len(_) => err(b"Transfer finished with success.\n"),
    }
    drop(c); // close the link before the (possibly slow) fsync
    if !to_stdout {
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&filename) {
            if let Err(e) = f.sync_all() {
                die(&format!(
                    "Fail to fsync '{filename}': {}\n",
                    crate::conn::strerror(&e)
                ));
            }
        }
    }
    0
}

/// The cluster manager's `backup`: SYNC on `c` (no REPLCONF, as Redis's
/// cluster backup does), the snapshot written to `filename`, Redis's
/// messages on stderr; I/O errors exit(1) as in Redis. The link is closed.
pub fn sync_to_file(mut c: Conn, filename: &str) {
    let payload = send_sync(&mut c);
    match &payload {
        Payload::Mark(_) => err(format!(
            "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '{filename}'\n"
        )
        .as_bytes()),
        Payload::Len(n) => {
            err(format!("SYNC sent to master, writing {n} bytes to '{filename}'\n").as_bytes())
        }
    }
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = match std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o644)
        .open(filename)
    {
        Ok(f) => std::io::BufWriter::with_capacity(256 * 1024, f),
        Err(e) => die(&format!(
            "Error opening '{filename}': {}\n",
            crate::conn::strerror(&e)
        )),
    };
    let (size, _) = transfer(&mut c, &payload, |chunk| {
        if let Err(e) = file.write_all(chunk) {
            die(&format!(
                "Error writing data to file: {}\n",
                crate::conn::strerror(&e)
            ));
        }
    });
    let f = match file.into_inner() {
        Ok(f) => f,
        Err(e) => die(&format!(
            "Error writing data to file: {}\n",
            crate::conn::strerror(e.error())
        )),
    };
    match payload {
        Payload::Mark(_) => {
            err(format!("Transfer finished with success after {size} bytes\n").as_bytes())
        }
        Payload::Len(_) => err(b"Transfer finished with success.\n"),
    }
    drop(c); // close the link before the (possibly slow) fsync
    if let Err(e) = f.sync_all() {
        die(&format!(
            "Fail to fsync '{filename}': {}\n",
            crate::conn::strerror(&e)
        ));
    }
}

/// `--replica`: handshake, skip the snapshot, then print each command the
/// master propagates as a CSV line.
pub fn replica_mode(s: &mut Session) -> i32 {
    if let Some(c) = s.conn.as_mut() {
        replconf(c, "capa", "eof");
        replconf(c, "rdb-filter-only", "");
    }
    replica_stream(s);
    0
}

/// The part of replica mode after the handshake (also used when SYNC or
/// PSYNC is typed as a command): discard the snapshot, then log commands.
pub fn replica_stream(s: &mut Session) {
    let Some(c) = s.conn.as_mut() else { return };
    let payload = send_sync(c);
    match &payload {
        Payload::Mark(_) => {
            err(b"SYNC with master, discarding bytes of bulk transfer until EOF marker...\n")
        }
        Payload::Len(n) => {
            err(format!("SYNC with master, discarding {n} bytes of bulk transfer...\n").as_bytes())
        }
    }
    let (size, rest) = transfer(c, &payload, |_| {});
    match payload {
        Payload::Mark(_) => {
            err(format!(
                "SYNC done after {} bytes. Logging commands from master.\n",
                size + EOF_MARK_SIZE as u64
            )
            .as_bytes());
            std::thread::sleep(std::time::Duration::from_secs(1));
            err(b"sending REPLCONF ACK 0\n");
            c.feed(&rest);
            // Redis sends this as a request and waits for "its reply": the
            // master never answers ACKs, so the first propagated command
            // is taken as the reply and not shown. Do the same.
            if c.command(&[&b"REPLCONF"[..], b"ACK", b"0"]).is_err() {
                die("\nI/O error\n");
            }
        }
        Payload::Len(_) => {
            err(b"SYNC done. Logging commands from master.\n");
            c.feed(&rest);
        }
    }
    let original = s.cfg.output;
    s.cfg.output = OutputMode::Csv;
    while s.read_and_print(false).is_ok() {}
    s.cfg.output = original;
}
