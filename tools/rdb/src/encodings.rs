//! The compact encodings embedded in RDB values: listpack, ziplist, intset, zipmap.
//!
//! Each has a validator with Redis's rules (deep sanitization: every entry inside the
//! buffer, lengths consistent, header counts right) and a decoder that is only called on
//! validated buffers. The listpack encoder writes what Redis's `lpAppend` writes.

/// Parses `s` the way Redis's `string2ll` does: optional `-`, no leading zeros, no spaces,
/// fits in an `i64`.
pub fn parse_strict_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: i128 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (d - b'0') as i128;
        if v > i64::MAX as i128 + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Listpack: validation, decoding, encoding.
pub mod listpack {
    use super::{le_u32, parse_strict_i64};

    const HDR: usize = 6;
    const EOF: u8 = 0xff;

    /// Size of the encoding header of the entry at `p[0]` (0 when invalid).
    fn enc_size_bytes(b: u8) -> u32 {
        if b & 0x80 == 0 || b & 0xc0 == 0x80 || b & 0xe0 == 0xc0 || (0xf1..=0xf4).contains(&b) {
            1
        } else if b & 0xf0 == 0xe0 {
            2
        } else if b == 0xf0 {
            5
        } else if b == EOF {
            1
        } else {
            0
        }
    }

    /// Encoding header plus data length of the entry at `p` (needs `enc_size_bytes` bytes).
    fn entry_len(p: &[u8]) -> u32 {
        let b = p[0];
        if b & 0x80 == 0 {
            1
        } else if b & 0xc0 == 0x80 {
            1 + (b & 0x3f) as u32
        } else if b & 0xe0 == 0xc0 {
            2
        } else if b == 0xf1 {
            3
        } else if b == 0xf2 {
            4
        } else if b == 0xf3 {
            5
        } else if b == 0xf4 {
            9
        } else if b & 0xf0 == 0xe0 {
            2 + ((((b & 0xf) as u32) << 8) | p[1] as u32)
        } else if b == 0xf0 {
            5u32.wrapping_add(le_u32(&p[1..5]))
        } else {
            1
        }
    }

    /// Bytes of the back-length field for an entry of `l` bytes.
    pub fn backlen_size(l: u64) -> usize {
        if l <= 127 {
            1
        } else if l < 16383 {
            2
        } else if l < 2097151 {
            3
        } else if l < 268435455 {
            4
        } else {
            5
        }
    }

    fn decode_backlen(lp: &[u8], mut i: usize) -> u64 {
        let mut val = 0u64;
        let mut shift = 0u64;
        loop {
            val |= ((lp[i] & 127) as u64) << shift;
            if lp[i] & 128 == 0 {
                break;
            }
            shift += 7;
            if i == 0 {
                return u64::MAX;
            }
            i -= 1;
            if shift > 28 {
                return u64::MAX;
            }
        }
        val
    }

    /// Validates the entry at `p`; returns the offset of the next one (`None` after EOF
    /// marker handling: `Ok(None)` means `p` was the terminator).
    fn validate_next(lp: &[u8], p: usize, bytes: usize) -> Result<Option<usize>, ()> {
        let in_range = |q: u64| q >= HDR as u64 && q < bytes as u64;
        if !in_range(p as u64) {
            return Err(());
        }
        if lp[p] == EOF {
            return Ok(None);
        }
        let lenbytes = enc_size_bytes(lp[p]);
        if lenbytes == 0 || !in_range(p as u64 + lenbytes as u64) {
            return Err(());
        }
        let el = entry_len(&lp[p..]) as u64;
        let bl = backlen_size(el) as u64;
        let total = el + bl;
        if !in_range(p as u64 + total) {
            return Err(());
        }
        let next = p + total as usize;
        let prevlen = decode_backlen(lp, next - 1);
        if prevlen.wrapping_add(bl) != total {
            return Err(());
        }
        Ok(Some(next))
    }

    /// Redis's `lpValidateIntegrity`: header checks, and with `deep` every entry.
    pub fn validate(lp: &[u8], deep: bool) -> bool {
        validate_with(lp, deep, |_| true)
    }

    /// The offsets of the entries, each validated like `lpValidateNext`, up to the first
    /// terminator byte; unlike [`validate`] neither the header count nor the terminator's
    /// position is checked (what Redis's stream validator does). `None` when invalid.
    pub fn entry_offsets(lp: &[u8]) -> Option<Vec<usize>> {
        if !validate(lp, false) {
            return None;
        }
        let mut out = Vec::new();
        let mut p = Some(HDR);
        while let Some(cur) = p {
            match validate_next(lp, cur, lp.len()) {
                Ok(Some(n)) => {
                    out.push(cur);
                    p = Some(n);
                }
                Ok(None) => break,
                Err(()) => return None,
            }
        }
        Some(out)
    }

    /// Like [`validate`] (deep), calling `cb` with each entry's offset; `cb` may refuse.
    pub fn validate_with(lp: &[u8], deep: bool, mut cb: impl FnMut(usize) -> bool) -> bool {
        let size = lp.len();
        if size < HDR + 1 {
            return false;
        }
        if le_u32(lp) as usize != size || lp[size - 1] != EOF {
            return false;
        }
        if !deep {
            return true;
        }
        let numele = u16::from_le_bytes([lp[4], lp[5]]);
        let mut count: u32 = 0;
        let mut p = Some(HDR);
        while let Some(cur) = p {
            if lp[cur] == EOF {
                break;
            }
            match validate_next(lp, cur, size) {
                Ok(n) => p = n,
                Err(()) => return false,
            }
            if !cb(cur) {
                return false;
            }
            count += 1;
        }
        if p != Some(size - 1) {
            return false;
        }
        numele == u16::MAX || numele as u32 == count
    }

    /// One listpack element.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Elem<'a> {
        /// A string entry.
        Str(&'a [u8]),
        /// An integer entry.
        Int(i64),
    }

    impl Elem<'_> {
        /// The element as Redis shows it (integers in decimal).
        pub fn to_bytes(&self) -> Vec<u8> {
            match self {
                Elem::Str(s) => s.to_vec(),
                Elem::Int(i) => i.to_string().into_bytes(),
            }
        }

        /// The element as an integer if it is one or a strict decimal string.
        pub fn as_int(&self) -> Option<i64> {
            match self {
                Elem::Str(s) => parse_strict_i64(s),
                Elem::Int(i) => Some(*i),
            }
        }
    }

    /// Decodes the entry at `p` (validated) and returns it with the next entry's offset.
    pub fn get(lp: &[u8], p: usize) -> (Elem<'_>, usize) {
        let b = lp[p];
        let el = entry_len(&lp[p..]) as usize;
        let next = p + el + backlen_size(el as u64);
        let e = if b & 0x80 == 0 {
            Elem::Int((b & 0x7f) as i64)
        } else if b & 0xc0 == 0x80 {
            Elem::Str(&lp[p + 1..p + el])
        } else if b & 0xe0 == 0xc0 {
            let u = (((b & 0x1f) as i64) << 8) | lp[p + 1] as i64;
            Elem::Int(if u >= 1 << 12 { u - (1 << 13) } else { u })
        } else if b == 0xf1 {
            Elem::Int(i16::from_le_bytes([lp[p + 1], lp[p + 2]]) as i64)
        } else if b == 0xf2 {
            let u = lp[p + 1] as i64 | (lp[p + 2] as i64) << 8 | (lp[p + 3] as i64) << 16;
            Elem::Int(if u >= 1 << 23 { u - (1 << 24) } else { u })
        } else if b == 0xf3 {
            Elem::Int(i32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]) as i64)
        } else if b == 0xf4 {
            let mut a = [0u8; 8];
            a.copy_from_slice(&lp[p + 1..p + 9]);
            Elem::Int(i64::from_le_bytes(a))
        } else if b & 0xf0 == 0xe0 {
            Elem::Str(&lp[p + 2..p + el])
        } else {
            Elem::Str(&lp[p + 5..p + el])
        };
        (e, next)
    }

    /// Every element of a validated listpack.
    pub fn elements(lp: &[u8]) -> Vec<Elem<'_>> {
        let mut out = Vec::new();
        let mut p = HDR;
        while p < lp.len() && lp[p] != EOF {
            let (e, n) = get(lp, p);
            out.push(e);
            p = n;
        }
        out
    }

    /// Whether the entry at `p` is an integer, or a string holding one (`lpGetIntegerIfValid`).
    pub fn int_at(lp: &[u8], p: usize) -> Option<i64> {
        get(lp, p).0.as_int()
    }

    /// A listpack under construction, encoded as Redis's `lpAppend` encodes.
    #[derive(Debug, Clone)]
    pub struct Builder {
        buf: Vec<u8>,
        count: u32,
    }

    impl Default for Builder {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Builder {
        /// An empty listpack.
        pub fn new() -> Builder {
            Builder {
                buf: vec![0; HDR],
                count: 0,
            }
        }

        /// Appends an element (strings that are canonical integers become integers).
        pub fn push(&mut self, s: &[u8]) {
            match parse_strict_i64(s) {
                Some(v) => self.push_int(v),
                None => self.push_str(s),
            }
        }

        /// Appends an integer.
        pub fn push_int(&mut self, v: i64) {
            let start = self.buf.len();
            if (0..=127).contains(&v) {
                self.buf.push(v as u8);
            } else if (-4096..=4095).contains(&v) {
                let u = if v < 0 { (1i64 << 13) + v } else { v } as u64;
                self.buf.push(0xc0 | ((u >> 8) as u8 & 0x1f));
                self.buf.push(u as u8);
            } else if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
                self.buf.push(0xf1);
                self.buf.extend_from_slice(&(v as i16).to_le_bytes());
            } else if (-(1i64 << 23)..(1i64 << 23)).contains(&v) {
                let u = if v < 0 { (1i64 << 24) + v } else { v } as u32;
                self.buf.push(0xf2);
                self.buf.extend_from_slice(&u.to_le_bytes()[..3]);
            } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
                self.buf.push(0xf3);
                self.buf.extend_from_slice(&(v as i32).to_le_bytes());
            } else {
                self.buf.push(0xf4);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            self.finish_entry(start);
        }

        /// Appends a string as a string.
        pub fn push_str(&mut self, s: &[u8]) {
            let start = self.buf.len();
            let n = s.len();
            if n < 64 {
                self.buf.push(0x80 | n as u8);
            } else if n < 4096 {
                self.buf.push(0xe0 | (n >> 8) as u8);
                self.buf.push(n as u8);
            } else {
                self.buf.push(0xf0);
                self.buf.extend_from_slice(&(n as u32).to_le_bytes());
            }
            self.buf.extend_from_slice(s);
            self.finish_entry(start);
        }

        fn finish_entry(&mut self, start: usize) {
            let l = (self.buf.len() - start) as u64;
            let n = backlen_size(l);
            let mut tmp = [0u8; 5];
            for (k, slot) in tmp.iter_mut().enumerate().take(n) {
                // Most significant group first; every byte but the first has bit 7 set.
                let shift = 7 * (n - 1 - k);
                let mut byte = ((l >> shift) & 127) as u8;
                if k > 0 {
                    byte |= 128;
                }
                *slot = byte;
            }
            self.buf.extend_from_slice(&tmp[..n]);
            self.count += 1;
        }

        /// Number of elements so far.
        pub fn len(&self) -> u32 {
            self.count
        }

        /// Whether nothing was appended.
        pub fn is_empty(&self) -> bool {
            self.count == 0
        }

        /// Bytes so far (without the terminator).
        pub fn byte_len(&self) -> usize {
            self.buf.len() + 1
        }

        /// The finished listpack.
        pub fn finish(mut self) -> Vec<u8> {
            self.buf.push(EOF);
            let total = self.buf.len() as u32;
            self.buf[..4].copy_from_slice(&total.to_le_bytes());
            let n = if self.count < 65535 {
                self.count as u16
            } else {
                u16::MAX
            };
            self.buf[4..6].copy_from_slice(&n.to_le_bytes());
            self.buf
        }
    }
}

/// Ziplist (RDB types 10, 12, 13 and quicklist v1 nodes): validation and decoding.
pub mod ziplist {
    use super::le_u32;
    use super::listpack::Elem;

    const HDR: usize = 10;

    struct Entry {
        prevrawlen: u64,
        headersize: u64,
        len: u64,
        enc: u8,
    }

    fn len_size(enc: u8) -> u64 {
        match enc {
            0xc0 | 0xd0 | 0xe0 | 0xf0 | 0xfe | 0xf1..=0xfd => 1,
            _ if enc < 0xc0 => match enc & 0xc0 {
                0x00 => 1,
                0x40 => 2,
                _ => 5,
            },
            _ => 0,
        }
    }

    fn entry_safe(zl: &[u8], p: usize) -> Option<Entry> {
        let first = HDR as i64;
        let last = zl.len() as i64 - 1;
        let oor = |q: i64| q < first || q > last;
        let pi = p as i64;
        if oor(pi) {
            return None;
        }
        let prevrawlensize: u64 = if zl[p] < 254 { 1 } else { 5 };
        if oor(pi + prevrawlensize as i64) {
            return None;
        }
        let ep = p + prevrawlensize as usize;
        let mut enc = zl[ep];
        if enc < 0xc0 {
            enc &= 0xc0;
        }
        let lensize = len_size(enc);
        if lensize == 0 || oor(pi + (prevrawlensize + lensize) as i64) {
            return None;
        }
        let prevrawlen = if prevrawlensize == 1 {
            zl[p] as u64
        } else {
            le_u32(&zl[p + 1..p + 5]) as u64
        };
        let len: u64 = match enc {
            0x00 => (zl[ep] & 0x3f) as u64,
            0x40 => (((zl[ep] & 0x3f) as u64) << 8) | zl[ep + 1] as u64,
            0x80 => u32::from_be_bytes([zl[ep + 1], zl[ep + 2], zl[ep + 3], zl[ep + 4]]) as u64,
            0xc0 => 2,
            0xd0 => 4,
            0xe0 => 8,
            0xf0 => 3,
            0xfe => 1,
            _ => 0,
        };
        let headersize = prevrawlensize + lensize;
        if oor(pi + (headersize + len) as i64) {
            return None;
        }
        if oor(pi - prevrawlen as i64) {
            return None;
        }
        Some(Entry {
            prevrawlen,
            headersize,
            len,
            enc,
        })
    }

    /// Redis's `ziplistValidateIntegrity` (always deep here); calls `cb` per entry.
    pub fn validate_with(zl: &[u8], mut cb: impl FnMut(Elem<'_>) -> bool) -> bool {
        let size = zl.len();
        if size < HDR + 1 {
            return false;
        }
        if le_u32(zl) as usize != size || zl[size - 1] != 0xff {
            return false;
        }
        let tail = le_u32(&zl[4..8]) as usize;
        if tail > size - 1 {
            return false;
        }
        let header_count = u16::from_le_bytes([zl[8], zl[9]]);
        let mut count: u32 = 0;
        let mut p = HDR;
        let mut prev: Option<usize> = None;
        let mut prev_raw = 0u64;
        while zl[p] != 0xff {
            let e = match entry_safe(zl, p) {
                Some(e) => e,
                None => return false,
            };
            if e.prevrawlen != prev_raw {
                return false;
            }
            if !cb(decode(zl, p, &e)) {
                return false;
            }
            prev_raw = e.headersize + e.len;
            prev = Some(p);
            p += (e.headersize + e.len) as usize;
            count += 1;
        }
        if p != size - 1 {
            return false;
        }
        if let Some(pv) = prev {
            if pv != tail {
                return false;
            }
        }
        header_count == u16::MAX || header_count as u32 == count
    }

    fn decode<'a>(zl: &'a [u8], p: usize, e: &Entry) -> Elem<'a> {
        let d = p + e.headersize as usize;
        match e.enc {
            0x00 | 0x40 | 0x80 => Elem::Str(&zl[d..d + e.len as usize]),
            0xc0 => Elem::Int(i16::from_le_bytes([zl[d], zl[d + 1]]) as i64),
            0xd0 => Elem::Int(i32::from_le_bytes([zl[d], zl[d + 1], zl[d + 2], zl[d + 3]]) as i64),
            0xe0 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&zl[d..d + 8]);
                Elem::Int(i64::from_le_bytes(a))
            }
            0xf0 => Elem::Int(i32::from_le_bytes([0, zl[d], zl[d + 1], zl[d + 2]]) as i64 >> 8),
            0xfe => Elem::Int(zl[d] as i8 as i64),
            imm => Elem::Int(((imm & 0x0f) as i64) - 1),
        }
    }

    /// Validates and returns every element (as bytes), or `None` when invalid.
    pub fn elements(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if validate_with(zl, |e| {
            out.push(e.to_bytes());
            true
        }) {
            Some(out)
        } else {
            None
        }
    }
}

/// Intset (RDB type 11).
pub mod intset {
    use super::le_u32;

    /// Redis's `intsetValidateIntegrity`.
    pub fn validate(is: &[u8], deep: bool) -> bool {
        if is.len() < 8 {
            return false;
        }
        let enc = le_u32(is) as usize;
        if enc != 2 && enc != 4 && enc != 8 {
            return false;
        }
        let count = le_u32(&is[4..]) as u64;
        if 8 + count * enc as u64 != is.len() as u64 || count == 0 {
            return false;
        }
        if !deep {
            return true;
        }
        let v = values(is);
        v.windows(2).all(|w| w[0] < w[1])
    }

    /// The members of a validated intset.
    pub fn values(is: &[u8]) -> Vec<i64> {
        let enc = le_u32(is) as usize;
        is[8..]
            .chunks_exact(enc)
            .map(|c| match enc {
                2 => i16::from_le_bytes([c[0], c[1]]) as i64,
                4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
                _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            })
            .collect()
    }

    /// Encodes sorted, distinct members as an intset with the smallest width.
    pub fn encode(sorted: &[i64]) -> Vec<u8> {
        let w: usize = if sorted
            .iter()
            .all(|&v| (i16::MIN as i64..=i16::MAX as i64).contains(&v))
        {
            2
        } else if sorted
            .iter()
            .all(|&v| (i32::MIN as i64..=i32::MAX as i64).contains(&v))
        {
            4
        } else {
            8
        };
        let mut out = Vec::with_capacity(8 + w * sorted.len());
        out.extend_from_slice(&(w as u32).to_le_bytes());
        out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
        for &v in sorted {
            out.extend_from_slice(&v.to_le_bytes()[..w]);
        }
        out
    }
}

/// Zipmap (RDB type 9, hashes from Redis before 2.6).
pub mod zipmap {
    use super::le_u32;

    fn len_at(zm: &[u8], p: usize) -> (u64, u64) {
        if zm[p] < 254 {
            (zm[p] as u64, 1)
        } else {
            (le_u32(&zm[p + 1..p + 5]) as u64, 5)
        }
    }

    /// Redis's `zipmapValidateIntegrity` (deep), returning the pairs when valid.
    pub fn pairs(zm: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        let size = zm.len();
        if size < 2 || zm[size - 1] != 0xff {
            return None;
        }
        let oor = |q: u64| q < 2 || q > size as u64 - 1;
        let mut out = Vec::new();
        let mut p: u64 = 1;
        while zm[p as usize] != 0xff {
            let s = if zm[p as usize] < 254 { 1 } else { 5 };
            if oor(p + s) {
                return None;
            }
            let (l, s) = len_at(zm, p as usize);
            let fstart = p + s;
            p = fstart + l;
            if oor(p) {
                return None;
            }
            let s2 = if zm[p as usize] < 254 { 1 } else { 5 };
            if oor(p + s2) {
                return None;
            }
            let (vl, s2) = len_at(zm, p as usize);
            p += s2;
            let free = zm[p as usize] as u64;
            p += 1;
            let vstart = p;
            p += vl + free;
            if oor(p) {
                return None;
            }
            out.push((
                zm[fstart as usize..(fstart + l) as usize].to_vec(),
                zm[vstart as usize..(vstart + vl) as usize].to_vec(),
            ));
        }
        if out.is_empty() || (zm[0] != 254 && zm[0] as usize != out.len()) {
            return None;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_ints() {
        assert_eq!(parse_strict_i64(b"0"), Some(0));
        assert_eq!(parse_strict_i64(b"-12"), Some(-12));
        assert_eq!(parse_strict_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_strict_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"01"[..],
            b"-0",
            b"+1",
            b" 1",
            b"",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(parse_strict_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn listpack_round_trip() {
        let items: Vec<Vec<u8>> = vec![
            b"a".to_vec(),
            b"12".to_vec(),
            b"-5000".to_vec(),
            b"300".to_vec(),
            b"-70000".to_vec(),
            b"9000000".to_vec(),
            b"-3000000000".to_vec(),
            vec![b'x'; 100],
            vec![b'y'; 5000],
            b"-1".to_vec(),
            b"4095".to_vec(),
            b"-4096".to_vec(),
        ];
        let mut b = listpack::Builder::new();
        for i in &items {
            b.push(i);
        }
        let lp = b.finish();
        assert!(listpack::validate(&lp, true));
        let got: Vec<Vec<u8>> = listpack::elements(&lp)
            .iter()
            .map(|e| e.to_bytes())
            .collect();
        assert_eq!(got, items);
        let mut bad = lp.clone();
        bad[4] = 3;
        assert!(!listpack::validate(&bad, true));
        assert!(listpack::validate(&bad, false));
        assert!(!listpack::validate(&lp[..lp.len() - 1], false));
    }

    #[test]
    fn redis_listpack_sample() {
        // RPUSH l a b 1 2 in Redis 7.0.15.
        let lp = [
            0x11, 0, 0, 0, 4, 0, 0x81, b'a', 2, 0x81, b'b', 2, 1, 1, 2, 1, 0xff,
        ];
        assert!(listpack::validate(&lp, true));
        let mut b = listpack::Builder::new();
        for s in [&b"a"[..], b"b", b"1", b"2"] {
            b.push(s);
        }
        assert_eq!(b.finish(), lp);
    }

    #[test]
    fn intset_rules() {
        let is = intset::encode(&[1, 2, 3]);
        assert!(intset::validate(&is, true));
        assert_eq!(intset::values(&is), vec![1, 2, 3]);
        let dup = intset::encode(&[2, 2]);
        assert!(!intset::validate(&dup, true));
        assert!(intset::validate(&dup, false));
        assert!(intset::validate(&intset::encode(&[-1 << 40, 5]), true));
    }

    #[test]
    fn ziplist_bad_count() {
        let mut zl = vec![14, 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 1, b'a', 0xff];
        assert!(ziplist::elements(&zl).is_none());
        zl[8] = 1;
        assert_eq!(ziplist::elements(&zl), Some(vec![b"a".to_vec()]));
    }

    #[test]
    fn zipmap_pairs() {
        let zm = [1, 1, b'a', 1, 0, b'b', 0xff];
        assert_eq!(
            zipmap::pairs(&zm),
            Some(vec![(b"a".to_vec(), b"b".to_vec())])
        );
        assert!(zipmap::pairs(&[2, 1, b'a', 1, 0, b'b', 0xff]).is_none());
    }
}
