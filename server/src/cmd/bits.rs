//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP. BITFIELD is in
//! `bitfield.rs`; the bit arithmetic itself is in `crate::bitmap`.

use super::args::parse_i64_arg;
use crate::bitmap;
use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::object::{IntBuf, Value};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("bitcount", bitcount),
    ("bitop", bitop),
    ("bitpos", bitpos),
    ("getbit", getbit),
    ("setbit", setbit),
    ("bitfield", super::bitfield::bitfield),
    ("bitfield_ro", super::bitfield::bitfield_ro),
];

const BIT_OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

/// Redis's getBitOffsetFromArgument: a bit offset, below proto-max-bulk-len bytes.
/// With `hash_bits` (BITFIELD), `#n` means `n * hash_bits`.
pub(super) fn parse_bit_offset(ctx: &Ctx, arg: &[u8], hash_bits: u32) -> Result<u64, CmdError> {
    let (digits, mult) = match arg.first() {
        Some(b'#') if hash_bits > 0 => (&arg[1..], hash_bits as i64),
        _ => (arg, 1),
    };
    let n = redis_formats::num::parse_i64(digits)
        .ok_or(CmdError::from(BIT_OFFSET_ERR))?
        .wrapping_mul(mult);
    if n < 0 || (n >> 3) >= ctx.srv.config.proto_max_bulk_len {
        return Err(BIT_OFFSET_ERR.into());
    }
    Ok(n as u64)
}

/// Redis's lookupStringForBitCommand: the key's string as a raw buffer, created or
/// zero-padded so that bit `max_bit` exists. Returns whether the key was created or
/// grew. Fails with WRONGTYPE.
pub(super) fn string_for_bits<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    max_bit: u64,
) -> Result<(&'c mut Vec<u8>, bool), CmdError> {
    let need = (max_bit >> 3) as usize + 1;
    let exists = match ctx.write_key(key) {
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(_) => true,
        None => false,
    };
    if !exists {
        let obj = ctx.new_object(Value::Raw(Box::new(vec![0u8; need])));
        ctx.db().add(key, obj);
    }
    let o = ctx.db().keys.get_mut(key).expect("present or just added");
    let raw = o.value.make_raw();
    let grew = raw.len() < need;
    if grew {
        raw.resize(need, 0);
    }
    Ok((raw, grew || !exists))
}

/// SETBIT key offset value
pub fn setbit(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    const BIT_ERR: &str = "ERR bit is not an integer or out of range";
    let offset = parse_bit_offset(ctx, argv[2], 0)?;
    let on = redis_formats::num::parse_i64(argv[3]).ok_or(CmdError::from(BIT_ERR))?;
    if on & !1 != 0 {
        return Err(BIT_ERR.into());
    }
    let (raw, created_or_grew) = string_for_bits(ctx, argv[1], offset)?;
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let old = raw[byte] & mask != 0;
    let changed = created_or_grew || old != (on == 1);
    if on == 1 {
        raw[byte] |= mask;
    } else {
        raw[byte] &= !mask;
    }
    if changed {
        let argv = ctx.argv;
        ctx.notify(crate::pubsub::class::STRING, "setbit", argv[1]);
        ctx.dirty(1);
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
pub fn getbit(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let offset = parse_bit_offset(ctx, argv[2], 0)?;
    let bit = match ctx.read_key(argv[1]) {
        None => false,
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(o) => bitmap::bit_at(o.value.as_bytes(&mut [0; 20]), offset),
    };
    ctx.out.int(bit as i64);
    Ok(())
}

/// Parses BIT|BYTE: true for BIT.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(errors::SYNTAX.into())
    }
}

/// Redis's range rules for BITCOUNT/BITPOS: negative indexes count from the end of
/// `total` units, then both are clamped into the string. `None` when empty.
fn clamp_range(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let mut start = if start < 0 { total + start } else { start };
    let mut end = if end < 0 { total + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start <= end).then_some((start as u64, end as u64))
}

/// BITCOUNT key [start end [BYTE|BIT]]
pub fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let n = match ctx.read_key(argv[1]) {
        None => 0,
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(o) => {
            let mut buf: IntBuf = [0; 20];
            let s = o.value.as_bytes(&mut buf);
            let len = s.len() as i64;
            match argv.len() {
                2 => bitmap::popcount(s),
                4 | 5 => {
                    let start = parse_i64_arg(argv[2])?;
                    let end = parse_i64_arg(argv[3])?;
                    if start < 0 && end < 0 && start > end {
                        0
                    } else {
                        let is_bit = argv.len() == 5 && parse_unit(argv[4])?;
                        let total = if is_bit { len * 8 } else { len };
                        match clamp_range(start, end, total) {
                            None => 0,
                            Some((a, b)) if is_bit => bitmap::count_bits(s, a, b),
                            Some((a, b)) => bitmap::popcount(&s[a as usize..=b as usize]),
                        }
                    }
                }
                _ => return Err(errors::SYNTAX.into()),
            }
        }
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
pub fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let bit = parse_i64_arg(argv[2])?;
    if bit != 0 && bit != 1 {
        return Err("ERR The bit argument must be 1 or 0.".into());
    }
    let bit = bit == 1;
    let pos = match ctx.read_key(argv[1]) {
        // A missing key is an endless run of zeros.
        None => {
            if bit {
                -1
            } else {
                0
            }
        }
        Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
        Some(o) => {
            let mut buf: IntBuf = [0; 20];
            let s = o.value.as_bytes(&mut buf);
            let len = s.len() as i64;
            let (range, is_bit, end_given) = match argv.len() {
                3 => (clamp_range(0, len - 1, len), false, false),
                4..=6 => {
                    let start = parse_i64_arg(argv[3])?;
                    let is_bit = argv.len() == 6 && parse_unit(argv[5])?;
                    let end = if argv.len() >= 5 {
                        parse_i64_arg(argv[4])?
                    } else {
                        len - 1
                    };
                    let total = if is_bit { len * 8 } else { len };
                    (clamp_range(start, end, total), is_bit, argv.len() >= 5)
                }
                _ => return Err(errors::SYNTAX.into()),
            };
            match range {
                None => -1,
                Some((a, b)) => {
                    let (first, last) = if is_bit { (a, b) } else { (a * 8, b * 8 + 7) };
                    match bitmap::find_bit(s, bit, first, last) {
                        Some(p) => p as i64,
                        // Looking for a zero without an explicit end: the string
                        // continues with zeros right after the range.
                        None if !bit && !end_given => (last + 1) as i64,
                        None => -1,
                    }
                }
            }
        }
    };
    ctx.out.int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
pub fn bitop(ctx: &mut Ctx) -> CmdResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let argv = ctx.argv;
    let name: &[u8] = argv[1];
    let op = if name.eq_ignore_ascii_case(b"and") {
        Op::And
    } else if name.eq_ignore_ascii_case(b"or") {
        Op::Or
    } else if name.eq_ignore_ascii_case(b"xor") {
        Op::Xor
    } else if name.eq_ignore_ascii_case(b"not") {
        Op::Not
    } else {
        return Err(errors::SYNTAX.into());
    };
    if op == Op::Not && argv.len() != 4 {
        return Err("ERR BITOP NOT must be called with a single source key.".into());
    }
    let mut sources: Vec<Vec<u8>> = Vec::with_capacity(argv.len() - 3);
    for key in &argv[3..] {
        match ctx.read_key(key) {
            None => sources.push(Vec::new()),
            Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
            Some(o) => sources.push(o.value.to_bytes()),
        }
    }
    let maxlen = sources.iter().map(Vec::len).max().unwrap_or(0);
    let dest: &[u8] = argv[2];
    if maxlen == 0 {
        if ctx.db().remove(dest).is_some() {
            ctx.notify(crate::pubsub::class::GENERIC, "del", dest);
            ctx.dirty(1);
        }
        ctx.out.int(0);
        return Ok(());
    }
    // Shorter strings count as zero-padded.
    let mut res = sources[0].clone();
    res.resize(maxlen, 0);
    match op {
        Op::Not => res.iter_mut().for_each(|b| *b = !*b),
        _ => {
            for src in &sources[1..] {
                for (i, r) in res.iter_mut().enumerate() {
                    let b = src.get(i).copied().unwrap_or(0);
                    match op {
                        Op::And => *r &= b,
                        Op::Or => *r |= b,
                        _ => *r ^= b,
                    }
                }
            }
        }
    }
    ctx.set_key(dest, Value::Raw(Box::new(res)), false);
    ctx.notify(crate::pubsub::class::STRING, "set", dest);
    ctx.dirty(1);
    ctx.out.int(maxlen as i64);
    Ok(())
}
