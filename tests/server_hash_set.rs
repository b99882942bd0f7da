//! Hash and set commands: the same requests to our server and to Debian's
//! redis-server 7.0.15, reply bytes compared (errors included), in RESP2 and RESP3,
//! encodings after conversions, seeded random sequences compared reply by reply and
//! by DEBUG DIGEST-VALUE; and the field-expiry commands of Redis 7.4/8.0 (which 7.0
//! lacks) against their documented replies.
//!
//! Hashtable-encoded hashes and sets list their contents in hash order, which
//! differs between the servers: replies listing them are compared as sorted
//! multisets (lines starting with `~`; `~~` for field/value pairs).

mod common;
use common::*;
use redis_formats::command::encode_command;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A client that returns each reply as the exact bytes the server sent.
struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn line_end(buf: &[u8], pos: usize) -> Option<usize> {
    buf[pos..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| pos + i + 2)
}

/// End of the complete reply starting at `pos`, if it has all arrived.
fn reply_end(buf: &[u8], pos: usize) -> Option<usize> {
    let t = *buf.get(pos)?;
    let end = line_end(buf, pos)?;
    let header = std::str::from_utf8(&buf[pos + 1..end - 2]).ok()?;
    match t {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(end),
        b'$' | b'!' | b'=' => {
            let n: i64 = header.parse().ok()?;
            if n < 0 {
                return Some(end);
            }
            let stop = end + n as usize + 2;
            (buf.len() >= stop).then_some(stop)
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n: i64 = header.parse().ok()?;
            let items = if t == b'%' { 2 * n } else { n };
            let mut p = end;
            for _ in 0..items.max(0) {
                p = reply_end(buf, p)?;
            }
            Some(p)
        }
        _ => panic!("bad reply type byte {t:?}"),
    }
}

/// The header and the top-level elements of an aggregate reply.
fn elements(reply: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let end = line_end(reply, 0).expect("header");
    let mut p = end;
    let mut v = Vec::new();
    while p < reply.len() {
        let e = reply_end(reply, p).expect("complete");
        v.push(reply[p..e].to_vec());
        p = e;
    }
    (reply[..end].to_vec(), v)
}

/// A reply with its elements (or pairs, or the elements of a SCAN's second part)
/// sorted, for order-independent comparison.
fn normalized(reply: &[u8], pairs: bool) -> Vec<u8> {
    if !matches!(reply.first(), Some(b'*' | b'~' | b'%')) {
        return reply.to_vec();
    }
    let (head, mut el) = elements(reply);
    if pairs {
        let mut ps: Vec<Vec<u8>> = el.chunks(2).map(|c| c.concat()).collect();
        ps.sort();
        el = ps;
    } else {
        el.sort();
    }
    let mut out = head;
    for e in el {
        out.extend_from_slice(&e);
    }
    out
}

impl RawClient {
    fn connect(port: u16) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        RawClient {
            stream,
            buf: Vec::new(),
        }
    }

    fn cmd(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.stream.write_all(&out).expect("write");
        loop {
            if let Some(end) = reply_end(&self.buf, 0) {
                return self.buf.drain(..end).collect();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn line(&mut self, line: &str) -> Vec<u8> {
        self.cmd(&args(line))
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n")
}

/// Our server and the real one, with a connection to each.
struct Pair {
    _ours: Server,
    _real: Server,
    a: RawClient,
    b: RawClient,
}

impl Pair {
    fn start() -> Option<Pair> {
        let real_bin = real_server()?;
        let extra = ["--enable-debug-command", "yes"];
        let ours = Server::start(&our_server(), &extra);
        let real = Server::start(&real_bin, &extra);
        let a = RawClient::connect(ours.port);
        let b = RawClient::connect(real.port);
        Some(Pair {
            _ours: ours,
            _real: real,
            a,
            b,
        })
    }

    fn hello(&mut self, proto: u8) {
        let cmd = args(&format!("HELLO {proto}"));
        self.a.cmd(&cmd);
        self.b.cmd(&cmd);
    }

    /// Runs scenarios and returns every difference.
    fn run(&mut self, scenarios: &[&[&str]]) -> Vec<String> {
        let mut diffs = Vec::new();
        for sc in scenarios {
            for reset in [
                "FLUSHALL",
                "CONFIG SET set-max-intset-entries 512",
                "CONFIG SET hash-max-listpack-entries 128",
                "CONFIG SET hash-max-listpack-value 64",
            ] {
                self.a.line(reset);
                self.b.line(reset);
            }
            for line in sc.iter() {
                let (mode, text) = if let Some(t) = line.strip_prefix("~~") {
                    (2, t)
                } else if let Some(t) = line.strip_prefix('~') {
                    (1, t)
                } else {
                    (0, *line)
                };
                let cmd = args(text);
                let (mut ra, mut rb) = (self.a.cmd(&cmd), self.b.cmd(&cmd));
                if mode > 0 {
                    ra = normalized(&ra, mode == 2);
                    rb = normalized(&rb, mode == 2);
                }
                if ra != rb {
                    diffs.push(format!(
                        "{text:?}\n   ours: {}\n   real: {}",
                        show(&ra),
                        show(&rb)
                    ));
                }
            }
        }
        diffs
    }
}

const SET_SCENARIOS: &[&[&str]] = &[
    &[
        "SADD s a b c",
        "SADD s a d",
        "SCARD s",
        "SISMEMBER s a",
        "SISMEMBER s z",
        "SMISMEMBER s a z b",
        "SMISMEMBER nosuch a",
        "OBJECT ENCODING s",
        "~SMEMBERS s",
        "SREM s a zz",
        "SREM s b c d",
        "EXISTS s",
        "SADD",
        "SADD s",
        "SREM s",
        "SCARD",
        "SISMEMBER s",
        "SMISMEMBER s",
        "SMEMBERS",
    ],
    &[
        "SADD i 1 2 3 -5 100000 3 70000 -2147483649",
        "OBJECT ENCODING i",
        "SMEMBERS i",
        "SREM i 2 7",
        "SMEMBERS i",
        "SADD i x",
        "OBJECT ENCODING i",
        "~SMEMBERS i",
        "SADD j 0123",
        "OBJECT ENCODING j",
        "SADD k 9223372036854775807 -9223372036854775808",
        "SMEMBERS k",
        "DEBUG OBJECT nosuch",
    ],
    &[
        "SET str x",
        "SADD str a",
        "SREM str a",
        "SCARD str",
        "SMEMBERS str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SPOP str",
        "SPOP str 1",
        "SRANDMEMBER str",
        "SRANDMEMBER str 1",
        "SSCAN str 0",
        "SINTER str",
        "SUNION str",
        "SDIFF str",
        "SINTERCARD 1 str",
        "SMOVE str x a",
        "SADD t a",
        "SMOVE t str a",
        "SINTERSTORE d str",
        "SUNIONSTORE d t str",
        "SDIFFSTORE d t str",
    ],
    &[
        "SPOP nosuch",
        "SPOP nosuch 3",
        "SADD i 1 2 3",
        "SPOP i -1",
        "SPOP i abc",
        "SPOP i 1 2",
        "SPOP i 0",
        "SRANDMEMBER nosuch",
        "SRANDMEMBER nosuch 5",
        "SRANDMEMBER nosuch -5",
        "SRANDMEMBER i 0",
        "SRANDMEMBER i -9223372036854775808",
        "SRANDMEMBER i abc",
        "SRANDMEMBER i 1 2",
        "SRANDMEMBER i 3",
        "SRANDMEMBER i 100",
        "SPOP i 3",
        "EXISTS i",
        "SADD i 5 1 3 2 4",
        "SPOP i 10",
        "EXISTS i",
        "SADD h a b c",
        "~SPOP h 3",
        "EXISTS h",
    ],
    &[
        "SINTERCARD 0 a",
        "SINTERCARD -1 a",
        "SINTERCARD abc a",
        "SINTERCARD 2 a",
        "SINTERCARD 1 a LIMIT -1",
        "SINTERCARD 1 a LIMIT abc",
        "SINTERCARD 1 a LIMIT",
        "SINTERCARD 1 a foo 1",
        "SADD a 1 2 3 4",
        "SADD b 3 4 5",
        "SADD c 4 5 6",
        "SADD x a b 4",
        "SINTER a b",
        "SINTER a b c",
        "SINTER a nosuch",
        "SINTER nosuch a",
        "SINTERCARD 2 a b",
        "SINTERCARD 2 a b LIMIT 1",
        "SINTERCARD 3 a b c LIMIT 0",
        "SINTERCARD 2 a x",
        "SUNION a b c",
        "~SUNION a x",
        "SUNION nosuch",
        "SDIFF a b",
        "SDIFF a b c",
        "SDIFF nosuch a",
        "SDIFF a a",
        "SDIFF a nosuch",
        "~SDIFF x a",
        "SINTERSTORE d a b",
        "SMEMBERS d",
        "OBJECT ENCODING d",
        "SUNIONSTORE d a b c",
        "SMEMBERS d",
        "SUNIONSTORE d a x",
        "OBJECT ENCODING d",
        "SDIFFSTORE d a b c",
        "SMEMBERS d",
        "SDIFFSTORE d a a",
        "EXISTS d",
        "SET d v",
        "SINTERSTORE d a nosuch",
        "EXISTS d",
        "SET d v",
        "SUNIONSTORE d a",
        "TYPE d",
        "DEBUG DIGEST-VALUE a b c x d",
        "SINTER",
        "SINTERSTORE d",
    ],
    &[
        "SADD a 1 2 3",
        "SADD b x y",
        "SMOVE a b 1",
        "SMOVE a b 9",
        "SMOVE nosuch b 1",
        "SMOVE a a 2",
        "SMOVE a a 99",
        "SMEMBERS a",
        "~SMEMBERS b",
        "OBJECT ENCODING b",
        "SMOVE a newdst 2",
        "OBJECT ENCODING newdst",
        "SMOVE b newdst2 x",
        "OBJECT ENCODING newdst2",
        "SMOVE a b 3",
        "EXISTS a",
        "SMOVE b a",
    ],
    &[
        "SADD a 1 2 3",
        "SSCAN a 0",
        "SSCAN nosuch 0",
        "SSCAN nosuch 0 COUNT 0",
        "SSCAN nosuch abc",
        "SSCAN a 0 COUNT 0",
        "SSCAN a 0 COUNT",
        "SSCAN a abc",
        "SSCAN a -1",
        "SSCAN a 0 MATCH 3*",
        "SSCAN a 0 MATCH * COUNT 100",
        "SSCAN a 0 TYPE string",
    ],
    &[
        "CONFIG SET set-max-intset-entries 3",
        "SADD m 1 2 3",
        "OBJECT ENCODING m",
        "SADD m 4",
        "OBJECT ENCODING m",
        "SREM m 1 2 3",
        "OBJECT ENCODING m",
        "CONFIG SET set-max-intset-entries 0",
        "SADD z 1",
        "OBJECT ENCODING z",
        "SADD big a",
        "DEBUG DIGEST-VALUE m z big",
    ],
];

const HASH_SCENARIOS: &[&[&str]] = &[
    &[
        "HSET h a 1 b 2",
        "HSET h a 3 c 4",
        "HSET h a",
        "HSET h",
        "HSET h a 1 b",
        "HMSET h x 1 y",
        "HMSET h x 1 y 2",
        "HGET h a",
        "HGET h zz",
        "HGET nosuch a",
        "HMGET h a zz b",
        "HMGET nosuch a b",
        "HSETNX h a 9",
        "HSETNX h new 9",
        "HSETNX nh f v",
        "HSETNX nh f",
        "HLEN h",
        "HLEN nosuch",
        "HSTRLEN h a",
        "HSTRLEN h zz",
        "HSTRLEN nosuch zz",
        "HEXISTS h a",
        "HEXISTS h zz",
        "HEXISTS nosuch zz",
        "HKEYS h",
        "HVALS h",
        "HGETALL h",
        "HGETALL nosuch",
        "HKEYS nosuch",
        "HVALS nosuch",
        "HDEL h a zz",
        "HDEL h zz",
        "HDEL nosuch a",
        "HDEL nh f",
        "EXISTS nh",
        "HDEL h",
        "OBJECT ENCODING h",
        "DEBUG DIGEST-VALUE h",
        "DEBUG OBJECT nosuch",
    ],
    &[
        "SET str x",
        "HMGET str a",
        "HGET str a",
        "HSET str a 1",
        "HSETNX str a 1",
        "HLEN str",
        "HSTRLEN str a",
        "HEXISTS str a",
        "HKEYS str",
        "HVALS str",
        "HGETALL str",
        "HDEL str a",
        "HINCRBY str a 1",
        "HINCRBYFLOAT str a 1",
        "HRANDFIELD str",
        "HRANDFIELD str 1",
        "HSCAN str 0",
        "HSCAN str abc",
    ],
    &[
        "HINCRBY h n 5",
        "HINCRBY h n -10",
        "HINCRBY h n abc",
        "HINCRBY nosuch n abc",
        "EXISTS nosuch",
        "HINCRBY h x 9223372036854775807",
        "HINCRBY h x 1",
        "HINCRBY h y -9223372036854775808",
        "HINCRBY h y -1",
        "HSET h s \" 1\" t 1.5 u 007",
        "HINCRBY h s 1",
        "HINCRBY h t 1",
        "HINCRBY h u 1",
        "HINCRBYFLOAT h f 1.5",
        "HINCRBYFLOAT h f 0.1",
        "HINCRBYFLOAT h f abc",
        "HINCRBYFLOAT h f inf",
        "HINCRBYFLOAT h f -inf",
        "HINCRBYFLOAT h f nan",
        "HINCRBYFLOAT nosuch f inf",
        "EXISTS nosuch",
        "HINCRBYFLOAT h s 1",
        "HINCRBYFLOAT h n 3.0e3",
        "HINCRBYFLOAT h x 1",
        "HINCRBYFLOAT h t 1.1",
        "HINCRBYFLOAT h u 0x10",
        "HINCRBYFLOAT h v 10.5e-3",
        "HINCRBYFLOAT h w 1e308",
        "HINCRBYFLOAT h w 1e308",
        "~~HGETALL h",
        "OBJECT ENCODING h",
        "HINCRBY h",
        "HINCRBYFLOAT h f",
    ],
    &[
        "HRANDFIELD nosuch",
        "HRANDFIELD nosuch 5",
        "HRANDFIELD nosuch -5 WITHVALUES",
        "HSET h a 1 b 2 c 3",
        "HRANDFIELD h 0",
        "HRANDFIELD h 0 WITHVALUES",
        "HRANDFIELD h abc",
        "HRANDFIELD h 1 WITHVALUE",
        "HRANDFIELD h 1 WITHVALUES x",
        "HRANDFIELD h -9223372036854775808",
        "HRANDFIELD h 9223372036854775807 WITHVALUES",
        "HRANDFIELD h -9223372036854775807 WITHVALUES",
        "HRANDFIELD h 4611686018427387903 WITHVALUES",
        "HRANDFIELD h 100",
        "HRANDFIELD h 100 WITHVALUES",
        "HRANDFIELD h 3 WITHVALUES",
    ],
    &[
        "HSET h a 1 b 2 c 3",
        "HSCAN h 0",
        "HSCAN nosuch 0",
        "HSCAN nosuch 0 COUNT 0",
        "HSCAN h 0 COUNT 0",
        "HSCAN h 0 COUNT",
        "HSCAN h 0 MATCH b*",
        "HSCAN h -1",
        "HSCAN h 0 TYPE hash",
    ],
    &[
        "CONFIG SET hash-max-listpack-value 5",
        "HSET h2 a 123456",
        "OBJECT ENCODING h2",
        "HSET h3 abcdef 1",
        "OBJECT ENCODING h3",
        "HSET h4 a 12345",
        "OBJECT ENCODING h4",
        "HINCRBYFLOAT h4 a 0.5",
        "OBJECT ENCODING h4",
        "HSET h5 a 1",
        "HSETNX h5 b 123456",
        "OBJECT ENCODING h5",
        "CONFIG SET hash-max-listpack-value 64",
        "CONFIG SET hash-max-listpack-entries 2",
        "HSET h6 a 1 b 2",
        "OBJECT ENCODING h6",
        "HSET h6 c 3",
        "OBJECT ENCODING h6",
        "HDEL h6 a b",
        "OBJECT ENCODING h6",
        "HSET h7 a 1 b 2 c 3",
        "OBJECT ENCODING h7",
        "~~HGETALL h7",
        "DEBUG DIGEST-VALUE h2 h3 h4 h5 h6 h7",
    ],
];

fn check(pair: &mut Pair, scenarios: &[&[&str]], what: &str) {
    let diffs = pair.run(scenarios);
    assert!(
        diffs.is_empty(),
        "{what}: {} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn set_commands_resp2_and_resp3() {
    let Some(mut pair) = Pair::start() else {
        return;
    };
    check(&mut pair, SET_SCENARIOS, "sets, RESP2");
    pair.hello(3);
    check(&mut pair, SET_SCENARIOS, "sets, RESP3");
}

#[test]
fn hash_commands_resp2_and_resp3() {
    let Some(mut pair) = Pair::start() else {
        return;
    };
    check(&mut pair, HASH_SCENARIOS, "hashes, RESP2");
    pair.hello(3);
    check(&mut pair, HASH_SCENARIOS, "hashes, RESP3");
}

/// Serialized lengths (DEBUG OBJECT) of listpack hashes with every entry encoding,
/// intsets of each width and hashtable values.
#[test]
fn serialized_lengths_match() {
    let Some(mut pair) = Pair::start() else {
        return;
    };
    let long = "x".repeat(5000);
    let mid = "y".repeat(100);
    let setup = [
        format!("HSET lp a 1 b hello c -5000 d 70000 e 9000000000 f -100 g -1 h 4095 i -4096 j 32767 k -32768 l 8388607 m -8388608 n 2147483647 o -2147483648 p {mid} q {long}"),
        "CONFIG SET hash-max-listpack-value 10000".to_string(),
        format!("HSET lp2 a {mid} b {long} c 12"),
        "CONFIG SET hash-max-listpack-value 64".to_string(),
        "HSET ht a 1 b 2 c 3333333333333333333333333333333333333333333333333333333333333333333333333".to_string(),
        "SADD i16 1 2 3 -300".to_string(),
        "SADD i32 1 70000".to_string(),
        "SADD i64 1 9000000000".to_string(),
        format!("SADD st a b {mid} 12"),
    ];
    for l in &setup {
        pair.a.line(l);
        pair.b.line(l);
    }
    for key in ["lp", "lp2", "ht", "i16", "i32", "i64", "st"] {
        let q = format!("DEBUG OBJECT {key}");
        let field = |r: Vec<u8>| {
            let s = String::from_utf8_lossy(&r).to_string();
            s.split(' ')
                .filter(|w| w.starts_with("encoding:") || w.starts_with("serializedlength:"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(field(pair.a.line(&q)), field(pair.b.line(&q)), "{key}");
        let d = format!("DEBUG DIGEST-VALUE {key}");
        assert_eq!(pair.a.line(&d), pair.b.line(&d), "{key}");
    }
}

fn random_member(rng: &mut fastrand::Rng) -> String {
    match rng.u8(..4) {
        0 => rng.i64(-20..20).to_string(),
        1 => format!("m{}", rng.u8(..30)),
        2 => rng.i64(..).to_string(),
        _ => "v".repeat(rng.usize(..80)),
    }
}

/// A random set or hash command on a few keys; `~` / `~~` mark replies to compare
/// as multisets.
fn random_command(rng: &mut fastrand::Rng) -> String {
    let key = |rng: &mut fastrand::Rng| ["s1", "s2", "s3", "h1", "h2", "str"][rng.usize(..6)];
    let members = |rng: &mut fastrand::Rng, n: usize| {
        (0..n)
            .map(|_| random_member(rng))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let n = rng.usize(1..5);
    match rng.u8(..26) {
        0..=3 => format!("SADD {} {}", key(rng), members(rng, n)),
        4 => format!("SREM {} {}", key(rng), members(rng, n)),
        5 => format!("SISMEMBER {} {}", key(rng), random_member(rng)),
        6 => format!("SMISMEMBER {} {}", key(rng), members(rng, n)),
        7 => format!("SCARD {}", key(rng)),
        8 => format!("~SMEMBERS {}", key(rng)),
        9 => format!("SMOVE {} {} {}", key(rng), key(rng), random_member(rng)),
        10 => format!("~SINTER {} {}", key(rng), key(rng)),
        11 => format!("~SUNION {} {}", key(rng), key(rng)),
        12 => format!("~SDIFF {} {} {}", key(rng), key(rng), key(rng)),
        13 => format!("SINTERSTORE {} {} {}", key(rng), key(rng), key(rng)),
        14 => format!("SUNIONSTORE {} {} {}", key(rng), key(rng), key(rng)),
        15 => format!("SDIFFSTORE {} {} {}", key(rng), key(rng), key(rng)),
        16 => format!("SINTERCARD 2 {} {}", key(rng), key(rng)),
        17..=19 => {
            let pairs = (0..n)
                .map(|_| format!("{} {}", random_member(rng), random_member(rng)))
                .collect::<Vec<_>>()
                .join(" ");
            format!("HSET {} {pairs}", key(rng))
        }
        20 => format!("HDEL {} {}", key(rng), members(rng, n)),
        21 => format!("HGET {} {}", key(rng), random_member(rng)),
        22 => format!("~~HGETALL {}", key(rng)),
        23 => format!(
            "HINCRBY {} {} {}",
            key(rng),
            random_member(rng),
            rng.i64(-5..5)
        ),
        24 => format!("HLEN {}", key(rng)),
        _ => format!("OBJECT ENCODING {}", key(rng)),
    }
}

fn random_sequences(pair: &mut Pair, seeds: &[u64]) {
    for &seed in seeds {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut lines: Vec<String> = vec![
            "SET str x".into(),
            format!("CONFIG SET set-max-intset-entries {}", rng.usize(1..20)),
            format!("CONFIG SET hash-max-listpack-entries {}", rng.usize(1..20)),
        ];
        for _ in 0..400 {
            lines.push(random_command(&mut rng));
        }
        lines.push("DEBUG DIGEST-VALUE s1 s2 s3 h1 h2 str".into());
        lines.push("DEBUG DIGEST".into());
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let diffs = pair.run(&[&refs[..]]);
        assert!(
            diffs.is_empty(),
            "seed {seed}: {} differences:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    }
}

#[test]
fn random_hash_and_set_sequences() {
    let Some(mut pair) = Pair::start() else {
        return;
    };
    // HASH_SET_SEEDS=N runs N seeds per protocol instead of the usual few.
    let n: u64 = std::env::var("HASH_SET_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    random_sequences(&mut pair, &(1..=n).collect::<Vec<_>>());
    pair.hello(3);
    random_sequences(&mut pair, &(1000..1000 + n).collect::<Vec<_>>());
}

/// The field-expiry commands (Redis 7.4 / 8.0), which 7.0 lacks: replies as 7.4
/// documents them.
#[test]
fn hash_field_expiry() {
    let ours = Server::start(&our_server(), &[]);
    let mut c = RawClient::connect(ours.port);
    let mut expect = |line: &str, want: &str| {
        let got = c.line(line);
        assert_eq!(show(&got), want.replace("\r\n", "\\r\\n"), "{line}");
    };
    expect("HSET h a 1 b 2 c 3", ":3\r\n");
    expect("HEXPIRE h 100 FIELDS 2 a zz", "*2\r\n:1\r\n:-2\r\n");
    expect("HEXPIRE nosuch 100 FIELDS 2 a b", "*2\r\n:-2\r\n:-2\r\n");
    expect("HEXPIRE h 100 NX FIELDS 2 a b", "*2\r\n:0\r\n:1\r\n");
    expect("HEXPIRE h 50 GT FIELDS 1 a", "*1\r\n:0\r\n");
    expect("HEXPIRE h 200 GT FIELDS 2 a c", "*2\r\n:1\r\n:0\r\n");
    expect("HEXPIRE h 10 LT FIELDS 2 a c", "*2\r\n:1\r\n:1\r\n");
    expect("HEXPIRE h 10 XX FIELDS 1 zz", "*1\r\n:-2\r\n");
    expect("HTTL h FIELDS 3 a b zz", "*3\r\n:10\r\n:100\r\n:-2\r\n");
    expect("OBJECT ENCODING h", "$10\r\nlistpackex\r\n");
    expect("HPERSIST h FIELDS 2 a zz", "*2\r\n:1\r\n:-2\r\n");
    expect("HTTL h FIELDS 1 a", "*1\r\n:-1\r\n");
    expect("HTTL nosuch FIELDS 1 a", "*1\r\n:-2\r\n");
    expect("HEXPIRE h 0 FIELDS 1 a", "*1\r\n:2\r\n");
    expect("HEXISTS h a", ":0\r\n");
    expect(
        "HEXPIRE h -1 FIELDS 1 a",
        "-ERR invalid expire time, must be >= 0\r\n",
    );
    expect(
        "HEXPIRE h abc FIELDS 1 a",
        "-ERR value is not an integer or out of range\r\n",
    );
    expect(
        "HEXPIRE h 10 FIELDS 0 a",
        "-ERR Parameter `numFields` should be greater than 0\r\n",
    );
    expect(
        "HEXPIRE h 10 FIELDS 2 a",
        "-ERR The `numfields` parameter must match the number of arguments\r\n",
    );
    expect(
        "HEXPIRE h 10 FOO 1 a",
        "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
    );
    expect(
        "HEXPIRE h 10 FIELDS",
        "-ERR wrong number of arguments for 'hexpire' command\r\n",
    );
    expect("SET str x", "+OK\r\n");
    expect(
        "HEXPIRE str 10 FIELDS 1 a",
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    // Millisecond precision, absolute times, lazy and active expiry.
    expect("HPEXPIRE h 100 FIELDS 1 b", "*1\r\n:1\r\n");
    std::thread::sleep(Duration::from_millis(150));
    expect("HGET h b", "$-1\r\n");
    expect("HLEN h", ":1\r\n");
    expect("HPEXPIREAT h 1 FIELDS 1 c", "*1\r\n:2\r\n");
    expect("EXISTS h", ":0\r\n");
    expect("HSET g a 1 b 2", ":2\r\n");
    expect("HPEXPIRE g 50 FIELDS 2 a b", "*2\r\n:1\r\n:1\r\n");
    // The cron's sweep deletes it without any access (bounded wait).
    let mut swept = false;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(50));
        let mut probe = RawClient::connect(ours.port);
        if probe.line("DBSIZE") == b":1\r\n" {
            swept = true;
            break;
        }
    }
    assert!(swept, "the active sweep removed the expired fields' hash");
    expect("HEXPIRETIME g FIELDS 1 a", "*1\r\n:-2\r\n");
    // Big hashes (hashtable) keep TTLs too; HSET clears one.
    expect("CONFIG SET hash-max-listpack-entries 1", "+OK\r\n");
    expect("HSET t a 1 b 2", ":2\r\n");
    expect("OBJECT ENCODING t", "$9\r\nhashtable\r\n");
    expect("HEXPIREAT t 4000000000 FIELDS 1 a", "*1\r\n:1\r\n");
    expect("HEXPIRETIME t FIELDS 2 a b", "*2\r\n:4000000000\r\n:-1\r\n");
    expect("HPEXPIRETIME t FIELDS 1 a", "*1\r\n:4000000000000\r\n");
    expect("HINCRBY t a 1", ":2\r\n");
    expect("HEXPIRETIME t FIELDS 1 a", "*1\r\n:4000000000\r\n");
    expect("HSET t a 5", ":0\r\n");
    expect("HTTL t FIELDS 1 a", "*1\r\n:-1\r\n");
    // HGETDEL, HGETEX, HSETEX.
    expect("HGETDEL t FIELDS 2 a zz", "*2\r\n$1\r\n5\r\n$-1\r\n");
    expect("HGETDEL t FIELDS 1 b", "*1\r\n$1\r\n2\r\n");
    expect("EXISTS t", ":0\r\n");
    expect("HGETDEL nosuch FIELDS 1 b", "*1\r\n$-1\r\n");
    expect("CONFIG SET hash-max-listpack-entries 128", "+OK\r\n");
    expect("HSET x a 1 b 2", ":2\r\n");
    expect("HGETEX x EX 100 FIELDS 2 a zz", "*2\r\n$1\r\n1\r\n$-1\r\n");
    expect("HTTL x FIELDS 2 a b", "*2\r\n:100\r\n:-1\r\n");
    expect("HGETEX x PERSIST FIELDS 1 a", "*1\r\n$1\r\n1\r\n");
    expect("HTTL x FIELDS 1 a", "*1\r\n:-1\r\n");
    expect("HGETEX x PXAT 1 FIELDS 1 a", "*1\r\n$1\r\n1\r\n");
    expect("HEXISTS x a", ":0\r\n");
    expect("HSETEX x FNX EX 100 FIELDS 1 b 3", ":0\r\n");
    expect("HSETEX x FXX EX 100 FIELDS 1 b 3", ":1\r\n");
    expect("HTTL x FIELDS 1 b", "*1\r\n:100\r\n");
    expect("HSETEX x KEEPTTL FIELDS 1 b 4", ":1\r\n");
    expect("HTTL x FIELDS 1 b", "*1\r\n:100\r\n");
    expect("HSETEX x FIELDS 1 b 5", ":1\r\n");
    expect("HTTL x FIELDS 1 b", "*1\r\n:-1\r\n");
    expect(
        "HSETEX x FIELDS 2 b 5",
        "-ERR The `numfields` parameter must match the number of arguments\r\n",
    );
    expect("HSETEX y PX 100 FIELDS 2 a 1 b 2", ":1\r\n");
    expect("HPTTL y FIELDS 1 zz", "*1\r\n:-2\r\n");
    // COMMAND knows them.
    expect("COMMAND INFO hexpire", &{
        let mut c2 = RawClient::connect(ours.port);
        let r = c2.line("COMMAND INFO hexpire");
        assert!(
            r.starts_with(b"*1\r\n*10\r\n$7\r\nhexpire\r\n:-6\r\n"),
            "{}",
            show(&r)
        );
        String::from_utf8_lossy(&r).to_string()
    });
}
