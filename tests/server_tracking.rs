//! Client-side caching (CLIENT TRACKING): the same multi-client sequences run
//! against our server and Debian's redis-server 7.0.15, every reply and push
//! compared byte for byte: RESP3 invalidation pushes, RESP2 redirection through
//! `__redis__:invalidate`, BCAST prefixes, OPTIN/OPTOUT, NOLOOP, flushes, broken
//! redirections, CLIENT TRACKINGINFO / GETREDIR and the argument errors.

mod common;
use common::raw::*;
use common::*;

/// Steps: `N command` sends a command on connection N and reads its reply;
/// `N<` reads one more message (a push) from connection N; `!sleep MS` waits;
/// `N close` closes connection N. `$ID0`/`$ID1` are the ids of connections 0/1.
const SCENARIOS: &[&[&str]] = &[
    // Default mode, RESP3: reads are remembered, writes invalidate once.
    &[
        "0 HELLO 3",
        "0 CLIENT TRACKING on",
        "0 GET k",
        "0 MGET k j",
        "1 SET k v",
        "0<",
        "1 SET k w",
        "0 PING",
        "0 GET j",
        "0 SET j x",
        "0<",
        "0 CLIENT TRACKINGINFO",
        "0 CLIENT GETREDIR",
        "0 HGET h f",
        "1 HSET h f v",
        "0<",
        "0 GET q",
        "1 FLUSHALL",
        "0<",
        "0 GET q",
        "1 FLUSHDB",
        "0<",
        "0 CLIENT TRACKING off",
        "0 CLIENT TRACKINGINFO",
        "0 CLIENT GETREDIR",
    ],
    // RESP2 redirection to a subscriber of __redis__:invalidate.
    &[
        "0 SUBSCRIBE __redis__:invalidate",
        "1 CLIENT TRACKING on REDIRECT $ID0",
        "1 GET a",
        "1 GET b",
        "2 MSET a 1 b 2",
        "0<",
        "0<",
        "1 GET a",
        "1 FLUSHALL",
        "0<",
        "1 CLIENT GETREDIR",
        "1 CLIENT TRACKING on REDIRECT 999999",
        "1 CLIENT TRACKING on REDIRECT $ID0 REDIRECT $ID0",
        "1 CLIENT TRACKING on REDIRECT abc",
    ],
    // A RESP3 redirection target gets invalidate pushes.
    &[
        "0 HELLO 3",
        "1 CLIENT TRACKING on REDIRECT $ID0",
        "1 GET a",
        "2 SET a 1",
        "0<",
    ],
    // The redirection target disconnects: tracking-redir-broken.
    &[
        "1 HELLO 3",
        "1 CLIENT TRACKING on REDIRECT $ID0",
        "1 GET a",
        "0 close",
        "!sleep 100",
        "2 SET a 1",
        "1<",
        "1 CLIENT TRACKINGINFO",
    ],
    // BCAST with prefixes, NOLOOP.
    &[
        "0 HELLO 3",
        "0 CLIENT TRACKING on BCAST PREFIX a: PREFIX b:",
        "1 MSET a:1 1 b:1 2 c:1 3",
        "0<",
        "0<",
        "0 CLIENT TRACKINGINFO",
        "0 CLIENT TRACKING on BCAST PREFIX a",
        "0 CLIENT TRACKING on BCAST PREFIX x PREFIX xy",
        "0 CLIENT TRACKING on",
        "0 CLIENT TRACKING off",
        "0 CLIENT TRACKING on BCAST NOLOOP",
        "0 SET mine 1",
        "1 SET theirs 1",
        "0<",
        "0 CLIENT TRACKINGINFO",
    ],
    // OPTIN / OPTOUT and CLIENT CACHING.
    &[
        "0 HELLO 3",
        "0 CLIENT CACHING yes",
        "0 CLIENT TRACKING on OPTIN",
        "0 GET notcached",
        "0 CLIENT CACHING yes",
        "0 CLIENT TRACKINGINFO",
        "0 GET cached",
        "1 MSET notcached 1 cached 1",
        "0<",
        "0 CLIENT CACHING no",
        "0 CLIENT CACHING maybe",
        "0 CLIENT TRACKING on OPTOUT",
        "0 CLIENT TRACKING off",
        "0 CLIENT TRACKING on OPTOUT",
        "0 CLIENT CACHING no",
        "0 GET skipped",
        "0 GET kept",
        "1 MSET skipped 1 kept 1",
        "0<",
    ],
    // Argument errors, in Redis's order.
    &[
        "0 CLIENT TRACKING",
        "0 CLIENT TRACKING maybe",
        "0 CLIENT TRACKING on FOO",
        "0 CLIENT TRACKING on PREFIX",
        "0 CLIENT TRACKING on PREFIX a",
        "0 CLIENT TRACKING on BCAST OPTIN",
        "0 CLIENT TRACKING on OPTIN OPTOUT",
        "0 CLIENT TRACKING off FOO",
        "0 CLIENT CACHING yes",
        "0 CLIENT GETREDIR extra",
        "0 CLIENT TRACKINGINFO extra",
    ],
    // NOLOOP in default mode; expired keys invalidate.
    &[
        "0 HELLO 3",
        "0 CLIENT TRACKING on NOLOOP",
        "0 GET k",
        "0 SET k 1",
        "0 GET e",
        "1 SET e 1 PX 50",
        "0<",
        "0 GET e",
        "!sleep 200",
        "0<",
    ],
];

struct Side {
    port: u16,
    conns: Vec<Option<RawClient>>,
    ids: Vec<String>,
}

impl Side {
    fn new(port: u16) -> Side {
        let mut conns = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let mut c = RawClient::connect(port);
            let id = c.line("CLIENT ID");
            ids.push(String::from_utf8_lossy(&id[1..id.len() - 2]).into_owned());
            conns.push(Some(c));
        }
        Side { port, conns, ids }
    }

    fn step(&mut self, n: usize, rest: &str) -> Vec<u8> {
        if rest == "<" {
            return self.conns[n].as_mut().expect("open").read();
        }
        let line = rest
            .trim_start()
            .replace("$ID0", &self.ids[0])
            .replace("$ID1", &self.ids[1]);
        if line == "close" {
            self.conns[n] = None;
            return Vec::new();
        }
        self.conns[n].as_mut().expect("open").line(&line)
    }
}

#[test]
fn tracking_matches_real_redis() {
    let Some(real_bin) = real_server() else {
        return;
    };
    let mut diffs = Vec::new();
    for sc in SCENARIOS {
        let ours = Server::start(&our_server(), &[]);
        let real = Server::start(&real_bin, &[]);
        let mut a = Side::new(ours.port);
        let mut b = Side::new(real.port);
        assert_ne!(a.port, b.port);
        for step in sc.iter() {
            if let Some(ms) = step.strip_prefix("!sleep ") {
                std::thread::sleep(std::time::Duration::from_millis(ms.parse().unwrap()));
                continue;
            }
            let n: usize = step[..1].parse().unwrap();
            let rb = b.step(n, &step[1..]);
            let ra = a.step(n, &step[1..]);
            // Client ids differ between the servers (ours are > 3: proto 3 stays).
            let norm = |r: &[u8], side: &Side| {
                let mut t = show(r);
                for (i, id) in side.ids.iter().enumerate() {
                    t = t.replace(&format!(":{id}\\r\\n"), &format!(":<id{i}>\\r\\n"));
                }
                t
            };
            let (ta, tb) = (norm(&ra, &a), norm(&rb, &b));
            // HELLO's map holds the id beside proto 3; only its kind is compared.
            let hello = step.contains("HELLO");
            if (hello && ta[..1] != tb[..1]) || (!hello && ta != tb) {
                diffs.push(format!(
                    "{step:?} (scenario {:?})\n   ours: {ta}\n   real: {tb}",
                    sc[0]
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "differences:\n{}", diffs.join("\n"));
}
