//! Keyspace walkers: `--scan`, `--bigkeys`, `--memkeys`, `--hotkeys`.

use crate::conn::Conn;
use crate::format::repr;
use crate::session::{err, out, Session};
use crate::signals;
use redis_formats::RespValue;

fn die(msg: String) -> ! {
    err(msg.as_bytes());
    std::process::exit(1);
}

/// One SCAN step; returns the next cursor and the keys.
fn scan(c: &mut Conn, cursor: u64, pattern: Option<&[u8]>) -> (u64, Vec<Vec<u8>>) {
    let cur = cursor.to_string();
    let reply = match pattern {
        Some(p) => c.command(&[&b"SCAN"[..], cur.as_bytes(), b"MATCH", p]),
        None => c.command(&[&b"SCAN"[..], cur.as_bytes()]),
    };
    let reply = reply.unwrap_or_else(|_| die("\nI/O error\n".into()));
    let items = match reply {
        RespValue::Error(e) => die(format!("SCAN error: {}\n", String::from_utf8_lossy(&e))),
        RespValue::Array(a) => a,
        _ => die("Non ARRAY response from SCAN!\n".into()),
    };
    if items.len() != 2 {
        die("Invalid element count from SCAN!\n".into());
    }
    let next = crate::opts::atoi(items[0].as_bytes().unwrap_or(b"0")) as u64;
    let keys = match &items[1] {
        RespValue::Array(k) => k
            .iter()
            .map(|k| k.as_bytes().unwrap_or(b"").to_vec())
            .collect(),
        _ => die("Invalid element count from SCAN!\n".into()),
    };
    (next, keys)
}

fn dbsize(c: &mut Conn) -> u64 {
    match c.command(&[&b"DBSIZE"[..]]) {
        Ok(RespValue::Integer(n)) => n.max(0) as u64,
        Ok(RespValue::Error(e)) => die(format!(
            "Couldn't determine DBSIZE: {}\n",
            String::from_utf8_lossy(&e)
        )),
        Ok(_) => die("Non INTEGER response from DBSIZE!\n".into()),
        Err(_) => die("\nI/O error\n".into()),
    }
}

/// The nodes a keyspace walk covers: the connected server, or with -c every
/// master of the cluster (a beyond-Redis extension), walked one after the
/// other with their own SCAN cursors.
struct Nodes {
    conns: Vec<Conn>,
    idx: usize,
    cursor: u64,
}

impl Nodes {
    fn open(s: &mut Session) -> Nodes {
        let first = s.conn.take().unwrap_or_else(|| die("\nI/O error\n".into()));
        let mut nodes = Nodes {
            conns: vec![first],
            idx: 0,
            cursor: 0,
        };
        if !s.cfg.cluster_mode {
            return nodes;
        }
        let masters = match nodes.conns[0].command(&[&b"CLUSTER"[..], b"SLOTS"]) {
            Ok(RespValue::Array(ranges)) => cluster_masters(&ranges, &s.cfg.host),
            // Not a cluster: walk this one server.
            _ => return nodes,
        };
        if masters.is_empty() {
            return nodes;
        }
        // Walk the masters only (the seed may be a replica, or the same
        // node under another name).
        nodes.conns.clear();
        for (host, port) in masters {
            let mut sub = Session::new(s.cfg.clone());
            sub.cfg.host = host;
            sub.cfg.port = port;
            sub.cfg.socket = None;
            if sub
                .connect(crate::session::ConnectFlags::default())
                .is_err()
            {
                std::process::exit(1);
            }
            if let Some(c) = sub.conn.take() {
                nodes.conns.push(c);
            }
        }
        nodes
    }

    fn total_keys(&mut self) -> u64 {
        self.conns.iter_mut().map(dbsize).sum()
    }

    /// The next SCAN batch: the node it came from and its keys.
    fn next_batch(&mut self, pattern: Option<&[u8]>) -> (usize, Vec<Vec<u8>>) {
        let node = self.idx;
        let (next, keys) = scan(&mut self.conns[node], self.cursor, pattern);
        self.cursor = next;
        if next == 0 {
            self.idx += 1;
        }
        (node, keys)
    }

    fn done(&self) -> bool {
        self.idx >= self.conns.len()
    }
}

/// Distinct master addresses from a CLUSTER SLOTS reply (an empty IP means
/// "the address you reached me on").
fn cluster_masters(ranges: &[RespValue], seed_host: &str) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for r in ranges {
        let Some(items) = r.as_slice() else { continue };
        let Some(master) = items.get(2).and_then(|m| m.as_slice()) else {
            continue;
        };
        let host = master
            .first()
            .and_then(|h| h.as_bytes())
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .filter(|h| !h.is_empty() && h != "?")
            .unwrap_or_else(|| seed_host.to_string());
        let port = match master.get(1) {
            Some(RespValue::Integer(p)) => *p,
            _ => continue,
        };
        if !out.iter().any(|(h, p)| *h == host && *p == port) {
            out.push((host, port));
        }
    }
    out
}

fn sleep_every_100(s: &Session, loops: u64) {
    if s.cfg.interval_us > 0 && loops % 100 == 0 {
        std::thread::sleep(std::time::Duration::from_micros(s.cfg.interval_us as u64));
    }
}

/// `--scan [--pattern P]`: prints every key, one per line, as SCAN returns it.
pub fn scan_mode(s: &mut Session) -> i32 {
    signals::install_cancel();
    let pattern = s.cfg.pattern.clone();
    let quote = s.cfg.output == crate::opts::OutputMode::Standard;
    let mut nodes = Nodes::open(s);
    loop {
        let (_, keys) = nodes.next_batch(pattern.as_deref());
        let mut o = Vec::new();
        for k in keys {
            if quote {
                repr(&mut o, &k);
            } else {
                // printf("%s"): the key up to its first NUL byte.
                let end = k.iter().position(|&b| b == 0).unwrap_or(k.len());
                o.extend_from_slice(&k[..end]);
            }
            o.push(b'\n');
        }
        out(&o);
        // Redis sleeps between SCAN calls when -i is given.
        if s.cfg.interval_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(s.cfg.interval_us as u64));
        }
        if nodes.done() || signals::cancelled() {
            break;
        }
    }
    0
}

struct TypeInfo {
    name: String,
    sizecmd: Option<&'static str>,
    unit: &'static str,
    biggest: u64,
    count: u64,
    total: u64,
    biggest_key: Option<Vec<u8>>,
}

impl TypeInfo {
    fn new(name: &str, sizecmd: Option<&'static str>, unit: &'static str) -> Self {
        TypeInfo {
            name: name.into(),
            sizecmd,
            unit,
            biggest: 0,
            count: 0,
            total: 0,
            biggest_key: None,
        }
    }
}

/// The opening lines of --bigkeys / --memkeys / --hotkeys.
fn banner(what: &str) {
    out(format!(
        "\n# Scanning the entire keyspace to find {what} as well as\n\
         # average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec\n\
         # per 100 SCAN commands (not usually needed).\n\n"
    )
    .as_bytes());
}

/// The start of the summary (with the progress when Ctrl-C cut the walk).
fn summary_head(pct: f64, sampled: u64) -> Vec<u8> {
    let mut o = b"\n-------- summary -------\n\n".to_vec();
    if signals::cancelled() {
        o.extend_from_slice(format!("[{}%] ", pct_text(pct)).as_bytes());
    }
    o.extend_from_slice(format!("Sampled {sampled} keys in the keyspace!\n").as_bytes());
    o
}

fn pct_text(p: f64) -> String {
    format!("{p:05.2}")
}

/// `--bigkeys` (sizes by element count) or `--memkeys` (MEMORY USAGE).
pub fn find_big_keys(s: &mut Session, memkeys: bool) -> i32 {
    signals::install_cancel();
    // The summary lists types in the order Redis's stats table iterates
    // them, which `TypeTable` reproduces.
    let mut table = super::typeorder::TypeTable::new();
    for n in ["string", "list", "set", "hash", "zset", "stream"] {
        table.add(n);
    }
    let mut types = vec![
        TypeInfo::new("list", Some("LLEN"), "items"),
        TypeInfo::new("hash", Some("HLEN"), "fields"),
        TypeInfo::new("string", Some("STRLEN"), "bytes"),
        TypeInfo::new("stream", Some("XLEN"), "entries"),
        TypeInfo::new("set", Some("SCARD"), "members"),
        TypeInfo::new("zset", Some("ZCARD"), "members"),
    ];
    let samples = s.cfg.memkeys_samples;
    let pattern = s.cfg.pattern.clone();
    let mut nodes = Nodes::open(s);
    let total_keys = nodes.total_keys();
    banner("biggest keys");
    let (mut sampled, mut totlen, mut loops) = (0u64, 0u64, 0u64);
    let mut pct;
    loop {
        pct = 100.0 * sampled as f64 / total_keys as f64;
        let (node, keys) = nodes.next_batch(pattern.as_deref());
        loops += 1;
        let c = &mut nodes.conns[node];
        // Pipeline TYPE for the batch.
        let mut buf = Vec::new();
        for k in &keys {
            redis_formats::command::encode_command(&[&b"TYPE"[..], k], &mut buf);
        }
        if c.write_all(&buf).is_err() {
            die("\nI/O error\n".into());
        }
        let mut kinds: Vec<Option<usize>> = Vec::with_capacity(keys.len());
        for k in &keys {
            let r = c.read_reply().unwrap_or_else(|e| {
                die(format!(
                    "Error getting type for key '{}' (1: {})\n",
                    String::from_utf8_lossy(k),
                    e.errstr()
                ))
            });
            let t = match r {
                RespValue::Status(t) => String::from_utf8_lossy(&t).into_owned(),
                RespValue::Error(e) => die(format!(
                    "TYPE returned an error: {}\n",
                    String::from_utf8_lossy(&e)
                )),
                _ => die(format!(
                    "Invalid reply type for TYPE on key '{}'!\n",
                    String::from_utf8_lossy(k)
                )),
            };
            let idx = types.iter().position(|x| x.name == t);
            table.find();
            kinds.push(match idx {
                Some(i) => Some(i),
                None if t != "none" => {
                    table.add(&t);
                    types.push(TypeInfo::new(&t, None, "?"));
                    Some(types.len() - 1)
                }
                None => None,
            });
        }
        // Pipeline the size commands.
        let mut buf = Vec::new();
        let samples_s = samples.to_string();
        for (k, kind) in keys.iter().zip(&kinds) {
            let Some(i) = kind else { continue };
            let t = &types[*i];
            if !memkeys {
                if let Some(cmd) = t.sizecmd {
                    redis_formats::command::encode_command(&[cmd.as_bytes(), k], &mut buf);
                }
            } else if samples == 0 {
                redis_formats::command::encode_command(&[&b"MEMORY"[..], b"USAGE", k], &mut buf);
            } else {
                redis_formats::command::encode_command(
                    &[
                        &b"MEMORY"[..],
                        b"USAGE",
                        k,
                        b"SAMPLES",
                        samples_s.as_bytes(),
                    ],
                    &mut buf,
                );
            }
        }
        if c.write_all(&buf).is_err() {
            die("\nI/O error\n".into());
        }
        let mut sizes = vec![0u64; keys.len()];
        for (j, (k, kind)) in keys.iter().zip(&kinds).enumerate() {
            let Some(i) = kind else { continue };
            if !memkeys && types[*i].sizecmd.is_none() {
                continue;
            }
            match c.read_reply() {
                Err(e) => die(format!(
                    "Error getting size for key '{}' (1: {})\n",
                    String::from_utf8_lossy(k),
                    e.errstr()
                )),
                Ok(RespValue::Integer(n)) => sizes[j] = n.max(0) as u64,
                Ok(_) => err(format!(
                    "Warning:  {} on '{}' failed (may have changed type)\n",
                    if memkeys {
                        "MEMORY USAGE"
                    } else {
                        types[*i].sizecmd.unwrap_or("")
                    },
                    String::from_utf8_lossy(k)
                )
                .as_bytes()),
            }
        }
        for (j, (k, kind)) in keys.iter().zip(&kinds).enumerate() {
            let Some(i) = kind else { continue };
            let t = &mut types[*i];
            t.total += sizes[j];
            t.count += 1;
            totlen += k.len() as u64;
            sampled += 1;
            if t.biggest < sizes[j] {
                let mut name = Vec::new();
                repr(&mut name, k);
                out(&[
                    format!("[{}%] Biggest {:<6} found so far '", pct_text(pct), t.name).as_bytes(),
                    &name,
                    format!(
                        "' with {} {}\n",
                        sizes[j],
                        if memkeys { "bytes" } else { t.unit }
                    )
                    .as_bytes(),
                ]
                .concat());
                t.biggest_key = Some(name);
                t.biggest = sizes[j];
            }
            if sampled % 1_000_000 == 0 {
                out(format!("[{}%] Sampled {sampled} keys so far\n", pct_text(pct)).as_bytes());
            }
        }
        sleep_every_100(s, loops);
        if signals::cancelled() || nodes.done() {
            break;
        }
    }
    let mut o = summary_head(pct, sampled);
    let avg = if totlen > 0 {
        totlen as f64 / sampled as f64
    } else {
        0.0
    };
    o.extend_from_slice(
        format!("Total key length in bytes is {totlen} (avg len {avg:.2})\n\n").as_bytes(),
    );
    let order = table.order();
    types.sort_by_key(|t| order.iter().position(|n| *n == t.name));
    for t in &types {
        if let Some(k) = &t.biggest_key {
            o.extend_from_slice(format!("Biggest {:>6} found '", t.name).as_bytes());
            o.extend_from_slice(k);
            o.extend_from_slice(
                format!(
                    "' has {} {}\n",
                    t.biggest,
                    if memkeys { "bytes" } else { t.unit }
                )
                .as_bytes(),
            );
        }
    }
    o.push(b'\n');
    for t in &types {
        let share = if sampled > 0 {
            100.0 * t.count as f64 / sampled as f64
        } else {
            0.0
        };
        let avg = if t.count > 0 {
            t.total as f64 / t.count as f64
        } else {
            0.0
        };
        o.extend_from_slice(
            format!(
                "{} {}s with {} {} ({}% of keys, avg size {avg:.2})\n",
                t.count,
                t.name,
                t.total,
                if memkeys { "bytes" } else { t.unit },
                pct_text(share)
            )
            .as_bytes(),
        );
    }
    out(&o);
    0
}

const HOTKEYS_SAMPLE: usize = 16;

/// `--hotkeys`: OBJECT FREQ over the keyspace (needs an LFU policy).
pub fn find_hot_keys(s: &mut Session) -> i32 {
    signals::install_cancel();
    let mut counters = [0u64; HOTKEYS_SAMPLE];
    let mut hot: [Option<Vec<u8>>; HOTKEYS_SAMPLE] = Default::default();
    let pattern = s.cfg.pattern.clone();
    let mut nodes = Nodes::open(s);
    let total_keys = nodes.total_keys();
    banner("hot keys");
    let (mut sampled, mut loops) = (0u64, 0u64);
    let mut pct;
    loop {
        pct = 100.0 * sampled as f64 / total_keys as f64;
        let (node, keys) = nodes.next_batch(pattern.as_deref());
        loops += 1;
        let c = &mut nodes.conns[node];
        let mut buf = Vec::new();
        for k in &keys {
            redis_formats::command::encode_command(&[&b"OBJECT"[..], b"FREQ", k], &mut buf);
        }
        if c.write_all(&buf).is_err() {
            die("\nI/O error\n".into());
        }
        let mut freqs = vec![0u64; keys.len()];
        for (i, k) in keys.iter().enumerate() {
            let mut name = Vec::new();
            repr(&mut name, k);
            match c.read_reply() {
                Err(e) => die(format!(
                    "Error getting freq for key '{}' (1: {})\n",
                    String::from_utf8_lossy(&name),
                    e.errstr()
                )),
                Ok(RespValue::Integer(n)) => freqs[i] = n.max(0) as u64,
                Ok(RespValue::Error(e)) => die(format!("Error: {}\n", String::from_utf8_lossy(&e))),
                Ok(_) => err(format!(
                    "Warning: OBJECT freq on '{}' failed (may have been deleted)\n",
                    String::from_utf8_lossy(&name)
                )
                .as_bytes()),
            }
        }
        for (i, k) in keys.iter().enumerate() {
            sampled += 1;
            if sampled % 1_000_000 == 0 {
                out(format!("[{}%] Sampled {sampled} keys so far\n", pct_text(pct)).as_bytes());
            }
            // A small eviction-pool style top list, lowest counter first.
            let mut pos = 0;
            while pos < HOTKEYS_SAMPLE && freqs[i] > counters[pos] {
                pos += 1;
            }
            if pos == 0 {
                continue;
            }
            pos -= 1;
            if pos != 0 && counters[pos] != 0 {
                counters.copy_within(1..=pos, 0);
                hot[..=pos].rotate_left(1);
            }
            counters[pos] = freqs[i];
            let mut name = Vec::new();
            repr(&mut name, k);
            out(&[
                format!("[{}%] Hot key '", pct_text(pct)).as_bytes(),
                &name,
                format!("' found so far with counter {}\n", freqs[i]).as_bytes(),
            ]
            .concat());
            hot[pos] = Some(name);
        }
        sleep_every_100(s, loops);
        if signals::cancelled() || nodes.done() {
            break;
        }
    }
    let mut o = summary_head(pct, sampled);
    for k in (0..HOTKEYS_SAMPLE).rev() {
        if counters[k] > 0 {
            o.extend_from_slice(
                format!("hot key found with counter: {}\tkeyname: ", counters[k]).as_bytes(),
            );
            o.extend_from_slice(hot[k].as_deref().unwrap_or(b""));
            o.push(b'\n');
        }
    }
    out(&o);
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use RespValue::*;

    fn node(h: &str, p: i64) -> RespValue {
        Array(vec![
            Bulk(h.as_bytes().to_vec()),
            Integer(p),
            Bulk(b"id".to_vec()),
        ])
    }

    #[test]
    fn masters_from_cluster_slots() {
        let r = vec![
            Array(vec![
                Integer(0),
                Integer(100),
                node("10.0.0.1", 7000),
                node("10.0.0.2", 7001),
            ]),
            Array(vec![Integer(101), Integer(200), node("", 7002)]),
            Array(vec![Integer(201), Integer(300), node("10.0.0.1", 7000)]),
        ];
        assert_eq!(
            cluster_masters(&r, "seed"),
            vec![("10.0.0.1".to_string(), 7000), ("seed".to_string(), 7002)]
        );
    }
}
