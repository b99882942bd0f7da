//! Geo commands, on top of sorted sets: a member's score is the 52-bit geohash of its
//! position (`types/geohash.rs`). GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH,
//! GEOSEARCHSTORE and the GEORADIUS family, with Redis 7.0's argument order, error
//! texts and number formats (positions as "%.17Lf" trimmed, distances with four
//! decimals).

use crate::cmd::zset::parse_score;
use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::object::Value;
use crate::pubsub::class;
use crate::state::Server;
use crate::types::geohash::{self as gh, Shape, ShapeKind};
use crate::types::zset::ZSet;
use std::cmp::Ordering;
use std::io::Write;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("geoadd", geoadd),
    ("geodist", geodist),
    ("geohash", geohash),
    ("geopos", geopos),
    ("georadius", georadius),
    ("georadius_ro", georadius_ro),
    ("georadiusbymember", georadiusbymember),
    ("georadiusbymember_ro", georadiusbymember_ro),
    ("geosearch", geosearch),
    ("geosearchstore", geosearchstore),
];

const UNIT_ERR: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const MEMBER_ERR: &str = "ERR could not decode requested zset member";

// ---------------------------------------------------------------------------
// Arguments.

/// `arg` as C's strcasecmp sees it (up to a NUL) equals `word`.
fn is(arg: &[u8], word: &str) -> bool {
    let end = arg.iter().position(|&c| c == 0).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's getDoubleFromObjectOrReply, with its optional message.
fn arg_double(arg: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    parse_score(arg).ok_or_else(|| msg.into())
}

/// A longitude and a latitude, parsed and checked against the geo limits.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = arg_double(lon, errors::NOT_FLOAT)?;
    let y = arg_double(lat, errors::NOT_FLOAT)?;
    if !(gh::LONG_MIN..=gh::LONG_MAX).contains(&x) || !(gh::LAT_MIN..=gh::LAT_MAX).contains(&y) {
        return Err(format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}").into());
    }
    Ok([x, y])
}

/// The factor from a unit to metres.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    if is(arg, "m") {
        Ok(1.0)
    } else if is(arg, "km") {
        Ok(1000.0)
    } else if is(arg, "ft") {
        Ok(0.3048)
    } else if is(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(UNIT_ERR.into())
    }
}

/// `radius unit`: (conversion, radius).
fn distance_arg(radius: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let d = arg_double(radius, "ERR need numeric radius")?;
    if d < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((unit(u)?, d))
}

/// `width height unit`: (conversion, width, height).
fn box_arg(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = arg_double(w, "ERR need numeric width")?;
    let h = arg_double(h, "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err("ERR height or width cannot be negative".into());
    }
    Ok((unit(u)?, w, h))
}

// ---------------------------------------------------------------------------
// Number formats.

/// Redis's "human" long double text of a double: "%.17f" without trailing zeros
/// (nor a trailing dot), "-0" written "0".
fn human(d: f64, buf: &mut [u8; 64]) -> &[u8] {
    if d.is_infinite() {
        return if d > 0.0 { b"inf" } else { b"-inf" };
    }
    let cap = buf.len();
    let mut w: &mut [u8] = &mut buf[..];
    if write!(w, "{d:.17}").is_err() {
        // Beyond 64 characters: not a coordinate; fall back to an allocation.
        let s = format!("{d:.17}");
        let t = s.trim_end_matches('0').trim_end_matches('.');
        let n = t.len().min(cap);
        buf[..n].copy_from_slice(&t.as_bytes()[..n]);
        return &buf[..n];
    }
    let len = cap - w.len();
    let mut l = len;
    if buf[..len].contains(&b'.') {
        while buf[l - 1] == b'0' {
            l -= 1;
        }
        if buf[l - 1] == b'.' {
            l -= 1;
        }
    }
    if &buf[..l] == b"-0" {
        return b"0";
    }
    &buf[..l]
}

/// Redis's fixedpoint_d2string with four decimals (distances).
fn fixed4(d: f64, buf: &mut [u8; 32]) -> &[u8] {
    if d == 0.0 {
        return b"0.0000";
    }
    let v = gh::c_double_to_i64((d * 10000.0).round_ties_even());
    let neg = v < 0;
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut k = 0;
    loop {
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        k += 1;
        if n == 0 {
            break;
        }
    }
    // At least one integer digit before the four decimals.
    while k < 5 {
        digits[k] = b'0';
        k += 1;
    }
    let mut o = 0;
    if neg {
        buf[0] = b'-';
        o = 1;
    }
    for j in (0..k).rev() {
        if j == 3 {
            buf[o] = b'.';
            o += 1;
        }
        buf[o] = digits[j];
        o += 1;
    }
    &buf[..o]
}

// ---------------------------------------------------------------------------
// Key access.

/// The zset at `key` for reading, counted as a hit or a miss (None when missing),
/// or WRONGTYPE.
fn read_zset<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ZSet>, CmdError> {
    match ctx.read_key(key) {
        Some(o) => match &o.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(errors::WRONGTYPE.into()),
        },
        None => Ok(None),
    }
}

/// The zset at `key` already looked up by this command (no statistics).
fn peek_zset<'a>(srv: &'a Server, db: usize, key: &[u8]) -> Option<&'a ZSet> {
    match srv.keyspace.dbs[db].keys.get(key) {
        Some(o) => match &o.value {
            Value::ZSet(z) => Some(z),
            _ => None,
        },
        None => None,
    }
}

// ---------------------------------------------------------------------------
// GEOADD, GEOPOS, GEOHASH, GEODIST.

/// GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]
pub fn geoadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut longidx = 2;
    while longidx < argv.len() {
        let o: &[u8] = argv[longidx];
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "ch") {
            ch = true;
        } else {
            break;
        }
        longidx += 1;
    }
    let rest = argv.len() - longidx;
    // GEOADD checks the triplets, ZADD (which Redis hands the work to) refuses none.
    if !rest.is_multiple_of(3) || (xx && nx) || rest == 0 {
        return Err(errors::SYNTAX.into());
    }
    let triplets = &argv[longidx..];
    let mut small = [0f64; 8];
    let mut large = Vec::new();
    let scores: &mut [f64] = if rest / 3 <= small.len() {
        &mut small[..rest / 3]
    } else {
        large.resize(rest / 3, 0.0);
        &mut large
    };
    for (s, t) in scores.iter_mut().zip(triplets.chunks_exact(3)) {
        let [x, y] = lon_lat(t[0], t[1])?;
        *s = gh::score_of(x, y) as f64;
    }
    let scores: &[f64] = scores;
    // Propagated as the ZADD Redis hands the work to (options kept, scores computed).
    if ctx.propagating() {
        let texts: Vec<String> = scores.iter().map(|&s| (s as u64).to_string()).collect();
        let mut v: Vec<&[u8]> = Vec::with_capacity(longidx + rest / 3 * 2);
        v.push(b"zadd");
        v.extend_from_slice(&argv[1..longidx]);
        for (t, sc) in triplets.chunks_exact(3).zip(&texts) {
            v.push(sc.as_bytes());
            v.push(t[2]);
        }
        ctx.propagate_as(&v);
    }
    let max_entries = ctx.srv.config.zset_max_listpack_entries;
    let max_value = ctx.srv.config.zset_max_listpack_value;
    let key: &[u8] = argv[1];
    let db = ctx.client.db;
    let touch = !ctx.client.no_touch;
    let apply = |z: &mut ZSet| {
        let (mut added, mut updated) = (0u64, 0u64);
        for (t, &score) in triplets.chunks_exact(3).zip(scores) {
            let m: &[u8] = t[2];
            match z.score(m) {
                Some(_) if nx => {}
                Some(cur) => {
                    if score != cur {
                        z.update(m, cur, score);
                        updated += 1;
                    }
                }
                None if xx => {}
                None => {
                    z.insert(m, score, max_entries, max_value);
                    added += 1;
                }
            }
        }
        (added, updated)
    };
    let (added, updated) = match lookup_key(ctx.srv, db, key, ctx.now_ms, false, touch) {
        Some(o) => match &mut o.value {
            Value::ZSet(z) => apply(z),
            _ => return Err(errors::WRONGTYPE.into()),
        },
        None if xx => (0, 0),
        None => {
            let mut z = if max_entries == 0 || max_value < triplets[2].len() {
                ZSet::new_skiplist()
            } else {
                ZSet::new_packed()
            };
            let counts = apply(&mut z);
            let obj = ctx.new_object(Value::ZSet(z));
            ctx.db().add(key, obj);
            counts
        }
    };
    // GEOADD is a ZADD for Redis, events included.
    if added + updated > 0 {
        ctx.notify(class::ZSET, "zadd", key);
    }
    ctx.dirty(added + updated);
    ctx.out.int(if ch { added + updated } else { added } as i64);
    Ok(())
}

/// GEOPOS key [member ...]
pub fn geopos(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    read_zset(ctx, argv[1])?;
    let z = peek_zset(ctx.srv, ctx.client.db, argv[1]);
    let out = &mut *ctx.out;
    out.array(argv.len() - 2);
    let mut buf = [0u8; 64];
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            None => out.null_array(),
            Some(score) => {
                let [x, y] = gh::decode_score(score);
                out.array(2);
                out.double_text(human(x, &mut buf));
                out.double_text(human(y, &mut buf));
            }
        }
    }
    Ok(())
}

/// GEOHASH key [member ...]
pub fn geohash(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    read_zset(ctx, argv[1])?;
    let z = peek_zset(ctx.srv, ctx.client.db, argv[1]);
    let out = &mut *ctx.out;
    out.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| z.score(m)) {
            None => out.null(),
            Some(score) => out.bulk(&gh::geohash_string(score)),
        }
    }
    Ok(())
}

/// GEODIST key member1 member2 [M|KM|FT|MI]
pub fn geodist(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let to_meter = match argv.len() {
        5 => unit(argv[4])?,
        n if n > 5 => return Err(errors::SYNTAX.into()),
        _ => 1.0,
    };
    let scores = read_zset(ctx, argv[1])?.map(|z| (z.score(argv[2]), z.score(argv[3])));
    let Some((Some(s1), Some(s2))) = scores else {
        ctx.out.null();
        return Ok(());
    };
    let [x1, y1] = gh::decode_score(s1);
    let [x2, y2] = gh::decode_score(s2);
    let mut buf = [0u8; 32];
    ctx.out
        .bulk(fixed4(gh::distance(x1, y1, x2, y2) / to_meter, &mut buf));
    Ok(())
}

// ---------------------------------------------------------------------------
// Searches.

const COORDS: u8 = 1;
const MEMBER: u8 = 2;
const NOSTORE: u8 = 4;
const SEARCH: u8 = 8;
const SEARCHSTORE: u8 = 16;

/// GEORADIUS key longitude latitude radius unit [options]
pub fn georadius(ctx: &mut Ctx) -> CmdResult {
    radius_generic(ctx, 1, COORDS)
}

/// GEORADIUS_RO key longitude latitude radius unit [options]
pub fn georadius_ro(ctx: &mut Ctx) -> CmdResult {
    radius_generic(ctx, 1, COORDS | NOSTORE)
}

/// GEORADIUSBYMEMBER key member radius unit [options]
pub fn georadiusbymember(ctx: &mut Ctx) -> CmdResult {
    radius_generic(ctx, 1, MEMBER)
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options]
pub fn georadiusbymember_ro(ctx: &mut Ctx) -> CmdResult {
    radius_generic(ctx, 1, MEMBER | NOSTORE)
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r u|BYBOX w h u [options]
pub fn geosearch(ctx: &mut Ctx) -> CmdResult {
    radius_generic(ctx, 1, SEARCH)
}

/// GEOSEARCHSTORE dest src FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r u|BYBOX w h u
/// [options] [STOREDIST]
pub fn geosearchstore(ctx: &mut Ctx) -> CmdResult {
    radius_generic(ctx, 2, SEARCH | SEARCHSTORE)
}

/// A match: position, distance from the centre (metres, then the user's unit),
/// score and member.
struct Point {
    xy: [f64; 2],
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// The position of `member` in the zset at `key`.
fn member_pos(ctx: &Ctx, key: &[u8], member: &[u8]) -> Result<[f64; 2], CmdError> {
    peek_zset(ctx.srv, ctx.client.db, key)
        .and_then(|z| z.score(member))
        .map(gh::decode_score)
        .ok_or_else(|| MEMBER_ERR.into())
}

/// Redis's georadiusGeneric: the arguments in Redis's order and with its errors,
/// then the search over the nine cells, the sort and the reply or the stored zset.
fn radius_generic(ctx: &mut Ctx, src_idx: usize, flags: u8) -> CmdResult {
    let argv = ctx.argv;
    let src: &[u8] = argv[src_idx];
    let exists = read_zset(ctx, src)?.is_some();
    let mut storekey: Option<&[u8]> = None;
    let mut storedist = false;
    let mut shape = Shape {
        kind: ShapeKind::Circle { radius: 0.0 },
        xy: [0.0; 2],
        conversion: 0.0,
    };
    let base = if flags & COORDS != 0 {
        shape.xy = lon_lat(argv[2], argv[3])?;
        let (conversion, radius) = distance_arg(argv[4], argv[5])?;
        shape.conversion = conversion;
        shape.kind = ShapeKind::Circle { radius };
        6
    } else if flags & MEMBER != 0 {
        if exists {
            shape.xy = member_pos(ctx, src, argv[2])?;
            let (conversion, radius) = distance_arg(argv[3], argv[4])?;
            shape.conversion = conversion;
            shape.kind = ShapeKind::Circle { radius };
        }
        5
    } else if flags & SEARCHSTORE != 0 {
        storekey = Some(argv[1]);
        3
    } else {
        2
    };

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let search = flags & SEARCH != 0;
    let store_ok = flags & (NOSTORE | SEARCH) == 0;
    let remaining = argv.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let args = &argv[base + i..];
        let arg: &[u8] = args[0];
        if is(arg, "withdist") {
            withdist = true;
        } else if is(arg, "withhash") {
            withhash = true;
        } else if is(arg, "withcoord") {
            withcoords = true;
        } else if is(arg, "any") {
            any = true;
        } else if is(arg, "asc") {
            sort = Sort::Asc;
        } else if is(arg, "desc") {
            sort = Sort::Desc;
        } else if is(arg, "count") && i + 1 < remaining {
            count = redis_formats::num::parse_i64(args[1]).ok_or(errors::NOT_INTEGER)?;
            if count <= 0 {
                return Err("ERR COUNT must be > 0".into());
            }
            i += 1;
        } else if is(arg, "store") && i + 1 < remaining && store_ok {
            storekey = Some(argv[base + i + 1]);
            storedist = false;
            i += 1;
        } else if is(arg, "storedist") && i + 1 < remaining && store_ok {
            storekey = Some(argv[base + i + 1]);
            storedist = true;
            i += 1;
        } else if is(arg, "storedist") && search && flags & SEARCHSTORE != 0 {
            storedist = true;
        } else if is(arg, "frommember") && i + 1 < remaining && search && !fromloc {
            if exists {
                shape.xy = member_pos(ctx, src, args[1])?;
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && i + 2 < remaining && search && !frommember {
            shape.xy = lon_lat(args[1], args[2])?;
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && i + 2 < remaining && search && !bybox {
            let (conversion, radius) = distance_arg(args[1], args[2])?;
            shape.conversion = conversion;
            shape.kind = ShapeKind::Circle { radius };
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && i + 3 < remaining && search && !byradius {
            let (conversion, width, height) = box_arg(args[1], args[2], args[3])?;
            shape.conversion = conversion;
            shape.kind = ShapeKind::Rect { width, height };
            bybox = true;
            i += 3;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }

    if storekey.is_some() && (withdist || withhash || withcoords) {
        return Err(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags & SEARCHSTORE != 0 {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )
        .into());
    }
    let name = || String::from_utf8_lossy(argv[0]).into_owned();
    if search && !(frommember || fromloc) {
        return Err(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            name()
        )
        .into());
    }
    if search && !(byradius || bybox) {
        return Err(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            name()
        )
        .into());
    }
    if any && count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }

    if !exists {
        match storekey {
            Some(dst) => {
                if ctx.delete_key(dst) {
                    ctx.notify(class::GENERIC, "del", dst);
                    ctx.dirty(1);
                }
                ctx.out.int(0);
            }
            None => ctx.out.array(0),
        }
        return Ok(());
    }

    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let limit = if any { count as usize } else { 0 };
    let mut ga: Vec<Point> = Vec::new();
    if let Some(z) = peek_zset(ctx.srv, ctx.client.db, src) {
        search_cells(z, &shape, &mut ga, limit);
    }
    if ga.is_empty() && storekey.is_none() {
        ctx.out.array(0);
        return Ok(());
    }
    let result_length = ga.len();
    let returned = if count == 0 || (result_length as i64) < count {
        result_length
    } else {
        count as usize
    };
    match sort {
        Sort::None => {}
        Sort::Asc | Sort::Desc => {
            let desc = sort == Sort::Desc;
            let cmp = |a: &Point, b: &Point| {
                let o = if a.dist > b.dist {
                    Ordering::Greater
                } else if a.dist == b.dist {
                    Ordering::Equal
                } else {
                    Ordering::Less
                };
                if desc {
                    o.reverse()
                } else {
                    o
                }
            };
            if returned == result_length {
                // glibc's qsort is a merge sort: stable.
                ga.sort_by(cmp);
            } else {
                partial_sort(&mut ga, 0, 0, returned - 1, &cmp);
            }
        }
    }

    let Some(dst) = storekey else {
        let options = withdist as usize + withcoords as usize + withhash as usize;
        let out = &mut *ctx.out;
        out.array(returned);
        let mut buf = [0u8; 64];
        let mut dbuf = [0u8; 32];
        for p in &ga[..returned] {
            let dist = p.dist / shape.conversion;
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(&p.member);
            if withdist {
                out.bulk(fixed4(dist, &mut dbuf));
            }
            if withhash {
                out.int(gh::c_double_to_i64(p.score));
            }
            if withcoords {
                out.array(2);
                out.double_text(human(p.xy[0], &mut buf));
                out.double_text(human(p.xy[1], &mut buf));
            }
        }
        return Ok(());
    };
    if returned > 0 {
        let mut items: Vec<(Vec<u8>, f64)> = ga
            .drain(..returned)
            .map(|p| {
                let score = if storedist {
                    p.dist / shape.conversion
                } else {
                    p.score
                };
                (p.member, score)
            })
            .collect();
        items.sort_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        items.dedup_by(|a, b| a.0 == b.0);
        let z = ZSet::from_sorted(
            &items,
            ctx.srv.config.zset_max_listpack_entries,
            ctx.srv.config.zset_max_listpack_value,
        );
        ctx.set_key(dst, Value::ZSet(z), false);
        let event = if search {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        ctx.notify(class::ZSET, event, dst);
        ctx.dirty(returned as u64);
    } else if ctx.delete_key(dst) {
        ctx.notify(class::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    ctx.out.int(returned as i64);
    Ok(())
}

/// Collects the members of the nine cells that fall inside `shape`, in Redis's
/// order (cell by cell, by score within a cell); stops at `limit` matches (0: no
/// limit).
fn search_cells(z: &ZSet, shape: &Shape, ga: &mut Vec<Point>, limit: usize) {
    let cells = gh::search_cells(shape);
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radiuses make neighbours repeat: skip a cell equal to the last
        // one searched (never compared with the centre, as in Redis).
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if !ga.is_empty() && limit != 0 && ga.len() >= limit {
            break;
        }
        let min = cell.align52() as f64;
        let max = gh::HashBits {
            bits: cell.bits + 1,
            step: cell.step,
        }
        .align52() as f64;
        // Members with min <= score < max.
        let from = z.count_prefix(|s, _| s < min);
        z.count_while(from, false, |score, member| {
            if score >= max {
                return false;
            }
            let xy = gh::decode_score(score);
            if let Some(dist) = gh::within_shape(shape, xy) {
                ga.push(Point {
                    xy,
                    dist,
                    score,
                    member: member.to_vec(),
                });
            }
            !(limit != 0 && ga.len() >= limit)
        });
        last_processed = i;
    }
}

/// A quicksort that leaves ranks `lo..=hi` of the whole slice sorted (and the
/// smallest before them), skipping the parts outside that range: the partial
/// sort Redis uses for COUNT (Bentley and McIlroy's three-way partitioning, as in
/// "Engineering a Sort Function", with median-of-three / ninther pivots), so ties
/// come out in the same order. `base` is the offset of `a` in the whole slice.
fn partial_sort<T>(
    mut a: &mut [T],
    mut base: usize,
    lo: usize,
    hi: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    loop {
        let n = a.len();
        if n < 7 {
            for m in 1..n {
                let mut l = m;
                while l > 0 && cmp(&a[l - 1], &a[l]) == Ordering::Greater {
                    a.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let med3 = |a: &[T], x: usize, y: usize, z: usize| -> usize {
            if cmp(&a[x], &a[y]) == Ordering::Less {
                if cmp(&a[y], &a[z]) == Ordering::Less {
                    y
                } else if cmp(&a[x], &a[z]) == Ordering::Less {
                    z
                } else {
                    x
                }
            } else if cmp(&a[y], &a[z]) == Ordering::Greater {
                y
            } else if cmp(&a[x], &a[z]) == Ordering::Less {
                x
            } else {
                z
            }
        };
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(a, pl, pl + d, pl + 2 * d);
                pm = med3(a, pm - d, pm, pm + d);
                pn = med3(a, pn - 2 * d, pn - d, pn);
            }
            pm = med3(a, pl, pm, pn);
        }
        a.swap(0, pm);
        let (mut pa, mut pb) = (1usize, 1usize);
        let (mut pc, mut pd) = (n - 1, n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&a[pb], &a[0]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    a.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&a[pc], &a[0]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    a.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            a.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        // Move the elements equal to the pivot to the middle.
        let r = pa.min(pb - pa);
        swap_ranges(a, 0, pb - r, r);
        let r = (pd - pc).min(n - pd - 1);
        swap_ranges(a, pb, n - r, r);
        let overlaps = |start: usize, len: usize| !(hi < start || lo >= start + len);
        let left = pb - pa;
        if left > 1 && overlaps(base, left) {
            partial_sort(&mut a[..left], base, lo, hi, cmp);
        }
        let right = pd - pc;
        if right > 1 && overlaps(base + n - right, right) {
            base += n - right;
            a = &mut a[n - right..];
            continue;
        }
        return;
    }
}

/// Swaps `a[x..x + n]` with `a[y..y + n]` element by element.
fn swap_ranges<T>(a: &mut [T], x: usize, y: usize, n: usize) {
    for k in 0..n {
        a.swap(x + k, y + k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_distances() {
        let f = |d: f64| String::from_utf8(fixed4(d, &mut [0; 32]).to_vec()).unwrap();
        assert_eq!(f(0.0), "0.0000");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(6.064_295_159_839_17e-5), "0.0001");
        assert_eq!(f(0.01), "0.0100");
        assert_eq!(f(-0.01), "-0.0100");
        assert_eq!(f(0.00001), "0.0000");
        assert_eq!(f(166_274.151_569_600_4), "166274.1516");
        assert_eq!(f(1.5), "1.5000");
    }

    #[test]
    fn human_positions() {
        let h = |d: f64| String::from_utf8(human(d, &mut [0; 64]).to_vec()).unwrap();
        assert_eq!(h(13.361389338970184), "13.36138933897018433");
        assert_eq!(h(-0.0), "0");
        assert_eq!(h(1.5), "1.5");
        assert_eq!(h(180.0), "180");
        assert_eq!(h(-85.05112878), "-85.0511287799999991");
    }

    #[test]
    fn partial_sort_sorts_the_asked_ranks() {
        let mut rng = fastrand::Rng::with_seed(7);
        for n in [1usize, 5, 7, 8, 30, 41, 100, 500] {
            for k in 1..=n.min(20) {
                let mut v: Vec<u32> = (0..n).map(|_| rng.u32(0..50)).collect();
                let mut sorted = v.clone();
                sorted.sort();
                partial_sort(&mut v, 0, 0, k - 1, &|a: &u32, b: &u32| a.cmp(b));
                assert_eq!(&v[..k], &sorted[..k], "n={n} k={k}");
            }
        }
    }
}
