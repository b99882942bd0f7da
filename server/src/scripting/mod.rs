//! Lua scripting: the interpreter (Lua 5.1 from `mlua`'s vendored build, driven through
//! its raw C API), the script cache, the sandbox, the `redis` library and the
//! conversions between Redis replies and Lua values, as Redis 7.0 does them.
//!
//! The engine lives in `Server::lua`. A script runs under the state lock the calling
//! command holds: the EVAL handler takes the engine out of the server, records where
//! the server, the caller and the script's fake client are in a thread-local
//! [`Run`], and calls the function; `redis.call` finds them there and runs the command
//! through `dispatch::call_from_script`, then parses the fake client's reply bytes back
//! into Lua values.
//!
//! Errors raised towards Lua are tables (`{err = "CODE message"}`), as in Redis, so the
//! functions the `redis` library exposes are raw C functions: they raise with
//! `lua_error` (a `longjmp` in this build) only after every Rust value of theirs has
//! been dropped.
//!
//! The sandbox: Redis 7.0 patches its Lua with read-only tables. Ours is the stock
//! 5.1, so the globals the scripts see are a proxy table (the thread's globals) whose
//! `__index` reads the real globals and raises "Script attempted to access nonexistent
//! global variable" for a missing name, and whose `__newindex` raises "Attempt to
//! modify a readonly table"; the library tables (`redis`, `string`, `cjson`, ...) are
//! proxies of the same kind. `rawset`, `setmetatable` and `getmetatable` are wrapped so
//! they cannot reach behind a proxy.

mod bit;
mod busy;
pub mod functions;

pub use busy::{BUSY_EVAL, BUSY_FUNCTION};
mod cjson;
mod cmsgpack;
mod lstruct;

use crate::client::{Client, Peer};
use crate::state::{Server, Shared};
use mlua::ffi::*;
use redis_formats::{ProtoVersion, ReplyBuf};
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::time::Instant;

/// Shebang flags (`#!lua flags=...`) and the compat mode of a script without one.
pub mod flags {
    pub const NO_WRITES: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const ALLOW_STALE: u32 = 1 << 2;
    pub const NO_CLUSTER: u32 = 1 << 3;
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// No shebang: EVAL's historical behaviour.
    pub const EVAL_COMPAT: u32 = 1 << 5;
}

/// Run-time flags of the script being run (Redis's run_ctx flags).
mod run_flags {
    pub const READ_ONLY: u32 = 1 << 0;
    pub const ALLOW_OOM: u32 = 1 << 1;
    pub const WRITE_DIRTY: u32 = 1 << 2;
    pub const KILLED: u32 = 1 << 3;
}

/// A cached script.
pub struct Script {
    /// The compiled chunk, in the registry.
    func_ref: c_int,
    /// The body as sent.
    pub body: Vec<u8>,
    /// Shebang flags.
    pub flags: u32,
}

/// The Lua interpreter and the script cache.
pub struct Engine {
    l: *mut lua_State,
    /// Scripts by lowercase hex SHA1 of their body.
    scripts: HashMap<[u8; 40], Script>,
    /// Bytes of the cached bodies and keys (INFO used_memory_scripts_eval).
    pub scripts_mem: usize,
    /// The client scripts run their commands as.
    fake: Box<Client>,
    /// Registry references: the error handler, the real globals.
    handler_ref: c_int,
    real_globals_ref: c_int,
    /// Script runs since the last incremental GC step.
    gc_count: u32,
    /// The fake client's reply buffer, kept between runs.
    reply: ReplyBuf,
}

// SAFETY: the interpreter is only used while the server lock is held (the engine is
// reachable only through `Server`), so it is never used by two threads at once, and
// the lock orders every use; nothing in it is tied to a thread.
unsafe impl Send for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the state was created by `Engine::new` and is closed once.
        unsafe { lua_close(self.l) };
    }
}

/// What the `redis` library reaches while a script runs.
struct Run {
    shared: *const Shared,
    srv: *mut Server,
    fake: *mut Client,
    /// The client running the script (ACL LOG's client-info).
    caller: *const Client,
    /// The fake client's reply buffer.
    out: ReplyBuf,
    flags: u32,
    /// Unix ms when the script started: the time commands in it see.
    snapshot_ms: i64,
    /// maxmemory was exceeded when the script started.
    oom_at_start: bool,
    /// Numbers formatted as arguments of `redis.call`.
    numbuf: Vec<u8>,
    /// When the script started, and its name for the logs and errors (the SHA, or
    /// the function's name: both outlive the run).
    start: Instant,
    name: *const [u8],
    /// EVAL (true) or FCALL (false): which KILL applies, which BUSY text.
    eval: bool,
    /// The caller's command (FUNCTION STATS shows it).
    argv: (*const &'static [u8], usize),
    /// Serving other clients once past busy-reply-threshold.
    busy: busy::BusyState,
}

thread_local! {
    static RUN: Cell<*mut Run> = const { Cell::new(std::ptr::null_mut()) };
}

/// The 48-bit linear congruential generator Redis gives `math.random` (lrand48's
/// constants), so a seeded sequence is the same as Redis's.
struct Rand48(Cell<u64>);
thread_local! {
    static RAND48: Rand48 = const { Rand48(Cell::new(0x1234_ABCD_330E)) };
}

fn lrand48() -> i32 {
    RAND48.with(|r| {
        let x = r.0.get().wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB) & 0xFFFF_FFFF_FFFF;
        r.0.set(x);
        (x >> 17) as i32
    })
}

fn srand48(seed: i32) {
    RAND48.with(|r| r.0.set((((seed as u32) as u64) << 16) | 0x330E));
}

/// Lowercase hex SHA1 of `data`.
pub fn sha1_hex(data: &[u8]) -> [u8; 40] {
    use sha1::{Digest, Sha1};
    let d = Sha1::digest(data);
    let mut out = [0u8; 40];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

// ---------------------------------------------------------------------------
// Small helpers over the C API.

#[inline]
unsafe fn push_bytes(l: *mut lua_State, b: &[u8]) {
    lua_pushlstring(l, b.as_ptr() as *const c_char, b.len());
}

#[inline]
unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p as *const u8, len))
    }
}

/// Pushes Redis's error table `{err = "CODE msg"}` for `msg` ("-CODE msg" keeps its
/// code, anything else gets ERR), as luaPushErrorBuff.
unsafe fn push_error_table(l: *mut lua_State, msg: &[u8]) {
    let mut s: Vec<u8> = Vec::with_capacity(msg.len() + 4);
    if let Some(rest) = msg.strip_prefix(b"-") {
        match rest.iter().position(|&c| c == b' ') {
            None => {
                s.extend_from_slice(b"ERR ");
                s.extend_from_slice(rest);
            }
            Some(sp) => {
                s.extend_from_slice(&rest[..sp]);
                s.push(b' ');
                s.extend_from_slice(trim_crlf(&rest[sp + 1..]));
            }
        }
    } else {
        s.extend_from_slice(b"ERR ");
        s.extend_from_slice(trim_crlf(msg));
    }
    lua_createtable(l, 0, 2);
    push_bytes(l, &s);
    lua_setfield(l, -2, c"err".as_ptr());
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// Raises the value on top of the stack. Callers hold no Rust value needing a drop.
unsafe fn raise(l: *mut lua_State) -> c_int {
    lua_error(l)
}

/// Raises Redis's error table for `msg`.
unsafe fn raise_error_table(l: *mut lua_State, msg: &str) -> c_int {
    push_error_table(l, msg.as_bytes());
    raise(l)
}

// ---------------------------------------------------------------------------
// The engine.

const ERR_HANDLER: &str = "local dbg = debug
return function(err)
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then
    i = dbg.getinfo(3, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
";

impl Engine {
    /// A fresh interpreter with Redis's libraries and sandbox.
    pub fn new() -> Box<Engine> {
        // SAFETY: plain use of the C API on a state this function owns.
        unsafe {
            let l = luaL_newstate();
            assert!(!l.is_null(), "Lua state allocation failed");
            for (name, open) in [
                (c"", luaopen_base as lua_CFunction),
                (c"table", luaopen_table),
                (c"string", luaopen_string),
                (c"math", luaopen_math),
                (c"debug", luaopen_debug),
            ] {
                lua_pushcfunction(l, open);
                lua_pushstring(l, name.as_ptr());
                lua_call(l, 1, 0);
            }
            bit::open(l);
            cjson::open(l);
            cmsgpack::open(l);
            lstruct::open(l);
            for name in [
                c"dofile",
                c"loadfile",
                c"print",
                c"setfenv",
                c"getfenv",
                c"newproxy",
            ] {
                lua_pushnil(l);
                lua_setfield(l, LUA_GLOBALSINDEX, name.as_ptr());
            }
            // math.random / randomseed on Redis's generator.
            lua_getfield(l, LUA_GLOBALSINDEX, c"math".as_ptr());
            lua_pushcfunction(l, math_random);
            lua_setfield(l, -2, c"random".as_ptr());
            lua_pushcfunction(l, math_randomseed);
            lua_setfield(l, -2, c"randomseed".as_ptr());
            lua_pop(l, 1);
            // The redis library.
            lua_createtable(l, 0, 32);
            let funcs: &[(&CStr, lua_CFunction)] = &[
                (c"call", redis_call),
                (c"pcall", redis_pcall),
                (c"log", redis_log),
                (c"setresp", redis_setresp),
                (c"sha1hex", redis_sha1hex),
                (c"error_reply", redis_error_reply),
                (c"status_reply", redis_status_reply),
                (c"set_repl", redis_set_repl),
                (c"replicate_commands", redis_replicate_commands),
                (c"breakpoint", redis_breakpoint),
                (c"debug", redis_debug),
                (c"acl_check_cmd", redis_acl_check_cmd),
            ];
            for (name, f) in funcs {
                lua_pushcfunction(l, *f);
                lua_setfield(l, -2, name.as_ptr());
            }
            set_log_and_version_fields(l);
            let nums: &[(&CStr, f64)] = &[
                (c"REPL_NONE", 0.0),
                (c"REPL_AOF", 1.0),
                (c"REPL_SLAVE", 2.0),
                (c"REPL_REPLICA", 2.0),
                (c"REPL_ALL", 3.0),
            ];
            for (name, v) in nums {
                lua_pushnumber(l, *v);
                lua_setfield(l, -2, name.as_ptr());
            }
            lua_setfield(l, LUA_GLOBALSINDEX, c"redis".as_ptr());
            // The error handler keeps `debug` in an upvalue; scripts lose it.
            let rc = luaL_loadbuffer(
                l,
                ERR_HANDLER.as_ptr() as *const c_char,
                ERR_HANDLER.len(),
                c"@err_handler_def".as_ptr(),
            );
            assert_eq!(rc, 0, "error handler compiles");
            lua_call(l, 0, 1);
            let handler_ref = luaL_ref(l, LUA_REGISTRYINDEX);
            lua_pushnil(l);
            lua_setfield(l, LUA_GLOBALSINDEX, c"debug".as_ptr());
            // pcall as Redis's (an error table's message becomes the error value).
            lua_pushcfunction(l, lua_pcall_wrapper);
            lua_setfield(l, LUA_GLOBALSINDEX, c"pcall".as_ptr());
            // Guards around the raw table functions.
            lua_getfield(l, LUA_GLOBALSINDEX, c"rawset".as_ptr());
            lua_pushcclosure(l, guarded_rawset, 1);
            lua_setfield(l, LUA_GLOBALSINDEX, c"rawset".as_ptr());
            lua_getfield(l, LUA_GLOBALSINDEX, c"setmetatable".as_ptr());
            lua_pushcclosure(l, guarded_setmetatable, 1);
            lua_setfield(l, LUA_GLOBALSINDEX, c"setmetatable".as_ptr());
            lua_getfield(l, LUA_GLOBALSINDEX, c"loadstring".as_ptr());
            lua_pushcclosure(l, guarded_loadstring, 1);
            lua_setfield(l, LUA_GLOBALSINDEX, c"loadstring".as_ptr());
            lua_getfield(l, LUA_GLOBALSINDEX, c"getmetatable".as_ptr());
            lua_pushcclosure(l, guarded_getmetatable, 1);
            lua_setfield(l, LUA_GLOBALSINDEX, c"getmetatable".as_ptr());
            // The registry's set of read-only tables (weak keys).
            lua_createtable(l, 0, 16);
            lua_createtable(l, 0, 1);
            lua_pushstring(l, c"k".as_ptr());
            lua_setfield(l, -2, c"__mode".as_ptr());
            lua_setmetatable(l, -2);
            lua_setfield(l, LUA_REGISTRYINDEX, PROTECTED.as_ptr());
            // Library tables become read-only proxies.
            for name in [
                c"redis",
                c"string",
                c"math",
                c"table",
                c"cjson",
                c"cmsgpack",
                c"struct",
                c"bit",
                c"coroutine",
            ] {
                lua_getfield(l, LUA_GLOBALSINDEX, name.as_ptr());
                if lua_istable(l, -1) != 0 {
                    make_proxy(l, false);
                    lua_setfield(l, LUA_GLOBALSINDEX, name.as_ptr());
                } else {
                    lua_pop(l, 1);
                }
            }
            // The globals proxy becomes the thread's globals.
            lua_pushvalue(l, LUA_GLOBALSINDEX);
            let real_globals_ref = luaL_ref(l, LUA_REGISTRYINDEX);
            lua_pushvalue(l, LUA_GLOBALSINDEX);
            make_proxy(l, true);
            lua_pushvalue(l, -1);
            lua_setfield(l, LUA_GLOBALSINDEX, c"_G".as_ptr());
            lua_replace(l, LUA_GLOBALSINDEX);

            let mut fake = Box::new(Client::new(
                0,
                Peer::Unix {
                    path: String::new(),
                },
                -1,
                0,
                true,
            ));
            fake.deny_blocking = true;
            fake.in_script = true;
            Box::new(Engine {
                l,
                scripts: HashMap::new(),
                scripts_mem: 0,
                fake,
                handler_ref,
                real_globals_ref,
                gc_count: 0,
                reply: ReplyBuf::new(),
            })
        }
    }

    /// The script with this SHA (any case), if cached.
    pub fn get(&self, sha: &[u8]) -> Option<&Script> {
        let key = lower_sha(sha)?;
        self.scripts.get(&key)
    }

    /// True if a script with this SHA is cached.
    pub fn exists(&self, sha: &[u8]) -> bool {
        self.get(sha).is_some()
    }

    /// Number of cached scripts.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// True if no script is cached.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Memory the interpreter uses (INFO used_memory_lua).
    pub fn memory(&self) -> usize {
        // SAFETY: a query on our own state.
        unsafe { lua_gc(self.l, LUA_GCCOUNT, 0) as usize * 1024 }
    }

    /// Compiles and caches `body` (already hashed to `sha`) unless cached; the error
    /// text (without the leading `-`) when its shebang or code is wrong.
    pub fn create(&mut self, sha: [u8; 40], body: &[u8]) -> Result<(), String> {
        if self.scripts.contains_key(&sha) {
            return Ok(());
        }
        let (flags, shebang_len) = parse_shebang(body)?;
        let code = &body[shebang_len..];
        // SAFETY: plain use of our own state.
        unsafe {
            let l = self.l;
            if luaL_loadbuffer(
                l,
                code.as_ptr() as *const c_char,
                code.len(),
                c"@user_script".as_ptr(),
            ) != 0
            {
                let msg = to_bytes(l, -1).unwrap_or(b"");
                let e = format!(
                    "ERR Error compiling script (new function): {}",
                    String::from_utf8_lossy(msg)
                );
                lua_pop(l, 1);
                return Err(e);
            }
            let func_ref = luaL_ref(l, LUA_REGISTRYINDEX);
            self.scripts_mem += 40 + body.len();
            self.scripts.insert(
                sha,
                Script {
                    func_ref,
                    body: body.to_vec(),
                    flags,
                },
            );
        }
        Ok(())
    }

    /// Drops every cached script and starts a new interpreter (SCRIPT FLUSH).
    pub fn reset(self: &mut Box<Engine>) {
        *self = Engine::new();
    }
}

/// Lowercase form of a 40-character SHA.
fn lower_sha(sha: &[u8]) -> Option<[u8; 40]> {
    let mut key = [0u8; 40];
    if sha.len() != 40 {
        return None;
    }
    for (k, c) in key.iter_mut().zip(sha) {
        *k = c.to_ascii_lowercase();
    }
    Some(key)
}

/// Parses a `#!lua ...` first line: the flags and the length to skip (the line feed
/// stays, so line numbers hold). No shebang: compat mode.
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let line = String::from_utf8_lossy(&body[..end]);
    let parts: Vec<&str> = line.split_ascii_whitespace().collect();
    if parts.is_empty() {
        return Err("ERR Invalid engine in script shebang".into());
    }
    if parts[0] != "#!lua" {
        return Err(format!(
            "ERR Unexpected engine in script shebang: {}",
            parts[0]
        ));
    }
    let mut f = 0;
    for p in &parts[1..] {
        if let Some(list) = p.strip_prefix("flags=") {
            if list.is_empty() {
                continue;
            }
            for name in list.split(',') {
                f |= match name {
                    "no-writes" => flags::NO_WRITES,
                    "allow-oom" => flags::ALLOW_OOM,
                    "allow-stale" => flags::ALLOW_STALE,
                    "no-cluster" => flags::NO_CLUSTER,
                    "allow-cross-slot-keys" => flags::ALLOW_CROSS_SLOT,
                    _ => return Err(format!("ERR Unexpected flag in script shebang: {name}")),
                };
            }
        } else {
            return Err(format!("ERR Unknown lua shebang option: {p}"));
        }
    }
    Ok((f, end))
}

/// For EVAL*/FCALL* of a script that declares its flags (a shebang, or a function):
/// whether it may write (no `no-writes` flag). `None` for other commands and for
/// scripts in compat mode or not known.
pub fn declared_writes(
    srv: &Server,
    spec: &redis_commands::CommandSpec,
    argv: &[&[u8]],
) -> Option<bool> {
    declared_flags(srv, spec, argv).map(|f| f & flags::NO_WRITES == 0)
}

/// The flags (`flags::*`) a script run by EVAL*/FCALL* declares, which replace the
/// command's own write / stale / deny-oom flags (Redis's scriptFlagsToCmdFlags).
/// `None` for other commands and for scripts in compat mode or not known.
pub fn declared_flags(
    srv: &Server,
    spec: &redis_commands::CommandSpec,
    argv: &[&[u8]],
) -> Option<u32> {
    let body = argv.get(1)?;
    let f = match spec.name.as_str() {
        "fcall" | "fcall_ro" => srv.functions.get(body)?.flags,
        "eval" | "eval_ro" => match srv.lua.as_ref().and_then(|e| e.get(&sha1_hex(body))) {
            Some(s) => s.flags,
            None => parse_shebang(body).ok()?.0,
        },
        "evalsha" | "evalsha_ro" => srv.lua.as_ref()?.get(body)?.flags,
        _ => return None,
    };
    if f & flags::EVAL_COMPAT != 0 {
        return None;
    }
    Some(f)
}

/// True if EVAL/EVALSHA of this script may not run over maxmemory: a shebang
/// script without `allow-oom` or `no-writes` (Redis's evalGetCommandFlags).
pub fn shebang_denies_oom(srv: &Server, by_sha: bool, argv: &[&[u8]]) -> bool {
    let Some(body) = argv.get(1) else {
        return false;
    };
    let cached = srv.lua.as_ref().and_then(|e| {
        if by_sha {
            e.get(body).map(|s| s.flags)
        } else {
            e.get(&sha1_hex(body)).map(|s| s.flags)
        }
    });
    let f = match cached {
        Some(f) => f,
        None if by_sha => return false,
        None => match parse_shebang(body) {
            Ok((f, _)) => f,
            Err(_) => return false,
        },
    };
    f & flags::EVAL_COMPAT == 0 && f & (flags::ALLOW_OOM | flags::NO_WRITES) == 0
}

/// Sets the `redis` table fields EVAL's and FUNCTION LOAD's environments share on the
/// table at the top of the stack: the LOG_* levels, REDIS_VERSION and REDIS_VERSION_NUM.
pub(crate) unsafe fn set_log_and_version_fields(l: *mut lua_State) {
    let nums: &[(&CStr, f64)] = &[
        (c"LOG_DEBUG", 0.0),
        (c"LOG_VERBOSE", 1.0),
        (c"LOG_NOTICE", 2.0),
        (c"LOG_WARNING", 3.0),
        (c"REDIS_VERSION_NUM", 0x0007_000f as f64),
    ];
    for (name, v) in nums {
        lua_pushnumber(l, *v);
        lua_setfield(l, -2, name.as_ptr());
    }
    lua_pushstring(l, c"7.0.15".as_ptr());
    lua_setfield(l, -2, c"REDIS_VERSION".as_ptr());
}

// ---------------------------------------------------------------------------
// The sandbox.

const PROTECTED: &CStr = c"__redis_readonly_tables";

/// Replaces the table on top of the stack by a read-only proxy of it. `globals`: a
/// missing name raises the nonexistent-global error.
unsafe fn make_proxy(l: *mut lua_State, globals: bool) {
    let real = lua_gettop(l);
    lua_createtable(l, 0, 0); // proxy
    lua_createtable(l, 0, 3); // its metatable
    if globals {
        lua_pushvalue(l, real);
        lua_pushcclosure(l, globals_index, 1);
    } else {
        lua_pushvalue(l, real);
    }
    lua_setfield(l, -2, c"__index".as_ptr());
    lua_pushcfunction(l, readonly_newindex);
    lua_setfield(l, -2, c"__newindex".as_ptr());
    // The metatable is read-only too (getmetatable hands out a proxy of it).
    mark_protected(l, -1);
    lua_setmetatable(l, -2);
    mark_protected(l, -1);
    lua_replace(l, real);
}

unsafe fn mark_protected(l: *mut lua_State, idx: c_int) {
    let idx = if idx < 0 {
        lua_gettop(l) + idx + 1
    } else {
        idx
    };
    lua_getfield(l, LUA_REGISTRYINDEX, PROTECTED.as_ptr());
    lua_pushvalue(l, idx);
    lua_pushboolean(l, 1);
    lua_rawset(l, -3);
    lua_pop(l, 1);
}

unsafe fn is_protected(l: *mut lua_State, idx: c_int) -> bool {
    if lua_istable(l, idx) == 0 {
        return false;
    }
    let idx = if idx < 0 {
        lua_gettop(l) + idx + 1
    } else {
        idx
    };
    lua_getfield(l, LUA_REGISTRYINDEX, PROTECTED.as_ptr());
    lua_pushvalue(l, idx);
    lua_rawget(l, -2);
    let r = lua_toboolean(l, -1) != 0;
    lua_pop(l, 2);
    r
}

/// `__index` of the globals proxy (upvalue 1: the real globals).
unsafe extern "C-unwind" fn globals_index(l: *mut lua_State) -> c_int {
    lua_pushvalue(l, 2);
    lua_rawget(l, lua_upvalueindex(1));
    if lua_isnil(l, -1) == 0 {
        return 1;
    }
    if lua_isstring(l, 2) == 0 {
        return luaL_error(
            l,
            c"Second argument to luaProtectedTableError must be a string or number".as_ptr(),
        );
    }
    luaL_error(
        l,
        c"Script attempted to access nonexistent global variable '%s'".as_ptr(),
        lua_tolstring(l, 2, std::ptr::null_mut()),
    )
}

/// `__newindex` of every proxy.
unsafe extern "C-unwind" fn readonly_newindex(l: *mut lua_State) -> c_int {
    luaL_error(l, c"Attempt to modify a readonly table".as_ptr())
}

unsafe fn readonly_error(l: *mut lua_State) -> c_int {
    lua_pushstring(l, c"Attempt to modify a readonly table".as_ptr());
    raise(l)
}

unsafe extern "C-unwind" fn guarded_rawset(l: *mut lua_State) -> c_int {
    if is_protected(l, 1) {
        return readonly_error(l);
    }
    lua_pushvalue(l, lua_upvalueindex(1));
    lua_insert(l, 1);
    lua_call(l, lua_gettop(l) - 1, LUA_MULTRET);
    lua_gettop(l)
}

unsafe extern "C-unwind" fn guarded_setmetatable(l: *mut lua_State) -> c_int {
    if is_protected(l, 1) {
        return readonly_error(l);
    }
    lua_pushvalue(l, lua_upvalueindex(1));
    lua_insert(l, 1);
    lua_call(l, lua_gettop(l) - 1, LUA_MULTRET);
    lua_gettop(l)
}

/// loadstring of precompiled code fails as in Redis, whose Lua parses every chunk
/// as text: nil and the parser's complaint about the escape byte.
unsafe extern "C-unwind" fn guarded_loadstring(l: *mut lua_State) -> c_int {
    let src = to_bytes(l, 1);
    if let Some(src) = src.filter(|s| s.first() == Some(&0x1b)) {
        let name = if lua_type(l, 2) == LUA_TSTRING {
            to_bytes(l, 2).unwrap_or(b"")
        } else {
            src
        };
        let mut msg = Vec::with_capacity(96);
        msg.extend_from_slice(b"[string \"");
        let end = name
            .iter()
            .position(|&c| c == 0 || c == b'\n')
            .unwrap_or(name.len());
        let max = 60 - 15;
        if end > max || end < name.len() && name[end] == b'\n' {
            msg.extend_from_slice(&name[..end.min(max)]);
            msg.extend_from_slice(b"...");
        } else {
            msg.extend_from_slice(&name[..end]);
        }
        msg.extend_from_slice(b"\"]:1: unexpected symbol near 'char(27)'");
        lua_pushnil(l);
        push_bytes(l, &msg);
        return 2;
    }
    lua_pushvalue(l, lua_upvalueindex(1));
    lua_insert(l, 1);
    lua_call(l, lua_gettop(l) - 1, LUA_MULTRET);
    lua_gettop(l)
}

/// getmetatable of a proxy gives a read-only proxy of its metatable.
unsafe extern "C-unwind" fn guarded_getmetatable(l: *mut lua_State) -> c_int {
    let protected = is_protected(l, 1);
    // Library tables have no metatable in Redis; the globals have one.
    if protected && lua_rawequal(l, 1, LUA_GLOBALSINDEX) == 0 {
        lua_pushnil(l);
        return 1;
    }
    lua_pushvalue(l, lua_upvalueindex(1));
    lua_insert(l, 1);
    lua_call(l, lua_gettop(l) - 1, LUA_MULTRET);
    if protected && lua_gettop(l) >= 1 && lua_istable(l, 1) != 0 {
        lua_settop(l, 1);
        // Cache one proxy per metatable, in the metatable's own registry slot.
        lua_pushvalue(l, 1);
        lua_rawget(l, LUA_REGISTRYINDEX);
        if lua_istable(l, -1) != 0 {
            return 1;
        }
        lua_pop(l, 1);
        lua_pushvalue(l, 1);
        lua_pushvalue(l, 1);
        make_proxy(l, false);
        lua_rawset(l, LUA_REGISTRYINDEX);
        lua_pushvalue(l, 1);
        lua_rawget(l, LUA_REGISTRYINDEX);
        return 1;
    }
    lua_gettop(l)
}

/// Redis's global `pcall`: an error table with an `err` string gives that string.
unsafe extern "C-unwind" fn lua_pcall_wrapper(l: *mut lua_State) -> c_int {
    let argc = lua_gettop(l);
    lua_pushboolean(l, 1);
    lua_insert(l, 1);
    if lua_pcall(l, argc - 1, LUA_MULTRET, 0) != 0 {
        lua_remove(l, 1);
        if lua_istable(l, -1) != 0 {
            lua_getfield(l, -1, c"err".as_ptr());
            if lua_isstring(l, -1) != 0 {
                lua_replace(l, -2);
            } else {
                lua_pop(l, 1);
            }
        }
        lua_pushboolean(l, 0);
        lua_insert(l, 1);
    }
    lua_gettop(l)
}

// ---------------------------------------------------------------------------
// math.random on Redis's generator.

unsafe extern "C-unwind" fn math_random(l: *mut lua_State) -> c_int {
    if RUN.with(|r| r.get()).is_null() {
        return luaL_error(
            l,
            c"math.random can only be called inside a script invocation".as_ptr(),
        );
    }
    const MAX: i32 = i32::MAX;
    let r = (lrand48() % MAX) as f64 / MAX as f64;
    match lua_gettop(l) {
        0 => lua_pushnumber(l, r),
        1 => {
            let u = luaL_checkinteger(l, 1) as c_int;
            if u < 1 {
                return luaL_argerror(l, 1, c"interval is empty".as_ptr());
            }
            lua_pushnumber(l, (r * u as f64).floor() + 1.0);
        }
        2 => {
            let lo = luaL_checkinteger(l, 1) as c_int;
            let u = luaL_checkinteger(l, 2) as c_int;
            if lo > u {
                return luaL_argerror(l, 2, c"interval is empty".as_ptr());
            }
            lua_pushnumber(l, (r * (u as f64 - lo as f64 + 1.0)).floor() + lo as f64);
        }
        _ => return luaL_error(l, c"wrong number of arguments".as_ptr()),
    }
    1
}

unsafe extern "C-unwind" fn math_randomseed(l: *mut lua_State) -> c_int {
    if RUN.with(|r| r.get()).is_null() {
        return luaL_error(
            l,
            c"math.randomseed can only be called inside a script invocation".as_ptr(),
        );
    }
    srand48(luaL_checkinteger(l, 1) as i32);
    0
}

// ---------------------------------------------------------------------------
// The redis library.

unsafe extern "C-unwind" fn redis_call(l: *mut lua_State) -> c_int {
    redis_generic(l, true)
}

unsafe extern "C-unwind" fn redis_pcall(l: *mut lua_State) -> c_int {
    redis_generic(l, false)
}

/// The outcome of a command called from a script.
enum CallOutcome {
    /// The reply (an error reply too) is on the stack.
    Pushed { is_error: bool },
    /// A check refused the command: this message becomes an error table.
    Refused(std::borrow::Cow<'static, str>),
    /// `redis.call`'s own arguments are wrong (counted when the script fails).
    ArgError(&'static str),
}

unsafe fn redis_generic(l: *mut lua_State, raise_error: bool) -> c_int {
    let run = RUN.with(|r| r.get());
    if run.is_null() {
        return raise_error_table(
            l,
            "redis.call/pcall can only be called inside a script invocation",
        );
    }
    let outcome = call_command(l, &mut *run);
    match outcome {
        CallOutcome::Pushed { is_error } => {
            if raise_error && is_error {
                return raise(l);
            }
            1
        }
        CallOutcome::ArgError(msg) => {
            push_error_table(l, msg.as_bytes());
            if raise_error {
                return raise(l);
            }
            1
        }
        CallOutcome::Refused(msg) => {
            push_error_table(l, msg.as_bytes());
            drop(msg);
            lua_pushboolean(l, 1);
            lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
            if raise_error {
                return raise(l);
            }
            1
        }
    }
}

/// Runs `redis.call`'s arguments (the Lua stack) as a command; pushes its reply.
unsafe fn call_command(l: *mut lua_State, run: &mut Run) -> CallOutcome {
    let argc = lua_gettop(l) as usize;
    if argc == 0 {
        return CallOutcome::ArgError(
            "Please specify at least one argument for this redis lib call",
        );
    }
    // Arguments are slices of the Lua strings on the stack (they stay there during
    // the call); numbers are formatted as %.17g into `numbuf`.
    run.numbuf.clear();
    let mut spans: [(usize, usize, bool); 16] = [(0, 0, false); 16];
    let mut spans_vec: Vec<(usize, usize, bool)> = Vec::new();
    for j in 1..=argc {
        let span = if lua_type(l, j as c_int) == LUA_TNUMBER {
            let n = lua_tonumber(l, j as c_int);
            let start = run.numbuf.len();
            format_g17(n, &mut run.numbuf);
            (start, run.numbuf.len() - start, true)
        } else {
            let mut len = 0usize;
            let p = lua_tolstring(l, j as c_int, &mut len);
            if p.is_null() {
                return CallOutcome::ArgError(
                    "Lua redis lib command arguments must be strings or integers",
                );
            }
            (p as usize, len, false)
        };
        if argc <= 16 {
            spans[j - 1] = span;
        } else {
            spans_vec.push(span);
        }
    }
    let spans: &[(usize, usize, bool)] = if argc <= 16 {
        &spans[..argc]
    } else {
        &spans_vec
    };
    let numbuf = std::mem::take(&mut run.numbuf);
    let slice = |&(p, len, num): &(usize, usize, bool)| -> &[u8] {
        if num {
            &numbuf[p..p + len]
        } else {
            std::slice::from_raw_parts(p as *const u8, len)
        }
    };
    let outcome = if argc <= 16 {
        let mut argv: [&[u8]; 16] = [&[]; 16];
        for (a, s) in argv.iter_mut().zip(spans) {
            *a = slice(s);
        }
        dispatch_from_script(l, run, &argv[..argc])
    } else {
        let argv: Vec<&[u8]> = spans.iter().map(slice).collect();
        dispatch_from_script(l, run, &argv)
    };
    run.numbuf = numbuf;
    outcome
}

unsafe fn dispatch_from_script(l: *mut lua_State, run: &mut Run, argv: &[&[u8]]) -> CallOutcome {
    let srv = &mut *run.srv;
    let fake = &mut *run.fake;
    let spec = match script_checks(run, argv) {
        Ok(spec) => spec,
        Err((spec, msg)) => {
            // Counted here, as Redis's afterErrorReply on the script's client; the
            // error table says so, so the script's error reply is not counted again.
            let coded = match msg.strip_prefix('-') {
                Some(m) => m.to_string(),
                None => format!("ERR {msg}"),
            };
            crate::dispatch::count_error(srv, &coded);
            if let Some(spec) = spec {
                srv.command_stats[spec.id].rejected_calls += 1;
            }
            return CallOutcome::Refused(msg);
        }
    };
    let is_write = spec.has_flag(redis_commands::CommandFlags::WRITE);
    if is_write {
        run.flags |= run_flags::WRITE_DIRTY;
    }
    run.out.buf.clear();
    run.out.proto = fake.resp;
    crate::dispatch::call_from_script(
        &*run.shared,
        srv,
        fake,
        argv,
        &mut run.out,
        spec,
        run.snapshot_ms,
    );
    let reply = std::mem::take(&mut run.out.buf);
    let is_error = reply.first() == Some(&b'-');
    lua_checkstack(l, 8);
    let mut pos = 0;
    push_reply(l, &reply, &mut pos, fake.resp == ProtoVersion::Resp3);
    run.out.buf = reply;
    CallOutcome::Pushed { is_error }
}

/// The checks Redis makes before a script's command runs (scriptCall), in its order.
type Refusal = (
    Option<&'static redis_commands::CommandSpec>,
    std::borrow::Cow<'static, str>,
);

unsafe fn script_checks(
    run: &mut Run,
    argv: &[&[u8]],
) -> Result<&'static redis_commands::CommandSpec, Refusal> {
    use redis_commands::CommandFlags;
    let srv = &mut *run.srv;
    let Some(spec) = crate::dispatch::script_lookup(srv, argv) else {
        return Err((None, "Unknown Redis command called from script".into()));
    };
    let refuse = |m: &'static str| Err((Some(spec), m.into()));
    if !spec.arity_ok(argv.len()) {
        return refuse("Wrong number of args calling Redis command from script");
    }
    if !srv.script_disable_deny && spec.has_flag(CommandFlags::NOSCRIPT) {
        return refuse("This Redis command is not allowed from script");
    }
    if crate::cmd::handler(spec).is_none() {
        return Err((None, "Unknown Redis command called from script".into()));
    }
    if !spec.has_flag(CommandFlags::STALE) && crate::replication::running_stale(srv) {
        return refuse("Can not execute the command on a stale replica");
    }
    let fake = &*run.fake;
    if !fake.user.unrestricted {
        if let Err(d) = fake.user.check(spec, argv) {
            let user = fake.user.clone();
            let ctx = crate::acl::LogContext::Lua;
            let now = run.snapshot_ms;
            crate::cmd::acl::log_denial(srv, &*run.caller, &user, now, d, ctx, spec, argv, false);
            return Err((
                Some(spec),
                format!("The user executing the script {}", d.script_text()).into(),
            ));
        }
    }
    let is_write = spec.has_flag(CommandFlags::WRITE);
    if run.flags & run_flags::READ_ONLY != 0 && (is_write || crate::dispatch::may_replicate(spec)) {
        return refuse("Write commands are not allowed from read-only scripts.");
    }
    if is_write
        && run.flags & run_flags::WRITE_DIRTY == 0
        && !(*run.caller).must_obey
        && crate::replication::read_only_replica(srv)
    {
        return Err((
            Some(spec),
            "-READONLY You can't write against a read only replica.".into(),
        ));
    }
    if is_write
        && run.flags & run_flags::WRITE_DIRTY == 0
        && !srv.last_bgsave_ok
        && crate::bgsave::writes_denied(srv)
    {
        return Err((Some(spec), format!("-{}", crate::bgsave::MISCONF).into()));
    }
    if run.flags & run_flags::ALLOW_OOM == 0
        && srv.config.maxmemory > 0
        && run.flags & run_flags::WRITE_DIRTY == 0
        && run.oom_at_start
        && spec.has_flag(CommandFlags::DENYOOM)
    {
        return Err((
            Some(spec),
            format!("-{}", crate::dispatch::errors::OOM).into(),
        ));
    }
    Ok(spec)
}

/// `%.17g`, as Redis formats numbers passed to commands.
fn format_g17(n: f64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 64];
    // SAFETY: snprintf into a local buffer of the size given.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut c_char,
            buf.len(),
            c"%.17g".as_ptr(),
            n,
        )
    };
    out.extend_from_slice(&buf[..(len.max(0) as usize).min(63)]);
}

fn read_line<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let start = *pos;
    let end = buf[start..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|i| start + i)
        .unwrap_or(buf.len());
    *pos = (end + 2).min(buf.len());
    &buf[start..end]
}

fn parse_int(s: &[u8]) -> i64 {
    redis_formats::num::parse_i64(s).unwrap_or(0)
}

/// Pushes one reply of `buf` at `pos` as a Lua value (Redis's redisProtocolToLuaType).
unsafe fn push_reply(l: *mut lua_State, buf: &[u8], pos: &mut usize, resp3: bool) {
    let _ = resp3;
    lua_checkstack(l, 4);
    if *pos >= buf.len() {
        lua_pushnil(l);
        return;
    }
    let t = buf[*pos];
    *pos += 1;
    match t {
        b'+' => {
            let s = read_line(buf, pos);
            lua_createtable(l, 0, 1);
            push_bytes(l, s);
            lua_setfield(l, -2, c"ok".as_ptr());
        }
        b'-' => {
            let s = read_line(buf, pos);
            let mut m = Vec::with_capacity(s.len() + 1);
            m.push(b'-');
            m.extend_from_slice(s);
            push_error_table(l, &m);
            drop(m);
            lua_pushboolean(l, 1);
            lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
        }
        b':' => {
            let n = parse_int(read_line(buf, pos));
            lua_pushnumber(l, n as f64);
        }
        b'$' => {
            let n = parse_int(read_line(buf, pos));
            if n < 0 {
                lua_pushboolean(l, 0);
            } else {
                let n = n as usize;
                let s = &buf[*pos..(*pos + n).min(buf.len())];
                push_bytes(l, s);
                *pos += n + 2;
            }
        }
        b'*' | b'>' => {
            let n = parse_int(read_line(buf, pos));
            if n < 0 {
                lua_pushboolean(l, 0);
                return;
            }
            lua_createtable(l, n.min(1024) as c_int, 0);
            for i in 0..n {
                push_reply(l, buf, pos, resp3);
                lua_rawseti(l, -2, i + 1);
            }
        }
        b'%' => {
            let n = parse_int(read_line(buf, pos));
            lua_createtable(l, 0, 1);
            lua_createtable(l, 0, n.min(1024) as c_int);
            for _ in 0..n {
                push_reply(l, buf, pos, resp3);
                push_reply(l, buf, pos, resp3);
                lua_settable(l, -3);
            }
            lua_setfield(l, -2, c"map".as_ptr());
        }
        b'~' => {
            let n = parse_int(read_line(buf, pos));
            lua_createtable(l, 0, 1);
            lua_createtable(l, 0, n.min(1024) as c_int);
            for _ in 0..n {
                push_reply(l, buf, pos, resp3);
                lua_pushboolean(l, 1);
                lua_settable(l, -3);
            }
            lua_setfield(l, -2, c"set".as_ptr());
        }
        b'_' => {
            read_line(buf, pos);
            lua_pushnil(l);
        }
        b'#' => {
            let s = read_line(buf, pos);
            lua_pushboolean(l, (s == b"t") as c_int);
        }
        b',' => {
            let s = read_line(buf, pos);
            let d = parse_double(s);
            lua_createtable(l, 0, 1);
            lua_pushnumber(l, d);
            lua_setfield(l, -2, c"double".as_ptr());
        }
        b'(' => {
            let s = read_line(buf, pos);
            lua_createtable(l, 0, 1);
            push_bytes(l, s);
            lua_setfield(l, -2, c"big_number".as_ptr());
        }
        b'=' => {
            let n = parse_int(read_line(buf, pos)) as usize;
            let s = &buf[*pos..(*pos + n).min(buf.len())];
            *pos += n + 2;
            lua_createtable(l, 0, 1);
            lua_createtable(l, 0, 2);
            push_bytes(l, s.get(4..).unwrap_or(b""));
            lua_setfield(l, -2, c"string".as_ptr());
            push_bytes(l, s.get(..3).unwrap_or(b""));
            lua_setfield(l, -2, c"format".as_ptr());
            lua_setfield(l, -2, c"verbatim_string".as_ptr());
        }
        b'|' => {
            // Attributes are skipped, the value after them is the reply.
            let n = parse_int(read_line(buf, pos));
            for _ in 0..2 * n {
                push_reply(l, buf, pos, resp3);
                lua_pop(l, 1);
            }
            push_reply(l, buf, pos, resp3);
        }
        _ => lua_pushnil(l),
    }
}

fn parse_double(s: &[u8]) -> f64 {
    match s {
        b"inf" => f64::INFINITY,
        b"-inf" => f64::NEG_INFINITY,
        _ => std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(f64::NAN),
    }
}

unsafe extern "C-unwind" fn redis_sha1hex(l: *mut lua_State) -> c_int {
    if lua_gettop(l) != 1 {
        return raise_error_table(l, "wrong number of arguments");
    }
    let hex = sha1_hex(to_bytes(l, 1).unwrap_or(b""));
    push_bytes(l, &hex);
    1
}

unsafe extern "C-unwind" fn redis_error_reply(l: *mut lua_State) -> c_int {
    if lua_gettop(l) != 1 || lua_type(l, -1) != LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return 1;
    }
    let s = to_bytes(l, -1).unwrap_or(b"");
    // The message ends at a NUL, as a C string.
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let mut m = Vec::with_capacity(s.len() + 1);
    if !s.starts_with(b"-") {
        m.push(b'-');
    }
    m.extend_from_slice(s);
    push_error_table(l, &m);
    1
}

unsafe extern "C-unwind" fn redis_status_reply(l: *mut lua_State) -> c_int {
    if lua_gettop(l) != 1 || lua_type(l, -1) != LUA_TSTRING {
        push_error_table(l, b"wrong number or type of arguments");
        return 1;
    }
    lua_createtable(l, 0, 1);
    lua_pushvalue(l, -2);
    lua_setfield(l, -2, c"ok".as_ptr());
    1
}

unsafe extern "C-unwind" fn redis_log(l: *mut lua_State) -> c_int {
    let argc = lua_gettop(l);
    if argc < 2 {
        return raise_error_table(l, "redis.log() requires two arguments or more.");
    }
    if lua_isnumber(l, 1) == 0 {
        return raise_error_table(l, "First argument must be a number (log level).");
    }
    let level = lua_tonumber(l, 1) as i64;
    if !(0..=3).contains(&level) {
        return raise_error_table(l, "Invalid debug level.");
    }
    let lvl = match level {
        0 => crate::log::Level::Debug,
        1 => crate::log::Level::Verbose,
        2 => crate::log::Level::Notice,
        _ => crate::log::Level::Warning,
    };
    if crate::log::enabled(lvl) {
        let mut msg = Vec::new();
        for j in 2..=argc {
            if let Some(s) = to_bytes(l, j) {
                if j != 2 {
                    msg.push(b' ');
                }
                msg.extend_from_slice(s);
            }
        }
        crate::log::log(lvl, &String::from_utf8_lossy(&msg));
    }
    0
}

unsafe extern "C-unwind" fn redis_setresp(l: *mut lua_State) -> c_int {
    let run = RUN.with(|r| r.get());
    if run.is_null() {
        return raise_error_table(
            l,
            "redis.setresp can only be called inside a script invocation",
        );
    }
    if lua_gettop(l) != 1 {
        return raise_error_table(l, "redis.setresp() requires one argument.");
    }
    let resp = lua_tonumber(l, 1) as i64;
    if resp != 2 && resp != 3 {
        return raise_error_table(l, "RESP version must be 2 or 3.");
    }
    (*(*run).fake).resp = if resp == 3 {
        ProtoVersion::Resp3
    } else {
        ProtoVersion::Resp2
    };
    0
}

unsafe extern "C-unwind" fn redis_set_repl(l: *mut lua_State) -> c_int {
    if RUN.with(|r| r.get()).is_null() {
        return raise_error_table(
            l,
            "redis.set_repl can only be called inside a script invocation",
        );
    }
    if lua_gettop(l) != 1 {
        return raise_error_table(l, "redis.set_repl() requires two arguments.");
    }
    let f = lua_tonumber(l, -1) as i64;
    if f & !3 != 0 {
        return raise_error_table(
            l,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
    }
    // Commands are propagated as they run (there is no replication or AOF yet): the
    // flags are accepted and have nothing to change.
    0
}

unsafe extern "C-unwind" fn redis_replicate_commands(l: *mut lua_State) -> c_int {
    lua_pushboolean(l, 1);
    1
}

unsafe extern "C-unwind" fn redis_breakpoint(l: *mut lua_State) -> c_int {
    // Only the debugger (SCRIPT DEBUG) stops at breakpoints.
    lua_pushboolean(l, 0);
    1
}

unsafe extern "C-unwind" fn redis_debug(_l: *mut lua_State) -> c_int {
    0
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(l: *mut lua_State) -> c_int {
    let run = RUN.with(|r| r.get());
    if run.is_null() {
        return raise_error_table(
            l,
            "redis.acl_check_cmd can only be called inside a script invocation",
        );
    }
    if lua_gettop(l) == 0 {
        return raise_error_table(
            l,
            "Please specify at least one argument for this redis lib call",
        );
    }
    let mut ok = true;
    let mut args: Vec<Vec<u8>> = Vec::new();
    for j in 1..=lua_gettop(l) {
        match to_bytes(l, j) {
            Some(s) => args.push(s.to_vec()),
            None => {
                ok = false;
                break;
            }
        }
    }
    let known = ok && {
        let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        crate::dispatch::script_lookup(&*(*run).srv, &argv).is_some()
    };
    if !ok {
        return raise_error_table(
            l,
            "Lua redis lib command arguments must be strings or integers",
        );
    }
    if !known {
        return raise_error_table(l, "Invalid command passed to redis.acl_check_cmd()");
    }
    let allowed = {
        let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let spec = crate::dispatch::script_lookup(&*(*run).srv, &argv);
        spec.is_some_and(|s| (*(*run).fake).user.check(s, &argv).is_ok())
    };
    lua_pushboolean(l, c_int::from(allowed));
    1
}

// ---------------------------------------------------------------------------
// Running a script.

/// What EVAL asks of [`run_script`].
pub struct Call<'a> {
    pub sha: [u8; 40],
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    /// EVAL_RO / EVALSHA_RO.
    pub ro: bool,
}

/// Runs a cached script for the command in `ctx`, writing its reply (or error) into
/// `ctx.out`. The engine was taken out of the server by the caller.
pub fn run_script(
    engine: &mut Engine,
    ctx: &mut crate::dispatch::Ctx,
    call: &Call,
) -> Result<(), String> {
    let script = engine.scripts.get(&call.sha).expect("script cached");
    let target = Target {
        func_ref: script.func_ref,
        flags: script.flags,
        name: &call.sha,
        keys: call.keys,
        args: call.args,
        ro: call.ro,
        eval: true,
    };
    run_target(engine, ctx, &target)
}

/// A compiled chunk (EVAL) or a library's function (FCALL) to run.
pub(crate) struct Target<'a> {
    pub func_ref: c_int,
    /// Shebang or function flags.
    pub flags: u32,
    /// The SHA or the function's name (in error texts and logs).
    pub name: &'a [u8],
    pub keys: &'a [&'a [u8]],
    pub args: &'a [&'a [u8]],
    /// EVAL_RO / EVALSHA_RO / FCALL_RO.
    pub ro: bool,
    /// EVAL: KEYS and ARGV are globals and the chunk takes no argument; a function
    /// gets them as its two arguments.
    pub eval: bool,
}

/// Runs `target` for the command in `ctx` (Redis's scriptPrepareForRun, then the
/// call), writing its reply (or error) into `ctx.out`.
pub(crate) fn run_target(
    engine: &mut Engine,
    ctx: &mut crate::dispatch::Ctx,
    target: &Target,
) -> Result<(), String> {
    let sflags = target.flags;
    let func_ref = target.func_ref;
    let compat = sflags & flags::EVAL_COMPAT != 0;
    let oom = ctx.srv.oom_before_command;
    if !compat {
        let obey = ctx.client.must_obey;
        if sflags & flags::ALLOW_STALE == 0 && crate::replication::running_stale(ctx.srv) {
            return Err("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.".into());
        }
        if sflags & flags::NO_WRITES == 0 {
            if !obey && crate::replication::read_only_replica(ctx.srv) {
                return Err(
                    "READONLY Can not run script with write flag on readonly replica".into(),
                );
            }
            if !ctx.srv.last_bgsave_ok && crate::bgsave::writes_denied(ctx.srv) {
                return Err("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into());
            }
            if target.ro {
                return Err(
                    "ERR Can not execute a script with write flag using *_ro command.".into(),
                );
            }
        }
        if oom
            && ctx.srv.config.maxmemory > 0
            && sflags & (flags::ALLOW_OOM | flags::NO_WRITES) == 0
        {
            return Err("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'".into());
        }
    }
    let mut rflags = 0;
    if target.ro || (!compat && sflags & flags::NO_WRITES != 0) {
        rflags |= run_flags::READ_ONLY;
    }
    if !compat && sflags & flags::ALLOW_OOM != 0 {
        rflags |= run_flags::ALLOW_OOM;
    }
    let fake: *mut Client = &mut *engine.fake;
    // SAFETY: the fake client is ours; nothing else holds it.
    unsafe {
        (*fake).db = ctx.client.db;
        (*fake).set_resp(ProtoVersion::Resp2);
        (*fake).authenticated = true;
        // The script's commands are checked against its caller's ACL user.
        (*fake).user = ctx.client.user.clone();
    }
    let mut run = Run {
        shared: ctx.shared,
        srv: ctx.srv,
        fake,
        caller: &*ctx.client,
        out: std::mem::take(&mut engine.reply),
        flags: rflags,
        snapshot_ms: ctx.now_ms,
        oom_at_start: oom,
        numbuf: Vec::new(),
        start: Instant::now(),
        name: target.name as *const [u8],
        eval: target.eval,
        argv: (ctx.argv.as_ptr().cast(), ctx.argv.len()),
        busy: busy::BusyState::default(),
    };
    let hooked = ctx.srv.config.busy_reply_threshold > 0;
    let l = engine.l;
    let status;
    // SAFETY: the state is ours; `run` outlives the call (RUN is cleared after it).
    unsafe {
        lua_checkstack(l, 8);
        lua_rawgeti(l, LUA_REGISTRYINDEX, engine.handler_ref as lua_Integer);
        if target.eval {
            lua_rawgeti(l, LUA_REGISTRYINDEX, engine.real_globals_ref as lua_Integer);
            push_array(l, target.keys);
            lua_setfield(l, -2, c"KEYS".as_ptr());
            push_array(l, target.args);
            lua_setfield(l, -2, c"ARGV".as_ptr());
            lua_pop(l, 1);
            lua_rawgeti(l, LUA_REGISTRYINDEX, func_ref as lua_Integer);
        } else {
            lua_rawgeti(l, LUA_REGISTRYINDEX, func_ref as lua_Integer);
            push_array(l, target.keys);
            push_array(l, target.args);
        }
        if hooked {
            lua_sethook(l, Some(busy::hook), LUA_MASKCOUNT, 100_000);
        }
        RUN.with(|r| r.set(&mut run));
        status = if target.eval {
            lua_pcall(l, 0, 1, -2)
        } else {
            lua_pcall(l, 2, 1, -4)
        };
        RUN.with(|r| r.set(std::ptr::null_mut()));
        if hooked {
            lua_sethook(l, None, 0, 0);
            busy::finish(&mut run);
        }
        engine.reply = std::mem::take(&mut run.out);
        engine.gc_count += 1;
        if engine.gc_count == 50 {
            lua_gc(l, LUA_GCSTEP, 50);
            engine.gc_count = 0;
        }
    }
    let name = String::from_utf8_lossy(target.name);
    // SAFETY: reading the result left on our own stack, then popping it and the handler.
    unsafe {
        let r = if status != 0 {
            let (msg, ignore) = error_text(l, &name);
            ctx.srv.skip_error_stats = ignore;
            Err(msg)
        } else if let Some((msg, ignore)) = top_error_table(l) {
            // An error table returned by the script is its error reply.
            ctx.srv.skip_error_stats = ignore;
            Err(msg)
        } else {
            let resp3_script = (*fake).resp == ProtoVersion::Resp3;
            reply_from_lua(l, ctx.out, resp3_script, 0);
            Ok(())
        };
        lua_settop(l, 0);
        r
    }
}

/// What FUNCTION STATS shows of the script running now (it is called from the busy
/// hook, as the running script's thread serves other clients).
pub struct Running {
    pub eval: bool,
    pub name: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    pub duration_ms: i64,
}

/// True while a script runs (its busy hook serves other clients).
#[inline]
pub fn is_running() -> bool {
    !RUN.with(|r| r.get()).is_null()
}

/// Calls `f` with the argv of the command that runs the script (EVAL, FCALL...),
/// if a script runs.
pub fn with_caller_argv<R>(f: impl FnOnce(&[&[u8]]) -> R) -> Option<R> {
    let run = RUN.with(|r| r.get());
    if run.is_null() {
        return None;
    }
    // SAFETY: RUN points at the live run of this thread's script, whose caller's
    // argv outlives it.
    unsafe {
        let (p, n) = (*run).argv;
        Some(f(std::slice::from_raw_parts(p, n)))
    }
}

/// The script running now, if any.
pub fn running() -> Option<Running> {
    let run = RUN.with(|r| r.get());
    if run.is_null() {
        return None;
    }
    // SAFETY: RUN points at the live run of this thread's script (cleared after it).
    unsafe {
        let run = &*run;
        Some(Running {
            eval: run.eval,
            name: (*run.name).to_vec(),
            argv: std::slice::from_raw_parts(run.argv.0, run.argv.1)
                .iter()
                .map(|a| a.to_vec())
                .collect(),
            duration_ms: run.start.elapsed().as_millis() as i64,
        })
    }
}

unsafe fn push_array(l: *mut lua_State, items: &[&[u8]]) {
    lua_createtable(l, items.len() as c_int, 0);
    for (i, it) in items.iter().enumerate() {
        push_bytes(l, it);
        lua_rawseti(l, -2, i as lua_Integer + 1);
    }
}

/// The error table's `ignore_error_stats_update` flag.
unsafe fn ignore_flag(l: *mut lua_State) -> bool {
    lua_getfield(l, -1, c"ignore_error_stats_update".as_ptr());
    let r = lua_type(l, -1) == LUA_TBOOLEAN && lua_toboolean(l, -1) != 0;
    lua_pop(l, 1);
    r
}

/// If the value on top is an error table (`err` holds a string), its message and
/// whether it was counted already.
unsafe fn top_error_table(l: *mut lua_State) -> Option<(String, bool)> {
    if lua_istable(l, -1) == 0 {
        return None;
    }
    lua_pushstring(l, c"err".as_ptr());
    lua_rawget(l, -2);
    let msg = if lua_type(l, -1) == LUA_TSTRING {
        let m = to_bytes(l, -1).unwrap_or(b"");
        let m = &m[..m.iter().position(|&c| c == 0).unwrap_or(m.len())];
        Some(String::from_utf8_lossy(m).into_owned())
    } else {
        None
    };
    lua_pop(l, 1);
    let msg = msg?;
    Some((msg, ignore_flag(l)))
}

/// The error reply for the error value on top of the stack, and whether it was
/// counted already.
unsafe fn error_text(l: *mut lua_State, funcname: &str) -> (String, bool) {
    if lua_istable(l, -1) == 0 {
        return (error_text_plain(l, funcname), false);
    }
    let ignore = ignore_flag(l);
    (error_text_plain(l, funcname), ignore)
}

unsafe fn error_text_plain(l: *mut lua_State, funcname: &str) -> String {
    if lua_istable(l, -1) == 0 {
        let msg = to_bytes(l, -1)
            .map(|m| String::from_utf8_lossy(&m[..m.len().min(100)]).into_owned())
            .unwrap_or_else(|| "execution failure".into());
        return format!("ERR Error running script {funcname}, {msg}\n");
    }
    let field = |name: &CStr| -> Option<String> {
        lua_getfield(l, -1, name.as_ptr());
        let v = if lua_isstring(l, -1) != 0 {
            to_bytes(l, -1).map(|b| String::from_utf8_lossy(b).into_owned())
        } else {
            None
        };
        lua_pop(l, 1);
        v
    };
    let msg = field(c"err").unwrap_or_else(|| "(null)".into());
    let source = field(c"source");
    let line = field(c"line");
    match (source, line) {
        (Some(s), Some(ln)) => format!("{msg} script: {funcname}, on {s}:{ln}."),
        _ => msg,
    }
}

/// Writes the Lua value on top of the stack as a reply (Redis's
/// luaReplyToRedisReply) and pops it.
unsafe fn reply_from_lua(l: *mut lua_State, out: &mut ReplyBuf, resp3_script: bool, depth: u32) {
    if lua_checkstack(l, 4) == 0 || depth > 1000 {
        out.error("ERR reached lua stack limit");
        lua_pop(l, 1);
        return;
    }
    match lua_type(l, -1) {
        LUA_TSTRING => out.bulk(to_bytes(l, -1).unwrap_or(b"")),
        LUA_TBOOLEAN => {
            let b = lua_toboolean(l, -1) != 0;
            if resp3_script {
                out.boolean(b);
            } else if b {
                out.int(1);
            } else {
                out.null();
            }
        }
        LUA_TNUMBER => out.int(lua_tonumber(l, -1) as i64),
        LUA_TTABLE => {
            table_reply(l, out, resp3_script, depth);
            return;
        }
        _ => out.null(),
    }
    lua_pop(l, 1);
}

unsafe fn raw_field(l: *mut lua_State, name: &CStr) -> c_int {
    lua_pushstring(l, name.as_ptr());
    lua_rawget(l, -2);
    lua_type(l, -1)
}

unsafe fn table_reply(l: *mut lua_State, out: &mut ReplyBuf, resp3_script: bool, depth: u32) {
    if raw_field(l, c"err") == LUA_TSTRING {
        lua_pop(l, 1);
        let msg = {
            lua_getfield(l, -1, c"err".as_ptr());
            let m = to_bytes(l, -1).unwrap_or(b"").to_vec();
            lua_pop(l, 1);
            m
        };
        // Redis formats the message with %s: it ends at a NUL.
        let msg = &msg[..msg.iter().position(|&c| c == 0).unwrap_or(msg.len())];
        out.simple_error_bytes(msg);
        lua_pop(l, 1);
        return;
    }
    lua_pop(l, 1);
    if raw_field(l, c"ok") == LUA_TSTRING {
        let s = to_bytes(l, -1).unwrap_or(b"");
        let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
        out.simple(s);
        lua_pop(l, 2);
        return;
    }
    lua_pop(l, 1);
    if raw_field(l, c"double") == LUA_TNUMBER {
        out.double(lua_tonumber(l, -1));
        lua_pop(l, 2);
        return;
    }
    lua_pop(l, 1);
    if raw_field(l, c"big_number") == LUA_TSTRING {
        let s: Vec<u8> = to_bytes(l, -1)
            .unwrap_or(b"")
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        out.big_number(&s);
        lua_pop(l, 2);
        return;
    }
    lua_pop(l, 1);
    if raw_field(l, c"verbatim_string") == LUA_TTABLE {
        if raw_field(l, c"format") == LUA_TSTRING {
            let fmt = to_bytes(l, -1).unwrap_or(b"").to_vec();
            lua_pushstring(l, c"string".as_ptr());
            lua_rawget(l, -3);
            if lua_type(l, -1) == LUA_TSTRING {
                let s = to_bytes(l, -1).unwrap_or(b"");
                let mut f = *b"txt";
                for (d, c) in f.iter_mut().zip(fmt.iter().chain(std::iter::repeat(&0))) {
                    *d = *c;
                }
                out.verbatim(&f, s);
                lua_pop(l, 4);
                return;
            }
            lua_pop(l, 1);
        }
        lua_pop(l, 1);
    }
    lua_pop(l, 1);
    if raw_field(l, c"map") == LUA_TTABLE {
        let d = out.defer();
        let mut n = 0;
        lua_pushnil(l);
        while lua_next(l, -2) != 0 {
            lua_pushvalue(l, -2);
            reply_from_lua(l, out, resp3_script, depth + 1);
            reply_from_lua(l, out, resp3_script, depth + 1);
            n += 1;
        }
        out.set_map_len(d, n);
        lua_pop(l, 2);
        return;
    }
    lua_pop(l, 1);
    if raw_field(l, c"set") == LUA_TTABLE {
        let d = out.defer();
        let mut n = 0;
        lua_pushnil(l);
        while lua_next(l, -2) != 0 {
            lua_pop(l, 1);
            lua_pushvalue(l, -1);
            reply_from_lua(l, out, resp3_script, depth + 1);
            n += 1;
        }
        out.set_set_len(d, n);
        lua_pop(l, 2);
        return;
    }
    lua_pop(l, 1);
    let d = out.defer();
    let mut n = 0;
    let mut j: lua_Integer = 1;
    loop {
        lua_rawgeti(l, -1, j);
        j += 1;
        if lua_type(l, -1) == LUA_TNIL {
            lua_pop(l, 1);
            break;
        }
        reply_from_lua(l, out, resp3_script, depth + 1);
        n += 1;
    }
    out.set_array_len(d, n);
    lua_pop(l, 1);
}
