//! The hash type's data structure.
//!
//! Redis 7.0 reports `listpack` (up to hash-max-listpack-entries fields, each field
//! and value at most hash-max-listpack-value bytes) and `hashtable`, and never
//! converts back. Small hashes are a [`Packed`] sequence of field, value pairs; big
//! ones a [`Dict`] from field to value.
//!
//! Field TTLs (HEXPIRE and friends, Redis 7.4): a small hash with TTLs becomes a
//! packed sequence of field, value, expiry triples (expiry 0: none), reported as
//! `listpackex` as 7.4 does; a big one keeps a second table from field to expiry.

use super::packed::{Input, Item, Packed};
use crate::keyspace::dict::Dict;
use crate::keyspace::smallbytes::SmallBytes;

/// The table encoding.
#[derive(Default)]
pub struct HashTable {
    /// Field to value.
    pub map: Dict<SmallBytes>,
    /// Field to expiry (unix ms), for fields that have one.
    pub ttl: Dict<i64>,
}

impl Clone for HashTable {
    fn clone(&self) -> Self {
        let mut t = HashTable::default();
        for e in self.map.iter() {
            t.map.insert_new(e.key.clone(), e.value.clone());
        }
        for e in self.ttl.iter() {
            t.ttl.insert_new(e.key.clone(), e.value);
        }
        t
    }
}

impl std::fmt::Debug for HashTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HashTable({} fields, {} TTLs)",
            self.map.len(),
            self.ttl.len()
        )
    }
}

/// A hash value.
#[derive(Debug, Clone)]
pub enum Hash {
    /// `listpack`: field, value pairs.
    Packed(Packed),
    /// `listpackex`: field, value, expiry triples (expiry 0: none).
    PackedEx(Packed),
    /// `hashtable`.
    Table(Box<HashTable>),
}

/// Limits of the packed encoding (hash-max-listpack-entries / -value).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// hash-max-listpack-entries.
    pub entries: u64,
    /// hash-max-listpack-value.
    pub value: u64,
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Packed(Packed::new())
    }
}

impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Packed(p) => p.len() / 2,
            Hash::PackedEx(p) => p.len() / 3,
            Hash::Table(t) => t.map.len(),
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Packed(_) => "listpack",
            Hash::PackedEx(_) => "listpackex",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => p.heap_size(),
            Hash::Table(t) => {
                let mut n = std::mem::size_of::<HashTable>() + t.map.table_bytes();
                n += t.ttl.table_bytes();
                // Entries estimated from a sample, as Redis's MEMORY USAGE does.
                let (mut sampled, mut bytes) = (0, 0);
                for e in t.map.iter().take(16) {
                    sampled += 1;
                    bytes += 64 + e.key.heap_size() + e.value.heap_size();
                }
                n += (bytes * t.map.len()).checked_div(sampled).unwrap_or(0);
                n + t.ttl.len() * 48
            }
        }
    }

    /// One step of an ongoing rehash (Redis's dict moves a bucket on every lookup,
    /// reads included).
    #[inline]
    pub fn rehash_step(&mut self) {
        if let Hash::Table(t) = self {
            if t.map.is_rehashing() {
                t.map.rehash(1);
            }
        }
    }

    /// The field table of a big hash (DEBUG HTSTATS-KEY).
    pub fn table(&self) -> Option<&Dict<SmallBytes>> {
        match self {
            Hash::Table(t) => Some(&t.map),
            _ => None,
        }
    }

    fn stride(&self) -> usize {
        match self {
            Hash::PackedEx(_) => 3,
            _ => 2,
        }
    }

    /// Calls `f` with the value of `field` (None when absent).
    pub fn with_value<R>(&self, field: &[u8], f: impl FnOnce(Option<Item<'_>>) -> R) -> R {
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => match p.find(field, self.stride()) {
                Some((_, off)) => {
                    let next = p.at(off).1;
                    f(Some(p.at(next).0))
                }
                None => f(None),
            },
            Hash::Table(t) => f(t.map.get(field).map(|v| Item::Str(v))),
        }
    }

    /// True if `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => p.find(field, self.stride()).is_some(),
            Hash::Table(t) => t.map.contains_key(field),
        }
    }

    /// Converts a packed hash to the table encoding.
    pub fn convert_to_table(&mut self) {
        let stride = self.stride();
        let (Hash::Packed(p) | Hash::PackedEx(p)) = self else {
            return;
        };
        let mut t = HashTable::default();
        let mut it = p.iter();
        while let Some(f) = it.next() {
            let v = it.next().expect("pairs");
            let key = SmallBytes::from_vec(f.to_vec());
            if stride == 3 {
                if let Some(Item::Int(exp)) = it.next() {
                    if exp != 0 {
                        t.ttl.insert_new(key.clone(), exp);
                    }
                }
            }
            t.map.insert_new(key, SmallBytes::from_vec(v.to_vec()));
        }
        *self = Hash::Table(Box::new(t));
    }

    /// Converts to the table encoding if a field or value of these lengths would not
    /// fit the packed one (Redis's hashTypeTryConversion).
    pub fn try_conversion(&mut self, lens: impl Iterator<Item = usize>, lim: Limits) {
        if matches!(self, Hash::Table(_)) {
            return;
        }
        let mut sum = 0usize;
        for l in lens {
            if l as u64 > lim.value {
                self.convert_to_table();
                return;
            }
            sum += l;
        }
        // Redis's lpSafeToAdd: a listpack stays under 1 GiB.
        if let Hash::Packed(p) | Hash::PackedEx(p) = self {
            if p.bytes() + sum > 1 << 30 {
                self.convert_to_table();
            }
        }
    }

    /// Sets `field` to `value` (dropping any TTL of the field); true if the field is
    /// new. Converts to the table encoding past the limits.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: Limits) -> bool {
        if !matches!(self, Hash::Table(_))
            && (field.len() as u64 > lim.value || value.len() as u64 > lim.value)
        {
            self.convert_to_table();
        }
        let stride = self.stride();
        let new = match self {
            Hash::Packed(p) | Hash::PackedEx(p) => match p.find(field, stride) {
                Some((_, off)) => {
                    let voff = p.at(off).1;
                    p.overwrite(voff, Input::Bytes(value));
                    if stride == 3 {
                        let eoff = p.at(voff).1;
                        p.overwrite(eoff, Input::Int(0));
                    }
                    false
                }
                None => {
                    let end = p.bytes();
                    if stride == 3 {
                        p.insert(
                            end,
                            &[Input::Bytes(field), Input::Bytes(value), Input::Int(0)],
                        );
                    } else {
                        p.insert(end, &[Input::Bytes(field), Input::Bytes(value)]);
                    }
                    true
                }
            },
            Hash::Table(t) => {
                if !t.ttl.is_empty() {
                    t.ttl.remove(field);
                }
                match t.map.get_mut(field) {
                    Some(v) => {
                        *v = SmallBytes::new(value);
                        false
                    }
                    None => {
                        t.map
                            .insert_new(SmallBytes::new(field), SmallBytes::new(value));
                        true
                    }
                }
            }
        };
        if new && !matches!(self, Hash::Table(_)) && self.len() as u64 > lim.entries {
            self.convert_to_table();
        }
        new
    }

    /// Removes `field`; true if it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let stride = self.stride();
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => match p.find(field, stride) {
                Some((_, off)) => {
                    p.remove(off, stride);
                    true
                }
                None => false,
            },
            Hash::Table(t) => {
                if t.map.remove(field).is_some() {
                    if !t.ttl.is_empty() {
                        t.ttl.remove(field);
                    }
                    t.map.shrink_if_needed();
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Calls `f` for every field and value.
    pub fn for_each(&self, mut f: impl FnMut(Item<'_>, Item<'_>)) {
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => {
                let stride = self.stride();
                let mut it = p.iter();
                while let Some(k) = it.next() {
                    let v = it.next().expect("pairs");
                    if stride == 3 {
                        it.next();
                    }
                    f(k, v);
                }
            }
            Hash::Table(t) => {
                for e in t.map.iter() {
                    f(Item::Str(&e.key), Item::Str(&e.value));
                }
            }
        }
    }

    /// Field and value `i` of a packed hash, or a random one of a table.
    fn pair_at(&self, i: usize) -> (Vec<u8>, Vec<u8>) {
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => {
                let off = p.offset_of(i * self.stride());
                let (k, next) = p.at(off);
                (k.to_vec(), p.at(next).0.to_vec())
            }
            Hash::Table(t) => {
                super::set::fair_random(&t.map, |e| (e.key.to_vec(), e.value.to_vec()))
            }
        }
    }

    /// A random field and its value (the hash is not empty).
    pub fn random_pair(&self) -> (Vec<u8>, Vec<u8>) {
        self.pair_at(fastrand::usize(..self.len()))
    }

    /// `count` random pairs with repetition (HRANDFIELD with a negative count).
    pub fn random_pairs(&self, count: usize, mut f: impl FnMut(Item<'_>, Item<'_>)) {
        match self {
            Hash::Packed(p) | Hash::PackedEx(p) => {
                // Offsets of the fields once, then random picks.
                let stride = self.stride();
                let offs: Vec<usize> = p.iter_offsets().step_by(stride).map(|(o, _)| o).collect();
                for _ in 0..count {
                    let (k, next) = p.at(offs[fastrand::usize(..offs.len())]);
                    f(k, p.at(next).0);
                }
            }
            Hash::Table(t) => {
                for _ in 0..count {
                    let (k, v) =
                        super::set::fair_random(&t.map, |e| (e.key.to_vec(), e.value.to_vec()));
                    f(Item::Str(&k), Item::Str(&v));
                }
            }
        }
    }

    /// `count` distinct random pairs (`count < len()`).
    pub fn random_distinct(&self, count: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let size = self.len();
        if count * 3 > size || !matches!(self, Hash::Table(_)) {
            let mut all = Vec::with_capacity(size);
            self.for_each(|k, v| all.push((k.to_vec(), v.to_vec())));
            fastrand::shuffle(&mut all);
            all.truncate(count);
            return all;
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let (k, v) = self.random_pair();
            if seen.insert(k.clone()) {
                out.push((k, v));
            }
        }
        out
    }

    /// One HSCAN step: packed hashes return everything at once (cursor 0).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Item<'_>, Item<'_>)) -> u64 {
        match self {
            Hash::Table(t) => {
                let mut cursor = cursor;
                let mut got = 0;
                let mut iterations = count.saturating_mul(10);
                loop {
                    // Redis counts the collected items: a field and its value.
                    cursor = t.map.scan(cursor, |e| {
                        got += 2;
                        f(Item::Str(&e.key), Item::Str(&e.value));
                    });
                    iterations -= 1;
                    if cursor == 0 || iterations == 0 || got >= count {
                        break;
                    }
                }
                cursor
            }
            _ => {
                self.for_each(f);
                0
            }
        }
    }

    // ---- field TTLs ----

    /// True if some field may have a TTL.
    pub fn has_ttls(&self) -> bool {
        match self {
            Hash::Packed(_) => false,
            Hash::PackedEx(_) => true,
            Hash::Table(t) => !t.ttl.is_empty(),
        }
    }

    /// The TTL of `field`: None if the field is absent, Some(0) if it has none.
    pub fn field_expire(&self, field: &[u8]) -> Option<i64> {
        match self {
            Hash::Packed(p) => p.find(field, 2).map(|_| 0),
            Hash::PackedEx(p) => p.find(field, 3).map(|(_, off)| {
                let voff = p.at(off).1;
                let eoff = p.at(voff).1;
                match p.at(eoff).0 {
                    Item::Int(n) => n,
                    _ => 0,
                }
            }),
            Hash::Table(t) => {
                if !t.map.contains_key(field) {
                    return None;
                }
                Some(t.ttl.get(field).copied().unwrap_or(0))
            }
        }
    }

    /// Sets (`when > 0`) or clears (`when == 0`) the TTL of an existing field.
    pub fn set_field_expire(&mut self, field: &[u8], when: i64) {
        if let Hash::Packed(p) = self {
            if when == 0 {
                return;
            }
            let mut q = Packed::new();
            let mut it = p.iter();
            while let Some(k) = it.next() {
                let v = it.next().expect("pairs");
                k.with_bytes(|kb| v.with_bytes(|vb| q.push_many(&[kb, vb])));
                q.push(Input::Int(0));
            }
            *self = Hash::PackedEx(q);
        }
        match self {
            Hash::PackedEx(p) => {
                if let Some((_, off)) = p.find(field, 3) {
                    let voff = p.at(off).1;
                    let eoff = p.at(voff).1;
                    p.overwrite(eoff, Input::Int(when));
                }
            }
            Hash::Table(t) => {
                if when == 0 {
                    t.ttl.remove(field);
                } else if let Some(e) = t.ttl.get_mut(field) {
                    *e = when;
                } else {
                    t.ttl.insert_new(SmallBytes::new(field), when);
                }
            }
            Hash::Packed(_) => unreachable!("converted above"),
        }
    }

    /// Removes the fields whose TTL is at or before `now` (up to `max`); returns how
    /// many went.
    pub fn remove_expired(&mut self, now: i64, max: usize) -> usize {
        let expired: Vec<Vec<u8>> = match self {
            Hash::Packed(_) => return 0,
            Hash::PackedEx(p) => {
                let mut v = Vec::new();
                let mut it = p.iter();
                while let Some(k) = it.next() {
                    it.next();
                    if let Some(Item::Int(e)) = it.next() {
                        if e != 0 && e <= now && v.len() < max {
                            v.push(k.to_vec());
                        }
                    }
                }
                v
            }
            Hash::Table(t) => {
                if t.ttl.is_empty() {
                    return 0;
                }
                t.ttl
                    .iter()
                    .filter(|e| e.value <= now)
                    .take(max)
                    .map(|e| e.key.to_vec())
                    .collect()
            }
        };
        for f in &expired {
            self.remove(f);
        }
        expired.len()
    }

    /// The earliest field TTL, if any.
    pub fn min_expire(&self) -> Option<i64> {
        match self {
            Hash::Packed(_) => None,
            Hash::PackedEx(p) => {
                let mut best: Option<i64> = None;
                let mut it = p.iter().skip(2).step_by(3);
                for e in it.by_ref() {
                    if let Item::Int(e) = e {
                        if e != 0 {
                            best = Some(best.map_or(e, |b| b.min(e)));
                        }
                    }
                }
                best
            }
            Hash::Table(t) => t.ttl.iter().map(|e| e.value).min(),
        }
    }
}

impl Packed {
    /// Appends several byte strings.
    pub fn push_many(&mut self, items: &[&[u8]]) {
        let inputs: Vec<Input<'_>> = items.iter().map(|b| Input::Bytes(b)).collect();
        let end = self.bytes();
        self.insert(end, &inputs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        entries: 4,
        value: 8,
    };

    fn dump(h: &Hash) -> Vec<(String, String)> {
        let mut v = Vec::new();
        h.for_each(|k, x| {
            v.push((
                String::from_utf8(k.to_vec()).unwrap(),
                String::from_utf8(x.to_vec()).unwrap(),
            ))
        });
        v.sort();
        v
    }

    #[test]
    fn size() {
        assert_eq!(std::mem::size_of::<Hash>(), 16);
    }

    #[test]
    fn set_get_remove_and_convert() {
        let mut h = Hash::default();
        assert!(h.set(b"a", b"1", LIM));
        assert!(!h.set(b"a", b"2", LIM));
        assert!(h.set(b"b", b"x", LIM));
        assert_eq!(h.encoding(), "listpack");
        h.with_value(b"a", |v| assert_eq!(v, Some(Item::Int(2))));
        assert!(h.remove(b"a"));
        assert!(!h.remove(b"a"));
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", LIM);
        }
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        let mut g = Hash::default();
        g.set(b"k", b"123456789", LIM);
        assert_eq!(g.encoding(), "hashtable");
        assert_eq!(dump(&g), [("k".into(), "123456789".into())]);
    }

    #[test]
    fn field_ttls() {
        for big in [false, true] {
            let mut h = Hash::default();
            h.set(b"a", b"1", LIM);
            h.set(b"b", b"2", LIM);
            if big {
                h.convert_to_table();
            }
            h.set_field_expire(b"a", 100);
            assert_eq!(h.field_expire(b"a"), Some(100));
            assert_eq!(h.field_expire(b"b"), Some(0));
            assert_eq!(h.field_expire(b"c"), None);
            assert_eq!(h.encoding(), if big { "hashtable" } else { "listpackex" });
            assert_eq!(h.min_expire(), Some(100));
            assert_eq!(h.remove_expired(99, 10), 0);
            assert_eq!(h.remove_expired(100, 10), 1);
            assert_eq!(dump(&h), [("b".into(), "2".into())]);
            h.set_field_expire(b"b", 5);
            h.set(b"b", b"3", LIM);
            assert_eq!(h.field_expire(b"b"), Some(0));
        }
    }
}
