//! Clients blocked on keys: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (and the
//! sorted-set commands BZPOPMIN, BZPOPMAX, BZMPOP, and XREAD / XREADGROUP with BLOCK,
//! through the same API).
//!
//! # How a command blocks
//!
//! A blocking command first tries to serve itself (a non-empty key replies at
//! once). Otherwise its handler calls [`block`] with the keys, the deadline and a
//! [`BlockedOp`]: the thing to do once a key is ready. `block` queues the client's
//! id on each key in the database's `waiters` (first blocked, first served), records
//! the op in [`Blocking`], and marks the client's [`Outbox`] blocked. The handler
//! writes no reply. The connection task sees the mark after the command, stops
//! running the rest of its pipeline, releases the lock and waits on its outbox's
//! notifier (and on the socket, so a dropped connection is noticed, and on the
//! deadline).
//!
//! # How it is woken
//!
//! Whenever a list or sorted-set value is added to a database under a key somebody
//! waits on (`Db::add` / `Db::set_with`: pushes creating the key, RENAME, MOVE,
//! COPY, SORT STORE, SWAPDB...), the database queues the key in `Db::ready`. After
//! each command, still under the lock, the dispatcher calls [`handle_ready`]: for
//! each ready key it offers the key to its waiters in order through
//! [`BlockedOp::serve`]; a waiter that is served is unblocked: its reply goes to its
//! outbox and its connection task wakes, writes it, and goes on with its pipeline.
//! Serving may make other keys ready (BLMOVE pushes); they are served in the same
//! pass, as Redis does.
//!
//! A timeout is noticed by the blocked connection itself (it sleeps until the
//! deadline, then takes the lock and calls [`timeout`]). CLIENT UNBLOCK calls
//! [`client_unblock`]; a connection that ends calls [`disconnect`].
//!
//! # Plugging in another type (the sorted sets)
//!
//! Implement [`BlockedOp`] for the command's pending work, e.g.
//! `struct ZPop { max: bool, count: Option<usize> }` whose `serve` looks `key` up
//! in `srv.keyspace.dbs[db]`, returns [`Served::NotReady`] when it is missing, empty
//! or not a sorted set, and otherwise pops, writes the reply into `out` (already in
//! the waiter's protocol), deletes an emptied key and returns [`Served::Done`]. The
//! handler calls `blocking::block(ctx, keys, deadline_ms, Box::new(ZPop { .. }))`.
//! Keys are signalled ready by the keyspace itself for `Value::List` and
//! `Value::ZSet`, so ZADD creating a key wakes its waiters with nothing more to do.
//! The default [`BlockedOp::timeout_reply`] is the null array Redis sends for both
//! types.
//!
//! # MULTI/EXEC and scripts (later)
//!
//! Inside a transaction or a script a blocking command must not block: the
//! handlers check `Client::deny_blocking` and reply as on timeout (BZPOP* should do
//! the same). Keys made ready inside EXEC are served once EXEC ends: the
//! dispatcher calls [`handle_ready`] after each top-level command, so EXEC must run
//! its queued commands without going through `dispatch::execute` for each (or must
//! not serve ready keys between them).

use crate::client::Outbox;
use crate::dispatch::Ctx;
use crate::state::Server;
use bytes::Bytes;
use redis_formats::{ProtoVersion, ReplyBuf};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What [`BlockedOp::serve`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// A reply was written: the client is unblocked.
    Done,
    /// The key cannot serve this client (missing, empty, other type): it waits on.
    NotReady,
}

/// The pending work of a blocked client. See the module docs.
pub trait BlockedOp: Send {
    /// Tries to serve the client from `key` of database `db`, which was just
    /// signalled ready. On success writes the whole reply to `out` (in the client's
    /// protocol) and returns [`Served::Done`]; an error reply (say, WRONGTYPE for a
    /// destination) also counts as served. Otherwise writes nothing.
    fn serve(
        &mut self,
        srv: &mut Server,
        db: usize,
        key: &[u8],
        out: &mut ReplyBuf,
        now_ms: i64,
    ) -> Served;

    /// The reply when the timeout passes (or CLIENT UNBLOCK ... TIMEOUT).
    fn timeout_reply(&self, out: &mut ReplyBuf) {
        out.null_array();
    }

    /// A key besides the ready one that serving writes (BLMOVE's destination), so
    /// WATCHes on it break.
    fn also_writes(&self) -> Option<&[u8]> {
        None
    }
}

/// One blocked client.
pub struct Blocked {
    /// The database of its keys.
    pub db: usize,
    /// The keys it waits on (without duplicates), in the command's order.
    pub keys: Vec<Bytes>,
    /// What to do when a key is ready.
    pub op: Box<dyn BlockedOp>,
    /// Where its reply goes.
    pub outbox: Arc<Outbox>,
    /// Its protocol.
    pub resp: ProtoVersion,
    /// Unix ms after which it times out (0: never).
    pub deadline_ms: i64,
    /// The blocked command (its id in the command table) and arguments, for the
    /// statistics and slowlog entry recorded when it is unblocked.
    pub cmd_id: usize,
    pub argv: Vec<Bytes>,
    /// The client's registry slot.
    pub slot: usize,
}

/// Every blocked client, by id.
#[derive(Default)]
pub struct Blocking {
    clients: HashMap<u64, Blocked>,
}

impl Blocking {
    /// True if `id` is blocked.
    pub fn is_blocked(&self, id: u64) -> bool {
        self.clients.contains_key(&id)
    }

    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Number of blocked clients with a timeout (INFO clients_in_timeout_table).
    pub fn with_timeout(&self) -> usize {
        self.clients.values().filter(|b| b.deadline_ms != 0).count()
    }

    /// The blocked clients' ids.
    pub fn ids(&self) -> Vec<u64> {
        self.clients.keys().copied().collect()
    }

    /// True when nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

/// Blocks the client running `ctx` on `keys` until a key serves it through `op`
/// or `deadline_ms` (unix ms; 0 waits forever) passes. Writes no reply.
pub fn block(ctx: &mut Ctx, keys: &[&[u8]], deadline_ms: i64, op: Box<dyn BlockedOp>) {
    let id = ctx.client.id;
    let dbi = ctx.client.db;
    let mut uniq: Vec<Bytes> = Vec::with_capacity(keys.len());
    for k in keys {
        if !uniq.iter().any(|u| u == k) {
            uniq.push(Bytes::copy_from_slice(k));
        }
    }
    let db = &mut ctx.srv.keyspace.dbs[dbi];
    for k in &uniq {
        db.waiters.entry(k.to_vec()).or_default().push_back(id);
    }
    let outbox = ctx.client.outbox.clone();
    outbox.block_deadline.store(deadline_ms, Ordering::Release);
    outbox.blocked.store(true, Ordering::Release);
    ctx.srv.blocking.clients.insert(
        id,
        Blocked {
            db: dbi,
            keys: uniq,
            op,
            outbox,
            resp: ctx.client.resp,
            deadline_ms,
            cmd_id: ctx.cmd.id,
            argv: ctx.argv.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
            slot: ctx.client.slot,
        },
    );
    ctx.srv.blocked_clients += 1;
}

/// Takes `id` out of the blocked clients and its keys' queues.
fn unblock(srv: &mut Server, id: u64) -> Option<Blocked> {
    let b = srv.blocking.clients.remove(&id)?;
    let db = &mut srv.keyspace.dbs[b.db];
    for k in &b.keys {
        if let Some(q) = db.waiters.get_mut(k.as_ref()) {
            q.retain(|&c| c != id);
            if q.is_empty() {
                db.waiters.remove(k.as_ref());
            }
        }
    }
    srv.blocked_clients -= 1;
    Some(b)
}

/// Sends a finished reply to an unblocked client, then lifts its blocked mark
/// and wakes it (the reply is queued before the mark goes, so the connection,
/// which may run on another thread, never resumes its pipeline ahead of it).
fn deliver(srv: &mut Server, b: &Blocked, out: &ReplyBuf, duration_us: u64, now_ms: i64) {
    account(srv, b, out, duration_us, now_ms);
    b.outbox.queue(&out.buf);
    b.outbox.blocked.store(false, Ordering::Release);
    b.outbox.notify.notify_one();
}

/// Redis's updateStatsOnUnblock: the blocked command's time, failure (an error
/// reply, also counted in errorstats), latency and slowlog entry.
fn account(srv: &mut Server, b: &Blocked, out: &ReplyBuf, duration_us: u64, now_ms: i64) {
    srv.command_stats[b.cmd_id].usec += duration_us;
    if out.buf.first() == Some(&b'-') {
        srv.command_stats[b.cmd_id].failed_calls += 1;
        let end = out.buf.len().saturating_sub(2).max(1);
        let msg = String::from_utf8_lossy(&out.buf[1..end]).into_owned();
        crate::dispatch::count_error(srv, &msg);
    }
    crate::dispatch::record_latency(srv, b.cmd_id, duration_us);
    let spec = redis_commands::table().by_id(b.cmd_id);
    if spec.is_some_and(|s| s.has_flag(redis_commands::CommandFlags::SKIP_SLOWLOG)) {
        return;
    }
    let threshold = srv.config.slowlog_log_slower_than;
    let max_len = srv.config.slowlog_max_len as i64;
    if let Some(client) = srv.clients.get_mut(b.slot) {
        let argv: Vec<&[u8]> = b.argv.iter().map(|a| &a[..]).collect();
        srv.slowlog.push_if_needed(
            &argv,
            duration_us,
            now_ms / 1000,
            client,
            threshold,
            max_len,
            0,
        );
    }
}

/// Serves the keys made ready by the last command (see the module docs).
pub fn handle_ready(srv: &mut Server, now_ms: i64) {
    loop {
        let mut any = false;
        for dbi in 0..srv.keyspace.dbs.len() {
            if srv.keyspace.dbs[dbi].ready.is_empty() {
                continue;
            }
            any = true;
            let keys = std::mem::take(&mut srv.keyspace.dbs[dbi].ready);
            for key in keys {
                serve_key(srv, dbi, &key, now_ms);
            }
        }
        if !any {
            return;
        }
    }
}

/// Offers `key` to its waiters, first blocked first.
fn serve_key(srv: &mut Server, dbi: usize, key: &[u8], now_ms: i64) {
    let Some(q) = srv.keyspace.dbs[dbi].waiters.get(key) else {
        return;
    };
    let ids: Vec<u64> = q.iter().copied().collect();
    // A deleted stream key is offered too (XREADGROUP waiters get an error); a
    // key that serving empties stops the round.
    let present = srv.keyspace.dbs[dbi].peek(key, now_ms).is_some();
    for id in ids {
        let Some(mut b) = srv.blocking.clients.remove(&id) else {
            continue;
        };
        let mut out = ReplyBuf::new();
        out.proto = b.resp;
        let start = std::time::Instant::now();
        let served = b.op.serve(srv, dbi, key, &mut out, now_ms);
        // Each served client is its own unit of propagation (Redis's afterCommand
        // per unblocked client).
        if srv.prop.active {
            crate::propagate::flush(srv, true);
        }
        if served == Served::Done && !srv.watched_keys.is_empty() {
            crate::cmd::multi::touch_key(srv, dbi, key);
            if let Some(dest) = b.op.also_writes() {
                crate::cmd::multi::touch_key(srv, dbi, dest);
            }
        }
        // Client-side caching: the served client hears of its keys after its reply.
        let tracked = if served == Served::Done && srv.tracking.active() {
            Some((id, b.op.also_writes().map(|d| d.to_vec())))
        } else {
            None
        };
        srv.blocking.clients.insert(id, b);
        if served == Served::Done {
            if let Some(b) = unblock(srv, id) {
                let us = start.elapsed().as_micros() as u64;
                deliver(srv, &b, &out, us, now_ms);
            }
        }
        if let Some((by, dest)) = tracked {
            crate::tracking::invalidate_key(srv, key, true, by);
            if let Some(d) = dest {
                crate::tracking::invalidate_key(srv, &d, true, by);
            }
        }
        if present && srv.keyspace.dbs[dbi].peek(key, now_ms).is_none() {
            break;
        }
    }
}

/// Times `id` out if it is still blocked and its deadline has passed.
pub fn timeout(srv: &mut Server, id: u64, now_ms: i64) {
    match srv.blocking.clients.get(&id) {
        Some(b) if b.deadline_ms != 0 && b.deadline_ms <= now_ms => {}
        _ => return,
    }
    if let Some(b) = unblock(srv, id) {
        let mut out = ReplyBuf::new();
        out.proto = b.resp;
        b.op.timeout_reply(&mut out);
        deliver(srv, &b, &out, 0, now_ms);
    }
}

/// CLIENT UNBLOCK: true if `id` was blocked (it gets the timeout reply, or the
/// UNBLOCKED error when `error`).
pub fn client_unblock(srv: &mut Server, id: u64, error: bool) -> bool {
    let Some(b) = unblock(srv, id) else {
        return false;
    };
    let mut out = ReplyBuf::new();
    out.proto = b.resp;
    if error {
        out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        b.op.timeout_reply(&mut out);
    }
    deliver(srv, &b, &out, 0, crate::state::now_ms());
    true
}

/// Unblocks `id` with the reply `write` makes (WAIT, when enough replicas acked).
pub fn unblock_with_reply(srv: &mut Server, id: u64, write: impl FnOnce(&mut ReplyBuf)) -> bool {
    let Some(b) = unblock(srv, id) else {
        return false;
    };
    let mut out = ReplyBuf::new();
    out.proto = b.resp;
    write(&mut out);
    deliver(srv, &b, &out, 0, crate::state::now_ms());
    true
}

/// Forgets a client whose connection ended.
pub fn disconnect(srv: &mut Server, id: u64) {
    if let Some(b) = unblock(srv, id) {
        b.outbox.blocked.store(false, Ordering::Release);
    }
}

/// Parses a blocking timeout in seconds (Redis's getTimeoutFromObjectOrReply):
/// 0 for none, else the absolute unix ms deadline.
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<i64, crate::dispatch::CmdError> {
    let secs = std::str::from_utf8(arg)
        .ok()
        .filter(|s| {
            !s.is_empty()
                && !s.starts_with(|c: char| c.is_ascii_whitespace())
                && !s.ends_with(|c: char| c.is_ascii_whitespace())
        })
        .and_then(parse_c_double)
        .filter(|x| !x.is_nan())
        .ok_or("ERR timeout is not a float or out of range")?;
    let ms = (secs * 1000.0).ceil();
    // Redis converts to a 64-bit integer; values past its range come out
    // negative there (x86's conversion result), hence the same error.
    if !(0.0..9.223_372_036_854_776e18).contains(&ms) {
        return Err("ERR timeout is negative".into());
    }
    let ms = ms as i64;
    Ok(if ms > 0 { ms.saturating_add(now_ms) } else { 0 })
}

/// strtold-like parse of a whole string: decimal with exponent, `inf`, and
/// hexadecimal (`0x10`, `0x1.8`, `0x1p4`) as C accepts them.
fn parse_c_double(s: &str) -> Option<f64> {
    let l = s.to_ascii_lowercase();
    let (neg, body) = match l.as_bytes().first() {
        Some(b'-') => (true, &l[1..]),
        Some(b'+') => (false, &l[1..]),
        _ => (false, &l[..]),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return None,
        _ => {}
    }
    if let Some(hex) = body.strip_prefix("0x") {
        let (mant, exp) = match hex.split_once('p') {
            Some((m, e)) => (m, e.parse::<i32>().ok()?),
            None => (hex, 0),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut v = 0f64;
        for c in int.chars() {
            v = v * 16.0 + c.to_digit(16)? as f64;
        }
        let mut scale = 1.0 / 16.0;
        for c in frac.chars() {
            v += c.to_digit(16)? as f64 * scale;
            scale /= 16.0;
        }
        return Some(sign * v * 2f64.powi(exp));
    }
    if body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return s.parse::<f64>().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_timeout;

    #[test]
    fn timeouts_parse_as_redis() {
        let now = 1_000_000;
        assert_eq!(parse_timeout(b"0", now), Ok(0));
        assert_eq!(parse_timeout(b"1", now), Ok(now + 1000));
        assert_eq!(parse_timeout(b"0.001", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"0.0001", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"-0.0001", now), Ok(0));
        assert_eq!(parse_timeout(b"0x10", now), Ok(now + 16_000));
        assert_eq!(parse_timeout(b"1e1", now), Ok(now + 10_000));
        let neg = Err("ERR timeout is negative".into());
        assert_eq!(parse_timeout(b"-1", now), neg);
        assert_eq!(parse_timeout(b"inf", now), neg);
        assert_eq!(parse_timeout(b"1e400", now), neg);
        let bad = Err("ERR timeout is not a float or out of range".into());
        for s in ["", "abc", " 1", "1 ", "nan", "1x", "0x", "--1"] {
            assert_eq!(parse_timeout(s.as_bytes(), now), bad, "{s:?}");
        }
    }
}
