//! Basic end-to-end checks of our server, and replies compared with Debian's.

mod common;
use common::*;
use redis_formats::RespValue;

#[test]
fn ping_set_get_roundtrip() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v"]).unwrap(),
        RespValue::Status(b"OK".to_vec())
    );
    assert_eq!(
        c.cmd(&["GET", "k"]).unwrap(),
        RespValue::Bulk(b"v".to_vec())
    );
}

#[test]
fn pipelined_and_inline_commands() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nINCR a\r\nGET a\r\n");
    assert_eq!(c.read_reply().unwrap(), RespValue::Status(b"OK".to_vec()));
    assert_eq!(c.read_reply().unwrap(), RespValue::Integer(2));
    assert_eq!(c.read_reply().unwrap(), RespValue::Bulk(b"2".to_vec()));
}

/// The same command name again, with another subcommand or in another case, finds
/// the right command (the dispatcher caches the last name a client sent).
#[test]
fn repeated_names_find_the_right_command() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    c.send_raw(
        b"CONFIG SET maxmemory-samples 7\r\nCONFIG GET maxmemory-samples\r\n\
config set maxmemory-samples 6\r\nConfig Get maxmemory-samples\r\nSET k v\r\nset k w\r\nGET k\r\n",
    );
    let pair = |v: &str| {
        RespValue::Array(vec![
            RespValue::Bulk(b"maxmemory-samples".to_vec()),
            RespValue::Bulk(v.as_bytes().to_vec()),
        ])
    };
    let ok = RespValue::Status(b"OK".to_vec());
    assert_eq!(c.read_reply().unwrap(), ok);
    assert_eq!(c.read_reply().unwrap(), pair("7"));
    assert_eq!(c.read_reply().unwrap(), ok);
    assert_eq!(c.read_reply().unwrap(), pair("6"));
    assert_eq!(c.read_reply().unwrap(), ok);
    assert_eq!(c.read_reply().unwrap(), ok);
    assert_eq!(c.read_reply().unwrap(), RespValue::Bulk(b"w".to_vec()));
}

#[test]
fn protocol_error_replies_then_closes() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    c.send_raw(b"*1\r\nfoo\r\n");
    let all = c.read_to_close();
    assert_eq!(all, b"-ERR Protocol error: expected '$', got 'f'\r\n");
    // Other clients keep being served.
    assert_eq!(
        s.client().cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
}

#[test]
fn same_replies_as_redis() {
    let Some(real_bin) = real_server() else {
        return;
    };
    let ours = Server::start(&our_server(), &[]);
    let real = Server::start(&real_bin, &[]);
    let lines = [
        "PING",
        "PING hello",
        "ECHO",
        "SET k v",
        "GET k",
        "SET k v NX",
        "SET k v XX GET",
        "SET k v EX 0",
        "SET k v EX -1",
        "SET k v EX abc",
        "SET k v PX 100 EX 100",
        "SET k v NX XX",
        "SET k v KEEPTTL",
        "SET k 123",
        "INCR k",
        "INCRBY k abc",
        "DECRBY k -9223372036854775808",
        "SET big 9223372036854775807",
        "INCR big",
        "MSET a 1 b",
        "MSET a 1 b 2",
        "MGET a b nosuch",
        "EXISTS a b nosuch a",
        "DEL a b nosuch",
        "DBSIZE",
        "SELECT 99",
        "SELECT x",
        "nosuchcommand a b c",
        "FLUSHDB",
        "FLUSHALL ASYNC",
        "FLUSHALL foo",
    ];
    let cmds: Vec<Vec<Vec<u8>>> = lines.iter().map(|l| args(l)).collect();
    let mut a = ours.client();
    let mut b = real.client();
    for c in &cmds {
        assert_eq!(
            a.cmd_raw(c),
            b.cmd_raw(c),
            "{:?}",
            String::from_utf8_lossy(&c.join(&b' '))
        );
    }
}

#[test]
fn config_get_set_like_redis() {
    let Some(real_bin) = real_server() else {
        return;
    };
    let ours = Server::start(&our_server(), &[]);
    let real = Server::start(&real_bin, &[]);
    let lines = [
        "CONFIG",
        "CONFIG FOO",
        "CONFIG HELP",
        "CONFIG GET maxmemory",
        "CONFIG GET maxmemory-policy hz",
        "CONFIG SET maxmemory 10mb",
        "CONFIG GET maxmemory",
        "CONFIG SET maxmemory 0",
        "CONFIG SET hz",
        "CONFIG SET hz 20 hz 30",
        "CONFIG SET nosuch 1",
        "CONFIG SET daemonize yes",
        "CONFIG SET port 99999",
        "CONFIG SET maxmemory-policy allkeys-lru hz 15",
        "CONFIG GET hz",
        "CONFIG REWRITE",
        "CONFIG RESETSTAT",
    ];
    let mut a = ours.client();
    let mut b = real.client();
    for l in lines {
        let c = args(l);
        if l.starts_with("CONFIG GET") {
            // Redis lists matches in its hash table's order, which changes from run to
            // run: compare the pairs as sets.
            assert_eq!(
                sorted_pairs(a.cmd(&c).unwrap()),
                sorted_pairs(b.cmd(&c).unwrap()),
                "{l}"
            );
        } else {
            assert_eq!(a.cmd_raw(&c), b.cmd_raw(&c), "{l}");
        }
    }
}

fn sorted_pairs(v: RespValue) -> Vec<(RespValue, RespValue)> {
    let RespValue::Array(items) = v else {
        panic!("not an array: {v:?}")
    };
    let mut pairs: Vec<_> = items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    pairs.sort_by_key(|p| format!("{p:?}"));
    pairs
}

#[test]
fn config_set_port_rebinds() {
    let s = Server::start(&our_server(), &[]);
    let mut c = s.client();
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()])
            .unwrap(),
        RespValue::Status(b"OK".to_vec())
    );
    let mut c2 = Client::connect(new_port).expect("new port accepts");
    assert_eq!(
        c2.cmd(&["PING"]).unwrap(),
        RespValue::Status(b"PONG".to_vec())
    );
    assert!(Client::connect(s.port).is_err(), "old port closed");
}

#[test]
fn bad_config_exits_like_redis() {
    let Some(real_bin) = real_server() else {
        return;
    };
    for bad in [
        &["--port", "99999"][..],
        &["--nosuch", "1"],
        &["--maxmemory-policy", "x"],
    ] {
        let ours = std::process::Command::new(our_server())
            .args(bad)
            .output()
            .unwrap();
        let real = std::process::Command::new(&real_bin)
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(ours.status.code(), real.status.code(), "{bad:?}");
        assert_eq!(ours.stderr, real.stderr, "{bad:?}");
    }
}

#[test]
fn cluster_mode_is_refused_until_built() {
    // A standalone server under `cluster-enabled yes` would mislead cluster tools.
    let out = std::process::Command::new(our_server())
        .args(["--port", "0", "--save", "", "--cluster-enabled", "yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Cluster mode (cluster-enabled yes) is not supported"),
        "{text}"
    );
}
