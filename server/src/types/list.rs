//! The list type's data structure.
//!
//! Redis 7.0 stores every list as a quicklist (OBJECT ENCODING always says
//! `quicklist`): a doubly linked list of listpack nodes, each bounded by
//! `list-max-listpack-size`, with elements over the packed threshold in nodes of
//! their own. What users see of that is only the encoding name, so the layout here
//! is ours:
//!
//! - [`List::Packed`]: a list that fits one node is one [`Packed`] sequence behind
//!   the 8-byte thin pointer (small lists are what most keys are; this keeps them
//!   a jemalloc size class below Redis's three allocations).
//! - [`List::Quick`]: bigger lists are a `VecDeque` of bounded `Packed` nodes.
//!   Pushes and pops at both ends touch one end node (O(1) in the list length);
//!   LINDEX/LSET/LINSERT find their node by walking node counts from the nearer end.
//!
//! `Packed` only walks forward, so a pop from the tail walks its node once: nodes
//! hold at most [`NODE_MAX_ENTRIES`] entries, which keeps that walk short whatever
//! `list-max-listpack-size` allows (a smaller node than Redis's is invisible to
//! users; the size limit is honoured as well).

use super::packed::{Input, Item, Packed};
use std::collections::VecDeque;

/// Most entries one node holds (see the module docs).
pub const NODE_MAX_ENTRIES: usize = 32;

/// Redis's node size limits for negative `list-max-listpack-size` values (-1..-5).
const SIZE_LIMITS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

/// Redis's safety limit on a node's bytes when the fill is a count.
const SIZE_SAFETY_LIMIT: usize = 8192;

/// The node bounds in force (from `list-max-listpack-size` and DEBUG
/// QUICKLIST-PACKED-THRESHOLD).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries per node.
    pub max_entries: usize,
    /// Most entry bytes per node.
    pub max_bytes: usize,
    /// Elements at least this long get a node of their own.
    pub packed_threshold: usize,
}

impl Limits {
    /// The bounds for a `list-max-listpack-size` of `fill` and a packed threshold.
    pub fn new(fill: i64, packed_threshold: u64) -> Self {
        let (max_entries, max_bytes) = if fill >= 0 {
            (
                (fill.max(1) as usize).min(NODE_MAX_ENTRIES),
                SIZE_SAFETY_LIMIT,
            )
        } else {
            let i = ((-fill) as usize).min(5) - 1;
            (NODE_MAX_ENTRIES, SIZE_LIMITS[i])
        };
        Limits {
            max_entries,
            max_bytes,
            packed_threshold: packed_threshold.min(usize::MAX as u64) as usize,
        }
    }

    #[inline]
    fn is_large(&self, v: &[u8]) -> bool {
        v.len() >= self.packed_threshold
    }

    /// True if `node` may take one more element of `v`'s size.
    #[inline]
    fn accepts(&self, node: &Packed, v: &[u8]) -> bool {
        if self.is_large(v) || self.is_plain(node) {
            return false;
        }
        node.len() < self.max_entries && node.bytes() + v.len() + 2 <= self.max_bytes
    }

    /// A node holding one element over the threshold (Redis's plain node).
    #[inline]
    fn is_plain(&self, node: &Packed) -> bool {
        node.len() == 1 && node.bytes() > self.packed_threshold
    }

    /// True if `node` is within bounds (a single entry always is).
    #[cfg(test)]
    fn fits(&self, node: &Packed) -> bool {
        node.len() <= 1 || (node.len() <= self.max_entries && node.bytes() <= self.max_bytes)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(-2, 1 << 30)
    }
}

/// A list value.
#[derive(Debug, Clone)]
pub enum List {
    /// A list that fits one node.
    Packed(Packed),
    /// A list of several nodes.
    Quick(Box<Quick>),
}

/// The nodes of a big list.
#[derive(Debug, Clone, Default)]
pub struct Quick {
    nodes: VecDeque<Packed>,
    len: usize,
}

/// An item as an input for writing.
#[inline]
fn input(item: Item<'_>) -> Input<'_> {
    match item {
        Item::Int(n) => Input::Int(n),
        Item::Str(s) => Input::Bytes(s),
        Item::Float(x) => Input::Float(x),
    }
}

/// Offset of the last entry of a non-empty node.
#[inline]
fn last_offset(p: &Packed) -> usize {
    let mut it = p.iter_offsets();
    let mut last = 0;
    for (off, _) in &mut it {
        last = off;
    }
    last
}

/// Moves the entries from `index` on out of `p` into a new node.
fn split_off(p: &mut Packed, index: usize) -> Packed {
    let off = p.offset_of(index);
    let mut tail = Packed::new();
    {
        let items: Vec<Input<'_>> = {
            let mut v = Vec::with_capacity(p.len() - index);
            let mut pos = off;
            for _ in index..p.len() {
                let (item, next) = p.at(pos);
                v.push(input(item));
                pos = next;
            }
            v
        };
        tail.insert(0, &items);
    }
    let n = p.len() - index;
    p.remove(off, n);
    tail
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

impl List {
    /// An empty list (the caller adds elements before storing it).
    pub fn new() -> Self {
        List::Packed(Packed::new())
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            List::Packed(p) => p.len(),
            List::Quick(q) => q.len,
        }
    }

    /// True when empty (an empty collection is never stored).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The OBJECT ENCODING name: Redis 7.0 reports `quicklist` for every list.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            List::Packed(p) => p.heap_size(),
            List::Quick(q) => {
                std::mem::size_of::<Quick>()
                    + q.nodes.capacity() * std::mem::size_of::<Packed>()
                    + q.nodes.iter().map(|n| n.heap_size()).sum::<usize>()
            }
        }
    }

    /// The nodes, front to back.
    pub fn nodes(&self) -> impl DoubleEndedIterator<Item = &Packed> + '_ {
        let (a, b): (&[Packed], &[Packed]) = match self {
            List::Packed(p) => (std::slice::from_ref(p), &[]),
            List::Quick(q) => q.nodes.as_slices(),
        };
        a.iter().chain(b.iter())
    }

    /// Iterates over the elements from the head.
    pub fn iter(&self) -> impl Iterator<Item = Item<'_>> + '_ {
        self.nodes().flat_map(|n| n.iter())
    }

    /// Iterates over the elements from the tail.
    pub fn iter_rev(&self) -> RevIter<'_> {
        RevIter {
            nodes: Box::new(self.nodes().rev()),
            buf: Vec::new(),
        }
    }

    /// Iterates over the elements from index `start` on.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = Item<'_>> + '_ {
        let (ni, i) = if start < self.len() {
            self.locate(start)
        } else {
            (usize::MAX, 0)
        };
        self.nodes().enumerate().skip(ni).flat_map(move |(k, n)| {
            let mut it = n.iter();
            if k == ni {
                for _ in 0..i {
                    it.next();
                }
            }
            it
        })
    }

    /// Converts to the several-node form (a no-op when already there).
    fn quick_mut(&mut self) -> &mut Quick {
        if let List::Packed(p) = self {
            let p = std::mem::take(p);
            let mut q = Quick {
                len: p.len(),
                nodes: VecDeque::with_capacity(4),
            };
            if !p.is_empty() {
                q.nodes.push_back(p);
            }
            *self = List::Quick(Box::new(q));
        }
        match self {
            List::Quick(q) => q,
            List::Packed(_) => unreachable!("just converted"),
        }
    }

    /// Back to one node when one is left.
    fn normalize(&mut self) {
        if let List::Quick(q) = self {
            if q.nodes.len() <= 1 {
                let p = q.nodes.pop_front().unwrap_or_default();
                *self = List::Packed(p);
            }
        }
    }

    /// Pushes `v` at the head (`front`) or the tail.
    pub fn push(&mut self, v: &[u8], front: bool, lim: &Limits) {
        if let List::Packed(p) = self {
            if p.is_empty() || lim.accepts(p, v) {
                let off = if front { 0 } else { p.bytes() };
                p.insert_one(off, Input::Bytes(v));
                return;
            }
        }
        let q = self.quick_mut();
        q.len += 1;
        let end = if front {
            q.nodes.front_mut()
        } else {
            q.nodes.back_mut()
        };
        match end {
            Some(n) if lim.accepts(n, v) => {
                let off = if front { 0 } else { n.bytes() };
                n.insert_one(off, Input::Bytes(v));
            }
            _ => {
                let mut n = Packed::new();
                n.push(Input::Bytes(v));
                if front {
                    q.nodes.push_front(n);
                } else {
                    q.nodes.push_back(n);
                }
            }
        }
    }

    /// Pops the head (`front`) or tail element and hands it to `f`.
    pub fn pop_with<R>(&mut self, front: bool, f: impl FnOnce(Item<'_>) -> R) -> Option<R> {
        let (node, emptied) = match self {
            List::Packed(p) => {
                if p.is_empty() {
                    return None;
                }
                (p, false)
            }
            List::Quick(q) => {
                q.len -= 1;
                let n = if front {
                    q.nodes.front_mut()
                } else {
                    q.nodes.back_mut()
                }
                .expect("a non-empty list has nodes");
                let emptied = n.len() == 1;
                (n, emptied)
            }
        };
        let off = if front { 0 } else { last_offset(node) };
        let r = f(node.at(off).0);
        if emptied {
            if let List::Quick(q) = self {
                if front {
                    q.nodes.pop_front();
                } else {
                    q.nodes.pop_back();
                }
            }
            self.normalize();
        } else {
            node.remove(off, 1);
        }
        Some(r)
    }

    /// Pops the head or tail element as bytes.
    pub fn pop(&mut self, front: bool) -> Option<Vec<u8>> {
        self.pop_with(front, |i| i.to_vec())
    }

    /// Node and index in it of element `index` (< len).
    fn locate(&self, index: usize) -> (usize, usize) {
        match self {
            List::Packed(_) => (0, index),
            List::Quick(q) => {
                if index < q.len / 2 {
                    let mut i = index;
                    for (ni, n) in q.nodes.iter().enumerate() {
                        if i < n.len() {
                            return (ni, i);
                        }
                        i -= n.len();
                    }
                } else {
                    let mut from_end = q.len - index; // >= 1
                    for (ni, n) in q.nodes.iter().enumerate().rev() {
                        if from_end <= n.len() {
                            return (ni, n.len() - from_end);
                        }
                        from_end -= n.len();
                    }
                }
                unreachable!("index within the list")
            }
        }
    }

    fn node(&self, ni: usize) -> &Packed {
        match self {
            List::Packed(p) => p,
            List::Quick(q) => &q.nodes[ni],
        }
    }

    fn node_mut(&mut self, ni: usize) -> &mut Packed {
        match self {
            List::Packed(p) => p,
            List::Quick(q) => &mut q.nodes[ni],
        }
    }

    /// The element at `index` (0-based from the head).
    pub fn get(&self, index: usize) -> Option<Item<'_>> {
        if index >= self.len() {
            return None;
        }
        let (ni, i) = self.locate(index);
        self.node(ni).get(i)
    }

    /// The element at a Redis index (negative counts from the tail).
    pub fn get_signed(&self, index: i64) -> Option<Item<'_>> {
        let len = self.len() as i64;
        let i = if index < 0 { len + index } else { index };
        if i < 0 || i >= len {
            return None;
        }
        self.get(i as usize)
    }

    /// Replaces the element at `index` (< len).
    pub fn set(&mut self, index: usize, v: &[u8], lim: &Limits) {
        let (ni, i) = self.locate(index);
        let node = self.node_mut(ni);
        let off = node.offset_of(i);
        let old_len = node.at(off).1 - off;
        if !lim.is_large(v)
            && (node.len() == 1 || node.bytes() - old_len + v.len() + 2 <= lim.max_bytes)
            && !lim.is_plain(node)
        {
            node.replace(off, Input::Bytes(v));
            return;
        }
        self.remove_range(index, 1);
        self.insert(index, v, lim);
    }

    /// Inserts `v` before element `index` (`index == len` appends).
    pub fn insert(&mut self, index: usize, v: &[u8], lim: &Limits) {
        let len = self.len();
        if index == 0 || index >= len {
            self.push(v, index == 0 && len > 0, lim);
            return;
        }
        if let List::Packed(p) = self {
            if lim.accepts(p, v) {
                let off = p.offset_of(index);
                p.insert(off, &[Input::Bytes(v)]);
                return;
            }
        }
        let (ni, i) = self.locate(index);
        let q = self.quick_mut();
        q.len += 1;
        let node = &mut q.nodes[ni];
        if lim.accepts(node, v) {
            let off = node.offset_of(i);
            node.insert(off, &[Input::Bytes(v)]);
            return;
        }
        if i == 0 {
            if ni > 0 && lim.accepts(&q.nodes[ni - 1], v) {
                q.nodes[ni - 1].push(Input::Bytes(v));
            } else {
                let mut n = Packed::new();
                n.push(Input::Bytes(v));
                q.nodes.insert(ni, n);
            }
            return;
        }
        // Split the node at i and put v between the halves (or at the end of the
        // first half when it takes it).
        let tail = split_off(node, i);
        if lim.accepts(node, v) {
            node.push(Input::Bytes(v));
            q.nodes.insert(ni + 1, tail);
        } else {
            let mut n = Packed::new();
            n.push(Input::Bytes(v));
            q.nodes.insert(ni + 1, n);
            q.nodes.insert(ni + 2, tail);
        }
    }

    /// Removes `n` elements from `start` on (the range must be within the list).
    pub fn remove_range(&mut self, start: usize, n: usize) {
        if n == 0 {
            return;
        }
        match self {
            List::Packed(p) => {
                let off = p.offset_of(start);
                p.remove(off, n);
            }
            List::Quick(q) => {
                q.len -= n;
                let mut skip = start;
                let mut left = n;
                let mut ni = 0;
                while left > 0 {
                    let nl = q.nodes[ni].len();
                    if skip >= nl {
                        skip -= nl;
                        ni += 1;
                        continue;
                    }
                    let take = (nl - skip).min(left);
                    if take == nl {
                        q.nodes.remove(ni);
                    } else {
                        let node = &mut q.nodes[ni];
                        let off = node.offset_of(skip);
                        node.remove(off, take);
                        ni += 1;
                    }
                    left -= take;
                    skip = 0;
                }
                self.normalize();
            }
        }
    }

    /// Removes the elements at the given indexes (in any order; each once), in
    /// one pass over the nodes.
    pub fn remove_indexes(&mut self, idx: &mut [usize]) {
        if idx.is_empty() {
            return;
        }
        idx.sort_unstable();
        match self {
            List::Packed(p) => remove_in_node(p, idx, 0),
            List::Quick(q) => {
                let mut base = 0;
                let mut k = 0;
                for node in q.nodes.iter_mut() {
                    let n = node.len();
                    let start = k;
                    while k < idx.len() && idx[k] < base + n {
                        k += 1;
                    }
                    if k > start {
                        remove_in_node(node, &idx[start..k], base);
                    }
                    base += n;
                }
                q.len -= idx.len();
                q.nodes.retain(|n| !n.is_empty());
                self.normalize();
            }
        }
    }

    /// Removes `ltrim` elements from the head and `rtrim` from the tail.
    pub fn trim(&mut self, ltrim: usize, rtrim: usize) {
        let len = self.len();
        if rtrim > 0 {
            self.remove_range(len - rtrim, rtrim);
        }
        if ltrim > 0 {
            self.remove_range(0, ltrim);
        }
    }

    /// Checks the structure's invariants (tests).
    #[cfg(test)]
    fn check(&self, lim: &Limits) {
        if let List::Quick(q) = self {
            assert!(q.nodes.len() >= 2);
            assert_eq!(q.len, q.nodes.iter().map(|n| n.len()).sum::<usize>());
            for n in &q.nodes {
                assert!(!n.is_empty());
                assert!(lim.fits(n), "node over limits: {} {}", n.len(), n.bytes());
            }
        }
    }
}

/// Removes the entries `idx[i] - base` (ascending, within the node) of `node`.
fn remove_in_node(node: &mut Packed, idx: &[usize], base: usize) {
    let mut offs = Vec::with_capacity(idx.len());
    let mut j = 0;
    for (i, (off, _)) in node.iter_offsets().enumerate() {
        if j == idx.len() {
            break;
        }
        if idx[j] - base == i {
            offs.push(off);
            j += 1;
        }
    }
    for &off in offs.iter().rev() {
        node.remove(off, 1);
    }
}

/// Elements from the tail to the head.
pub struct RevIter<'a> {
    nodes: Box<dyn Iterator<Item = &'a Packed> + 'a>,
    buf: Vec<Item<'a>>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        loop {
            if let Some(i) = self.buf.pop() {
                return Some(i);
            }
            let n = self.nodes.next()?;
            self.buf.extend(n.iter());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contents(l: &List) -> Vec<Vec<u8>> {
        l.iter().map(|i| i.to_vec()).collect()
    }

    /// Random operations against a `VecDeque` model, under several limits.
    #[test]
    fn matches_a_model() {
        for (fill, thr) in [
            (-2i64, 1u64 << 30),
            (1, 1 << 30),
            (5, 1 << 30),
            (-1, 10),
            (4, 1),
        ] {
            let lim = Limits::new(fill, thr);
            let mut rng = fastrand::Rng::with_seed(fill as u64 ^ thr);
            let mut l = List::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..4000 {
                let v: Vec<u8> = match rng.u8(..4) {
                    0 => rng.i64(-1000..1000).to_string().into_bytes(),
                    1 => vec![b'a' + rng.u8(..26); rng.usize(0..20)],
                    2 => vec![b'x'; rng.usize(0..300)],
                    _ => rng.u64(..).to_string().into_bytes(),
                };
                match rng.u8(..11) {
                    0 | 1 => {
                        l.push(&v, true, &lim);
                        m.push_front(v);
                    }
                    2 | 3 => {
                        l.push(&v, false, &lim);
                        m.push_back(v);
                    }
                    4 => assert_eq!(l.pop(true), m.pop_front()),
                    5 => assert_eq!(l.pop(false), m.pop_back()),
                    6 => {
                        let i = rng.usize(0..=m.len());
                        l.insert(i, &v, &lim);
                        m.insert(i, v);
                    }
                    7 if !m.is_empty() => {
                        let i = rng.usize(0..m.len());
                        l.set(i, &v, &lim);
                        m[i] = v;
                    }
                    10 if !m.is_empty() => {
                        let mut idx: Vec<usize> =
                            (0..m.len()).filter(|_| rng.u8(..4) == 0).collect();
                        for &i in idx.iter().rev() {
                            m.remove(i);
                        }
                        rng.shuffle(&mut idx);
                        l.remove_indexes(&mut idx);
                    }
                    8 if !m.is_empty() => {
                        let s = rng.usize(0..m.len());
                        let n = rng.usize(0..=(m.len() - s).min(50));
                        l.remove_range(s, n);
                        m.drain(s..s + n);
                    }
                    _ if !m.is_empty() => {
                        let i = rng.usize(0..m.len());
                        assert_eq!(l.get(i).map(|x| x.to_vec()).as_ref(), m.get(i));
                        let from: Vec<Vec<u8>> = l.iter_from(i).map(|x| x.to_vec()).collect();
                        assert_eq!(from, m.iter().skip(i).cloned().collect::<Vec<_>>());
                    }
                    _ => {}
                }
                assert_eq!(l.len(), m.len(), "step {step}");
                l.check(&lim);
                if step % 97 == 0 {
                    assert_eq!(contents(&l), m.iter().cloned().collect::<Vec<_>>());
                    let rev: Vec<Vec<u8>> = l.iter_rev().map(|x| x.to_vec()).collect();
                    assert_eq!(rev, m.iter().rev().cloned().collect::<Vec<_>>());
                }
            }
        }
    }

    #[test]
    fn small_lists_stay_one_node() {
        let lim = Limits::default();
        let mut l = List::new();
        for i in 0..10 {
            l.push(format!("value{i:05}").as_bytes(), false, &lim);
        }
        assert!(matches!(l, List::Packed(_)));
        assert_eq!(l.encoding(), "quicklist");
        for i in 0..100 {
            l.push(format!("value{i:05}").as_bytes(), false, &lim);
        }
        assert!(matches!(l, List::Quick(_)));
        l.trim(0, 105);
        assert!(matches!(l, List::Packed(_)));
        assert_eq!(l.len(), 5);
        let mut idx = vec![4, 0, 2];
        l.remove_indexes(&mut idx);
        assert_eq!(
            contents(&l),
            vec![b"value00001".to_vec(), b"value00003".to_vec()]
        );
    }

    #[test]
    fn integers_come_back_as_written() {
        let lim = Limits::default();
        let mut l = List::new();
        for v in [
            "0",
            "-1",
            "127",
            "128",
            "-32768",
            "9223372036854775807",
            "007",
            "+1",
            "1.5",
        ] {
            l.push(v.as_bytes(), false, &lim);
        }
        let got: Vec<String> = l
            .iter()
            .map(|i| String::from_utf8(i.to_vec()).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                "0",
                "-1",
                "127",
                "128",
                "-32768",
                "9223372036854775807",
                "007",
                "+1",
                "1.5"
            ]
        );
    }
}
