//! Command-line options, parsed the way Redis's redis-cli parses them.
//!
//! Redis's grammar is not a getopt grammar, so this is a small hand-rolled
//! parser rather than clap or lexopt:
//! - options are matched exactly (no `--opt=value`, no bundling of `-xc`);
//! - an option that takes a value but is the last word is not an option at
//!   all: it falls through to "Unrecognized option or bad number of args";
//! - `-h` as the last word prints the usage (exit 0);
//! - the first word that does not start with `-` ends the options, and every
//!   word after it (even `-x`) belongs to the command;
//! - errors print Redis's exact texts and exit codes.

use crate::usage;

/// How replies are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// The formatted tty style: `1) "a"`, `(integer) 1`.
    Standard,
    /// Raw strings, one per line (default when stdout is not a tty).
    Raw,
    /// `--csv`
    Csv,
    /// `--json`
    Json,
    /// `--quoted-json`
    QuotedJson,
}

/// Which RESP protocol was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resp3 {
    /// No HELLO 3.
    Off,
    /// `-3`: HELLO 3 must succeed.
    Required,
    /// `--json`: HELLO 3 is tried; failure is reported but not fatal.
    Preferred,
}

/// TLS settings (`--tls`, `--sni`, ...).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `--sni`
    pub sni: Option<String>,
    /// `--cacert`
    pub cacert: Option<String>,
    /// `--cacertdir`
    pub cacertdir: Option<String>,
    /// `--cert`
    pub cert: Option<String>,
    /// `--key`
    pub key: Option<String>,
    /// `--tls-ciphers` (TLS 1.2 cipher list, OpenSSL syntax)
    pub ciphers: Option<String>,
    /// `--tls-ciphersuites` (TLS 1.3 suites, OpenSSL names)
    pub ciphersuites: Option<String>,
    /// `--insecure`
    pub insecure: bool,
}

/// What `--cluster <subcommand>` and the `--cluster-*` options set (Redis's
/// `cluster_manager_command`); the cluster manager crate runs it.
#[derive(Debug, Clone)]
pub struct ClusterCommand {
    /// The subcommand (`create`, `check`, ...); `None` outside cluster mode.
    pub name: Option<Vec<u8>>,
    /// The subcommand's arguments.
    pub argv: Vec<Vec<u8>>,
    /// `--cluster-replicas`
    pub replicas: i64,
    /// `--cluster-master-id`
    pub master_id: Option<Vec<u8>>,
    /// `--cluster-from`
    pub from: Option<Vec<u8>>,
    /// `--cluster-to`
    pub to: Option<Vec<u8>>,
    /// `--cluster-from-user`
    pub from_user: Option<Vec<u8>>,
    /// `--cluster-from-pass`
    pub from_pass: Option<Vec<u8>>,
    /// `--cluster-from-askpass`
    pub from_askpass: bool,
    /// `--cluster-weight n1=w1 ... nN=wN`
    pub weight: Vec<Vec<u8>>,
    /// `--cluster-slots`
    pub slots: i64,
    /// `--cluster-timeout` (ms, for MIGRATE)
    pub timeout: i64,
    /// `--cluster-pipeline` (keys per MIGRATE)
    pub pipeline: i64,
    /// `--cluster-threshold` (rebalance, percent)
    pub threshold: f64,
    /// `--cluster-yes` (or REDISCLI_CLUSTER_YES=1)
    pub yes: bool,
    /// `--cluster-simulate`
    pub simulate: bool,
    /// `--cluster-replace`
    pub replace: bool,
    /// `--cluster-copy`
    pub copy: bool,
    /// `--cluster-slave`
    pub slave: bool,
    /// `--cluster-use-empty-masters`
    pub empty_masters: bool,
    /// `--cluster-search-multiple-owners`
    pub check_owners: bool,
    /// `--cluster-fix-with-unreachable-masters`
    pub fix_with_unreachable_masters: bool,
    /// `--cluster-only-masters`
    pub only_masters: bool,
    /// `--cluster-only-replicas`
    pub only_replicas: bool,
}

impl Default for ClusterCommand {
    fn default() -> Self {
        ClusterCommand {
            name: None,
            argv: Vec::new(),
            replicas: 0,
            master_id: None,
            from: None,
            to: None,
            from_user: None,
            from_pass: None,
            from_askpass: false,
            weight: Vec::new(),
            slots: 0,
            timeout: 60000,
            pipeline: 10,
            threshold: 2.0,
            yes: false,
            simulate: false,
            replace: false,
            copy: false,
            slave: false,
            empty_masters: false,
            check_owners: false,
            fix_with_unreachable_masters: false,
            only_masters: false,
            only_replicas: false,
        }
    }
}

/// Everything the options set.
#[derive(Debug, Clone)]
pub struct Config {
    /// `-h` (and `-u`, cluster redirections).
    pub host: String,
    /// `-p`, as C's atoi read it.
    pub port: i64,
    /// `-s`: unix socket path.
    pub socket: Option<String>,
    /// `-a` / `--pass` / `-u` / REDISCLI_AUTH / `--askpass`.
    pub auth: Option<Vec<u8>>,
    /// `--user` (ACL user for AUTH).
    pub user: Option<Vec<u8>>,
    /// `--askpass`: read the password from the terminal.
    pub askpass: bool,
    /// `-r`: how many times to run the command (negative: forever).
    pub repeat: i64,
    /// `-i` in microseconds.
    pub interval_us: i64,
    /// `-n`: the db to SELECT after connecting.
    pub input_dbnum: i64,
    /// `-2`
    pub resp2: bool,
    /// `-3`, or `--json` asking for RESP3.
    pub resp3: Resp3,
    /// `-x`: stdin is the last argument.
    pub stdin_lastarg: bool,
    /// `-X TAG`: stdin replaces the argument equal to TAG.
    pub stdin_tag: Option<Vec<u8>>,
    /// `-d`: separator between items of an aggregate in raw mode.
    pub mb_delim: Vec<u8>,
    /// `-D`: separator after each reply in raw mode.
    pub cmd_delim: Vec<u8>,
    /// `-c`: follow MOVED/ASK.
    pub cluster_mode: bool,
    /// `-e`: exit 1 on an error reply.
    pub set_errcode: bool,
    /// `--tls` or a `rediss://` URI.
    pub tls: bool,
    /// The TLS settings.
    pub tls_opts: TlsOptions,
    /// The reply style.
    pub output: OutputMode,
    /// `--show-pushes` (default: on when stdout is a tty).
    pub push_output: bool,
    /// `--quoted-input`
    pub quoted_input: bool,
    /// `--stat`
    pub stat_mode: bool,
    /// `--latency` (also set by `--latency-history`).
    pub latency_mode: bool,
    /// `--latency-history`
    pub latency_history: bool,
    /// `--latency-dist`
    pub latency_dist_mode: bool,
    /// `--mono`: grey palette for `--latency-dist`.
    pub mono: bool,
    /// `--lru-test N`
    pub lru_test: Option<i64>,
    /// `--replica` / `--slave`
    pub replica_mode: bool,
    /// The file of `--rdb` / `--functions-rdb`.
    pub rdb_filename: Option<String>,
    /// `--rdb`
    pub getrdb_mode: bool,
    /// `--functions-rdb`
    pub functions_rdb_mode: bool,
    /// `--pipe`
    pub pipe_mode: bool,
    /// `--pipe-timeout` seconds (0: wait forever).
    pub pipe_timeout: i64,
    /// `--bigkeys`
    pub bigkeys: bool,
    /// `--memkeys` / `--memkeys-samples`
    pub memkeys: bool,
    /// `--memkeys-samples N` (0: the server's default).
    pub memkeys_samples: i64,
    /// `--hotkeys`
    pub hotkeys: bool,
    /// `--scan`
    pub scan_mode: bool,
    /// `--pattern` / `--quoted-pattern`
    pub pattern: Option<Vec<u8>>,
    /// `--intrinsic-latency SECONDS`
    pub intrinsic_latency: Option<i64>,
    /// `--eval FILE`
    pub eval: Option<String>,
    /// `--ldb` (or the debugger turned on by SCRIPT DEBUG).
    pub eval_ldb: bool,
    /// `--ldb-sync-mode`
    pub eval_ldb_sync: bool,
    /// `--verbose` (used by the cluster manager only, as in Redis).
    pub verbose: bool,
    /// `--no-auth-warning`
    pub no_auth_warning: bool,
    /// The program name as invoked (argv[0]), for messages.
    pub argv0: String,
    /// `--cluster` and the `--cluster-*` options.
    pub cluster: ClusterCommand,
}

impl Config {
    /// Redis's defaults; `stdout_tty` picks the output style and push display.
    pub fn new(stdout_tty: bool) -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 6379,
            socket: None,
            auth: None,
            user: None,
            askpass: false,
            repeat: 1,
            interval_us: 0,
            input_dbnum: 0,
            resp2: false,
            resp3: Resp3::Off,
            stdin_lastarg: false,
            stdin_tag: None,
            mb_delim: b"\n".to_vec(),
            cmd_delim: b"\n".to_vec(),
            cluster_mode: false,
            set_errcode: false,
            tls: false,
            tls_opts: TlsOptions::default(),
            output: if stdout_tty {
                OutputMode::Standard
            } else {
                OutputMode::Raw
            },
            push_output: stdout_tty,
            quoted_input: false,
            stat_mode: false,
            latency_mode: false,
            latency_history: false,
            latency_dist_mode: false,
            mono: false,
            lru_test: None,
            replica_mode: false,
            rdb_filename: None,
            getrdb_mode: false,
            functions_rdb_mode: false,
            pipe_mode: false,
            pipe_timeout: 30,
            bigkeys: false,
            memkeys: false,
            memkeys_samples: 0,
            hotkeys: false,
            scan_mode: false,
            pattern: None,
            intrinsic_latency: None,
            eval: None,
            eval_ldb: false,
            eval_ldb_sync: false,
            verbose: false,
            no_auth_warning: false,
            argv0: "redis-cli".into(),
            cluster: ClusterCommand::default(),
        }
    }
}

/// The result of parsing: either run with this config and these command
/// words, or stop now with this output.
#[derive(Debug)]
pub enum Parsed {
    /// Go on. `stderr` holds warnings to print first.
    Run {
        config: Box<Config>,
        args: Vec<Vec<u8>>,
        stderr: Vec<u8>,
    },
    /// Print and exit with `code`.
    Exit {
        code: i32,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
}

/// C's `atoi`/`strtoll(.., 10)`: leading spaces, a sign, digits; 0 when none.
pub fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && (s[i] == b' ' || (b'\t'..=b'\r').contains(&s[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

/// C's `atoi` truncated to an `int`, as Redis stores ports and db numbers.
pub fn atoi32(s: &[u8]) -> i64 {
    atoi(s) as i32 as i64
}

/// C's `atof`: the longest prefix that parses as a float, 0 when none.
pub fn atof(s: &[u8]) -> f64 {
    let t = String::from_utf8_lossy(s);
    let t = t.trim_start();
    let mut best = 0.0;
    // Longest prefix that parses; inputs are short so this is cheap.
    for end in (1..=t.len()).rev() {
        if !t.is_char_boundary(end) {
            continue;
        }
        let p = &t[..end];
        if p.ends_with(['e', 'E', '+', '-']) {
            continue;
        }
        if let Ok(v) = p.parse::<f64>() {
            best = v;
            break;
        }
    }
    best
}

/// Splits one quoted word (`--quoted-input`, `--quoted-pattern`): it must be
/// exactly one argument in Redis's splitter syntax.
pub fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let mut v = redis_formats::request::split_args(s)?;
    if v.len() == 1 {
        v.pop()
    } else {
        None
    }
}

/// Parses redis:// and rediss:// URIs into the config.
fn parse_uri(uri: &[u8], c: &mut Config) -> Result<(), String> {
    let lower: Vec<u8> = uri.iter().map(|b| b.to_ascii_lowercase()).collect();
    let rest = if lower.starts_with(b"rediss://") {
        c.tls = true;
        &uri[9..]
    } else if lower.starts_with(b"redis://") {
        &uri[8..]
    } else {
        return Err("Invalid URI scheme\n".into());
    };
    let mut cur = rest;
    if cur.is_empty() {
        return Ok(());
    }
    if let Some(at) = cur.iter().position(|&b| b == b'@') {
        if let Some(colon) = cur.iter().position(|&b| b == b':') {
            if colon < at {
                c.user = Some(percent_decode(&cur[..colon])?);
                cur = &cur[colon + 1..];
            }
        }
        let at = cur.iter().position(|&b| b == b'@').unwrap_or(0);
        c.auth = Some(percent_decode(&cur[..at])?);
        cur = &cur[at + 1..];
    }
    if cur.is_empty() {
        return Ok(());
    }
    let path = cur.iter().position(|&b| b == b'/');
    if cur[0] != b'/' {
        let hostpart = &cur[..path.unwrap_or(cur.len())];
        // Redis looks for ':' in the whole remainder (path included).
        let host_end = match cur.iter().position(|&b| b == b':') {
            Some(p) => {
                c.port = atoi32(&cur[p + 1..]);
                p
            }
            None => hostpart.len(),
        };
        c.host = String::from_utf8_lossy(&cur[..host_end]).into_owned();
    }
    let after = match path {
        Some(p) => &cur[p + 1..],
        None => return Ok(()),
    };
    if after.is_empty() {
        return Ok(());
    }
    c.input_dbnum = atoi32(after);
    Ok(())
}

fn percent_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            // Redis only calls a lone trailing '%' incomplete; "%4" at the
            // end reads the terminator as the second digit (illegal).
            if s.len() - i < 2 {
                return Err("Incomplete URI encoding\n".into());
            }
            let h = (s[i + 1] as char).to_ascii_lowercase();
            let l = (*s.get(i + 2).unwrap_or(&0) as char).to_ascii_lowercase();
            match (h.to_digit(16), l.to_digit(16)) {
                (Some(a), Some(b)) => out.push((a * 16 + b) as u8),
                _ => return Err("Illegal character in URI encoding\n".into()),
            }
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn exit_err(code: i32, msg: impl Into<Vec<u8>>) -> Parsed {
    Parsed::Exit {
        code,
        stdout: Vec::new(),
        stderr: msg.into(),
    }
}

/// Parses `argv` (including argv[0]). `stdout_tty` is whether stdout is a
/// terminal (or FAKETTY is set), which picks the default output style.
pub fn parse(argv: &[Vec<u8>], stdout_tty: bool) -> Parsed {
    let mut c = Config::new(stdout_tty);
    if let Some(a0) = argv.first() {
        c.argv0 = String::from_utf8_lossy(a0).into_owned();
    }
    let mut warn = Vec::new();
    let mut i = 1;
    let n = argv.len();
    let s = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    while i < n {
        let a = argv[i].as_slice();
        let last = i == n - 1;
        // Options that take a value are only options when a value follows.
        macro_rules! val {
            () => {{
                i += 1;
                &argv[i]
            }};
        }
        match a {
            b"-h" if !last => c.host = s(val!()),
            b"-h" | b"--help" => {
                return Parsed::Exit {
                    code: 0,
                    stdout: usage::text().into_bytes(),
                    stderr: Vec::new(),
                }
            }
            b"-x" => c.stdin_lastarg = true,
            b"-X" if !last => c.stdin_tag = Some(val!().clone()),
            b"-p" if !last => c.port = atoi32(val!()),
            b"-s" if !last => c.socket = Some(s(val!())),
            b"-r" if !last => c.repeat = atoi(val!()),
            b"-i" if !last => c.interval_us = (atof(val!()) * 1_000_000.0) as i64,
            b"-n" if !last => c.input_dbnum = atoi32(val!()),
            b"--no-auth-warning" => c.no_auth_warning = true,
            b"--askpass" => c.askpass = true,
            b"-a" | b"--pass" if !last => c.auth = Some(val!().clone()),
            b"--user" if !last => c.user = Some(val!().clone()),
            b"-u" if !last => {
                if let Err(e) = parse_uri(val!(), &mut c) {
                    return exit_err(1, e);
                }
            }
            b"--raw" => c.output = OutputMode::Raw,
            b"--no-raw" => c.output = OutputMode::Standard,
            b"--quoted-input" => c.quoted_input = true,
            b"--csv" => c.output = OutputMode::Csv,
            b"--json" | b"--quoted-json" => {
                if c.resp3 == Resp3::Off {
                    c.resp3 = Resp3::Preferred;
                }
                c.output = if a == b"--json" {
                    OutputMode::Json
                } else {
                    OutputMode::QuotedJson
                };
            }
            b"--latency" => c.latency_mode = true,
            b"--latency-dist" => c.latency_dist_mode = true,
            b"--mono" => c.mono = true,
            b"--latency-history" => {
                c.latency_mode = true;
                c.latency_history = true;
            }
            b"--lru-test" if !last => c.lru_test = Some(atoi(val!())),
            b"--slave" | b"--replica" => c.replica_mode = true,
            b"--stat" => c.stat_mode = true,
            b"--scan" => c.scan_mode = true,
            b"--pattern" if !last => c.pattern = Some(val!().clone()),
            b"--quoted-pattern" if !last => match unquote(val!()) {
                Some(p) => c.pattern = Some(p),
                None => {
                    return exit_err(1, "Invalid quoted string specified for --quoted-pattern.\n")
                }
            },
            b"--intrinsic-latency" if !last => c.intrinsic_latency = Some(atoi32(val!())),
            b"--rdb" if !last => {
                c.getrdb_mode = true;
                c.rdb_filename = Some(s(val!()));
            }
            b"--functions-rdb" if !last => {
                c.functions_rdb_mode = true;
                c.rdb_filename = Some(s(val!()));
            }
            b"--pipe" => c.pipe_mode = true,
            b"--pipe-timeout" if !last => c.pipe_timeout = atoi32(val!()),
            b"--bigkeys" => c.bigkeys = true,
            b"--memkeys" => {
                c.memkeys = true;
                c.memkeys_samples = 0;
            }
            b"--memkeys-samples" if !last => {
                c.memkeys = true;
                c.memkeys_samples = atoi32(val!());
            }
            b"--hotkeys" => c.hotkeys = true,
            b"--eval" if !last => c.eval = Some(s(val!())),
            b"--ldb" => {
                c.eval_ldb = true;
                c.output = OutputMode::Raw;
            }
            b"--ldb-sync-mode" => {
                c.eval_ldb = true;
                c.eval_ldb_sync = true;
                c.output = OutputMode::Raw;
            }
            b"-c" => c.cluster_mode = true,
            b"-d" if !last => c.mb_delim = val!().clone(),
            b"-D" if !last => c.cmd_delim = val!().clone(),
            b"-e" => c.set_errcode = true,
            b"--verbose" => c.verbose = true,
            b"--tls" => c.tls = true,
            b"--sni" if !last => c.tls_opts.sni = Some(s(val!())),
            b"--cacertdir" if !last => c.tls_opts.cacertdir = Some(s(val!())),
            b"--cacert" if !last => c.tls_opts.cacert = Some(s(val!())),
            b"--cert" if !last => c.tls_opts.cert = Some(s(val!())),
            b"--key" if !last => c.tls_opts.key = Some(s(val!())),
            b"--tls-ciphers" if !last => c.tls_opts.ciphers = Some(s(val!())),
            b"--insecure" => c.tls_opts.insecure = true,
            b"--tls-ciphersuites" if !last => c.tls_opts.ciphersuites = Some(s(val!())),
            b"-v" | b"--version" => {
                return Parsed::Exit {
                    code: 0,
                    stdout: format!("redis-cli {}\n", crate::VERSION).into_bytes(),
                    stderr: Vec::new(),
                }
            }
            b"-2" => c.resp2 = true,
            b"-3" => c.resp3 = Resp3::Required,
            b"--show-pushes" if !last => {
                let v = val!();
                match v.first().map(|b| b.to_ascii_lowercase()) {
                    Some(b'n') => c.push_output = false,
                    Some(b'y') => c.push_output = true,
                    _ => warn.extend_from_slice(
                        format!(
                            "Unknown --show-pushes value '{}' (valid: '[y]es', '[n]o')\n",
                            s(v)
                        )
                        .as_bytes(),
                    ),
                }
            }
            b"--cluster" if !last => {
                if c.cluster.name.is_some() {
                    return exit_err(1, usage::text());
                }
                // The subcommand, then every following word up to the next
                // one starting with '-' is its argument.
                i += 1;
                c.cluster.name = Some(argv[i].clone());
                let mut j = i + 1;
                while j < n && argv[j].first() != Some(&b'-') {
                    j += 1;
                }
                c.cluster.argv = argv[i + 1..j].to_vec();
                i = j - 1;
            }
            b"--cluster" => return exit_err(1, usage::text()),
            b"--cluster-only-masters" => c.cluster.only_masters = true,
            b"--cluster-only-replicas" => c.cluster.only_replicas = true,
            b"--cluster-replicas" if !last => c.cluster.replicas = atoi32(val!()),
            b"--cluster-master-id" if !last => c.cluster.master_id = Some(val!().clone()),
            b"--cluster-from" if !last => c.cluster.from = Some(val!().clone()),
            b"--cluster-to" if !last => c.cluster.to = Some(val!().clone()),
            b"--cluster-from-user" if !last => c.cluster.from_user = Some(val!().clone()),
            b"--cluster-from-pass" if !last => c.cluster.from_pass = Some(val!().clone()),
            b"--cluster-from-askpass" => c.cluster.from_askpass = true,
            b"--cluster-weight" if !last => {
                if !c.cluster.weight.is_empty() {
                    return exit_err(
                        1,
                        "WARNING: you cannot use --cluster-weight more than once.\n\
                         You can set more weights by adding them as a space-separated list, ie:\n\
                         --cluster-weight n1=w n2=w\n",
                    );
                }
                let mut j = i + 1;
                while j < n && !argv[j].starts_with(b"--") && argv[j].contains(&b'=') {
                    j += 1;
                }
                c.cluster.weight = argv[i + 1..j].to_vec();
                i = j - 1;
            }
            b"--cluster-slots" if !last => c.cluster.slots = atoi32(val!()),
            b"--cluster-timeout" if !last => c.cluster.timeout = atoi32(val!()),
            b"--cluster-pipeline" if !last => c.cluster.pipeline = atoi32(val!()),
            b"--cluster-threshold" if !last => c.cluster.threshold = atof(val!()),
            b"--cluster-yes" => c.cluster.yes = true,
            b"--cluster-simulate" => c.cluster.simulate = true,
            b"--cluster-replace" => c.cluster.replace = true,
            b"--cluster-copy" => c.cluster.copy = true,
            b"--cluster-slave" => c.cluster.slave = true,
            b"--cluster-use-empty-masters" => c.cluster.empty_masters = true,
            b"--cluster-search-multiple-owners" => c.cluster.check_owners = true,
            b"--cluster-fix-with-unreachable-masters" => {
                c.cluster.fix_with_unreachable_masters = true
            }
            // In cluster mode a bare word is the subcommand's argument list
            // when `--cluster` had none (`--cluster create --cluster-replicas
            // 1 h1 h2 ...`); otherwise it is ignored, as in Redis.
            _ if c.cluster.name.is_some() && a.first() != Some(&b'-') => {
                if c.cluster.argv.is_empty() {
                    let mut j = i + 1;
                    while j < n && argv[j].first() != Some(&b'-') {
                        j += 1;
                    }
                    c.cluster.argv = argv[i..j].to_vec();
                    i = j - 1;
                }
            }
            _ => {
                if a.first() == Some(&b'-') {
                    return exit_err(
                        1,
                        format!(
                            "Unrecognized option or bad number of args for: '{}'\n",
                            s(&argv[i])
                        ),
                    );
                }
                break;
            }
        }
        i += 1;
    }

    let mut err = warn;
    let fail = |mut err: Vec<u8>, msg: &str| {
        err.extend_from_slice(msg.as_bytes());
        Parsed::Exit {
            code: 1,
            stdout: Vec::new(),
            stderr: err,
        }
    };
    if c.socket.is_some() && c.cluster_mode {
        return fail(err, "Options -c and -s are mutually exclusive.\n");
    }
    if c.resp2 && c.resp3 == Resp3::Required {
        return fail(err, "Options -2 and -3 are mutually exclusive.\n");
    }
    if c.eval_ldb && c.eval.is_none() {
        let msg = format!(
            "Options --ldb and --ldb-sync-mode require --eval.\nTry {} --help for more information.\n",
            c.argv0
        );
        return fail(err, &msg);
    }
    if !c.no_auth_warning && c.auth.is_some() {
        err.extend_from_slice(
            b"Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n",
        );
    }
    if c.functions_rdb_mode && c.getrdb_mode {
        return fail(
            err,
            "Option --functions-rdb and --rdb are mutually exclusive.\n",
        );
    }
    if c.stdin_lastarg && c.stdin_tag.is_some() {
        return fail(err, "Options -x and -X are mutually exclusive.\n");
    }
    Parsed::Run {
        config: Box::new(c),
        args: argv[i.min(n)..].to_vec(),
        stderr: err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Parsed {
        let mut v = vec![b"redis-cli".to_vec()];
        v.extend(args.iter().map(|a| a.as_bytes().to_vec()));
        parse(&v, false)
    }

    #[test]
    fn options_stop_at_command() {
        match p(&["-p", "7000", "set", "-x", "--raw"]) {
            Parsed::Run { config, args, .. } => {
                assert_eq!(config.port, 7000);
                assert!(!config.stdin_lastarg);
                assert_eq!(
                    args,
                    vec![b"set".to_vec(), b"-x".to_vec(), b"--raw".to_vec()]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_and_dangling_options_fail() {
        for a in [&["--nope"][..], &["-p"][..], &["--pattern"][..]] {
            match p(a) {
                Parsed::Exit { code, stderr, .. } => {
                    assert_eq!(code, 1);
                    assert!(String::from_utf8_lossy(&stderr).starts_with("Unrecognized option"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn cluster_subcommand_and_options() {
        let args = [
            "--cluster-replicas",
            "1",
            "--cluster",
            "create",
            "h:1",
            "h:2",
            "--cluster-yes",
            "--cluster-weight",
            "a=1",
            "b=2",
            "--cluster-timeout",
            "5",
        ];
        match p(&args) {
            Parsed::Run { config, args, .. } => {
                let c = &config.cluster;
                assert_eq!(c.name.as_deref(), Some(&b"create"[..]));
                assert_eq!(c.argv, vec![b"h:1".to_vec(), b"h:2".to_vec()]);
                assert_eq!(c.replicas, 1);
                assert!(c.yes);
                assert_eq!(c.weight, vec![b"a=1".to_vec(), b"b=2".to_vec()]);
                assert_eq!(c.timeout, 5);
                assert!(args.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // Arguments after the options when --cluster had none.
        match p(&["--cluster", "check", "--cluster-yes", "h", "7000"]) {
            Parsed::Run { config, .. } => {
                assert_eq!(config.cluster.argv, vec![b"h".to_vec(), b"7000".to_vec()]);
            }
            other => panic!("{other:?}"),
        }
        // A lone --cluster, or a second one, prints the usage with exit 1.
        for a in [
            &["--cluster"][..],
            &["--cluster", "info", "--cluster", "check"],
        ] {
            match p(a) {
                Parsed::Exit { code, stderr, .. } => {
                    assert_eq!(code, 1);
                    assert!(stderr.starts_with(b"redis-cli "));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn uri_parts() {
        let mut c = Config::new(false);
        parse_uri(b"redis://us%41er:pa%3ass@example.org:7001/3", &mut c).unwrap();
        assert_eq!(c.user.as_deref(), Some(&b"usAer"[..]));
        assert_eq!(c.auth.as_deref(), Some(&b"pa:ss"[..]));
        assert_eq!(c.host, "example.org");
        assert_eq!(c.port, 7001);
        assert_eq!(c.input_dbnum, 3);
        assert!(parse_uri(b"http://x", &mut c).is_err());
    }

    #[test]
    fn c_numbers() {
        assert_eq!(atoi(b" -12x"), -12);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atof(b"0.5s"), 0.5);
        assert_eq!(atof(b"abc"), 0.0);
    }
}
