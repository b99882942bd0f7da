//! Lua scripting: a corpus of scripts (reply conversions both ways, errors and their
//! texts, the sandbox, cjson, bit, cmsgpack, SCRIPT and EVALSHA) sent to our server
//! and to Debian's redis-server 7.0.15, reply bytes compared, in RESP2 and RESP3.

mod common;
use common::raw::*;
use common::*;

fn eval(script: &str, keys: &[&str], argv: &[&str]) -> Vec<Vec<u8>> {
    let mut v = vec![
        b"EVAL".to_vec(),
        script.as_bytes().to_vec(),
        keys.len().to_string().into_bytes(),
    ];
    v.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
    v.extend(argv.iter().map(|a| a.as_bytes().to_vec()));
    v
}

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Lua expressions returned as they are (Lua -> Redis conversions).
const RETURNED: &[&str] = &[
    "1",
    "0",
    "-1",
    "3.99",
    "-3.99",
    "2^31",
    "2^53",
    "-2^53",
    "1e15",
    "0.5",
    "'hello'",
    "''",
    "'a\\0b'",
    "'line\\r\\nbreak'",
    "true",
    "false",
    "nil",
    "{}",
    "{1,2,3}",
    "{1,'two',3.7,{4,{5}}}",
    "{1,2,nil,4}",
    "{nil,1}",
    "{true,false,true}",
    "{ok='fine'}",
    "{ok='with\\r\\nnewline'}",
    "{err='My Error'}",
    "{err='-WITHDASH text'}",
    "{err='nocode'}",
    "{err='ERR a\\0b'}",
    "{err=1}",
    "{ok=1}",
    "{double=3.14}",
    "{double=1}",
    "{double=-0.1}",
    "{double=1/0}",
    "{double=-1/0}",
    "{double='x'}",
    "{big_number='123456789012345678901234567890'}",
    "{big_number='1\\r\\n2'}",
    "{verbatim_string={format='txt',string='hello'}}",
    "{verbatim_string={format='mkd',string='# title'}}",
    "{verbatim_string={format='txt'}}",
    "{map={a=1}}",
    "{map={a=1,b={1,2},c={map={x='y'}}}}",
    "{map={}}",
    "{set={a=true}}",
    "{set={}}",
    "{{ok='nested'},{err='ERR nested'}}",
    "{1,{double=2.5},{big_number='99'},{map={k='v'}},{set={m=true}}}",
    "{x=1,y=2}",
    "{1,2,x=3}",
    "function() end",
    "coroutine.create(function() end)",
    "KEYS",
    "ARGV",
    "{KEYS[1],ARGV[1],#KEYS,#ARGV}",
    "redis.REDIS_VERSION",
    "redis.REDIS_VERSION_NUM",
    "{redis.LOG_DEBUG,redis.LOG_VERBOSE,redis.LOG_NOTICE,redis.LOG_WARNING}",
    "{redis.REPL_NONE,redis.REPL_AOF,redis.REPL_SLAVE,redis.REPL_REPLICA,redis.REPL_ALL}",
    "redis.sha1hex('')",
    "redis.sha1hex('Pizza & Mandolino')",
    "redis.sha1hex(123)",
    "redis.status_reply('FINE')",
    "redis.error_reply('MYERR something')",
    "redis.error_reply('-MYERR dash')",
    "redis.error_reply('')",
    "redis.error_reply(1)",
    "redis.status_reply(1)",
    "redis.status_reply()",
    "redis.replicate_commands()",
    "redis.breakpoint()",
    "redis.debug('x')",
    "type(redis.call)",
    "tostring(1/3)",
    "tostring(1e100)",
    "string.format('%d %s %5.2f', 7, 'x', 3.14159)",
    "string.rep('ab', 3)",
    "table.concat({1,2,3}, ',')",
    "math.floor(3.7)",
    "#'four'",
    "select('#', 1, 2, 3)",
    "tonumber('0x10')",
    "tonumber('  12  ')",
    "unpack({1,2,3})",
    "{unpack({1,2,3})}",
    "type(cjson.null)",
    "_VERSION",
    "type(_G)",
    "type(loadstring)",
    "type(getfenv)",
    "type(string.dump)",
    "{pcall(error)}",
    "{pcall(error, 'x')}",
    "{pcall(error, {err='E t'})}",
    "{pcall(redis.call, 'nosuchcmd')}",
    "{pcall(redis.call, 'get')}",
    "{pcall(function() local x = nil; return x.y end)}",
    "{xpcall(function() error('inner') end, function(e) return 'handled: ' .. e end)}",
    "redis.pcall('nosuchcmd')",
    "redis.pcall('get')",
    "redis.pcall('incr', 'k', 'k2')",
    "redis.pcall('client', 'list')",
    "redis.pcall('eval', 'return 1', 0)",
    "redis.pcall('multi')",
    "redis.pcall('subscribe', 'ch')",
    "redis.pcall('script', 'load', 'return 1')",
    "redis.pcall('blpop', 'l', 0)",
    "redis.pcall()",
    "redis.pcall({})",
    "redis.pcall('set', 'k', {})",
    "redis.pcall('set', 'k', nil)",
    "redis.pcall('set', 'k', 3.5)",
    "redis.pcall('set', 'k', 1e20)",
    "redis.pcall('set', 'k', 0.1)",
];

/// Whole scripts run with keys {k, k2} and args {a1, a2}.
const SCRIPTS: &[&str] = &[
    // Redis -> Lua conversions, RESP2.
    "redis.call('set', KEYS[1], 'v'); return redis.call('get', KEYS[1])",
    "return redis.call('get', 'nosuch')",
    "return type(redis.call('get', 'nosuch'))",
    "return redis.call('set', KEYS[1], 'v')",
    "local r = redis.call('set', KEYS[1], 'v'); return type(r) .. r.ok",
    "return redis.call('incr', KEYS[1])",
    "return redis.call('incrbyfloat', KEYS[1], '1.5')",
    "redis.call('rpush', 'l', 'a', 'b', 'c'); return redis.call('lrange', 'l', 0, -1)",
    "redis.call('rpush', 'l', 'a'); return redis.call('lpop', 'l', 5)",
    "return redis.call('lpop', 'nosuchlist', 5)",
    "redis.call('hset', 'h', 'f1', 'v1', 'f2', 'v2'); return redis.call('hgetall', 'h')",
    "redis.call('zadd', 'z', 1, 'a', 2.5, 'b'); return redis.call('zrange', 'z', 0, -1, 'withscores')",
    "redis.call('zadd', 'z', 1, 'a'); return redis.call('zscore', 'z', 'a')",
    "redis.call('sadd', 's', 'x'); return redis.call('smembers', 's')",
    "redis.call('set', 'str', 'x'); return redis.call('lpush', 'str', 'y')",
    "redis.call('set', 'str', 'x'); local r = redis.pcall('lpush', 'str', 'y'); return r.err",
    "return redis.call('ping')",
    "return redis.call('echo', 'hi')",
    "return redis.call('type', 'nosuch')",
    "return redis.call('exists', KEYS[1], KEYS[2])",
    "return redis.call('mget', KEYS[1], KEYS[2])",
    "redis.call('set', 'n', '10'); return redis.call('decrby', 'n', 3)",
    "return redis.call('select', 1)",
    "redis.call('select', 1); redis.call('set', 'indb1', 'v'); return redis.call('dbsize')",
    "return redis.call('sort', 'nosuch')",
    "redis.call('sadd', 's', 'b', 'a', 'c'); return redis.call('sort', 's', 'by', 'nosort')",
    "return redis.call('object', 'help')[1]",
    "return redis.call('command', 'count') > 0",
    // RESP3 inside the script.
    "redis.setresp(3); redis.call('hset', 'h', 'f', 'v'); return redis.call('hgetall', 'h')",
    "redis.setresp(3); local r = redis.call('hgetall', 'nosuch'); return type(r.map)",
    "redis.setresp(3); redis.call('sadd', 's', 'm'); return redis.call('smembers', 's')",
    "redis.setresp(3); redis.call('zadd', 'z', 1.5, 'a'); return redis.call('zscore', 'z', 'a')",
    "redis.setresp(3); redis.call('zadd', 'z', 1.5, 'a'); local r = redis.call('zscore', 'z', 'a'); return tostring(r.double)",
    "redis.setresp(3); return redis.call('get', 'nosuch')",
    "redis.setresp(3); return type(redis.call('get', 'nosuch'))",
    "redis.setresp(3); return redis.call('zadd', 'z', 'nx', 'incr', 1, 'a')",
    "redis.setresp(3); return true",
    "redis.setresp(3); return false",
    "redis.setresp(3); return {true, false}",
    "redis.setresp(3); return redis.call('exists', 'nosuch')",
    "redis.setresp(2); return false",
    "redis.setresp(4)",
    "redis.setresp()",
    "redis.setresp('x')",
    // Errors.
    "error('boom')",
    "error({err='MY boom'})",
    "error({err='MY boom', source='fake'})",
    "error(42)",
    "error()",
    "error('two\\nlines')",
    "local t = nil; return t.field",
    "return undefined_global",
    "undefined_function()",
    "return 1 + {}",
    "return #nil",
    "return redis.call('nosuchcmd')",
    "return redis.call('get')",
    "return redis.call('get', 'a', 'b')",
    "return redis.call('client', 'list')",
    "return redis.call('client')",
    "return redis.call('config')",
    "return redis.call('config', 'nosub')",
    "return redis.call('eval', 'return 1', 0)",
    "return redis.call('multi')",
    "return redis.call('watch', 'k')",
    "return redis.call('subscribe', 'x')",
    "return redis.call('blpop', 'l', 0)",
    "return redis.call('brpoplpush', 'a', 'b', 0)",
    "redis.call('set', 'str', 'x'); return redis.call('incr', 'str')",
    "return redis.call()",
    "return redis.call({})",
    "return redis.call('set', 'k', {})",
    "return redis.call('set', 'k', function() end)",
    "redis.log(redis.LOG_WARNING)",
    "redis.log('x', 'y')",
    "redis.log(9, 'y')",
    "redis.log(redis.LOG_DEBUG, 'quiet', 1, 2)",
    "return redis.sha1hex()",
    "redis.set_repl(redis.REPL_ALL); return 1",
    "redis.set_repl(99)",
    "redis.set_repl()",
    "local function deep(n) if n == 0 then error('bottom') end deep(n - 1) end deep(3)",
    "return pcall(redis.call, 'nosuchcmd')",
    "local ok, e = pcall(redis.call, 'nosuchcmd'); return e",
    "local ok, e = pcall(error, {err='X y'}); return e",
    "local ok, e = pcall(redis.call, 'incr', 'str'); return type(e)",
    "return math.random()",
    "return math.random(10)",
    "return math.random(5, 7)",
    "math.randomseed(42); return {math.random(100), math.random(100)}",
    "return math.random(0)",
    "return math.random(1, 2, 3)",
    // The sandbox.
    "x = 5",
    "return y",
    "redis = nil",
    "redis.call = function() return 1 end",
    "string.len = nil",
    "cjson.encode = nil",
    "cmsgpack.pack = nil",
    "bit.band = nil",
    "math.pi = 3",
    "table.insert = nil",
    "_G = {}",
    "_G.x = 1",
    "rawset(_G, 'x', 1)",
    "rawset(redis, 'call', 1)",
    "rawset({}, 'x', 1) return 'ok'",
    "setmetatable(_G, {})",
    "setmetatable(_G, nil)",
    "local g = getmetatable(_G); g.__index = {}",
    "local m = getmetatable(redis); m.__newindex = nil",
    "return type(getmetatable(_G))",
    "local t = setmetatable({}, {__index=function() return 7 end}); return t.anything",
    "return os",
    "return io",
    "return print",
    "return loadfile",
    "return dofile",
    "return require",
    "return module",
    "return package",
    "return debug",
    "return os.time()",
    "print('hi')",
    "loadfile('x')",
    "dofile('x')",
    "local f = loadstring('return 1 + 1'); return f()",
    "local f, e = loadstring('return +'); return {tostring(f), e}",
    "local f, e = loadstring(string.dump(function() return 1 end)); return {tostring(f), e}",
    "return loadstring(string.dump(function() return 1 end))()",
    "local f = loadstring('x = 1'); f()",
    "local f = loadstring('return y'); return f()",
    "local t = {} t.x = 1 return t.x",
    "local s = 'abc'; return s:upper()",
    "return ('x'):rep(3)",
    "return getfenv(1) == _G",
    "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}",
    "KEYS = nil",
    "KEYS[1] = 'changed'; return KEYS[1]",
    // cjson.
    "return cjson.encode({1,2,3})",
    "return cjson.encode({a=1})",
    "return cjson.encode({})",
    "return cjson.encode('a/b\"c\\\\d\\n\\t\\1')",
    "return cjson.encode(0.1)",
    "return cjson.encode(1e20)",
    "return cjson.encode(-0)",
    "return cjson.encode(123456789012)",
    "return cjson.encode(true)",
    "return cjson.encode(cjson.null)",
    "return cjson.encode({1, nil, 3})",
    "return cjson.encode({[1]=1, [3]=3})",
    "return cjson.encode({[1]=1, [20]=3})",
    "return cjson.encode({[0]=1})",
    "return cjson.encode({[1.5]=1})",
    "return cjson.encode({[true]=1})",
    "return cjson.encode({f=function() end})",
    "return cjson.encode(0/0)",
    "return cjson.encode(1/0)",
    "return cjson.encode({nested={deep={er={1,{2}}}}})",
    "return cjson.encode()",
    "local t = {} t[1] = t return cjson.encode(t)",
    "return cjson.decode('[1,2,3]')",
    "return cjson.decode('{\"a\":1}').a",
    "return cjson.decode('\"str\\\\u00e9\\\\n\"')",
    "return cjson.decode('\"\\\\ud83d\\\\ude00\"')",
    "return cjson.decode('true') and 1 or 0",
    "return tostring(cjson.decode('null') == cjson.null)",
    "return cjson.decode('1.5e3')",
    "return cjson.decode('-0.5') * 4",
    "return cjson.decode('[1,2')",
    "return cjson.decode('{\"a\" 1}')",
    "return cjson.decode('{1:2}')",
    "return cjson.decode('[1,]')",
    "return cjson.decode('')",
    "return cjson.decode('nope')",
    "return cjson.decode('[1] x')",
    "return cjson.decode('\"unterminated')",
    "return cjson.decode('\"bad \\\\q escape\"')",
    "return cjson.decode()",
    "return cjson.decode({})",
    "return cjson.encode(cjson.decode('{\"x\":[1,2,{\"y\":null}]}'))",
    "return cjson.encode(cjson.decode('[[[[[[[[[[1]]]]]]]]]]'))",
    "local ok, e = pcall(cjson.decode, '[[[[1]]]]'); return tostring(ok)",
    // cmsgpack.
    "local e = cmsgpack.pack({1,2,3}) return {#e, e:byte(1)}",
    "local h = '' for i, v in ipairs({cmsgpack.pack(0.1):byte(1, -1)}) do h = h .. string.format('%02x', v) end return h",
    "local h = '' for i, v in ipairs({cmsgpack.pack(-1099511627776):byte(1, -1)}) do h = h .. string.format('%02x', v) end return h",
    "local h = '' for i, v in ipairs({cmsgpack.pack({a=1,b={true,false}}, 'str', -5, 300, 70000):byte(1, -1)}) do h = h .. string.format('%02x', v) end return h",
    "return cmsgpack.unpack(cmsgpack.pack({1,'two',{3}}))",
    "return {cmsgpack.unpack(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}",
    "return cmsgpack.unpack('\\193')",
    "return cmsgpack.unpack('\\205\\1')",
    "return cmsgpack.pack()",
    // struct.
    "return struct.pack('>i2', 258)",
    "return struct.pack('<I4 b', 1, -1)",
    "return {struct.unpack('>i2 c3', struct.pack('>i2 c3', 258, 'abc'))}",
    "return struct.size('!4 b i')",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.pack('q', 1)",
    "return struct.pack('i', 'x')",
    "return {struct.unpack('bc0', '\\3abc')}",
    "return struct.pack('s', 'hi')",
    "return {struct.unpack('s', 'hi')}",
    "return {struct.unpack('s', 'hi\\0rest')}",
    "return {struct.unpack('>d', struct.pack('>d', 1.5))}",
    "return {struct.unpack('<f', struct.pack('<f', 0.25))}",
    "return struct.pack('i40', 1)",
    "return {struct.unpack('i', 'ab')}",
    "return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2.5))}",
    "return struct.pack('!3 i', 1)",
    "return {struct.unpack('>I3 h', struct.pack('>I3 h', 70000, -2))}",
    "return {struct.unpack('b', 'x', 0)}",
    "return {struct.unpack('b', 'xy', 2)}",
    "return struct.pack('c2', 'a')",
    "return struct.pack('xxb', 7)",
    "struct.pack = nil",
];

/// bit library calls over interesting values.
fn bit_scripts() -> Vec<String> {
    let vals = [
        "0",
        "1",
        "-1",
        "0x7fffffff",
        "0xffffffff",
        "2^32+5",
        "1.5",
        "-2.5",
        "12345678",
    ];
    let mut v = Vec::new();
    for a in vals {
        v.push(format!("return bit.tobit({a})"));
        v.push(format!("return bit.bnot({a})"));
        v.push(format!("return bit.tohex({a})"));
        v.push(format!("return bit.bswap({a})"));
        for (op, b) in [
            ("band", "0xff"),
            ("bor", "0x100"),
            ("bxor", "-1"),
            ("lshift", "4"),
            ("rshift", "4"),
            ("arshift", "28"),
            ("rol", "8"),
            ("ror", "36"),
        ] {
            v.push(format!("return bit.{op}({a}, {b})"));
        }
    }
    v.extend(
        [
            "return bit.tohex(255, 2)",
            "return bit.tohex(255, -4)",
            "return bit.tohex(255, 20)",
            "return bit.tohex(-1, -2147483648)",
            "return bit.band(1, 3, 7, 15)",
            "return bit.band()",
            "return bit.band('x')",
            "return bit.tobit('10')",
        ]
        .map(String::from),
    );
    v
}

fn corpus() -> Vec<Vec<Vec<u8>>> {
    let keys = ["k", "k2"];
    let argv = ["a1", "a2"];
    let mut c = Vec::new();
    for e in RETURNED {
        c.push(eval(&format!("return {e}"), &keys, &argv));
    }
    for s in SCRIPTS {
        c.push(eval(s, &keys, &argv));
    }
    for s in bit_scripts() {
        c.push(eval(&s, &[], &[]));
    }
    // Script cache, EVALSHA, argument errors, shebangs.
    let lines: &[&[&str]] = &[
        &["SCRIPT", "FLUSH"],
        &["SCRIPT", "LOAD", "return 'loaded'"],
        &["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"],
        &["EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0"],
        &[
            "EVALSHA_RO",
            "b534286061d4b9e4026607613b95c06c06015ae8",
            "0",
        ],
        &[
            "SCRIPT",
            "EXISTS",
            "b534286061d4b9e4026607613b95c06c06015ae8",
            "ffffffffffffffffffffffffffffffffffffffff",
            "x",
        ],
        &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        &["EVALSHA", "short", "0"],
        &["EVALSHA", "short", "x"],
        &["SCRIPT", "LOAD", "return +"],
        &["SCRIPT", "LOAD"],
        &["SCRIPT", "FLUSH", "ASYNC"],
        &["SCRIPT", "FLUSH", "SYNC"],
        &["SCRIPT", "FLUSH", "BAD"],
        &["SCRIPT", "FLUSH", "SYNC", "ASYNC"],
        &[
            "SCRIPT",
            "EXISTS",
            "b534286061d4b9e4026607613b95c06c06015ae8",
        ],
        &["SCRIPT", "HELP"],
        &["SCRIPT", "KILL"],
        &["SCRIPT", "NOSUCH"],
        &["SCRIPT"],
        &["EVAL", "return 1"],
        &["EVAL", "return 1", "x"],
        &["EVAL", "return 1", "-1"],
        &["EVAL", "return 1", "2", "a"],
        &["EVAL", "return 1", "1"],
        &["EVAL", "return {KEYS[1], ARGV[1]}", "1", "a", "b"],
        &["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"],
        &[
            "EVAL_RO",
            "return redis.call('set', KEYS[1], 'x')",
            "1",
            "k",
        ],
        &["EVAL_RO", "return redis.pcall('del', KEYS[1])", "1", "k"],
        &["EVAL_RO", "return redis.call('publish', 'ch', 'm')", "0"],
        &["EVAL", "#!lua\nreturn 1", "0"],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get', 'k')",
            "0",
        ],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')",
            "0",
        ],
        &["EVAL", "#!lua flags=no-writes,allow-oom\nreturn 1", "0"],
        &[
            "EVAL",
            "#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1",
            "0",
        ],
        &[
            "EVAL",
            "#!lua flags=\nreturn redis.call('set', 'k', 'v')",
            "0",
        ],
        &["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
        &["EVAL", "#!lua flags=no-writes,\nreturn 1", "0"],
        &["EVAL", "#!lua other=1\nreturn 1", "0"],
        &["EVAL", "#!python\nreturn 1", "0"],
        &["EVAL", "#!lua", "0"],
        &["EVAL", "#!\nreturn 1", "0"],
        &["EVAL", "#!lua\nerror('line two')", "0"],
        &["EVAL", "#!lua\nreturn +", "0"],
        &["EVAL_RO", "#!lua\nreturn 1", "0"],
        &["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
        &["EVAL", "return 1 +", "0"],
        &["EVAL", "return 'unterminated", "0"],
        &["EVAL", "", "0"],
        &["EVAL", "\n\nerror('third line')", "0"],
    ];
    for l in lines {
        c.push(cmd(l));
    }
    c
}

fn run(pair: &mut Pair, label: &str) -> usize {
    let corpus = corpus();
    let mut diffs = Vec::new();
    for req in &corpus {
        pair.both(&args("FLUSHALL"));
        let (ours, real) = pair.both(req);
        if ours != real {
            diffs.push(format!(
                "{:?}\n   ours: {}\n   real: {}",
                req.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>(),
                show(&ours),
                show(&real)
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "{label}: {} of {} scripts differ:\n{}",
        diffs.len(),
        corpus.len(),
        diffs.join("\n")
    );
    corpus.len()
}

#[test]
fn scripts_resp2() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    let n = run(&mut pair, "RESP2");
    assert!(n >= 150, "corpus too small: {n}");
}

#[test]
fn scripts_resp3() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    assert!(pair.hello3());
    run(&mut pair, "RESP3");
}

#[test]
fn script_cache_and_info() {
    let Some(mut pair) = Pair::start(&[]) else {
        return;
    };
    for line in [
        "SCRIPT LOAD a",
        "EVAL 'return 1' 0",
        "EVAL 'return 2' 0",
        "SCRIPT EXISTS e0e1f9fabfc9d4800c877a703b823ac0578ff8db 7f923f79fe76194c868d7e1d0820de36700eb649",
    ] {
        let (a, b) = pair.both(&args(line));
        assert_eq!(show(&a), show(&b), "{line}");
    }
    let info = |c: &mut RawClient| {
        let r = c.cmd(&args("INFO memory"));
        let s = String::from_utf8_lossy(&r).into_owned();
        s.lines()
            .find(|l| l.starts_with("number_of_cached_scripts:"))
            .map(String::from)
    };
    assert_eq!(info(&mut pair.a), info(&mut pair.b));
}
