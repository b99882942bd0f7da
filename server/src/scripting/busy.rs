//! Busy scripts: past `busy-reply-threshold` (lua-time-limit) a running script
//! answers the other clients itself, as Redis's processEventsWhileBlocked does.
//!
//! The script runs on a connection task under the state lock, and with the default
//! single-threaded runtime no other task can run until it returns. So the Lua count
//! hook (every 100,000 instructions) does the serving: past the threshold it polls
//! the sockets of the other clients (their raw fds, from the client registry, which
//! the script's thread may use since it holds the lock), reads the commands that
//! arrived and answers them directly on the socket: `-BUSY` for most, SCRIPT KILL and
//! FUNCTION KILL (which mark the script killed, or answer UNKILLABLE once it wrote),
//! and the commands Redis allows while busy (SHUTDOWN, AUTH, HELLO, MULTI...) run
//! through the dispatcher. Only clients whose connection stands at a command boundary
//! with nothing left to write are read (`Outbox::partial`, pending output), so the
//! socket stays framed; a command left incomplete when the script ends is handed back
//! to its connection (`Outbox::reinject`).

use super::{Run, RUN};
use crate::client::Client;
use bytes::BytesMut;
use mlua::ffi::*;
use redis_commands::CommandFlags;
use redis_formats::{Batch, ParseLimits, ReplyBuf, RequestParser};
use std::collections::HashMap;
use std::ffi::c_int;

pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Per-script state of the busy period.
#[derive(Default)]
pub struct BusyState {
    /// The threshold passed (the warning was logged).
    pub busy: bool,
    /// Bytes of incomplete commands read from clients, by client id.
    leftovers: HashMap<u64, (usize, Vec<u8>)>,
}

/// The count hook.
pub unsafe extern "C-unwind" fn hook(l: *mut lua_State, _ar: *mut lua_Debug) {
    let run = RUN.with(|r| r.get());
    if run.is_null() {
        return;
    }
    let killed = check(&mut *run);
    if killed {
        // Every line from now on fails again, so pcall cannot keep the script alive.
        lua_sethook(l, Some(hook), LUA_MASKLINE, 0);
        super::push_error_table(l, b"Script killed by user with SCRIPT KILL...");
        lua_error(l);
    }
}

/// Serves other clients if the script is past the threshold; true once killed.
fn check(run: &mut Run) -> bool {
    if run.flags & super::run_flags::KILLED != 0 {
        return true;
    }
    let elapsed = run.start.elapsed().as_millis() as i64;
    // SAFETY: the script's thread holds the state lock (see the module doc).
    let srv = unsafe { &mut *run.srv };
    let threshold = srv.config.busy_reply_threshold;
    if threshold <= 0 || elapsed < threshold {
        return false;
    }
    if !run.busy.busy {
        run.busy.busy = true;
        crate::log::log(
            crate::log::Level::Warning,
            &format!(
                "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                if run.eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
                // SAFETY: the name outlives the run.
                String::from_utf8_lossy(unsafe { &*run.name })
            ),
        );
    }
    serve_clients(run);
    run.flags & super::run_flags::KILLED != 0
}

fn serve_clients(run: &mut Run) {
    // SAFETY: as in `check`.
    let srv = unsafe { &mut *run.srv };
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut slots: Vec<usize> = Vec::new();
    for c in srv.clients.iter() {
        let o = &c.outbox;
        // A TLS client's socket carries records only its connection task can decrypt:
        // it waits for the script to end.
        if c.fd < 0
            || matches!(c.peer, crate::client::Peer::Tcp { tls: true, .. })
            || o.is_killed()
            || o.is_blocked_or_paused()
            || o.output_bytes() != 0
            || o.partial.load(std::sync::atomic::Ordering::Acquire)
        {
            continue;
        }
        fds.push(libc::pollfd {
            fd: c.fd as c_int,
            events: libc::POLLIN,
            revents: 0,
        });
        slots.push(c.slot);
    }
    if fds.is_empty() {
        return;
    }
    // SAFETY: a valid array of pollfd of the length given.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    if n <= 0 {
        return;
    }
    for (pfd, slot) in fds.iter().zip(slots) {
        if pfd.revents == 0 {
            continue;
        }
        serve_one(run, slot, pfd.fd);
    }
}

fn serve_one(run: &mut Run, slot: usize, fd: c_int) {
    // SAFETY: as in `check`.
    let srv = unsafe { &mut *run.srv };
    let Some(client) = srv.clients.get_mut(slot) else {
        return;
    };
    let id = client.id;
    let mut buf = BytesMut::new();
    if let Some((s, left)) = run.busy.leftovers.remove(&id) {
        if s == slot {
            buf.extend_from_slice(&left);
        }
    }
    let mut chunk = [0u8; 16 * 1024];
    // SAFETY: reading into a local buffer of the size given.
    let n = unsafe { libc::read(fd, chunk.as_mut_ptr() as *mut libc::c_void, chunk.len()) };
    if n == 0 {
        client.outbox.kill();
        return;
    }
    if n < 0 {
        if !buf.is_empty() {
            run.busy.leftovers.insert(id, (slot, buf.to_vec()));
        }
        return;
    }
    buf.extend_from_slice(&chunk[..n as usize]);
    let mut parser = RequestParser::new();
    let mut batch = Batch::new();
    let limits = ParseLimits {
        max_bulk_len: srv.config.proto_max_bulk_len,
        authenticated: true,
    };
    loop {
        match parser.parse_next(&mut buf, &limits, &mut batch) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                client.outbox.kill();
                return;
            }
        }
    }
    let mut client = srv.clients.take(slot);
    let mut out = ReplyBuf::new();
    out.proto = client.resp;
    for i in 0..batch.len() {
        let argv: Vec<&[u8]> = batch.args(&buf, i).collect();
        answer(run, &mut client, &argv, &mut out);
    }
    let consumed = batch.consumed();
    if consumed < buf.len() {
        run.busy
            .leftovers
            .insert(id, (slot, buf[consumed..].to_vec()));
    }
    let srv = unsafe { &mut *run.srv };
    srv.clients.put(client);
    write_all(fd, &out.buf, srv, slot);
}

/// Answers one command that arrived while the script is busy.
fn answer(run: &mut Run, client: &mut Box<Client>, argv: &[&[u8]], out: &mut ReplyBuf) {
    // SAFETY: as in `check`.
    let srv = unsafe { &mut *run.srv };
    let spec = redis_commands::table().lookup(argv);
    let allowed = spec.is_some_and(|s| s.has_flag(CommandFlags::ALLOW_BUSY));
    let busy_err = if run.eval { BUSY_EVAL } else { BUSY_FUNCTION };
    match spec.map(|s| s.name.as_str()) {
        Some(kill @ ("script|kill" | "function|kill")) if argv.len() == 2 => {
            // Redis's scriptKill, in its order.
            let by_script = kill == "script|kill";
            let refusal = if run.flags & super::run_flags::WRITE_DIRTY != 0 {
                Some("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
            } else if by_script && !run.eval {
                Some(BUSY_FUNCTION)
            } else if !by_script && run.eval {
                Some(BUSY_EVAL)
            } else {
                None
            };
            match refusal {
                Some(e) => {
                    crate::dispatch::count_error(srv, e);
                    out.error(e);
                }
                None => {
                    run.flags |= super::run_flags::KILLED;
                    out.ok();
                }
            }
        }
        _ if allowed => {
            let mut clock = std::time::Instant::now();
            let saved = srv.pubsub.current;
            let shared = unsafe { &*run.shared };
            crate::dispatch::execute(shared, srv, client, argv, out, &mut clock);
            srv.pubsub.current = saved;
        }
        _ => {
            if let Some(m) = client.multi.as_mut() {
                m.aborted = true;
            }
            if let Some(s) = spec {
                srv.command_stats[s.id].rejected_calls += 1;
            }
            crate::dispatch::count_error(srv, busy_err);
            out.error(busy_err);
        }
    }
}

/// Writes a reply straight to the socket; what does not fit now goes to the outbox.
fn write_all(fd: c_int, mut bytes: &[u8], srv: &mut crate::state::Server, slot: usize) {
    while !bytes.is_empty() {
        // SAFETY: writing from a live slice of the length given.
        let n = unsafe { libc::write(fd, bytes.as_ptr() as *const libc::c_void, bytes.len()) };
        if n <= 0 {
            break;
        }
        srv.stats.net_output_bytes += n as u64;
        bytes = &bytes[n as usize..];
    }
    if !bytes.is_empty() {
        if let Some(c) = srv.clients.get_mut(slot) {
            c.outbox.send(bytes);
        }
    }
}

/// After the script: incomplete commands go back to their connections.
pub fn finish(run: &mut Run) {
    // SAFETY: as in `check`.
    let srv = unsafe { &mut *run.srv };
    for (id, (slot, bytes)) in run.busy.leftovers.drain() {
        if let Some(c) = srv.clients.get_mut(slot) {
            if c.id == id {
                c.outbox.reinject(&bytes);
            }
        }
    }
}
