//! The client session: connecting (AUTH, SELECT, HELLO 3), sending commands,
//! reading and printing replies, following cluster redirections, and the
//! state the prompt shows (db number, MULTI).

use crate::conn::{Conn, ConnError, Target};
use crate::format;
use crate::opts::{Config, OutputMode, Resp3};
use crate::signals;
use redis_formats::RespValue;
use std::io::Write;

/// The kind of the last reply (Redis's `last_cmd_type`), as far as the
/// session logic needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastType {
    None,
    Error,
    Nil,
    Other,
}

/// A failed step (connect, command); the message was already printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed;

/// Outcome of a command send: `Err` means the link is gone.
pub type SendResult = Result<(), Failed>;

/// Connection flags (Redis's CC_FORCE / CC_QUIET).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectFlags {
    pub force: bool,
    pub quiet: bool,
}

/// All mutable client state.
pub struct Session {
    pub cfg: Config,
    pub conn: Option<Conn>,
    /// The last connection error text, printed by `print_context_error`.
    pub last_err: Option<String>,
    pub dbnum: i64,
    pub in_multi: bool,
    pre_multi_dbnum: i64,
    pub interactive: bool,
    pub last_type: LastType,
    pub cluster_reissue: bool,
    cluster_send_asking: bool,
    shutdown: bool,
    pub monitor_mode: bool,
    pub pubsub_mode: bool,
    slave_mode: bool,
    /// The Lua debugger ended its session with the last reply.
    pub ldb_end: bool,
    /// SCRIPT DEBUG yes/sync was typed: the next EVAL starts the debugger.
    enable_ldb_on_eval: bool,
}

/// Writes to stdout and flushes (Redis flushes after every reply so output is
/// grep friendly).
pub fn out(bytes: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes);
    let _ = o.flush();
}

/// Writes to stderr.
pub fn err(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Commands whose replies are printed raw even in tty mode (INFO and friends).
pub fn raw_output_command(argv: &[Vec<u8>]) -> bool {
    let argc = argv.len();
    let c = &argv[0];
    let a1 = |s: &str| argc >= 2 && eq(&argv[1], s);
    eq(c, "info")
        || eq(c, "lolwut")
        || (eq(c, "debug") && (a1("htstats") || a1("htstats-key") || a1("client-eviction")))
        || (eq(c, "memory") && (a1("malloc-stats") || a1("doctor")))
        || (argc == 2 && eq(c, "cluster") && (a1("nodes") || a1("info")))
        || (eq(c, "client") && (a1("list") || a1("info")))
        || (argc == 3 && eq(c, "latency") && a1("graph"))
        || (argc == 2 && eq(c, "latency") && a1("doctor"))
        || (eq(c, "proxy") && a1("info"))
}

impl Session {
    /// A session that is not connected yet.
    pub fn new(cfg: Config) -> Self {
        Session {
            cfg,
            conn: None,
            last_err: None,
            dbnum: 0,
            in_multi: false,
            pre_multi_dbnum: 0,
            interactive: false,
            last_type: LastType::None,
            cluster_reissue: false,
            cluster_send_asking: false,
            shutdown: false,
            monitor_mode: false,
            pubsub_mode: false,
            slave_mode: false,
            ldb_end: false,
            enable_ldb_on_eval: false,
        }
    }

    /// The prompt: `127.0.0.1:6379[2](TX)> ` or `redis /tmp/sock> `.
    pub fn prompt(&self) -> String {
        let mut p = match &self.cfg.socket {
            Some(s) => format!("redis {s}"),
            None if self.cfg.host.contains(':') => format!("[{}]:{}", self.cfg.host, self.cfg.port),
            None => format!("{}:{}", self.cfg.host, self.cfg.port),
        };
        if self.dbnum != 0 {
            p.push_str(&format!("[{}]", self.dbnum));
        }
        if self.in_multi {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    fn target(&self) -> Target {
        match &self.cfg.socket {
            Some(s) if !(self.cfg.cluster_mode && self.cluster_reissue) => Target::Unix(s.clone()),
            _ => Target::Tcp {
                host: self.cfg.host.clone(),
                port: self.cfg.port,
            },
        }
    }

    /// Connects (Redis's `cliConnect`): AUTH, SELECT and HELLO 3 as configured.
    /// Errors are printed unless `quiet`.
    pub fn connect(&mut self, flags: ConnectFlags) -> Result<(), Failed> {
        if self.conn.is_some() && !flags.force {
            return Ok(());
        }
        if self.conn.take().is_some() {
            self.dbnum = 0;
            self.in_multi = false;
        }
        signals::set_conn_fd(-1);
        let target = self.target();
        let tls = if self.cfg.tls {
            Some(&self.cfg.tls_opts)
        } else {
            None
        };
        match Conn::connect(&target, tls) {
            Ok(c) => {
                signals::set_conn_fd(c.stream.raw_fd());
                self.conn = Some(c);
            }
            Err(ConnError::Tls(e)) => {
                err(format!("Could not negotiate a TLS connection: {e}\n").as_bytes());
                return Err(Failed);
            }
            Err(e) => {
                if !flags.quiet {
                    let at = match &target {
                        Target::Tcp { host, port } => format!("{host}:{port}"),
                        Target::Unix(p) => p.clone(),
                    };
                    err(format!("Could not connect to Redis at {at}: {}\n", e.errstr()).as_bytes());
                }
                return Err(Failed);
            }
        }
        self.auth()?;
        self.select()?;
        self.switch_proto()?;
        Ok(())
    }

    /// A command on the side (AUTH, SELECT, HELLO); `None` after an I/O error.
    fn side_command(&mut self, args: &[&[u8]]) -> Option<RespValue> {
        let conn = self.conn.as_mut()?;
        match conn.command(args) {
            Ok(v) => Some(v),
            Err(e) => {
                self.last_err = Some(e.errstr());
                err(b"\nI/O error\n");
                // A closed link is replaced on the next command, as hiredis
                // does for I/O and EOF errors; after a protocol error the
                // link stays and keeps failing, as it does there too.
                if !matches!(e, ConnError::Protocol(_)) {
                    self.conn = None;
                    signals::set_conn_fd(-1);
                }
                None
            }
        }
    }

    fn auth(&mut self) -> Result<(), Failed> {
        let Some(pass) = self.cfg.auth.clone() else {
            return Ok(());
        };
        let reply = match self.cfg.user.clone() {
            Some(u) => self.side_command(&[b"AUTH", &u, &pass]),
            None => self.side_command(&[b"AUTH", &pass]),
        };
        match reply {
            None => Err(Failed),
            Some(RespValue::Error(e)) => {
                err(&[b"AUTH failed: ", &e[..], b"\n"].concat());
                Err(Failed)
            }
            Some(_) => Ok(()),
        }
    }

    /// SELECT the asked-for db when it differs from the current one.
    pub fn select(&mut self) -> Result<(), Failed> {
        if self.cfg.input_dbnum == self.dbnum {
            return Ok(());
        }
        let n = self.cfg.input_dbnum.to_string();
        match self.side_command(&[b"SELECT", n.as_bytes()]) {
            None => Err(Failed),
            Some(RespValue::Error(e)) => {
                err(format!(
                    "SELECT {} failed: {}\n",
                    self.cfg.input_dbnum,
                    String::from_utf8_lossy(&e)
                )
                .as_bytes());
                Err(Failed)
            }
            Some(_) => {
                self.dbnum = self.cfg.input_dbnum;
                Ok(())
            }
        }
    }

    fn switch_proto(&mut self) -> Result<(), Failed> {
        if self.cfg.resp3 == Resp3::Off || self.cfg.resp2 {
            return Ok(());
        }
        match self.side_command(&[b"HELLO", b"3"]) {
            None => Err(Failed),
            Some(RespValue::Error(e)) => {
                err(&[b"HELLO 3 failed: ", &e[..], b"\n"].concat());
                if self.cfg.resp3 == Resp3::Required {
                    Err(Failed)
                } else {
                    Ok(())
                }
            }
            Some(_) => Ok(()),
        }
    }

    /// Prints `Error: <errstr>` for the last link failure (Redis's
    /// `cliPrintContextError`); nothing when there never was a link.
    pub fn print_context_error(&mut self) {
        if let Some(e) = self.last_err.take() {
            err(format!("Error: {e}\n").as_bytes());
        }
    }

    fn link_lost(&mut self, e: ConnError) {
        self.last_err = Some(e.errstr());
    }

    /// Reads one reply, printing (or dropping) RESP3 pushes on the way as
    /// hiredis's push callback does.
    pub fn read_raw_reply(&mut self) -> Result<RespValue, ConnError> {
        loop {
            let conn = self
                .conn
                .as_mut()
                .ok_or_else(|| ConnError::Io("not connected".into()))?;
            let v = conn.read_reply()?;
            if matches!(v, RespValue::Push(_)) && !self.pubsub_mode {
                if self.cfg.push_output {
                    self.print_push(&v);
                }
                continue;
            }
            return Ok(v);
        }
    }

    fn print_push(&self, v: &RespValue) {
        let text = if self.cfg.output == OutputMode::Standard {
            format::invalidate_tty(v)
        } else {
            None
        };
        let text = match text {
            Some(t) => t,
            None => match self.format(v, false) {
                Ok(t) => t,
                Err(u) => {
                    err(u.0.as_bytes());
                    std::process::exit(1);
                }
            },
        };
        out(&text);
    }

    /// Formats per the configured output style.
    pub fn format(&self, v: &RespValue, raw_strings: bool) -> Result<Vec<u8>, format::Unprintable> {
        format::reply(
            v,
            self.cfg.output,
            raw_strings,
            &self.cfg.mb_delim,
            &self.cfg.cmd_delim,
        )
    }

    /// Redis's `cliReadReply`: read, handle redirections and -e, print.
    pub fn read_and_print(&mut self, raw_strings: bool) -> Result<(), Failed> {
        let reply = match self.read_raw_reply() {
            Ok(v) => v,
            Err(e) => {
                if signals::take_blocking_aborted() {
                    self.monitor_mode = false;
                    self.pubsub_mode = false;
                    return self.connect(ConnectFlags {
                        force: true,
                        quiet: false,
                    });
                }
                if self.shutdown {
                    self.conn = None;
                    return Ok(());
                }
                let es = e.errstr();
                self.link_lost(e);
                if self.interactive {
                    return Err(Failed);
                }
                err(format!("Error: {es}\n").as_bytes());
                std::process::exit(1);
            }
        };
        self.last_type = match &reply {
            RespValue::Error(_) => LastType::Error,
            RespValue::Nil => LastType::Nil,
            _ => LastType::Other,
        };
        let mut output = true;
        if let RespValue::Error(e) = &reply {
            if self.cfg.cluster_mode && (e.starts_with(b"MOVED ") || e.starts_with(b"ASK ")) {
                if let Some((slot, host, port)) = parse_redirect(e) {
                    output = false;
                    self.cfg.host = host;
                    self.cfg.port = port;
                    if self.interactive {
                        out(format!(
                            "-> Redirected to slot [{slot}] located at {}:{}\n",
                            self.cfg.host, self.cfg.port
                        )
                        .as_bytes());
                    }
                    self.cluster_reissue = true;
                    if e.starts_with(b"ASK ") {
                        self.cluster_send_asking = true;
                    }
                }
            } else if !self.interactive && self.cfg.set_errcode {
                let end = e.iter().position(|&b| b == 0).unwrap_or(e.len());
                err(&[&e[..end], b"\n"].concat());
                std::process::exit(1);
            }
        }
        if output && self.cfg.eval_ldb && !raw_strings && self.cfg.output == OutputMode::Raw {
            let color = std::env::var("TERM").is_ok_and(|t| t.contains("xterm"));
            let mut text = Vec::new();
            if format::raw_ldb(&mut text, &reply, &self.cfg.mb_delim, color) {
                self.enable_ldb_on_eval = false;
                self.cfg.eval_ldb = false;
                self.ldb_end = true;
                self.cfg.output = OutputMode::Standard;
            }
            text.extend_from_slice(&self.cfg.cmd_delim);
            out(&text);
            return Ok(());
        }
        if output {
            match self.format(&reply, raw_strings) {
                Ok(t) => out(&t),
                Err(u) => {
                    err(u.0.as_bytes());
                    std::process::exit(1);
                }
            }
        }
        Ok(())
    }

    /// Redis's `cliSendCommand`: send `argv` `repeat` times (forever when
    /// negative), with MONITOR / SUBSCRIBE streaming and replica output.
    pub fn send_command(&mut self, argv: &[Vec<u8>], mut repeat: i64) -> SendResult {
        if self.conn.is_none() {
            return Err(Failed);
        }
        let cmd = &argv[0];
        let argc = argv.len();
        let raw_strings = raw_output_command(argv);
        if eq(cmd, "shutdown") {
            self.shutdown = true;
        }
        if eq(cmd, "monitor") {
            self.monitor_mode = true;
        }
        if eq(cmd, "subscribe") || eq(cmd, "psubscribe") || eq(cmd, "ssubscribe") {
            self.pubsub_mode = true;
        }
        if eq(cmd, "sync") || eq(cmd, "psync") {
            self.slave_mode = true;
        }
        // SCRIPT DEBUG typed by hand arms the debugger for the next EVAL.
        if argc == 3 && eq(cmd, "script") && eq(&argv[1], "debug") {
            self.enable_ldb_on_eval = eq(&argv[2], "yes") || eq(&argv[2], "sync");
        }
        if eq(cmd, "eval") && self.enable_ldb_on_eval {
            self.cfg.eval_ldb = true;
            self.cfg.output = OutputMode::Raw;
        }
        while repeat < 0 || {
            repeat -= 1;
            repeat >= 0
        } {
            let sent = self.conn.as_mut().map(|c| c.send(argv));
            match sent {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    self.link_lost(e);
                    return Err(Failed);
                }
                None => return Err(Failed),
            }
            if self.monitor_mode {
                signals::set_blocking(true);
                loop {
                    if self.read_and_print(raw_strings).is_err() {
                        signals::set_blocking(false);
                        self.print_context_error();
                        std::process::exit(1);
                    }
                    if self.last_type == LastType::Error {
                        self.monitor_mode = false;
                    }
                    if !self.monitor_mode {
                        break;
                    }
                }
                signals::set_blocking(false);
                return Ok(());
            }
            if self.pubsub_mode {
                if self.cfg.output != OutputMode::Raw {
                    out(b"Reading messages... (press Ctrl-C to quit)\n");
                }
                signals::set_blocking(true);
                while self.pubsub_mode {
                    if self.read_and_print(raw_strings).is_err() {
                        signals::set_blocking(false);
                        self.print_context_error();
                        std::process::exit(1);
                    }
                    if self.last_type == LastType::Error {
                        self.pubsub_mode = false;
                    }
                }
                signals::set_blocking(false);
                continue;
            }
            if self.slave_mode {
                out(b"Entering replica output mode...  (press Ctrl-C to quit)\n");
                crate::modes::rdb::replica_stream(self);
                self.slave_mode = false;
                return Err(Failed);
            }
            self.read_and_print(raw_strings)?;
            self.after_reply(argv, argc);
            if self.cluster_reissue {
                break;
            }
            if self.cfg.interval_us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(
                    self.cfg.interval_us as u64,
                ));
            }
        }
        Ok(())
    }

    /// Tracks SELECT, AUTH, MULTI/EXEC/DISCARD and RESET for the prompt.
    fn after_reply(&mut self, argv: &[Vec<u8>], argc: usize) {
        let cmd = &argv[0];
        let ok = self.last_type != LastType::Error;
        if eq(cmd, "select") && argc == 2 && ok {
            self.dbnum = crate::opts::atoi32(&argv[1]);
            self.cfg.input_dbnum = self.dbnum;
        } else if eq(cmd, "auth") && (argc == 2 || argc == 3) {
            let _ = self.select();
        } else if eq(cmd, "multi") && argc == 1 && ok {
            self.in_multi = true;
            self.pre_multi_dbnum = self.dbnum;
        } else if eq(cmd, "exec") && argc == 1 && self.in_multi {
            self.in_multi = false;
            if matches!(self.last_type, LastType::Error | LastType::Nil) {
                self.dbnum = self.pre_multi_dbnum;
                self.cfg.input_dbnum = self.dbnum;
            }
        } else if eq(cmd, "discard") && argc == 1 && ok {
            self.in_multi = false;
            self.dbnum = self.pre_multi_dbnum;
            self.cfg.input_dbnum = self.dbnum;
        } else if eq(cmd, "reset") && argc == 1 && ok {
            self.in_multi = false;
            self.dbnum = 0;
            self.cfg.input_dbnum = 0;
            self.cfg.resp3 = Resp3::Off;
        }
    }

    /// Redis's `issueCommandRepeat`: connect if needed, send, follow
    /// redirections. `help` is answered locally.
    pub fn issue_command(&mut self, argv: &[Vec<u8>], repeat: i64) -> SendResult {
        if !self.cfg.eval_ldb && (eq(&argv[0], "help") || eq(&argv[0], "?")) {
            crate::help::output_help(self, &argv[1..]);
            return Ok(());
        }
        loop {
            if self.cluster_reissue || self.conn.is_none() {
                let r = self.connect(ConnectFlags {
                    force: true,
                    quiet: false,
                });
                if r.is_err() {
                    self.cluster_reissue = false;
                    return Err(Failed);
                }
            }
            self.cluster_reissue = false;
            if self.cluster_send_asking {
                self.cluster_send_asking = false;
                match self.side_command(&[b"ASKING"]) {
                    None => return Err(Failed),
                    Some(RespValue::Error(e)) => {
                        err(&[b"ASKING failed: ", &e[..], b"\n"].concat());
                        return Err(Failed);
                    }
                    Some(_) => {}
                }
            }
            if self.send_command(argv, repeat).is_err() {
                self.print_context_error();
                self.conn = None;
                signals::set_conn_fd(-1);
                return Err(Failed);
            }
            if self.cfg.cluster_mode && self.cluster_reissue {
                continue;
            }
            return Ok(());
        }
    }
}

/// Parses `MOVED 3999 127.0.0.1:6381` / `ASK ...` into slot, host, port.
pub fn parse_redirect(e: &[u8]) -> Option<(i64, String, i64)> {
    let s = String::from_utf8_lossy(e);
    let mut it = s.splitn(3, ' ');
    it.next()?;
    let slot = crate::opts::atoi32(it.next()?.as_bytes());
    let addr = it.next()?;
    let colon = addr.rfind(':')?;
    Some((
        slot,
        addr[..colon].to_string(),
        crate::opts::atoi32(&addr.as_bytes()[colon + 1..]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_parsing() {
        assert_eq!(
            parse_redirect(b"MOVED 3999 127.0.0.1:6381"),
            Some((3999, "127.0.0.1".into(), 6381))
        );
        assert_eq!(
            parse_redirect(b"ASK 1 ::1:7000"),
            Some((1, "::1".into(), 7000))
        );
    }

    #[test]
    fn raw_commands() {
        let v = |a: &[&str]| a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        assert!(raw_output_command(&v(&["INFO"])));
        assert!(raw_output_command(&v(&["client", "list"])));
        assert!(!raw_output_command(&v(&["cluster", "nodes", "x"])));
        assert!(!raw_output_command(&v(&["get", "x"])));
    }
}
