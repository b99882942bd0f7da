//! Start-up: redis-server's command line, config files (with `include`), stdin, and
//! Redis's fatal error texts.

use crate::table::{flags, lookup};
use crate::types::Config;
use crate::util::{repr, strerror};
use crate::value::{set_value, SetCtx};
use crate::REDIS_VERSION;
use redis_formats::glob::glob_match;
use redis_formats::request::split_args;
use std::io::Read;
use std::path::PathBuf;

/// What `redis-server <args>` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum StartupCommand {
    /// `-v` / `--version`: print [`version_line`] on stdout, exit 0.
    Version,
    /// `-h` / `--help`: print [`USAGE`] on stderr, exit 1.
    Help,
    /// `--test-memory <MB>`: Redis runs its memory test and exits 0. Without exactly
    /// one argument (None): print [`TEST_MEMORY_USAGE`] on stderr, exit 1.
    TestMemory(Option<i32>),
    /// `--check-system`: Redis runs its system checks, exit 0 if fine, 1 if not.
    CheckSystem,
    /// Start the server with this configuration source.
    Run(StartupOptions),
}

/// Where the configuration comes from: the file, then stdin, then the options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StartupOptions {
    /// Absolute path of the config file (what CONFIG REWRITE writes), if any.
    pub config_file: Option<PathBuf>,
    /// `-` was given: read config from stdin (Redis logs "Reading config from stdin"
    /// at warning level before reading).
    pub read_stdin: bool,
    /// The `--name value` options turned into config lines; None when redis-server was
    /// started without arguments (then nothing is loaded at all).
    pub options: Option<Vec<u8>>,
    /// `--sentinel` was among the arguments: Redis would run as Sentinel (so would a
    /// binary named redis-sentinel; checking the program name is the caller's part).
    pub sentinel: bool,
}

/// redis-server's `--help` text (on stderr, exit code 1).
pub const USAGE: &str = "Usage: ./redis-server [/path/to/redis.conf] [options] [-]
       ./redis-server - (read config from stdin)
       ./redis-server -v or --version
       ./redis-server -h or --help
       ./redis-server --test-memory <megabytes>
       ./redis-server --check-system

Examples:
       ./redis-server (run the server with default conf)
       echo 'maxmemory 128mb' | ./redis-server -
       ./redis-server /etc/redis/6379.conf
       ./redis-server --port 7777
       ./redis-server --port 7777 --replicaof 127.0.0.1 8888
       ./redis-server /etc/myredis.conf --loglevel verbose -
       ./redis-server /etc/myredis.conf --loglevel verbose

Sentinel mode:
       ./redis-server /etc/sentinel.conf --sentinel
";

/// `--test-memory` without its argument (on stderr, exit code 1).
pub const TEST_MEMORY_USAGE: &str =
    "Please specify the amount of memory to test in megabytes.\nExample: ./redis-server --test-memory 4096\n\n";

/// The `--version` line (with its newline), e.g. `Redis server v=7.0.15
/// sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0`.
pub fn version_line(malloc: &str, build_id: u64) -> String {
    format!(
        "Redis server v={} sha=00000000:0 malloc={} bits={} build={:x}\n",
        REDIS_VERSION,
        malloc,
        usize::BITS,
        build_id
    )
}

/// Parses redis-server's arguments (without the program name) as Redis's `main` does.
pub fn parse_command_line(args: &[Vec<u8>]) -> StartupCommand {
    if args.is_empty() {
        return StartupCommand::Run(StartupOptions::default());
    }
    match args[0].as_slice() {
        b"-v" | b"--version" => return StartupCommand::Version,
        b"--help" | b"-h" => return StartupCommand::Help,
        b"--test-memory" => {
            return StartupCommand::TestMemory(if args.len() == 2 {
                Some(atoi(&args[1]))
            } else {
                None
            })
        }
        b"--check-system" => return StartupCommand::CheckSystem,
        _ => {}
    }
    let mut opts = StartupOptions {
        sentinel: args.iter().any(|a| a.as_slice() == b"--sentinel"),
        ..StartupOptions::default()
    };
    let mut j = 0;
    if args[0].first() != Some(&b'-') {
        opts.config_file = Some(absolute_path(&args[0]));
        j = 1;
    }
    let last = args.len() - 1;
    let mut options: Vec<u8> = Vec::new();
    let mut handled_last = true;
    while j < args.len() {
        let a = &args[j];
        if a.as_slice() == b"-" && (j == 0 || j == last) {
            opts.read_stdin = true;
        } else if handled_last && a.starts_with(b"--") {
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&a[2..]);
            options.push(b' ');
            let tokens = split_args(a).map(|t| t.len()).unwrap_or(0);
            if tokens == 1 {
                // Only a name ("--port"): its value is in the next arguments.
                handled_last = false;
                let next_is_option = j != last && args[j + 1].starts_with(b"--");
                let is_save = a.eq_ignore_ascii_case(b"--save");
                let is_sentinel = a.eq_ignore_ascii_case(b"--sentinel");
                if next_is_option && is_save {
                    // `--save --port 1` means `--save "" --port 1` (pre-7.0 behaviour).
                    options.extend_from_slice(b"\"\"");
                    handled_last = true;
                } else if j == last && is_save {
                    options.extend_from_slice(b"\"\"");
                } else if next_is_option && is_sentinel {
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            options.extend_from_slice(repr(a).as_bytes());
            options.push(b' ');
            handled_last = true;
        }
        j += 1;
    }
    opts.options = Some(options);
    StartupCommand::Run(opts)
}

fn atoi(s: &[u8]) -> i32 {
    crate::util::c_strtoll(s).0 as i32
}

/// Redis's `getAbsolutePath`: the path made absolute against the current directory,
/// with leading `../` components resolved textually (nothing else is normalized).
fn absolute_path(p: &[u8]) -> PathBuf {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let is = |c: &u8| matches!(c, b' ' | b'\r' | b'\n' | b'\t');
    let start = p.iter().position(|c| !is(c)).unwrap_or(p.len());
    let end = p
        .iter()
        .rposition(|c| !is(c))
        .map(|e| e + 1)
        .unwrap_or(start)
        .max(start);
    let mut rel = &p[start..end];
    if rel.first() == Some(&b'/') {
        return PathBuf::from(std::ffi::OsStr::from_bytes(rel));
    }
    let mut abs = std::env::current_dir()
        .unwrap_or_default()
        .into_os_string()
        .into_vec();
    if !abs.is_empty() && !abs.ends_with(b"/") {
        abs.push(b'/');
    }
    while rel.starts_with(b"../") {
        rel = &rel[3..];
        if abs.len() > 1 {
            // Drop the last component of the directory, keeping its leading '/'.
            let cut = abs[..abs.len() - 1]
                .iter()
                .rposition(|&c| c == b'/')
                .map(|i| i + 1)
                .unwrap_or(0);
            abs.truncate(cut);
        }
    }
    abs.extend_from_slice(rel);
    PathBuf::from(std::ffi::OsString::from_vec(abs))
}

/// Directives the config file may contain that belong to other parts of the server.
/// Each is called at its line, so the first error of the file is the one reported.
pub trait Directives {
    /// `rename-command <name> <new-name>` (new name "" removes the command). Errors:
    /// "No such command in rename-command", "Target command name already exists".
    fn rename_command(&mut self, name: &[u8], new_name: &[u8]) -> Result<(), String>;
    /// `user <name> <rules...>` (args after `user`). Error: the full text, e.g.
    /// "Error in user declaration '<arg>': Syntax error".
    fn user(&mut self, args: &[Vec<u8>]) -> Result<(), String>;
    /// `loadmodule <path> [args...]` (queued by Redis; loaded after the config).
    fn loadmodule(&mut self, path: &[u8], args: &[Vec<u8>]) -> Result<(), String>;
}

/// The result of loading the configuration.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Absolute path of the config file, for CONFIG REWRITE.
    pub config_file: Option<PathBuf>,
    /// `module.name value` lines (name lowercased), for modules loaded later; Redis
    /// aborts start-up if one is left unclaimed.
    pub module_configs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A start-up configuration error: print it and exit with code 1.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    /// Printed on stderr as [`LoadError::stderr_text`] (Redis's "FATAL CONFIG FILE
    /// ERROR" block).
    Fatal {
        /// Line number (1-based, within the file being read) and the trimmed line;
        /// None for checks made after the last line (e.g. the log file).
        line: Option<(usize, Vec<u8>)>,
        /// The reason, e.g. "argument must be between 0 and 65535 inclusive".
        message: String,
    },
    /// A config file (or include) could not be opened. Redis logs
    /// [`LoadError::log_message`] at warning level through its logger and exits 1.
    CantOpen {
        /// The path as given.
        path: Vec<u8>,
        /// The system's error text, e.g. "No such file or directory".
        error: String,
    },
}

impl LoadError {
    /// The exact bytes Redis writes on stderr for a `Fatal` error (None for `CantOpen`).
    pub fn stderr_text(&self) -> Option<Vec<u8>> {
        match self {
            LoadError::Fatal { line, message } => {
                let mut out = format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\n",
                    REDIS_VERSION
                )
                .into_bytes();
                if let Some((n, text)) = line {
                    out.extend_from_slice(
                        format!("Reading the configuration file, at line {}\n", n).as_bytes(),
                    );
                    out.extend_from_slice(b">>> '");
                    out.extend_from_slice(text);
                    out.extend_from_slice(b"'\n");
                }
                out.extend_from_slice(message.as_bytes());
                out.push(b'\n');
                Some(out)
            }
            LoadError::CantOpen { .. } => None,
        }
    }

    /// The log message of a `CantOpen` error (None for `Fatal`).
    pub fn log_message(&self) -> Option<String> {
        match self {
            LoadError::CantOpen { path, error } => Some(format!(
                "Fatal error, can't open config file '{}': {}",
                String::from_utf8_lossy(path),
                error
            )),
            LoadError::Fatal { .. } => None,
        }
    }
}

/// Loads the configuration as redis-server does at start-up: the file (if any), then
/// stdin (if `-`), then the command-line options, each line applied in order over
/// Redis's defaults.
pub fn load_config(
    opts: &StartupOptions,
    stdin: &mut dyn Read,
    directives: &mut dyn Directives,
) -> Result<Loaded, LoadError> {
    let mut loader = Loader {
        config: Config::default(),
        ctx: SetCtx::default(),
        module_configs: Vec::new(),
    };
    if let Some(options) = &opts.options {
        let mut text = Vec::new();
        if let Some(f) = &opts.config_file {
            use std::os::unix::ffi::OsStrExt;
            text = read_config_files(f.as_os_str().as_bytes())?;
        }
        if opts.read_stdin {
            // A read error ends the input, as fgets() does.
            let _ = stdin.read_to_end(&mut text);
        }
        text.push(b'\n');
        text.extend_from_slice(options);
        loader.load_string(&text, directives)?;
    }
    Ok(Loaded {
        config: loader.config,
        config_file: opts.config_file.clone(),
        module_configs: loader.module_configs,
    })
}

/// Applies config text (as in a redis.conf) over `config`; `include` lines read files.
pub fn load_config_text(
    config: Config,
    text: &[u8],
    directives: &mut dyn Directives,
) -> Result<Loaded, LoadError> {
    let mut loader = Loader {
        config,
        ctx: SetCtx::default(),
        module_configs: Vec::new(),
    };
    loader.load_string(text, directives)?;
    Ok(Loaded {
        config: loader.config,
        config_file: None,
        module_configs: loader.module_configs,
    })
}

/// Reads a config file, or every file matching a wildcard pattern (none is fine).
fn read_config_files(path: &[u8]) -> Result<Vec<u8>, LoadError> {
    let cant_open = |p: &[u8], e: std::io::Error| LoadError::CantOpen {
        path: p.to_vec(),
        error: strerror(&e),
    };
    let paths: Vec<Vec<u8>> = if path.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
        expand_wildcard(path)
    } else {
        vec![path.to_vec()]
    };
    let mut text = Vec::new();
    for p in paths {
        use std::os::unix::ffi::OsStrExt;
        let data = std::fs::read(std::ffi::OsStr::from_bytes(&p)).map_err(|e| cant_open(&p, e))?;
        text.extend_from_slice(&data);
    }
    Ok(text)
}

/// File-name expansion like glob(3): each wildcard component matched against the
/// directory's entries (hidden ones only by a pattern starting with `.`), sorted.
fn expand_wildcard(pattern: &[u8]) -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let absolute = pattern.first() == Some(&b'/');
    let comps: Vec<&[u8]> = pattern
        .split(|&c| c == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    let mut found: Vec<Vec<u8>> = vec![if absolute { b"/".to_vec() } else { Vec::new() }];
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for base in &found {
            let join = |name: &[u8]| {
                let mut p = base.clone();
                if !p.is_empty() && !p.ends_with(b"/") {
                    p.push(b'/');
                }
                p.extend_from_slice(name);
                p
            };
            if !comp.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                let p = join(comp);
                if std::fs::symlink_metadata(std::ffi::OsStr::from_bytes(&p)).is_ok() {
                    next.push(p);
                }
                continue;
            }
            let dir = if base.is_empty() {
                b".".to_vec()
            } else {
                base.clone()
            };
            let Ok(rd) = std::fs::read_dir(std::ffi::OsStr::from_bytes(&dir)) else {
                continue;
            };
            let mut names: Vec<Vec<u8>> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().as_bytes().to_vec())
                .filter(|n| {
                    (comp.first() == Some(&b'.') || n.first() != Some(&b'.'))
                        && glob_match(comp, n, false)
                })
                .collect();
            names.sort();
            for n in names {
                let p = join(&n);
                if last
                    || std::fs::metadata(std::ffi::OsStr::from_bytes(&p)).is_ok_and(|m| m.is_dir())
                {
                    next.push(p);
                }
            }
        }
        found = next;
    }
    found
}

struct Loader {
    config: Config,
    ctx: SetCtx,
    module_configs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Config-file names that are no longer used and are skipped with exactly 1 argument.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

impl Loader {
    fn load_string(
        &mut self,
        text: &[u8],
        directives: &mut dyn Directives,
    ) -> Result<(), LoadError> {
        self.ctx.reading_file = true;
        for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
            let line = trim(raw);
            let fatal = |message: String| LoadError::Fatal {
                line: Some((i + 1, line.to_vec())),
                message,
            };
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let Some(mut argv) = split_args(line) else {
                return Err(fatal("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            argv[0].make_ascii_lowercase();
            self.apply_line(&argv, directives).map_err(|e| match e {
                LineError::Fatal(m) => fatal(m),
                LineError::Other(e) => e,
            })?;
        }
        self.finish()?;
        self.ctx.reading_file = false;
        Ok(())
    }

    fn apply_line(
        &mut self,
        argv: &[Vec<u8>],
        directives: &mut dyn Directives,
    ) -> Result<(), LineError> {
        let name = &argv[0];
        if let Some(e) = lookup(name) {
            let d = e.def();
            let multi = d.flags & flags::MULTI_ARG != 0;
            if !multi && argv.len() != 2 {
                return Err(LineError::Fatal("wrong number of arguments".into()));
            }
            let split;
            let args: &[Vec<u8>] = if multi && argv.len() == 2 && !argv[1].is_empty() {
                // `--save "900 1 300 10"`: one argument holding several.
                split = split_args(&argv[1]).unwrap_or_default();
                &split
            } else {
                &argv[1..]
            };
            set_value(&mut self.config, d, args, &mut self.ctx).map_err(LineError::Fatal)?;
            return Ok(());
        }
        if argv.len() == 2 && DEPRECATED.iter().any(|d| name.as_slice() == d.as_bytes()) {
            return Ok(());
        }
        match name.as_slice() {
            b"include" if argv.len() == 2 => {
                let text = read_config_files(&argv[1]).map_err(LineError::Other)?;
                self.load_string(&text, directives)
                    .map_err(LineError::Other)?;
                Ok(())
            }
            b"rename-command" if argv.len() == 3 => directives
                .rename_command(&argv[1], &argv[2])
                .map_err(LineError::Fatal),
            b"user" if argv.len() >= 2 => directives.user(&argv[1..]).map_err(LineError::Fatal),
            b"loadmodule" if argv.len() >= 2 => directives
                .loadmodule(&argv[1], &argv[2..])
                .map_err(LineError::Fatal),
            _ if name.contains(&b'.') => {
                if argv.len() < 2 {
                    return Err(LineError::Fatal(
                        "Module config specified without value".into(),
                    ));
                }
                let mut val = argv[1].clone();
                for a in &argv[2..] {
                    val.push(b' ');
                    val.extend_from_slice(a);
                }
                match self.module_configs.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = val,
                    None => self.module_configs.push((name.clone(), val)),
                }
                Ok(())
            }
            b"sentinel" => {
                // Alone, it selects sentinel mode (handled before loading); with
                // arguments it needs sentinel mode, which this server does not run.
                if argv.len() != 1 {
                    return Err(LineError::Fatal(
                        "sentinel directive while not in sentinel mode".into(),
                    ));
                }
                Ok(())
            }
            _ => Err(LineError::Fatal(
                "Bad directive or wrong number of arguments".into(),
            )),
        }
    }

    /// The checks Redis makes after each config text.
    fn finish(&mut self) -> Result<(), LoadError> {
        let fatal = |message: String| LoadError::Fatal {
            line: None,
            message,
        };
        if !self.config.logfile.is_empty() {
            use std::os::unix::ffi::OsStrExt;
            let p = std::ffi::OsStr::from_bytes(crate::util::c_str(&self.config.logfile));
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
            {
                return Err(fatal(format!("Can't open the log file: {}", strerror(&e))));
            }
        }
        if self.config.cluster_enabled && self.config.replicaof.is_some() {
            return Err(fatal(
                "replicaof directive not allowed in cluster mode".into(),
            ));
        }
        Ok(())
    }
}

enum LineError {
    /// Reported at the current line.
    Fatal(String),
    /// Already complete (from an included file).
    Other(LoadError),
}

fn trim(s: &[u8]) -> &[u8] {
    let is = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|c| !is(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !is(c))
        .map(|e| e + 1)
        .unwrap_or(start);
    &s[start..end.max(start)]
}
