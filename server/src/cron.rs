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
/// Stop a round once this percentage or less of the sampled keys were expired.
const ACCEPTABLE_STALE: usize = 10;

/// Runs the cron until the process exits.
pub async fn run(shared: Arc<Shared>) {
    let mut ticks: u64 = 0;
    loop {
        let hz = shared.state.lock().config.hz.clamp(1, 500);
        tokio::time::sleep(Duration::from_millis(1000 / hz as u64)).await;
        ticks += 1;
        let mut st = shared.state.lock();
        tick(&shared, &mut st, ticks);
    }
}

fn tick(shared: &Shared, srv: &mut Server, ticks: u64) {
    let now = now_ms();
    srv.lru_clock = lru_clock_now();
    let hz = srv.config.hz.clamp(1, 500) as u64;
    if srv.active_expire_enabled {
        let budget_us = SLOW_CYCLE_PERC * 1_000_000 / hz / 100;
        active_expire_cycle(srv, now, budget_us);
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
        if timeout > 0 && idle_ms > timeout as i64 * 1000 && !c.outbox.is_killed() && !c.monitor {
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

/// Removes expired keys by sampling each database's TTL table, for at most
/// `budget_us`, as Redis's slow expire cycle.
pub fn active_expire_cycle(srv: &mut Server, now: i64, budget_us: u64) {
    let effort = srv.config.active_expire_effort.clamp(1, 10) as usize - 1;
    let per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
    let acceptable = ACCEPTABLE_STALE.saturating_sub(effort);
    let budget_us = budget_us + budget_us * effort as u64 / 4;
    let start = Instant::now();
    let mut total_sampled = 0usize;
    let mut total_expired = 0usize;
    let mut timed_out = false;
    for db in srv.keyspace.dbs.iter_mut() {
        loop {
            if db.expires.is_empty() {
                db.avg_ttl = 0;
                break;
            }
            let mut sampled: Vec<(Vec<u8>, i64)> = Vec::with_capacity(per_loop);
            let mut cursor = db.expire_cursor;
            let mut buckets = 0;
            loop {
                cursor = db
                    .expires
                    .scan(cursor, |e| sampled.push((e.key.to_vec(), e.value)));
                buckets += 1;
                if cursor == 0 || sampled.len() >= per_loop || buckets > per_loop * 20 {
                    break;
                }
            }
            db.expire_cursor = cursor;
            let mut expired = 0;
            let mut ttl_sum = 0i64;
            let mut ttl_n = 0i64;
            for (key, when) in &sampled {
                if *when <= now {
                    db.remove(key);
                    db.expired_keys += 1;
                    expired += 1;
                } else {
                    ttl_sum += when - now;
                    ttl_n += 1;
                }
            }
            if ttl_n > 0 {
                let avg = ttl_sum / ttl_n;
                db.avg_ttl = if db.avg_ttl == 0 {
                    avg
                } else {
                    (db.avg_ttl / 50) * 49 + avg / 50
                };
            }
            total_sampled += sampled.len();
            total_expired += expired;
            if start.elapsed().as_micros() as u64 > budget_us {
                timed_out = true;
                break;
            }
            if sampled.is_empty() || expired * 100 / sampled.len() <= acceptable {
                break;
            }
        }
        if timed_out {
            break;
        }
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
}
