//! maxmemory: Redis's approximated LRU/LFU eviction with a pool of candidates, and
//! the per-access updates of the LRU clock and LFU counter.

use crate::config::MaxmemoryPolicy;
use crate::object::Object;
use crate::state::Server;
use std::sync::atomic::{AtomicU64, Ordering};

/// Candidates kept between sampling rounds (Redis's EVPOOL_SIZE).
const POOL_SIZE: usize = 16;
/// LFU counter of a new key (so it is not evicted at once).
pub const LFU_INIT_VAL: u8 = 5;

/// True for the LFU policies.
pub fn is_lfu(p: MaxmemoryPolicy) -> bool {
    matches!(
        p,
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
    )
}

/// Minutes clock used by LFU (16 bits).
pub fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 1000 / 60) as u32) & 0xffff
}

/// The initial `lru` field of a new object under `policy`.
pub fn initial_lru(srv: &Server, now_ms: i64) -> u32 {
    if is_lfu(srv.config.maxmemory_policy) {
        (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL as u32
    } else {
        srv.lru_clock
    }
}

/// Seconds since `lru` (24-bit clock, wrapping), as OBJECT IDLETIME reports.
pub fn idle_seconds(lru_clock: u32, lru: u32) -> u64 {
    let lru = lru & 0xff_ffff;
    if lru_clock >= lru {
        (lru_clock - lru) as u64
    } else {
        (lru_clock + (1 << 24) - lru) as u64
    }
}

/// The LFU counter after applying the decay since its last access.
pub fn lfu_decayed_counter(lru: u32, now_ms: i64, decay_time: u32) -> u8 {
    let last = lru >> 8;
    let counter = (lru & 0xff) as u8;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= last {
        now - last
    } else {
        65535 - last + now
    };
    let periods = elapsed.checked_div(decay_time).unwrap_or(0);
    if periods as u64 > counter as u64 {
        0
    } else {
        counter - periods as u8
    }
}

/// Logarithmic increment of an LFU counter (probability 1/((c-5)*factor+1)).
pub fn lfu_log_incr(counter: u8, factor: u32) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = (counter as f64 - LFU_INIT_VAL as f64).max(0.0);
    let p = 1.0 / (base * factor as f64 + 1.0);
    if fastrand::f64() < p {
        counter + 1
    } else {
        counter
    }
}

/// Records an access to `obj` (Redis's lookupKey update of LRU or LFU data).
pub fn touch(
    obj: &mut Object,
    policy: MaxmemoryPolicy,
    lru_clock: u32,
    now_ms: i64,
    lfu_log_factor: u32,
    lfu_decay_time: u32,
) {
    if is_lfu(policy) {
        let c = lfu_decayed_counter(obj.lru, now_ms, lfu_decay_time);
        let c = lfu_log_incr(c, lfu_log_factor);
        obj.lru = (lfu_minutes(now_ms) << 8) | c as u32;
    } else {
        obj.lru = lru_clock;
    }
}

/// True when small integers (0..9999) are shared between keys, as Redis decides when
/// it creates them: always, unless maxmemory is set with an LRU or LFU policy (those
/// need a clock per key). OBJECT REFCOUNT and DEBUG OBJECT report it.
pub fn shares_integers(cfg: &crate::config::Config) -> bool {
    cfg.maxmemory == 0
        || matches!(
            cfg.maxmemory_policy,
            MaxmemoryPolicy::AllkeysRandom
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
                | MaxmemoryPolicy::NoEviction
        )
}

/// `maxmemory` as last seen by the dispatcher, for checks made where the config is
/// out of reach (hash table growth).
static MAXMEMORY: AtomicU64 = AtomicU64::new(0);

/// Publishes the `maxmemory` in force (called before each command).
#[inline]
pub fn publish_maxmemory(bytes: u64) {
    if MAXMEMORY.load(Ordering::Relaxed) != bytes {
        MAXMEMORY.store(bytes, Ordering::Relaxed);
    }
}

/// Redis's dictExpandAllowed: a table may grow by `more` bytes unless that would go
/// over maxmemory, except when it is overfull (more than 1.618 entries per bucket).
pub fn dict_expand_allowed(more: usize, used_ratio: f64) -> bool {
    if used_ratio > 1.618 {
        return true;
    }
    let max = MAXMEMORY.load(Ordering::Relaxed);
    max == 0 || crate::alloc::used_memory() + more as u64 <= max
}

/// True for the policies that only evict keys with a TTL.
fn is_volatile(p: MaxmemoryPolicy) -> bool {
    matches!(
        p,
        MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::VolatileLfu
            | MaxmemoryPolicy::VolatileRandom
            | MaxmemoryPolicy::VolatileTtl
    )
}

struct Candidate {
    /// Higher is a better victim (idle time, 255 - LFU counter, or inverse expiry).
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// Redis's eviction pool: the best candidates seen by sampling, kept across calls so
/// each round of sampling refines it. Sorted by ascending score.
#[derive(Default)]
pub struct EvictionPool {
    entries: Vec<Candidate>,
    /// Set when an eviction run stopped on its time limit with memory still over
    /// the limit: the cron carries on (Redis's eviction timer proc).
    pub running: bool,
    /// When memory was first found over the limit without being freed (INFO's
    /// current_eviction_exceeded_time).
    pub exceeded_since: Option<std::time::Instant>,
}

impl EvictionPool {
    /// Inserts a sampled key if it is better than the worst kept one.
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if self.entries.len() >= POOL_SIZE && score <= self.entries[0].score {
            return;
        }
        if let Some(i) = self.entries.iter().position(|c| c.db == db && c.key == key) {
            self.entries.remove(i);
        }
        let k = self.entries.partition_point(|c| c.score < score);
        let c = Candidate {
            score,
            db,
            key: key.to_vec(),
        };
        if self.entries.len() < POOL_SIZE {
            self.entries.insert(k, c);
        } else if k > 0 {
            self.entries.remove(0);
            self.entries.insert(k - 1, c);
        }
    }
}

/// Memory is over maxmemory and nothing can be evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfMemory;

/// Memory eviction does not count: what is queued for replicas, the AOF buffer
/// (INFO mem_not_counted_for_evict).
pub fn not_counted_memory(srv: &Server) -> u64 {
    (crate::replication::replica_buffers(srv) + srv.aof.buf.len()) as u64
}

/// Frees memory by evicting keys until `used_memory` is under `maxmemory`, as Redis's
/// performEvictions. `Err(OutOfMemory)` when memory is over the limit and nothing can be
/// evicted (noeviction, or no candidate keys): write commands then get the OOM error.
/// When the time limit (maxmemory-eviction-tenacity) is reached first, the rest is
/// left to the cron and the call succeeds.
pub fn perform_evictions(srv: &mut Server, now_ms: i64) -> Result<(), OutOfMemory> {
    let maxmemory = srv.config.maxmemory;
    // Replica output buffers and the AOF buffer do not count (Redis's
    // freeMemoryGetNotCountedMemory): evicting cannot shrink them.
    let not_counted = not_counted_memory(srv);
    let used = || crate::alloc::used_memory().saturating_sub(not_counted);
    if maxmemory == 0 || used() <= maxmemory {
        srv.evict_pool.running = false;
        if let Some(t) = srv.evict_pool.exceeded_since.take() {
            srv.stats.total_eviction_exceeded_time_ms += t.elapsed().as_millis() as u64;
        }
        return Ok(());
    }
    if srv.evict_pool.exceeded_since.is_none() {
        srv.evict_pool.exceeded_since = Some(std::time::Instant::now());
    }
    let policy = srv.config.maxmemory_policy;
    if policy == MaxmemoryPolicy::NoEviction {
        return Err(OutOfMemory);
    }
    let start = std::time::Instant::now();
    let limit_us = eviction_time_limit_us(srv);
    let volatile = is_volatile(policy);
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    let mut freed_keys = 0u64;
    srv.evict_pool.running = false;
    while used() > maxmemory {
        let victim = match policy {
            MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => {
                random_victim(srv, volatile)
            }
            _ => pooled_victim(srv, policy, volatile, samples, now_ms),
        };
        let Some((db, key)) = victim else {
            return Err(OutOfMemory);
        };
        let t0 = std::time::Instant::now();
        srv.keyspace.dbs[db].remove(&key);
        // Published after the command (not now: the messages' memory must not
        // count as not freed yet).
        srv.keyspace.dbs[db].log_event(crate::config::notify::EVICTED, "evicted", &key);
        srv.keyspace.dbs[db].log_deletion(&key, true);
        let del_ms = t0.elapsed().as_millis() as u64;
        srv.latency.add_sample_if_needed(
            "eviction-del",
            del_ms,
            srv.config.latency_monitor_threshold,
            now_ms / 1000,
        );
        srv.stats.evicted_keys += 1;
        freed_keys += 1;
        // Check the clock every 16 keys, as Redis does.
        if freed_keys & 15 == 0 && start.elapsed().as_micros() as u64 > limit_us {
            srv.evict_pool.running = used() > maxmemory;
            break;
        }
    }
    srv.latency.add_sample_if_needed(
        "eviction-cycle",
        start.elapsed().as_millis() as u64,
        srv.config.latency_monitor_threshold,
        now_ms / 1000,
    );
    if !srv.evict_pool.running {
        if let Some(t) = srv.evict_pool.exceeded_since.take() {
            srv.stats.total_eviction_exceeded_time_ms += t.elapsed().as_millis() as u64;
        }
    }
    Ok(())
}

/// Microseconds one eviction run may take (maxmemory-eviction-tenacity: 10 is
/// 500 us, each step above 10 is 15% more, 100 is unlimited).
fn eviction_time_limit_us(srv: &Server) -> u64 {
    let tenacity = srv.config.maxmemory_eviction_tenacity;
    if tenacity <= 10 {
        50 * tenacity as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64
    } else {
        u64::MAX
    }
}

fn random_victim(srv: &mut Server, volatile: bool) -> Option<(usize, Vec<u8>)> {
    let n = srv.keyspace.dbs.len();
    for _ in 0..n {
        srv.evict_next_db = (srv.evict_next_db + 1) % n;
        let db = srv.evict_next_db;
        let d = &srv.keyspace.dbs[db];
        let key = if volatile {
            d.expires.random_entry().map(|e| e.key.to_vec())
        } else {
            d.keys.random_entry().map(|e| e.key.to_vec())
        };
        if let Some(k) = key {
            return Some((db, k));
        }
    }
    None
}

fn pooled_victim(
    srv: &mut Server,
    policy: MaxmemoryPolicy,
    volatile: bool,
    samples: usize,
    now_ms: i64,
) -> Option<(usize, Vec<u8>)> {
    let lru_clock = srv.lru_clock;
    let decay = srv.config.lfu_decay_time;
    let score_of = |o: &Object, when: Option<i64>| -> u64 {
        match policy {
            MaxmemoryPolicy::VolatileTtl => u64::MAX - when.unwrap_or(i64::MAX) as u64,
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                255 - lfu_decayed_counter(o.lru, now_ms, decay) as u64
            }
            _ => idle_seconds(lru_clock, o.lru) * 1000,
        }
    };
    loop {
        let mut total_keys = 0;
        // Disjoint borrows: the pool is filled while the databases are sampled, and
        // a key is copied only when the pool takes it.
        let pool = &mut srv.evict_pool;
        for (dbi, db) in srv.keyspace.dbs.iter().enumerate() {
            if volatile {
                if db.expires.is_empty() {
                    continue;
                }
                total_keys += db.expires.len();
                db.expires.sample(samples, |e| {
                    if let Some(o) = db.keys.get(&e.key) {
                        pool.offer(score_of(o, Some(e.value)), dbi, &e.key);
                    }
                });
            } else {
                if db.keys.is_empty() {
                    continue;
                }
                total_keys += db.keys.len();
                db.keys.sample(samples, |e| {
                    pool.offer(score_of(&e.value, None), dbi, &e.key)
                });
            }
        }
        if total_keys == 0 {
            return None;
        }
        // The best candidate that still exists.
        while let Some(c) = srv.evict_pool.entries.pop() {
            let db = &srv.keyspace.dbs[c.db];
            let present = if volatile {
                db.expires.contains_key(&c.key)
            } else {
                db.keys.contains_key(&c.key)
            };
            if present {
                return Some((c.db, c.key));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_keeps_the_best_candidates_sorted() {
        let mut p = EvictionPool::default();
        for i in 0..40u64 {
            // Scores 0, 7, 14, ... in a scrambled order.
            let score = (i * 7919 % 40) * 7;
            p.offer(score, 0, format!("k{score}").as_bytes());
        }
        assert_eq!(p.entries.len(), POOL_SIZE);
        let scores: Vec<u64> = p.entries.iter().map(|c| c.score).collect();
        let best: Vec<u64> = (24..40).map(|i| i * 7).collect();
        assert_eq!(scores, best);
        // A key offered again is updated, not duplicated.
        p.offer(1000, 0, b"k273");
        assert_eq!(p.entries.len(), POOL_SIZE);
        assert_eq!(p.entries.last().unwrap().key, b"k273");
        // Worse than everything kept: ignored.
        p.offer(1, 3, b"x");
        assert!(p.entries.iter().all(|c| c.key != b"x"));
    }

    #[test]
    fn idle_wraps() {
        assert_eq!(idle_seconds(10, 5), 5);
        assert_eq!(idle_seconds(2, (1 << 24) - 3), 5);
    }

    #[test]
    fn lfu_counter_grows_slowly() {
        let mut c = LFU_INIT_VAL;
        for _ in 0..1000 {
            c = lfu_log_incr(c, 10);
        }
        assert!(c > LFU_INIT_VAL && c < 50, "{c}");
    }
}
