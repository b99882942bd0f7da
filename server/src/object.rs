//! Values stored in the keyspace and the per-key metadata Redis keeps (LRU/LFU).

use crate::keyspace::smallbytes::SmallBytes;
use crate::types::{hash::Hash, list::List, set::Set, stream::Stream, zset::ZSet};
use redis_formats::num::parse_i64;
use redis_formats::ReplyBuf;

/// Longest string Redis stores as `embstr` (OBJECT ENCODING reports it).
pub const EMBSTR_MAX: usize = 44;

pub use redis_formats::num::{format_i64, IntBuf};

/// A value. Strings keep the encoding Redis would report for them; the collections
/// are enums of their own encodings (`crate::types`).
#[derive(Debug, Clone)]
pub enum Value {
    /// A string that is the canonical form of an integer (`int`).
    Int(i64),
    /// A string as written by SET and friends (`embstr` up to 44 bytes, else `raw`).
    Str(SmallBytes),
    /// A string modified in place (APPEND, SETRANGE, SETBIT...): always `raw`, with
    /// room to grow so repeated appends stay linear.
    Raw(Box<Vec<u8>>),
    /// A list.
    List(List),
    /// A hash.
    Hash(Hash),
    /// A set.
    Set(Set),
    /// A sorted set.
    ZSet(ZSet),
    /// A stream (boxed: it is large and rare).
    Stream(Box<Stream>),
}

impl Value {
    /// A string value with the encoding Redis's `tryObjectEncoding` would choose.
    pub fn string(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = parse_i64(b) {
                return Value::Int(n);
            }
        }
        Value::Str(SmallBytes::new(b))
    }

    /// Like [`string`](Self::string), taking ownership of the bytes.
    pub fn string_from_vec(v: Vec<u8>) -> Value {
        if v.len() <= 20 {
            if let Some(n) = parse_i64(&v) {
                return Value::Int(n);
            }
        }
        Value::Str(SmallBytes::from_vec(v))
    }

    /// The TYPE name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str(_) | Value::Raw(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// True for string values.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str(_) | Value::Raw(_))
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_MAX => "embstr",
            Value::Str(_) | Value::Raw(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// A string value stored as `embstr`/`raw` by length, never as `int` (what Redis's
    /// createStringObject gives, e.g. for INCRBYFLOAT results).
    pub fn plain_string(b: &[u8]) -> Value {
        Value::Str(SmallBytes::new(b))
    }

    /// The bytes of a string value; integers are formatted into `buf`.
    #[inline]
    pub fn as_bytes<'a>(&'a self, buf: &'a mut IntBuf) -> &'a [u8] {
        match self {
            Value::Int(n) => format_i64(*n, buf),
            Value::Str(s) => s,
            Value::Raw(v) => v,
            _ => non_string(),
        }
    }

    /// Calls `f` with the bytes of a string value (integers are formatted first).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut buf = [0u8; 20];
        f(self.as_bytes(&mut buf))
    }

    /// The bytes of a string value, copied.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// Length in bytes of a string value.
    pub fn str_len(&self) -> usize {
        match self {
            Value::Int(n) => format_i64(*n, &mut [0u8; 20]).len(),
            Value::Str(s) => s.len(),
            Value::Raw(v) => v.len(),
            _ => non_string(),
        }
    }

    /// Writes a string value as a bulk reply.
    pub fn reply_bulk(&self, out: &mut ReplyBuf) {
        match self {
            Value::Int(n) => out.bulk(format_i64(*n, &mut [0u8; 20])),
            Value::Str(s) => out.bulk(s),
            Value::Raw(v) => out.bulk(v),
            _ => non_string(),
        }
    }

    /// Turns a string value into a growable `raw` buffer and returns it.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Value::Raw(_)) {
            *self = Value::Raw(Box::new(self.to_bytes()));
        }
        match self {
            Value::Raw(v) => v,
            _ => unreachable!("just converted"),
        }
    }

    /// Approximate heap bytes owned by the value (MEMORY USAGE, eviction accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str(s) => s.heap_size(),
            Value::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }
}

/// The string accessors are only called after a type check (`is_string`); reaching
/// one with a collection is a bug in the caller.
#[cold]
#[track_caller]
fn non_string() -> ! {
    panic!("string accessor called on a non-string value")
}

/// A value and the metadata Redis keeps beside it.
#[derive(Debug, Clone)]
pub struct Object {
    /// The value.
    pub value: Value,
    /// LRU clock (seconds, 24 bits) at last access, or LFU data (16-bit minutes +
    /// 8-bit logarithmic counter), depending on the maxmemory policy.
    pub lru: u32,
    /// True when the key has a TTL in the db's expires table.
    pub has_expire: bool,
}

impl Object {
    /// A new object stamped with `lru`.
    pub fn new(value: Value, lru: u32) -> Self {
        Object {
            value,
            lru,
            has_expire: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_stays_small() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Object>(), 32);
    }

    #[test]
    fn encodings() {
        assert_eq!(Value::string(b"123").encoding(), "int");
        assert_eq!(Value::string(b"-9223372036854775808").encoding(), "int");
        assert_eq!(Value::string(b"0123").encoding(), "embstr");
        assert_eq!(Value::string(b"+1").encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 45]).encoding(), "raw");
        let mut v = Value::string(b"ab");
        v.make_raw().push(b'c');
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.to_bytes(), b"abc");
        assert_eq!(Value::plain_string(b"3").encoding(), "embstr");
    }

    #[test]
    fn int_formatting() {
        for n in [0, 1, -1, 10, 12345, i64::MAX, i64::MIN, -1000] {
            assert_eq!(format_i64(n, &mut [0u8; 20]), n.to_string().as_bytes());
            assert_eq!(Value::Int(n).str_len(), n.to_string().len());
        }
    }
}
