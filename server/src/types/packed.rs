//! `Packed`: a compact sequence of small entries in one allocation, the layout small
//! lists, hashes, sets and sorted sets use (what Redis's listpack is to Redis).
//!
//! Why not listpack itself: OBJECT ENCODING and the thresholds are what users see, not
//! the bytes, and listpack spends a back-length byte per entry for reverse walks that
//! small collections do not need. Dropping it (and keeping the length/count header at
//! 8 bytes behind a thin pointer, so a `Value` stays 24 bytes) is what puts small
//! collections a jemalloc size class below Redis's.
//!
//! Entry encoding (first byte):
//! - `0x00..=0x7f`: the integer 0..127, nothing follows;
//! - `0x80..=0xbf`: a string of 0..63 bytes follows (length in the low 6 bits);
//! - `0xc0..=0xdf`: a string of up to 8191 bytes (13-bit length: low 5 bits, then a byte);
//! - `0xe0`/`0xe1`/`0xe2`/`0xe3`: a little-endian i16 / i24 / i32 / i64 follows;
//! - `0xe4`: a little-endian f64 follows (sorted-set scores that are not integers);
//! - `0xf0`: a string with a little-endian u32 length follows.
//!
//! A string that is the canonical form of an i64 is stored as that integer (as
//! listpack does); readers get it back as [`Item::Int`] and compare by value.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Bytes of the header: entry bytes (u32) and entry count (u32).
const HEADER: usize = 8;

/// One decoded entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item<'a> {
    /// An integer (also a string that is an integer's canonical form).
    Int(i64),
    /// A string.
    Str(&'a [u8]),
    /// A float (scores only).
    Float(f64),
}

impl Item<'_> {
    /// True if the entry, as a string, equals `b`.
    #[inline]
    pub fn eq_bytes(&self, b: &[u8]) -> bool {
        match *self {
            Item::Str(s) => s == b,
            Item::Int(n) => {
                let mut buf = [0u8; 20];
                redis_formats::num::format_i64(n, &mut buf) == b
            }
            Item::Float(_) => false,
        }
    }

    /// Calls `f` with the entry as bytes (integers formatted in Redis's way; floats
    /// as Redis prints scores).
    #[inline]
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match *self {
            Item::Str(s) => f(s),
            Item::Int(n) => f(redis_formats::num::format_i64(n, &mut [0u8; 20])),
            Item::Float(x) => f(redis_formats::num::format_double(x).as_bytes()),
        }
    }

    /// The entry as owned bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// The entry as a number (scores), if it is one.
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Item::Int(n) => Some(n as f64),
            Item::Float(x) => Some(x),
            Item::Str(_) => None,
        }
    }
}

/// What to store: the argument of the writing methods.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// Bytes, stored as an integer when they are one's canonical form.
    Bytes(&'a [u8]),
    /// An integer.
    Int(i64),
    /// A float; stored as an integer when it is one exactly (|x| < 2^53).
    Float(f64),
}

impl<'a> From<&'a [u8]> for Input<'a> {
    fn from(b: &'a [u8]) -> Self {
        Input::Bytes(b)
    }
}

/// The encoded size of `input`, and its canonical form.
fn classify(input: Input<'_>) -> (Enc<'_>, usize) {
    match input {
        Input::Bytes(b) => {
            if b.len() <= 20 {
                if let Some(n) = redis_formats::num::parse_i64(b) {
                    return int_enc(n);
                }
            }
            let l = b.len();
            let size = if l < 64 {
                1 + l
            } else if l < 8192 {
                2 + l
            } else {
                5 + l
            };
            (Enc::Str(b), size)
        }
        Input::Int(n) => int_enc(n),
        Input::Float(x) => {
            if x.fract() == 0.0
                && x.abs() < 9_007_199_254_740_992.0
                && !(x == 0.0 && x.is_sign_negative())
            {
                int_enc(x as i64)
            } else {
                (Enc::Float(x), 9)
            }
        }
    }
}

enum Enc<'a> {
    Int(i64),
    Str(&'a [u8]),
    Float(f64),
}

fn int_enc(n: i64) -> (Enc<'static>, usize) {
    let size = if (0..128).contains(&n) {
        1
    } else if i16::try_from(n).is_ok() {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&n) {
        4
    } else if i32::try_from(n).is_ok() {
        5
    } else {
        9
    };
    (Enc::Int(n), size)
}

fn write_enc(dst: &mut [u8], enc: &Enc<'_>) {
    match *enc {
        Enc::Int(n) => {
            if (0..128).contains(&n) {
                dst[0] = n as u8;
            } else if let Ok(v) = i16::try_from(n) {
                dst[0] = 0xe0;
                dst[1..3].copy_from_slice(&v.to_le_bytes());
            } else if (-(1 << 23)..(1 << 23)).contains(&n) {
                dst[0] = 0xe1;
                dst[1..4].copy_from_slice(&(n as i32).to_le_bytes()[..3]);
            } else if let Ok(v) = i32::try_from(n) {
                dst[0] = 0xe2;
                dst[1..5].copy_from_slice(&v.to_le_bytes());
            } else {
                dst[0] = 0xe3;
                dst[1..9].copy_from_slice(&n.to_le_bytes());
            }
        }
        Enc::Float(x) => {
            dst[0] = 0xe4;
            dst[1..9].copy_from_slice(&x.to_le_bytes());
        }
        Enc::Str(b) => {
            let l = b.len();
            let at = if l < 64 {
                dst[0] = 0x80 | l as u8;
                1
            } else if l < 8192 {
                dst[0] = 0xc0 | (l >> 8) as u8;
                dst[1] = l as u8;
                2
            } else {
                dst[0] = 0xf0;
                dst[1..5].copy_from_slice(&(l as u32).to_le_bytes());
                5
            };
            dst[at..at + l].copy_from_slice(b);
        }
    }
}

/// Decodes the entry at the start of `b`: the item and its encoded size.
#[inline]
fn decode(b: &[u8]) -> (Item<'_>, usize) {
    let t = b[0];
    match t {
        0x00..=0x7f => (Item::Int(t as i64), 1),
        0x80..=0xbf => {
            let l = (t & 0x3f) as usize;
            (Item::Str(&b[1..1 + l]), 1 + l)
        }
        0xc0..=0xdf => {
            let l = (((t & 0x1f) as usize) << 8) | b[1] as usize;
            (Item::Str(&b[2..2 + l]), 2 + l)
        }
        0xe0 => (Item::Int(i16::from_le_bytes([b[1], b[2]]) as i64), 3),
        0xe1 => {
            // Sign-extend the 24-bit value.
            let v = i32::from_le_bytes([0, b[1], b[2], b[3]]) >> 8;
            (Item::Int(v as i64), 4)
        }
        0xe2 => (
            Item::Int(i32::from_le_bytes(b[1..5].try_into().unwrap()) as i64),
            5,
        ),
        0xe3 => (
            Item::Int(i64::from_le_bytes(b[1..9].try_into().unwrap())),
            9,
        ),
        0xe4 => (
            Item::Float(f64::from_le_bytes(b[1..9].try_into().unwrap())),
            9,
        ),
        _ => {
            let l = u32::from_le_bytes(b[1..5].try_into().unwrap()) as usize;
            (Item::Str(&b[5..5 + l]), 5 + l)
        }
    }
}

/// A compact entry sequence behind a thin pointer (8 bytes). See the module docs.
pub struct Packed {
    /// Header (entry bytes: u32, count: u32) followed by the entries; the allocation
    /// is exactly `HEADER + bytes` long.
    ptr: NonNull<u8>,
}

// SAFETY: `Packed` owns its allocation exclusively, like a `Box<[u8]>`.
unsafe impl Send for Packed {}
// SAFETY: shared access only reads.
unsafe impl Sync for Packed {}

fn layout(bytes: usize) -> Layout {
    Layout::from_size_align(HEADER + bytes, 4).expect("packed size fits a layout")
}

impl Default for Packed {
    fn default() -> Self {
        Self::new()
    }
}

impl Packed {
    /// An empty sequence.
    pub fn new() -> Self {
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { alloc::alloc_zeroed(layout(0)) };
        let ptr = NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(layout(0)));
        Packed { ptr }
    }

    #[inline]
    fn header(&self) -> (usize, usize) {
        // SAFETY: the allocation always holds the 8-byte header, 4-aligned.
        unsafe {
            let h = self.ptr.as_ptr() as *const u32;
            (*h as usize, *h.add(1) as usize)
        }
    }

    #[inline]
    fn set_header(&mut self, bytes: usize, count: usize) {
        // SAFETY: as in `header`; we own the allocation mutably.
        unsafe {
            let h = self.ptr.as_ptr() as *mut u32;
            *h = bytes as u32;
            *h.add(1) = count as u32;
        }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.header().1
    }

    /// True when there are no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded size of the entries in bytes (thresholds such as list-max-listpack-size
    /// are checked against it).
    #[inline]
    pub fn bytes(&self) -> usize {
        self.header().0
    }

    /// Heap bytes owned (MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        HEADER + self.bytes()
    }

    /// The entry bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: `bytes()` initialised bytes follow the header.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(HEADER), self.bytes()) }
    }

    fn data_mut(&mut self) -> &mut [u8] {
        let n = self.bytes();
        // SAFETY: as in `data`, with exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(HEADER), n) }
    }

    /// Resizes the allocation to hold `bytes` entry bytes (the header is kept; the
    /// caller fixes the header after moving entries).
    fn resize(&mut self, bytes: usize) {
        let old = layout(self.bytes());
        let new = layout(bytes);
        if old.size() == new.size() {
            return;
        }
        assert!(bytes <= u32::MAX as usize, "packed sequence over 4 GiB");
        // SAFETY: `ptr` was allocated with `old`; the new size is non-zero.
        let p = unsafe { alloc::realloc(self.ptr.as_ptr(), old, new.size()) };
        self.ptr = NonNull::new(p).unwrap_or_else(|| alloc::handle_alloc_error(new));
    }

    /// Iterates over the entries.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            data: self.data(),
            pos: 0,
        }
    }

    /// Iterates over the entries with their byte offsets.
    #[inline]
    pub fn iter_offsets(&self) -> IterOffsets<'_> {
        IterOffsets {
            data: self.data(),
            pos: 0,
        }
    }

    /// The entry at byte offset `off` (as given by [`iter_offsets`](Self::iter_offsets))
    /// and the offset of the next one.
    #[inline]
    pub fn at(&self, off: usize) -> (Item<'_>, usize) {
        let (item, n) = decode(&self.data()[off..]);
        (item, off + n)
    }

    /// Byte offset of entry `index` (the end of the data if `index == len()`).
    pub fn offset_of(&self, index: usize) -> usize {
        let data = self.data();
        let mut pos = 0;
        for _ in 0..index {
            pos += decode(&data[pos..]).1;
        }
        pos
    }

    /// The entry at `index`.
    pub fn get(&self, index: usize) -> Option<Item<'_>> {
        if index >= self.len() {
            return None;
        }
        Some(self.at(self.offset_of(index)).0)
    }

    /// The first entry equal (as a string) to `needle` among entries 0, step, 2*step...:
    /// its index and byte offset. `step` 2 searches the fields of field/value pairs.
    pub fn find(&self, needle: &[u8], step: usize) -> Option<(usize, usize)> {
        // Compare integers as integers: cheaper than formatting every entry.
        let as_int = if needle.len() <= 20 {
            redis_formats::num::parse_i64(needle)
        } else {
            None
        };
        let mut it = self.iter_offsets();
        let mut i = 0;
        while let Some((off, item)) = it.next() {
            let hit = match (item, as_int) {
                (Item::Int(n), Some(m)) => n == m,
                (Item::Str(s), None) => s == needle,
                _ => false,
            };
            if hit {
                return Some((i, off));
            }
            for _ in 1..step {
                it.next();
            }
            i += step;
        }
        None
    }

    /// Inserts `items` before byte offset `off` (the end of the data appends).
    pub fn insert(&mut self, off: usize, items: &[Input<'_>]) {
        let encs: Vec<(Enc<'_>, usize)> = items.iter().map(|i| classify(*i)).collect();
        let add: usize = encs.iter().map(|e| e.1).sum();
        let (bytes, count) = self.header();
        self.resize(bytes + add);
        // SAFETY: the allocation now holds `bytes + add` entry bytes; the tail moves
        // within it.
        let all =
            unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(HEADER), bytes + add) };
        all.copy_within(off..bytes, off + add);
        let mut at = off;
        for (e, size) in &encs {
            write_enc(&mut all[at..at + size], e);
            at += size;
        }
        self.set_header(bytes + add, count + items.len());
    }

    /// Inserts one entry before byte offset `off`, without the temporary vector
    /// [`insert`](Self::insert) builds (the list pushes' hot path).
    pub fn insert_one(&mut self, off: usize, item: Input<'_>) {
        let (enc, add) = classify(item);
        let (bytes, count) = self.header();
        self.resize(bytes + add);
        // SAFETY: the allocation now holds `bytes + add` entry bytes; the tail moves
        // within it.
        let all =
            unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(HEADER), bytes + add) };
        all.copy_within(off..bytes, off + add);
        write_enc(&mut all[off..off + add], &enc);
        self.set_header(bytes + add, count + 1);
    }

    /// Appends one entry.
    #[inline]
    pub fn push(&mut self, item: Input<'_>) {
        let end = self.bytes();
        self.insert(end, &[item]);
    }

    /// Prepends one entry.
    #[inline]
    pub fn push_front(&mut self, item: Input<'_>) {
        self.insert(0, &[item]);
    }

    /// Removes `n` entries starting at byte offset `off`.
    pub fn remove(&mut self, off: usize, n: usize) {
        let (bytes, count) = self.header();
        let data = self.data();
        let mut end = off;
        for _ in 0..n {
            end += decode(&data[end..]).1;
        }
        self.data_mut().copy_within(end..bytes, off);
        let removed = end - off;
        // Resize while the header still holds the old size: `resize` reads it to
        // know the current allocation (a mismatch corrupts a sized deallocation).
        self.resize(bytes - removed);
        self.set_header(bytes - removed, count - n);
    }

    /// Replaces the entry at byte offset `off` with `item`.
    pub fn replace(&mut self, off: usize, item: Input<'_>) {
        self.remove(off, 1);
        self.insert(off, &[item]);
    }

    /// Replaces the entry at byte offset `off` with `item`, in place (no
    /// reallocation) when both encode to the same size.
    pub fn overwrite(&mut self, off: usize, item: Input<'_>) {
        let (enc, size) = classify(item);
        let old = decode(&self.data()[off..]).1;
        if old == size {
            write_enc(&mut self.data_mut()[off..off + size], &enc);
        } else {
            self.replace(off, item);
        }
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.resize(0);
        self.set_header(0, 0);
    }
}

impl Drop for Packed {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), layout(self.bytes())) }
    }
}

impl Clone for Packed {
    fn clone(&self) -> Self {
        let mut p = Packed::new();
        p.resize(self.bytes());
        p.data_mut_raw(self.bytes()).copy_from_slice(self.data());
        p.set_header(self.bytes(), self.len());
        p
    }
}

impl Packed {
    fn data_mut_raw(&mut self, n: usize) -> &mut [u8] {
        // SAFETY: the caller resized the allocation to hold `n` entry bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(HEADER), n) }
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over the entries of a [`Packed`].
pub struct Iter<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Item<'a>;

    #[inline]
    fn next(&mut self) -> Option<Item<'a>> {
        if self.pos >= self.data.len() {
            return None;
        }
        let (item, n) = decode(&self.data[self.pos..]);
        self.pos += n;
        Some(item)
    }
}

/// Iterator over the entries of a [`Packed`] with their byte offsets.
pub struct IterOffsets<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for IterOffsets<'a> {
    type Item = (usize, Item<'a>);

    #[inline]
    fn next(&mut self) -> Option<(usize, Item<'a>)> {
        if self.pos >= self.data.len() {
            return None;
        }
        let off = self.pos;
        let (item, n) = decode(&self.data[off..]);
        self.pos += n;
        Some((off, item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(p: &Packed) -> Vec<Vec<u8>> {
        p.iter().map(|i| i.to_vec()).collect()
    }

    #[test]
    fn thin_pointer() {
        assert_eq!(std::mem::size_of::<Packed>(), 8);
        assert_eq!(std::mem::size_of::<Option<Packed>>(), 8);
    }

    #[test]
    fn round_trips_every_encoding() {
        let long = vec![b'x'; 9000];
        let mid = vec![b'y'; 300];
        let values: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-32768".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"007".to_vec(),
            b"".to_vec(),
            b"hello".to_vec(),
            mid.clone(),
            long.clone(),
        ];
        let mut p = Packed::new();
        for v in &values {
            p.push(Input::Bytes(v));
        }
        assert_eq!(p.len(), values.len());
        assert_eq!(strings(&p), values);
        assert_eq!(p.get(2), Some(Item::Int(128)));
        assert_eq!(p.get(10), Some(Item::Str(b"007")));
        assert_eq!(p.find(b"hello", 1), Some((12, p.offset_of(12))));
        assert_eq!(p.find(b"-1", 1).map(|f| f.0), Some(3));
        assert_eq!(p.find(b"nope", 1), None);
        let q = p.clone();
        assert_eq!(strings(&q), values);
    }

    #[test]
    fn insert_remove_replace() {
        let mut p = Packed::new();
        for v in [b"a", b"b", b"c", b"d"] {
            p.push(Input::Bytes(v));
        }
        p.push_front(Input::Int(-5));
        let off = p.offset_of(2);
        p.insert(off, &[Input::Bytes(b"x"), Input::Bytes(b"y")]);
        assert_eq!(
            strings(&p),
            [&b"-5"[..], b"a", b"x", b"y", b"b", b"c", b"d"]
        );
        p.remove(p.offset_of(1), 3);
        assert_eq!(strings(&p), [&b"-5"[..], b"b", b"c", b"d"]);
        p.replace(
            p.offset_of(3),
            Input::Bytes(b"a much longer value than before"),
        );
        assert_eq!(p.len(), 4);
        assert_eq!(
            p.get(3),
            Some(Item::Str(b"a much longer value than before"))
        );
        let off = p.offset_of(1);
        p.overwrite(off, Input::Bytes(b"z"));
        assert_eq!(p.get(1), Some(Item::Str(b"z")));
        p.overwrite(off, Input::Bytes(b"longer"));
        assert_eq!(p.get(1), Some(Item::Str(b"longer")));
        assert_eq!(p.len(), 4);
        p.clear();
        assert!(p.is_empty());
        assert_eq!(p.bytes(), 0);
    }

    #[test]
    fn floats_and_pairs() {
        let mut p = Packed::new();
        p.push(Input::Bytes(b"m1"));
        p.push(Input::Float(1.5));
        p.push(Input::Bytes(b"m2"));
        p.push(Input::Float(3.0));
        p.push(Input::Bytes(b"m3"));
        p.push(Input::Float(-0.0));
        assert_eq!(p.get(1).and_then(|i| i.as_f64()), Some(1.5));
        assert_eq!(p.get(3), Some(Item::Int(3)));
        assert!(p.get(5).unwrap().as_f64().unwrap().is_sign_negative());
        assert_eq!(p.find(b"m2", 2).map(|f| f.0), Some(2));
        // A value equal to a field is not found at a field position.
        assert_eq!(p.find(b"3", 2), None);
    }

    #[test]
    fn removals_shrink_the_allocation() {
        let mut p = Packed::new();
        for j in 0..50 {
            p.push(Input::Bytes(format!("member-{j}").as_bytes()));
        }
        let before = p.heap_size();
        p.remove(p.offset_of(10), 30);
        assert_eq!(p.len(), 20);
        assert!(p.heap_size() < before);
        p.push(Input::Bytes(b"again"));
        assert_eq!(p.get(20), Some(Item::Str(b"again")));
        p.clear();
        assert_eq!(p.heap_size(), HEADER);
    }

    #[test]
    fn compact_enough() {
        // The memory benchmark's hash: 10 fields "f0".."f9" with 10-byte values fit
        // 160 bytes (a listpack of the same needs 167 plus allocator rounding).
        let mut p = Packed::new();
        for j in 0..10 {
            p.push(Input::Bytes(format!("f{j}").as_bytes()));
            p.push(Input::Bytes(format!("v{:09}", j).as_bytes()));
        }
        assert!(p.heap_size() <= 160, "{}", p.heap_size());
    }
}
