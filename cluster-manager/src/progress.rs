//! Beyond Redis: a progress bar on stderr for the long operations (reshard,
//! rebalance, fix, import), shown only when stderr is a terminal.
//!
//! The bar is process-wide, like the report lines of [`crate::log`], because
//! the slot move deep inside every operation is what advances it. While a bar
//! is shown, [`crate::log`] routes stdout text through [`write_stdout`], which
//! hides the bar around each complete line when stdout is the same kind of
//! terminal; piped or redirected stdout gets Redis's bytes exactly as without
//! a bar.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use parking_lot::Mutex;
use std::io::{IsTerminal, Write};
use std::time::Instant;

/// What the bar's position counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Slots moved (reshard, rebalance, fix); keys go in the message.
    Slots,
    /// Keys moved (import).
    Keys,
}

struct State {
    bar: ProgressBar,
    unit: Unit,
    keys: u64,
    started: Instant,
    /// A stdout line not yet ended, held back while the bar is drawn on
    /// the terminal stdout shares.
    pending: Vec<u8>,
    stdout_tty: bool,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Whether a bar would be drawn at all: stderr is a terminal that can move
/// its cursor (`TERM` set and not `dumb`, as indicatif requires), and
/// `REDIS_CLI_NO_PROGRESS` is not set.
pub fn enabled() -> bool {
    let capable_term = std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    capable_term
        && std::io::stderr().is_terminal()
        && std::env::var_os("REDIS_CLI_NO_PROGRESS").is_none()
}

/// Shows a bar of `len` units; does nothing when stderr is not a terminal or
/// `len` is zero. Dropping the guard (or [`finish`]) removes the bar.
#[must_use = "the bar goes away when the guard is dropped"]
pub fn start(len: u64, unit: Unit) -> Guard {
    if len == 0 || !enabled() {
        return Guard(false);
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = match unit {
        Unit::Slots => "{elapsed_precise} [{wide_bar}] {pos}/{len} slots, {msg}, ETA {eta}",
        Unit::Keys => "{elapsed_precise} [{wide_bar}] {pos}/{len} keys, {per_sec}, ETA {eta}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    if unit == Unit::Slots {
        bar.set_message("0 keys");
    }
    *STATE.lock() = Some(State {
        bar,
        unit,
        keys: 0,
        started: Instant::now(),
        pending: Vec::new(),
        stdout_tty: std::io::stdout().is_terminal(),
    });
    Guard(true)
}

/// Removes the bar when dropped.
pub struct Guard(bool);

impl Drop for Guard {
    fn drop(&mut self) {
        if self.0 {
            finish();
        }
    }
}

/// Removes the bar and writes out any held-back stdout text.
pub fn finish() {
    let Some(st) = STATE.lock().take() else {
        return;
    };
    st.bar.finish_and_clear();
    if !st.pending.is_empty() {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(&st.pending);
        let _ = o.flush();
    }
}

/// One slot finished moving.
pub fn slot_done() {
    if let Some(st) = STATE.lock().as_ref() {
        if st.unit == Unit::Slots {
            st.bar.inc(1);
        }
    }
}

/// `n` more keys were moved.
pub fn keys_moved(n: u64) {
    if let Some(st) = STATE.lock().as_mut() {
        st.keys += n;
        match st.unit {
            Unit::Keys => st.bar.inc(n),
            Unit::Slots => {
                let secs = st.started.elapsed().as_secs_f64().max(0.001);
                st.bar.set_message(format!(
                    "{} keys ({:.0} keys/s)",
                    st.keys,
                    st.keys as f64 / secs
                ));
            }
        }
    }
}

/// Writes `bytes` to stdout. Returns false when no bar is shown (the caller
/// then writes as usual). With a bar and a terminal stdout, only complete
/// lines are written, each with the bar hidden, so the two do not mix.
pub fn write_stdout(bytes: &[u8]) -> bool {
    let mut guard = STATE.lock();
    let Some(st) = guard.as_mut() else {
        return false;
    };
    if !st.stdout_tty {
        return false;
    }
    st.pending.extend_from_slice(bytes);
    let Some(end) = st.pending.iter().rposition(|&c| c == b'\n') else {
        return true;
    };
    let lines: Vec<u8> = st.pending.drain(..=end).collect();
    st.bar.suspend(|| {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(&lines);
        let _ = o.flush();
    });
    true
}
