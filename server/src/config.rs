//! Configuration in force. (Interim: the full registry of Redis's parameters arrives
//! with the redis-server-config crate; this keeps the fields the core reads.)

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

impl MaxmemoryPolicy {
    /// The policy named as in redis.conf (`allkeys-lru`...).
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "volatile-lru" => Self::VolatileLru,
            "volatile-lfu" => Self::VolatileLfu,
            "volatile-random" => Self::VolatileRandom,
            "volatile-ttl" => Self::VolatileTtl,
            "allkeys-lru" => Self::AllkeysLru,
            "allkeys-lfu" => Self::AllkeysLfu,
            "allkeys-random" => Self::AllkeysRandom,
            "noeviction" => Self::NoEviction,
            _ => return None,
        })
    }
}

/// `enable-debug-command` / `enable-module-command`: who may run the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAction {
    No,
    Yes,
    /// Only clients on a unix socket or from 127.0.0.1 / ::1.
    Local,
}

/// The parameters the server reads.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub unixsocket: Option<String>,
    pub unixsocketperm: u32,
    pub tcp_backlog: u32,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub maxclients: u64,
    pub databases: usize,
    pub requirepass: Option<Vec<u8>>,
    pub protected_mode: bool,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: u64,
    pub hz: u32,
    pub maxmemory: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: i64,
    pub latency_monitor_threshold: i64,
    pub latency_tracking: bool,
    pub active_expire_effort: u32,
    pub lazyfree_lazy_user_flush: bool,
    pub enable_debug_command: ProtectedAction,
    pub loglevel: String,
    pub logfile: String,
    pub pidfile: Option<String>,
    pub daemonize: bool,
    pub dir: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            unixsocket: None,
            unixsocketperm: 0,
            tcp_backlog: 511,
            timeout: 0,
            tcp_keepalive: 300,
            maxclients: 10000,
            databases: 16,
            requirepass: None,
            protected_mode: true,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            hz: 10,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            active_expire_effort: 1,
            lazyfree_lazy_user_flush: false,
            enable_debug_command: ProtectedAction::No,
            loglevel: "notice".into(),
            logfile: String::new(),
            pidfile: None,
            daemonize: false,
            dir: ".".into(),
        }
    }
}
