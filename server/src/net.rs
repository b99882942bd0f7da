//! Listening sockets and the per-connection task: read, parse, execute a batch under
//! the lock, write the replies.

use crate::client::{Client, Peer};
use crate::dispatch;
use crate::log::{log, Level};
use crate::state::{now_ms, Shared};
use bytes::BytesMut;
use redis_formats::{Batch, ParseLimits, ProtocolError, ReplyBuf, RequestParser};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
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

/// Redis's islocalClient: the unix socket, or a peer address of exactly 127.0.0.1
/// or ::1 (not the rest of 127.0.0.0/8, nor IPv4-mapped forms).
fn is_local(peer: &Peer) -> bool {
    match peer {
        Peer::Unix { .. } => true,
        Peer::Tcp { addr, .. } => match addr.ip() {
            std::net::IpAddr::V4(ip) => ip == std::net::Ipv4Addr::LOCALHOST,
            std::net::IpAddr::V6(ip) => ip == std::net::Ipv6Addr::LOCALHOST,
        },
    }
}

/// Serves one accepted connection until it closes.
pub async fn serve<S>(shared: Arc<Shared>, mut sock: S, peer: Peer, fd: i64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if crate::log::enabled(Level::Verbose) {
        match &peer {
            Peer::Tcp { addr, .. } => log(
                Level::Verbose,
                &format!("Accepted {}:{}", addr.ip(), addr.port()),
            ),
            Peer::Unix { path } => log(Level::Verbose, &format!("Accepted connection to {path}")),
        }
    }
    let registered = {
        let mut st = shared.state.lock();
        if st.clients.len() >= st.config.maxclients as usize {
            st.stats.rejected_connections += 1;
            None
        } else if st.config.protected_mode && st.acl.default_user().nopass() && !is_local(&peer) {
            st.stats.rejected_connections += 1;
            Some(Err(()))
        } else {
            let id = st.clients.next_id();
            // Redis's clientSetDefaultAuth.
            let authenticated = !st.acl.default_needs_auth();
            let mut c = Client::new(id, peer, fd, now_ms(), authenticated);
            c.user = st.acl.default_user().clone();
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
        id,
        outbox,
        rbuf: BytesMut::with_capacity(READ_CHUNK),
        parser: RequestParser::new(),
        out: ReplyBuf::new(),
        batch: Batch::new(),
        next_cmd: 0,
        net_in: 0,
        net_out: 0,
        reads: 0,
        writes: 0,
        authenticated: true,
        max_bulk_len: 0,
        buf_alloc: 0,
    };
    let eof = conn.run(&mut sock).await;
    let mut st = shared.state.lock();
    if eof && crate::log::enabled(Level::Verbose) {
        let now = now_ms();
        if let Some(c) = st.clients.iter().find(|c| c.id == id) {
            let info = crate::cmd::client::info_line(c, now, None);
            log(Level::Verbose, &format!("Client closed connection {info}"));
        }
    }
    st.stats.net_input_bytes += conn.net_in;
    st.stats.net_output_bytes += conn.net_out;
    st.stats.total_reads_processed += conn.reads;
    st.stats.total_writes_processed += conn.writes;
    crate::blocking::disconnect(&mut st, id);
    if conn
        .outbox
        .paused
        .swap(false, std::sync::atomic::Ordering::AcqRel)
    {
        st.blocked_clients -= 1;
    }
    if let Some(mut c) = st.clients.remove(slot) {
        crate::cmd::multi::unwatch_all(&mut st, &mut c);
        crate::pubsub::forget_client(&mut st, &mut c);
        crate::tracking::disconnect(&mut st, &c);
    }
    st.monitors.retain(|(cid, _)| *cid != id);
    crate::replication::client_gone(&mut st, id);
}

struct Connection {
    shared: Arc<Shared>,
    slot: usize,
    /// The client's id.
    id: u64,
    outbox: Arc<crate::client::Outbox>,
    rbuf: BytesMut,
    parser: RequestParser,
    out: ReplyBuf,
    /// Commands parsed from `rbuf` (offsets into it; their bytes stay in `rbuf` until
    /// the whole batch has run).
    batch: Batch,
    /// The batch's commands before this one have run.
    next_cmd: usize,
    /// Bytes read/written since the counters were last folded into the state.
    net_in: u64,
    net_out: u64,
    /// Socket reads and writes since last folded (INFO total_reads/writes_processed).
    reads: u64,
    writes: u64,
    /// The client's authentication state as of the last batch (parse limits).
    authenticated: bool,
    /// `proto-max-bulk-len` as of the last batch.
    max_bulk_len: i64,
    /// Size of the query buffer when it was last read into (CLIENT LIST reports
    /// qbuf + qbuf-free as the buffer's allocation, as Redis's sds).
    buf_alloc: usize,
}

enum Step {
    Continue,
    Close,
    /// The last command blocked the client (see `crate::blocking`): the rest of
    /// the pipeline waits until it is served, times out or is unblocked.
    Blocked,
}

impl Connection {
    /// Serves until the connection ends; true when the peer closed it.
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(&mut self, sock: &mut S) -> bool {
        {
            let mut st = self.shared.state.lock();
            self.max_bulk_len = st.config.proto_max_bulk_len;
            let c = st.clients.take(self.slot);
            self.authenticated = !crate::acl::auth_required(&st, &c);
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
                        return false;
                    }
                    // A busy script read part of a command off the socket.
                    let back = std::mem::take(&mut *self.outbox.reinjected.lock());
                    let reinjected = !back.is_empty();
                    if reinjected {
                        self.rbuf.extend_from_slice(&back);
                    }
                    if self.outbox.take_shrink_request() {
                        self.free_idle_query_buffer();
                    }
                    if !self.write_pending(sock).await {
                        return false;
                    }
                    if !reinjected {
                        continue;
                    }
                }
                Some(Ok(0)) => return true,
                Some(Err(_)) => return false,
                Some(Ok(n)) => {
                    self.net_in += n as u64;
                    self.reads += 1;
                    self.buf_alloc = self.rbuf.capacity();
                }
            }
            let mut step = self.process().await;
            let partial = !self.rbuf.is_empty();
            if partial != self.outbox.partial.load(Ordering::Relaxed) {
                self.outbox.partial.store(partial, Ordering::Release);
            }
            loop {
                // After a big request, give the memory back once the buffer is
                // drained (Redis resizes query buffers whose peak use has dropped).
                if self.rbuf.is_empty() && self.rbuf.capacity() > 2 * READ_CHUNK {
                    self.rbuf = BytesMut::with_capacity(READ_CHUNK);
                }
                if !self.out.is_empty() {
                    if sock.write_all(&self.out.buf).await.is_err() {
                        return false;
                    }
                    self.net_out += self.out.len() as u64;
                    self.writes += 1;
                    self.out.buf.clear();
                    if self.out.buf.capacity() > 1024 * 1024 {
                        self.out.buf.shrink_to(READ_CHUNK);
                    }
                }
                match step {
                    Step::Close => return false,
                    Step::Continue => break,
                    Step::Blocked => {
                        if let Some(eof) = self.wait_unblocked(sock).await {
                            return eof;
                        }
                        step = self.process().await;
                    }
                }
            }
            if self.outbox.is_killed() {
                return false;
            }
        }
    }

    /// Waits while the client is blocked on keys: for its reply (served, timed
    /// out, CLIENT UNBLOCK), watching the socket so a closed connection ends at
    /// once. `Some(eof)` when the connection must end.
    async fn wait_unblocked<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        sock: &mut S,
    ) -> Option<bool> {
        while self.outbox.is_blocked() {
            let deadline = self
                .outbox
                .block_deadline
                .load(std::sync::atomic::Ordering::Acquire);
            let wait = if deadline > 0 {
                Duration::from_millis((deadline - now_ms()).max(0) as u64)
            } else {
                Duration::from_secs(3600)
            };
            if self.rbuf.capacity() - self.rbuf.len() < 1024 {
                self.rbuf.reserve(READ_CHUNK);
            }
            tokio::select! {
                biased;
                _ = self.outbox.notify.notified() => {
                    if self.outbox.is_killed() {
                        return Some(false);
                    }
                    if !self.write_pending(sock).await {
                        return Some(false);
                    }
                }
                r = sock.read_buf(&mut self.rbuf) => match r {
                    Ok(0) => return Some(true),
                    Err(_) => return Some(false),
                    Ok(n) => {
                        self.net_in += n as u64;
                        self.reads += 1;
                    }
                },
                _ = tokio::time::sleep(wait) => {
                    if deadline > 0 {
                        let mut st = self.shared.state.lock();
                        crate::blocking::timeout(&mut st, self.id, now_ms());
                    }
                }
            }
        }
        if !self.write_pending(sock).await {
            return Some(false);
        }
        None
    }

    /// Writes what others queued in the outbox; false when the socket failed.
    async fn write_pending<S: AsyncWrite + Unpin>(&mut self, sock: &mut S) -> bool {
        while self.outbox.has_pending() {
            let pending = self.outbox.take_pending();
            // A subscriber that does not read can be killed (output buffer limits)
            // while its socket is full: stop waiting then.
            let outbox = self.outbox.clone();
            let ok = tokio::select! {
                r = sock.write_all(&pending) => r.is_ok(),
                _ = async {
                    while !outbox.is_killed() {
                        outbox.notify.notified().await;
                    }
                } => false,
            };
            self.outbox.written();
            if !ok {
                return false;
            }
            self.net_out += pending.len() as u64;
            self.writes += 1;
        }
        true
    }

    /// Frees the query buffer of an idle client (asked by the cron, as Redis's
    /// clientsCronResizeQueryBuffer does after 2 s idle).
    fn free_idle_query_buffer(&mut self) {
        if !self.rbuf.is_empty() || self.parser.in_command() {
            return;
        }
        self.rbuf = BytesMut::new();
        self.buf_alloc = 0;
        let mut st = self.shared.state.lock();
        let mut c = st.clients.take(self.slot);
        c.qbuf = 0;
        c.qbuf_free = 0;
        st.clients.put(c);
    }

    /// Parses what was read and runs every complete command.
    async fn process(&mut self) -> Step {
        loop {
            let limits = ParseLimits {
                max_bulk_len: self.max_bulk_len,
                authenticated: self.authenticated,
            };
            let mut proto_err: Option<ProtocolError> = None;
            // Until AUTH succeeds, commands run one at a time so the smaller
            // unauthenticated limits lift right after it.
            while self.authenticated || self.batch.len() == self.next_cmd {
                match self
                    .parser
                    .parse_next(&mut self.rbuf, &limits, &mut self.batch)
                {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        proto_err = Some(e);
                        break;
                    }
                }
            }
            if self.batch.len() == self.next_cmd && proto_err.is_none() {
                self.check_query_buffer();
                return if self.outbox.is_killed() {
                    Step::Close
                } else {
                    Step::Continue
                };
            }
            match self.execute_batch().await {
                Step::Close => return Step::Close,
                Step::Blocked => return Step::Blocked,
                Step::Continue => {}
            }
            // Every parsed command has run: their bytes can go.
            let n = self.batch.consumed();
            bytes::Buf::advance(&mut self.rbuf, n);
            self.parser.consume(n);
            self.batch.clear();
            self.next_cmd = 0;
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
        let mut st = self.shared.state.lock();
        // Redis counts any read as interaction (idle time, `timeout`), not only
        // complete commands: a client sending a big command slowly is not idle.
        if let Some(c) = st.clients.get_mut(self.slot) {
            c.last_interaction_ms = now_ms();
        }
        if self.rbuf.len() <= st.config.client_query_buffer_limit {
            return;
        }
        st.stats.client_qbuf_limit_disconnections += 1;
        let info = st
            .clients
            .iter()
            .find(|c| c.slot == self.slot)
            .map(|c| crate::cmd::client::info_line(c, now_ms(), None))
            .unwrap_or_default();
        drop(st);
        let mut head = Vec::new();
        crate::introspection::repr(&self.rbuf[..self.rbuf.len().min(64)], &mut head);
        log(
            Level::Warning,
            &format!(
                "Closing client that reached max query buffer length: {info} (qbuf initial bytes: {})",
                String::from_utf8_lossy(&head)
            ),
        );
        self.outbox.kill();
    }

    /// Runs the parsed requests under one lock; waits (unlocked) while CLIENT PAUSE
    /// holds a command.
    async fn execute_batch(&mut self) -> Step {
        let shared = self.shared.clone();
        while self.next_cmd < self.batch.len() {
            let mut paused_until = None;
            let mut blocked = false;
            {
                let mut st = shared.state.lock();
                let st = &mut *st;
                st.stats.net_input_bytes += std::mem::take(&mut self.net_in);
                st.stats.net_output_bytes += std::mem::take(&mut self.net_out);
                st.stats.total_reads_processed += std::mem::take(&mut self.reads);
                st.stats.total_writes_processed += std::mem::take(&mut self.writes);
                let mut client = st.clients.take(self.slot);
                // Messages queued by others before this batch precede its replies.
                if self.outbox.has_pending() {
                    let pending = self.outbox.take_pending();
                    self.out.buf.extend_from_slice(&pending);
                    self.outbox.written();
                }
                // The query buffer as Redis shows it: what is not parsed yet.
                let unparsed = self.rbuf.len() - self.batch.consumed();
                client.qbuf = unparsed;
                client.qbuf_free = self.buf_alloc.saturating_sub(unparsed);
                self.out.proto = client.resp;
                // One clock reading per command: each command's end starts the next.
                let mut clock = Instant::now();
                while self.next_cmd < self.batch.len() {
                    let i = self.next_cmd;
                    if st.pause.is_some()
                        && with_args(&self.batch, &self.rbuf, i, |argv| {
                            dispatch::is_paused(st, &client, argv, now_ms())
                        })
                    {
                        paused_until = st.pause.map(|(_, until)| until);
                        // Redis counts a client held by CLIENT PAUSE as blocked.
                        if !self.outbox.paused.swap(true, Ordering::AcqRel) {
                            st.blocked_clients += 1;
                        }
                        break;
                    }
                    if self.outbox.paused.load(Ordering::Relaxed)
                        && self.outbox.paused.swap(false, Ordering::AcqRel)
                    {
                        st.blocked_clients -= 1;
                    }
                    let out = &mut self.out;
                    with_args(&self.batch, &self.rbuf, i, |argv| {
                        dispatch::execute(&shared, st, &mut client, argv, out, &mut clock)
                    });
                    self.out.proto = client.resp;
                    self.next_cmd += 1;
                    if client.close_after_reply {
                        break;
                    }
                    if client.outbox.is_blocked() {
                        blocked = true;
                        break;
                    }
                }
                // BCAST invalidations are sent once per batch (Redis's beforeSleep).
                if st.tracking.active() {
                    crate::tracking::broadcast(st);
                }
                // The AOF is written (and fsynced with appendfsync always) before
                // the replies leave, as Redis's beforeSleep.
                if !st.aof.buf.is_empty() {
                    crate::aof::flush(st, false);
                }
                self.authenticated = !crate::acl::auth_required(st, &client);
                self.max_bulk_len = st.config.proto_max_bulk_len;
                let close = client.close_after_reply;
                client.obuf = self.out.len();
                client.rbs = self.out.buf.capacity().max(READ_CHUNK);
                client.rbp = self.out.len();
                st.clients.put(client);
                if close {
                    return Step::Close;
                }
                if blocked {
                    return Step::Blocked;
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
        Step::Continue
    }
}

/// Runs `f` on command `i` of `batch` with its arguments as slices of `buf` (the
/// buffer it was parsed from), allocating nothing for up to 16 arguments.
fn with_args<R>(batch: &Batch, buf: &[u8], i: usize, f: impl FnOnce(&[&[u8]]) -> R) -> R {
    const ON_STACK: usize = 16;
    let n = batch.argc(i);
    if n <= ON_STACK {
        let mut argv: [&[u8]; ON_STACK] = [&[]; ON_STACK];
        for (slot, arg) in argv.iter_mut().zip(batch.args(buf, i)) {
            *slot = arg;
        }
        f(&argv[..n])
    } else {
        let argv: Vec<&[u8]> = batch.args(buf, i).collect();
        f(&argv)
    }
}
