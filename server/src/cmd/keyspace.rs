//! Generic keyspace commands.

use crate::dispatch::{errors, CmdResult, Ctx};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("dbsize", dbsize),
    ("del", del),
    ("exists", exists),
    ("flushall", flushall),
    ("flushdb", flushdb),
];

/// DBSIZE
pub fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.db().len();
    ctx.out.int(n as i64);
    Ok(())
}

/// DEL key [key ...]
pub fn del(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.argv[i].clone();
        if ctx.delete_key(&key) {
            n += 1;
        }
    }
    ctx.dirty(n);
    ctx.out.int(n as i64);
    Ok(())
}

/// EXISTS key [key ...]
pub fn exists(ctx: &mut Ctx) -> CmdResult {
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.argv[i].clone();
        if ctx.read_key(&key).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
    Ok(())
}

fn flush_mode(ctx: &Ctx) -> Result<(), crate::dispatch::CmdError> {
    match ctx.argc() {
        1 => Ok(()),
        2 if ctx.arg_is(1, "async") || ctx.arg_is(1, "sync") => Ok(()),
        _ => Err(errors::SYNTAX.into()),
    }
}

/// FLUSHDB [ASYNC|SYNC]
pub fn flushdb(ctx: &mut Ctx) -> CmdResult {
    flush_mode(ctx)?;
    let n = ctx.db().clear();
    ctx.dirty(n as u64 + 1);
    ctx.out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]
pub fn flushall(ctx: &mut Ctx) -> CmdResult {
    flush_mode(ctx)?;
    let mut n = 0;
    for db in ctx.srv.keyspace.dbs.iter_mut() {
        n += db.clear();
    }
    ctx.dirty(n as u64 + 1);
    ctx.out.ok();
    Ok(())
}
