//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.
//! The state and delivery are in `crate::pubsub`.

use crate::dispatch::{CmdResult, Ctx};
use crate::pubsub::{self, Kind};

/// The commands of this module.
pub const HANDLERS: &[(&str, super::Handler)] = &[
    ("psubscribe", psubscribe),
    ("publish", publish),
    ("pubsub|channels", pubsub_channels),
    ("pubsub|help", pubsub_help),
    ("pubsub|numpat", pubsub_numpat),
    ("pubsub|numsub", pubsub_numsub),
    ("pubsub|shardchannels", pubsub_shardchannels),
    ("pubsub|shardnumsub", pubsub_shardnumsub),
    ("punsubscribe", punsubscribe),
    ("spublish", spublish),
    ("ssubscribe", ssubscribe),
    ("subscribe", subscribe),
    ("sunsubscribe", sunsubscribe),
    ("unsubscribe", unsubscribe),
];

fn subscribe_generic(ctx: &mut Ctx, kind: Kind, name: &str) -> CmdResult {
    // A client that needs one reply per command (a script) may not subscribe;
    // inside EXEC it may, as Redis allows for MULTI.
    if ctx.client.deny_blocking && !ctx.client.in_exec {
        return Err(format!("ERR {name} isn't allowed for a DENY BLOCKING client").into());
    }
    for arg in &ctx.argv[1..] {
        pubsub::subscribe(ctx.srv, ctx.client, kind, arg);
    }
    ctx.flush_pushes();
    Ok(())
}

fn unsubscribe_generic(ctx: &mut Ctx, kind: Kind) -> CmdResult {
    if ctx.argc() == 1 {
        pubsub::unsubscribe_all(ctx.srv, ctx.client, kind, true);
    } else {
        for arg in &ctx.argv[1..] {
            pubsub::unsubscribe(ctx.srv, ctx.client, kind, arg, true);
        }
    }
    pubsub::update_mode(ctx.client);
    ctx.flush_pushes();
    Ok(())
}

/// SUBSCRIBE channel [channel ...]
fn subscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_generic(ctx, Kind::Channel, "SUBSCRIBE")
}

/// PSUBSCRIBE pattern [pattern ...]
fn psubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_generic(ctx, Kind::Pattern, "PSUBSCRIBE")
}

/// SSUBSCRIBE shardchannel [shardchannel ...]
fn ssubscribe(ctx: &mut Ctx) -> CmdResult {
    subscribe_generic(ctx, Kind::Shard, "SSUBSCRIBE")
}

/// UNSUBSCRIBE [channel ...]
fn unsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Channel)
}

/// PUNSUBSCRIBE [pattern ...]
fn punsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Pattern)
}

/// SUNSUBSCRIBE [shardchannel ...]
fn sunsubscribe(ctx: &mut Ctx) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Shard)
}

fn publish_generic(ctx: &mut Ctx, shard: bool) -> CmdResult {
    let n = pubsub::publish(ctx.srv, ctx.argv[1], ctx.argv[2], shard);
    ctx.flush_pushes();
    ctx.out.int(n as i64);
    Ok(())
}

/// PUBLISH channel message
fn publish(ctx: &mut Ctx) -> CmdResult {
    publish_generic(ctx, false)
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx) -> CmdResult {
    publish_generic(ctx, true)
}

/// The channels of `index` matching the optional pattern in argv[2].
fn channel_list(ctx: &mut Ctx, shard: bool) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let pat = ctx.argv.get(2);
    let ps = &ctx.srv.pubsub;
    let index = if shard { &ps.shard } else { &ps.channels };
    let d = ctx.out.defer();
    let mut n = 0;
    for ch in index.keys() {
        if pat.is_none_or(|p| redis_formats::glob::glob_match(p, ch, false)) {
            ctx.out.bulk(ch);
            n += 1;
        }
    }
    ctx.out.set_array_len(d, n);
    Ok(())
}

fn numsub(ctx: &mut Ctx, shard: bool) -> CmdResult {
    let ps = &ctx.srv.pubsub;
    let index = if shard { &ps.shard } else { &ps.channels };
    ctx.out.array((ctx.argv.len() - 2) * 2);
    for ch in &ctx.argv[2..] {
        ctx.out.bulk(ch);
        ctx.out
            .int(index.get(&ch[..]).map_or(0, |v| v.len()) as i64);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
fn pubsub_channels(ctx: &mut Ctx) -> CmdResult {
    channel_list(ctx, false)
}

/// PUBSUB SHARDCHANNELS [pattern]
fn pubsub_shardchannels(ctx: &mut Ctx) -> CmdResult {
    channel_list(ctx, true)
}

/// PUBSUB NUMSUB [channel ...]
fn pubsub_numsub(ctx: &mut Ctx) -> CmdResult {
    numsub(ctx, false)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
fn pubsub_shardnumsub(ctx: &mut Ctx) -> CmdResult {
    numsub(ctx, true)
}

/// PUBSUB NUMPAT
fn pubsub_numpat(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() != 2 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    let n = ctx.srv.pubsub.patterns.len();
    ctx.out.int(n as i64);
    Ok(())
}

/// PUBSUB HELP
fn pubsub_help(ctx: &mut Ctx) -> CmdResult {
    if ctx.argc() != 2 {
        return Err(super::help::subcommand_syntax_error(ctx));
    }
    super::help::reply_help(
        ctx,
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}
