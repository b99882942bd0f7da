//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST. The values
//! are ordinary strings in Redis's HyperLogLog layout (`types/hll.rs`), so GET, SET,
//! APPEND, COPY, DUMP/RESTORE see the same bytes Redis has.

use crate::dispatch::{errors, lookup_key, CmdError, CmdResult, Ctx};
use crate::object::Value;
use crate::pubsub::class;
use crate::types::hll::{self, REGISTERS};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfdebug", pfdebug),
    ("pfmerge", pfmerge),
    ("pfselftest", pfselftest),
];

/// A sparse representation that does not add up (Redis's invalid_hll_err).
const INVALIDOBJ: &str = "INVALIDOBJ Corrupted HLL object detected";
/// A string that is not a HyperLogLog.
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

/// The bytes of a value that passes Redis's isHLLObjectOrReply, or its error.
/// Integer-encoded strings never qualify (Redis requires an sds string).
fn hll_bytes(v: &Value) -> Result<&[u8], CmdError> {
    let b: &[u8] = match v {
        Value::Str(s) => s,
        Value::Raw(r) => r,
        Value::Int(_) => return Err(NOT_HLL.into()),
        _ => return Err(errors::WRONGTYPE.into()),
    };
    if hll::is_valid(b) {
        Ok(b)
    } else {
        Err(NOT_HLL.into())
    }
}

/// Checks a value like [`hll_bytes`] and turns it into a growable raw string
/// (Redis's dbUnshareStringValue) for in-place updates.
fn hll_raw(v: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    hll_bytes(v)?;
    Ok(v.make_raw())
}

fn corrupt(_: hll::Corrupt) -> CmdError {
    INVALIDOBJ.into()
}

/// PFADD key [element ...]
pub fn pfadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key: &[u8] = argv[1];
    let max = ctx.srv.config.hll_sparse_max_bytes;
    let mut updated = 0u64;
    match ctx.write_key(key) {
        Some(o) => {
            let v = hll_raw(&mut o.value)?;
            for ele in &argv[2..] {
                if hll::add(v, ele, max).map_err(corrupt)? {
                    updated += 1;
                }
            }
            if updated > 0 {
                hll::invalidate_cache(v);
            }
        }
        None => {
            let mut v = hll::new_sparse();
            updated = 1;
            for ele in &argv[2..] {
                if hll::add(&mut v, ele, max).map_err(corrupt)? {
                    updated += 1;
                }
            }
            hll::invalidate_cache(&mut v);
            let obj = ctx.new_object(Value::Raw(Box::new(v)));
            ctx.db().add(key, obj);
        }
    }
    if updated > 0 {
        ctx.notify(class::STRING, "pfadd", key);
    }
    ctx.dirty(updated);
    ctx.out.int((updated > 0) as i64);
    Ok(())
}

/// PFCOUNT key [key ...]
pub fn pfcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 2 {
        // The cardinality of the union, from one register per byte.
        let mut max = [0u8; REGISTERS];
        for key in &argv[1..] {
            let Some(o) = ctx.read_key(key) else {
                continue;
            };
            hll::merge_into(&mut max, hll_bytes(&o.value)?).map_err(corrupt)?;
        }
        ctx.out.int(hll::count_raw(&max) as i64);
        return Ok(());
    }
    let key: &[u8] = argv[1];
    let Some(o) = ctx.read_key(key) else {
        ctx.out.int(0);
        return Ok(());
    };
    let v = hll_raw(&mut o.value)?;
    let (card, recomputed) = match hll::cached_card(v) {
        Some(c) => (c, false),
        None => {
            let c = hll::count(v).map_err(corrupt)?;
            hll::set_cached_card(v, c);
            (c, true)
        }
    };
    if recomputed {
        // The value changed (its cache): a write as far as Redis counts.
        ctx.dirty(1);
        crate::cmd::multi::touch_key(ctx.srv, ctx.client.db, key);
        if ctx.srv.tracking.active() {
            let by = ctx.srv.pubsub.current;
            crate::tracking::invalidate_key(ctx.srv, key, true, by);
        }
    }
    ctx.out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]
pub fn pfmerge(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    // The destination is the first source, as in Redis.
    for key in &argv[1..] {
        let Some(o) = ctx.read_key(key) else {
            continue;
        };
        let b = hll_bytes(&o.value)?;
        use_dense |= b[4] == hll::DENSE;
        hll::merge_into(&mut max, b).map_err(corrupt)?;
    }
    let key: &[u8] = argv[1];
    let sparse_max = ctx.srv.config.hll_sparse_max_bytes;
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = !ctx.client.no_touch;
    if lookup_key(ctx.srv, db, key, now, false, touch).is_none() {
        let obj = ctx.new_object(Value::Raw(Box::new(hll::new_sparse())));
        ctx.db().add(key, obj);
    }
    let o = lookup_key(ctx.srv, db, key, now, false, false).expect("just ensured");
    // Checked as a source above.
    let v = o.value.make_raw();
    if use_dense {
        hll::sparse_to_dense(v).map_err(corrupt)?;
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if v[4] == hll::DENSE {
            hll::dense_set(&mut v[hll::HDR..], j, m);
        } else {
            // The destination was validated as a source: it cannot fail here.
            let _ = hll::sparse_set(v, j, m, sparse_max);
        }
    }
    hll::invalidate_cache(v);
    // Redis names PFMERGE's event "pfadd".
    ctx.notify(class::STRING, "pfadd", ctx.argv[1]);
    ctx.dirty(1);
    ctx.out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let sub: &[u8] = argv[1];
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let touch = !ctx.client.no_touch;
    let Some(o) = lookup_key(ctx.srv, db, argv[2], now, false, touch) else {
        return Err("ERR The specified key does not exist".into());
    };
    let v = hll_raw(&mut o.value)?;
    let out = &mut *ctx.out;
    let mut dirty = 0;
    if sub.eq_ignore_ascii_case(b"getreg") {
        if v[4] == hll::SPARSE {
            hll::sparse_to_dense(v).map_err(corrupt)?;
            dirty = 1;
        }
        out.array(REGISTERS);
        let r = &v[hll::HDR..];
        for j in 0..REGISTERS {
            out.int(hll::dense_get(r, j) as i64);
        }
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if v[4] != hll::SPARSE {
            return Err("ERR HLL encoding is not sparse".into());
        }
        out.bulk(hll::decode(v).as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        out.simple(if v[4] == hll::DENSE {
            b"dense"
        } else {
            b"sparse"
        });
    } else if sub.eq_ignore_ascii_case(b"todense") {
        if v[4] == hll::SPARSE {
            hll::sparse_to_dense(v).map_err(corrupt)?;
            dirty = 1;
        }
        out.int(dirty as i64);
    } else {
        // Redis prints the subcommand as a C string.
        let name = sub.split(|&c| c == 0).next().unwrap_or_default();
        return Err(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(name)
        )
        .into());
    }
    ctx.dirty(dirty);
    // Redis counts the conversion as a change but signals no modified key: WATCHes
    // of the key hold.
    ctx.unchanged_keys |= 1 << 2;
    Ok(())
}

/// PFSELFTEST
pub fn pfselftest(ctx: &mut Ctx) -> CmdResult {
    hll::self_test(ctx.srv.config.hll_sparse_max_bytes).map_err(|e| format!("ERR {e}"))?;
    ctx.out.ok();
    Ok(())
}
