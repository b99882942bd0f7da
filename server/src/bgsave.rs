//! BGSAVE: the snapshot written by a forked child, as Redis does.
//!
//! `fork` gives the child a copy-on-write image of the dataset at that instant, so
//! the parent goes on serving every client while the child writes the RDB file
//! (through `crate::rdb::save`, the same code as SAVE) and exits. The child is
//! only ever forked from the thread that holds the state lock and runs commands;
//! it touches nothing but that image, the file system and the log, then leaves
//! with `_exit` (no destructor, no runtime shutdown). The cron reaps it
//! ([`check_child`]) and counts the result as Redis's backgroundSaveDoneHandler;
//! save points and a BGSAVE SCHEDULE'd while a child ran are started there too
//! ([`cron`]).

use crate::log::{log, Level};
use crate::state::Server;
use std::time::Instant;

/// A save point that failed is retried only after this many seconds (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY), unless the last save succeeded.
const RETRY_DELAY_S: i64 = 5;

/// What a child process does. Only one child runs at a time (Redis's
/// hasActiveChildProcess): a BGSAVE and an AOF rewrite exclude each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    /// BGSAVE: writes the RDB file.
    Rdb,
    /// BGREWRITEAOF: writes a new AOF base (`crate::aof`).
    Aof,
}

/// The running child process.
#[derive(Debug, Clone, Copy)]
pub struct Child {
    pub kind: ChildKind,
    pub pid: libc::pid_t,
    /// Unix ms when it was forked.
    pub started_ms: i64,
    /// `dirty` at the fork: what the snapshot holds (it is subtracted on success).
    pub dirty_at_fork: u64,
}

/// BGSAVE bookkeeping kept in the server state.
#[derive(Debug, Default)]
pub struct BgsaveState {
    pub child: Option<Child>,
    /// BGSAVE SCHEDULE (or BGSAVE inside MULTI) waits for the cron.
    pub scheduled: bool,
    /// Unix seconds of the last attempt (save-point retry delay).
    pub last_try_s: i64,
    /// Seconds the last BGSAVE took (INFO rdb_last_bgsave_time_sec), -1 before any.
    pub last_duration_s: i64,
    /// Microseconds the last fork took (INFO latest_fork_usec).
    pub last_fork_us: u64,
    /// Forks made (INFO total_forks).
    pub total_forks: u64,
}

impl BgsaveState {
    /// A state with no BGSAVE done yet.
    pub fn new() -> Self {
        BgsaveState {
            last_duration_s: -1,
            ..Default::default()
        }
    }
}

/// Forks the child that writes the snapshot. The error is `fork`'s.
pub fn start(srv: &mut Server, now_ms: i64) -> std::io::Result<libc::pid_t> {
    srv.rdb_saves += 1;
    srv.bgsave.last_try_s = now_ms / 1000;
    let before = Instant::now();
    // SAFETY: fork is called by the thread holding the state lock; the child only
    // reads its copy of the state, writes the file and the log, and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        crate::log::set_role(b'C');
        let _ = crate::oom::apply(&srv.config, crate::oom::BACKGROUND_CHILD);
        let path = crate::rdb::rdb_path(srv);
        // A panic must end the child here, never unwind into the parent's event loop.
        let code =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match crate::rdb::save(srv, &path, now_ms) {
                    Ok(()) => 0,
                    Err(_) => 1,
                }
            }))
            .unwrap_or(1);
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(code) }
    }
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        srv.last_bgsave_ok = false;
        log(
            Level::Warning,
            &format!("Can't save in background: fork: {e}"),
        );
        return Err(e);
    }
    let fork_us = before.elapsed().as_micros() as u64;
    srv.bgsave.scheduled = false;
    child_started(srv, ChildKind::Rdb, pid, now_ms, fork_us);
    log(
        Level::Notice,
        &format!("Background saving started by pid {pid}"),
    );
    Ok(pid)
}

/// True while a BGSAVE child runs.
pub fn in_progress(srv: &Server) -> bool {
    srv.bgsave.child.is_some_and(|c| c.kind == ChildKind::Rdb)
}

/// True while any child (BGSAVE or AOF rewrite) runs.
pub fn has_active_child(srv: &Server) -> bool {
    srv.bgsave.child.is_some()
}

/// Records a child just forked (fork statistics, no table resizing while it runs).
pub fn child_started(
    srv: &mut Server,
    kind: ChildKind,
    pid: libc::pid_t,
    now_ms: i64,
    fork_us: u64,
) {
    srv.bgsave.last_fork_us = fork_us;
    srv.bgsave.total_forks += 1;
    crate::keyspace::dict::set_resize_allowed(false);
    srv.bgsave.child = Some(Child {
        kind,
        pid,
        started_ms: now_ms,
        dirty_at_fork: srv.dirty,
    });
}

/// Reaps the child if it has exited and counts the result.
pub fn check_child(srv: &mut Server, now_ms: i64) {
    let Some(child) = srv.bgsave.child else {
        return;
    };
    let mut status = 0;
    // SAFETY: waits without blocking for our own child.
    let r = unsafe { libc::waitpid(child.pid, &mut status, libc::WNOHANG) };
    if r == 0 {
        return;
    }
    srv.bgsave.child = None;
    crate::keyspace::dict::set_resize_allowed(true);
    if child.kind == ChildKind::Aof {
        crate::aof::rewrite_done(srv, child, if r < 0 { None } else { Some(status) }, now_ms);
        return;
    }
    let ok = r >= 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // A diskless replication transfer is not a save.
    if crate::replication::master::rdb_child_done(srv, child.pid, ok) {
        return;
    }
    rdb_child_reaped(srv, child, r, status, now_ms);
    crate::replication::master::disk_bgsave_done(srv, ok);
}

/// Counts the end of a BGSAVE child (`r`, `status`: waitpid's).
fn rdb_child_reaped(srv: &mut Server, child: Child, r: libc::pid_t, status: i32, now_ms: i64) {
    srv.bgsave.last_duration_s = (now_ms - child.started_ms) / 1000;
    if r < 0 {
        // Not our child any more (reaped elsewhere): nothing to count.
        srv.last_bgsave_ok = false;
        return;
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        log(Level::Notice, "Background saving terminated with success");
        srv.dirty = srv.dirty.saturating_sub(child.dirty_at_fork);
        srv.last_save_ms = now_ms;
        srv.last_bgsave_ok = true;
    } else if libc::WIFEXITED(status) {
        log(Level::Warning, "Background saving error");
        srv.last_bgsave_ok = false;
    } else {
        let sig = libc::WTERMSIG(status);
        log(
            Level::Warning,
            &format!("Background saving terminated by signal {sig}"),
        );
        remove_temp_file(child.pid);
        // SIGUSR1 is how a child is stopped without it counting as an error.
        if sig != libc::SIGUSR1 {
            srv.last_bgsave_ok = false;
        }
    }
}

/// Stops a running child of any kind and removes its temporary file.
pub fn kill_child(srv: &mut Server) {
    let Some(child) = srv.bgsave.child.take() else {
        return;
    };
    crate::keyspace::dict::set_resize_allowed(true);
    // SAFETY: signals and reaps our own child.
    unsafe {
        libc::kill(child.pid, libc::SIGUSR1);
        let mut status = 0;
        libc::waitpid(child.pid, &mut status, 0);
    }
    match child.kind {
        ChildKind::Rdb => {
            remove_temp_file(child.pid);
            crate::replication::master::rdb_child_killed(srv);
        }
        ChildKind::Aof => crate::aof::rewrite_killed(srv, child.pid),
    }
}

/// Stops a running BGSAVE child (FLUSHALL), leaving an AOF rewrite alone.
pub fn kill_rdb_child(srv: &mut Server) {
    if in_progress(srv) {
        kill_child(srv);
    }
}

/// At shutdown: a running child is stopped, as Redis's prepareForShutdown.
pub fn kill_for_shutdown(srv: &mut Server) {
    match srv.bgsave.child.map(|c| c.kind) {
        Some(ChildKind::Rdb) => {
            log(
                Level::Warning,
                "There is a child saving an .rdb. Killing it!",
            );
            kill_child(srv);
        }
        Some(ChildKind::Aof) => {
            log(
                Level::Warning,
                "There is a child rewriting the AOF. Killing it!",
            );
            kill_child(srv);
        }
        None => {}
    }
}

fn remove_temp_file(pid: libc::pid_t) {
    let _ = std::fs::remove_file(format!("temp-{pid}.rdb"));
}

/// The cron's part: reap the child, then start a scheduled BGSAVE or one a save
/// point asks for.
pub fn cron(srv: &mut Server, now_ms: i64) {
    check_child(srv, now_ms);
    if has_active_child(srv) {
        return;
    }
    let now_s = now_ms / 1000;
    let retry_ok = srv.last_bgsave_ok || now_s - srv.bgsave.last_try_s > RETRY_DELAY_S;
    if srv.bgsave.scheduled && retry_ok {
        let _ = start(srv, now_ms);
        return;
    }
    let since_save_s = now_s - srv.last_save_ms / 1000;
    let due = srv.config.save.iter().find(|&&(secs, changes)| {
        srv.dirty >= changes.max(0) as u64 && since_save_s > secs as i64 && retry_ok
    });
    if let Some(&(secs, changes)) = due {
        log(
            Level::Notice,
            &format!("{changes} changes in {secs} seconds. Saving..."),
        );
        let _ = start(srv, now_ms);
    }
}

/// The MISCONF error while the last background save failed and writes are to be
/// refused (`stop-writes-on-bgsave-error` with save points), as Redis's
/// writeCommandsDeniedByDiskError.
pub fn writes_denied(srv: &Server) -> bool {
    srv.config.stop_writes_on_bgsave_error && !srv.config.save.is_empty() && !srv.last_bgsave_ok
}

/// Redis's reply to a write refused by [`writes_denied`].
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
