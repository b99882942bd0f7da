//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Between MULTI and EXEC the dispatcher queues commands (`dispatch::run` answers
//! `+QUEUED`), and a command it rejects (unknown, wrong arity, OOM, ...) marks the
//! transaction so EXEC answers EXECABORT. EXEC runs the queue under the one lock hold
//! the connection already has, so nothing else interleaves.
//!
//! WATCH: each watched key is registered in `Server::watched_keys` with the client's
//! shared "dirty" flag. The dispatcher sets the flags of a write command's written keys
//! when the command changed the dataset (`Server::dirty` moved), and SWAPDB sets those
//! of the keys it swaps. Deletions the dispatcher does not see (expiry, eviction,
//! FLUSHDB/FLUSHALL, MOVE away) are caught at EXEC: a key that was live when watched
//! and is missing or expired at EXEC aborts the transaction, as Redis's touch on
//! deletion and its expired-at-EXEC check together do. A write that changed the
//! dataset but not one of its keys (DEL of two keys, one missing) still marks that key:
//! stricter than Redis, never looser.

use crate::client::Client;
use crate::dispatch::{CmdResult, Ctx};
use crate::state::Server;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("discard", discard),
    ("exec", exec),
    ("multi", multi),
    ("unwatch", unwatch),
    ("watch", watch),
];

/// Commands that run at once between MULTI and EXEC instead of being queued.
pub const NOT_QUEUED: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// A transaction being queued.
#[derive(Default)]
pub struct MultiState {
    /// Queued command lines.
    pub queue: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing: EXEC will answer EXECABORT.
    pub aborted: bool,
}

/// A key a client watches.
pub struct WatchedKey {
    pub db: usize,
    pub key: Vec<u8>,
    /// The key existed (and had not expired) when WATCH ran.
    pub live: bool,
}

/// Watch state of one client: its keys, and the flag writers set (shared with the
/// server's index so a writer needs no access to the watching client).
#[derive(Default)]
pub struct WatchState {
    pub keys: Vec<WatchedKey>,
    pub dirty: Arc<AtomicBool>,
}

/// Every watched key: (db, key) to the dirty flags of the clients watching it.
pub type WatchIndex = std::collections::HashMap<(usize, Vec<u8>), Vec<Arc<AtomicBool>>>;

/// MULTI
fn multi(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err("ERR MULTI calls can not be nested".into());
    }
    ctx.client.multi = Some(Box::default());
    ctx.out.ok();
    Ok(())
}

/// DISCARD
fn discard(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.take().is_none() {
        return Err("ERR DISCARD without MULTI".into());
    }
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// EXEC
fn exec(ctx: &mut Ctx) -> CmdResult {
    let Some(state) = ctx.client.multi.take() else {
        return Err("ERR EXEC without MULTI".into());
    };
    if state.aborted {
        unwatch_all(ctx.srv, ctx.client);
        return Err("EXECABORT Transaction discarded because of previous errors.".into());
    }
    let touched = ctx.client.watch.dirty.load(Ordering::Acquire) || watched_key_gone(ctx);
    unwatch_all(ctx.srv, ctx.client);
    if touched {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.out.array(state.queue.len());
    // Nothing inside EXEC may wait: blocking commands answer as on a timeout.
    let deny = std::mem::replace(&mut ctx.client.deny_blocking, true);
    ctx.client.in_exec = true;
    for queued in &state.queue {
        let argv: Vec<&[u8]> = queued.iter().map(|a| &a[..]).collect();
        crate::dispatch::call_queued(ctx.shared, ctx.srv, ctx.client, &argv, ctx.out);
    }
    ctx.client.in_exec = false;
    ctx.client.deny_blocking = deny;
    Ok(())
}

/// True if a key that was live when watched is now missing or expired.
fn watched_key_gone(ctx: &mut Ctx) -> bool {
    let now = ctx.now_ms;
    let dbs = &ctx.srv.keyspace.dbs;
    ctx.client
        .watch
        .keys
        .iter()
        .any(|w| w.live && dbs[w.db].peek(&w.key, now).is_none())
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err("ERR WATCH inside MULTI is not allowed".into());
    }
    // A client already flagged stays flagged; watching more cannot save it.
    let db = ctx.client.db;
    let now = ctx.now_ms;
    for key in &ctx.argv[1..] {
        if ctx
            .client
            .watch
            .keys
            .iter()
            .any(|w| w.db == db && w.key == key[..])
        {
            continue;
        }
        let live = ctx.srv.keyspace.dbs[db].peek(key, now).is_some();
        ctx.srv
            .watched_keys
            .entry((db, key.to_vec()))
            .or_default()
            .push(ctx.client.watch.dirty.clone());
        ctx.client.watch.keys.push(WatchedKey {
            db,
            key: key.to_vec(),
            live,
        });
    }
    ctx.out.ok();
    Ok(())
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx) -> CmdResult {
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// Forgets every key `client` watches and clears its dirty flag (EXEC, DISCARD,
/// UNWATCH, RESET, disconnection).
pub fn unwatch_all(srv: &mut Server, client: &mut Client) {
    for w in client.watch.keys.drain(..) {
        let k = (w.db, w.key);
        if let Some(v) = srv.watched_keys.get_mut(&k) {
            v.retain(|f| !Arc::ptr_eq(f, &client.watch.dirty));
            if v.is_empty() {
                srv.watched_keys.remove(&k);
            }
        }
    }
    client.watch.dirty.store(false, Ordering::Release);
}

/// Marks the clients watching `key` of `db` (a write changed it).
pub fn touch_key(srv: &Server, db: usize, key: &[u8]) {
    if let Some(v) = srv.watched_keys.get(&(db, key.to_vec())) {
        for f in v {
            f.store(true, Ordering::Release);
        }
    }
}

/// The watched keys SWAPDB a b changes: those of either db that exist in either.
pub fn keys_touched_by_swap(srv: &Server, a: usize, b: usize, now: i64) -> Vec<(usize, Vec<u8>)> {
    let dbs = &srv.keyspace.dbs;
    if a >= dbs.len() || b >= dbs.len() {
        return Vec::new();
    }
    srv.watched_keys
        .keys()
        .filter(|(db, key)| {
            (*db == a || *db == b)
                && (dbs[a].peek(key, now).is_some() || dbs[b].peek(key, now).is_some())
        })
        .cloned()
        .collect()
}
