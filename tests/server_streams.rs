//! Streams: the same requests to our server and to Debian's redis-server 7.0.15,
//! reply bytes compared (errors included) in RESP2 and RESP3; replies holding times
//! (idle, delivery and seen times) compared with their numbers masked; blocking
//! XREAD / XREADGROUP woken by XADD, MULTI/EXEC, DEL, XGROUP DESTROY, SWAPDB and
//! CLIENT UNBLOCK; DUMP payloads moved both ways between the servers; and seeded
//! random sequences (explicit IDs) compared reply by reply plus DEBUG DIGEST-VALUE.

mod common;
use common::raw::*;
use common::*;
use std::time::Duration;

const SCENARIOS: &[&[&str]] = &[
    &[
        "XADD s 1-1 a 1 b 2",
        "XADD s 1-1 a 1",
        "XADD s 1-2 a 1 b 2",
        "XADD s 1-* a x",
        "XADD s 2-* c y",
        "XADD s 0-0 a b",
        "XADD t 0-0 a b",
        "XADD s 5 a",
        "XADD s NOMKSTREAM 10-1 a b",
        "XADD nos NOMKSTREAM 10-1 a b",
        "EXISTS nos",
        "XADD s MAXLEN 2 10-1 a b",
        "XLEN s",
        "XRANGE s - +",
        "XADD s MAXLEN ~ 2 11-1 a b",
        "XADD s MINID = 5 12-1 a b",
        "XADD s MAXLEN 2 MINID 3 13-1 a b",
        "XADD s LIMIT 10 14-1 a b",
        "XADD s MAXLEN 5 LIMIT 10 14-1 a b",
        "XADD s MAXLEN ~ 5 LIMIT 10 14-1 a b",
        "XADD s MAXLEN -1 15-1 a b",
        "XADD s MAXLEN abc 15-1 a b",
        "XADD s LIMIT -1 15-1 a b",
        "XADD s abc a b",
        "XADD s 18446744073709551615-18446744073709551615 a b",
        "XADD s * a b",
        "XRANGE s - + COUNT 2",
        "XRANGE s (12-1 +",
        "XRANGE s - (14-1",
        "XREVRANGE s + - COUNT 1",
        "XREVRANGE s + -",
        "XRANGE s - + COUNT 0",
        "XRANGE s - + COUNT -1",
        "XRANGE s - + FOO",
        "XRANGE s (- +",
        "XRANGE s - (+",
        "XRANGE s (18446744073709551615-18446744073709551615 +",
        "XRANGE s - (0-0",
        "XRANGE nokey - +",
        "SET str x",
        "XRANGE str - +",
        "XADD str * a b",
        "XLEN str",
        "XLEN nokey",
        "TYPE s",
        "OBJECT ENCODING s",
        "XADD big 1-1 f1 v1 f2 v2",
        "XADD big 1-2 f1 v3 f2 v4",
        "XADD big 1-3 other v",
        "XADD big 1-4 f1 12345 f2 -7",
        "XRANGE big - +",
        "XDEL big 1-2 1-9",
        "XDEL big 1-2",
        "XDEL big abc",
        "XRANGE big - +",
        "XINFO STREAM big",
        "XTRIM big MAXLEN 1",
        "XTRIM big MAXLEN ~ 0",
        "XTRIM big",
        "XTRIM big FOO",
        "XTRIM big MINID 1-5",
        "XTRIM nokey MAXLEN 0",
        "XTRIM big MAXLEN 0 LIMIT 5",
        "XINFO STREAM big",
        "XSETID big 0-1",
        "XSETID big 100-1",
        "XSETID big 100-1 ENTRIESADDED 1",
        "XSETID big 100-1 ENTRIESADDED -1",
        "XSETID big 100-1 MAXDELETEDID 200-0",
        "XSETID big 300-1 ENTRIESADDED 50 MAXDELETEDID 200-0",
        "XINFO STREAM big",
        "XSETID nokey 1-1",
        "DEBUG DIGEST-VALUE s big",
    ],
    &[
        "XGROUP CREATE s g $",
        "XGROUP CREATE s g $ MKSTREAM",
        "EXISTS s",
        "XGROUP CREATE s g $",
        "XGROUP CREATE s g2 0 ENTRIESREAD 5",
        "XGROUP CREATE s g3 0 ENTRIESREAD -2",
        "XGROUP CREATE s g3 0 FOO",
        "XGROUP CREATE nokey g 0",
        "XGROUP CREATE s g4 abc",
        "XADD s 1-1 a 1",
        "XADD s 2-1 b 2",
        "XADD s 3-1 c 3",
        "XINFO GROUPS s",
        "XREADGROUP GROUP g alice COUNT 1 STREAMS s >",
        "XREADGROUP GROUP g bob STREAMS s >",
        "XREADGROUP GROUP g bob STREAMS s >",
        "XREADGROUP GROUP g alice STREAMS s 0",
        "XREADGROUP GROUP nog alice STREAMS s >",
        "XREADGROUP GROUP g alice STREAMS nokey >",
        "XREADGROUP GROUP g alice STREAMS s $",
        "XREADGROUP GROUP g alice STREAMS s",
        "XREADGROUP STREAMS s >",
        "XREAD GROUP g a STREAMS s >",
        "XREAD NOACK STREAMS s 0",
        "XREAD STREAMS s >",
        "XREAD COUNT 2 STREAMS s 0",
        "XREAD STREAMS s s 0 1-1",
        "XREAD STREAMS s 3-1",
        "XREAD STREAMS s nokey 0 0",
        "XREAD STREAMS s $",
        "XREAD BLOCK -1 STREAMS s $",
        "XREAD BLOCK abc STREAMS s $",
        "XREAD COUNT x STREAMS s 0",
        "XREAD FOO STREAMS s 0",
        "XREAD STREAMS s abc",
        "XPENDING s g",
        "XPENDING s g IDLE 0 - +",
        "XPENDING s g - +",
        "XPENDING s nog",
        "XPENDING nokey g",
        "XPENDING s g + - 10",
        "XPENDING s g - + -5",
        "XACK s g 1-1 9-9",
        "XACK s g abc",
        "XACK s nog 1-1",
        "XACK nokey g 1-1",
        "XPENDING s g",
        "XCLAIM s g carol 0 2-1 JUSTID",
        "XCLAIM s g carol 0 2-1 RETRYCOUNT 7",
        "XCLAIM s g carol 0 1-1",
        "XCLAIM s g carol 0 1-1 FORCE JUSTID",
        "XCLAIM s g carol 0 2-1 FOO",
        "XCLAIM s g carol abc 2-1",
        "XCLAIM s g carol 0 2-1 IDLE abc",
        "XCLAIM s g carol 0 2-1 TIME abc",
        "XCLAIM s g carol 0 2-1 RETRYCOUNT abc",
        "XCLAIM s g carol 0 2-1 LASTID abc",
        "XCLAIM s g carol 0 2-1 LASTID 9-0 JUSTID",
        "XCLAIM s nog carol 0 2-1",
        "XCLAIM s g carol 100000 2-1",
        "XINFO GROUPS s",
        "XDEL s 3-1",
        "XAUTOCLAIM s g dave 0 0 COUNT 1",
        "XAUTOCLAIM s g dave 0 0",
        "XAUTOCLAIM s g dave 0 0 JUSTID",
        "XAUTOCLAIM s g dave 0 0 COUNT 0",
        "XAUTOCLAIM s g dave 0 0 COUNT abc",
        "XAUTOCLAIM s g dave 0 0 FOO",
        "XAUTOCLAIM s nog dave 0 0",
        "XAUTOCLAIM s g dave abc 0",
        "XAUTOCLAIM s g dave 0 (18446744073709551615-18446744073709551615",
        "XREADGROUP GROUP g2 eve STREAMS s >",
        "XINFO GROUPS s",
        "XGROUP CREATECONSUMER s g zed",
        "XGROUP CREATECONSUMER s g zed",
        "XGROUP CREATECONSUMER s nog zed",
        "XGROUP DELCONSUMER s g dave",
        "XGROUP DELCONSUMER s g nobody",
        "XGROUP SETID s g 0",
        "XGROUP SETID s g $ ENTRIESREAD 3",
        "XGROUP SETID s g abc",
        "XGROUP SETID s nog 0",
        "XGROUP SETID s g 0 FOO 1",
        "XINFO GROUPS s",
        "XGROUP DESTROY s g2",
        "XGROUP DESTROY s g2",
        "XGROUP FOO",
        "XGROUP HELP",
        "XGROUP HELP x",
        "XINFO HELP",
        "XINFO HELP x",
        "XINFO FOO s",
        "XINFO STREAM nokey",
        "XINFO STREAM s FULL COUNT",
        "XINFO STREAM s FOO",
        "XINFO STREAM s FULL FOO 1",
        "XINFO GROUPS str",
        "SET str x",
        "XREADGROUP GROUP g a STREAMS str >",
        "XGROUP CREATE str g 0",
        "XINFO STREAM str",
        "XREAD STREAMS str 0",
    ],
    &[
        "XADD s 1-1 a 1 b 2",
        "XADD s 2-1 a 3 b 4",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g c1 STREAMS s >",
        "XDEL s 1-1",
        "DEBUG RELOAD",
        "XRANGE s - +",
        "XINFO STREAM s",
        "XINFO GROUPS s",
        "XPENDING s g",
        "DEBUG DIGEST-VALUE s",
        "COPY s s2",
        "XINFO GROUPS s2",
        "RENAME s2 s3",
        "XRANGE s3 - +",
        "DEL s3",
        "SCAN 0 TYPE stream",
    ], // Node sizes: approximate trimming removes whole nodes, so they must match.
    &[
        "CONFIG SET stream-node-max-entries 3",
        "XADD n 1 a 1",
        "XADD n 2 a 2",
        "XADD n 3 a 3",
        "XADD n 4 b 4",
        "XADD n 5 a 5",
        "XADD n 6 a 6",
        "XADD n 7 a 7",
        "XTRIM n MAXLEN ~ 2",
        "XINFO STREAM n",
        "XTRIM n MAXLEN ~ 0 LIMIT 3",
        "XINFO STREAM n",
        "CONFIG SET stream-node-max-entries 100",
        "CONFIG SET stream-node-max-bytes 60",
        "XADD b 1 field aaaaaaaaaaaaaaaaaaaa",
        "XADD b 2 field aaaaaaaaaaaaaaaaaaaa",
        "XADD b 3 field aaaaaaaaaaaaaaaaaaaa",
        "XADD b 4 field aaaaaaaaaaaaaaaaaaaa",
        "XINFO STREAM b",
        "XADD b MINID ~ 3 5 field x",
        "XINFO STREAM b",
        "CONFIG SET stream-node-max-bytes 4096",
        "XADD b 18446744073709551615-18446744073709551615 f v",
        "XADD b * f v",
        "XADD b 18446744073709551615-* f v",
        "XINFO STREAM b",
        "DEBUG DIGEST-VALUE b n",
    ],
    // Lag, entries-read and tombstones.
    &[
        "XADD x 1-0 f v",
        "XADD x 2-0 f v",
        "XADD x 3-0 f v",
        "XADD x 4-0 f v",
        "XGROUP CREATE x g1 0",
        "XGROUP CREATE x g2 $",
        "XGROUP CREATE x g3 2-0",
        "XINFO GROUPS x",
        "XREADGROUP GROUP g1 c COUNT 1 STREAMS x >",
        "XINFO GROUPS x",
        "XDEL x 3-0",
        "XINFO GROUPS x",
        "XREADGROUP GROUP g1 c STREAMS x >",
        "XINFO GROUPS x",
        "XREADGROUP GROUP g3 c NOACK STREAMS x >",
        "XINFO GROUPS x",
        "XADD x 5-0 f v",
        "XINFO GROUPS x",
        "XTRIM x MAXLEN 1",
        "XINFO GROUPS x",
        "XGROUP SETID x g2 0 ENTRIESREAD 2",
        "XINFO GROUPS x",
        "XREADGROUP GROUP g2 c STREAMS x 0",
        "XREADGROUP GROUP g1 c STREAMS x 0",
        "XACK x g1 1-0 2-0 3-0 4-0",
        "XREADGROUP GROUP g1 c STREAMS x 0",
        "XSETID x 9-0 ENTRIESADDED 20 MAXDELETEDID 8-0",
        "XINFO STREAM x",
        "XINFO GROUPS x",
        "DEBUG RELOAD",
        "XINFO STREAM x",
        "XINFO GROUPS x",
        "XADD y 1-0 f v",
        "XDEL y 1-0",
        "XINFO STREAM y",
        "XGROUP CREATE y g 0",
        "XINFO GROUPS y",
        "DEBUG RELOAD",
        "XINFO STREAM y",
        "TYPE y",
    ],
    // Which error wins.
    &[
        "SET str v",
        "XADD str MAXLEN abc * f v",
        "XADD str * f",
        "XRANGE str abc +",
        "XRANGE str - + COUNT abc",
        "XDEL str abc",
        "XTRIM str MAXLEN abc",
        "XSETID str abc",
        "XSETID str 1-1",
        "XGROUP CREATE str g abc",
        "XACK str g abc",
        "XPENDING str g abc",
        "XCLAIM str g c abc 1-1",
        "XAUTOCLAIM str g c abc 0",
        "XAUTOCLAIM str g c 0 0",
        "XINFO STREAM str",
        "XREAD STREAMS str abc",
        "XREADGROUP GROUP g c STREAMS str abc",
        "XADD",
        "XRANGE s",
        "XGROUP CREATE s",
        "XINFO STREAM",
        "XCLAIM s g c 0",
        "XAUTOCLAIM s g c 0",
        "XPENDING s",
        "XSETID s",
        "XREAD",
        "XREAD STREAMS",
        "XREAD COUNT 1",
        "XREAD BLOCK 0 STREAMS s",
    ],
];

/// Commands whose replies hold times: compared with every integer masked.
const TIMED: &[&[&str]] = &[&[
    "XADD s 1-0 a 1",
    "XADD s 2-0 b 2",
    "XADD s 3-0 c 3",
    "XGROUP CREATE s g 0",
    "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g bob STREAMS s >",
    "XPENDING s g - + 10",
    "XPENDING s g IDLE 0 - + 10 alice",
    "XPENDING s g IDLE 100000 - + 10",
    "XPENDING s g (1-0 (3-0 10",
    "XINFO CONSUMERS s g",
    "XINFO STREAM s FULL",
    "XINFO STREAM s FULL COUNT 1",
    "XINFO STREAM s FULL COUNT 0",
    "XCLAIM s g carol 0 1-0 TIME 1000",
    "XCLAIM s g carol 0 2-0 IDLE 5000",
    "XCLAIM s g carol 0 3-0 IDLE -5000",
    "XPENDING s g - + 10",
    "XINFO STREAM s FULL",
]];

fn check(pair: &mut Pair, scenarios: &[&[&str]], what: &str) {
    let mut skipped = Vec::new();
    let diffs = pair.run(scenarios, &mut skipped);
    assert!(skipped.is_empty(), "{what}: skipped {skipped:?}");
    assert!(
        diffs.is_empty(),
        "{what}: {} different replies:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// Integers replaced by `N` (times differ between the two runs).
fn mask(r: &[u8]) -> String {
    let s = show(r);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == ':' {
            while chars
                .peek()
                .is_some_and(|d| d.is_ascii_digit() || *d == '-')
            {
                chars.next();
            }
            out.push('N');
        }
    }
    out
}

fn check_masked(pair: &mut Pair, what: &str) {
    for sc in TIMED {
        pair.both(&args("FLUSHALL"));
        for line in sc.iter() {
            let (ra, rb) = pair.both(&args(line));
            assert_eq!(mask(&ra), mask(&rb), "{what}: {line}");
        }
    }
}

#[test]
fn stream_commands_resp2() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    check(&mut pair, SCENARIOS, "RESP2 streams");
    check_masked(&mut pair, "RESP2 timed");
}

#[test]
fn stream_commands_resp3() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    assert!(pair.hello3());
    check(&mut pair, SCENARIOS, "RESP3 streams");
    check_masked(&mut pair, "RESP3 timed");
}

/// A second connection to each server, for blocking.
struct Clients {
    a: RawClient,
    b: RawClient,
}

fn second(pair: &Pair, resp3: bool) -> Clients {
    let mut c = Clients {
        a: RawClient::connect(pair.a.port()),
        b: RawClient::connect(pair.b.port()),
    };
    if resp3 {
        c.a.cmd(&args("HELLO 3"));
        c.b.cmd(&args("HELLO 3"));
    }
    c
}

/// Each step: `>LINE` sent by the blocking clients (no reply read), `<` reads the
/// blocked clients' replies and compares them, any other line runs on the main
/// connections and compares.
fn blocking_scenario(pair: &mut Pair, steps: &[&str], resp3: bool) {
    pair.both(&args("FLUSHALL"));
    let mut c = second(pair, resp3);
    for step in steps {
        if let Some(line) = step.strip_prefix('>') {
            c.a.send(&args(line));
            c.b.send(&args(line));
            std::thread::sleep(Duration::from_millis(50));
        } else if *step == "<" {
            let (ra, rb) = (c.a.read(), c.b.read());
            assert_eq!(show(&ra), show(&rb), "blocked reply in {steps:?}");
        } else {
            let (ra, rb) = pair.both(&args(step));
            assert_eq!(show(&ra), show(&rb), "{step} in {steps:?}");
        }
    }
}

const BLOCKING: &[&[&str]] = &[
    &[
        "XADD s 1-0 f v",
        ">XREAD BLOCK 0 STREAMS s $",
        "XADD s 2-0 g w",
        "<",
    ],
    &[
        ">XREAD BLOCK 0 COUNT 1 STREAMS a b $ $",
        "XADD b 5-0 f v",
        "<",
    ],
    &[">XREAD BLOCK 100 STREAMS s 0", "<"],
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        ">XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "XADD s 1-0 f v",
        "<",
        "XPENDING s g",
    ],
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        ">XREADGROUP GROUP g c NOACK BLOCK 0 STREAMS s >",
        "MULTI",
        "XADD s 1-0 f v",
        "XADD s 2-0 f v",
        "EXEC",
        "<",
        "XPENDING s g",
        "XINFO GROUPS s",
    ],
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        ">XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "DEL s",
        "<",
    ],
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        ">XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "XGROUP DESTROY s g",
        "<",
    ],
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        ">XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "SET s x",
        "<",
    ],
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        ">XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "SWAPDB 0 1",
        "<",
    ],
    &[
        "XADD s 1-0 f v",
        ">XREAD BLOCK 0 STREAMS s $",
        "DEL s",
        "XADD s 2-0 f v",
        "<",
    ],
    // Expired by the cron while a client waits on it.
    &[
        "XGROUP CREATE s g $ MKSTREAM",
        "PEXPIRE s 150",
        ">XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "<",
    ],
    &[
        "MULTI",
        "XREAD BLOCK 0 STREAMS s $",
        "XREADGROUP GROUP g c BLOCK 0 STREAMS s >",
        "EXEC",
    ],
];

#[test]
fn blocking_reads() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    for resp3 in [false, true] {
        for sc in BLOCKING {
            blocking_scenario(&mut pair, sc, resp3);
        }
    }
}

#[test]
fn client_unblock_of_xread() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    for how in ["", " TIMEOUT", " ERROR"] {
        let mut c = second(&pair, false);
        let ida = String::from_utf8_lossy(&c.a.cmd(&args("CLIENT ID"))).into_owned();
        let idb = String::from_utf8_lossy(&c.b.cmd(&args("CLIENT ID"))).into_owned();
        let ida = ida.trim().trim_start_matches(':').to_string();
        let idb = idb.trim().trim_start_matches(':').to_string();
        c.a.send(&args("XREAD BLOCK 0 STREAMS s $"));
        c.b.send(&args("XREAD BLOCK 0 STREAMS s $"));
        std::thread::sleep(Duration::from_millis(50));
        let ra = pair.a.cmd(&args(&format!("CLIENT UNBLOCK {ida}{how}")));
        let rb = pair.b.cmd(&args(&format!("CLIENT UNBLOCK {idb}{how}")));
        assert_eq!(show(&ra), show(&rb));
        assert_eq!(show(&c.a.read()), show(&c.b.read()), "unblock{how}");
    }
}

/// DUMP payloads of Debian's server RESTOREd into ours and the other way round.
#[test]
fn dump_restore_both_ways() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let setup = [
        "CONFIG SET stream-node-max-entries 4",
        "XADD s 1-0 a 1 b 2",
        "XADD s 2-0 a 3 b 4",
        "XADD s 3-0 other 5",
        "XADD s 4-0 a 12345 b -7",
        "XADD s 5-0 a x b y",
        "XADD s 6-0 a x b y",
        "XDEL s 2-0 6-0",
        "XGROUP CREATE s g 0",
        "XGROUP CREATE s g2 $ ENTRIESREAD 3",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
        "XREADGROUP GROUP g bob STREAMS s >",
        "XGROUP CREATECONSUMER s g idle",
        "XADD empty 1-0 f v",
        "XDEL empty 1-0",
    ];
    pair.both(&args("FLUSHALL"));
    for l in setup {
        pair.both(&args(l));
    }
    let inspect = [
        "XRANGE s - +",
        "XINFO STREAM s",
        "XINFO GROUPS s",
        "XPENDING s g",
        "DEBUG DIGEST-VALUE s",
        "XINFO STREAM empty",
    ];
    for key in ["s", "empty"] {
        let da = pair.a.cmd(&args(&format!("DUMP {key}")));
        let db = pair.b.cmd(&args(&format!("DUMP {key}")));
        let payload = |r: &[u8]| {
            let start = r.iter().position(|&c| c == b'\n').expect("bulk") + 1;
            r[start..r.len() - 2].to_vec()
        };
        let (pa, pb) = (payload(&da), payload(&db));
        let copy = format!("{key}copy");
        // Real's payload into ours, ours into real.
        let ra = pair.a.cmd(&[
            b"RESTORE".to_vec(),
            copy.clone().into_bytes(),
            b"0".to_vec(),
            pb,
        ]);
        let rb = pair
            .b
            .cmd(&[b"RESTORE".to_vec(), copy.into_bytes(), b"0".to_vec(), pa]);
        assert_eq!(show(&ra), "+OK\\r\\n");
        assert_eq!(show(&rb), "+OK\\r\\n");
    }
    for l in inspect {
        let l2 = l.replace(" s", " scopy").replace(" empty", " emptycopy");
        let (ra, rb) = pair.both(&args(&l2));
        assert_eq!(mask(&ra), mask(&rb), "{l2}");
        let (ra, _) = pair.both(&args(l));
        let (rc, _) = pair.both(&args(&l2));
        assert_eq!(mask(&ra), mask(&rc), "ours: {l} vs {l2}");
    }
}

fn random_command(rng: &mut fastrand::Rng, next_ms: &mut u64) -> String {
    let key = format!("s{}", rng.u8(0..3));
    let id = |rng: &mut fastrand::Rng, top: u64| -> String {
        match rng.u8(0..6) {
            0 => "-".into(),
            1 => "+".into(),
            2 => format!("({}-{}", rng.u64(0..top + 2), rng.u8(0..3)),
            _ => format!("{}-{}", rng.u64(0..top + 2), rng.u8(0..3)),
        }
    };
    let top = *next_ms;
    let group = format!("g{}", rng.u8(0..2));
    let consumer = format!("c{}", rng.u8(0..3));
    match rng.u8(0..22) {
        0..=5 => {
            *next_ms += rng.u64(0..3);
            let mut c = format!("XADD {key}");
            match rng.u8(0..8) {
                0 => c += &format!(" MAXLEN {}", rng.u8(0..20)),
                1 => c += &format!(" MAXLEN ~ {}", rng.u8(0..20)),
                2 => c += &format!(" MINID {}", rng.u64(0..top + 1)),
                3 => c += &format!(" MINID ~ {} LIMIT {}", rng.u64(0..top + 1), rng.u8(0..10)),
                4 => c += " NOMKSTREAM",
                _ => {}
            }
            if rng.bool() {
                c += &format!(" {}-*", *next_ms);
            } else {
                c += &format!(" {}-{}", *next_ms, rng.u8(0..4));
            }
            let n = rng.u8(1..4);
            for k in 0..n {
                let f = if rng.u8(0..4) == 0 {
                    format!("x{k}")
                } else {
                    format!("f{k}")
                };
                let v = match rng.u8(0..4) {
                    0 => rng.i32(-200000..200000).to_string(),
                    1 => "y".repeat(rng.usize(0..100)),
                    _ => format!("v{}", rng.u16(..)),
                };
                c += &format!(" {f} {v}");
            }
            c
        }
        6 => format!(
            "XRANGE {key} {} {} COUNT {}",
            id(rng, top),
            id(rng, top),
            rng.u8(0..5)
        ),
        7 => format!("XREVRANGE {key} {} {}", id(rng, top), id(rng, top)),
        8 => format!(
            "XDEL {key} {}-{} {}-0",
            rng.u64(0..top + 1),
            rng.u8(0..3),
            rng.u64(0..top + 1)
        ),
        9 => format!(
            "XTRIM {key} MAXLEN {}{}",
            if rng.bool() { "~ " } else { "" },
            rng.u8(0..15)
        ),
        10 => format!("XLEN {key}"),
        11 => format!(
            "XGROUP CREATE {key} {group} {} MKSTREAM",
            if rng.bool() {
                "$".to_string()
            } else {
                rng.u64(0..top + 1).to_string()
            }
        ),
        12 | 13 => format!(
            "XREADGROUP GROUP {group} {consumer} COUNT {} {}STREAMS {key} {}",
            rng.u8(0..4),
            if rng.u8(0..4) == 0 { "NOACK " } else { "" },
            if rng.u8(0..3) == 0 {
                "0".to_string()
            } else {
                ">".to_string()
            }
        ),
        14 => format!(
            "XACK {key} {group} {}-{} {}-0",
            rng.u64(0..top + 1),
            rng.u8(0..3),
            rng.u64(0..top + 1)
        ),
        15 => format!("XPENDING {key} {group}"),
        16 => format!(
            "XCLAIM {key} {group} {consumer} 0 {}-0 {}-1 JUSTID",
            rng.u64(0..top + 1),
            rng.u64(0..top + 1)
        ),
        17 => format!(
            "XAUTOCLAIM {key} {group} {consumer} 0 0 COUNT {} JUSTID",
            rng.u8(1..5)
        ),
        18 => format!("XINFO GROUPS {key}"),
        19 => format!("XINFO STREAM {key}"),
        20 => format!("XREAD COUNT 3 STREAMS {key} {}-0", rng.u64(0..top + 1)),
        _ => format!("XGROUP SETID {key} {group} {}", rng.u64(0..top + 1)),
    }
}

fn random_sequences(pair: &mut Pair, seeds: &[u64]) {
    for &seed in seeds {
        let mut rng = fastrand::Rng::with_seed(seed);
        pair.both(&args("FLUSHALL"));
        pair.both(&args(&format!(
            "CONFIG SET stream-node-max-entries {}",
            rng.u8(1..10)
        )));
        let max_bytes = if rng.bool() { 4096 } else { rng.u16(64..1024) };
        pair.both(&args(&format!(
            "CONFIG SET stream-node-max-bytes {max_bytes}"
        )));
        let mut next_ms = 1u64;
        for _batch in 0..20 {
            let cmds: Vec<String> = (0..100)
                .map(|_| random_command(&mut rng, &mut next_ms))
                .collect();
            for c in &cmds {
                pair.a.send(&args(c));
                pair.b.send(&args(c));
            }
            for c in &cmds {
                let (ra, rb) = (pair.a.read(), pair.b.read());
                assert_eq!(show(&ra), show(&rb), "seed {seed}: {c}");
            }
        }
        for i in 0..3 {
            for cmd in [
                format!("DEBUG DIGEST-VALUE s{i}"),
                format!("XINFO STREAM s{i}"),
                format!("XRANGE s{i} - +"),
            ] {
                let (ra, rb) = pair.both(&args(&cmd));
                assert_eq!(show(&ra), show(&rb), "seed {seed}: {cmd}");
            }
            let (ra, rb) = pair.both(&args(&format!("XINFO STREAM s{i} FULL")));
            assert_eq!(mask(&ra), mask(&rb), "seed {seed}: FULL s{i}");
        }
        let (ia, ib) = pair.both(&args("INFO persistence"));
        let dirty = |r: &[u8]| {
            String::from_utf8_lossy(r)
                .lines()
                .find(|l| l.starts_with("rdb_changes_since_last_save:"))
                .map(str::to_string)
        };
        assert_eq!(dirty(&ia), dirty(&ib), "seed {seed}: dirty count");
        // The sequence did build streams (not only errors).
        let total: i64 = (0..3)
            .map(|i| {
                let r = pair.a.cmd(&args(&format!("XLEN s{i}")));
                String::from_utf8_lossy(&r[1..r.len() - 2])
                    .parse::<i64>()
                    .unwrap_or(0)
            })
            .sum();
        assert!(total > 5, "seed {seed}: only {total} entries left");
        // Survives a reload unchanged.
        pair.both(&args("DEBUG RELOAD"));
        for i in 0..3 {
            let (ra, rb) = pair.both(&args(&format!("XINFO STREAM s{i}")));
            assert_eq!(show(&ra), show(&rb), "seed {seed}: after reload s{i}");
        }
    }
}

#[test]
fn random_stream_sequences() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    random_sequences(&mut pair, &[1, 2, 3, 4, 5, 6]);
}

#[test]
fn random_stream_sequences_resp3() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    assert!(pair.hello3());
    random_sequences(&mut pair, &[7, 8, 9]);
}

/// RDB files: ours written by SAVE load into Debian's server, and Debian's into ours.
#[test]
fn rdb_files_load_both_ways() {
    let Some(real_bin) = real_server() else {
        return;
    };
    let setup = [
        "CONFIG SET stream-node-max-entries 3",
        "XADD s 1-0 a 1 b 2",
        "XADD s 2-0 a 3 b 4",
        "XADD s 3-0 other 5",
        "XADD s 4-0 a 12345 b -7",
        "XADD s 5-0 a x b y",
        "XDEL s 2-0 5-0",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
        "XGROUP CREATECONSUMER s g idle",
        "XGROUP CREATE s g2 $ ENTRIESREAD 4",
        "XADD e 1-0 f v",
        "XDEL e 1-0",
        "SAVE",
    ];
    let inspect = [
        "XRANGE s - +",
        "XINFO STREAM s",
        "XINFO GROUPS s",
        "XPENDING s g",
        "XINFO STREAM s FULL",
        "DEBUG DIGEST-VALUE s e",
        "XINFO STREAM e",
    ];
    for ours_writes in [true, false] {
        let (w_bin, r_bin) = if ours_writes {
            (our_server(), real_bin.clone())
        } else {
            (real_bin.clone(), our_server())
        };
        let writer = Server::start(&w_bin, &["--enable-debug-command", "yes"]);
        let mut wc = RawClient::connect(writer.port);
        for l in setup {
            let r = wc.cmd(&args(l));
            assert!(!r.starts_with(b"-"), "{l}: {}", show(&r));
        }
        let dir = writer.dir.0.to_string_lossy().into_owned();
        let reader = Server::start(&r_bin, &["--enable-debug-command", "yes", "--dir", &dir]);
        let mut rc = RawClient::connect(reader.port);
        for l in inspect {
            let (a, b) = (wc.cmd(&args(l)), rc.cmd(&args(l)));
            assert_eq!(mask(&a), mask(&b), "ours writes: {ours_writes}: {l}");
        }
    }
}
