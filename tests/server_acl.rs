//! ACL users and permissions: the same requests to our server and to Debian's
//! redis-server 7.0.15 over several connections each (an admin connection and one per
//! user), reply bytes compared in RESP2 and RESP3: every ACL subcommand and rule,
//! GETUSER and LIST (tokens of a rule line compared as sets: Redis lists single
//! commands in its hash table's random order), every NOPERM reply (top level, MULTI
//! and EXEC, Lua), ACL LOG entries (all fields but age-seconds and client-info, of
//! which `user=` and `cmd=` are compared), clients closed by DELUSER, ACL LOAD and
//! revoked channels, ACL LOAD / SAVE with good and bad files, and start-up errors of
//! `user` lines and aclfile.
//!
//! `ACL_FUZZ_COMMANDS` (default 3000) sets the number of random commands of the
//! permission fuzz test.

mod common;
use common::raw::{reply_end, show};
use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A connection that can tell when the server closed it.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { s, buf: Vec::new() }
    }

    /// The reply, or `None` if the server closed the connection.
    fn cmd(&mut self, a: &[Vec<u8>]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        redis_formats::command::encode_command(a, &mut out);
        if self.s.write_all(&out).is_err() {
            return None;
        }
        loop {
            if let Some(end) = reply_end(&self.buf, 0) {
                return Some(self.buf.drain(..end).collect());
            }
            let mut chunk = [0u8; 65536];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// Commands of our table that Redis 7.0 does not have.
const BEYOND_7_0: &[&str] = &[
    "hexpire",
    "hpexpire",
    "hexpireat",
    "hpexpireat",
    "httl",
    "hpttl",
    "hexpiretime",
    "hpexpiretime",
    "hpersist",
    "hgetdel",
    "hgetex",
    "hsetex",
];

/// Both servers with named connections.
struct Duo {
    ours: Server,
    real: Server,
    conns: HashMap<String, (Conn, Conn)>,
    resp3: bool,
    /// Paths that differ between the two servers, replaced before comparing.
    paths: Vec<(String, String)>,
    /// Replies seen from the real server: NOPERM errors and others.
    denied: usize,
    allowed: usize,
}

impl Duo {
    fn start(extra: &[&str], resp3: bool) -> Option<Duo> {
        let real_bin = real_server()?;
        Some(Duo::with(
            Server::start(&our_server(), extra),
            Server::start(&real_bin, extra),
            resp3,
        ))
    }

    fn with(ours: Server, real: Server, resp3: bool) -> Duo {
        Duo {
            ours,
            real,
            conns: HashMap::new(),
            resp3,
            paths: Vec::new(),
            denied: 0,
            allowed: 0,
        }
    }

    fn conn(&mut self, name: &str) -> &mut (Conn, Conn) {
        if !self.conns.contains_key(name) {
            let mut a = Conn::new(self.ours.port);
            let mut b = Conn::new(self.real.port);
            if self.resp3 {
                let h = args("HELLO 3");
                let (ra, rb) = (a.cmd(&h), b.cmd(&h));
                assert!(ra.is_some() && rb.is_some());
            }
            self.conns.insert(name.to_string(), (a, b));
        }
        self.conns.get_mut(name).expect("connection")
    }

    /// Runs `conn> command` lines (no prefix: the `main` connection) and returns
    /// the differences. `!closed NAME` expects both servers to have closed NAME.
    fn run(&mut self, lines: &[&str]) -> Vec<String> {
        let mut diffs = Vec::new();
        for line in lines {
            if let Some(name) = line.strip_prefix("!closed ") {
                let (a, b) = self.conn(name);
                let p = args("PING");
                let (ra, rb) = (a.cmd(&p), b.cmd(&p));
                if ra.is_some() || rb.is_some() {
                    diffs.push(format!(
                        "{line}: ours {:?} real {:?}",
                        ra.map(|r| show(&r)),
                        rb.map(|r| show(&r))
                    ));
                }
                self.conns.remove(name);
                continue;
            }
            if let Some(ms) = line.strip_prefix("!sleep ") {
                std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
                continue;
            }
            let (name, cmd) = match line.split_once("> ") {
                Some((n, c)) if !n.contains(' ') => (n, c),
                _ => ("main", *line),
            };
            let a = args(cmd);
            let (ca, cb) = self.conn(name);
            let (ra, rb) = (ca.cmd(&a), cb.cmd(&a));
            let both = ra.is_some() == rb.is_some();
            let (Some(ra), Some(rb)) = (ra, rb) else {
                if !both {
                    diffs.push(format!("{line}: one server closed the connection"));
                }
                self.conns.remove(name);
                continue;
            };
            if rb.starts_with(b"-NOPERM") || rb.windows(20).any(|w| w == b"The user executing t") {
                self.denied += 1;
            } else {
                self.allowed += 1;
            }
            let (na, nb) = (
                self.normalize(cmd, &ra, true),
                self.normalize(cmd, &rb, false),
            );
            if na != nb {
                diffs.push(format!(
                    "{line:?}\n   ours: {}\n   real: {}",
                    show(&ra),
                    show(&rb)
                ));
            }
        }
        diffs
    }

    fn normalize(&self, cmd: &str, reply: &[u8], ours: bool) -> String {
        let mut text = String::from_utf8_lossy(reply).into_owned();
        for (o, r) in &self.paths {
            text = text.replace(if ours { o } else { r }, "FILE");
        }
        let upper = cmd.to_ascii_uppercase();
        let lines: Vec<&str> = text.split("\r\n").collect();
        let mut out = Vec::new();
        if upper.starts_with("ACL CAT ") {
            // Redis lists a category's commands in its hash table's random order.
            let mut l = lines.clone();
            l.sort();
            out.push(l.join(" "));
        } else if upper.starts_with("ACL GETUSER") || upper.starts_with("ACL LIST") {
            // Bulk lengths are left out: tokens are compared as sets.
            for l in lines.into_iter().filter(|l| !l.starts_with('$')) {
                // Our table has the hash field-expiry commands of later Redis
                // versions; rules that single them out are ours alone.
                out.push(sort_command_rules(l));
            }
        } else if upper.starts_with("ACL LOG") && !upper.contains("RESET") {
            let mut i = 0;
            while i < lines.len() {
                let l = lines[i];
                out.push(l.to_string());
                if l == "age-seconds" || l == "client-info" {
                    let info = l == "client-info";
                    let (value, skip) = if lines[i + 1].starts_with('$') {
                        (lines[i + 2], 2)
                    } else {
                        (lines[i + 1], 1)
                    };
                    if info {
                        let keep: Vec<&str> = value
                            .split(' ')
                            .filter(|f| f.starts_with("user=") || f.starts_with("cmd="))
                            .collect();
                        out.push(keep.join(" "));
                    } else {
                        out.push("AGE".into());
                    }
                    i += skip;
                }
                i += 1;
            }
        } else if upper.starts_with("HELLO") {
            // Client ids differ (the servers' readiness probes).
            let mut after_id = false;
            for l in lines {
                out.push(if after_id { "ID".into() } else { l.to_string() });
                after_id = l == "id";
            }
        } else if upper.starts_with("ACL GENPASS") {
            out.push(format!("{}", reply.len()));
        } else if upper.starts_with("CLIENT LIST") || upper.starts_with("CLIENT INFO") {
            for f in text.split([' ', '\n']) {
                if f.starts_with("user=") {
                    out.push(f.to_string());
                }
            }
        } else {
            out.push(text);
        }
        out.join("\n")
    }
}

/// A rule line with each run of command rules (`+x`, `-@y`) sorted, as Redis lists
/// single commands in its hash table's order; everything else keeps its place.
fn sort_command_rules(line: &str) -> String {
    let is_rule = |t: &str| t.starts_with('+') || t.starts_with('-');
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, out: &mut Vec<String>| {
        let close = run.last().is_some_and(|t| t.ends_with(')'));
        let mut r: Vec<String> = run
            .drain(..)
            .map(|t| t.trim_end_matches(')').to_string())
            .collect();
        r.sort();
        if close {
            if let Some(last) = r.last_mut() {
                last.push(')');
            }
        }
        out.extend(r);
    };
    for t in line.split(' ') {
        // Our table has the hash field-expiry commands of later Redis versions;
        // rules that single them out are ours alone.
        if BEYOND_7_0.contains(&t.trim_start_matches(['+', '-']).trim_end_matches(')')) {
            if t.ends_with(')') {
                if let Some(last) = run.last_mut() {
                    last.push(')');
                }
            }
            continue;
        }
        if is_rule(t) {
            run.push(t.to_string());
        } else {
            flush(&mut run, &mut out);
            out.push(t.to_string());
        }
    }
    flush(&mut run, &mut out);
    out.join(" ")
}

fn check(d: &mut Duo, lines: &[&str], what: &str) {
    let diffs = d.run(lines);
    assert!(
        diffs.is_empty(),
        "{what}: {} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// Rules, GETUSER, LIST, USERS, CAT, GENPASS, DELUSER, WHOAMI and their errors.
const RULES: &[&str] = &[
    "ACL WHOAMI",
    "ACL USERS",
    "ACL LIST",
    "ACL GETUSER default",
    "ACL GETUSER nosuch",
    "ACL SETUSER u1",
    "ACL GETUSER u1",
    "ACL SETUSER u1 on >pass1 >pass2 <pass1 ~obj:* %R~read:* %W~write:* %RW~both:* &chan:*",
    "ACL GETUSER u1",
    "ACL SETUSER u1 +get",
    "ACL GETUSER u1",
    "ACL SETUSER u1 +@string -append",
    "ACL GETUSER u1",
    "ACL SETUSER u1 nocommands +@set +@list -@write +client|id",
    "ACL GETUSER u1",
    "ACL SETUSER u1 allcommands -@dangerous",
    "ACL GETUSER u1",
    "ACL SETUSER u1 -@all +select|0 +select|1",
    "ACL GETUSER u1",
    "ACL SETUSER u1 +@all -config|set",
    "ACL GETUSER u1",
    "ACL SETUSER u1 -@all +config",
    "ACL GETUSER u1",
    "ACL SETUSER u1 +@all -@admin +config|get",
    "ACL GETUSER u1",
    "ACL SETUSER u1 allkeys allchannels",
    "ACL GETUSER u1",
    "ACL SETUSER u1 resetkeys resetchannels ~a ~b ~a %R~a",
    "ACL GETUSER u1",
    "ACL SETUSER u1 nopass",
    "ACL GETUSER u1",
    "ACL SETUSER u1 resetpass #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "ACL GETUSER u1",
    "ACL SETUSER u1 !5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "ACL SETUSER u1 skip-sanitize-payload",
    "ACL GETUSER u1",
    "ACL SETUSER u1 sanitize-payload off",
    "ACL GETUSER u1",
    "ACL SETUSER u1 (+get ~sel1*) (+set ~sel2* &c)",
    "ACL GETUSER u1",
    "ACL SETUSER u1 \"(+incr %R~x* %W~y*)\"",
    "ACL SETUSER u1 '(+del' '~d*)'",
    "ACL GETUSER u1",
    "ACL LIST",
    "ACL SETUSER u1 clearselectors",
    "ACL GETUSER u1",
    "ACL SETUSER u1 reset",
    "ACL GETUSER u1",
    "ACL SETUSER u2 on nopass +@all ~* &*",
    "ACL SETUSER u3 on >x ~k -@all +ping",
    "ACL USERS",
    "ACL LIST",
    // Errors.
    "ACL SETUSER u1 bogus",
    "ACL SETUSER u1 +nosuch",
    "ACL SETUSER u1 -nosuch",
    "ACL SETUSER u1 +@nosuch",
    "ACL SETUSER u1 -@nosuch",
    "ACL SETUSER u1 +config|nosuch",
    "ACL SETUSER u1 -config|nosuch",
    "ACL SETUSER u1 +config|get|x",
    "ACL SETUSER u1 +get|",
    "ACL SETUSER u1 -select|0",
    "ACL SETUSER u1 +",
    "ACL SETUSER u1 -",
    "ACL SETUSER u1 +@",
    "ACL SETUSER u1 allkeys ~foo",
    "ACL SETUSER u1 allchannels &foo",
    "ACL SETUSER u1 <notthere",
    "ACL SETUSER u1 !notahash",
    "ACL SETUSER u1 #5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8",
    "ACL SETUSER u1 %X~foo",
    "ACL SETUSER u1 %RR~foo",
    "ACL SETUSER u1 (+get",
    "ACL SETUSER u1 (+get ~x) (bogus)",
    "ACL SETUSER u1 on +get bogus",
    "ACL GETUSER u1",
    "ACL SETUSER 'bad name' on",
    "ACL SETUSER",
    "ACL GETUSER",
    "ACL GETUSER a b",
    "ACL DELUSER default",
    "ACL DELUSER u2 nosuch u3",
    "ACL DELUSER u2 default",
    "ACL USERS",
    "ACL CAT",
    "ACL CAT keyspace",
    "ACL CAT DANGEROUS",
    "ACL CAT pubsub",
    "ACL CAT nosuch",
    "ACL CAT a b",
    "ACL GENPASS",
    "ACL GENPASS 5",
    "ACL GENPASS 4096",
    "ACL GENPASS 0",
    "ACL GENPASS 4097",
    "ACL GENPASS x",
    "ACL GENPASS 1 2",
    "ACL WHOAMI x",
    "ACL NOSUCH",
    "ACL",
    "ACL HELP",
    "ACL LOAD",
    "ACL SAVE",
    "ACL LOG x",
    "ACL LOG 1 2",
    // DRYRUN.
    "ACL SETUSER dr on nopass ~k* &ch* +get +publish +subscribe",
    "ACL DRYRUN dr get k1",
    "ACL DRYRUN dr get x",
    "ACL DRYRUN dr set k1 v",
    "ACL DRYRUN dr publish ch1 m",
    "ACL DRYRUN dr publish other m",
    "ACL DRYRUN dr subscribe ch1 other",
    "ACL DRYRUN dr nosuchcmd",
    "ACL DRYRUN dr get",
    "ACL DRYRUN nosuch get k",
    "ACL DRYRUN dr config nosuch",
    "ACL DRYRUN dr config get x",
    "ACL DRYRUN dr",
    "ACL DRYRUN dr config",
    "ACL DRYRUN dr CONFIG GET",
    "ACL DRYRUN dr auth x",
    "ACL DRYRUN dr hello",
    "ACL SETUSER fa on nopass -@all +select|0 +select|3 +debug|object ~*",
    "ACL GETUSER fa",
    "ACL DRYRUN fa select 0",
    "ACL DRYRUN fa select 3",
    "ACL DRYRUN fa select 1",
    "ACL DRYRUN fa debug object k",
    "ACL DRYRUN fa debug digest",
    "ACL SETUSER fa +select",
    "ACL GETUSER fa",
    "ACL SETUSER fa -select +select|5",
    "ACL GETUSER fa",
    "ACL SETUSER fa +@all",
    "ACL GETUSER fa",
    "ACL SETUSER cs on nopass ~* +@all -@keyspace -@hash +del +hget",
    "ACL GETUSER cs",
    "ACL SETUSER cs2 on nopass ~* -@all +@read +@write -@dangerous",
    "ACL GETUSER cs2",
    "ACL SETUSER cs3 on nopass ~* -@all +@all -@all +@fast",
    "ACL GETUSER cs3",
];

/// Permissions: a user's commands, keys and channels, with every NOPERM reply and
/// the ACL LOG they leave.
const PERMS: &[&str] = &[
    "ACL SETUSER alice on >apass ~cached:* %R~ro:* %W~wo:* &news.* -@all +get +set +mget +copy +@list +publish +subscribe +psubscribe +ssubscribe +spublish +multi +exec +discard +eval +client|id +select|0 +acl|whoami",
    "alice> AUTH alice wrong",
    "alice> AUTH nosuch apass",
    "alice> AUTH alice apass",
    "alice> ACL WHOAMI",
    "alice> GET cached:1",
    "alice> GET other",
    "alice> SET cached:1 v",
    "alice> SET ro:1 v",
    "alice> SET wo:1 v",
    "alice> GET ro:1",
    "alice> GET wo:1",
    "alice> MGET cached:1 ro:1 wo:1",
    "alice> MGET cached:1 ro:1 other",
    "alice> COPY ro:1 wo:2",
    "alice> COPY wo:1 ro:2",
    "alice> LPUSH cached:l a",
    "alice> LPUSH other a",
    "alice> DEL cached:1",
    "alice> CLIENT GETNAME",
    "alice> CLIENT KILL ID 1",
    "alice> SELECT 0",
    "alice> SELECT 1",
    "alice> CONFIG GET maxmemory",
    "alice> PUBLISH news.sport hi",
    "alice> PUBLISH weather hi",
    "alice> SPUBLISH news.x hi",
    "alice> SPUBLISH weather hi",
    "alice> EVAL \"return redis.call('get','cached:1')\" 0",
    "alice> EVAL \"return redis.call('get','other')\" 0",
    "alice> EVAL \"return redis.call('del','cached:1')\" 0",
    "alice> EVAL \"return redis.pcall('del','cached:1')\" 0",
    "alice> EVAL \"return redis.call('publish','weather','x')\" 0",
    "alice> MULTI",
    "alice> GET cached:1",
    "alice> GET other",
    "alice> DEL x",
    "alice> EXEC",
    "alice> MULTI",
    "alice> GET cached:1",
    "alice> SET cached:2 v",
    "ACL SETUSER alice -set",
    "alice> EXEC",
    "ACL SETUSER alice +set",
    "ACL LOG 100",
    "ACL LOG 2",
    "ACL LOG 0",
    "ACL LOG -1",
    "CLIENT LIST",
    "alice> CLIENT INFO",
    "ACL LOG RESET",
    "ACL LOG",
    // Denied the same way again: entries merge (count).
    "alice> GET other",
    "alice> GET other",
    "alice> GET other2",
    "ACL LOG",
    "CONFIG SET acllog-max-len 1",
    "alice> DEL a",
    "ACL LOG",
    "CONFIG SET acllog-max-len 128",
    // redis.acl_check_cmd answers for the script's caller.
    "ACL SETUSER bob on >123 +@scripting +set ~x*",
    "bob> AUTH bob 123",
    "bob> EVAL \"return redis.acl_check_cmd('set','xx',1)\" 1 xx",
    "bob> EVAL \"return redis.acl_check_cmd('hset','xx','f',1)\" 1 xx",
    "bob> EVAL \"return redis.acl_check_cmd('set','yy',1)\" 0",
    "bob> EVAL \"return redis.acl_check_cmd('invalid-cmd','arg')\" 0",
    "bob> EVAL \"return redis.acl_check_cmd()\" 0",
    "bob> EVAL \"return redis.call('set','yy',1)\" 0",
    "bob> EVAL \"return redis.pcall('set','yy',1)\" 0",
    "bob> EVAL \"return redis.call('set','xa',1)\" 0",
    // Selectors: one selector per key set.
    "ACL SETUSER sel on nopass -@all +get ~a* (+set ~b*) (+del ~c* %R~d*)",
    "sel> AUTH sel x",
    "sel> GET a1",
    "sel> GET b1",
    "sel> SET b1 v",
    "sel> SET a1 v",
    "sel> DEL c1",
    "sel> DEL c1 a1",
    "sel> DEL d1",
    "sel> LPUSH c1 x",
    // HELLO AUTH, AUTH arity and errors.
    "h> HELLO 2 AUTH alice wrong",
    "h> HELLO 2 AUTH alice apass",
    "h> ACL WHOAMI",
    "h> AUTH a b c",
    "h> HELLO 3 AUTH nosuch x",
    "h> HELLO 2 AUTH alice apass SETNAME named",
    "m> MULTI",
    "m> AUTH alice wrong",
    "m> AUTH alice apass",
    "m> EXEC",
    "m> ACL WHOAMI",
    "CLIENT KILL USER nosuch",
    "CLIENT KILL USER alice SKIPME yes",
    "!closed alice",
    "!closed h",
    "h> AUTH onlypass",
    "ACL SETUSER dis off >p +@all ~*",
    "d> AUTH dis p",
    "ACL SETUSER dis on",
    "d> AUTH dis p",
    "d> ACL WHOAMI",
    "ACL SETUSER np on nopass +@all ~* &*",
    "n> AUTH np anything",
    "n> ACL WHOAMI",
    "ACL LOG 3",
    // Deleting a user closes its clients.
    "ACL DELUSER dis",
    "!closed d",
    "n> ACL DELUSER np",
    "!closed n",
    // Revoking channels closes the user's subscribers.
    "ACL SETUSER psub on nopass +@all ~* resetchannels &news.* &sport",
    "ps> AUTH psub x",
    "ps> SUBSCRIBE news.a",
    "ACL SETUSER psub &more",
    "ps> PING",
    "ACL SETUSER psub resetchannels &sport",
    "!closed ps",
    "ACL SETUSER psub resetchannels &news.*",
    "ps2> AUTH psub x",
    "ps2> PSUBSCRIBE news.*",
    "ps2> PSUBSCRIBE news.a*",
    "ps2> SUBSCRIBE other",
    "ACL SETUSER psub resetchannels &news.a*",
    "!closed ps2",
];

#[test]
fn acl_rules_resp2() {
    let Some(mut d) = Duo::start(&[], false) else {
        return;
    };
    check(&mut d, RULES, "RESP2 rules");
}

#[test]
fn acl_rules_resp3() {
    let Some(mut d) = Duo::start(&[], true) else {
        return;
    };
    check(&mut d, RULES, "RESP3 rules");
}

#[test]
fn acl_permissions_resp2() {
    let Some(mut d) = Duo::start(&[], false) else {
        return;
    };
    check(&mut d, PERMS, "RESP2 permissions");
}

#[test]
fn acl_permissions_resp3() {
    let Some(mut d) = Duo::start(&[], true) else {
        return;
    };
    check(&mut d, PERMS, "RESP3 permissions");
}

#[test]
fn requirepass_and_default_user() {
    let Some(mut d) = Duo::start(&[], false) else {
        return;
    };
    check(
        &mut d,
        &[
            "CONFIG SET requirepass secret",
            "main> ACL WHOAMI",
            "GET x",
            "s> GET x",
            "s> HELLO 3",
            "HELLO 3",
            "s> AUTH wrong",
            "s> AUTH default wrong",
            "s> AUTH secret",
            "ACL GETUSER default",
            "CONFIG SET requirepass other",
            "ACL GETUSER default",
            "x> GET x",
            "x> AUTH other",
            "x> GET x",
            "CONFIG SET requirepass \"\"",
            "y> GET x",
            "ACL SETUSER default resetpass",
            "z> GET x",
            "z> AUTH x",
            "ACL SETUSER default nopass",
            "z> GET x",
            "ACL SETUSER default off",
            "w> GET x",
            "w> HELLO 3",
            "ACL SETUSER default on",
            "ACL LOG",
        ],
        "requirepass",
    );
}

#[test]
fn acl_pubsub_default_allchannels() {
    let Some(mut d) = Duo::start(&["--acl-pubsub-default", "allchannels"], false) else {
        return;
    };
    check(
        &mut d,
        &[
            "ACL SETUSER u on nopass +@all ~*",
            "ACL GETUSER u",
            "ACL SETUSER u reset",
            "ACL GETUSER u",
            "ACL SETUSER v (+get ~x)",
            "ACL GETUSER v",
            "CONFIG SET acl-pubsub-default resetchannels",
            "ACL SETUSER w",
            "ACL GETUSER w",
            "ACL LIST",
        ],
        "acl-pubsub-default",
    );
}

/// Writes `text` to the ACL files of both servers.
fn write_acl(d: &Duo, text: &str) {
    for (p, _) in [(&d.paths[0].0, 0), (&d.paths[0].1, 1)] {
        std::fs::write(p, text).unwrap();
    }
}

#[test]
fn acl_files_load_and_save() {
    let Some(real_bin) = real_server() else {
        return;
    };
    let dirs = [tempdir::Dir::new("acl-ours"), tempdir::Dir::new("acl-real")];
    let files: Vec<String> = dirs
        .iter()
        .map(|d| d.0.join("users.acl").to_string_lossy().into_owned())
        .collect();
    let initial = "user default on nopass ~* &* +@all\nuser bob on >bobpass ~bob:* +@read\n";
    for f in &files {
        std::fs::write(f, initial).unwrap();
    }
    let ours = Server::start(&our_server(), &["--aclfile", &files[0]]);
    let real = Server::start(&real_bin, &["--aclfile", &files[1]]);
    let mut d = Duo::with(ours, real, false);
    d.paths.push((files[0].clone(), files[1].clone()));
    check(
        &mut d,
        &[
            "ACL LIST",
            "b> AUTH bob bobpass",
            "b> GET bob:1",
            "ACL SETUSER carol on nopass +@all ~*",
            "ACL SAVE",
            "ACL LOAD",
            "!closed b",
            "ACL LIST",
            "ACL LOAD x",
            "ACL SAVE x",
        ],
        "load/save",
    );
    // The saved files are the same (single-command order aside).
    let norm = |p: &str| {
        let mut lines: Vec<String> = std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let mut t: Vec<&str> = l.split(' ').collect();
                t.sort();
                t.join(" ")
            })
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(norm(&files[0]), norm(&files[1]));
    let bad_files = [
        "user a on\nfoo bar\nuser b +nosuch ~x\n",
        "user a on\nuser a off\n",
        "user a on bogus more +nosuch %Q~x\n",
        "user\n",
        "  \n\nuser a on nopass\n\n",
        "user a on >p +@all ~* &*\nuser default off\n",
        "user a on \"quoted\n",
        "user a on %R~ro (+set ~w*) (+get ~r*)\n",
    ];
    for text in bad_files {
        write_acl(&d, text);
        check(&mut d, &["ACL LOAD", "ACL LIST"], text);
    }
    write_acl(&d, "user default on nopass ~* &* +@all\n");
    check(&mut d, &["ACL LOAD", "ACL LIST"], "reset");
}

/// Redis exits at start-up on bad `user` lines or users with an aclfile; both
/// servers print the same error.
#[test]
fn startup_errors() {
    let Some(real_bin) = real_server() else {
        return;
    };
    let dir = tempdir::Dir::new("acl-start");
    let acl = dir.0.join("users.acl");
    std::fs::write(&acl, "user a on\n").unwrap();
    let acl = acl.to_string_lossy().into_owned();
    let bad = dir.0.join("bad.acl");
    std::fs::write(&bad, "user a on +nosuch\n").unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--user", "alice", "on", "bogus"],
        vec!["--user", "alice", "on", "nopass", "(+get"],
        vec!["--user", "alice", "on", "allkeys", "~x"],
        vec!["--user", "alice", "on", "--user", "alice", "off"],
        vec!["--user", "alice", "on", "--aclfile", &acl],
        vec!["--aclfile", &bad],
        vec!["--aclfile", "/nonexistent/x.acl"],
    ];
    for extra in cases {
        let run = |bin: &std::path::Path| {
            let port = free_port().to_string();
            let out = std::process::Command::new(bin)
                .args(["--port", &port, "--save", "", "--appendonly", "no"])
                .args(&extra)
                .current_dir(&dir.0)
                .output()
                .expect("run");
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            // The log lines' prefix (pid, time) differs; keep the messages.
            let msgs: Vec<String> = text
                .lines()
                .filter(|l| {
                    l.contains("ACL")
                        || l.contains("user")
                        || l.contains("FATAL")
                        || l.contains(">>>")
                })
                .map(|l| match l.find(" # ") {
                    Some(i) => l[i + 3..].to_string(),
                    None => l.to_string(),
                })
                .collect();
            (out.status.code(), msgs)
        };
        let (a, b) = (run(&our_server()), run(&real_bin));
        assert_eq!(a, b, "start-up with {extra:?}");
        assert_eq!(a.0, Some(1), "{extra:?}");
    }
}

/// `user` lines of the configuration load at start-up (the default user too).
#[test]
fn config_user_lines() {
    let Some(mut d) = Duo::start(
        &[
            "--user",
            "alice",
            "on",
            ">p",
            "~a*",
            "+get",
            "(+set",
            "~s*)",
            "--user",
            "default",
            "on",
            "nopass",
            "~*",
            "+@all",
            "-flushall",
            "--user",
            "bob",
        ],
        false,
    ) else {
        return;
    };
    check(
        &mut d,
        &[
            "ACL LIST",
            "FLUSHALL",
            "a> AUTH alice p",
            "a> GET a1",
            "a> SET s1 x",
            "a> SET a1 x",
        ],
        "config user lines",
    );
}

/// Random users (commands, categories, keys, channels, selectors) and random commands
/// run by them in lockstep on both servers: the same replies (allowed or which NOPERM).
#[test]
fn permission_fuzz_resp2() {
    let n: usize = std::env::var("ACL_FUZZ_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    permission_fuzz(n, false);
}

#[test]
fn permission_fuzz_resp3() {
    let n: usize = std::env::var("ACL_FUZZ_COMMANDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    permission_fuzz(n / 2, true);
}

fn permission_fuzz(n: usize, resp3: bool) {
    let Some(mut d) = Duo::start(&[], resp3) else {
        return;
    };
    let mut rng = fastrand::Rng::with_seed(
        std::env::var("ACL_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(7),
    );
    let cmds = [
        "get",
        "set",
        "del",
        "mget",
        "mset",
        "incr",
        "lpush",
        "lrange",
        "hset",
        "hget",
        "sadd",
        "smembers",
        "zadd",
        "copy",
        "rename",
        "exists",
        "publish",
        "subscribe",
        "psubscribe",
        "spublish",
        "ping",
        "echo",
        "type",
        "ttl",
        "expire",
        "sort",
        "select",
        "dbsize",
        "config|get",
        "client|getname",
        "object|encoding",
        "xadd",
        "lmove",
        "smove",
        "sintercard",
    ];
    let cats = [
        "read",
        "write",
        "string",
        "list",
        "hash",
        "set",
        "sortedset",
        "keyspace",
        "pubsub",
        "fast",
        "slow",
        "dangerous",
        "connection",
        "stream",
        "admin",
    ];
    let keys = ["a", "b", "ab", "ba", "k1", "k2", "x"];
    let pats = ["a*", "b*", "k?", "*", "x", "[ab]*"];
    let chans = ["c1", "c2", "news", "n*"];
    let rules = |rng: &mut fastrand::Rng| -> Vec<String> {
        let mut r = Vec::new();
        for _ in 0..rng.usize(1..6) {
            r.push(match rng.usize(0..8) {
                0 => format!("+{}", cmds[rng.usize(..cmds.len())]),
                1 => format!("-{}", cmds[rng.usize(..cmds.len())]),
                2 => format!("+@{}", cats[rng.usize(..cats.len())]),
                3 => format!("-@{}", cats[rng.usize(..cats.len())]),
                4 => format!(
                    "{}{}",
                    ["~", "%R~", "%W~", "%RW~"][rng.usize(..4)],
                    pats[rng.usize(..pats.len())]
                ),
                5 => format!("&{}", chans[rng.usize(..chans.len())]),
                6 => [
                    "allkeys",
                    "resetkeys",
                    "allchannels",
                    "resetchannels",
                    "allcommands",
                ][rng.usize(..5)]
                .to_string(),
                _ => "+select|0".to_string(),
            });
        }
        r
    };
    let mut diffs = Vec::new();
    let mut sent = 0;
    let mut user_no = 0;
    while sent < n {
        user_no += 1;
        let name = format!("f{user_no}");
        let mut line = format!("ACL SETUSER {name} on nopass resetchannels");
        for r in rules(&mut rng) {
            line.push(' ');
            line.push_str(&r);
        }
        for _ in 0..rng.usize(0..3) {
            line.push_str(&format!(" \"({})\"", rules(&mut rng).join(" ")));
        }
        let conn = format!("c{user_no}");
        let mut lines = vec![
            line,
            format!("ACL GETUSER {name}"),
            format!("{conn}> AUTH {name} x"),
        ];
        for _ in 0..50 {
            let k1 = keys[rng.usize(..keys.len())];
            let k2 = keys[rng.usize(..keys.len())];
            let ch = ["c1", "c2", "news", "n*", "other"][rng.usize(..5)];
            let cmd = match rng.usize(0..40) {
                0 => format!("GET {k1}"),
                1 => format!("SET {k1} v"),
                2 => format!("DEL {k1} {k2}"),
                3 => format!("MGET {k1} {k2}"),
                4 => format!("MSET {k1} 1 {k2} 2"),
                5 => format!("INCR {k1}"),
                6 => format!("LPUSH {k1} x"),
                7 => format!("LRANGE {k1} 0 -1"),
                8 => format!("HSET {k1} f v"),
                9 => format!("SADD {k1} m"),
                10 => format!("COPY {k1} {k2}"),
                11 => format!("RENAME {k1} {k2}"),
                12 => format!("EXISTS {k1} {k2}"),
                13 => format!("PUBLISH {ch} m"),
                14 => format!("SPUBLISH {ch} m"),
                15 => "PING".into(),
                16 => format!("TYPE {k1}"),
                17 => format!("SORT {k1} BY nosort"),
                18 => format!("SELECT {}", rng.usize(0..2)),
                19 => "DBSIZE".into(),
                20 => "CONFIG GET maxmemory".into(),
                21 => "CLIENT GETNAME".into(),
                22 => format!("OBJECT ENCODING {k1}"),
                23 => format!("XADD {k1} 1-1 f v"),
                24 => format!("LMOVE {k1} {k2} LEFT RIGHT"),
                25 => format!("SMOVE {k1} {k2} m"),
                26 => format!("EXPIRE {k1} 100"),
                27 => format!("SINTERCARD 2 {k1} {k2}"),
                28 => format!("ZADD {k1} 1 m"),
                29 => format!("EVAL \"return redis.pcall('set',KEYS[1],'v')\" 1 {k1}"),
                30 => format!("EVAL \"return redis.pcall('publish',ARGV[1],'m')\" 0 {ch}"),
                31 => format!("MULTI\n{conn}> GET {k1}\n{conn}> SET {k2} v\n{conn}> EXEC"),
                32 => format!("SORT {k1} BY w_* GET h_*->f"),
                33 => format!("ZUNIONSTORE {k1} 2 {k2} {k1}"),
                34 => format!("LMPOP 2 {k1} {k2} LEFT"),
                35 => format!("SET {k1} v GET"),
                36 => format!("BITOP AND {k1} {k2}"),
                37 => format!("XREAD STREAMS {k1} {k2} 0 0"),
                38 => format!("GETEX {k1} PERSIST"),
                39 => format!("EVAL \"return redis.call('get',KEYS[1])\" 1 {k1}"),
                _ => format!("ECHO {k1}"),
            };
            for c in format!("{conn}> {cmd}").split('\n') {
                lines.push(c.to_string());
            }
        }
        // Subscriptions last: a RESP2 subscriber may only (un)subscribe after them.
        for _ in 0..rng.usize(0..3) {
            let ch = ["c1", "c2", "news", "n*", "other"][rng.usize(..5)];
            let verb = ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"][rng.usize(..3)];
            lines.push(format!("{conn}> {verb} {ch}"));
        }
        lines.push("FLUSHALL".into());
        sent += lines.len();
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        diffs.extend(d.run(&refs));
        d.conns.remove(&conn);
    }
    // The log of denials is the same too.
    diffs.extend(d.run(&["ACL LOG 128"]));
    assert!(
        d.denied > n / 10 && d.allowed > n / 10,
        "denied {} allowed {}",
        d.denied,
        d.allowed
    );
    assert!(
        diffs.is_empty(),
        "{} differences in {sent} commands:\n{}",
        diffs.len(),
        diffs
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
