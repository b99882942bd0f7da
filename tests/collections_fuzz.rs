//! Lockstep fuzzing of the collection commands: seeded random commands of the list,
//! hash, set and sorted-set families (random arguments, keys of random types, bad
//! arguments now and then) go to our server and to Debian's redis-server 7.0.15 in the
//! same order; every reply must be the same bytes (replies whose order Redis leaves to
//! the hash table are compared as multisets), and every 50 commands DEBUG DIGEST-VALUE
//! of every key must agree. Both servers run once with Redis's default thresholds and
//! once with tiny ones, so encodings convert often; half the commands run in RESP3.
//!
//! `COLLECTIONS_FUZZ_SEED` and `COLLECTIONS_FUZZ_COMMANDS` (default 100,000 in all)
//! reproduce or lengthen a run; `FUZZ_SHOW_ERRORS=1` prints every error reply and the
//! keys' final types (to keep the generator's mix of valid and invalid commands honest).

mod common;
use common::raw::*;
use redis_formats::{ReplyDecoder, RespValue};

const DEFAULT_SEED: u64 = 20261130;
/// Keys by the type their commands mostly give them; commands take one of their own
/// type's keys most of the time and any key now and then (for WRONGTYPE).
const KEYS: &[&str] = &[
    "l0", "l1", "l2", "h0", "h1", "h2", "s0", "s1", "s2", "z0", "z1", "z2",
];
/// Sorted sets whose members all score 0, for the lexicographic commands (Redis leaves
/// lex ranges over mixed scores unspecified).
const LEX_KEYS: &[&str] = &["lex0", "lex1"];
/// Commands sent before their replies are read; DEBUG DIGEST-VALUE of every key is
/// compared after each batch.
const BATCH: usize = 50;

/// Commands whose reply lists elements in hash-table order.
const UNORDERED: &[&str] = &[
    "SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS", "HGETALL",
];

struct Gen {
    rng: fastrand::Rng,
    /// The key prefix of the command being generated ('*': any type).
    fam: char,
}

impl Gen {
    fn key(&mut self) -> String {
        if self.fam != '*' && self.rng.u8(..30) != 0 {
            return format!("{}{}", self.fam, self.rng.u8(..3));
        }
        KEYS[self.rng.usize(..KEYS.len())].to_string()
    }

    fn lex_key(&mut self) -> String {
        LEX_KEYS[self.rng.usize(..LEX_KEYS.len())].to_string()
    }

    fn keys(&mut self, max: usize) -> Vec<String> {
        (0..self.rng.usize(1..=max)).map(|_| self.key()).collect()
    }

    /// A member/element/field/value: small strings, integers (intset, int-encoded
    /// entries), and sometimes long ones (over the listpack value limits).
    fn elem(&mut self) -> String {
        match self.rng.u8(..20) {
            0..=7 => ((b'a' + self.rng.u8(..8)) as char).to_string(),
            8..=13 => self.rng.i64(-3..30).to_string(),
            14 => "x".repeat(self.rng.usize(60..80)),
            15 => format!("m{}", self.rng.u32(..200)),
            16 => self.rng.i64(..).to_string(),
            17 => "".to_string(),
            _ => format!("{}{}", (b'a' + self.rng.u8(..8)) as char, self.rng.u8(..4)),
        }
    }

    fn index(&mut self) -> String {
        match self.rng.u8(..10) {
            0 => "notanint".into(),
            1 => self.rng.i64(..).to_string(),
            _ => self.rng.i64(-12..12).to_string(),
        }
    }

    fn score(&mut self) -> String {
        match self.rng.u8(..16) {
            0 => "+inf".into(),
            1 => "-inf".into(),
            2 => "nan".into(),
            3 => "1.5e3".into(),
            4 => format!("{}.{}", self.rng.i64(-10..10), self.rng.u8(..100)),
            5 => "abc".into(),
            _ => self.rng.i64(-5..15).to_string(),
        }
    }

    fn range_score(&mut self) -> String {
        let s = self.score();
        if self.rng.bool() && !s.starts_with(['+', '-', 'n', 'a']) {
            format!("({s}")
        } else {
            s
        }
    }

    fn lex(&mut self) -> String {
        match self.rng.u8(..8) {
            0 => "-".into(),
            1 => "+".into(),
            2 => "bad".into(),
            3 | 4 => format!("({}", self.elem()),
            _ => format!("[{}", self.elem()),
        }
    }

    fn side(&mut self) -> &'static str {
        if self.rng.bool() {
            "LEFT"
        } else {
            "RIGHT"
        }
    }

    fn pairs(&mut self, n: usize, first: impl Fn(&mut Self) -> String) -> Vec<String> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(first(self));
            v.push(self.elem());
        }
        v
    }

    fn command(&mut self) -> Vec<String> {
        let r = self.rng.u8(..100);
        self.fam = match r {
            0..=18 => 'l',
            19..=35 => 'h',
            36..=50 => 's',
            51..=82 => 'z',
            // Generic commands move keys within one type's pool, so types stay mostly
            // put; SET now and then turns a key into a string.
            83..=92 => ['l', 'h', 's', 'z'][self.rng.usize(..4)],
            93 | 94 => '*',
            _ => 'l',
        };
        let k = self.key();
        let mut c: Vec<String> = match r {
            // Lists.
            0..=3 => {
                let mut v = vec![if self.rng.bool() { "LPUSH" } else { "RPUSH" }.into(), k];
                v.extend((0..self.rng.usize(1..4)).map(|_| self.elem()));
                v
            }
            4 => vec![
                if self.rng.bool() { "LPUSHX" } else { "RPUSHX" }.into(),
                k,
                self.elem(),
            ],
            5 | 6 => {
                let mut v = vec![if self.rng.bool() { "LPOP" } else { "RPOP" }.into(), k];
                if self.rng.bool() {
                    v.push(self.index());
                }
                v
            }
            7 => vec!["LLEN".into(), k],
            8 => vec!["LINDEX".into(), k, self.index()],
            9 => vec![
                "LINSERT".into(),
                k,
                if self.rng.bool() { "BEFORE" } else { "AFTER" }.into(),
                self.elem(),
                self.elem(),
            ],
            10 => {
                let mut v = vec!["LPOS".into(), k, self.elem()];
                for opt in ["RANK", "COUNT", "MAXLEN"] {
                    if self.rng.bool() {
                        v.push(opt.into());
                        v.push(self.index());
                    }
                }
                v
            }
            11 | 12 => vec!["LRANGE".into(), k, self.index(), self.index()],
            13 => vec!["LREM".into(), k, self.index(), self.elem()],
            14 => vec!["LSET".into(), k, self.index(), self.elem()],
            15 => vec!["LTRIM".into(), k, self.index(), self.index()],
            16 => vec![
                "LMOVE".into(),
                k,
                self.key(),
                self.side().into(),
                self.side().into(),
            ],
            17 => vec!["RPOPLPUSH".into(), k, self.key()],
            18 => {
                let keys = self.keys(3);
                let mut v = vec!["LMPOP".into(), keys.len().to_string()];
                v.extend(keys);
                v.push(self.side().into());
                if self.rng.bool() {
                    v.push("COUNT".into());
                    v.push(self.index());
                }
                v
            }
            // Hashes.
            19..=22 => {
                let n = self.rng.usize(1..4);
                let mut v = vec!["HSET".into(), k];
                v.extend(self.pairs(n, |g| g.elem()));
                v
            }
            23 => vec!["HSETNX".into(), k, self.elem(), self.elem()],
            24 | 25 => vec!["HGET".into(), k, self.elem()],
            26 => {
                let mut v = vec!["HMGET".into(), k];
                v.extend((0..self.rng.usize(1..4)).map(|_| self.elem()));
                v
            }
            27 => {
                let mut v = vec!["HDEL".into(), k];
                v.extend((0..self.rng.usize(1..3)).map(|_| self.elem()));
                v
            }
            28 => vec!["HLEN".into(), k],
            29 => vec!["HSTRLEN".into(), k, self.elem()],
            30 => vec!["HEXISTS".into(), k, self.elem()],
            31 => vec!["HINCRBY".into(), k, self.elem(), self.index()],
            32 => vec!["HINCRBYFLOAT".into(), k, self.elem(), self.score()],
            33 => vec!["HKEYS".into(), k],
            34 => vec!["HVALS".into(), k],
            35 => vec!["HGETALL".into(), k],
            // Sets.
            36..=39 => {
                let mut v = vec!["SADD".into(), k];
                v.extend((0..self.rng.usize(1..5)).map(|_| self.elem()));
                v
            }
            40 => {
                let mut v = vec!["SREM".into(), k];
                v.extend((0..self.rng.usize(1..3)).map(|_| self.elem()));
                v
            }
            41 => vec!["SCARD".into(), k],
            42 => vec!["SISMEMBER".into(), k, self.elem()],
            43 => vec!["SMISMEMBER".into(), k, self.elem(), self.elem()],
            44 => vec!["SMEMBERS".into(), k],
            45 => vec!["SMOVE".into(), k, self.key(), self.elem()],
            46..=48 => {
                let op = ["SINTER", "SUNION", "SDIFF"][self.rng.usize(..3)];
                let mut v = vec![op.into()];
                v.extend(self.keys(3));
                v
            }
            49 => {
                let op = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][self.rng.usize(..3)];
                let mut v = vec![op.into(), k];
                v.extend(self.keys(3));
                v
            }
            50 => {
                let keys = self.keys(3);
                let mut v = vec!["SINTERCARD".into(), keys.len().to_string()];
                v.extend(keys);
                if self.rng.bool() {
                    v.push("LIMIT".into());
                    v.push(self.index());
                }
                v
            }
            // Sorted sets.
            51..=56 => {
                let mut v = vec!["ZADD".into(), k];
                for opt in ["NX", "XX", "GT", "LT", "CH", "INCR"] {
                    if self.rng.u8(..6) == 0 {
                        v.push(opt.into());
                    }
                }
                let n = self.rng.usize(1..4);
                v.extend(self.pairs(n, |g| g.score()));
                v
            }
            57 => vec!["ZINCRBY".into(), k, self.score(), self.elem()],
            58 => vec!["ZREM".into(), k, self.elem(), self.elem()],
            59 => vec!["ZCARD".into(), k],
            60 => vec!["ZSCORE".into(), k, self.elem()],
            61 => vec!["ZMSCORE".into(), k, self.elem(), self.elem()],
            62 => vec![
                if self.rng.bool() { "ZRANK" } else { "ZREVRANK" }.into(),
                k,
                self.elem(),
            ],
            63 => vec!["ZCOUNT".into(), k, self.range_score(), self.range_score()],
            64 => vec!["ZLEXCOUNT".into(), self.lex_key(), self.lex(), self.lex()],
            65..=68 => {
                let mut v = vec!["ZRANGE".into(), k];
                match self.rng.u8(..3) {
                    0 => {
                        v.push(self.index());
                        v.push(self.index());
                    }
                    1 => {
                        v.push(self.range_score());
                        v.push(self.range_score());
                        v.push("BYSCORE".into());
                    }
                    _ => {
                        v[1] = self.lex_key();
                        v.push(self.lex());
                        v.push(self.lex());
                        v.push("BYLEX".into());
                    }
                }
                if self.rng.bool() {
                    v.push("REV".into());
                }
                if self.rng.u8(..3) == 0 {
                    v.push("LIMIT".into());
                    v.push(self.index());
                    v.push(self.index());
                }
                if self.rng.bool() {
                    v.push("WITHSCORES".into());
                }
                v
            }
            69 => vec![
                "ZRANGEBYSCORE".into(),
                k,
                self.range_score(),
                self.range_score(),
                "WITHSCORES".into(),
            ],
            70 => {
                if self.rng.bool() {
                    vec![
                        "ZREVRANGEBYLEX".into(),
                        self.lex_key(),
                        self.lex(),
                        self.lex(),
                    ]
                } else {
                    let mut v = vec!["ZADD".into(), self.lex_key()];
                    let n = self.rng.usize(1..4);
                    v.extend(self.pairs(n, |_| "0".into()));
                    v
                }
            }
            71 => vec![
                "ZRANGESTORE".into(),
                self.key(),
                k,
                self.index(),
                self.index(),
            ],
            72 => vec!["ZREMRANGEBYRANK".into(), k, self.index(), self.index()],
            73 => vec![
                "ZREMRANGEBYSCORE".into(),
                k,
                self.range_score(),
                self.range_score(),
            ],
            74 => vec![
                "ZREMRANGEBYLEX".into(),
                self.lex_key(),
                self.lex(),
                self.lex(),
            ],
            75..=77 => {
                let op = ["ZUNION", "ZINTER", "ZDIFF"][self.rng.usize(..3)];
                let keys = self.keys(3);
                let mut v = vec![op.into(), keys.len().to_string()];
                v.extend(keys.iter().cloned());
                if op != "ZDIFF" && self.rng.bool() {
                    v.push("WEIGHTS".into());
                    v.extend(keys.iter().map(|_| self.score()));
                }
                if op != "ZDIFF" && self.rng.bool() {
                    v.push("AGGREGATE".into());
                    v.push(["SUM", "MIN", "MAX"][self.rng.usize(..3)].into());
                }
                if self.rng.bool() {
                    v.push("WITHSCORES".into());
                }
                v
            }
            78 => {
                let op = ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"][self.rng.usize(..3)];
                let keys = self.keys(3);
                let mut v = vec![op.into(), k, keys.len().to_string()];
                v.extend(keys);
                v
            }
            79 => {
                let keys = self.keys(3);
                let mut v = vec!["ZINTERCARD".into(), keys.len().to_string()];
                v.extend(keys);
                v
            }
            80 | 81 => {
                let mut v = vec![
                    if self.rng.bool() {
                        "ZPOPMIN"
                    } else {
                        "ZPOPMAX"
                    }
                    .into(),
                    k,
                ];
                if self.rng.bool() {
                    v.push(self.index());
                }
                v
            }
            82 => {
                let keys = self.keys(3);
                let mut v = vec!["ZMPOP".into(), keys.len().to_string()];
                v.extend(keys);
                v.push(if self.rng.bool() { "MIN" } else { "MAX" }.into());
                if self.rng.bool() {
                    v.push("COUNT".into());
                    v.push(self.index());
                }
                v
            }
            // Generic commands over every type.
            83 | 84 => vec!["TYPE".into(), k],
            85 | 86 => vec!["OBJECT".into(), "ENCODING".into(), k],
            87 => vec!["DEL".into(), k],
            88 => vec!["RENAME".into(), k, self.key()],
            89 => vec!["COPY".into(), k, self.key(), "REPLACE".into()],
            90 | 91 => {
                let mut v = vec!["SORT".into(), k];
                if self.rng.bool() {
                    v.push("ALPHA".into());
                }
                if self.rng.bool() {
                    v.push("DESC".into());
                }
                if self.rng.bool() {
                    v.push("LIMIT".into());
                    v.push(self.index());
                    v.push(self.index());
                }
                v
            }
            92 => vec!["EXISTS".into(), k],
            // A string key for WRONGTYPE; rarely, one of the typed keys.
            93 => {
                let key = if self.rng.u8(..10) == 0 {
                    k
                } else {
                    "str".into()
                };
                vec!["SET".into(), key, self.elem()]
            }
            // Wrong arity now and then.
            94 => vec![
                ["LPUSH", "HSET", "SADD", "ZADD", "LRANGE"][self.rng.usize(..5)].into(),
                k,
            ],
            _ => vec!["LRANGE".into(), k, "0".into(), "-1".into()],
        };
        if c.is_empty() {
            c.push("PING".into());
        }
        c
    }
}

fn decode_one(bytes: &[u8]) -> RespValue {
    let mut d = ReplyDecoder::new();
    d.feed(bytes);
    d.next().expect("valid reply").expect("a whole reply")
}

/// The reply with its elements sorted, for replies in hash-table order (HGETALL's
/// field/value pairs stay together).
fn normalized(cmd: &str, reply: &[u8]) -> Vec<u8> {
    let mut v = decode_one(reply);
    match &mut v {
        RespValue::Array(items) | RespValue::Set(items) if cmd == "HGETALL" => {
            let mut pairs: Vec<(RespValue, RespValue)> = items
                .chunks(2)
                .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or(RespValue::Nil)))
                .collect();
            pairs.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            *items = pairs.into_iter().flat_map(|(a, b)| [a, b]).collect();
        }
        RespValue::Array(items) | RespValue::Set(items) => {
            items.sort_by_key(|i| format!("{i:?}"));
        }
        RespValue::Map(pairs) => pairs.sort_by_key(|p| format!("{p:?}")),
        _ => {}
    }
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}

fn run_phase(seed: u64, commands: usize, extra: &[&str], resp3: bool) {
    let Some(mut pair) = Pair::start(extra) else {
        return;
    };
    if resp3 {
        assert!(pair.hello3(), "our server speaks RESP3");
    }
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
        fam: '*',
    };
    let mut done = 0;
    let mut errors = 0;
    let mut batch: Vec<Vec<Vec<u8>>> = Vec::with_capacity(BATCH);
    while done < commands {
        batch.clear();
        for _ in 0..BATCH.min(commands - done) {
            let c = g.command();
            batch.push(c.into_iter().map(String::into_bytes).collect());
        }
        for c in &batch {
            pair.a.send(c);
            pair.b.send(c);
        }
        for c in &batch {
            let ra = pair.a.read();
            let rb = pair.b.read();
            let name = String::from_utf8_lossy(&c[0]).to_ascii_uppercase();
            let same = ra == rb
                || (UNORDERED.contains(&name.as_str())
                    && normalized(&name, &ra) == normalized(&name, &rb));
            assert!(
                same,
                "seed {seed}, command #{done} {:?}\n ours: {}\n real: {}",
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>(),
                show(&ra),
                show(&rb)
            );
            done += 1;
            if rb.starts_with(b"-") {
                errors += 1;
                if std::env::var("FUZZ_SHOW_ERRORS").is_ok() {
                    eprintln!("{} => {}", name, show(&rb[..rb.len().min(50)]));
                }
            }
        }
        // After the whole batch is answered (every 50 commands or so).
        let mut d = vec![b"DEBUG".to_vec(), b"DIGEST-VALUE".to_vec()];
        d.extend(KEYS.iter().chain(LEX_KEYS).map(|k| k.as_bytes().to_vec()));
        let (da, db) = pair.both(&d);
        assert_eq!(
            show(&da),
            show(&db),
            "seed {seed}: DEBUG DIGEST-VALUE differs after command #{done}"
        );
    }
    if std::env::var("FUZZ_SHOW_ERRORS").is_ok() {
        for k in KEYS {
            let t = pair.b.cmd(&[b"TYPE".to_vec(), k.as_bytes().to_vec()]);
            eprintln!("TYPE {k} {}", show(&t));
        }
    }
    // The run means something only if most commands did their work.
    eprintln!("seed {seed}: {done} commands, {errors} error replies");
    assert!(errors * 3 < done, "{errors} of {done} commands failed");
}

#[test]
fn collections_lockstep() {
    let seed = std::env::var("COLLECTIONS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let total: usize = std::env::var("COLLECTIONS_FUZZ_COMMANDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let quarter = total / 4;
    let debug = ["--enable-debug-command", "yes"];
    let tiny = [
        "--enable-debug-command",
        "yes",
        "--hash-max-listpack-entries",
        "4",
        "--hash-max-listpack-value",
        "8",
        "--zset-max-listpack-entries",
        "4",
        "--zset-max-listpack-value",
        "8",
        "--set-max-intset-entries",
        "4",
        "--list-max-listpack-size",
        "3",
    ];
    run_phase(seed, quarter, &debug, false);
    run_phase(seed + 1, quarter, &tiny, false);
    run_phase(seed + 2, quarter, &debug, true);
    run_phase(seed + 3, total - 3 * quarter, &tiny, true);
}
