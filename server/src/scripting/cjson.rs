//! The `cjson` library scripts get: lua-cjson 2.1's API and output (numbers as
//! `%.14g`, `/` escaped, sparse-array and nesting rules, its error texts).

use super::{push_bytes, to_bytes};
use mlua::ffi::*;
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicI32, Ordering};

static ENCODE_MAX_DEPTH: AtomicI32 = AtomicI32::new(1000);
static DECODE_MAX_DEPTH: AtomicI32 = AtomicI32::new(1000);
static PRECISION: AtomicI32 = AtomicI32::new(14);
static SPARSE_CONVERT: AtomicI32 = AtomicI32::new(0);
static SPARSE_RATIO: AtomicI32 = AtomicI32::new(2);
static SPARSE_SAFE: AtomicI32 = AtomicI32::new(10);
static ENCODE_INVALID: AtomicI32 = AtomicI32::new(0);
static DECODE_INVALID: AtomicI32 = AtomicI32::new(1);
static KEEP_BUFFER: AtomicI32 = AtomicI32::new(1);

/// Formats a number as `%.<precision>g`.
fn fmt_number(n: f64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 64];
    let prec = PRECISION.load(Ordering::Relaxed);
    // SAFETY: snprintf into a local buffer of the size given.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut c_char,
            buf.len(),
            c"%.*g".as_ptr(),
            prec as c_int,
            n,
        )
    };
    out.extend_from_slice(&buf[..(len.max(0) as usize).min(63)]);
}

fn escape_into(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            0..=31 | 127 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// An encoding error: the value's stack index and the reason, raised by the caller.
enum EncErr {
    Type(c_int, &'static CStr),
    Depth(i32),
}

/// Array length of the table on top (Some(max index)), or None for an object.
unsafe fn array_length(l: *mut lua_State) -> Result<Option<usize>, EncErr> {
    let mut max = 0f64;
    let mut items = 0f64;
    lua_pushnil(l);
    while lua_next(l, -2) != 0 {
        if lua_type(l, -2) == LUA_TNUMBER {
            let k = lua_tonumber(l, -2);
            if k != 0.0 && k.floor() == k && k >= 1.0 {
                if k > max {
                    max = k;
                }
                items += 1.0;
                lua_pop(l, 1);
                continue;
            }
        }
        lua_pop(l, 2);
        return Ok(None);
    }
    let ratio = SPARSE_RATIO.load(Ordering::Relaxed) as f64;
    if ratio > 0.0 && max > items * ratio && max > SPARSE_SAFE.load(Ordering::Relaxed) as f64 {
        if SPARSE_CONVERT.load(Ordering::Relaxed) == 0 {
            return Err(EncErr::Type(lua_gettop(l), c"excessively sparse array"));
        }
        return Ok(None);
    }
    Ok(Some(max as usize))
}

unsafe fn encode_value(l: *mut lua_State, out: &mut Vec<u8>, depth: i32) -> Result<(), EncErr> {
    match lua_type(l, -1) {
        LUA_TSTRING => escape_into(to_bytes(l, -1).unwrap_or(b""), out),
        LUA_TNUMBER => {
            let n = lua_tonumber(l, -1);
            if !n.is_finite() && ENCODE_INVALID.load(Ordering::Relaxed) == 0 {
                return Err(EncErr::Type(lua_gettop(l), c"must not be NaN or Inf"));
            }
            fmt_number(n, out);
        }
        LUA_TBOOLEAN => out.extend_from_slice(if lua_toboolean(l, -1) != 0 {
            b"true"
        } else {
            b"false"
        }),
        LUA_TNIL => out.extend_from_slice(b"null"),
        LUA_TLIGHTUSERDATA if lua_touserdata(l, -1).is_null() => out.extend_from_slice(b"null"),
        LUA_TTABLE => {
            let depth = depth + 1;
            if depth > ENCODE_MAX_DEPTH.load(Ordering::Relaxed) || lua_checkstack(l, 3) == 0 {
                return Err(EncErr::Depth(depth));
            }
            match array_length(l)? {
                Some(n) if n > 0 => {
                    out.push(b'[');
                    for i in 1..=n {
                        if i > 1 {
                            out.push(b',');
                        }
                        lua_rawgeti(l, -1, i as lua_Integer);
                        encode_value(l, out, depth)?;
                        lua_pop(l, 1);
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut first = true;
                    lua_pushnil(l);
                    while lua_next(l, -2) != 0 {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match lua_type(l, -2) {
                            LUA_TSTRING => escape_into(to_bytes(l, -2).unwrap_or(b""), out),
                            LUA_TNUMBER => {
                                out.push(b'"');
                                fmt_number(lua_tonumber(l, -2), out);
                                out.push(b'"');
                            }
                            _ => {
                                return Err(EncErr::Type(
                                    lua_gettop(l) - 1,
                                    c"table key must be a number or string",
                                ))
                            }
                        }
                        out.push(b':');
                        encode_value(l, out, depth)?;
                        lua_pop(l, 1);
                    }
                    out.push(b'}');
                }
            }
        }
        _ => return Err(EncErr::Type(lua_gettop(l), c"type not supported")),
    }
    Ok(())
}

unsafe extern "C-unwind" fn encode(l: *mut lua_State) -> c_int {
    if lua_gettop(l) != 1 {
        return luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let mut out = Vec::new();
    match encode_value(l, &mut out, 0) {
        Ok(()) => {
            push_bytes(l, &out);
            drop(out);
            1
        }
        Err(e) => {
            drop(out);
            match e {
                EncErr::Type(idx, reason) => {
                    let tn = lua_typename(l, lua_type(l, idx));
                    luaL_error(l, c"Cannot serialise %s: %s".as_ptr(), tn, reason.as_ptr())
                }
                EncErr::Depth(d) => {
                    luaL_error(l, c"Cannot serialise, excessive nesting (%d)".as_ptr(), d)
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Decoding.

#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

fn tok_name(t: Tok) -> &'static str {
    match t {
        Tok::ObjBegin => "T_OBJ_BEGIN",
        Tok::ObjEnd => "T_OBJ_END",
        Tok::ArrBegin => "T_ARR_BEGIN",
        Tok::ArrEnd => "T_ARR_END",
        Tok::Str => "T_STRING",
        Tok::Num(_) => "T_NUMBER",
        Tok::Bool(_) => "T_BOOLEAN",
        Tok::Null => "T_NULL",
        Tok::Colon => "T_COLON",
        Tok::Comma => "T_COMMA",
        Tok::End => "T_END",
        Tok::Error(s) => s,
    }
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i32,
    /// The last string token's bytes.
    s: Vec<u8>,
}

/// A parse error: the message, raised by the caller.
struct DecErr(String);

impl Parser<'_> {
    fn next(&mut self) -> (Tok, usize) {
        while self.pos < self.data.len()
            && matches!(self.data[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = self.data.get(self.pos) else {
            return (Tok::End, start);
        };
        let simple = |p: &mut Self, t| {
            p.pos += 1;
            (t, start)
        };
        match c {
            b'{' => simple(self, Tok::ObjBegin),
            b'}' => simple(self, Tok::ObjEnd),
            b'[' => simple(self, Tok::ArrBegin),
            b']' => simple(self, Tok::ArrEnd),
            b':' => simple(self, Tok::Colon),
            b',' => simple(self, Tok::Comma),
            b'"' => match self.string() {
                Tok::Error(e) => (Tok::Error(e), self.pos),
                t => (t, start),
            },
            b'-' | b'0'..=b'9' => (self.number(), start),
            _ => {
                let rest = &self.data[self.pos..];
                for (word, t) in [
                    (&b"true"[..], Tok::Bool(true)),
                    (b"false", Tok::Bool(false)),
                    (b"null", Tok::Null),
                ] {
                    if rest.starts_with(word) {
                        self.pos += word.len();
                        return (t, start);
                    }
                }
                let lower: Vec<u8> = rest
                    .iter()
                    .take(3)
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                if DECODE_INVALID.load(Ordering::Relaxed) != 0
                    && (lower == b"inf" || lower == b"nan")
                {
                    return (self.number(), start);
                }
                (Tok::Error("invalid token"), start)
            }
        }
    }

    fn number(&mut self) -> Tok {
        let rest = &self.data[self.pos..];
        let take = rest.len().min(350);
        let mut tmp = Vec::with_capacity(take + 1);
        tmp.extend_from_slice(&rest[..take]);
        tmp.push(0);
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: a NUL-terminated copy.
        let n = unsafe { libc::strtod(tmp.as_ptr() as *const c_char, &mut end) };
        let used = end as usize - tmp.as_ptr() as usize;
        if used == 0 {
            return Tok::Error("invalid number");
        }
        let text = &rest[..used];
        let invalid = text
            .iter()
            .any(|c| matches!(c, b'x' | b'X' | b'i' | b'I' | b'n' | b'N'));
        if invalid && DECODE_INVALID.load(Ordering::Relaxed) == 0 {
            return Tok::Error("invalid number");
        }
        self.pos += used;
        Tok::Num(n)
    }

    fn string(&mut self) -> Tok {
        self.pos += 1;
        self.s.clear();
        loop {
            let Some(&c) = self.data.get(self.pos) else {
                return Tok::Error("unexpected end of string");
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Tok::Str;
                }
                0 => return Tok::Error("unexpected end of string"),
                b'\\' => {
                    let Some(&e) = self.data.get(self.pos + 1) else {
                        return Tok::Error("unexpected end of string");
                    };
                    let ch = match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => match self.unicode() {
                            Some(()) => continue,
                            None => return Tok::Error("invalid unicode escape code"),
                        },
                        _ => return Tok::Error("invalid escape code"),
                    };
                    self.s.push(ch);
                    self.pos += 2;
                }
                _ => {
                    self.s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.data.get(at..at + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        u32::from_str_radix(s, 16).ok()
    }

    /// `\uXXXX` (with a surrogate pair) at `pos`, appended as UTF-8.
    fn unicode(&mut self) -> Option<()> {
        let mut cp = self.hex4(self.pos + 2)?;
        let mut len = 6;
        if (0xDC00..=0xDFFF).contains(&cp) {
            return None;
        }
        if (0xD800..=0xDBFF).contains(&cp) {
            if self.data.get(self.pos + 6..self.pos + 8)? != b"\\u" {
                return None;
            }
            let lo = self.hex4(self.pos + 8)?;
            if !(0xDC00..=0xDFFF).contains(&lo) {
                return None;
            }
            cp = (((cp & 0x3FF) << 10) | (lo & 0x3FF)) + 0x10000;
            len = 12;
        }
        let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
        let mut b = [0u8; 4];
        self.s.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        self.pos += len;
        Some(())
    }

    fn err(&self, exp: &str, t: Tok, at: usize) -> DecErr {
        DecErr(format!(
            "Expected {exp} but found {} at character {}",
            tok_name(t),
            at + 1
        ))
    }

    unsafe fn descend(&mut self, l: *mut lua_State, slots: c_int) -> Result<(), DecErr> {
        self.depth += 1;
        if self.depth <= DECODE_MAX_DEPTH.load(Ordering::Relaxed) && lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(DecErr(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        )))
    }

    unsafe fn value(&mut self, l: *mut lua_State, t: Tok, at: usize) -> Result<(), DecErr> {
        match t {
            Tok::Str => push_bytes(l, &self.s),
            Tok::Num(n) => lua_pushnumber(l, n),
            Tok::Bool(b) => lua_pushboolean(l, b as c_int),
            Tok::Null => lua_pushlightuserdata(l, std::ptr::null_mut()),
            Tok::ObjBegin => {
                self.descend(l, 3)?;
                lua_createtable(l, 0, 0);
                let (mut t, mut at) = self.next();
                if t == Tok::ObjEnd {
                    self.depth -= 1;
                    return Ok(());
                }
                loop {
                    if t != Tok::Str {
                        return Err(self.err("object key string", t, at));
                    }
                    push_bytes(l, &self.s);
                    let (c, cat) = self.next();
                    if c != Tok::Colon {
                        return Err(self.err("colon", c, cat));
                    }
                    let (v, vat) = self.next();
                    self.value(l, v, vat)?;
                    lua_rawset(l, -3);
                    let (n, nat) = self.next();
                    match n {
                        Tok::ObjEnd => break,
                        Tok::Comma => {}
                        _ => return Err(self.err("comma or object end", n, nat)),
                    }
                    (t, at) = self.next();
                }
                self.depth -= 1;
            }
            Tok::ArrBegin => {
                self.descend(l, 2)?;
                lua_createtable(l, 0, 0);
                let (mut t, mut at) = self.next();
                if t == Tok::ArrEnd {
                    self.depth -= 1;
                    return Ok(());
                }
                let mut i: lua_Integer = 1;
                loop {
                    self.value(l, t, at)?;
                    lua_rawseti(l, -2, i);
                    i += 1;
                    let (n, nat) = self.next();
                    match n {
                        Tok::ArrEnd => break,
                        Tok::Comma => {}
                        _ => return Err(self.err("comma or array end", n, nat)),
                    }
                    (t, at) = self.next();
                }
                self.depth -= 1;
            }
            _ => return Err(self.err("value", t, at)),
        }
        Ok(())
    }
}

unsafe extern "C-unwind" fn decode(l: *mut lua_State) -> c_int {
    if lua_gettop(l) != 1 {
        return luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let mut len = 0usize;
    let p = luaL_checklstring(l, 1, &mut len);
    let data = std::slice::from_raw_parts(p as *const u8, len);
    if len >= 2 && (data[0] == 0 || data[1] == 0) {
        return luaL_error(l, c"JSON parser does not support UTF-16 or UTF-32".as_ptr());
    }
    let mut parser = Parser {
        data,
        pos: 0,
        depth: 0,
        s: Vec::new(),
    };
    let r = (|| {
        let (t, at) = parser.next();
        parser.value(l, t, at)?;
        let (t, at) = parser.next();
        if t != Tok::End {
            return Err(parser.err("the end", t, at));
        }
        Ok(())
    })();
    drop(parser);
    match r {
        Ok(()) => 1,
        Err(DecErr(msg)) => {
            push_bytes(l, msg.as_bytes());
            drop(msg);
            luaL_where(l, 1);
            lua_insert(l, -2);
            lua_concat(l, 2);
            lua_error(l)
        }
    }
}

/// The configuration functions: with an argument they set, and they return the
/// value in force.
unsafe fn config_int(l: *mut lua_State, cell: &AtomicI32, min: i32, max: i32) -> c_int {
    if lua_gettop(l) >= 1 && lua_isnil(l, 1) == 0 {
        let v = luaL_checkinteger(l, 1) as i64;
        if v < min as i64 || v > max as i64 {
            return luaL_argerror(l, 1, c"expected integer in range".as_ptr());
        }
        cell.store(v as i32, Ordering::Relaxed);
    }
    lua_pushinteger(l, cell.load(Ordering::Relaxed) as lua_Integer);
    1
}

unsafe fn config_bool(l: *mut lua_State, cell: &AtomicI32) -> c_int {
    if lua_gettop(l) >= 1 && lua_isnil(l, 1) == 0 {
        let v = if lua_type(l, 1) == LUA_TBOOLEAN {
            lua_toboolean(l, 1)
        } else {
            let s = to_bytes(l, 1).unwrap_or(b"");
            match s {
                b"on" => 1,
                b"off" => 0,
                _ => return luaL_argerror(l, 1, c"invalid option".as_ptr()),
            }
        };
        cell.store(v, Ordering::Relaxed);
    }
    lua_pushboolean(l, cell.load(Ordering::Relaxed));
    1
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: *mut lua_State) -> c_int {
    config_int(l, &ENCODE_MAX_DEPTH, 1, i32::MAX)
}
unsafe extern "C-unwind" fn cfg_decode_max_depth(l: *mut lua_State) -> c_int {
    config_int(l, &DECODE_MAX_DEPTH, 1, i32::MAX)
}
unsafe extern "C-unwind" fn cfg_precision(l: *mut lua_State) -> c_int {
    config_int(l, &PRECISION, 1, 14)
}
unsafe extern "C-unwind" fn cfg_keep_buffer(l: *mut lua_State) -> c_int {
    config_bool(l, &KEEP_BUFFER)
}
unsafe extern "C-unwind" fn cfg_encode_invalid(l: *mut lua_State) -> c_int {
    config_bool(l, &ENCODE_INVALID)
}
unsafe extern "C-unwind" fn cfg_decode_invalid(l: *mut lua_State) -> c_int {
    config_bool(l, &DECODE_INVALID)
}
unsafe extern "C-unwind" fn cfg_sparse(l: *mut lua_State) -> c_int {
    if lua_gettop(l) >= 1 && lua_isnil(l, 1) == 0 {
        let v = if lua_type(l, 1) == LUA_TBOOLEAN {
            lua_toboolean(l, 1)
        } else {
            luaL_checkinteger(l, 1) as i32
        };
        SPARSE_CONVERT.store(v, Ordering::Relaxed);
        if lua_gettop(l) >= 2 {
            SPARSE_RATIO.store(luaL_checkinteger(l, 2) as i32, Ordering::Relaxed);
        }
        if lua_gettop(l) >= 3 {
            SPARSE_SAFE.store(luaL_checkinteger(l, 3) as i32, Ordering::Relaxed);
        }
    }
    lua_pushboolean(l, SPARSE_CONVERT.load(Ordering::Relaxed));
    lua_pushinteger(l, SPARSE_RATIO.load(Ordering::Relaxed) as lua_Integer);
    lua_pushinteger(l, SPARSE_SAFE.load(Ordering::Relaxed) as lua_Integer);
    3
}

/// Registers the `cjson` table in the globals.
pub unsafe fn open(l: *mut lua_State) {
    let funcs: &[(&CStr, lua_CFunction)] = &[
        (c"encode", encode),
        (c"decode", decode),
        (c"encode_sparse_array", cfg_sparse),
        (c"encode_max_depth", cfg_encode_max_depth),
        (c"decode_max_depth", cfg_decode_max_depth),
        (c"encode_number_precision", cfg_precision),
        (c"encode_keep_buffer", cfg_keep_buffer),
        (c"encode_invalid_numbers", cfg_encode_invalid),
        (c"decode_invalid_numbers", cfg_decode_invalid),
    ];
    lua_createtable(l, 0, funcs.len() as c_int + 3);
    for (name, f) in funcs {
        lua_pushcfunction(l, *f);
        lua_setfield(l, -2, name.as_ptr());
    }
    lua_pushlightuserdata(l, std::ptr::null_mut());
    lua_setfield(l, -2, c"null".as_ptr());
    lua_pushstring(l, c"cjson".as_ptr());
    lua_setfield(l, -2, c"_NAME".as_ptr());
    lua_pushstring(l, c"2.1.0".as_ptr());
    lua_setfield(l, -2, c"_VERSION".as_ptr());
    lua_setfield(l, LUA_GLOBALSINDEX, c"cjson".as_ptr());
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_as_cjson() {
        let mut out = Vec::new();
        super::escape_into(b"a/b\"\\\n\x01\x7f\xc3\xa9", &mut out);
        assert_eq!(out, b"\"a\\/b\\\"\\\\\\n\\u0001\\u007f\xc3\xa9\"");
    }

    #[test]
    fn numbers_as_14g() {
        let mut out = Vec::new();
        super::fmt_number(0.1, &mut out);
        out.push(b' ');
        super::fmt_number(1e20, &mut out);
        out.push(b' ');
        super::fmt_number(3.0, &mut out);
        assert_eq!(out, b"0.1 1e+20 3");
    }
}
