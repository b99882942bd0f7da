//! INFO and MEMORY: the server's self-description, with Redis 7.0.15's sections and
//! field names in Redis's order. Fields of features this server does not have yet
//! (replication, persistence, Lua, modules) show the values an idle Redis shows.

use crate::dispatch::{errors, CmdResult, Ctx};
use crate::startup::REDIS_VERSION;
use crate::state::Server;
use std::fmt::Write as _;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("info", info),
    ("memory|doctor", memory_doctor),
    ("memory|help", memory_help),
    ("memory|malloc-stats", memory_malloc_stats),
    ("memory|purge", memory_purge),
    ("memory|stats", memory_stats),
    ("memory|usage", memory_usage),
];

/// The sections INFO prints without arguments (and for `default`).
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// What an idle Redis 7.0.15 reports for its Lua and functions engines.
const IDLE_LUA_VM: u64 = 32768;
const IDLE_FUNCTIONS_VM: u64 = 33792;
const IDLE_FUNCTIONS_CACHES: u64 = 200;

/// Which sections to print, from INFO's arguments.
#[derive(Debug, Default)]
pub struct Sections {
    names: Vec<String>,
    all: bool,
    everything: bool,
}

impl Sections {
    /// Parses INFO's arguments (Redis's genInfoSectionDict).
    pub fn parse<A: AsRef<[u8]>>(args: &[A]) -> Sections {
        let mut s = Sections::default();
        if args.is_empty() {
            s.names = DEFAULT_SECTIONS.iter().map(|n| n.to_string()).collect();
            return s;
        }
        for a in args {
            let name = String::from_utf8_lossy(a.as_ref()).to_ascii_lowercase();
            match name.as_str() {
                "default" => s
                    .names
                    .extend(DEFAULT_SECTIONS.iter().map(|n| n.to_string())),
                "all" => s.all = true,
                "everything" => {
                    s.all = true;
                    s.everything = true;
                }
                _ => s.names.push(name),
            }
        }
        s
    }

    fn has(&self, name: &str) -> bool {
        self.all || self.names.iter().any(|n| n == name)
    }
}

/// `bytesToHuman`: 1.45M, 200B, ...
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 10, "K"),
        (1 << 20, "M"),
        (1 << 30, "G"),
        (1 << 40, "T"),
        (1 << 50, "P"),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, (div, unit)) in UNITS.iter().enumerate() {
        if i == UNITS.len() - 1 || n < div * 1024 {
            return format!("{:.2}{unit}", n as f64 / *div as f64);
        }
    }
    format!("{n}B")
}

/// The allocator and process figures INFO memory and MEMORY STATS derive ratios from.
#[derive(Debug, Clone, Copy)]
pub struct MemFigures {
    pub used: u64,
    pub rss: u64,
    pub peak: u64,
    pub startup: u64,
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub clients_normal: u64,
    pub overhead: u64,
    pub dataset: u64,
    pub keys: u64,
}

fn ratio(a: u64, b: u64) -> f32 {
    a as f32 / b as f32
}

/// Memory Redis charges to a client (query and reply buffers, the client itself).
fn client_memory(c: &crate::client::Client) -> u64 {
    (c.qbuf + c.qbuf_free + c.rbs + std::mem::size_of::<crate::client::Client>()) as u64
}

/// Reads the memory figures (Redis's getMemoryOverheadData). `me` is the calling
/// client, which is out of the registry while its command runs.
pub fn mem_figures(srv: &mut Server, me: Option<&crate::client::Client>) -> MemFigures {
    let used = crate::alloc::used_memory();
    if used > srv.peak_memory {
        srv.peak_memory = used;
    }
    let (allocated, active, resident, _, _) = crate::alloc::allocator_stats();
    let clients_normal: u64 = srv.clients.iter().chain(me).map(client_memory).sum();
    let mut overhead = srv.startup_memory + clients_normal + IDLE_FUNCTIONS_CACHES;
    for db in &srv.keyspace.dbs {
        let (main, expires) = db_overhead(db);
        overhead += main + expires;
    }
    MemFigures {
        used,
        rss: crate::alloc::rss_bytes(),
        peak: srv.peak_memory,
        startup: srv.startup_memory,
        allocated,
        active,
        resident,
        clients_normal,
        overhead,
        dataset: used.saturating_sub(overhead),
        keys: srv.keyspace.total_keys() as u64,
    }
}

/// Hash table overhead of a database's main and expires tables: the bucket arrays
/// plus a dict entry (Redis's 24-byte dictEntry) per key, as Redis counts it.
fn db_overhead(db: &crate::keyspace::Db) -> (u64, u64) {
    const ENTRY: u64 = 24;
    (
        db.len() as u64 * ENTRY + db.keys.table_bytes() as u64,
        db.expires.len() as u64 * ENTRY + db.expires.table_bytes() as u64,
    )
}

fn cpu_times(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills the struct we own.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut ru);
        ru
    };
    (
        format!("{}.{:06}", ru.ru_stime.tv_sec, ru.ru_stime.tv_usec),
        format!("{}.{:06}", ru.ru_utime.tv_sec, ru.ru_utime.tv_usec),
    )
}

fn uname() -> String {
    // SAFETY: uname fills the struct we own; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "Linux".into();
        }
        let f = |s: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(s.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    }
}

fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64) * (size.max(0) as u64)
}

/// A stable build id for INFO server (Redis prints a hash of its build).
fn build_id() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in concat!(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")).bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:x}", h >> 4)
}

/// `%f` then Redis's trimDoubleString (`99.900000` -> `99.9`).
fn trim_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// Builds the INFO text for `sections`. `me` is the calling client (it is out of the
/// registry while it runs), counted among the connected clients.
pub fn info_string(
    srv: &mut Server,
    sections: &Sections,
    me: Option<&crate::client::Client>,
) -> String {
    // Grown as needed, like Redis's sds: a buffer allocated up front would count in
    // the used_memory this reports (maxmemory tests leave only 4 KB of headroom).
    let mut s = String::new();
    let mut n = 0;
    let now_ms = crate::state::now_ms();
    let mut head = |s: &mut String, title: &str| {
        if n > 0 {
            s.push_str("\r\n");
        }
        n += 1;
        s.push_str("# ");
        s.push_str(title);
        s.push_str("\r\n");
    };
    macro_rules! f {
        ($($arg:tt)*) => {{ let _ = write!(s, $($arg)*); s.push_str("\r\n"); }};
    }
    let uptime = (now_ms - srv.start_ms) / 1000;
    if sections.has("server") {
        head(&mut s, "Server");
        f!("redis_version:{REDIS_VERSION}");
        f!("redis_git_sha1:00000000");
        f!("redis_git_dirty:0");
        f!("redis_build_id:{}", build_id());
        f!("redis_mode:standalone");
        f!("os:{}", uname());
        f!("arch_bits:64");
        f!("monotonic_clock:POSIX clock_gettime");
        f!("multiplexing_api:epoll");
        f!("atomicvar_api:c11-builtin");
        f!("gcc_version:0.0.0");
        f!("process_id:{}", std::process::id());
        f!("process_supervised:no");
        f!("run_id:{}", srv.run_id);
        f!("tcp_port:{}", srv.tcp_port);
        f!("server_time_usec:{}", crate::state::now_us());
        f!("uptime_in_seconds:{uptime}");
        f!("uptime_in_days:{}", uptime / 86400);
        f!("hz:{}", srv.config.hz);
        f!("configured_hz:{}", srv.config.hz);
        f!("lru_clock:{}", srv.lru_clock);
        f!(
            "executable:{}",
            std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        f!(
            "config_file:{}",
            srv.config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
        f!("io_threads_active:0");
        if let Some(w) = &srv.repl.shutdown {
            f!(
                "shutdown_in_milliseconds:{}",
                (w.deadline_ms - now_ms).max(0)
            );
        }
    }
    if sections.has("clients") {
        head(&mut s, "Clients");
        // Killed clients are gone for Redis (freed at once); ours until their task ends.
        let killed = srv.clients.iter().filter(|c| c.outbox.is_killed()).count();
        // Replicas are not counted (Redis: clients minus slaves).
        let replicas = srv
            .clients
            .iter()
            .filter(|c| !c.outbox.is_killed() && c.kind() == crate::client::ClientKind::Replica)
            .count();
        let connected = srv.clients.len() - killed - replicas;
        let max_in = srv
            .clients
            .iter()
            .chain(me)
            .map(|c| c.qbuf)
            .max()
            .unwrap_or(0);
        f!("connected_clients:{connected}");
        f!("cluster_connections:0");
        f!("maxclients:{}", srv.config.maxclients);
        f!("client_recent_max_input_buffer:{max_in}");
        f!("client_recent_max_output_buffer:0");
        f!("blocked_clients:{}", srv.blocked_clients);
        f!("tracking_clients:{}", srv.tracking.clients);
        f!("clients_in_timeout_table:{}", srv.blocking.with_timeout());
    }
    if sections.has("memory") {
        head(&mut s, "Memory");
        let m = mem_figures(srv, me);
        let net = if m.used > m.startup {
            m.used - m.startup
        } else {
            1
        };
        let (lua_vm, eval_mem, nscripts) = match &srv.lua {
            Some(e) => (e.memory() as u64, e.scripts_mem as u64, e.len()),
            None => (IDLE_LUA_VM, 0, 0),
        };
        let scripts = IDLE_FUNCTIONS_CACHES + eval_mem;
        f!("used_memory:{}", m.used);
        f!("used_memory_human:{}", bytes_to_human(m.used));
        f!("used_memory_rss:{}", m.rss);
        f!("used_memory_rss_human:{}", bytes_to_human(m.rss));
        f!("used_memory_peak:{}", m.peak);
        f!("used_memory_peak_human:{}", bytes_to_human(m.peak));
        f!(
            "used_memory_peak_perc:{:.2}%",
            m.used as f32 * 100.0 / m.peak as f32
        );
        f!("used_memory_overhead:{}", m.overhead);
        f!("used_memory_startup:{}", m.startup);
        f!("used_memory_dataset:{}", m.dataset);
        f!(
            "used_memory_dataset_perc:{:.2}%",
            m.dataset as f32 * 100.0 / net as f32
        );
        f!("allocator_allocated:{}", m.allocated);
        f!("allocator_active:{}", m.active);
        f!("allocator_resident:{}", m.resident);
        let total = total_system_memory();
        f!("total_system_memory:{total}");
        f!("total_system_memory_human:{}", bytes_to_human(total));
        f!("used_memory_lua:{lua_vm}");
        f!("used_memory_vm_eval:{lua_vm}");
        f!("used_memory_lua_human:{}", bytes_to_human(lua_vm));
        f!("used_memory_scripts_eval:{eval_mem}");
        f!("number_of_cached_scripts:{nscripts}");
        let fvm = srv
            .functions
            .vm_memory()
            .map_or(IDLE_FUNCTIONS_VM, |m| m as u64);
        f!("number_of_functions:{}", srv.functions.len());
        f!("number_of_libraries:{}", srv.functions.libs.len());
        f!("used_memory_vm_functions:{fvm}");
        f!("used_memory_vm_total:{}", fvm + lua_vm);
        f!(
            "used_memory_vm_total_human:{}",
            bytes_to_human(fvm + lua_vm)
        );
        f!("used_memory_functions:{IDLE_FUNCTIONS_CACHES}");
        f!("used_memory_scripts:{scripts}");
        f!("used_memory_scripts_human:{}", bytes_to_human(scripts));
        f!("maxmemory:{}", srv.config.maxmemory);
        f!("maxmemory_human:{}", bytes_to_human(srv.config.maxmemory));
        f!(
            "maxmemory_policy:{}",
            policy_name(srv.config.maxmemory_policy)
        );
        f!("allocator_frag_ratio:{:.2}", ratio(m.active, m.allocated));
        f!(
            "allocator_frag_bytes:{}",
            m.active as i64 - m.allocated as i64
        );
        f!("allocator_rss_ratio:{:.2}", ratio(m.resident, m.active));
        f!(
            "allocator_rss_bytes:{}",
            m.resident as i64 - m.active as i64
        );
        f!("rss_overhead_ratio:{:.2}", ratio(m.rss, m.resident));
        f!("rss_overhead_bytes:{}", m.rss as i64 - m.resident as i64);
        f!("mem_fragmentation_ratio:{:.2}", ratio(m.rss, m.used));
        f!("mem_fragmentation_bytes:{}", m.rss as i64 - m.used as i64);
        f!(
            "mem_not_counted_for_evict:{}",
            crate::evict::not_counted_memory(srv)
        );
        f!(
            "mem_replication_backlog:{}",
            crate::replication::backlog_memory(srv)
        );
        f!(
            "mem_total_replication_buffers:{}",
            crate::replication::backlog_memory(srv) + crate::replication::replica_buffers(srv)
        );
        f!(
            "mem_clients_slaves:{}",
            crate::replication::replica_buffers(srv)
        );
        f!("mem_clients_normal:{}", m.clients_normal);
        f!("mem_cluster_links:0");
        f!("mem_aof_buffer:0");
        f!("mem_allocator:jemalloc-5.3.0");
        f!("active_defrag_running:0");
        f!("lazyfree_pending_objects:0");
        f!("lazyfreed_objects:0");
    }
    if sections.has("persistence") {
        head(&mut s, "Persistence");
        f!("loading:0");
        f!("async_loading:0");
        f!("current_cow_peak:0");
        f!("current_cow_size:0");
        f!("current_cow_size_age:0");
        f!("current_fork_perc:0.00");
        f!("current_save_keys_processed:0");
        f!("current_save_keys_total:0");
        f!("rdb_changes_since_last_save:{}", srv.dirty);
        f!(
            "rdb_bgsave_in_progress:{}",
            crate::bgsave::in_progress(srv) as u8
        );
        f!("rdb_last_save_time:{}", srv.last_save_ms / 1000);
        f!(
            "rdb_last_bgsave_status:{}",
            if srv.last_bgsave_ok { "ok" } else { "err" }
        );
        f!("rdb_last_bgsave_time_sec:{}", srv.bgsave.last_duration_s);
        f!(
            "rdb_current_bgsave_time_sec:{}",
            srv.bgsave
                .child
                .filter(|c| c.kind == crate::bgsave::ChildKind::Rdb)
                .map_or(-1, |c| (crate::state::now_ms() - c.started_ms) / 1000)
        );
        f!("rdb_saves:{}", srv.rdb_saves);
        f!("rdb_last_cow_size:0");
        f!(
            "rdb_last_load_keys_expired:{}",
            srv.stats.rdb_last_load_keys_expired
        );
        f!(
            "rdb_last_load_keys_loaded:{}",
            srv.stats.rdb_last_load_keys_loaded
        );
        let a = &srv.aof;
        let aof_child = srv.bgsave.child.map(|c| c.kind) == Some(crate::bgsave::ChildKind::Aof);
        f!(
            "aof_enabled:{}",
            (a.status != crate::aof::Status::Off) as u8
        );
        f!("aof_rewrite_in_progress:{}", aof_child as u8);
        f!("aof_rewrite_scheduled:{}", a.rewrite_scheduled as u8);
        f!("aof_last_rewrite_time_sec:{}", a.rewrite_time_last_s);
        f!(
            "aof_current_rewrite_time_sec:{}",
            if a.rewrite_time_start_s >= 0 {
                crate::state::now_ms() / 1000 - a.rewrite_time_start_s
            } else {
                -1
            }
        );
        f!(
            "aof_last_bgrewrite_status:{}",
            if a.last_bgrewrite_ok { "ok" } else { "err" }
        );
        f!("aof_rewrites:{}", a.rewrites);
        f!(
            "aof_rewrites_consecutive_failures:{}",
            a.consecutive_failures
        );
        f!(
            "aof_last_write_status:{}",
            if a.last_write_ok { "ok" } else { "err" }
        );
        f!("aof_last_cow_size:0");
        f!("module_fork_in_progress:0");
        f!("module_fork_last_cow_size:0");
        if srv.config.appendonly {
            f!("aof_current_size:{}", a.current_size);
            f!("aof_base_size:{}", a.rewrite_base_size);
            f!("aof_pending_rewrite:{}", a.rewrite_scheduled as u8);
            f!("aof_buffer_length:{}", a.buf.len());
            f!(
                "aof_pending_bio_fsync:{}",
                a.fsync_in_progress
                    .load(std::sync::atomic::Ordering::Relaxed) as u8
            );
            f!("aof_delayed_fsync:{}", a.delayed_fsync);
        }
    }
    if sections.has("stats") {
        head(&mut s, "Stats");
        let st = srv.stats.clone();
        let expired: u64 = srv.keyspace.dbs.iter().map(|d| d.expired_keys).sum();
        f!(
            "total_connections_received:{}",
            st.total_connections_received
        );
        f!("total_commands_processed:{}", st.total_commands_processed);
        f!(
            "instantaneous_ops_per_sec:{}",
            srv.ops_samples.rate() as i64
        );
        f!("total_net_input_bytes:{}", st.net_input_bytes);
        f!("total_net_output_bytes:{}", st.net_output_bytes);
        f!("total_net_repl_input_bytes:0");
        f!("total_net_repl_output_bytes:0");
        f!(
            "instantaneous_input_kbps:{:.2}",
            srv.net_in_samples.rate() / 1024.0
        );
        f!(
            "instantaneous_output_kbps:{:.2}",
            srv.net_out_samples.rate() / 1024.0
        );
        f!("instantaneous_input_repl_kbps:0.00");
        f!("instantaneous_output_repl_kbps:0.00");
        f!("rejected_connections:{}", st.rejected_connections);
        f!("sync_full:{}", srv.repl.sync_full);
        f!("sync_partial_ok:{}", srv.repl.sync_partial_ok);
        f!("sync_partial_err:{}", srv.repl.sync_partial_err);
        f!("expired_keys:{expired}");
        f!("expired_stale_perc:{:.2}", st.expired_stale_perc * 100.0);
        f!(
            "expired_time_cap_reached_count:{}",
            st.expired_time_cap_reached_count
        );
        f!(
            "expire_cycle_cpu_milliseconds:{}",
            st.expire_cycle_cpu_milliseconds
        );
        f!("evicted_keys:{}", st.evicted_keys);
        f!("evicted_clients:{}", st.evicted_clients);
        // Time spent over maxmemory without being able to get under it.
        let current = srv
            .evict_pool
            .exceeded_since
            .map_or(0, |t| t.elapsed().as_millis() as u64);
        f!(
            "total_eviction_exceeded_time:{}",
            st.total_eviction_exceeded_time_ms + current
        );
        f!("current_eviction_exceeded_time:{current}");
        f!("keyspace_hits:{}", st.keyspace_hits);
        f!("keyspace_misses:{}", st.keyspace_misses);
        f!("pubsub_channels:{}", srv.pubsub.channels.len());
        f!("pubsub_patterns:{}", srv.pubsub.patterns.len());
        f!("pubsubshard_channels:{}", srv.pubsub.shard.len());
        f!("latest_fork_usec:{}", srv.bgsave.last_fork_us);
        f!("total_forks:{}", srv.bgsave.total_forks);
        f!("migrate_cached_sockets:0");
        f!("slave_expires_tracked_keys:{}", srv.repl.replica_keys.len());
        f!("active_defrag_hits:0");
        f!("active_defrag_misses:0");
        f!("active_defrag_key_hits:0");
        f!("active_defrag_key_misses:0");
        f!("total_active_defrag_time:0");
        f!("current_active_defrag_time:0");
        f!("tracking_total_keys:{}", srv.tracking.table.len());
        f!("tracking_total_items:{}", srv.tracking.items);
        f!("tracking_total_prefixes:{}", srv.tracking.prefixes.len());
        f!("unexpected_error_replies:{}", st.unexpected_error_replies);
        f!("total_error_replies:{}", st.total_error_replies);
        f!(
            "dump_payload_sanitizations:{}",
            st.dump_payload_sanitizations
        );
        f!("total_reads_processed:{}", st.total_reads_processed);
        f!("total_writes_processed:{}", st.total_writes_processed);
        f!("io_threaded_reads_processed:0");
        f!("io_threaded_writes_processed:0");
        f!("reply_buffer_shrinks:0");
        f!("reply_buffer_expands:0");
    }
    if sections.has("replication") {
        head(&mut s, "Replication");
        crate::replication::info(srv, &mut s);
    }
    if sections.has("cpu") {
        head(&mut s, "CPU");
        let (sys, user) = cpu_times(libc::RUSAGE_SELF);
        let (csys, cuser) = cpu_times(libc::RUSAGE_CHILDREN);
        let (tsys, tuser) = cpu_times(libc::RUSAGE_THREAD);
        f!("used_cpu_sys:{sys}");
        f!("used_cpu_user:{user}");
        f!("used_cpu_sys_children:{csys}");
        f!("used_cpu_user_children:{cuser}");
        f!("used_cpu_sys_main_thread:{tsys}");
        f!("used_cpu_user_main_thread:{tuser}");
    }
    if sections.has("module_list") || sections.has("modules") {
        head(&mut s, "Modules");
    }
    let table = redis_commands::table();
    if sections.has("commandstats") {
        head(&mut s, "Commandstats");
        for spec in table.all() {
            let cs = &srv.command_stats[spec.id];
            if cs.calls == 0 && cs.failed_calls == 0 && cs.rejected_calls == 0 {
                continue;
            }
            let per = if cs.calls == 0 {
                0.0
            } else {
                cs.usec as f64 / cs.calls as f64
            };
            f!(
                "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
                spec.name,
                cs.calls,
                cs.usec,
                per,
                cs.rejected_calls,
                cs.failed_calls
            );
        }
    }
    if sections.has("errorstats") {
        head(&mut s, "Errorstats");
        for (code, count) in &srv.error_stats {
            f!("errorstat_{code}:count={count}");
        }
    }
    if sections.has("latencystats") {
        head(&mut s, "Latencystats");
        if srv.config.latency_tracking {
            for spec in table.all() {
                let Some(h) = &srv.command_stats[spec.id].latency else {
                    continue;
                };
                if h.is_empty() {
                    continue;
                }
                let _ = write!(s, "latency_percentiles_usec_{}:", spec.name);
                for (i, p) in srv
                    .config
                    .latency_tracking_info_percentiles
                    .iter()
                    .enumerate()
                {
                    if i > 0 {
                        s.push(',');
                    }
                    let v = h.value_at_percentile(*p) as f64 / 1000.0;
                    let _ = write!(s, "p{}={:.3}", trim_percentile(*p), v);
                }
                s.push_str("\r\n");
            }
        }
    }
    if sections.has("cluster") {
        head(&mut s, "Cluster");
        f!("cluster_enabled:0");
    }
    if sections.has("keyspace") {
        head(&mut s, "Keyspace");
        for (i, db) in srv.keyspace.dbs.iter().enumerate() {
            let keys = db.len();
            if keys == 0 {
                continue;
            }
            f!(
                "db{i}:keys={keys},expires={},avg_ttl={}",
                db.expires.len(),
                db.avg_ttl
            );
        }
    }
    let _ = sections.everything;
    s
}

/// The `maxmemory-policy` name.
pub fn policy_name(p: crate::config::MaxmemoryPolicy) -> &'static str {
    use crate::config::MaxmemoryPolicy::*;
    match p {
        VolatileLru => "volatile-lru",
        VolatileLfu => "volatile-lfu",
        VolatileRandom => "volatile-random",
        VolatileTtl => "volatile-ttl",
        AllkeysLru => "allkeys-lru",
        AllkeysLfu => "allkeys-lfu",
        AllkeysRandom => "allkeys-random",
        NoEviction => "noeviction",
    }
}

/// INFO [section ...]
pub fn info(ctx: &mut Ctx) -> CmdResult {
    let sections = Sections::parse(&ctx.argv[1..]);
    let text = info_string(ctx.srv, &sections, Some(ctx.client));
    ctx.out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// MEMORY HELP
pub fn memory_help(ctx: &mut Ctx) -> CmdResult {
    super::client::reply_help(ctx, MEMORY_HELP);
    Ok(())
}

/// MEMORY USAGE key [SAMPLES count]
pub fn memory_usage(ctx: &mut Ctx) -> CmdResult {
    let mut j = 3;
    while j < ctx.argc() {
        if ctx.arg_is(j, "samples") && j + 1 < ctx.argc() {
            let n = ctx.arg_i64(j + 1)?;
            if n < 0 {
                return Err(errors::SYNTAX.into());
            }
            // Strings have no nested values to sample: the count has no effect yet.
            j += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let key = ctx.argv[2];
    let db = ctx.client.db;
    // Redis reads the dict directly: no expiry, no LRU touch, no hit/miss counts.
    let Some(obj) = ctx.srv.keyspace.dbs[db].keys.get(key) else {
        ctx.out.null();
        return Ok(());
    };
    // Redis's objectComputeSize for the value, plus the key's sds allocation and
    // the dict entry: the sizes Redis's own layout would take, so the figures match.
    let usage = redis_value_size(&obj.value) + sds_alloc(key.len()) + DICT_ENTRY;
    ctx.out.int(usage as i64);
    Ok(())
}

/// `sizeof(robj)` and `sizeof(dictEntry)` in Redis.
const ROBJ: usize = 16;
const DICT_ENTRY: usize = 24;

/// Header size of an sds of `len` bytes (sdsReqType).
fn sds_header(len: usize) -> usize {
    match len {
        0..=31 => 1,
        32..=255 => 3,
        256..=65535 => 5,
        _ => 9,
    }
}

/// Allocation of an sds holding `len` bytes (header, bytes, NUL).
fn sds_alloc(len: usize) -> usize {
    malloc_size(sds_header(len) + len + 1)
}

/// Redis's objectComputeSize for a value of the given encoding.
fn redis_value_size(v: &crate::object::Value) -> usize {
    let len = if v.is_string() { v.str_len() } else { 0 };
    match v.encoding() {
        "int" => ROBJ,
        // The object and an sdshdr8 in one allocation.
        "embstr" => malloc_size(ROBJ + 3 + len + 1),
        "raw" => ROBJ + sds_alloc(len),
        _ => ROBJ + v.heap_size(),
    }
}

/// jemalloc's size class for an allocation of `n` bytes.
fn malloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let p = usize::BITS - (n - 1).leading_zeros();
    let step = 1usize << (p - 3);
    n.div_ceil(step) * step
}

/// MEMORY STATS
pub fn memory_stats(ctx: &mut Ctx) -> CmdResult {
    let m = mem_figures(ctx.srv, Some(ctx.client));
    let dbs: Vec<(usize, u64, u64)> = ctx
        .srv
        .keyspace
        .dbs
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(i, d)| {
            let (a, b) = db_overhead(d);
            (i, a, b)
        })
        .collect();
    let net = if m.used > m.startup {
        m.used - m.startup
    } else {
        1
    };
    let out = &mut *ctx.out;
    out.map(27 + dbs.len());
    let kv = |out: &mut redis_formats::ReplyBuf, k: &str, v: i64| {
        out.bulk(k.as_bytes());
        out.int(v);
    };
    kv(out, "peak.allocated", m.peak as i64);
    kv(out, "total.allocated", m.used as i64);
    kv(out, "startup.allocated", m.startup as i64);
    kv(out, "replication.backlog", 0);
    kv(out, "clients.slaves", 0);
    kv(out, "clients.normal", m.clients_normal as i64);
    kv(out, "cluster.links", 0);
    kv(out, "aof.buffer", 0);
    kv(out, "lua.caches", 0);
    kv(out, "functions.caches", IDLE_FUNCTIONS_CACHES as i64);
    for (i, main, exp) in dbs {
        out.bulk(format!("db.{i}").as_bytes());
        out.map(3);
        kv(out, "overhead.hashtable.main", main as i64);
        kv(out, "overhead.hashtable.expires", exp as i64);
        kv(out, "overhead.hashtable.slot-to-keys", 0);
    }
    kv(out, "overhead.total", m.overhead as i64);
    kv(out, "keys.count", m.keys as i64);
    kv(
        out,
        "keys.bytes-per-key",
        net.checked_div(m.keys).unwrap_or(0) as i64,
    );
    kv(out, "dataset.bytes", m.dataset as i64);
    out.bulk(b"dataset.percentage");
    out.double((m.dataset as f32 * 100.0 / net as f32) as f64);
    out.bulk(b"peak.percentage");
    out.double((m.used as f32 * 100.0 / m.peak as f32) as f64);
    kv(out, "allocator.allocated", m.allocated as i64);
    kv(out, "allocator.active", m.active as i64);
    kv(out, "allocator.resident", m.resident as i64);
    out.bulk(b"allocator-fragmentation.ratio");
    out.double(ratio(m.active, m.allocated) as f64);
    kv(
        out,
        "allocator-fragmentation.bytes",
        m.active as i64 - m.allocated as i64,
    );
    out.bulk(b"allocator-rss.ratio");
    out.double(ratio(m.resident, m.active) as f64);
    kv(
        out,
        "allocator-rss.bytes",
        m.resident as i64 - m.active as i64,
    );
    out.bulk(b"rss-overhead.ratio");
    out.double(ratio(m.rss, m.resident) as f64);
    kv(out, "rss-overhead.bytes", m.rss as i64 - m.resident as i64);
    out.bulk(b"fragmentation");
    out.double(ratio(m.rss, m.used) as f64);
    kv(out, "fragmentation.bytes", m.rss as i64 - m.used as i64);
    Ok(())
}

/// MEMORY DOCTOR
pub fn memory_doctor(ctx: &mut Ctx) -> CmdResult {
    let m = mem_figures(ctx.srv, Some(ctx.client));
    let mut issues: Vec<&str> = Vec::new();
    let empty = m.used < 5 * 1024 * 1024;
    if !empty {
        if m.peak as f32 / m.used as f32 > 1.5 {
            issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
        }
        if ratio(m.rss, m.used) > 1.4 && m.rss.saturating_sub(m.used) > 10 << 20 {
            issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n");
        }
        if ratio(m.active, m.allocated) > 1.1 && m.active.saturating_sub(m.allocated) > 10 << 20 {
            issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n");
        }
        if ratio(m.resident, m.active) > 1.1 && m.resident.saturating_sub(m.active) > 10 << 20 {
            issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
        }
        if ratio(m.rss, m.resident) > 1.1 && m.rss.saturating_sub(m.resident) > 10 << 20 {
            issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n");
        }
        let clients = (ctx.srv.clients.len() + 1) as u64;
        if m.clients_normal / clients > 200 * 1024 {
            issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
        }
    }
    let text = if empty {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string()
    } else if issues.is_empty() {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
    } else {
        let mut t =
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n".to_string();
        for i in issues {
            t.push_str(i);
        }
        t.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        t
    };
    ctx.out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// MEMORY MALLOC-STATS: jemalloc's own statistics report.
pub fn memory_malloc_stats(ctx: &mut Ctx) -> CmdResult {
    let text = crate::alloc::malloc_stats_text();
    ctx.out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// MEMORY PURGE: asks jemalloc to return dirty pages to the system.
pub fn memory_purge(ctx: &mut Ctx) -> CmdResult {
    crate::alloc::purge();
    ctx.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(bytes_to_human(200), "200B");
        assert_eq!(bytes_to_human(1524488), "1.45M");
        assert_eq!(bytes_to_human(32768), "32.00K");
        assert_eq!(bytes_to_human(25276514304), "23.54G");
    }

    #[test]
    fn percentile_names() {
        assert_eq!(trim_percentile(50.0), "50");
        assert_eq!(trim_percentile(99.9), "99.9");
    }

    #[test]
    fn sections() {
        let s = Sections::parse::<&[u8]>(&[]);
        assert!(s.has("server") && !s.has("commandstats"));
        let s = Sections::parse(&[b"cpu".as_slice(), b"ALL"]);
        assert!(s.has("commandstats") && s.has("cpu"));
        let s = Sections::parse(&[b"commandSTATS".as_slice()]);
        assert!(s.has("commandstats") && !s.has("memory"));
    }

    #[test]
    fn usage_like_redis() {
        use crate::object::Value;
        // MEMORY USAGE values of Redis 7.0.15 for these values under 2- or 3-byte keys.
        let usage = |v: Value, key: usize| redis_value_size(&v) + sds_alloc(key) + DICT_ENTRY;
        assert_eq!(usage(Value::string(b"hello"), 2), 64);
        assert_eq!(usage(Value::string(b"12345"), 3), 48);
        assert_eq!(usage(Value::string(&[b'x'; 100]), 3), 160);
        assert_eq!(usage(Value::string(&[b'y'; 50]), 3), 112);
    }

    #[test]
    fn size_classes() {
        assert_eq!(malloc_size(5), 8);
        assert_eq!(malloc_size(17), 32);
        assert_eq!(malloc_size(129), 160);
    }
}
