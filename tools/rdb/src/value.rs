//! Decoded RDB values.

/// RDB object type bytes (`rdb.h`), up to Redis 7.4 and Valkey 8.
pub mod types {
    /// A string (raw, integer or LZF).
    pub const STRING: u8 = 0;
    /// A list as a plain sequence of strings (before 3.2).
    pub const LIST: u8 = 1;
    /// A set as a plain sequence of members.
    pub const SET: u8 = 2;
    /// A sorted set with text scores (before 3.0).
    pub const ZSET: u8 = 3;
    /// A hash as field/value pairs.
    pub const HASH: u8 = 4;
    /// A sorted set with binary scores.
    pub const ZSET_2: u8 = 5;
    /// A module value without annotations (4.0 release candidates).
    pub const MODULE: u8 = 6;
    /// A module value with annotations (skippable).
    pub const MODULE_2: u8 = 7;
    /// A hash in a zipmap (before 2.6).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list in one ziplist (2.6..3.0).
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set of integers in an intset.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set in a ziplist (before 7.0).
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash in a ziplist (before 7.0).
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list of ziplist nodes (3.2..6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream (5.0..6.2).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash in a listpack (7.0).
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set in a listpack (7.0).
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list of listpack or plain nodes (7.0).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream with first ID, max deleted ID and entries added (7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// A small set in a listpack (7.2, RDB 11).
    pub const SET_LISTPACK: u8 = 20;
    /// A stream whose consumers have an active time (7.2, RDB 11).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// A hash with field TTLs, absolute (7.4 release candidates).
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    /// A listpack hash with field TTLs (7.4 release candidates).
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    /// A hash with field TTLs relative to a minimum (7.4, RDB 12).
    pub const HASH_METADATA: u8 = 24;
    /// A listpack hash with field TTLs (7.4, RDB 12).
    pub const HASH_LISTPACK_EX: u8 = 25;
    /// Valkey 9 (RDB 80): hash with field expiry. Same number as Redis 7.4's
    /// `HASH_METADATA_PRE_GA`; files with the `VALKEY` magic use Valkey's meaning.
    pub const VALKEY_HASH_2: u8 = 22;

    /// Redis 7.0's `rdbIsObjectType`.
    pub fn is_object_type_v10(t: u8) -> bool {
        t <= 7 || (9..=19).contains(&t)
    }

    /// Whether this reader knows the type.
    pub fn is_known(t: u8) -> bool {
        t <= 7 || (9..=25).contains(&t)
    }

    /// Name of the logical type (as TYPE shows it).
    pub fn kind_name(t: u8) -> &'static str {
        match t {
            0 => "string",
            1 | 10 | 14 | 18 => "list",
            2 | 11 | 20 => "set",
            3 | 5 | 12 | 17 => "zset",
            4 | 9 | 13 | 16 | 22..=25 => "hash",
            15 | 19 | 21 => "stream",
            6 | 7 => "module",
            _ => "unknown",
        }
    }

    /// Name of the encoding a type byte stands for.
    pub fn encoding_name(t: u8) -> &'static str {
        match t {
            0 => "string",
            1 => "linkedlist",
            2 => "hashtable",
            3 => "skiplist-v1",
            4 => "hashtable",
            5 => "skiplist",
            6 | 7 => "module",
            9 => "zipmap",
            10 => "ziplist",
            11 => "intset",
            12 => "ziplist",
            13 => "ziplist",
            14 => "quicklist",
            15 => "stream-v1",
            16 => "listpack",
            17 => "listpack",
            18 => "quicklist",
            19 => "stream-v2",
            20 => "listpack",
            21 => "stream-v3",
            22 | 24 => "hashtable-ex",
            23 | 25 => "listpack-ex",
            _ => "unknown",
        }
    }
}

/// A stream entry or group ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// From the 16-byte big-endian form used as rax keys and PEL IDs.
    pub fn from_be(b: &[u8]) -> StreamId {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..16]);
        StreamId {
            ms: u64::from_be_bytes(ms),
            seq: u64::from_be_bytes(seq),
        }
    }

    /// The 16-byte big-endian form.
    pub fn to_be(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A pending entry of a consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEntry {
    /// Entry ID.
    pub id: StreamId,
    /// Last delivery time (unix ms).
    pub delivery_time: i64,
    /// Deliveries so far.
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumer {
    /// Name.
    pub name: Vec<u8>,
    /// Seen time (unix ms).
    pub seen_time: i64,
    /// Active time (stream v3 only, else -1).
    pub active_time: i64,
    /// IDs of its pending entries.
    pub pending: Vec<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerGroup {
    /// Name.
    pub name: Vec<u8>,
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Entries read (v2+; `None` for v1 files, where Redis estimates it).
    pub entries_read: Option<u64>,
    /// Group PEL.
    pub pending: Vec<PendingEntry>,
    /// Consumers.
    pub consumers: Vec<Consumer>,
}

/// A stream, kept as its listpack nodes (what RDB stores) plus metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// (master ID, listpack) per node, in file order.
    pub nodes: Vec<(StreamId, Vec<u8>)>,
    /// Number of entries.
    pub length: u64,
    /// Last ID.
    pub last_id: StreamId,
    /// First ID (v2+; `None` in v1 files).
    pub first_id: Option<StreamId>,
    /// Maximal deleted entry ID (v2+).
    pub max_deleted_id: Option<StreamId>,
    /// Entries added over the stream's life (v2+).
    pub entries_added: Option<u64>,
    /// Consumer groups.
    pub groups: Vec<ConsumerGroup>,
}

/// A stream entry decoded from the nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntry {
    /// ID.
    pub id: StreamId,
    /// Field-value pairs.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Stream {
    /// The live (not deleted) entries, decoded from the validated listpacks.
    pub fn entries(&self) -> Vec<StreamEntry> {
        use crate::encodings::listpack;
        let mut out = Vec::new();
        for (master, lp) in &self.nodes {
            let el = listpack::elements(lp);
            let int = |i: usize| el.get(i).and_then(|e| e.as_int()).unwrap_or(0);
            let count = int(0) + int(1);
            let nmaster = int(2).max(0) as usize;
            let master_fields: Vec<Vec<u8>> = (0..nmaster)
                .filter_map(|k| el.get(3 + k).map(|e| e.to_bytes()))
                .collect();
            let mut p = 3 + nmaster + 1;
            for _ in 0..count {
                if p + 3 > el.len() {
                    break;
                }
                let flags = int(p);
                let id = StreamId {
                    ms: master.ms.wrapping_add(int(p + 1) as u64),
                    seq: master.seq.wrapping_add(int(p + 2) as u64),
                };
                p += 3;
                let fields: Vec<Vec<u8>> = if flags & 2 != 0 {
                    master_fields.clone()
                } else {
                    let n = int(p).max(0) as usize;
                    p += 1;
                    let f = (0..n)
                        .filter_map(|k| el.get(p + k).map(|e| e.to_bytes()))
                        .collect();
                    p += n;
                    f
                };
                let mut pairs = Vec::with_capacity(fields.len());
                for f in fields {
                    let v = el.get(p).map(|e| e.to_bytes()).unwrap_or_default();
                    p += 1;
                    pairs.push((f, v));
                }
                p += 1; // lp-count
                if flags & 1 == 0 {
                    out.push(StreamEntry { id, fields: pairs });
                }
            }
        }
        out
    }
}

/// A hash field, with its expiry for Redis 7.4's field TTLs.
#[derive(Debug, Clone, PartialEq)]
pub struct HashField {
    /// Field.
    pub field: Vec<u8>,
    /// Value.
    pub value: Vec<u8>,
    /// Expiry (unix ms) when the field has a TTL.
    pub expire_ms: Option<i64>,
}

/// A decoded value. Lists, sets, zsets and hashes are flattened to their elements.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    String(Vec<u8>),
    /// List elements, head first.
    List(Vec<Vec<u8>>),
    /// Set members in file order.
    Set(Vec<Vec<u8>>),
    /// Members and scores in file order.
    ZSet(Vec<(Vec<u8>, f64)>),
    /// Fields in file order.
    Hash(Vec<HashField>),
    /// A stream.
    Stream(Box<Stream>),
    /// A module value (only skipped over): module id and its 9-character name.
    Module {
        /// 64-bit module type id.
        id: u64,
        /// Name decoded from the id.
        name: String,
    },
}

impl Value {
    /// TYPE's name of the value.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Hash(_) => "hash",
            Value::Stream(_) => "stream",
            Value::Module { .. } => "module",
        }
    }

    /// Number of elements (1 for strings).
    pub fn len(&self) -> usize {
        match self {
            Value::String(_) => 1,
            Value::List(v) | Value::Set(v) => v.len(),
            Value::ZSet(v) => v.len(),
            Value::Hash(v) => v.len(),
            Value::Stream(s) => s.length as usize,
            Value::Module { .. } => 1,
        }
    }

    /// Whether the value has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The name of a module type from its 64-bit id (`moduleTypeNameByID`).
pub fn module_type_name(id: u64) -> String {
    const SET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = id >> 10;
    let mut name = [0u8; 9];
    for slot in name.iter_mut().rev() {
        *slot = SET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}
