//! The order in which Redis's `--bigkeys` summary lists key types.
//!
//! Redis keeps its per-type stats in a hash table keyed by the type name
//! (SipHash-1-2 with an all-zero key) that grows from 4 to 8 buckets while
//! the six built-in types are added, and rehashes one bucket per later
//! lookup. The summary iterates the table as it stands, so the order depends
//! on how many lookups happened. This module models that table (bucket
//! chains with head insertion and incremental rehash) so our summary prints
//! in the same order; it stores only names.

/// SipHash-1-2 of `data` with a zero 128-bit key.
pub fn siphash12_zero_key(data: &[u8]) -> u64 {
    let (k0, k1) = (0u64, 0u64);
    let mut v0 = 0x736f6d6570736575u64 ^ k0;
    let mut v1 = 0x646f72616e646f6du64 ^ k1;
    let mut v2 = 0x6c7967656e657261u64 ^ k0;
    let mut v3 = 0x7465646279746573u64 ^ k1;
    fn round(v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64) {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13);
        *v1 ^= *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16);
        *v3 ^= *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21);
        *v3 ^= *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17);
        *v1 ^= *v2;
        *v2 = v2.rotate_left(32);
    }
    let chunks = data.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        let m = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        v3 ^= m;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= m;
    }
    let mut last = (data.len() as u64) << 56;
    for (i, &b) in tail.iter().enumerate() {
        last |= (b as u64) << (8 * i);
    }
    v3 ^= last;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= last;
    v2 ^= 0xff;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^ v1 ^ v2 ^ v3
}

/// A model of the stats table: names only, Redis's growth and rehash rules.
pub struct TypeTable {
    tables: [Vec<Vec<String>>; 2],
    used: [usize; 2],
    rehash_idx: Option<usize>,
}

impl Default for TypeTable {
    fn default() -> Self {
        Self::new()
    }
}

impl TypeTable {
    /// An empty table (no buckets yet, as a fresh dict).
    pub fn new() -> Self {
        TypeTable {
            tables: [Vec::new(), Vec::new()],
            used: [0, 0],
            rehash_idx: None,
        }
    }

    fn hash(name: &str) -> u64 {
        siphash12_zero_key(name.as_bytes())
    }

    /// One incremental rehash step (move one non-empty bucket).
    fn rehash_step(&mut self) {
        let Some(mut idx) = self.rehash_idx else {
            return;
        };
        let mut empty_visits = 10;
        if self.used[0] != 0 {
            while self.tables[0][idx].is_empty() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return;
                }
            }
            // The chain is walked head first; each entry goes to the head
            // of its new bucket.
            let chain = std::mem::take(&mut self.tables[0][idx]);
            let mask = self.tables[1].len() as u64 - 1;
            for name in chain {
                let b = (Self::hash(&name) & mask) as usize;
                self.tables[1][b].insert(0, name);
                self.used[0] -= 1;
                self.used[1] += 1;
            }
            idx += 1;
        }
        self.rehash_idx = Some(idx);
        if self.used[0] == 0 {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.used = [self.used[1], 0];
            self.rehash_idx = None;
        }
    }

    /// A lookup: Redis performs one rehash step on every find.
    pub fn find(&mut self) {
        if self.used[0] + self.used[1] == 0 {
            return;
        }
        self.rehash_step();
    }

    /// Adds a name (Redis's dictAdd, with its expansion rule).
    pub fn add(&mut self, name: &str) {
        if self.rehash_idx.is_some() {
            self.rehash_step();
        }
        if self.rehash_idx.is_none() {
            if self.tables[0].is_empty() {
                self.tables[0] = vec![Vec::new(); 4];
            } else if self.used[0] >= self.tables[0].len() {
                let size = (self.used[0] + 1).next_power_of_two().max(4);
                self.tables[1] = vec![Vec::new(); size];
                self.rehash_idx = Some(0);
            }
        }
        let t = usize::from(self.rehash_idx.is_some());
        let mask = self.tables[t].len() as u64 - 1;
        let b = (Self::hash(name) & mask) as usize;
        self.tables[t][b].insert(0, name.to_string());
        self.used[t] += 1;
    }

    /// The names in iteration order (table 0, then table 1 while rehashing).
    pub fn order(&self) -> Vec<String> {
        let mut v = Vec::new();
        for t in 0..2 {
            for bucket in &self.tables[t] {
                v.extend(bucket.iter().cloned());
            }
            if self.rehash_idx.is_none() {
                break;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(finds: usize) -> Vec<String> {
        let mut t = TypeTable::new();
        for n in ["string", "list", "set", "hash", "zset", "stream"] {
            t.add(n);
        }
        for _ in 0..finds {
            t.find();
        }
        t.order()
    }

    #[test]
    fn matches_redis_orders() {
        // Orders observed from Redis 7.0's redis-cli --bigkeys.
        assert_eq!(
            table(0),
            ["hash", "list", "string", "stream", "set", "zset"]
        );
        assert_eq!(
            table(1),
            ["string", "list", "hash", "stream", "set", "zset"]
        );
        assert_eq!(
            table(2),
            ["list", "hash", "string", "stream", "set", "zset"]
        );
        assert_eq!(
            table(50),
            ["list", "hash", "string", "stream", "set", "zset"]
        );
    }
}
