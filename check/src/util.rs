//! Small shared pieces: Redis's log line format, `strerror`.

use std::io::Write;

/// A log line as Redis's `serverLog` writes it from a checker (`pid:C date # msg`).
pub fn server_log(out: &mut impl Write, msg: &str) {
    let _ = writeln!(out, "{}:C {} # {}", std::process::id(), log_time(), msg);
}

/// `30 Nov 2026 23:03:44.014` in local time.
pub fn log_time() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let ms = now.subsec_millis();
    // SAFETY: localtime_r and strftime write into buffers we own and size.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        let mut buf = [0u8; 64];
        let fmt = b"%d %b %Y %H:%M:%S\0";
        let n = libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            &tm,
        );
        format!("{}.{:03}", String::from_utf8_lossy(&buf[..n]), ms)
    }
}

/// C's `strerror` text for an I/O error.
pub fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        // SAFETY: strerror returns a pointer to a static NUL-terminated string.
        Some(code) => unsafe {
            std::ffi::CStr::from_ptr(libc::strerror(code))
                .to_string_lossy()
                .into_owned()
        },
        None => e.to_string(),
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
