//! The `struct` library scripts get (Roberto Ierusalimschy's struct 0.2 API:
//! `struct.pack`, `struct.unpack`, `struct.size`), on x86-64 sizes and alignment.

use super::{push_bytes, to_bytes};
use mlua::ffi::*;
use std::ffi::{c_int, CStr};

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

/// An error to raise once the Rust values are dropped: the text and whether it is an
/// argument error (`bad argument #n to 'f' (...)`).
enum Fail {
    Msg(String),
    Arg(c_int, String),
}

struct Fmt<'a> {
    f: &'a [u8],
    i: usize,
}

impl Fmt<'_> {
    fn num(&mut self, default: usize) -> Result<usize, Fail> {
        if !self.f.get(self.i).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i64 = 0;
        while let Some(d) = self.f.get(self.i).filter(|c| c.is_ascii_digit()) {
            let d = (d - b'0') as i64;
            if a > i32::MAX as i64 / 10 || a * 10 > i32::MAX as i64 - d {
                return Err(Fail::Msg("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.i += 1;
        }
        Ok(a as usize)
    }

    fn size(&mut self, opt: u8) -> Result<usize, Fail> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.num(1)?,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz > MAX_INT_SIZE {
                    return Err(Fail::Msg(format!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                sz
            }
            _ => 0,
        })
    }

    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), Fail> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.num(MAX_ALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return Err(Fail::Msg(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                return Err(Fail::Arg(
                    1,
                    format!("invalid format option '{}'", opt as char),
                ))
            }
        }
        Ok(())
    }
}

fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

unsafe fn type_fail(l: *mut lua_State, arg: c_int, want: &str) -> Fail {
    let got = CStr::from_ptr(lua_typename(l, lua_type(l, arg)))
        .to_string_lossy()
        .into_owned();
    Fail::Arg(arg, format!("{want} expected, got {got}"))
}

unsafe fn check_number(l: *mut lua_State, arg: c_int) -> Result<f64, Fail> {
    if lua_isnumber(l, arg) == 0 {
        return Err(type_fail(l, arg, "number"));
    }
    Ok(lua_tonumber(l, arg))
}

unsafe fn check_string<'a>(l: *mut lua_State, arg: c_int) -> Result<&'a [u8], Fail> {
    if lua_isstring(l, arg) == 0 {
        return Err(type_fail(l, arg, "string"));
    }
    Ok(to_bytes(l, arg).unwrap_or(b""))
}

unsafe fn pack_into(l: *mut lua_State, out: &mut Vec<u8>) -> Result<(), Fail> {
    let f = check_string(l, 1)?;
    let mut fmt = Fmt { f, i: 0 };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut arg = 2;
    while fmt.i < fmt.f.len() {
        let opt = fmt.f[fmt.i];
        fmt.i += 1;
        let mut size = fmt.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(l, arg)?;
                arg += 1;
                let v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let bytes = v.to_le_bytes();
                let mut buf = [0u8; MAX_INT_SIZE];
                buf[..size.min(8)].copy_from_slice(&bytes[..size.min(8)]);
                if !h.little {
                    buf[..size].reverse();
                }
                out.extend_from_slice(&buf[..size]);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = check_number(l, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'd' => {
                let v = check_number(l, arg)?;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = check_string(l, arg)?;
                arg += 1;
                // 's', and 'c0', take the whole string.
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(Fail::Arg(arg, "string too short".into()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
    }
    Ok(())
}

unsafe fn unpack_all(l: *mut lua_State) -> Result<c_int, Fail> {
    let f = check_string(l, 1)?;
    let data = check_string(l, 2)?;
    let mut pos = if lua_isnoneornil(l, 3) != 0 {
        1
    } else {
        check_number(l, 3)? as i64
    };
    if pos <= 0 {
        return Err(Fail::Arg(3, "offset must be 1 or greater".into()));
    }
    pos -= 1;
    let mut pos = pos as usize;
    let ld = data.len();
    let mut fmt = Fmt { f, i: 0 };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut n: c_int = 0;
    while fmt.i < fmt.f.len() {
        let opt = fmt.f[fmt.i];
        fmt.i += 1;
        let mut size = fmt.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if !(size <= ld && pos <= ld - size) {
            return Err(Fail::Arg(2, "data string too short".into()));
        }
        lua_checkstack(l, 2);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let mut b = data[pos..pos + size].to_vec();
                if !h.little {
                    b.reverse();
                }
                let mut v: u64 = 0;
                for &x in b.iter().rev() {
                    v = (v << 8) | x as u64;
                }
                let r = if opt.is_ascii_lowercase() {
                    let bits = (size * 8).min(64);
                    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
                        v |= !0u64 << (bits - 1);
                    }
                    v as i64 as f64
                } else {
                    v as f64
                };
                lua_pushnumber(l, r);
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                lua_pushnumber(l, v as f64);
                n += 1;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                lua_pushnumber(l, v);
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || lua_isnumber(l, -1) == 0 {
                        return Err(Fail::Msg("format 'c0' needs a previous size".into()));
                    }
                    size = lua_tonumber(l, -1) as usize;
                    lua_pop(l, 1);
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(Fail::Arg(2, "data string too short".into()));
                    }
                }
                push_bytes(l, &data[pos..pos + size]);
                n += 1;
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|&c| c == 0) else {
                    return Err(Fail::Msg("unfinished string in data".into()));
                };
                size = e + 1;
                push_bytes(l, &data[pos..pos + e]);
                n += 1;
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos += size;
    }
    lua_pushinteger(l, (pos + 1) as lua_Integer);
    Ok(n + 1)
}

unsafe fn size_of(l: *mut lua_State) -> Result<usize, Fail> {
    let f = check_string(l, 1)?;
    let mut fmt = Fmt { f, i: 0 };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut pos = 0;
    while fmt.i < fmt.f.len() {
        let opt = fmt.f[fmt.i];
        fmt.i += 1;
        let size = fmt.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(Fail::Arg(1, "option 's' has no fixed size".into()));
        } else if opt == b'c' && size == 0 {
            return Err(Fail::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(pos)
}

/// Raises `fail` as luaL_error / luaL_argerror would for function `name`.
unsafe fn raise(l: *mut lua_State, name: &str, fail: Fail) -> c_int {
    let msg = match fail {
        Fail::Msg(m) => m,
        Fail::Arg(n, m) => format!("bad argument #{n} to '{name}' ({m})"),
    };
    push_bytes(l, msg.as_bytes());
    drop(msg);
    luaL_where(l, 1);
    lua_insert(l, -2);
    lua_concat(l, 2);
    lua_error(l)
}

unsafe extern "C-unwind" fn pack(l: *mut lua_State) -> c_int {
    let mut out = Vec::new();
    let r = pack_into(l, &mut out);
    match r {
        Ok(()) => {
            push_bytes(l, &out);
            1
        }
        Err(e) => {
            drop(out);
            raise(l, "pack", e)
        }
    }
}

unsafe extern "C-unwind" fn unpack(l: *mut lua_State) -> c_int {
    match unpack_all(l) {
        Ok(n) => n,
        Err(e) => raise(l, "unpack", e),
    }
}

unsafe extern "C-unwind" fn size(l: *mut lua_State) -> c_int {
    match size_of(l) {
        Ok(n) => {
            lua_pushinteger(l, n as lua_Integer);
            1
        }
        Err(e) => raise(l, "size", e),
    }
}

/// Registers the `struct` table in the globals.
pub unsafe fn open(l: *mut lua_State) {
    let funcs: &[(&CStr, lua_CFunction)] = &[(c"pack", pack), (c"unpack", unpack), (c"size", size)];
    lua_createtable(l, 0, funcs.len() as c_int);
    for (name, f) in funcs {
        lua_pushcfunction(l, *f);
        lua_setfield(l, -2, name.as_ptr());
    }
    lua_setfield(l, LUA_GLOBALSINDEX, c"struct".as_ptr());
}
