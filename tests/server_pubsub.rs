//! Pub/Sub and keyspace notifications: the same requests, on several connections,
//! to our server and to Debian's redis-server 7.0.15, every reply and every message
//! compared byte for byte (RESP2 and RESP3, errors included); and a scripted sequence
//! of writes covering every keyspace event, the events seen by a `PSUBSCRIBE
//! __key*__:*` client compared in order.

mod common;
use common::raw::*;
use common::*;
use std::time::Duration;

/// Connections to our server (`a`) and to the real one (`b`), same count each.
struct Both {
    _ours: Server,
    _real: Server,
    a: Vec<RawClient>,
    b: Vec<RawClient>,
}

impl Both {
    fn start(clients: usize, extra: &[&str]) -> Option<Both> {
        let real_bin = real_server()?;
        let ours = Server::start(&our_server(), extra);
        let real = Server::start(&real_bin, extra);
        let a = (0..clients)
            .map(|_| RawClient::connect(ours.port))
            .collect();
        let b = (0..clients)
            .map(|_| RawClient::connect(real.port))
            .collect();
        Some(Both {
            _ours: ours,
            _real: real,
            a,
            b,
        })
    }

    /// Runs steps and returns the differences. A step is `N LINE` (send on client
    /// N, read one reply), `N> LINE` (send only), `N<` (read one reply), `N<k`
    /// (read k replies), `N~ LINE` (send, read, not compared) or `!sleep MS`.
    fn run(&mut self, steps: &[&str]) -> Vec<String> {
        let mut diffs = Vec::new();
        for step in steps {
            if let Some(ms) = step.strip_prefix("!sleep ") {
                std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
                continue;
            }
            let digits = step.chars().take_while(|c| c.is_ascii_digit()).count();
            let n: usize = step[..digits].parse().expect("client index");
            let rest = &step[digits..];
            // `N~ LINE`: send and read, replies not compared (HELLO: client ids).
            if let Some(line) = rest.strip_prefix("~ ") {
                self.a[n].cmd(&args(line));
                self.b[n].cmd(&args(line));
                continue;
            }
            let (send, reads) = if let Some(line) = rest.strip_prefix("> ") {
                (Some(line), 0)
            } else if let Some(k) = rest.strip_prefix('<') {
                (
                    None,
                    if k.is_empty() {
                        1
                    } else {
                        k.parse().expect("count")
                    },
                )
            } else {
                (Some(&rest[1..]), 1)
            };
            if let Some(line) = send {
                self.a[n].send(&args(line));
                self.b[n].send(&args(line));
            }
            for _ in 0..reads {
                let (ra, rb) = (self.a[n].read(), self.b[n].read());
                if ra != rb {
                    diffs.push(format!(
                        "{step:?}\n   ours: {}\n   real: {}",
                        show(&ra),
                        show(&rb)
                    ));
                }
            }
        }
        diffs
    }

    fn check(&mut self, steps: &[&str], what: &str) {
        let diffs = self.run(steps);
        assert!(diffs.is_empty(), "{what}:\n{}", diffs.join("\n"));
    }
}

/// Message shapes, counts, errors and introspection, from the point of view of a
/// subscriber (client 0) and a publisher (client 1).
const SHAPES: &[&str] = &[
    "0> SUBSCRIBE ch1 ch2",
    "0<2",
    "1 PUBLISH ch1 hello",
    "0<",
    "1 PUBLISH ch2 ''",
    "0<",
    "1 PUBLISH nobody x",
    "0> SUBSCRIBE ch1",
    "0<",
    "0> PSUBSCRIBE h*llo",
    "0<",
    "1 PUBLISH hello both",
    "1 PUBLISH hallo pattern",
    "0<",
    "1 PUBSUB NUMSUB ch1 ch2 nosuch",
    "1 PUBSUB NUMSUB",
    "1 PUBSUB NUMPAT",
    "1 PUBSUB CHANNELS ch1",
    "1 PUBSUB CHANNELS nomatch*",
    "1 PUBSUB SHARDCHANNELS",
    "1 PUBSUB SHARDNUMSUB ch1",
    "1 PUBSUB CHANNELS a b",
    "1 PUBSUB NUMPAT x",
    "1 PUBSUB FOO",
    "1 PUBSUB",
    "1 PUBSUB HELP",
    "1 INFO nosuchsection",
    "0> UNSUBSCRIBE ch2",
    "0<",
    "0> PUNSUBSCRIBE h*llo nosuch*",
    "0<2",
    "0> SSUBSCRIBE sh1",
    "0<",
    "1 SPUBLISH sh1 shardmsg",
    "0<",
    "1 PUBLISH sh1 notshard",
    "1 SPUBLISH ch1 notshard",
    "1 PUBSUB SHARDCHANNELS",
    "1 PUBSUB SHARDNUMSUB sh1 x",
    "0> SUNSUBSCRIBE",
    "0<",
    "0> SUNSUBSCRIBE",
    "0<",
    "0> UNSUBSCRIBE ch1",
    "0<",
    "0> UNSUBSCRIBE",
    "0<",
    "0> PUNSUBSCRIBE",
    "0<",
    "0 PING",
    "1 SUBSCRIBE",
    "1 PUBLISH a",
    "1 SPUBLISH a",
];

/// RESP2 subscribed mode: only (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET.
const SUBSCRIBED_MODE: &[&str] = &[
    "0> SUBSCRIBE c",
    "0<",
    "0 GET k",
    "0 CLIENT ID",
    "0 PING",
    "0 PING hi",
    "0 PING a b",
    "0 MULTI",
    "0 NOSUCHCMD x",
    "0 SET k",
    "0> PSUBSCRIBE p*",
    "0<",
    "0> UNSUBSCRIBE c",
    "0<",
    "0 GET k",
    "0> PUNSUBSCRIBE p*",
    "0<",
    "0 GET k",
    "0 PING",
    "0> SSUBSCRIBE s",
    "0<",
    "0 ECHO x",
    "0 RESET",
    "0 GET k",
    "1 PUBLISH c after-reset",
    "1 SPUBLISH s after-reset",
    "0> SUBSCRIBE c",
    "0<",
    "0 QUIT",
];

/// In RESP3 commands interleave with messages; PING is a plain PONG.
const RESP3_MIXED: &[&str] = &[
    "0> SUBSCRIBE c",
    "0<",
    "0 SET k v",
    "0 GET k",
    "0 PING",
    "1 PUBLISH c m1",
    "0<",
    "0 PUBLISH c to-self",
    "0<",
    "0> PSUBSCRIBE *",
    "0<",
    "0 PUBLISH c twice",
    "0<2",
    "0 PUNSUBSCRIBE",
    "0 UNSUBSCRIBE",
    "0 UNSUBSCRIBE",
];

/// MULTI/EXEC: PUBLISH inside EXEC, SUBSCRIBE queued and run by EXEC.
const TRANSACTIONS: &[&str] = &[
    "0> SUBSCRIBE c",
    "0<",
    "1 MULTI",
    "1 PUBLISH c in-exec",
    "1 SUBSCRIBE d",
    "1 EXEC",
    "0<",
    "2 PUBLISH d to-exec-subscriber",
    "1<",
    "1 UNSUBSCRIBE",
    "2 MULTI",
    "2 SET x 1",
    "2 PUBLISH c second",
    "2 EXEC",
    "0<",
];

/// CLIENT REPLY OFF still delivers pushes (RESP3) and subscription replies.
const REPLY_OFF: &[&str] = &[
    "0> CLIENT REPLY OFF",
    "0> SUBSCRIBE c",
    "0<",
    "1 PUBLISH c while-off",
    "0<",
    "0> UNSUBSCRIBE c",
    "0<",
    "0> CLIENT REPLY ON",
    "0<",
];

#[test]
fn pubsub_resp2() {
    let Some(mut s) = Both::start(3, &[]) else {
        return;
    };
    s.check(SHAPES, "RESP2 shapes");
    s.check(SUBSCRIBED_MODE, "RESP2 subscribed mode");
    let Some(mut s) = Both::start(3, &[]) else {
        return;
    };
    s.check(TRANSACTIONS, "RESP2 transactions");
    s.check(REPLY_OFF, "RESP2 reply off");
}

#[test]
fn pubsub_resp3() {
    let Some(mut s) = Both::start(3, &[]) else {
        return;
    };
    s.check(&["0~ HELLO 3", "1~ HELLO 3", "2~ HELLO 3"], "HELLO 3");
    s.check(SHAPES, "RESP3 shapes");
    s.check(RESP3_MIXED, "RESP3 mixed");
    s.check(TRANSACTIONS, "RESP3 transactions");
    s.check(REPLY_OFF, "RESP3 reply off");
    // A RESP3 subscriber receives a RESP2 publisher's messages as pushes, and back.
    s.check(
        &[
            "1~ HELLO 2",
            "0> SUBSCRIBE z",
            "0<",
            "1> SUBSCRIBE y",
            "1<",
            "2 PUBLISH z to-resp3",
            "0<",
            "2 PUBLISH y to-resp2",
            "1<",
            "1 RESET",
            "0 UNSUBSCRIBE",
        ],
        "mixed protocols",
    );
}

#[test]
fn client_list_and_info() {
    let Some(mut s) = Both::start(2, &[]) else {
        return;
    };
    s.check(
        &[
            "0> SUBSCRIBE a b",
            "0<2",
            "0> PSUBSCRIBE p*",
            "0<",
            "0> SSUBSCRIBE s",
            "0<",
        ],
        "subscribe",
    );
    // CLIENT LIST: the subscriber's counts and its P flag.
    let line = |c: &mut RawClient| {
        let r = c.line("CLIENT LIST");
        let text = String::from_utf8_lossy(&r).into_owned();
        let sub = text
            .lines()
            .find(|l| l.contains("sub=2"))
            .unwrap_or_default()
            .to_string();
        let field = |name: &str| {
            sub.split(' ')
                .find(|f| f.starts_with(&format!("{name}=")))
                .map(str::to_string)
        };
        (
            field("flags"),
            field("sub"),
            field("psub"),
            field("ssub"),
            field("cmd"),
        )
    };
    assert_eq!(line(&mut s.a[1]), line(&mut s.b[1]));
    let info = |c: &mut RawClient| {
        let r = String::from_utf8_lossy(&c.line("INFO stats")).into_owned();
        r.lines()
            .filter(|l| l.starts_with("pubsub"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let ours = info(&mut s.a[1]);
    assert_eq!(ours, info(&mut s.b[1]));
    assert!(ours.contains(&"pubsub_channels:2".to_string()), "{ours:?}");
    // CLIENT KILL TYPE pubsub closes the subscriber.
    s.check(&["1 CLIENT KILL TYPE pubsub", "1 PUBSUB NUMSUB a"], "kill");
}

/// A sequence of writes covering every keyspace event the server raises, in a
/// fixed order; `!dumprestore SRC DST` restores a DUMP of SRC at DST.
const EVENTS: &[&str] = &[
    "SET s v",
    "SET s v2 EX 100",
    "SET s v3 KEEPTTL GET",
    "SETNX s x",
    "SETNX s2 x",
    "SETEX s3 100 v",
    "PSETEX s4 100000 v",
    "GETSET s nv",
    "GETDEL s2",
    "GETDEL s2",
    "GETEX s3 PERSIST",
    "GETEX s4 EX 200",
    "GETEX s4 PXAT 1",
    "MSET m1 a m2 b",
    "MSETNX m3 a m4 b",
    "MSETNX m3 a m5 b",
    "APPEND ap x",
    "APPEND ap y",
    "SETRANGE sr 5 x",
    "SETRANGE sr 0 ''",
    "SETRANGE sr2 0 ''",
    "INCR i",
    "INCRBY i 5",
    "DECR i",
    "DECRBY i 2",
    "INCRBYFLOAT f 1.5",
    "INCRBYFLOAT f 1",
    "SETBIT b 3 1",
    "SETBIT b 3 1",
    "BITFIELD bf SET u8 0 255",
    "BITFIELD bf GET u8 0",
    "BITOP OR bo b",
    "BITOP OR bo nokey1 nokey2",
    "DEL m1 m2 nokey",
    "UNLINK m3",
    "RENAME m4 rn",
    "RENAMENX rn rn2",
    "RENAMENX rn2 s",
    "RENAME rn2 rn2",
    "SET rn3 x",
    "RENAME rn2 rn3",
    "COPY rn3 cp",
    "COPY rn3 cp REPLACE",
    "COPY rn3 cp",
    "COPY rn3 cp2 DB 1",
    "MOVE cp 2",
    "MOVE cp 2",
    "EXPIRE ap 100",
    "PEXPIRE ap 100000",
    "EXPIRE ap 100 NX",
    "EXPIREAT ap 1",
    "SET p v EX 100",
    "PERSIST p",
    "PERSIST p",
    "!dumprestore p rp",
    "LPUSH l a b c",
    "RPUSH l d",
    "LPUSHX l e",
    "RPUSHX nol e",
    "LINSERT l BEFORE a z",
    "LINSERT l BEFORE nosuch z",
    "LSET l 0 q",
    "LREM l 1 q",
    "LREM l 1 nosuch",
    "LTRIM l 0 4",
    "LPOP l",
    "RPOP l",
    "LPOP l 0",
    "LMOVE l l2 LEFT RIGHT",
    "RPOPLPUSH l2 l2",
    "LMOVE l l RIGHT LEFT",
    "LMPOP 1 l2 LEFT COUNT 10",
    "LRANGE l 0 -1",
    "RPUSH bl x y",
    "BLPOP bl 0",
    "BRPOP bl 0",
    "RPUSH bm x",
    "BLMOVE bm bm2 LEFT LEFT 0",
    "BLMPOP 0 1 bm2 RIGHT COUNT 2",
    "LPOP l 10",
    "RPUSH lt a b",
    "LTRIM lt 5 10",
    "SADD st a b c",
    "SADD st a",
    "SREM st a",
    "SREM st nosuch",
    "SMOVE st st2 b",
    "SMOVE st st2 nosuch",
    "SADD st2 c",
    "SMOVE st st2 c",
    "SADD s1 1 2 3",
    "SADD s2 2 3 4",
    "SINTERSTORE sd s1 s2",
    "SUNIONSTORE sd s1 s2",
    "SDIFFSTORE sd s1 s2",
    "SDIFFSTORE sd s1 s1",
    "SINTERSTORE sd s1 nokey",
    "SADD sp only",
    "SPOP sp",
    "SPOP s2 0",
    "SPOP s2 3",
    "SPOP s1 10",
    "HSET h a 1 b 2",
    "HMSET h c 3",
    "HSETNX h a 9",
    "HSETNX h d 4",
    "HINCRBY h a 5",
    "HINCRBYFLOAT h a 1.5",
    "HDEL h nosuch",
    "HDEL h a b",
    "HDEL h c d",
    "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f",
    "ZADD z 1 a",
    "ZADD z XX CH 10 a",
    "ZADD z NX 10 a",
    "ZINCRBY z 1 b",
    "ZADD z INCR 1 c",
    "ZREM z a nosuch",
    "ZREM z nosuch",
    "ZREMRANGEBYSCORE z 0 3",
    "ZREMRANGEBYSCORE z 100 200",
    "ZREMRANGEBYRANK z 0 0",
    "ZPOPMIN z",
    "ZPOPMAX z",
    "ZPOPMIN z 5",
    "ZADD zl 0 a 0 b 0 c",
    "ZREMRANGEBYLEX zl [a [b",
    "ZREMRANGEBYLEX zl - +",
    "ZADD za 1 a 2 b",
    "ZADD zb 2 b 3 c",
    "ZUNIONSTORE zu 2 za zb",
    "ZINTERSTORE zu 2 za zb",
    "ZDIFFSTORE zu 2 za zb",
    "ZDIFFSTORE zu 2 za za",
    "ZRANGESTORE zr za 0 -1",
    "ZRANGESTORE zr za 5 10",
    "ZMPOP 1 za MIN COUNT 5",
    "BZPOPMIN zb 0",
    "BZPOPMAX zb 0",
    "ZADD zb 1 x",
    "BZMPOP 0 1 zb MIN",
    "RPUSH sl 3 1 2",
    "SORT sl STORE so",
    "SORT nolist STORE so",
    "SORT sl",
    "XADD st 1-1 f v",
    "XADD st MAXLEN 1 2-1 f v",
    "XADD nost NOMKSTREAM 1-1 f v",
    "XTRIM st MAXLEN 0",
    "XADD st 3-1 f v",
    "XDEL st 3-1 9-9",
    "XSETID st 10-1",
    "XGROUP CREATE st g $",
    "XGROUP CREATE st2 g $ MKSTREAM",
    "XGROUP SETID st g 0",
    "XGROUP CREATECONSUMER st g c1",
    "XGROUP CREATECONSUMER st g c1",
    "XADD st 11-1 f v",
    "XREADGROUP GROUP g c2 COUNT 1 STREAMS st >",
    "XCLAIM st g c3 0 11-1",
    "XAUTOCLAIM st g c4 0 0",
    "XGROUP DELCONSUMER st g c1",
    "XGROUP DESTROY st g",
    "PFADD hll a b c",
    "PFADD hll a",
    "PFADD hll2 x",
    "PFMERGE hll3 hll hll2",
    "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
    "GEOADD geo NX 13.361389 38.115556 Palermo",
    "GEOSEARCHSTORE gs geo FROMLONLAT 15 37 BYRADIUS 200 km ASC",
    "GEOSEARCHSTORE gs geo FROMLONLAT 0 0 BYRADIUS 1 km ASC",
    "GEORADIUS geo 15 37 200 km STORE gr",
    "GEORADIUS nogeo 15 37 200 km STORE gr",
    "SET lazy v PX 1",
    "!sleep 20",
    "GET lazy",
    "SET lazy2 v PX 1",
    "!sleep 20",
    "SET lazy2 new",
    "SELECT 3",
    "SET x 1",
    "DEL x",
    "SELECT 0",
    "SWAPDB 0 3",
    "SWAPDB 0 3",
    "FLUSHDB",
    "FLUSHALL",
];

/// Runs `EVENTS` on client 1 of each server while client 0 listens on
/// `__key*__:*` (and on `done`, which ends the capture); returns the messages and
/// replies of each server.
fn capture_events(s: &mut Both, flags: &str, resp3: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    let setup = [
        format!("1 CONFIG SET notify-keyspace-events {flags}"),
        "1 DEBUG SET-ACTIVE-EXPIRE 0".to_string(),
    ];
    let setup: Vec<&str> = setup.iter().map(String::as_str).collect();
    diffs.extend(s.run(&setup));
    if resp3 {
        diffs.extend(s.run(&["0~ HELLO 3"]));
    }
    diffs.extend(s.run(&["0> PSUBSCRIBE __key*__:*", "0<", "0> SUBSCRIBE done", "0<"]));
    for step in EVENTS {
        if let Some(rest) = step.strip_prefix("!dumprestore ") {
            let (src, dst) = rest.split_once(' ').expect("src dst");
            for c in [&mut s.a[1], &mut s.b[1]] {
                let dump = c.line(&format!("DUMP {src}"));
                // A bulk string: "$N\r\n<payload>\r\n".
                let start = dump.iter().position(|&b| b == b'\n').expect("header") + 1;
                let payload = dump[start..dump.len() - 2].to_vec();
                let r = c.cmd(&[
                    b"RESTORE".to_vec(),
                    dst.as_bytes().to_vec(),
                    b"0".to_vec(),
                    payload,
                ]);
                assert_eq!(r, b"+OK\r\n");
            }
            continue;
        }
        if step.starts_with('!') {
            diffs.extend(s.run(&[step]));
            continue;
        }
        diffs.extend(s.run(&[&format!("1 {step}")]));
    }
    diffs.extend(s.run(&["1 PUBLISH done end"]));
    // Every event, then the end marker: read both streams up to the marker.
    let events = |c: &mut RawClient| {
        let mut v = Vec::new();
        loop {
            let m = c.read();
            if String::from_utf8_lossy(&m).contains("$4\r\ndone\r\n") {
                break;
            }
            v.push(show(&m));
        }
        v
    };
    let ours = events(&mut s.a[0]);
    let real = events(&mut s.b[0]);
    for i in 0..ours.len().max(real.len()) {
        let (o, r) = (ours.get(i), real.get(i));
        if o != r {
            diffs.push(format!("event {i}:\n   ours: {o:?}\n   real: {r:?}"));
            break;
        }
    }
    assert!(real.len() > 60, "too few events: {}", real.len());
    diffs
}

#[test]
fn keyspace_events_in_order() {
    let Some(mut s) = Both::start(2, &["--enable-debug-command", "yes"]) else {
        return;
    };
    let diffs = capture_events(&mut s, "AKEn", false);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn keyspace_events_resp3_and_masks() {
    let Some(mut s) = Both::start(2, &["--enable-debug-command", "yes"]) else {
        return;
    };
    let diffs = capture_events(&mut s, "KEA", true);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // Only some classes, only keyevent.
    let Some(mut s) = Both::start(2, &["--enable-debug-command", "yes"]) else {
        return;
    };
    let diffs = capture_events(&mut s, "Elz$", false);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn key_miss_expired_evicted_events() {
    let Some(mut s) = Both::start(2, &["--enable-debug-command", "yes"]) else {
        return;
    };
    s.check(
        &[
            "1 CONFIG SET notify-keyspace-events KEmxe",
            "0> PSUBSCRIBE __key*__:*",
            "0<",
            "1 GET nokey",
            "0<2",
            "1 EXISTS nokey",
            "0<2",
            "1 HGET nokey f",
            "0<2",
            "1 SET k v",
            "1 GET k",
            "1 SET gone v PX 1",
            "!sleep 20",
            "1 GET gone",
            "0<4",
            // Active expiry.
            "1 SET act v PX 30",
            "0<2",
            // Eviction.
            "1 CONFIG SET maxmemory-policy allkeys-lru",
            "1 FLUSHALL",
            "1 SET foo bar",
            "1 CONFIG SET maxmemory 1",
            "0<2",
            "1 CONFIG SET maxmemory 0",
            "1 CONFIG SET notify-keyspace-events ''",
            "1 GET nokey",
            "1 PUBLISH __keyspace@0__:x probe",
            "0<",
        ],
        "keymiss, expired, evicted",
    );
}

#[test]
fn notify_config() {
    let Some(mut s) = Both::start(1, &[]) else {
        return;
    };
    let mut steps = Vec::new();
    for flags in [
        "KEA",
        "gKE",
        "$lshzxeKE",
        "KA",
        "EA",
        "A",
        "Kn",
        "Em",
        "AKEnmt",
        "d",
        "x",
        "",
        "KEAgz",
        "ELs",
    ] {
        steps.push(format!("0 CONFIG SET notify-keyspace-events '{flags}'"));
        steps.push("0 CONFIG GET notify-keyspace-events".to_string());
    }
    steps.push("0 CONFIG SET notify-keyspace-events KEQ".to_string());
    steps.push("0 CONFIG SET notify-keyspace-events K E".to_string());
    steps.push("0 CONFIG GET notify-keyspace-events".to_string());
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    s.check(&steps, "notify-keyspace-events");
}

#[test]
fn output_buffer_limit_disconnects_slow_subscriber() {
    let Some(mut s) = Both::start(2, &[]) else {
        return;
    };
    // A subscriber that never reads, a small hard limit: the publisher never
    // blocks, and the subscriber is disconnected on both servers.
    s.check(
        &[
            "1 CONFIG SET client-output-buffer-limit 'pubsub 100000 0 0'",
            "0> SUBSCRIBE c",
            "0<",
        ],
        "setup",
    );
    let big = "x".repeat(50_000);
    let mut counts = Vec::new();
    for c in [&mut s.a[1], &mut s.b[1]] {
        let mut receivers = Vec::new();
        for _ in 0..200 {
            receivers.push(c.cmd(&[b"PUBLISH".to_vec(), b"c".to_vec(), big.as_bytes().to_vec()]));
        }
        let mut n = 0;
        for _ in 0..50 {
            let r = c.line("PUBSUB NUMSUB c");
            if r.ends_with(b":0\r\n") {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            n += 1;
        }
        let info = String::from_utf8_lossy(&c.line("INFO stats")).into_owned();
        let disc = info
            .lines()
            .find(|l| l.starts_with("client_output_buffer_limit_disconnections"))
            .map(str::to_string);
        counts.push((n < 50, disc));
    }
    assert_eq!(counts[0], counts[1]);
    assert!(counts[0].0, "subscriber not disconnected");
}

/// Hash field expiry (Redis 7.4's commands, which Debian's 7.0 lacks): the events
/// as 7.4 names them, checked on our server alone.
#[test]
fn hash_field_expiry_events() {
    let ours = Server::start(&our_server(), &[]);
    let mut sub = RawClient::connect(ours.port);
    let mut c = RawClient::connect(ours.port);
    assert_eq!(
        c.line("CONFIG SET notify-keyspace-events Eghx"),
        b"+OK\r\n".to_vec()
    );
    sub.line("PSUBSCRIBE __keyevent@0__:*");
    for line in [
        "HSET h f1 v f2 v",
        "HEXPIRE h 100 FIELDS 1 f1",
        "HEXPIRE h 100 NX FIELDS 1 f1",
        "HPERSIST h FIELDS 1 f1",
        "HPERSIST h FIELDS 1 f1",
        "HPEXPIRE h 1 FIELDS 1 f2",
    ] {
        c.line(line);
    }
    std::thread::sleep(Duration::from_millis(20));
    for line in [
        "HGET h f2",
        "HSET h2 a 1 b 2",
        "HEXPIREAT h2 1 FIELDS 1 a",
        "HEXPIREAT h2 1 FIELDS 1 b",
        "HPEXPIRE h 1 FIELDS 1 f1",
    ] {
        c.line(line);
    }
    let expected = [
        ("hset", "h"),
        ("hexpire", "h"),
        ("hpersist", "h"),
        ("hexpire", "h"),
        ("hexpired", "h"),
        ("hset", "h2"),
        ("hdel", "h2"),
        ("hdel", "h2"),
        ("del", "h2"),
        ("hexpire", "h"),
        // The cron's field expiry empties h.
        ("hexpired", "h"),
        ("del", "h"),
    ];
    for (event, key) in expected {
        let m = sub.read();
        let want = format!(
            "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n${}\r\n__keyevent@0__:{event}\r\n${}\r\n{key}\r\n",
            15 + event.len(),
            key.len()
        );
        assert_eq!(show(&m), show(want.as_bytes()));
    }
}
