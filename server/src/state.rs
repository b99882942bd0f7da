//! The server's state: everything commands read and write, behind one lock.
//!
//! `Shared` is what every connection task holds (an `Arc`). Its `state` mutex guards
//! the `Server`: keyspace, clients, configuration, statistics. A connection takes the
//! lock once per batch of pipelined commands, runs them all, and releases it before
//! writing the replies, so parsing, encoding and socket I/O stay outside the lock and
//! can run on other cores. See docs/ARCHITECTURE.md.

use crate::client::{ClientRegistry, Outbox};
use crate::config::Config;
use crate::introspection::{LatencyMonitor, SlowLog};
use crate::keyspace::Keyspace;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix time in microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Counters INFO stats reports.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Keys loaded and skipped as expired by the last RDB load.
    pub rdb_last_load_keys_loaded: u64,
    pub rdb_last_load_keys_expired: u64,
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub rejected_connections: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_milliseconds: u64,
    pub evicted_keys: u64,
    pub evicted_clients: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub client_qbuf_limit_disconnections: u64,
    pub client_outbuf_limit_disconnections: u64,
    pub io_threaded_reads_processed: u64,
    pub io_threaded_writes_processed: u64,
    pub dump_payload_sanitizations: u64,
    pub total_eviction_exceeded_time_ms: u64,
    pub instantaneous_ops: f64,
}

/// Per-command counters (INFO commandstats, latencystats).
#[derive(Debug, Default, Clone)]
pub struct CommandStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
    /// Latencies of the calls, for INFO latencystats percentiles.
    pub latency: Option<Box<hdrhistogram::Histogram<u64>>>,
}

/// Error counts by prefix (INFO errorstats).
pub type ErrorStats = std::collections::BTreeMap<String, u64>;

/// CLIENT PAUSE state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseKind {
    /// Only write commands wait.
    Write,
    /// Every command waits.
    All,
}

/// Everything behind the lock. See the module docs.
pub struct Server {
    /// Configuration in force.
    pub config: Config,
    /// Path of the config file the server started with (CONFIG REWRITE), if any.
    pub config_file: Option<std::path::PathBuf>,
    /// The databases.
    pub keyspace: Keyspace,
    /// Connected clients.
    pub clients: ClientRegistry,
    /// INFO stats counters.
    pub stats: Stats,
    /// Per-command counters, by command id.
    pub command_stats: Vec<CommandStats>,
    /// Error reply counts by their first word.
    pub error_stats: ErrorStats,
    /// SLOWLOG entries.
    pub slowlog: SlowLog,
    /// LATENCY events.
    pub latency: LatencyMonitor,
    /// ACL users and the ACL LOG (crate::acl).
    pub acl: crate::acl::Acl,
    /// Clients in MONITOR mode.
    pub monitors: Vec<(u64, Arc<Outbox>)>,
    /// Changes since the last save (INFO rdb_changes_since_last_save).
    pub dirty: u64,
    /// Unix ms of the last successful save (LASTSAVE; the start time before any).
    pub last_save_ms: i64,
    /// Whether the last save succeeded (INFO rdb_last_bgsave_status).
    pub last_bgsave_ok: bool,
    /// Saves started (INFO rdb_saves).
    pub rdb_saves: u64,
    /// The BGSAVE child and its counters.
    pub bgsave: crate::bgsave::BgsaveState,
    /// LRU clock in seconds, 24 bits, refreshed by the cron.
    pub lru_clock: u32,
    /// When the server started (unix ms and monotonic).
    pub start_ms: i64,
    pub start_instant: Instant,
    /// A wall-clock reading and the monotonic instant it was taken at, refreshed by the
    /// cron: commands derive unix time from the one monotonic reading they take anyway
    /// (see [`Server::wall_ms`]), so a command costs two clock reads, as in Redis.
    pub clock_base: (i64, Instant),
    /// CLIENT PAUSE until this unix ms, and what it pauses.
    pub pause: Option<(PauseKind, i64)>,
    /// The signal (SIGTERM, SIGINT) that asked for a shutdown the cron has not done
    /// yet (`crate::startup::cron_shutdown`).
    pub shutdown_signal: Option<i32>,
    /// The ports we listen on (reported by INFO).
    pub tcp_port: u16,
    /// The TLS contexts, once TLS is configured (`crate::tls`).
    pub tls: Option<Arc<crate::tls::TlsContexts>>,
    /// `run_id` of INFO server.
    pub run_id: String,
    /// Whether the active expire cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire_enabled: bool,
    /// Peak of used memory.
    pub peak_memory: u64,
    /// maxmemory eviction candidates, kept across runs (Redis's eviction pool).
    pub evict_pool: crate::evict::EvictionPool,
    /// Database where random eviction looks first next time (rotates).
    pub evict_next_db: usize,
    /// Memory in use once the server was set up (INFO used_memory_startup).
    pub startup_memory: u64,
    /// Connected clients that are blocked (INFO clients).
    pub blocked_clients: usize,
    /// WATCHed keys and the clients watching them (`cmd::multi`).
    pub watched_keys: crate::cmd::multi::WatchIndex,
    /// Client-side caching (CLIENT TRACKING).
    pub tracking: crate::tracking::Tracking,
    /// Clients blocked on keys and what they wait to do.
    pub blocking: crate::blocking::Blocking,
    /// `rename-command` renames: original name to new name (`""`: disabled).
    pub renames: std::collections::HashMap<Vec<u8>, Vec<u8>>,
    /// Ops per second samples for instantaneous_ops_per_sec.
    pub ops_samples: crate::introspection::RateSampler,
    pub net_in_samples: crate::introspection::RateSampler,
    pub net_out_samples: crate::introspection::RateSampler,
    /// Pub/Sub subscriptions and keyspace-notification settings.
    pub pubsub: crate::pubsub::PubSub,
    /// Commands waiting to be propagated (`crate::propagate`).
    pub prop: crate::propagate::Propagation,
    /// The append-only file.
    pub aof: crate::aof::AofState,
    /// Replication: ids, offsets, backlog, replicas, the link to our master.
    pub repl: crate::replication::ReplState,
    /// The Lua interpreter and script cache (created on first use; out of the
    /// server while a script runs).
    pub lua: Option<Box<crate::scripting::Engine>>,
    /// Function libraries (FUNCTION LOAD, FCALL) and their interpreter.
    pub functions: crate::scripting::functions::Functions,
    /// maxmemory was exceeded (nothing could be evicted) before the command now
    /// running (Redis's pre_command_oom_state, which scripts check).
    pub oom_before_command: bool,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call `noscript` commands.
    pub script_disable_deny: bool,
    /// The error the command now running returns was counted in the error stats
    /// already (a script's error that came from a command it called).
    pub skip_error_stats: bool,
}

/// What every connection task holds.
pub struct Shared {
    /// The server state.
    pub state: Mutex<Server>,
    /// Wakes clients waiting on CLIENT PAUSE.
    pub unpause: Notify,
    /// The TCP accept tasks (replaced by CONFIG SET port/bind).
    pub listeners: Mutex<Option<crate::startup::Listeners>>,
}

impl Server {
    /// A server in its initial state for `config`.
    pub fn new(config: Config) -> Self {
        let databases = config.databases;
        let now = now_ms();
        let run_id: String = (0..40)
            .map(|_| char::from_digit(fastrand::u32(..16), 16).expect("hex digit"))
            .collect();
        let slowlog_max = config.slowlog_max_len as usize;
        let mut srv = Server {
            config,
            config_file: None,
            keyspace: Keyspace::new(databases),
            clients: ClientRegistry::new(),
            stats: Stats::default(),
            command_stats: vec![CommandStats::default(); redis_commands::table().len_all()],
            error_stats: ErrorStats::new(),
            slowlog: SlowLog::new(slowlog_max),
            latency: LatencyMonitor::default(),
            acl: crate::acl::Acl::default(),
            monitors: Vec::new(),
            dirty: 0,
            last_save_ms: now,
            last_bgsave_ok: true,
            rdb_saves: 0,
            bgsave: crate::bgsave::BgsaveState::new(),
            lru_clock: lru_clock_now(),
            start_ms: now,
            start_instant: Instant::now(),
            clock_base: (now, Instant::now()),
            pause: None,
            shutdown_signal: None,
            tcp_port: 0,
            tls: None,
            run_id,
            active_expire_enabled: true,
            peak_memory: 0,
            evict_pool: Default::default(),
            evict_next_db: 0,
            startup_memory: crate::alloc::used_memory(),
            blocked_clients: 0,
            watched_keys: Default::default(),
            tracking: Default::default(),
            blocking: Default::default(),
            renames: Default::default(),
            ops_samples: Default::default(),
            net_in_samples: Default::default(),
            net_out_samples: Default::default(),
            pubsub: Default::default(),
            prop: Default::default(),
            aof: Default::default(),
            repl: Default::default(),
            lua: None,
            functions: Default::default(),
            oom_before_command: false,
            script_disable_deny: false,
            skip_error_stats: false,
        };
        srv.apply_notify_config();
        let pass = srv.config.requirepass.clone();
        srv.acl.update_default_password(pass.as_deref());
        srv
    }
}

impl Server {
    /// Unix ms at the monotonic instant `at` (from the cron's last wall-clock reading).
    #[inline]
    pub fn wall_ms(&self, at: Instant) -> i64 {
        let (wall, base) = self.clock_base;
        wall + at.saturating_duration_since(base).as_millis() as i64
    }

    /// Takes a fresh wall-clock reading (the cron calls it every tick).
    pub fn refresh_clock(&mut self) {
        self.clock_base = (now_ms(), Instant::now());
    }

    /// CONFIG RESETSTAT: zeroes the counters INFO reports.
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
        for c in self.command_stats.iter_mut() {
            *c = CommandStats::default();
        }
        self.error_stats.clear();
        for db in self.keyspace.dbs.iter_mut() {
            db.expired_keys = 0;
        }
        self.peak_memory = crate::alloc::used_memory();
        self.ops_samples = Default::default();
        self.net_in_samples = Default::default();
        self.net_out_samples = Default::default();
    }
}

/// The `Arc` owning `shared` (every `Shared` lives in one, made at start-up).
pub fn shared_arc(shared: &Shared) -> Arc<Shared> {
    SHARED
        .get()
        .filter(|a| std::ptr::eq(a.as_ref(), shared))
        .cloned()
        .expect("the server's Shared")
}

/// The process's one `Shared`, registered at start-up.
pub static SHARED: std::sync::OnceLock<Arc<Shared>> = std::sync::OnceLock::new();

/// Redis's LRU clock: seconds, wrapping at 24 bits.
pub fn lru_clock_now() -> u32 {
    ((now_ms() / 1000) as u32) & ((1 << 24) - 1)
}
