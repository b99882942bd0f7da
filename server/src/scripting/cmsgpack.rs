//! The `cmsgpack` library scripts get: MessagePack as lua-cmsgpack 0.4 writes and
//! reads it (smallest encodings, float32 when exact, tables nested 16 deep at most,
//! arrays only for keys 1..n).

use super::{push_bytes, to_bytes};
use mlua::ffi::*;
use std::ffi::{c_int, CStr};

const MAX_NESTING: u32 = 16;

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(n: f64, out: &mut Vec<u8>) {
    if n.is_finite() && (n as i64) as f64 == n {
        encode_int(n as i64, out);
    } else if (n as f32) as f64 == n || n.is_nan() && (n as f32).is_nan() {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_header(n: usize, fix: u8, b16: u8, b32: u8, out: &mut Vec<u8>) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Array length if the table on top has exactly the keys 1..n.
unsafe fn array_len(l: *mut lua_State) -> Option<usize> {
    let mut count = 0usize;
    let mut max = 0f64;
    lua_pushnil(l);
    while lua_next(l, -2) != 0 {
        lua_pop(l, 1);
        if lua_type(l, -1) == LUA_TNUMBER {
            let n = lua_tonumber(l, -1);
            if n > 0.0 && (n as i64) as f64 == n {
                count += 1;
                if n > max {
                    max = n;
                }
                continue;
            }
        }
        lua_pop(l, 1);
        return None;
    }
    (max == count as f64).then_some(count)
}

unsafe fn encode_value(l: *mut lua_State, out: &mut Vec<u8>, level: u32) {
    lua_checkstack(l, 3);
    let mut t = lua_type(l, -1);
    if t == LUA_TTABLE && level == MAX_NESTING {
        t = LUA_TNIL;
    }
    match t {
        LUA_TSTRING => encode_bytes(to_bytes(l, -1).unwrap_or(b""), out),
        LUA_TBOOLEAN => out.push(if lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        LUA_TNUMBER => encode_number(lua_tonumber(l, -1), out),
        LUA_TTABLE => match array_len(l) {
            Some(n) => {
                encode_header(n, 0x90, 0xdc, 0xdd, out);
                for j in 1..=n {
                    lua_rawgeti(l, -1, j as lua_Integer);
                    encode_value(l, out, level + 1);
                    lua_pop(l, 1);
                }
            }
            None => {
                let mut n = 0;
                lua_pushnil(l);
                while lua_next(l, -2) != 0 {
                    lua_pop(l, 1);
                    n += 1;
                }
                encode_header(n, 0x80, 0xde, 0xdf, out);
                lua_pushnil(l);
                while lua_next(l, -2) != 0 {
                    lua_pushvalue(l, -2);
                    encode_value(l, out, level + 1);
                    lua_pop(l, 1);
                    encode_value(l, out, level + 1);
                    lua_pop(l, 1);
                }
            }
        },
        _ => out.push(0xc0),
    }
}

unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let n = lua_gettop(l);
    if n == 0 {
        return luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
    }
    let mut out = Vec::new();
    for i in 1..=n {
        lua_pushvalue(l, i);
        encode_value(l, &mut out, 0);
        lua_pop(l, 1);
    }
    push_bytes(l, &out);
    1
}

#[derive(PartialEq)]
enum DecErr {
    Eof,
    BadFmt,
}

struct Cur<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cur<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecErr> {
        if self.data.len() - self.pos < n {
            return Err(DecErr::Eof);
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn be(&mut self, n: usize) -> Result<u64, DecErr> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
    }
}

unsafe fn decode_value(l: *mut lua_State, c: &mut Cur) -> Result<(), DecErr> {
    lua_checkstack(l, 3);
    let b = c.take(1)?[0];
    match b {
        0xcc => lua_pushnumber(l, c.be(1)? as f64),
        0xcd => lua_pushnumber(l, c.be(2)? as f64),
        0xce => lua_pushnumber(l, c.be(4)? as f64),
        0xcf => lua_pushnumber(l, c.be(8)? as f64),
        0xd0 => lua_pushnumber(l, c.be(1)? as u8 as i8 as f64),
        0xd1 => lua_pushnumber(l, c.be(2)? as u16 as i16 as f64),
        0xd2 => lua_pushnumber(l, c.be(4)? as u32 as i32 as f64),
        0xd3 => lua_pushnumber(l, c.be(8)? as i64 as f64),
        0xc0 => lua_pushnil(l),
        0xc2 => lua_pushboolean(l, 0),
        0xc3 => lua_pushboolean(l, 1),
        0xca => lua_pushnumber(l, f32::from_bits(c.be(4)? as u32) as f64),
        0xcb => lua_pushnumber(l, f64::from_bits(c.be(8)?)),
        0xd9..=0xdb => {
            let n = c.be(1 << (b - 0xd9))? as usize;
            let s = c.take(n)?;
            push_bytes(l, s);
        }
        0xdc | 0xdd => {
            let n = c.be(if b == 0xdc { 2 } else { 4 })? as usize;
            decode_array(l, c, n)?;
        }
        0xde | 0xdf => {
            let n = c.be(if b == 0xde { 2 } else { 4 })? as usize;
            decode_map(l, c, n)?;
        }
        _ if b & 0x80 == 0 => lua_pushnumber(l, b as f64),
        _ if b & 0xe0 == 0xe0 => lua_pushnumber(l, b as i8 as f64),
        _ if b & 0xe0 == 0xa0 => {
            let s = c.take((b & 0x1f) as usize)?;
            push_bytes(l, s);
        }
        _ if b & 0xf0 == 0x90 => decode_array(l, c, (b & 0xf) as usize)?,
        _ if b & 0xf0 == 0x80 => decode_map(l, c, (b & 0xf) as usize)?,
        _ => return Err(DecErr::BadFmt),
    }
    Ok(())
}

unsafe fn decode_array(l: *mut lua_State, c: &mut Cur, n: usize) -> Result<(), DecErr> {
    lua_createtable(l, 0, 0);
    for i in 1..=n {
        decode_value(l, c)?;
        lua_rawseti(l, -2, i as lua_Integer);
    }
    Ok(())
}

unsafe fn decode_map(l: *mut lua_State, c: &mut Cur, n: usize) -> Result<(), DecErr> {
    lua_createtable(l, 0, 0);
    for _ in 0..n {
        decode_value(l, c)?;
        decode_value(l, c)?;
        if lua_isnil(l, -2) != 0 {
            lua_pop(l, 2);
        } else {
            lua_settable(l, -3);
        }
    }
    Ok(())
}

unsafe fn unpack_full(l: *mut lua_State, limit: i64, offset: i64, all: bool) -> c_int {
    let mut len = 0usize;
    let p = luaL_checklstring(l, 1, &mut len);
    let data = std::slice::from_raw_parts(p as *const u8, len);
    if offset < 0 || limit < 0 {
        return luaL_error(
            l,
            c"Invalid request to unpack with offset of %d and limit of %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    }
    if offset as usize > len {
        return luaL_error(
            l,
            c"Start offset %d greater than input length %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    }
    let limit = if all { i64::MAX } else { limit };
    let mut cur = Cur {
        data,
        pos: offset as usize,
    };
    let mut cnt: c_int = 0;
    let mut err = None;
    while cur.pos < len && (cnt as i64) < limit {
        if let Err(e) = decode_value(l, &mut cur) {
            err = Some(e);
            break;
        }
        cnt += 1;
    }
    match err {
        Some(DecErr::Eof) => return luaL_error(l, c"Missing bytes in input.".as_ptr()),
        Some(DecErr::BadFmt) => return luaL_error(l, c"Bad data format in input.".as_ptr()),
        None => {}
    }
    if !all {
        let left = len - cur.pos;
        lua_checkstack(l, 1);
        lua_pushinteger(
            l,
            if left == 0 {
                -1
            } else {
                cur.pos as lua_Integer
            },
        );
        lua_insert(l, 2);
        cnt += 1;
    }
    cnt
}

unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    unpack_full(l, 0, 0, true)
}

unsafe extern "C-unwind" fn unpack_one(l: *mut lua_State) -> c_int {
    let offset = luaL_optinteger(l, 2, 0) as i64;
    lua_settop(l, 1);
    unpack_full(l, 1, offset, false)
}

unsafe extern "C-unwind" fn unpack_limit(l: *mut lua_State) -> c_int {
    let limit = luaL_checkinteger(l, 2) as i64;
    let offset = luaL_optinteger(l, 3, 0) as i64;
    lua_settop(l, 1);
    unpack_full(l, limit, offset, false)
}

/// Registers the `cmsgpack` table in the globals.
pub unsafe fn open(l: *mut lua_State) {
    let funcs: &[(&CStr, lua_CFunction)] = &[
        (c"pack", pack),
        (c"unpack", unpack),
        (c"unpack_one", unpack_one),
        (c"unpack_limit", unpack_limit),
    ];
    lua_createtable(l, 0, funcs.len() as c_int + 4);
    for (name, f) in funcs {
        lua_pushcfunction(l, *f);
        lua_setfield(l, -2, name.as_ptr());
    }
    for (k, v) in [
        (c"_NAME", c"cmsgpack"),
        (c"_VERSION", c"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", c"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", c"MessagePack C implementation for Lua"),
    ] {
        lua_pushstring(l, v.as_ptr());
        lua_setfield(l, -2, k.as_ptr());
    }
    lua_setfield(l, LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
}

#[cfg(test)]
mod tests {
    #[test]
    fn ints_and_doubles() {
        let mut out = Vec::new();
        super::encode_number(-1099511627776.0, &mut out);
        assert_eq!(out, [0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]);
        out.clear();
        super::encode_number(0.1, &mut out);
        assert_eq!(out[0], 0xcb);
        out.clear();
        super::encode_number(0.5, &mut out);
        assert_eq!(out, [0xca, 0x3f, 0, 0, 0]);
    }
}
