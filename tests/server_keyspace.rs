//! Keyspace, expiry and maxmemory: our server next to Debian's redis-server 7.0.15
//! (reply bytes compared, errors included, RESP2 and RESP3), plus behaviour checks
//! (SCAN guarantees, active expiry, eviction policies) on our server alone.

mod common;
use common::*;
use redis_formats::RespValue;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// A connection that returns each reply's exact bytes: the command is followed by an
/// ECHO of a unique marker, and everything before the marker's reply is the reply.
struct RawConn {
    stream: TcpStream,
    buf: Vec<u8>,
    n: u64,
}

impl RawConn {
    fn new(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        RawConn {
            stream,
            buf: Vec::new(),
            n: 0,
        }
    }

    fn cmd(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        self.n += 1;
        let marker = format!("__marker_{}_{}__", std::process::id(), self.n);
        let mut req = Vec::new();
        redis_formats::command::encode_command(args, &mut req);
        redis_formats::command::encode_command(&["ECHO", &marker], &mut req);
        self.stream.write_all(&req).expect("write");
        let tail = format!("${}\r\n{}\r\n", marker.len(), marker).into_bytes();
        loop {
            if let Some(p) = find(&self.buf, &tail) {
                let reply = self.buf[..p].to_vec();
                self.buf.drain(..p + tail.len());
                return reply;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn line(&mut self, line: &str) -> Vec<u8> {
        self.cmd(&args(line))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Our server and Debian's, with the same arguments.
fn pair(extra: &[&str]) -> Option<(Server, Server)> {
    let real = real_server()?;
    Some((
        Server::start(&our_server(), extra),
        Server::start(&real, extra),
    ))
}

/// Sends every line to both servers and asserts identical reply bytes.
fn same(ours: &mut RawConn, real: &mut RawConn, lines: &[&str]) {
    for l in lines {
        let a = ours.line(l);
        let b = real.line(l);
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "different replies for {l:?}"
        );
    }
}

/// Decodes an array reply of bulk strings and sorts it (KEYS, SCAN pages).
fn sorted_strings(v: RespValue) -> Vec<Vec<u8>> {
    let RespValue::Array(items) = v else {
        panic!("not an array: {v:?}");
    };
    let mut out: Vec<Vec<u8>> = items
        .into_iter()
        .map(|i| match i {
            RespValue::Bulk(b) => b,
            other => panic!("not a bulk: {other:?}"),
        })
        .collect();
    out.sort();
    out
}

#[test]
fn generic_commands_same_as_redis() {
    let Some((o, r)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(
        &mut a,
        &mut b,
        &[
            // DEL / UNLINK / EXISTS / TYPE / TOUCH
            "SET a 1",
            "SET b hello",
            "SET c 12345678901234567890",
            "EXISTS a b nosuch a",
            "DEL a nosuch a",
            "UNLINK b c d",
            "DEL",
            "UNLINK",
            "EXISTS",
            "TYPE nosuch",
            "SET s v",
            "TYPE s",
            "TYPE",
            "TYPE a b",
            "TOUCH s s nosuch",
            "TOUCH",
            // RENAME / RENAMENX
            "RENAME nosuch x",
            "RENAMENX nosuch x",
            "RENAME s s",
            "RENAMENX s s",
            "RENAME s t",
            "GET s",
            "GET t",
            "SET u other",
            "RENAMENX t u",
            "RENAME t u",
            "GET u",
            "EXPIREAT u 4000000000",
            "RENAME u w",
            "PEXPIRETIME w",
            "RENAME w",
            // MOVE
            "SET m val",
            "MOVE m 0",
            "MOVE m 16",
            "MOVE m -1",
            "MOVE m x",
            "MOVE m 99999999999",
            "MOVE nosuch 1",
            "EXPIREAT m 4000000000",
            "MOVE m 1",
            "EXISTS m",
            "SELECT 1",
            "GET m",
            "EXPIRETIME m",
            "SET m again",
            "SELECT 0",
            "SET m back",
            "MOVE m 1",
            "SELECT 1",
            "GET m",
            "FLUSHDB",
            "SELECT 0",
            // COPY
            "SET src 42",
            "COPY src src",
            "COPY src dst",
            "COPY src dst",
            "COPY src dst REPLACE",
            "COPY src dst DB",
            "COPY src dst DB 16",
            "COPY src dst DB x",
            "COPY src dst DB 0",
            "COPY src src DB 1",
            "COPY src dst FOO",
            "COPY src dst DB 1 REPLACE",
            "COPY nosuch dst",
            "EXPIREAT src 4000000000",
            "COPY src dst2",
            "PEXPIRETIME dst2",
            "OBJECT ENCODING dst2",
            "SET big aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "COPY big big2",
            "OBJECT ENCODING big2",
            "GET big2",
            "SELECT 1",
            "GET src",
            "FLUSHDB",
            "SELECT 0",
            // SWAPDB / SELECT / DBSIZE
            "SWAPDB 0 x",
            "SWAPDB x 0",
            "SWAPDB 0 16",
            "SWAPDB -1 0",
            "SWAPDB 0 99999999999",
            "SWAPDB 0 0",
            "DBSIZE",
            "SWAPDB 0 2",
            "DBSIZE",
            "SELECT 2",
            "DBSIZE",
            "SELECT 0",
            "SWAPDB 2 0",
            "DBSIZE",
            "SELECT 16",
            "SELECT -1",
            "SELECT x",
            "SELECT 99999999999",
            "DBSIZE x",
            // FLUSHDB / FLUSHALL
            "FLUSHDB x",
            "FLUSHDB SYNC x",
            "FLUSHALL x",
            "FLUSHDB sync",
            "DBSIZE",
            "SET z 1",
            "FLUSHALL async",
            "DBSIZE",
            "FLUSHALL SYNC",
            // RANDOMKEY
            "RANDOMKEY",
            "SET only 1",
            "RANDOMKEY",
            "RANDOMKEY x",
            "DEL only",
        ],
    );
}

#[test]
fn expire_commands_same_as_redis() {
    let Some((o, r)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(
        &mut a,
        &mut b,
        &[
            "SET k v",
            "TTL k",
            "PTTL k",
            "EXPIRETIME k",
            "PEXPIRETIME k",
            "TTL nosuch",
            "PTTL nosuch",
            "EXPIRETIME nosuch",
            "PEXPIRETIME nosuch",
            "EXPIRE nosuch 100",
            "EXPIRE k abc",
            "EXPIRE k 1.5",
            "EXPIRE k 100 NX XX",
            "EXPIRE k 100 NX GT",
            "EXPIRE k 100 NX LT",
            "EXPIRE k 100 GT LT",
            "EXPIRE k 100 FOO",
            "EXPIRE k abc FOO",
            "EXPIRE k 100 XX",
            "EXPIRE k 100 GT",
            "EXPIREAT k 4000000000 LT",
            "EXPIRETIME k",
            "PEXPIRETIME k",
            "EXPIREAT k 4000000000 NX",
            "EXPIREAT k 4000000001 GT",
            "EXPIREAT k 4000000000 GT",
            "EXPIREAT k 3999999999 LT",
            "EXPIREAT k 4000000000 LT",
            "EXPIREAT k 4000000000 XX",
            "PEXPIREAT k 4000000000123",
            "PEXPIRETIME k",
            "EXPIRETIME k",
            "PERSIST k",
            "PERSIST k",
            "PERSIST nosuch",
            "TTL k",
            // Overflow checks.
            "EXPIRE k 9223372036854775807",
            "EXPIRE k 9223372036854775",
            "EXPIRE k -9223372036854775808",
            "PEXPIRE k 9223372036854775807",
            "EXPIREAT k 9223372036854775807",
            "PEXPIREAT k 9223372036854775807",
            "EXPIRE k 99999999999999999999",
            "EXISTS k",
            // Negative or past times delete the key.
            "EXPIRE k -1",
            "EXISTS k",
            "SET k v",
            "PEXPIREAT k 1",
            "EXISTS k",
            "SET k v",
            "EXPIREAT k 0",
            "GET k",
            "SET k v",
            "EXPIRE k 0 NX",
            "EXISTS k",
            // LT passes on a key without TTL.
            "SET k v",
            "EXPIREAT k 4000000000 LT",
            "EXPIRETIME k",
            // SET drops the TTL, KEEPTTL keeps it.
            "SET k v2 KEEPTTL",
            "EXPIRETIME k",
            "SET k v3",
            "TTL k",
            // Arity.
            "EXPIRE k",
            "TTL",
            "PERSIST",
            "EXPIRETIME k x",
        ],
    );
}

#[test]
fn object_and_debug_same_as_redis() {
    let Some((o, r)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(
        &mut a,
        &mut b,
        &[
            "SET int 123",
            "SET small 9999",
            "SET notshared 10000",
            "SET emb hello",
            "SET raw aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "OBJECT ENCODING int",
            "OBJECT ENCODING emb",
            "OBJECT ENCODING raw",
            "OBJECT ENCODING nosuch",
            "OBJECT REFCOUNT int",
            "OBJECT REFCOUNT small",
            "OBJECT REFCOUNT notshared",
            "OBJECT REFCOUNT emb",
            "OBJECT REFCOUNT nosuch",
            "OBJECT FREQ int",
            "OBJECT FREQ nosuch",
            "OBJECT IDLETIME int",
            "OBJECT IDLETIME nosuch",
            "OBJECT HELP",
            "OBJECT help x",
            "OBJECT",
            "OBJECT ENCODING",
            "OBJECT ENCODING a b",
            "OBJECT FOO k",
            // DEBUG
            "DEBUG DIGEST",
            "DEBUG DIGEST-VALUE int emb raw nosuch",
            "DEBUG DIGEST-VALUE",
            "EXPIREAT emb 4000000000",
            "DEBUG DIGEST",
            "DEBUG DIGEST-VALUE emb",
            "SELECT 3",
            "SET int 123",
            "DEBUG DIGEST",
            "FLUSHDB",
            "SELECT 0",
            "DEBUG OBJECT nosuch",
            "DEBUG HTSTATS x",
            "DEBUG HTSTATS 16",
            "DEBUG HTSTATS -1",
            "DEBUG HTSTATS-KEY int",
            "DEBUG HTSTATS-KEY nosuch",
            "DEBUG LISTPACK int",
            "DEBUG LISTPACK nosuch",
            "DEBUG QUICKLIST int",
            "DEBUG SET-ACTIVE-EXPIRE 1",
            "DEBUG SET-SKIP-CHECKSUM-VALIDATION 1",
            "DEBUG SET-SKIP-CHECKSUM-VALIDATION 0",
            "DEBUG PAUSE-CRON 0",
            "DEBUG PAUSE-CRON",
            "DEBUG SLEEP 0",
            "DEBUG SLEEP 0.01",
            "DEBUG QUICKLIST-PACKED-THRESHOLD 1kb",
            "DEBUG QUICKLIST-PACKED-THRESHOLD 0",
            "DEBUG QUICKLIST-PACKED-THRESHOLD x",
            "DEBUG QUICKLIST-PACKED-THRESHOLD 5gb",
            "DEBUG RELOAD FOO",
            "DEBUG ERROR hello",
            "DEBUG ERROR \"a\\r\\nb\"",
            "DEBUG LOG hello",
            "DEBUG PROTOCOL string",
            "DEBUG PROTOCOL integer",
            "DEBUG PROTOCOL double",
            "DEBUG PROTOCOL bignum",
            "DEBUG PROTOCOL null",
            "DEBUG PROTOCOL array",
            "DEBUG PROTOCOL set",
            "DEBUG PROTOCOL map",
            "DEBUG PROTOCOL attrib",
            "DEBUG PROTOCOL push",
            "DEBUG PROTOCOL verbatim",
            "DEBUG PROTOCOL true",
            "DEBUG PROTOCOL false",
            "DEBUG PROTOCOL nosuch",
            "DEBUG POPULATE x",
            "DEBUG POPULATE -1",
            "DEBUG POPULATE 10",
            "DEBUG POPULATE 10 pre 3",
            "DEBUG POPULATE 3 big 30",
            "DBSIZE",
            "GET key:7",
            "GET pre:3",
            "GET big:2",
            "DEBUG DIGEST",
            "DEBUG HELP",
            "DEBUG FOO",
            "DEBUG OBJECT",
            "DEBUG",
        ],
    );
    // DEBUG OBJECT: same fields, except the address and the clock.
    same(
        &mut a,
        &mut b,
        &[
            "SET l1 abcdefghijklmnopqrstuvwxyz0123456789",
            "SET l2 abcabcabcabcabcabcabcabcabcabcabcabcabcabc",
            "SET l3 \"hello world, hello world, hello world, this is redis speaking\"",
            "SET l4 aaaaaaaaaaaaaaaaaaaaaaaaa",
            "SET l5 aaaaaaaaaaaaaaaaaaaa",
            "SET n1 -129",
            "SET n2 70000",
            "SET n3 12345678901",
        ],
    );
    for key in [
        "int",
        "small",
        "notshared",
        "emb",
        "raw",
        "l1",
        "l2",
        "l3",
        "l4",
        "l5",
        "n1",
        "n2",
        "n3",
    ] {
        let x = String::from_utf8(a.line(&format!("DEBUG OBJECT {key}"))).unwrap();
        let y = String::from_utf8(b.line(&format!("DEBUG OBJECT {key}"))).unwrap();
        let strip = |s: &str| -> Vec<String> {
            s.split(' ')
                .filter(|f| !f.starts_with("at:") && !f.starts_with("lru:"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(strip(&x), strip(&y), "DEBUG OBJECT {key}");
    }
}

#[test]
fn debug_needs_enable_debug_command() {
    let Some((o, r)) = pair(&[]) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(&mut a, &mut b, &["DEBUG DIGEST", "DEBUG", "DEBUG HELP"]);
    let Some((o, r)) = pair(&["--enable-debug-command", "local"]) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(&mut a, &mut b, &["DEBUG DIGEST"]);
}

#[test]
fn resp3_replies_same_as_redis() {
    let Some((o, r)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    let hello = a.line("HELLO 3");
    if hello.starts_with(b"-ERR unknown command") {
        eprintln!("skipping: HELLO is not implemented in this build yet");
        return;
    }
    b.line("HELLO 3");
    same(
        &mut a,
        &mut b,
        &[
            "SET k v",
            "OBJECT ENCODING nosuch",
            "OBJECT REFCOUNT nosuch",
            "OBJECT HELP",
            "RANDOMKEY",
            "DEL k",
            "RANDOMKEY",
            "SCAN 0",
            "KEYS *",
            "TTL nosuch",
            "DEBUG HTSTATS 0",
            "DEBUG PROTOCOL map",
            "DEBUG PROTOCOL attrib",
            "DEBUG PROTOCOL push",
            "DEBUG PROTOCOL double",
            "DEBUG PROTOCOL null",
            "DEBUG DIGEST-VALUE k",
        ],
    );
}

#[test]
fn keys_and_glob_same_as_redis() {
    let Some((o, r)) = pair(&[]) else {
        return;
    };
    let keys = [
        "foo",
        "foobar",
        "fo",
        "f",
        "bar",
        "hello",
        "hallo",
        "hxllo",
        "hllo",
        "heeeello",
        "a*b",
        "a?b",
        "a[b",
        "a]b",
        "a\\b",
        "ab",
        "aab",
        "abb",
        "xyz",
        "XYZ",
        "x-z",
        "_x_",
        "",
        "key:1",
        "key:12",
        "key:123",
        "k^y",
        "[",
        "]",
        "\\",
        "-",
        "\u{e9}t\u{e9}",
    ];
    let patterns = [
        "*",
        "**",
        "f*",
        "*o",
        "*o*",
        "f?o",
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "h[b-a]llo",
        "a\\*b",
        "a\\?b",
        "a[\\[]b",
        "a[]]b",
        "a\\\\b",
        "[a-z]*",
        "[A-Z]*",
        "[^a-z]*",
        "x[-]z",
        "x[a-]z",
        "x[",
        "[",
        "\\",
        "a\\",
        "key:?",
        "key:*3",
        "key:[0-9]*",
        "*:*",
        "?",
        "??",
        "",
        "[^",
        "*[",
        "h*l*o",
        "*e*e*",
        "k[\\^]y",
        "*\\",
        "\u{e9}*",
        "[\u{e0}-\u{ff}]*",
    ];
    let mut a = o.client();
    let mut b = r.client();
    for k in keys {
        let cmd = ["SET".as_bytes(), k.as_bytes(), b"v"];
        a.cmd(&cmd).unwrap();
        b.cmd(&cmd).unwrap();
    }
    for p in patterns {
        let cmd = ["KEYS".as_bytes(), p.as_bytes()];
        let x = sorted_strings(a.cmd(&cmd).unwrap());
        let y = sorted_strings(b.cmd(&cmd).unwrap());
        assert_eq!(x, y, "KEYS {p:?}");
    }
    // Random patterns over a small alphabet.
    let alphabet = b"ab*?[]^-\\";
    let mut rng = fastrand_seed(42);
    for _ in 0..400 {
        let len = (rng() % 7) as usize;
        let p: Vec<u8> = (0..len)
            .map(|_| alphabet[(rng() % alphabet.len() as u64) as usize])
            .collect();
        let cmd = [b"KEYS".to_vec(), p.clone()];
        let x = sorted_strings(a.cmd(&cmd).unwrap());
        let y = sorted_strings(b.cmd(&cmd).unwrap());
        assert_eq!(x, y, "KEYS {:?}", String::from_utf8_lossy(&p));
    }
}

/// A small deterministic generator (xorshift) for test inputs.
fn fastrand_seed(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed.max(1);
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

#[test]
fn scan_errors_same_as_redis() {
    let Some((o, r)) = pair(&[]) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    // "SCAN -1" is taken as the cursor 2^64-1 (the last bucket); which keys it returns
    // depends on the hash seed, so only the cursor is compared.
    a.line("SET k 1");
    assert!(a.line("SCAN -1").starts_with(b"*2\r\n$1\r\n0\r\n"));
    a.line("DEL k");
    same(
        &mut a,
        &mut b,
        &[
            "SCAN 0",
            // Cursors that parse (on an empty db: where a key lands is random).
            "SCAN -1",
            "SCAN 18446744073709551615",
            "SCAN 007",
            "SET k 1",
            "SCAN 0",
            "SCAN x",
            "SCAN \" 1\"",
            "SCAN 1x",
            "SCAN 18446744073709551616",
            "SCAN \"\"",
            "SCAN +0",
            "SCAN 0 COUNT 0",
            "SCAN 0 COUNT -1",
            "SCAN 0 COUNT x",
            "SCAN 0 COUNT",
            "SCAN 0 MATCH",
            "SCAN 0 TYPE",
            "SCAN 0 FOO bar",
            "SCAN 0 MATCH k",
            "SCAN 0 MATCH x*",
            "SCAN 0 TYPE string",
            "SCAN 0 TYPE STRING",
            "SCAN 0 TYPE list",
            "SCAN 0 COUNT 5 MATCH * TYPE string",
            "SCAN",
            "KEYS",
        ],
    );
}

/// Full SCAN iteration: every key present for the whole scan is returned, whatever
/// is added and removed meanwhile; MATCH and TYPE filter; COUNT bounds each page.
#[test]
fn scan_guarantees() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    let mut setup = Vec::new();
    for i in 0..2000 {
        redis_formats::command::encode_command(&["SET", &format!("stable:{i}"), "v"], &mut setup);
    }
    c.send_raw(&setup);
    for _ in 0..2000 {
        c.read_reply().unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let count = ["1", "7", "50", "200"][step % 4];
        let reply = c
            .cmd(&["SCAN", &cursor, "COUNT", count, "MATCH", "stable:*"])
            .unwrap();
        let RespValue::Array(parts) = reply else {
            panic!("bad SCAN reply");
        };
        let RespValue::Bulk(next) = &parts[0] else {
            panic!("bad cursor");
        };
        for k in sorted_strings(parts[1].clone()) {
            assert!(k.starts_with(b"stable:"), "MATCH let through {k:?}");
            seen.insert(k);
        }
        // Grow and shrink the table between pages, forcing rehashes.
        for j in 0..100 {
            let k = format!("churn:{}", step * 100 + j);
            c.cmd(&["SET", &k, "x"]).unwrap();
        }
        if step >= 5 {
            for j in 0..100 {
                let k = format!("churn:{}", (step - 5) * 100 + j);
                c.cmd(&["DEL", &k]).unwrap();
            }
        }
        cursor = String::from_utf8(next.clone()).unwrap();
        step += 1;
        if cursor == "0" {
            break;
        }
        assert!(step < 100_000, "SCAN does not end");
    }
    for i in 0..2000 {
        assert!(
            seen.contains(format!("stable:{i}").as_bytes()),
            "SCAN missed stable:{i}"
        );
    }
    // TYPE filters: no strings are lists.
    let r = c
        .cmd(&["SCAN", "0", "COUNT", "100000", "TYPE", "list"])
        .unwrap();
    let RespValue::Array(parts) = r else { panic!() };
    assert_eq!(parts[1], RespValue::Array(vec![]));
    // A big COUNT returns everything in one page.
    let r = c
        .cmd(&[
            "SCAN",
            "0",
            "COUNT",
            "100000",
            "TYPE",
            "string",
            "MATCH",
            "stable:1?",
        ])
        .unwrap();
    let RespValue::Array(parts) = r else { panic!() };
    assert_eq!(parts[0], RespValue::Bulk(b"0".to_vec()));
    assert_eq!(sorted_strings(parts[1].clone()).len(), 10);
}

fn dbsize(c: &mut Client) -> i64 {
    match c.cmd(&["DBSIZE"]).unwrap() {
        RespValue::Integer(n) => n,
        other => panic!("DBSIZE: {other:?}"),
    }
}

fn pipeline(c: &mut Client, cmds: &[Vec<String>]) -> Vec<RespValue> {
    let mut buf = Vec::new();
    for cmd in cmds {
        redis_formats::command::encode_command(cmd, &mut buf);
    }
    c.send_raw(&buf);
    cmds.iter().map(|_| c.read_reply().unwrap()).collect()
}

#[test]
fn lazy_expiry() {
    let s = Server::start(&our_server(), DEBUG_ON);
    let mut c = s.client();
    // Active expiry off: only access removes expired keys.
    assert_eq!(
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).unwrap(),
        RespValue::Status(b"OK".to_vec())
    );
    for i in 0..10 {
        c.cmd(&["SET", &format!("k{i}"), "v", "PX", "30"]).unwrap();
    }
    c.cmd(&["SET", "keep", "v"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(dbsize(&mut c), 11, "expired keys stay until touched");
    assert_eq!(c.cmd(&["GET", "k0"]).unwrap(), RespValue::Nil);
    assert_eq!(c.cmd(&["EXISTS", "k1"]).unwrap(), RespValue::Integer(0));
    assert_eq!(c.cmd(&["TTL", "k2"]).unwrap(), RespValue::Integer(-2));
    assert_eq!(
        c.cmd(&["TYPE", "k3"]).unwrap(),
        RespValue::Status(b"none".to_vec())
    );
    assert_eq!(dbsize(&mut c), 7);
    // KEYS does not list them (without removing them); SCAN removes what it meets.
    assert_eq!(
        sorted_strings(c.cmd(&["KEYS", "*"]).unwrap()),
        vec![b"keep".to_vec()]
    );
    assert_eq!(dbsize(&mut c), 7);
    let r = c.cmd(&["SCAN", "0", "COUNT", "1000"]).unwrap();
    let RespValue::Array(parts) = r else { panic!() };
    assert_eq!(sorted_strings(parts[1].clone()), vec![b"keep".to_vec()]);
    assert_eq!(dbsize(&mut c), 1);
    // RANDOMKEY skips (and removes) expired keys.
    c.cmd(&["SET", "e", "v", "PX", "1"]).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    for _ in 0..10 {
        assert_eq!(
            c.cmd(&["RANDOMKEY"]).unwrap(),
            RespValue::Bulk(b"keep".to_vec())
        );
    }
}

/// Active expiry: 10k keys with a 100 ms TTL disappear without being touched, and
/// none while the cycle is disabled.
#[test]
fn active_expiry_keeps_expired_keys_bounded() {
    let s = Server::start(&our_server(), DEBUG_ON);
    let mut c = s.client();
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).unwrap();
    let cmds: Vec<Vec<String>> = (0..10_000)
        .map(|i| {
            vec![
                "SET".into(),
                format!("vol:{i}"),
                "value".into(),
                "PX".into(),
                "100".into(),
            ]
        })
        .chain((0..100).map(|i| vec!["SET".into(), format!("keep:{i}"), "v".into()]))
        .collect();
    pipeline(&mut c, &cmds);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(dbsize(&mut c), 10_100, "nothing expires with the cycle off");
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]).unwrap();
    let start = Instant::now();
    while dbsize(&mut c) > 100 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "active expiry too slow: {} keys left",
            dbsize(&mut c)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(dbsize(&mut c), 100);
}

/// Keys to fill memory with: `n` values of `size` bytes.
fn fill(c: &mut Client, prefix: &str, n: usize, size: usize, ttl: bool) -> Vec<RespValue> {
    let val = "x".repeat(size);
    let cmds: Vec<Vec<String>> = (0..n)
        .map(|i| {
            let mut v = vec!["SET".into(), format!("{prefix}:{i}"), val.clone()];
            if ttl {
                v.extend(["EX".into(), "10000".into()]);
            }
            v
        })
        .collect();
    let mut out = Vec::new();
    for chunk in cmds.chunks(500) {
        out.extend(pipeline(c, chunk));
    }
    out
}

fn count_existing(c: &mut Client, prefix: &str, n: usize) -> usize {
    let cmds: Vec<Vec<String>> = (0..n)
        .map(|i| vec!["EXISTS".into(), format!("{prefix}:{i}")])
        .collect();
    let mut total = 0;
    for chunk in cmds.chunks(500) {
        for r in pipeline(c, chunk) {
            if r == RespValue::Integer(1) {
                total += 1;
            }
        }
    }
    total
}

const MAXMEMORY: usize = 24 << 20;

fn maxmemory_server(policy: &str) -> Server {
    Server::start(
        &our_server(),
        &[
            "--maxmemory",
            &MAXMEMORY.to_string(),
            "--maxmemory-policy",
            policy,
        ],
    )
}

#[test]
fn allkeys_policies_stay_under_maxmemory() {
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let s = maxmemory_server(policy);
        let mut c = s.client();
        // 60 MB of 1 KB values into 24 MB.
        let replies = fill(&mut c, "k", 60_000, 1000, false);
        assert!(
            replies
                .iter()
                .all(|r| *r == RespValue::Status(b"OK".to_vec())),
            "{policy}: a write was refused"
        );
        let n = dbsize(&mut c) as usize;
        assert!(n > 1000, "{policy}: evicted too much ({n} keys left)");
        assert!(
            n * 1000 < MAXMEMORY,
            "{policy}: {n} keys of 1 KB cannot fit in maxmemory"
        );
    }
}

#[test]
fn volatile_policies_only_evict_keys_with_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let s = maxmemory_server(policy);
        let mut c = s.client();
        // 6 MB without TTL, then 60 MB with a TTL.
        fill(&mut c, "persistent", 6_000, 1000, false);
        let replies = fill(&mut c, "volatile", 60_000, 1000, true);
        assert!(
            replies
                .iter()
                .all(|r| *r == RespValue::Status(b"OK".to_vec())),
            "{policy}: a write was refused"
        );
        assert_eq!(
            count_existing(&mut c, "persistent", 6_000),
            6_000,
            "{policy} evicted a key without TTL"
        );
        let vol = count_existing(&mut c, "volatile", 60_000);
        assert!(
            vol > 0 && vol * 1000 < MAXMEMORY,
            "{policy}: {vol} volatile keys"
        );
        // Once only keys without TTL are left, writes are refused.
        c.cmd(&["FLUSHALL"]).unwrap();
        let replies = fill(&mut c, "persistent", 40_000, 1000, false);
        let oom =
            RespValue::Error(b"OOM command not allowed when used memory > 'maxmemory'.".to_vec());
        assert!(replies.contains(&oom), "{policy}: no OOM error");
        assert!(dbsize(&mut c) as usize * 1000 < MAXMEMORY);
        // Reads and deletes still work.
        assert_eq!(
            c.cmd(&["GET", "persistent:0"]).unwrap(),
            RespValue::Bulk(vec![b'x'; 1000])
        );
        assert_eq!(
            c.cmd(&["DEL", "persistent:0"]).unwrap(),
            RespValue::Integer(1)
        );
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let s = maxmemory_server("volatile-ttl");
    let mut c = s.client();
    let val = "x".repeat(1000);
    let cmds: Vec<Vec<String>> = (0..40_000)
        .map(|i| {
            vec![
                "SET".into(),
                format!("t:{i}"),
                val.clone(),
                "EX".into(),
                (100_000 - i).to_string(),
            ]
        })
        .collect();
    for chunk in cmds.chunks(500) {
        pipeline(&mut c, chunk);
    }
    // Later keys expire sooner: they should be the ones gone.
    let early = count_existing(&mut c, "t", 10_000);
    let cmds: Vec<Vec<String>> = (30_000..40_000)
        .map(|i| vec!["EXISTS".into(), format!("t:{i}")])
        .collect();
    let late: usize = cmds
        .chunks(500)
        .flat_map(|ch| pipeline(&mut c, ch))
        .filter(|r| *r == RespValue::Integer(1))
        .count();
    assert!(early > late * 2, "early {early} late {late}");
}

#[test]
fn lfu_keeps_hot_keys() {
    let s = maxmemory_server("allkeys-lfu");
    let mut c = s.client();
    fill(&mut c, "hot", 1000, 1000, false);
    let gets: Vec<Vec<String>> = (0..1000)
        .flat_map(|i| std::iter::repeat_n(vec!["GET".into(), format!("hot:{i}")], 50))
        .collect();
    for chunk in gets.chunks(1000) {
        pipeline(&mut c, chunk);
    }
    fill(&mut c, "cold", 60_000, 1000, false);
    let hot = count_existing(&mut c, "hot", 1000);
    assert!(hot > 900, "only {hot} of 1000 hot keys survived");
    let freq = c.cmd(&["OBJECT", "FREQ", "hot:1"]).unwrap();
    assert!(matches!(freq, RespValue::Integer(n) if n > 5), "{freq:?}");
}

#[test]
fn noeviction_refuses_writes_as_redis() {
    let extra = ["--maxmemory", "1", "--maxmemory-policy", "noeviction"];
    let Some((o, r)) = pair(&extra) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(
        &mut a,
        &mut b,
        &[
            "SET k v", "GET k", "DEL k", "EXISTS k", "INCR n", "DBSIZE", "SET",
        ],
    );
    let extra = ["--maxmemory", "1", "--maxmemory-policy", "allkeys-lru"];
    let Some((o, r)) = pair(&extra) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(&mut a, &mut b, &["SET k v", "GET k", "DBSIZE"]);
}

#[test]
fn lfu_policy_enables_freq_and_disables_idletime() {
    let extra = [
        "--maxmemory",
        "1000000000",
        "--maxmemory-policy",
        "allkeys-lfu",
    ];
    let Some((o, r)) = pair(&extra) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    same(
        &mut a,
        &mut b,
        &[
            "SET k v",
            "OBJECT FREQ k",
            "OBJECT IDLETIME k",
            "SET n 5",
            "OBJECT REFCOUNT n",
        ],
    );
}

/// The value of an INFO field, if INFO is implemented.
fn info_field(c: &mut RawConn, section: &str, field: &str) -> Option<String> {
    let r = c.line(&format!("INFO {section}"));
    if r.starts_with(b"-") {
        return None;
    }
    let text = String::from_utf8_lossy(&r).into_owned();
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
}

/// Changes counted for persistence (`rdb_changes_since_last_save`) and the keyspace
/// counters INFO shows, after the same commands on both servers.
#[test]
fn dirty_and_keyspace_counters_same_as_redis() {
    let Some((o, r)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (RawConn::new(o.port), RawConn::new(r.port));
    if info_field(&mut a, "persistence", "rdb_changes_since_last_save").is_none() {
        eprintln!("skipping: INFO is not implemented in this build yet");
        return;
    }
    let steps: &[&[&str]] = &[
        &["SET a 1", "SET b 2", "SET c 3"],
        &["DEL a nosuch", "UNLINK b c"],
        &[
            "SET a 1",
            "EXPIRE a 100",
            "EXPIRE nosuch 100",
            "EXPIRE a 100 NX",
        ],
        &["PERSIST a", "PERSIST a"],
        &["RENAME a b", "RENAMENX b b", "RENAME nosuch x"],
        &[
            "MOVE b 1",
            "MOVE nosuch 1",
            "SELECT 1",
            "COPY b c",
            "COPY b c",
            "SELECT 0",
        ],
        &["SWAPDB 0 1", "SWAPDB 0 1"],
        &["SET x 1", "SET y 2", "FLUSHDB"],
        &["SET x 1", "FLUSHALL"],
        &["SET e v", "EXPIRE e -1", "SET f v", "PEXPIREAT f 1"],
        &[
            "TOUCH nosuch",
            "EXISTS x",
            "TYPE x",
            "RANDOMKEY",
            "KEYS *",
            "SCAN 0",
        ],
        &["SET t v PX 1", "DEBUG SLEEP 0.01", "GET t", "SET u v PX 1"],
    ];
    for step in steps {
        same(&mut a, &mut b, step);
        let x = info_field(&mut a, "persistence", "rdb_changes_since_last_save");
        let y = info_field(&mut b, "persistence", "rdb_changes_since_last_save");
        assert_eq!(x, y, "changes after {step:?}");
        for f in [
            "expired_keys",
            "keyspace_hits",
            "keyspace_misses",
            "evicted_keys",
        ] {
            assert_eq!(
                info_field(&mut a, "stats", f),
                info_field(&mut b, "stats", f),
                "{f} after {step:?}"
            );
        }
    }
    same(
        &mut a,
        &mut b,
        &[
            "SET k v",
            "SET v w",
            "EXPIREAT v 4000000000",
            "SELECT 2",
            "SET z z",
        ],
    );
    let keyspace = |c: &mut RawConn| {
        let r = c.line("INFO keyspace");
        String::from_utf8_lossy(&r)
            .split("\r\n")
            .filter(|l| l.starts_with("db"))
            .map(|l| l.split(",avg_ttl=").next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keyspace(&mut a), keyspace(&mut b));
}

#[test]
fn flushall_async_frees_in_the_background() {
    let s = Server::start(&our_server(), DEBUG_ON);
    let mut c = s.client();
    for db in ["0", "1"] {
        c.cmd(&["SELECT", db]).unwrap();
        c.cmd(&["DEBUG", "POPULATE", "200000"]).unwrap();
        assert_eq!(dbsize(&mut c), 200_000);
    }
    let t = Instant::now();
    assert_eq!(
        c.cmd(&["FLUSHALL", "ASYNC"]).unwrap(),
        RespValue::Status(b"OK".to_vec())
    );
    let async_time = t.elapsed();
    assert_eq!(dbsize(&mut c), 0);
    c.cmd(&["SELECT", "0"]).unwrap();
    assert_eq!(dbsize(&mut c), 0);
    c.cmd(&["SET", "k", "v"]).unwrap();
    assert_eq!(
        c.cmd(&["GET", "k"]).unwrap(),
        RespValue::Bulk(b"v".to_vec())
    );
    // The same data freed in place takes longer than handing it to a thread.
    c.cmd(&["DEBUG", "POPULATE", "400000"]).unwrap();
    let t = Instant::now();
    c.cmd(&["FLUSHALL", "SYNC"]).unwrap();
    let sync_time = t.elapsed();
    assert!(
        async_time < sync_time,
        "async {async_time:?} vs sync {sync_time:?}"
    );
}

#[test]
fn pause_cron_stops_active_expiry() {
    let s = Server::start(&our_server(), DEBUG_ON);
    let mut c = s.client();
    c.cmd(&["DEBUG", "PAUSE-CRON", "1"]).unwrap();
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "v", "PX", "20"]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(dbsize(&mut c), 100, "the cron expired keys while paused");
    c.cmd(&["DEBUG", "PAUSE-CRON", "0"]).unwrap();
    let start = Instant::now();
    while dbsize(&mut c) > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "no expiry after resuming"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
