//! The set type's data structure.
//!
//! Redis 7.0 reports two encodings: `intset` (only integers, up to
//! set-max-intset-entries) and `hashtable`. We keep intsets as a sorted array of the
//! narrowest integer width that holds every member (binary search, ascending
//! iteration, as Redis's intset), small non-integer sets in a [`Packed`] sequence
//! (reported as `hashtable`: only the memory differs) and big ones in a [`Dict`].

use super::packed::{Input, Item, Packed};
use crate::keyspace::dict::{Dict, Entry};
use crate::keyspace::smallbytes::SmallBytes;
use redis_formats::num::parse_i64;

/// Most members a packed (hashtable-reported) set holds before it becomes a table.
pub const PACKED_MAX_ENTRIES: usize = 128;
/// Longest member a packed set holds.
pub const PACKED_MAX_VALUE: usize = 64;

/// Redis caps set-max-intset-entries at 2^30 (intset internals).
fn intset_cap(max: u64) -> usize {
    max.min(1 << 30) as usize
}

/// A sorted array of integers in the narrowest width holding them all.
#[derive(Debug, Clone)]
pub enum IntSet {
    /// Every member fits 16 bits.
    W16(Vec<i16>),
    /// Every member fits 32 bits.
    W32(Vec<i32>),
    /// Any integers.
    W64(Vec<i64>),
}

macro_rules! each {
    ($s:expr, $v:ident => $e:expr) => {
        match $s {
            IntSet::W16($v) => $e,
            IntSet::W32($v) => $e,
            IntSet::W64($v) => $e,
        }
    };
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::W16(Vec::new())
    }
}

impl IntSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Member `i` in ascending order.
    #[inline]
    #[allow(clippy::useless_conversion)] // the 64-bit arm
    pub fn get(&self, i: usize) -> i64 {
        each!(self, v => i64::from(v[i]))
    }

    fn width(&self) -> u8 {
        match self {
            IntSet::W16(_) => 2,
            IntSet::W32(_) => 4,
            IntSet::W64(_) => 8,
        }
    }

    /// Binary search for `n`.
    #[allow(clippy::useless_conversion)] // the 64-bit arm
    pub fn find(&self, n: i64) -> Result<usize, usize> {
        each!(self, v => v.binary_search_by(|x| i64::from(*x).cmp(&n)))
    }

    /// True if `n` is a member.
    pub fn contains(&self, n: i64) -> bool {
        self.find(n).is_ok()
    }

    /// Adds `n`; false if it was there.
    pub fn insert(&mut self, n: i64) -> bool {
        let need = if i16::try_from(n).is_ok() {
            2
        } else if i32::try_from(n).is_ok() {
            4
        } else {
            8
        };
        if need > self.width() {
            let all: Vec<i64> = self.iter().collect();
            *self = if need == 4 {
                IntSet::W32(all.iter().map(|&x| x as i32).collect())
            } else {
                IntSet::W64(all)
            };
        }
        match self.find(n) {
            Ok(_) => false,
            Err(pos) => {
                match self {
                    IntSet::W16(v) => v.insert(pos, n as i16),
                    IntSet::W32(v) => v.insert(pos, n as i32),
                    IntSet::W64(v) => v.insert(pos, n),
                }
                true
            }
        }
    }

    /// Removes `n`; false if it was absent.
    pub fn remove(&mut self, n: i64) -> bool {
        match self.find(n) {
            Ok(pos) => {
                each!(self, v => {
                    v.remove(pos);
                });
                true
            }
            Err(_) => false,
        }
    }

    /// Removes the member at `i`.
    #[allow(clippy::useless_conversion)] // the 64-bit arm
    pub fn remove_at(&mut self, i: usize) -> i64 {
        each!(self, v => i64::from(v.remove(i)))
    }

    /// Ascending iteration.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<Self>() + each!(self, v => v.capacity()) * self.width() as usize
    }
}

/// A set value.
#[derive(Debug, Clone)]
pub enum Set {
    /// `intset`.
    Ints(Box<IntSet>),
    /// Small `hashtable` sets: the members, packed.
    Packed(Packed),
    /// `hashtable`.
    Table(Box<SetTable>),
}

/// The table of a big set.
#[derive(Default)]
pub struct SetTable(pub Dict<()>);

impl Clone for SetTable {
    fn clone(&self) -> Self {
        let mut d = Dict::new();
        for e in self.0.iter() {
            d.insert_new(e.key.clone(), ());
        }
        SetTable(d)
    }
}

impl std::fmt::Debug for SetTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SetTable({} members)", self.0.len())
    }
}

impl std::ops::Deref for SetTable {
    type Target = Dict<()>;
    fn deref(&self) -> &Dict<()> {
        &self.0
    }
}

impl std::ops::DerefMut for SetTable {
    fn deref_mut(&mut self) -> &mut Dict<()> {
        &mut self.0
    }
}

/// An owned member.
pub type Member = Vec<u8>;

impl Set {
    /// An empty intset (where SINTERSTORE/SUNIONSTORE start).
    pub fn new_intset() -> Set {
        Set::Ints(Box::default())
    }

    /// An empty set of the encoding Redis's setTypeCreate picks for its first member.
    pub fn new_for(member: &[u8]) -> Set {
        if member.len() <= 20 && parse_i64(member).is_some() {
            Set::new_intset()
        } else {
            Set::Packed(Packed::new())
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Ints(s) => s.len(),
            Set::Packed(p) => p.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Packed(_) | Set::Table(_) => "hashtable",
        }
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            Set::Ints(s) => s.heap_size(),
            Set::Packed(p) => p.heap_size(),
            Set::Table(d) => {
                let n = d.table_bytes() + std::mem::size_of::<Dict<()>>();
                // Entries estimated from a sample, as Redis's MEMORY USAGE does.
                let (mut sampled, mut bytes) = (0, 0);
                for e in d.iter().take(16) {
                    sampled += 1;
                    bytes += 32 + e.key.heap_size();
                }
                n + (bytes * d.len()).checked_div(sampled).unwrap_or(0)
            }
        }
    }

    /// One step of an ongoing rehash (Redis's dict moves a bucket on every lookup,
    /// reads included).
    #[inline]
    pub fn rehash_step(&mut self) {
        if let Set::Table(d) = self {
            if d.is_rehashing() {
                d.rehash(1);
            }
        }
    }

    /// The hash table behind a big set (DEBUG HTSTATS-KEY).
    pub fn table(&self) -> Option<&Dict<()>> {
        match self {
            Set::Table(d) => Some(d),
            _ => None,
        }
    }

    /// True if `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Ints(s) => as_int(m).is_some_and(|n| s.contains(n)),
            Set::Packed(p) => p.find(m, 1).is_some(),
            Set::Table(d) => d.contains_key(m),
        }
    }

    /// Converts to a `hashtable` encoding able to hold `extra` more members.
    fn convert_to_hashtable(&mut self, extra: usize, longest: usize) {
        let n = self.len() + extra;
        if n <= PACKED_MAX_ENTRIES && longest <= PACKED_MAX_VALUE {
            if let Set::Ints(s) = self {
                let mut p = Packed::new();
                for x in s.iter() {
                    p.push(Input::Int(x));
                }
                *self = Set::Packed(p);
            }
            return;
        }
        let mut d: Dict<()> = Dict::new();
        self.for_each(|it| {
            it.with_bytes(|b| d.insert_new(SmallBytes::new(b), ()));
        });
        *self = Set::Table(Box::new(SetTable(d)));
    }

    /// Adds `m`; false if it was already a member. `max_intset` is
    /// set-max-intset-entries.
    pub fn add(&mut self, m: &[u8], max_intset: u64) -> bool {
        if let Set::Ints(s) = self {
            if let Some(n) = as_int(m) {
                if !s.insert(n) {
                    return false;
                }
                if s.len() > intset_cap(max_intset) {
                    self.convert_to_hashtable(0, 20);
                }
                return true;
            }
        }
        if let Set::Ints(_) = self {
            self.convert_to_hashtable(1, m.len());
        }
        match self {
            Set::Ints(_) => unreachable!("converted above"),
            Set::Packed(p) => {
                if p.find(m, 1).is_some() {
                    return false;
                }
                if p.len() >= PACKED_MAX_ENTRIES || m.len() > PACKED_MAX_VALUE {
                    self.convert_to_hashtable(PACKED_MAX_ENTRIES + 1, m.len());
                    return self.add(m, max_intset);
                }
                p.push(Input::Bytes(m));
                true
            }
            Set::Table(d) => {
                if d.contains_key(m) {
                    return false;
                }
                d.insert_new(SmallBytes::new(m), ());
                true
            }
        }
    }

    /// Removes `m`; false if it was not a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Ints(s) => as_int(m).is_some_and(|n| s.remove(n)),
            Set::Packed(p) => match p.find(m, 1) {
                Some((_, off)) => {
                    p.remove(off, 1);
                    true
                }
                None => false,
            },
            Set::Table(d) => {
                let hit = d.remove(m).is_some();
                if hit {
                    d.shrink_if_needed();
                }
                hit
            }
        }
    }

    /// Calls `f` for every member (intsets ascending).
    pub fn for_each(&self, mut f: impl FnMut(Item<'_>)) {
        match self {
            Set::Ints(s) => s.iter().for_each(|n| f(Item::Int(n))),
            Set::Packed(p) => p.iter().for_each(f),
            Set::Table(d) => d.iter().for_each(|e| f(Item::Str(&e.key))),
        }
    }

    /// Every member, owned.
    pub fn members(&self) -> Vec<Member> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|it| v.push(it.to_vec()));
        v
    }

    /// A random member (the set is not empty).
    pub fn random(&self) -> Member {
        match self {
            Set::Ints(s) => {
                let n = s.get(fastrand::usize(..s.len()));
                n.to_string().into_bytes()
            }
            Set::Packed(p) => p
                .get(fastrand::usize(..p.len()))
                .expect("index in range")
                .to_vec(),
            Set::Table(d) => fair_random(d, |e| e.key.to_vec()),
        }
    }

    /// Removes and returns a random member (the set is not empty).
    pub fn pop_random(&mut self) -> Member {
        match self {
            Set::Ints(s) => {
                let n = s.remove_at(fastrand::usize(..s.len()));
                n.to_string().into_bytes()
            }
            Set::Packed(p) => {
                let off = p.offset_of(fastrand::usize(..p.len()));
                let m = p.at(off).0.to_vec();
                p.remove(off, 1);
                m
            }
            Set::Table(_) => {
                let m = self.random();
                self.remove(&m);
                m
            }
        }
    }

    /// `count` distinct random members (`count < len()`), as SRANDMEMBER's unique
    /// cases: taken out of a full copy when they are most of the set, else drawn
    /// until enough distinct ones came up.
    pub fn random_distinct(&self, count: usize) -> Vec<Member> {
        let size = self.len();
        if count * 3 > size {
            let mut all = self.members();
            fastrand::shuffle(&mut all);
            all.truncate(count);
            return all;
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let m = self.random();
            if seen.insert(m.clone()) {
                out.push(m);
            }
        }
        out
    }

    /// One SSCAN step: small encodings return everything at once (cursor 0).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Item<'_>)) -> u64 {
        match self {
            Set::Table(d) => {
                let mut cursor = cursor;
                let mut got = 0;
                let mut iterations = count.saturating_mul(10);
                loop {
                    cursor = d.scan(cursor, |e| {
                        got += 1;
                        f(Item::Str(&e.key));
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
}

/// A random entry of a non-empty table (projected by `f`), as Redis's
/// dictGetFairRandomKey: a random run of up to 15 entries from consecutive buckets,
/// then one of them uniformly (fairer than a random bucket's random link when chains
/// differ in length).
pub fn fair_random<V, T>(d: &Dict<V>, f: impl Fn(&Entry<V>) -> T) -> T {
    let mut chosen = None;
    let mut seen = 0;
    d.sample(15, |e| {
        seen += 1;
        if fastrand::usize(..seen) == 0 {
            chosen = Some(f(e));
        }
    });
    match chosen {
        Some(t) => t,
        None => f(d.random_entry().expect("not empty")),
    }
}

/// `m` as an integer when it is one's canonical form.
#[inline]
fn as_int(m: &[u8]) -> Option<i64> {
    if m.len() <= 20 {
        parse_i64(m)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &Set) -> Vec<String> {
        s.members()
            .into_iter()
            .map(|m| String::from_utf8(m).unwrap())
            .collect()
    }

    #[test]
    fn size() {
        assert_eq!(std::mem::size_of::<Set>(), 16);
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = Set::new_for(b"5");
        assert_eq!(s.encoding(), "intset");
        for m in ["5", "-3", "70000", "1", "5", "-9223372036854775808"] {
            s.add(m.as_bytes(), 512);
        }
        assert_eq!(
            strings(&s),
            ["-9223372036854775808", "-3", "1", "5", "70000"]
        );
        assert!(s.contains(b"70000"));
        assert!(!s.contains(b"070000"));
        assert!(s.remove(b"-3"));
        assert!(!s.remove(b"-3"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn conversions() {
        let mut s = Set::new_for(b"1");
        for i in 0..4 {
            s.add(i.to_string().as_bytes(), 3);
        }
        assert_eq!(s.encoding(), "hashtable");
        assert!(matches!(s, Set::Packed(_)));
        assert!(s.contains(b"3"));
        let mut s = Set::new_for(b"1");
        s.add(b"1", 512);
        s.add(b"a", 512);
        assert_eq!(s.encoding(), "hashtable");
        for i in 0..200 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        assert!(matches!(s, Set::Table(_)));
        assert_eq!(s.len(), 202);
        assert!(s.contains(b"1") && s.contains(b"m199"));
        let mut big = Set::new_for(b"x");
        big.add(&[b'y'; 100], 512);
        assert!(matches!(big, Set::Table(_)));
    }

    #[test]
    fn random_distinct_is_distinct() {
        let mut s = Set::new_for(b"a");
        for i in 0..50 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        for k in [1, 5, 20, 40] {
            let mut v = s.random_distinct(k);
            v.sort();
            v.dedup();
            assert_eq!(v.len(), k);
        }
        let m = s.pop_random();
        assert!(!s.contains(&m));
    }
}
