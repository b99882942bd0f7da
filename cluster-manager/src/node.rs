//! One cluster node as the manager sees it: its address, its connection, and
//! what its `CLUSTER NODES` line says (id, flags, master, slots, open slots).

use crate::log::{self, Level};
use redis_cli_core::conn::{Conn, Target};
use redis_cli_core::opts::Config;
use redis_formats::RespValue;

/// Number of hash slots.
pub const SLOTS: usize = 16384;
/// The cluster bus port is the client port plus this (Redis's default).
pub const PORT_INCR: i64 = 10000;

/// Flag bits parsed from `CLUSTER NODES`.
pub const FLAG_MYSELF: u32 = 1;
pub const FLAG_SLAVE: u32 = 1 << 1;
pub const FLAG_FRIEND: u32 = 1 << 2;
pub const FLAG_NOADDR: u32 = 1 << 3;
pub const FLAG_DISCONNECT: u32 = 1 << 4;
pub const FLAG_FAIL: u32 = 1 << 5;

/// A node of the cluster being managed.
pub struct Node {
    /// The open connection, if any.
    pub conn: Option<Conn>,
    /// The 40-character node id (known once `CLUSTER NODES` was read).
    pub name: Option<String>,
    pub ip: String,
    pub port: i64,
    pub bus_port: i64,
    pub current_epoch: u64,
    pub flags: u32,
    /// The flags as listed by `CLUSTER NODES`, in order.
    pub flags_str: Vec<String>,
    /// The id of the master this node replicates (or should replicate).
    pub replicate: Option<String>,
    /// The planned configuration differs from the node's and must be sent.
    pub dirty: bool,
    pub slots: Vec<bool>,
    pub slots_count: i64,
    /// (slot, destination id) pairs in migrating state.
    pub migrating: Vec<(String, String)>,
    /// (slot, source id) pairs in importing state.
    pub importing: Vec<(String, String)>,
    pub replicas_count: i64,
    /// Other nodes listed by this one's `CLUSTER NODES` (when asked for).
    pub friends: Vec<Node>,
}

/// Splits `ip:port[@bus_port]` the way Redis does (last ':' and last '@').
pub fn parse_address(addr: &str) -> Option<(String, i64, i64)> {
    let (rest, bus) = match addr.rfind('@') {
        Some(at) => (
            &addr[..at],
            redis_cli_core::opts::atoi32(&addr.as_bytes()[at + 1..]),
        ),
        None => (addr, 0),
    };
    let colon = rest.rfind(':')?;
    Some((
        rest[..colon].to_string(),
        redis_cli_core::opts::atoi32(&rest.as_bytes()[colon + 1..]),
        bus,
    ))
}

/// The text of an error reply, or of a status/bulk reply.
pub fn reply_text(v: &RespValue) -> String {
    match v {
        RespValue::Error(e) | RespValue::Status(e) | RespValue::Bulk(e) => {
            String::from_utf8_lossy(e).into_owned()
        }
        RespValue::Verbatim { text, .. } => String::from_utf8_lossy(text).into_owned(),
        _ => String::new(),
    }
}

/// A `field:value` integer from an INFO-style text (0 when absent).
pub fn info_field(text: &str, field: &str) -> i64 {
    for line in text.split("\r\n").flat_map(|l| l.split('\n')) {
        if let Some(v) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            return redis_cli_core::opts::atoi(v.trim_end().as_bytes());
        }
    }
    0
}

impl Node {
    /// A node not connected yet (Redis's `clusterManagerNewNode`).
    pub fn new(ip: &str, port: i64, bus_port: i64) -> Node {
        Node {
            conn: None,
            name: None,
            ip: ip.to_string(),
            port,
            bus_port: if bus_port != 0 {
                bus_port
            } else {
                port + PORT_INCR
            },
            current_epoch: 0,
            flags: 0,
            flags_str: Vec::new(),
            replicate: None,
            dirty: false,
            slots: vec![false; SLOTS],
            slots_count: 0,
            migrating: Vec::new(),
            importing: Vec::new(),
            replicas_count: 0,
            friends: Vec::new(),
        }
    }

    /// The id, or "" when unknown.
    pub fn id(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// Is this node a replica (per its flags)?
    pub fn is_slave(&self) -> bool {
        self.flags & FLAG_SLAVE != 0
    }

    /// Connects and authenticates; prints Redis's messages on failure.
    pub fn connect(&mut self, cfg: &Config) -> bool {
        self.conn = None;
        let target = Target::Tcp {
            host: self.ip.clone(),
            port: self.port,
        };
        let tls = if cfg.tls { Some(&cfg.tls_opts) } else { None };
        let conn = match Conn::connect(&target, tls) {
            Ok(c) => c,
            Err(redis_cli_core::conn::ConnError::Tls(e)) => {
                eprintln!("TLS Error: {e}");
                return false;
            }
            Err(e) => {
                eprintln!(
                    "Could not connect to Redis at {}:{}: {}",
                    self.ip,
                    self.port,
                    e.errstr()
                );
                return false;
            }
        };
        self.conn = Some(conn);
        if let Some(pass) = &cfg.auth {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(u) = &cfg.user {
                args.push(u);
            }
            args.push(pass);
            let r = self.command(&args);
            if !self.check_reply(r.as_ref(), true) {
                return false;
            }
        }
        true
    }

    /// Sends a command and reads its reply; `None` on an I/O error.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Option<RespValue> {
        self.conn.as_mut()?.command(args).ok()
    }

    /// Redis's `clusterManagerCheckRedisReply`: false for no reply or an
    /// error reply; the error is printed when `print` is set.
    pub fn check_reply(&self, r: Option<&RespValue>, print: bool) -> bool {
        match r {
            None => false,
            Some(RespValue::Error(e)) => {
                if print {
                    self.print_reply_error(&String::from_utf8_lossy(e));
                }
                false
            }
            Some(_) => true,
        }
    }

    /// `Node ip:port replied with error:\n<err>`
    pub fn print_reply_error(&self, err: &str) {
        log::log(
            Level::Err,
            &format!(
                "Node {}:{} replied with error:\n{}\n",
                self.ip, self.port, err
            ),
        );
    }

    /// INFO's text, or the error reply's text.
    fn info(&mut self) -> Result<String, Option<String>> {
        match self.command(&["INFO"]) {
            None => Err(None),
            Some(RespValue::Error(e)) => Err(Some(String::from_utf8_lossy(&e).into_owned())),
            Some(v) => Ok(reply_text(&v)),
        }
    }

    /// Is cluster mode on (INFO's `cluster_enabled`)? `Err` carries an error reply.
    pub fn is_cluster(&mut self) -> Result<bool, Option<String>> {
        self.info().map(|t| info_field(&t, "cluster_enabled") != 0)
    }

    /// No key in db0 and no other known node.
    pub fn is_empty(&mut self) -> Result<bool, Option<String>> {
        let info = self.info()?;
        if info.contains("db0:") {
            return Ok(false);
        }
        match self.command(&["CLUSTER", "INFO"]) {
            None => Err(None),
            Some(RespValue::Error(e)) => Err(Some(String::from_utf8_lossy(&e).into_owned())),
            Some(v) => Ok(info_field(&reply_text(&v), "cluster_known_nodes") == 1),
        }
    }

    /// Checks that the node runs in cluster mode and reads its `CLUSTER NODES`
    /// (with `friends`, the other nodes too), printing Redis's error line and
    /// returning false on the first failure.
    pub fn load_cluster_node(&mut self, friends: bool) -> bool {
        match self.is_cluster() {
            Ok(true) => {}
            Ok(false) => {
                self.print_not_cluster(None);
                return false;
            }
            Err(e) => {
                self.print_not_cluster(e.as_deref());
                return false;
            }
        }
        if let Err(e) = self.load_info(friends) {
            if let Some(e) = e {
                self.print_reply_error(&e);
            }
            return false;
        }
        true
    }

    /// Checks that the node is empty (no keys, no other known node), printing
    /// Redis's error line and returning false when it is not.
    pub fn check_empty(&mut self) -> bool {
        match self.is_empty() {
            Ok(true) => true,
            Ok(false) => {
                self.print_not_empty(None);
                false
            }
            Err(e) => {
                self.print_not_empty(e.as_deref());
                false
            }
        }
    }

    /// Prints `[ERR] Node ip:port is not configured as a cluster node.`
    pub fn print_not_cluster(&self, err: Option<&str>) {
        let msg = err.unwrap_or("is not configured as a cluster node.");
        log::log(
            Level::Err,
            &format!("[ERR] Node {}:{} {}\n", self.ip, self.port, msg),
        );
    }

    /// Prints `[ERR] Node ip:port is not empty. ...`
    pub fn print_not_empty(&self, err: Option<&str>) {
        let msg = err.unwrap_or(
            "is not empty. Either the node already knows other nodes (check with \
             CLUSTER NODES) or contains some key in database 0.",
        );
        log::log(
            Level::Err,
            &format!("[ERR] Node {}:{} {}\n", self.ip, self.port, msg),
        );
    }

    fn reset_slots(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = false);
        self.slots_count = 0;
    }

    /// Reads `CLUSTER NODES` (Redis's `clusterManagerNodeLoadInfo`): this
    /// node's id, flags, master, slots and open slots; with `friends`, the
    /// other nodes become `self.friends`. `Err(Some(e))` is an error reply.
    pub fn load_info(&mut self, friends: bool) -> Result<(), Option<String>> {
        let text = match self.command(&["CLUSTER", "NODES"]) {
            None => return Err(None),
            Some(RespValue::Error(e)) => {
                return Err(Some(String::from_utf8_lossy(&e).into_owned()))
            }
            Some(v) => reply_text(&v),
        };
        if self.apply_cluster_nodes(&text, friends) {
            Ok(())
        } else {
            Err(None)
        }
    }

    /// Takes in a `CLUSTER NODES` text as seen from this node (the parsing
    /// half of [`Node::load_info`], apart so it can be fuzzed). False on a
    /// malformed line.
    pub fn apply_cluster_nodes(&mut self, text: &str, friends: bool) -> bool {
        // Only lines ended by '\n' count, as in Redis.
        let mut lines: Vec<&str> = text.split('\n').collect();
        lines.pop();
        for line in lines {
            let toks: Vec<&str> = line.splitn(9, ' ').collect();
            if toks.len() < 3 {
                return false;
            }
            let (name, addr, flags) = (toks[0], toks[1], toks[2]);
            let master_id = toks.get(3).copied();
            let config_epoch = toks.get(6).copied();
            let Some((ip, port, bus_port)) = parse_address(addr) else {
                eprintln!("Error: invalid CLUSTER NODES reply");
                return false;
            };
            let myself = flags.contains("myself");
            let cur: &mut Node = if myself {
                self.bus_port = bus_port;
                self.flags |= FLAG_MYSELF;
                self.reset_slots();
                if toks.len() == 9 {
                    self.parse_slots(toks[8]);
                }
                self.dirty = false;
                self
            } else if !friends {
                if self.flags & FLAG_MYSELF == 0 {
                    continue;
                } else {
                    break;
                }
            } else {
                let mut f = Node::new(&ip, port, bus_port);
                f.flags |= FLAG_FRIEND;
                self.friends.push(f);
                self.friends.last_mut().expect("just pushed")
            };
            cur.name = Some(name.to_string());
            cur.flags_str.clear();
            for flag in flags.split(',').filter(|f| !f.is_empty()) {
                match flag {
                    "noaddr" => cur.flags |= FLAG_NOADDR,
                    "disconnected" => cur.flags |= FLAG_DISCONNECT,
                    "fail" => cur.flags |= FLAG_FAIL,
                    "slave" => {
                        cur.flags |= FLAG_SLAVE;
                        if let Some(m) = master_id {
                            cur.replicate = Some(m.to_string());
                        }
                    }
                    _ => {}
                }
                cur.flags_str.push(flag.to_string());
            }
            if let Some(e) = config_epoch {
                cur.current_epoch = redis_cli_core::opts::atoi(e.as_bytes()) as u64;
            }
            if !friends && myself {
                break;
            }
        }
        true
    }

    /// Parses the slot fields of a `CLUSTER NODES` line.
    fn parse_slots(&mut self, fields: &str) {
        for def in fields.split(' ').filter(|d| !d.is_empty()) {
            if let Some(open) = def.strip_prefix('[') {
                let open = open.trim_end_matches(']');
                if let Some((slot, dst)) = open.split_once("->-") {
                    self.migrating.push((slot.to_string(), dst.to_string()));
                } else if let Some((slot, src)) = open.split_once("-<-") {
                    self.importing.push((slot.to_string(), src.to_string()));
                }
            } else if let Some((a, b)) = def.split_once('-') {
                let start = redis_cli_core::opts::atoi32(a.as_bytes());
                let stop = redis_cli_core::opts::atoi32(b.as_bytes());
                for s in start.max(0)..=stop.min(SLOTS as i64 - 1) {
                    self.slots[s as usize] = true;
                }
                self.slots_count += stop - (start - 1);
            } else {
                let s = redis_cli_core::opts::atoi32(def.as_bytes());
                if (0..SLOTS as i64).contains(&s) {
                    self.slots[s as usize] = true;
                }
                self.slots_count += 1;
            }
        }
    }

    /// The flags without `myself`, comma separated.
    pub fn flags_string(&self) -> String {
        self.flags_str
            .iter()
            .filter(|f| f.as_str() != "myself")
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node's slots as `[0-5460],[5462]`.
    pub fn slots_string(&self) -> String {
        slots_string(&self.slots)
    }

    /// Redis's `clusterManagerNodeInfo`: the `M:`/`S:` lines.
    pub fn info_text(&self, indent: usize) -> String {
        let spaces = " ".repeat(indent);
        let mut info = spaces.clone();
        let role = if self.is_slave() { "S" } else { "M" };
        if self.dirty && self.replicate.is_some() {
            info.push_str(&format!("S: {} {}:{}", self.id(), self.ip, self.port));
        } else {
            info.push_str(&format!(
                "{role}: {} {}:{}\n{spaces}   slots:{} ({} slots) {}",
                self.id(),
                self.ip,
                self.port,
                self.slots_string(),
                self.slots_count,
                self.flags_string()
            ));
        }
        if let Some(r) = &self.replicate {
            info.push_str(&format!("\n{spaces}   replicates {r}"));
        } else if self.replicas_count != 0 {
            info.push_str(&format!(
                "\n{spaces}   {} additional replica(s)",
                self.replicas_count
            ));
        }
        info
    }
}

/// Slot ranges as Redis prints them: `[0-5460],[5462]`.
pub fn slots_string(slots: &[bool]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < slots.len() {
        if !slots[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < slots.len() && slots[i + 1] {
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == i {
            out.push_str(&format!("[{start}]"));
        } else {
            out.push_str(&format!("[{start}-{i}]"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("127.0.0.1:7000@17000"),
            Some(("127.0.0.1".into(), 7000, 17000))
        );
        assert_eq!(parse_address("::1:7000"), Some(("::1".into(), 7000, 0)));
        assert_eq!(parse_address("nohost"), None);
    }

    #[test]
    fn slot_ranges() {
        let mut s = vec![false; SLOTS];
        s[0] = true;
        s[1] = true;
        s[5] = true;
        s[SLOTS - 1] = true;
        assert_eq!(slots_string(&s), "[0-1],[5],[16383]");
    }

    #[test]
    fn cluster_nodes_text() {
        let text = "aaa 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922\n\
                    bbb 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [5461-<-aaa]\n\
                    ccc 127.0.0.1:7003@17003 slave bbb 0 0 1 connected\n";
        let mut n = Node::new("127.0.0.1", 7000, 0);
        assert!(n.apply_cluster_nodes(text, true));
        assert_eq!(n.id(), "bbb");
        assert_eq!(n.bus_port, 17000);
        assert_eq!(n.slots_count, 5461);
        assert_eq!(n.importing, vec![("5461".into(), "aaa".into())]);
        assert_eq!(n.friends.len(), 2);
        assert_eq!(n.friends[0].port, 7001);
        assert!(n.friends[1].is_slave());
        assert_eq!(n.friends[1].replicate.as_deref(), Some("bbb"));
        // Without friends only this node's line is read.
        let mut m = Node::new("127.0.0.1", 7000, 0);
        assert!(m.apply_cluster_nodes(text, false));
        assert!(m.friends.is_empty());
        assert_eq!(m.slots_count, 5461);
        // A line of fewer than three fields is malformed; an unended last line is ignored.
        assert!(!Node::new("h", 1, 0).apply_cluster_nodes("aaa 127.0.0.1:1\n", true));
        assert!(Node::new("h", 1, 0).apply_cluster_nodes("aaa", true));
    }

    #[test]
    fn slots_from_nodes_line() {
        let mut n = Node::new("127.0.0.1", 7000, 0);
        n.parse_slots("0-5460 5462 [5463->-abc] [5464-<-def]");
        assert_eq!(n.slots_count, 5462);
        assert_eq!(n.slots_string(), "[0-5460],[5462]");
        assert_eq!(n.migrating, vec![("5463".into(), "abc".into())]);
        assert_eq!(n.importing, vec![("5464".into(), "def".into())]);
    }
}
