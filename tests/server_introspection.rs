//! Connection, client and introspection commands, compared with Debian's redis-server:
//! HELLO, AUTH, CLIENT, COMMAND, INFO field names, SLOWLOG, LATENCY, MONITOR, MEMORY,
//! SHUTDOWN errors, protocol errors, maxclients; and a fuzzed byte stream.

mod common;
use common::*;
use redis_formats::RespValue;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends each line (split with Redis's quoting rules) to both servers on one
/// connection each and asserts the decoded replies are equal.
fn same(ours: &Server, real: &Server, lines: &[&str]) {
    let mut a = ours.client();
    let mut b = real.client();
    for l in lines {
        let argv = args(l);
        let ra = a.cmd(&argv).expect("our reply");
        let rb = b.cmd(&argv).expect("real reply");
        // HELLO's client id differs from server to server.
        let (ra, rb) = if l.to_ascii_uppercase().starts_with("HELLO") {
            (without_id(ra), without_id(rb))
        } else {
            (ra, rb)
        };
        assert_eq!(ra, rb, "different replies for {l:?}");
    }
}

fn both(extra: &[&str]) -> Option<(Server, Server)> {
    let real_bin = real_server()?;
    Some((
        Server::start(&our_server(), extra),
        Server::start(&real_bin, extra),
    ))
}

fn text(v: &RespValue) -> String {
    String::from_utf8_lossy(v.as_bytes().expect("a string reply")).into_owned()
}

/// Replaces the value that follows the bulk string `id` in a HELLO reply.
fn without_id(v: RespValue) -> RespValue {
    match v {
        RespValue::Array(mut items) => {
            for i in 0..items.len().saturating_sub(1) {
                if items[i] == RespValue::Bulk(b"id".to_vec()) {
                    items[i + 1] = RespValue::Integer(0);
                }
            }
            RespValue::Array(items)
        }
        RespValue::Map(mut pairs) => {
            for (k, v) in pairs.iter_mut() {
                if *k == RespValue::Bulk(b"id".to_vec()) {
                    *v = RespValue::Integer(0);
                }
            }
            RespValue::Map(pairs)
        }
        other => other,
    }
}

#[test]
fn hello_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    let mut a = ours.client();
    let mut b = real.client();
    for l in [
        "HELLO",
        "HELLO 3",
        "HELLO",
        "HELLO 2",
        "HELLO 3 SETNAME conn1",
        "HELLO 2 AUTH default anything",
        "HELLO 2 AUTH nosuchuser x",
        "HELLO 4",
        "HELLO 1",
        "HELLO abc",
        "HELLO 3 SETNAME",
        "HELLO 3 foo",
        "HELLO 3 SETNAME \"a b\"",
        "CLIENT GETNAME",
        "RESET",
        "CLIENT GETNAME",
        "PING",
        "ECHO hi",
    ] {
        let argv = args(l);
        let ra = without_id(a.cmd(&argv).unwrap());
        let rb = without_id(b.cmd(&argv).unwrap());
        assert_eq!(ra, rb, "{l}");
    }
    // The id in HELLO is CLIENT ID's.
    let id = a.cmd(&["CLIENT", "ID"]).unwrap();
    let RespValue::Array(h) = a.cmd(&["HELLO", "2"]).unwrap() else {
        panic!("HELLO 2 is an array")
    };
    assert_eq!(h[7], id);
}

#[test]
fn auth_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    same(
        &ours,
        &real,
        &["AUTH foo", "AUTH a b c", "AUTH default x", "AUTH bob x"],
    );

    // (Started without a password: the start-up probe PINGs.)
    same(&ours, &real, &["CONFIG SET requirepass foobar"]);
    same(
        &ours,
        &real,
        &[
            "SET foo bar",
            "PING",
            "HELLO 3",
            "CLIENT ID",
            "AUTH wrong!",
            "AUTH default wrong",
            "HELLO 3 AUTH default wrong",
            "AUTH foobar",
            "SET foo 100",
            "INCR foo",
            "RESET",
            "GET foo",
            "HELLO 2 AUTH default foobar SETNAME me",
            "GET foo",
            "CLIENT GETNAME",
        ],
    );
    // Unauthenticated clients get the smaller multibulk limits.
    for (input, expect) in [
        (
            &b"*100\r\n"[..],
            &b"-ERR Protocol error: unauthenticated multibulk length\r\n"[..],
        ),
        (
            b"*1\r\n$100000000\r\n",
            b"-ERR Protocol error: unauthenticated bulk length\r\n",
        ),
    ] {
        for s in [&ours, &real] {
            let mut c = s.client();
            c.send_raw(input);
            assert_eq!(c.read_to_close(), expect);
        }
    }
}

#[test]
fn client_subcommands_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    same(
        &ours,
        &real,
        &[
            "CLIENT GETNAME",
            "CLIENT SETNAME \"foo bar\"",
            "CLIENT SETNAME \"foo\\nbar\"",
            "CLIENT SETNAME myname",
            "CLIENT GETNAME",
            "CLIENT SETNAME \"\"",
            "CLIENT GETNAME",
            "CLIENT SETNAME a b",
            "CLIENT KILL",
            "CLIENT KILL id 10 wrong_arg",
            "CLIENT KILL id str",
            "CLIENT KILL id -1",
            "CLIENT KILL id 0",
            "CLIENT KILL type wrong_type",
            "CLIENT KILL user wrong_user",
            "CLIENT KILL skipme yes_or_no",
            "CLIENT KILL 1.2.3.4:5",
            "CLIENT KILL addr 1.2.3.4:5",
            "CLIENT KILL laddr 1.2.3.4:5 skipme no",
            "CLIENT KILL user default",
            "CLIENT KILL id 99999",
            "CLIENT KILL 1 2 3",
            "CLIENT LIST type foo",
            "CLIENT LIST id x",
            "CLIENT LIST id 99999",
            "CLIENT LIST foo",
            "CLIENT LIST type pubsub",
            "CLIENT LIST type master",
            "CLIENT LIST type replica",
            "CLIENT REPLY foo",
            "CLIENT NO-EVICT maybe",
            "CLIENT NO-EVICT on",
            "CLIENT NO-EVICT off",
            "CLIENT PAUSE abc",
            "CLIENT PAUSE -1",
            "CLIENT PAUSE 10 foo",
            "CLIENT PAUSE 10 write x",
            "CLIENT PAUSE 0",
            "CLIENT UNPAUSE",
            "CLIENT HELP",
            "CLIENT HELP x",
            "CLIENT foo",
            "CLIENT",
            "CLIENT SETINFO lib-name x",
            "CLIENT NO-TOUCH on",
            "CLIENT ID x",
        ],
    );
}

/// `name=value` field names of a CLIENT LIST line.
fn field_names(line: &str) -> Vec<String> {
    line.split(' ')
        .map(|f| f.split('=').next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn client_list_and_info_format() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    let mut a = ours.client();
    let mut b = real.client();
    for cmd in [vec!["CLIENT", "LIST"], vec!["CLIENT", "INFO"]] {
        let la = text(&a.cmd(&cmd).unwrap());
        let lb = text(&b.cmd(&cmd).unwrap());
        assert!(la.ends_with('\n'));
        assert_eq!(
            field_names(la.trim_end()),
            field_names(lb.trim_end()),
            "{cmd:?}"
        );
        // The values that do not depend on the process.
        for f in [
            "name=",
            "flags=N",
            "db=0",
            "sub=0",
            "multi=-1",
            "qbuf=26",
            "obl=0",
            "events=r",
            "user=default",
            "redir=-1",
            "resp=2",
        ] {
            assert!(la.trim_end().split(' ').any(|x| x == f), "{f} in {la}");
        }
        assert!(la.contains(&format!("cmd={}", cmd.join("|").to_lowercase())));
    }
    // CLIENT LIST ID shows the listed ids in argument order, others skipped.
    let my = a.cmd(&["CLIENT", "ID"]).unwrap();
    let RespValue::Integer(my) = my else { panic!() };
    let mut other = ours.client();
    let RespValue::Integer(oid) = other.cmd(&["CLIENT", "ID"]).unwrap() else {
        panic!()
    };
    let l = text(
        &a.cmd(&[
            "CLIENT".to_string(),
            "LIST".into(),
            "ID".into(),
            oid.to_string(),
            "424242".into(),
            my.to_string(),
        ])
        .unwrap(),
    );
    let ids: Vec<&str> = l.lines().map(|x| x.split(' ').next().unwrap()).collect();
    assert_eq!(ids, [format!("id={oid}"), format!("id={my}")]);
    // RESP3 clients get a verbatim string.
    a.cmd(&["HELLO", "3"]).unwrap();
    assert!(matches!(
        a.cmd(&["CLIENT", "INFO"]).unwrap(),
        RespValue::Verbatim { .. }
    ));
}

#[test]
fn client_kill_and_reply_modes() {
    let s = Server::start(&our_server(), &[]);
    let mut me = s.client();
    let mut victim = s.client();
    victim.cmd(&["CLIENT", "SETNAME", "victim"]).unwrap();
    let RespValue::Integer(vid) = victim.cmd(&["CLIENT", "ID"]).unwrap() else {
        panic!()
    };
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "ID", &vid.to_string()]).unwrap(),
        RespValue::Integer(1)
    );
    assert!(victim.cmd(&["PING"]).is_err());
    // Old form: kill by address, OK or "No such client".
    let mut v2 = s.client();
    v2.cmd(&["PING"]).unwrap();
    let addr = v2.stream.local_addr().unwrap().to_string();
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", &addr]).unwrap(),
        RespValue::Status(b"OK".to_vec())
    );
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", &addr]).unwrap(),
        RespValue::Error(b"ERR No such client".to_vec())
    );
    // SKIPME no kills the caller too, after the reply. First wait (bounded) until the
    // connections closed above (and Server::start's probe) are gone: under load the
    // server may not have read their EOF yet, and it would count them.
    let t = std::time::Instant::now();
    loop {
        let RespValue::Bulk(list) = me.cmd(&["CLIENT", "LIST"]).unwrap() else {
            panic!()
        };
        if list
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            == 1
        {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "clients linger");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        me.cmd(&["CLIENT", "KILL", "SKIPME", "no"]).unwrap(),
        RespValue::Integer(1)
    );
    assert!(me.cmd(&["PING"]).is_err());

    // CLIENT REPLY OFF / SKIP / ON.
    let mut c = s.client();
    c.send_raw(b"CLIENT REPLY OFF\r\nPING a\r\nPING b\r\nCLIENT REPLY ON\r\nPING c\r\n");
    assert_eq!(c.read_reply().unwrap(), RespValue::Status(b"OK".to_vec()));
    assert_eq!(c.read_reply().unwrap(), RespValue::Bulk(b"c".to_vec()));
    c.send_raw(b"CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\n");
    assert_eq!(c.read_reply().unwrap(), RespValue::Bulk(b"b".to_vec()));
}

#[test]
fn client_pause_holds_writes() {
    let s = Server::start(&our_server(), &[]);
    let mut a = s.client();
    let mut b = s.client();
    a.cmd(&["CLIENT", "PAUSE", "300", "WRITE"]).unwrap();
    let t = std::time::Instant::now();
    assert_eq!(b.cmd(&["GET", "x"]).unwrap(), RespValue::Nil);
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "reads are not paused"
    );
    b.cmd(&["SET", "x", "1"]).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(250), "writes wait");
    // ALL holds every command, CLIENT UNPAUSE included, until the timeout.
    a.cmd(&["CLIENT", "PAUSE", "300", "ALL"]).unwrap();
    let t = std::time::Instant::now();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert!(t.elapsed() < Duration::from_secs(2));
    // UNPAUSE ends a WRITE pause at once.
    a.cmd(&["CLIENT", "PAUSE", "5000", "WRITE"]).unwrap();
    let t = std::time::Instant::now();
    c.send_raw(b"SET y 1\r\n");
    std::thread::sleep(Duration::from_millis(100));
    a.cmd(&["CLIENT", "UNPAUSE"]).unwrap();
    assert_eq!(c.read_reply().unwrap(), RespValue::Status(b"OK".to_vec()));
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn command_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    same(
        &ours,
        &real,
        &[
            "COMMAND INFO get set ping echo incr mset",
            "COMMAND INFO nosuch get|key config|get|key",
            "COMMAND DOCS get set",
            "COMMAND DOCS nosuch",
            "COMMAND GETKEYS get key",
            "COMMAND GETKEYS set k v",
            "COMMAND GETKEYS mset a 1 b 2",
            "COMMAND GETKEYS nosuch a",
            "COMMAND GETKEYS ping x",
            "COMMAND GETKEYS get",
            "COMMAND GETKEYS mset a",
            "COMMAND GETKEYSANDFLAGS set k1 v1",
            "COMMAND GETKEYSANDFLAGS mset k1 v1 k2 v2",
            "COMMAND LIST FILTERBY pattern get",
            "COMMAND LIST FILTERBY pattern set",
            "COMMAND LIST FILTERBY pattern non_exists*",
            "COMMAND LIST FILTERBY aclcat non_existing_category",
            "COMMAND LIST FILTERBY module foo",
            "COMMAND LIST bad_arg",
            "COMMAND LIST FILTERBY bad_arg",
            "COMMAND LIST FILTERBY bad_arg bad_arg2",
            "COMMAND HELP",
            "COMMAND COUNT x",
            "COMMAND foo",
            "HELLO 3",
            "COMMAND INFO get nosuch",
            "COMMAND DOCS get",
            "COMMAND GETKEYSANDFLAGS set k1 v1",
        ],
    );
    // COMMAND and COUNT agree, and only list what we implement.
    let mut c = ours.client();
    let RespValue::Integer(n) = c.cmd(&["COMMAND", "COUNT"]).unwrap() else {
        panic!()
    };
    let all = c.cmd(&["COMMAND"]).unwrap();
    assert_eq!(all.as_slice().unwrap().len() as i64, n);
    let list = c.cmd(&["COMMAND", "LIST"]).unwrap();
    let names: Vec<&[u8]> = list
        .as_slice()
        .unwrap()
        .iter()
        .map(|v| v.as_bytes().unwrap())
        .collect();
    assert!(names.contains(&&b"client|list"[..]) && names.contains(&&b"get"[..]));
    assert!(names.contains(&&b"client|tracking"[..]));
}

/// `(section, [field names])` of an INFO text, in order.
fn info_fields(s: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in s.split("\r\n") {
        if let Some(h) = line.strip_prefix("# ") {
            out.push((h.to_string(), Vec::new()));
        } else if let Some((k, _)) = line.split_once(':') {
            out.last_mut()
                .expect("a section first")
                .1
                .push(k.to_string());
        }
    }
    out
}

#[test]
fn info_fields_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    let mut a = ours.client();
    let mut b = real.client();
    for sel in [
        vec!["INFO"],
        vec!["INFO", "everything"],
        vec!["INFO", "all"],
        vec!["INFO", "default"],
        vec!["INFO", "cpu", "sentinel"],
        vec!["INFO", "commandSTATS"],
        vec!["INFO", "server", "clients", "memory"],
        vec!["INFO", "persistence", "stats", "replication"],
        vec!["INFO", "modules"],
        vec!["INFO", "nosuch"],
    ] {
        let ia = text(&a.cmd(&sel).unwrap());
        let ib = text(&b.cmd(&sel).unwrap());
        let (fa, fb) = (info_fields(&ia), info_fields(&ib));
        let names = |f: &[(String, Vec<String>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&fa), names(&fb), "{sel:?}");
        for ((sa, ka), (_, kb)) in fa.iter().zip(fb.iter()) {
            if ["Commandstats", "Latencystats", "Errorstats", "Keyspace"].contains(&sa.as_str()) {
                continue;
            }
            assert_eq!(ka, kb, "fields of section {sa} for {sel:?}");
        }
        assert!(ia.is_empty() || ia.ends_with("\r\n"));
    }
    // RESP3: a verbatim string.
    a.cmd(&["HELLO", "3"]).unwrap();
    b.cmd(&["HELLO", "3"]).unwrap();
    for c in [&mut a, &mut b] {
        let v = c.cmd(&["INFO", "server"]).unwrap();
        assert!(
            matches!(&v, RespValue::Verbatim { format, .. } if format == b"txt"),
            "{v:?}"
        );
        c.cmd(&["HELLO", "2"]).unwrap();
    }
    // Data-dependent sections: same shape for the same commands.
    same(
        &ours,
        &real,
        &["CONFIG RESETSTAT", "SET k v", "GET k", "NOSUCH", "SET k"],
    );
    let ia = text(
        &a.cmd(&["INFO", "commandstats", "errorstats", "keyspace"])
            .unwrap(),
    );
    let ib = text(
        &b.cmd(&["INFO", "commandstats", "errorstats", "keyspace"])
            .unwrap(),
    );
    let strip = |s: &str| {
        let mut v: Vec<String> = s
            .split("\r\n")
            .filter(|l| {
                l.starts_with("cmdstat_set") || l.starts_with("errorstat") || l.starts_with("db0")
            })
            .map(|l| {
                // usec values differ; keep the counts.
                l.split(',')
                    .filter(|f| !f.starts_with("usec"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&ia), strip(&ib));
}

#[test]
fn slowlog_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    same(
        &ours,
        &real,
        &[
            "SLOWLOG LEN",
            "SLOWLOG GET -2",
            "SLOWLOG GET abc",
            "SLOWLOG GET 1 2",
            "SLOWLOG HELP",
            "SLOWLOG foo",
            "CONFIG SET slowlog-log-slower-than 0",
            "SLOWLOG RESET",
            "CLIENT SETNAME slowcl",
            "AUTH default secret",
            "SET k v",
            "SLOWLOG LEN",
            "CONFIG SET slowlog-log-slower-than -1",
        ],
    );
    for s in [&ours, &real] {
        let mut c = s.client();
        let e = c.cmd(&["SLOWLOG", "GET", "-1"]).unwrap();
        let e = e.as_slice().unwrap();
        // Newest first: SLOWLOG LEN, SET, AUTH (redacted), CLIENT SETNAME, SLOWLOG RESET
        // (CONFIG SET ... -1 ran with the log already disabled).
        assert_eq!(e.len(), 5);
        let argv = |i: usize| -> Vec<Vec<u8>> {
            e[i].as_slice().unwrap()[3]
                .as_slice()
                .unwrap()
                .iter()
                .map(|v| v.as_bytes().unwrap().to_vec())
                .collect()
        };
        assert_eq!(argv(1), [b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]);
        assert_eq!(argv(2)[1], b"(redacted)");
        assert_eq!(argv(2)[2], b"(redacted)");
        assert_eq!(
            e[1].as_slice().unwrap()[5],
            RespValue::Bulk(b"slowcl".to_vec())
        );
        assert_eq!(
            c.cmd(&["SLOWLOG", "GET", "0"]).unwrap(),
            RespValue::Array(vec![])
        );
    }
}

#[test]
fn latency_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    same(
        &ours,
        &real,
        &[
            "LATENCY LATEST",
            "LATENCY HISTORY command",
            "LATENCY RESET",
            "LATENCY RESET blabla",
            "LATENCY GRAPH command",
            "LATENCY DOCTOR",
            "LATENCY HELP",
            "LATENCY HELP xxx",
            "LATENCY foo",
            "CONFIG SET latency-monitor-threshold 200",
            "LATENCY DOCTOR",
            "CONFIG RESETSTAT",
            "LATENCY HISTOGRAM blabla",
        ],
    );
    // HISTOGRAM shape: calls and a cumulative map.
    let mut c = ours.client();
    c.cmd(&["CONFIG", "RESETSTAT"]).unwrap();
    c.cmd(&["SET", "a", "b"]).unwrap();
    c.cmd(&["SET", "a", "b"]).unwrap();
    let h = c.cmd(&["LATENCY", "HISTOGRAM", "set", "client"]).unwrap();
    let h = h.as_slice().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0], RespValue::Bulk(b"set".to_vec()));
    let inner = h[1].as_slice().unwrap();
    assert_eq!(inner[0], RespValue::Bulk(b"calls".to_vec()));
    assert_eq!(inner[1], RespValue::Integer(2));
    assert_eq!(inner[2], RespValue::Bulk(b"histogram_usec".to_vec()));
}

#[test]
fn monitor_lines() {
    let s = Server::start(&our_server(), &[]);
    let mut m = s.client();
    assert_eq!(
        m.cmd(&["MONITOR"]).unwrap(),
        RespValue::Status(b"OK".to_vec())
    );
    let mut c = s.client();
    c.cmd(&["SET", "foo", "b\"a\nr\x01"]).unwrap();
    c.cmd(&["AUTH", "not-real", "pw"]).unwrap_err_or_error();
    c.cmd(&["SELECT", "3"]).unwrap();
    c.cmd(&["GET", "foo"]).unwrap();
    let port = c.stream.local_addr().unwrap().port();
    let lines: Vec<String> = (0..4).map(|_| text(&m.read_reply().unwrap())).collect();
    let re_prefix = |l: &str, db: u32| {
        let (ts, rest) = l.split_once(' ').unwrap();
        let (sec, usec) = ts.split_once('.').unwrap();
        assert!(sec.len() >= 10 && usec.len() == 6, "{l}");
        assert!(
            rest.starts_with(&format!("[{db} 127.0.0.1:{port}] ")),
            "{l}"
        );
        rest.split_once("] ").unwrap().1.to_string()
    };
    assert_eq!(re_prefix(&lines[0], 0), r#""SET" "foo" "b\"a\nr\x01""#);
    assert_eq!(
        re_prefix(&lines[1], 0),
        r#""AUTH" "(redacted)" "(redacted)""#
    );
    // Redis feeds MONITOR after the command ran: SELECT shows the new db.
    assert_eq!(re_prefix(&lines[2], 3), r#""SELECT" "3""#);
    assert_eq!(re_prefix(&lines[3], 3), r#""GET" "foo""#);
    // A MONITOR client is a replica for Redis: no keyspace access, its own
    // commands are fed to itself after their reply.
    assert_eq!(
        m.cmd(&["GET", "foo"]).unwrap(),
        RespValue::Error(b"ERR Replica can't interact with the keyspace".to_vec())
    );
    assert_eq!(
        m.cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
    assert!(text(&m.read_reply().unwrap()).ends_with("] \"PING\""));
    assert_eq!(
        m.cmd(&["RESET"]).unwrap(),
        RespValue::Status(b"RESET".to_vec())
    );
    assert_eq!(
        m.cmd(&["GET", "foo"]).unwrap(),
        RespValue::Bulk(b"b\"a\nr\x01".to_vec())
    );
}

trait ErrOk {
    fn unwrap_err_or_error(self);
}

impl ErrOk for std::io::Result<RespValue> {
    /// Asserts an error reply.
    fn unwrap_err_or_error(self) {
        assert!(self.expect("a reply").is_error());
    }
}

#[test]
fn memory_time_shutdown_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    same(
        &ours,
        &real,
        &[
            "MEMORY HELP",
            "MEMORY USAGE nosuch",
            "MEMORY USAGE nosuch SAMPLES -1",
            "MEMORY USAGE nosuch SAMPLES x",
            "MEMORY USAGE nosuch foo",
            "MEMORY DOCTOR",
            "MEMORY PURGE",
            "MEMORY foo",
            "MEMORY STATS x",
            "TIME x",
            "SHUTDOWN foo",
            "SHUTDOWN ABORT",
            "SHUTDOWN SAVE NOSAVE",
            "SHUTDOWN ABORT NOW",
            "QUIT",
        ],
    );
    // Sizes as Redis's memory layout gives them, for each string encoding.
    let (x100, y50) = ("x".repeat(100), "y".repeat(50));
    let set100 = format!("SET mk2 {x100}");
    let set50 = format!("SET mk4 {y50}");
    same(
        &ours,
        &real,
        &[
            "SET mk hello",
            "MEMORY USAGE mk",
            &set100,
            "MEMORY USAGE mk2",
            "SET mk3 12345",
            "MEMORY USAGE mk3",
            &set50,
            "MEMORY USAGE mk4 SAMPLES 0",
        ],
    );
    let mut c = ours.client();
    let t = c.cmd(&["TIME"]).unwrap();
    let t = t.as_slice().unwrap();
    let secs: u64 = text(&t[0]).parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2);
    let stats = c.cmd(&["MEMORY", "STATS"]).unwrap();
    let st = stats.as_slice().unwrap();
    assert_eq!(st[0], RespValue::Bulk(b"peak.allocated".to_vec()));
    assert_eq!(st.len(), 2 * (27 + 1));
}

#[test]
fn shutdown_exits() {
    let mut s = Server::start(&our_server(), &["--save", ""]);
    let mut c = s.client();
    c.send_raw(b"SHUTDOWN\r\n");
    assert_eq!(c.read_to_close(), b"");
    let t = std::time::Instant::now();
    loop {
        if let Ok(Some(st)) = s.child.try_wait() {
            assert!(st.success());
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "still running");
        std::thread::sleep(Duration::from_millis(20));
    }
    // With save points SHUTDOWN saves first; a restart in the same dir loads the file.
    let mut s = Server::start(&our_server(), &["--save", "3600 1"]);
    let mut c = s.client();
    c.cmd(&["RPUSH", "l", "a", "b"]).unwrap();
    c.cmd(&["SET", "k", "v"]).unwrap();
    c.send_raw(b"SHUTDOWN\r\n");
    assert_eq!(c.read_to_close(), b"");
    let t = std::time::Instant::now();
    while s.child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(5), "still running");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(s.dir.0.join("dump.rdb").exists());
    let dir = s.dir.0.to_string_lossy().into_owned();
    let again = Server::start(&our_server(), &["--dir", &dir]);
    let mut c = again.client();
    assert_eq!(
        c.cmd(&["GET", "k"]).unwrap(),
        RespValue::Bulk(b"v".to_vec())
    );
    assert_eq!(c.cmd(&["LLEN", "l"]).unwrap(), RespValue::Integer(2));
    // A save that fails (a directory where the file goes) fails SHUTDOWN, which then
    // leaves the server running.
    let s = Server::start(&our_server(), &["--save", "3600 1"]);
    std::fs::create_dir(s.dir.0.join("dump.rdb")).unwrap();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["SHUTDOWN"]).unwrap(),
        RespValue::Error(b"ERR Errors trying to SHUTDOWN. Check logs.".to_vec())
    );
    assert_eq!(
        c.cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
}

/// Sends raw bytes and reads everything until the server closes the connection.
fn raw_until_close(port: u16, input: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(input);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn protocol_errors_like_redis() {
    let Some((ours, real)) = both(&[]) else {
        return;
    };
    let cases: &[&[u8]] = &[
        b"*3000000000\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
        b"*1\r\nfoo\r\n",
        b"set \"\"\"test-key\"\"\" test-value\r\nping\r\n",
        b"*abc\r\n",
        b"*1\r\n$abc\r\n",
        b"PING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$",
        b"*-10\r\nPING\r\n",
        b"\r\n\r\nPING\r\n",
    ];
    for c in cases {
        let a = raw_until_close_or_timeout(ours.port, c);
        let b = raw_until_close_or_timeout(real.port, c);
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "input {:?}",
            String::from_utf8_lossy(c)
        );
    }
    // Too big inline and too big count strings: one 70 KB line without a newline.
    let big = vec![b'a'; 70 * 1024];
    assert_eq!(
        raw_until_close(ours.port, &big),
        raw_until_close(real.port, &big)
    );
    let mut big_count = b"*".to_vec();
    big_count.extend(vec![b'1'; 70 * 1024]);
    assert_eq!(
        raw_until_close(ours.port, &big_count),
        raw_until_close(real.port, &big_count)
    );
    let mut big_bulk = b"*1\r\n$".to_vec();
    big_bulk.extend(vec![b'1'; 70 * 1024]);
    let a = raw_until_close(ours.port, &big_bulk);
    assert_eq!(a, raw_until_close(real.port, &big_bulk));
    assert_eq!(a, b"-ERR Protocol error: too big bulk count string\r\n");
}

/// Like [`raw_until_close`] but stops after a short wait when the server keeps the
/// connection open (complete commands without a protocol error).
fn raw_until_close_or_timeout(port: u16, input: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let _ = s.write_all(input);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

#[test]
fn maxclients_like_redis() {
    let Some((ours, real)) = both(&["--maxclients", "2"]) else {
        return;
    };
    for s in [&ours, &real] {
        let mut a = s.client();
        let mut b = s.client();
        // Both registered (the start-up probe connection is gone by then).
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            a.cmd(&["PING"]).unwrap(),
            RespValue::Status(b"PONG".to_vec())
        );
        assert_eq!(
            b.cmd(&["PING"]).unwrap(),
            RespValue::Status(b"PONG".to_vec())
        );
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        assert_eq!(out, b"-ERR max number of clients reached\r\n");
    }
}

#[test]
fn idle_timeout_closes_clients() {
    let s = Server::start(&our_server(), &["--timeout", "1"]);
    let mut c = s.client();
    let t = std::time::Instant::now();
    assert_eq!(c.read_to_close(), b"");
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// A small deterministic generator (xorshift) for the fuzz test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn fuzzed_streams_never_crash_or_hang() {
    let mut s = Server::start(&our_server(), &[]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let pieces: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"-1",
        b"0",
        b"3",
        b"99999999999",
        b"PING",
        b"SET",
        b"GET",
        b"k",
        b"\"",
        b"'",
        b" ",
        b"\n",
        b"\x00",
        b"CLIENT",
        b"LIST",
        b"HELLO",
        b"3",
        b"INFO",
        b"COMMAND",
        b"+",
        b":",
        b"\\x4",
        b"MONITOR",
        b"QUIT",
    ];
    let mut watcher = s.client();
    for round in 0..150 {
        let mut input = Vec::new();
        let n = (rng.next() % 40) as usize;
        for _ in 0..n {
            if rng.next().is_multiple_of(4) {
                input.push((rng.next() % 256) as u8);
            } else {
                input.extend_from_slice(pieces[(rng.next() % pieces.len() as u64) as usize]);
            }
        }
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let _ = c.write_all(&input);
        let mut buf = [0u8; 65536];
        let _ = c.read(&mut buf);
        drop(c);
        if round % 10 == 0 {
            assert_eq!(
                watcher.cmd(&["PING"]).unwrap(),
                RespValue::Status(b"PONG".to_vec()),
                "round {round}"
            );
        }
    }
    assert!(s.child.try_wait().unwrap().is_none(), "server exited");
    assert_eq!(
        s.client().cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
}
