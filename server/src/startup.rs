//! Start-up and shutdown: configuration, daemonizing, the pid file, listeners, the
//! runtime, signals.

use crate::client::Peer;
use crate::config::{
    load_config, parse_command_line, version_line, Config, Directives, LoadError, LogLevel,
    StartupCommand, TEST_MEMORY_USAGE, USAGE,
};
use crate::log::{self, log, log_raw, Level};
use crate::state::{Server, Shared};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpSocket, UnixListener};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The version we report: we are a drop-in for this Redis release.
pub const REDIS_VERSION: &str = "7.0.15";

/// Maps a `loglevel` value to the logger's level.
pub fn log_level(l: LogLevel) -> Level {
    match l {
        LogLevel::Debug => Level::Debug,
        LogLevel::Verbose => Level::Verbose,
        LogLevel::Notice => Level::Notice,
        LogLevel::Warning => Level::Warning,
    }
}

/// `rename-command` lines, applied by the dispatcher (`""` disables a command).
#[derive(Default)]
struct StartupDirectives {
    renames: HashMap<Vec<u8>, Vec<u8>>,
    /// `user` lines, checked and queued (crate::acl).
    users: Vec<Vec<Vec<u8>>>,
}

impl Directives for StartupDirectives {
    fn rename_command(&mut self, name: &[u8], new_name: &[u8]) -> Result<(), String> {
        let table = redis_commands::table();
        let Some(spec) = table.get(name).filter(|s| crate::cmd::is_implemented(s)) else {
            return Err("No such command in rename-command".into());
        };
        if !new_name.is_empty() && table.get(new_name).is_some() {
            return Err("Target command name already exists".into());
        }
        self.renames
            .insert(spec.name.as_bytes().to_vec(), new_name.to_ascii_lowercase());
        Ok(())
    }

    fn user(&mut self, args: &[Vec<u8>]) -> Result<(), String> {
        crate::acl::append_user_for_loading(&mut self.users, args)
            .map_err(|e| format!("Error in user declaration {e}"))
    }

    fn loadmodule(&mut self, path: &[u8], _args: &[Vec<u8>]) -> Result<(), String> {
        Err(format!(
            "Module {} failed to load: modules are not supported",
            String::from_utf8_lossy(path)
        ))
    }
}

/// Entry point of `redis-server`.
pub fn main() {
    let args: Vec<Vec<u8>> = std::env::args_os()
        .skip(1)
        .map(std::os::unix::ffi::OsStringExt::into_vec)
        .collect();
    let opts = match parse_command_line(&args) {
        StartupCommand::Version => {
            println!("{}", version_line("jemalloc-5.3.0", 0));
            std::process::exit(0);
        }
        StartupCommand::Help => {
            eprint!("{USAGE}");
            std::process::exit(1);
        }
        StartupCommand::TestMemory(None) => {
            eprint!("{TEST_MEMORY_USAGE}");
            std::process::exit(1);
        }
        StartupCommand::TestMemory(Some(_)) | StartupCommand::CheckSystem => {
            eprintln!("This redis-server does not implement --test-memory or --check-system.");
            std::process::exit(1);
        }
        StartupCommand::Run(opts) => opts,
    };
    log::set_role(b'C');
    log_raw(
        Level::Warning,
        "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    );
    log_raw(
        Level::Warning,
        &format!(
            "Redis version={REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid={}, just started",
            std::process::id()
        ),
    );
    if opts.sentinel {
        log_raw(
            Level::Warning,
            "Sentinel mode is not supported by this redis-server.",
        );
        std::process::exit(1);
    }
    if opts.options.is_none() && opts.config_file.is_none() && !opts.read_stdin {
        log_raw(
            Level::Warning,
            "Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf",
        );
    }
    if opts.read_stdin {
        log_raw(Level::Warning, "Reading config from stdin");
    }
    let mut directives = StartupDirectives::default();
    let loaded = match load_config(&opts, &mut std::io::stdin(), &mut directives) {
        Ok(l) => l,
        Err(e @ LoadError::Fatal { .. }) => {
            use std::io::Write;
            let _ = std::io::stderr().write_all(&e.stderr_text().unwrap_or_default());
            std::process::exit(1);
        }
        Err(e) => {
            log_raw(Level::Warning, &e.log_message().unwrap_or_default());
            std::process::exit(1);
        }
    };
    if opts.options.is_some() || opts.config_file.is_some() || opts.read_stdin {
        log_raw(Level::Warning, "Configuration loaded");
    }
    let config = loaded.config;
    if config.cluster_enabled {
        // Running standalone under `cluster-enabled yes` would mislead every cluster
        // client and tool; refuse until cluster mode is built.
        log_raw(
            Level::Warning,
            "Cluster mode (cluster-enabled yes) is not supported by this redis-server yet.",
        );
        std::process::exit(1);
    }
    log::set_level(log_level(config.loglevel));
    log::set_file(&String::from_utf8_lossy(&config.logfile));
    if config.daemonize {
        daemonize();
    }
    log::set_role(b'M');
    let _ = crate::oom::apply(&config, crate::oom::MASTER);
    if let Some(pidfile) = &config.pidfile {
        let path = String::from_utf8_lossy(pidfile).into_owned();
        if std::fs::write(&path, format!("{}\n", std::process::id())).is_err() {
            log(Level::Warning, &format!("Failed to write PID file: {path}"));
        }
    }
    // `io-threads` (default 1, as Redis): one thread runs everything, as Redis's main
    // thread does; more spread connections' parsing, encoding and socket I/O over a
    // multi-threaded runtime while commands still execute one at a time under the lock.
    let threads = config.io_threads.max(1) as usize;
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    let pidfile = config.pidfile.clone();
    let code = runtime.block_on(serve(
        config,
        loaded.config_file,
        directives.renames,
        directives.users,
    ));
    if let Some(p) = pidfile {
        let _ = std::fs::remove_file(String::from_utf8_lossy(&p).as_ref());
    }
    std::process::exit(code);
}

/// Detaches from the terminal as Redis's `daemonize yes` does (before any thread exists).
fn daemonize() {
    // SAFETY: called before the runtime starts, while the process has one thread; the
    // child continues with the same memory, the parent exits at once.
    unsafe {
        match libc::fork() {
            -1 => return,
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            if null > 2 {
                libc::close(null);
            }
        }
    }
}

/// The C library's text for an I/O error, as Redis logs it (Rust's Display adds
/// " (os error N)").
pub fn os_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The accept tasks of the TCP and TLS listeners, replaced when `port`, `tls-port` or
/// `bind` change.
pub struct Listeners {
    tasks: Vec<JoinHandle<()>>,
    tls_tasks: Vec<JoinHandle<()>>,
}

fn parse_bind_addr(addr: &str, port: u16) -> std::io::Result<SocketAddr> {
    let host = match addr {
        "*" => "0.0.0.0",
        "::*" => "::",
        a => a,
    };
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
    .parse()
    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

fn bind_tcp(addr: &str, port: u16, backlog: u32) -> std::io::Result<TcpListener> {
    let sa = parse_bind_addr(addr, port)?;
    let sock = if sa.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        let s = TcpSocket::new_v6()?;
        // Like Redis: an IPv6 listener does not take IPv4 connections.
        socket2::SockRef::from(&s).set_only_v6(true)?;
        s
    };
    sock.set_reuseaddr(true)?;
    sock.bind(sa)?;
    sock.listen(backlog)
}

/// Opens every `bind` address on `port` (addresses starting with `-` are optional).
/// Errors carry Redis's log text.
pub fn open_listeners(
    bind: &[Vec<u8>],
    port: u16,
    backlog: u32,
) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    if port == 0 {
        return Ok(out);
    }
    for addr in bind {
        let addr = String::from_utf8_lossy(addr).into_owned();
        let (optional, addr) = match addr.strip_prefix('-') {
            Some(a) => (true, a.to_string()),
            None => (false, addr),
        };
        match bind_tcp(&addr, port, backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional => {
                log(
                    Level::Verbose,
                    &format!("Skipping optional bind {addr}:{port}: {e}"),
                );
            }
            Err(e) => {
                return Err(format!(
                    "Warning: Could not create server TCP listening socket {addr}:{port}: bind: {}",
                    os_error_text(&e)
                ))
            }
        }
    }
    Ok(out)
}

/// The listening sockets' fds (TCP, then the unix socket's), closed first by a
/// shutdown as Redis's closeListeningSockets, so no connection is accepted while the
/// process exits.
static LISTEN_FDS: parking_lot::Mutex<(Vec<i32>, Option<i32>)> =
    parking_lot::Mutex::new((Vec::new(), None));
/// The TLS listening sockets' fds, closed with the others.
static TLS_LISTEN_FDS: parking_lot::Mutex<Vec<i32>> = parking_lot::Mutex::new(Vec::new());

impl Listeners {
    /// Starts accepting on `listeners` (plain) and `tls` (TLS).
    pub fn start(
        shared: &Arc<Shared>,
        listeners: Vec<TcpListener>,
        tls: Vec<TcpListener>,
    ) -> Listeners {
        LISTEN_FDS.lock().0 = listeners.iter().map(|l| l.as_raw_fd()).collect();
        *TLS_LISTEN_FDS.lock() = tls.iter().map(|l| l.as_raw_fd()).collect();
        Listeners {
            tasks: listeners
                .into_iter()
                .map(|l| tokio::spawn(accept_tcp(shared.clone(), l)))
                .collect(),
            tls_tasks: tls
                .into_iter()
                .map(|l| tokio::spawn(accept_tls(shared.clone(), l)))
                .collect(),
        }
    }

    /// Replaces the TLS listeners (CONFIG SET tls-port/bind), the new ones first.
    pub fn rebind_tls(
        &mut self,
        shared: &Arc<Shared>,
        bind: &[Vec<u8>],
        port: u16,
        backlog: u32,
    ) -> Result<(), String> {
        let new = open_listeners(bind, port, backlog)?;
        for t in self.tls_tasks.drain(..) {
            t.abort();
        }
        *TLS_LISTEN_FDS.lock() = new.iter().map(|l| l.as_raw_fd()).collect();
        self.tls_tasks = new
            .into_iter()
            .map(|l| tokio::spawn(accept_tls(shared.clone(), l)))
            .collect();
        Ok(())
    }

    /// Replaces the listeners (CONFIG SET port/bind): the new ones are opened first, so
    /// a failure leaves the old ones in place.
    pub fn rebind(
        &mut self,
        shared: &Arc<Shared>,
        bind: &[Vec<u8>],
        port: u16,
        backlog: u32,
    ) -> Result<(), String> {
        let new = open_listeners(bind, port, backlog)?;
        for t in self.tasks.drain(..) {
            t.abort();
        }
        LISTEN_FDS.lock().0 = new.iter().map(|l| l.as_raw_fd()).collect();
        self.tasks = new
            .into_iter()
            .map(|l| tokio::spawn(accept_tcp(shared.clone(), l)))
            .collect();
        Ok(())
    }
}

async fn serve(
    config: Config,
    config_file: Option<std::path::PathBuf>,
    renames: HashMap<Vec<u8>, Vec<u8>>,
    users: Vec<Vec<Vec<u8>>>,
) -> i32 {
    let port = config.port;
    let bind = config.bind.clone();
    let backlog = config.tcp_backlog;
    let unixsocket = config.unixsocket.clone();
    let unixsocketperm = config.unixsocketperm;
    let mut server = Server::new(config);
    server.tcp_port = port;
    server.config_file = config_file;
    server.renames = renames;
    if let Err(e) = crate::acl::load_users_at_startup(&mut server, &users) {
        log(Level::Warning, &e);
        std::process::exit(1);
    }
    let shared = Arc::new(Shared {
        state: Mutex::new(server),
        unpause: Notify::new(),
        listeners: Mutex::new(None),
    });
    let _ = crate::state::SHARED.set(shared.clone());
    // Like Redis: a banner (with the PID, which Redis's test suite waits for) when
    // logging to a terminal or with always-show-logo, else one line.
    let show_logo = {
        let st = shared.state.lock();
        (!st.config.syslog_enabled
            && st.config.logfile.is_empty()
            && std::io::IsTerminal::is_terminal(&std::io::stdout()))
            || st.config.always_show_logo
    };
    if show_logo {
        if log::enabled(Level::Notice) {
            log::write_plain(&format!(
                "\n    Redis {REDIS_VERSION} (00000000/0) 64 bit\n    Running in standalone mode\n    Port: {port}\n    PID: {}\n\n",
                std::process::id()
            ));
        }
    } else {
        log(
            Level::Notice,
            &format!("Running mode=standalone, port={port}."),
        );
    }
    let tcp = match open_listeners(&bind, port, backlog) {
        Ok(l) => l,
        Err(e) => {
            log(Level::Warning, &e);
            log(
                Level::Warning,
                &format!("Failed listening on port {port} (tcp), aborting."),
            );
            return 1;
        }
    };
    let tls_port = shared.state.lock().config.tls_port;
    let mut tls = Vec::new();
    {
        let mut st = shared.state.lock();
        if crate::tls::wanted(&st.config) {
            match crate::tls::configure(&st.config) {
                Ok(c) => st.tls = Some(Arc::new(c)),
                Err(crate::tls::Logged) => {
                    log(
                        Level::Warning,
                        "Failed to configure TLS. Check logs for more info.",
                    );
                    return 1;
                }
            }
        }
    }
    if tls_port != 0 {
        tls = match open_listeners(&bind, tls_port, backlog) {
            Ok(l) => l,
            Err(e) => {
                log(Level::Warning, &e);
                log(
                    Level::Warning,
                    &format!("Failed listening on port {tls_port} (tls), aborting."),
                );
                return 1;
            }
        };
    }
    *shared.listeners.lock() = Some(Listeners::start(&shared, tcp, tls));
    if let Some(path) = unixsocket {
        let path = String::from_utf8_lossy(&path).into_owned();
        let _ = std::fs::remove_file(&path);
        match UnixListener::bind(&path) {
            Ok(l) => {
                if unixsocketperm != 0 {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = std::fs::set_permissions(
                        &path,
                        std::fs::Permissions::from_mode(unixsocketperm),
                    );
                }
                LISTEN_FDS.lock().1 = Some(l.as_raw_fd());
                tokio::spawn(accept_unix(shared.clone(), l, path));
            }
            Err(e) => {
                log(Level::Warning, &format!("Failed opening Unix socket: {e}"));
                return 1;
            }
        }
    }
    tokio::spawn(crate::cron::run(shared.clone()));
    log(Level::Warning, "Server initialized");
    if !load_data(&shared) {
        return 1;
    }
    {
        let mut st = shared.state.lock();
        if let Some((host, port)) = st.config.replicaof.clone() {
            let host = String::from_utf8_lossy(&host).into_owned();
            crate::replication::replica::set_master(&mut st, host, port as u16);
        }
    }
    log(Level::Notice, "Ready to accept connections");

    // A signal schedules the shutdown; the cron carries it out (`cron_shutdown`),
    // and `shutdown` exits the process.
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .expect("SIGINT handler");
    install_insist_handler();
    loop {
        let (sig, name) = tokio::select! {
            _ = sigterm.recv() => (libc::SIGTERM, "SIGTERM"),
            _ = sigint.recv() => (libc::SIGINT, "SIGINT"),
        };
        log(
            Level::Warning,
            &format!("Received {name} scheduling shutdown..."),
        );
        let mut st = shared.state.lock();
        st.shutdown_signal = Some(sig);
        SHUTDOWN_ASAP.store(true, Ordering::SeqCst);
    }
}

/// Loads the RDB file at start-up, as Redis's loadDataFromDisk (AOF loading comes with
/// AOF support: with `appendonly yes` nothing is loaded). False on a fatal error.
fn load_data(shared: &Shared) -> bool {
    let mut st = shared.state.lock();
    if st.config.appendonly {
        return crate::aof::load_at_startup(shared, &mut st);
    }
    let path = crate::rdb::rdb_path(&st);
    if !path.exists() {
        return true;
    }
    let start = std::time::Instant::now();
    let now = crate::state::now_ms();
    match crate::rdb::load(&mut st, &path, false, now) {
        Ok(stats) => {
            st.stats.rdb_last_load_keys_loaded = stats.loaded;
            crate::replication::loaded_rdb_aux(&mut st, stats.repl.clone());
            st.stats.rdb_last_load_keys_expired = stats.expired;
            log(
                Level::Notice,
                &format!(
                    "Done loading RDB, keys loaded: {}, keys expired: {}.",
                    stats.loaded, stats.expired
                ),
            );
            log(
                Level::Notice,
                &format!(
                    "DB loaded from disk: {:.3} seconds",
                    start.elapsed().as_secs_f64()
                ),
            );
            true
        }
        Err(e) => {
            log(
                Level::Warning,
                &format!("Fatal error loading the DB: {e}. Exiting."),
            );
            false
        }
    }
}

/// Set when SIGTERM/SIGINT asked for a shutdown the cron has not done yet; read by
/// the raw SIGINT handler, for which a second SIGINT means "exit now".
static SHUTDOWN_ASAP: AtomicBool = AtomicBool::new(false);

/// What a shutdown does with the dataset (SHUTDOWN's options, or
/// shutdown-on-sigterm / -sigint).
#[derive(Debug, Clone, Copy, Default)]
pub struct ShutdownFlags {
    pub save: bool,
    pub nosave: bool,
    pub force: bool,
    /// Do not wait for lagging replicas (SHUTDOWN NOW).
    pub now: bool,
}

impl ShutdownFlags {
    /// From a shutdown-on-sig* config value (`redis_server_config::shutdown_flags`).
    pub fn from_config(bits: u32) -> Self {
        use redis_server_config::shutdown_flags::{FORCE, NOSAVE, NOW, SAVE};
        ShutdownFlags {
            save: bits & SAVE != 0,
            nosave: bits & NOSAVE != 0,
            force: bits & FORCE != 0,
            now: bits & NOW != 0,
        }
    }
}

/// Redis's prepareForShutdown then exit: stops a BGSAVE child, saves when asked or
/// when save points are configured (unless NOSAVE), removes the pid file and the
/// unix socket, and exits the process. Returns only when the save failed without
/// FORCE (the server goes on).
pub fn shutdown(st: &mut crate::state::Server, flags: ShutdownFlags) -> bool {
    crate::replication::master::log_replicas_at_shutdown(st);
    // An AOF not written yet would lose the dataset (Redis's finishShutdown).
    if st.aof.status == crate::aof::Status::WaitRewrite
        && st.bgsave.child.map(|c| c.kind) == Some(crate::bgsave::ChildKind::Aof)
    {
        if flags.force {
            log(Level::Warning, "Writing initial AOF. Exit anyway.");
        } else {
            log(Level::Warning, "Writing initial AOF, can't exit.");
            log(
                Level::Warning,
                "Errors trying to shut down the server. Check the logs for more information.",
            );
            cancel_shutdown(st);
            return false;
        }
    }
    crate::bgsave::kill_for_shutdown(st);
    if st.aof.status != crate::aof::Status::Off {
        log(Level::Notice, "Calling fsync() on the AOF file.");
        crate::aof::flush_for_shutdown(st);
    }
    if flags.save || (!flags.nosave && !st.config.save.is_empty()) {
        log(
            Level::Notice,
            "Saving the final RDB snapshot before exiting.",
        );
        let path = crate::rdb::rdb_path(st);
        if crate::rdb::save(st, &path, crate::state::now_ms()).is_err() {
            if flags.force {
                log(Level::Warning, "Error trying to save the DB. Exit anyway.");
            } else {
                log(Level::Warning, "Error trying to save the DB, can't exit.");
                log(
                    Level::Warning,
                    "Errors trying to shut down the server. Check the logs for more information.",
                );
                cancel_shutdown(st);
                return false;
            }
        }
    }
    // Best effort: what is queued for the replicas goes out before the exit.
    crate::replication::master::flush_replicas_at_exit(st);
    {
        let fds = LISTEN_FDS.lock();
        let tls = TLS_LISTEN_FDS.lock();
        for fd in fds.0.iter().chain(fds.1.iter()).chain(tls.iter()) {
            // SAFETY: the process exits below; nothing uses the listeners again.
            unsafe { libc::close(*fd) };
        }
    }
    if let Some(p) = &st.config.pidfile {
        log(Level::Notice, "Removing the pid file.");
        let _ = std::fs::remove_file(String::from_utf8_lossy(p).as_ref());
    }
    if let Some(p) = &st.config.unixsocket {
        let _ = std::fs::remove_file(String::from_utf8_lossy(p).as_ref());
    }
    log(Level::Warning, "Redis is now ready to exit, bye bye...");
    std::process::exit(0)
}

/// Forgets a shutdown a signal asked for. False if none was pending.
pub fn cancel_shutdown(st: &mut crate::state::Server) -> bool {
    SHUTDOWN_ASAP.store(false, Ordering::SeqCst);
    st.shutdown_signal.take().is_some()
}

/// The cron's part: a shutdown asked by a signal happens here, as in Redis's
/// serverCron (so DEBUG PAUSE-CRON holds it and SHUTDOWN ABORT can cancel it).
pub fn cron_shutdown(st: &mut crate::state::Server) {
    let Some(sig) = st.shutdown_signal else {
        return;
    };
    // Already waiting for lagging replicas (`crate::replication`).
    if st.repl.shutdown.is_some() {
        return;
    }
    let bits = if sig == libc::SIGINT {
        st.config.shutdown_on_sigint
    } else {
        st.config.shutdown_on_sigterm
    };
    log(Level::Warning, "User requested shutdown...");
    let flags = ShutdownFlags::from_config(bits);
    if crate::replication::master::begin_shutdown_wait(st, flags, crate::state::now_ms()) {
        return;
    }
    shutdown(st, flags);
}

/// Installs the raw SIGINT action that ends the process at once on a second SIGINT
/// (the first one scheduled a shutdown that may be stuck saving), removing the
/// temporary RDB file of a save under way, as Redis's sigShutdownHandler.
fn install_insist_handler() {
    let tmp = std::ffi::CString::new(format!("temp-{}.rdb", std::process::id()))
        .expect("no NUL in a file name");
    let action = move || {
        if SHUTDOWN_ASAP.load(Ordering::SeqCst) {
            // SAFETY: unlink and _exit are async-signal-safe; `tmp` was built before.
            unsafe {
                libc::unlink(tmp.as_ptr());
                libc::_exit(1);
            }
        }
    };
    // SAFETY: the action only reads an atomic and calls async-signal-safe functions.
    let _ = unsafe { signal_hook_registry::register(libc::SIGINT, action) };
}

/// Waits for the next connection on `listener` and sets its socket up as Redis does
/// (TCP_NODELAY, tcp-keepalive); an accept error is logged and retried.
async fn accept_next(
    shared: &Shared,
    listener: &TcpListener,
) -> (tokio::net::TcpStream, SocketAddr, SocketAddr, i64) {
    loop {
        let (sock, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                log(Level::Warning, &format!("Accepting client connection: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        let keepalive = shared.state.lock().config.tcp_keepalive;
        if keepalive > 0 {
            let ka = socket2::TcpKeepalive::new()
                .with_time(std::time::Duration::from_secs(keepalive as u64));
            let _ = socket2::SockRef::from(&sock).set_tcp_keepalive(&ka);
        }
        let local = sock.local_addr().unwrap_or(addr);
        let fd = sock.as_raw_fd() as i64;
        return (sock, addr, local, fd);
    }
}

async fn accept_tcp(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (sock, addr, local, fd) = accept_next(&shared, &listener).await;
        let peer = Peer::Tcp {
            addr,
            local,
            tls: false,
        };
        tokio::spawn(crate::net::serve(shared.clone(), sock, peer, fd));
    }
}

/// Accepts on a TLS port: the handshake runs in the connection's own task, so a slow
/// or failing client holds up no other.
async fn accept_tls(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let (sock, addr, local, fd) = accept_next(&shared, &listener).await;
        let acceptor = {
            let st = shared.state.lock();
            st.tls
                .as_ref()
                .map(|t| t.acceptor(st.config.tls_auth_clients))
        };
        let Some(acceptor) = acceptor else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            // Not a TLS handshake record (a plain-text client on the TLS port): close
            // without an alert, as OpenSSL does, so the client sees the connection end.
            let mut first = [0u8; 1];
            if !matches!(sock.peek(&mut first).await, Ok(1) if first[0] == 0x16) {
                log(
                    Level::Verbose,
                    &format!(
                        "Error accepting a client connection: not a TLS handshake (addr={}:{} laddr={}:{})",
                        addr.ip(),
                        addr.port(),
                        local.ip(),
                        local.port()
                    ),
                );
                return;
            }
            match acceptor.accept(sock).await {
                Ok(stream) => {
                    let peer = Peer::Tcp {
                        addr,
                        local,
                        tls: true,
                    };
                    crate::net::serve(shared, stream, peer, fd).await
                }
                Err(e) => log(
                    Level::Verbose,
                    &format!(
                        "Error accepting a client connection: {e} (addr={}:{} laddr={}:{})",
                        addr.ip(),
                        addr.port(),
                        local.ip(),
                        local.port()
                    ),
                ),
            }
        });
    }
}

async fn accept_unix(shared: Arc<Shared>, listener: UnixListener, path: String) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let fd = sock.as_raw_fd() as i64;
        tokio::spawn(crate::net::serve(
            shared.clone(),
            sock,
            Peer::Unix { path: path.clone() },
            fd,
        ));
    }
}
