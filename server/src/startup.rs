//! Start-up and shutdown: configuration, listeners, the runtime, signals.

use crate::client::Peer;
use crate::config::Config;
use crate::log::{self, log, log_raw, Level};
use crate::state::{Server, Shared};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpSocket, UnixListener};
use tokio::sync::Notify;

/// The version we report: we are a drop-in for this Redis release.
pub const REDIS_VERSION: &str = "7.0.15";

/// Interim argument parsing (the full redis.conf grammar arrives with the config
/// crate): `[--name value ...]`.
fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut c = Config::default();
    let mut i = 0;
    while i < args.len() {
        let name = args[i].trim_start_matches("--").to_ascii_lowercase();
        let mut vals = Vec::new();
        i += 1;
        while i < args.len() && !args[i].starts_with("--") {
            vals.push(args[i].clone());
            i += 1;
        }
        let v = vals.first().cloned().unwrap_or_default();
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("bad value for {name}: {s}"))
        };
        match name.as_str() {
            "port" => c.port = num(&v)? as u16,
            "bind" => c.bind = vals.clone(),
            "unixsocket" => c.unixsocket = Some(v),
            "maxclients" => c.maxclients = num(&v)?,
            "databases" => c.databases = num(&v)? as usize,
            "requirepass" => c.requirepass = Some(v.into_bytes()),
            "protected-mode" => c.protected_mode = v == "yes",
            "timeout" => c.timeout = num(&v)?,
            "hz" => c.hz = num(&v)? as u32,
            "maxmemory" => c.maxmemory = num(&v)?,
            "maxmemory-policy" => {
                c.maxmemory_policy =
                    crate::config::MaxmemoryPolicy::from_name(&v).ok_or_else(|| {
                        format!("Invalid argument '{v}' for CONFIG SET 'maxmemory-policy'")
                    })?
            }
            "maxmemory-samples" => c.maxmemory_samples = num(&v)? as u32,
            "maxmemory-eviction-tenacity" => c.maxmemory_eviction_tenacity = num(&v)? as u32,
            "lfu-log-factor" => c.lfu_log_factor = num(&v)? as u32,
            "lfu-decay-time" => c.lfu_decay_time = num(&v)? as u32,
            "active-expire-effort" => c.active_expire_effort = num(&v)? as u32,
            "lazyfree-lazy-user-flush" => c.lazyfree_lazy_user_flush = v == "yes",
            "enable-debug-command" => {
                c.enable_debug_command = match v.to_ascii_lowercase().as_str() {
                    "yes" => crate::config::ProtectedAction::Yes,
                    "no" => crate::config::ProtectedAction::No,
                    "local" => crate::config::ProtectedAction::Local,
                    _ => {
                        return Err(
                            "argument(s) must be one of the following: no, yes, local".into()
                        )
                    }
                }
            }
            "loglevel" => c.loglevel = v,
            "logfile" => c.logfile = v,
            "dir" => {
                std::env::set_current_dir(&v).map_err(|e| format!("Can't chdir to '{v}': {e}"))?;
                c.dir = v;
            }
            "save" | "appendonly" | "daemonize" => {}
            other => {
                return Err(format!(
                    "Bad directive or wrong number of arguments: {other}"
                ))
            }
        }
    }
    Ok(c)
}

/// Entry point of `redis-server`.
pub fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{e}");
            std::process::exit(1);
        }
    };
    if let Some(l) = Level::from_name(&config.loglevel) {
        log::set_level(l);
    }
    log::set_file(&config.logfile);
    let threads = std::env::var("REDIS_RS_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    let runtime = if threads <= 1 {
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
    let code = runtime.block_on(serve(config));
    std::process::exit(code);
}

async fn bind_tcp(addr: &str, port: u16, backlog: u32) -> std::io::Result<TcpListener> {
    let host = match addr {
        "*" => "0.0.0.0",
        "::*" => "::",
        a => a,
    };
    let sa: SocketAddr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
    .parse()
    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
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

async fn serve(config: Config) -> i32 {
    let pid = std::process::id();
    log_raw(
        Level::Notice,
        "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    );
    log_raw(
        Level::Notice,
        &format!(
            "Redis version={REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid={pid}, just started"
        ),
    );
    let port = config.port;
    let bind = config.bind.clone();
    let backlog = config.tcp_backlog;
    let unixsocket = config.unixsocket.clone();
    let mut server = Server::new(config);
    server.tcp_port = port;
    let shared = Arc::new(Shared {
        state: Mutex::new(server),
        unpause: Notify::new(),
        shutdown: Notify::new(),
    });

    let mut listeners = Vec::new();
    if port != 0 {
        for addr in &bind {
            let (optional, addr) = match addr.strip_prefix('-') {
                Some(a) => (true, a),
                None => (false, addr.as_str()),
            };
            match bind_tcp(addr, port, backlog).await {
                Ok(l) => listeners.push(l),
                Err(e) if optional => {
                    log(
                        Level::Verbose,
                        &format!("Skipping optional bind {addr}:{port}: {e}"),
                    );
                }
                Err(e) => {
                    log(
                        Level::Warning,
                        &format!("Warning: Could not create server TCP listening socket {addr}:{port}: bind: {e}"),
                    );
                    log(
                        Level::Warning,
                        &format!("Failed listening on port {port} (tcp), aborting."),
                    );
                    return 1;
                }
            }
        }
    }
    for l in listeners {
        tokio::spawn(accept_tcp(shared.clone(), l));
    }
    if let Some(path) = unixsocket {
        let _ = std::fs::remove_file(&path);
        match UnixListener::bind(&path) {
            Ok(l) => {
                tokio::spawn(accept_unix(shared.clone(), l, path));
            }
            Err(e) => {
                log(Level::Warning, &format!("Failed opening Unix socket: {e}"));
                return 1;
            }
        }
    }
    tokio::spawn(crate::cron::run(shared.clone()));
    log(Level::Notice, "Server initialized");
    log(Level::Notice, "Ready to accept connections tcp");

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .expect("SIGINT handler");
    tokio::select! {
        _ = sigterm.recv() => log(Level::Warning, "Received SIGTERM scheduling shutdown..."),
        _ = sigint.recv() => log(Level::Warning, "Received SIGINT scheduling shutdown..."),
        _ = shared.shutdown.notified() => {}
    }
    log(Level::Warning, "User requested shutdown...");
    log(Level::Warning, "Redis is now ready to exit, bye bye...");
    0
}

async fn accept_tcp(shared: Arc<Shared>, listener: TcpListener) {
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
            let ka =
                socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(keepalive));
            let _ = socket2::SockRef::from(&sock).set_tcp_keepalive(&ka);
        }
        let local = sock.local_addr().unwrap_or(addr);
        let fd = sock.as_raw_fd() as i64;
        tokio::spawn(crate::net::serve(
            shared.clone(),
            sock,
            Peer::Tcp { addr, local },
            fd,
        ));
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
