//! The declarative table of every Redis 7.0.15 parameter: name, alias, flags, type with
//! bounds, default, and the `Config` field it reads and writes.

use crate::types::*;

/// Parameter flags (Redis's config flags that matter outside config.c).
pub mod flags {
    /// Cannot be changed with CONFIG SET ("can't set immutable config").
    pub const IMMUTABLE: u32 = 1 << 0;
    /// The value is redacted from slowlog/monitor/etc. when set.
    pub const SENSITIVE: u32 = 1 << 1;
    /// Not matched by CONFIG GET globs (an exact name still works).
    pub const HIDDEN: u32 = 1 << 2;
    /// CONFIG SET needs `enable-protected-configs` ("can't set protected config").
    pub const PROTECTED: u32 = 1 << 3;
    /// CONFIG SET refused with -LOADING while the dataset is loading.
    pub const DENY_LOADING: u32 = 1 << 4;
    /// Shown by DEBUG's config dump.
    pub const DEBUG: u32 = 1 << 5;
    /// Takes several arguments (space separated in CONFIG SET).
    pub const MULTI_ARG: u32 = 1 << 6;
    /// Setting it always counts as a change, even to the same value (TLS files).
    pub const VOLATILE: u32 = 1 << 7;
}
use flags::*;

/// How a numeric parameter is written and read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NumFmt {
    Int,
    Memory,
    /// Memory, or `N%` stored as -N.
    MemoryPercent,
    Octal,
}

type Check<T> = Option<fn(T) -> Result<(), &'static str>>;
type StrCheck = Option<fn(&Config, &[u8]) -> Result<(), &'static str>>;

pub(crate) enum Kind {
    Bool {
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        default: bool,
        check: Check<bool>,
    },
    Num {
        get: fn(&Config) -> i128,
        set: fn(&mut Config, i128),
        min: i128,
        max: i128,
        default: i128,
        fmt: NumFmt,
        /// Bounds are checked on the value read as unsigned (Redis's unsigned int,
        /// unsigned long long and size_t parameters).
        unsigned: bool,
    },
    Enum {
        get: fn(&Config) -> i32,
        set: fn(&mut Config, i32),
        names: &'static [(&'static str, i32)],
        default: i32,
        check: Check<i32>,
    },
    Str {
        get: for<'a> fn(&'a Config) -> Option<&'a [u8]>,
        set: fn(&mut Config, Option<Vec<u8>>),
        default: Option<&'static str>,
        empty_is_null: bool,
        /// Binary safe (an sds in Redis); other strings stop at a NUL byte.
        binary: bool,
        check: StrCheck,
    },
    Special(Special),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    ReplicaOf,
    LatencyPercentiles,
}

pub(crate) struct ParamDef {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u32,
    pub kind: Kind,
}

const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;
const MB: i128 = 1024 * 1024;

macro_rules! opt {
    () => {
        None
    };
    ($e:expr) => {
        Some($e)
    };
}

macro_rules! b {
    ($n:literal, $a:expr, $fl:expr, $f:ident, $d:expr $(, $chk:expr)?) => {
        ParamDef { name: $n, alias: $a, flags: $fl, kind: Kind::Bool {
            get: |c| c.$f, set: |c, v| c.$f = v, default: $d, check: opt!($($chk)?) } }
    };
}

macro_rules! n {
    ($n:literal, $a:expr, $fl:expr, $min:expr, $max:expr, $f:ident : $t:ty, $d:expr, $fmt:ident, $uns:literal) => {
        ParamDef {
            name: $n,
            alias: $a,
            flags: $fl,
            kind: Kind::Num {
                get: |c| c.$f as i128,
                set: |c, v| c.$f = v as $t,
                min: $min,
                max: $max,
                default: $d,
                fmt: NumFmt::$fmt,
                unsigned: $uns,
            },
        }
    };
}

macro_rules! e {
    ($n:literal, $a:expr, $fl:expr, $f:ident : $t:ident, $d:ident $(, $chk:expr)?) => {
        ParamDef { name: $n, alias: $a, flags: $fl, kind: Kind::Enum {
            get: |c| c.$f as i32, set: |c, v| c.$f = $t::from_code(v), names: $t::CODES,
            default: $t::$d as i32, check: opt!($($chk)?) } }
    };
}

/// A string that may be unset (empty means unset).
macro_rules! so {
    ($n:literal, $a:expr, $fl:expr, $f:ident, $bin:literal $(, $chk:expr)?) => {
        ParamDef { name: $n, alias: $a, flags: $fl, kind: Kind::Str {
            get: |c| c.$f.as_deref(), set: |c, v| c.$f = v, default: None,
            empty_is_null: true, binary: $bin, check: opt!($($chk)?) } }
    };
}

/// A string that is always set (may be empty).
macro_rules! sr {
    ($n:literal, $a:expr, $fl:expr, $f:ident, $d:literal $(, $chk:expr)?) => {
        ParamDef { name: $n, alias: $a, flags: $fl, kind: Kind::Str {
            get: |c| Some(&c.$f[..]), set: |c, v| c.$f = v.unwrap_or_default(), default: Some($d),
            empty_is_null: false, binary: false, check: opt!($($chk)?) } }
    };
}

macro_rules! sp {
    ($n:literal, $a:expr, $fl:expr, $k:ident) => {
        ParamDef {
            name: $n,
            alias: $a,
            flags: $fl,
            kind: Kind::Special(Special::$k),
        }
    };
}

const M: u32 = 0; // modifiable
const I: u32 = IMMUTABLE;
const D: u32 = DEBUG;
const H: u32 = HIDDEN;

fn check_activedefrag(v: bool) -> Result<(), &'static str> {
    // Like Debian's build (no defrag-capable jemalloc): enabling is refused.
    if v {
        Err(
            "Active defragmentation cannot be enabled: it requires a Redis server compiled \
             with a modified Jemalloc like the one shipped by default with the Redis source \
             distribution",
        )
    } else {
        Ok(())
    }
}

fn is_base_name(v: &[u8]) -> bool {
    !v.contains(&b'/') && !v.contains(&b'\\')
}

fn check_dbfilename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if is_base_name(v) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn check_appendfilename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appendfilename can't be empty")
    } else if !is_base_name(v) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn check_appenddirname(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        Err("appenddirname can't be empty")
    } else if !is_base_name(v) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

fn check_hostname(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if v.iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
    {
        Ok(())
    } else {
        Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
    }
}

fn check_proc_title(c: &Config, v: &[u8]) -> Result<(), &'static str> {
    const ERR: &str = "template format is invalid or contains unknown variables";
    // Expand the template the way Redis validates it (with an empty title) and
    // require a known variable set and a non-blank result.
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        if v[i] != b'{' {
            out.push(v[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= v.len() {
            return Err(ERR);
        }
        if v[i] == b'{' {
            out.push(b'{');
            i += 1;
            continue;
        }
        let end = match v[i..].iter().position(|&x| x == b'}') {
            Some(e) => i + e,
            None => return Err(ERR),
        };
        match &v[i..end] {
            b"title" => {}
            b"listen-addr" => out.extend_from_slice(b"*:6379"),
            b"server-mode" => {
                if c.cluster_enabled {
                    out.extend_from_slice(b"[cluster]")
                }
            }
            b"config-file" => out.push(b'-'),
            b"port" | b"tls-port" => out.push(b'0'),
            b"unixsocket" => out.extend_from_slice(c.unixsocket.as_deref().unwrap_or(b"")),
            _ => return Err(ERR),
        }
        i = end + 1;
    }
    if out.iter().all(|&x| x == b' ') {
        Err(ERR)
    } else {
        Ok(())
    }
}

fn check_shutdown_flags(v: i32) -> Result<(), &'static str> {
    let v = v as u32;
    if v & shutdown_flags::SAVE != 0 && v & shutdown_flags::NOSAVE != 0 {
        Err("shutdown options SAVE and NOSAVE can't be used simultaneously")
    } else {
        Ok(())
    }
}

/// Every parameter, in Redis's declaration order (which is our CONFIG GET `*` order;
/// Redis's own order is its hash table's and varies between runs).
pub(crate) static PARAMS: &[ParamDef] = &[
    b!("rdbchecksum", None, I, rdbchecksum, true),
    b!("daemonize", None, I, daemonize, false),
    b!(
        "io-threads-do-reads",
        None,
        D | I,
        io_threads_do_reads,
        false
    ),
    b!("always-show-logo", None, I, always_show_logo, false),
    b!("protected-mode", None, M, protected_mode, true),
    b!("rdbcompression", None, M, rdbcompression, true),
    b!("rdb-del-sync-files", None, M, rdb_del_sync_files, false),
    b!("activerehashing", None, M, activerehashing, true),
    b!(
        "stop-writes-on-bgsave-error",
        None,
        M,
        stop_writes_on_bgsave_error,
        true
    ),
    b!("set-proc-title", None, I, set_proc_title, true),
    b!("dynamic-hz", None, M, dynamic_hz, true),
    b!(
        "lazyfree-lazy-eviction",
        None,
        D,
        lazyfree_lazy_eviction,
        false
    ),
    b!("lazyfree-lazy-expire", None, D, lazyfree_lazy_expire, false),
    b!(
        "lazyfree-lazy-server-del",
        None,
        D,
        lazyfree_lazy_server_del,
        false
    ),
    b!(
        "lazyfree-lazy-user-del",
        None,
        D,
        lazyfree_lazy_user_del,
        false
    ),
    b!(
        "lazyfree-lazy-user-flush",
        None,
        D,
        lazyfree_lazy_user_flush,
        false
    ),
    b!(
        "repl-disable-tcp-nodelay",
        None,
        M,
        repl_disable_tcp_nodelay,
        false
    ),
    b!("repl-diskless-sync", None, D, repl_diskless_sync, true),
    b!(
        "aof-rewrite-incremental-fsync",
        None,
        M,
        aof_rewrite_incremental_fsync,
        true
    ),
    b!(
        "no-appendfsync-on-rewrite",
        None,
        M,
        no_appendfsync_on_rewrite,
        false
    ),
    b!(
        "cluster-require-full-coverage",
        None,
        M,
        cluster_require_full_coverage,
        true
    ),
    b!(
        "rdb-save-incremental-fsync",
        None,
        M,
        rdb_save_incremental_fsync,
        true
    ),
    b!("aof-load-truncated", None, M, aof_load_truncated, true),
    b!("aof-use-rdb-preamble", None, M, aof_use_rdb_preamble, true),
    b!(
        "aof-timestamp-enabled",
        None,
        M,
        aof_timestamp_enabled,
        false
    ),
    b!(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        M,
        cluster_replica_no_failover,
        false
    ),
    b!(
        "replica-lazy-flush",
        Some("slave-lazy-flush"),
        M,
        replica_lazy_flush,
        false
    ),
    b!(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        M,
        replica_serve_stale_data,
        true
    ),
    b!(
        "replica-read-only",
        Some("slave-read-only"),
        D,
        replica_read_only,
        true
    ),
    b!(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        M,
        replica_ignore_maxmemory,
        true
    ),
    b!("jemalloc-bg-thread", None, M, jemalloc_bg_thread, true),
    b!(
        "activedefrag",
        None,
        D,
        activedefrag,
        false,
        check_activedefrag
    ),
    b!("syslog-enabled", None, I, syslog_enabled, false),
    b!("cluster-enabled", None, I, cluster_enabled, false),
    b!("appendonly", None, DENY_LOADING, appendonly, false),
    b!(
        "cluster-allow-reads-when-down",
        None,
        M,
        cluster_allow_reads_when_down,
        false
    ),
    b!(
        "cluster-allow-pubsubshard-when-down",
        None,
        M,
        cluster_allow_pubsubshard_when_down,
        true
    ),
    b!("crash-log-enabled", None, M, crash_log_enabled, true),
    b!(
        "crash-memcheck-enabled",
        None,
        M,
        crash_memcheck_enabled,
        true
    ),
    b!("use-exit-on-panic", None, H, use_exit_on_panic, false),
    b!("disable-thp", None, I, disable_thp, true),
    b!(
        "cluster-allow-replica-migration",
        None,
        M,
        cluster_allow_replica_migration,
        true
    ),
    b!("replica-announced", None, M, replica_announced, true),
    b!("latency-tracking", None, M, latency_tracking, true),
    b!("aof-disable-auto-gc", None, M, aof_disable_auto_gc, false),
    b!(
        "replica-ignore-disk-write-errors",
        None,
        M,
        replica_ignore_disk_write_errors,
        false
    ),
    // Strings
    sr!("aclfile", None, I, aclfile, ""),
    so!("unixsocket", None, I, unixsocket, false),
    so!("pidfile", None, I, pidfile, false),
    so!(
        "replica-announce-ip",
        Some("slave-announce-ip"),
        M,
        replica_announce_ip,
        false
    ),
    so!("masteruser", None, SENSITIVE, masteruser, false),
    so!("cluster-announce-ip", None, M, cluster_announce_ip, false),
    sr!(
        "cluster-config-file",
        None,
        I,
        cluster_config_file,
        "nodes.conf"
    ),
    so!(
        "cluster-announce-hostname",
        None,
        M,
        cluster_announce_hostname,
        false,
        check_hostname
    ),
    sr!("syslog-ident", None, I, syslog_ident, "redis"),
    sr!(
        "dbfilename",
        None,
        PROTECTED,
        dbfilename,
        "dump.rdb",
        check_dbfilename
    ),
    sr!(
        "appendfilename",
        None,
        I,
        appendfilename,
        "appendonly.aof",
        check_appendfilename
    ),
    sr!(
        "appenddirname",
        None,
        I,
        appenddirname,
        "appendonlydir",
        check_appenddirname
    ),
    so!("server_cpulist", None, I, server_cpulist, false),
    so!("bio_cpulist", None, I, bio_cpulist, false),
    so!("aof_rewrite_cpulist", None, I, aof_rewrite_cpulist, false),
    so!("bgsave_cpulist", None, I, bgsave_cpulist, false),
    sr!("ignore-warnings", None, M, ignore_warnings, ""),
    sr!(
        "proc-title-template",
        None,
        M,
        proc_title_template,
        "{title} {listen-addr} {server-mode}",
        check_proc_title
    ),
    so!("bind-source-addr", None, M, bind_source_addr, false),
    sr!("logfile", None, I, logfile, ""),
    so!("masterauth", None, SENSITIVE, masterauth, true),
    so!("requirepass", None, SENSITIVE, requirepass, true),
    // Enums
    e!("supervised", None, I, supervised: Supervised, No),
    e!("syslog-facility", None, I, syslog_facility: SyslogFacility, Local0),
    e!("repl-diskless-load", None, D | DENY_LOADING, repl_diskless_load: ReplDisklessLoad, Disabled),
    e!("loglevel", None, M, loglevel: LogLevel, Notice),
    e!("maxmemory-policy", None, M, maxmemory_policy: MaxmemoryPolicy, NoEviction),
    e!("appendfsync", None, M, appendfsync: AppendFsync, Everysec),
    e!("oom-score-adj", None, M, oom_score_adj: OomScoreAdj, No),
    e!("acl-pubsub-default", None, M, acl_pubsub_default: AclPubsubDefault, ResetChannels),
    e!("sanitize-dump-payload", None, D, sanitize_dump_payload: SanitizeDumpPayload, No),
    e!("enable-protected-configs", None, I, enable_protected_configs: ProtectedAction, No),
    e!("enable-debug-command", None, I, enable_debug_command: ProtectedAction, No),
    e!("enable-module-command", None, I, enable_module_command: ProtectedAction, No),
    e!("cluster-preferred-endpoint-type", None, M, cluster_preferred_endpoint_type: ClusterEndpointType, Ip),
    e!("propagation-error-behavior", None, M, propagation_error_behavior: PropagationErrorBehavior, Ignore),
    ParamDef {
        name: "shutdown-on-sigint",
        alias: None,
        flags: MULTI_ARG,
        kind: Kind::Enum {
            get: |c| c.shutdown_on_sigint as i32,
            set: |c, v| c.shutdown_on_sigint = v as u32,
            names: shutdown_flags::NAMES,
            default: 0,
            check: Some(check_shutdown_flags),
        },
    },
    ParamDef {
        name: "shutdown-on-sigterm",
        alias: None,
        flags: MULTI_ARG,
        kind: Kind::Enum {
            get: |c| c.shutdown_on_sigterm as i32,
            set: |c, v| c.shutdown_on_sigterm = v as u32,
            names: shutdown_flags::NAMES,
            default: 0,
            check: Some(check_shutdown_flags),
        },
    },
    // Integers
    n!("databases", None, I, 1, INT_MAX, databases: usize, 16, Int, false),
    n!("port", None, M, 0, 65535, port: u16, 6379, Int, false),
    n!("io-threads", None, D | I, 1, 128, io_threads: u32, 1, Int, false),
    n!("auto-aof-rewrite-percentage", None, M, 0, INT_MAX, auto_aof_rewrite_percentage: u32, 100, Int, false),
    n!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), M, 0, INT_MAX, cluster_replica_validity_factor: u32, 10, Int, false),
    n!("list-max-listpack-size", Some("list-max-ziplist-size"), M, INT_MIN, INT_MAX, list_max_listpack_size: i32, -2, Int, false),
    n!("tcp-keepalive", None, M, 0, INT_MAX, tcp_keepalive: u32, 300, Int, false),
    n!("cluster-migration-barrier", None, M, 0, INT_MAX, cluster_migration_barrier: u32, 1, Int, false),
    n!("active-defrag-cycle-min", None, M, 1, 99, active_defrag_cycle_min: u32, 1, Int, false),
    n!("active-defrag-cycle-max", None, M, 1, 99, active_defrag_cycle_max: u32, 25, Int, false),
    n!("active-defrag-threshold-lower", None, M, 0, 1000, active_defrag_threshold_lower: u32, 10, Int, false),
    n!("active-defrag-threshold-upper", None, M, 0, 1000, active_defrag_threshold_upper: u32, 100, Int, false),
    n!("lfu-log-factor", None, M, 0, INT_MAX, lfu_log_factor: u32, 10, Int, false),
    n!("lfu-decay-time", None, M, 0, INT_MAX, lfu_decay_time: u32, 1, Int, false),
    n!("replica-priority", Some("slave-priority"), M, 0, INT_MAX, replica_priority: u32, 100, Int, false),
    n!("repl-diskless-sync-delay", None, M, 0, INT_MAX, repl_diskless_sync_delay: u32, 5, Int, false),
    n!("maxmemory-samples", None, M, 1, INT_MAX, maxmemory_samples: u32, 5, Int, false),
    n!("maxmemory-eviction-tenacity", None, M, 0, 100, maxmemory_eviction_tenacity: u32, 10, Int, false),
    n!("timeout", None, M, 0, INT_MAX, timeout: u64, 0, Int, false),
    n!("replica-announce-port", Some("slave-announce-port"), M, 0, 65535, replica_announce_port: u16, 0, Int, false),
    n!("tcp-backlog", None, I, 0, INT_MAX, tcp_backlog: u32, 511, Int, false),
    n!("cluster-port", None, I, 0, 65535, cluster_port: u16, 0, Int, false),
    n!("cluster-announce-bus-port", None, M, 0, 65535, cluster_announce_bus_port: u16, 0, Int, false),
    n!("cluster-announce-port", None, M, 0, 65535, cluster_announce_port: u16, 0, Int, false),
    n!("cluster-announce-tls-port", None, M, 0, 65535, cluster_announce_tls_port: u16, 0, Int, false),
    n!("repl-timeout", None, M, 1, INT_MAX, repl_timeout: u32, 60, Int, false),
    n!("repl-ping-replica-period", Some("repl-ping-slave-period"), M, 1, INT_MAX, repl_ping_replica_period: u32, 10, Int, false),
    n!("list-compress-depth", None, D, 0, INT_MAX, list_compress_depth: u32, 0, Int, false),
    n!("rdb-key-save-delay", None, H, INT_MIN, INT_MAX, rdb_key_save_delay: i32, 0, Int, false),
    n!("key-load-delay", None, H, INT_MIN, INT_MAX, key_load_delay: i32, 0, Int, false),
    n!("active-expire-effort", None, M, 1, 10, active_expire_effort: u32, 1, Int, false),
    n!("hz", None, M, 0, INT_MAX, hz: u32, 10, Int, false),
    n!("min-replicas-to-write", Some("min-slaves-to-write"), M, 0, INT_MAX, min_replicas_to_write: u32, 0, Int, false),
    n!("min-replicas-max-lag", Some("min-slaves-max-lag"), M, 0, INT_MAX, min_replicas_max_lag: u32, 10, Int, false),
    n!("watchdog-period", None, H, 0, INT_MAX, watchdog_period: u32, 0, Int, false),
    n!("shutdown-timeout", None, M, 0, INT_MAX, shutdown_timeout: u32, 10, Int, false),
    n!("repl-diskless-sync-max-replicas", None, M, 0, INT_MAX, repl_diskless_sync_max_replicas: u32, 0, Int, false),
    n!("maxclients", None, M, 1, UINT_MAX, maxclients: u32, 10000, Int, true),
    n!("unixsocketperm", None, I, 0, 0o777, unixsocketperm: u32, 0, Octal, true),
    n!("socket-mark-id", None, I, 0, UINT_MAX, socket_mark_id: u32, 0, Int, true),
    n!("active-defrag-max-scan-fields", None, M, 1, LONG_MAX, active_defrag_max_scan_fields: u64, 1000, Int, false),
    n!("slowlog-max-len", None, M, 0, LONG_MAX, slowlog_max_len: u64, 128, Int, false),
    n!("acllog-max-len", None, M, 0, LONG_MAX, acllog_max_len: u64, 128, Int, false),
    n!("busy-reply-threshold", Some("lua-time-limit"), M, 0, LONG_MAX, busy_reply_threshold: i64, 5000, Int, false),
    n!("cluster-node-timeout", None, M, 0, LONG_MAX, cluster_node_timeout: i64, 15000, Int, false),
    n!("slowlog-log-slower-than", None, M, -1, LONG_MAX, slowlog_log_slower_than: i64, 10000, Int, false),
    n!("latency-monitor-threshold", None, M, 0, LONG_MAX, latency_monitor_threshold: i64, 0, Int, false),
    n!("proto-max-bulk-len", None, D, MB, LONG_MAX, proto_max_bulk_len: i64, 512 * MB, Memory, false),
    n!("stream-node-max-entries", None, M, 0, LONG_MAX, stream_node_max_entries: i64, 100, Int, false),
    n!("repl-backlog-size", None, M, 1, LONG_MAX, repl_backlog_size: i64, MB, Memory, false),
    n!("maxmemory", None, M, 0, ULLONG_MAX, maxmemory: u64, 0, Memory, true),
    n!("cluster-link-sendbuf-limit", None, M, 0, ULLONG_MAX, cluster_link_sendbuf_limit: u64, 0, Memory, true),
    n!("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), M, 0, LONG_MAX, hash_max_listpack_entries: usize, 512, Int, true),
    n!("set-max-intset-entries", None, M, 0, LONG_MAX, set_max_intset_entries: usize, 512, Int, true),
    n!("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), M, 0, LONG_MAX, zset_max_listpack_entries: usize, 128, Int, true),
    n!("active-defrag-ignore-bytes", None, M, 1, LONG_MAX, active_defrag_ignore_bytes: usize, 100 * MB, Memory, true),
    n!("hash-max-listpack-value", Some("hash-max-ziplist-value"), M, 0, LONG_MAX, hash_max_listpack_value: usize, 64, Memory, true),
    n!("stream-node-max-bytes", None, M, 0, LONG_MAX, stream_node_max_bytes: usize, 4096, Memory, true),
    n!("zset-max-listpack-value", Some("zset-max-ziplist-value"), M, 0, LONG_MAX, zset_max_listpack_value: usize, 64, Memory, true),
    n!("hll-sparse-max-bytes", None, M, 0, LONG_MAX, hll_sparse_max_bytes: usize, 3000, Memory, true),
    n!("tracking-table-max-keys", None, M, 0, LONG_MAX, tracking_table_max_keys: usize, 1000000, Int, true),
    n!("client-query-buffer-limit", None, D, MB, LONG_MAX, client_query_buffer_limit: usize, 1024 * MB, Memory, true),
    n!("maxmemory-clients", None, M, -100, LONG_MAX, maxmemory_clients: i64, 0, MemoryPercent, false),
    n!("repl-backlog-ttl", None, M, 0, LONG_MAX, repl_backlog_ttl: i64, 3600, Int, false),
    n!("auto-aof-rewrite-min-size", None, M, 0, LONG_MAX, auto_aof_rewrite_min_size: i64, 64 * MB, Memory, false),
    n!("loading-process-events-interval-bytes", None, H, 1024, INT_MAX, loading_process_events_interval_bytes: i64, 2 * MB, Int, false),
    // TLS (Debian's build has it)
    n!("tls-port", None, M, 0, 65535, tls_port: u16, 0, Int, false),
    n!("tls-session-cache-size", None, M, 0, INT_MAX, tls_session_cache_size: u32, 20 * 1024, Int, false),
    n!("tls-session-cache-timeout", None, M, 0, INT_MAX, tls_session_cache_timeout: u32, 300, Int, false),
    b!("tls-cluster", None, M, tls_cluster, false),
    b!("tls-replication", None, M, tls_replication, false),
    e!("tls-auth-clients", None, M, tls_auth_clients: TlsAuthClients, Yes),
    b!(
        "tls-prefer-server-ciphers",
        None,
        M,
        tls_prefer_server_ciphers,
        false
    ),
    b!("tls-session-caching", None, M, tls_session_caching, true),
    so!("tls-cert-file", None, VOLATILE, tls_cert_file, false),
    so!("tls-key-file", None, VOLATILE, tls_key_file, false),
    so!("tls-key-file-pass", None, M, tls_key_file_pass, false),
    so!(
        "tls-client-cert-file",
        None,
        VOLATILE,
        tls_client_cert_file,
        false
    ),
    so!(
        "tls-client-key-file",
        None,
        VOLATILE,
        tls_client_key_file,
        false
    ),
    so!(
        "tls-client-key-file-pass",
        None,
        M,
        tls_client_key_file_pass,
        false
    ),
    so!(
        "tls-dh-params-file",
        None,
        VOLATILE,
        tls_dh_params_file,
        false
    ),
    so!("tls-ca-cert-file", None, VOLATILE, tls_ca_cert_file, false),
    so!("tls-ca-cert-dir", None, VOLATILE, tls_ca_cert_dir, false),
    so!("tls-protocols", None, M, tls_protocols, false),
    so!("tls-ciphers", None, M, tls_ciphers, false),
    so!("tls-ciphersuites", None, M, tls_ciphersuites, false),
    // Special
    sp!("dir", None, PROTECTED | DENY_LOADING, Dir),
    sp!("save", None, MULTI_ARG, Save),
    sp!(
        "client-output-buffer-limit",
        None,
        MULTI_ARG,
        ClientOutputBufferLimit
    ),
    sp!("oom-score-adj-values", None, MULTI_ARG, OomScoreAdjValues),
    sp!("notify-keyspace-events", None, M, NotifyKeyspaceEvents),
    sp!("bind", None, MULTI_ARG, Bind),
    sp!("replicaof", Some("slaveof"), I | MULTI_ARG, ReplicaOf),
    sp!(
        "latency-tracking-info-percentiles",
        None,
        MULTI_ARG,
        LatencyPercentiles
    ),
];

/// A name resolved against the table: the parameter and whether the alias was used.
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    pub idx: usize,
    pub via_alias: bool,
}

impl Entry {
    pub fn def(self) -> &'static ParamDef {
        &PARAMS[self.idx]
    }
    /// The registered name (Redis registers an alias as an entry of its own).
    pub fn name(self) -> &'static str {
        let d = self.def();
        if self.via_alias {
            d.alias.unwrap_or(d.name)
        } else {
            d.name
        }
    }
}

/// Case-insensitive lookup of a name or alias.
pub(crate) fn lookup(name: &[u8]) -> Option<Entry> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static INDEX: OnceLock<HashMap<&'static str, Entry>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for (idx, d) in PARAMS.iter().enumerate() {
            m.insert(
                d.name,
                Entry {
                    idx,
                    via_alias: false,
                },
            );
            if let Some(a) = d.alias {
                m.insert(
                    a,
                    Entry {
                        idx,
                        via_alias: true,
                    },
                );
            }
        }
        m
    });
    if name.len() > 64 {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let s = std::str::from_utf8(&lower).ok()?;
    index.get(s).copied()
}
