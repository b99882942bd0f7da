//! Redis 7.0 functions (FUNCTION ..., FCALL, FCALL_RO): the same requests to our server
//! and to Debian's redis-server 7.0.15, reply bytes compared (errors included) in RESP2
//! and RESP3; FUNCTION DUMP payloads restored across the two servers; RDB files with
//! function libraries written by one and loaded by the other.

mod common;
use common::raw::*;
use common::*;
use std::time::Duration;

/// A library with one function `name` whose body is `body`.
fn lib(lib: &str, name: &str, body: &str) -> String {
    format!(
        "#!lua name={lib}\nredis.register_function('{name}', function(keys, args)\n {body} \nend)"
    )
}

fn c(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

fn load(code: &str) -> Vec<Vec<u8>> {
    c(&["FUNCTION", "LOAD", code])
}

fn load_replace(code: &str) -> Vec<Vec<u8>> {
    c(&["FUNCTION", "LOAD", "REPLACE", code])
}

/// The requests, in order (the state carries from one to the next).
fn scenario() -> Vec<Vec<Vec<u8>>> {
    let mut v = vec![args("FUNCTION FLUSH")];
    // FUNCTION LOAD and its errors.
    v.push(load(&lib("l1", "f1", "return 1")));
    v.push(load(&lib("l1", "f1", "return 1")));
    v.push(load(&lib("l2", "F1", "return 1")));
    v.push(load(&lib("bad-name", "x", "return 1")));
    v.push(load(&lib("", "x", "return 1")));
    v.push(load(
        "#!nosuch name=x\nredis.register_function('x', function() end)",
    ));
    v.push(load(
        "#! name=x\nredis.register_function('x', function() end)",
    ));
    v.push(load("#!lua\nredis.register_function('x', function() end)"));
    v.push(load(
        "#!lua name=a name=b\nredis.register_function('x', function() end)",
    ));
    v.push(load(
        "#!lua name=a foo=bar\nredis.register_function('x', function() end)",
    ));
    v.push(load("#!lua name=a"));
    v.push(load("lua name=a\n"));
    v.push(load(
        "#!lua name=\"quoted\"\nredis.register_function('q', function() return 'q' end)",
    ));
    v.push(load("#!lua name=l3\nlocal x = "));
    v.push(load("#!lua name=l3\nreturn 1"));
    v.push(load("#!lua name=l3\nredis.register_function()"));
    v.push(load(
        "#!lua name=l3\nredis.register_function('a', function() end, 3)",
    ));
    v.push(load(
        "#!lua name=l3\nredis.register_function(1, function() end)",
    ));
    v.push(load(
        "#!lua name=l3\nredis.register_function({}, function() end)",
    ));
    v.push(load("#!lua name=l3\nredis.register_function('a', 'b')"));
    v.push(load(
        "#!lua name=l3\nredis.register_function('a b', function() end)",
    ));
    v.push(load(
        "#!lua name=l3\nredis.register_function('', function() end)",
    ));
    v.push(load("#!lua name=l3\nredis.register_function('a', function() end)\nredis.register_function('a', function() end)"));
    v.push(load("#!lua name=l3\nredis.register_function('z')"));
    v.push(load(
        "#!lua name=l3\nredis.register_function('z', function() end, 'x')",
    ));
    for named in [
        "{function_name='n', callback=function() end, flags={'bogus'}}",
        "{function_name='n', callback=function() end, flags='no-writes'}",
        "{function_name='n', callback=function() end, flags={function() end}}",
        "{function_name=function() end, callback=function() end}",
        "{function_name='n', callback='x'}",
        "{function_name='n', callback=function() end, description=function() end}",
        "{function_name='n', callback=function() end, other=1}",
        "{callback=function() end}",
        "{function_name='n'}",
        "{'n'}",
        "'just a string'",
    ] {
        v.push(load(&format!(
            "#!lua name=l3\nredis.register_function{named}"
        )));
        v.push(load(&format!(
            "#!lua name=l3\nredis.register_function({named})"
        )));
    }
    // The load environment.
    for body in [
        "return math.random()",
        "return redis.call('ping')",
        "return redis.pcall('ping')",
        "return redis.setresp(3)",
        "return redis.set_repl(redis.REPL_NONE)",
        "a = 1",
        "error('boom')",
        "local mt = getmetatable(_G)",
        "return redis.math",
        "return string.len('x')",
        "return KEYS[1]",
        "redis.log(redis.LOG_WARNING, 'loading') redis.register_function('logged', function() return redis.REDIS_VERSION end)",
    ] {
        v.push(load(&format!("#!lua name=env\n{body}")));
    }
    v.push(args("FCALL logged 0"));
    v.push(args("FUNCTION DELETE env"));
    // LOAD options.
    v.push(c(&[
        "FUNCTION",
        "LOAD",
        "BOGUS",
        &lib("l4", "f4", "return 4"),
    ]));
    v.push(args("FUNCTION LOAD REPLACE"));
    v.push(load_replace(&lib("l1", "f1", "return 'replaced'")));
    v.push(args("FCALL f1 0"));
    v.push(args("FCALL F1 0"));
    // A failed replacement keeps the old library.
    v.push(load_replace(
        "#!lua name=l1\nredis.register_function('g', function() end)\nerror('x')",
    ));
    v.push(args("FCALL f1 0"));
    v.push(args("FCALL g 0"));
    // FCALL / FCALL_RO.
    v.push(args("FCALL nosuch 0"));
    v.push(args("FCALL f1 notanumber"));
    v.push(args("FCALL f1 2 a"));
    v.push(args("FCALL f1 -1"));
    v.push(args("FCALL"));
    v.push(args("FCALL_RO f1 0"));
    v.push(load(&lib(
        "kv",
        "kv",
        "redis.call('set', keys[1], args[1]) return redis.call('get', keys[1])",
    )));
    v.push(args("FCALL kv 1 k hello"));
    v.push(args("FCALL_RO kv 1 k hello"));
    v.push(args("GET k"));
    v.push(load(
        "#!lua name=ro\nredis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}\nredis.register_function{function_name='rw', callback=function(keys) return redis.call('set', keys[1], 'v') end, flags={'no-writes'}, description='tries to write'}",
    ));
    v.push(args("FCALL_RO ro 1 k"));
    v.push(args("FCALL ro 1 k"));
    v.push(args("FCALL rw 1 k"));
    v.push(args("FCALL_RO rw 1 k"));
    v.push(load(&lib(
        "types",
        "types",
        "return {1, 'two', {3, 'four'}, redis.status_reply('OK'), {double=3.5}, {map={a=1}}, {set={x=true}}, true, false, nil}",
    )));
    v.push(args("FCALL types 0"));
    v.push(load(&lib(
        "resp3",
        "resp3",
        "redis.setresp(3) return redis.call('hgetall', keys[1])",
    )));
    v.push(args("HSET h f v"));
    v.push(args("FCALL resp3 1 h"));
    v.push(load(&lib("errs", "errs", "return redis.call('nosuch')")));
    v.push(args("FCALL errs 0"));
    v.push(load(&lib(
        "errs2",
        "errs2",
        "return redis.error_reply('MY err')",
    )));
    v.push(args("FCALL errs2 0"));
    v.push(load(&lib("errs3", "errs3", "error('raised')")));
    v.push(args("FCALL errs3 0"));
    v.push(load(&lib("errs4", "errs4", "local t = {} t.x.y = 1")));
    v.push(args("FCALL errs4 0"));
    v.push(load(&lib("glob", "glob", "newglobal = 1")));
    v.push(args("FCALL glob 0"));
    v.push(load(&lib(
        "regin",
        "regin",
        "redis.register_function('x', function() end)",
    )));
    v.push(args("FCALL regin 0"));
    v.push(load(&lib(
        "blk",
        "blk",
        "return redis.call('blpop', 'nolist', 0)",
    )));
    v.push(args("FCALL blk 0"));
    v.push(load(&lib(
        "ev",
        "ev",
        "return redis.call('eval', 'return 1', 0)",
    )));
    v.push(args("FCALL ev 0"));
    v.push(load(&lib(
        "fl",
        "fl",
        "return redis.call('function', 'flush')",
    )));
    v.push(args("FCALL fl 0"));
    // FUNCTION LIST (one function per library: Redis lists a library's functions in
    // hash order, which varies between runs).
    v.push(args("FUNCTION LIST LIBRARYNAME l1"));
    v.push(args("FUNCTION LIST LIBRARYNAME l1 WITHCODE"));
    v.push(args("FUNCTION LIST WITHCODE LIBRARYNAME L1"));
    v.push(args("FUNCTION LIST LIBRARYNAME kv*"));
    v.push(args("FUNCTION LIST LIBRARYNAME nosuch"));
    v.push(args("FUNCTION LIST LIBRARYNAME"));
    v.push(args("FUNCTION LIST WITHCODE WITHCODE"));
    v.push(args("FUNCTION LIST LIBRARYNAME a LIBRARYNAME b"));
    v.push(args("FUNCTION LIST BOGUS"));
    v.push(args("FUNCTION STATS"));
    v.push(args("FUNCTION STATS extra"));
    // DELETE, KILL, FLUSH, RESTORE errors, HELP.
    v.push(args("FUNCTION DELETE nosuch"));
    v.push(args("FUNCTION DELETE kv"));
    v.push(args("FCALL kv 1 k v"));
    v.push(args("FUNCTION KILL"));
    v.push(args("FUNCTION FLUSH BOGUS"));
    v.push(args("FUNCTION FLUSH SYNC EXTRA"));
    v.push(args("FUNCTION RESTORE bad_payload"));
    v.push(args("FUNCTION RESTORE x FLUSH extra"));
    v.push(args("FUNCTION RESTORE x BOGUS"));
    v.push(args("FUNCTION HELP"));
    v.push(args("FUNCTION BOGUS"));
    v.push(args("FLUSHALL"));
    v.push(args("FUNCTION LIST LIBRARYNAME l1"));
    v.push(args("FUNCTION FLUSH ASYNC"));
    v.push(args("FUNCTION LIST"));
    v.push(args("FUNCTION STATS"));
    v.push(args("FUNCTION DUMP"));
    // A single library with flags and a description, listed in full.
    v.push(load(
        "#!lua name=one\nredis.register_function{function_name='only', callback=function() return 'only' end, flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, description='the only one'}",
    ));
    v.push(args("FUNCTION LIST"));
    v.push(args("FUNCTION LIST WITHCODE"));
    v.push(args("FUNCTION DUMP"));
    v.push(args("FUNCTION STATS"));
    v.push(args("INFO keyspace"));
    v
}

fn compare(pair: &mut Pair, what: &str) {
    let mut diffs = Vec::new();
    for cmd in scenario() {
        let (ra, rb) = pair.both(&cmd);
        if ra != rb {
            diffs.push(format!(
                "{:?}\n   ours: {}\n   real: {}",
                cmd.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>(),
                show(&ra),
                show(&rb)
            ));
        }
    }
    assert!(diffs.is_empty(), "{what}: {}", diffs.join("\n"));
}

#[test]
fn functions_resp2() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    compare(&mut pair, "RESP2");
}

#[test]
fn functions_resp3() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    assert!(pair.hello3());
    compare(&mut pair, "RESP3");
}

#[test]
fn oom_and_flags() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    let lines: Vec<Vec<Vec<u8>>> = vec![
        load(&lib("w", "w", "return redis.call('set', 'x', '1')")),
        load("#!lua name=o\nredis.register_function{function_name='o', callback=function() return redis.call('set', 'y', '1') end, flags={'allow-oom'}}"),
        load("#!lua name=n\nredis.register_function{function_name='n', callback=function() return 'n' end, flags={'no-writes'}}"),
        args("CONFIG SET maxmemory 1"),
        args("FCALL w 0"),
        args("FCALL o 0"),
        args("FCALL n 0"),
        args("FCALL_RO n 0"),
        args("FCALL_RO w 0"),
        args("EVAL_RO \"#!lua\nreturn 1\" 0"),
        args("EVAL_RO \"#!lua flags=no-writes\nreturn 1\" 0"),
        load(&lib("x", "x", "return 1")),
        args("FUNCTION DELETE n"),
        args("CONFIG SET maxmemory 0"),
        args("FCALL w 0"),
    ];
    let mut diffs = Vec::new();
    for cmd in lines {
        let (ra, rb) = pair.both(&cmd);
        if ra != rb {
            diffs.push(format!(
                "{:?}\n   ours: {}\n   real: {}",
                String::from_utf8_lossy(&cmd[1]),
                show(&ra),
                show(&rb)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The payload of a bulk reply.
fn bulk_payload(reply: &[u8]) -> Vec<u8> {
    assert_eq!(reply[0], b'$', "bulk reply: {}", show(reply));
    let nl = reply.iter().position(|&c| c == b'\n').unwrap();
    reply[nl + 1..reply.len() - 2].to_vec()
}

#[test]
fn dump_restores_across_servers() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    // Long enough for LZF to apply.
    let code = lib(
        "dumped",
        "dumped",
        "return 'a long enough body to be compressed by lzf, compressed by lzf, compressed by lzf'",
    );
    let (ra, rb) = pair.both(&load(&code));
    assert_eq!(ra, rb);
    let (da, db) = pair.both(&args("FUNCTION DUMP"));
    assert_eq!(show(&da), show(&db), "DUMP payloads");
    let (pa, pb) = (bulk_payload(&da), bulk_payload(&db));
    pair.both(&args("FUNCTION FLUSH"));
    // Each restores the other's payload.
    let ra = pair
        .a
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), pb.clone()]);
    let rb = pair
        .b
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), pa.clone()]);
    assert_eq!(
        (show(&ra), show(&rb)),
        ("+OK\\r\\n".into(), "+OK\\r\\n".into())
    );
    let (la, lb) = pair.both(&args("FUNCTION LIST WITHCODE"));
    assert_eq!(show(&la), show(&lb));
    let (fa, fb) = pair.both(&args("FCALL dumped 0"));
    assert_eq!(fa, fb);
    // APPEND collides, REPLACE and FLUSH do not.
    for policy in ["APPEND", "REPLACE", "FLUSH"] {
        let ra = pair.a.cmd(&[
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            pb.clone(),
            policy.as_bytes().to_vec(),
        ]);
        let rb = pair.b.cmd(&[
            b"FUNCTION".to_vec(),
            b"RESTORE".to_vec(),
            pa.clone(),
            policy.as_bytes().to_vec(),
        ]);
        assert_eq!(show(&ra), show(&rb), "RESTORE {policy}");
    }
    // A payload whose function collides with another library's.
    pair.both(&args("FUNCTION FLUSH"));
    pair.both(&load(&lib("other", "dumped", "return 0")));
    let ra = pair
        .a
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), pb.clone()]);
    let rb = pair
        .b
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), pa.clone()]);
    assert_eq!(show(&ra), show(&rb), "RESTORE with a function collision");
    // A corrupted checksum.
    let mut bad = pa.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let ra = pair
        .a
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), bad.clone()]);
    let rb = pair
        .b
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), bad]);
    assert_eq!(show(&ra), show(&rb));
    // A key's DUMP payload is not a function payload.
    pair.both(&args("SET k v"));
    let (ka, _) = pair.both(&args("DUMP k"));
    let kp = bulk_payload(&ka);
    let ra = pair
        .a
        .cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), kp.clone()]);
    let rb = pair.b.cmd(&[b"FUNCTION".to_vec(), b"RESTORE".to_vec(), kp]);
    assert_eq!(show(&ra), show(&rb));
}

/// Starts `bin` with its files in `dir` (dump.rdb there).
fn start_in(bin: &std::path::Path, dir: &std::path::Path) -> Server {
    Server::start(bin, &["--dir", dir.to_str().unwrap()])
}

fn cross_load(writer: &std::path::Path, reader: &std::path::Path) {
    let dir = tempdir::Dir::new("funcrdb");
    let code1 = lib("rdb1", "rdb1", "return redis.call('get', keys[1])");
    let code2 = "#!lua name=rdb2\nredis.register_function{function_name='rdb2', callback=function() return 'two' end, flags={'no-writes'}, description='second'}";
    {
        let w = start_in(writer, &dir.0);
        let mut cl = RawClient::connect(w.port);
        assert_eq!(show(&cl.cmd(&load(&code1))), "$4\\r\\nrdb1\\r\\n");
        assert_eq!(show(&cl.cmd(&load(code2))), "$4\\r\\nrdb2\\r\\n");
        cl.cmd(&args("SET k fromrdb"));
        assert_eq!(show(&cl.cmd(&args("SAVE"))), "+OK\\r\\n");
    }
    // Our redis-check-rdb accepts the file, with the same report as Debian's.
    let rdb = dir.0.join("dump.rdb");
    let check = |bin: &std::path::Path| {
        let o = std::process::Command::new(bin)
            .arg(&rdb)
            .output()
            .expect("run redis-check-rdb");
        assert!(o.status.success(), "{}", bin.display());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let ours = check(std::path::Path::new(env!("CARGO_BIN_EXE_redis-check-rdb")));
    let debian = std::path::Path::new("/usr/bin/redis-check-rdb");
    if debian.exists() {
        assert_eq!(ours, check(debian));
    }
    assert!(ours.contains("RDB looks OK"), "{ours}");
    let r = start_in(reader, &dir.0);
    let mut cl = RawClient::connect(r.port);
    assert_eq!(
        show(&cl.cmd(&args("FCALL rdb1 1 k"))),
        "$7\\r\\nfromrdb\\r\\n"
    );
    assert_eq!(show(&cl.cmd(&args("FCALL_RO rdb2 0"))), "$3\\r\\ntwo\\r\\n");
    let list = cl.cmd(&args("FUNCTION LIST LIBRARYNAME rdb2 WITHCODE"));
    let want = format!(
        "*1\r\n*8\r\n$12\r\nlibrary_name\r\n$4\r\nrdb2\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$4\r\nrdb2\r\n$11\r\ndescription\r\n$6\r\nsecond\r\n$5\r\nflags\r\n*1\r\n+no-writes\r\n$12\r\nlibrary_code\r\n${}\r\n{}\r\n",
        code2.len(),
        code2
    );
    assert_eq!(show(&list), show(want.as_bytes()));
    assert_eq!(
        show(&cl.cmd(&args("FUNCTION STATS"))),
        show(b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n")
    );
}

#[test]
fn rdb_with_functions_loads_across_servers() {
    let Some(real) = real_server() else {
        return;
    };
    cross_load(&real, &our_server());
    cross_load(&our_server(), &real);
}

#[test]
fn debug_reload_keeps_functions_and_flushall_does_not_delete_them() {
    let Some(mut pair) = Pair::start(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let lines = [
        load(&lib("t", "t", "return 'hello'")),
        args("DEBUG RELOAD"),
        args("FCALL t 0"),
        args("DEBUG RELOAD NOFLUSH"),
        args("DEBUG RELOAD NOFLUSH MERGE"),
        args("FUNCTION LIST"),
        args("FLUSHALL"),
        args("FUNCTION STATS"),
    ];
    for cmd in lines {
        let (ra, rb) = pair.both(&cmd);
        assert_eq!(
            show(&ra),
            show(&rb),
            "{:?}",
            String::from_utf8_lossy(&cmd[0])
        );
    }
}

#[test]
fn busy_function_is_killed_by_function_kill() {
    let Some(mut pair) = Pair::start(&["--busy-reply-threshold", "50"]) else {
        return;
    };
    let code = lib("busy", "busy", "local a = 1 while true do a = a + 1 end");
    let (ra, rb) = pair.both(&load(&code));
    assert_eq!(ra, rb);
    for (port, name) in [(pair.a.port(), "ours"), (pair.b.port(), "real")] {
        let mut runner = RawClient::connect(port);
        // Connected before: ours accepts no connection while a script is busy.
        let mut other = RawClient::connect(port);
        assert_eq!(show(&other.cmd(&args("PING"))), "+PONG\\r\\n");
        runner.send(&args("FCALL busy 0"));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            show(&other.cmd(&args("PING"))),
            "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\\r\\n",
            "{name}"
        );
        assert_eq!(
            show(&other.cmd(&args("SCRIPT KILL"))),
            "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\\r\\n",
            "{name}"
        );
        let stats = other.cmd(&args("FUNCTION STATS"));
        let s = show(&stats);
        assert!(
            s.starts_with("*4\\r\\n$14\\r\\nrunning_script\\r\\n*6\\r\\n$4\\r\\nname\\r\\n$4\\r\\nbusy\\r\\n$7\\r\\ncommand\\r\\n*3\\r\\n$5\\r\\nFCALL\\r\\n$4\\r\\nbusy\\r\\n$1\\r\\n0\\r\\n$11\\r\\nduration_ms\\r\\n:"),
            "{name}: {s}"
        );
        assert_eq!(
            show(&other.cmd(&args("FUNCTION KILL"))),
            "+OK\\r\\n",
            "{name}"
        );
        let r = show(&runner.read());
        assert!(
            r.starts_with(
                "-ERR Script killed by user with SCRIPT KILL... script: busy, on @user_function:"
            ),
            "{name}: {r}"
        );
        assert_eq!(show(&other.cmd(&args("PING"))), "+PONG\\r\\n", "{name}");
    }
}

/// The incremental AOF of a fresh server in `dir`.
fn incr_aof(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join("appendonlydir/appendonly.aof.1.incr.aof")).expect("incr AOF")
}

#[test]
fn aof_propagation_matches_redis() {
    let Some(real) = real_server() else {
        return;
    };
    let opts = ["--appendonly", "yes", "--appendfsync", "always"];
    let ours = Server::start(&our_server(), &opts);
    let theirs = Server::start(&real, &opts);
    let code = "#!lua name=al\nredis.register_function('w2', function(keys) redis.call('set', keys[1], 'a') redis.call('incr', 'cnt') return 1 end)\nredis.register_function('w1', function(keys) return redis.call('set', keys[1], 'b') end)\nredis.register_function{function_name='r0', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    let lines: Vec<Vec<Vec<u8>>> = vec![
        load(code),
        args("FCALL w2 1 k"),
        args("FCALL w1 1 k"),
        args("FCALL r0 1 k"),
        args("FCALL_RO r0 1 k"),
        args("SELECT 3"),
        args("FCALL w1 1 other"),
        args("EVAL \"redis.call('set','e1','1') redis.call('set','e2','2')\" 0"),
        args("FUNCTION DUMP"),
        args("FUNCTION DELETE al"),
        args("FUNCTION LOAD \"#!lua name=x\\nredis.register_function('x', function() end)\""),
        args("FUNCTION FLUSH"),
    ];
    let (mut a, mut b) = (
        RawClient::connect(ours.port),
        RawClient::connect(theirs.port),
    );
    for cmd in &lines {
        let (ra, rb) = (a.cmd(cmd), b.cmd(cmd));
        assert_eq!(show(&ra), show(&rb));
    }
    // FUNCTION RESTORE of a payload is propagated as itself.
    a.cmd(&load(code));
    let d = bulk_payload(&a.cmd(&args("FUNCTION DUMP")));
    let restore = vec![
        b"FUNCTION".to_vec(),
        b"RESTORE".to_vec(),
        d,
        b"REPLACE".to_vec(),
    ];
    assert_eq!(show(&a.cmd(&restore)), "+OK\\r\\n");
    b.cmd(&load(code));
    assert_eq!(show(&b.cmd(&restore)), "+OK\\r\\n");
    assert_eq!(show(&incr_aof(&ours.dir.0)), show(&incr_aof(&theirs.dir.0)));
}
