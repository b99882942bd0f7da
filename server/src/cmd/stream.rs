//! Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD,
//! the consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM)
//! and XINFO, with Redis 7.0's replies and error texts.
//!
//! Keyspace events (class `t`) as Redis raises them: `xadd` (then `xtrim` when it
//! trimmed), `xdel`, `xtrim`, `xsetid`, `xgroup-create`, `xgroup-setid`,
//! `xgroup-destroy`, `xgroup-createconsumer` (also when XREADGROUP, XCLAIM or
//! XAUTOCLAIM create a consumer), `xgroup-delconsumer`.

use crate::blocking::{self, BlockedOp, Served};
use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::object::{Object, Value};
use crate::pubsub::class;
use crate::state::Server;
use crate::types::stream::{
    decr_id, fmt_id, incr_id, reply_entry, reply_id, AppendError, Group, Stream, StreamId, Trim,
    INVALID_ENTRIES_READ, MAX_ID, MIN_ID,
};
use bytes::Bytes;
use redis_formats::num::parse_i64;
use redis_formats::ReplyBuf;

pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("xadd", xadd),
    ("xrange", xrange),
    ("xrevrange", xrevrange),
    ("xlen", xlen),
    ("xdel", xdel),
    ("xtrim", xtrim),
    ("xsetid", xsetid),
    ("xread", xread),
    ("xreadgroup", xread),
    ("xack", xack),
    ("xpending", xpending),
    ("xclaim", xclaim),
    ("xautoclaim", xautoclaim),
    ("xgroup|create", xgroup),
    ("xgroup|setid", xgroup),
    ("xgroup|destroy", xgroup),
    ("xgroup|createconsumer", xgroup),
    ("xgroup|delconsumer", xgroup),
    ("xgroup|help", xgroup),
    ("xinfo|stream", xinfo),
    ("xinfo|groups", xinfo),
    ("xinfo|consumers", xinfo),
    ("xinfo|help", xinfo),
];

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

/// The stream at `key`, or WRONGTYPE.
fn get_stream<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    now: i64,
    read: bool,
    touch: bool,
) -> Result<Option<&'s mut Stream>, CmdError> {
    match lookup_key(srv, db, key, now, read, touch) {
        None => Ok(None),
        Some(Object {
            value: Value::Stream(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

macro_rules! parts {
    ($ctx:ident) => {
        (
            $ctx.argv,
            $ctx.client.db,
            $ctx.now_ms,
            !$ctx.client.no_touch,
        )
    };
}

/// C's strtoull over a whole string (after Redis's string2ll attempt).
fn parse_ull(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    if let Some(v) = parse_i64(s) {
        return if v < 0 { None } else { Some(v as u64) };
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add((s[i] - b'0') as u64)?;
        i += 1;
    }
    if i == start || i != s.len() {
        return None;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Redis's streamGenericParseIDOrReply. `seq_given` is set for XADD's `ms-*`.
fn parse_id_full(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    seq_given: Option<&mut bool>,
) -> Result<StreamId, CmdError> {
    let bad = || CmdError::from(INVALID_ID);
    if arg.len() > 127 {
        return Err(bad());
    }
    if strict && (arg == b"-" || arg == b"+") {
        return Err(bad());
    }
    let allow_star = seq_given.is_some();
    let mut given = true;
    let r = if arg == b"-" {
        MIN_ID
    } else if arg == b"+" {
        MAX_ID
    } else {
        // C string semantics: stop at a NUL byte.
        let arg = match arg.iter().position(|&b| b == 0) {
            Some(p) => &arg[..p],
            None => arg,
        };
        match arg.iter().position(|&b| b == b'-') {
            Some(d) => {
                let ms = parse_ull(&arg[..d]).ok_or_else(bad)?;
                let rest = &arg[d + 1..];
                let seq = if allow_star && rest == b"*" {
                    given = false;
                    0
                } else {
                    parse_ull(rest).ok_or_else(bad)?
                };
                StreamId { ms, seq }
            }
            None => StreamId {
                ms: parse_ull(arg).ok_or_else(bad)?,
                seq: missing_seq,
            },
        }
    };
    if let Some(g) = seq_given {
        *g = given;
    }
    Ok(r)
}

fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(arg, missing_seq, false, None)
}

fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(arg, missing_seq, true, None)
}

/// An interval bound: `(id` excludes.
fn parse_interval(arg: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 1 && arg[0] == b'(' {
        Ok((parse_strict_id(&arg[1..], missing_seq)?, true))
    } else {
        Ok((parse_id(arg, missing_seq)?, false))
    }
}

fn start_bound(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(arg, 0)?;
    if ex {
        incr_id(id).ok_or_else(|| "ERR invalid start ID for the interval".into())
    } else {
        Ok(id)
    }
}

fn end_bound(arg: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(arg, u64::MAX)?;
    if ex {
        decr_id(id).ok_or_else(|| "ERR invalid end ID for the interval".into())
    } else {
        Ok(id)
    }
}

fn arg_ll(b: &[u8]) -> Result<i64, CmdError> {
    parse_i64(b).ok_or(errors::NOT_INTEGER.into())
}

fn arg_ll_msg(b: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    parse_i64(b).ok_or(msg.into())
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    let b = match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    };
    String::from_utf8_lossy(b)
}

/// Writes `[[id, fields], ...]` for `start..=end`; returns the number of entries.
fn reply_range(
    out: &mut ReplyBuf,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let d = out.defer();
    let mut n = 0;
    s.range(start, end, rev, |lp, h, e| {
        reply_entry(out, lp, h, e);
        n += 1;
        count == 0 || n < count
    });
    out.set_array_len(d, n);
    n
}

/// Writes one entry (or nothing); true if it existed.
fn reply_one(out: &mut ReplyBuf, s: &Stream, id: StreamId) -> bool {
    let mut found = false;
    s.range(id, id, false, |lp, h, e| {
        reply_entry(out, lp, h, e);
        found = true;
        false
    });
    found
}

// ---- XADD / XTRIM ----------------------------------------------------------

struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: i64,
    nomkstream: bool,
    id: Option<(StreamId, bool)>,
    idpos: usize,
    /// Index of the MAXLEN / MINID threshold argument.
    trim_idx: usize,
}

fn parse_add_trim(ctx: &Ctx, xadd: bool) -> Result<AddTrim, CmdError> {
    let argv = ctx.argv;
    let argc = argv.len();
    let mut a = AddTrim {
        trim: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        idpos: argc,
        trim_idx: 0,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = argv[i];
        if xadd && opt == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid"))
            && more > 0
        {
            if a.trim.is_some() {
                return Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible".into());
            }
            a.approx = false;
            let next = argv[i + 1];
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if opt.eq_ignore_ascii_case(b"maxlen") {
                let n = arg_ll(argv[i + 1])?;
                if n < 0 {
                    return Err("ERR The MAXLEN argument must be >= 0.".into());
                }
                a.trim = Some(Trim::MaxLen(n as u64));
            } else {
                a.trim = Some(Trim::MinId(parse_strict_id(argv[i + 1], 0)?));
            }
            a.trim_idx = i + 1;
            i += 1;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            a.limit = arg_ll(argv[i + 1])?;
            if a.limit < 0 {
                return Err("ERR The LIMIT argument must be >= 0.".into());
            }
            limit_given = true;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            a.nomkstream = true;
        } else if xadd {
            let mut given = true;
            let id = parse_id_full(opt, 0, true, Some(&mut given))?;
            a.id = Some((id, given));
            break;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    a.idpos = i;
    if a.limit != 0 && a.trim.is_none() {
        return Err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy".into(),
        );
    }
    if !xadd && a.trim.is_none() {
        return Err("ERR syntax error, XTRIM must be called with a trimming strategy".into());
    }
    if ctx.client.must_obey {
        // The AOF / master stream carries the exact threshold the trim reached (see
        // `propagate_trim`), possibly with the user's LIMIT beside an `=`.
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(
                "ERR syntax error, LIMIT cannot be used without the special ~ option".into(),
            );
        }
    } else if a.approx {
        let mut l = 100i64.saturating_mul(ctx.srv.config.stream_node_max_entries);
        if l <= 0 {
            l = 10000;
        }
        a.limit = l.min(1_000_000);
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// An approximate trim (`~`) depends on node boundaries, which differ between servers
/// (and configurations): it propagates as the exact trim it turned out to be, `= <length
/// left>` for MAXLEN or `= <first ID left>` for MINID, as Redis does.
fn rewrite_trim<'a>(args: &mut [&'a [u8]], s: &Stream, a: &AddTrim, buf: &'a mut [u8; 42]) {
    args[a.trim_idx - 1] = b"=";
    args[a.trim_idx] = match a.trim {
        Some(Trim::MaxLen(_)) => {
            let ib: &mut redis_formats::num::IntBuf = (&mut buf[..20]).try_into().expect("20");
            redis_formats::num::format_i64(s.length as i64, ib)
        }
        _ => fmt_id(s.edge_id(true).unwrap_or(MAX_ID), buf),
    };
}

fn xadd(ctx: &mut Ctx) -> CmdResult {
    let a = parse_add_trim(ctx, true)?;
    let (argv, db, now, touch) = parts!(ctx);
    let field_pos = a.idpos + 1;
    if argv.len() < field_pos + 2 || (argv.len() - field_pos) % 2 == 1 {
        return Err("ERR wrong number of arguments for 'xadd' command".into());
    }
    if let Some((id, true)) = a.id {
        if id == MIN_ID {
            return Err("ERR The ID specified in XADD must be greater than 0-0".into());
        }
    }
    let key = argv[1];
    if get_stream(ctx.srv, db, key, now, false, touch)?.is_none() {
        if a.nomkstream {
            ctx.out.null();
            return Ok(());
        }
        let obj = ctx.new_object(Value::Stream(Box::default()));
        ctx.db().add(key, obj);
    }
    let max_bytes = ctx.srv.config.stream_node_max_bytes;
    let max_entries = ctx.srv.config.stream_node_max_entries;
    let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("just added");
    if s.last_id == MAX_ID {
        return Err(
            "ERR The stream has exhausted the last possible ID, unable to add more items".into(),
        );
    }
    let id = match s.append(&argv[field_pos..], a.id, now, max_bytes, max_entries) {
        Ok(id) => id,
        Err(AppendError::IdTooSmall) => {
            return Err(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                    .into(),
            )
        }
        Err(AppendError::TooLarge) => return Err("ERR Elements are too large to be stored".into()),
    };
    reply_id(ctx.out, id);
    let trimmed = match a.trim {
        Some(t) => s.trim(t, a.approx, a.limit),
        None => 0,
    };
    if ctx.propagating() && (a.approx || !matches!(a.id, Some((_, true)))) {
        let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("just added");
        let mut idbuf = [0u8; 42];
        let mut thbuf = [0u8; 42];
        let mut args: Vec<&[u8]> = argv.to_vec();
        // An ID made here (`*`, or `ms-*`) goes out as the ID it became.
        if !matches!(a.id, Some((_, true))) {
            args[a.idpos] = fmt_id(id, &mut idbuf);
        }
        if a.approx {
            rewrite_trim(&mut args, s, &a, &mut thbuf);
        }
        ctx.propagate_as(&args);
    }
    ctx.notify(class::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
    }
    ctx.srv.dirty += 1;
    ctx.db().signal_key(key);
    Ok(())
}

fn xtrim(ctx: &mut Ctx) -> CmdResult {
    let a = parse_add_trim(ctx, false)?;
    let (argv, db, now, touch) = parts!(ctx);
    let rewrite = a.approx && ctx.propagating();
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, false, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let n = s.trim(a.trim.expect("checked"), a.approx, a.limit);
    if rewrite {
        let mut thbuf = [0u8; 42];
        let mut args: Vec<&[u8]> = argv.to_vec();
        rewrite_trim(&mut args, s, &a, &mut thbuf);
        ctx.propagate_as(&args);
    }
    if n > 0 {
        ctx.notify(class::STREAM, "xtrim", argv[1]);
    }
    ctx.srv.dirty += n as u64;
    ctx.out.int(n);
    Ok(())
}

// ---- reads -------------------------------------------------------------------

fn xrange_generic(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let (sa, ea) = if rev {
        (argv[3], argv[2])
    } else {
        (argv[2], argv[3])
    };
    let start = start_bound(sa)?;
    let end = end_bound(ea)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < argv.len() {
        let additional = argv.len() - j - 1;
        if argv[j].eq_ignore_ascii_case(b"count") && additional >= 1 {
            count = arg_ll(argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, true, touch)? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.null_array();
    } else {
        let c = if count == -1 { 0 } else { count as usize };
        reply_range(ctx.out, s, start, end, c, rev);
    }
    Ok(())
}

fn xrange(ctx: &mut Ctx) -> CmdResult {
    xrange_generic(ctx, false)
}

fn xrevrange(ctx: &mut Ctx) -> CmdResult {
    xrange_generic(ctx, true)
}

fn xlen(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let n = get_stream(ctx.srv, db, argv[1], now, true, touch)?.map_or(0, |s| s.length);
    ctx.out.int(n as i64);
    Ok(())
}

fn xdel(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, false, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut ids = Vec::with_capacity(argv.len() - 2);
    for a in &argv[2..] {
        ids.push(parse_strict_id(a, 0)?);
    }
    let mut deleted = 0u64;
    let mut first_entry = false;
    for id in ids {
        if s.delete(id) {
            if id == s.first_id {
                first_entry = true;
            }
            if id > s.max_deleted_id {
                s.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = MIN_ID;
        } else if first_entry {
            s.first_id = s.edge_id(true).unwrap_or(MIN_ID);
        }
    }
    if deleted > 0 {
        ctx.notify(class::STREAM, "xdel", argv[1]);
    }
    ctx.srv.dirty += deleted;
    ctx.out.int(deleted as i64);
    Ok(())
}

fn xsetid(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let id = parse_strict_id(argv[2], 0)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = MIN_ID;
    let mut i = 3;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        if argv[i].eq_ignore_ascii_case(b"entriesadded") && more > 0 {
            entries_added = arg_ll(argv[i + 1])?;
            if entries_added < 0 {
                return Err("ERR entries_added must be positive".into());
            }
            i += 2;
        } else if argv[i].eq_ignore_ascii_case(b"maxdeletedid") && more > 0 {
            max_xdel = parse_strict_id(argv[i + 1], 0)?;
            if id < max_xdel {
                return Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id".into());
            }
            i += 2;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, false, touch)? else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    if s.length > 0 {
        let maxid = s.edge_id(false).unwrap_or(MIN_ID);
        if id < maxid {
            return Err(
                "ERR The ID specified in XSETID is smaller than the target stream top item".into(),
            );
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return Err("ERR The entries_added specified in XSETID is smaller than the target stream length".into());
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if max_xdel != MIN_ID {
        s.max_deleted_id = max_xdel;
    }
    ctx.srv.dirty += 1;
    ctx.out.ok();
    ctx.notify(class::STREAM, "xsetid", argv[1]);
    Ok(())
}

// ---- XREAD / XREADGROUP --------------------------------------------------------

/// XREADGROUP's group part.
#[derive(Clone)]
struct GroupRead {
    group: Bytes,
    consumer: Bytes,
    noack: bool,
}

/// What serving XREADGROUP `>` changed, propagated as Redis 7.0 does (the command
/// itself never is: a replica or the AOF must not read on its own).
#[derive(Default)]
struct GroupEffects {
    /// NOACK created the consumer: `XGROUP CREATECONSUMER` (without NOACK the XCLAIMs
    /// create it).
    created: bool,
    /// Each entry added to the PEL, as `XCLAIM ... FORCE JUSTID LASTID`.
    claims: Vec<ClaimEffect>,
    /// NOACK moved the last ID: (last ID, entries read), as `XGROUP SETID`.
    last_id: Option<(StreamId, i64)>,
}

impl GroupEffects {
    /// Queues the effects for database `db` (propagation must be on).
    fn push(&self, prop: &mut crate::propagate::Propagation, db: usize, key: &[u8], g: &GroupRead) {
        if self.created {
            prop.push(
                db,
                &[b"XGROUP", b"CREATECONSUMER", key, &g.group, &g.consumer],
            );
        }
        for c in &self.claims {
            c.encode(key, &g.group, None, |args| prop.push(db, args));
        }
        let mut lastb = [0u8; 42];
        if let Some((last, read)) = self.last_id {
            let read = read.to_string();
            prop.push(
                db,
                &[
                    b"XGROUP",
                    b"SETID",
                    key,
                    &g.group,
                    fmt_id(last, &mut lastb),
                    b"ENTRIESREAD",
                    read.as_bytes(),
                ],
            );
        }
    }
}

/// Serves XREADGROUP `>` from `s`: entries after the group's last ID, each added to
/// the PEL unless NOACK. Writes the entries array; returns how many. With `fx`, records
/// what to propagate.
fn serve_group_new(
    out: &mut ReplyBuf,
    s: &mut Stream,
    g: &GroupRead,
    count: usize,
    now: i64,
    mut fx: Option<&mut GroupEffects>,
) -> usize {
    let last = s.groups.get(&g.group[..]).map_or(MIN_ID, |gr| gr.last_id);
    let start = incr_id(last).unwrap_or(MIN_ID);
    let mut ids = Vec::new();
    let d = out.defer();
    s.range(start, MAX_ID, false, |lp, h, e| {
        reply_entry(out, lp, h, e);
        ids.push(e.id);
        count == 0 || ids.len() < count
    });
    out.set_array_len(d, ids.len());
    for &id in &ids {
        let has_tomb = s.range_has_tombstones(Some(id), None);
        let est = s.estimate_distance(id);
        let added = s.entries_added;
        let gr = s.groups.get_mut(&g.group[..]).expect("group");
        if id > gr.last_id {
            if gr.entries_read != INVALID_ENTRIES_READ && !has_tomb {
                gr.entries_read = gr.entries_read.wrapping_add(1);
            } else if added != 0 {
                gr.entries_read = est;
            }
            gr.last_id = id;
            if g.noack {
                if let Some(fx) = fx.as_deref_mut() {
                    fx.last_id = Some((gr.last_id, gr.entries_read));
                }
            }
        }
        if !g.noack {
            gr.deliver(id, &g.consumer, now);
            if let Some(fx) = fx.as_deref_mut() {
                fx.claims.push(ClaimEffect::new(gr, id, None));
            }
        }
    }
    ids.len()
}

/// Serves XREADGROUP with an ID: the consumer's pending entries from `start`.
fn serve_group_history(
    out: &mut ReplyBuf,
    s: &mut Stream,
    g: &GroupRead,
    start: StreamId,
    count: usize,
    now: i64,
) -> usize {
    let ids: Vec<StreamId> = {
        let gr = &s.groups[&g.group[..]];
        match gr.consumers.get(&g.consumer[..]) {
            Some(c) => c
                .pel
                .range(start..)
                .take(if count == 0 { usize::MAX } else { count })
                .copied()
                .collect(),
            None => Vec::new(),
        }
    };
    out.array(ids.len());
    for &id in &ids {
        if reply_one(out, s, id) {
            let gr = s.groups.get_mut(&g.group[..]).expect("group");
            if let Some(n) = gr.pel.get_mut(&id) {
                n.delivery_time = now;
                n.delivery_count += 1;
            }
        } else {
            out.array(2);
            reply_id(out, id);
            out.null_array();
        }
    }
    ids.len()
}

fn xread(ctx: &mut Ctx) -> CmdResult {
    // XREADGROUP propagates its effects (`GroupEffects`), never itself.
    ctx.prevent_propagation();
    let in_script = ctx.client.in_script;
    let (argv, db, now, touch) = parts!(ctx);
    let xreadgroup = argv[0].len() == 10;
    let mut timeout: i64 = -1;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut streams_count = 0;
    let mut noack = false;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = argv[i];
        if o.eq_ignore_ascii_case(b"block") && more > 0 {
            if in_script {
                // Redis refuses BLOCK in scripts outright (not only when it would block).
                return Err(format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(argv[0])
                )
                .into());
            }
            i += 1;
            let t = arg_ll_msg(argv[i], "ERR timeout is not an integer or out of range")?;
            if t < 0 {
                return Err("ERR timeout is negative".into());
            }
            timeout = if t > 0 { t.saturating_add(now) } else { 0 };
        } else if o.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
            count = arg_ll(argv[i])?.max(0);
        } else if o.eq_ignore_ascii_case(b"streams") && more > 0 {
            streams_arg = i + 1;
            streams_count = argv.len() - streams_arg;
            if streams_count % 2 != 0 {
                return Err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.".into());
            }
            streams_count /= 2;
            break;
        } else if o.eq_ignore_ascii_case(b"group") && more >= 2 {
            if !xreadgroup {
                return Err(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
                        .into(),
                );
            }
            group = Some((argv[i + 1], argv[i + 2]));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"noack") {
            if !xreadgroup {
                return Err(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
                        .into(),
                );
            }
            noack = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(errors::SYNTAX.into());
    }
    if xreadgroup && group.is_none() {
        return Err("ERR Missing GROUP option for XREADGROUP".into());
    }
    let keys = &argv[streams_arg..streams_arg + streams_count];
    let mut ids: Vec<StreamId> = Vec::with_capacity(streams_count);
    for (k, key) in keys.iter().enumerate() {
        let idarg = argv[streams_arg + streams_count + k];
        let s = get_stream(ctx.srv, db, key, now, true, touch)?;
        if let Some((gname, _)) = group {
            if !s.as_ref().is_some_and(|s| s.groups.contains_key(gname)) {
                return Err(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    lossy(key),
                    lossy(gname)
                )
                .into());
            }
        }
        if idarg == b"$" {
            if xreadgroup {
                return Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.".into());
            }
            ids.push(s.map_or(MIN_ID, |s| s.last_id));
            continue;
        } else if idarg == b">" {
            if !xreadgroup {
                return Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.".into());
            }
            ids.push(MAX_ID);
            continue;
        }
        ids.push(parse_strict_id(idarg, 0)?);
    }
    let gr = group.map(|(g, c)| GroupRead {
        group: Bytes::copy_from_slice(g),
        consumer: Bytes::copy_from_slice(c),
        noack,
    });
    let resp3 = ctx.out.resp3();
    let mut arraylen = 0;
    let mut d = None;
    for (k, key) in keys.iter().enumerate() {
        let Some(s) = get_stream(ctx.srv, db, key, now, true, touch)? else {
            continue;
        };
        let gt = ids[k];
        let mut sync = false;
        let mut history = false;
        if let Some(g) = &gr {
            if gt != MAX_ID {
                sync = true;
                history = true;
            } else if s.length > 0 {
                let maxid = s.edge_id(false).unwrap_or(MIN_ID);
                if maxid > s.groups[&g.group[..]].last_id {
                    sync = true;
                }
            }
        } else if s.length > 0 {
            let maxid = s.edge_id(false).unwrap_or(MIN_ID);
            if maxid > gt {
                sync = true;
            }
        }
        if !sync {
            continue;
        }
        arraylen += 1;
        if arraylen == 1 {
            d = Some(ctx.out.defer());
        }
        let start = incr_id(gt).unwrap_or(MIN_ID);
        if !resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(key);
        let c = count as usize;
        match &gr {
            Some(g) => {
                let gp = s.groups.get_mut(&g.group[..]).expect("group");
                let mut fx = GroupEffects::default();
                if gp.consumer_or_create(&g.consumer, now) {
                    fx.created = g.noack;
                    ctx.srv.dirty += 1;
                    ctx.notify(class::STREAM, "xgroup-createconsumer", key);
                }
                let propagating = ctx.propagating();
                let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("stream");
                if history {
                    serve_group_history(ctx.out, s, g, start, c, now);
                } else {
                    serve_group_new(ctx.out, s, g, c, now, propagating.then_some(&mut fx));
                }
                if propagating {
                    crate::propagate::drain_deletions(ctx.srv);
                    fx.push(&mut ctx.srv.prop, db, key, g);
                }
                ctx.srv.dirty += 1;
            }
            None => {
                reply_range(ctx.out, s, start, MAX_ID, c, false);
            }
        }
    }
    if let Some(d) = d {
        if resp3 {
            ctx.out.set_map_len(d, arraylen);
        } else {
            ctx.out.set_array_len(d, arraylen);
        }
        return Ok(());
    }
    if timeout != -1 {
        if ctx.client.deny_blocking {
            ctx.out.null_array();
            return Ok(());
        }
        let waits: Vec<(Bytes, StreamId)> = keys
            .iter()
            .zip(&ids)
            .map(|(k, id)| (Bytes::copy_from_slice(k), *id))
            .collect();
        blocking::block(
            ctx,
            keys,
            timeout,
            Box::new(StreamWait {
                waits,
                count: if count != 0 { count as usize } else { 1000 },
                group: gr,
            }),
        );
        return Ok(());
    }
    ctx.out.null_array();
    Ok(())
}

/// A client blocked in XREAD or XREADGROUP.
struct StreamWait {
    /// Keys and the ID their entries must be greater than.
    waits: Vec<(Bytes, StreamId)>,
    count: usize,
    group: Option<GroupRead>,
}

impl BlockedOp for StreamWait {
    fn serve(
        &mut self,
        srv: &mut Server,
        db: usize,
        key: &[u8],
        out: &mut ReplyBuf,
        now_ms: i64,
    ) -> Served {
        let Some(w) = self.waits.iter().position(|(k, _)| k == key) else {
            return Served::NotReady;
        };
        let s = match lookup_key(srv, db, key, now_ms, false, false) {
            Some(Object {
                value: Value::Stream(s),
                ..
            }) => s,
            _ => {
                if self.group.is_some() {
                    out.error("UNBLOCKED the stream key no longer exists");
                    return Served::Done;
                }
                return Served::NotReady;
            }
        };
        let mut gt = self.waits[w].1;
        if let Some(g) = &self.group {
            match s.groups.get(&g.group[..]) {
                None => {
                    out.error(
                        "NOGROUP the consumer group this client was blocked on no longer exists",
                    );
                    return Served::Done;
                }
                Some(gr) => gt = gr.last_id,
            }
        }
        if s.last_id <= gt {
            return Served::NotReady;
        }
        let mut dirty = 0;
        let mut fx = GroupEffects::default();
        if let Some(g) = &self.group {
            let gr = s.groups.get_mut(&g.group[..]).expect("group");
            if gr.consumer_or_create(&g.consumer, now_ms) {
                fx.created = g.noack;
                dirty += 1;
            }
        }
        if out.resp3() {
            out.map(1);
        } else {
            out.array(1);
            out.array(2);
        }
        out.bulk(key);
        match &self.group {
            Some(g) => {
                serve_group_new(out, s, g, self.count, now_ms, Some(&mut fx));
                if srv.prop.active {
                    fx.push(&mut srv.prop, db, key, g);
                }
            }
            None => {
                let start = incr_id(gt).unwrap_or(MIN_ID);
                reply_range(out, s, start, MAX_ID, self.count, false);
            }
        }
        if dirty > 0 {
            srv.notify(class::STREAM, "xgroup-createconsumer", key, db);
        }
        srv.dirty += dirty;
        Served::Done
    }
}

// ---- consumer groups -------------------------------------------------------------

/// Hands pending entry `id` to consumer `name` (which exists), as XCLAIM and
/// XAUTOCLAIM do: the delivery time, the delivery count (set to `count`, else one
/// more unless JUSTID), and both consumers' pending lists.
fn transfer_nack(
    g: &mut Group,
    id: StreamId,
    name: &[u8],
    delivery_time: i64,
    count: Option<u64>,
    justid: bool,
) {
    let nack = g.pel.get_mut(&id).expect("nack");
    let old = std::mem::take(&mut nack.consumer);
    nack.delivery_time = delivery_time;
    match count {
        Some(c) => nack.delivery_count = c,
        None if !justid => nack.delivery_count += 1,
        None => {}
    }
    nack.consumer = name.to_vec();
    if old != name {
        if let Some(c) = g.consumers.get_mut(&old) {
            c.pel.remove(&id);
        }
    }
    g.consumers.get_mut(name).expect("consumer").pel.insert(id);
}

fn nogroup_key(key: &[u8], group: &[u8]) -> CmdError {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        lossy(key),
        lossy(group)
    )
    .into()
}

fn xgroup(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let argc = argv.len();
    let opt = argv[1];
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let is = |w: &str| opt.eq_ignore_ascii_case(w.as_bytes());
    let mut exists = false;
    let mut has_group = false;
    if argc >= 4 {
        let create = is("create");
        let setid = is("setid");
        let mut i = 5;
        while i < argc {
            if create && argv[i].eq_ignore_ascii_case(b"mkstream") {
                mkstream = true;
                i += 1;
            } else if (create || setid)
                && argv[i].eq_ignore_ascii_case(b"entriesread")
                && i + 1 < argc
            {
                entries_read = arg_ll(argv[i + 1])?;
                if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                    return Err("ERR value for ENTRIESREAD must be positive or -1".into());
                }
                i += 2;
            } else {
                return Err(super::help::subcommand_syntax_error(ctx));
            }
        }
        if let Some(s) = get_stream(ctx.srv, db, argv[2], now, false, touch)? {
            exists = true;
            has_group = s.groups.contains_key(argv[3]);
        }
    }
    if argc >= 4 && !mkstream {
        if !exists {
            return Err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.".into());
        }
        if !has_group && (is("setid") || is("createconsumer") || is("delconsumer")) {
            return Err(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                lossy(argv[3]),
                lossy(argv[2])
            )
            .into());
        }
    }
    if argc == 2 && is("help") {
        super::help::reply_help(
            ctx,
            &[
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter.",
            ],
        );
        return Ok(());
    }
    let key = argv.get(2).copied().unwrap_or_default();
    if is("create") && (5..=8).contains(&argc) {
        let id = if argv[4] == b"$" {
            match get_stream(ctx.srv, db, key, now, false, false)? {
                Some(s) => s.last_id,
                None => MIN_ID,
            }
        } else {
            parse_strict_id(argv[4], 0)?
        };
        if !exists {
            let obj = ctx.new_object(Value::Stream(Box::default()));
            ctx.db().add(key, obj);
        }
        let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("stream");
        if s.groups.contains_key(argv[3]) {
            return Err("BUSYGROUP Consumer Group name already exists".into());
        }
        s.groups
            .insert(argv[3].to_vec(), Group::new(id, entries_read));
        ctx.srv.dirty += 1;
        ctx.out.ok();
        ctx.notify(class::STREAM, "xgroup-create", key);
    } else if is("setid") && (argc == 5 || argc == 7) {
        let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("stream");
        let id = if argv[4] == b"$" {
            s.last_id
        } else {
            parse_id(argv[4], 0)?
        };
        let g = s.groups.get_mut(argv[3]).expect("group");
        g.last_id = id;
        g.entries_read = entries_read;
        ctx.srv.dirty += 1;
        ctx.out.ok();
        ctx.notify(class::STREAM, "xgroup-setid", key);
    } else if is("destroy") && argc == 4 {
        let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("stream");
        if s.groups.remove(argv[3]).is_some() {
            ctx.srv.dirty += 1;
            ctx.out.int(1);
            ctx.notify(class::STREAM, "xgroup-destroy", key);
            ctx.db().signal_key(key);
        } else {
            ctx.out.int(0);
        }
    } else if is("createconsumer") && argc == 5 {
        let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("stream");
        let g = s.groups.get_mut(argv[3]).expect("group");
        if g.consumers.contains_key(argv[4]) {
            ctx.out.int(0);
        } else {
            g.consumer_or_create(argv[4], now);
            ctx.srv.dirty += 1;
            ctx.out.int(1);
            ctx.notify(class::STREAM, "xgroup-createconsumer", key);
        }
    } else if is("delconsumer") && argc == 5 {
        let s = get_stream(ctx.srv, db, key, now, false, false)?.expect("stream");
        let g = s.groups.get_mut(argv[3]).expect("group");
        let pending = match g.delete_consumer(argv[4]) {
            Some(n) => {
                ctx.srv.dirty += 1;
                ctx.notify(class::STREAM, "xgroup-delconsumer", key);
                n
            }
            None => 0,
        };
        ctx.out.int(pending as i64);
    } else {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    Ok(())
}

fn xack(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, true, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(g) = s.groups.get_mut(argv[2]) else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut ids = Vec::with_capacity(argv.len() - 3);
    for a in &argv[3..] {
        ids.push(parse_strict_id(a, 0)?);
    }
    let mut acked = 0;
    for id in ids {
        if let Some(n) = g.pel.remove(&id) {
            if let Some(c) = g.consumers.get_mut(&n.consumer) {
                c.pel.remove(&id);
            }
            acked += 1;
        }
    }
    ctx.srv.dirty += acked as u64;
    ctx.out.int(acked);
    Ok(())
}

fn xpending(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let argc = argv.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(errors::SYNTAX.into());
    }
    let mut start = MIN_ID;
    let mut end = MAX_ID;
    let mut count = 0i64;
    let mut minidle = 0i64;
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut si = 3;
        if argv[3].eq_ignore_ascii_case(b"idle") {
            minidle = arg_ll(argv[4])?;
            if argc < 8 {
                return Err(errors::SYNTAX.into());
            }
            si += 2;
        }
        count = arg_ll(argv[si + 2])?.max(0);
        start = start_bound(argv[si])?;
        end = end_bound(argv[si + 1])?;
        if si + 3 < argc {
            consumer = Some(argv[si + 3]);
        }
    }
    let s = get_stream(ctx.srv, db, argv[1], now, true, touch)?;
    let Some(g) = s.and_then(|s| s.groups.get(argv[2])) else {
        return Err(nogroup_key(argv[1], argv[2]));
    };
    let out = &mut *ctx.out;
    if justinfo {
        out.array(4);
        out.int(g.pel.len() as i64);
        if g.pel.is_empty() {
            out.null();
            out.null();
            out.null_array();
        } else {
            reply_id(out, *g.pel.keys().next().expect("nonempty"));
            reply_id(out, *g.pel.keys().next_back().expect("nonempty"));
            let n = g.consumers.values().filter(|c| !c.pel.is_empty()).count();
            out.array(n);
            for (name, c) in &g.consumers {
                if c.pel.is_empty() {
                    continue;
                }
                out.array(2);
                out.bulk(name);
                out.bulk_int(c.pel.len() as i64);
            }
        }
        return Ok(());
    }
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => {
                out.array(0);
                return Ok(());
            }
            Some(c) => {
                if start > end {
                    Vec::new()
                } else {
                    c.pel.range(start..=end).copied().collect()
                }
            }
        },
        None => {
            if start > end {
                Vec::new()
            } else {
                g.pel.range(start..=end).map(|(k, _)| *k).collect()
            }
        }
    };
    let d = out.defer();
    let mut n = 0;
    for id in ids {
        if count == 0 {
            break;
        }
        // A consumer's entries are in the group's PEL (an invariant the RDB
        // reader checks); a stray one is left out rather than trusted.
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if minidle != 0 && now.wrapping_sub(nack.delivery_time) < minidle {
            continue;
        }
        n += 1;
        count -= 1;
        out.array(4);
        reply_id(out, id);
        out.bulk(&nack.consumer);
        out.int((now.wrapping_sub(nack.delivery_time)).max(0));
        out.int(nack.delivery_count as i64);
    }
    out.set_array_len(d, n);
    Ok(())
}

/// One pending-entry change of XCLAIM / XAUTOCLAIM, propagated as Redis's idempotent
/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last` (for an
/// entry gone from the stream, with its old owner: the replica then drops it too).
struct ClaimEffect {
    consumer: Vec<u8>,
    id: StreamId,
    /// XCLAIM propagates the ID argument as the user wrote it.
    id_arg: Option<usize>,
    time: i64,
    count: u64,
    last: StreamId,
}

impl ClaimEffect {
    fn new(g: &Group, id: StreamId, id_arg: Option<usize>) -> ClaimEffect {
        let n = &g.pel[&id];
        ClaimEffect {
            consumer: n.consumer.clone(),
            id,
            id_arg,
            time: n.delivery_time,
            count: n.delivery_count,
            last: g.last_id,
        }
    }

    /// Calls `f` with the XCLAIM arguments (`id_arg`: the ID as the user wrote it).
    fn encode(&self, key: &[u8], group: &[u8], id_arg: Option<&[u8]>, f: impl FnOnce(&[&[u8]])) {
        let (mut idb, mut lastb) = ([0u8; 42], [0u8; 42]);
        let (time, count) = (self.time.to_string(), self.count.to_string());
        f(&[
            b"XCLAIM",
            key,
            group,
            &self.consumer,
            b"0",
            id_arg.unwrap_or_else(|| fmt_id(self.id, &mut idb)),
            b"TIME",
            time.as_bytes(),
            b"RETRYCOUNT",
            count.as_bytes(),
            b"FORCE",
            b"JUSTID",
            b"LASTID",
            fmt_id(self.last, &mut lastb),
        ]);
    }
}

/// Queues the claim effects of the running command (which is not propagated itself).
fn propagate_claims(ctx: &mut Ctx, effects: &[ClaimEffect]) {
    let (argv, db) = (ctx.argv, ctx.client.db);
    for c in effects {
        let id_arg = c.id_arg.map(|j| argv[j]);
        c.encode(argv[1], argv[2], id_arg, |args| {
            ctx.also_propagate(db, args)
        });
    }
}

fn xclaim(ctx: &mut Ctx) -> CmdResult {
    ctx.prevent_propagation();
    let propagating = ctx.propagating();
    let (argv, db, now, touch) = parts!(ctx);
    let argc = argv.len();
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, true, touch)? else {
        return Err(nogroup_key(argv[1], argv[2]));
    };
    if !s.groups.contains_key(argv[2]) {
        return Err(nogroup_key(argv[1], argv[2]));
    }
    let minidle = arg_ll_msg(argv[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argc {
        match parse_strict_id(argv[j], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let mut force = false;
    let mut justid = false;
    let mut deliverytime: i64 = -1;
    let mut retrycount: i64 = -1;
    let mut last_id = MIN_ID;
    while j < argc {
        let more = argc - 1 - j;
        let opt = argv[j];
        if opt.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"idle") && more > 0 {
            j += 1;
            let v = arg_ll_msg(argv[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            deliverytime = now.wrapping_sub(v);
        } else if opt.eq_ignore_ascii_case(b"time") && more > 0 {
            j += 1;
            deliverytime = arg_ll_msg(argv[j], "ERR Invalid TIME option argument for XCLAIM")?;
        } else if opt.eq_ignore_ascii_case(b"retrycount") && more > 0 {
            j += 1;
            retrycount = arg_ll_msg(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if opt.eq_ignore_ascii_case(b"lastid") && more > 0 {
            j += 1;
            last_id = parse_strict_id(argv[j], 0)?;
        } else {
            return Err(format!("ERR Unrecognized XCLAIM option '{}'", lossy(opt)).into());
        }
        j += 1;
    }
    // LASTID moves the group forward; that change counts as one write (Redis
    // propagates it as XGROUP SETID) only when no entry is claimed or dropped.
    let mut propagate_last = false;
    {
        let g = s.groups.get_mut(argv[2]).expect("group");
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last = true;
        }
    }
    if deliverytime < 0 || deliverytime > now {
        deliverytime = now;
    }
    let mut dirty = 0u64;
    let name = argv[3];
    let out = &mut *ctx.out;
    let d = out.defer();
    let mut n = 0;
    let mut consumer_ready = false;
    let mut consumer_created = false;
    let mut effects = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let exists = s.exists(id);
        let g = s.groups.get_mut(argv[2]).expect("group");
        if !exists {
            if propagating && g.pel.contains_key(&id) {
                effects.push(ClaimEffect::new(g, id, Some(5 + i)));
            }
            if let Some(nack) = g.pel.remove(&id) {
                if let Some(c) = g.consumers.get_mut(&nack.consumer) {
                    c.pel.remove(&id);
                }
                propagate_last = false;
                dirty += 1;
            }
            continue;
        }
        let mut fresh = false;
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                crate::types::stream::Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: Vec::new(),
                },
            );
            fresh = true;
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if !fresh && minidle != 0 && now.wrapping_sub(nack.delivery_time) < minidle {
            continue;
        }
        if !consumer_ready {
            if g.consumer_or_create(name, now) {
                dirty += 1;
                consumer_created = true;
            }
            consumer_ready = true;
        }
        let count = (retrycount >= 0).then_some(retrycount as u64);
        transfer_nack(g, id, name, deliverytime, count, justid);
        if propagating {
            effects.push(ClaimEffect::new(g, id, Some(5 + i)));
        }
        if justid {
            reply_id(out, id);
        } else {
            reply_one(out, s, id);
        }
        n += 1;
        propagate_last = false;
        dirty += 1;
    }
    let mut set_last = None;
    if propagate_last {
        dirty += 1;
        let g = &s.groups[argv[2]];
        set_last = Some((g.last_id, g.entries_read));
    }
    out.set_array_len(d, n);
    if consumer_created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", argv[1]);
    }
    ctx.srv.dirty += dirty;
    if propagating {
        propagate_claims(ctx, &effects);
        if let Some((last, read)) = set_last {
            let mut lastb = [0u8; 42];
            let read = read.to_string();
            let args: [&[u8]; 7] = [
                b"XGROUP",
                b"SETID",
                argv[1],
                argv[2],
                fmt_id(last, &mut lastb),
                b"ENTRIESREAD",
                read.as_bytes(),
            ];
            ctx.also_propagate(db, &args);
        }
    }
    Ok(())
}

fn xautoclaim(ctx: &mut Ctx) -> CmdResult {
    ctx.prevent_propagation();
    let propagating = ctx.propagating();
    let (argv, db, now, touch) = parts!(ctx);
    let minidle = arg_ll_msg(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = start_bound(argv[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if argv[j].eq_ignore_ascii_case(b"count") && more > 0 {
            let max = i64::MAX / 16;
            count = match parse_i64(argv[j + 1]) {
                Some(c) if (1..=max).contains(&c) => c,
                _ => return Err("ERR COUNT must be > 0".into()),
            };
            j += 1;
        } else if argv[j].eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let Some(s) = get_stream(ctx.srv, db, argv[1], now, true, touch)? else {
        return Err(nogroup_key(argv[1], argv[2]));
    };
    if !s.groups.contains_key(argv[2]) {
        return Err(nogroup_key(argv[1], argv[2]));
    }
    let name = argv[3];
    let mut body = ReplyBuf::new();
    body.proto = ctx.out.proto;
    let out = &mut body;
    let mut attempts = count.saturating_mul(10);
    let mut n = 0;
    let mut dirty = 0u64;
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut consumer_ready = false;
    let mut consumer_created = false;
    let mut cursor = start;
    let mut next: Option<StreamId>;
    let mut effects = Vec::new();
    loop {
        next = s.groups[argv[2]]
            .pel
            .range(cursor..)
            .next()
            .map(|(k, _)| *k);
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        let Some(id) = next else {
            break;
        };
        cursor = match incr_id(id) {
            Some(c) => c,
            None => {
                // The largest ID: nothing follows it.
                next = None;
                MAX_ID
            }
        };
        let exists = s.exists(id);
        let g = s.groups.get_mut(argv[2]).expect("group");
        if !exists {
            if propagating {
                effects.push(ClaimEffect::new(g, id, None));
            }
            if let Some(nack) = g.pel.remove(&id) {
                if let Some(c) = g.consumers.get_mut(&nack.consumer) {
                    c.pel.remove(&id);
                }
            }
            dirty += 1;
            deleted.push(id);
            count -= 1;
            if next.is_none() {
                break;
            }
            continue;
        }
        let nack = &g.pel[&id];
        if minidle != 0 && now.wrapping_sub(nack.delivery_time) < minidle {
            if next.is_none() {
                break;
            }
            continue;
        }
        if !consumer_ready {
            if g.consumer_or_create(name, now) {
                dirty += 1;
                consumer_created = true;
            }
            consumer_ready = true;
        }
        transfer_nack(g, id, name, now, None, justid);
        if propagating {
            effects.push(ClaimEffect::new(g, id, None));
        }
        if justid {
            reply_id(out, id);
        } else {
            reply_one(out, s, id);
        }
        n += 1;
        count -= 1;
        dirty += 1;
        if next.is_none() {
            break;
        }
    }
    // The cursor: the next pending entry after the last one looked at.
    let end_id = if next.is_none() {
        MIN_ID
    } else {
        s.groups[argv[2]]
            .pel
            .range(cursor..)
            .next()
            .map_or(MIN_ID, |(k, _)| *k)
    };
    let out = &mut *ctx.out;
    out.array(3);
    reply_id(out, end_id);
    out.array(n);
    out.raw(&body.buf);
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    if consumer_created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", argv[1]);
    }
    ctx.srv.dirty += dirty;
    if propagating {
        propagate_claims(ctx, &effects);
    }
    Ok(())
}

// ---- XINFO ---------------------------------------------------------------------------

fn reply_lag(out: &mut ReplyBuf, s: &Stream, g: &Group) {
    match s.lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

fn reply_entries_read(out: &mut ReplyBuf, g: &Group) {
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

/// Redis's rax node count for the node keys, estimated (a radix tree over the
/// 16-byte big-endian master IDs).
fn rax_nodes(s: &Stream) -> i64 {
    let keys: Vec<[u8; 16]> = s.nodes().map(|(k, _)| k.to_be()).collect();
    if keys.is_empty() {
        return 1;
    }
    fn count(keys: &[[u8; 16]], depth: usize) -> i64 {
        // `keys` share their first `depth` bytes.
        if keys.len() == 1 {
            return if depth < 16 { 2 } else { 1 };
        }
        let mut d = depth;
        while d < 16 && keys.iter().all(|k| k[d] == keys[0][d]) {
            d += 1;
        }
        let compressed = if d > depth { 1 } else { 0 };
        let mut n = compressed + 1;
        let mut i = 0;
        while i < keys.len() {
            let mut j = i + 1;
            while j < keys.len() && keys[j][d] == keys[i][d] {
                j += 1;
            }
            let sub = &keys[i..j];
            n += if d + 1 == 16 { 1 } else { count(sub, d + 1) };
            i = j;
        }
        n
    }
    count(&keys, 0)
}

fn xinfo(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    if argv[1].eq_ignore_ascii_case(b"help") {
        if argv.len() != 2 {
            return Err(super::help::subcommand_syntax_error(ctx));
        }
        super::help::reply_help(
            ctx,
            &[
                "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.",
                "GROUPS <key>",
                "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]",
                "    Show information about the stream.",
            ],
        );
        return Ok(());
    } else if argv.len() < 3 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let opt = argv[1];
    let key = argv[2];
    let Some(s) = get_stream(ctx.srv, db, key, now, true, touch)? else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    let out = &mut *ctx.out;
    if opt.eq_ignore_ascii_case(b"consumers") && argv.len() == 4 {
        let Some(g) = s.groups.get(argv[3]) else {
            return Err(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                lossy(argv[3]),
                lossy(key)
            )
            .into());
        };
        out.array(g.consumers.len());
        for (name, c) in &g.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int(now.wrapping_sub(c.seen_time).max(0));
        }
    } else if opt.eq_ignore_ascii_case(b"groups") && argv.len() == 3 {
        out.array(s.groups.len());
        for (name, g) in &s.groups {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            reply_id(out, g.last_id);
            out.bulk(b"entries-read");
            reply_entries_read(out, g);
            out.bulk(b"lag");
            reply_lag(out, s, g);
        }
    } else if opt.eq_ignore_ascii_case(b"stream") {
        let optv = &argv[3..];
        let full = !optv.is_empty();
        let mut count: i64 = 10;
        if full {
            if optv.len() != 1 && optv.len() != 3 {
                return Err(super::help::subcommand_syntax_error(ctx));
            }
            if !optv[0].eq_ignore_ascii_case(b"full") {
                return Err(super::help::subcommand_syntax_error(ctx));
            }
            if optv.len() == 3 {
                if !optv[1].eq_ignore_ascii_case(b"count") {
                    return Err(super::help::subcommand_syntax_error(ctx));
                }
                count = arg_ll(optv[2])?;
                if count < 0 {
                    count = 10;
                }
            }
        }
        let out = &mut *ctx.out;
        out.map(if full { 9 } else { 10 });
        out.bulk(b"length");
        out.int(s.length as i64);
        out.bulk(b"radix-tree-keys");
        out.int(s.node_count() as i64);
        out.bulk(b"radix-tree-nodes");
        out.int(rax_nodes(s));
        out.bulk(b"last-generated-id");
        reply_id(out, s.last_id);
        out.bulk(b"max-deleted-entry-id");
        reply_id(out, s.max_deleted_id);
        out.bulk(b"entries-added");
        out.int(s.entries_added as i64);
        out.bulk(b"recorded-first-entry-id");
        reply_id(out, s.first_id);
        if !full {
            out.bulk(b"groups");
            out.int(s.groups.len() as i64);
            out.bulk(b"first-entry");
            let mut emitted = false;
            s.range(MIN_ID, MAX_ID, false, |lp, h, e| {
                reply_entry(out, lp, h, e);
                emitted = true;
                false
            });
            if !emitted {
                out.null();
            }
            out.bulk(b"last-entry");
            let mut emitted = false;
            s.range(MIN_ID, MAX_ID, true, |lp, h, e| {
                reply_entry(out, lp, h, e);
                emitted = true;
                false
            });
            if !emitted {
                out.null();
            }
        } else {
            let count = count as usize;
            out.bulk(b"entries");
            reply_range(out, s, MIN_ID, MAX_ID, count, false);
            out.bulk(b"groups");
            out.array(s.groups.len());
            for (name, g) in &s.groups {
                out.map(7);
                out.bulk(b"name");
                out.bulk(name);
                out.bulk(b"last-delivered-id");
                reply_id(out, g.last_id);
                out.bulk(b"entries-read");
                reply_entries_read(out, g);
                out.bulk(b"lag");
                reply_lag(out, s, g);
                out.bulk(b"pel-count");
                out.int(g.pel.len() as i64);
                out.bulk(b"pending");
                let n = if count == 0 {
                    g.pel.len()
                } else {
                    g.pel.len().min(count)
                };
                out.array(n);
                for (id, nack) in g.pel.iter().take(n) {
                    out.array(4);
                    reply_id(out, *id);
                    out.bulk(&nack.consumer);
                    out.int(nack.delivery_time);
                    out.int(nack.delivery_count as i64);
                }
                out.bulk(b"consumers");
                out.array(g.consumers.len());
                for (cname, c) in &g.consumers {
                    out.map(4);
                    out.bulk(b"name");
                    out.bulk(cname);
                    out.bulk(b"seen-time");
                    out.int(c.seen_time);
                    out.bulk(b"pel-count");
                    out.int(c.pel.len() as i64);
                    out.bulk(b"pending");
                    let n = if count == 0 {
                        c.pel.len()
                    } else {
                        c.pel.len().min(count)
                    };
                    out.array(n);
                    for id in c.pel.iter().take(n) {
                        let (t, n) = g
                            .pel
                            .get(id)
                            .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                        out.array(3);
                        reply_id(out, *id);
                        out.int(t);
                        out.int(n as i64);
                    }
                }
            }
        }
    } else {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis() {
        let id = |ms, seq| StreamId { ms, seq };
        assert_eq!(parse_id(b"5", 0), Ok(id(5, 0)));
        assert_eq!(parse_id(b"5", u64::MAX), Ok(id(5, u64::MAX)));
        assert_eq!(parse_id(b"5-3", 0), Ok(id(5, 3)));
        assert_eq!(parse_id(b"-", 0), Ok(MIN_ID));
        assert_eq!(parse_id(b"+", 0), Ok(MAX_ID));
        assert!(parse_strict_id(b"-", 0).is_err());
        assert_eq!(parse_id(b"01-+2", 0), Ok(id(1, 2)));
        assert!(parse_id(b"1--1", 0).is_err());
        assert!(parse_id(b"", 0).is_err());
        assert!(parse_id(b"1-", 0).is_err());
        assert!(parse_id(b"a", 0).is_err());
        assert!(parse_id(b"18446744073709551616", 0).is_err());
        assert_eq!(parse_id(b"18446744073709551615-1", 0), Ok(id(u64::MAX, 1)));
        let mut g = true;
        assert_eq!(parse_id_full(b"7-*", 0, true, Some(&mut g)), Ok(id(7, 0)));
        assert!(!g);
        assert!(parse_id(b"7-*", 0).is_err());
    }
}
