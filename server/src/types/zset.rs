//! The sorted set type's data structure.
//!
//! Two encodings, as Redis 7.0 reports them:
//! - `listpack` ([`ZSet::Packed`]): member, score, member, score... in one [`Packed`],
//!   ordered by (score, member). Integral scores are stored as integers.
//! - `skiplist` ([`ZSet::Skiplist`]): a skiplist with spans (rank queries and range
//!   starts in O(log n)) kept in an arena of nodes, plus a [`Dict`] from member to
//!   score (ZSCORE, ZSCAN with Redis's cursor, random members).
//!
//! Positions are ranks in the forward (score, member) order; every range command is
//! turned into a rank interval first (see `cmd/zset.rs`), so each encoding only
//! provides counting, emission and removal by rank.

use super::packed::{Input, Item, Packed};
use crate::keyspace::dict::Dict;
use crate::keyspace::smallbytes::SmallBytes;

/// A sorted set value.
#[derive(Debug)]
pub enum ZSet {
    /// Small sorted sets: member/score pairs in (score, member) order.
    Packed(Packed),
    /// Large sorted sets.
    Skiplist(Box<SkipList>),
}

/// (score, member) order.
#[inline]
fn less(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

/// Iterates the (member offset, member, score) triples of a packed zset.
struct Pairs<'a> {
    it: super::packed::IterOffsets<'a>,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (usize, Item<'a>, f64);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (off, m) = self.it.next()?;
        let (_, s) = self.it.next().expect("a score follows each member");
        Some((off, m, s.as_f64().unwrap_or(0.0)))
    }
}

#[inline]
fn pairs(p: &Packed) -> Pairs<'_> {
    Pairs {
        it: p.iter_offsets(),
    }
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Packed(Packed::new())
    }
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        match self {
            ZSet::Packed(p) => ZSet::Packed(p.clone()),
            ZSet::Skiplist(s) => {
                let mut n = SkipList::new();
                s.for_range(0, s.len, false, |m, sc| n.insert(m, sc));
                ZSet::Skiplist(Box::new(n))
            }
        }
    }
}

impl ZSet {
    /// An empty `listpack`-encoded sorted set.
    pub fn new_packed() -> Self {
        ZSet::Packed(Packed::new())
    }

    /// An empty `skiplist`-encoded sorted set.
    pub fn new_skiplist() -> Self {
        ZSet::Skiplist(Box::new(SkipList::new()))
    }

    /// A sorted set from `items` already in (score, member) order without
    /// duplicates, encoded as Redis encodes a stored result: `listpack` when it has at
    /// most `max_entries` members none longer than `max_value`.
    pub fn from_sorted(items: &[(Vec<u8>, f64)], max_entries: usize, max_value: usize) -> Self {
        if items.len() <= max_entries && items.iter().all(|(m, _)| m.len() <= max_value) {
            let mut p = Packed::new();
            let mut inputs = Vec::with_capacity(items.len() * 2);
            for (m, s) in items {
                inputs.push(Input::Bytes(m));
                inputs.push(Input::Float(*s + 0.0));
            }
            p.insert(0, &inputs);
            ZSet::Packed(p)
        } else {
            let mut s = SkipList::new();
            for (m, sc) in items {
                s.insert(m, *sc);
            }
            ZSet::Skiplist(Box::new(s))
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            ZSet::Packed(p) => p.len() / 2,
            ZSet::Skiplist(s) => s.len,
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Packed(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Packed(p) => p.heap_size(),
            ZSet::Skiplist(s) => s.heap_size(),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Packed(p) => {
                let (_, off) = p.find(member, 2)?;
                let (_, next) = p.at(off);
                p.at(next).0.as_f64()
            }
            ZSet::Skiplist(s) => s.dict.get(member).copied(),
        }
    }

    /// Converts to the `skiplist` encoding.
    pub fn convert_to_skiplist(&mut self) {
        if let ZSet::Packed(p) = self {
            let mut s = SkipList::new();
            for (_, m, sc) in pairs(p) {
                m.with_bytes(|b| s.insert(b, sc));
            }
            *self = ZSet::Skiplist(Box::new(s));
        }
    }

    /// Inserts `member`, known to be absent. First converts to `skiplist` when the
    /// packed form would outgrow `max_entries` members or `member` is longer than
    /// `max_value` (Redis's zsetAdd).
    pub fn insert(&mut self, member: &[u8], score: f64, max_entries: usize, max_value: usize) {
        if let ZSet::Packed(p) = self {
            if p.len() / 2 + 1 > max_entries || member.len() > max_value {
                self.convert_to_skiplist();
            }
        }
        match self {
            ZSet::Packed(p) => packed_insert(p, member, score),
            ZSet::Skiplist(s) => s.insert(member, score),
        }
    }

    /// Changes the score of `member` (present with score `old`) to `new`.
    pub fn update(&mut self, member: &[u8], old: f64, new: f64) {
        match self {
            ZSet::Packed(p) => {
                if let Some((_, off)) = p.find(member, 2) {
                    p.remove(off, 2);
                }
                packed_insert(p, member, new);
            }
            ZSet::Skiplist(s) => s.update(member, old, new),
        }
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Packed(p) => {
                let (_, off) = p.find(member, 2)?;
                let (_, next) = p.at(off);
                let score = p.at(next).0.as_f64();
                p.remove(off, 2);
                score
            }
            ZSet::Skiplist(s) => s.remove(member),
        }
    }

    /// The forward rank (0-based) and score of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Packed(p) => {
                let (i, off) = p.find(member, 2)?;
                let (_, next) = p.at(off);
                Some((i / 2, p.at(next).0.as_f64().unwrap_or(0.0)))
            }
            ZSet::Skiplist(s) => {
                let score = *s.dict.get(member)?;
                Some((s.count_prefix(|sc, m| less(sc, m, score, member)), score))
            }
        }
    }

    /// How many members, from the first, satisfy `pred(score, member)`; `pred` must
    /// hold for a prefix of the (score, member) order.
    pub fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Packed(p) => {
                let mut n = 0;
                for (_, m, s) in pairs(p) {
                    if !m.with_bytes(|b| pred(s, b)) {
                        break;
                    }
                    n += 1;
                }
                n
            }
            ZSet::Skiplist(s) => s.count_prefix(pred),
        }
    }

    /// How many members, walking from rank `from` forward (or, with `rev`, backward
    /// from it, `from` included), satisfy `pred` before the first that does not.
    pub fn count_while(
        &self,
        from: usize,
        rev: bool,
        mut pred: impl FnMut(f64, &[u8]) -> bool,
    ) -> usize {
        let len = self.len();
        if from >= len {
            return 0;
        }
        match self {
            ZSet::Skiplist(s) => {
                let mut x = s.by_rank(from + 1);
                let mut n = 0;
                while x != NIL {
                    let node = &s.nodes[x as usize];
                    if !pred(node.score, node.member()) {
                        break;
                    }
                    n += 1;
                    x = if rev { node.back } else { node.link(0).next };
                }
                n
            }
            ZSet::Packed(_) => {
                let (start, end) = if rev { (0, from + 1) } else { (from, len) };
                let mut n = 0;
                let mut stopped = false;
                self.for_range(start, end, rev, |m, sc| {
                    if !stopped && pred(sc, m) {
                        n += 1;
                    } else {
                        stopped = true;
                    }
                });
                n
            }
        }
    }

    /// True for the `listpack` encoding (some of Redis's range walks differ by
    /// encoding when a lex range is asked of members with different scores).
    pub fn is_packed(&self) -> bool {
        matches!(self, ZSet::Packed(_))
    }

    /// Calls `f(member, score)` for ranks `start..end` (forward ranks), in forward
    /// order or, with `rev`, from `end - 1` down to `start`.
    pub fn for_range(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if start >= end {
            return;
        }
        match self {
            ZSet::Packed(p) => {
                let it = pairs(p).skip(start).take(end - start);
                if rev {
                    let mut offs: Vec<usize> = it.map(|(off, _, _)| off).collect();
                    offs.reverse();
                    for off in offs {
                        let (m, next) = p.at(off);
                        let s = p.at(next).0.as_f64().unwrap_or(0.0);
                        m.with_bytes(|b| f(b, s));
                    }
                } else {
                    for (_, m, s) in it {
                        m.with_bytes(|b| f(b, s));
                    }
                }
            }
            ZSet::Skiplist(s) => s.for_range(start, end, rev, f),
        }
    }

    /// The member and score at forward rank `rank`.
    pub fn with_rank<R>(&self, rank: usize, f: impl FnOnce(&[u8], f64) -> R) -> Option<R> {
        if rank >= self.len() {
            return None;
        }
        let mut f = Some(f);
        let mut out = None;
        self.for_range(rank, rank + 1, false, |m, s| {
            if let Some(f) = f.take() {
                out = Some(f(m, s));
            }
        });
        out
    }

    /// Removes ranks `start..end`.
    pub fn remove_range(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        match self {
            ZSet::Packed(p) => {
                let off = p.offset_of(start * 2);
                p.remove(off, (end - start) * 2);
            }
            ZSet::Skiplist(s) => {
                let mut doomed = Vec::with_capacity(end - start);
                s.for_range(start, end, false, |m, sc| doomed.push((m.to_vec(), sc)));
                for (m, sc) in doomed {
                    s.delete(sc, &m);
                    s.dict.remove(&m);
                }
                s.dict.shrink_if_needed();
            }
        }
    }

    /// Calls `f` with a random member and its score (none when empty).
    pub fn random<R>(&self, f: impl FnOnce(&[u8], f64) -> R) -> Option<R> {
        // A uniform rank: fair even where hash chains would not be.
        let n = self.len();
        if n == 0 {
            return None;
        }
        self.with_rank(fastrand::usize(..n), f)
    }

    /// One step of ZSCAN: calls `f(member, score)` for the members of the buckets the
    /// cursor visits (everything, and cursor 0, for the packed encoding); returns the
    /// next cursor. `count` bounds the members wanted, as Redis's scan loop does.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Packed(_) => {
                self.for_range(0, self.len(), false, f);
                0
            }
            ZSet::Skiplist(s) => {
                let mut cursor = cursor;
                let mut got = 0usize;
                let mut max_iterations = count.saturating_mul(10);
                loop {
                    cursor = s.dict.scan(cursor, |e| {
                        got += 1;
                        f(&e.key, e.value)
                    });
                    if cursor == 0 || max_iterations == 0 || got >= count {
                        break;
                    }
                    max_iterations -= 1;
                }
                cursor
            }
        }
    }
}

/// Inserts a (member, score) pair in its place in a packed zset. A score of -0 is
/// stored as 0, as Debian's Redis 7.0.15 does in a listpack (the reference build
/// reads "-0" back as 0 there, while its skiplist keeps the sign).
fn packed_insert(p: &mut Packed, member: &[u8], score: f64) {
    let score = score + 0.0;
    let mut at = p.bytes();
    for (off, m, s) in pairs(p) {
        if m.with_bytes(|b| less(score, member, s, b)) {
            at = off;
            break;
        }
    }
    p.insert(at, &[Input::Bytes(member), Input::Float(score)]);
}

const NIL: u32 = 0;
const MAX_LEVEL: usize = 32;

#[derive(Debug, Clone, Copy, Default)]
struct Link {
    next: u32,
    span: u32,
}

/// A node: its score and back link in the arena slot (32 bytes, two per cache
/// line), its forward links and its member in one allocation (`data`: `level`
/// (next, span) pairs of u32, then the member's bytes), so a walk touches two cache
/// lines per node, as Redis's does.
struct Node {
    score: f64,
    /// The allocation of `words()` u32s (a `Box<[u32]>` taken apart, so the slot
    /// holds a thin pointer).
    data: std::ptr::NonNull<u32>,
    back: u32,
    level: u32,
    mlen: u32,
}

// SAFETY: `Node` owns its allocation exclusively, like the `Box<[u32]>` it was.
unsafe impl Send for Node {}
// SAFETY: shared access only reads.
unsafe impl Sync for Node {}

impl Node {
    fn words_for(level: usize, mlen: usize) -> usize {
        2 * level + mlen.div_ceil(4)
    }

    fn new(member: &[u8], score: f64, level: usize) -> Node {
        let mut data = vec![0u32; Self::words_for(level, member.len())].into_boxed_slice();
        // SAFETY: the words after the links have room for the member's bytes, and
        // u8 has no alignment requirement.
        unsafe {
            let dst = data.as_mut_ptr().add(2 * level) as *mut u8;
            std::ptr::copy_nonoverlapping(member.as_ptr(), dst, member.len());
        }
        let raw = Box::into_raw(data) as *mut u32;
        Node {
            score,
            // SAFETY: Box::into_raw never returns null.
            data: unsafe { std::ptr::NonNull::new_unchecked(raw) },
            back: NIL,
            level: level as u32,
            mlen: member.len() as u32,
        }
    }

    #[inline]
    fn words(&self) -> &[u32] {
        // SAFETY: `data` holds `words_for(level, mlen)` initialised u32s.
        unsafe {
            std::slice::from_raw_parts(
                self.data.as_ptr(),
                Self::words_for(self.level as usize, self.mlen as usize),
            )
        }
    }

    #[inline]
    fn words_mut(&mut self) -> &mut [u32] {
        // SAFETY: as in `words`, with exclusive access.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.data.as_ptr(),
                Self::words_for(self.level as usize, self.mlen as usize),
            )
        }
    }

    #[inline]
    fn member(&self) -> &[u8] {
        let words = &self.words()[2 * self.level as usize..];
        // SAFETY: `Node::new` copied `mlen` bytes there (within `words`).
        unsafe { std::slice::from_raw_parts(words.as_ptr() as *const u8, self.mlen as usize) }
    }

    #[inline]
    fn link(&self, i: usize) -> Link {
        let w = self.words();
        Link {
            next: w[2 * i],
            span: w[2 * i + 1],
        }
    }

    #[inline]
    fn set_link(&mut self, i: usize, l: Link) {
        let w = self.words_mut();
        w[2 * i] = l.next;
        w[2 * i + 1] = l.span;
    }

    /// Frees the data of a removed node (its slot goes to the free list).
    fn clear(&mut self) {
        *self = Node::new(b"", 0.0, 0);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let words = Self::words_for(self.level as usize, self.mlen as usize);
        // SAFETY: `data` came from `Box::into_raw` of a boxed slice of `words` u32s.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.data.as_ptr(),
                words,
            )));
        }
    }
}

/// The `skiplist` encoding: a skiplist with spans whose nodes live in an arena
/// (index 0 is the header; 0 also means "none"), and a member -> score table.
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    level: usize,
    len: usize,
    dict: Dict<f64>,
}

impl std::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkipList").field("len", &self.len).finish()
    }
}

fn random_level() -> usize {
    let mut l = 1;
    while l < MAX_LEVEL && fastrand::u32(..4) == 0 {
        l += 1;
    }
    l
}

impl SkipList {
    fn new() -> Self {
        SkipList {
            nodes: vec![Node::new(b"", 0.0, MAX_LEVEL)],
            free: Vec::new(),
            tail: NIL,
            level: 1,
            len: 0,
            dict: Dict::new(),
        }
    }

    fn heap_size(&self) -> usize {
        let mut n = self.nodes.capacity() * std::mem::size_of::<Node>() + self.dict.table_bytes();
        for x in &self.nodes {
            // The node's data, and the table's entry (member inline up to 22 bytes).
            n += x.words().len() * 4 + 48 + if x.mlen > 22 { x.mlen as usize } else { 0 };
        }
        n
    }

    #[inline]
    fn link(&self, x: u32, i: usize) -> Link {
        self.nodes[x as usize].link(i)
    }

    #[inline]
    fn set_link(&mut self, x: u32, i: usize, l: Link) {
        self.nodes[x as usize].set_link(i, l);
    }

    #[inline]
    fn add_span(&mut self, x: u32, i: usize, delta: i32) {
        let mut l = self.link(x, i);
        l.span = l.span.wrapping_add_signed(delta);
        self.set_link(x, i, l);
    }

    /// True when the node `x` sorts before (score, member).
    #[inline]
    fn node_less(&self, x: u32, score: f64, member: &[u8]) -> bool {
        let n = &self.nodes[x as usize];
        n.score < score || (n.score == score && n.member() < member)
    }

    /// Adds a node (the member must be absent) and its table entry.
    fn insert(&mut self, member: &[u8], score: f64) {
        self.insert_node(member, score);
        self.dict.insert_new(SmallBytes::new(member), score);
    }

    fn insert_node(&mut self, member: &[u8], score: f64) {
        let mut update = [0u32; MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        let mut x = 0u32;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.link(x, i);
                if l.next != NIL && self.node_less(l.next, score, member) {
                    rank[i] += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let lvl = random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = 0;
                let next = self.link(0, i).next;
                self.set_link(
                    0,
                    i,
                    Link {
                        next,
                        span: self.len as u32,
                    },
                );
            }
            self.level = lvl;
        }
        let node = Node::new(member, score, lvl);
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..lvl {
            let u = update[i];
            let ul = self.link(u, i);
            let before = (rank[0] - rank[i]) as u32;
            self.set_link(
                idx,
                i,
                Link {
                    next: ul.next,
                    span: ul.span - before,
                },
            );
            self.set_link(
                u,
                i,
                Link {
                    next: idx,
                    span: before + 1,
                },
            );
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.add_span(u, i, 1);
        }
        self.nodes[idx as usize].back = update[0];
        let next = self.link(idx, 0).next;
        if next != NIL {
            self.nodes[next as usize].back = idx;
        } else {
            self.tail = idx;
        }
        self.len += 1;
    }

    /// Removes the node of (score, member); true if it was there.
    fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let mut update = [0u32; MAX_LEVEL];
        let mut x = 0u32;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next != NIL && self.node_less(l.next, score, member) {
                    x = l.next;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        let x = self.link(x, 0).next;
        if x == NIL {
            return false;
        }
        {
            let n = &self.nodes[x as usize];
            if n.score != score || n.member() != member {
                return false;
            }
        }
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.link(u, i);
            if ul.next == x {
                let xl = self.link(x, i);
                self.set_link(
                    u,
                    i,
                    Link {
                        next: xl.next,
                        span: ul.span + xl.span - 1,
                    },
                );
            } else {
                self.add_span(u, i, -1);
            }
        }
        let next = self.link(x, 0).next;
        let back = self.nodes[x as usize].back;
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.link(0, self.level - 1).next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        self.nodes[x as usize].clear();
        self.free.push(x);
        if self.len == 0 {
            self.nodes.truncate(1);
            self.free.clear();
        }
        true
    }

    fn update(&mut self, member: &[u8], old: f64, new: f64) {
        self.delete(old, member);
        self.insert_node(member, new);
        if let Some(v) = self.dict.get_mut(member) {
            *v = new;
        }
    }

    fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, score) = self.dict.remove(member)?;
        self.delete(score, member);
        // As Redis after deletions: a mostly empty table shrinks.
        self.dict.shrink_if_needed();
        Some(score)
    }

    fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut x = 0u32;
        let mut r = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next != NIL && {
                    let n = &self.nodes[l.next as usize];
                    pred(n.score, n.member())
                } {
                    r += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
        }
        r
    }

    /// The node at 1-based rank `r`.
    fn by_rank(&self, r: usize) -> u32 {
        let mut x = 0u32;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next != NIL && traversed + l.span as usize <= r {
                    traversed += l.span as usize;
                    x = l.next;
                } else {
                    break;
                }
            }
            if traversed == r {
                return x;
            }
        }
        NIL
    }

    fn for_range(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if start >= end || start >= self.len {
            return;
        }
        let end = end.min(self.len);
        let mut x = if rev {
            self.by_rank(end)
        } else {
            self.by_rank(start + 1)
        };
        for _ in start..end {
            if x == NIL {
                break;
            }
            let n = &self.nodes[x as usize];
            f(n.member(), n.score);
            x = if rev { n.back } else { n.link(0).next };
        }
    }

    #[cfg(test)]
    fn check(&self) {
        // Spans add up to ranks and the order holds.
        let mut x = self.link(0, 0).next;
        let mut prev: Option<(f64, Vec<u8>)> = None;
        let mut n = 0;
        while x != NIL {
            n += 1;
            let node = &self.nodes[x as usize];
            if let Some((ps, pm)) = &prev {
                assert!(less(*ps, pm, node.score, node.member()));
            }
            assert_eq!(self.by_rank(n), x);
            prev = Some((node.score, node.member().to_vec()));
            x = node.link(0).next;
        }
        assert_eq!(n, self.len);
        assert_eq!(self.dict.len(), self.len);
    }
}

/// The listpack Redis would hold for `entries` (RDB writes it as one string, so DEBUG
/// OBJECT's serializedlength needs its exact bytes). Strings that are integers take
/// listpack's integer encodings.
pub fn listpack_bytes<'a>(entries: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![0u8; 6];
    let mut count = 0usize;
    for e in entries {
        count += 1;
        let start = out.len();
        let as_int = if e.len() <= 20 {
            redis_formats::num::parse_i64(e)
        } else {
            None
        };
        if let Some(v) = as_int {
            if (0..=127).contains(&v) {
                out.push(v as u8);
            } else if (-4096..=4095).contains(&v) {
                let u = (v as u64) & 0x1fff;
                out.push(0xc0 | (u >> 8) as u8);
                out.push(u as u8);
            } else if i16::try_from(v).is_ok() {
                out.push(0xf1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&v) {
                out.push(0xf2);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            } else if i32::try_from(v).is_ok() {
                out.push(0xf3);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            } else {
                out.push(0xf4);
                out.extend_from_slice(&v.to_le_bytes());
            }
        } else {
            let l = e.len();
            if l < 64 {
                out.push(0x80 | l as u8);
            } else if l < 4096 {
                out.push(0xe0 | (l >> 8) as u8);
                out.push(l as u8);
            } else {
                out.push(0xf0);
                out.extend_from_slice(&(l as u32).to_le_bytes());
            }
            out.extend_from_slice(e);
        }
        let l = out.len() - start;
        // The back length: 7 bits per byte, most significant byte first.
        if l <= 127 {
            out.push(l as u8);
        } else if l < 16383 {
            out.push((l >> 7) as u8);
            out.push((l & 127) as u8 | 128);
        } else if l < 2097151 {
            out.push((l >> 14) as u8);
            out.push(((l >> 7) & 127) as u8 | 128);
            out.push((l & 127) as u8 | 128);
        } else if l < 268435455 {
            out.push((l >> 21) as u8);
            out.push(((l >> 14) & 127) as u8 | 128);
            out.push(((l >> 7) & 127) as u8 | 128);
            out.push((l & 127) as u8 | 128);
        } else {
            out.push((l >> 28) as u8);
            out.push(((l >> 21) & 127) as u8 | 128);
            out.push(((l >> 14) & 127) as u8 | 128);
            out.push(((l >> 7) & 127) as u8 | 128);
            out.push((l & 127) as u8 | 128);
        }
    }
    out.push(0xff);
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_le_bytes());
    let n = count.min(65535) as u16;
    out[4..6].copy_from_slice(&n.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::new();
        z.for_range(0, z.len(), false, |m, s| v.push((m.to_vec(), s)));
        v
    }

    #[test]
    fn size_fits_value() {
        assert!(std::mem::size_of::<ZSet>() <= 16);
        assert_eq!(std::mem::size_of::<Node>(), 32);
    }

    #[test]
    fn both_encodings_agree() {
        fastrand::seed(7);
        let mut a = ZSet::new_packed();
        let mut b = ZSet::new_skiplist();
        for i in 0..2000 {
            let m = format!("m{}", fastrand::u32(..300));
            let s = (fastrand::i32(-50..50) as f64) / 4.0;
            for z in [&mut a, &mut b] {
                match z.score(m.as_bytes()) {
                    Some(_) if i % 3 == 0 => {
                        z.remove(m.as_bytes());
                    }
                    Some(old) => z.update(m.as_bytes(), old, s),
                    None => z.insert(m.as_bytes(), s, usize::MAX, usize::MAX),
                }
            }
            if let ZSet::Skiplist(s) = &b {
                if i % 100 == 0 {
                    s.check();
                }
            }
        }
        assert_eq!(a.encoding(), "listpack");
        assert_eq!(members(&a), members(&b));
        let all = members(&a);
        for (i, (m, s)) in all.iter().enumerate() {
            assert_eq!(a.rank(m), Some((i, *s)));
            assert_eq!(b.rank(m), Some((i, *s)));
        }
        let mut ra = Vec::new();
        a.for_range(3, 20, true, |m, _| ra.push(m.to_vec()));
        let mut rb = Vec::new();
        b.for_range(3, 20, true, |m, _| rb.push(m.to_vec()));
        assert_eq!(ra, rb);
        assert_eq!(
            a.count_prefix(|s, _| s < 1.0),
            b.count_prefix(|s, _| s < 1.0)
        );
        a.remove_range(2, 10);
        b.remove_range(2, 10);
        assert_eq!(members(&a), members(&b));
        if let ZSet::Skiplist(s) = &b {
            s.check();
        }
        let c = b.clone();
        assert_eq!(members(&c), members(&b));
    }

    #[test]
    fn converts_at_thresholds() {
        let mut z = ZSet::new_packed();
        for i in 0..3 {
            z.insert(format!("m{i}").as_bytes(), i as f64, 3, 10);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"m9", 1.5, 3, 10);
        assert_eq!(z.encoding(), "skiplist");
        let mut z = ZSet::new_packed();
        z.insert(b"short", 1.0, 128, 10);
        z.insert(b"much longer than ten", 1.0, 128, 10);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.len(), 2);
    }

    #[test]
    fn scores_keep_their_value() {
        let mut z = ZSet::new_packed();
        z.insert(b"a", -0.0, 128, 64);
        assert!(!z.score(b"a").unwrap().is_sign_negative());
        z.convert_to_skiplist();
        z.insert(b"n", -0.0, 128, 64);
        z.insert(b"b", 1e300, 128, 64);
        z.insert(b"c", f64::NEG_INFINITY, 128, 64);
        z.insert(b"d", 3.0, 128, 64);
        assert!(z.score(b"n").unwrap().is_sign_negative());
        assert_eq!(z.score(b"b"), Some(1e300));
        assert_eq!(z.rank(b"c"), Some((0, f64::NEG_INFINITY)));
        assert_eq!(z.rank(b"d"), Some((3, 3.0)));
    }

    #[test]
    fn listpack_layout() {
        // Checked against Redis's lpNew + appends.
        let lp = listpack_bytes([&b"a"[..], b"1", b"-1", b"1000"].into_iter());
        assert_eq!(
            lp,
            [18, 0, 0, 0, 4, 0, 0x81, b'a', 2, 1, 1, 0xdf, 0xff, 2, 0xc3, 0xe8, 2, 0xff]
        );
    }
}
