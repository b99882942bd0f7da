//! The `bit` library scripts get (LuaBitOp's API: 32-bit operations on numbers).

use mlua::ffi::*;
use std::ffi::{c_int, CStr};

/// A number as LuaBitOp normalises it: rounded to an integer and taken modulo 2^32,
/// as a signed 32-bit value.
pub fn tobit(n: f64) -> i32 {
    // Adding 2^52 + 2^51 puts the rounded integer in the low mantissa bits.
    let t = n + 6_755_399_441_055_744.0;
    t.to_bits() as u32 as i32
}

unsafe fn arg(l: *mut lua_State, i: c_int) -> u32 {
    tobit(luaL_checknumber(l, i)) as u32
}

unsafe fn ret(l: *mut lua_State, v: u32) -> c_int {
    lua_pushnumber(l, v as i32 as f64);
    1
}

unsafe extern "C-unwind" fn bit_tobit(l: *mut lua_State) -> c_int {
    ret(l, arg(l, 1))
}

unsafe extern "C-unwind" fn bit_bnot(l: *mut lua_State) -> c_int {
    ret(l, !arg(l, 1))
}

unsafe fn fold(l: *mut lua_State, f: fn(u32, u32) -> u32) -> c_int {
    let mut acc = arg(l, 1);
    for i in 2..=lua_gettop(l) {
        acc = f(acc, arg(l, i));
    }
    ret(l, acc)
}

unsafe extern "C-unwind" fn bit_band(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a & b)
}

unsafe extern "C-unwind" fn bit_bor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a | b)
}

unsafe extern "C-unwind" fn bit_bxor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a ^ b)
}

unsafe fn shift(l: *mut lua_State, f: fn(u32, u32) -> u32) -> c_int {
    let b = arg(l, 1);
    let n = arg(l, 2) & 31;
    ret(l, f(b, n))
}

unsafe extern "C-unwind" fn bit_lshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b << n)
}

unsafe extern "C-unwind" fn bit_rshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b >> n)
}

unsafe extern "C-unwind" fn bit_arshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| ((b as i32) >> n) as u32)
}

unsafe extern "C-unwind" fn bit_rol(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b.rotate_left(n))
}

unsafe extern "C-unwind" fn bit_ror(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b.rotate_right(n))
}

unsafe extern "C-unwind" fn bit_bswap(l: *mut lua_State) -> c_int {
    ret(l, arg(l, 1).swap_bytes())
}

unsafe extern "C-unwind" fn bit_tohex(l: *mut lua_State) -> c_int {
    let b = arg(l, 1);
    let mut n: i64 = if lua_isnoneornil(l, 2) != 0 {
        8
    } else {
        tobit(luaL_checknumber(l, 2)) as i64
    };
    let digits: &[u8; 16] = if n < 0 {
        n = -n;
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = n.min(8) as usize;
    let mut buf = [0u8; 8];
    let mut v = b;
    for i in (0..n).rev() {
        buf[i] = digits[(v & 15) as usize];
        v >>= 4;
    }
    lua_pushlstring(l, buf.as_ptr() as *const _, n);
    1
}

/// Registers the `bit` table in the globals.
pub unsafe fn open(l: *mut lua_State) {
    let funcs: &[(&CStr, lua_CFunction)] = &[
        (c"tobit", bit_tobit),
        (c"bnot", bit_bnot),
        (c"band", bit_band),
        (c"bor", bit_bor),
        (c"bxor", bit_bxor),
        (c"lshift", bit_lshift),
        (c"rshift", bit_rshift),
        (c"arshift", bit_arshift),
        (c"rol", bit_rol),
        (c"ror", bit_ror),
        (c"bswap", bit_bswap),
        (c"tohex", bit_tohex),
    ];
    lua_createtable(l, 0, funcs.len() as c_int);
    for (name, f) in funcs {
        lua_pushcfunction(l, *f);
        lua_setfield(l, -2, name.as_ptr());
    }
    lua_setfield(l, LUA_GLOBALSINDEX, c"bit".as_ptr());
}

#[cfg(test)]
mod tests {
    #[test]
    fn tobit_wraps_and_rounds() {
        assert_eq!(super::tobit(0xffff_ffffu32 as f64), -1);
        assert_eq!(super::tobit(2147483648.0), i32::MIN);
        assert_eq!(super::tobit(1.5), 2);
        assert_eq!(super::tobit(2.5), 2);
        assert_eq!(super::tobit(-1.0), -1);
    }
}
