//! Command-line options, parsed the way Redis 7.0's redis-benchmark parses them:
//! `atoi`-style numbers, the same clamps, and the same "Invalid option" usage
//! message (on stdout, exit code 1) for unknown options or missing arguments.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// Redis's `MAX_THREADS`.
const MAX_THREADS: i64 = 500;
/// Redis's default (and maximum) number of significant figures in the histograms.
const DEFAULT_PRECISION: u8 = 3;
const MAX_PRECISION: u8 = 4;

/// TLS settings (`--tls` and friends).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub enabled: bool,
    pub sni: Option<String>,
    pub cacert: Option<String>,
    pub cacertdir: Option<String>,
    pub insecure: bool,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
}

/// Everything the command line can say.
#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub socket: Option<String>,
    pub auth: Option<Vec<u8>>,
    pub user: Option<Vec<u8>>,
    pub clients: usize,
    pub requests: u64,
    pub datasize: usize,
    pub dbnum: i64,
    pub resp3: bool,
    pub threads: usize,
    pub cluster: bool,
    pub enable_tracking: bool,
    pub keepalive: bool,
    /// `-r`: `Some(len)` when random keys are on (len may be 0: every key is 0).
    pub keyspace: Option<u64>,
    pub pipeline: usize,
    pub quiet: bool,
    pub precision: u8,
    pub csv: bool,
    pub loop_forever: bool,
    /// `-t`, lowercased, as given.
    pub tests: Option<Vec<String>>,
    pub idle: bool,
    pub stdin_arg: bool,
    pub tls: TlsOptions,
    /// The command given after the options, if any.
    pub command: Vec<Vec<u8>>,
    /// Extras beyond Redis.
    pub hdr_out: Option<String>,
    pub json_out: Option<String>,
    pub rps: Option<u64>,
    pub duration: Option<f64>,
    /// Warnings Redis prints on stderr while parsing (e.g. `-e`, too many threads).
    pub warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: "127.0.0.1".into(),
            port: 6379,
            socket: None,
            auth: None,
            user: None,
            clients: 50,
            requests: 100_000,
            datasize: 3,
            dbnum: 0,
            resp3: false,
            threads: 0,
            cluster: false,
            enable_tracking: false,
            keepalive: true,
            keyspace: None,
            pipeline: 1,
            quiet: false,
            precision: DEFAULT_PRECISION,
            csv: false,
            loop_forever: false,
            tests: None,
            idle: false,
            stdin_arg: false,
            tls: TlsOptions::default(),
            command: Vec::new(),
            hdr_out: None,
            json_out: None,
            rps: None,
            duration: None,
            warnings: Vec::new(),
        }
    }
}

/// Parsing ended the program: what to print and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// C's `atoi`: optional blanks and sign, then digits; anything else stops it.
pub fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut n: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    // atoi returns an int: wrap like a 32-bit conversion would on glibc.
    let n = if neg { -n } else { n };
    n as i32 as i64
}

fn text(a: &OsString) -> String {
    String::from_utf8_lossy(a.as_bytes()).into_owned()
}

/// Parses the arguments (without the program name).
pub fn parse(args: &[OsString]) -> Result<Options, Exit> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_bytes();
        let last = i == args.len() - 1;
        // Takes the option's argument or fails like Redis's `goto invalid`.
        macro_rules! value {
            () => {{
                if last {
                    return Err(invalid(&args[i]));
                }
                i += 1;
                args[i].as_bytes()
            }};
        }
        match a {
            b"-c" => o.clients = atoi(value!()).max(0) as usize,
            b"-v" | b"--version" => {
                return Err(Exit {
                    stdout: format!("redis-benchmark {}\n", crate::VERSION),
                    stderr: String::new(),
                    code: 0,
                })
            }
            b"-n" => o.requests = atoi(value!()).max(0) as u64,
            b"-k" => o.keepalive = atoi(value!()) != 0,
            b"-h" => o.host = String::from_utf8_lossy(value!()).into_owned(),
            b"-p" => o.port = atoi(value!()) as u16,
            b"-s" => o.socket = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"-x" => o.stdin_arg = true,
            b"-a" => o.auth = Some(value!().to_vec()),
            b"--user" => o.user = Some(value!().to_vec()),
            b"-u" if !last => {
                i += 1;
                crate::uri::apply(args[i].as_bytes(), &mut o)?;
            }
            b"-3" => o.resp3 = true,
            b"-d" => o.datasize = atoi(value!()).clamp(1, 1024 * 1024 * 1024) as usize,
            b"-P" => o.pipeline = atoi(value!()).max(1) as usize,
            b"-r" => {
                let v = value!();
                if v.first() == Some(&b'-') && !v.get(1).is_some_and(|c| c.is_ascii_digit()) {
                    return Err(invalid(&args[i]));
                }
                o.keyspace = Some(atoi(v).max(0) as u64);
            }
            b"-q" => o.quiet = true,
            b"--csv" => o.csv = true,
            b"-l" => o.loop_forever = true,
            b"-I" => o.idle = true,
            b"-e" => o.warnings.push(
                "WARNING: -e option has no effect. We now immediately exit on error to avoid false results."
                    .into(),
            ),
            b"-t" => {
                let v = String::from_utf8_lossy(value!()).to_ascii_lowercase();
                o.tests = Some(v.split(',').map(str::to_string).collect());
            }
            b"--dbnum" => o.dbnum = atoi(value!()),
            b"--precision" => {
                let p = atoi(value!());
                o.precision = if p < 0 {
                    DEFAULT_PRECISION
                } else {
                    p.min(MAX_PRECISION as i64) as u8
                };
            }
            b"--threads" => {
                let t = atoi(value!());
                if t > MAX_THREADS {
                    o.warnings
                        .push(format!("WARNING: Too many threads, limiting threads to {MAX_THREADS}."));
                }
                o.threads = t.clamp(0, MAX_THREADS) as usize;
            }
            b"--cluster" => o.cluster = true,
            b"--enable-tracking" => o.enable_tracking = true,
            b"--help" => {
                return Err(Exit {
                    stdout: usage(),
                    stderr: String::new(),
                    code: 0,
                })
            }
            b"--tls" => o.tls.enabled = true,
            b"--sni" => o.tls.sni = Some(text(&OsString::from(std::ffi::OsStr::from_bytes(value!())))),
            b"--cacertdir" => o.tls.cacertdir = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--cacert" => o.tls.cacert = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--insecure" => o.tls.insecure = true,
            b"--cert" => o.tls.cert = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--key" => o.tls.key = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--tls-ciphers" => o.tls.ciphers = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--tls-ciphersuites" => {
                o.tls.ciphersuites = Some(String::from_utf8_lossy(value!()).into_owned())
            }
            b"--hdr-out" => o.hdr_out = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--json" => o.json_out = Some(String::from_utf8_lossy(value!()).into_owned()),
            b"--rps" => {
                let v = value!();
                match std::str::from_utf8(v).ok().and_then(|s| s.parse::<u64>().ok()) {
                    Some(n) if n > 0 => o.rps = Some(n),
                    _ => return Err(invalid(&args[i])),
                }
            }
            b"--duration" => {
                let v = value!();
                match std::str::from_utf8(v).ok().and_then(|s| s.parse::<f64>().ok()) {
                    Some(d) if d > 0.0 && d.is_finite() => o.duration = Some(d),
                    _ => return Err(invalid(&args[i])),
                }
            }
            _ => {
                // An argument starting with a dash is a mistyped option; anything
                // else starts the command to benchmark.
                if a.first() == Some(&b'-') {
                    return Err(invalid(&args[i]));
                }
                o.command = args[i..].iter().map(|s| s.as_bytes().to_vec()).collect();
                break;
            }
        }
        i += 1;
    }
    Ok(o)
}

fn invalid(arg: &OsString) -> Exit {
    Exit {
        stdout: format!(
            "Invalid option \"{}\" or option argument missing\n\n{}",
            text(arg),
            usage()
        ),
        stderr: String::new(),
        code: 1,
    }
}

/// The `--help` text, Redis's wording, with our extras listed after Redis's options.
pub fn usage() -> String {
    USAGE.to_string()
}

const USAGE: &str = r#"Usage: redis-benchmark [OPTIONS] [COMMAND ARGS...]

Options:
 -h <hostname>      Server hostname (default 127.0.0.1)
 -p <port>          Server port (default 6379)
 -s <socket>        Server socket (overrides host and port)
 -a <password>      Password for Redis Auth
 --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
 -u <uri>           Server URI.
 -c <clients>       Number of parallel connections (default 50)
 -n <requests>      Total number of requests (default 100000)
 -d <size>          Data size of SET/GET value in bytes (default 3)
 --dbnum <db>       SELECT the specified db number (default 0)
 -3                 Start session in RESP3 protocol mode.
 --threads <num>    Enable multi-thread mode.
 --cluster          Enable cluster mode.
                    If the command is supplied on the command line in cluster
                    mode, the key must contain "{tag}". Otherwise, the
                    command will not be sent to the right cluster node.
 --enable-tracking  Send CLIENT TRACKING on before starting benchmark.
 -k <boolean>       1=keep alive 0=reconnect (default 1)
 -r <keyspacelen>   Use random keys for SET/GET/INCR, random values for SADD,
                    random members and scores for ZADD.
                    Using this option the benchmark will expand the string
                    __rand_int__ inside an argument with a 12 digits number in
                    the specified range from 0 to keyspacelen-1. The
                    substitution changes every time a command is executed.
                    Default tests use this to hit random keys in the specified
                    range.
                    Note: If -r is omitted, all commands in a benchmark will
                    use the same key.
 -P <numreq>        Pipeline <numreq> requests. Default 1 (no pipeline).
 -q                 Quiet. Just show query/sec values
 --precision        Number of decimal places to display in latency output (default 0)
 --csv              Output in CSV format
 -l                 Loop. Run the tests forever
 -t <tests>         Only run the comma separated list of tests. The test
                    names are the same as the ones produced as output.
                    The -t option is ignored if a specific command is supplied
                    on the command line.
 -I                 Idle mode. Just open N idle connections and wait.
 -x                 Read last argument from STDIN.
 --tls              Establish a secure TLS connection.
 --sni <host>       Server name indication for TLS.
 --cacert <file>    CA Certificate file to verify with.
 --cacertdir <dir>  Directory where trusted CA certificates are stored.
                    If neither cacert nor cacertdir are specified, the default
                    system-wide trusted root certs configuration will apply.
 --insecure         Allow insecure TLS connection by skipping cert validation.
 --cert <file>      Client certificate to authenticate with.
 --key <file>       Private key file to authenticate with.
 --tls-ciphers <list> Sets the list of preferred ciphers (TLSv1.2 and below)
                    in order of preference from highest to lowest separated by colon (":").
                    See the ciphers(1ssl) manpage for more information about the syntax of this string.
 --tls-ciphersuites <list> Sets the list of preferred ciphersuites (TLSv1.3)
                    in order of preference from highest to lowest separated by colon (":").
                    See the ciphers(1ssl) manpage for more information about the syntax of this string,
                    and specifically for TLSv1.3 ciphersuites.
 --help             Output this help and exit.
 --version          Output version and exit.

Examples:

 Run the benchmark with the default configuration against 127.0.0.1:6379:
   $ redis-benchmark

 Use 20 parallel clients, for a total of 100k requests, against 192.168.1.1:
   $ redis-benchmark -h 192.168.1.1 -p 6379 -n 100000 -c 20

 Fill 127.0.0.1:6379 with about 1 million keys only using the SET test:
   $ redis-benchmark -t set -n 1000000 -r 100000000

 Benchmark 127.0.0.1:6379 for a few commands producing CSV output:
   $ redis-benchmark -t ping,set,get -n 100000 --csv

 Benchmark a specific command line:
   $ redis-benchmark -r 10000 -n 10000 eval 'return redis.call("ping")' 0

 Fill a list with 10000 random elements:
   $ redis-benchmark -r 10000 -n 10000 lpush mylist __rand_int__

 On user specified command lines __rand_int__ is replaced with a random integer
 with a range of values selected by the -r option.
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, Exit> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_and_clamps() {
        let o = p(&[]).unwrap();
        assert_eq!(
            (o.clients, o.requests, o.datasize, o.pipeline),
            (50, 100000, 3, 1)
        );
        let o = p(&[
            "-d",
            "0",
            "-P",
            "-3",
            "--precision",
            "9",
            "--threads",
            "900",
        ])
        .unwrap();
        assert_eq!(
            (o.datasize, o.pipeline, o.precision, o.threads),
            (1, 1, 4, 500)
        );
        assert_eq!(o.warnings.len(), 1);
        assert_eq!(p(&["-r", "-5"]).unwrap().keyspace, Some(0));
        assert_eq!(p(&["-c", "12abc"]).unwrap().clients, 12);
    }

    #[test]
    fn invalid_options_print_usage_and_fail() {
        for args in [
            &["--foo"][..],
            &["-c"],
            &["-r", "-x"],
            &["-u"],
            &["--rps", "0"],
        ] {
            let e = p(args).unwrap_err();
            assert_eq!(e.code, 1);
            assert!(e.stdout.starts_with("Invalid option \""), "{}", e.stdout);
            assert!(e.stdout.contains("\n\nUsage: redis-benchmark"));
        }
        assert_eq!(p(&["--help"]).unwrap_err().code, 0);
        assert_eq!(
            p(&["-v"]).unwrap_err().stdout,
            format!("redis-benchmark {}\n", crate::VERSION)
        );
    }

    #[test]
    fn command_starts_at_first_non_option() {
        let o = p(&["-n", "5", "lpush", "-x", "a"]).unwrap();
        assert_eq!(
            o.command,
            vec![b"lpush".to_vec(), b"-x".to_vec(), b"a".to_vec()]
        );
        let o = p(&["-t", "SET,get", "-q"]).unwrap();
        assert_eq!(o.tests.unwrap(), vec!["set", "get"]);
        assert!(o.quiet);
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"  42x"), 42);
        assert_eq!(atoi(b"-7"), -7);
        assert_eq!(atoi(b"abc"), 0);
    }
}
