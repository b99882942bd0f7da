//! Replication (PSYNC2), master and replica side, wire-compatible with Redis 7.0.
//!
//! # State ([`ReplState`], `Server::repl`)
//!
//! - The replication id (`replid`) names a history of writes; `offset` (Redis's
//!   master_repl_offset) counts every byte of that history fed so far. `replid2` and
//!   `second_offset` keep the previous history after a switch (a replica promoted by
//!   REPLICAOF NO ONE), so replicas of the old master can continue with the new one.
//! - The [`Backlog`] is a ring buffer of the last `repl-backlog-size` bytes of the
//!   stream, from which a replica that lost its link continues (`+CONTINUE`).
//! - A master feeds what [`crate::propagate`] emits ([`feed`]): a SELECT when the
//!   database changes, then the command, to the backlog and to every replica. A
//!   replica instead proxies the exact bytes it applies from its own master
//!   ([`feed_raw`]), so its replicas and backlog see the same stream and offsets.
//!
//! The master side (`master.rs`) answers REPLCONF / PSYNC / SYNC, makes full syncs
//! from an RDB written by a forked child (to disk, or diskless through a pipe) and
//! tracks the replicas' acknowledged offsets (WAIT, min-replicas-to-write). The
//! replica side (`replica.rs`) is one task per link to the master: handshake,
//! RDB transfer and load, then the stream applied as the master client.

pub mod master;
pub mod replica;

use crate::client::Outbox;
use crate::state::Server;
use std::sync::Arc;

/// A fresh random replication id (40 hex characters).
pub fn random_id() -> String {
    (0..40)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).expect("hex digit"))
        .collect()
}

/// The replication backlog: a ring buffer holding the last `size` bytes of the
/// stream. `offset` is the stream offset of its first byte (Redis's
/// repl_backlog_first_byte_offset); offsets count from 1.
#[derive(Debug)]
pub struct Backlog {
    buf: Vec<u8>,
    size: usize,
    /// Where the next byte goes.
    idx: usize,
    histlen: usize,
    offset: i64,
}

impl Backlog {
    /// An empty backlog continuing a stream whose last byte has offset `master_off`.
    pub fn new(size: usize, master_off: i64) -> Self {
        let size = size.max(1);
        Backlog {
            buf: Vec::new(),
            size,
            idx: 0,
            histlen: 0,
            offset: master_off + 1,
        }
    }

    /// Bytes held.
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// Stream offset of the first byte held.
    pub fn first_offset(&self) -> i64 {
        self.offset
    }

    /// Capacity.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Appends stream bytes (the oldest fall off past `size`).
    pub fn feed(&mut self, mut data: &[u8]) {
        if self.buf.len() < self.size {
            // Allocated on first use: an idle backlog costs nothing.
            self.buf.resize(self.size, 0);
        }
        let total = data.len();
        if data.len() > self.size {
            data = &data[data.len() - self.size..];
            self.idx = (self.idx + (total - data.len())) % self.size;
        }
        while !data.is_empty() {
            let room = self.size - self.idx;
            let n = room.min(data.len());
            self.buf[self.idx..self.idx + n].copy_from_slice(&data[..n]);
            self.idx = (self.idx + n) % self.size;
            data = &data[n..];
        }
        let hist = self.histlen + total;
        let dropped = hist.saturating_sub(self.size);
        self.histlen = hist - dropped;
        self.offset += dropped as i64;
    }

    /// The bytes from stream offset `from` to the end, if the backlog holds them
    /// (`from` may be one past the end: nothing to send).
    pub fn copy_from(&self, from: i64) -> Option<Vec<u8>> {
        if from < self.offset || from > self.offset + self.histlen as i64 {
            return None;
        }
        let skip = (from - self.offset) as usize;
        let len = self.histlen - skip;
        // The oldest byte sits at idx - histlen (mod size).
        let start = (self.idx + self.size - self.histlen + skip) % self.size;
        let mut out = Vec::with_capacity(len);
        let first = len.min(self.size - start);
        out.extend_from_slice(&self.buf[start..start + first]);
        out.extend_from_slice(&self.buf[..len - first]);
        Some(out)
    }

    /// Changes the size, keeping the most recent bytes that fit.
    pub fn resize(&mut self, size: usize) {
        let size = size.max(1);
        if size == self.size {
            return;
        }
        let end = self.offset + self.histlen as i64;
        let keep = self.histlen.min(size);
        let data = self.copy_from(end - keep as i64).unwrap_or_default();
        *self = Backlog::new(size, end - keep as i64 - 1);
        self.feed(&data);
    }
}

/// A replica's progress on the master (Redis's slave replstate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Waiting for a child to make its RDB.
    WaitBgsaveStart,
    /// Its RDB is being made.
    WaitBgsaveEnd,
    /// Receiving the stream.
    Online,
}

/// A replica attached to this server.
pub struct Replica {
    pub id: u64,
    pub outbox: Arc<Outbox>,
    /// Its address (REPLCONF ip-address, or the peer's) and listening port.
    pub ip: String,
    pub port: u16,
    pub state: ReplicaState,
    /// Acknowledged offset and unix seconds of the last ACK.
    pub ack_off: i64,
    pub ack_time_s: i64,
    /// It understands `$EOF:` transfers (diskless) and `+CONTINUE <replid>`.
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// It sent SYNC (no `+FULLRESYNC` line).
    pub pre_psync: bool,
    /// Connected through TLS: its bytes must go through its connection task.
    pub tls: bool,
    /// Stream bytes held until its RDB has been sent (or, after a diskless
    /// transfer, until its first ACK).
    pub buffered: Vec<u8>,
    /// After a diskless transfer: the stream starts on its first ACK (the EOF mark
    /// must end a read on the replica's side).
    pub wait_first_ack: bool,
    /// Unix ms it started waiting for a full sync.
    pub since_ms: i64,
    /// REPLCONF rdb-only: it wants the RDB and no stream.
    pub rdb_only: bool,
    /// REPLCONF rdb-filter-only: its RDB holds no keys.
    pub exclude_data: bool,
    /// Its output went empty once since it came online: from then on what it holds
    /// is stream only, which client-output-buffer-limit replica bounds (the RDB
    /// payload does not count, as in Redis).
    pub limit_armed: bool,
}

/// What a client told with REPLCONF before PSYNC, and its role.
#[derive(Debug, Default, Clone)]
pub struct ClientRepl {
    pub listening_port: u16,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub rdb_only: bool,
    pub rdb_exclude_data: bool,
    /// This client is a replica of ours (after SYNC/PSYNC).
    pub is_replica: bool,
    /// This client is our master.
    pub is_master: bool,
}

/// The link to our master (we are a replica when it exists).
#[derive(Debug)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Bumped at each REPLICAOF: a link task whose generation is old stops.
    pub generation: u64,
    /// The master client's id while connected.
    pub client_id: Option<u64>,
    /// Unix ms of the last byte from the master.
    pub last_io_ms: i64,
    /// Unix seconds the link went down (0: never up).
    pub down_since_s: i64,
    /// RDB transfer progress.
    pub transfer_size: i64,
    pub transfer_read: i64,
    /// Offsets of the master stream read and applied (slave_read_repl_offset,
    /// slave_repl_offset).
    pub read_off: i64,
    pub applied_off: i64,
    /// Wakes the link task to send an ACK (REPLCONF GETACK from a client).
    pub ack: Arc<tokio::sync::Notify>,
    /// The link task, aborted when the link is dropped.
    pub abort: Option<tokio::task::AbortHandle>,
}

/// Redis's repl_state on a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    Transfer,
    Connected,
}

impl LinkState {
    /// ROLE's word.
    pub fn role_name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// A client blocked in WAIT.
pub struct Waiter {
    pub id: u64,
    pub woff: i64,
    pub numreplicas: usize,
    pub acked: Arc<std::sync::atomic::AtomicUsize>,
}

/// Replication state (see the module docs).
pub struct ReplState {
    pub replid: String,
    pub replid2: String,
    pub offset: i64,
    pub second_offset: i64,
    pub backlog: Option<Backlog>,
    pub replicas: Vec<Replica>,
    /// Database of the last SELECT fed (None: the next command gets one).
    pub seldb: Option<usize>,
    /// Unix seconds since when no replica is attached (backlog TTL).
    pub no_replicas_since_s: i64,
    /// Seconds counter of the replication cron.
    pub cron_loops: u64,
    pub last_cron_s: i64,
    /// INFO stats.
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// Replicas with lag <= min-replicas-max-lag.
    pub good_replicas: usize,
    /// The running RDB child feeds replicas through a pipe (diskless).
    pub socket_child: Option<master::SocketTransfer>,
    /// The running disk RDB child was started for replicas.
    pub disk_child_for_repl: bool,
    /// The link to our master, when we are a replica.
    pub master: Option<MasterLink>,
    /// Our (replid, offset) may be used to PSYNC (we hold that history's data).
    pub psync_valid: bool,
    pub next_generation: u64,
    /// The master stream's database when the link was lost (a partial resync
    /// continues in it).
    pub cached_db: usize,
    /// Clients blocked in WAIT.
    pub waiters: Vec<Waiter>,
    /// A GETACK is to be sent to the replicas (WAIT).
    pub get_ack: bool,
    /// Keys with a TTL written by clients of a writable replica: the replica
    /// expires those itself (Redis's slaveKeysWithExpire).
    pub replica_keys: std::collections::HashSet<(usize, Vec<u8>)>,
    /// A shutdown waiting for lagging replicas (shutdown-timeout).
    pub shutdown: Option<master::ShutdownWait>,
    /// A FAILOVER under way.
    pub failover: Option<master::Failover>,
}

impl Default for ReplState {
    fn default() -> Self {
        ReplState {
            replid: random_id(),
            replid2: "0".repeat(40),
            offset: 0,
            second_offset: -1,
            backlog: None,
            replicas: Vec::new(),
            seldb: None,
            no_replicas_since_s: crate::state::now_ms() / 1000,
            cron_loops: 0,
            last_cron_s: 0,
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            good_replicas: 0,
            socket_child: None,
            disk_child_for_repl: false,
            master: None,
            psync_valid: false,
            next_generation: 1,
            cached_db: 0,
            waiters: Vec::new(),
            get_ack: false,
            replica_keys: Default::default(),
            shutdown: None,
            failover: None,
        }
    }
}

impl ReplState {
    /// True when we replicate a master.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.master.is_some()
    }

    /// A new history: a fresh id (Redis's changeReplicationId).
    pub fn change_id(&mut self) {
        self.replid = random_id();
    }

    /// Forgets the previous history (clearReplicationId2).
    pub fn clear_id2(&mut self) {
        self.replid2 = "0".repeat(40);
        self.second_offset = -1;
    }

    /// The current id becomes the secondary one up to our offset, and a new one
    /// starts (shiftReplicationId).
    pub fn shift_id(&mut self) {
        self.replid2 = std::mem::take(&mut self.replid);
        self.second_offset = self.offset + 1;
        self.change_id();
    }
}

/// Stream bytes to the backlog and the replicas, counted in the offset.
pub fn feed_raw(srv: &mut Server, bytes: &[u8]) {
    let limit = srv.config.client_output_buffer_limit[crate::config::ClientClass::Replica as usize];
    let r = &mut srv.repl;
    r.offset += bytes.len() as i64;
    if let Some(b) = r.backlog.as_mut() {
        b.feed(bytes);
    }
    let mut over = Vec::new();
    for rep in r.replicas.iter_mut() {
        match rep.state {
            ReplicaState::WaitBgsaveStart => {}
            ReplicaState::WaitBgsaveEnd => rep.buffered.extend_from_slice(bytes),
            ReplicaState::Online => {
                if rep.wait_first_ack {
                    rep.buffered.extend_from_slice(bytes)
                } else if !rep.rdb_only {
                    if !rep.limit_armed && rep.outbox.output_bytes() == 0 {
                        rep.limit_armed = true;
                    }
                    rep.outbox.send(bytes);
                    if rep.limit_armed
                        && !rep.outbox.is_killed()
                        && crate::pubsub::over_limit(&rep.outbox, &limit)
                    {
                        over.push(rep.id);
                    }
                }
            }
        }
    }
    for id in over {
        let now = crate::state::now_ms();
        let Some(c) = srv.clients.iter().find(|c| c.id == id) else {
            continue;
        };
        let info = crate::cmd::client::info_line(c, now, None);
        c.outbox.kill();
        srv.stats.client_outbuf_limit_disconnections += 1;
        crate::log::log(
            crate::log::Level::Warning,
            &format!(
                "Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."
            ),
        );
    }
}

/// One propagated operation (from `propagate::emit`): a SELECT first when the
/// database differs from the last one fed. A replica feeds nothing of its own: it
/// proxies its master's stream.
pub fn feed(srv: &mut Server, db: usize, cmd: &[u8]) {
    if srv.repl.backlog.is_none() || srv.repl.master.is_some() {
        return;
    }
    if srv.repl.seldb != Some(db) {
        let mut sel = Vec::with_capacity(24);
        let n = db.to_string();
        crate::propagate::encode_command(&mut sel, &[b"SELECT", n.as_bytes()]);
        feed_raw(srv, &sel);
        srv.repl.seldb = Some(db);
    }
    feed_raw(srv, cmd);
}

/// Creates the backlog (and turns propagation on).
pub fn create_backlog(srv: &mut Server) {
    if srv.repl.backlog.is_none() {
        let size = srv.config.repl_backlog_size.max(1) as usize;
        srv.repl.backlog = Some(Backlog::new(size, srv.repl.offset));
        crate::propagate::refresh_active(srv);
    }
}

/// Drops the backlog.
pub fn free_backlog(srv: &mut Server) {
    if srv.repl.backlog.take().is_some() {
        crate::propagate::refresh_active(srv);
    }
}

/// CONFIG SET repl-backlog-size.
pub fn resize_backlog(srv: &mut Server) {
    let size = srv.config.repl_backlog_size.max(1) as usize;
    if let Some(b) = srv.repl.backlog.as_mut() {
        b.resize(size);
    }
}

/// The replication fields of an RDB (repl-stream-db, repl-id, repl-offset), when
/// Redis's rdbPopulateSaveInfo gives them: a master with a backlog, or a replica.
pub fn rdb_aux(srv: &Server) -> Option<(i64, String, i64)> {
    let r = &srv.repl;
    if r.master.is_none() && r.backlog.is_some() {
        return Some((r.seldb.map_or(0, |d| d as i64), r.replid.clone(), r.offset));
    }
    if r.master.is_some() && r.psync_valid {
        let db = r
            .master
            .as_ref()
            .and_then(|m| m.client_id)
            .and_then(|id| srv.clients.iter().find(|c| c.id == id))
            .map_or(0, |c| c.db as i64);
        return Some((db, r.replid.clone(), r.offset));
    }
    None
}

/// After the RDB was loaded at start-up: its replication fields let a master
/// serve partial resyncs of its old history, and a replica continue with PSYNC
/// (Redis's loadDataFromDisk).
pub fn loaded_rdb_aux(srv: &mut Server, aux: Option<(i64, String, i64)>) {
    let Some((db, id, off)) = aux else {
        return;
    };
    if id.len() != 40 || off < 0 || db < 0 {
        return;
    }
    if srv.config.replicaof.is_some() {
        srv.repl.replid = id;
        srv.repl.offset = off;
        srv.repl.psync_valid = true;
    } else {
        srv.repl.replid2 = id;
        srv.repl.second_offset = off + 1;
        srv.repl.offset += off;
        srv.repl.backlog = None;
        create_backlog(srv);
        srv.repl.no_replicas_since_s = crate::state::now_ms() / 1000;
    }
}

/// Forgets a client whose connection ended (a replica, a WAIT).
pub fn client_gone(srv: &mut Server, id: u64) {
    srv.repl.waiters.retain(|w| w.id != id);
    let before = srv.repl.replicas.len();
    srv.repl.replicas.retain(|r| r.id != id);
    if srv.repl.replicas.len() != before {
        crate::log::log(crate::log::Level::Notice, "Connection with replica lost.");
        if srv.repl.replicas.is_empty() {
            srv.repl.no_replicas_since_s = crate::state::now_ms() / 1000;
        }
        // A diskless transfer nobody receives any more is stopped.
        let orphan = srv.repl.socket_child.as_ref().is_some_and(|t| {
            t.child_ok.is_none()
                && !t
                    .targets
                    .iter()
                    .any(|(tid, _)| srv.repl.replicas.iter().any(|r| r.id == *tid))
        });
        if orphan {
            crate::log::log(
                crate::log::Level::Warning,
                "Diskless rdb transfer, last replica dropped, killing fork child.",
            );
            crate::bgsave::kill_child(srv);
        }
        master::refresh_good_replicas(srv);
    }
}

/// After a write on a replica by one of its own clients: the written keys that
/// have a TTL are remembered, to be expired by the replica itself.
pub fn remember_replica_keys(
    srv: &mut Server,
    client: &crate::client::Client,
    argv: &[&[u8]],
    spec: &redis_commands::CommandSpec,
) {
    if client.repl.as_ref().is_some_and(|r| r.is_master) {
        return;
    }
    for k in spec.keys(argv) {
        let key = argv[k.pos];
        if srv.keyspace.dbs[client.db].expire_of(key).is_some() {
            srv.repl.replica_keys.insert((client.db, key.to_vec()));
        }
    }
}

/// Deletes the remembered keys of a writable replica whose TTL passed (Redis's
/// expireSlaveKeys); forgets those without a TTL now.
pub fn expire_replica_keys(srv: &mut Server, now_ms: i64) {
    if srv.repl.replica_keys.is_empty() {
        return;
    }
    let keys = std::mem::take(&mut srv.repl.replica_keys);
    for (dbi, key) in keys {
        let Some(db) = srv.keyspace.dbs.get_mut(dbi) else {
            continue;
        };
        match db.expire_of(&key) {
            Some(t) if t <= now_ms => {
                db.remove(&key);
                db.expired_keys += 1;
                db.log_event(crate::config::notify::EXPIRED, "expired", &key);
            }
            Some(_) => {
                srv.repl.replica_keys.insert((dbi, key));
            }
            None => {}
        }
    }
}

/// True while the keyspace must not expire keys itself (a replica: its master
/// sends the DELs) and reads hide logically expired keys.
pub fn no_active_expire(srv: &Server) -> bool {
    srv.repl.master.is_some()
}

/// True when maxmemory does not apply (a replica with replica-ignore-maxmemory).
pub fn ignores_maxmemory(srv: &Server) -> bool {
    srv.repl.master.is_some() && srv.config.replica_ignore_maxmemory
}

/// A replica whose link is down with replica-serve-stale-data off: only commands
/// flagged `stale` run (Redis's "running stale").
pub fn running_stale(srv: &Server) -> bool {
    srv.repl
        .master
        .as_ref()
        .is_some_and(|m| m.state != LinkState::Connected && !srv.config.replica_serve_stale_data)
}

/// A replica with replica-read-only: clients other than its master may not write.
pub fn read_only_replica(srv: &Server) -> bool {
    srv.repl.master.is_some() && srv.config.replica_read_only
}

/// Errors of the write checks Redis makes in processCommand for replication
/// (NOREPLICAS, READONLY, MASTERDOWN), in its order; `write`: the command writes,
/// `stale`: it may run on a stale replica (for scripts declaring flags, from those).
pub fn check_command(
    srv: &Server,
    client: &crate::client::Client,
    write: bool,
    stale: bool,
) -> Option<&'static str> {
    let obey = client.must_obey || client.repl.as_ref().is_some_and(|r| r.is_master);
    if obey {
        return None;
    }
    let r = &srv.repl;
    if write
        && r.master.is_none()
        && srv.config.min_replicas_to_write > 0
        && srv.config.min_replicas_max_lag > 0
        && r.good_replicas < srv.config.min_replicas_to_write as usize
    {
        return Some("NOREPLICAS Not enough good replicas to write.");
    }
    if write && r.master.is_some() && srv.config.replica_read_only {
        return Some("READONLY You can't write against a read only replica.");
    }
    if let Some(m) = &r.master {
        if m.state != LinkState::Connected && !srv.config.replica_serve_stale_data && !stale {
            return Some(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
            );
        }
    }
    None
}

/// INFO's Replication section.
pub fn info(srv: &Server, s: &mut String) {
    use std::fmt::Write;
    let r = &srv.repl;
    let now_s = crate::state::now_ms() / 1000;
    let _ = write!(
        s,
        "role:{}\r\n",
        if r.master.is_some() {
            "slave"
        } else {
            "master"
        }
    );
    if let Some(m) = &r.master {
        let up = m.state == LinkState::Connected;
        let _ = write!(
            s,
            "master_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
            m.host,
            m.port,
            if up { "up" } else { "down" },
            if m.client_id.is_some() {
                (now_s - m.last_io_ms / 1000) as i32
            } else {
                -1
            },
            (m.state == LinkState::Transfer) as i32,
            m.read_off,
            m.applied_off
        );
        if m.state == LinkState::Transfer {
            let perc = if m.transfer_size > 0 {
                m.transfer_read as f64 / m.transfer_size as f64 * 100.0
            } else {
                0.0
            };
            let _ = write!(
                s,
                "master_sync_total_bytes:{}\r\nmaster_sync_read_bytes:{}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                m.transfer_size,
                m.transfer_read,
                m.transfer_size - m.transfer_read,
                perc,
                now_s - m.last_io_ms / 1000
            );
        }
        if !up {
            let _ = write!(
                s,
                "master_link_down_since_seconds:{}\r\n",
                if m.down_since_s != 0 {
                    now_s - m.down_since_s
                } else {
                    -1
                }
            );
        }
        let _ = write!(
            s,
            "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
            srv.config.replica_priority,
            srv.config.replica_read_only as i32,
            srv.config.replica_announced as i32
        );
    }
    let _ = write!(s, "connected_slaves:{}\r\n", r.replicas.len());
    if srv.config.min_replicas_to_write > 0 && srv.config.min_replicas_max_lag > 0 {
        let _ = write!(s, "min_slaves_good_slaves:{}\r\n", r.good_replicas);
    }
    for (i, rep) in r.replicas.iter().enumerate() {
        let (state, lag) = match rep.state {
            ReplicaState::WaitBgsaveStart | ReplicaState::WaitBgsaveEnd => ("wait_bgsave", 0),
            ReplicaState::Online => ("online", now_s - rep.ack_time_s),
        };
        let _ = write!(
            s,
            "slave{i}:ip={},port={},state={state},offset={},lag={lag}\r\n",
            rep.ip, rep.port, rep.ack_off
        );
    }
    let (first, hist) = r
        .backlog
        .as_ref()
        .map_or((0, 0), |b| (b.first_offset(), b.histlen()));
    let _ = write!(
        s,
        "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
        master::failover_state_name(srv),
        r.replid,
        r.replid2,
        r.offset,
        r.second_offset,
        r.backlog.is_some() as i32,
        srv.config.repl_backlog_size,
        first,
        hist
    );
}

/// Bytes the backlog holds (INFO mem_replication_backlog).
pub fn backlog_memory(srv: &Server) -> usize {
    srv.repl.backlog.as_ref().map_or(0, |b| b.histlen())
}

/// Bytes queued for the replicas (their unsent output and held stream).
pub fn replica_buffers(srv: &Server) -> usize {
    srv.repl
        .replicas
        .iter()
        .map(|r| r.outbox.output_bytes() + r.buffered.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_keeps_the_last_bytes_with_offsets() {
        let mut b = Backlog::new(8, 0);
        assert_eq!(b.first_offset(), 1);
        assert_eq!(b.copy_from(1), Some(vec![]));
        assert_eq!(b.copy_from(2), None);
        b.feed(b"abcde");
        assert_eq!(b.histlen(), 5);
        assert_eq!(b.copy_from(1).unwrap(), b"abcde");
        assert_eq!(b.copy_from(3).unwrap(), b"cde");
        assert_eq!(b.copy_from(6).unwrap(), b"");
        assert_eq!(b.copy_from(7), None);
        // Wrap around: 11 bytes fed, the last 8 kept.
        b.feed(b"fghijk");
        assert_eq!(b.histlen(), 8);
        assert_eq!(b.first_offset(), 4);
        assert_eq!(b.copy_from(4).unwrap(), b"defghijk");
        assert_eq!(b.copy_from(9).unwrap(), b"ijk");
        assert_eq!(b.copy_from(3), None);
        // A write bigger than the whole backlog.
        b.feed(b"0123456789XY");
        assert_eq!(b.first_offset(), 16);
        assert_eq!(b.copy_from(16).unwrap(), b"456789XY");
        assert_eq!(b.copy_from(24).unwrap(), b"");
    }

    #[test]
    fn backlog_many_small_writes_and_resize() {
        let mut b = Backlog::new(7, 100);
        let mut all = Vec::new();
        for i in 0..50u8 {
            let chunk = [b'a' + i % 26; 3];
            b.feed(&chunk[..(i % 3 + 1) as usize]);
            all.extend_from_slice(&chunk[..(i % 3 + 1) as usize]);
        }
        let end = 100 + all.len() as i64;
        assert_eq!(b.first_offset() + b.histlen() as i64 - 1, end);
        assert_eq!(b.copy_from(end - 6).unwrap(), &all[all.len() - 7..]);
        b.resize(4);
        assert_eq!(b.copy_from(end - 3).unwrap(), &all[all.len() - 4..]);
        assert_eq!(b.copy_from(end - 4), None);
        b.resize(64);
        assert_eq!(b.copy_from(end - 3).unwrap(), &all[all.len() - 4..]);
        b.feed(b"zz");
        assert_eq!(b.copy_from(end - 3).unwrap().len(), 6);
    }
}
