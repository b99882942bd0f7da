//! The streaming RDB reader.
//!
//! [`Reader`] reads an RDB stream from any [`Read`] one record at a time: memory is bounded
//! by the largest single value, never by the file, and no length read from the file is
//! trusted for an allocation (data is read in chunks as it arrives, so a length claiming
//! 4 GB in a 1 KB file is an end-of-file error). Every embedded listpack, ziplist, intset
//! and zipmap is validated the way Redis's deep sanitization does before it is decoded.
//!
//! Reads happen in the same units as Redis's `rdbLoad*` functions, so [`Reader::offset`]
//! (bytes consumed by successful reads) matches the offsets `redis-check-rdb` prints, and
//! errors carry Redis's messages.

use crate::crc64::crc64;
use crate::encodings::{intset, listpack, ziplist, zipmap};
use crate::error::{ErrorKind, RdbError, Result};
use crate::value::{
    module_type_name, types, Consumer, ConsumerGroup, HashField, PendingEntry, Stream, StreamId,
    Value,
};
use std::collections::HashSet;
use std::io::Read;

/// RDB opcodes.
pub mod opcodes {
    /// Slot size hints (Valkey 8, Redis 8).
    pub const SLOT_INFO: u8 = 244;
    /// A function library.
    pub const FUNCTION2: u8 = 245;
    /// A function library in the 7.0 release-candidate form.
    pub const FUNCTION: u8 = 246;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle time of the next key.
    pub const IDLE: u8 = 248;
    /// LFU counter of the next key.
    pub const FREQ: u8 = 249;
    /// An auxiliary field.
    pub const AUX: u8 = 250;
    /// Hash table size hints.
    pub const RESIZEDB: u8 = 251;
    /// Expiry of the next key in milliseconds.
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expiry of the next key in seconds.
    pub const EXPIRETIME: u8 = 253;
    /// Selects the database of the following keys.
    pub const SELECTDB: u8 = 254;
    /// End of the file (checksum follows from version 5).
    pub const EOF: u8 = 255;
}

/// Module value opcodes.
mod module_op {
    pub const EOF: u64 = 0;
    pub const SINT: u64 = 1;
    pub const UINT: u64 = 2;
    pub const FLOAT: u64 = 3;
    pub const DOUBLE: u64 = 4;
    pub const STRING: u64 = 5;
}

/// Limits Redis's default configuration applies while loading (they decide which
/// duplicate check fires first, hence which message a damaged file gets).
const HASH_MAX_LISTPACK_ENTRIES: u64 = 512;
const HASH_MAX_LISTPACK_VALUE: usize = 64;
const SET_MAX_INTSET_ENTRIES: u64 = 512;

/// The header of an RDB file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// RDB version (1..=12 for Redis, 80 for Valkey's `VALKEY080`).
    pub version: u32,
    /// Whether the magic was `VALKEY`.
    pub valkey: bool,
}

/// A key and its value with the metadata that preceded it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyEntry {
    /// Selected database.
    pub db: u64,
    /// The key.
    pub key: Vec<u8>,
    /// Absolute expiry in unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds (IDLE opcode).
    pub idle: Option<u64>,
    /// LFU counter (FREQ opcode).
    pub freq: Option<u8>,
    /// The RDB type byte (the encoding in the file).
    pub rdb_type: u8,
    /// The value.
    pub value: Value,
    /// Offset of the first byte of this record (its first opcode or type byte).
    pub start_offset: u64,
}

/// One record of the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An AUX field.
    Aux {
        /// Name.
        key: Vec<u8>,
        /// Value.
        value: Vec<u8>,
    },
    /// SELECTDB.
    SelectDb(u64),
    /// RESIZEDB hint.
    ResizeDb {
        /// Keys.
        db_size: u64,
        /// Keys with a TTL.
        expires_size: u64,
    },
    /// Valkey's SLOT_INFO hint.
    SlotInfo {
        /// Slot.
        slot: u64,
        /// Keys.
        size: u64,
        /// Keys with a TTL.
        expires_size: u64,
    },
    /// A function library (FUNCTION2 payload, or an old FUNCTION record converted to one).
    Function(Vec<u8>),
    /// Module auxiliary data (skipped).
    ModuleAux {
        /// Module type id.
        id: u64,
        /// Its name.
        name: String,
        /// When the data is loaded (before/after keys).
        when: u64,
    },
    /// A key.
    Key(KeyEntry),
    /// The end: checksum stored in the file (if version >= 5) and the one computed.
    Eof {
        /// Stored checksum (`None` before version 5; `Some(0)` means disabled).
        stored: Option<u64>,
        /// Checksum of everything before it.
        computed: u64,
    },
}

/// Streaming reader over an RDB byte stream.
pub struct Reader<R> {
    inner: R,
    offset: u64,
    crc: u64,
    version: u32,
    db: u64,
    done: bool,
    valkey: bool,
}

fn eof<T>(offset: u64) -> Result<T> {
    Err(RdbError {
        offset,
        kind: ErrorKind::Eof,
    })
}

impl<R: Read> Reader<R> {
    /// A reader positioned at the start of the stream (nothing read yet).
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            offset: 0,
            crc: 0,
            version: 10,
            db: 0,
            done: false,
            valkey: false,
        }
    }

    /// Bytes consumed by successful reads so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// CRC-64 of everything consumed so far.
    pub fn crc(&self) -> u64 {
        self.crc
    }

    /// The version read from the header (or set with [`Reader::set_version`]).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Sets the version used for version-dependent decoding (for DUMP payloads).
    pub fn set_version(&mut self, v: u32) {
        self.version = v;
    }

    /// Sets the current database (for reading from the middle of a file).
    pub fn set_db(&mut self, db: u64) {
        self.db = db;
    }

    /// Gives the underlying reader back.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn corrupt<T>(&self, line: u32, msg: impl Into<String>) -> Result<T> {
        Err(RdbError {
            offset: self.offset,
            kind: ErrorKind::Corrupt {
                line,
                msg: msg.into(),
            },
        })
    }

    /// An error in a structure Redis 7.0 does not know (no `rdb.c` line to quote).
    fn invalid<T>(&self, msg: &str) -> Result<T> {
        Err(RdbError {
            offset: self.offset,
            kind: ErrorKind::Other(msg.to_string()),
        })
    }

    fn map_eof_other<T>(&self, e: RdbError, msg: &str) -> Result<T> {
        match e.kind {
            ErrorKind::Eof => self.invalid(msg),
            _ => Err(e),
        }
    }

    /// Reads exactly `n` bytes; on a short read nothing counts as consumed (like `rioRead`).
    /// Allocation follows the data actually read, not `n`.
    pub fn read_bytes(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        if n <= 1 << 16 {
            v.resize(n as usize, 0);
            if let Err(e) = self.inner.read_exact(&mut v) {
                return self.io_err(e);
            }
        } else {
            let got = (&mut self.inner)
                .take(n)
                .read_to_end(&mut v)
                .map_err(|e| RdbError {
                    offset: self.offset,
                    kind: ErrorKind::Io(e.to_string()),
                })?;
            if (got as u64) < n {
                return eof(self.offset);
            }
        }
        self.offset += n;
        self.crc = crc64(self.crc, &v);
        Ok(v)
    }

    fn io_err<T>(&self, e: std::io::Error) -> Result<T> {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            eof(self.offset)
        } else {
            Err(RdbError {
                offset: self.offset,
                kind: ErrorKind::Io(e.to_string()),
            })
        }
    }

    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        if let Err(e) = self.inner.read_exact(&mut a) {
            return self.io_err(e);
        }
        self.offset += N as u64;
        self.crc = crc64(self.crc, &a);
        Ok(a)
    }

    /// One byte (a type or opcode).
    pub fn read_u8(&mut self) -> Result<u8> {
        Ok(self.read_array::<1>()?[0])
    }

    /// A length: `(value, encoded)`; for the special encodings `value` is the encoding (0..63).
    pub fn read_len_enc(&mut self) -> Result<(u64, bool)> {
        let b = self.read_u8()?;
        match b >> 6 {
            0 => Ok(((b & 0x3f) as u64, false)),
            1 => {
                let b2 = self.read_u8()?;
                Ok(((((b & 0x3f) as u64) << 8) | b2 as u64, false))
            }
            3 => Ok(((b & 0x3f) as u64, true)),
            _ if b == 0x80 => Ok((u32::from_be_bytes(self.read_array()?) as u64, false)),
            _ if b == 0x81 => Ok((u64::from_be_bytes(self.read_array()?), false)),
            t => self.corrupt(236, format!("Unknown length encoding {t} in rdbLoadLen()")),
        }
    }

    /// A length.
    pub fn read_len(&mut self) -> Result<u64> {
        Ok(self.read_len_enc()?.0)
    }

    /// A string (plain, integer-encoded or LZF-compressed).
    pub fn read_string(&mut self) -> Result<Vec<u8>> {
        let (len, encoded) = self.read_len_enc()?;
        if !encoded {
            if len == 0 {
                return Ok(Vec::new());
            }
            return self.read_bytes(len);
        }
        match len {
            0 => Ok((self.read_array::<1>()?[0] as i8).to_string().into_bytes()),
            1 => Ok(i16::from_le_bytes(self.read_array()?)
                .to_string()
                .into_bytes()),
            2 => Ok(i32::from_le_bytes(self.read_array()?)
                .to_string()
                .into_bytes()),
            3 => {
                let clen = self.read_len()?;
                let len = self.read_len()?;
                let c = self.read_bytes(clen)?;
                match crate::lzf::decompress(&c, usize::try_from(len).unwrap_or(usize::MAX)) {
                    Ok(v) => Ok(v),
                    Err(_) => self.corrupt(413, "Invalid LZF compressed string"),
                }
            }
            e => self.corrupt(529, format!("Unknown RDB string encoding type {e}")),
        }
    }

    /// An 8-byte little-endian millisecond time.
    pub fn read_millis(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }

    /// A 4-byte second time.
    pub fn read_secs(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.read_array()?))
    }

    /// A binary double (ZSET_2).
    pub fn read_binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.read_array()?))
    }

    /// A textual double (ZSET v1): length byte, 253/254/255 for NaN/+inf/-inf.
    pub fn read_text_double(&mut self) -> Result<f64> {
        let len = self.read_u8()?;
        match len {
            255 => Ok(f64::NEG_INFINITY),
            254 => Ok(f64::INFINITY),
            253 => Ok(f64::NAN),
            n => {
                let start = self.offset;
                let b = self.read_bytes(n as u64)?;
                parse_c_double(&b).ok_or(RdbError {
                    offset: start + n as u64,
                    kind: ErrorKind::Eof,
                })
            }
        }
    }

    /// Reads and checks the 9-byte header (`REDIS0010`, `VALKEY080`...).
    pub fn read_header(&mut self) -> Result<Header> {
        let magic = self.read_array::<9>()?;
        let (valkey, digits): (bool, &[u8]) = if &magic[..5] == b"REDIS" {
            (false, &magic[5..])
        } else if &magic[..6] == b"VALKEY" {
            (true, &magic[6..])
        } else {
            return Err(RdbError {
                offset: self.offset,
                kind: ErrorKind::Other("Wrong signature trying to load DB from file".into()),
            });
        };
        let version = atoi(digits);
        let ok = if valkey {
            version >= 80
        } else {
            (1..=12).contains(&version)
        };
        if !ok {
            return Err(RdbError {
                offset: self.offset,
                kind: ErrorKind::Other(format!("Can't handle RDB format version {version}")),
            });
        }
        self.version = version as u32;
        self.valkey = valkey;
        Ok(Header {
            version: version as u32,
            valkey,
        })
    }

    /// A function record's payload (FUNCTION2, or old FUNCTION converted to the new form).
    /// Errors are Redis's `rdbFunctionLoad` texts in [`ErrorKind::Other`].
    pub fn read_function(&mut self, opcode: u8) -> Result<Vec<u8>> {
        let fail = |r: &Self, e: RdbError, msg: &str| -> RdbError {
            match e.kind {
                ErrorKind::Eof => RdbError {
                    offset: r.offset,
                    kind: ErrorKind::Other(format!("Failed loading library, {msg}")),
                },
                _ => e,
            }
        };
        if opcode == opcodes::FUNCTION2 {
            return self
                .read_string()
                .map_err(|e| fail(self, e, "Failed loading library payload"));
        }
        let name = self
            .read_string()
            .map_err(|e| fail(self, e, "Failed loading library name"))?;
        let engine = self
            .read_string()
            .map_err(|e| fail(self, e, "Failed loading engine name"))?;
        let has_desc = self
            .read_len()
            .map_err(|e| fail(self, e, "Failed loading library description indicator"))?;
        if has_desc != 0 {
            self.read_string()
                .map_err(|e| fail(self, e, "Failed loading library description"))?;
        }
        let blob = self
            .read_string()
            .map_err(|e| fail(self, e, "Failed loading library blob"))?;
        let mut out = b"#!".to_vec();
        out.extend_from_slice(&engine);
        out.extend_from_slice(b" name=");
        out.extend_from_slice(&name);
        out.push(b'\n');
        out.extend_from_slice(&blob);
        Ok(out)
    }

    /// Skips a module value's annotated content up to its EOF marker (`rdbLoadCheckModuleValue`).
    pub fn skip_module_value(&mut self, name: &str) -> Result<()> {
        loop {
            let op = self.read_len()?;
            match op {
                module_op::EOF => return Ok(()),
                module_op::SINT | module_op::UINT => {
                    if let Err(e) = self.read_len() {
                        return self.map_eof(
                            e,
                            1540,
                            format!("Error reading integer from module {name} value"),
                        );
                    }
                }
                module_op::STRING => {
                    if let Err(e) = self.read_string() {
                        return self.map_eof(
                            e,
                            1546,
                            format!("Error reading string from module {name} value"),
                        );
                    }
                }
                module_op::FLOAT => {
                    if let Err(e) = self.read_array::<4>() {
                        return self.map_eof(
                            e,
                            1553,
                            format!("Error reading float from module {name} value"),
                        );
                    }
                }
                module_op::DOUBLE => {
                    if let Err(e) = self.read_array::<8>() {
                        return self.map_eof(
                            e,
                            1559,
                            format!("Error reading double from module {name} value"),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// Turns an end-of-file error into Redis's specific report for that place.
    fn map_eof<T>(&self, e: RdbError, line: u32, msg: impl Into<String>) -> Result<T> {
        match e.kind {
            ErrorKind::Eof => Err(RdbError {
                offset: e.offset,
                kind: ErrorKind::Corrupt {
                    line,
                    msg: msg.into(),
                },
            }),
            _ => Err(e),
        }
    }

    /// Reads a value of RDB type `t` (after its key), with Redis's checks and messages.
    /// Types 22 and up mean different things in Redis 7.4 files and Valkey files (see
    /// [`types::VALKEY_HASH_2`]); the header read decides.
    pub fn read_object(&mut self, t: u8) -> Result<Value> {
        use types::*;
        if self.valkey && t >= VALKEY_HASH_2 {
            return self.read_valkey_object(t);
        }
        match t {
            STRING => Ok(Value::String(self.read_string()?)),
            LIST => {
                let len = self.read_len()?;
                if len == 0 {
                    return eof(self.offset);
                }
                let mut v = Vec::new();
                for _ in 0..len {
                    v.push(self.read_string()?);
                }
                Ok(Value::List(v))
            }
            SET => self.read_plain_set(),
            ZSET | ZSET_2 => self.read_plain_zset(t == ZSET_2),
            HASH => self.read_plain_hash(),
            LIST_QUICKLIST | LIST_QUICKLIST_2 => self.read_quicklist(t == LIST_QUICKLIST_2),
            HASH_ZIPMAP => {
                let b = self.read_string()?;
                let pairs = match zipmap::pairs(&b) {
                    Some(p) => p,
                    None => return self.corrupt(2130, "Zipmap integrity check failed."),
                };
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for (f, v) in pairs {
                    if !seen.insert(f.clone()) {
                        return self.corrupt(
                            2154,
                            format!("Hash zipmap with dup elements, or big length ({})", f.len()),
                        );
                    }
                    out.push(HashField {
                        field: f,
                        value: v,
                        expire_ms: None,
                    });
                }
                Ok(Value::Hash(out))
            }
            LIST_ZIPLIST => {
                let b = self.read_string()?;
                match ziplist::elements(&b) {
                    None => self.corrupt(2189, "List ziplist integrity check failed."),
                    Some(v) if v.is_empty() => eof(self.offset),
                    Some(v) => Ok(Value::List(v)),
                }
            }
            SET_INTSET => {
                let b = self.read_string()?;
                if !intset::validate(&b, true) {
                    return self.corrupt(2214, "Intset integrity check failed.");
                }
                Ok(Value::Set(
                    intset::values(&b)
                        .into_iter()
                        .map(|v| v.to_string().into_bytes())
                        .collect(),
                ))
            }
            SET_LISTPACK => {
                let b = self.read_string()?;
                let mut seen = HashSet::new();
                let ok = listpack::validate_with(&b, true, |p| {
                    seen.insert(listpack::get(&b, p).0.to_bytes())
                });
                if !ok {
                    return self.invalid("Set listpack integrity check failed.");
                }
                let v: Vec<Vec<u8>> = listpack::elements(&b)
                    .iter()
                    .map(|e| e.to_bytes())
                    .collect();
                if v.is_empty() {
                    return eof(self.offset);
                }
                Ok(Value::Set(v))
            }
            ZSET_ZIPLIST | HASH_ZIPLIST => {
                let b = self.read_string()?;
                let (line, what) = if t == ZSET_ZIPLIST {
                    (2229, "Zset ziplist integrity check failed.")
                } else {
                    (2275, "Hash ziplist integrity check failed.")
                };
                let els = match ziplist::elements(&b) {
                    Some(v) if v.len() % 2 == 0 && no_dup_fields(&v) => v,
                    _ => return self.corrupt(line, what),
                };
                if els.is_empty() {
                    return eof(self.offset);
                }
                self.pairs_value(t == ZSET_ZIPLIST, els)
            }
            ZSET_LISTPACK | HASH_LISTPACK => {
                let b = self.read_string()?;
                let (line, what) = if t == ZSET_LISTPACK {
                    (2255, "Zset listpack integrity check failed.")
                } else {
                    (2301, "Hash listpack integrity check failed.")
                };
                let mut seen = HashSet::new();
                let mut n = 0u64;
                let ok = listpack::validate_with(&b, true, |p| {
                    n += 1;
                    n % 2 == 0 || seen.insert(listpack::get(&b, p).0.to_bytes())
                });
                if !ok || n % 2 == 1 {
                    return self.corrupt(line, what);
                }
                let els: Vec<Vec<u8>> = listpack::elements(&b)
                    .iter()
                    .map(|e| e.to_bytes())
                    .collect();
                if els.is_empty() {
                    return eof(self.offset);
                }
                self.pairs_value(t == ZSET_LISTPACK, els)
            }
            HASH_LISTPACK_EX | HASH_LISTPACK_EX_PRE_GA => {
                if t == HASH_LISTPACK_EX {
                    self.read_millis()?;
                }
                let b = self.read_string()?;
                let mut seen = HashSet::new();
                let mut n = 0u64;
                let ok = listpack::validate_with(&b, true, |p| {
                    n += 1;
                    n % 3 != 1 || seen.insert(listpack::get(&b, p).0.to_bytes())
                });
                if !ok || n % 3 != 0 {
                    return self.invalid("Hash listpack integrity check failed.");
                }
                let els = listpack::elements(&b);
                let mut out = Vec::new();
                for c in els.chunks_exact(3) {
                    let ttl = c[2].as_int().unwrap_or(0);
                    out.push(HashField {
                        field: c[0].to_bytes(),
                        value: c[1].to_bytes(),
                        expire_ms: if ttl == 0 { None } else { Some(ttl) },
                    });
                }
                if out.is_empty() {
                    return eof(self.offset);
                }
                Ok(Value::Hash(out))
            }
            HASH_METADATA | HASH_METADATA_PRE_GA => {
                let min_expire = if t == HASH_METADATA {
                    self.read_millis()?
                } else {
                    0
                };
                let len = self.read_len()?;
                if len == 0 {
                    return eof(self.offset);
                }
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for _ in 0..len {
                    let ttl = self.read_len()?;
                    let field = self.read_string()?;
                    let value = self.read_string()?;
                    if !seen.insert(field.clone()) {
                        return self.invalid("Duplicate hash fields detected");
                    }
                    let expire_ms = match (ttl, t == HASH_METADATA) {
                        (0, _) => None,
                        (x, true) => Some((x as i64).wrapping_add(min_expire).wrapping_sub(1)),
                        (x, false) => Some(x as i64),
                    };
                    out.push(HashField {
                        field,
                        value,
                        expire_ms,
                    });
                }
                Ok(Value::Hash(out))
            }
            STREAM_LISTPACKS | STREAM_LISTPACKS_2 | STREAM_LISTPACKS_3 => self.read_stream(t),
            MODULE | MODULE_2 => {
                let id = match self.read_len() {
                    Ok(v) => v,
                    Err(e) => return self.map_eof(e, 2622, "Short read module id"),
                };
                let name = module_type_name(id);
                if t == MODULE_2 {
                    self.skip_module_value(&name)?;
                    return Ok(Value::Module { id, name });
                }
                self.corrupt(
                    2636,
                    format!(
                        "The RDB file contains module data I can't load: no matching module type '{name}'"
                    ),
                )
            }
            other => self.corrupt(2681, format!("Unknown RDB encoding type {other}")),
        }
    }

    fn read_valkey_object(&mut self, t: u8) -> Result<Value> {
        if t != types::VALKEY_HASH_2 {
            return Err(RdbError {
                offset: self.offset,
                kind: ErrorKind::Other(format!("Unsupported Valkey object type: {t}")),
            });
        }
        // Valkey 9's hash with field expiry: pairs followed by their expiry (-1 for none).
        let len = self.read_len()?;
        if len == 0 {
            return eof(self.offset);
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..len {
            let field = self.read_string()?;
            let value = self.read_string()?;
            let exp = self.read_millis()?;
            if !seen.insert(field.clone()) {
                return self.invalid("Duplicate hash fields detected");
            }
            out.push(HashField {
                field,
                value,
                expire_ms: (exp != -1).then_some(exp),
            });
        }
        Ok(Value::Hash(out))
    }

    /// Marks the stream as coming from Valkey (for DUMP payloads, which carry no magic).
    pub fn set_valkey(&mut self, valkey: bool) {
        self.valkey = valkey;
    }

    fn pairs_value(&self, zset: bool, els: Vec<Vec<u8>>) -> Result<Value> {
        let mut it = els.into_iter();
        if zset {
            let mut out = Vec::new();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                out.push((m, parse_c_double(&s).unwrap_or(0.0)));
            }
            Ok(Value::ZSet(out))
        } else {
            let mut out = Vec::new();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                out.push(HashField {
                    field: f,
                    value: v,
                    expire_ms: None,
                });
            }
            Ok(Value::Hash(out))
        }
    }

    fn read_plain_set(&mut self) -> Result<Value> {
        let len = self.read_len()?;
        if len == 0 {
            return eof(self.offset);
        }
        let mut intset_mode = len <= SET_MAX_INTSET_ENTRIES;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..len {
            let m = self.read_string()?;
            if intset_mode && crate::encodings::parse_strict_i64(&m).is_none() {
                intset_mode = false;
            }
            if !seen.insert(m.clone()) {
                let line = if intset_mode { 1809 } else { 1829 };
                return self.corrupt(line, "Duplicate set members detected");
            }
            out.push(m);
        }
        Ok(Value::Set(out))
    }

    fn read_plain_zset(&mut self, binary: bool) -> Result<Value> {
        let len = self.read_len()?;
        if len == 0 {
            return eof(self.offset);
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..len {
            let m = self.read_string()?;
            let score = if binary {
                self.read_binary_double()?
            } else {
                self.read_text_double()?
            };
            if score.is_nan() {
                return self.corrupt(1882, "Zset with NAN score detected");
            }
            if !seen.insert(m.clone()) {
                return self.corrupt(1894, "Duplicate zset fields detected");
            }
            out.push((m, score));
        }
        Ok(Value::ZSet(out))
    }

    fn read_plain_hash(&mut self) -> Result<Value> {
        let len = self.read_len()?;
        if len == 0 {
            return eof(self.offset);
        }
        let mut listpack_phase = len <= HASH_MAX_LISTPACK_ENTRIES;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..len {
            let field = self.read_string()?;
            let value = self.read_string()?;
            if !seen.insert(field.clone()) {
                let line = if listpack_phase { 1951 } else { 2019 };
                let msg = if listpack_phase {
                    "Hash with dup elements"
                } else {
                    "Duplicate hash fields detected"
                };
                return self.corrupt(line, msg);
            }
            if field.len() > HASH_MAX_LISTPACK_VALUE || value.len() > HASH_MAX_LISTPACK_VALUE {
                listpack_phase = false;
            }
            out.push(HashField {
                field,
                value,
                expire_ms: None,
            });
        }
        Ok(Value::Hash(out))
    }

    fn read_quicklist(&mut self, v2: bool) -> Result<Value> {
        let len = self.read_len()?;
        if len == 0 {
            return eof(self.offset);
        }
        let mut out = Vec::new();
        for _ in 0..len {
            let container = if v2 { self.read_len()? } else { 2 };
            if container != 1 && container != 2 {
                return self.corrupt(2048, "Quicklist integrity check failed.");
            }
            let data = self.read_string()?;
            if data.is_empty() {
                return eof(self.offset);
            }
            if container == 1 {
                out.push(data);
                continue;
            }
            if v2 {
                if !listpack::validate(&data, true) {
                    return self.corrupt(2071, "Listpack integrity check failed.");
                }
                out.extend(listpack::elements(&data).iter().map(|e| e.to_bytes()));
            } else {
                match ziplist::elements(&data) {
                    Some(v) => out.extend(v),
                    None => return self.corrupt(2081, "Ziplist integrity check failed."),
                }
            }
        }
        if out.is_empty() {
            return eof(self.offset);
        }
        Ok(Value::List(out))
    }

    /// Reads lengths Redis reads without checking each (`rdbLoadLen` then `rioGetReadError`):
    /// the first failure is remembered and reported at the end with `line`/`msg`.
    fn lens<const N: usize>(&mut self, line: u32, msg: &str) -> Result<[u64; N]> {
        let mut out = [0u64; N];
        for slot in out.iter_mut() {
            match self.read_len() {
                Ok(v) => *slot = v,
                Err(e) => return self.map_eof(e, line, msg),
            }
        }
        Ok(out)
    }

    fn read_stream(&mut self, t: u8) -> Result<Value> {
        let mut s = Stream::default();
        let nodes = match self.read_len() {
            Ok(v) => v,
            Err(e) => return self.map_eof(e, 2327, "Stream listpacks len loading failed."),
        };
        let mut keys = HashSet::new();
        for _ in 0..nodes {
            let nodekey = match self.read_string() {
                Ok(v) => v,
                Err(e) => {
                    return self.map_eof(
                        e,
                        2338,
                        "Stream master ID loading failed: invalid encoding or I/O error.",
                    )
                }
            };
            if nodekey.len() != 16 {
                return self.corrupt(2343, "Stream node key entry is not the size of a stream ID");
            }
            let lp = match self.read_string() {
                Ok(v) => v,
                Err(e) => return self.map_eof(e, 2355, "Stream listpacks loading failed."),
            };
            if !validate_stream_listpack(&lp) {
                return self.corrupt(2362, "Stream listpack integrity check failed.");
            }
            if lp.len() > 6 && lp[6] == 0xff {
                return self.corrupt(2374, "Empty listpack inside stream");
            }
            if !keys.insert(nodekey.clone()) {
                return self.corrupt(2386, "Listpack re-added with existing key");
            }
            s.nodes.push((StreamId::from_be(&nodekey), lp));
        }
        let meta_msg = "Stream object metadata loading failed.";
        let [length, lms, lseq] = self.lens::<3>(2424, meta_msg)?;
        s.length = length;
        s.last_id = StreamId { ms: lms, seq: lseq };
        if t != types::STREAM_LISTPACKS {
            let [fms, fseq, dms, dseq, added] = self.lens::<5>(2424, meta_msg)?;
            s.first_id = Some(StreamId { ms: fms, seq: fseq });
            s.max_deleted_id = Some(StreamId { ms: dms, seq: dseq });
            s.entries_added = Some(added);
        }
        if s.length != 0 && s.nodes.is_empty() {
            return self.corrupt(2430, "Stream length inconsistent with rax entries");
        }
        let ngroups = match self.read_len() {
            Ok(v) => v,
            Err(e) => return self.map_eof(e, 2438, "Stream cgroup count loading failed."),
        };
        let mut group_names = HashSet::new();
        for _ in 0..ngroups {
            let name = match self.read_string() {
                Ok(v) => v,
                Err(e) => {
                    return self.map_eof(
                        e,
                        2449,
                        "Error reading the consumer group name from Stream",
                    )
                }
            };
            let [ms, seq] = self.lens::<2>(2458, "Stream cgroup ID loading failed.")?;
            let entries_read = if t != types::STREAM_LISTPACKS {
                Some(self.lens::<1>(2469, "Stream cgroup offset loading failed.")?[0])
            } else {
                None
            };
            if !group_names.insert(name.clone()) {
                return self.corrupt(
                    2480,
                    format!("Duplicated consumer group name {}", c_str(&name)),
                );
            }
            let mut g = ConsumerGroup {
                name,
                last_id: StreamId { ms, seq },
                entries_read,
                pending: Vec::new(),
                consumers: Vec::new(),
            };
            let pel = self.lens::<1>(2495, "Stream PEL size loading failed.")?[0];
            let mut pel_ids: HashSet<StreamId> = HashSet::new();
            for _ in 0..pel {
                let raw = match self.read_array::<16>() {
                    Ok(v) => v,
                    Err(e) => return self.map_eof(e, 2502, "Stream PEL ID loading failed."),
                };
                let msg = "Stream PEL NACK loading failed.";
                let delivery_time = match self.read_millis() {
                    Ok(v) => v,
                    Err(e) => return self.map_eof(e, 2510, msg),
                };
                let delivery_count = self.lens::<1>(2510, msg)?[0];
                let id = StreamId::from_be(&raw);
                if !pel_ids.insert(id) {
                    return self.corrupt(
                        2516,
                        "Duplicated global PEL entry loading stream consumer group",
                    );
                }
                g.pending.push(PendingEntry {
                    id,
                    delivery_time,
                    delivery_count,
                });
            }
            let ncons = self.lens::<1>(2527, "Stream consumers num loading failed.")?[0];
            let mut cons_names = HashSet::new();
            let mut owned: HashSet<StreamId> = HashSet::new();
            for _ in 0..ncons {
                let cname = match self.read_string() {
                    Ok(v) => v,
                    Err(e) => {
                        return self.map_eof(
                            e,
                            2534,
                            "Error reading the consumer name from Stream group.",
                        )
                    }
                };
                if !cons_names.insert(cname.clone()) {
                    return self.corrupt(2543, "Duplicate stream consumer detected.");
                }
                let seen_time = match self.read_millis() {
                    Ok(v) => v,
                    Err(e) => return self.map_eof(e, 2549, "Stream short read reading seen time."),
                };
                let active_time = if t == types::STREAM_LISTPACKS_3 {
                    match self.read_millis() {
                        Ok(v) => v,
                        Err(e) => {
                            return self.map_eof_other(e, "Stream short read reading active time.")
                        }
                    }
                } else {
                    -1
                };
                let npel = self.lens::<1>(2558, "Stream consumer PEL num loading failed.")?[0];
                let mut c = Consumer {
                    name: cname,
                    seen_time,
                    active_time,
                    pending: Vec::new(),
                };
                for _ in 0..npel {
                    let raw = match self.read_array::<16>() {
                        Ok(v) => v,
                        Err(e) => {
                            return self.map_eof(e, 2566, "Stream short read reading PEL streamID.")
                        }
                    };
                    let id = StreamId::from_be(&raw);
                    if !pel_ids.contains(&id) {
                        return self.corrupt(2573, "Consumer entry not found in group global PEL");
                    }
                    // Debian's 7.0.15 checks that the entry has no consumer yet, which
                    // also catches an ID listed twice by one consumer.
                    if !owned.insert(id) {
                        return self.corrupt(
                            2583,
                            "Stream consumer PEL entry already has a consumer assigned",
                        );
                    }
                    c.pending.push(id);
                }
                g.consumers.push(c);
            }
            if owned.len() != pel_ids.len() {
                return self.corrupt(2611, "Stream CG PEL entry without consumer");
            }
            s.groups.push(g);
        }
        Ok(Value::Stream(Box::new(s)))
    }

    /// The next record; after [`Record::Eof`] every call returns `Eof` again.
    pub fn next_record(&mut self) -> Result<Record> {
        if self.done {
            return Ok(Record::Eof {
                stored: None,
                computed: self.crc,
            });
        }
        let start = self.offset;
        let mut expire_ms = None;
        let mut idle = None;
        let mut freq = None;
        loop {
            let t = self.read_u8()?;
            match t {
                opcodes::EXPIRETIME => expire_ms = Some(self.read_secs()? as i64 * 1000),
                opcodes::EXPIRETIME_MS => expire_ms = Some(self.read_millis()?),
                opcodes::FREQ => freq = Some(self.read_u8()?),
                opcodes::IDLE => idle = Some(self.read_len()?),
                opcodes::EOF => {
                    self.done = true;
                    let computed = self.crc;
                    let stored = if self.version >= 5 {
                        Some(u64::from_le_bytes(self.read_array()?))
                    } else {
                        None
                    };
                    return Ok(Record::Eof { stored, computed });
                }
                opcodes::SELECTDB => {
                    self.db = self.read_len()?;
                    return Ok(Record::SelectDb(self.db));
                }
                opcodes::RESIZEDB => {
                    let db_size = self.read_len()?;
                    let expires_size = self.read_len()?;
                    return Ok(Record::ResizeDb {
                        db_size,
                        expires_size,
                    });
                }
                opcodes::SLOT_INFO => {
                    let slot = self.read_len()?;
                    let size = self.read_len()?;
                    let expires_size = self.read_len()?;
                    return Ok(Record::SlotInfo {
                        slot,
                        size,
                        expires_size,
                    });
                }
                opcodes::AUX => {
                    let key = self.read_string()?;
                    let value = self.read_string()?;
                    return Ok(Record::Aux { key, value });
                }
                opcodes::MODULE_AUX => {
                    let id = self.read_len()?;
                    let when_op = self.read_len()?;
                    let when = self.read_len()?;
                    if when_op != module_op::UINT {
                        return Err(RdbError {
                            offset: self.offset,
                            kind: ErrorKind::Other("bad when_opcode".into()),
                        });
                    }
                    let name = module_type_name(id);
                    self.skip_module_value(&name)?;
                    return Ok(Record::ModuleAux { id, name, when });
                }
                opcodes::FUNCTION | opcodes::FUNCTION2 => {
                    return Ok(Record::Function(self.read_function(t)?));
                }
                t if types::is_known(t) => {
                    let key = self.read_string()?;
                    let value = self.read_object(t)?;
                    return Ok(Record::Key(KeyEntry {
                        db: self.db,
                        key,
                        expire_ms,
                        idle,
                        freq,
                        rdb_type: t,
                        value,
                        start_offset: start,
                    }));
                }
                t => {
                    return Err(RdbError {
                        offset: self.offset,
                        kind: ErrorKind::Other(format!("Invalid object type: {t}")),
                    })
                }
            }
        }
    }
}

fn no_dup_fields(v: &[Vec<u8>]) -> bool {
    let mut seen = HashSet::new();
    v.iter().step_by(2).all(|f| seen.insert(f))
}

/// `streamValidateListpackIntegrity` (deep).
pub fn validate_stream_listpack(lp: &[u8]) -> bool {
    let Some(offs) = listpack::entry_offsets(lp) else {
        return false;
    };
    let int = |i: usize| offs.get(i).and_then(|&p| listpack::int_at(lp, p));
    let mut i = 0usize;
    let Some(count) = int(i) else { return false };
    i += 1;
    let Some(deleted) = int(i) else { return false };
    i += 1;
    let Some(master_fields) = int(i) else {
        return false;
    };
    i += 1;
    if master_fields < 0 {
        return false;
    }
    i = match i.checked_add(master_fields as usize) {
        Some(v) => v,
        None => return false,
    };
    if int(i) != Some(0) {
        return false;
    }
    i += 1;
    let mut remaining = count.wrapping_add(deleted);
    while remaining != 0 {
        remaining = remaining.wrapping_sub(1);
        let Some(flags) = int(i) else { return false };
        i += 1;
        if int(i).is_none() || int(i + 1).is_none() {
            return false;
        }
        i += 2;
        let mut fields = master_fields;
        let mut extra = 3i64;
        if flags & 2 == 0 {
            let Some(f) = int(i) else { return false };
            if f < 0 || f as usize > offs.len() {
                return false;
            }
            fields = f;
            i += 1 + f as usize;
            extra += f + 1;
        }
        i += fields as usize;
        if i > offs.len() {
            return false;
        }
        let Some(lp_count) = int(i) else {
            return false;
        };
        if lp_count != fields + extra {
            return false;
        }
        i += 1;
    }
    i == offs.len()
}

/// The bytes up to the first NUL, as C's `%s` prints them.
pub fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn atoi(b: &[u8]) -> i64 {
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || (9..=13).contains(&b[i])) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

/// Parses the longest prefix of `b` that C's `strtod` would accept (`%lg`).
pub fn parse_c_double(b: &[u8]) -> Option<f64> {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    let end = s.find('\0').unwrap_or(s.len());
    let s = &s[..end];
    let mut best = None;
    for (i, _) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        if i == 0 {
            continue;
        }
        let p = &s[..i];
        let lower = p.to_ascii_lowercase();
        let t = lower.trim_start_matches(['+', '-']);
        let is_word = t.starts_with("inf") || t.starts_with("nan");
        if (is_word && !matches!(t, "inf" | "infinity" | "nan")) || lower.contains('_') {
            continue;
        }
        if let Ok(v) = p.parse::<f64>() {
            best = Some(v);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_doubles() {
        assert_eq!(parse_c_double(b"1.5"), Some(1.5));
        assert_eq!(parse_c_double(b" 2abc"), Some(2.0));
        assert_eq!(parse_c_double(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_c_double(b"x"), None);
        assert_eq!(parse_c_double(b"-3e2"), Some(-300.0));
    }

    #[test]
    fn huge_length_is_eof_not_allocation() {
        // A string claiming 2^32-1 bytes in a tiny input.
        let data = [0x80u8, 0xff, 0xff, 0xff, 0xff, b'a', b'b'];
        let mut r = Reader::new(&data[..]);
        let e = r.read_string().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Eof);
        assert_eq!(e.offset, 5);
    }

    #[test]
    fn stream_listpack_rules() {
        // count 1, deleted 0, one master field "a", terminator; one entry with the same
        // fields: flags 2, ID deltas 0 0, value, lp-count 4.
        let mut b = listpack::Builder::new();
        for e in ["1", "0", "1", "a", "0", "2", "0", "0", "v", "4"] {
            b.push(e.as_bytes());
        }
        let mut lp = b.finish();
        assert!(validate_stream_listpack(&lp));
        // Redis's stream validator does not check the header's element count.
        lp[4] = 7;
        assert!(validate_stream_listpack(&lp));
        let mut b = listpack::Builder::new();
        for e in ["1", "0", "1", "a", "0", "2", "0", "0", "v", "5"] {
            b.push(e.as_bytes());
        }
        assert!(!validate_stream_listpack(&b.finish()));
    }

    #[test]
    fn module_names() {
        assert_eq!(module_type_name(5), "AAAAAAAAA");
    }
}
