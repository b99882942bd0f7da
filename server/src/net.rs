//! Listening sockets and the per-connection task: read, parse, execute a batch under
//! the lock, write the replies.

use crate::client::{Client, Peer};
use crate::dispatch;
use crate::log::{log, Level};
use crate::state::{now_ms, Shared};
use bytes::BytesMut;
use redis_formats::request::Request;
use redis_formats::{ParseLimits, ProtocolError, ReplyBuf, RequestParser};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes asked of the socket per read (Redis's PROTO_IOBUF_LEN).
const READ_CHUNK: usize = 16 * 1024;

const DENIED: &str = "-DENIED Redis is running in protected mode because protected \
mode is enabled and no password is set for the default user. \
In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you \
may adopt one of the following solutions: \
1) Just disable protected mode sending the command \
'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is \
running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this \
change permanent. \
2) Alternatively you can just disable the protected mode by \
editing the Redis configuration file, and setting the protected \
mode option to 'no', and then restarting the server. \
3) If you started the server manually just for testing, restart \
it with the '--protected-mode no' option. \
4) Setup a an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for \
the server to start accepting connections from the outside.\r\n";

fn is_local(peer: &Peer) -> bool {
    match peer {
        Peer::Unix { .. } => true,
        Peer::Tcp { addr, .. } => match addr.ip() {
            std::net::IpAddr::V4(ip) => ip.is_loopback(),
            std::net::IpAddr::V6(ip) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        },
    }
}

/// Serves one accepted connection until it closes.
pub async fn serve<S>(shared: Arc<Shared>, mut sock: S, peer: Peer, fd: i64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let registered = {
        let mut st = shared.state.lock();
        if st.clients.len() >= st.config.maxclients as usize {
            st.stats.rejected_connections += 1;
            None
        } else if st.config.protected_mode && st.config.requirepass.is_none() && !is_local(&peer) {
            st.stats.rejected_connections += 1;
            Some(Err(()))
        } else {
            let id = st.clients.next_id();
            let authenticated = st.config.requirepass.is_none();
            let c = Client::new(id, peer, fd, now_ms(), authenticated);
            let outbox = c.outbox.clone();
            let slot = st.clients.add(c);
            st.stats.total_connections_received += 1;
            Some(Ok((slot, id, outbox)))
        }
    };
    let (slot, id, outbox) = match registered {
        None => {
            let _ = sock
                .write_all(b"-ERR max number of clients reached\r\n")
                .await;
            return;
        }
        Some(Err(())) => {
            let _ = sock.write_all(DENIED.as_bytes()).await;
            return;
        }
        Some(Ok(r)) => r,
    };
    let mut conn = Connection {
        shared: shared.clone(),
        slot,
        outbox,
        rbuf: BytesMut::with_capacity(READ_CHUNK),
        parser: RequestParser::new(),
        out: ReplyBuf::new(),
        reqs: Vec::with_capacity(64),
        net_in: 0,
        net_out: 0,
        authenticated: true,
        max_bulk_len: 0,
    };
    conn.run(&mut sock).await;
    let mut st = shared.state.lock();
    st.stats.net_input_bytes += conn.net_in;
    st.stats.net_output_bytes += conn.net_out;
    st.clients.remove(slot);
    st.monitors.retain(|(cid, _)| *cid != id);
}

struct Connection {
    shared: Arc<Shared>,
    slot: usize,
    outbox: Arc<crate::client::Outbox>,
    rbuf: BytesMut,
    parser: RequestParser,
    out: ReplyBuf,
    reqs: Vec<Request>,
    /// Bytes read/written since the counters were last folded into the state.
    net_in: u64,
    net_out: u64,
    /// The client's authentication state as of the last batch (parse limits).
    authenticated: bool,
    /// `proto-max-bulk-len` as of the last batch.
    max_bulk_len: i64,
}

enum Step {
    Continue,
    Close,
}

impl Connection {
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, sock: &mut S) {
        {
            let mut st = self.shared.state.lock();
            self.max_bulk_len = st.config.proto_max_bulk_len;
            let c = st.clients.take(self.slot);
            self.authenticated = c.authenticated;
            st.clients.put(c);
        }
        loop {
            if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK {
                let want = self.parser.wanted(&self.rbuf).max(READ_CHUNK);
                self.rbuf.reserve(want);
            }
            // Idle timeouts are enforced by the cron (it kills through the outbox),
            // so the hot path waits on two futures only.
            let read = tokio::select! {
                biased;
                r = sock.read_buf(&mut self.rbuf) => Some(r),
                _ = self.outbox.notify.notified() => None,
            };
            match read {
                None => {
                    if self.outbox.is_killed() {
                        return;
                    }
                    let pending = std::mem::take(&mut *self.outbox.pending.lock());
                    if !pending.is_empty() {
                        if sock.write_all(&pending).await.is_err() {
                            return;
                        }
                        self.net_out += pending.len() as u64;
                    }
                    continue;
                }
                Some(Ok(0)) | Some(Err(_)) => return,
                Some(Ok(n)) => self.net_in += n as u64,
            }
            let step = self.process().await;
            if !self.out.is_empty() {
                if sock.write_all(&self.out.buf).await.is_err() {
                    return;
                }
                self.net_out += self.out.len() as u64;
                self.out.buf.clear();
                if self.out.buf.capacity() > 1024 * 1024 {
                    self.out.buf.shrink_to(READ_CHUNK);
                }
            }
            if matches!(step, Step::Close) || self.outbox.is_killed() {
                return;
            }
        }
    }

    /// Parses what was read and runs every complete command.
    async fn process(&mut self) -> Step {
        loop {
            let limits = ParseLimits {
                max_bulk_len: self.max_bulk_len,
                authenticated: self.authenticated,
            };
            let mut proto_err: Option<ProtocolError> = None;
            loop {
                match self.parser.parse(&mut self.rbuf, &limits) {
                    Ok(Some(r)) => {
                        self.reqs.push(r);
                        // Until AUTH succeeds, run commands one at a time so the
                        // smaller unauthenticated limits lift right after it.
                        if !self.authenticated {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        proto_err = Some(e);
                        break;
                    }
                }
            }
            if self.reqs.is_empty() && proto_err.is_none() {
                self.check_query_buffer();
                return if self.outbox.is_killed() {
                    Step::Close
                } else {
                    Step::Continue
                };
            }
            if let Step::Close = self.execute_batch().await {
                return Step::Close;
            }
            if let Some(e) = proto_err {
                self.out.error(&e.message());
                log(
                    Level::Verbose,
                    &format!("Protocol error ({}) from client", e.log_reason()),
                );
                return Step::Close;
            }
            if self.rbuf.is_empty() {
                return Step::Continue;
            }
        }
    }

    fn check_query_buffer(&mut self) {
        let limit = self.shared.state.lock().config.client_query_buffer_limit;
        if self.rbuf.len() > limit {
            log(
                Level::Warning,
                "Closing client that reached max query buffer length",
            );
            self.shared
                .state
                .lock()
                .stats
                .client_qbuf_limit_disconnections += 1;
            self.outbox.kill();
        }
    }

    /// Runs the parsed requests under one lock; waits (unlocked) while CLIENT PAUSE
    /// holds a command.
    async fn execute_batch(&mut self) -> Step {
        let shared = self.shared.clone();
        let mut i = 0;
        while i < self.reqs.len() {
            let mut paused_until = None;
            {
                let mut st = shared.state.lock();
                let st = &mut *st;
                st.stats.net_input_bytes += std::mem::take(&mut self.net_in);
                st.stats.net_output_bytes += std::mem::take(&mut self.net_out);
                let mut client = st.clients.take(self.slot);
                client.qbuf = self.rbuf.len();
                client.qbuf_free = self.rbuf.capacity() - self.rbuf.len();
                self.out.proto = client.resp;
                while i < self.reqs.len() {
                    let now = now_ms();
                    if dispatch::is_paused(st, &self.reqs[i].argv, now) {
                        paused_until = st.pause.map(|(_, until)| until);
                        break;
                    }
                    dispatch::execute(&shared, st, &mut client, &self.reqs[i].argv, &mut self.out);
                    self.out.proto = client.resp;
                    i += 1;
                    if client.close_after_reply {
                        break;
                    }
                }
                self.authenticated = client.authenticated;
                self.max_bulk_len = st.config.proto_max_bulk_len;
                let close = client.close_after_reply;
                client.obuf = self.out.len();
                st.clients.put(client);
                if close {
                    self.reqs.clear();
                    return Step::Close;
                }
            }
            if let Some(until) = paused_until {
                let wait = (until - now_ms()).max(1) as u64;
                tokio::select! {
                    _ = shared.unpause.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                }
            }
        }
        self.reqs.clear();
        Step::Continue
    }
}
