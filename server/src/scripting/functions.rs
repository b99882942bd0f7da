//! Redis 7.0 functions: libraries of Lua functions loaded with FUNCTION LOAD and
//! called with FCALL / FCALL_RO.
//!
//! The libraries run in their own interpreter (an [`Engine`] built as EVAL's, with
//! the same `redis` library, conversions, sandbox and busy-script handling), as in
//! Redis, whose function engine is a second Lua state. Differences from EVAL's:
//! - the globals are one more proxy deep: the thread's globals are an empty
//!   read-only table whose metatable's `__index` is EVAL's globals proxy (so
//!   `getmetatable(_G).__index` is a read-only table, as in Redis);
//! - while a library's code runs (FUNCTION LOAD, loading an RDB or AOF), that
//!   `__index` is switched to the library API: a read-only table holding only
//!   `redis`, itself read-only, with `register_function`, `log`, the `LOG_*` levels
//!   and the version fields; any other name raises the nonexistent-global error;
//! - a function is called with KEYS and ARGV as its two arguments.
//!
//! [`Functions`] (in `Server::functions`) holds the libraries: their code (what
//! RDB files, DUMP payloads and AOF rewrites carry) and each function's flags,
//! description and registry reference. A load either registers a whole library or
//! leaves nothing behind.

use super::{make_proxy, push_error_table, raise, raise_error_table, redis_log, to_bytes, Engine};
use mlua::ffi::*;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::ffi::{c_char, c_int, CStr};
use std::time::Instant;

/// Key of the library API table in the registry.
const LIBRARY_API: &CStr = c"__LIBRARY_API__";
/// Key of the run-time globals (EVAL's globals proxy) in the registry.
const GLOBALS_API: &CStr = c"__GLOBALS_API__";

/// Redis's LOAD_TIMEOUT_MS.
pub const LOAD_TIMEOUT_MS: u64 = 500;

/// The flags a function may declare, in Redis's order (FUNCTION LIST shows them so).
pub const FLAG_NAMES: &[(&str, u32)] = &[
    ("no-writes", super::flags::NO_WRITES),
    ("allow-oom", super::flags::ALLOW_OOM),
    ("allow-stale", super::flags::ALLOW_STALE),
    ("no-cluster", super::flags::NO_CLUSTER),
    ("allow-cross-slot-keys", super::flags::ALLOW_CROSS_SLOT),
];

const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// A registered function.
pub struct Function {
    /// The name as registered.
    pub name: Vec<u8>,
    pub desc: Option<Vec<u8>>,
    pub flags: u32,
    /// Its library's name.
    pub lib: Vec<u8>,
    func_ref: c_int,
}

/// A library.
pub struct Library {
    pub name: Vec<u8>,
    /// The code as loaded, shebang included.
    pub code: Vec<u8>,
    /// Its functions' keys in [`Functions::funcs`] (lowercase names), in registration order.
    pub functions: Vec<Vec<u8>>,
}

/// A function registered by a library's code, before the library is linked.
struct Registered {
    name: Vec<u8>,
    desc: Option<Vec<u8>>,
    flags: u32,
    func_ref: c_int,
}

/// The libraries and their interpreter.
#[derive(Default)]
pub struct Functions {
    lua: Option<Box<Engine>>,
    /// Libraries by name.
    pub libs: BTreeMap<Vec<u8>, Library>,
    /// Functions by lowercase name (FCALL's lookup is case-insensitive).
    pub funcs: HashMap<Vec<u8>, Function>,
}

/// The state of a library load (the thread-local `LOAD` points at it).
struct LoadCtx {
    registered: Vec<Registered>,
    start: Instant,
    /// 0: no limit (loading files, as Redis for a client it must obey).
    timeout_ms: u64,
}

thread_local! {
    static LOAD: Cell<*mut LoadCtx> = const { Cell::new(std::ptr::null_mut()) };
}

/// What a library's shebang says.
struct Meta<'a> {
    name: Vec<u8>,
    engine: Vec<u8>,
    /// The code after the shebang line (its line feed included, so lines keep
    /// their numbers).
    code: &'a [u8],
}

/// Parses `#!<engine> name=<name>` as Redis's functionExtractLibMetaData.
fn parse_meta(payload: &[u8]) -> Result<Meta<'_>, String> {
    if !payload.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    // Redis works on a C string: the shebang ends at the first line feed or NUL.
    let nul = payload
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(payload.len());
    let Some(end) = payload[..nul].iter().position(|&c| c == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let line = &payload[..end];
    let Some(parts) = redis_formats::request::split_args(line) else {
        return Err("Invalid library metadata".into());
    };
    if parts.is_empty() {
        return Err("Invalid library metadata".into());
    }
    let engine = parts[0].get(2..).unwrap_or(b"").to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(Meta {
        name,
        engine,
        code: &payload[end..],
    })
}

/// `[a-zA-Z0-9_]+`
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

fn lower(name: &[u8]) -> Vec<u8> {
    name.to_ascii_lowercase()
}

impl Functions {
    /// The interpreter, made on first use.
    fn lua(&mut self) -> &mut Engine {
        self.lua.get_or_insert_with(new_engine)
    }

    /// Number of functions.
    pub fn len(&self) -> usize {
        self.funcs.len()
    }

    /// True when no library is loaded.
    pub fn is_empty(&self) -> bool {
        self.libs.is_empty()
    }

    /// Memory of the functions' interpreter (INFO used_memory_vm_functions), if made.
    pub fn vm_memory(&self) -> Option<usize> {
        self.lua.as_ref().map(|e| e.memory())
    }

    /// The function FCALL names (case-insensitive).
    pub fn get(&self, name: &[u8]) -> Option<&Function> {
        let mut buf = [0u8; 64];
        if name.len() <= buf.len() {
            let k = &mut buf[..name.len()];
            k.copy_from_slice(name);
            k.make_ascii_lowercase();
            self.funcs.get(&k[..])
        } else {
            self.funcs.get(&lower(name))
        }
    }

    /// FUNCTION LOAD: compiles and registers a library; its name, or the error text
    /// (without `-ERR `). `timeout_ms` 0: no time limit.
    pub fn load(&mut self, code: &[u8], replace: bool, timeout_ms: u64) -> Result<Vec<u8>, String> {
        let meta = parse_meta(code)?;
        if !valid_name(&meta.name) {
            return Err(BAD_NAME.into());
        }
        if !meta.engine.eq_ignore_ascii_case(b"lua") {
            return Err(format!(
                "Engine '{}' not found",
                String::from_utf8_lossy(&meta.engine)
            ));
        }
        if !replace && self.libs.contains_key(&meta.name) {
            return Err(format!(
                "Library '{}' already exists",
                String::from_utf8_lossy(&meta.name)
            ));
        }
        let registered = self.lua().load_library(meta.code, timeout_ms)?;
        let lib = meta.name;
        let fail = |this: &mut Functions, registered: Vec<Registered>, e: String| {
            this.lua().unref_all(registered.iter().map(|r| r.func_ref));
            Err(e)
        };
        if registered.is_empty() {
            return fail(self, registered, "No functions registered".into());
        }
        // Another library's function of the same name (the old version of this
        // library does not count when it is replaced).
        for r in &registered {
            if let Some(f) = self.funcs.get(&lower(&r.name)) {
                if f.lib != lib {
                    let e = format!(
                        "Function {} already exists",
                        String::from_utf8_lossy(&r.name)
                    );
                    return fail(self, registered, e);
                }
            }
        }
        self.delete(&lib);
        self.link(lib.clone(), code.to_vec(), registered);
        Ok(lib)
    }

    fn link(&mut self, name: Vec<u8>, code: Vec<u8>, registered: Vec<Registered>) {
        let mut keys = Vec::with_capacity(registered.len());
        let mut dropped = Vec::new();
        for r in registered {
            let key = lower(&r.name);
            if self.funcs.contains_key(&key) {
                // Two names of one library that differ only in case: the first
                // stays reachable, as in Redis.
                dropped.push(r.func_ref);
                continue;
            }
            keys.push(key.clone());
            self.funcs.insert(
                key,
                Function {
                    name: r.name,
                    desc: r.desc,
                    flags: r.flags,
                    lib: name.clone(),
                    func_ref: r.func_ref,
                },
            );
        }
        if !dropped.is_empty() {
            self.lua().unref_all(dropped.into_iter());
        }
        self.libs.insert(
            name.clone(),
            Library {
                name,
                code,
                functions: keys,
            },
        );
    }

    /// FUNCTION DELETE: true if the library existed.
    pub fn delete(&mut self, name: &[u8]) -> bool {
        let Some(lib) = self.libs.remove(name) else {
            return false;
        };
        let mut refs = Vec::with_capacity(lib.functions.len());
        for k in &lib.functions {
            if let Some(f) = self.funcs.remove(k) {
                refs.push(f.func_ref);
            }
        }
        self.lua().unref_all(refs.into_iter());
        true
    }

    /// FUNCTION FLUSH (and emptying the dataset for a reload): every library goes;
    /// the interpreter starts afresh.
    pub fn flush(&mut self) {
        self.libs.clear();
        self.funcs.clear();
        self.lua = None;
    }

    /// Loads every library of `codes` as FUNCTION RESTORE does: with `flush` they
    /// replace all libraries; else they join the current ones, an existing library
    /// of the same name being an error unless `replace`. All or nothing.
    pub fn restore(
        &mut self,
        codes: Vec<Vec<u8>>,
        flush: bool,
        replace: bool,
    ) -> Result<(), String> {
        // Compile into a scratch set first (names must not collide among themselves).
        let mut scratch = Functions {
            lua: self.lua.take(),
            ..Default::default()
        };
        let mut err = None;
        for code in &codes {
            if let Err(e) = scratch.load(code, false, 0) {
                err = Some(e);
                break;
            }
        }
        if err.is_none() && !flush {
            for name in scratch.libs.keys() {
                if !replace && self.libs.contains_key(name) {
                    err = Some(format!(
                        "Library {} already exists",
                        String::from_utf8_lossy(name)
                    ));
                    break;
                }
            }
            if err.is_none() {
                for (key, f) in &scratch.funcs {
                    if let Some(old) = self.funcs.get(key) {
                        let replaced = replace && scratch.libs.contains_key(&old.lib);
                        if !replaced {
                            err = Some(format!(
                                "Function {} already exists",
                                String::from_utf8_lossy(&f.name)
                            ));
                            break;
                        }
                    }
                }
            }
        }
        self.lua = scratch.lua.take();
        if let Some(e) = err {
            let refs: Vec<c_int> = scratch.funcs.values().map(|f| f.func_ref).collect();
            self.lua().unref_all(refs.into_iter());
            return Err(e);
        }
        if flush {
            let names: Vec<Vec<u8>> = self.libs.keys().cloned().collect();
            for n in names {
                self.delete(&n);
            }
        }
        let Functions {
            libs, mut funcs, ..
        } = scratch;
        for (name, lib) in libs {
            self.delete(&name);
            let registered = lib
                .functions
                .iter()
                .filter_map(|k| funcs.remove(k))
                .map(|f| Registered {
                    name: f.name,
                    desc: f.desc,
                    flags: f.flags,
                    func_ref: f.func_ref,
                })
                .collect();
            self.link(name, lib.code, registered);
        }
        Ok(())
    }

    /// The engine to run a function with, taken out while it runs (commands the
    /// function calls get the server); give it back with [`Functions::put_engine`].
    pub(crate) fn take_engine(&mut self) -> Box<Engine> {
        self.lua();
        self.lua.take().expect("engine made")
    }

    pub(crate) fn put_engine(&mut self, e: Box<Engine>) {
        self.lua = Some(e);
    }

    /// The registry reference of a function (to run it).
    pub(crate) fn func_ref(f: &Function) -> c_int {
        f.func_ref
    }

    /// FUNCTION DUMP's payload: a FUNCTION2 record per library, the RDB version
    /// and the CRC-64, as Redis's.
    pub fn dump(&self, compression: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for lib in self.libs.values() {
            out.push(redis_rdb::reader::opcodes::FUNCTION2);
            redis_rdb::writer::encode_string(&mut out, &lib.code, compression);
        }
        out.extend_from_slice(&10u16.to_le_bytes());
        let c = redis_rdb::crc64::crc64(0, &out);
        out.extend_from_slice(&c.to_le_bytes());
        out
    }
}

/// Reads FUNCTION RESTORE's payload: the libraries' code, or Redis's error text.
pub fn parse_dump(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    const BAD: &str = "DUMP payload version or checksum are wrong";
    let n = payload.len();
    if n < 10 {
        return Err(BAD.into());
    }
    let ver = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    if ver > 10 {
        return Err(BAD.into());
    }
    let mut c = [0u8; 8];
    c.copy_from_slice(&payload[n - 8..]);
    if u64::from_le_bytes(c) != redis_rdb::crc64::crc64(0, &payload[..n - 8]) {
        return Err(BAD.into());
    }
    let body = &payload[..n - 10];
    let mut r = redis_rdb::reader::Reader::new(body);
    r.set_version(ver as u32);
    let mut codes = Vec::new();
    while (r.offset() as usize) < body.len() {
        let t = r
            .read_u8()
            .map_err(|_| String::from("can not read data type"))?;
        if t != redis_rdb::reader::opcodes::FUNCTION && t != redis_rdb::reader::opcodes::FUNCTION2 {
            return Err("given type is not a function".into());
        }
        let code = r
            .read_function(t)
            .map_err(|_| String::from("failed loading the given functions payload"))?;
        codes.push(code);
    }
    Ok(codes)
}

// ---------------------------------------------------------------------------
// The interpreter.

/// EVAL's interpreter, plus the functions' globals level and library API.
fn new_engine() -> Box<Engine> {
    let e = Engine::new();
    // SAFETY: plain use of the C API on the state `e` owns.
    unsafe {
        let l = e.l;
        // The run-time globals (EVAL's proxy), kept for switching back after a load.
        lua_pushvalue(l, LUA_GLOBALSINDEX);
        lua_setfield(l, LUA_REGISTRYINDEX, GLOBALS_API.as_ptr());
        // One more level: an empty read-only table reading through EVAL's proxy.
        lua_pushvalue(l, LUA_GLOBALSINDEX);
        make_proxy(l, false);
        lua_rawgeti(l, LUA_REGISTRYINDEX, e.real_globals_ref as lua_Integer);
        lua_pushstring(l, c"_G".as_ptr());
        lua_pushvalue(l, -3);
        lua_rawset(l, -3);
        lua_pop(l, 1);
        lua_replace(l, LUA_GLOBALSINDEX);
        // The library API: { redis = { register_function, log, ... } }.
        lua_createtable(l, 0, 1);
        lua_createtable(l, 0, 8);
        lua_pushcfunction(l, register_function);
        lua_setfield(l, -2, c"register_function".as_ptr());
        lua_pushcfunction(l, redis_log);
        lua_setfield(l, -2, c"log".as_ptr());
        super::set_log_and_version_fields(l);
        make_proxy(l, true);
        lua_setfield(l, -2, c"redis".as_ptr());
        make_proxy(l, true);
        lua_setfield(l, LUA_REGISTRYINDEX, LIBRARY_API.as_ptr());
    }
    e
}

/// Points the globals' `__index` at the registry table `key`.
unsafe fn set_globals_index(l: *mut lua_State, key: &CStr) {
    lua_getmetatable(l, LUA_GLOBALSINDEX);
    lua_pushstring(l, c"__index".as_ptr());
    lua_getfield(l, LUA_REGISTRYINDEX, key.as_ptr());
    lua_rawset(l, -3);
    lua_pop(l, 1);
}

impl Engine {
    /// Runs a library's code in the load environment; the functions it registered.
    fn load_library(&mut self, code: &[u8], timeout_ms: u64) -> Result<Vec<Registered>, String> {
        let l = self.l;
        // SAFETY: plain use of our own state; LOAD points at `ctx` only during the call.
        unsafe {
            lua_settop(l, 0);
            if luaL_loadbuffer(
                l,
                code.as_ptr() as *const c_char,
                code.len(),
                c"@user_function".as_ptr(),
            ) != 0
            {
                let msg = to_bytes(l, -1).unwrap_or(b"");
                let e = format!(
                    "Error compiling function: {}",
                    String::from_utf8_lossy(c_prefix(msg))
                );
                lua_settop(l, 0);
                return Err(e);
            }
            set_globals_index(l, LIBRARY_API);
            let mut ctx = LoadCtx {
                registered: Vec::new(),
                start: Instant::now(),
                timeout_ms,
            };
            LOAD.with(|c| c.set(&mut ctx));
            lua_sethook(l, Some(load_hook), LUA_MASKCOUNT, 100_000);
            let status = lua_pcall(l, 0, 0, 0);
            lua_sethook(l, None, 0, 0);
            LOAD.with(|c| c.set(std::ptr::null_mut()));
            set_globals_index(l, GLOBALS_API);
            let r = if status != 0 {
                let msg = load_error_text(l);
                self.unref_all(ctx.registered.iter().map(|r| r.func_ref));
                Err(format!("Error registering functions: {msg}"))
            } else {
                Ok(std::mem::take(&mut ctx.registered))
            };
            lua_settop(l, 0);
            r
        }
    }

    fn unref_all(&mut self, refs: impl Iterator<Item = c_int>) {
        for r in refs {
            // SAFETY: each reference was taken in this state and is dropped once.
            unsafe { luaL_unref(self.l, LUA_REGISTRYINDEX, r) };
        }
    }
}

/// A C string's bytes (up to the first NUL).
fn c_prefix(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// The message of a load's error value (Redis's luaExtractErrorInformation).
unsafe fn load_error_text(l: *mut lua_State) -> String {
    if lua_type(l, -1) == LUA_TSTRING || lua_type(l, -1) == LUA_TNUMBER {
        let m = to_bytes(l, -1).unwrap_or(b"");
        return format!("ERR {}", String::from_utf8_lossy(c_prefix(m)));
    }
    if lua_istable(l, -1) != 0 {
        lua_getfield(l, -1, c"err".as_ptr());
        let m = if lua_isstring(l, -1) != 0 {
            String::from_utf8_lossy(c_prefix(to_bytes(l, -1).unwrap_or(b""))).into_owned()
        } else {
            "(null)".into()
        };
        lua_pop(l, 1);
        return m;
    }
    "(null)".into()
}

/// The count hook of a load: past the time limit every line raises.
unsafe extern "C-unwind" fn load_hook(l: *mut lua_State, _ar: *mut lua_Debug) {
    let ctx = LOAD.with(|c| c.get());
    if ctx.is_null() {
        return;
    }
    let ctx = &*ctx;
    if ctx.timeout_ms > 0 && ctx.start.elapsed().as_millis() as u64 > ctx.timeout_ms {
        lua_sethook(l, Some(load_hook), LUA_MASKLINE, 0);
        push_error_table(l, b"FUNCTION LOAD timeout");
        raise(l);
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{...}`.
unsafe extern "C-unwind" fn register_function(l: *mut lua_State) -> c_int {
    let ctx = LOAD.with(|c| c.get());
    if ctx.is_null() {
        return raise_error_table(
            l,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    }
    let err = register_args(l, &mut *ctx);
    match err {
        Ok(()) => 0,
        Err(msg) => raise_error_table(l, msg),
    }
}

/// Reads the arguments and registers the function; Redis's error text on failure
/// (every Rust value is dropped before the caller raises).
unsafe fn register_args(l: *mut lua_State, ctx: &mut LoadCtx) -> Result<(), &'static str> {
    let argc = lua_gettop(l);
    if !(1..=2).contains(&argc) {
        return Err("wrong number of arguments to redis.register_function");
    }
    let r = if argc == 1 {
        named_args(l)?
    } else {
        if lua_isstring(l, 1) == 0 {
            return Err("first argument to redis.register_function must be a string");
        }
        let name = to_bytes(l, 1).unwrap_or(b"").to_vec();
        if lua_type(l, 2) != LUA_TFUNCTION {
            return Err("second argument to redis.register_function must be a function");
        }
        let func_ref = luaL_ref(l, LUA_REGISTRYINDEX);
        Registered {
            name,
            desc: None,
            flags: 0,
            func_ref,
        }
    };
    // Redis checks the name as C string.
    if !valid_name(&r.name) || r.name.contains(&0) {
        luaL_unref(l, LUA_REGISTRYINDEX, r.func_ref);
        return Err(BAD_NAME);
    }
    if ctx.registered.iter().any(|o| o.name == r.name) {
        luaL_unref(l, LUA_REGISTRYINDEX, r.func_ref);
        return Err("Function already exists in the library");
    }
    ctx.registered.push(r);
    Ok(())
}

unsafe fn named_args(l: *mut lua_State) -> Result<Registered, &'static str> {
    if lua_istable(l, 1) == 0 {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    }
    let mut name: Option<Vec<u8>> = None;
    let mut desc: Option<Vec<u8>> = None;
    let mut func_ref: Option<c_int> = None;
    let mut flags = 0u32;
    let release = |l: *mut lua_State, r: Option<c_int>| {
        if let Some(r) = r {
            luaL_unref(l, LUA_REGISTRYINDEX, r);
        }
    };
    lua_pushnil(l);
    while lua_next(l, 1) != 0 {
        // Stack: table, key, value.
        if lua_type(l, -2) != LUA_TSTRING {
            release(l, func_ref);
            return Err(if lua_type(l, -2) == LUA_TNUMBER {
                "unknown argument given to redis.register_function"
            } else {
                "named argument key given to redis.register_function is not a string"
            });
        }
        let key = c_prefix(to_bytes(l, -2).unwrap_or(b""));
        if key.eq_ignore_ascii_case(b"function_name") {
            if lua_isstring(l, -1) == 0 {
                release(l, func_ref);
                return Err(
                    "function_name argument given to redis.register_function must be a string",
                );
            }
            name = Some(to_bytes(l, -1).unwrap_or(b"").to_vec());
        } else if key.eq_ignore_ascii_case(b"description") {
            if lua_isstring(l, -1) == 0 {
                release(l, func_ref);
                return Err(
                    "description argument given to redis.register_function must be a string",
                );
            }
            desc = Some(to_bytes(l, -1).unwrap_or(b"").to_vec());
        } else if key.eq_ignore_ascii_case(b"callback") {
            if lua_type(l, -1) != LUA_TFUNCTION {
                release(l, func_ref);
                return Err(
                    "callback argument given to redis.register_function must be a function",
                );
            }
            release(l, func_ref);
            func_ref = Some(luaL_ref(l, LUA_REGISTRYINDEX));
            continue;
        } else if key.eq_ignore_ascii_case(b"flags") {
            if lua_istable(l, -1) == 0 {
                release(l, func_ref);
                return Err("flags argument to redis.register_function must be a table representing function flags");
            }
            match read_flags(l) {
                Some(f) => flags = f,
                None => {
                    release(l, func_ref);
                    return Err("unknown flag given");
                }
            }
        } else {
            release(l, func_ref);
            return Err("unknown argument given to redis.register_function");
        }
        lua_pop(l, 1);
    }
    let Some(name) = name else {
        release(l, func_ref);
        return Err("redis.register_function must get a function name argument");
    };
    let Some(func_ref) = func_ref else {
        return Err("redis.register_function must get a callback argument");
    };
    Ok(Registered {
        name,
        desc,
        flags,
        func_ref,
    })
}

/// The flags table on top of the stack (array of names), or None for a bad one.
unsafe fn read_flags(l: *mut lua_State) -> Option<u32> {
    let mut f = 0;
    let mut j = 1;
    loop {
        lua_pushnumber(l, j as f64);
        j += 1;
        lua_gettable(l, -2);
        let t = lua_type(l, -1);
        if t == LUA_TNIL {
            lua_pop(l, 1);
            return Some(f);
        }
        if lua_isstring(l, -1) == 0 {
            lua_pop(l, 1);
            return None;
        }
        let s = c_prefix(to_bytes(l, -1).unwrap_or(b""));
        let found = FLAG_NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(s))
            .map(|(_, v)| *v);
        lua_pop(l, 1);
        f |= found?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &[u8] = b"#!lua name=mylib\nredis.register_function('f1', function(k, a) return 1 end)\nredis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes', 'ALLOW-OOM'}, description='d'}";

    #[test]
    fn metadata_errors_are_redis_texts() {
        let e = |p: &[u8]| parse_meta(p).err().unwrap();
        assert_eq!(e(b"lua name=x\n"), "Missing library metadata");
        assert_eq!(e(b"#!lua name=x"), "Invalid library metadata");
        assert_eq!(e(b"#!lua\n"), "Library name was not given");
        assert_eq!(
            e(b"#!lua name=a name=b\n"),
            "Invalid metadata value, name argument was given multiple times"
        );
        assert_eq!(
            e(b"#!lua foo=bar\n"),
            "Invalid metadata value given: foo=bar"
        );
        let m = parse_meta(b"#!lua name=\"foo\"\nx").unwrap();
        assert_eq!(m.name, b"foo");
        assert_eq!(m.code, b"\nx");
    }

    #[test]
    fn load_registers_a_whole_library_or_nothing() {
        let mut f = Functions::default();
        assert_eq!(f.load(LIB, false, 0).unwrap(), b"mylib");
        assert_eq!(f.len(), 2);
        let f2 = f.get(b"F2").unwrap();
        assert_eq!(
            f2.flags,
            super::super::flags::NO_WRITES | super::super::flags::ALLOW_OOM
        );
        assert_eq!(f2.desc.as_deref(), Some(&b"d"[..]));
        assert_eq!(
            f.load(LIB, false, 0).unwrap_err(),
            "Library 'mylib' already exists"
        );
        // A failed replacement keeps the old library.
        let bad = b"#!lua name=mylib\nredis.register_function('g', function() end)\nerror('x')";
        assert!(f
            .load(bad, true, 0)
            .unwrap_err()
            .starts_with("Error registering functions: ERR user_function:3: Script attempted to access nonexistent global variable 'error'"));
        assert!(f.get(b"f1").is_some() && f.get(b"g").is_none());
        let other = b"#!lua name=other\nredis.register_function('F1', function() end)";
        assert_eq!(
            f.load(other, false, 0).unwrap_err(),
            "Function F1 already exists"
        );
        let none = b"#!lua name=other\nlocal a = 1";
        assert_eq!(
            f.load(none, false, 0).unwrap_err(),
            "No functions registered"
        );
        assert!(f.delete(b"mylib"));
        assert!(f.is_empty() && f.funcs.is_empty());
    }

    #[test]
    fn load_environment_is_restricted() {
        let mut f = Functions::default();
        let e = |f: &mut Functions, body: &str| {
            f.load(format!("#!lua name=l\n{body}").as_bytes(), false, 0)
                .unwrap_err()
        };
        assert!(e(&mut f, "redis.call('ping')")
            .ends_with("Script attempted to access nonexistent global variable 'call'"));
        assert!(e(&mut f, "a = 1").ends_with("Attempt to modify a readonly table"));
        assert_eq!(
            e(&mut f, "redis.register_function('a b', function() end)"),
            format!("Error registering functions: ERR {BAD_NAME}")
        );
        assert_eq!(
            e(&mut f, "redis.register_function{function_name='x', callback=function() end, flags={'foo'}}"),
            "Error registering functions: ERR unknown flag given"
        );
        // With a time limit an endless load is stopped.
        let t = f
            .load(
                b"#!lua name=l\nlocal a = 1 while 1 do a = a + 1 end",
                false,
                50,
            )
            .unwrap_err();
        assert_eq!(t, "Error registering functions: ERR FUNCTION LOAD timeout");
    }

    #[test]
    fn dump_round_trips() {
        let mut f = Functions::default();
        f.load(LIB, false, 0).unwrap();
        let d = f.dump(true);
        let codes = parse_dump(&d).unwrap();
        assert_eq!(codes, vec![LIB.to_vec()]);
        let mut g = Functions::default();
        g.restore(codes.clone(), false, false).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            g.restore(codes.clone(), false, false).unwrap_err(),
            "Library mylib already exists"
        );
        g.restore(codes, false, true).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            parse_dump(b"bad_payload").unwrap_err(),
            "DUMP payload version or checksum are wrong"
        );
    }
}
