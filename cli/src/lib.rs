//! The suite's `redis-cli`: a drop-in for Redis 7.0's, with a rustyline REPL.
//!
//! - [`opts`]: Redis's option grammar and messages.
//! - [`conn`] / [`tls`]: blocking TCP, unix-socket and rustls connections.
//! - [`format`]: tty, raw, csv, json and quoted-json reply styles.
//! - [`session`]: connect/AUTH/SELECT/HELLO, sending commands, redirections.
//! - [`repl`] / [`help`]: the interactive mode, hints and completion.
//! - [`modes`]: --pipe, --scan, --bigkeys, --stat, the latency family, --rdb, ...

pub mod conn;
pub mod format;
pub mod help;
pub mod modes;
pub mod opts;
pub mod repl;
pub mod session;
pub mod signals;
pub mod static_help;
pub mod tls;
mod usage;

use opts::Parsed;
use session::{ConnectFlags, Session};
use std::io::{IsTerminal, Read};
use std::os::unix::ffi::OsStringExt;

/// The entry point of the cluster manager (`--cluster <subcommand>`): it gets
/// the parsed config and returns the exit code. It lives in another crate
/// (which depends on this one for connections and options), so the binary
/// registers it with [`set_cluster_manager`].
pub type ClusterManagerFn = fn(&opts::Config) -> i32;

static CLUSTER_MANAGER: std::sync::OnceLock<ClusterManagerFn> = std::sync::OnceLock::new();

/// Registers the `--cluster` implementation (call once, before [`run`]).
pub fn set_cluster_manager(f: ClusterManagerFn) {
    let _ = CLUSTER_MANAGER.set(f);
}

/// The Redis version this redis-cli matches (`redis-cli --version`).
pub const VERSION: &str = "7.0.15";

/// Reads all of stdin (for -x / -X).
fn read_stdin_arg() -> Vec<u8> {
    let mut v = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut v) {
        session::err(format!("Reading from standard input: {}\n", conn::strerror(&e)).as_bytes());
        std::process::exit(1);
    }
    v
}

/// A one-shot command from the command line (Redis's `noninteractive`).
fn noninteractive(s: &mut Session, args: Vec<Vec<u8>>) -> i32 {
    let mut argv = if s.cfg.quoted_input {
        let mut v = Vec::with_capacity(args.len());
        for a in &args {
            match opts::unquote(a) {
                Some(u) => v.push(u),
                None => {
                    session::out(b"Invalid quoted string\n");
                    return 1;
                }
            }
        }
        v
    } else {
        args
    };
    if s.cfg.stdin_lastarg {
        argv.push(read_stdin_arg());
    } else if let Some(tag) = s.cfg.stdin_tag.clone() {
        match argv.iter().position(|a| *a == tag) {
            Some(i) => argv[i] = read_stdin_arg(),
            None => {
                session::err(b"Using -X option but stdin tag not match.\n");
                return 1;
            }
        }
    }
    let repeat = s.cfg.repeat;
    match s.issue_command(&argv, repeat) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Runs redis-cli with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let argv: Vec<Vec<u8>> = std::env::args_os().map(|a| a.into_vec()).collect();
    run(argv)
}

/// Runs redis-cli with `argv` (argv[0] included).
pub fn run(argv: Vec<Vec<u8>>) -> i32 {
    signals::default_sigpipe();
    help::set_fallback_table(Box::new(static_help::SuiteTable));
    let stdout_tty = std::io::stdout().is_terminal() || std::env::var_os("FAKETTY").is_some();
    let (mut cfg, args) = match opts::parse(&argv, stdout_tty) {
        Parsed::Exit {
            code,
            stdout,
            stderr,
        } => {
            session::out(&stdout);
            session::err(&stderr);
            return code;
        }
        Parsed::Run {
            config,
            args,
            stderr,
        } => {
            session::err(&stderr);
            (*config, args)
        }
    };
    if cfg.auth.is_none() {
        if let Some(a) = std::env::var_os("REDISCLI_AUTH") {
            cfg.auth = Some(a.into_vec());
        }
    }
    if cfg.askpass {
        cfg.auth = Some(repl::ask_password("Please input password: "));
    }
    if cfg.cluster.name.is_some() {
        if std::env::var_os("REDISCLI_CLUSTER_YES").is_some_and(|v| v == "1") {
            cfg.cluster.yes = true;
        }
        return match CLUSTER_MANAGER.get() {
            Some(f) => f(&cfg),
            None => {
                session::err(b"The --cluster manager is not linked into this program.\n");
                1
            }
        };
    }
    let mut s = Session::new(cfg);
    let plain = ConnectFlags::default();

    if s.cfg.latency_mode || s.cfg.latency_dist_mode {
        if s.connect(plain).is_err() {
            return 1;
        }
        return if s.cfg.latency_mode {
            modes::latency::latency(&mut s)
        } else {
            modes::latency::latency_dist(&mut s)
        };
    }
    if s.cfg.replica_mode {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::rdb::replica_mode(&mut s);
    }
    if s.cfg.getrdb_mode || s.cfg.functions_rdb_mode {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::rdb::get_rdb(&mut s);
    }
    if s.cfg.pipe_mode {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::pipe::pipe_mode(&mut s);
    }
    if s.cfg.bigkeys || s.cfg.memkeys {
        if s.connect(plain).is_err() {
            return 1;
        }
        let mem = s.cfg.memkeys && !s.cfg.bigkeys;
        return modes::keys::find_big_keys(&mut s, mem);
    }
    if s.cfg.hotkeys {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::keys::find_hot_keys(&mut s);
    }
    if s.cfg.stat_mode {
        if s.connect(plain).is_err() {
            return 1;
        }
        if s.cfg.interval_us == 0 {
            s.cfg.interval_us = 1_000_000;
        }
        return modes::stat::stat_mode(&mut s);
    }
    if s.cfg.scan_mode {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::keys::scan_mode(&mut s);
    }
    if let Some(n) = s.cfg.lru_test {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::stat::lru_test(&mut s, n);
    }
    if let Some(secs) = s.cfg.intrinsic_latency {
        return modes::latency::intrinsic(secs);
    }
    if args.is_empty() && s.cfg.eval.is_none() {
        signals::install_repl();
        let _ = s.connect(plain);
        return repl::repl(&mut s);
    }
    if s.cfg.eval.is_some() {
        if s.connect(plain).is_err() {
            return 1;
        }
        return modes::eval::eval_mode(&mut s, args);
    }
    let _ = s.connect(ConnectFlags {
        force: false,
        quiet: true,
    });
    noninteractive(&mut s, args)
}
