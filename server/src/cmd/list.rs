//! List commands (Redis's t_list.c): pushes, pops, ranges, LPOS, LINSERT, LREM,
//! LSET, LTRIM, LMOVE and the blocking pops (through `crate::blocking`).

use crate::blocking::{self, BlockedOp, Served};
use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::object::{Object, Value};
use crate::pubsub::class;
use crate::state::Server;
use crate::types::list::{Limits, List};
use crate::types::packed::Item;
use bytes::Bytes;
use redis_formats::num::{format_i64, parse_i64};
use redis_formats::ReplyBuf;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("lpush", lpush),
    ("rpush", rpush),
    ("lpushx", lpushx),
    ("rpushx", rpushx),
    ("lpop", lpop),
    ("rpop", rpop),
    ("llen", llen),
    ("lindex", lindex),
    ("linsert", linsert),
    ("lpos", lpos),
    ("lrange", lrange),
    ("lrem", lrem),
    ("lset", lset),
    ("ltrim", ltrim),
    ("lmove", lmove),
    ("rpoplpush", rpoplpush),
    ("lmpop", lmpop),
    ("blpop", blpop),
    ("brpop", brpop),
    ("blmove", blmove),
    ("brpoplpush", brpoplpush),
    ("blmpop", blmpop),
];

const OUT_OF_RANGE: &str = "ERR index out of range";
const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";

/// The node bounds in force.
pub fn limits(srv: &Server) -> Limits {
    Limits::new(
        srv.config.list_max_listpack_size as i64,
        super::debug::quicklist_packed_threshold(),
    )
}

/// Writes an element as a bulk string.
#[inline]
pub fn bulk_item(out: &mut ReplyBuf, item: Item<'_>) {
    match item {
        Item::Str(s) => out.bulk(s),
        Item::Int(n) => out.bulk(format_i64(n, &mut [0u8; 20])),
        Item::Float(_) => item.with_bytes(|b| out.bulk(b)),
    }
}

/// The list at `key`, WRONGTYPE for another type.
fn get_list<'s>(
    srv: &'s mut Server,
    db: usize,
    key: &[u8],
    now: i64,
    read: bool,
    touch: bool,
) -> Result<Option<&'s mut List>, CmdError> {
    match lookup_key(srv, db, key, now, read, touch) {
        None => Ok(None),
        Some(Object {
            value: Value::List(l),
            ..
        }) => Ok(Some(l)),
        Some(_) => Err(errors::WRONGTYPE.into()),
    }
}

/// Common parts of a handler: argv, db, now, touch.
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

/// A long argument (Redis's getLongFromObjectOrReply).
fn arg_long(b: &[u8]) -> Result<i64, CmdError> {
    parse_i64(b).ok_or(errors::NOT_INTEGER.into())
}

/// A non-negative long with Redis's getPositiveLongFromObjectOrReply texts.
fn arg_positive(b: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match parse_i64(b) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(msg.into()),
    }
}

/// LEFT or RIGHT: true for LEFT (the head).
fn arg_where(b: &[u8]) -> Result<bool, CmdError> {
    if b.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if b.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(errors::SYNTAX.into())
    }
}

fn push_generic(ctx: &mut Ctx, front: bool, xx: bool) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let lim = limits(ctx.srv);
    let key = &argv[1];
    let n = argv.len() - 2;
    let len = match get_list(ctx.srv, db, key, now, false, touch)? {
        Some(l) => {
            for v in &argv[2..] {
                l.push(v, front, &lim);
            }
            l.len()
        }
        None => {
            if xx {
                ctx.out.int(0);
                return Ok(());
            }
            let mut l = List::new();
            for v in &argv[2..] {
                l.push(v, front, &lim);
            }
            let len = l.len();
            let obj = ctx.new_object(Value::List(l));
            ctx.srv.keyspace.dbs[db].add(key, obj);
            len
        }
    };
    ctx.srv.dirty += n as u64;
    ctx.out.int(len as i64);
    ctx.notify(class::LIST, if front { "lpush" } else { "rpush" }, key);
    Ok(())
}

fn lpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, true, false)
}

fn rpush(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, false, false)
}

fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, true, true)
}

fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push_generic(ctx, false, true)
}

/// Deletes `key` if its list was emptied (with its `del` event).
fn delete_if_empty(srv: &mut Server, dbi: usize, key: &[u8]) {
    let db = &mut srv.keyspace.dbs[dbi];
    if let Some(Object {
        value: Value::List(l),
        ..
    }) = db.keys.get(key)
    {
        if l.is_empty() {
            db.remove(key);
            srv.notify(class::GENERIC, "del", key, dbi);
        }
    }
}

/// After elements were popped from `key`: the pop event, then the deletion of an
/// emptied list (Redis's listElementsRemoved).
fn popped(srv: &mut Server, db: usize, key: &[u8], front: bool) {
    srv.notify(class::LIST, if front { "lpop" } else { "rpop" }, key, db);
    delete_if_empty(srv, db, key);
}

/// Pops up to `count` elements from one end, replying with them as an array.
fn pop_range_reply(l: &mut List, front: bool, count: usize, out: &mut ReplyBuf) -> usize {
    let n = count.min(l.len());
    out.array(n);
    if front {
        for item in l.iter().take(n) {
            bulk_item(out, item);
        }
        l.remove_range(0, n);
    } else {
        for item in l.iter_rev().take(n) {
            bulk_item(out, item);
        }
        let len = l.len();
        l.remove_range(len - n, n);
    }
    n
}

fn pop_generic(ctx: &mut Ctx, front: bool) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    if argv.len() > 3 {
        return Err(format!(
            "ERR wrong number of arguments for '{}' command",
            ctx.cmd.name
        )
        .into());
    }
    let count = if argv.len() == 3 {
        Some(arg_positive(argv[2], MUST_BE_POSITIVE)? as usize)
    } else {
        None
    };
    let key = &argv[1];
    let out = &mut *ctx.out;
    let Some(l) = get_list(ctx.srv, db, key, now, false, touch)? else {
        if count.is_some() {
            out.null_array();
        } else {
            out.null();
        }
        return Ok(());
    };
    let n = match count {
        Some(0) => {
            out.array(0);
            return Ok(());
        }
        None => {
            l.pop_with(front, |item| bulk_item(out, item));
            1
        }
        Some(c) => pop_range_reply(l, front, c, out),
    };
    ctx.srv.dirty += n as u64;
    popped(ctx.srv, db, key, front);
    ctx.flush_pushes();
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, true)
}

fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop_generic(ctx, false)
}

fn llen(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let n = get_list(ctx.srv, db, argv[1], now, true, touch)?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

fn lindex(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let out = &mut *ctx.out;
    let Some(l) = get_list(ctx.srv, db, argv[1], now, true, touch)? else {
        out.null();
        return Ok(());
    };
    let index = arg_long(argv[2])?;
    match l.get_signed(index) {
        Some(item) => bulk_item(out, item),
        None => out.null(),
    }
    Ok(())
}

fn lset(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let lim = limits(ctx.srv);
    let Some(l) = get_list(ctx.srv, db, argv[1], now, false, touch)? else {
        return Err(errors::NO_SUCH_KEY.into());
    };
    let index = arg_long(argv[2])?;
    let len = l.len() as i64;
    let i = if index < 0 { len + index } else { index };
    if i < 0 || i >= len {
        return Err(OUT_OF_RANGE.into());
    }
    l.set(i as usize, argv[3], &lim);
    ctx.srv.dirty += 1;
    ctx.out.ok();
    ctx.notify(class::LIST, "lset", argv[1]);
    Ok(())
}

fn lrange(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let start = arg_long(argv[2])?;
    let end = arg_long(argv[3])?;
    let out = &mut *ctx.out;
    let Some(l) = get_list(ctx.srv, db, argv[1], now, true, touch)? else {
        out.array(0);
        return Ok(());
    };
    match super::args::index_range(start, end, l.len()) {
        None => out.array(0),
        Some((s, n)) => {
            out.array(n);
            for item in l.iter_from(s).take(n) {
                bulk_item(out, item);
            }
        }
    }
    Ok(())
}

fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let start = arg_long(argv[2])?;
    let end = arg_long(argv[3])?;
    let key = &argv[1];
    let Some(l) = get_list(ctx.srv, db, key, now, false, touch)? else {
        ctx.out.ok();
        return Ok(());
    };
    let len = l.len();
    let (lt, rt) = match super::args::index_range(start, end, len) {
        None => (len, 0),
        Some((s, n)) => (s, len - s - n),
    };
    l.trim(lt, rt);
    ctx.notify(class::LIST, "ltrim", key);
    delete_if_empty(ctx.srv, db, key);
    ctx.flush_pushes();
    ctx.srv.dirty += (lt + rt) as u64;
    ctx.out.ok();
    Ok(())
}

fn linsert(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(errors::SYNTAX.into());
    };
    let lim = limits(ctx.srv);
    let Some(l) = get_list(ctx.srv, db, argv[1], now, false, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let pivot = &argv[3];
    let Some(at) = l.iter().position(|i| i.eq_bytes(pivot)) else {
        ctx.out.int(-1);
        return Ok(());
    };
    l.insert(at + after as usize, argv[4], &lim);
    let len = l.len();
    ctx.notify(class::LIST, "linsert", argv[1]);
    ctx.srv.dirty += 1;
    ctx.out.int(len as i64);
    Ok(())
}

fn lpos(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let mut rank: i64 = 1;
    let mut count: i64 = -1;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        if opt.eq_ignore_ascii_case(b"rank") && more {
            j += 1;
            rank = arg_long(argv[j])?;
            if rank == 0 {
                return Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list".into());
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            j += 1;
            count = arg_positive(argv[j], "ERR COUNT can't be negative")?;
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            j += 1;
            maxlen = arg_positive(argv[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let out = &mut *ctx.out;
    let Some(l) = get_list(ctx.srv, db, argv[1], now, true, touch)? else {
        if count != -1 {
            out.array(0);
        } else {
            out.null();
        }
        return Ok(());
    };
    let ele = &argv[2];
    let reverse = rank < 0;
    // Redis negates a negative rank in a C long: LONG_MIN stays negative, which
    // every match then satisfies, as rank 1 would.
    let rank = if rank == i64::MIN {
        1
    } else {
        rank.unsigned_abs()
    };
    let len = l.len();
    let iter: Box<dyn Iterator<Item = Item<'_>>> = if reverse {
        Box::new(l.iter_rev())
    } else {
        Box::new(l.iter())
    };
    let limit = if maxlen == 0 {
        usize::MAX
    } else {
        maxlen as usize
    };
    let mut matches: u64 = 0;
    let mut found: Vec<i64> = Vec::new();
    for (index, item) in iter.take(limit).enumerate() {
        if item.eq_bytes(ele) {
            matches += 1;
            if matches >= rank {
                let pos = if reverse { len - index - 1 } else { index } as i64;
                found.push(pos);
                if count == -1 || (count > 0 && found.len() as i64 >= count) {
                    break;
                }
            }
        }
    }
    if count != -1 {
        out.array(found.len());
        for p in found {
            out.int(p);
        }
    } else {
        match found.first() {
            Some(&p) => out.int(p),
            None => out.null(),
        }
    }
    Ok(())
}

fn lrem(ctx: &mut Ctx) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let toremove = arg_long(argv[2])?;
    let key = &argv[1];
    let Some(l) = get_list(ctx.srv, db, key, now, false, touch)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let ele = &argv[3];
    let limit = if toremove == 0 {
        usize::MAX
    } else {
        toremove.unsigned_abs().min(usize::MAX as u64) as usize
    };
    let len = l.len();
    let mut idx: Vec<usize> = if toremove < 0 {
        l.iter_rev()
            .enumerate()
            .filter(|(_, i)| i.eq_bytes(ele))
            .map(|(k, _)| len - 1 - k)
            .take(limit)
            .collect()
    } else {
        l.iter()
            .enumerate()
            .filter(|(_, i)| i.eq_bytes(ele))
            .map(|(k, _)| k)
            .take(limit)
            .collect()
    };
    let removed = idx.len();
    l.remove_indexes(&mut idx);
    if removed > 0 {
        ctx.notify(class::LIST, "lrem", key);
    }
    delete_if_empty(ctx.srv, db, key);
    ctx.flush_pushes();
    ctx.srv.dirty += removed as u64;
    ctx.out.int(removed as i64);
    Ok(())
}

/// Moves one element from `src` to `dst` (LMOVE and the blocking variants).
/// `Ok(None)` when `src` is missing; WRONGTYPE for either key.
pub fn move_element(
    srv: &mut Server,
    db: usize,
    src: &[u8],
    dst: &[u8],
    (from_front, to_front): (bool, bool),
    now: i64,
    touch: bool,
) -> Result<Option<Vec<u8>>, CmdError> {
    let lim = limits(srv);
    match get_list(srv, db, src, now, false, touch)? {
        Some(l) if !l.is_empty() => {}
        _ => return Ok(None),
    }
    let dst_exists = get_list(srv, db, dst, now, false, touch)?.is_some();
    let l = get_list(srv, db, src, now, false, false)?.expect("checked above");
    let v = l.pop(from_front).expect("a stored list is not empty");
    let push_event = if to_front { "lpush" } else { "rpush" };
    if src == dst {
        l.push(&v, to_front, &lim);
        srv.notify(class::LIST, push_event, dst, db);
        srv.notify(
            class::LIST,
            if from_front { "lpop" } else { "rpop" },
            src,
            db,
        );
    } else {
        if dst_exists {
            if let Some(d) = get_list(srv, db, dst, now, false, false)? {
                d.push(&v, to_front, &lim);
            }
        } else {
            let mut d = List::new();
            d.push(&v, to_front, &lim);
            let obj = Object::new(Value::List(d), crate::evict::initial_lru(srv, now));
            srv.keyspace.dbs[db].add(dst, obj);
        }
        srv.notify(class::LIST, push_event, dst, db);
        popped(srv, db, src, from_front);
    }
    srv.dirty += 1;
    Ok(Some(v))
}

fn lmove_generic(ctx: &mut Ctx, from_front: bool, to_front: bool) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    match move_element(
        ctx.srv,
        db,
        argv[1],
        argv[2],
        (from_front, to_front),
        now,
        touch,
    )? {
        Some(v) => {
            ctx.flush_pushes();
            ctx.out.bulk(&v)
        }
        None => ctx.out.null(),
    }
    Ok(())
}

fn lmove(ctx: &mut Ctx) -> CmdResult {
    let from = arg_where(ctx.argv[3])?;
    let to = arg_where(ctx.argv[4])?;
    lmove_generic(ctx, from, to)
}

fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    lmove_generic(ctx, false, true)
}

/// Parsed LMPOP/BLMPOP arguments after numkeys: (keys range, front, count).
fn parse_mpop(argv: &[&[u8]], numkeys_idx: usize) -> Result<(usize, usize, bool, usize), CmdError> {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    let numkeys = match parse_i64(argv[numkeys_idx]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(NUMKEYS.into()),
    };
    let where_idx = numkeys_idx.saturating_add(numkeys).saturating_add(1);
    if where_idx >= argv.len() {
        return Err(errors::SYNTAX.into());
    }
    let front = arg_where(argv[where_idx])?;
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        if count == -1 && argv[j].eq_ignore_ascii_case(b"count") && more {
            j += 1;
            count = match parse_i64(argv[j]) {
                Some(n) if n >= 1 => n,
                _ => return Err("ERR count should be greater than 0".into()),
            };
        } else {
            return Err(errors::SYNTAX.into());
        }
        j += 1;
    }
    let count = if count == -1 { 1 } else { count as usize };
    Ok((numkeys_idx + 1, where_idx, front, count))
}

/// Pops from the first non-empty list of `keys`: `Some` after replying.
fn mpop_first(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    front: bool,
    count: Option<usize>,
) -> Result<bool, CmdError> {
    let (_, db, now, touch) = parts!(ctx);
    for key in keys {
        let out = &mut *ctx.out;
        let Some(l) = get_list(ctx.srv, db, key, now, false, touch)? else {
            continue;
        };
        if l.is_empty() {
            continue;
        }
        let llen = l.len();
        out.array(2);
        out.bulk(key);
        let n = match count {
            None => {
                l.pop_with(front, |item| bulk_item(out, item));
                1
            }
            Some(c) => pop_range_reply(l, front, c, out),
        };
        ctx.srv.dirty += n as u64;
        popped(ctx.srv, db, key, front);
        ctx.flush_pushes();
        // Propagated as [LR]POP key [count] (the count no more than the length).
        if ctx.propagating() {
            let name: &[u8] = if front { b"LPOP" } else { b"RPOP" };
            match count {
                None => ctx.propagate_as(&[name, key]),
                Some(c) => {
                    let n = c.min(llen).to_string();
                    ctx.propagate_as(&[name, key, n.as_bytes()]);
                }
            }
        }
        return Ok(true);
    }
    Ok(false)
}

fn lmpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (first, where_idx, front, count) = parse_mpop(argv, 1)?;
    if !mpop_first(ctx, &argv[first..where_idx], front, Some(count))? {
        ctx.out.null_array();
    }
    Ok(())
}

/// The pending pop of a client blocked in BLPOP, BRPOP, BLMPOP, BLMOVE or
/// BRPOPLPUSH.
struct ListWait {
    front: bool,
    /// BLMPOP's count (replies with a nested array).
    count: Option<usize>,
    /// BLMOVE / BRPOPLPUSH: the destination and its end.
    dest: Option<(Bytes, bool)>,
    /// BRPOPLPUSH (propagated as RPOPLPUSH, not LMOVE).
    rpoplpush: bool,
}

impl BlockedOp for ListWait {
    fn also_writes(&self) -> Option<&[u8]> {
        self.dest.as_ref().map(|(k, _)| &k[..])
    }

    fn serve(
        &mut self,
        srv: &mut Server,
        db: usize,
        key: &[u8],
        out: &mut ReplyBuf,
        now_ms: i64,
    ) -> Served {
        let ready = matches!(
            get_list(srv, db, key, now_ms, false, true),
            Ok(Some(l)) if !l.is_empty()
        );
        if !ready {
            return Served::NotReady;
        }
        if let Some((dst, to_front)) = &self.dest {
            match move_element(srv, db, key, dst, (self.front, *to_front), now_ms, true) {
                Ok(Some(v)) => {
                    out.bulk(&v);
                    if srv.prop.active {
                        let side = |front: bool| -> &[u8] {
                            if front {
                                b"left"
                            } else {
                                b"right"
                            }
                        };
                        if self.rpoplpush {
                            srv.prop.push(db, &[b"RPOPLPUSH", key, dst]);
                        } else {
                            srv.prop
                                .push(db, &[b"LMOVE", key, dst, side(self.front), side(*to_front)]);
                        }
                    }
                }
                Ok(None) => return Served::NotReady,
                Err(CmdError(msg)) => out.error(&msg),
            }
            return Served::Done;
        }
        let Ok(Some(l)) = get_list(srv, db, key, now_ms, false, false) else {
            return Served::NotReady;
        };
        let llen = l.len();
        out.array(2);
        out.bulk(key);
        let n = match self.count {
            None => {
                l.pop_with(self.front, |item| bulk_item(out, item));
                1
            }
            Some(c) => pop_range_reply(l, self.front, c, out),
        };
        srv.dirty += n as u64;
        popped(srv, db, key, self.front);
        if srv.prop.active {
            let name: &[u8] = if self.front { b"LPOP" } else { b"RPOP" };
            match self.count {
                None => srv.prop.push(db, &[name, key]),
                Some(c) => {
                    let n = c.min(llen).to_string();
                    srv.prop.push(db, &[name, key, n.as_bytes()]);
                }
            }
        }
        Served::Done
    }
}

fn bpop_generic(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    front: bool,
    timeout_idx: usize,
    count: Option<usize>,
) -> CmdResult {
    let deadline = blocking::parse_timeout(ctx.argv[timeout_idx], ctx.now_ms)?;
    if mpop_first(ctx, keys, front, count)? {
        return Ok(());
    }
    if ctx.client.deny_blocking {
        ctx.out.null_array();
        return Ok(());
    }
    blocking::block(
        ctx,
        keys,
        deadline,
        Box::new(ListWait {
            front,
            count,
            dest: None,
            rpoplpush: false,
        }),
    );
    Ok(())
}

fn blpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    bpop_generic(ctx, &argv[1..argv.len() - 1], true, argv.len() - 1, None)
}

fn brpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    bpop_generic(ctx, &argv[1..argv.len() - 1], false, argv.len() - 1, None)
}

fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (first, where_idx, front, count) = parse_mpop(argv, 2)?;
    bpop_generic(ctx, &argv[first..where_idx], front, 1, Some(count))
}

fn blmove_generic(ctx: &mut Ctx, from: bool, to: bool, timeout_idx: usize) -> CmdResult {
    let (argv, db, now, touch) = parts!(ctx);
    let deadline = blocking::parse_timeout(argv[timeout_idx], now)?;
    if get_list(ctx.srv, db, argv[1], now, false, touch)?.is_some() {
        // Propagated as LMOVE / RPOPLPUSH.
        if ctx.propagating() {
            if timeout_idx == 5 {
                ctx.propagate_as(&[b"LMOVE", argv[1], argv[2], argv[3], argv[4]]);
            } else {
                ctx.propagate_as(&[b"RPOPLPUSH", argv[1], argv[2]]);
            }
        }
        return lmove_generic(ctx, from, to);
    }
    if ctx.client.deny_blocking {
        ctx.out.null();
        return Ok(());
    }
    blocking::block(
        ctx,
        &argv[1..2],
        deadline,
        Box::new(ListWait {
            front: from,
            count: None,
            dest: Some((Bytes::copy_from_slice(argv[2]), to)),
            rpoplpush: timeout_idx == 3,
        }),
    );
    Ok(())
}

fn blmove(ctx: &mut Ctx) -> CmdResult {
    let from = arg_where(ctx.argv[3])?;
    let to = arg_where(ctx.argv[4])?;
    blmove_generic(ctx, from, to, 5)
}

fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    blmove_generic(ctx, false, true, 3)
}
