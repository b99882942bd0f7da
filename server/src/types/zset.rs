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
                let mut n = 0;
                s.walk(from, rev, |m, sc| {
                    let go = pred(sc, m);
                    n += go as usize;
                    go
                });
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

const MAX_LEVEL: usize = 32;

/// A forward link: the next node and how many ranks it skips.
#[derive(Clone, Copy)]
#[repr(C)]
struct Link {
    next: *mut Head,
    span: usize,
}

/// The start of a node's allocation, followed by `level` [`Link`]s and then the
/// member's `mlen` bytes: a node is one allocation, so comparing against it and
/// following its links touch the same cache lines (scores first, as Redis's
/// nodes keep them), and the member usually sits in the next line.
#[repr(C)]
struct Head {
    score: f64,
    back: *mut Head,
    level: u32,
    mlen: u32,
}

const HEAD: usize = std::mem::size_of::<Head>();
const LINK: usize = std::mem::size_of::<Link>();

fn node_layout(level: usize, mlen: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(HEAD + level * LINK + mlen, 8).expect("node size")
}

/// Allocates a node with null links.
fn new_node(member: &[u8], score: f64, level: usize) -> *mut Head {
    let layout = node_layout(level, member.len());
    // SAFETY: the layout is non-zero sized; every field is written before use:
    // the head here, the links (zeroed: null, 0), the member bytes.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout) as *mut Head;
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        p.write(Head {
            score,
            back: std::ptr::null_mut(),
            level: level as u32,
            mlen: member.len() as u32,
        });
        let m = (p as *mut u8).add(HEAD + level * LINK);
        std::ptr::copy_nonoverlapping(member.as_ptr(), m, member.len());
        p
    }
}

/// Frees a node made by [`new_node`].
///
/// # Safety
/// `p` came from `new_node` and is not used afterwards.
unsafe fn free_node(p: *mut Head) {
    let layout = node_layout((*p).level as usize, (*p).mlen as usize);
    std::alloc::dealloc(p as *mut u8, layout);
}

/// Link `i` of node `p` (`i < level`).
///
/// # Safety
/// `p` is a live node with more than `i` levels.
#[inline]
unsafe fn link<'a>(p: *mut Head) -> &'a mut [Link] {
    let n = (*p).level as usize;
    std::slice::from_raw_parts_mut((p as *mut u8).add(HEAD) as *mut Link, n)
}

/// The member of node `p`.
///
/// # Safety
/// `p` is a live node; the slice must not outlive it.
#[inline]
unsafe fn member<'a>(p: *const Head) -> &'a [u8] {
    let level = (*p).level as usize;
    std::slice::from_raw_parts(
        (p as *const u8).add(HEAD + level * LINK),
        (*p).mlen as usize,
    )
}

/// The `skiplist` encoding: a skiplist with spans (Redis's design: ranks and range
/// starts in O(log n)), and a member -> score table.
pub struct SkipList {
    /// The header node (MAX_LEVEL links, no member).
    header: *mut Head,
    tail: *mut Head,
    level: usize,
    len: usize,
    dict: Dict<f64>,
}

// SAFETY: the list owns its nodes exclusively; nothing is shared between threads
// without the owner's borrow.
unsafe impl Send for SkipList {}
// SAFETY: shared access only reads.
unsafe impl Sync for SkipList {}

impl std::fmt::Debug for SkipList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkipList").field("len", &self.len).finish()
    }
}

impl Drop for SkipList {
    fn drop(&mut self) {
        // SAFETY: every node is reachable once along level 0 from the header.
        unsafe {
            let mut x = link(self.header)[0].next;
            while !x.is_null() {
                let next = link(x)[0].next;
                free_node(x);
                x = next;
            }
            free_node(self.header);
        }
    }
}

fn random_level() -> usize {
    let mut l = 1;
    while l < MAX_LEVEL && fastrand::u32(..4) == 0 {
        l += 1;
    }
    l
}

/// True when node `x` sorts before (score, member).
///
/// # Safety
/// `x` is a live node.
#[inline]
unsafe fn node_less(x: *mut Head, score: f64, m: &[u8]) -> bool {
    let s = (*x).score;
    s < score || (s == score && member(x) < m)
}

impl SkipList {
    fn new() -> Self {
        SkipList {
            header: new_node(b"", 0.0, MAX_LEVEL),
            tail: std::ptr::null_mut(),
            level: 1,
            len: 0,
            dict: Dict::new(),
        }
    }

    /// Estimated like Redis's MEMORY USAGE: the first few nodes, scaled to all.
    fn heap_size(&self) -> usize {
        const SAMPLES: usize = 5;
        let mut sampled = 0usize;
        let mut bytes = 0usize;
        // SAFETY: walking live nodes along level 0.
        unsafe {
            let mut x = link(self.header)[0].next;
            while !x.is_null() && sampled < SAMPLES {
                let mlen = (*x).mlen as usize;
                // The node, and the table's entry (member inline up to 22 bytes).
                bytes += HEAD + (*x).level as usize * LINK + mlen + 48;
                if mlen > 22 {
                    bytes += mlen;
                }
                sampled += 1;
                x = link(x)[0].next;
            }
        }
        let per = bytes.checked_div(sampled).unwrap_or(0);
        HEAD + MAX_LEVEL * LINK + self.dict.table_bytes() + per * self.len
    }

    /// Adds a node (the member must be absent) and its table entry.
    fn insert(&mut self, m: &[u8], score: f64) {
        self.insert_node(m, score);
        self.dict.insert_new(SmallBytes::new(m), score);
    }

    fn insert_node(&mut self, m: &[u8], score: f64) {
        let mut update = [std::ptr::null_mut::<Head>(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        // SAFETY: all pointers followed are live nodes of this list.
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let l = link(x)[i];
                    if !l.next.is_null() && node_less(l.next, score, m) {
                        rank[i] += l.span;
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
                    update[i] = self.header;
                    link(self.header)[i].span = self.len;
                }
                self.level = lvl;
            }
            let x = new_node(m, score, lvl);
            for i in 0..lvl {
                let ul = &mut link(update[i])[i];
                let before = rank[0] - rank[i];
                link(x)[i] = Link {
                    next: ul.next,
                    span: ul.span - before,
                };
                *ul = Link {
                    next: x,
                    span: before + 1,
                };
            }
            for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
                link(u)[i].span += 1;
            }
            (*x).back = if update[0] == self.header {
                std::ptr::null_mut()
            } else {
                update[0]
            };
            let next = link(x)[0].next;
            if next.is_null() {
                self.tail = x;
            } else {
                (*next).back = x;
            }
        }
        self.len += 1;
    }

    /// Removes the node of (score, member); true if it was there.
    fn delete(&mut self, score: f64, m: &[u8]) -> bool {
        let mut update = [std::ptr::null_mut::<Head>(); MAX_LEVEL];
        // SAFETY: all pointers followed are live nodes of this list; the removed
        // node is unlinked everywhere before it is freed.
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                loop {
                    let next = link(x)[i].next;
                    if !next.is_null() && node_less(next, score, m) {
                        x = next;
                    } else {
                        break;
                    }
                }
                update[i] = x;
            }
            let x = link(x)[0].next;
            if x.is_null() || (*x).score != score || member(x) != m {
                return false;
            }
            for (i, &u) in update.iter().enumerate().take(self.level) {
                let ul = &mut link(u)[i];
                if ul.next == x {
                    let xl = link(x)[i];
                    ul.span = ul.span + xl.span - 1;
                    ul.next = xl.next;
                } else {
                    ul.span -= 1;
                }
            }
            let next = link(x)[0].next;
            if next.is_null() {
                self.tail = (*x).back;
            } else {
                (*next).back = (*x).back;
            }
            while self.level > 1 && link(self.header)[self.level - 1].next.is_null() {
                self.level -= 1;
            }
            free_node(x);
        }
        self.len -= 1;
        true
    }

    fn update(&mut self, m: &[u8], old: f64, new: f64) {
        self.delete(old, m);
        self.insert_node(m, new);
        if let Some(v) = self.dict.get_mut(m) {
            *v = new;
        }
    }

    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (_, score) = self.dict.remove(m)?;
        self.delete(score, m);
        // As Redis after deletions: a mostly empty table shrinks.
        self.dict.shrink_if_needed();
        Some(score)
    }

    fn count_prefix(&self, mut pred: impl FnMut(f64, &[u8]) -> bool) -> usize {
        let mut r = 0usize;
        // SAFETY: walking live nodes.
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                loop {
                    let l = link(x)[i];
                    if !l.next.is_null() && pred((*l.next).score, member(l.next)) {
                        r += l.span;
                        x = l.next;
                    } else {
                        break;
                    }
                }
            }
        }
        r
    }

    /// The node at 1-based rank `r` (null when out of range).
    fn by_rank(&self, r: usize) -> *mut Head {
        let mut traversed = 0usize;
        // SAFETY: walking live nodes.
        unsafe {
            let mut x = self.header;
            for i in (0..self.level).rev() {
                loop {
                    let l = link(x)[i];
                    if !l.next.is_null() && traversed + l.span <= r {
                        traversed += l.span;
                        x = l.next;
                    } else {
                        break;
                    }
                }
                if traversed == r {
                    return if x == self.header {
                        std::ptr::null_mut()
                    } else {
                        x
                    };
                }
            }
        }
        std::ptr::null_mut()
    }

    /// Calls `f` on the members from rank `from` (0-based) onward, forward or
    /// backward, while it returns true.
    fn walk(&self, from: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        if from >= self.len {
            return;
        }
        let mut x = self.by_rank(from + 1);
        // SAFETY: walking live nodes.
        unsafe {
            while !x.is_null() {
                if !f(member(x), (*x).score) {
                    break;
                }
                x = if rev { (*x).back } else { link(x)[0].next };
            }
        }
    }

    fn for_range(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if start >= end || start >= self.len {
            return;
        }
        let end = end.min(self.len);
        let (from, mut left) = if rev {
            (end - 1, end - start)
        } else {
            (start, end - start)
        };
        self.walk(from, rev, |m, s| {
            f(m, s);
            left -= 1;
            left > 0
        });
    }

    #[cfg(test)]
    fn check(&self) {
        // Spans add up to ranks, back links mirror forward ones, the order holds.
        let mut prev: Option<(f64, Vec<u8>)> = None;
        let mut n = 0;
        let mut back = std::ptr::null_mut();
        // SAFETY: walking live nodes.
        unsafe {
            let mut x = link(self.header)[0].next;
            while !x.is_null() {
                n += 1;
                assert_eq!((*x).back, back);
                if let Some((ps, pm)) = &prev {
                    assert!(less(*ps, pm, (*x).score, member(x)));
                }
                assert_eq!(self.by_rank(n), x);
                prev = Some(((*x).score, member(x).to_vec()));
                back = x;
                x = link(x)[0].next;
            }
        }
        assert_eq!(self.tail, back);
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
    fn skiplist_matches_a_model() {
        use std::collections::BTreeMap;
        let mut rng = fastrand::Rng::with_seed(11);
        let mut z = ZSet::new_skiplist();
        // (score bits made orderable, member) -> () and member -> score.
        let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
        for step in 0..20_000 {
            let m = format!("k{}", rng.u32(..500)).into_bytes();
            let sc = rng.i32(-20..20) as f64 / 2.0;
            match rng.u8(..10) {
                0..=5 => match model.get(&m).copied() {
                    Some(old) => {
                        z.update(&m, old, sc);
                        model.insert(m, sc);
                    }
                    None => {
                        z.insert(&m, sc, 0, 0);
                        model.insert(m, sc);
                    }
                },
                6 | 7 => {
                    assert_eq!(z.remove(&m), model.remove(&m));
                }
                8 => {
                    let n = z.len();
                    if n > 0 {
                        let a = rng.usize(..n);
                        let b = (a + rng.usize(..4)).min(n);
                        let mut gone = Vec::new();
                        z.for_range(a, b, false, |m, _| gone.push(m.to_vec()));
                        z.remove_range(a, b);
                        for g in gone {
                            model.remove(&g);
                        }
                    }
                }
                _ => {
                    if let Some(s) = model.get(&m) {
                        assert_eq!(z.score(&m), Some(*s));
                    }
                }
            }
            if step % 997 == 0 {
                if let ZSet::Skiplist(s) = &z {
                    s.check();
                }
            }
        }
        let mut want: Vec<(f64, Vec<u8>)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
        want.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
        let got: Vec<(f64, Vec<u8>)> = members(&z).into_iter().map(|(m, s)| (s, m)).collect();
        assert_eq!(got, want);
        let mut rev = Vec::new();
        z.for_range(0, z.len(), true, |m, _| rev.push(m.to_vec()));
        rev.reverse();
        assert_eq!(rev, want.iter().map(|w| w.1.clone()).collect::<Vec<_>>());
        for (i, (s, m)) in want.iter().enumerate() {
            assert_eq!(z.rank(m), Some((i, *s)));
        }
        let c = z.clone();
        assert_eq!(members(&c), members(&z));
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
