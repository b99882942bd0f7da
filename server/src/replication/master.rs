//! The master side: REPLCONF, SYNC / PSYNC, full syncs from a forked child, the
//! replicas' acknowledgements (WAIT, min-replicas-to-write) and the replication
//! cron (PINGs, keep-alive newlines, timeouts, the backlog's TTL).
//!
//! Every byte for a replica goes through its connection's `Outbox`, in order: the
//! `+FULLRESYNC` line, the RDB payload (`$<len>\r\n` + file for a disk sync, or
//! `$EOF:<mark>\r\n` + RDB + mark for a diskless one, forwarded from the child's
//! pipe by a thread), then the stream fed meanwhile (held in `Replica::buffered`).
//! After a diskless transfer the stream starts only on the replica's first ACK, as
//! Redis does: the mark must end one of the replica's reads.

use super::{ClientRepl, Replica, ReplicaState, Waiter};
use crate::client::Outbox;
use crate::dispatch::{errors, CmdResult, Ctx};
use crate::log::{log, Level};
use crate::state::Server;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A diskless transfer under way: the child writes the RDB into a pipe, a thread
/// forwards it to the targets' outboxes.
pub struct SocketTransfer {
    pub pid: libc::pid_t,
    pub targets: Vec<(u64, Arc<Outbox>)>,
    pub mark: String,
    /// The forwarding thread reached the pipe's end.
    pub eof: bool,
    /// The child was reaped: whether it succeeded.
    pub child_ok: Option<bool>,
}

fn repl_conf<'a>(ctx: &'a mut Ctx) -> &'a mut ClientRepl {
    ctx.client.repl.get_or_insert_with(Default::default)
}

/// REPLCONF option value ...
pub fn replconf(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc().is_multiple_of(2) {
        return Err(errors::SYNTAX.into());
    }
    let mut j = 1;
    while j < ctx.argc() {
        let opt = ctx.argv[j].to_ascii_lowercase();
        let val = ctx.argv[j + 1];
        match opt.as_slice() {
            b"listening-port" => {
                let p = ctx.arg_i64(j + 1)?;
                repl_conf(ctx).listening_port = p as u16;
            }
            b"ip-address" => {
                if val.len() >= 256 {
                    return Err(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        val.len()
                    )
                    .into());
                }
                let ip = String::from_utf8_lossy(val).into_owned();
                repl_conf(ctx).ip = Some(ip);
            }
            b"capa" => {
                if val.eq_ignore_ascii_case(b"eof") {
                    repl_conf(ctx).capa_eof = true;
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    repl_conf(ctx).capa_psync2 = true;
                }
            }
            b"ack" => {
                // Only replicas ack, and nobody gets a reply.
                if !ctx.client.repl.as_ref().is_some_and(|r| r.is_replica) {
                    return Ok(());
                }
                let Some(off) = redis_formats::num::parse_i64(val) else {
                    return Ok(());
                };
                let id = ctx.client.id;
                ack(ctx.srv, id, off, ctx.now_ms);
                return Ok(());
            }
            b"getack" => {
                if ctx.srv.repl.master.is_some() {
                    super::replica::request_ack(ctx.srv);
                }
                return Ok(());
            }
            b"rdb-only" => {
                let v = ctx.arg_i64(j + 1)?;
                if v != 0 && v != 1 {
                    return Err("ERR value is out of range, value must between 0 and 1".into());
                }
                repl_conf(ctx).rdb_only = v == 1;
            }
            b"rdb-filter-only" => {
                let Some(filters) = redis_formats::request::split_args(val) else {
                    return Err("ERR Missing rdb-filter-only values".into());
                };
                for f in &filters {
                    if !f.eq_ignore_ascii_case(b"functions") {
                        return Err(format!(
                            "ERR Unsupported rdb-filter-only option: {}",
                            String::from_utf8_lossy(f)
                        )
                        .into());
                    }
                }
                // Only functions are kept (this server's RDBs hold none yet): no data.
                repl_conf(ctx).rdb_exclude_data = true;
            }
            _ => {
                return Err(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(ctx.argv[j])
                )
                .into());
            }
        }
        j += 2;
    }
    ctx.out.ok();
    Ok(())
}

/// A replica's REPLCONF ACK.
pub fn ack(srv: &mut Server, id: u64, off: i64, now_ms: i64) {
    let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.id == id) else {
        return;
    };
    if off > r.ack_off {
        r.ack_off = off;
    }
    r.ack_time_s = now_ms / 1000;
    if r.wait_first_ack && r.state == ReplicaState::Online {
        r.wait_first_ack = false;
        let held = std::mem::take(&mut r.buffered);
        if !held.is_empty() && !r.rdb_only {
            r.outbox.send(&held);
        }
    }
    refresh_good_replicas(srv);
    wake_waiters(srv);
}

/// Counts the replicas that acknowledged at least `off`.
fn acks_at(srv: &Server, off: i64) -> usize {
    srv.repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::Online && r.ack_off >= off)
        .count()
}

/// Answers the WAITs that have enough acknowledgements.
fn wake_waiters(srv: &mut Server) {
    if srv.repl.waiters.is_empty() {
        return;
    }
    let waiters = std::mem::take(&mut srv.repl.waiters);
    let mut keep = Vec::with_capacity(waiters.len());
    for w in waiters {
        let n = acks_at(srv, w.woff);
        w.acked.store(n, Ordering::Release);
        if n >= w.numreplicas {
            crate::blocking::unblock_with_reply(srv, w.id, |out| out.int(n as i64));
        } else {
            keep.push(w);
        }
    }
    // WAITs added meanwhile (none: this runs under the lock) stay.
    keep.append(&mut srv.repl.waiters);
    srv.repl.waiters = keep;
}

/// The blocked part of WAIT: on timeout it answers the count reached.
struct WaitOp {
    acked: Arc<AtomicUsize>,
}

impl crate::blocking::BlockedOp for WaitOp {
    fn serve(
        &mut self,
        _: &mut Server,
        _: usize,
        _: &[u8],
        _: &mut redis_formats::ReplyBuf,
        _: i64,
    ) -> crate::blocking::Served {
        crate::blocking::Served::NotReady
    }

    fn timeout_reply(&self, out: &mut redis_formats::ReplyBuf) {
        out.int(self.acked.load(Ordering::Acquire) as i64);
    }
}

/// WAIT numreplicas timeout
pub fn wait(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.repl.master.is_some() {
        return Err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.".into());
    }
    let num = ctx.arg_i64(1)?;
    let timeout = redis_formats::num::parse_i64(ctx.argv[2])
        .ok_or("ERR timeout is not an integer or out of range")?;
    if timeout < 0 {
        return Err("ERR timeout is negative".into());
    }
    let woff = ctx.client.woff;
    let n = acks_at(ctx.srv, woff);
    if n as i64 >= num || ctx.client.in_exec || ctx.client.deny_blocking {
        ctx.out.int(n as i64);
        return Ok(());
    }
    let deadline = if timeout > 0 { ctx.now_ms + timeout } else { 0 };
    let acked = Arc::new(AtomicUsize::new(n));
    crate::blocking::block(
        ctx,
        &[],
        deadline,
        Box::new(WaitOp {
            acked: acked.clone(),
        }),
    );
    ctx.srv.repl.waiters.push(Waiter {
        id: ctx.client.id,
        woff,
        numreplicas: num.max(0) as usize,
        acked,
    });
    request_acks(ctx.srv);
    Ok(())
}

/// Sends REPLCONF GETACK * to the replicas, through the stream.
pub fn request_acks(srv: &mut Server) {
    if srv.repl.master.is_some() || srv.repl.replicas.is_empty() {
        return;
    }
    super::feed_raw(srv, b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
}

/// Recounts the replicas whose lag is within min-replicas-max-lag.
pub fn refresh_good_replicas(srv: &mut Server) {
    let now_s = crate::state::now_ms() / 1000;
    let max_lag = srv.config.min_replicas_max_lag as i64;
    srv.repl.good_replicas = srv
        .repl
        .replicas
        .iter()
        .filter(|r| r.state == ReplicaState::Online && now_s - r.ack_time_s <= max_lag)
        .count();
}

fn replica_name(ctx: &Ctx) -> String {
    let port = ctx.client.repl.as_ref().map_or(0, |r| r.listening_port);
    let ip = ctx
        .client
        .repl
        .as_ref()
        .and_then(|r| r.ip.clone())
        .unwrap_or_else(|| peer_ip(ctx.client));
    format!("{ip}:{port}")
}

fn peer_ip(c: &crate::client::Client) -> String {
    match &c.peer {
        crate::client::Peer::Tcp { addr, .. } => addr.ip().to_string(),
        crate::client::Peer::Unix { path } => path.clone(),
    }
}

/// SYNC, and PSYNC replid offset.
pub fn sync(ctx: &mut Ctx) -> CmdResult {
    let psync = ctx.arg_is(0, "psync");
    if ctx.client.repl.as_ref().is_some_and(|r| r.is_replica) {
        return Ok(());
    }
    // PSYNC replid offset FAILOVER: our master hands over to us.
    if psync && ctx.argc() > 3 && ctx.arg_is(3, "failover") {
        log(
            Level::Warning,
            &format!(
                "Failover request received for replid {}.",
                String::from_utf8_lossy(ctx.argv[1])
            ),
        );
        if ctx.srv.repl.master.is_none() {
            return Err("ERR PSYNC FAILOVER can't be sent to a master.".into());
        }
        if ctx.argv[1] != ctx.srv.repl.replid.as_bytes() {
            return Err("ERR PSYNC FAILOVER replid must match my replid.".into());
        }
        super::replica::unset_master(ctx.srv);
        let who = crate::cmd::client::info_line(ctx.client, ctx.now_ms, None);
        log(
            Level::Notice,
            &format!("MASTER MODE enabled (failover request from '{who}')"),
        );
    }
    if ctx.srv.repl.failover.is_some() {
        return Err("NOMASTERLINK Can't SYNC while failing over".into());
    }
    if let Some(m) = &ctx.srv.repl.master {
        if m.state != super::LinkState::Connected {
            return Err("NOMASTERLINK Can't SYNC while not connected with my master".into());
        }
    }
    let filtered = ctx.client.repl.as_ref().is_some_and(|r| r.rdb_exclude_data);
    let eof = ctx.client.repl.as_ref().is_some_and(|r| r.capa_eof);
    if filtered && !eof {
        return Err("ERR Filtered replica requires EOF capability".into());
    }
    let name = replica_name(ctx);
    log(
        Level::Notice,
        &format!("Replica {name} asks for synchronization"),
    );
    if psync {
        let off = ctx.arg_i64(2)?;
        if try_partial(ctx, off, &name) {
            ctx.srv.repl.sync_partial_ok += 1;
            return Ok(());
        }
        if ctx.argv[1].first() != Some(&b'?') {
            ctx.srv.repl.sync_partial_err += 1;
        }
    }
    ctx.srv.repl.sync_full += 1;
    let conf = repl_conf(ctx).clone();
    let now = ctx.now_ms;
    let rep = new_replica(ctx, &conf, ReplicaState::WaitBgsaveStart, !psync);
    ctx.srv.repl.replicas.push(rep);
    mark_replica(ctx);
    if ctx.srv.repl.replicas.len() == 1 && ctx.srv.repl.backlog.is_none() {
        ctx.srv.repl.change_id();
        ctx.srv.repl.clear_id2();
        super::create_backlog(ctx.srv);
        log(
            Level::Notice,
            &format!(
                "Replication backlog created, my new replication IDs are '{}' and '{}'",
                ctx.srv.repl.replid, ctx.srv.repl.replid2
            ),
        );
    }
    let diskless = ctx.srv.config.repl_diskless_sync && conf.capa_eof;
    if crate::bgsave::has_active_child(ctx.srv) {
        log(Level::Notice, "Waiting for next BGSAVE for SYNC");
    } else if diskless && ctx.srv.config.repl_diskless_sync_delay > 0 {
        log(Level::Notice, "Delay next BGSAVE for diskless SYNC");
    } else {
        start_pending_syncs(ctx.srv, now, true);
    }
    Ok(())
}

fn new_replica(ctx: &Ctx, conf: &ClientRepl, state: ReplicaState, pre_psync: bool) -> Replica {
    let tls = matches!(ctx.client.peer, crate::client::Peer::Tcp { tls: true, .. });
    Replica {
        id: ctx.client.id,
        outbox: ctx.client.outbox.clone(),
        ip: conf.ip.clone().unwrap_or_else(|| peer_ip(ctx.client)),
        port: conf.listening_port,
        state,
        ack_off: 0,
        ack_time_s: ctx.now_ms / 1000,
        capa_eof: conf.capa_eof && !pre_psync,
        capa_psync2: conf.capa_psync2,
        pre_psync,
        tls,
        buffered: Vec::new(),
        wait_first_ack: false,
        since_ms: ctx.now_ms,
        rdb_only: conf.rdb_only,
        exclude_data: conf.rdb_exclude_data,
        limit_armed: false,
    }
}

/// The client is now a replica: its replies stop (Redis never answers replicas).
fn mark_replica(ctx: &mut Ctx) {
    repl_conf(ctx).is_replica = true;
    ctx.client.reply_mode = crate::client::ReplyMode::Off;
}

/// Redis's masterTryPartialResynchronization.
fn try_partial(ctx: &mut Ctx, off: i64, name: &str) -> bool {
    let id = ctx.argv[1];
    let r = &ctx.srv.repl;
    let same = id == r.replid.as_bytes();
    let old = id == r.replid2.as_bytes() && off <= r.second_offset;
    if !same && !old {
        if id != b"?" {
            log(
                Level::Notice,
                &format!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{}', my replication IDs are '{}' and '{}')",
                    String::from_utf8_lossy(id),
                    r.replid,
                    r.replid2
                ),
            );
        } else {
            log(
                Level::Notice,
                &format!("Full resync requested by replica {name}"),
            );
        }
        return false;
    }
    let Some(data) = r.backlog.as_ref().and_then(|b| b.copy_from(off)) else {
        log(
            Level::Notice,
            &format!("Unable to partial resync with replica {name} for lack of backlog (Replica request was: {off})."),
        );
        return false;
    };
    let conf = repl_conf(ctx).clone();
    let rep = new_replica(ctx, &conf, ReplicaState::Online, false);
    let mut head = if conf.capa_psync2 {
        format!("+CONTINUE {}\r\n", ctx.srv.repl.replid).into_bytes()
    } else {
        b"+CONTINUE\r\n".to_vec()
    };
    head.extend_from_slice(&data);
    rep.outbox.send(&head);
    ctx.srv.repl.replicas.push(rep);
    mark_replica(ctx);
    log(
        Level::Notice,
        &format!(
            "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {off}.",
            data.len()
        ),
    );
    refresh_good_replicas(ctx.srv);
    true
}

/// Starts the child for the replicas waiting for a full sync, when none runs and
/// (diskless) the delay has passed. `now_ok`: called by SYNC itself (no delay).
pub fn start_pending_syncs(srv: &mut Server, now_ms: i64, now_ok: bool) {
    if crate::bgsave::has_active_child(srv) {
        return;
    }
    let first = srv
        .repl
        .replicas
        .iter()
        .find(|r| r.state == ReplicaState::WaitBgsaveStart)
        .map(|r| r.exclude_data);
    let Some(exclude) = first else {
        return;
    };
    // One child serves the replicas that want the same snapshot.
    let waiting: Vec<usize> = (0..srv.repl.replicas.len())
        .filter(|&i| {
            let r = &srv.repl.replicas[i];
            r.state == ReplicaState::WaitBgsaveStart && r.exclude_data == exclude
        })
        .collect();
    let diskless = (srv.config.repl_diskless_sync || exclude)
        && waiting.iter().all(|&i| {
            let r = &srv.repl.replicas[i];
            r.capa_eof && !r.tls
        });
    if diskless && !now_ok {
        let oldest = waiting
            .iter()
            .map(|&i| srv.repl.replicas[i].since_ms)
            .min()
            .unwrap_or(now_ms);
        let max = srv.config.repl_diskless_sync_max_replicas as usize;
        let delay = srv.config.repl_diskless_sync_delay as i64 * 1000;
        if now_ms - oldest < delay && !(max > 0 && waiting.len() >= max) {
            return;
        }
    }
    // What the snapshot holds starts here: the replicas get the stream from now.
    let head = format!("+FULLRESYNC {} {}\r\n", srv.repl.replid, srv.repl.offset);
    for &i in &waiting {
        let r = &mut srv.repl.replicas[i];
        r.state = ReplicaState::WaitBgsaveEnd;
        r.buffered.clear();
        if !r.pre_psync {
            r.outbox.send(head.as_bytes());
        }
    }
    // The replicas start from db 0: the next command must be preceded by a SELECT.
    srv.repl.seldb = None;
    let started = if diskless {
        log(
            Level::Notice,
            "Starting BGSAVE for SYNC with target: replicas sockets",
        );
        start_socket_child(srv, &waiting, now_ms, !exclude)
    } else {
        log(Level::Notice, "Starting BGSAVE for SYNC with target: disk");
        let ok = crate::bgsave::start(srv, now_ms).is_ok();
        srv.repl.disk_child_for_repl = ok;
        ok
    };
    if !started {
        log(Level::Warning, "BGSAVE for replication failed");
        for &i in &waiting {
            srv.repl.replicas[i].outbox.kill();
        }
    }
}

/// Forks the child that writes the RDB into a pipe, and the thread that forwards
/// it to the target replicas.
fn start_socket_child(srv: &mut Server, targets: &[usize], now_ms: i64, data: bool) -> bool {
    let mut fds = [0i32; 2];
    // SAFETY: a plain pipe(2) into a local array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return false;
    }
    let (rfd, wfd) = (fds[0], fds[1]);
    let before = std::time::Instant::now();
    // SAFETY: as BGSAVE's fork (see bgsave.rs): the child only reads its copy of the
    // state, writes into the pipe and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        crate::log::set_role(b'C');
        let _ = crate::oom::apply(&srv.config, crate::oom::BACKGROUND_CHILD);
        // SAFETY: the child's own copies of the pipe's ends.
        unsafe { libc::close(rfd) };
        let f = unsafe { std::fs::File::from_raw_fd(wfd) };
        let w = std::io::BufWriter::with_capacity(1 << 16, f);
        let code = match crate::rdb::write_snapshot_filtered(srv, w, now_ms, false, data) {
            Ok(_) => 0,
            Err(_) => 1,
        };
        // SAFETY: leaves without the parent's destructors.
        unsafe { libc::_exit(code) }
    }
    // SAFETY: the parent's copy of the write end is not used.
    unsafe { libc::close(wfd) };
    if pid < 0 {
        // SAFETY: our read end, unused.
        unsafe { libc::close(rfd) };
        return false;
    }
    srv.rdb_saves += 1;
    let fork_us = before.elapsed().as_micros() as u64;
    crate::bgsave::child_started(srv, crate::bgsave::ChildKind::Rdb, pid, now_ms, fork_us);
    log(
        Level::Notice,
        &format!("Background RDB transfer started by pid {pid}"),
    );
    let mark = super::random_id();
    let mut outs = Vec::new();
    for &i in targets {
        let r = &srv.repl.replicas[i];
        r.outbox.send(format!("$EOF:{mark}\r\n").as_bytes());
        outs.push((r.id, r.outbox.clone()));
    }
    srv.repl.socket_child = Some(SocketTransfer {
        pid,
        targets: outs.clone(),
        mark,
        eof: false,
        child_ok: None,
    });
    std::thread::spawn(move || {
        // SAFETY: the read end belongs to this thread from now on.
        let mut f = unsafe { std::fs::File::from_raw_fd(rfd) };
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for (_, o) in &outs {
                        if !o.is_killed() {
                            o.send(&buf[..n]);
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if let Some(shared) = crate::state::SHARED.get() {
            let mut st = shared.state.lock();
            if let Some(t) = st.repl.socket_child.as_mut() {
                if t.pid == pid {
                    t.eof = true;
                }
            }
            finish_socket_transfer(&mut st);
        }
    });
    true
}

/// The RDB child ended (from `bgsave::check_child`). True when it was a diskless
/// transfer (then it is not counted as a save).
pub fn rdb_child_done(srv: &mut Server, pid: libc::pid_t, ok: bool) -> bool {
    if let Some(t) = srv.repl.socket_child.as_mut() {
        if t.pid == pid {
            t.child_ok = Some(ok);
            if ok {
                log(
                    Level::Notice,
                    "Background RDB transfer terminated with success",
                );
            } else {
                log(Level::Warning, "Background transfer error");
            }
            finish_socket_transfer(srv);
            return true;
        }
    }
    false
}

/// Once the child is reaped and its pipe drained: the mark to each target, which
/// goes online (its stream waits for its first ACK); on failure they are dropped.
fn finish_socket_transfer(srv: &mut Server) {
    let done = srv
        .repl
        .socket_child
        .as_ref()
        .is_some_and(|t| t.eof && t.child_ok.is_some());
    if !done {
        return;
    }
    let t = srv.repl.socket_child.take().expect("checked");
    let ok = t.child_ok == Some(true);
    let now_s = crate::state::now_ms() / 1000;
    for (id, outbox) in &t.targets {
        let Some(r) = srv.repl.replicas.iter_mut().find(|r| r.id == *id) else {
            continue;
        };
        if r.state != ReplicaState::WaitBgsaveEnd {
            continue;
        }
        if ok {
            outbox.send(t.mark.as_bytes());
            r.state = ReplicaState::Online;
            r.wait_first_ack = true;
            r.ack_time_s = now_s;
            log(
                Level::Notice,
                &format!("Synchronization with replica {}:{} succeeded", r.ip, r.port),
            );
        } else {
            outbox.kill();
        }
    }
    refresh_good_replicas(srv);
}

/// A disk BGSAVE ended: the replicas waiting for it get the file, then the stream
/// held for them.
pub fn disk_bgsave_done(srv: &mut Server, ok: bool) {
    srv.repl.disk_child_for_repl = false;
    let waiting: Vec<usize> = (0..srv.repl.replicas.len())
        .filter(|&i| srv.repl.replicas[i].state == ReplicaState::WaitBgsaveEnd)
        .collect();
    if waiting.is_empty() {
        return;
    }
    let data = if ok {
        std::fs::read(crate::rdb::rdb_path(srv)).ok()
    } else {
        None
    };
    let now_s = crate::state::now_ms() / 1000;
    for i in waiting {
        let r = &mut srv.repl.replicas[i];
        match &data {
            Some(d) => {
                let mut payload = format!("${}\r\n", d.len()).into_bytes();
                payload.extend_from_slice(d);
                if !r.rdb_only {
                    payload.extend_from_slice(&r.buffered);
                }
                r.buffered = Vec::new();
                r.outbox.send(&payload);
                r.state = ReplicaState::Online;
                r.ack_time_s = now_s;
                log(
                    Level::Notice,
                    &format!("Synchronization with replica {}:{} succeeded", r.ip, r.port),
                );
            }
            None => {
                log(
                    Level::Warning,
                    "SYNC failed. BGSAVE child returned an error",
                );
                r.outbox.kill();
            }
        }
    }
    refresh_good_replicas(srv);
}

/// The RDB child was killed (FLUSHALL, shutdown): the replicas waiting for it are
/// dropped, as their transfer cannot complete.
pub fn rdb_child_killed(srv: &mut Server) {
    if let Some(t) = srv.repl.socket_child.take() {
        for (_, o) in &t.targets {
            o.kill();
        }
    }
    if srv.repl.disk_child_for_repl {
        disk_bgsave_done(srv, false);
    }
}

/// Closes every replica's connection (they reconnect and learn our new history).
pub fn disconnect_replicas(srv: &mut Server) {
    for r in &srv.repl.replicas {
        r.outbox.kill();
    }
}

/// The replication cron: called every tick; the once-a-second work runs when the
/// second changes.
pub fn cron(srv: &mut Server, now_ms: i64) {
    shutdown_cron(srv, now_ms);
    update_failover(srv, now_ms);
    if srv.repl.master.is_some() {
        super::expire_replica_keys(srv, now_ms);
    }
    start_pending_syncs(srv, now_ms, false);
    let now_s = now_ms / 1000;
    if now_s == srv.repl.last_cron_s {
        return;
    }
    srv.repl.last_cron_s = now_s;
    srv.repl.cron_loops += 1;
    let period = srv.config.repl_ping_replica_period.max(1) as u64;
    if srv.repl.master.is_none()
        && !srv.repl.replicas.is_empty()
        && srv.repl.cron_loops.is_multiple_of(period)
    {
        super::feed_raw(srv, b"*1\r\n$4\r\nPING\r\n");
    }
    let socket = srv.repl.socket_child.is_some();
    let timeout = srv.config.repl_timeout as i64;
    for r in &srv.repl.replicas {
        let presync = r.state == ReplicaState::WaitBgsaveStart
            || (r.state == ReplicaState::WaitBgsaveEnd && !socket);
        if presync {
            r.outbox.send(b"\n");
        }
        if r.state == ReplicaState::Online && !r.rdb_only && now_s - r.ack_time_s > timeout {
            log(
                Level::Warning,
                &format!(
                    "Disconnecting timedout replica (streaming sync): {}:{}",
                    r.ip, r.port
                ),
            );
            r.outbox.kill();
        }
    }
    let ttl = srv.config.repl_backlog_ttl;
    if srv.repl.master.is_none()
        && srv.repl.replicas.is_empty()
        && srv.repl.backlog.is_some()
        && ttl > 0
        && now_s - srv.repl.no_replicas_since_s > ttl
    {
        srv.repl.change_id();
        srv.repl.clear_id2();
        super::free_backlog(srv);
        log(
            Level::Notice,
            &format!("Replication backlog freed after {ttl} seconds without connected replicas."),
        );
    }
    refresh_good_replicas(srv);
    wake_waiters(srv);
}

/// ROLE
pub fn role(ctx: &mut Ctx) -> CmdResult {
    let out = &mut *ctx.out;
    let r = &ctx.srv.repl;
    match &r.master {
        None => {
            out.array(3);
            out.bulk(b"master");
            out.int(r.offset);
            let online: Vec<&Replica> = r
                .replicas
                .iter()
                .filter(|r| r.state == ReplicaState::Online)
                .collect();
            out.array(online.len());
            for rep in online {
                out.array(3);
                out.bulk(rep.ip.as_bytes());
                out.bulk(rep.port.to_string().as_bytes());
                out.bulk(rep.ack_off.to_string().as_bytes());
            }
        }
        Some(m) => {
            out.array(5);
            out.bulk(b"slave");
            out.bulk(m.host.as_bytes());
            out.int(m.port as i64);
            out.bulk(m.state.role_name().as_bytes());
            out.int(if m.client_id.is_some() {
                m.applied_off
            } else {
                -1
            });
        }
    }
    Ok(())
}

/// A shutdown waiting for the replicas to acknowledge everything (Redis 7.0's
/// shutdown-timeout): writes are paused meanwhile.
pub struct ShutdownWait {
    pub flags: crate::startup::ShutdownFlags,
    pub deadline_ms: i64,
    /// SHUTDOWN callers blocked until it ends.
    pub clients: Vec<u64>,
    /// We paused writes (a CLIENT PAUSE already in force is left alone).
    pub paused: bool,
}

/// Redis's isReadyToShutdown: every replica acknowledged the whole stream.
fn ready_to_shutdown(srv: &Server) -> bool {
    srv.repl
        .replicas
        .iter()
        .all(|r| r.ack_off == srv.repl.offset)
}

/// Starts waiting for lagging replicas before a shutdown (unless NOW, no
/// shutdown-timeout, or nobody lags). True while a wait is under way: the caller
/// does not shut down now.
pub fn begin_shutdown_wait(
    srv: &mut Server,
    flags: crate::startup::ShutdownFlags,
    now_ms: i64,
) -> bool {
    if srv.repl.shutdown.is_some() {
        return true;
    }
    if flags.now || srv.config.shutdown_timeout == 0 || ready_to_shutdown(srv) {
        return false;
    }
    let paused = srv.pause.is_none();
    if paused {
        request_acks(srv);
        srv.pause = Some((crate::state::PauseKind::Write, i64::MAX));
    }
    srv.repl.shutdown = Some(ShutdownWait {
        flags,
        deadline_ms: now_ms + srv.config.shutdown_timeout as i64 * 1000,
        clients: Vec::new(),
        paused,
    });
    log(Level::Notice, "Waiting for replicas before shutting down.");
    true
}

/// The blocked part of SHUTDOWN: answered only if the shutdown fails or is aborted.
struct ShutdownOp;

impl crate::blocking::BlockedOp for ShutdownOp {
    fn serve(
        &mut self,
        _: &mut Server,
        _: usize,
        _: &[u8],
        _: &mut redis_formats::ReplyBuf,
        _: i64,
    ) -> crate::blocking::Served {
        crate::blocking::Served::NotReady
    }

    fn timeout_reply(&self, out: &mut redis_formats::ReplyBuf) {
        out.error("ERR Errors trying to SHUTDOWN. Check logs.");
    }
}

/// Blocks the SHUTDOWN caller until the wait ends.
pub fn block_on_shutdown(ctx: &mut Ctx) {
    crate::blocking::block(ctx, &[], 0, Box::new(ShutdownOp));
    let id = ctx.client.id;
    if let Some(w) = ctx.srv.repl.shutdown.as_mut() {
        w.clients.push(id);
    }
}

/// Ends a wait that did not shut down: the SHUTDOWN callers get an error, writes
/// resume.
fn end_shutdown_wait(srv: &mut Server, w: ShutdownWait) {
    for id in w.clients {
        crate::blocking::unblock_with_reply(srv, id, |out| {
            out.error("ERR Errors trying to SHUTDOWN. Check logs.")
        });
    }
    if w.paused {
        srv.pause = None;
        if let Some(shared) = crate::state::SHARED.get() {
            shared.unpause.notify_waiters();
        }
    }
}

/// SHUTDOWN ABORT of a wait: true if one was under way.
pub fn cancel_shutdown_wait(srv: &mut Server) -> bool {
    match srv.repl.shutdown.take() {
        Some(w) => {
            end_shutdown_wait(srv, w);
            true
        }
        None => false,
    }
}

/// The cron's part: the shutdown goes on once the replicas caught up or the
/// timeout passed.
fn shutdown_cron(srv: &mut Server, now_ms: i64) {
    let Some(w) = &srv.repl.shutdown else {
        return;
    };
    if now_ms < w.deadline_ms && !ready_to_shutdown(srv) {
        return;
    }
    let w = srv.repl.shutdown.take().expect("checked");
    // Exits the process, unless the final save failed.
    crate::startup::shutdown(srv, w.flags);
    end_shutdown_wait(srv, w);
}

/// Redis's finishShutdown report on the replicas.
pub fn log_replicas_at_shutdown(srv: &Server) {
    let r = &srv.repl;
    if r.replicas.is_empty() {
        return;
    }
    let now_s = crate::state::now_ms() / 1000;
    let mut lagging = 0;
    for rep in &r.replicas {
        if rep.ack_off != r.offset {
            lagging += 1;
            let (lag, state) = match rep.state {
                ReplicaState::Online => (now_s - rep.ack_time_s, "online"),
                _ => (0, "wait_bgsave"),
            };
            log(
                Level::Warning,
                &format!(
                    "Lagging replica {}:{} reported offset {} behind master, lag={lag}, state={state}.",
                    rep.ip,
                    rep.port,
                    r.offset - rep.ack_off
                ),
            );
        }
    }
    log(
        Level::Notice,
        &format!(
            "{} of {} replicas are in sync when shutting down.",
            r.replicas.len() - lagging,
            r.replicas.len()
        ),
    );
}

/// Best-effort write of what is queued for the (plain TCP) replicas, right before
/// the process exits (Redis's flushSlavesOutputBuffers).
pub fn flush_replicas_at_exit(srv: &Server) {
    for r in &srv.repl.replicas {
        // Not while its connection is half-way through writing earlier bytes.
        if r.tls
            || r.state != ReplicaState::Online
            || r.wait_first_ack
            || r.outbox.inflight.load(Ordering::Acquire) != 0
        {
            continue;
        }
        let Some(c) = srv.clients.iter().find(|c| c.id == r.id) else {
            continue;
        };
        let pending = r.outbox.take_pending();
        let mut off = 0;
        while off < pending.len() {
            // SAFETY: writes from our buffer to the replica's socket, which stays
            // open until the process exits right after this.
            let n = unsafe {
                libc::write(
                    c.fd as i32,
                    pending[off..].as_ptr().cast(),
                    pending.len() - off,
                )
            };
            if n <= 0 {
                break;
            }
            off += n as usize;
        }
    }
}

/// A FAILOVER under way (Redis's failover_state and target).
pub struct Failover {
    /// Waiting for the target to catch up (false: we already follow it).
    pub waiting: bool,
    pub target: Option<(String, u16)>,
    /// Unix ms it gives up (0: never), and whether it then fails over anyway.
    pub end_ms: i64,
    pub force: bool,
    /// We paused writes (a CLIENT PAUSE already in force is left alone).
    pub paused: bool,
}

/// INFO master_failover_state.
pub fn failover_state_name(srv: &Server) -> &'static str {
    match &srv.repl.failover {
        None => "no-failover",
        Some(f) if f.waiting => "waiting-for-sync",
        Some(_) => "failover-in-progress",
    }
}

fn find_replica<'a>(srv: &'a Server, host: &str, port: u16) -> Option<&'a Replica> {
    srv.repl
        .replicas
        .iter()
        .find(|r| r.ip.eq_ignore_ascii_case(host) && r.port == port)
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]
pub fn failover(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() == 2 && ctx.arg_is(1, "abort") {
        if ctx.srv.repl.failover.is_none() {
            return Err("ERR No failover in progress.".into());
        }
        abort_failover(ctx.srv, "Failover manually aborted");
        ctx.out.ok();
        return Ok(());
    }
    let (mut timeout, mut force, mut target): (i64, bool, Option<(String, i64)>) = (0, false, None);
    let mut j = 1;
    while j < ctx.argc() {
        if ctx.arg_is(j, "timeout") && j + 1 < ctx.argc() && timeout == 0 {
            timeout = ctx.arg_i64(j + 1)?;
            if timeout <= 0 {
                return Err("ERR FAILOVER timeout must be greater than 0".into());
            }
            j += 2;
        } else if ctx.arg_is(j, "to") && j + 2 < ctx.argc() && target.is_none() {
            let port = ctx.arg_i64(j + 2)?;
            target = Some((String::from_utf8_lossy(ctx.argv[j + 1]).into_owned(), port));
            j += 3;
        } else if ctx.arg_is(j, "force") && !force {
            force = true;
            j += 1;
        } else {
            return Err(errors::SYNTAX.into());
        }
    }
    if ctx.srv.repl.failover.is_some() {
        return Err("ERR FAILOVER already in progress.".into());
    }
    if ctx.srv.repl.master.is_some() {
        return Err("ERR FAILOVER is not valid when server is a replica.".into());
    }
    if ctx.srv.repl.replicas.is_empty() {
        return Err("ERR FAILOVER requires connected replicas.".into());
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.".into(),
        );
    }
    let target = match target {
        Some((host, port)) => {
            let port = u16::try_from(port).unwrap_or(0);
            let Some(r) = find_replica(ctx.srv, &host, port) else {
                return Err("ERR FAILOVER target HOST and PORT is not a replica.".into());
            };
            if r.state != ReplicaState::Online {
                return Err("ERR FAILOVER target replica is not online.".into());
            }
            log(
                Level::Notice,
                &format!("FAILOVER requested to {host}:{port}."),
            );
            Some((host, port))
        }
        None => {
            log(Level::Notice, "FAILOVER requested to any replica.");
            None
        }
    };
    let paused = ctx.srv.pause.is_none();
    if paused {
        ctx.srv.pause = Some((crate::state::PauseKind::Write, i64::MAX));
    }
    ctx.srv.repl.failover = Some(Failover {
        waiting: true,
        target,
        end_ms: if timeout > 0 { ctx.now_ms + timeout } else { 0 },
        force,
        paused,
    });
    request_acks(ctx.srv);
    ctx.out.ok();
    Ok(())
}

/// The failover ended (either way): writes resume.
pub fn clear_failover(srv: &mut Server) {
    if let Some(f) = srv.repl.failover.take() {
        if f.paused {
            srv.pause = None;
            if let Some(shared) = crate::state::SHARED.get() {
                shared.unpause.notify_waiters();
            }
        }
    }
}

/// Redis's abortFailover.
pub fn abort_failover(srv: &mut Server, why: &str) {
    let Some(f) = &srv.repl.failover else {
        return;
    };
    match &f.target {
        Some((h, p)) => log(
            Level::Notice,
            &format!("FAILOVER to {h}:{p} aborted: {why}"),
        ),
        None => log(
            Level::Notice,
            &format!("FAILOVER to any replica aborted: {why}"),
        ),
    }
    if !f.waiting {
        super::replica::unset_master(srv);
    }
    clear_failover(srv);
}

/// Redis's updateFailoverStatus: once the target (or any replica) acknowledged
/// everything, we become its replica and PSYNC ... FAILOVER hands it the role.
fn update_failover(srv: &mut Server, now_ms: i64) {
    let Some(f) = &srv.repl.failover else {
        return;
    };
    if !f.waiting {
        return;
    }
    if f.end_ms != 0 && f.end_ms <= now_ms {
        if f.force {
            let (h, p) = f.target.clone().expect("FORCE needs a target");
            log(
                Level::Notice,
                &format!("FAILOVER to {h}:{p} time out exceeded, failing over."),
            );
            start_failover(srv, h, p);
        } else {
            abort_failover(srv, "Replica never caught up before timeout");
        }
        return;
    }
    let off = srv.repl.offset;
    let found = match &f.target {
        Some((h, p)) => find_replica(srv, h, *p)
            .filter(|r| r.ack_off == off)
            .map(|r| (r.ip.clone(), r.port)),
        None => srv
            .repl
            .replicas
            .iter()
            .find(|r| r.ack_off == off)
            .map(|r| (r.ip.clone(), r.port)),
    };
    if let Some((h, p)) = found {
        log(
            Level::Notice,
            &format!("Failover target {h}:{p} is synced, failing over."),
        );
        start_failover(srv, h, p);
    }
}

fn start_failover(srv: &mut Server, host: String, port: u16) {
    if let Some(f) = srv.repl.failover.as_mut() {
        f.waiting = false;
        f.target = Some((host.clone(), port));
    }
    super::replica::set_master(srv, host, port);
}
