//! `oom-score-adj`: the process's `/proc/self/oom_score_adj` set by its role, as Redis's
//! setOOMScoreAdj. The value found the first time the server takes control is the base
//! that `relative` adds to and that turning the option off restores.

use crate::config::Config;
use crate::log::{log, Level};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Index of the master's value in `oom-score-adj-values`.
pub const MASTER: usize = 0;
/// Index of a replica's value.
pub const REPLICA: usize = 1;
/// Index of a background child's value (BGSAVE, AOF rewrite).
pub const BACKGROUND_CHILD: usize = 2;

const PROC_FILE: &str = "/proc/self/oom_score_adj";

/// True while the score is ours (set from the config), not the one we started with.
static ADJUSTED: AtomicBool = AtomicBool::new(false);
/// The score before we first changed it.
static BASE: AtomicI32 = AtomicI32::new(0);

/// Applies the configuration for a process of `class` (an index of
/// `oom-score-adj-values`). Errors are logged; the message is for CONFIG SET.
pub fn apply(cfg: &Config, class: usize) -> Result<(), String> {
    use redis_server_config::OomScoreAdj;
    let val = if cfg.oom_score_adj != OomScoreAdj::No {
        if !ADJUSTED.swap(true, Ordering::SeqCst) {
            let base = std::fs::read_to_string(PROC_FILE)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            BASE.store(base, Ordering::SeqCst);
        }
        let mut v = cfg.oom_score_adj_values[class];
        if cfg.oom_score_adj == OomScoreAdj::Relative {
            v += BASE.load(Ordering::SeqCst);
        }
        v.clamp(-1000, 1000)
    } else if ADJUSTED.swap(false, Ordering::SeqCst) {
        BASE.load(Ordering::SeqCst)
    } else {
        return Ok(());
    };
    std::fs::write(PROC_FILE, format!("{val}\n")).map_err(|e| {
        log(
            Level::Warning,
            &format!("Unable to write oom_score_adj: {e}"),
        );
        "Failed to set current oom_score_adj. Check server logs.".to_string()
    })
}
