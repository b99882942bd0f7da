//! `Dict`: the keyspace hash table, a chained table with incremental rehashing.
//!
//! It is built for what Redis's keyspace needs and std's maps do not give:
//! - SCAN cursors with Redis's guarantee (an element present for the whole scan is
//!   returned at least once, even while the table grows or shrinks), by walking
//!   power-of-two tables in reverse-binary bucket order;
//! - fair-enough random entries and contiguous samples (RANDOMKEY, eviction, active
//!   expiry);
//! - resizing spread over many operations, so no command pays for a full rehash;
//! - one allocation per entry holding the key and the value, for memory per key.

use super::smallbytes::SmallBytes;

/// A key and its value, chained in a bucket.
pub struct Entry<V> {
    next: Option<Box<Entry<V>>>,
    /// The key.
    pub key: SmallBytes,
    /// The value.
    pub value: V,
}

struct Table<V> {
    buckets: Vec<Option<Box<Entry<V>>>>,
    used: usize,
}

impl<V> Table<V> {
    fn empty() -> Self {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    fn with_size(n: usize) -> Self {
        let mut buckets = Vec::with_capacity(n);
        buckets.resize_with(n, || None);
        Table { buckets, used: 0 }
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }
}

const INITIAL_SIZE: usize = 4;
/// False while a child process (BGSAVE) shares the parent's pages: tables then
/// resize only when badly overfull. See [`set_resize_allowed`].
static RESIZE_ALLOWED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Allows or holds back table resizing (held back while a fork child runs).
pub fn set_resize_allowed(allowed: bool) {
    RESIZE_ALLOWED.store(allowed, std::sync::atomic::Ordering::Relaxed);
}

/// A finished rehash that frees a bucket array this long (64 KiB) returns the
/// allocator's dirty pages to the system.
const PURGE_AFTER_FREEING_BUCKETS: usize = 8 * 1024;
/// Buckets moved per rehash step taken by ordinary operations.
const STEP_BUCKETS: usize = 1;

/// A hash table from byte-string keys to `V`. See the module docs.
pub struct Dict<V> {
    t: [Table<V>; 2],
    /// Next bucket of `t[0]` to move into `t[1]`, while rehashing.
    rehash_idx: Option<usize>,
    hasher: ahash::RandomState,
    /// Growth asks maxmemory first (the keyspace tables, as Redis's dictExpandAllowed).
    memory_guarded: bool,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Dict<V> {
    /// An empty table (no buckets are allocated until the first insert).
    pub fn new() -> Self {
        Dict {
            t: [Table::empty(), Table::empty()],
            rehash_idx: None,
            hasher: ahash::RandomState::new(),
            memory_guarded: false,
        }
    }

    /// An empty table whose growth is skipped while the bigger bucket array would
    /// push used memory over `maxmemory` (unless the table is overfull: more than
    /// 1.618 entries per bucket), as Redis does for the keyspace so that a rehash
    /// does not itself cause evictions.
    pub fn new_memory_guarded() -> Self {
        let mut d = Self::new();
        d.memory_guarded = true;
        d
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> usize {
        self.hasher.hash_one(key) as usize
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.t[0].used + self.t[1].used
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total buckets of both tables (for INFO keyspace details and DEBUG HTSTATS).
    pub fn buckets(&self) -> usize {
        self.t[0].buckets.len() + self.t[1].buckets.len()
    }

    /// True while entries are being moved to a resized table.
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Bytes used by the bucket arrays (entries are counted by their owners).
    pub fn table_bytes(&self) -> usize {
        self.buckets() * std::mem::size_of::<Option<Box<Entry<V>>>>()
    }

    /// The entry for `key`.
    pub fn get_entry(&self, key: &[u8]) -> Option<&Entry<V>> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in &self.t[..tables] {
            let mut cur = t.buckets[h & t.mask()].as_deref();
            while let Some(e) = cur {
                if e.key.as_slice() == key {
                    return Some(e);
                }
                cur = e.next.as_deref();
            }
        }
        None
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_entry(key).map(|e| &e.value)
    }

    /// The value of `key`, mutable.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in &mut self.t[..tables] {
            let mask = t.mask();
            let mut cur = t.buckets[h & mask].as_deref_mut();
            while let Some(e) = cur {
                if e.key.as_slice() == key {
                    return Some(&mut e.value);
                }
                cur = e.next.as_deref_mut();
            }
        }
        None
    }

    /// True if `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get_entry(key).is_some()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        self.rehash_step();
        if let Some(v) = self.get_mut(key) {
            return Some(std::mem::replace(v, value));
        }
        self.insert_new(SmallBytes::new(key), value);
        None
    }

    /// Inserts a key known to be absent (the caller checked), taking the key as is.
    pub fn insert_new(&mut self, key: SmallBytes, value: V) {
        // A rehash step per insert, as Redis's dictAdd: a burst of inserts must not
        // pile into a table whose resize is waiting for the cron.
        self.rehash_step();
        self.expand_if_needed();
        let h = self.hash(&key);
        let t = if self.is_rehashing() {
            &mut self.t[1]
        } else {
            &mut self.t[0]
        };
        let idx = h & t.mask();
        let next = t.buckets[idx].take();
        t.buckets[idx] = Some(Box::new(Entry { next, key, value }));
        t.used += 1;
    }

    /// Removes `key`; returns its key and value.
    pub fn remove(&mut self, key: &[u8]) -> Option<(SmallBytes, V)> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = self.hash(key);
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in &mut self.t[..tables] {
            let mask = t.mask();
            let mut link = &mut t.buckets[h & mask];
            while link.as_ref().is_some_and(|e| e.key.as_slice() != key) {
                link = &mut link.as_mut().expect("checked").next;
            }
            if let Some(mut e) = link.take() {
                *link = e.next.take();
                t.used -= 1;
                let Entry { key, value, .. } = *e;
                return Some((key, value));
            }
        }
        None
    }

    /// Drops every entry and the tables.
    pub fn clear(&mut self) {
        // Unlink chains iteratively so very long chains cannot overflow the stack.
        for t in &mut self.t {
            for b in t.buckets.iter_mut() {
                let mut cur = b.take();
                while let Some(mut e) = cur {
                    cur = e.next.take();
                }
            }
        }
        self.t = [Table::empty(), Table::empty()];
        self.rehash_idx = None;
    }

    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let t0 = &self.t[0];
        if t0.buckets.is_empty() {
            self.t[0] = Table::with_size(INITIAL_SIZE);
        } else if t0.used >= t0.buckets.len() {
            // While a child process shares the pages, grow only when the table is
            // five times overfull: a rehash writes every bucket (Redis's
            // dict_can_resize / dict_force_resize_ratio).
            if !RESIZE_ALLOWED.load(std::sync::atomic::Ordering::Relaxed)
                && t0.used < 5 * t0.buckets.len()
            {
                return;
            }
            if self.memory_guarded {
                let more = (t0.used + 1).next_power_of_two() * std::mem::size_of::<usize>();
                let ratio = t0.used as f64 / t0.buckets.len() as f64;
                if !crate::evict::dict_expand_allowed(more, ratio) {
                    return;
                }
            }
            self.resize_to(t0.used + 1);
        }
    }

    /// Shrinks when less than 10% of the buckets are used, as Redis's cron does.
    pub fn shrink_if_needed(&mut self) -> bool {
        if self.is_rehashing() || !RESIZE_ALLOWED.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        let size = self.t[0].buckets.len();
        let used = self.t[0].used;
        if size > INITIAL_SIZE && used * 100 / size < 10 {
            self.resize_to(used.max(INITIAL_SIZE));
            return true;
        }
        false
    }

    /// Starts rehashing into a table of the power of two at or above `n`.
    fn resize_to(&mut self, n: usize) {
        let size = n.max(INITIAL_SIZE).next_power_of_two();
        if size == self.t[0].buckets.len() {
            return;
        }
        self.t[1] = Table::with_size(size);
        self.rehash_idx = Some(0);
        if self.t[0].used == 0 {
            self.finish_rehash();
        }
    }

    fn finish_rehash(&mut self) {
        self.t.swap(0, 1);
        let old = std::mem::replace(&mut self.t[1], Table::empty());
        self.rehash_idx = None;
        let big = old.buckets.len() >= PURGE_AFTER_FREEING_BUCKETS;
        drop(old);
        if big {
            // A growing table never fits in the array it leaves: the allocator
            // would keep those pages dirty (resident) until its decay runs, which
            // an idle server never triggers. Give them back now.
            crate::alloc::purge();
        }
    }

    /// Moves up to `n` non-empty buckets to the new table (visiting at most `10 * n`
    /// empty ones). Returns true if rehashing is still under way.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut moved = 0;
        while moved < n && self.t[0].used > 0 {
            while self.t[0].buckets[idx].is_none() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut cur = self.t[0].buckets[idx].take();
            while let Some(mut e) = cur {
                cur = e.next.take();
                let h = self.hasher.hash_one(e.key.as_slice()) as usize;
                let t1 = &mut self.t[1];
                let dst = h & t1.mask();
                e.next = t1.buckets[dst].take();
                t1.buckets[dst] = Some(e);
                t1.used += 1;
                self.t[0].used -= 1;
            }
            idx += 1;
            moved += 1;
        }
        if self.t[0].used == 0 {
            self.finish_rehash();
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    #[inline]
    fn rehash_step(&mut self) {
        if self.rehash_idx.is_some() {
            self.rehash(STEP_BUCKETS);
        }
    }

    /// Visits every entry (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &Entry<V>> {
        self.t.iter().flat_map(|t| {
            t.buckets.iter().flat_map(|b| {
                let mut cur = b.as_deref();
                std::iter::from_fn(move || {
                    let e = cur?;
                    cur = e.next.as_deref();
                    Some(e)
                })
            })
        })
    }

    /// One SCAN step from `cursor`: calls `f` for the entries of the buckets the cursor
    /// stands for and returns the next cursor (0 when the scan is complete).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&Entry<V>)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let visit = |t: &Table<V>, idx: usize, f: &mut dyn FnMut(&Entry<V>)| {
            let mut cur = t.buckets[idx].as_deref();
            while let Some(e) = cur {
                f(e);
                cur = e.next.as_deref();
            }
        };
        let mut v = cursor as usize;
        if !self.is_rehashing() {
            let t = &self.t[0];
            let m = t.mask();
            visit(t, v & m, &mut f);
            v |= !m;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, big) = if self.t[0].buckets.len() <= self.t[1].buckets.len() {
                (&self.t[0], &self.t[1])
            } else {
                (&self.t[1], &self.t[0])
            };
            let (m0, m1) = (small.mask(), big.mask());
            visit(small, v & m0, &mut f);
            loop {
                visit(big, v & m1, &mut f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v as u64
    }

    /// A random entry (RANDOMKEY): a random non-empty bucket, then a random link of it.
    pub fn random_entry(&self) -> Option<&Entry<V>> {
        if self.is_empty() {
            return None;
        }
        let head = loop {
            let b = if let Some(ri) = self.rehash_idx {
                // Buckets of t[0] below rehash_idx are empty.
                let s0 = self.t[0].buckets.len();
                let s1 = self.t[1].buckets.len();
                let i = ri + fastrand::usize(..(s0 + s1 - ri));
                if i >= s0 {
                    &self.t[1].buckets[i - s0]
                } else {
                    &self.t[0].buckets[i]
                }
            } else {
                let t = &self.t[0];
                &t.buckets[fastrand::usize(..t.buckets.len())]
            };
            if let Some(e) = b.as_deref() {
                break e;
            }
        };
        let mut len = 0;
        let mut cur = Some(head);
        while let Some(e) = cur {
            len += 1;
            cur = e.next.as_deref();
        }
        let mut e = head;
        for _ in 0..fastrand::usize(..len) {
            e = e.next.as_deref().expect("within chain");
        }
        Some(e)
    }

    /// Up to `count` entries from consecutive buckets starting at a random one (what
    /// eviction and active expiry sample), visiting at most `count * 10` buckets.
    pub fn sample(&self, count: usize, mut f: impl FnMut(&Entry<V>)) -> usize {
        if self.is_empty() || count == 0 {
            return 0;
        }
        let mut found = 0;
        let tables = if self.is_rehashing() { 2 } else { 1 };
        let max_mask = self.t[..tables].iter().map(|t| t.mask()).max().unwrap_or(0);
        let mut i = fastrand::usize(..=max_mask);
        let mut steps = count * 10;
        while found < count && steps > 0 {
            for t in &self.t[..tables] {
                if i >= t.buckets.len() {
                    continue;
                }
                let mut cur = t.buckets[i].as_deref();
                while let Some(e) = cur {
                    if found < count {
                        f(e);
                        found += 1;
                    }
                    cur = e.next.as_deref();
                }
            }
            i = (i + 1) & max_mask;
            steps -= 1;
        }
        found
    }
}

impl<V> Dict<V> {
    /// DEBUG HTSTATS text of the main table and, while rehashing, of the target, in
    /// Redis's format (sizes, chain lengths and their distribution).
    pub fn stats_text(&self) -> String {
        let mut s = self.table_stats_text(0);
        if self.is_rehashing() {
            s.push_str(&self.table_stats_text(1));
        }
        s
    }

    fn table_stats_text(&self, idx: usize) -> String {
        use std::fmt::Write;
        const VECTLEN: usize = 50;
        let name = if idx == 0 {
            "main hash table"
        } else {
            "rehashing target"
        };
        let t = &self.t[idx];
        if t.used == 0 {
            return format!(
                "Hash table {idx} stats ({name}):\nNo stats available for empty dictionaries\n"
            );
        }
        let mut clvector = [0usize; VECTLEN];
        let (mut slots, mut maxchain, mut totchain) = (0usize, 0usize, 0usize);
        for b in &t.buckets {
            let mut len = 0;
            let mut cur = b.as_deref();
            while let Some(e) = cur {
                len += 1;
                cur = e.next.as_deref();
            }
            if len == 0 {
                clvector[0] += 1;
                continue;
            }
            slots += 1;
            clvector[len.min(VECTLEN - 1)] += 1;
            maxchain = maxchain.max(len);
            totchain += len;
        }
        let size = t.buckets.len();
        let mut s = format!(
            "Hash table {idx} stats ({name}):\n table size: {size}\n number of elements: {}\n different slots: {slots}\n max chain length: {maxchain}\n avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n Chain length distribution:\n",
            t.used,
            totchain as f32 / slots as f32,
            t.used as f32 / slots as f32
        );
        for (i, &n) in clvector.iter().enumerate().take(VECTLEN - 1) {
            if n == 0 {
                continue;
            }
            let _ = writeln!(s, "   {i}: {n} ({:.2}%)", (n as f32 / size as f32) * 100.0);
        }
        s
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn k(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn insert_get_remove_through_rehashes() {
        let mut d = Dict::new();
        for i in 0..10_000 {
            assert!(d.insert(&k(i), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        for i in 0..10_000 {
            assert_eq!(d.get(&k(i)), Some(&i));
        }
        assert_eq!(d.insert(&k(5), 55), Some(5));
        for i in (0..10_000).step_by(2) {
            assert!(d.remove(&k(i)).is_some());
        }
        assert_eq!(d.len(), 5_000);
        assert!(d.get(&k(2)).is_none());
        while d.shrink_if_needed() || d.rehash(100) {}
        for i in (1..10_000).step_by(2) {
            assert!(d.contains_key(&k(i)));
        }
        assert_eq!(d.iter().count(), 5_000);
    }

    #[test]
    fn entry_is_compact() {
        assert_eq!(std::mem::size_of::<Option<Box<Entry<u64>>>>(), 8);
        assert_eq!(std::mem::size_of::<Entry<u64>>(), 40);
    }

    fn full_scan<V>(d: &Dict<V>, mut between: impl FnMut(usize)) -> HashSet<Vec<u8>> {
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |e| {
                seen.insert(e.key.to_vec());
            });
            step += 1;
            between(step);
            if cursor == 0 {
                return seen;
            }
        }
    }

    #[test]
    fn scan_returns_every_element() {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert(&k(i), ());
        }
        assert_eq!(full_scan(&d, |_| {}).len(), 1000);
    }

    #[test]
    fn scan_guarantee_while_growing_and_shrinking() {
        // Elements present from start to end are returned, whatever resizes happen.
        let mut d = Dict::new();
        for i in 0..500 {
            d.insert(&k(i), ());
        }
        let d = std::cell::RefCell::new(d);
        let mut cursor = 0u64;
        let mut seen = HashSet::new();
        let mut step = 0;
        loop {
            cursor = d.borrow().scan(cursor, |e| {
                seen.insert(e.key.to_vec());
            });
            step += 1;
            let mut dm = d.borrow_mut();
            if step < 40 {
                for j in 0..200 {
                    dm.insert(&k(100_000 + step * 1000 + j), ());
                }
            } else if step < 80 {
                for j in 0..200 {
                    dm.remove(&k(100_000 + (step - 40) * 1000 + j));
                }
                dm.shrink_if_needed();
            }
            drop(dm);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(&k(i)), "missed {i}");
        }
    }

    #[test]
    fn random_and_sample() {
        let mut d = Dict::new();
        assert!(d.random_entry().is_none());
        for i in 0..100 {
            d.insert(&k(i), i);
        }
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            seen.insert(d.random_entry().unwrap().value);
        }
        assert!(seen.len() > 90);
        let mut n = 0;
        assert_eq!(d.sample(5, |_| n += 1), 5);
        assert_eq!(n, 5);
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    #[test]
    fn guarded_table_does_not_grow_over_maxmemory() {
        let mut d: Dict<()> = Dict::new_memory_guarded();
        for i in 0..4096 {
            d.insert(format!("{i}").as_bytes(), ());
        }
        while d.rehash(1000) {}
        assert_eq!(d.buckets(), 4096);
        crate::evict::publish_maxmemory(crate::alloc::used_memory() + 10 * 1024);
        d.insert(b"k1", ());
        d.insert(b"k2", ());
        crate::evict::publish_maxmemory(0);
        assert_eq!(d.buckets(), 4096, "grew over maxmemory");
        d.insert(b"k3", ());
        assert!(d.buckets() > 4096);
        // An overfull table grows whatever the memory.
        let mut d: Dict<()> = Dict::new_memory_guarded();
        crate::evict::publish_maxmemory(1);
        for i in 0..100 {
            d.insert(format!("{i}").as_bytes(), ());
        }
        crate::evict::publish_maxmemory(0);
        assert!(d.buckets() >= 64, "{}", d.buckets());
    }
}

#[cfg(test)]
mod growth_tests {
    use super::*;

    #[test]
    fn bursts_of_inserts_keep_chains_short() {
        let mut d: Dict<()> = Dict::new();
        for i in 0..100_000 {
            d.insert_new(SmallBytes::new(format!("k{i}").as_bytes()), ());
        }
        // Without rehash steps on insert the table would stay tiny and chains long.
        assert!(d.buckets() >= 65_536, "{} buckets", d.buckets());
    }
}
