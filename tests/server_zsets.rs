//! Sorted set commands: the same requests to our server and to Debian's
//! redis-server 7.0.15, reply bytes compared (errors included), in RESP2 and RESP3,
//! OBJECT ENCODING after conversions, DEBUG OBJECT's serializedlength, and seeded
//! random sequences compared reply by reply plus DEBUG DIGEST-VALUE of every key.

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

/// End (exclusive) of the line starting at `pos`, past its CRLF.
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
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = header.parse().ok()?;
            let items = if t == b'%' || t == b'|' { 2 * n } else { n };
            let mut p = end;
            for _ in 0..items.max(0) {
                p = reply_end(buf, p)?;
            }
            // An attribute is followed by the reply it describes.
            if t == b'|' {
                p = reply_end(buf, p)?;
            }
            Some(p)
        }
        _ => panic!(
            "bad reply type byte {t:?} in {:?}",
            String::from_utf8_lossy(buf)
        ),
    }
}

impl RawClient {
    fn connect(port: u16) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        RawClient {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, args: &[Vec<u8>]) {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.stream.write_all(&out).expect("write");
    }

    fn read(&mut self) -> Vec<u8> {
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

    fn cmd(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        self.send(args);
        self.read()
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
    /// Starts both servers, or `None` when the real one is not installed.
    fn start(extra: &[&str]) -> Option<Pair> {
        let real_bin = real_server()?;
        let ours = Server::start(&our_server(), extra);
        let real = Server::start(&real_bin, extra);
        let a = RawClient::connect(ours.port);
        let b = RawClient::connect(real.port);
        Some(Pair {
            _ours: ours,
            _real: real,
            a,
            b,
        })
    }

    /// Switches both connections to RESP3. False if our server cannot (HELLO is
    /// not there yet in this build).
    fn hello3(&mut self) -> bool {
        let hello = args("HELLO 3");
        let ra = self.a.cmd(&hello);
        let rb = self.b.cmd(&hello);
        assert!(rb.starts_with(b"%"), "real HELLO 3: {}", show(&rb));
        if ra.starts_with(b"-ERR unknown command") {
            return false;
        }
        assert!(ra.starts_with(b"%"), "our HELLO 3: {}", show(&ra));
        true
    }

    /// Sends `cmd` to both and returns the two replies.
    fn both(&mut self, cmd: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
        (self.a.cmd(cmd), self.b.cmd(cmd))
    }

    /// Runs scenarios (lists of lines; `!sleep MS` pauses) and returns every
    /// difference. A scenario using a command our server does not have yet (from
    /// another area: lists, TTL...) is skipped and named in `skipped`.
    fn run(&mut self, scenarios: &[&[&str]], skipped: &mut Vec<String>) -> Vec<String> {
        let mut diffs = Vec::new();
        for sc in scenarios {
            self.both(&args("FLUSHALL"));
            for line in sc.iter() {
                if let Some(ms) = line.strip_prefix("!sleep ") {
                    std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
                    continue;
                }
                let cmd = args(line);
                let (ra, rb) = self.both(&cmd);
                if ra.starts_with(b"-ERR unknown command") && !rb.starts_with(b"-ERR unknown") {
                    skipped.push(format!("{line:?} (in scenario {:?})", sc[0]));
                    break;
                }
                if ra != rb {
                    diffs.push(format!(
                        "{line:?}\n   ours: {}\n   real: {}",
                        show(&ra),
                        show(&rb)
                    ));
                }
            }
        }
        diffs
    }
}

/// Scenarios covering every sorted set command, its options and its errors.
const SCENARIOS: &[&[&str]] = &[
    // ZADD options and errors.
    &[
        "ZADD z 1 a 2 b 3 c",
        "ZADD z 1 a",
        "ZADD z CH 5 a 2 b",
        "ZADD z NX 10 a 10 d",
        "ZADD z XX 11 a 11 e",
        "ZADD z XX CH 12 a",
        "ZADD z GT 1 a",
        "ZADD z GT CH 100 a",
        "ZADD z LT CH 1 a",
        "ZADD z LT 50 a",
        "ZADD z GT LT 1 a",
        "ZADD z NX GT 1 a",
        "ZADD z NX LT 1 a",
        "ZADD z NX XX 1 a",
        "ZADD z XX NX GT 1 a",
        "ZADD z INCR 1 a 2 b",
        "ZADD z INCR 2.5 a",
        "ZADD z INCR NX 2.5 a",
        "ZADD z INCR XX 2.5 nosuch",
        "ZADD z INCR GT -100 a",
        "ZADD z INCR LT -100 a",
        "ZADD z 1",
        "ZADD z",
        "ZADD z 1 a 2",
        "ZADD z abc a",
        "ZADD z nan a",
        "ZADD z 1e400 a",
        "ZADD z 1e-400 a",
        "ZADD z ' 1' a",
        "ZADD z 0x10 hex",
        "ZADD z +inf pinf -inf ninf",
        "ZINCRBY z -inf pinf",
        "ZINCRBY z +inf pinf",
        "ZADD z INCR -inf pinf",
        "ZINCRBY z 1 newone",
        "ZINCRBY z abc a",
        "ZINCRBY z 1.5 a",
        "ZINCRBY nokey 3 m",
        "ZADD z -0 negzero",
        "ZSCORE z negzero",
        "ZADD xxkey XX 1 a",
        "EXISTS xxkey",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZCARD z",
        "ZCARD nokey",
        "SET str x",
        "ZADD str 1 a",
        "ZCARD str",
        "ZSCORE str a",
        "ZADD z 0.1 p1 1.7976931348623157e308 big 5e-324 tiny 123456789012345678 huge",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZSCORE z p1",
        "ZSCORE z nosuch",
        "ZSCORE nokey a",
        "ZMSCORE z a nosuch p1",
        "ZMSCORE nokey a b",
        "ZMSCORE str a",
    ],
    // Number forms: C's strtod for scores and range bounds.
    &[
        "ZADD z 1 a 2 b 3 c 0.5 h -2.5 n 1e3 e",
        "ZADD z .5 p1 5. p2 +7 p3 0X1P3 p4 -0x.8p1 p5 infinity p6 -Infinity p7 INF p8",
        "ZADD z 1e p",
        "ZADD z 1e+ p",
        "ZADD z 0x p",
        "ZADD z 0x1p p",
        "ZADD z -nan p",
        "ZADD z 1_0 p",
        "ZADD z '1\x00' p",
        "ZADD z 4.9e-324 sub 2.2250738585072014e-308 norm",
        "ZADD z 1e-320 sub2",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZCOUNT z ( (",
        "ZCOUNT z ' 1' ' 3'",
        "ZCOUNT z '1 ' 3",
        "ZCOUNT z (-inf (+inf",
        "ZCOUNT z -infinity infinity",
        "ZCOUNT z 0x1 0x2",
        "ZCOUNT z (nan 1",
        "ZCOUNT z 1e400 1e500",
        "ZCOUNT z -1e400 1e-400",
        "ZCOUNT z '(' 1",
        "ZCOUNT z '' ''",
        "ZRANGEBYSCORE z '(1\x00abc' 3",
        "ZRANGEBYSCORE z ' (1' 3",
        "ZRANGEBYSCORE z +1 +3 WITHSCORES",
        "ZINCRBY z 1e308 e",
        "ZINCRBY z 1e308 e",
        "ZSCORE z e",
        "ZINCRBY z -inf e",
        "ZINCRBY z .25 h",
        "ZINCRBY z 0x10 h",
        "ZUNION 1 z WEIGHTS 0x2 WITHSCORES",
        "ZUNION 1 z WEIGHTS nan",
        "ZUNION 1 z WEIGHTS '1 '",
        "ZUNION 2 z z WEIGHTS inf -inf WITHSCORES",
        "ZINTER 2 z z WEIGHTS inf -inf AGGREGATE MIN WITHSCORES",
        "ZLEXCOUNT z [ (",
        "ZLEXCOUNT z '[\x00' +",
        "ZLEXCOUNT z '+\x00' -",
        "ZLEXCOUNT z ++ -",
        "ZLEXCOUNT z - --",
    ],
    // Which error wins: arguments before the type, or the type first, as in Redis.
    &[
        "SET str x",
        "ZADD str abc a",
        "ZADD str NX XX 1 a",
        "ZADD str INCR 1 a 2 b",
        "ZINCRBY str abc a",
        "ZRANGE str a b",
        "ZRANGE str 0 1 LIMIT 0 1",
        "ZRANGE str (1 2 BYSCORE LIMIT x 1",
        "ZRANGESTORE dst str a b",
        "ZREMRANGEBYSCORE str x 1",
        "ZREMRANGEBYRANK str x 1",
        "ZREMRANGEBYLEX str x +",
        "ZCOUNT str x 1",
        "ZLEXCOUNT str x +",
        "ZPOPMIN str x",
        "ZPOPMIN str 1 2",
        "ZMPOP 1 str FOO",
        "ZMPOP 1 str MIN COUNT 0",
        "ZRANDMEMBER str x",
        "ZRANDMEMBER str 1 FOO",
        "ZSCAN str x",
        "ZSCAN str 0 COUNT 0",
        "ZINTERCARD 1 str LIMIT -1",
        "ZUNION 1 str WEIGHTS x",
        "ZUNION 1 str AGGREGATE foo",
        "ZUNIONSTORE dst 2 str",
        "ZDIFF 1 str WITHSCORES",
        "ZMSCORE str a",
    ],
    // ZREM, ZRANK, ZCOUNT, ZLEXCOUNT.
    &[
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZRANK z a",
        "ZRANK z e",
        "ZREVRANK z a",
        "ZRANK z nosuch",
        "ZRANK nokey a",
        "ZCOUNT z 2 4",
        "ZCOUNT z (2 4",
        "ZCOUNT z (2 (4",
        "ZCOUNT z -inf +inf",
        "ZCOUNT z 4 2",
        "ZCOUNT z (3 (3",
        "ZCOUNT z x 2",
        "ZCOUNT z 1 (x",
        "ZCOUNT z '' (",
        "ZCOUNT nokey 1 2",
        "ZREM z a nosuch b",
        "ZREM z nosuch",
        "ZREM nokey a",
        "ZREM z c d e",
        "EXISTS z",
        "ZADD l 0 a 0 b 0 c 0 d 0 e",
        "ZLEXCOUNT l - +",
        "ZLEXCOUNT l [b [d",
        "ZLEXCOUNT l (b (d",
        "ZLEXCOUNT l + -",
        "ZLEXCOUNT l b d",
        "ZLEXCOUNT l [b x",
        "ZLEXCOUNT nokey - +",
        "ZLEXCOUNT str - +",
        "SET str x",
        "ZRANK str a",
        "ZREM str a",
        "ZCOUNT str 1 2",
    ],
    // ZRANGE and friends.
    &[
        "ZADD z 1 a 2 b 3 c 4 d 5 e 5 f",
        "ZRANGE z 0 -1",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZRANGE z 1 3 REV WITHSCORES",
        "ZRANGE z -2 -1",
        "ZRANGE z 5 1",
        "ZRANGE z 10 20",
        "ZRANGE z -100 100",
        "ZRANGE z 0 -1 LIMIT 0 1",
        "ZRANGE z (1 5 BYSCORE",
        "ZRANGE z (1 5 BYSCORE LIMIT 1 2 WITHSCORES",
        "ZRANGE z 5 (1 BYSCORE REV LIMIT 1 2 WITHSCORES",
        "ZRANGE z 5 1 BYSCORE REV",
        "ZRANGE z 1 5 BYSCORE LIMIT -1 2",
        "ZRANGE z 1 5 BYSCORE LIMIT 0 -1",
        "ZRANGE z 1 5 BYSCORE LIMIT 0 0",
        "ZRANGE z 1 5 BYSCORE LIMIT 10 1",
        "ZRANGE z [a [c BYLEX",
        "ZRANGE z [a [c BYLEX WITHSCORES",
        "ZRANGE z 0 1 BYLEX BYSCORE",
        "ZRANGE z 0 1 REV REV",
        "ZRANGE z 0 1 LIMIT 1",
        "ZRANGE z 0 1 LIMIT a 1",
        "ZRANGE z a 1",
        "ZRANGE z 0 1 foo",
        "ZRANGE nokey 0 -1",
        "ZRANGE nokey a b BYSCORE",
        "ZREVRANGE z 0 2 WITHSCORES",
        "ZREVRANGE z 0 2 REV",
        "ZREVRANGE z 0 2 LIMIT 0 1",
        "ZRANGEBYSCORE z -inf +inf",
        "ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 2 3",
        "ZRANGEBYSCORE z (2 (5",
        "ZRANGEBYSCORE z 2 1",
        "ZRANGEBYSCORE z x 1",
        "ZRANGEBYSCORE z 1 2 BYSCORE",
        "ZREVRANGEBYSCORE z +inf -inf WITHSCORES",
        "ZREVRANGEBYSCORE z 5 (2 LIMIT 1 10",
        "ZREVRANGEBYSCORE z 1 5",
        "DEL z",
        "ZADD z 0 a 0 b 0 c 0 d 0 e 0 f 0 g",
        "ZRANGEBYLEX z - +",
        "ZRANGEBYLEX z [b (e",
        "ZRANGEBYLEX z (b [e LIMIT 1 2",
        "ZRANGEBYLEX z - + WITHSCORES",
        "ZRANGEBYLEX z a b",
        "ZRANGEBYLEX z +x -",
        "ZREVRANGEBYLEX z + -",
        "ZREVRANGEBYLEX z [e (b",
        "ZREVRANGEBYLEX z + - LIMIT 2 2",
        "ZRANGE z [e (b BYLEX REV",
        "ZRANGE z + - BYLEX REV LIMIT 1 1",
        "SET str x",
        "ZRANGE str 0 -1",
        "ZRANGEBYLEX str - +",
        "ZRANGEBYSCORE str 0 1",
    ],
    // ZRANGESTORE.
    &[
        "ZADD z 1 a 2 b 3 c 4 d",
        "ZRANGESTORE dst z 0 -1",
        "ZRANGE dst 0 -1 WITHSCORES",
        "OBJECT ENCODING dst",
        "ZRANGESTORE dst z 1 3 BYSCORE REV",
        "ZRANGESTORE dst z 3 1 BYSCORE REV LIMIT 0 1",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZRANGESTORE dst z [a [b BYLEX",
        "ZRANGESTORE dst z 0 -1 WITHSCORES",
        "ZRANGESTORE dst z 5 10",
        "EXISTS dst",
        "ZRANGESTORE dst nokey 0 -1",
        "SET str x",
        "ZRANGESTORE str z 0 0",
        "TYPE str",
        "ZRANGESTORE dst str 0 -1",
        "ZRANGESTORE z z 1 2",
        "ZRANGE z 0 -1 WITHSCORES",
    ],
    // ZREMRANGEBY*.
    &[
        "ZADD z 1 a 2 b 3 c 4 d 5 e 6 f",
        "ZREMRANGEBYRANK z 0 0",
        "ZREMRANGEBYRANK z -1 -1",
        "ZREMRANGEBYRANK z 5 1",
        "ZREMRANGEBYRANK z a 1",
        "ZREMRANGEBYSCORE z (2 3",
        "ZREMRANGEBYSCORE z x 3",
        "ZREMRANGEBYLEX z - +",
        "ZREMRANGEBYLEX z x +",
        "EXISTS z",
        "ZREMRANGEBYRANK nokey 0 1",
        "ZREMRANGEBYSCORE nokey 0 1",
        "ZREMRANGEBYLEX nokey - +",
        "SET str x",
        "ZREMRANGEBYRANK str 0 1",
        "ZREMRANGEBYSCORE str 0 1",
        "ZREMRANGEBYLEX str - +",
    ],
    // Set operations.
    &[
        "ZADD z1 1 a 2 b 3 c",
        "ZADD z2 1 b 2 c 3 d",
        "ZADD z3 +inf a -inf b",
        "ZUNION 2 z1 z2",
        "ZUNION 2 z1 z2 WITHSCORES",
        "ZUNION 2 z1 z2 WEIGHTS 2 3 WITHSCORES",
        "ZUNION 2 z1 z2 AGGREGATE MIN WITHSCORES",
        "ZUNION 2 z1 z2 AGGREGATE MAX WITHSCORES",
        "ZUNION 3 z1 z2 z3 WITHSCORES",
        "ZUNION 2 z1 z3 WEIGHTS 0 0 WITHSCORES",
        "ZUNION 2 z3 z3 WEIGHTS 1 -1 WITHSCORES",
        "ZINTER 2 z1 z2 WITHSCORES",
        "ZINTER 2 z1 z2 WEIGHTS 1 0.5 AGGREGATE MAX WITHSCORES",
        "ZINTER 2 z1 nokey",
        "ZDIFF 2 z1 z2 WITHSCORES",
        "ZDIFF 1 z1",
        "ZDIFF 2 z1 z2 WEIGHTS 1 1",
        "ZDIFF 2 z1 z2 AGGREGATE SUM",
        "ZUNION 0 z1",
        "ZUNION -1 z1",
        "ZUNION 3 z1 z2",
        "ZUNION a z1",
        "ZUNION 2 z1 z2 WEIGHTS 1",
        "ZUNION 2 z1 z2 WEIGHTS 1 x",
        "ZUNION 2 z1 z2 AGGREGATE foo",
        "ZUNION 2 z1 z2 AGGREGATE",
        "ZUNION 2 z1 z2 foo",
        "ZUNIONSTORE dst 2 z1 z2",
        "ZRANGE dst 0 -1 WITHSCORES",
        "OBJECT ENCODING dst",
        "ZUNIONSTORE dst 2 z1 z2 WITHSCORES",
        "ZINTERSTORE dst 2 z1 z2 WEIGHTS 2 2",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZDIFFSTORE dst 2 z1 z2",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZINTERSTORE dst 2 z1 nokey",
        "EXISTS dst",
        "ZDIFFSTORE dst 0 z1",
        "ZINTERCARD 2 z1 z2",
        "ZINTERCARD 2 z1 z2 LIMIT 1",
        "ZINTERCARD 2 z1 z2 LIMIT 0",
        "ZINTERCARD 2 z1 z2 LIMIT -1",
        "ZINTERCARD 2 z1 z2 LIMIT x",
        "ZINTERCARD 0 z1",
        "ZINTERCARD 2 z1 z2 WITHSCORES",
        "SET str x",
        "ZUNION 2 z1 str",
        "ZUNIONSTORE dst 2 z1 str",
        "ZINTERCARD 2 str z1",
        "ZUNION 2 str z1 foo",
    ],
    // Pops.
    &[
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZPOPMIN z",
        "ZPOPMAX z",
        "ZPOPMIN z 2",
        "ZPOPMIN z 0",
        "ZPOPMIN z -1",
        "ZPOPMIN z x",
        "ZPOPMIN z 1 2",
        "ZPOPMAX z 10",
        "EXISTS z",
        "ZPOPMIN nokey",
        "ZPOPMIN nokey 2",
        "ZPOPMIN nokey 0",
        "ZADD z 1 a 2 b 3 c 4 d 5 e",
        "ZADD y 1 x",
        "ZMPOP 1 z MIN",
        "ZMPOP 2 nokey z MAX COUNT 2",
        "ZMPOP 2 nokey nokey2 MIN",
        "ZMPOP 2 y z MIN COUNT 10",
        "ZMPOP 0 z MIN",
        "ZMPOP -1 z MIN",
        "ZMPOP 1 z",
        "ZMPOP 1 z FOO",
        "ZMPOP 1 z MIN COUNT 0",
        "ZMPOP 1 z MIN COUNT -1",
        "ZMPOP 1 z MIN COUNT 1 COUNT 1",
        "ZMPOP 1 z MIN COUNT",
        "ZMPOP 5 z MIN",
        "SET str x",
        "ZPOPMIN str",
        "ZMPOP 2 nokey str MIN",
    ],
    // ZRANDMEMBER (deterministic shapes only) and ZSCAN.
    &[
        "ZADD z 1 a",
        "ZRANDMEMBER z",
        "ZRANDMEMBER z 1",
        "ZRANDMEMBER z 1 WITHSCORES",
        "ZRANDMEMBER z -3",
        "ZRANDMEMBER z -2 WITHSCORES",
        "ZRANDMEMBER z 5 WITHSCORES",
        "ZRANDMEMBER z 0",
        "ZRANDMEMBER z 0 WITHSCORES",
        "ZRANDMEMBER z 1 FOO",
        "ZRANDMEMBER z 1 WITHSCORES X",
        "ZRANDMEMBER z x",
        "ZRANDMEMBER z -9223372036854775808",
        "ZRANDMEMBER z 9223372036854775807 WITHSCORES",
        "ZRANDMEMBER z -9223372036854775807 WITHSCORES",
        "ZRANDMEMBER nokey",
        "ZRANDMEMBER nokey 5",
        "ZADD z 2.5 b 3 c",
        "ZRANDMEMBER z 3 WITHSCORES",
        "ZRANDMEMBER z 30",
        "SET str x",
        "ZRANDMEMBER str",
        "ZRANDMEMBER str 2",
    ],
    // Lex ranges over members of different scores in a listpack: Redis's scans from
    // either end decide the answer.
    &[
        "ZADD m 1 b 2 a 3 d 0 c 5 e 4 g 6 f",
        "ZRANGE m 0 -1",
        "ZRANGEBYLEX m - +",
        "ZRANGEBYLEX m [b [e",
        "ZRANGEBYLEX m (a (f",
        "ZRANGEBYLEX m [b [e LIMIT 1 2",
        "ZREVRANGEBYLEX m [e [b",
        "ZREVRANGEBYLEX m (f (a LIMIT 1 5",
        "ZREVRANGEBYLEX m + - LIMIT 2 1",
        "ZRANGE m [c [f BYLEX",
        "ZRANGE m [f [c BYLEX REV",
        "ZLEXCOUNT m [b [e",
        "ZLEXCOUNT m (a +",
        "ZLEXCOUNT m - [c",
        "ZLEXCOUNT m [d [c",
        "ZRANGESTORE dst m [b [e BYLEX",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZREMRANGEBYLEX m [c [e",
        "ZRANGE m 0 -1",
        "ZREMRANGEBYLEX m (a +",
        "ZRANGE m 0 -1",
    ],
    // ZSCAN (the order of a hashtable scan is the hash seed's: only small sets here).
    &[
        "ZADD z 1 a 2.5 b 3 c",
        "ZSCAN z 0",
        "ZSCAN z 0 MATCH a*",
        "ZSCAN z 0 COUNT 0",
        "ZSCAN z 0 COUNT x",
        "ZSCAN z 0 FOO bar",
        "ZSCAN z x",
        "ZSCAN nokey 0",
        "ZSCAN nokey 0 FOO",
        "SET str x",
        "ZSCAN str 0",
    ],
    // Encodings and conversions.
    &[
        "CONFIG SET zset-max-listpack-entries 4",
        "CONFIG SET zset-max-listpack-value 8",
        "ZADD z 1 a 2 b 3 c 4 d",
        "OBJECT ENCODING z",
        "ZADD z 5 e",
        "OBJECT ENCODING z",
        "ZRANGE z 0 -1 WITHSCORES",
        "ZREM z a b c d",
        "OBJECT ENCODING z",
        "ZADD y 1 aaaaaaaaa",
        "OBJECT ENCODING y",
        "ZADD x 1 aaaaaaaa",
        "OBJECT ENCODING x",
        "ZADD x 1 bbbbbbbbbb",
        "OBJECT ENCODING x",
        "ZUNIONSTORE u 1 z",
        "OBJECT ENCODING u",
        "ZUNIONSTORE u 2 x y",
        "OBJECT ENCODING u",
        "ZRANGESTORE r x 0 0",
        "OBJECT ENCODING r",
        "ZRANGESTORE r x 0 -1",
        "OBJECT ENCODING r",
        "CONFIG SET zset-max-listpack-entries 0",
        "ZADD w 1 a",
        "OBJECT ENCODING w",
        "ZRANGESTORE r2 w 0 -1",
        "OBJECT ENCODING r2",
        "CONFIG SET zset-max-listpack-entries 128",
        "CONFIG SET zset-max-listpack-value 64",
        "COPY x xc",
        "ZRANGE xc 0 -1 WITHSCORES",
        "OBJECT ENCODING xc",
        "TYPE xc",
        "RENAME xc xd",
        "ZRANGE xd 0 -1",
    ],
];

fn check(pair: &mut Pair, scenarios: &[&[&str]], what: &str) {
    let mut skipped = Vec::new();
    let diffs = pair.run(scenarios, &mut skipped);
    for s in &skipped {
        eprintln!("{what}: skipped, our server lacks a command used: {s}");
    }
    assert!(
        diffs.is_empty(),
        "{what}: {} different replies:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

fn s(x: &str) -> Vec<u8> {
    x.as_bytes().to_vec()
}

fn random_score(rng: &mut fastrand::Rng) -> String {
    match rng.u8(0..8) {
        0 => format!("{}", rng.i32(-5..5)),
        1 => format!("{}.{}", rng.i32(-5..5), rng.u32(0..100)),
        2 => format!("({}", rng.i32(-5..5)),
        3 => ["+inf", "-inf", "inf", "(1.5", "0.1", "abc", "1e300", "-0"][rng.usize(0..8)].into(),
        _ => format!("{}", rng.i32(0..10)),
    }
}

fn random_lex(rng: &mut fastrand::Rng) -> String {
    match rng.u8(0..6) {
        0 => "-".into(),
        1 => "+".into(),
        2 => format!("[m{}", rng.u8(0..30)),
        3 => format!("(m{}", rng.u8(0..30)),
        4 => format!("[{}", rng.u8(0..30)),
        _ => "x".into(),
    }
}

fn random_member(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u8(0..10) {
        0 => rng.u8(0..30).to_string().into_bytes(),
        1 => vec![b'x'; rng.usize(60..80)],
        2 => rng.i64(..).to_string().into_bytes(),
        _ => format!("m{}", rng.u8(0..30)).into_bytes(),
    }
}

/// One random sorted set command over keys z0..z3. z3 only ever holds members with
/// score 0 (lex ranges are only defined for such sets): score-changing commands and
/// stores never target it.
fn random_command(rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let key = |rng: &mut fastrand::Rng| format!("z{}", rng.u8(0..4)).into_bytes();
    let scored = |rng: &mut fastrand::Rng| format!("z{}", rng.u8(0..3)).into_bytes();
    let lexkey = |_: &mut fastrand::Rng| s("z3");
    let k = key(rng);
    match rng.u8(0..26) {
        0..=5 => {
            let mut c = vec![s("ZADD"), k.clone()];
            for o in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                if rng.u8(0..8) == 0 && (k != b"z3" || o != "INCR") {
                    c.push(s(o));
                }
            }
            for _ in 0..rng.usize(1..6) {
                c.push(if k == b"z3" {
                    s("0")
                } else {
                    s(&random_score(rng).replace('(', ""))
                });
                c.push(random_member(rng));
            }
            c
        }
        6 => vec![
            s("ZINCRBY"),
            scored(rng),
            s(&random_score(rng).replace('(', "")),
            random_member(rng),
        ],
        7 => {
            let mut c = vec![s("ZREM"), k];
            for _ in 0..rng.usize(1..4) {
                c.push(random_member(rng));
            }
            c
        }
        8 => vec![
            s(if rng.bool() { "ZRANK" } else { "ZREVRANK" }),
            k,
            random_member(rng),
        ],
        9 => vec![s("ZCOUNT"), k, s(&random_score(rng)), s(&random_score(rng))],
        10 => vec![
            s("ZLEXCOUNT"),
            s("z3"),
            s(&random_lex(rng)),
            s(&random_lex(rng)),
        ],
        11 | 12 => {
            let mut c = vec![s("ZRANGE"), k.clone()];
            match rng.u8(0..3) {
                0 => {
                    c.push(s(&rng.i32(-8..8).to_string()));
                    c.push(s(&rng.i32(-8..8).to_string()));
                }
                1 => {
                    c.push(s(&random_score(rng)));
                    c.push(s(&random_score(rng)));
                    c.push(s("BYSCORE"));
                }
                _ => {
                    c[1] = lexkey(rng);
                    c.push(s(&random_lex(rng)));
                    c.push(s(&random_lex(rng)));
                    c.push(s("BYLEX"));
                }
            }
            if rng.bool() {
                c.push(s("REV"));
            }
            if rng.u8(0..3) == 0 {
                c.push(s("LIMIT"));
                c.push(s(&rng.i32(-1..4).to_string()));
                c.push(s(&rng.i32(-1..4).to_string()));
            }
            if rng.bool() {
                c.push(s("WITHSCORES"));
            }
            c
        }
        13 => vec![
            s("ZREMRANGEBYRANK"),
            k,
            s(&rng.i32(-5..5).to_string()),
            s(&rng.i32(-5..5).to_string()),
        ],
        14 => vec![
            s("ZREMRANGEBYSCORE"),
            k,
            s(&random_score(rng)),
            s(&random_score(rng)),
        ],
        15 => vec![
            s("ZREMRANGEBYLEX"),
            s("z3"),
            s(&random_lex(rng)),
            s(&random_lex(rng)),
        ],
        16 | 17 => {
            let op = [
                "ZUNION",
                "ZINTER",
                "ZDIFF",
                "ZUNIONSTORE",
                "ZINTERSTORE",
                "ZDIFFSTORE",
                "ZINTERCARD",
            ][rng.usize(0..7)];
            let mut c = vec![s(op)];
            if op.ends_with("STORE") {
                c.push(scored(rng));
            }
            let n = rng.usize(1..4);
            c.push(s(&n.to_string()));
            for _ in 0..n {
                c.push(key(rng));
            }
            if !op.starts_with("ZDIFF") && op != "ZINTERCARD" {
                if rng.bool() {
                    c.push(s("WEIGHTS"));
                    for _ in 0..n {
                        c.push(s(&random_score(rng).replace('(', "")));
                    }
                }
                if rng.bool() {
                    c.push(s("AGGREGATE"));
                    c.push(s(["SUM", "MIN", "MAX"][rng.usize(0..3)]));
                }
            }
            if !op.ends_with("STORE") && op != "ZINTERCARD" && rng.bool() {
                c.push(s("WITHSCORES"));
            }
            c
        }
        18 => {
            let mut c = vec![s(if rng.bool() { "ZPOPMIN" } else { "ZPOPMAX" }), k];
            if rng.bool() {
                c.push(s(&rng.i32(0..4).to_string()));
            }
            c
        }
        19 => {
            let mut c = vec![
                s("ZMPOP"),
                s("2"),
                k,
                key(rng),
                s(if rng.bool() { "MIN" } else { "MAX" }),
            ];
            if rng.bool() {
                c.push(s("COUNT"));
                c.push(s(&rng.i32(1..4).to_string()));
            }
            c
        }
        20 => vec![s("ZSCORE"), k, random_member(rng)],
        21 => vec![s("ZMSCORE"), k, random_member(rng), random_member(rng)],
        22 => vec![s("ZCARD"), k],
        23 => vec![
            s("ZRANGESTORE"),
            scored(rng),
            k,
            s("0"),
            s(&rng.i32(-3..5).to_string()),
        ],
        24 => vec![s("OBJECT"), s("ENCODING"), k],
        _ => vec![s("ZRANGE"), k, s("0"), s("-1"), s("WITHSCORES")],
    }
}

/// Runs 3,000 random commands per seed on both servers (pipelined in batches) and
/// compares every reply, then the digests of the keys.
fn random_sequences(pair: &mut Pair, seeds: &[u64], entries: &str) {
    for &seed in seeds {
        let mut rng = fastrand::Rng::with_seed(seed);
        pair.both(&args("FLUSHALL"));
        let cfg = args(&format!("CONFIG SET zset-max-listpack-entries {entries}"));
        pair.both(&cfg);
        for _batch in 0..30 {
            let cmds: Vec<Vec<Vec<u8>>> = (0..100).map(|_| random_command(&mut rng)).collect();
            for c in &cmds {
                pair.a.send(c);
                pair.b.send(c);
            }
            for c in &cmds {
                let (ra, rb) = (pair.a.read(), pair.b.read());
                assert_eq!(
                    show(&ra),
                    show(&rb),
                    "seed {seed}: different replies for {:?}",
                    c.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                );
            }
        }
        for i in 0..4 {
            for cmd in [
                format!("DEBUG DIGEST-VALUE z{i}"),
                format!("OBJECT ENCODING z{i}"),
                format!("ZRANGE z{i} 0 -1 WITHSCORES"),
            ] {
                let (ra, rb) = pair.both(&args(&cmd));
                assert_eq!(show(&ra), show(&rb), "seed {seed}: {cmd}");
            }
        }
        // The changes counted as Redis counts server.dirty.
        let (ia, ib) = pair.both(&args("INFO persistence"));
        let dirty = |r: &[u8]| {
            String::from_utf8_lossy(r)
                .lines()
                .find(|l| l.starts_with("rdb_changes_since_last_save:"))
                .map(str::to_string)
        };
        assert_eq!(dirty(&ia), dirty(&ib), "seed {seed}: dirty count");
        pair.both(&args("CONFIG SET zset-max-listpack-entries 128"));
    }
}

#[test]
fn zset_commands_resp2() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    check(&mut pair, SCENARIOS, "RESP2 zsets");
}

#[test]
fn zset_commands_resp3() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    assert!(pair.hello3());
    check(&mut pair, SCENARIOS, "RESP3 zsets");
}

#[test]
fn zset_commands_skiplist_encoding() {
    let Some(mut pair) = Pair::start(&["--zset-max-listpack-entries", "0"]) else {
        return;
    };
    // Everything but the mixed-score lex ranges (a skiplist answers those by its
    // random tower heights), ZSCAN, and the encoding scenario, which sets the
    // thresholds itself.
    let n = SCENARIOS.len() - 3;
    check(&mut pair, &SCENARIOS[..n], "RESP2 zsets, skiplist");
    assert!(pair.hello3());
    check(&mut pair, &SCENARIOS[..n], "RESP3 zsets, skiplist");
}

#[test]
fn wrong_arity() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    let lines: &[&str] = &[
        "ZADD z",
        "ZINCRBY z 1",
        "ZREM z",
        "ZCARD",
        "ZSCORE z",
        "ZMSCORE z",
        "ZRANK z",
        "ZREVRANK z a b",
        "ZCOUNT z 1",
        "ZLEXCOUNT z -",
        "ZRANGE z 0",
        "ZRANGESTORE d z 0",
        "ZREVRANGE z 0",
        "ZRANGEBYSCORE z 0",
        "ZREVRANGEBYSCORE z 0",
        "ZRANGEBYLEX z -",
        "ZREVRANGEBYLEX z +",
        "ZREMRANGEBYRANK z 0",
        "ZREMRANGEBYSCORE z 0",
        "ZREMRANGEBYLEX z -",
        "ZUNION 1",
        "ZINTER",
        "ZDIFF 1",
        "ZUNIONSTORE d 1",
        "ZINTERSTORE d",
        "ZDIFFSTORE d 1",
        "ZINTERCARD 1",
        "ZPOPMIN",
        "ZPOPMAX",
        "ZMPOP 1 z",
        "ZRANDMEMBER",
        "ZSCAN z",
    ];
    check(&mut pair, &[lines], "arity");
}

#[test]
fn serialized_lengths_match() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let setup: &[&str] = &[
        "ZADD small 1 a 2.5 b -3 c 1000000 d 0.1 e",
        "ZADD ints 1 1 2 2 3 300 4 70000 5 -5",
        "ZADD long 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    ];
    for l in setup {
        pair.both(&args(l));
    }
    let mut big = vec![s("ZADD"), s("big")];
    for i in 0..300 {
        big.push(s(&format!("{}.5", i)));
        big.push(s(&format!("member:{i}")));
    }
    pair.both(&big);
    for k in ["small", "ints", "long", "big"] {
        let (ra, rb) = pair.both(&args(&format!("DEBUG OBJECT {k}")));
        let field = |r: &[u8]| {
            String::from_utf8_lossy(r)
                .split(' ')
                .find(|w| w.starts_with("serializedlength:") || w.starts_with("encoding:"))
                .map(str::to_string)
        };
        let len = |r: &[u8]| {
            String::from_utf8_lossy(r)
                .split(' ')
                .find(|w| w.starts_with("serializedlength:"))
                .map(str::to_string)
        };
        assert_eq!(field(&ra), field(&rb), "{k}");
        assert_eq!(len(&ra), len(&rb), "{k}: {} / {}", show(&ra), show(&rb));
        let (da, db) = pair.both(&args(&format!("DEBUG DIGEST-VALUE {k}")));
        assert_eq!(show(&da), show(&db), "digest of {k}");
        // MEMORY USAGE works on sorted sets (the figures are our layout's).
        let (ma, _) = pair.both(&args(&format!("MEMORY USAGE {k}")));
        assert!(ma.starts_with(b":"), "MEMORY USAGE {k}: {}", show(&ma));
    }
}

#[test]
fn random_zset_sequences() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    random_sequences(&mut pair, &[1, 2, 3, 7], "128");
    random_sequences(&mut pair, &[4, 8], "3");
    random_sequences(&mut pair, &[9], "0");
}

#[test]
fn random_zset_sequences_resp3() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    assert!(pair.hello3());
    random_sequences(&mut pair, &[5, 6], "5");
    random_sequences(&mut pair, &[10], "0");
}
