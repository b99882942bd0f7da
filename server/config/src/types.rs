//! The typed configuration the server reads, and the enumerations of Redis 7.0's
//! enum parameters.

use std::path::PathBuf;

/// Declares a config enumeration: its variants, and the names Redis accepts for them
/// in Redis's order (which is the order of the "must be one of" error text; a variant
/// may have several names, and the first one is what CONFIG GET prints).
macro_rules! cfg_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident),+ $(,)? } names [ $($s:literal => $v:ident),+ $(,)? ]) => {
        $(#[$m])*
        /// Variants are ordered as Redis lists them (for `LogLevel`, most verbose first,
        /// so `level >= config.loglevel` selects what to log).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($var),+ }
        impl $name {
            /// Accepted names, in Redis's order.
            pub const NAMES: &'static [(&'static str, $name)] = &[$(($s, $name::$v)),+];
            pub(crate) const CODES: &'static [(&'static str, i32)] = &[$(($s, $name::$v as i32)),+];
            const ALL: &'static [$name] = &[$($name::$var),+];
            pub(crate) fn from_code(c: i32) -> Self {
                Self::ALL[c as usize]
            }
            /// The name CONFIG GET prints for this value.
            pub fn name(self) -> &'static str {
                Self::NAMES.iter().find(|(_, v)| *v == self).map(|(s, _)| *s).unwrap_or("unknown")
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }
    };
}

cfg_enum!(
    /// `maxmemory-policy`.
    MaxmemoryPolicy { VolatileLru, VolatileLfu, VolatileRandom, VolatileTtl, AllkeysLru, AllkeysLfu, AllkeysRandom, NoEviction }
    names [
        "volatile-lru" => VolatileLru, "volatile-lfu" => VolatileLfu,
        "volatile-random" => VolatileRandom, "volatile-ttl" => VolatileTtl,
        "allkeys-lru" => AllkeysLru, "allkeys-lfu" => AllkeysLfu,
        "allkeys-random" => AllkeysRandom, "noeviction" => NoEviction,
    ]
);

cfg_enum!(
    /// `syslog-facility`.
    SyslogFacility { User, Local0, Local1, Local2, Local3, Local4, Local5, Local6, Local7 }
    names [
        "user" => User, "local0" => Local0, "local1" => Local1, "local2" => Local2,
        "local3" => Local3, "local4" => Local4, "local5" => Local5, "local6" => Local6,
        "local7" => Local7,
    ]
);

cfg_enum!(
    /// `loglevel`, most verbose first.
    LogLevel { Debug, Verbose, Notice, Warning }
    names [ "debug" => Debug, "verbose" => Verbose, "notice" => Notice, "warning" => Warning ]
);

cfg_enum!(
    /// `supervised`.
    Supervised { Upstart, Systemd, Auto, No }
    names [ "upstart" => Upstart, "systemd" => Systemd, "auto" => Auto, "no" => No ]
);

cfg_enum!(
    /// `appendfsync`.
    AppendFsync { Everysec, Always, No }
    names [ "everysec" => Everysec, "always" => Always, "no" => No ]
);

cfg_enum!(
    /// `repl-diskless-load`.
    ReplDisklessLoad { Disabled, OnEmptyDb, Swapdb }
    names [ "disabled" => Disabled, "on-empty-db" => OnEmptyDb, "swapdb" => Swapdb ]
);

cfg_enum!(
    /// `tls-auth-clients`.
    TlsAuthClients { No, Yes, Optional }
    names [ "no" => No, "yes" => Yes, "optional" => Optional ]
);

cfg_enum!(
    /// `oom-score-adj` (`yes` is a synonym of `relative`, and is what CONFIG GET prints).
    OomScoreAdj { No, Relative, Absolute }
    names [ "no" => No, "yes" => Relative, "relative" => Relative, "absolute" => Absolute ]
);

cfg_enum!(
    /// `acl-pubsub-default`.
    AclPubsubDefault { ResetChannels, AllChannels }
    names [ "allchannels" => AllChannels, "resetchannels" => ResetChannels ]
);

cfg_enum!(
    /// `sanitize-dump-payload`.
    SanitizeDumpPayload { No, Yes, Clients }
    names [ "no" => No, "yes" => Yes, "clients" => Clients ]
);

cfg_enum!(
    /// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`.
    ProtectedAction { No, Yes, Local }
    names [ "no" => No, "yes" => Yes, "local" => Local ]
);

cfg_enum!(
    /// `cluster-preferred-endpoint-type`.
    ClusterEndpointType { Ip, Hostname, UnknownEndpoint }
    names [ "ip" => Ip, "hostname" => Hostname, "unknown-endpoint" => UnknownEndpoint ]
);

cfg_enum!(
    /// `propagation-error-behavior`.
    PropagationErrorBehavior { Ignore, Panic, PanicOnReplicas }
    names [ "ignore" => Ignore, "panic" => Panic, "panic-on-replicas" => PanicOnReplicas ]
);

impl ProtectedAction {
    /// Whether a client may use the protected thing (`local` = only from loopback or a
    /// unix socket).
    pub fn allows(self, local_client: bool) -> bool {
        match self {
            ProtectedAction::Yes => true,
            ProtectedAction::Local => local_client,
            ProtectedAction::No => false,
        }
    }
}

/// Flags of `shutdown-on-sigint` / `shutdown-on-sigterm` (0 = `default`).
pub mod shutdown_flags {
    /// `save`
    pub const SAVE: u32 = 1;
    /// `nosave`
    pub const NOSAVE: u32 = 2;
    /// `now`
    pub const NOW: u32 = 4;
    /// `force`
    pub const FORCE: u32 = 8;
    pub(crate) const NAMES: &[(&str, i32)] = &[
        ("default", 0),
        ("save", SAVE as i32),
        ("nosave", NOSAVE as i32),
        ("now", NOW as i32),
        ("force", FORCE as i32),
    ];
}

/// Keyspace notification classes of `notify-keyspace-events` (Redis's bit values).
pub mod notify {
    /// K
    pub const KEYSPACE: u32 = 1 << 0;
    /// E
    pub const KEYEVENT: u32 = 1 << 1;
    /// g
    pub const GENERIC: u32 = 1 << 2;
    /// $
    pub const STRING: u32 = 1 << 3;
    /// l
    pub const LIST: u32 = 1 << 4;
    /// s
    pub const SET: u32 = 1 << 5;
    /// h
    pub const HASH: u32 = 1 << 6;
    /// z
    pub const ZSET: u32 = 1 << 7;
    /// x
    pub const EXPIRED: u32 = 1 << 8;
    /// e
    pub const EVICTED: u32 = 1 << 9;
    /// t
    pub const STREAM: u32 = 1 << 10;
    /// m (not part of A)
    pub const KEY_MISS: u32 = 1 << 11;
    /// d
    pub const MODULE: u32 = 1 << 13;
    /// n (not part of A)
    pub const NEW: u32 = 1 << 14;
    /// A
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// One class of `client-output-buffer-limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    /// Hard limit in bytes (0 = none).
    pub hard_bytes: u64,
    /// Soft limit in bytes (0 = none).
    pub soft_bytes: u64,
    /// Seconds the soft limit may be exceeded.
    pub soft_seconds: i64,
}

/// Client classes of `client-output-buffer-limit`, in Redis's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientClass {
    /// `normal`
    Normal = 0,
    /// `slave` / `replica`
    Replica = 1,
    /// `pubsub`
    Pubsub = 2,
}

/// Declares the `Config` struct; every field type has a `Default` so a blank value
/// can be built, which `Config::default()` then fills with Redis's defaults.
macro_rules! config_struct {
    ($( $(#[$m:meta])* $f:ident : $t:ty ),* $(,)?) => {
        /// Every Redis 7.0 configuration parameter as a typed field. Field names are
        /// the parameter names with `-` turned into `_`. `Config::default()` holds
        /// Redis 7.0.15's defaults (with `dir` = the current directory).
        #[derive(Clone, Debug, PartialEq)]
        pub struct Config { $( $(#[$m])* pub $f: $t ),* }
        impl Config {
            pub(crate) fn blank() -> Self {
                Config { $($f: Default::default()),* }
            }
        }
    };
}

config_struct! {
    // ---- yes/no parameters ----
    rdbchecksum: bool, daemonize: bool, io_threads_do_reads: bool, always_show_logo: bool,
    protected_mode: bool, rdbcompression: bool, rdb_del_sync_files: bool, activerehashing: bool,
    stop_writes_on_bgsave_error: bool, set_proc_title: bool, dynamic_hz: bool,
    lazyfree_lazy_eviction: bool, lazyfree_lazy_expire: bool, lazyfree_lazy_server_del: bool,
    lazyfree_lazy_user_del: bool, lazyfree_lazy_user_flush: bool, repl_disable_tcp_nodelay: bool,
    repl_diskless_sync: bool, aof_rewrite_incremental_fsync: bool, no_appendfsync_on_rewrite: bool,
    cluster_require_full_coverage: bool, rdb_save_incremental_fsync: bool, aof_load_truncated: bool,
    aof_use_rdb_preamble: bool, aof_timestamp_enabled: bool, cluster_replica_no_failover: bool,
    replica_lazy_flush: bool, replica_serve_stale_data: bool, replica_read_only: bool,
    replica_ignore_maxmemory: bool, jemalloc_bg_thread: bool, activedefrag: bool,
    syslog_enabled: bool, cluster_enabled: bool, appendonly: bool,
    cluster_allow_reads_when_down: bool, cluster_allow_pubsubshard_when_down: bool,
    crash_log_enabled: bool, crash_memcheck_enabled: bool, use_exit_on_panic: bool,
    disable_thp: bool, cluster_allow_replica_migration: bool, replica_announced: bool,
    latency_tracking: bool, aof_disable_auto_gc: bool, replica_ignore_disk_write_errors: bool,
    tls_cluster: bool, tls_replication: bool, tls_prefer_server_ciphers: bool,
    tls_session_caching: bool,

    // ---- strings (None = unset; Redis prints "") ----
    aclfile: Vec<u8>, unixsocket: Option<Vec<u8>>, pidfile: Option<Vec<u8>>,
    replica_announce_ip: Option<Vec<u8>>, masteruser: Option<Vec<u8>>,
    cluster_announce_ip: Option<Vec<u8>>, cluster_config_file: Vec<u8>,
    cluster_announce_hostname: Option<Vec<u8>>, syslog_ident: Vec<u8>, dbfilename: Vec<u8>,
    appendfilename: Vec<u8>, appenddirname: Vec<u8>, server_cpulist: Option<Vec<u8>>,
    bio_cpulist: Option<Vec<u8>>, aof_rewrite_cpulist: Option<Vec<u8>>,
    bgsave_cpulist: Option<Vec<u8>>, ignore_warnings: Vec<u8>, proc_title_template: Vec<u8>,
    bind_source_addr: Option<Vec<u8>>, logfile: Vec<u8>, masterauth: Option<Vec<u8>>,
    requirepass: Option<Vec<u8>>,
    tls_cert_file: Option<Vec<u8>>, tls_key_file: Option<Vec<u8>>,
    tls_key_file_pass: Option<Vec<u8>>, tls_client_cert_file: Option<Vec<u8>>,
    tls_client_key_file: Option<Vec<u8>>, tls_client_key_file_pass: Option<Vec<u8>>,
    tls_dh_params_file: Option<Vec<u8>>, tls_ca_cert_file: Option<Vec<u8>>,
    tls_ca_cert_dir: Option<Vec<u8>>, tls_protocols: Option<Vec<u8>>,
    tls_ciphers: Option<Vec<u8>>, tls_ciphersuites: Option<Vec<u8>>,

    // ---- enums ----
    supervised: Supervised, syslog_facility: SyslogFacility, repl_diskless_load: ReplDisklessLoad,
    loglevel: LogLevel, maxmemory_policy: MaxmemoryPolicy, appendfsync: AppendFsync,
    oom_score_adj: OomScoreAdj, acl_pubsub_default: AclPubsubDefault,
    sanitize_dump_payload: SanitizeDumpPayload, enable_protected_configs: ProtectedAction,
    enable_debug_command: ProtectedAction, enable_module_command: ProtectedAction,
    cluster_preferred_endpoint_type: ClusterEndpointType,
    propagation_error_behavior: PropagationErrorBehavior,
    /// Bits of [`shutdown_flags`].
    shutdown_on_sigint: u32,
    /// Bits of [`shutdown_flags`].
    shutdown_on_sigterm: u32,
    tls_auth_clients: TlsAuthClients,

    // ---- integers ----
    databases: usize, port: u16, io_threads: u32, auto_aof_rewrite_percentage: u32,
    cluster_replica_validity_factor: u32, list_max_listpack_size: i32, tcp_keepalive: u32,
    cluster_migration_barrier: u32, active_defrag_cycle_min: u32, active_defrag_cycle_max: u32,
    active_defrag_threshold_lower: u32, active_defrag_threshold_upper: u32, lfu_log_factor: u32,
    lfu_decay_time: u32, replica_priority: u32, repl_diskless_sync_delay: u32,
    maxmemory_samples: u32, maxmemory_eviction_tenacity: u32,
    /// Seconds.
    timeout: u64,
    replica_announce_port: u16, tcp_backlog: u32, cluster_port: u16,
    cluster_announce_bus_port: u16, cluster_announce_port: u16, cluster_announce_tls_port: u16,
    repl_timeout: u32, repl_ping_replica_period: u32, list_compress_depth: u32,
    rdb_key_save_delay: i32, key_load_delay: i32, active_expire_effort: u32,
    /// Already clamped to 1..=500 as Redis does after loading and after CONFIG SET.
    hz: u32,
    min_replicas_to_write: u32, min_replicas_max_lag: u32, watchdog_period: u32,
    shutdown_timeout: u32, repl_diskless_sync_max_replicas: u32,
    maxclients: u32, unixsocketperm: u32, socket_mark_id: u32,
    active_defrag_max_scan_fields: u64, slowlog_max_len: u64, acllog_max_len: u64,
    busy_reply_threshold: i64, cluster_node_timeout: i64, slowlog_log_slower_than: i64,
    latency_monitor_threshold: i64, proto_max_bulk_len: i64, stream_node_max_entries: i64,
    repl_backlog_size: i64,
    /// Bytes, 0 = no limit.
    maxmemory: u64,
    cluster_link_sendbuf_limit: u64,
    hash_max_listpack_entries: usize, set_max_intset_entries: usize,
    zset_max_listpack_entries: usize, active_defrag_ignore_bytes: usize,
    hash_max_listpack_value: usize, stream_node_max_bytes: usize, zset_max_listpack_value: usize,
    hll_sparse_max_bytes: usize, tracking_table_max_keys: usize,
    client_query_buffer_limit: usize,
    /// Bytes when >= 0; a negative value -N means N percent of maxmemory (as Redis stores it).
    maxmemory_clients: i64,
    repl_backlog_ttl: i64, auto_aof_rewrite_min_size: i64,
    loading_process_events_interval_bytes: i64,
    tls_port: u16, tls_session_cache_size: u32, tls_session_cache_timeout: u32,

    // ---- special ----
    /// The working directory (absolute); setting it changes the process's directory.
    dir: PathBuf,
    /// `save` points: (seconds, changes).
    save: Vec<(u64, i32)>,
    /// Indexed by [`ClientClass`].
    client_output_buffer_limit: [OutputBufferLimit; 3],
    /// master, replica, bgchild.
    oom_score_adj_values: [i32; 3],
    /// Bits of [`notify`].
    notify_keyspace_events: u32,
    /// Addresses to listen on (empty = none, i.e. no TCP listener unless unixsocket).
    bind: Vec<Vec<u8>>,
    /// (host, port) of the master, None for a master.
    replicaof: Option<(Vec<u8>, i32)>,
    latency_tracking_info_percentiles: Vec<f64>,
}
