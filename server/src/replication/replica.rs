//! The replica side: REPLICAOF, and one task per link to the master.
//!
//! The task connects, makes the handshake (PING, AUTH, REPLCONF listening-port /
//! ip-address / capa eof psync2, PSYNC with our history's id and offset + 1, or
//! `? -1`), then either receives the RDB (length-prefixed or `$EOF:` marked) into a
//! temporary file that replaces the dataset and `dbfilename`, or continues
//! (`+CONTINUE`). It then applies the stream as the master client (replies
//! dropped; REPLCONF GETACK answered with REPLCONF ACK), counting every byte in
//! the offsets and proxying the same bytes to our own replicas and backlog, and
//! acks once a second. When the link drops it keeps the history's id and offset
//! and reconnects a second later with PSYNC.

use super::{LinkState, MasterLink};
use crate::client::{Client, Peer};
use crate::log::{log, Level};
use crate::state::{now_ms, Server, Shared};
use bytes::{Buf, BytesMut};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// One command of the master's stream: argument spans within the returned
/// length of `buf`. `Ok(None)`: incomplete. An empty line counts as a command
/// without arguments (its bytes count in the offsets).
pub type Parsed = (Vec<(usize, usize)>, usize);

/// Parses one RESP multibulk command (or an inline line) at the start of `buf`.
pub fn parse_command(buf: &[u8]) -> Result<Option<Parsed>, String> {
    fn line(buf: &[u8], from: usize) -> Option<(usize, usize)> {
        let nl = buf[from..].iter().position(|&b| b == b'\n')? + from;
        let end = if nl > from && buf[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        Some((end, nl + 1))
    }
    fn num(b: &[u8]) -> Result<i64, String> {
        redis_formats::num::parse_i64(b).ok_or_else(|| "invalid length".to_string())
    }
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] != b'*' {
        // Inline: split on spaces (the master sends only newlines this way).
        let Some((end, next)) = line(buf, 0) else {
            return Ok(None);
        };
        let mut spans = Vec::new();
        let mut i = 0;
        while i < end {
            while i < end && buf[i] == b' ' {
                i += 1;
            }
            let s = i;
            while i < end && buf[i] != b' ' {
                i += 1;
            }
            if i > s {
                spans.push((s, i));
            }
        }
        return Ok(Some((spans, next)));
    }
    let Some((end, mut pos)) = line(buf, 0) else {
        return Ok(None);
    };
    let n = num(&buf[1..end])?;
    if n > 1024 * 1024 {
        return Err("invalid multibulk length".into());
    }
    let mut spans = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n.max(0) {
        if pos >= buf.len() {
            return Ok(None);
        }
        if buf[pos] != b'$' {
            return Err(format!("expected '$', got '{}'", buf[pos] as char));
        }
        let Some((end, next)) = line(buf, pos) else {
            return Ok(None);
        };
        let len = num(&buf[pos + 1..end])?;
        if len < 0 {
            return Err("invalid bulk length".into());
        }
        let len = len as usize;
        if buf.len() < next + len + 2 {
            return Ok(None);
        }
        spans.push((next, next + len));
        pos = next + len + 2;
    }
    Ok(Some((spans, pos)))
}

/// REPLICAOF host port: drop any link (our replicas too: they must learn the new
/// history), remember our own history for a PSYNC if we were a master, and start
/// the link task.
pub fn set_master(srv: &mut Server, host: String, port: u16) {
    let was_master = srv.repl.master.is_none();
    // Redis's disconnectAllBlockedClients: what they wait for may never come now.
    srv.repl.waiters.clear();
    for id in srv.blocking.ids() {
        crate::blocking::unblock_with_reply(srv, id, |out| {
            out.error(
                "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
            )
        });
    }
    drop_link(srv);
    super::master::disconnect_replicas(srv);
    if was_master {
        // Redis's replicationCacheMasterUsingMyself.
        srv.repl.psync_valid = true;
        srv.repl.cached_db = 0;
    }
    let generation = srv.repl.next_generation;
    srv.repl.next_generation += 1;
    let mut link = MasterLink {
        host,
        port,
        state: LinkState::Connect,
        generation,
        client_id: None,
        last_io_ms: 0,
        down_since_s: 0,
        transfer_size: 0,
        transfer_read: 0,
        read_off: srv.repl.offset,
        applied_off: srv.repl.offset,
        ack: Arc::new(Notify::new()),
        abort: None,
    };
    if let Some(shared) = crate::state::SHARED.get() {
        let h = tokio::spawn(link_task(shared.clone(), generation));
        link.abort = Some(h.abort_handle());
    }
    log(
        Level::Notice,
        &format!("Connecting to MASTER {}:{}", link.host, link.port),
    );
    // CONFIG GET replicaof and CONFIG REWRITE report the current master, as Redis's
    // masterhost / masterport.
    srv.config.replicaof = Some((link.host.clone().into_bytes(), link.port as _));
    srv.repl.master = Some(link);
    crate::keyspace::set_expire_mode(crate::keyspace::EXPIRE_REPLICA);
    crate::log::set_role(b'S');
    let _ = crate::oom::apply(&srv.config, crate::oom::REPLICA);
    crate::propagate::refresh_active(srv);
}

/// REPLICAOF NO ONE: we become a master. The history we had continues under a new
/// id, the old one kept as the secondary so our old siblings can PSYNC to us.
pub fn unset_master(srv: &mut Server) {
    if srv.repl.master.is_none() {
        return;
    }
    drop_link(srv);
    srv.config.replicaof = None;
    crate::keyspace::set_expire_mode(crate::keyspace::EXPIRE_MASTER);
    crate::log::set_role(b'M');
    let _ = crate::oom::apply(&srv.config, crate::oom::MASTER);
    srv.repl.shift_id();
    super::master::disconnect_replicas(srv);
    srv.repl.seldb = None;
    srv.repl.no_replicas_since_s = now_ms() / 1000;
    if srv.repl.backlog.is_none() {
        super::create_backlog(srv);
    }
    crate::propagate::refresh_active(srv);
}

/// Ends the link and removes the master client.
fn drop_link(srv: &mut Server) {
    if let Some(m) = srv.repl.master.take() {
        if let Some(a) = &m.abort {
            a.abort();
        }
        if let Some(id) = m.client_id {
            remove_master_client(srv, id);
        }
    }
}

fn remove_master_client(srv: &mut Server, id: u64) {
    let slot = srv
        .clients
        .iter()
        .find(|c| c.id == id)
        .map(|c| (c.slot, c.db));
    if let Some((slot, db)) = slot {
        srv.repl.cached_db = db;
        if let Some(c) = srv.clients.remove(slot) {
            c.outbox.kill();
        }
    }
}

/// REPLCONF GETACK from someone else than the master stream: ack now.
pub fn request_ack(srv: &mut Server) {
    if let Some(m) = &srv.repl.master {
        m.ack.notify_one();
    }
}

fn is_current(srv: &Server, generation: u64) -> bool {
    srv.repl
        .master
        .as_ref()
        .is_some_and(|m| m.generation == generation)
}

fn set_state(shared: &Shared, generation: u64, state: LinkState) -> Result<(), String> {
    let mut st = shared.state.lock();
    if !is_current(&st, generation) {
        return Err("replication canceled".into());
    }
    if let Some(m) = st.repl.master.as_mut() {
        m.state = state;
    }
    Ok(())
}

async fn link_task(shared: Arc<Shared>, generation: u64) {
    loop {
        let r = run_link(&shared, generation).await;
        {
            let mut st = shared.state.lock();
            if !is_current(&st, generation) {
                return;
            }
            link_lost(&mut st, r.err());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn link_lost(st: &mut Server, err: Option<String>) {
    let id = st.repl.master.as_mut().and_then(|m| m.client_id.take());
    if let Some(id) = id {
        remove_master_client(st, id);
    }
    let Some(m) = st.repl.master.as_mut() else {
        return;
    };
    let was_up = m.state == LinkState::Connected;
    m.state = LinkState::Connect;
    if was_up {
        m.down_since_s = now_ms() / 1000;
        log(Level::Notice, "Connection with master lost.");
        log(Level::Notice, "* Caching the disconnected master state.");
    } else if let Some(e) = err {
        log(Level::Warning, &e);
    }
}

/// The socket to the master with its read buffer.
struct Link {
    sock: TcpStream,
    buf: BytesMut,
    timeout: Duration,
    /// What a read timeout is reported as (Redis's wording per phase).
    timeout_msg: &'static str,
}

impl Link {
    async fn send(&mut self, argv: &[&[u8]]) -> Result<(), String> {
        let mut v = Vec::new();
        crate::propagate::encode_command(&mut v, argv);
        self.sock
            .write_all(&v)
            .await
            .map_err(|e| format!("Error writing to MASTER: {e}"))
    }

    async fn fill(&mut self) -> Result<usize, String> {
        if self.buf.capacity() - self.buf.len() < 16 * 1024 {
            self.buf.reserve(64 * 1024);
        }
        match tokio::time::timeout(self.timeout, self.sock.read_buf(&mut self.buf)).await {
            Err(_) => Err(self.timeout_msg.into()),
            Ok(Ok(0)) => Err("Connection with master lost (EOF)".into()),
            Ok(Ok(n)) => Ok(n),
            Ok(Err(e)) => Err(format!("Error reading from MASTER: {e}")),
        }
    }

    /// One reply line, without its CRLF.
    async fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let mut l = self.buf.split_to(nl + 1);
                l.truncate(nl);
                if l.last() == Some(&b'\r') {
                    l.truncate(nl - 1);
                }
                return Ok(String::from_utf8_lossy(&l).into_owned());
            }
            self.fill().await?;
        }
    }

    /// The next non-empty line (the master sends newlines to keep us waiting).
    async fn reply(&mut self) -> Result<String, String> {
        loop {
            let l = self.line().await?;
            if !l.is_empty() {
                return Ok(l);
            }
        }
    }

    async fn command(&mut self, argv: &[&[u8]]) -> Result<String, String> {
        self.send(argv).await?;
        self.reply().await
    }
}

struct LinkConfig {
    host: String,
    port: u16,
    timeout: Duration,
    auth: Option<(Option<Vec<u8>>, Vec<u8>)>,
    listening_port: u16,
    announce_ip: Option<Vec<u8>>,
}

async fn run_link(shared: &Arc<Shared>, generation: u64) -> Result<(), String> {
    let cfg = {
        let mut st = shared.state.lock();
        if !is_current(&st, generation) {
            return Err("replication canceled".into());
        }
        let c = &st.config;
        let cfg = LinkConfig {
            host: String::new(),
            port: 0,
            timeout: Duration::from_secs(c.repl_timeout.max(1) as u64),
            auth: c.masterauth.clone().map(|p| (c.masteruser.clone(), p)),
            listening_port: if c.replica_announce_port != 0 {
                c.replica_announce_port
            } else {
                st.tcp_port
            },
            announce_ip: c.replica_announce_ip.clone(),
        };
        let m = st.repl.master.as_mut().expect("current");
        m.state = LinkState::Connecting;
        LinkConfig {
            host: m.host.clone(),
            port: m.port,
            ..cfg
        }
    };
    log(Level::Notice, "MASTER <-> REPLICA sync started");
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let sock = match tokio::time::timeout(cfg.timeout, TcpStream::connect(&addr)).await {
        Err(_) => return Err("Timeout connecting to the MASTER...".into()),
        Ok(Err(e)) => return Err(format!("Error condition on socket for SYNC: {e}")),
        Ok(Ok(s)) => s,
    };
    let _ = sock.set_nodelay(true);
    log(
        Level::Notice,
        "Non blocking connect for SYNC fired the event.",
    );
    set_state(shared, generation, LinkState::Handshake)?;
    let mut link = Link {
        sock,
        buf: BytesMut::with_capacity(64 * 1024),
        timeout: cfg.timeout,
        timeout_msg: "Timeout connecting to the MASTER...",
    };
    let pong = link.command(&[b"PING"]).await?;
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(format!("Error reply to PING from master: '{pong}'"));
    }
    log(
        Level::Notice,
        "Master replied to PING, replication can continue...",
    );
    if let Some((user, pass)) = &cfg.auth {
        let r = match user {
            Some(u) => link.command(&[b"AUTH", u, pass]).await?,
            None => link.command(&[b"AUTH", pass]).await?,
        };
        if r.starts_with('-') {
            return Err(format!("Unable to AUTH to MASTER: {r}"));
        }
    }
    let port = cfg.listening_port.to_string();
    let r = link
        .command(&[b"REPLCONF", b"listening-port", port.as_bytes()])
        .await?;
    if r.starts_with('-') {
        log(
            Level::Notice,
            &format!("(Non critical) Master does not understand REPLCONF listening-port: {r}"),
        );
    }
    if let Some(ip) = &cfg.announce_ip {
        let r = link.command(&[b"REPLCONF", b"ip-address", ip]).await?;
        if r.starts_with('-') {
            log(
                Level::Notice,
                &format!("(Non critical) Master does not understand REPLCONF ip-address: {r}"),
            );
        }
    }
    let r = link
        .command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    if r.starts_with('-') {
        log(
            Level::Notice,
            &format!("(Non critical) Master does not understand REPLCONF capa: {r}"),
        );
    }
    let (id, off) = {
        let st = shared.state.lock();
        if st.repl.psync_valid {
            (st.repl.replid.clone(), (st.repl.offset + 1).to_string())
        } else {
            ("?".to_string(), "-1".to_string())
        }
    };
    if id == "?" {
        log(
            Level::Notice,
            "Partial resynchronization not possible (no cached master)",
        );
    } else {
        log(
            Level::Notice,
            &format!("Trying a partial resynchronization (request {id}:{off})."),
        );
    }
    let failing_over = shared
        .state
        .lock()
        .repl
        .failover
        .as_ref()
        .is_some_and(|f| !f.waiting);
    let reply = if failing_over {
        link.command(&[b"PSYNC", id.as_bytes(), off.as_bytes(), b"FAILOVER"])
            .await?
    } else {
        link.command(&[b"PSYNC", id.as_bytes(), off.as_bytes()])
            .await?
    };
    if failing_over {
        let mut st = shared.state.lock();
        if !is_current(&st, generation) {
            return Err("replication canceled".into());
        }
        if reply.starts_with("+FULLRESYNC") || reply.starts_with("+CONTINUE") {
            super::master::clear_failover(&mut st);
        } else {
            super::master::abort_failover(&mut st, "Failover target rejected psync request");
            return Err(format!("Unexpected reply to PSYNC FAILOVER: {reply}"));
        }
    }
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC") {
        let mut it = rest.split_whitespace();
        let (Some(rid), Some(roff)) = (it.next(), it.next().and_then(|o| o.parse::<i64>().ok()))
        else {
            return Err(format!("Bad reply to PSYNC from master: {reply}"));
        };
        log(
            Level::Notice,
            &format!("Full resync from master: {rid}:{roff}"),
        );
        full_sync(shared, generation, &mut link, rid.to_string(), roff).await?;
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        log(
            Level::Notice,
            "Successful partial resynchronization with master.",
        );
        let new_id = rest.trim().to_string();
        let mut st = shared.state.lock();
        if !is_current(&st, generation) {
            return Err("replication canceled".into());
        }
        if new_id.len() == 40 && new_id != st.repl.replid {
            st.repl.replid2 = std::mem::replace(&mut st.repl.replid, new_id.clone());
            st.repl.second_offset = st.repl.offset + 1;
            // Our replicas must learn the new id.
            super::master::disconnect_replicas(&mut st);
            log(
                Level::Notice,
                &format!("Master replication ID changed to {new_id}"),
            );
        }
        if st.repl.backlog.is_none() {
            super::create_backlog(&mut st);
        }
        let db = st.repl.cached_db;
        connected(&mut st, &link.sock, db);
        log(
            Level::Notice,
            "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
        );
    } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
        return Err(format!(
            "Master is currently unable to PSYNC but should be in the future: {reply}"
        ));
    } else {
        return Err(format!("Unexpected reply to PSYNC from master: {reply}"));
    }
    stream(shared, generation, link).await
}

/// The master client exists and the link is up.
fn connected(st: &mut Server, sock: &TcpStream, db: usize) {
    let id = st.clients.next_id();
    let now = now_ms();
    let peer = Peer::Tcp {
        addr: sock
            .peer_addr()
            .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into()),
        local: sock
            .local_addr()
            .unwrap_or_else(|_| ([0, 0, 0, 0], 0).into()),
        tls: false,
    };
    let fd = std::os::fd::AsRawFd::as_raw_fd(sock) as i64;
    let mut c = Client::new(id, peer, fd, now, true);
    c.db = db;
    c.must_obey = true;
    c.repl = Some(Box::new(super::ClientRepl {
        is_master: true,
        ..Default::default()
    }));
    st.clients.add(c);
    st.repl.psync_valid = true;
    let off = st.repl.offset;
    if let Some(m) = st.repl.master.as_mut() {
        m.client_id = Some(id);
        m.state = LinkState::Connected;
        m.last_io_ms = now;
        m.read_off = off;
        m.applied_off = off;
        m.transfer_size = 0;
        m.transfer_read = 0;
    }
}

async fn full_sync(
    shared: &Arc<Shared>,
    generation: u64,
    link: &mut Link,
    replid: String,
    offset: i64,
) -> Result<(), String> {
    let hdr = link.reply().await?;
    if !hdr.starts_with('$') {
        return Err(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{hdr}'), are you sure the host and port are right?"));
    }
    let mark: Option<Vec<u8>> = hdr
        .strip_prefix("$EOF:")
        .filter(|m| m.len() >= 40)
        .map(|m| m.as_bytes()[..40].to_vec());
    let size: i64 = if mark.is_some() {
        0
    } else {
        hdr[1..]
            .parse()
            .map_err(|_| format!("Bad RDB length from MASTER: '{hdr}'"))?
    };
    if mark.is_some() {
        log(
            Level::Notice,
            "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk",
        );
    } else {
        log(
            Level::Notice,
            &format!("MASTER <-> REPLICA sync: receiving {size} bytes from master to disk"),
        );
    }
    {
        let mut st = shared.state.lock();
        if !is_current(&st, generation) {
            return Err("replication canceled".into());
        }
        if let Some(m) = st.repl.master.as_mut() {
            m.state = LinkState::Transfer;
            m.transfer_size = size;
            m.transfer_read = 0;
            m.last_io_ms = now_ms();
        }
    }
    link.timeout_msg = "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.";
    let tmp = format!("temp-{}.{}.rdb", now_ms() / 1000, std::process::id());
    let mut file = std::fs::File::create(&tmp).map_err(|e| {
        format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}")
    })?;
    let r = receive(shared, generation, link, &mut file, mark.as_deref(), size).await;
    let r = r.and_then(|()| file.sync_all().map_err(|e| e.to_string()));
    drop(file);
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let mut st = shared.state.lock();
    if !is_current(&st, generation) {
        let _ = std::fs::remove_file(&tmp);
        return Err("replication canceled".into());
    }
    let st = &mut *st;
    // Redis's replicationAttachToNewMaster: our replicas must resync with us.
    super::master::disconnect_replicas(st);
    super::free_backlog(st);
    log(Level::Notice, "MASTER <-> REPLICA sync: Flushing old data");
    for db in st.keyspace.dbs.iter_mut() {
        db.clear();
    }
    let path = crate::rdb::rdb_path(st);
    if let Err(e) = std::fs::rename(&tmp, &path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Failed trying to rename the temp DB into {} in MASTER <-> REPLICA synchronization: {e}", path.display()));
    }
    log(
        Level::Notice,
        "MASTER <-> REPLICA sync: Loading DB in memory",
    );
    let now = now_ms();
    if let Err(e) = crate::rdb::load(st, &path, false, now) {
        for db in st.keyspace.dbs.iter_mut() {
            db.clear();
        }
        return Err(format!("Failed trying to load the MASTER synchronization DB from disk, check server logs. ({e})"));
    }
    st.repl.replid = replid;
    st.repl.offset = offset;
    st.repl.clear_id2();
    st.repl.seldb = None;
    super::create_backlog(st);
    connected(st, &link.sock, 0);
    if st.aof.status != crate::aof::Status::Off {
        crate::aof::stop_append_only(st);
        let _ = crate::aof::start_append_only(st, false, now);
    }
    log(
        Level::Notice,
        "MASTER <-> REPLICA sync: Finished with success",
    );
    Ok(())
}

/// Copies the RDB payload into `file`: `size` bytes, or up to the EOF `mark`.
async fn receive(
    shared: &Arc<Shared>,
    generation: u64,
    link: &mut Link,
    file: &mut std::fs::File,
    mark: Option<&[u8]>,
    size: i64,
) -> Result<(), String> {
    let werr = |e: std::io::Error| format!("Write error writing to the DB file: {e}");
    let mut read: i64 = 0;
    let mut tail: Vec<u8> = Vec::with_capacity(80);
    loop {
        match mark {
            None => {
                let want = (size - read) as usize;
                let n = want.min(link.buf.len());
                file.write_all(&link.buf[..n]).map_err(werr)?;
                link.buf.advance(n);
                read += n as i64;
                if read == size {
                    break;
                }
            }
            Some(mark) => {
                let n = link.buf.len();
                file.write_all(&link.buf).map_err(werr)?;
                tail.extend_from_slice(&link.buf);
                if tail.len() > 40 {
                    tail.drain(..tail.len() - 40);
                }
                link.buf.clear();
                read += n as i64;
                if tail == mark {
                    // The mark is not part of the RDB.
                    let len = file.metadata().map_err(werr)?.len();
                    file.set_len(len - 40).map_err(werr)?;
                    break;
                }
            }
        }
        link.fill().await?;
        let mut st = shared.state.lock();
        if !is_current(&st, generation) {
            return Err("replication canceled".into());
        }
        if let Some(m) = st.repl.master.as_mut() {
            m.transfer_read = read + link.buf.len() as i64;
            m.last_io_ms = now_ms();
        }
    }
    Ok(())
}

const GETACK: &[u8] = b"getack";

async fn send_ack(link: &mut Link, off: i64) -> Result<(), String> {
    let o = off.to_string();
    link.send(&[b"REPLCONF", b"ACK", o.as_bytes()]).await
}

/// Applies the master's stream until the link ends.
async fn stream(shared: &Arc<Shared>, generation: u64, mut link: Link) -> Result<(), String> {
    let (outbox, ack) = {
        let st = shared.state.lock();
        let m = st.repl.master.as_ref().ok_or("replication canceled")?;
        let id = m.client_id.ok_or("no master client")?;
        let ob = st
            .clients
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.outbox.clone())
            .ok_or("no master client")?;
        (ob, m.ack.clone())
    };
    let mut out = redis_formats::ReplyBuf::new();
    let mut last_io = Instant::now();
    let mut timer = tokio::time::interval(Duration::from_secs(1));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first ACK at once: a diskless master starts the stream on it.
    let off = shared.state.lock().repl.offset;
    send_ack(&mut link, off).await?;
    loop {
        if !link.buf.is_empty() {
            let acks = apply(shared, generation, &mut link.buf, &mut out)?;
            for off in acks {
                send_ack(&mut link, off).await?;
            }
        }
        if link.buf.capacity() - link.buf.len() < 16 * 1024 {
            link.buf.reserve(64 * 1024);
        }
        tokio::select! {
            r = link.sock.read_buf(&mut link.buf) => match r {
                Ok(0) => return Err("Connection with master lost.".into()),
                Err(e) => return Err(format!("Error reading from MASTER: {e}")),
                Ok(n) => {
                    last_io = Instant::now();
                    let mut st = shared.state.lock();
                    if let Some(m) = st.repl.master.as_mut() {
                        m.read_off += n as i64;
                        m.last_io_ms = now_ms();
                    }
                }
            },
            _ = outbox.notify.notified() => {
                if outbox.is_killed() {
                    return Err("Master client killed".into());
                }
            }
            _ = ack.notified() => {
                let off = shared.state.lock().repl.offset;
                send_ack(&mut link, off).await?;
            }
            _ = timer.tick() => {
                if last_io.elapsed() > link.timeout {
                    return Err("MASTER timeout: no data nor PING received...".into());
                }
                let off = shared.state.lock().repl.offset;
                send_ack(&mut link, off).await?;
            }
        }
    }
}

/// Runs the complete commands in `buf` as the master client; returns the offsets
/// to ACK for the GETACKs met.
fn apply(
    shared: &Arc<Shared>,
    generation: u64,
    buf: &mut BytesMut,
    out: &mut redis_formats::ReplyBuf,
) -> Result<Vec<i64>, String> {
    let mut guard = shared.state.lock();
    let st = &mut *guard;
    if !is_current(st, generation) {
        return Err("replication canceled".into());
    }
    let id = st
        .repl
        .master
        .as_ref()
        .and_then(|m| m.client_id)
        .ok_or("no master client")?;
    let slot = st
        .clients
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.slot)
        .ok_or("no master client")?;
    let mut client = st.clients.take(slot);
    let mut acks = Vec::new();
    let mut pos = 0;
    let mut clock = Instant::now();
    let mut err = None;
    loop {
        let (spans, used) = match parse_command(&buf[pos..]) {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                err = Some(format!("Protocol error from master: {e}"));
                break;
            }
        };
        let cmd = &buf[pos..pos + used];
        let argv: Vec<&[u8]> = spans.iter().map(|&(a, b)| &cmd[a..b]).collect();
        if argv.len() >= 2
            && argv[0].eq_ignore_ascii_case(b"replconf")
            && argv[1].eq_ignore_ascii_case(GETACK)
        {
            acks.push(st.repl.offset);
        } else if !argv.is_empty() {
            out.proto = client.resp;
            crate::keyspace::set_expire_mode(crate::keyspace::EXPIRE_FROM_MASTER);
            crate::dispatch::execute(shared, st, &mut client, &argv, out, &mut clock);
            crate::keyspace::set_expire_mode(crate::keyspace::EXPIRE_REPLICA);
            out.buf.clear();
        }
        // The same bytes to our replicas and backlog; the offset follows.
        super::feed_raw(st, cmd);
        if let Some(m) = st.repl.master.as_mut() {
            m.applied_off = st.repl.offset;
        }
        pos += used;
    }
    st.clients.put(client);
    if !st.aof.buf.is_empty() {
        crate::aof::flush(st, false);
    }
    buf.advance(pos);
    match err {
        Some(e) => Err(e),
        None => Ok(acks),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_command;

    #[test]
    fn parses_the_master_stream() {
        let s = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n";
        let (spans, used) = parse_command(s).unwrap().unwrap();
        assert_eq!(used, 26);
        let args: Vec<&[u8]> = spans.iter().map(|&(a, b)| &s[a..b]).collect();
        assert_eq!(args, [&b"SET"[..], b"k", b""]);
        let (spans, used) = parse_command(&s[26..]).unwrap().unwrap();
        assert_eq!((spans.len(), used), (1, 14));
        // Every incomplete prefix waits for more.
        for i in 0..26 {
            assert_eq!(parse_command(&s[..i]).unwrap(), None, "{i}");
        }
        // A newline (keep-alive) is one byte of the stream, with no argument.
        assert_eq!(parse_command(b"\n*1").unwrap(), Some((vec![], 1)));
        assert!(parse_command(b"*1\r\n+x\r\n").is_err());
        assert!(parse_command(b"*x\r\n").is_err());
        // Binary data with CRLF inside a bulk.
        let b = b"*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n";
        let (spans, used) = parse_command(b).unwrap().unwrap();
        assert_eq!(used, b.len());
        assert_eq!(&b[spans[1].0..spans[1].1], b"a\r\nb");
    }
}
