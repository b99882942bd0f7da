//! Clients: the per-connection state the server keeps, and the registry of them.
//!
//! A connection task owns its socket and parse buffers; the rest of a client's state
//! (what CLIENT LIST shows, what other clients may change) lives in the registry,
//! inside the server state, so it is read and written under the same lock as the
//! keyspace. While a connection executes a batch it takes its `Client` out of the
//! registry (O(1), by slot), so a handler gets `&mut Server` and `&mut Client` apart.

use parking_lot::Mutex;
use redis_formats::ProtoVersion;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Bytes and events sent to a client by others (MONITOR feeds, kills, and later
/// pub/sub messages and unblocking). The connection task drains it.
#[derive(Default)]
pub struct Outbox {
    /// Protocol bytes waiting to be written to this client.
    pub pending: Mutex<Vec<u8>>,
    /// Wakes the connection task.
    pub notify: Notify,
    /// Set by CLIENT KILL (or shutdown): the connection closes as soon as it can.
    pub kill: AtomicBool,
    /// Set by the cron: the client is idle, its query buffer may be freed.
    pub shrink_qbuf: AtomicBool,
    /// The client is blocked on keys (`crate::blocking`); cleared, under the server
    /// lock, when it is served, times out or is unblocked.
    pub blocked: AtomicBool,
    /// Unix ms when the blocked command times out (0: never).
    pub block_deadline: AtomicI64,
    /// The client waits for CLIENT PAUSE to end (Redis counts it as blocked).
    pub paused: AtomicBool,
    /// The client speaks RESP3 (kept beside `Client::resp` so publishers can
    /// encode a message for it without its `Client`).
    pub resp3: AtomicBool,
    /// Bytes in `pending`, readable without its lock.
    pub pending_len: AtomicUsize,
    /// Bytes taken from `pending` and being written to the socket.
    pub inflight: AtomicUsize,
    /// Unix ms since when the output has been over the soft output-buffer limit
    /// (0: it is not).
    pub soft_limit_since: AtomicI64,
    /// The connection holds part of a command not parsed yet (a busy script leaves
    /// its socket alone then).
    pub partial: AtomicBool,
    /// Bytes a busy script read from the socket that do not make a whole command:
    /// the connection parses them first when it runs again.
    pub reinjected: Mutex<Vec<u8>>,
    /// CLIENT TRACKING flags (`crate::tracking::flag`) and redirection (-1: none),
    /// for CLIENT LIST; the tracking module owns them.
    pub tracking: AtomicU32,
    pub tracking_redir: AtomicI64,
    /// The client is in pub/sub mode (tracking redirections to RESP2 clients).
    pub pubsub: AtomicBool,
    /// The connection closed (a tracking redirection to it is broken).
    pub closed: AtomicBool,
}

impl Outbox {
    /// Queues bytes and wakes the connection.
    pub fn send(&self, bytes: &[u8]) {
        self.queue(bytes);
        self.notify.notify_one();
    }

    /// Queues bytes without waking the connection.
    pub fn queue(&self, bytes: &[u8]) {
        let mut p = self.pending.lock();
        p.extend_from_slice(bytes);
        self.pending_len.store(p.len(), Ordering::Release);
    }

    /// Takes the queued bytes to write them; they count as in flight until
    /// [`written`](Self::written).
    pub fn take_pending(&self) -> Vec<u8> {
        let mut p = self.pending.lock();
        let v = std::mem::take(&mut *p);
        self.pending_len.store(0, Ordering::Release);
        self.inflight.store(v.len(), Ordering::Release);
        v
    }

    /// The bytes taken by [`take_pending`](Self::take_pending) were written.
    pub fn written(&self) {
        self.inflight.store(0, Ordering::Release);
    }

    /// True when bytes are queued (a lock-free check).
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.pending_len.load(Ordering::Acquire) != 0
    }

    /// Output bytes not yet written: queued plus in flight.
    pub fn output_bytes(&self) -> usize {
        self.pending_len.load(Ordering::Acquire) + self.inflight.load(Ordering::Acquire)
    }

    /// Hands bytes read from this client's socket back to its connection.
    pub fn reinject(&self, bytes: &[u8]) {
        self.reinjected.lock().extend_from_slice(bytes);
        self.notify.notify_one();
    }

    /// Asks the connection to close.
    pub fn kill(&self) {
        self.kill.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Asks the connection to free its idle query buffer.
    pub fn request_shrink(&self) {
        self.shrink_qbuf.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Takes a pending shrink request.
    pub fn take_shrink_request(&self) -> bool {
        self.shrink_qbuf.swap(false, Ordering::AcqRel)
    }

    /// True while blocked on keys.
    pub fn is_blocked(&self) -> bool {
        self.blocked.load(Ordering::Acquire)
    }

    /// True while blocked on keys or held by CLIENT PAUSE (CLIENT LIST `b`).
    pub fn is_blocked_or_paused(&self) -> bool {
        self.is_blocked() || self.paused.load(Ordering::Acquire)
    }

    /// True once killed.
    pub fn is_killed(&self) -> bool {
        self.kill.load(Ordering::Acquire)
    }
}

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set by SKIP: the command now running has its reply dropped.
    SkipThis,
}

/// Where a client connected from.
#[derive(Debug, Clone)]
pub enum Peer {
    /// A TCP connection; `tls` when it came through the TLS port (its socket then
    /// carries TLS records, which only its connection task may read).
    Tcp {
        addr: SocketAddr,
        local: SocketAddr,
        tls: bool,
    },
    Unix {
        path: String,
    },
}

/// The kinds of client CLIENT LIST / KILL TYPE know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Normal,
    Replica,
    Master,
    PubSub,
}

/// One client's state.
/// A command name of at most [`CommandName::MAX`] bytes, kept inline.
#[derive(Debug, Clone, Copy)]
pub struct CommandName {
    len: u8,
    bytes: [u8; CommandName::MAX],
}

impl CommandName {
    /// The longest name kept (every command name of the table fits).
    pub const MAX: usize = 30;

    /// `name` if it is short enough.
    pub fn new(name: &[u8]) -> Option<Self> {
        let mut bytes = [0; Self::MAX];
        bytes.get_mut(..name.len())?.copy_from_slice(name);
        Some(CommandName {
            len: name.len() as u8,
            bytes,
        })
    }

    /// True if `name` is exactly these bytes.
    #[inline]
    pub fn is(&self, name: &[u8]) -> bool {
        self.len as usize == name.len() && self.bytes[..name.len()] == *name
    }
}

pub struct Client {
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// Index in the registry.
    pub slot: usize,
    /// Address information.
    pub peer: Peer,
    /// File descriptor number, for CLIENT LIST.
    pub fd: i64,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// CLIENT SETINFO lib-name / lib-ver.
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    /// Selected database.
    pub db: usize,
    /// Protocol spoken (HELLO).
    pub resp: ProtoVersion,
    /// True once AUTH succeeded (or no password is required).
    pub authenticated: bool,
    /// The ACL user the client is authenticated as (crate::acl).
    pub user: Arc<crate::acl::User>,
    /// CLIENT REPLY.
    pub reply_mode: ReplyMode,
    /// CLIENT NO-EVICT.
    pub no_evict: bool,
    /// CLIENT NO-TOUCH.
    pub no_touch: bool,
    /// MONITOR was issued.
    pub monitor: bool,
    /// Close after the pending replies are written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// Blocking commands may not block now (inside MULTI/EXEC or a script): they
    /// reply as on timeout instead (Redis's CLIENT_DENY_BLOCKING).
    pub deny_blocking: bool,
    /// Unix ms at connection.
    pub created_ms: i64,
    /// Unix ms of the last command.
    pub last_interaction_ms: i64,
    /// Full name of the last command run (`client|list`), for CLIENT LIST `cmd=`.
    pub last_cmd: &'static str,
    /// The last command name looked up, exactly as sent, and what it found: clients
    /// tend to send the same command again, and comparing a few bytes is cheaper than
    /// a case-folding table lookup.
    pub last_lookup: Option<(CommandName, &'static redis_commands::CommandSpec)>,
    /// Query buffer bytes and free space, reported by CLIENT LIST.
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Arguments' total size of the command being parsed, for CLIENT LIST.
    pub argv_mem: usize,
    /// Output bytes pending, reported by CLIENT LIST.
    pub obuf: usize,
    /// Reply buffer size and its peak use in the last batch (CLIENT LIST rbs/rbp).
    pub rbs: usize,
    pub rbp: usize,
    /// Commands processed.
    pub commands: u64,
    /// Bytes read from / written to the socket.
    pub net_in: u64,
    pub net_out: u64,
    /// Messages for this client from others.
    pub outbox: Arc<Outbox>,
    /// The transaction being queued (MULTI ... EXEC).
    pub multi: Option<Box<crate::cmd::multi::MultiState>>,
    /// WATCHed keys.
    pub watch: crate::cmd::multi::WatchState,
    /// Channels and patterns subscribed to (None: none, the usual case).
    pub subs: Option<Box<crate::pubsub::ClientSubs>>,
    /// EXEC is running this client's queued commands (Redis's CLIENT_MULTI
    /// during EXEC: SUBSCRIBE is allowed there though blocking is denied, and
    /// BGSAVE is scheduled).
    pub in_exec: bool,
    /// This is the fake client scripts run their commands as (Redis's CLIENT_SCRIPT).
    pub in_script: bool,
    /// Commands come from the AOF (or, later, the master): they were checked when first
    /// run, so limits meant for users are not applied again (Redis's mustObeyClient).
    pub must_obey: bool,
    /// Replication role and REPLCONF settings (None for ordinary clients).
    pub repl: Option<Box<crate::replication::ClientRepl>>,
    /// The replication offset right after this client's last propagated write
    /// (Redis's woff, what WAIT waits for).
    pub woff: i64,
}

impl Client {
    /// A fresh client with the defaults Redis gives new connections.
    pub fn new(id: u64, peer: Peer, fd: i64, now_ms: i64, authenticated: bool) -> Self {
        Client {
            id,
            slot: usize::MAX,
            peer,
            fd,
            name: None,
            lib_name: None,
            lib_ver: None,
            db: 0,
            resp: ProtoVersion::Resp2,
            authenticated,
            user: crate::acl::internal_user(),
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
            monitor: false,
            close_after_reply: false,
            deny_blocking: false,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            last_lookup: None,
            qbuf: 0,
            qbuf_free: 0,
            argv_mem: 0,
            obuf: 0,
            rbs: 16 * 1024,
            rbp: 0,
            commands: 0,
            net_in: 0,
            net_out: 0,
            outbox: Arc::new(Outbox::default()),
            multi: None,
            watch: Default::default(),
            subs: None,
            in_exec: false,
            in_script: false,
            must_obey: false,
            repl: None,
            woff: 0,
        }
    }

    /// `ip:port` of the peer (Redis prints `/path:0` for unix sockets).
    pub fn addr_string(&self) -> String {
        match &self.peer {
            Peer::Tcp { addr, .. } => addr.to_string(),
            Peer::Unix { path } => format!("{path}:0"),
        }
    }

    /// `ip:port` of our end.
    pub fn laddr_string(&self) -> String {
        match &self.peer {
            Peer::Tcp { local, .. } => local.to_string(),
            Peer::Unix { path } => format!("{path}:0"),
        }
    }

    /// The client's kind for CLIENT LIST / KILL TYPE.
    pub fn kind(&self) -> ClientKind {
        if let Some(r) = &self.repl {
            if r.is_master {
                return ClientKind::Master;
            }
            if r.is_replica {
                return ClientKind::Replica;
            }
        }
        if self.subs.is_some() {
            ClientKind::PubSub
        } else {
            ClientKind::Normal
        }
    }

    /// In pub/sub mode (Redis's CLIENT_PUBSUB): subscribed to something.
    #[inline]
    pub fn is_pubsub(&self) -> bool {
        self.subs.is_some()
    }

    /// Switches protocol (HELLO, RESET).
    pub fn set_resp(&mut self, resp: ProtoVersion) {
        self.resp = resp;
        self.outbox
            .resp3
            .store(resp == ProtoVersion::Resp3, Ordering::Release);
    }

    /// True when connected through the unix socket.
    pub fn is_unix(&self) -> bool {
        matches!(self.peer, Peer::Unix { .. })
    }
}

/// Every connected client, by registry slot.
#[derive(Default)]
pub struct ClientRegistry {
    slots: Vec<Option<Box<Client>>>,
    /// Slots whose client is out executing (taken) — still counted as connected.
    taken: Vec<bool>,
    free: Vec<usize>,
    count: usize,
    next_id: u64,
}

impl ClientRegistry {
    /// An empty registry; ids start at 1 as in Redis... plus what others used.
    pub fn new() -> Self {
        ClientRegistry {
            next_id: 1,
            ..Default::default()
        }
    }

    /// Allocates the next client id.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no client is connected.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Registers a client; returns its slot.
    pub fn add(&mut self, mut c: Client) -> usize {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.taken.push(false);
            self.slots.len() - 1
        });
        c.slot = slot;
        self.slots[slot] = Some(Box::new(c));
        self.count += 1;
        slot
    }

    /// Removes the client at `slot` (the connection closed).
    pub fn remove(&mut self, slot: usize) -> Option<Box<Client>> {
        let c = self.slots.get_mut(slot)?.take();
        if c.is_some() || self.taken[slot] {
            self.taken[slot] = false;
            self.count -= 1;
            self.free.push(slot);
        }
        c
    }

    /// Takes the client out to execute commands; [`put`](Self::put) brings it back.
    pub fn take(&mut self, slot: usize) -> Box<Client> {
        let c = self.slots[slot].take().expect("client present");
        self.taken[slot] = true;
        c
    }

    /// Returns a client taken with [`take`](Self::take).
    pub fn put(&mut self, c: Box<Client>) {
        let slot = c.slot;
        self.taken[slot] = false;
        self.slots[slot] = Some(c);
    }

    /// The client at `slot`, unless it is out executing.
    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Client> {
        self.slots.get_mut(slot)?.as_deref_mut()
    }

    /// Clients present in the registry (not the ones out executing).
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().filter_map(|c| c.as_deref())
    }

    /// Mutable access to every client present in the registry.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.slots.iter_mut().filter_map(|c| c.as_deref_mut())
    }
}
