//! HyperLogLog and geo commands: the same requests to our server and to Debian's
//! redis-server 7.0.15, reply bytes compared (errors included), in RESP2 and RESP3;
//! the HyperLogLog strings themselves (GET after the same PFADDs, sparse and dense)
//! byte for byte; strings written by the real server SET into ours and counted;
//! seeded random sequences compared reply by reply, then DEBUG DIGEST-VALUE.

mod common;
use common::raw::*;
use common::*;

const HLL_SCENARIOS: &[&[&str]] = &[
    // The basics, and the header's cached cardinality.
    &[
        "PFADD hll",
        "EXISTS hll",
        "GET hll",
        "PFCOUNT hll",
        "GET hll",
        "PFADD hll a b c",
        "PFADD hll a b c",
        "PFADD hll \"\"",
        "GETRANGE hll 0 15",
        "PFCOUNT hll",
        "GETRANGE hll 0 15",
        "PFADD hll a",
        "GETRANGE hll 15 15",
        "PFADD hll 1 2 3",
        "GETRANGE hll 15 15",
        "GET hll",
        "PFCOUNT hll",
        "PFCOUNT nokey",
        "PFCOUNT nokey nokey2",
        "TYPE hll",
        "OBJECT ENCODING hll",
        "STRLEN hll",
        "DEBUG DIGEST-VALUE hll",
        "COPY hll hllcopy",
        "GET hllcopy",
        "RENAME hllcopy hll2",
        "PFCOUNT hll2",
        "PFADD hll2 x y z",
        "PFCOUNT hll hll2",
        "PFCOUNT hll hll2 nokey",
        "PFMERGE hll3 hll hll2",
        "GET hll3",
        "PFCOUNT hll3",
        "PFMERGE hll3",
        "PFMERGE newkey",
        "GET newkey",
        "PFDEBUG DECODE hll3",
        "PFDEBUG ENCODING hll3",
        "PFDEBUG TODENSE hll3",
        "PFDEBUG TODENSE hll3",
        "PFDEBUG ENCODING hll3",
        "PFDEBUG DECODE hll3",
        "PFCOUNT hll3",
        "GETRANGE hll3 0 40",
        "PFADD hll3 more elements here",
        "PFCOUNT hll3",
        "PFMERGE hll4 hll3 hll",
        "PFDEBUG ENCODING hll4",
        "PFCOUNT hll4",
        "DEBUG DIGEST-VALUE hll4",
        "OBJECT ENCODING hll4",
        "PFDEBUG GETREG nokey",
        "PFDEBUG FOO hll",
        "PFDEBUG FOO nokey",
        "PFDEBUG getreg",
        "PFDEBUG getreg hll extra",
    ],
    // Type checks and corrupt values.
    &[
        "SET foo bar",
        "PFADD foo 1",
        "PFCOUNT foo",
        "PFCOUNT foo nokey",
        "PFMERGE bar foo",
        "PFMERGE foo bar",
        "PFDEBUG ENCODING foo",
        "SET num 12345678901234567",
        "PFADD num a",
        "PFCOUNT num",
        "RPUSH list a",
        "PFADD list a",
        "PFCOUNT list",
        "PFCOUNT hll list",
        "PFMERGE list",
        "PFDEBUG ENCODING list",
        "PFADD hll a b c",
        "APPEND hll hello",
        "PFCOUNT hll",
        "PFADD hll d",
        "PFADD hll a",
        "PFCOUNT hll hll",
        "PFMERGE m hll",
        "PFDEBUG TODENSE hll",
        "PFDEBUG GETREG hll",
        "PFDEBUG DECODE hll",
        "DEL hll",
        "PFADD hll a b c",
        "SETRANGE hll 0 0123",
        "PFCOUNT hll",
        "PFADD hll x",
        "DEL hll",
        "PFADD hll a b c",
        "SETRANGE hll 4 x",
        "PFCOUNT hll",
        "DEL hll",
        "PFADD hll a b c",
        "SETRANGE hll 4 \"\\x00\"",
        "PFCOUNT hll",
        "SET short HYLL",
        "PFCOUNT short",
        "SET hdr \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"",
        "PFCOUNT hdr",
        "PFADD hdr a",
        "PFDEBUG DECODE hdr",
        "SET zhdr \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x3f\"",
        "PFCOUNT zhdr",
        "PFADD zhdr a",
        "PFMERGE zz zhdr",
        "SET cut \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\"",
        "PFCOUNT cut",
        "PFADD cut a b c d e f",
        "GET cut",
        "PFDEBUG DECODE cut",
        "SET big \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xff\\xff\\xff\\xff\\xff\\x7f\\xff\\x7f\\xff\\x7f\\xff\"",
        "PFCOUNT big",
        "PFCOUNT big nokey",
        "PFADD big a",
        "SET cached \"HYLL\\x01\\x00\\x00\\x00\\x05\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\"",
        "PFCOUNT cached",
        "PFADD cached zzz",
        "PFCOUNT cached",
        "GET cached",
    ],
    // Elements of every length (every MurmurHash tail), binary ones included.
    &[
        "PFADD h \"\" a ab abc abcd abcde abcdef abcdefg abcdefgh abcdefghi abcdefghijklmnopq",
        "PFADD h \"\\x00\" \"\\x00\\x00\" \"\\xff\\xfe\\xfd\" \"a\\x00b\"",
        "GET h",
        "PFCOUNT h",
        "PFDEBUG DECODE h",
        "PFDEBUG GETREG h",
        "GET h",
    ],
    // hll-sparse-max-bytes.
    &[
        "CONFIG GET hll-sparse-max-bytes",
        "CONFIG SET hll-sparse-max-bytes 30",
        "CONFIG GET hll-sparse-max-bytes",
        "PFADD h a b c d e f g h i j k l m n o p",
        "PFDEBUG ENCODING h",
        "GET h",
        "PFADD h2 a",
        "PFDEBUG ENCODING h2",
        "CONFIG SET hll-sparse-max-bytes 0",
        "PFADD h3",
        "PFADD h3 a",
        "PFDEBUG ENCODING h3",
        "CONFIG SET hll-sparse-max-bytes -1",
        "CONFIG SET hll-sparse-max-bytes abc",
        "CONFIG SET hll-sparse-max-bytes 3000",
        "CONFIG GET hll-sparse-max-bytes",
    ],
    // Arity.
    &[
        "PFADD",
        "PFCOUNT",
        "PFMERGE",
        "PFDEBUG",
        "PFDEBUG GETREG",
        "PFSELFTEST x",
    ],
];

const GEO_SCENARIOS: &[&[&str]] = &[
    // GEOADD options and errors.
    &[
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "ZRANGE Sicily 0 -1 WITHSCORES",
        "GEOADD Sicily 13.361389 38.115556 Palermo",
        "GEOADD Sicily CH 13.361390 38.115556 Palermo",
        "GEOADD Sicily NX 1 1 Palermo 2 2 New",
        "GEOADD Sicily XX CH 3 3 New 4 4 Newer",
        "GEOADD Sicily XX NX 1 1 a",
        "GEOADD Sicily NX XX 1 1 a",
        "GEOADD Sicily CH NX CH 5 5 New2",
        "GEOADD Sicily 1 2",
        "GEOADD Sicily 1 2 a 3",
        "GEOADD Sicily CH",
        "GEOADD Sicily NX XX CH",
        "GEOADD Sicily 200 10 a",
        "GEOADD Sicily -180.0000001 10 a",
        "GEOADD Sicily 10 85.05112879 a",
        "GEOADD Sicily 10 -85.05112879 a",
        "GEOADD Sicily 180 85.05112878 max -180 -85.05112878 min",
        "GEOADD Sicily 1e400 1 a",
        "GEOADD Sicily abc 1 a",
        "GEOADD Sicily 1 abc a",
        "GEOADD Sicily 1 1 ok 2 nan bad",
        "GEOADD Sicily GT 1 1 a",
        "GEOADD Sicily 1 1 ok 200 1 bad",
        "ZRANGE Sicily 0 -1 WITHSCORES",
        "GEOPOS Sicily max min",
        "GEOHASH Sicily max min",
        "SET str x",
        "GEOADD str 1 1 a",
        "GEOADD str 1 1000 a",
        "GEOADD nokey XX 1 1 a",
        "EXISTS nokey",
        "GEOADD z 0 0 zero 0.0000001 0.0000001 tiny -0.0000001 -0.0000001 ntiny",
        "GEOPOS z zero tiny ntiny",
        "GEOHASH z zero tiny ntiny",
        "OBJECT ENCODING Sicily",
    ],
    // GEOPOS, GEOHASH, GEODIST.
    &[
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
        "GEOPOS Sicily Palermo Catania NonExisting",
        "GEOPOS Sicily",
        "GEOPOS nokey a b",
        "GEOPOS nokey",
        "GEOHASH Sicily Palermo Catania NonExisting",
        "GEOHASH Sicily",
        "GEOHASH nokey a",
        "GEODIST Sicily Palermo Catania",
        "GEODIST Sicily Palermo Catania m",
        "GEODIST Sicily Palermo Catania KM",
        "GEODIST Sicily Palermo Catania ft",
        "GEODIST Sicily Palermo Catania Mi",
        "GEODIST Sicily Palermo Catania yd",
        "GEODIST Sicily Palermo Catania km extra",
        "GEODIST Sicily Palermo Palermo",
        "GEODIST Sicily Palermo Nope",
        "GEODIST nokey a b",
        "GEODIST nokey a b foo",
        "SET str x",
        "GEODIST str a b",
        "GEODIST str a b foo",
        "GEOPOS str a",
        "GEOHASH str a",
        "ZADD weird -1 neg 1e300 huge 4503599627370496 top inf pinf -inf ninf 0.5 half",
        "GEOPOS weird neg huge top pinf ninf half",
        "GEOHASH weird neg huge top pinf ninf half",
        "GEODIST weird neg huge",
        "GEODIST weird pinf ninf km",
        "GEORADIUS weird 0 0 20000 km WITHHASH WITHCOORD WITHDIST",
    ],
    // GEORADIUS / GEORADIUSBYMEMBER and their options.
    &[
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento",
        "GEORADIUS Sicily 15 37 200 km",
        "GEORADIUS Sicily 15 37 200 km WITHDIST",
        "GEORADIUS Sicily 15 37 200 km WITHCOORD",
        "GEORADIUS Sicily 15 37 200 km WITHHASH",
        "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
        "GEORADIUS Sicily 15 37 200 km WITHDIST DESC",
        "GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 1",
        "GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 2 DESC",
        "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
        "GEORADIUS Sicily 15 37 200 km COUNT 5 ANY ASC",
        "GEORADIUS Sicily 15 37 200 km ANY",
        "GEORADIUS Sicily 15 37 200 km COUNT 0",
        "GEORADIUS Sicily 15 37 200 km COUNT -1",
        "GEORADIUS Sicily 15 37 200 km COUNT abc",
        "GEORADIUS Sicily 15 37 200 km COUNT",
        "GEORADIUS Sicily 15 37 200 km STORE",
        "GEORADIUS Sicily 15 37 200 km FOO",
        "GEORADIUS Sicily 15 37 200000 m WITHDIST",
        "GEORADIUS Sicily 15 37 200 mi WITHDIST",
        "GEORADIUS Sicily 15 37 600000 ft WITHDIST",
        "GEORADIUS Sicily 15 37 -1 km",
        "GEORADIUS Sicily 15 37 abc km",
        "GEORADIUS Sicily 15 37 1 parsec",
        "GEORADIUS Sicily 15 100 1 km",
        "GEORADIUS Sicily 15 37 0 km",
        "GEORADIUS Sicily 15 37 1 km",
        "GEORADIUS Sicily 15 37 200 km STORE dst",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst2 COUNT 2",
        "ZRANGE dst2 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst WITHCOORD",
        "GEORADIUS Sicily 15 37 1 km STORE dst",
        "EXISTS dst",
        "GEORADIUS nokey 15 37 1 km STORE dst2",
        "EXISTS dst2",
        "GEORADIUS nokey 15 37 1 km",
        "GEORADIUS nokey 15 37 1 km WITHDIST STORE x",
        "GEORADIUS nokey 15 137 1 km",
        "GEORADIUS_RO Sicily 15 37 200 km WITHDIST",
        "GEORADIUS_RO Sicily 15 37 200 km STORE dst",
        "GEORADIUS_RO Sicily 15 37 200 km STOREDIST dst",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST WITHCOORD",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST DESC COUNT 2",
        "GEORADIUSBYMEMBER Sicily Nope 200 km",
        "GEORADIUSBYMEMBER Sicily Palermo -200 km",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km STORE dst3",
        "ZRANGE dst3 0 -1 WITHSCORES",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STORE x",
        "GEORADIUSBYMEMBER nokey Palermo abc parsec",
        "GEORADIUSBYMEMBER nokey Palermo abc parsec STORE dst3",
        "EXISTS dst3",
        "GEORADIUSBYMEMBER nokey Palermo abc parsec FOO",
        "SET str x",
        "GEORADIUS str 15 37 200 km",
        "GEORADIUS str 15 370 200 km",
        "GEORADIUSBYMEMBER str a 200 km",
        "GEOSEARCH str FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst str FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEORADIUS Sicily 15 37 20000 km WITHDIST",
        "GEORADIUS Sicily 0 0 30000 km WITHDIST",
        "GEORADIUS Sicily 179.9 85 30000 km",
    ],
    // GEOSEARCH / GEOSEARCHSTORE.
    &[
        "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento",
        "GEOADD Sicily 12.758489 38.788135 edge1 17.241510 38.788135 edge2",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC COUNT 2",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 ANY",
        "GEOSEARCH Sicily FROMMEMBER Catania BYBOX 10 10 mi",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 -1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX abc 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 abc km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 parsec",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMMEMBER Nope BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37",
        "GEOSEARCH Sicily BYRADIUS 10 km",
        "geosearch Sicily BYRADIUS 10 km WITHDIST",
        "GeoSearch Sicily FROMLONLAT 1 1 WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km STORE x",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km STOREDIST",
        "GEOSEARCH Sicily FROMLONLAT 1000 1 BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ANY",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0",
        "GEOSEARCH nokey FROMMEMBER a BYRADIUS 1 km",
        "GEOSEARCH nokey FROMMEMBER a BYBOX 1 1 km WITHDIST",
        "GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS abc km",
        "GEOSEARCH nokey FROMMEMBER a",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 1 DESC STOREDIST",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 1 m",
        "EXISTS dst",
        "GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYRADIUS 1 m",
        "GEOSEARCHSTORE Sicily Sicily FROMLONLAT 15 37 BYRADIUS 150 km",
        "ZRANGE Sicily 0 -1 WITHSCORES",
        "OBJECT ENCODING Sicily",
        "GEOSEARCHSTORE dst nokey FROMMEMBER a",
        "GEOSEARCHSTORE dst nokey BYRADIUS 1 km",
    ],
    // Ties: members at the same place, sorted with COUNT (partial sort) and without.
    &[
        "GEOADD t 10 10 a 10 10 b 10 10 c 10 10 d 10 10 e 10 10 f 10 10 g 10 10 h 10.001 10 i 10.001 10 j 9.999 10 k 10 10.001 l 10 9.999 m",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km ASC",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km DESC",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km ASC COUNT 3",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km DESC COUNT 3",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km ASC COUNT 9",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km DESC COUNT 12",
        "GEOSEARCH t FROMLONLAT 10.0005 10 BYRADIUS 10 km COUNT 5 WITHDIST",
        "GEOSEARCH t FROMLONLAT 10 10 BYRADIUS 10 km COUNT 4 ANY",
    ],
    // Encodings of stored results and the skiplist source.
    &[
        "CONFIG SET zset-max-listpack-entries 2",
        "GEOADD big 1 1 a 1.1 1.1 b 1.2 1.2 c 1.3 1.3 d",
        "OBJECT ENCODING big",
        "GEOSEARCH big FROMLONLAT 1 1 BYRADIUS 100 km ASC WITHDIST",
        "GEOSEARCHSTORE s big FROMLONLAT 1 1 BYRADIUS 100 km COUNT 2",
        "OBJECT ENCODING s",
        "GEOSEARCHSTORE s big FROMLONLAT 1 1 BYRADIUS 100 km",
        "OBJECT ENCODING s",
        "CONFIG SET zset-max-listpack-value 3",
        "GEOADD long 1 1 abcdef",
        "OBJECT ENCODING long",
        "CONFIG SET zset-max-listpack-entries 128",
        "CONFIG SET zset-max-listpack-value 64",
        "DEBUG DIGEST-VALUE big",
        "MEMORY USAGE nokey",
    ],
    // Arity.
    &[
        "GEOADD k 1 2",
        "GEODIST k a",
        "GEOHASH",
        "GEOPOS",
        "GEORADIUS k 1 2 3",
        "GEORADIUS_RO k 1 2 3",
        "GEORADIUSBYMEMBER k a 1",
        "GEORADIUSBYMEMBER_RO k a 1",
        "GEOSEARCH k FROMLONLAT 1 1 BYRADIUS",
        "GEOSEARCHSTORE d k FROMLONLAT 1 1 BYRADIUS",
    ],
];

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

fn start() -> Option<Pair> {
    Pair::start(&["--enable-debug-command", "yes"])
}

#[test]
fn hll_commands_resp2() {
    let Some(mut pair) = start() else { return };
    check(&mut pair, HLL_SCENARIOS, "RESP2 hll");
}

#[test]
fn hll_commands_resp3() {
    let Some(mut pair) = start() else { return };
    assert!(pair.hello3());
    check(&mut pair, HLL_SCENARIOS, "RESP3 hll");
}

#[test]
fn geo_commands_resp2() {
    let Some(mut pair) = start() else { return };
    check(&mut pair, GEO_SCENARIOS, "RESP2 geo");
}

#[test]
fn geo_commands_resp3() {
    let Some(mut pair) = start() else { return };
    assert!(pair.hello3());
    check(&mut pair, GEO_SCENARIOS, "RESP3 geo");
}

#[test]
fn geo_commands_skiplist_sources() {
    let Some(mut pair) = Pair::start(&["--zset-max-listpack-entries", "0"]) else {
        return;
    };
    // The encoding scenario sets the thresholds itself.
    let n = GEO_SCENARIOS.len() - 2;
    check(&mut pair, &GEO_SCENARIOS[..n], "RESP2 geo, skiplist");
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// PFADDs of `n` elements in batches of `batch`, the same on both servers; the
/// string must be byte-identical after every batch.
fn same_bytes_after_adds(pair: &mut Pair, key: &str, n: usize, batch: usize, prefix: &str) {
    let mut i = 0;
    while i < n {
        let mut c = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
        for j in i..(i + batch).min(n) {
            c.push(format!("{prefix}{j}").into_bytes());
        }
        i += batch;
        let (ra, rb) = pair.both(&c);
        assert_eq!(show(&ra), show(&rb), "PFADD {key} up to {i}");
        let (ga, gb) = pair.both(&cmd(&[b"GET", key.as_bytes()]));
        assert!(ga == gb, "{key}: different bytes after {i} elements");
    }
    for c in ["PFCOUNT", "PFDEBUG ENCODING"] {
        let line = format!("{c} {key}");
        let (ra, rb) = pair.both(&args(&line));
        assert_eq!(show(&ra), show(&rb), "{line}");
    }
    let (ga, gb) = pair.both(&cmd(&[b"GET", key.as_bytes()]));
    assert!(ga == gb, "{key}: different bytes after PFCOUNT");
}

#[test]
fn hll_strings_are_byte_identical() {
    let Some(mut pair) = start() else { return };
    // Sparse all along, through the promotion, and dense.
    same_bytes_after_adds(&mut pair, "s1", 50, 1, "e");
    same_bytes_after_adds(&mut pair, "s2", 400, 7, "x-");
    same_bytes_after_adds(&mut pair, "s3", 3000, 50, "");
    same_bytes_after_adds(&mut pair, "d1", 20000, 500, "elem:");
    // Merges into sparse and dense destinations.
    for line in [
        "PFMERGE m1 s1 s2",
        "PFMERGE m2 s1 s3",
        "PFMERGE m3 d1 s1",
        "PFMERGE s1 s2",
        "PFMERGE nothere",
        "PFCOUNT s1 s2 s3 d1",
        "PFCOUNT m1",
        "PFCOUNT m2",
        "PFCOUNT m3",
    ] {
        let (ra, rb) = pair.both(&args(line));
        assert_eq!(show(&ra), show(&rb), "{line}");
    }
    for key in ["m1", "m2", "m3", "s1", "nothere"] {
        let (ga, gb) = pair.both(&cmd(&[b"GET", key.as_bytes()]));
        assert!(ga == gb, "{key}: different bytes after PFMERGE");
    }
    // A small hll-sparse-max-bytes promotes early, at the same step.
    pair.both(&args("CONFIG SET hll-sparse-max-bytes 200"));
    same_bytes_after_adds(&mut pair, "p1", 300, 3, "p");
    pair.both(&args("CONFIG SET hll-sparse-max-bytes 3000"));
}

#[test]
fn hll_strings_from_real_redis_count_the_same() {
    let Some(mut pair) = start() else { return };
    let mut rng = fastrand::Rng::with_seed(42);
    for (round, n) in [0usize, 1, 5, 90, 700, 1500, 4000, 30000]
        .into_iter()
        .enumerate()
    {
        let key = format!("h{round}");
        let mut c = vec![b"PFADD".to_vec(), key.clone().into_bytes()];
        for _ in 0..n {
            c.push(rng.u64(..).to_string().into_bytes());
        }
        pair.b.cmd(&c);
        let bytes = pair.b.cmd(&cmd(&[b"GET", key.as_bytes()]));
        // A bulk reply: strip "$len\r\n" and the final "\r\n".
        let start = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let value = bytes[start..bytes.len() - 2].to_vec();
        let set = cmd(&[b"SET", key.as_bytes(), &value]);
        let ra = pair.a.cmd(&set);
        assert_eq!(ra, b"+OK\r\n");
        for line in [
            format!("PFCOUNT {key}"),
            format!("PFDEBUG ENCODING {key}"),
            format!("PFADD {key} one more element"),
            format!("PFCOUNT {key}"),
            format!("GET {key}"),
            format!("PFMERGE all{{x}} {key}"),
            "PFCOUNT all{x}".to_string(),
            format!("PFCOUNT {key} all{{x}}"),
            format!("PFDEBUG TODENSE {key}"),
            format!("GET {key}"),
        ] {
            let (ra, rb) = pair.both(&args(&line));
            assert!(ra == rb, "{line}: {} vs {}", show(&ra), show(&rb));
        }
    }
}

/// Corrupted HyperLogLogs (random bytes overwritten, as Redis's fuzz test does):
/// the same errors, counts and resulting bytes as Redis, and no crash.
#[test]
fn corrupted_hlls_behave_the_same() {
    let Some(mut pair) = start() else { return };
    let mut rng = fastrand::Rng::with_seed(99);
    for round in 0..300 {
        pair.both(&args("DEL hll other"));
        let mut c = vec![b"PFADD".to_vec(), b"hll".to_vec()];
        for _ in 0..rng.usize(0..if round % 3 == 0 { 3000 } else { 300 }) {
            c.push(rng.u32(..).to_string().into_bytes());
        }
        pair.both(&c);
        pair.both(&args("PFADD other x y z"));
        let len_reply = pair.b.cmd(&args("STRLEN hll"));
        let len: usize = String::from_utf8_lossy(&len_reply[1..len_reply.len() - 2])
            .parse()
            .unwrap();
        for _ in 0..rng.usize(1..4) {
            // Mostly the opcodes, sometimes the header or past the end.
            let pos = if rng.u8(0..8) == 0 {
                rng.usize(0..len + 3)
            } else {
                16 + rng.usize(0..len.saturating_sub(16).max(1))
            };
            let byte = vec![rng.u8(..)];
            let set = cmd(&[b"SETRANGE", b"hll", pos.to_string().as_bytes(), &byte]);
            pair.both(&set);
        }
        let mut add = vec![b"PFADD".to_vec(), b"hll".to_vec()];
        for _ in 0..rng.usize(0..20) {
            add.push(rng.u32(..).to_string().into_bytes());
        }
        for c in [
            add,
            args("PFCOUNT hll"),
            args("PFCOUNT hll other"),
            args("PFMERGE other hll"),
            args("PFDEBUG DECODE hll"),
            args("GET hll"),
            args("GET other"),
        ] {
            let (ra, rb) = pair.both(&c);
            assert!(
                ra == rb,
                "round {round}: {:?}\n ours: {}\n real: {}",
                String::from_utf8_lossy(&c[0]),
                show(&ra),
                show(&rb)
            );
        }
    }
}

/// Random elements from a small universe, so adds repeat.
fn elem(rng: &mut fastrand::Rng) -> Vec<u8> {
    match rng.u8(0..4) {
        0 => rng.u32(0..200).to_string().into_bytes(),
        1 => format!("e{}", rng.u32(0..5000)).into_bytes(),
        2 => (0..rng.usize(0..12)).map(|_| rng.u8(..)).collect(),
        _ => rng.u64(..).to_string().into_bytes(),
    }
}

fn coord(rng: &mut fastrand::Rng, lo: f64, hi: f64) -> Vec<u8> {
    match rng.u8(0..20) {
        0 => format!("{}", rng.i32(-200..200)).into_bytes(),
        1 => b"abc".to_vec(),
        _ => format!("{:.6}", lo + (hi - lo) * rng.f64()).into_bytes(),
    }
}

fn random_command(rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let s = |x: &str| x.as_bytes().to_vec();
    let hkey = |rng: &mut fastrand::Rng| format!("h{}", rng.u8(0..4)).into_bytes();
    let gkey = |rng: &mut fastrand::Rng| format!("g{}", rng.u8(0..3)).into_bytes();
    let unit = |rng: &mut fastrand::Rng| s(["m", "km", "ft", "mi", "KM", "yd"][rng.usize(0..6)]);
    let member = |rng: &mut fastrand::Rng| format!("m{}", rng.u32(0..60)).into_bytes();
    // Points within a few hundred km of (10, 45), sometimes anywhere.
    let lon = |rng: &mut fastrand::Rng| {
        if rng.u8(0..10) == 0 {
            coord(rng, -180.0, 180.0)
        } else {
            coord(rng, 7.0, 13.0)
        }
    };
    let lat = |rng: &mut fastrand::Rng| {
        if rng.u8(0..10) == 0 {
            coord(rng, -85.0, 85.0)
        } else {
            coord(rng, 43.0, 47.0)
        }
    };
    let options = |rng: &mut fastrand::Rng, c: &mut Vec<Vec<u8>>| {
        for _ in 0..rng.usize(0..4) {
            match rng.u8(0..7) {
                0 => c.push(s("WITHDIST")),
                1 => c.push(s("WITHCOORD")),
                2 => c.push(s("WITHHASH")),
                3 => c.push(s(["ASC", "DESC"][rng.usize(0..2)])),
                4 => {
                    c.push(s("COUNT"));
                    c.push(rng.i32(-1..8).to_string().into_bytes());
                }
                5 => c.push(s("ANY")),
                _ => {
                    c.push(s("COUNT"));
                    c.push(rng.i32(1..30).to_string().into_bytes());
                }
            }
        }
    };
    let radius = |rng: &mut fastrand::Rng| -> Vec<u8> {
        match rng.u8(0..12) {
            0 => s("-1"),
            1 => s("0"),
            _ => format!("{}", rng.u32(1..400)).into_bytes(),
        }
    };
    match rng.u8(0..16) {
        0..=2 => {
            let mut c = vec![s("PFADD"), hkey(rng)];
            for _ in 0..rng.usize(0..40) {
                c.push(elem(rng));
            }
            c
        }
        3 => {
            let mut c = vec![s("PFCOUNT")];
            for _ in 0..rng.usize(1..4) {
                c.push(hkey(rng));
            }
            c
        }
        4 => {
            let mut c = vec![s("PFMERGE")];
            for _ in 0..rng.usize(1..4) {
                c.push(hkey(rng));
            }
            c
        }
        5 => vec![s("GET"), hkey(rng)],
        6 => {
            let mut c = vec![s("GEOADD"), gkey(rng)];
            if rng.u8(0..5) == 0 {
                c.push(s(["NX", "XX", "CH"][rng.usize(0..3)]));
            }
            for _ in 0..rng.usize(1..6) {
                c.push(lon(rng));
                c.push(lat(rng));
                c.push(member(rng));
            }
            c
        }
        7 => {
            let mut c = vec![s("GEOPOS"), gkey(rng)];
            for _ in 0..rng.usize(1..4) {
                c.push(member(rng));
            }
            c
        }
        8 => {
            let mut c = vec![s("GEOHASH"), gkey(rng)];
            for _ in 0..rng.usize(1..4) {
                c.push(member(rng));
            }
            c
        }
        9 => {
            let mut c = vec![s("GEODIST"), gkey(rng), member(rng), member(rng)];
            if rng.bool() {
                c.push(unit(rng));
            }
            c
        }
        10 | 11 => {
            let mut c = vec![s("GEOSEARCH"), gkey(rng)];
            if rng.bool() {
                c.extend([s("FROMMEMBER"), member(rng)]);
            } else {
                c.extend([s("FROMLONLAT"), lon(rng), lat(rng)]);
            }
            if rng.bool() {
                c.extend([s("BYRADIUS"), radius(rng), unit(rng)]);
            } else {
                c.extend([s("BYBOX"), radius(rng), radius(rng), unit(rng)]);
            }
            options(rng, &mut c);
            c
        }
        12 => {
            let mut c = vec![s("GEOSEARCHSTORE"), gkey(rng), gkey(rng)];
            c.extend([s("FROMLONLAT"), lon(rng), lat(rng)]);
            c.extend([s("BYRADIUS"), radius(rng), unit(rng)]);
            if rng.bool() {
                c.push(s("STOREDIST"));
            }
            if rng.bool() {
                c.extend([s("COUNT"), rng.u32(1..10).to_string().into_bytes()]);
            }
            c
        }
        13 => {
            let mut c = vec![s("GEORADIUS"), gkey(rng), lon(rng), lat(rng), radius(rng)];
            c.push(unit(rng));
            options(rng, &mut c);
            c
        }
        14 => {
            let mut c = vec![s("GEORADIUSBYMEMBER"), gkey(rng), member(rng), radius(rng)];
            c.push(unit(rng));
            options(rng, &mut c);
            if rng.u8(0..4) == 0 {
                c.extend([s(["STORE", "STOREDIST"][rng.usize(0..2)]), gkey(rng)]);
            }
            c
        }
        _ => vec![s("ZREM"), gkey(rng), member(rng)],
    }
}

fn random_sequences(pair: &mut Pair, seeds: &[u64]) {
    for &seed in seeds {
        let mut rng = fastrand::Rng::with_seed(seed);
        pair.both(&args("FLUSHALL"));
        for _batch in 0..20 {
            let cmds: Vec<Vec<Vec<u8>>> = (0..100).map(|_| random_command(&mut rng)).collect();
            for c in &cmds {
                pair.a.send(c);
                pair.b.send(c);
            }
            for c in &cmds {
                let (ra, rb) = (pair.a.read(), pair.b.read());
                assert!(
                    ra == rb,
                    "seed {seed}: different replies for {:?}\n ours: {}\n real: {}",
                    c.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>(),
                    show(&ra),
                    show(&rb)
                );
            }
        }
        for k in ["h0", "h1", "h2", "h3", "g0", "g1", "g2"] {
            for c in [
                format!("DEBUG DIGEST-VALUE {k}"),
                format!("OBJECT ENCODING {k}"),
            ] {
                let (ra, rb) = pair.both(&args(&c));
                assert_eq!(show(&ra), show(&rb), "seed {seed}: {c}");
            }
        }
        let (ia, ib) = pair.both(&args("INFO persistence"));
        let dirty = |r: &[u8]| {
            String::from_utf8_lossy(r)
                .lines()
                .find(|l| l.starts_with("rdb_changes_since_last_save:"))
                .map(str::to_string)
        };
        assert_eq!(dirty(&ia), dirty(&ib), "seed {seed}: dirty count");
    }
}

#[test]
fn random_hll_geo_sequences() {
    let Some(mut pair) = start() else { return };
    random_sequences(&mut pair, &[1, 2, 3]);
}

#[test]
fn random_hll_geo_sequences_resp3() {
    let Some(mut pair) = start() else { return };
    assert!(pair.hello3());
    random_sequences(&mut pair, &[4, 5]);
}

#[test]
fn pfselftest_passes() {
    let Some(mut pair) = start() else { return };
    let r = pair.a.cmd(&args("PFSELFTEST"));
    assert_eq!(show(&r), "+OK\\r\\n");
}
