//! Command propagation: what a write did to the dataset, as the commands that redo it,
//! fed to the AOF (and, later, to replicas) in Redis 7.0's order and forms.
//!
//! # The model (Redis's call / alsoPropagate / propagatePendingCommands)
//!
//! While a top-level command runs, the operations to propagate collect in
//! [`Propagation`]'s pending list, each with its database:
//! - deletions the keyspace made on its own (lazy expiry met by a lookup, the active
//!   expire cycle, eviction), logged by `Db` and drained here as `DEL key` (or
//!   `UNLINK key` with `lazyfree-lazy-expire` / `lazyfree-lazy-eviction`);
//! - what a handler adds with [`Ctx::also_propagate`] (SPOP's SREMs, a served blocking
//!   pop's LPOP);
//! - the command itself, after the handler, when it moved the dirty counter (or forced
//!   propagation, as FLUSHALL): its own arguments, or the form it chose with
//!   [`Ctx::propagate_as`] (EXPIRE → PEXPIREAT, SET EX → SET PXAT, INCRBYFLOAT → SET
//!   KEEPTTL...). [`Ctx::prevent_propagation`] drops it (SPOP with a count propagates
//!   only its SREMs).
//!
//! After the top-level command (EXEC with its queued commands counts as one) the list
//! is flushed to the sinks: more than one operation is wrapped in MULTI ... EXEC (but
//! not for the expire cycle or eviction, nor for RANDOMKEY / SCAN, which touch
//! arbitrary keys), each operation preceded by a SELECT when its database differs
//! from the sink's (the sink tracks that).
//!
//! Nothing is recorded while propagation is off ([`Propagation::active`] is false:
//! no AOF and no replica): the per-command cost is then one flag test.

use crate::dispatch::Ctx;
use crate::state::Server;
use redis_commands::CommandSpec;

/// Pending propagation of the current execution unit.
#[derive(Debug, Default)]
pub struct Propagation {
    /// Whether anything listens (the AOF is on, or a replication backlog exists).
    pub active: bool,
    /// Encoded pending operations (RESP arrays, back to back).
    buf: Vec<u8>,
    /// (db, start, end) of each pending operation in `buf`.
    ops: Vec<(usize, usize, usize)>,
    /// The current command's rewritten form, encoded (set by `propagate_as`).
    rewrite: Vec<u8>,
    has_rewrite: bool,
    /// The current command asked not to be propagated itself.
    prevent: bool,
    /// The current command asked to be propagated even without a change.
    force: bool,
}

/// Appends `argv` as a RESP array of bulk strings.
pub fn encode_command(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.push(b'*');
    push_num(out, argv.len());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        push_num(out, a.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `n` in decimal.
fn push_num(out: &mut Vec<u8>, mut n: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

impl Propagation {
    /// Queues one operation for database `db`.
    pub fn push(&mut self, db: usize, argv: &[&[u8]]) {
        let start = self.buf.len();
        encode_command(&mut self.buf, argv);
        self.ops.push((db, start, self.buf.len()));
    }

    /// Queues an already encoded operation.
    fn push_encoded(&mut self, db: usize, cmd: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(cmd);
        self.ops.push((db, start, self.buf.len()));
    }

    /// Pending operations.
    pub fn pending(&self) -> usize {
        self.ops.len()
    }

    /// Resets the per-command flags before a handler runs.
    #[inline]
    fn begin(&mut self) {
        self.has_rewrite = false;
        self.prevent = false;
        self.force = false;
    }
}

/// Turns propagation on or off as the sinks need it (AOF state; later replicas), and
/// tells the databases whether to log the deletions they make by themselves.
pub fn refresh_active(srv: &mut Server) {
    let active = srv.aof.accepts_feed() || srv.repl.backlog.is_some();
    if active && !srv.prop.active {
        // Flags a command set while nothing listened are stale (FLUSHALL's force).
        srv.prop.begin();
    }
    srv.prop.active = active;
    for db in srv.keyspace.dbs.iter_mut() {
        db.log_deletions = active;
        if !active {
            db.deletions = Vec::new();
        }
    }
    if !active {
        srv.prop.buf.clear();
        srv.prop.ops.clear();
    }
}

/// Moves the deletions the databases made by themselves (expiry, eviction) into the
/// pending list, as `DEL` or `UNLINK`.
pub fn drain_deletions(srv: &mut Server) {
    for i in 0..srv.keyspace.dbs.len() {
        if srv.keyspace.dbs[i].deletions.is_empty() {
            continue;
        }
        let dels = std::mem::take(&mut srv.keyspace.dbs[i].deletions);
        for (key, evicted) in &dels {
            let lazy = if *evicted {
                srv.config.lazyfree_lazy_eviction
            } else {
                srv.config.lazyfree_lazy_expire
            };
            let name: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
            srv.prop.push(i, &[name, key]);
        }
        // Give the allocation back for the next time.
        let mut dels = dels;
        dels.clear();
        if srv.keyspace.dbs[i].deletions.is_empty() {
            srv.keyspace.dbs[i].deletions = dels;
        }
    }
}

/// Called by `dispatch::call` before the handler.
#[inline]
pub fn before_call(srv: &mut Server) {
    if srv.prop.active {
        srv.prop.begin();
    }
}

/// Called by `dispatch::call` after the handler: queues the command (or its rewritten
/// form) when it changed the dataset, and flushes at the top level.
pub fn after_call(
    srv: &mut Server,
    db: usize,
    argv: &[&[u8]],
    spec: &CommandSpec,
    changed: bool,
    nested: bool,
) {
    drain_deletions(srv);
    let p = &mut srv.prop;
    if !p.prevent && (changed || p.force) && spec.name != "exec" {
        if p.has_rewrite {
            let rw = std::mem::take(&mut p.rewrite);
            p.push_encoded(db, &rw);
            p.rewrite = rw;
            p.rewrite.clear();
        } else {
            p.push(db, argv);
        }
    }
    p.begin();
    if !nested {
        let arbitrary = matches!(spec.name.as_str(), "randomkey" | "scan");
        flush(srv, !arbitrary);
    }
}

/// Sends the pending operations to the sinks; with `transaction`, more than one is
/// wrapped in MULTI ... EXEC.
pub fn flush(srv: &mut Server, transaction: bool) {
    drain_deletions(srv);
    let n = srv.prop.ops.len();
    if n == 0 {
        return;
    }
    let buf = std::mem::take(&mut srv.prop.buf);
    let ops = std::mem::take(&mut srv.prop.ops);
    let wrap = transaction && n > 1;
    if wrap {
        emit(srv, ops[0].0, b"*1\r\n$5\r\nMULTI\r\n");
    }
    for &(db, s, e) in &ops {
        emit(srv, db, &buf[s..e]);
    }
    if wrap {
        emit(srv, ops[n - 1].0, b"*1\r\n$4\r\nEXEC\r\n");
    }
    let (mut buf, mut ops) = (buf, ops);
    buf.clear();
    ops.clear();
    srv.prop.buf = buf;
    srv.prop.ops = ops;
}

/// Flushes deletions made outside a command (active expiry, eviction): each one on
/// its own, never in a transaction (Redis's propagate_no_multi).
pub fn flush_no_multi(srv: &mut Server) {
    if srv.prop.active {
        flush(srv, false);
    }
}

/// One operation to every sink.
fn emit(srv: &mut Server, db: usize, cmd: &[u8]) {
    crate::aof::feed(srv, db, cmd);
    crate::replication::feed(srv, db, cmd);
}

impl Ctx<'_> {
    /// Propagates this command as `argv` instead of its own arguments (Redis's
    /// rewriteClientCommandVector), if it changes the dataset.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        let p = &mut self.srv.prop;
        if !p.active {
            return;
        }
        p.rewrite.clear();
        encode_command(&mut p.rewrite, argv);
        p.has_rewrite = true;
    }

    /// True when propagation is on (to skip building rewritten forms otherwise).
    #[inline]
    pub fn propagating(&self) -> bool {
        self.srv.prop.active
    }

    /// Queues `argv` for database `db` now, after what is already pending (Redis's
    /// alsoPropagate).
    pub fn also_propagate(&mut self, db: usize, argv: &[&[u8]]) {
        if !self.srv.prop.active {
            return;
        }
        drain_deletions(self.srv);
        self.srv.prop.push(db, argv);
    }

    /// This command is not propagated itself (what it queued with
    /// [`also_propagate`](Self::also_propagate) still is).
    pub fn prevent_propagation(&mut self) {
        self.srv.prop.prevent = true;
    }

    /// This command is propagated even if it changed nothing (FLUSHALL, FLUSHDB).
    pub fn force_propagation(&mut self) {
        self.srv.prop.force = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_resp_arrays() {
        let mut v = Vec::new();
        encode_command(&mut v, &[b"SET", b"k", b""]);
        assert_eq!(v, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}
