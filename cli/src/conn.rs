//! A blocking connection to a server (TCP, unix socket or TLS) that sends
//! commands and reads decoded replies with the shared `ReplyDecoder`.

use crate::opts::TlsOptions;
use redis_formats::command::encode_command;
use redis_formats::{ReplyDecoder, RespValue};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Why a connection failed, with hiredis's wording for `errstr`.
#[derive(Debug)]
pub enum ConnError {
    /// A socket error (text as `strerror`).
    Io(String),
    /// The peer closed the connection.
    Eof,
    /// Bytes that are not RESP.
    Protocol(String),
    /// A read timed out.
    Timeout,
    /// The TLS handshake or setup failed.
    Tls(String),
}

impl ConnError {
    /// The text Redis prints after `Error: `.
    pub fn errstr(&self) -> String {
        match self {
            ConnError::Io(s) => s.clone(),
            ConnError::Eof => "Server closed the connection".into(),
            ConnError::Protocol(s) => s.clone(),
            ConnError::Timeout => "Resource temporarily unavailable".into(),
            ConnError::Tls(s) => s.clone(),
        }
    }

    fn from_io(e: io::Error) -> ConnError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ConnError::Timeout,
            io::ErrorKind::UnexpectedEof => ConnError::Eof,
            _ => ConnError::Io(strerror(&e)),
        }
    }
}

/// The C library's text for an OS error (`Connection refused`), without
/// Rust's `(os error N)` suffix.
pub fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a pointer to a static NUL-terminated
            // string; we copy it out at once.
            let p = unsafe { libc::strerror(code) };
            if p.is_null() {
                return e.to_string();
            }
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .into_owned()
        }
        None => {
            let s = e.to_string();
            s.strip_prefix("failed to lookup address information: ")
                .map(str::to_string)
                .unwrap_or(s)
        }
    }
}

/// hiredis's wording for a bad type byte (`Protocol error, got "H" as reply
/// type byte`, seen when pointing redis-cli at a non-Redis port); other
/// decoder errors keep their own text.
fn protocol_text(msg: &str) -> String {
    let byte = msg
        .strip_prefix("unexpected reply type byte '")
        .and_then(|r| r.strip_suffix('\''))
        .and_then(|esc| {
            let mut it = esc.chars();
            match (it.next(), it.next()) {
                (Some(c), None) => u8::try_from(c as u32).ok(),
                (Some('\\'), Some(k)) => match k {
                    't' => Some(b'\t'),
                    'r' => Some(b'\r'),
                    'n' => Some(b'\n'),
                    '\\' | '\'' | '"' => Some(k as u8),
                    'u' => {
                        let hex: String = esc[3..].trim_end_matches('}').to_string();
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(|v| u8::try_from(v).ok())
                    }
                    _ => None,
                },
                _ => None,
            }
        });
    match byte {
        Some(b) => {
            let mut q = Vec::new();
            crate::format::repr(&mut q, &[b]);
            format!(
                "Protocol error, got {} as reply type byte",
                String::from_utf8_lossy(&q)
            )
        }
        None => format!("Protocol error: {msg}"),
    }
}

/// The transport under a connection.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => match s.read(buf) {
                // A peer that closes without close_notify is simply EOF here.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                r => r,
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl Stream {
    /// The raw socket descriptor (for shutdown from a signal handler).
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tls(s) => s.sock.as_raw_fd(),
        }
    }

    /// Sets (or clears) the read timeout.
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(d),
            Stream::Unix(s) => s.set_read_timeout(d),
            Stream::Tls(s) => s.sock.set_read_timeout(d),
        }
    }

    /// Switches the socket between blocking and non-blocking.
    pub fn set_nonblocking(&self, nb: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(nb),
            Stream::Unix(s) => s.set_nonblocking(nb),
            Stream::Tls(s) => s.sock.set_nonblocking(nb),
        }
    }
}

/// Where to connect.
#[derive(Debug, Clone)]
pub enum Target {
    Tcp { host: String, port: i64 },
    Unix(String),
}

/// A connection with its reply decoder.
pub struct Conn {
    pub stream: Stream,
    dec: ReplyDecoder,
    rbuf: Vec<u8>,
    /// Set once the peer sent bytes that are not RESP: like a hiredis
    /// context in an error state, every later call fails with this text.
    poisoned: Option<String>,
}

fn resolve(host: &str, port: i64) -> Result<Vec<SocketAddr>, ConnError> {
    if !(0..=65535).contains(&port) {
        return Err(ConnError::Io(
            "Servname not supported for ai_socktype".into(),
        ));
    }
    let addrs: Vec<SocketAddr> = (host, port as u16)
        .to_socket_addrs()
        .map_err(|e| ConnError::Io(strerror(&e)))?
        .collect();
    // hiredis asks for IPv4 first and only falls back to IPv6.
    let v4: Vec<SocketAddr> = addrs.iter().filter(|a| a.is_ipv4()).cloned().collect();
    Ok(if v4.is_empty() { addrs } else { v4 })
}

impl Conn {
    /// Connects (and negotiates TLS when `tls` is given).
    pub fn connect(target: &Target, tls: Option<&TlsOptions>) -> Result<Conn, ConnError> {
        let stream = match target {
            Target::Unix(path) => {
                Stream::Unix(UnixStream::connect(path).map_err(|e| ConnError::Io(strerror(&e)))?)
            }
            Target::Tcp { host, port } => {
                let mut last = ConnError::Io("Connection refused".into());
                let mut sock = None;
                for a in resolve(host, *port)? {
                    match TcpStream::connect(a) {
                        Ok(s) => {
                            sock = Some(s);
                            break;
                        }
                        Err(e) => last = ConnError::Io(strerror(&e)),
                    }
                }
                let sock = sock.ok_or(last)?;
                let _ = sock.set_nodelay(true);
                set_keepalive(&sock);
                match tls {
                    Some(opts) => Stream::Tls(Box::new(
                        crate::tls::wrap(sock, host, opts).map_err(|e| match e {
                            crate::tls::TlsError::Config(m) => ConnError::Tls(m),
                            crate::tls::TlsError::Handshake(m) => ConnError::Io(m),
                        })?,
                    )),
                    None => Stream::Tcp(sock),
                }
            }
        };
        Ok(Conn {
            stream,
            dec: ReplyDecoder::new(),
            rbuf: vec![0; 64 * 1024],
            poisoned: None,
        })
    }

    /// Writes one command (not flushed replies; this is a blocking write).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), ConnError> {
        let mut buf = Vec::new();
        encode_command(args, &mut buf);
        self.write_all(&buf)
    }

    /// Writes raw bytes.
    pub fn write_all(&mut self, buf: &[u8]) -> Result<(), ConnError> {
        if let Some(p) = &self.poisoned {
            return Err(ConnError::Protocol(p.clone()));
        }
        self.stream
            .write_all(buf)
            .and_then(|_| self.stream.flush())
            .map_err(ConnError::from_io)
    }

    /// A reply already buffered, without reading the socket.
    pub fn buffered_reply(&mut self) -> Result<Option<RespValue>, ConnError> {
        if let Some(p) = &self.poisoned {
            return Err(ConnError::Protocol(p.clone()));
        }
        self.dec.next().map_err(|e| {
            let text = protocol_text(&e.0);
            self.poisoned = Some(text.clone());
            ConnError::Protocol(text)
        })
    }

    /// Reads until one full reply is decoded.
    pub fn read_reply(&mut self) -> Result<RespValue, ConnError> {
        loop {
            if let Some(v) = self.buffered_reply()? {
                return Ok(v);
            }
            let n = self.read_some()?;
            if n == 0 {
                return Err(ConnError::Eof);
            }
        }
    }

    /// One read from the socket into the decoder; returns the byte count.
    pub fn read_some(&mut self) -> Result<usize, ConnError> {
        loop {
            match self.stream.read(&mut self.rbuf) {
                Ok(n) => {
                    self.dec.feed(&self.rbuf[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ConnError::from_io(e)),
            }
        }
    }

    /// Pushes bytes received by other means (after a raw transfer) into the decoder.
    pub fn feed(&mut self, data: &[u8]) {
        self.dec.feed(data);
    }

    /// Sends a command and reads its reply.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<RespValue, ConnError> {
        self.send(args)?;
        self.read_reply()
    }

    /// Bytes received but not yet decoded (raw streams like an RDB payload
    /// are read through this after the decoder is bypassed).
    pub fn take_pending(&mut self) -> Vec<u8> {
        let n = self.dec.pending();
        let buf = self.dec.buffer_mut();
        let start = buf.len() - n;
        let out = buf[start..].to_vec();
        buf.truncate(start);
        out
    }
}

/// Redis's client turns on TCP keepalive (15s) so long commands are not
/// mistaken for dead links.
fn set_keepalive(sock: &TcpStream) {
    use std::os::fd::AsRawFd;
    let fd = sock.as_raw_fd();
    let on: libc::c_int = 1;
    let secs: libc::c_int = 15;
    let set = |level, name, val: &libc::c_int| {
        // SAFETY: fd is a live socket and val points to a c_int for the call.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                val as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        }
    };
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, &on);
    #[cfg(target_os = "linux")]
    {
        set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, &secs);
        let intvl: libc::c_int = (secs / 3).max(1);
        set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, &intvl);
        let cnt: libc::c_int = 3;
        set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, &cnt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_error_texts() {
        assert_eq!(
            protocol_text("unexpected reply type byte 'H'"),
            "Protocol error, got \"H\" as reply type byte"
        );
        assert_eq!(
            protocol_text("unexpected reply type byte '\\u{0}'"),
            "Protocol error, got \"\\x00\" as reply type byte"
        );
        assert_eq!(
            protocol_text("unexpected reply type byte '\\n'"),
            "Protocol error, got \"\\n\" as reply type byte"
        );
    }
}
