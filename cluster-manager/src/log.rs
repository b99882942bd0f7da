//! Redis's `clusterManagerLog`: progress and report lines on stdout, in color
//! when TERM names an xterm (Redis's `isColorTerm`, which does not look at
//! whether stdout is a terminal).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static COLOR: AtomicBool = AtomicBool::new(false);
static SILENT: AtomicBool = AtomicBool::new(false);

/// Drops the text report (`--json` prints a document instead).
pub fn set_silent(on: bool) {
    SILENT.store(on, Ordering::Relaxed);
}

/// The kind of a line, which picks its color.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Err,
    Success,
}

/// Turns colors on when `TERM` contains "xterm", as Redis decides.
pub fn init_color() {
    let on = std::env::var("TERM").is_ok_and(|t| t.contains("xterm"));
    COLOR.store(on, Ordering::Relaxed);
}

/// Prints `msg` at `level`.
pub fn log(level: Level, msg: &str) {
    if SILENT.load(Ordering::Relaxed) {
        return;
    }
    if COLOR.load(Ordering::Relaxed) {
        let code = match level {
            Level::Info => "29;1m",
            Level::Warn => "33;1m",
            Level::Err => "31;1m",
            Level::Success => "32;1m",
        };
        write_stdout(format!("\x1b[{code}{msg}\x1b[0m").as_bytes());
    } else {
        write_stdout(msg.as_bytes());
    }
}

/// Writes and flushes, letting a progress bar on the same terminal step aside.
fn write_stdout(bytes: &[u8]) {
    if crate::progress::write_stdout(bytes) {
        return;
    }
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes);
    let _ = o.flush();
}

/// Plain stdout text (Redis's printf), flushed.
pub fn out(msg: &str) {
    if SILENT.load(Ordering::Relaxed) {
        return;
    }
    write_stdout(msg.as_bytes());
}

/// Info line.
pub fn info(msg: &str) {
    log(Level::Info, msg)
}

/// Warning line.
pub fn warn(msg: &str) {
    log(Level::Warn, msg)
}

/// Error line (on stdout, as in Redis).
pub fn err(msg: &str) {
    log(Level::Err, msg)
}

/// Success line.
pub fn ok(msg: &str) {
    log(Level::Success, msg)
}
