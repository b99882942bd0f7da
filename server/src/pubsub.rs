//! Pub/Sub state and delivery, and keyspace notifications.
//!
//! The server keeps, for each of the three kinds of subscription (channels,
//! patterns, shard channels), an index from the name to its subscribers in
//! subscription order; each client keeps its own sets (`Client::subs`). A message
//! for another client is encoded in that client's protocol (RESP2 array or RESP3
//! push: the two encodings differ in their first byte only) and queued in its
//! [`Outbox`]; the connection task writes it. A message for the client running the
//! command goes to [`PubSub::self_buf`], which the dispatcher moves into the
//! client's reply where Redis would have written it (pushes survive CLIENT REPLY
//! OFF, as in Redis).
//!
//! Keyspace notifications: [`Server::notify`] is the one entry point (a single
//! flag test when notifications are off). Events the keyspace itself raises
//! (`new` on key creation, `expired` on lazy expiry) are logged by the `Db`
//! (`Db::events`) and published, in order, before the next event of the command
//! and at the end of the command.

use crate::client::{Client, Outbox};
use crate::config::notify;
use crate::state::Server;
use bytes::Bytes;
use redis_formats::reply::push_i64;
use redis_formats::ReplyBuf;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Notification classes (`notify-keyspace-events` letters).
pub use crate::config::notify as class;

/// One subscriber of a channel or pattern.
pub struct Sub {
    pub id: u64,
    /// Registry slot (for the log line when it is disconnected).
    pub slot: usize,
    pub outbox: Arc<Outbox>,
}

/// A client's subscriptions.
#[derive(Default)]
pub struct ClientSubs {
    pub channels: HashSet<Bytes>,
    /// In subscription order (Redis keeps a list).
    pub patterns: Vec<Bytes>,
    pub shard: HashSet<Bytes>,
}

impl ClientSubs {
    /// Channels plus patterns (the count SUBSCRIBE/PSUBSCRIBE replies report).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    fn total(&self) -> usize {
        self.count() + self.shard.len()
    }
}

/// The server's pub/sub state.
#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Bytes, Vec<Sub>>,
    pub patterns: HashMap<Bytes, Vec<Sub>>,
    pub shard: HashMap<Bytes, Vec<Sub>>,
    /// Id of the client whose command is running (0: none, e.g. the cron).
    pub current: u64,
    /// Messages for the running client, not yet in its reply.
    pub self_buf: Vec<u8>,
    /// The classes of `notify-keyspace-events` in force, or 0 when neither K nor E
    /// is set (nothing is published then).
    pub notify: u32,
    /// Reused encoding buffer.
    scratch: Vec<u8>,
}

/// The three kinds of subscription.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// Appends a bulk string.
fn put_bulk(buf: &mut Vec<u8>, s: &[u8]) {
    buf.push(b'$');
    push_i64(buf, s.len() as i64);
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(s);
    buf.extend_from_slice(b"\r\n");
}

/// Encodes a message in RESP2 form (`*N`); RESP3 replaces the first byte by `>`.
fn encode_message(buf: &mut Vec<u8>, kind: &[u8], pattern: Option<&[u8]>, ch: &[u8], msg: &[u8]) {
    buf.clear();
    buf.extend_from_slice(if pattern.is_some() {
        b"*4\r\n"
    } else {
        b"*3\r\n"
    });
    put_bulk(buf, kind);
    if let Some(p) = pattern {
        put_bulk(buf, p);
    }
    put_bulk(buf, ch);
    put_bulk(buf, msg);
}

/// What delivering a message to other clients found over its output limits.
type Overflows = Vec<(usize, u64)>;

/// Queues `msg` (RESP2 form) for `s`: into `self_buf` when `s` runs the command,
/// else into its outbox, enforcing the pubsub output-buffer limits.
fn deliver(
    s: &Sub,
    msg: &[u8],
    current: u64,
    self_buf: &mut Vec<u8>,
    limit: &crate::config::OutputBufferLimit,
    over: &mut Overflows,
) {
    let first = if s.outbox.resp3.load(Ordering::Acquire) {
        b'>'
    } else {
        b'*'
    };
    if s.id == current {
        self_buf.push(first);
        self_buf.extend_from_slice(&msg[1..]);
        return;
    }
    if s.outbox.is_killed() {
        return;
    }
    let mut p = s.outbox.pending.lock();
    p.push(first);
    p.extend_from_slice(&msg[1..]);
    s.outbox.pending_len.store(p.len(), Ordering::Release);
    drop(p);
    s.outbox.notify.notify_one();
    if over_limit(&s.outbox, limit) {
        over.push((s.slot, s.id));
    }
}

/// Redis's checkClientOutputBufferLimits for a pub/sub client.
pub(crate) fn over_limit(o: &Outbox, limit: &crate::config::OutputBufferLimit) -> bool {
    if limit.hard_bytes == 0 && limit.soft_bytes == 0 {
        return false;
    }
    let used = o.output_bytes() as u64;
    let hard = limit.hard_bytes != 0 && used >= limit.hard_bytes;
    let mut soft = limit.soft_bytes != 0 && used >= limit.soft_bytes;
    if soft {
        let now_s = crate::state::now_ms() / 1000;
        let since = o.soft_limit_since.load(Ordering::Acquire);
        if since == 0 {
            o.soft_limit_since.store(now_s, Ordering::Release);
            soft = false;
        } else if now_s - since <= limit.soft_seconds {
            soft = false;
        }
    } else {
        o.soft_limit_since.store(0, Ordering::Release);
    }
    hard || soft
}

/// Disconnects the clients that went over their output-buffer limit.
fn close_overflowing(srv: &mut Server, over: Overflows) {
    let now = crate::state::now_ms();
    for (slot, id) in over {
        let Some(c) = srv.clients.get_mut(slot).filter(|c| c.id == id) else {
            continue;
        };
        if c.outbox.is_killed() {
            continue;
        }
        c.obuf = c.outbox.output_bytes();
        let info = crate::cmd::client::info_line(c, now, None);
        c.outbox.kill();
        // Closed at once for Redis (freeClientAsync): its subscriptions go now,
        // even while its connection task still waits on a full socket.
        let subs = c.subs.take();
        forget_subs(srv, id, subs);
        srv.stats.client_outbuf_limit_disconnections += 1;
        crate::log::log(
            crate::log::Level::Warning,
            &format!(
                "Client {info} scheduled to be closed ASAP for overcoming of output buffer limits."
            ),
        );
    }
}

/// Publishes `msg` on `channel` (a shard channel when `shard`); returns the number
/// of receivers (pattern matches included), as PUBLISH replies.
pub fn publish(srv: &mut Server, channel: &[u8], msg: &[u8], shard: bool) -> usize {
    let limit = srv.config.client_output_buffer_limit[crate::config::ClientClass::Pubsub as usize];
    let PubSub {
        channels,
        patterns,
        shard: shard_channels,
        current,
        self_buf,
        scratch,
        ..
    } = &mut srv.pubsub;
    let mut receivers = 0;
    let mut over = Overflows::new();
    let index = if shard { &*shard_channels } else { &*channels };
    if let Some(subs) = index.get(channel) {
        let kind: &[u8] = if shard { b"smessage" } else { b"message" };
        encode_message(scratch, kind, None, channel, msg);
        for s in subs {
            deliver(s, scratch, *current, self_buf, &limit, &mut over);
            receivers += 1;
        }
    }
    if !shard {
        for (pat, subs) in patterns.iter() {
            if !redis_formats::glob::glob_match(pat, channel, false) {
                continue;
            }
            encode_message(scratch, b"pmessage", Some(pat), channel, msg);
            for s in subs {
                deliver(s, scratch, *current, self_buf, &limit, &mut over);
                receivers += 1;
            }
        }
    }
    if !over.is_empty() {
        close_overflowing(srv, over);
    }
    receivers
}

/// Writes a subscribe/unsubscribe confirmation for the running client into
/// `self_buf` (a push: it is delivered even under CLIENT REPLY OFF).
fn confirm(srv: &mut Server, client: &Client, word: &[u8], name: Option<&[u8]>, count: usize) {
    let mut out = ReplyBuf::new();
    out.buf = std::mem::take(&mut srv.pubsub.self_buf);
    out.proto = client.resp;
    out.push(3);
    out.bulk(word);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
    srv.pubsub.self_buf = out.buf;
}

fn index_of(ps: &mut PubSub, kind: Kind) -> &mut HashMap<Bytes, Vec<Sub>> {
    match kind {
        Kind::Channel => &mut ps.channels,
        Kind::Pattern => &mut ps.patterns,
        Kind::Shard => &mut ps.shard,
    }
}

fn count_for(subs: &ClientSubs, kind: Kind) -> usize {
    match kind {
        Kind::Shard => subs.shard.len(),
        _ => subs.count(),
    }
}

/// Subscribes the running client to `name` and confirms it.
pub fn subscribe(srv: &mut Server, client: &mut Client, kind: Kind, name: &[u8]) {
    client.outbox.pubsub.store(true, Ordering::Release);
    let subs = client.subs.get_or_insert_with(Default::default);
    let added = match kind {
        Kind::Channel | Kind::Shard => {
            let set = if kind == Kind::Channel {
                &mut subs.channels
            } else {
                &mut subs.shard
            };
            if set.contains(name) {
                false
            } else {
                set.insert(Bytes::copy_from_slice(name));
                true
            }
        }
        Kind::Pattern => {
            if subs.patterns.iter().any(|p| p[..] == *name) {
                false
            } else {
                subs.patterns.push(Bytes::copy_from_slice(name));
                true
            }
        }
    };
    let count = count_for(subs, kind);
    if added {
        let sub = Sub {
            id: client.id,
            slot: client.slot,
            outbox: client.outbox.clone(),
        };
        let index = index_of(&mut srv.pubsub, kind);
        match index.get_mut(name) {
            Some(v) => v.push(sub),
            None => {
                index.insert(Bytes::copy_from_slice(name), vec![sub]);
            }
        }
    }
    confirm(srv, client, kind.subscribe_word(), Some(name), count);
}

/// Removes `client` from the server's index of `name`.
fn unindex(srv: &mut Server, kind: Kind, name: &[u8], id: u64) {
    let index = index_of(&mut srv.pubsub, kind);
    if let Some(v) = index.get_mut(name) {
        v.retain(|s| s.id != id);
        if v.is_empty() {
            index.remove(name);
        }
    }
}

/// Unsubscribes the running client from `name` (confirming it when `notify`);
/// true if it was subscribed.
pub fn unsubscribe(
    srv: &mut Server,
    client: &mut Client,
    kind: Kind,
    name: &[u8],
    notify: bool,
) -> bool {
    let mut removed = false;
    let mut count = 0;
    if let Some(subs) = client.subs.as_mut() {
        removed = match kind {
            Kind::Channel => subs.channels.remove(name),
            Kind::Shard => subs.shard.remove(name),
            Kind::Pattern => match subs.patterns.iter().position(|p| p[..] == *name) {
                Some(i) => {
                    subs.patterns.remove(i);
                    true
                }
                None => false,
            },
        };
        count = count_for(subs, kind);
    }
    if removed {
        unindex(srv, kind, name, client.id);
    }
    if notify {
        confirm(srv, client, kind.unsubscribe_word(), Some(name), count);
    }
    removed
}

/// Unsubscribes the running client from every subscription of `kind`, confirming
/// each (or, when it had none, one confirmation with a null name) when `notify`.
pub fn unsubscribe_all(srv: &mut Server, client: &mut Client, kind: Kind, notify: bool) -> usize {
    let names: Vec<Bytes> = match client.subs.as_ref() {
        None => Vec::new(),
        Some(s) => match kind {
            Kind::Channel => s.channels.iter().cloned().collect(),
            Kind::Shard => s.shard.iter().cloned().collect(),
            Kind::Pattern => s.patterns.clone(),
        },
    };
    let mut n = 0;
    for name in &names {
        if unsubscribe(srv, client, kind, name, notify) {
            n += 1;
        }
    }
    if notify && n == 0 {
        let count = client.subs.as_ref().map_or(0, |s| count_for(s, kind));
        confirm(srv, client, kind.unsubscribe_word(), None, count);
    }
    n
}

/// Leaves pub/sub mode when nothing is left subscribed.
pub fn update_mode(client: &mut Client) {
    if client.subs.as_ref().is_some_and(|s| s.total() == 0) {
        client.subs = None;
    }
    client
        .outbox
        .pubsub
        .store(client.subs.is_some(), Ordering::Release);
}

/// Drops every subscription of a client (disconnection, RESET), silently.
pub fn forget_client(srv: &mut Server, client: &mut Client) {
    let subs = client.subs.take();
    client.outbox.pubsub.store(false, Ordering::Release);
    forget_subs(srv, client.id, subs);
}

fn forget_subs(srv: &mut Server, id: u64, subs: Option<Box<ClientSubs>>) {
    let Some(subs) = subs else {
        return;
    };
    for c in &subs.channels {
        unindex(srv, Kind::Channel, c, id);
    }
    for p in &subs.patterns {
        unindex(srv, Kind::Pattern, p, id);
    }
    for s in &subs.shard {
        unindex(srv, Kind::Shard, s, id);
    }
}

/// Moves the messages for the running client into its reply.
#[inline]
pub fn flush_self(srv: &mut Server, out: &mut ReplyBuf) {
    if !srv.pubsub.self_buf.is_empty() {
        out.buf.extend_from_slice(&srv.pubsub.self_buf);
        srv.pubsub.self_buf.clear();
    }
}

impl Server {
    /// Raises keyspace event `event` of class `class` for `key` in database `db`
    /// (Redis's notifyKeyspaceEvent). A single test when notifications are off.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        if self.pubsub.notify & class != 0 {
            self.notify_now(class, event, key, db);
        }
    }

    #[cold]
    fn notify_now(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        self.flush_db_events();
        publish_event(self, class, event, key, db);
    }

    /// Publishes the events the databases logged (`new`, lazy `expired`).
    pub fn flush_db_events(&mut self) {
        for i in 0..self.keyspace.dbs.len() {
            if self.keyspace.dbs[i].events.is_empty() {
                continue;
            }
            let events = std::mem::take(&mut self.keyspace.dbs[i].events);
            for (class, event, key) in &events {
                publish_event(self, *class, event, key, i);
            }
        }
    }

    /// Applies `notify-keyspace-events` (start-up, CONFIG SET).
    pub fn apply_notify_config(&mut self) {
        let f = self.config.notify_keyspace_events;
        let on = if f & (notify::KEYSPACE | notify::KEYEVENT) != 0 {
            f
        } else {
            0
        };
        self.pubsub.notify = on;
        for db in self.keyspace.dbs.iter_mut() {
            db.notify = on & (notify::NEW | notify::EXPIRED | notify::EVICTED);
            if db.notify == 0 {
                db.events = Vec::new();
            }
        }
    }
}

/// Publishes the `__keyspace@` and `__keyevent@` messages of one event.
fn publish_event(srv: &mut Server, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = srv.pubsub.notify;
    if flags & class == 0 {
        return;
    }
    let mut chan = Vec::with_capacity(24 + key.len().max(event.len()));
    if flags & notify::KEYSPACE != 0 {
        chan.extend_from_slice(b"__keyspace@");
        push_i64(&mut chan, db as i64);
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(key);
        publish(srv, &chan, event.as_bytes(), false);
    }
    if flags & notify::KEYEVENT != 0 {
        chan.clear();
        chan.extend_from_slice(b"__keyevent@");
        push_i64(&mut chan, db as i64);
        chan.extend_from_slice(b"__:");
        chan.extend_from_slice(event.as_bytes());
        publish(srv, &chan, key, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_encoding() {
        let mut b = Vec::new();
        encode_message(&mut b, b"message", None, b"ch", b"hello");
        assert_eq!(b, b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n");
        encode_message(&mut b, b"pmessage", Some(b"c*"), b"ch", b"");
        assert_eq!(
            b,
            b"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n"
        );
    }

    #[test]
    fn limits() {
        let o = Outbox::default();
        let l = crate::config::OutputBufferLimit {
            hard_bytes: 100,
            soft_bytes: 10,
            soft_seconds: 60,
        };
        o.pending_len.store(20, Ordering::Release);
        assert!(!over_limit(&o, &l), "soft limit: first time only noted");
        assert!(o.soft_limit_since.load(Ordering::Acquire) != 0);
        assert!(!over_limit(&o, &l), "soft limit: within its seconds");
        o.pending_len.store(5, Ordering::Release);
        assert!(!over_limit(&o, &l));
        assert_eq!(o.soft_limit_since.load(Ordering::Acquire), 0);
        o.pending_len.store(100, Ordering::Release);
        assert!(over_limit(&o, &l), "hard limit");
        o.soft_limit_since.store(1, Ordering::Release);
        o.pending_len.store(50, Ordering::Release);
        assert!(over_limit(&o, &l), "soft limit for too long");
    }
}
