//! BITFIELD and BITFIELD_RO: integer fields of 1 to 64 bits at any bit offset of a
//! string, read, written or incremented with a chosen overflow behaviour.

use super::args::parse_i64_arg;
use super::bits::{parse_bit_offset, string_for_bits};
use crate::bitmap::{self, Overflow};
use crate::dispatch::{errors, CmdError, CmdResult, Ctx};
use crate::object::IntBuf;

/// One GET/SET/INCRBY of the command line.
struct FieldOp {
    kind: OpKind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// The SET value or the INCRBY increment.
    arg: i64,
    overflow: Overflow,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Get,
    Set,
    IncrBy,
}

const TYPE_ERR: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// Parses `i<bits>` / `u<bits>`: signed up to 64 bits, unsigned up to 63.
fn parse_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(TYPE_ERR.into()),
    };
    // Redis reads the width as a C string: it ends at the first NUL byte.
    let digits = arg[1..].split(|&c| c == 0).next().unwrap_or(&[]);
    match redis_formats::num::parse_i64(digits) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(TYPE_ERR.into()),
    }
}

/// Parses the subcommands from argument 2 on; all are checked before any runs.
fn parse_ops(ctx: &Ctx) -> Result<Vec<FieldOp>, CmdError> {
    let argv = ctx.argv;
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < argv.len() {
        let rem = argv.len() - j - 1;
        let sub: &[u8] = argv[j];
        let kind = if sub.eq_ignore_ascii_case(b"get") && rem >= 2 {
            OpKind::Get
        } else if sub.eq_ignore_ascii_case(b"set") && rem >= 3 {
            OpKind::Set
        } else if sub.eq_ignore_ascii_case(b"incrby") && rem >= 3 {
            OpKind::IncrBy
        } else if sub.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
            let t: &[u8] = argv[j + 1];
            overflow = if t.eq_ignore_ascii_case(b"wrap") {
                Overflow::Wrap
            } else if t.eq_ignore_ascii_case(b"sat") {
                Overflow::Sat
            } else if t.eq_ignore_ascii_case(b"fail") {
                Overflow::Fail
            } else {
                return Err("ERR Invalid OVERFLOW type specified".into());
            };
            j += 2;
            continue;
        } else {
            return Err(errors::SYNTAX.into());
        };
        let (signed, bits) = parse_type(argv[j + 1])?;
        let offset = parse_bit_offset(ctx, argv[j + 2], bits)?;
        let arg = if kind == OpKind::Get {
            0
        } else {
            parse_i64_arg(argv[j + 3])?
        };
        ops.push(FieldOp {
            kind,
            signed,
            bits,
            offset,
            arg,
            overflow,
        });
        j += if kind == OpKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr]
/// [OVERFLOW WRAP|SAT|FAIL] ...
pub fn bitfield(ctx: &mut Ctx) -> CmdResult {
    run(ctx, false)
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(ctx: &mut Ctx) -> CmdResult {
    run(ctx, true)
}

fn run(ctx: &mut Ctx, read_only_cmd: bool) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let ops = parse_ops(ctx)?;
    let writes = ops.iter().any(|op| op.kind != OpKind::Get);
    if !writes {
        let (obj, out) = ctx.read_key_out(key);
        let mut buf: IntBuf = [0; 20];
        let s: &[u8] = match obj {
            Some(o) if !o.value.is_string() => return Err(errors::WRONGTYPE.into()),
            Some(o) => o.value.as_bytes(&mut buf),
            None => &[],
        };
        out.array(ops.len());
        for op in &ops {
            out.int(read_field(s, op));
        }
        return Ok(());
    }
    if read_only_cmd {
        return Err("ERR BITFIELD_RO only supports the GET subcommand".into());
    }
    let highest = ops
        .iter()
        .filter(|op| op.kind != OpKind::Get)
        .map(|op| op.offset + op.bits as u64 - 1)
        .max()
        .unwrap_or(0);
    let (raw, created_or_grew) = string_for_bits(ctx, key, highest)?;
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    let mut changes = 0;
    for op in &ops {
        if op.kind == OpKind::Get {
            replies.push(Some(read_field(raw, op)));
            continue;
        }
        // SET replies the old value, INCRBY the new one; FAIL on overflow writes
        // nothing and replies null.
        let (old, new, reply, overflowed) = if op.signed {
            let old = bitmap::get_signed(raw, op.offset, op.bits);
            let (base, incr) = match op.kind {
                OpKind::IncrBy => (old, op.arg),
                _ => (op.arg, 0),
            };
            let (new, of) = bitmap::signed_add(base, incr, op.bits, op.overflow);
            let reply = if op.kind == OpKind::IncrBy { new } else { old };
            (old as u64, new as u64, reply, of)
        } else {
            let old = bitmap::get_unsigned(raw, op.offset, op.bits);
            let (base, incr) = match op.kind {
                OpKind::IncrBy => (old, op.arg),
                _ => (op.arg as u64, 0),
            };
            let (new, of) = bitmap::unsigned_add(base, incr, op.bits, op.overflow);
            let reply = if op.kind == OpKind::IncrBy { new } else { old };
            (old, new, reply as i64, of)
        };
        if overflowed && op.overflow == Overflow::Fail {
            replies.push(None);
            continue;
        }
        bitmap::set_unsigned(raw, op.offset, op.bits, new);
        if created_or_grew || old != new {
            changes += 1;
        }
        replies.push(Some(reply));
    }
    if changes > 0 {
        let argv = ctx.argv;
        ctx.notify(crate::pubsub::class::STRING, "setbit", argv[1]);
    }
    ctx.dirty(changes);
    ctx.out.array(replies.len());
    for r in replies {
        match r {
            Some(n) => ctx.out.int(n),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// The value of a GET: bits past the end of the string read as zero.
fn read_field(s: &[u8], op: &FieldOp) -> i64 {
    if op.signed {
        bitmap::get_signed(s, op.offset, op.bits)
    } else {
        bitmap::get_unsigned(s, op.offset, op.bits) as i64
    }
}
