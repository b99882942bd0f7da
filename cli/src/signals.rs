//! Signal handling shared by the REPL and the long-running modes.
//!
//! The handlers only touch atomics and async-signal-safe calls: Ctrl-C while
//! streaming (MONITOR, SUBSCRIBE) shuts the socket down so the blocked read
//! returns and the REPL reconnects; elsewhere in interactive mode it exits,
//! as Redis does. The stat-style modes use a "stop the loop" flag instead.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static CONN_FD: AtomicI32 = AtomicI32::new(-1);
static BLOCKING: AtomicBool = AtomicBool::new(false);
static ABORTED: AtomicBool = AtomicBool::new(false);
static CANCEL: AtomicBool = AtomicBool::new(false);

/// Records the socket the SIGINT handler may shut down (-1: none).
pub fn set_conn_fd(fd: i32) {
    CONN_FD.store(fd, Ordering::SeqCst);
}

/// Marks that a streaming read (MONITOR / SUBSCRIBE) is in progress.
pub fn set_blocking(on: bool) {
    BLOCKING.store(on, Ordering::SeqCst);
}

/// True (once) if Ctrl-C interrupted a streaming read.
pub fn take_blocking_aborted() -> bool {
    ABORTED.swap(false, Ordering::SeqCst)
}

/// True once Ctrl-C asked a long loop (--bigkeys, --intrinsic-latency) to stop.
pub fn cancelled() -> bool {
    CANCEL.load(Ordering::SeqCst)
}

extern "C" fn on_sigint_repl(_: libc::c_int) {
    if BLOCKING.load(Ordering::SeqCst) {
        let fd = CONN_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: shutdown is async-signal-safe; fd is our socket.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        }
        ABORTED.store(true, Ordering::SeqCst);
    } else {
        // SAFETY: _exit is async-signal-safe; our stdout is flushed per write.
        unsafe { libc::_exit(1) };
    }
}

extern "C" fn on_sigint_cancel(_: libc::c_int) {
    CANCEL.store(true, Ordering::SeqCst);
}

fn install(sig: libc::c_int, handler: libc::sighandler_t) {
    // SAFETY: installing a plain handler (or SIG_IGN/SIG_DFL) for one signal.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0; // no SA_RESTART: a blocked read must return EINTR
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

/// Interactive mode: Ctrl-C handling and SIGPIPE ignored (to reconnect).
pub fn install_repl() {
    install(
        libc::SIGINT,
        on_sigint_repl as *const () as libc::sighandler_t,
    );
    install(libc::SIGPIPE, libc::SIG_IGN);
}

/// Long loops: Ctrl-C sets the cancel flag.
pub fn install_cancel() {
    install(
        libc::SIGINT,
        on_sigint_cancel as *const () as libc::sighandler_t,
    );
}

/// Restores the default SIGPIPE (Rust ignores it), so `redis-cli ... | head`
/// ends the way Redis's does.
pub fn default_sigpipe() {
    install(libc::SIGPIPE, libc::SIG_DFL);
}
