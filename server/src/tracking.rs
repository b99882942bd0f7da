//! Client-side caching (CLIENT TRACKING), as Redis 7.0.
//!
//! The tracking table maps a key name (whatever the database, as Redis) to the ids
//! of the clients that read it in default mode; a write to the key sends those
//! clients an invalidation and forgets the entry. Clients in BCAST mode register
//! prefixes instead: modified keys matching a prefix are collected and sent once
//! per batch ([`broadcast`]). Per-client state lives here, by client id; the flags
//! are mirrored in the client's [`Outbox`] so CLIENT LIST can show them.
//! Nothing here runs while no client tracks ([`Tracking::clients`] is 0).

use crate::client::{Client, Outbox};
use crate::state::Server;
use redis_formats::reply::push_i64;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Tracking flags (mirrored in `Outbox::tracking`).
pub mod flag {
    pub const ON: u32 = 1;
    pub const BCAST: u32 = 2;
    pub const OPTIN: u32 = 4;
    pub const OPTOUT: u32 = 8;
    pub const CACHING: u32 = 16;
    pub const NOLOOP: u32 = 32;
    pub const BROKEN_REDIR: u32 = 64;
}

/// One tracking client.
pub struct Tracker {
    pub outbox: Arc<Outbox>,
    pub flags: u32,
    /// Client id invalidations go to (0: the client itself).
    pub redirect: u64,
    pub redir_outbox: Option<Arc<Outbox>>,
    /// BCAST prefixes, sorted.
    pub prefixes: Vec<Vec<u8>>,
}

/// A BCAST prefix: its clients and the keys modified since the last broadcast
/// (key to the id of the client that modified it last, for NOLOOP).
#[derive(Default)]
pub struct Bcast {
    pub clients: Vec<u64>,
    pub keys: BTreeMap<Vec<u8>, u64>,
}

/// The server's tracking state.
#[derive(Default)]
pub struct Tracking {
    /// Number of clients with tracking on (0: the whole module is skipped).
    pub clients: usize,
    pub trackers: HashMap<u64, Tracker>,
    /// Key to the ids of the clients that may cache it.
    pub table: HashMap<Vec<u8>, Vec<u64>>,
    /// Entries (client, key) in `table`.
    pub items: usize,
    pub prefixes: BTreeMap<Vec<u8>, Bcast>,
    /// Invalidations for the running client, sent after its reply.
    pub self_buf: Vec<u8>,
    /// Databases keep the keys they expire or evict for us (set once some client
    /// enabled tracking): [`drain_deletions`] invalidates them.
    pub deletions_on: bool,
    /// Consecutive checks that found the table over its limit.
    limit_rounds: usize,
}

const CHANNEL: &[u8] = b"__redis__:invalidate";

fn put_bulk(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'$');
    push_i64(buf, s.len() as i64);
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(s);
    buf.extend_from_slice(b"\r\n");
}

/// The value part of an invalidation: `*1 key`.
fn one_key(key: &[u8]) -> Vec<u8> {
    let mut v = b"*1\r\n".to_vec();
    put_bulk(&mut v, key);
    v
}

impl Tracking {
    /// True when some client tracks or keys are still remembered.
    #[inline]
    pub fn active(&self) -> bool {
        self.clients != 0 || !self.table.is_empty()
    }

    /// Keys in the table.
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }
}

/// Sends `value` (an encoded array of keys, or a null) to tracking client `id` as
/// Redis's sendTrackingMessage: to itself in RESP3, or to its redirection.
fn send(tr: &mut Tracking, current: u64, id: u64, value: &[u8]) {
    let Some(t) = tr.trackers.get_mut(&id) else {
        return;
    };
    let (dest_id, dest, redirected) = if t.redirect != 0 {
        match &t.redir_outbox {
            Some(o) if !o.closed.load(Ordering::Acquire) => (t.redirect, o.clone(), true),
            _ => {
                t.flags |= flag::BROKEN_REDIR;
                t.outbox.tracking.store(t.flags, Ordering::Release);
                if t.outbox.resp3.load(Ordering::Acquire) {
                    let mut m = b">2\r\n".to_vec();
                    put_bulk(&mut m, b"tracking-redir-broken");
                    m.push(b':');
                    push_i64(&mut m, t.redirect as i64);
                    m.extend_from_slice(b"\r\n");
                    let o = t.outbox.clone();
                    deliver(&mut tr.self_buf, current, id, &o, &m);
                }
                return;
            }
        }
    } else {
        (id, t.outbox.clone(), false)
    };
    let mut m = Vec::with_capacity(48 + value.len());
    if dest.resp3.load(Ordering::Acquire) {
        m.extend_from_slice(b">2\r\n");
        put_bulk(&mut m, b"invalidate");
    } else if redirected && dest.pubsub.load(Ordering::Acquire) {
        m.extend_from_slice(b"*3\r\n");
        put_bulk(&mut m, b"message");
        put_bulk(&mut m, CHANNEL);
    } else {
        return;
    }
    m.extend_from_slice(value);
    deliver(&mut tr.self_buf, current, dest_id, &dest, &m);
}

fn deliver(self_buf: &mut Vec<u8>, current: u64, dest_id: u64, dest: &Outbox, m: &[u8]) {
    if dest_id == current {
        self_buf.extend_from_slice(m);
    } else if !dest.is_killed() && !dest.closed.load(Ordering::Acquire) {
        dest.send(m);
    }
}

/// A key was modified (Redis's trackingInvalidateKey): invalidates it for the
/// clients that read it and, with `bcast`, records it for the BCAST prefixes.
/// `by` is the id of the client that modified it (0: the server itself).
pub fn invalidate_key(srv: &mut Server, key: &[u8], bcast: bool, by: u64) {
    let current = srv.pubsub.current;
    let tr = &mut srv.tracking;
    if bcast && !tr.prefixes.is_empty() {
        for (p, b) in tr.prefixes.iter_mut() {
            if key.starts_with(p) {
                b.keys.insert(key.to_vec(), by);
            }
        }
    }
    let Some(ids) = tr.table.remove(key) else {
        return;
    };
    tr.items -= ids.len();
    let value = one_key(key);
    for id in ids {
        let Some(t) = tr.trackers.get(&id) else {
            continue;
        };
        if t.flags & flag::BCAST != 0 || (t.flags & flag::NOLOOP != 0 && id == by) {
            continue;
        }
        send(tr, current, id, &value);
    }
}

/// FLUSHDB / FLUSHALL: every tracking client gets a null invalidation and the
/// table is emptied.
pub fn invalidate_all(srv: &mut Server) {
    let current = srv.pubsub.current;
    let tr = &mut srv.tracking;
    let ids: Vec<u64> = tr.trackers.keys().copied().collect();
    for id in ids {
        // The null in the tracking client's own protocol.
        let resp3 = tr.trackers[&id].outbox.resp3.load(Ordering::Acquire);
        let null: &[u8] = if resp3 { b"_\r\n" } else { b"$-1\r\n" };
        send(tr, current, id, null);
    }
    tr.table.clear();
    tr.items = 0;
}

/// Remembers the keys of read-only command `argv` for `client` (default mode).
pub fn remember_keys(
    srv: &mut Server,
    id: u64,
    spec: &redis_commands::CommandSpec,
    argv: &[&[u8]],
) {
    let Some(t) = srv.tracking.trackers.get(&id) else {
        return;
    };
    let f = t.flags;
    if f & flag::BCAST != 0 {
        return;
    }
    let caching = f & flag::CACHING != 0;
    if (f & flag::OPTIN != 0 && !caching) || (f & flag::OPTOUT != 0 && caching) {
        return;
    }
    if spec.has_flag(redis_commands::CommandFlags::PUBSUB) {
        return;
    }
    let tr = &mut srv.tracking;
    for k in spec.keys(argv) {
        let ids = tr.table.entry(argv[k.pos].to_vec()).or_default();
        if !ids.contains(&id) {
            ids.push(id);
            tr.items += 1;
        }
    }
}

/// After a command at top level: moves invalidations for the running client into
/// its reply, clears CLIENT CACHING, enforces tracking-table-max-keys.
pub fn after_command(srv: &mut Server, client: &mut Client, out: &mut Vec<u8>) {
    if !srv.tracking.self_buf.is_empty() {
        out.extend_from_slice(&srv.tracking.self_buf);
        srv.tracking.self_buf.clear();
    }
    if client.multi.is_none() && !client.last_cmd.starts_with("client") {
        if let Some(t) = srv.tracking.trackers.get_mut(&client.id) {
            if t.flags & flag::CACHING != 0 {
                t.flags &= !flag::CACHING;
                t.outbox.tracking.store(t.flags, Ordering::Release);
            }
        }
    }
}

/// Invalidates keys until the table is within tracking-table-max-keys (Redis's
/// trackingLimitUsedSlots: an effort that grows while the limit stays exceeded).
pub fn limit_used_slots(srv: &mut Server) {
    let max = srv.config.tracking_table_max_keys;
    if max == 0 || srv.tracking.table.len() <= max {
        srv.tracking.limit_rounds = 0;
        return;
    }
    let mut effort = 100 * (srv.tracking.limit_rounds + 1);
    while effort > 0 {
        effort -= 1;
        let Some(k) = srv.tracking.table.keys().next().cloned() else {
            break;
        };
        invalidate_key(srv, &k, false, 0);
        if srv.tracking.table.len() <= max {
            srv.tracking.limit_rounds = 0;
            return;
        }
    }
    srv.tracking.limit_rounds += 1;
}

/// Sends the keys collected for each BCAST prefix to its clients.
pub fn broadcast(srv: &mut Server) {
    let current = srv.pubsub.current;
    let tr = &mut srv.tracking;
    if tr.prefixes.values().all(|b| b.keys.is_empty()) {
        return;
    }
    let mut work = Vec::new();
    for b in tr.prefixes.values_mut() {
        if b.keys.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut b.keys);
        work.push((b.clients.clone(), keys));
    }
    for (clients, keys) in work {
        let all = encode_keys(keys.keys().map(|k| &k[..]), keys.len());
        for id in clients {
            let noloop = tr
                .trackers
                .get(&id)
                .is_some_and(|t| t.flags & flag::NOLOOP != 0);
            if noloop {
                let own: Vec<&[u8]> = keys
                    .iter()
                    .filter(|(_, by)| **by != id)
                    .map(|(k, _)| &k[..])
                    .collect();
                if own.is_empty() {
                    continue;
                }
                let n = own.len();
                let v = encode_keys(own.into_iter(), n);
                send(tr, current, id, &v);
            } else {
                send(tr, current, id, &all);
            }
        }
    }
}

fn encode_keys<'a>(keys: impl Iterator<Item = &'a [u8]>, n: usize) -> Vec<u8> {
    let mut v = b"*".to_vec();
    push_i64(&mut v, n as i64);
    v.extend_from_slice(b"\r\n");
    for k in keys {
        put_bulk(&mut v, k);
    }
    v
}

/// Invalidates the keys the databases expired or evicted by themselves.
pub fn drain_deletions(srv: &mut Server) {
    for i in 0..srv.keyspace.dbs.len() {
        if srv.keyspace.dbs[i].tracked_deletions.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut srv.keyspace.dbs[i].tracked_deletions);
        for k in &keys {
            invalidate_key(srv, k, true, 0);
        }
    }
}

/// Turns tracking on for `client` (Redis's enableTracking); the options were checked.
pub fn enable(
    srv: &mut Server,
    client: &Client,
    redirect: u64,
    redir_outbox: Option<Arc<Outbox>>,
    options: u32,
    prefixes: &[&[u8]],
) {
    let tr = &mut srv.tracking;
    let id = client.id;
    let t = tr.trackers.entry(id).or_insert_with(|| Tracker {
        outbox: client.outbox.clone(),
        flags: 0,
        redirect: 0,
        redir_outbox: None,
        prefixes: Vec::new(),
    });
    if t.flags & flag::ON == 0 {
        tr.clients += 1;
    }
    tr.deletions_on = true;
    for db in srv.keyspace.dbs.iter_mut() {
        db.track_deletions = true;
    }
    t.flags = flag::ON | (options & (flag::OPTIN | flag::OPTOUT | flag::NOLOOP | flag::BCAST));
    t.redirect = redirect;
    t.redir_outbox = redir_outbox;
    client.outbox.tracking.store(t.flags, Ordering::Release);
    client
        .outbox
        .tracking_redir
        .store(redirect as i64, Ordering::Release);
    if options & flag::BCAST != 0 {
        let list: Vec<&[u8]> = if prefixes.is_empty() {
            vec![b""]
        } else {
            prefixes.to_vec()
        };
        for p in list {
            if !t.prefixes.iter().any(|q| q == p) {
                t.prefixes.push(p.to_vec());
                t.prefixes.sort();
                tr.prefixes.entry(p.to_vec()).or_default().clients.push(id);
            }
        }
    }
}

/// Turns tracking off (CLIENT TRACKING off, RESET, disconnection).
pub fn disable(srv: &mut Server, id: u64) {
    let tr = &mut srv.tracking;
    let Some(t) = tr.trackers.remove(&id) else {
        return;
    };
    for p in &t.prefixes {
        if let Some(b) = tr.prefixes.get_mut(p) {
            b.clients.retain(|c| *c != id);
            if b.clients.is_empty() {
                tr.prefixes.remove(p);
            }
        }
    }
    if t.flags & flag::ON != 0 {
        tr.clients -= 1;
    }
    t.outbox.tracking.store(0, Ordering::Release);
    t.outbox.tracking_redir.store(-1, Ordering::Release);
}

/// A connection closed: its tracking ends and redirections to it break.
pub fn disconnect(srv: &mut Server, client: &Client) {
    client.outbox.closed.store(true, Ordering::Release);
    if srv.tracking.clients != 0 {
        disable(srv, client.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_keys() {
        assert_eq!(one_key(b"ab"), b"*1\r\n$2\r\nab\r\n");
        let v = encode_keys([&b"a"[..], &b"bc"[..]].into_iter(), 2);
        assert_eq!(v, b"*2\r\n$1\r\na\r\n$2\r\nbc\r\n");
    }

    #[test]
    fn invalidation_to_self_goes_to_self_buf() {
        let mut tr = Tracking::default();
        let o = Arc::new(Outbox::default());
        o.resp3.store(true, Ordering::Release);
        tr.trackers.insert(
            7,
            Tracker {
                outbox: o.clone(),
                flags: flag::ON,
                redirect: 0,
                redir_outbox: None,
                prefixes: Vec::new(),
            },
        );
        tr.clients = 1;
        send(&mut tr, 7, 7, &one_key(b"k"));
        assert_eq!(tr.self_buf, b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
        send(&mut tr, 8, 7, b"_\r\n");
        assert_eq!(&o.pending.lock()[..], b">2\r\n$10\r\ninvalidate\r\n_\r\n");
    }

    #[test]
    fn broken_redirect_flags() {
        let mut tr = Tracking::default();
        let o = Arc::new(Outbox::default());
        let r = Arc::new(Outbox::default());
        r.closed.store(true, Ordering::Release);
        tr.trackers.insert(
            1,
            Tracker {
                outbox: o.clone(),
                flags: flag::ON,
                redirect: 5,
                redir_outbox: Some(r),
                prefixes: Vec::new(),
            },
        );
        send(&mut tr, 0, 1, &one_key(b"k"));
        assert!(tr.trackers[&1].flags & flag::BROKEN_REDIR != 0);
        // RESP2: nothing is sent to the client itself.
        assert!(o.pending.lock().is_empty());
    }
}
