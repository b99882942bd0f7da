//! The server log in Redis's line format: `pid:M 21 Nov 2026 08:00:00.000 * message`.

use parking_lot::Mutex;
use std::fs::OpenOptions;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// Log levels, as `loglevel` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Verbose = 1,
    Notice = 2,
    Warning = 3,
}

impl Level {
    /// Parses a `loglevel` value.
    pub fn from_name(s: &str) -> Option<Level> {
        match s {
            "debug" => Some(Level::Debug),
            "verbose" => Some(Level::Verbose),
            "notice" => Some(Level::Notice),
            "warning" => Some(Level::Warning),
            _ => None,
        }
    }

    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

static MIN_LEVEL: AtomicU8 = AtomicU8::new(Level::Notice as u8);
static LOGFILE: Mutex<String> = Mutex::new(String::new());
/// The role letter: M master, S replica, C child, X sentinel.
static ROLE: AtomicU8 = AtomicU8::new(b'M');

/// Sets the role letter of log lines (`C` before the configuration is loaded, `M`
/// for a master).
pub fn set_role(role: u8) {
    ROLE.store(role, Ordering::Relaxed);
}

/// Sets the minimum level written.
pub fn set_level(level: Level) {
    MIN_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Sets the log file ("" means standard output).
pub fn set_file(path: &str) {
    *LOGFILE.lock() = path.to_string();
}

/// True if `level` would be written.
pub fn enabled(level: Level) -> bool {
    level as u8 >= MIN_LEVEL.load(Ordering::Relaxed)
}

/// Local time as `21 Nov 2026 08:00:00.000`.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let ms = now.subsec_millis();
    // SAFETY: localtime_r writes into the tm we own; time_t is a valid value.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms
    )
}

/// Writes one line if `level` is enabled.
pub fn log(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    log_raw(level, msg);
}

/// Writes one line whatever the level (used for start-up banners).
pub fn log_raw(level: Level, msg: &str) {
    let line = format!(
        "{}:{} {} {} {}\n",
        std::process::id(),
        ROLE.load(Ordering::Relaxed) as char,
        timestamp(),
        level.mark(),
        msg
    );
    let file = LOGFILE.lock();
    if file.is_empty() {
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    } else if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&*file) {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Writes text as it is, without the line prefix (Redis's LL_RAW: the start-up logo).
pub fn write_plain(text: &str) {
    let file = LOGFILE.lock();
    if file.is_empty() {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    } else if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&*file) {
        let _ = f.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_shape() {
        let t = super::timestamp();
        // "21 Nov 2026 08:00:00.000"
        assert_eq!(t.len(), 24, "{t}");
        assert_eq!(&t[2..3], " ");
        assert_eq!(&t[20..21], ".");
    }
}
