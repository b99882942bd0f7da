//! Connections to the server: TCP, Unix socket or TLS over TCP (rustls), and a
//! small request/reply helper for the setup queries (CONFIG GET, CLUSTER SLOTS).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use redis_formats::command::encode_command;
use redis_formats::{ReplyDecoder, RespValue};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

/// TLS client settings ready to use.
pub struct TlsSetup {
    pub connector: tokio_rustls::TlsConnector,
    /// `--sni`, used as the server name instead of the host when given.
    pub sni: Option<String>,
}

/// Where to connect.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub socket: Option<String>,
    pub tls: Option<Arc<TlsSetup>>,
    /// `-a` / `--user`: (user, password) for AUTH on setup connections.
    pub auth: Option<(Option<Vec<u8>>, Vec<u8>)>,
}

impl Target {
    /// `host:port` or the socket path, as Redis names the server in messages.
    pub fn describe(&self) -> String {
        match &self.socket {
            Some(s) => s.clone(),
            None => format!("{}:{}", self.host, self.port),
        }
    }

    /// The same server settings, another TCP address (cluster nodes).
    pub fn with_addr(&self, host: &str, port: u16) -> Target {
        Target {
            host: host.to_string(),
            port,
            socket: None,
            tls: self.tls.clone(),
            auth: self.auth.clone(),
        }
    }
}

/// One connection, whatever its transport.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Why a connection could not be made.
pub enum ConnectError {
    /// The socket could not be opened: hiredis's `errstr` wording.
    Connect(String),
    /// The TLS handshake failed.
    Tls(String),
}

impl ConnectError {
    /// Redis's message for this failure.
    pub fn message(&self, target: &Target) -> String {
        match self {
            ConnectError::Connect(e) => {
                format!("Could not connect to Redis at {}: {e}", target.describe())
            }
            ConnectError::Tls(e) => format!("Could not negotiate a TLS connection: {e}"),
        }
    }
}

/// The text of an I/O error without Rust's " (os error N)" suffix, like `strerror`.
pub fn errstr(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    s.trim_start_matches("failed to lookup address information: ")
        .to_string()
}

/// Opens a connection (and does the TLS handshake when configured).
pub async fn connect(t: &Target) -> Result<Stream, ConnectError> {
    if let Some(path) = &t.socket {
        let s = UnixStream::connect(path)
            .await
            .map_err(|e| ConnectError::Connect(errstr(&e)))?;
        return Ok(Stream::Unix(s));
    }
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| ConnectError::Connect(errstr(&e)))?;
    let _ = tcp.set_nodelay(true);
    match &t.tls {
        None => Ok(Stream::Tcp(tcp)),
        Some(tls) => {
            let name = tls.sni.clone().unwrap_or_else(|| t.host.clone());
            let server_name = rustls::pki_types::ServerName::try_from(name)
                .map_err(|e| ConnectError::Tls(e.to_string()))?;
            let s = tls
                .connector
                .connect(server_name, tcp)
                .await
                .map_err(|e| ConnectError::Tls(errstr(&e)))?;
            Ok(Stream::Tls(Box::new(s)))
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A connection used for one-off commands during setup.
pub struct Conn {
    stream: Stream,
    decoder: ReplyDecoder,
}

impl Conn {
    /// Wraps an open stream.
    pub fn new(stream: Stream) -> Self {
        Conn {
            stream,
            decoder: ReplyDecoder::new(),
        }
    }

    /// Sends one command and waits for its reply. `Err` is an I/O or protocol failure.
    pub async fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<RespValue, String> {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.stream.write_all(&out).await.map_err(|e| errstr(&e))?;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(v) = self.decoder.next().map_err(|e| e.0)? {
                return Ok(v);
            }
            let n = self.stream.read(&mut buf).await.map_err(|e| errstr(&e))?;
            if n == 0 {
                return Err("Server closed the connection".into());
            }
            self.decoder.feed(&buf[..n]);
        }
    }
}
