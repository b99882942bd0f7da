//! Streams: entries packed in listpack nodes keyed by their master ID (the layout
//! Redis 7.0 uses, so node sizes, approximate trimming and RDB nodes match it), and
//! consumer groups with their pending entries lists.
//!
//! A node is one listpack:
//! `count, deleted, num-fields, field_1..field_N, 0` (the master entry), then per
//! entry `flags, ms-diff, seq-diff, [num-fields, field, value, ...] | value..., lp-count`
//! where the field names are left out (flag `SAMEFIELDS`) when they equal the master
//! entry's, and IDs are deltas from the node's master ID. Deleted entries stay in
//! place with the `DELETED` flag until their whole node goes.

use redis_formats::ReplyBuf;
use redis_rdb::encodings::listpack::{self, Elem};
pub use redis_rdb::value::StreamId;
use std::collections::{BTreeMap, BTreeSet};

/// Entry flag: deleted (a tombstone).
pub const FLAG_DELETED: i64 = 1;
/// Entry flag: the field names are the master entry's.
pub const FLAG_SAMEFIELDS: i64 = 2;
/// Largest listpack of a node (Redis's STREAM_LISTPACK_MAX_SIZE).
pub const LP_MAX_SIZE: usize = 1 << 30;
/// Bytes preallocated for a new tail node (STREAM_LISTPACK_MAX_PRE_ALLOCATE).
const PREALLOC: usize = 4096;
/// Value of `entries_read` when unknown (SCG_INVALID_ENTRIES_READ).
pub const INVALID_ENTRIES_READ: i64 = -1;

const HDR: usize = 6;
const EOF: u8 = 0xff;

/// The smallest ID.
pub const MIN_ID: StreamId = StreamId { ms: 0, seq: 0 };
/// The largest ID.
pub const MAX_ID: StreamId = StreamId {
    ms: u64::MAX,
    seq: u64::MAX,
};

/// The next ID; `None` past the largest (Redis's streamIncrID error).
pub fn incr_id(id: StreamId) -> Option<StreamId> {
    if id.seq == u64::MAX {
        if id.ms == u64::MAX {
            None
        } else {
            Some(StreamId {
                ms: id.ms + 1,
                seq: 0,
            })
        }
    } else {
        Some(StreamId {
            ms: id.ms,
            seq: id.seq + 1,
        })
    }
}

/// The previous ID; `None` before 0-0.
pub fn decr_id(id: StreamId) -> Option<StreamId> {
    if id.seq == 0 {
        if id.ms == 0 {
            None
        } else {
            Some(StreamId {
                ms: id.ms - 1,
                seq: u64::MAX,
            })
        }
    } else {
        Some(StreamId {
            ms: id.ms,
            seq: id.seq - 1,
        })
    }
}

/// Writes `id` as `ms-seq` into `buf`, returning the used part.
pub fn fmt_id(id: StreamId, buf: &mut [u8; 42]) -> &[u8] {
    let mut n = 0;
    for part in [id.ms, id.seq] {
        if n > 0 {
            buf[n] = b'-';
            n += 1;
        }
        let mut tmp = [0u8; 20];
        let mut v = part;
        let mut k = 20;
        loop {
            k -= 1;
            tmp[k] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        buf[n..n + 20 - k].copy_from_slice(&tmp[k..]);
        n += 20 - k;
    }
    &buf[..n]
}

/// Writes `id` as a bulk string.
pub fn reply_id(out: &mut ReplyBuf, id: StreamId) {
    let mut b = [0u8; 42];
    out.bulk(fmt_id(id, &mut b));
}

/// Writes a listpack element as a bulk string.
#[inline]
pub fn reply_elem(out: &mut ReplyBuf, e: Elem<'_>) {
    match e {
        Elem::Str(s) => out.bulk(s),
        Elem::Int(n) => out.bulk_int(n),
    }
}

/// Calls `f` with the element's bytes.
#[inline]
pub fn with_elem<R>(e: Elem<'_>, f: impl FnOnce(&[u8]) -> R) -> R {
    match e {
        Elem::Str(s) => f(s),
        Elem::Int(n) => f(redis_formats::num::format_i64(n, &mut [0u8; 20])),
    }
}

fn elem_eq(e: Elem<'_>, b: &[u8]) -> bool {
    with_elem(e, |x| x == b)
}

// ---- listpack primitives -------------------------------------------------

fn backlen(buf: &mut Vec<u8>, l: usize) {
    let n = listpack::backlen_size(l as u64);
    for k in 0..n {
        let shift = 7 * (n - 1 - k);
        let mut byte = ((l >> shift) & 127) as u8;
        if k > 0 {
            byte |= 128;
        }
        buf.push(byte);
    }
}

/// Appends the encoding of integer `v` (with its back-length) to `buf`.
pub fn enc_int(buf: &mut Vec<u8>, v: i64) {
    let start = buf.len();
    if (0..=127).contains(&v) {
        buf.push(v as u8);
    } else if (-4096..=4095).contains(&v) {
        let u = if v < 0 { (1i64 << 13) + v } else { v } as u64;
        buf.push(0xc0 | ((u >> 8) as u8 & 0x1f));
        buf.push(u as u8);
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
        buf.push(0xf1);
        buf.extend_from_slice(&(v as i16).to_le_bytes());
    } else if (-(1i64 << 23)..(1i64 << 23)).contains(&v) {
        let u = if v < 0 { (1i64 << 24) + v } else { v } as u32;
        buf.push(0xf2);
        buf.extend_from_slice(&u.to_le_bytes()[..3]);
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
        buf.push(0xf3);
        buf.extend_from_slice(&(v as i32).to_le_bytes());
    } else {
        buf.push(0xf4);
        buf.extend_from_slice(&v.to_le_bytes());
    }
    let l = buf.len() - start;
    backlen(buf, l);
}

/// Appends the encoding of a string (an integer's canonical form is stored as the
/// integer, as lpAppend does).
pub fn enc_str(buf: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 20 {
        if let Some(v) = redis_rdb::encodings::parse_strict_i64(s) {
            return enc_int(buf, v);
        }
    }
    let start = buf.len();
    let n = s.len();
    if n < 64 {
        buf.push(0x80 | n as u8);
    } else if n < 4096 {
        buf.push(0xe0 | (n >> 8) as u8);
        buf.push(n as u8);
    } else {
        buf.push(0xf0);
        buf.extend_from_slice(&(n as u32).to_le_bytes());
    }
    buf.extend_from_slice(s);
    let l = buf.len() - start;
    backlen(buf, l);
}

fn lp_new(cap: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(cap.max(HDR + 1));
    v.extend_from_slice(&[7, 0, 0, 0, 0, 0, EOF]);
    v
}

fn lp_set_total(lp: &mut [u8]) {
    let n = lp.len() as u32;
    lp[..4].copy_from_slice(&n.to_le_bytes());
}

/// Ends an append of `n` elements written in place of the terminator (popped
/// first): the terminator, the total bytes and the element count.
fn lp_close(lp: &mut Vec<u8>, n: u32) {
    lp.push(EOF);
    lp_set_total(lp);
    let cur = u16::from_le_bytes([lp[4], lp[5]]) as u32;
    if cur != u16::MAX as u32 {
        let new = (cur + n).min(u16::MAX as u32) as u16;
        lp[4..6].copy_from_slice(&new.to_le_bytes());
    }
}

#[inline]
fn lp_get(lp: &[u8], p: usize) -> (Elem<'_>, usize) {
    listpack::get(lp, p)
}

#[inline]
fn lp_int(lp: &[u8], p: usize) -> (i64, usize) {
    let (e, n) = listpack::get(lp, p);
    (e.as_int().unwrap_or(0), n)
}

#[inline]
fn lp_skip(lp: &[u8], p: usize) -> usize {
    listpack::get(lp, p).1
}

/// Sets the DELETED flag of entry `e`; returns the change in bytes (0 unless the
/// flags element was not the usual one-byte integer).
fn mark_deleted(lp: &mut Vec<u8>, e: &RawEntry) -> isize {
    let flags = e.flags | FLAG_DELETED;
    if lp[e.flags_off] < 0x80 && (0..0x80).contains(&flags) {
        lp[e.flags_off] = flags as u8;
        0
    } else {
        let before = lp.len();
        lp_replace_int(lp, e.flags_off, flags);
        lp.len() as isize - before as isize
    }
}

/// Replaces the integer element at `p`.
fn lp_replace_int(lp: &mut Vec<u8>, p: usize, v: i64) {
    let next = lp_skip(lp, p);
    let mut tmp = Vec::with_capacity(11);
    enc_int(&mut tmp, v);
    if tmp.len() == next - p {
        lp[p..next].copy_from_slice(&tmp);
    } else {
        lp.splice(p..next, tmp);
        lp_set_total(lp);
    }
}

// ---- nodes ---------------------------------------------------------------

/// The master entry of a node.
#[derive(Debug, Clone, Copy)]
pub struct NodeHead {
    /// Live entries.
    pub count: i64,
    /// Deleted entries still in the node.
    pub deleted: i64,
    /// Number of master fields.
    pub nfields: usize,
    /// Offset of the first master field.
    pub fields_off: usize,
    /// Offset of the first entry.
    pub first: usize,
}

/// Reads a node's master entry.
pub fn node_head(lp: &[u8]) -> NodeHead {
    let (count, p) = lp_int(lp, HDR);
    let (deleted, p) = lp_int(lp, p);
    let (nf, p) = lp_int(lp, p);
    let fields_off = p;
    let mut q = p;
    for _ in 0..nf {
        q = lp_skip(lp, q);
    }
    q = lp_skip(lp, q); // master terminator
    NodeHead {
        count,
        deleted,
        nfields: nf.max(0) as usize,
        fields_off,
        first: q,
    }
}

/// One entry of a node, located.
#[derive(Debug, Clone, Copy)]
pub struct RawEntry {
    /// Its ID.
    pub id: StreamId,
    /// Its flags.
    pub flags: i64,
    /// Offset of the flags element.
    pub flags_off: usize,
    /// Number of field-value pairs.
    pub nfields: usize,
    /// Offset of the first field (or value with SAMEFIELDS).
    pub data: usize,
    /// Offset just past the entry.
    pub end: usize,
}

impl RawEntry {
    /// True for a tombstone.
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
}

/// Reads the entry at `p`.
pub fn read_entry(lp: &[u8], head: &NodeHead, master: StreamId, p: usize) -> RawEntry {
    let (flags, q) = lp_int(lp, p);
    let (msd, q) = lp_int(lp, q);
    let (seqd, mut q) = lp_int(lp, q);
    let id = StreamId {
        ms: master.ms.wrapping_add(msd as u64),
        seq: master.seq.wrapping_add(seqd as u64),
    };
    let nfields;
    let data;
    if flags & FLAG_SAMEFIELDS != 0 {
        nfields = head.nfields;
        data = q;
        for _ in 0..nfields {
            q = lp_skip(lp, q);
        }
    } else {
        let (n, q2) = lp_int(lp, q);
        nfields = n.max(0) as usize;
        data = q2;
        q = q2;
        for _ in 0..nfields * 2 {
            q = lp_skip(lp, q);
        }
    }
    let end = lp_skip(lp, q); // lp-count
    RawEntry {
        id,
        flags,
        flags_off: p,
        nfields,
        data,
        end,
    }
}

/// Calls `f` with each field and value of `e`.
pub fn for_each_field<'a>(
    lp: &'a [u8],
    head: &NodeHead,
    e: &RawEntry,
    mut f: impl FnMut(Elem<'a>, Elem<'a>),
) {
    let mut p = e.data;
    if e.flags & FLAG_SAMEFIELDS != 0 {
        let mut m = head.fields_off;
        for _ in 0..e.nfields {
            let (fe, mn) = lp_get(lp, m);
            let (ve, pn) = lp_get(lp, p);
            f(fe, ve);
            m = mn;
            p = pn;
        }
    } else {
        for _ in 0..e.nfields {
            let (fe, p1) = lp_get(lp, p);
            let (ve, p2) = lp_get(lp, p1);
            f(fe, ve);
            p = p2;
        }
    }
}

/// Writes an entry as `[id, [field, value, ...]]`.
pub fn reply_entry(out: &mut ReplyBuf, lp: &[u8], head: &NodeHead, e: &RawEntry) {
    out.array(2);
    reply_id(out, e.id);
    out.array(e.nfields * 2);
    for_each_field(lp, head, e, |f, v| {
        reply_elem(out, f);
        reply_elem(out, v);
    });
}

/// Offsets of every entry of a node (tombstones included), in order.
fn entry_offsets(lp: &[u8], head: &NodeHead, master: StreamId) -> Vec<RawEntry> {
    let total = (head.count + head.deleted).max(0) as usize;
    let mut v = Vec::with_capacity(total);
    let mut p = head.first;
    while p < lp.len() && lp[p] != EOF {
        let e = read_entry(lp, head, master, p);
        p = e.end;
        v.push(e);
    }
    v
}

// ---- the stream ------------------------------------------------------------

/// A pending entry of a group.
#[derive(Debug, Clone)]
pub struct Nack {
    /// Last delivery (unix ms).
    pub delivery_time: i64,
    /// Deliveries.
    pub delivery_count: u64,
    /// The consumer that owns it.
    pub consumer: Vec<u8>,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default)]
pub struct Consumer {
    /// Last interaction (unix ms).
    pub seen_time: i64,
    /// Its pending entries.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Logical read counter, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    /// Pending entries of all consumers.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    /// A new group.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Looks a consumer up, creating it when missing; true if created.
    pub fn consumer_or_create(&mut self, name: &[u8], now_ms: i64) -> bool {
        if let Some(c) = self.consumers.get_mut(name) {
            c.seen_time = now_ms;
            false
        } else {
            self.consumers.insert(
                name.to_vec(),
                Consumer {
                    seen_time: now_ms,
                    pel: BTreeSet::new(),
                },
            );
            true
        }
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Moves (or adds) a pending entry to `consumer` with a fresh delivery.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) {
        if let Some(n) = self.pel.get_mut(&id) {
            if n.consumer != consumer {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                n.consumer = consumer.to_vec();
            }
            n.delivery_time = now_ms;
            n.delivery_count = 1;
        } else {
            self.pel.insert(
                id,
                Nack {
                    delivery_time: now_ms,
                    delivery_count: 1,
                    consumer: consumer.to_vec(),
                },
            );
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// Why an append failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the top item (EDOM).
    IdTooSmall,
    /// The elements are too large (ERANGE).
    TooLarge,
}

/// A stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Vec<u8>>,
    /// Live entries.
    pub length: u64,
    /// Largest ID ever added (or set).
    pub last_id: StreamId,
    /// First live entry's ID (0-0 when empty).
    pub first_id: StreamId,
    /// Largest deleted ID.
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// The trimming part of XADD / XTRIM.
#[derive(Debug, Clone, Copy)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries below this ID.
    MinId(StreamId),
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes (master ID, listpack), for RDB.
    pub fn nodes(&self) -> impl Iterator<Item = (&StreamId, &Vec<u8>)> {
        self.nodes.iter()
    }

    /// Adds a node read from RDB (validated by the reader).
    pub fn push_node(&mut self, master: StreamId, lp: Vec<u8>) {
        self.nodes.insert(master, lp);
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        let mut n = std::mem::size_of::<Stream>();
        for lp in self.nodes.values() {
            n += lp.capacity() + 48;
        }
        for (name, g) in &self.groups {
            n += name.len() + 96 + g.pel.len() * 80;
            for (cn, c) in &g.consumers {
                n += cn.len() + 64 + c.pel.len() * 40;
            }
        }
        n
    }

    /// Appends an entry (`fv`: field, value, field, value...). `use_id`: an explicit
    /// ID and whether its sequence was given. `now_ms` makes automatic IDs.
    pub fn append(
        &mut self,
        fv: &[&[u8]],
        use_id: Option<(StreamId, bool)>,
        now_ms: i64,
        max_bytes: usize,
        max_entries: i64,
    ) -> Result<StreamId, AppendError> {
        let last = self.last_id;
        let id = match use_id {
            Some((id, true)) => id,
            Some((id, false)) => {
                if last.ms == id.ms {
                    if last.seq == u64::MAX {
                        return Err(AppendError::IdTooSmall);
                    }
                    StreamId {
                        ms: last.ms,
                        seq: last.seq + 1,
                    }
                } else {
                    id
                }
            }
            None => {
                let ms = now_ms.max(0) as u64;
                if ms > last.ms {
                    StreamId { ms, seq: 0 }
                } else {
                    incr_id(last).unwrap_or(MIN_ID)
                }
            }
        };
        if id <= last {
            return Err(AppendError::IdTooSmall);
        }
        let totelelen: usize = fv.iter().map(|a| a.len()).sum();
        if totelelen > LP_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let numfields = fv.len() / 2;
        let max_bytes = if max_bytes == 0 || max_bytes > LP_MAX_SIZE {
            LP_MAX_SIZE
        } else {
            max_bytes
        };
        // The tail node, unless it is full.
        let mut tail = self.nodes.iter_mut().next_back().map(|(k, v)| (*k, v));
        if let Some((_, lp)) = &mut tail {
            let full = lp.len() + totelelen >= max_bytes || {
                max_entries > 0 && {
                    let (c, p) = lp_int(lp, HDR);
                    let (d, _) = lp_int(lp, p);
                    c + d >= max_entries
                }
            };
            if full {
                lp.shrink_to_fit();
                tail = None;
            }
        }
        let mut flags = 0;
        let master;
        let mut appended = 0u32;
        let lp: &mut Vec<u8> = match tail {
            None => {
                master = id;
                let prealloc = if max_bytes < PREALLOC {
                    max_bytes
                } else {
                    PREALLOC
                };
                let lp = self.nodes.entry(id).or_insert_with(|| lp_new(prealloc));
                lp.pop();
                enc_int(lp, 1);
                enc_int(lp, 0);
                enc_int(lp, numfields as i64);
                for k in 0..numfields {
                    enc_str(lp, fv[k * 2]);
                }
                enc_int(lp, 0);
                lp_close(lp, 4 + numfields as u32);
                flags |= FLAG_SAMEFIELDS;
                lp
            }
            Some((m, lp)) => {
                master = m;
                let (count, _) = lp_int(lp, HDR);
                lp_replace_int(lp, HDR, count.wrapping_add(1));
                let head = node_head(lp);
                if head.nfields == numfields {
                    let mut p = head.fields_off;
                    let mut same = true;
                    for k in 0..numfields {
                        let (e, n) = lp_get(lp, p);
                        if !elem_eq(e, fv[k * 2]) {
                            same = false;
                            break;
                        }
                        p = n;
                    }
                    if same {
                        flags |= FLAG_SAMEFIELDS;
                    }
                }
                lp
            }
        };
        lp.reserve(totelelen + 16 + fv.len() * 2);
        lp.pop();
        enc_int(lp, flags);
        enc_int(lp, id.ms.wrapping_sub(master.ms) as i64);
        enc_int(lp, id.seq.wrapping_sub(master.seq) as i64);
        appended += 3;
        if flags & FLAG_SAMEFIELDS != 0 {
            for k in 0..numfields {
                enc_str(lp, fv[k * 2 + 1]);
            }
            appended += numfields as u32;
        } else {
            enc_int(lp, numfields as i64);
            for a in fv {
                enc_str(lp, a);
            }
            appended += 1 + fv.len() as u32;
        }
        let lp_count = if flags & FLAG_SAMEFIELDS != 0 {
            numfields as i64 + 3
        } else {
            numfields as i64 * 2 + 4
        };
        enc_int(lp, lp_count);
        appended += 1;
        lp_close(lp, appended);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Calls `f` for each live entry with `start <= id <= end`, in order (reverse
    /// with `rev`), until it returns false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(&[u8], &NodeHead, &RawEntry) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            // The node holding `start` is the last whose master is <= start.
            let first_key = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(MIN_ID);
            for (master, lp) in self.nodes.range(first_key..) {
                if *master > end {
                    return;
                }
                let head = node_head(lp);
                let mut p = head.first;
                while p < lp.len() && lp[p] != EOF {
                    let e = read_entry(lp, &head, *master, p);
                    p = e.end;
                    if e.id < start || e.deleted() {
                        continue;
                    }
                    if e.id > end {
                        return;
                    }
                    if !f(lp, &head, &e) {
                        return;
                    }
                }
            }
        } else {
            for (master, lp) in self.nodes.range(..=end).rev() {
                let head = node_head(lp);
                let entries = entry_offsets(lp, &head, *master);
                for e in entries.iter().rev() {
                    if e.id > end || e.deleted() {
                        continue;
                    }
                    if e.id < start {
                        return;
                    }
                    if !f(lp, &head, e) {
                        return;
                    }
                }
            }
        }
    }

    /// The first (or last) live entry's ID.
    pub fn edge_id(&self, first: bool) -> Option<StreamId> {
        let mut r = None;
        self.range(MIN_ID, MAX_ID, !first, |_, _, e| {
            r = Some(e.id);
            false
        });
        r
    }

    /// True if a live entry has this ID.
    pub fn exists(&self, id: StreamId) -> bool {
        let mut r = false;
        self.range(id, id, false, |_, _, _| {
            r = true;
            false
        });
        r
    }

    /// Deletes one entry; true if it was there. Does not touch `first_id` or
    /// `max_deleted_id` (callers do, as XDEL does).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, _)) = self.nodes.range(..=id).next_back() else {
            return false;
        };
        let lp = self.nodes.get_mut(&master).expect("node");
        let head = node_head(lp);
        let mut p = head.first;
        let mut found = None;
        while p < lp.len() && lp[p] != EOF {
            let e = read_entry(lp, &head, master, p);
            p = e.end;
            if e.id == id {
                if !e.deleted() {
                    found = Some(e);
                }
                break;
            }
            if e.id > id {
                break;
            }
        }
        let Some(e) = found else {
            return false;
        };
        if head.count == 1 {
            self.nodes.remove(&master);
        } else {
            mark_deleted(lp, &e);
            lp_replace_int(lp, HDR, head.count.wrapping_sub(1));
            let p = lp_skip(lp, HDR);
            lp_replace_int(lp, p, head.deleted.wrapping_add(1));
        }
        self.length = self.length.saturating_sub(1);
        true
    }

    /// Trims; returns the number of entries removed. `limit` 0: no limit.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: i64) -> i64 {
        let mut deleted = 0i64;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some((&master, lp)) = self.nodes.iter_mut().next() else {
                break;
            };
            let head = node_head(lp);
            // Counts come from the node (validated, but possibly inconsistent
            // after a crafted RESTORE): arithmetic below saturates.
            let entries = head.count.max(0);
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match how {
                Trim::MaxLen(max) => self.length.saturating_sub(entries as u64) >= max,
                Trim::MinId(min) => {
                    let offs = entry_offsets(lp, &head, master);
                    let last = offs.last().map(|e| e.id).unwrap_or(master);
                    last < min
                }
            };
            if remove_node {
                self.nodes.remove(&master);
                self.length = self.length.saturating_sub(entries as u64);
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let mut from_lp = 0i64;
            let mut p = head.first;
            while p < lp.len() && lp[p] != EOF {
                let e = read_entry(lp, &head, master, p);
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                p = e.end;
                if !e.deleted() {
                    p = (p as isize + mark_deleted(lp, &e)) as usize;
                    from_lp += 1;
                    self.length = self.length.saturating_sub(1);
                }
            }
            deleted += from_lp;
            lp_replace_int(lp, HDR, entries.wrapping_sub(from_lp));
            let p = lp_skip(lp, HDR);
            lp_replace_int(lp, p, head.deleted.wrapping_add(from_lp));
            break;
        }
        if self.length == 0 {
            self.first_id = MIN_ID;
        } else {
            self.first_id = self.edge_id(true).unwrap_or(MIN_ID);
        }
        deleted
    }

    /// Redis's streamRangeHasTombstones.
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_id == MIN_ID {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        let s = start.unwrap_or(MIN_ID);
        let e = end.unwrap_or(MAX_ID);
        s <= self.max_deleted_id && self.max_deleted_id <= e
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        if id == self.last_id {
            return self.entries_added as i64;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_id == MIN_ID || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return self.entries_added.wrapping_sub(self.length) as i64;
            } else if id == self.first_id {
                return self.entries_added.wrapping_sub(self.length).wrapping_add(1) as i64;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag, or `None` when it cannot be known.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(Some(g.last_id), None)
        {
            return Some((self.entries_added as i64).wrapping_sub(g.entries_read));
        }
        let er = self.estimate_distance(g.last_id);
        if er != INVALID_ENTRIES_READ {
            Some((self.entries_added as i64).wrapping_sub(er))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

    fn all(s: &Stream) -> Vec<(StreamId, Pairs)> {
        let mut v = Vec::new();
        s.range(MIN_ID, MAX_ID, false, |lp, h, e| {
            let mut f = Vec::new();
            for_each_field(lp, h, e, |a, b| {
                f.push((with_elem(a, |x| x.to_vec()), with_elem(b, |x| x.to_vec())))
            });
            v.push((e.id, f));
            true
        });
        v
    }

    #[test]
    fn append_range_delete_trim() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            let v = format!("v{i}");
            let fv: Vec<&[u8]> = if i % 3 == 0 {
                vec![b"other", v.as_bytes()]
            } else {
                vec![b"f", v.as_bytes(), b"n", b"12345"]
            };
            s.append(&fv, Some((id(i, 0), true)), 0, 4096, 100).unwrap();
        }
        assert_eq!(s.length, 250);
        assert_eq!(s.node_count(), 3);
        let e = all(&s);
        assert_eq!(e.len(), 250);
        assert_eq!(e[2].1, vec![(b"other".to_vec(), b"v3".to_vec())]);
        assert_eq!(e[3].1[1], (b"n".to_vec(), b"12345".to_vec()));
        let mut rev = Vec::new();
        s.range(id(10, 0), id(20, 0), true, |_, _, e| {
            rev.push(e.id.ms);
            true
        });
        assert_eq!(rev, (10..=20).rev().collect::<Vec<_>>());
        assert!(s.delete(id(5, 0)));
        assert!(!s.delete(id(5, 0)));
        assert!(!s.exists(id(5, 0)));
        assert_eq!(s.length, 249);
        assert_eq!(
            s.append(&[b"a", b"b"], Some((id(3, 0), true)), 0, 4096, 100),
            Err(AppendError::IdTooSmall)
        );
        assert_eq!(s.trim(Trim::MaxLen(200), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(150), true, 0), 99);
        assert_eq!(s.length, 150);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.first_id, id(131, 0));
        assert_eq!(s.trim(Trim::MinId(id(140, 0)), false, 0), 9);
        assert_eq!(s.edge_id(true), Some(id(140, 0)));
        assert_eq!(s.edge_id(false), Some(id(250, 0)));
        for lp in s.nodes.values() {
            assert!(listpack::validate(lp, true));
        }
    }

    #[test]
    fn ids_format() {
        let mut b = [0u8; 42];
        assert_eq!(fmt_id(id(0, 0), &mut b), b"0-0");
        assert_eq!(
            fmt_id(MAX_ID, &mut b),
            b"18446744073709551615-18446744073709551615"
        );
        assert_eq!(incr_id(id(1, u64::MAX)), Some(id(2, 0)));
        assert_eq!(decr_id(id(2, 0)), Some(id(1, u64::MAX)));
        assert_eq!(incr_id(MAX_ID), None);
    }

    /// Listpacks the RDB reader accepts (structurally valid, counts possibly
    /// inconsistent) never make the stream code panic.
    #[test]
    fn mutated_nodes_do_not_panic() {
        let mut base = Stream::new();
        for i in 1..=40u64 {
            let v = format!("{}", i * 37);
            let fv: Vec<&[u8]> = if i % 4 == 0 {
                vec![b"x", v.as_bytes(), b"y", b"long-ish value"]
            } else {
                vec![b"f", v.as_bytes()]
            };
            base.append(&fv, Some((id(i, i % 3), true)), 0, 4096, 16)
                .unwrap();
        }
        base.delete(id(3, 0));
        let nodes: Vec<(StreamId, Vec<u8>)> = base.nodes().map(|(k, v)| (*k, v.clone())).collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut accepted = 0;
        for _ in 0..20000 {
            let mut s = Stream::new();
            let mut ok = true;
            for (k, lp) in &nodes {
                let mut lp = lp.clone();
                if rnd() % 2 == 0 {
                    for _ in 0..1 + rnd() % 3 {
                        let at = 6 + (rnd() as usize) % (lp.len() - 7);
                        lp[at] = rnd() as u8;
                    }
                }
                if !redis_rdb::reader::validate_stream_listpack(&lp) {
                    ok = false;
                    break;
                }
                s.push_node(*k, lp);
            }
            if !ok {
                continue;
            }
            accepted += 1;
            s.length = 39;
            s.last_id = id(40, 1);
            let mut n = 0;
            s.range(MIN_ID, MAX_ID, false, |lp, h, e| {
                for_each_field(lp, h, e, |_, _| n += 1);
                true
            });
            s.range(MIN_ID, MAX_ID, true, |_, _, _| true);
            for i in (1..45u64).step_by(3) {
                s.delete(id(i, i % 3));
            }
            let _ = s.edge_id(true);
            s.trim(Trim::MinId(id(20, 0)), false, 0);
            s.trim(Trim::MaxLen(5), false, 0);
            let _ = s.append(&[b"f", b"v"], None, 1000, 4096, 16);
            s.range(MIN_ID, MAX_ID, false, |_, _, _| true);
        }
        assert!(accepted > 1000, "{accepted}");
    }
}
