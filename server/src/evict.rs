//! maxmemory: Redis's approximated LRU/LFU eviction with a pool of candidates, and
//! the per-access updates of the LRU clock and LFU counter.

use crate::config::MaxmemoryPolicy;
use crate::object::Object;
use crate::state::Server;

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

struct Candidate {
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// Memory is over `maxmemory` and eviction could not bring it under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverMaxmemory;

/// Frees memory by evicting keys until `used_memory` is under `maxmemory`.
/// `Err` when it cannot (noeviction, or nothing left to evict).
pub fn perform_evictions(srv: &mut Server, now_ms: i64) -> Result<(), OverMaxmemory> {
    let maxmemory = srv.config.maxmemory;
    if maxmemory == 0 {
        return Ok(());
    }
    let used = crate::alloc::used_memory();
    if used <= maxmemory {
        return Ok(());
    }
    let policy = srv.config.maxmemory_policy;
    if policy == MaxmemoryPolicy::NoEviction {
        return Err(OverMaxmemory);
    }
    let start = std::time::Instant::now();
    let mut pool: Vec<Candidate> = Vec::with_capacity(POOL_SIZE);
    let volatile = matches!(
        policy,
        MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::VolatileLfu
            | MaxmemoryPolicy::VolatileRandom
            | MaxmemoryPolicy::VolatileTtl
    );
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    while crate::alloc::used_memory() > maxmemory {
        let victim = match policy {
            MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => {
                random_victim(srv, volatile)
            }
            _ => pooled_victim(srv, &mut pool, policy, volatile, samples, now_ms),
        };
        let Some((db, key)) = victim else {
            return Err(OverMaxmemory);
        };
        srv.keyspace.dbs[db].remove(&key);
        srv.stats.evicted_keys += 1;
        srv.dirty += 1;
        // Bound the time spent in one call, as Redis's eviction tenacity does.
        if start.elapsed().as_micros() as u64 > eviction_time_limit_us(srv) {
            break;
        }
    }
    if crate::alloc::used_memory() > maxmemory {
        srv.stats.total_eviction_exceeded_time_ms += start.elapsed().as_millis() as u64;
    }
    Ok(())
}

fn eviction_time_limit_us(srv: &Server) -> u64 {
    let tenacity = srv.config.maxmemory_eviction_tenacity;
    if tenacity <= 10 {
        50 * tenacity.max(1) as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64
    } else {
        u64::MAX
    }
}

fn random_victim(srv: &mut Server, volatile: bool) -> Option<(usize, Vec<u8>)> {
    let n = srv.keyspace.dbs.len();
    let start = fastrand::usize(..n.max(1));
    for i in 0..n {
        let db = (start + i) % n;
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
    pool: &mut Vec<Candidate>,
    policy: MaxmemoryPolicy,
    volatile: bool,
    samples: usize,
    now_ms: i64,
) -> Option<(usize, Vec<u8>)> {
    loop {
        let mut any = false;
        for (dbi, db) in srv.keyspace.dbs.iter().enumerate() {
            let mut sampled: Vec<(Vec<u8>, u64)> = Vec::with_capacity(samples);
            let score_of = |o: &Object, ttl: Option<i64>| -> u64 {
                match policy {
                    MaxmemoryPolicy::VolatileTtl => u64::MAX - ttl.unwrap_or(i64::MAX) as u64,
                    MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                        255 - lfu_decayed_counter(o.lru, now_ms, srv.config.lfu_decay_time) as u64
                    }
                    _ => idle_seconds(srv.lru_clock, o.lru) * 1000,
                }
            };
            if volatile {
                db.expires.sample(samples, |e| {
                    if let Some(o) = db.keys.get(&e.key) {
                        sampled.push((e.key.to_vec(), score_of(o, Some(e.value))));
                    }
                });
            } else {
                db.keys.sample(samples, |e| {
                    let ttl = if e.value.has_expire {
                        db.expires.get(&e.key).copied()
                    } else {
                        None
                    };
                    sampled.push((e.key.to_vec(), score_of(&e.value, ttl)));
                });
            }
            for (key, score) in sampled {
                any = true;
                if pool.iter().any(|c| c.db == dbi && c.key == key) {
                    continue;
                }
                if pool.len() < POOL_SIZE {
                    pool.push(Candidate {
                        score,
                        db: dbi,
                        key,
                    });
                } else if let Some(min) = pool.iter_mut().min_by_key(|c| c.score) {
                    if min.score < score {
                        *min = Candidate {
                            score,
                            db: dbi,
                            key,
                        };
                    }
                }
            }
        }
        if !any && pool.is_empty() {
            return None;
        }
        // Best candidate first; skip ones that vanished meanwhile.
        pool.sort_by_key(|c| c.score);
        while let Some(c) = pool.pop() {
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
        if !any {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
