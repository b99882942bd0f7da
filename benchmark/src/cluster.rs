//! Cluster mode: the masters and their slots (from CLUSTER SLOTS), and hash
//! tags that send a key to a chosen slot.

use std::sync::OnceLock;

use redis_formats::slot::key_hash_slot;
use redis_formats::RespValue;

/// A master and the slots it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub ip: String,
    pub port: u16,
    pub slots: Vec<u16>,
}

/// Parses a CLUSTER SLOTS reply into masters, in order of first appearance.
/// An entry without `[ip, port, id]` for its master is an error.
pub fn parse_slots(reply: &RespValue) -> Result<Vec<Node>, String> {
    let bad = || "Invalid CLUSTER SLOTS reply".to_string();
    let ranges = reply.as_slice().ok_or_else(bad)?;
    let mut nodes: Vec<Node> = Vec::new();
    for r in ranges {
        let r = r.as_slice().ok_or_else(bad)?;
        let int = |v: &RespValue| match v {
            RespValue::Integer(n) => Some(*n),
            _ => None,
        };
        let (Some(from), Some(to)) = (r.first().and_then(int), r.get(1).and_then(int)) else {
            return Err(bad());
        };
        let m = r.get(2).and_then(|m| m.as_slice()).ok_or_else(bad)?;
        let ip = m.first().and_then(|v| v.as_bytes()).ok_or_else(bad)?;
        let port = m.get(1).and_then(int).ok_or_else(bad)?;
        let name = m.get(2).and_then(|v| v.as_bytes()).ok_or_else(bad)?;
        let name = String::from_utf8_lossy(name).into_owned();
        let idx = match nodes.iter().position(|n| n.name == name) {
            Some(i) => i,
            None => {
                nodes.push(Node {
                    name,
                    ip: String::from_utf8_lossy(ip).into_owned(),
                    port: port as u16,
                    slots: Vec::new(),
                });
                nodes.len() - 1
            }
        };
        if !(0..16384).contains(&from) || !(from..16384).contains(&to) {
            return Err(bad());
        }
        nodes[idx].slots.extend(from as u16..=to as u16);
    }
    Ok(nodes)
}

/// A short hash tag (without braces) for every slot: the first string of one
/// to three alphanumerics that hashes to it.
pub fn slot_tags() -> &'static [Vec<u8>] {
    static TAGS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TAGS.get_or_init(|| {
        const ALPHA: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut tags: Vec<Vec<u8>> = vec![Vec::new(); 16384];
        let mut missing = 16384;
        for &a in ALPHA {
            for t in std::iter::once(vec![a]).chain(ALPHA.iter().flat_map(|&b| {
                std::iter::once(vec![a, b]).chain(ALPHA.iter().map(move |&c| vec![a, b, c]))
            })) {
                let s = key_hash_slot(&t) as usize;
                if tags[s].is_empty() {
                    tags[s] = t;
                    missing -= 1;
                }
            }
            if missing == 0 {
                break;
            }
        }
        tags
    })
}

/// Writes a tag for `slot` over a 5-byte `{tag}` placeholder: `{x}}}`,
/// `{xy}}` or `{xyz}`, which all hash on the text between the first braces.
pub fn write_tag(placeholder: &mut [u8], slot: u16) {
    let tag = &slot_tags()[slot as usize];
    placeholder[0] = b'{';
    for i in 0..3 {
        placeholder[1 + i] = *tag.get(i).unwrap_or(&b'}');
    }
    placeholder[4] = b'}';
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_has_a_tag() {
        let tags = slot_tags();
        for (slot, t) in tags.iter().enumerate() {
            assert!(!t.is_empty() && t.len() <= 3);
            assert_eq!(key_hash_slot(t) as usize, slot);
        }
    }

    #[test]
    fn placeholder_keys_land_on_the_slot() {
        for slot in [0u16, 1, 5000, 16383] {
            let mut key = b"key:{tag}:000000000001".to_vec();
            write_tag(&mut key[4..9], slot);
            assert_eq!(key_hash_slot(&key), slot);
        }
    }

    #[test]
    fn parses_slots_reply() {
        let node = |ip: &str, port: i64, id: &str| {
            RespValue::Array(vec![
                RespValue::Bulk(ip.into()),
                RespValue::Integer(port),
                RespValue::Bulk(id.into()),
            ])
        };
        let reply = RespValue::Array(vec![
            RespValue::Array(vec![
                RespValue::Integer(0),
                RespValue::Integer(2),
                node("127.0.0.1", 7000, "a"),
            ]),
            RespValue::Array(vec![
                RespValue::Integer(3),
                RespValue::Integer(16383),
                node("127.0.0.1", 7001, "b"),
            ]),
            RespValue::Array(vec![
                RespValue::Integer(5),
                RespValue::Integer(5),
                node("127.0.0.1", 7000, "a"),
            ]),
        ]);
        let n = parse_slots(&reply).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].slots, vec![0, 1, 2, 5]);
        assert_eq!(n[1].port, 7001);
        assert!(parse_slots(&RespValue::Integer(1)).is_err());
    }
}
