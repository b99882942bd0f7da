//! Transactions (MULTI/EXEC/DISCARD/WATCH/UNWATCH): the same requests to our server and
//! to Debian's redis-server 7.0.15, reply bytes compared, in RESP2 and RESP3.

mod common;
use common::raw::*;
use common::*;

const SCENARIOS: &[&[&str]] = &[
    // Queuing, EXEC, DISCARD and their errors.
    &[
        "EXEC", "DISCARD", "MULTI", "MULTI", "SET a 1", "INCR a", "GET a", "EXEC", "GET a",
        "MULTI", "SET a 2", "DISCARD", "GET a", "EXEC",
    ],
    // Rejected commands abort the transaction; runtime errors do not.
    &[
        "MULTI",
        "SET a 1",
        "NOSUCHCOMMAND x",
        "SET b",
        "EXEC",
        "GET a",
        "MULTI",
        "SET s hello",
        "INCR s",
        "SET t 1",
        "EXEC",
        "GET t",
        "MULTI",
        "EXEC",
    ],
    // WATCH: broken by another write, kept by a read, inside MULTI refused.
    &[
        "SET w 1", "WATCH w", "GET w", "MULTI", "INCR w", "EXEC", "WATCH w", "SET w 5", "MULTI",
        "INCR w", "EXEC", "GET w", "MULTI", "WATCH w", "EXEC", "WATCH w", "UNWATCH", "SET w 6",
        "MULTI", "GET w", "EXEC",
    ],
    // WATCH of a missing key, and of keys that DEL, FLUSHDB and a no-op write touch or not.
    &[
        "WATCH nokey",
        "SET other 1",
        "MULTI",
        "PING",
        "EXEC",
        "SET x 1",
        "WATCH x",
        "DEL x",
        "MULTI",
        "PING",
        "EXEC",
        "SET y 1",
        "WATCH y",
        "SET y 2 NX",
        "MULTI",
        "GET y",
        "EXEC",
        "WATCH y",
        "FLUSHDB",
        "MULTI",
        "PING",
        "EXEC",
        "WATCH gone",
        "FLUSHDB",
        "MULTI",
        "PING",
        "EXEC",
    ],
    // Expiry between WATCH and EXEC fails it; SELECT inside MULTI.
    &[
        "SET e 1 PX 30",
        "WATCH e",
        "!sleep 60",
        "MULTI",
        "PING",
        "EXEC",
        "MULTI",
        "SELECT 1",
        "SET in1 v",
        "SELECT 0",
        "EXEC",
        "SELECT 1",
        "GET in1",
        "SELECT 0",
    ],
];

#[test]
fn transactions_match_redis() {
    for resp3 in [false, true] {
        let Some(mut pair) = Pair::start(&[]) else {
            return;
        };
        if resp3 {
            assert!(pair.hello3());
        }
        let mut skipped = Vec::new();
        let diffs = pair.run(SCENARIOS, &mut skipped);
        assert!(skipped.is_empty(), "skipped: {skipped:?}");
        assert!(
            diffs.is_empty(),
            "RESP{}:\n{}",
            if resp3 { 3 } else { 2 },
            diffs.join("\n")
        );
    }
}

#[test]
fn watch_is_broken_by_another_client_and_by_swapdb() {
    let Some(real) = real_server() else {
        return;
    };
    for bin in [our_server(), real] {
        let s = Server::start(&bin, &[]);
        let mut a = s.client();
        let mut b = s.client();
        a.cmd(&["SET", "k", "1"]).unwrap();
        a.cmd(&["WATCH", "k"]).unwrap();
        b.cmd(&["SET", "k", "2"]).unwrap();
        a.cmd(&["MULTI"]).unwrap();
        a.cmd(&["INCR", "k"]).unwrap();
        assert_eq!(
            a.cmd(&["EXEC"]).unwrap(),
            redis_formats::RespValue::Nil,
            "{bin:?}"
        );
        // SWAPDB brings a different value under a watched name.
        b.cmd(&["SELECT", "1"]).unwrap();
        b.cmd(&["SET", "k", "other"]).unwrap();
        a.cmd(&["WATCH", "k"]).unwrap();
        b.cmd(&["SWAPDB", "0", "1"]).unwrap();
        a.cmd(&["MULTI"]).unwrap();
        a.cmd(&["GET", "k"]).unwrap();
        assert_eq!(
            a.cmd(&["EXEC"]).unwrap(),
            redis_formats::RespValue::Nil,
            "{bin:?}"
        );
        // A client that disconnects while watching leaves nothing behind.
        drop(b);
        a.cmd(&["WATCH", "k"]).unwrap();
        drop(a);
        let mut c = s.client();
        c.cmd(&["MULTI"]).unwrap();
        c.cmd(&["GET", "k"]).unwrap();
        assert!(matches!(
            c.cmd(&["EXEC"]).unwrap(),
            redis_formats::RespValue::Array(_)
        ));
    }
}

#[test]
fn client_list_shows_multi() {
    let s = Server::start(&our_server(), &[]);
    let mut a = s.client();
    a.cmd(&["MULTI"]).unwrap();
    a.cmd(&["SET", "a", "b"]).unwrap();
    a.cmd(&["GET", "a"]).unwrap();
    let mut b = s.client();
    let list = match b.cmd(&["CLIENT", "LIST"]).unwrap() {
        redis_formats::RespValue::Bulk(v) => String::from_utf8(v).unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(
        list.contains("flags=x ") && list.contains("multi=2 "),
        "{list}"
    );
}

/// CLIENT PAUSE WRITE holds an EXEC whose transaction writes (as Redis does), not one
/// that only reads.
#[test]
fn write_pause_holds_exec_of_writes() {
    let s = Server::start(&our_server(), &[]);
    let args = |l: &str| -> Vec<Vec<u8>> { l.split(' ').map(|a| a.as_bytes().to_vec()).collect() };
    let mut reader = RawClient::connect(s.port);
    let mut writer = RawClient::connect(s.port);
    let mut admin = s.client();
    for l in ["MULTI", "GET k"] {
        reader.cmd(&args(l));
    }
    for l in ["MULTI", "SET k v"] {
        writer.cmd(&args(l));
    }
    admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]).unwrap();
    assert_eq!(show(&reader.cmd(&args("EXEC"))), "*1\\r\\n$-1\\r\\n");
    writer.send(&args("EXEC"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let info = match admin.cmd(&["INFO", "clients"]).unwrap() {
            redis_formats::RespValue::Bulk(v) => String::from_utf8(v).unwrap(),
            other => panic!("{other:?}"),
        };
        if info.contains("blocked_clients:1\r\n") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "EXEC was not held");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    admin.cmd(&["CLIENT", "UNPAUSE"]).unwrap();
    assert_eq!(show(&writer.read()), "*1\\r\\n+OK\\r\\n");
}
