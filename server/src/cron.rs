//! Periodic work, run `hz` times a second under the lock: the LRU clock, active expiry,
//! incremental rehashing, client timeouts, CLIENT PAUSE expiry and INFO's rates.

use crate::log::{log, Level};
use crate::state::{lru_clock_now, now_ms, Server, Shared};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keys sampled per round of active expiry at effort 1 (Redis's value).
const KEYS_PER_LOOP: usize = 20;
/// Percentage of the cron period the slow expire cycle may use at effort 1.
const SLOW_CYCLE_PERC: u64 = 25;
/// Microseconds a fast expire cycle may use at effort 1.
const FAST_CYCLE_US: u64 = 1000;
/// Stop a round once this percentage or less of the sampled keys were expired.
const ACCEPTABLE_STALE: usize = 10;

/// What the expire cycles remember between runs.
#[derive(Debug, Default)]
pub struct ExpireCycleState {
    /// Database the next cycle starts with (rotates, so none starves).
    pub next_db: usize,
    /// True if the last cycle stopped on its time limit.
    pub timed_out: bool,
}

/// The expire cycle's settings for `active-expire-effort` (1..10), as Redis scales them.
struct Effort {
    keys_per_loop: usize,
    fast_us: u64,
    slow_perc: u64,
    acceptable_stale: usize,
}

fn effort(srv: &Server) -> Effort {
    let e = srv.config.active_expire_effort.clamp(1, 10) as usize - 1;
    Effort {
        keys_per_loop: KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * e,
        fast_us: FAST_CYCLE_US + FAST_CYCLE_US / 4 * e as u64,
        slow_perc: SLOW_CYCLE_PERC + 2 * e as u64,
        acceptable_stale: ACCEPTABLE_STALE - e,
    }
}

/// True when a fast expire cycle is due between cron ticks (Redis runs it before
/// sleeping): when the last cycle ran out of time. (Redis also tests the stale ratio,
/// but compares a fraction with a percentage, so in effect only the time-out counts;
/// we keep that behaviour.)
fn fast_cycle_wanted(srv: &Server, st: &ExpireCycleState) -> bool {
    srv.active_expire_enabled
        && st.timed_out
        && srv.keyspace.total_expires() > 0
        && !crate::replication::no_active_expire(srv)
}

/// Runs the cron until the process exits. Between ticks, while expired keys pile up,
/// fast expire cycles run every 2 ms (Redis runs them before each event-loop sleep).
pub async fn run(shared: Arc<Shared>) {
    let mut ticks: u64 = 0;
    let mut expire_state = ExpireCycleState::default();
    let mut next_tick = Instant::now();
    loop {
        let (hz, fast) = {
            let st = shared.state.lock();
            (
                st.config.hz.clamp(1, 500),
                fast_cycle_wanted(&st, &expire_state),
            )
        };
        let now = Instant::now();
        if next_tick <= now {
            next_tick = now + Duration::from_millis(1000 / hz as u64);
        }
        let wake = if fast {
            next_tick.min(now + Duration::from_millis(2))
        } else {
            next_tick
        };
        tokio::time::sleep_until(wake.into()).await;
        let mut st = shared.state.lock();
        // DEBUG PAUSE-CRON: skip the periodic work (not the schedule), as Redis.
        if crate::cmd::debug::cron_paused() {
            if Instant::now() >= next_tick {
                next_tick += Duration::from_millis(1000 / hz as u64);
            }
            continue;
        }
        if Instant::now() >= next_tick {
            ticks += 1;
            tick(&shared, &mut st, ticks, &mut expire_state);
            next_tick += Duration::from_millis(1000 / hz as u64);
        } else if fast_cycle_wanted(&st, &expire_state) {
            let budget = effort(&st).fast_us;
            expire_state.timed_out =
                active_expire_cycle(&mut st, now_ms(), budget, &mut expire_state);
        }
        // Keys the cron deleted (an expired or evicted stream) may concern blocked
        // clients: served here, as Redis's beforeSleep does.
        crate::blocking::handle_ready(&mut st, now_ms());
    }
}

fn tick(shared: &Shared, srv: &mut Server, ticks: u64, expire_state: &mut ExpireCycleState) {
    srv.refresh_clock();
    let now = now_ms();
    srv.lru_clock = lru_clock_now();
    crate::bgsave::cron(srv, now);
    crate::aof::cron(srv, now);
    crate::startup::cron_shutdown(srv);
    crate::replication::master::cron(srv, now);
    // tracking-table-max-keys, with growing effort while still over (serverCron).
    if srv.tracking.clients != 0 {
        crate::tracking::limit_used_slots(srv);
        crate::tracking::broadcast(srv);
    }
    let hz = srv.config.hz.clamp(1, 500) as u64;
    if srv.active_expire_enabled && !crate::replication::no_active_expire(srv) {
        let budget_us = effort(srv).slow_perc * 1_000_000 / hz / 100;
        expire_state.timed_out = active_expire_cycle(srv, now, budget_us, expire_state);
        // Hash fields with TTLs (Redis 7.4): a bounded sweep of the hashes that
        // have some, each tick.
        crate::cmd::hash::active_expire_fields(srv, now, 20, 1000);
    }
    // An eviction run that stopped on its time limit goes on here (Redis's eviction
    // timer), as does eviction after maxmemory was lowered (Redis evicts at CONFIG
    // SET time): memory comes back under maxmemory even without new commands.
    if srv.config.maxmemory > 0 && crate::alloc::used_memory() > srv.config.maxmemory {
        let _ = crate::evict::perform_evictions(srv, now);
    }
    crate::propagate::flush_no_multi(srv);
    if srv.pubsub.notify != 0 {
        srv.flush_db_events();
    }
    // Spread rehashing: about 1 ms per tick over all databases.
    let start = Instant::now();
    for db in srv.keyspace.dbs.iter_mut() {
        db.keys.shrink_if_needed();
        db.expires.shrink_if_needed();
        while (db.keys.rehash(100) || db.expires.rehash(100))
            && start.elapsed() < Duration::from_millis(1)
        {}
    }
    // Client idle timeouts, and idle clients' query buffers freed after 2 s.
    let timeout = srv.config.timeout;
    for c in srv.clients.iter() {
        let idle_ms = now - c.last_interaction_ms;
        if timeout > 0
            && idle_ms > timeout as i64 * 1000
            && !c.outbox.is_killed()
            && !c.monitor
            // No timeout for Pub/Sub clients either.
            && !c.is_pubsub()
            // As Redis, a blocked (or paused) client is never idle.
            && !c.outbox.is_blocked_or_paused()
            // Nor for replicas and the master.
            && c.repl.as_ref().is_none_or(|r| !r.is_replica && !r.is_master)
        {
            log(Level::Verbose, "Closing idle client");
            c.outbox.kill();
        } else if idle_ms > 2000 && c.qbuf == 0 && c.qbuf_free > 0 {
            c.outbox.request_shrink();
        }
    }
    if let Some((_, until)) = srv.pause {
        if now >= until {
            srv.pause = None;
            shared.unpause.notify_waiters();
        }
    }
    // INFO's instantaneous rates, sampled every 100 ms like Redis.
    if ticks.is_multiple_of((hz / 10).max(1)) {
        let ops = srv.stats.total_commands_processed;
        let inb = srv.stats.net_input_bytes;
        let outb = srv.stats.net_output_bytes;
        srv.ops_samples.track(ops, now);
        srv.net_in_samples.track(inb, now);
        srv.net_out_samples.track(outb, now);
    }
    let used = crate::alloc::used_memory();
    if used > srv.peak_memory {
        srv.peak_memory = used;
    }
}

/// Removes expired keys by sampling each database's TTL table for at most
/// `budget_us`, as Redis's expire cycle: per database, rounds of up to
/// `keys_per_loop` keys go on while more than the acceptable share of them had
/// expired, so the memory held by expired keys stays bounded. Returns true if it
/// stopped on the time limit.
pub fn active_expire_cycle(
    srv: &mut Server,
    now: i64,
    budget_us: u64,
    state: &mut ExpireCycleState,
) -> bool {
    let eff = effort(srv);
    let start = Instant::now();
    let mut total_sampled = 0usize;
    let mut total_expired = 0usize;
    let mut timed_out = false;
    let ndbs = srv.keyspace.dbs.len();
    let mut expired_keys: Vec<Vec<u8>> = Vec::new();
    let mut iteration = 0u64;
    for n in 0..ndbs {
        let dbi = (state.next_db + n) % ndbs;
        let db = &mut srv.keyspace.dbs[dbi];
        loop {
            let num = db.expires.len();
            if num == 0 {
                db.avg_ttl = 0;
                break;
            }
            // Sampling a very sparse table is slow: wait for it to be resized.
            let slots = db.expires.buckets();
            if slots > 4 && num * 100 / slots < 1 {
                break;
            }
            iteration += 1;
            let want = num.min(eff.keys_per_loop);
            let mut sampled = 0usize;
            let (mut ttl_sum, mut ttl_n) = (0i64, 0i64);
            let mut cursor = db.expire_cursor;
            let mut buckets = 0;
            expired_keys.clear();
            while sampled < want && buckets < want * 20 {
                cursor = db.expires.scan(cursor, |e| {
                    sampled += 1;
                    if e.value <= now {
                        expired_keys.push(e.key.to_vec());
                    } else {
                        ttl_sum += e.value - now;
                        ttl_n += 1;
                    }
                });
                buckets += 1;
                if cursor == 0 {
                    break;
                }
            }
            db.expire_cursor = cursor;
            let expired = expired_keys.len();
            for key in &expired_keys {
                db.remove(key);
                db.log_event(crate::config::notify::EXPIRED, "expired", key);
                db.log_deletion(key, false);
            }
            db.expired_keys += expired as u64;
            if ttl_n > 0 {
                let avg = ttl_sum / ttl_n;
                db.avg_ttl = if db.avg_ttl == 0 {
                    avg
                } else {
                    (db.avg_ttl / 50) * 49 + avg / 50
                };
            }
            total_sampled += sampled;
            total_expired += expired;
            if iteration & 15 == 0 && start.elapsed().as_micros() as u64 > budget_us {
                timed_out = true;
                break;
            }
            if sampled > 0 && expired * 100 / sampled <= eff.acceptable_stale {
                break;
            }
        }
        if timed_out {
            state.next_db = dbi;
            break;
        }
    }
    if srv.pubsub.notify != 0 {
        srv.flush_db_events();
    }
    if srv.tracking.deletions_on {
        crate::tracking::drain_deletions(srv);
        crate::tracking::broadcast(srv);
    }
    let elapsed_ms = start.elapsed().as_millis() as u64;
    srv.stats.expire_cycle_cpu_milliseconds += elapsed_ms;
    // LATENCY's "expire-cycle" event, as Redis records it.
    let threshold = srv.config.latency_monitor_threshold;
    srv.latency
        .add_sample_if_needed("expire-cycle", elapsed_ms, threshold, now / 1000);
    if timed_out {
        srv.stats.expired_time_cap_reached_count += 1;
    }
    let perc = if total_sampled > 0 {
        total_expired as f64 / total_sampled as f64
    } else {
        0.0
    };
    srv.stats.expired_stale_perc = perc * 0.05 + srv.stats.expired_stale_perc * 0.95;
    timed_out
}
