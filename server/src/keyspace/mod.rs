//! The keyspace: numbered databases of keys, their values and their TTLs.

pub mod dict;
pub mod smallbytes;

use crate::object::{Object, Value};
use dict::Dict;
use smallbytes::SmallBytes;

/// What a key lookup found.
pub enum Lookup<'a> {
    /// The key exists (and has not expired).
    Found(&'a mut Object),
    /// No such key (or it expired and was removed now).
    Missing,
}

/// One database (`SELECT n`).
pub struct Db {
    /// Keys and values.
    pub keys: Dict<Object>,
    /// Absolute expiry times (unix ms) of the keys that have one.
    pub expires: Dict<i64>,
    /// Keys removed because they expired (lazily or actively), for INFO.
    pub expired_keys: u64,
    /// Average TTL (ms) of the keys sampled by active expiry, for INFO keyspace.
    pub avg_ttl: i64,
    /// Where active expiry resumes its scan of `expires`.
    pub expire_cursor: u64,
    /// Clients blocked on a key of this database (by number: SWAPDB leaves them
    /// here), first blocked first; see `crate::blocking`.
    pub waiters: std::collections::HashMap<Vec<u8>, std::collections::VecDeque<u64>>,
    /// Waited-on keys that received a list or sorted set since the last command.
    pub ready: Vec<Vec<u8>>,
    /// The keyspace-notification classes this database logs itself (`new`,
    /// `expired`; see `crate::pubsub`), 0 when off.
    pub notify: u32,
    /// Events logged and not yet published: (class, event, key).
    pub events: Vec<(u32, &'static str, Vec<u8>)>,
    /// Whether deletions made by the database itself (expiry, eviction) are logged
    /// for propagation (`crate::propagate`).
    pub log_deletions: bool,
    /// Those deletions not yet propagated: (key, true if evicted).
    pub deletions: Vec<(Vec<u8>, bool)>,
    /// Whether those deletions are also kept for client-side caching
    /// (`crate::tracking`, set once a client enabled tracking), and the keys.
    pub track_deletions: bool,
    pub tracked_deletions: Vec<Vec<u8>>,
}

/// While a data file loads nothing expires (keys past their TTL are removed once the
/// server runs), as Redis's keyIsExpired during loading.
static LOADING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks the server as loading (no key expires) or not.
pub fn set_loading(on: bool) {
    LOADING.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// True while a data file loads.
pub fn is_loading() -> bool {
    LOADING.load(std::sync::atomic::Ordering::Relaxed)
}

/// How expiry works on a replica (Redis 7.0): keys never expire by themselves
/// (the master sends DELs), reads hide the logically expired ones, and commands
/// from the master see every key. See [`set_expire_mode`].
static EXPIRE_MODE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Keys expire as on a master.
pub const EXPIRE_MASTER: u8 = 0;
/// A replica: expired keys are hidden, never deleted.
pub const EXPIRE_REPLICA: u8 = 1;
/// A replica running its master's command: no key is expired.
pub const EXPIRE_FROM_MASTER: u8 = 2;

/// Sets the expiry mode (the replication code switches it).
pub fn set_expire_mode(mode: u8) {
    EXPIRE_MODE.store(mode, std::sync::atomic::Ordering::Relaxed);
}

#[inline]
fn expire_mode() -> u8 {
    EXPIRE_MODE.load(std::sync::atomic::Ordering::Relaxed)
}

impl Default for Db {
    fn default() -> Self {
        Db {
            keys: Dict::new_memory_guarded(),
            expires: Dict::new_memory_guarded(),
            expired_keys: 0,
            avg_ttl: 0,
            expire_cursor: 0,
            waiters: Default::default(),
            ready: Vec::new(),
            notify: 0,
            events: Vec::new(),
            log_deletions: false,
            deletions: Vec::new(),
            track_deletions: false,
            tracked_deletions: Vec::new(),
        }
    }
}

impl Db {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys (expired ones not yet removed included, as Redis counts).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The expiry time of `key`, if it has one.
    pub fn expire_of(&self, key: &[u8]) -> Option<i64> {
        self.expires.get(key).copied()
    }

    /// True if `key` has a TTL that has passed at `now_ms`.
    pub fn is_expired(&self, key: &[u8], now_ms: i64) -> bool {
        self.expires.get(key).is_some_and(|&t| t <= now_ms)
            && !is_loading()
            && expire_mode() != EXPIRE_FROM_MASTER
    }

    /// Logs a deletion the database made by itself, for propagation.
    #[inline]
    pub fn log_deletion(&mut self, key: &[u8], evicted: bool) {
        if self.log_deletions {
            self.deletions.push((key.to_vec(), evicted));
        }
        if self.track_deletions {
            self.tracked_deletions.push(key.to_vec());
        }
    }

    /// Removes `key` if its TTL has passed. Returns true if it was removed.
    pub fn expire_if_needed(&mut self, key: &[u8], now_ms: i64) -> bool {
        if self.expires.is_empty() || !self.is_expired(key, now_ms) {
            return false;
        }
        if expire_mode() == EXPIRE_REPLICA {
            return false;
        }
        self.remove(key);
        self.expired_keys += 1;
        self.log_event(crate::config::notify::EXPIRED, "expired", key);
        self.log_deletion(key, false);
        true
    }

    /// Logs a keyspace event raised by the database itself, when its class is on.
    #[inline]
    pub fn log_event(&mut self, class: u32, event: &'static str, key: &[u8]) {
        if self.notify & class != 0 {
            self.events.push((class, event, key.to_vec()));
        }
    }

    /// Finds a live key, removing it first if it has expired.
    pub fn lookup(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Object> {
        if self.expire_if_needed(key, now_ms) {
            return None;
        }
        if expire_mode() == EXPIRE_REPLICA
            && !self.expires.is_empty()
            && self.is_expired(key, now_ms)
        {
            return None;
        }
        self.keys.get_mut(key)
    }

    /// [`lookup`](Self::lookup) for a write: on a replica an expired key is
    /// deleted (Redis's EXPIRE_FORCE_DELETE_EXPIRED for lookupKeyWrite), so the
    /// write re-creates it.
    pub fn lookup_write(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Object> {
        if expire_mode() == EXPIRE_REPLICA
            && !self.expires.is_empty()
            && self.is_expired(key, now_ms)
        {
            self.remove(key);
            self.expired_keys += 1;
            self.log_event(crate::config::notify::EXPIRED, "expired", key);
            return None;
        }
        self.lookup(key, now_ms)
    }

    /// Finds a live key without removing expired ones (read-only paths that must not
    /// modify the keyspace, e.g. while iterating).
    pub fn peek(&self, key: &[u8], now_ms: i64) -> Option<&Object> {
        let o = self.keys.get(key)?;
        if o.has_expire && self.is_expired(key, now_ms) {
            return None;
        }
        Some(o)
    }

    /// True if a live `key` exists (removing it if expired).
    pub fn exists(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.lookup(key, now_ms).is_some()
    }

    /// Queues `key` for its blocked clients when it now holds a value they may
    /// pop (Redis's signalKeyAsReady from dbAdd / dbOverwrite).
    #[inline]
    fn signal_ready(&mut self, key: &[u8], value: &Value) {
        if !self.waiters.is_empty()
            && matches!(value, Value::List(_) | Value::ZSet(_) | Value::Stream(_))
            && self.waiters.contains_key(key)
        {
            self.ready.push(key.to_vec());
        }
    }

    /// Queues `key` for its blocked clients after a write that changed it in
    /// place (XADD, XGROUP DESTROY...), as Redis's explicit signalKeyAsReady.
    pub fn signal_key(&mut self, key: &[u8]) {
        if !self.waiters.is_empty()
            && self.waiters.contains_key(key)
            && !self.ready.iter().any(|k| k == key)
        {
            self.ready.push(key.to_vec());
        }
    }

    /// Queues every waited-on key that holds a list or sorted set (SWAPDB).
    pub fn signal_all_ready(&mut self) {
        let keys: Vec<Vec<u8>> = self
            .waiters
            .keys()
            .filter(|k| {
                matches!(
                    self.keys.get(k.as_slice()).map(|o| &o.value),
                    Some(Value::List(_) | Value::ZSet(_) | Value::Stream(_))
                )
            })
            .cloned()
            .collect();
        self.ready.extend(keys);
    }

    /// Stores `value` at `key`. The TTL is dropped unless `keep_ttl`.
    pub fn set(&mut self, key: &[u8], value: Value, lru: u32, keep_ttl: bool) {
        self.set_with(key, value, lru, keep_ttl, false);
    }

    /// [`set`](Self::set) that leaves an existing key's `lru` as it is when
    /// `keep_lru` (LFU policies keep the access counter across overwrites).
    pub fn set_with(&mut self, key: &[u8], value: Value, lru: u32, keep_ttl: bool, keep_lru: bool) {
        self.signal_ready(key, &value);
        match self.keys.get_mut(key) {
            Some(o) => {
                if matches!(o.value, Value::Stream(_)) && !self.waiters.is_empty() {
                    // A blocked XREADGROUP learns its stream is gone.
                    if self.waiters.contains_key(key) && !self.ready.iter().any(|k| k == key) {
                        self.ready.push(key.to_vec());
                    }
                }
                o.value = value;
                if !keep_lru {
                    o.lru = lru;
                }
                if o.has_expire && !keep_ttl {
                    o.has_expire = false;
                    self.expires.remove(key);
                }
            }
            None => {
                self.keys
                    .insert_new(SmallBytes::new(key), Object::new(value, lru));
                self.log_event(crate::config::notify::NEW, "new", key);
            }
        }
    }

    /// Adds a key known to be absent.
    pub fn add(&mut self, key: &[u8], obj: Object) {
        // A replica hides expired keys without deleting them: one found absent by
        // a read is still there.
        if expire_mode() == EXPIRE_REPLICA && self.keys.contains_key(key) {
            self.remove(key);
        }
        debug_assert!(!self.keys.contains_key(key));
        let has_expire = obj.has_expire;
        self.signal_ready(key, &obj.value);
        self.keys.insert_new(SmallBytes::new(key), obj);
        self.log_event(crate::config::notify::NEW, "new", key);
        debug_assert!(!has_expire, "TTL is set with set_expire");
    }

    /// Removes `key` and its TTL. Returns the object if it existed.
    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let (_, obj) = self.keys.remove(key)?;
        if matches!(obj.value, Value::Stream(_)) {
            self.signal_key(key);
        }
        if obj.has_expire {
            self.expires.remove(key);
        }
        Some(obj)
    }

    /// Sets the TTL of an existing key to the absolute time `when_ms`.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) {
        let Some(o) = self.keys.get_mut(key) else {
            return;
        };
        if o.has_expire {
            if let Some(t) = self.expires.get_mut(key) {
                *t = when_ms;
                return;
            }
        }
        o.has_expire = true;
        self.expires.insert(key, when_ms);
    }

    /// Removes the TTL of `key`. Returns true if it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        match self.keys.get_mut(key) {
            Some(o) if o.has_expire => {
                o.has_expire = false;
                self.expires.remove(key);
                true
            }
            _ => false,
        }
    }

    /// Drops every key. Returns how many there were.
    pub fn clear(&mut self) -> usize {
        if !self.waiters.is_empty() {
            let streams: Vec<Vec<u8>> = self
                .waiters
                .keys()
                .filter(|k| {
                    matches!(
                        self.keys.get(k.as_slice()).map(|o| &o.value),
                        Some(Value::Stream(_))
                    )
                })
                .cloned()
                .collect();
            self.ready.extend(streams);
        }
        let n = self.keys.len();
        self.keys.clear();
        self.expires.clear();
        self.avg_ttl = 0;
        self.expire_cursor = 0;
        n
    }

    /// A random live key (RANDOMKEY). Expired keys met on the way are removed, so
    /// this ends: each try either returns a key or removes one.
    pub fn random_key(&mut self, now_ms: i64) -> Option<Vec<u8>> {
        loop {
            let e = self.keys.random_entry()?;
            let key = e.key.to_vec();
            if e.value.has_expire && self.expire_if_needed(&key, now_ms) {
                continue;
            }
            return Some(key);
        }
    }
}

/// All the databases of the server.
pub struct Keyspace {
    /// `databases` entries, indexed by number.
    pub dbs: Vec<Db>,
}

impl Keyspace {
    /// `n` empty databases.
    pub fn new(n: usize) -> Self {
        Keyspace {
            dbs: (0..n).map(|_| Db::new()).collect(),
        }
    }

    /// SWAPDB: swaps the contents of two databases; the clients blocked on their
    /// keys stay with the database numbers, and the keys they wait on that now hold
    /// a list or sorted set are queued for them.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        // Waited-on streams that the swap takes away (Redis's
        // scanDatabaseForDeletedStreams): their XREADGROUP waiters are told.
        let gone = |from: &Db, to: &Db| -> Vec<Vec<u8>> {
            let is_stream = |d: &Db, k: &[u8]| {
                matches!(d.keys.get(k).map(|o| &o.value), Some(Value::Stream(_)))
            };
            from.waiters
                .keys()
                .filter(|k| is_stream(from, k) && !is_stream(to, k))
                .cloned()
                .collect()
        };
        let gone_a = gone(&self.dbs[a], &self.dbs[b]);
        let gone_b = gone(&self.dbs[b], &self.dbs[a]);
        self.dbs.swap(a, b);
        let (lo, hi) = (a.min(b), a.max(b));
        let (x, y) = self.dbs.split_at_mut(hi);
        let (da, db) = (&mut x[lo], &mut y[0]);
        std::mem::swap(&mut da.waiters, &mut db.waiters);
        std::mem::swap(&mut da.ready, &mut db.ready);
        std::mem::swap(&mut da.events, &mut db.events);
        da.signal_all_ready();
        db.signal_all_ready();
        let (ga, gb) = if a < b {
            (gone_a, gone_b)
        } else {
            (gone_b, gone_a)
        };
        da.ready.extend(ga);
        db.ready.extend(gb);
    }

    /// Total keys of all databases.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }

    /// Total keys with a TTL.
    pub fn total_expires(&self) -> usize {
        self.dbs.iter().map(|d| d.expires.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_lifecycle() {
        let mut db = Db::new();
        db.set(b"k", Value::string(b"v"), 0, false);
        db.set_expire(b"k", 1000);
        assert_eq!(db.expire_of(b"k"), Some(1000));
        assert!(db.lookup(b"k", 999).is_some());
        db.set(b"k", Value::string(b"v2"), 0, true);
        assert_eq!(db.expire_of(b"k"), Some(1000));
        assert!(db.lookup(b"k", 1000).is_none());
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires.len(), 0);
        assert_eq!(db.expired_keys, 1);
    }

    #[test]
    fn set_drops_ttl_without_keepttl() {
        let mut db = Db::new();
        db.set(b"k", Value::string(b"v"), 0, false);
        db.set_expire(b"k", 1000);
        db.set(b"k", Value::string(b"v"), 0, false);
        assert_eq!(db.expire_of(b"k"), None);
        assert!(!db.persist(b"k"));
    }
}
