//! `redis-check-rdb`.

use crate::util::{now_ms, server_log};
use redis_rdb::reader::opcodes;
use redis_rdb::value::{module_type_name, types};
use redis_rdb::{RdbError, Reader};
use std::io::{BufReader, Read, Write};

const DOING: [&str; 10] = [
    "start",
    "read-type",
    "read-expire",
    "read-key",
    "read-object-value",
    "check-sum",
    "read-len",
    "read-aux",
    "read-module-aux",
    "read-functions",
];

const TYPE_NAMES: [&str; 19] = [
    "string",
    "list-linked",
    "set-hashtable",
    "zset-v1",
    "hash-hashtable",
    "zset-v2",
    "module-value",
    "",
    "",
    "hash-zipmap",
    "list-ziplist",
    "set-intset",
    "zset-ziplist",
    "hash-ziplist",
    "quicklist",
    "stream",
    "hash-listpack",
    "zset-listpack",
    "quicklist-v2",
];

#[derive(Clone, Copy)]
enum Doing {
    Start = 0,
    ReadType = 1,
    ReadExpire = 2,
    ReadKey = 3,
    ReadObjectValue = 4,
    CheckSum = 5,
    ReadLen = 6,
    ReadAux = 7,
    ReadModuleAux = 8,
    ReadFunctions = 9,
}

/// The checker's state, as Redis keeps it in `rdbstate` (which outlives one check when the
/// AOF checker runs it on a preamble).
pub struct State {
    key: Option<Vec<u8>>,
    key_type: i32,
    keys: u64,
    expires: u64,
    already_expired: u64,
    doing: Doing,
    offset: u64,
    /// Read what Redis 7.0 refuses too (RDB 11, 12, Valkey's 80): for the extended modes.
    pub accept_newer: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            key: None,
            key_type: 0,
            keys: 0,
            expires: 0,
            already_expired: 0,
            doing: Doing::Start,
            offset: 0,
            accept_newer: false,
        }
    }
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The file is sane.
    Ok,
    /// An error block was printed; the caller continues (Redis returns 1).
    Failed,
    /// An internal error: Redis logs "Terminating server..." and exits 1 on the spot.
    Terminated,
}

/// Formats like C's `vsnprintf` into a 1024-byte buffer.
fn clip(mut s: Vec<u8>) -> Vec<u8> {
    s.truncate(1023);
    s
}

fn info_line(out: &mut impl Write, offset: u64, msg: &[u8]) {
    let _ = write!(out, "[offset {offset}] ");
    let _ = out.write_all(&clip(msg.to_vec()));
    let _ = out.write_all(b"\n");
}

fn show_generic_info(out: &mut impl Write, st: &State) {
    let _ = writeln!(out, "[info] {} keys read", st.keys);
    let _ = writeln!(out, "[info] {} expires", st.expires);
    let _ = writeln!(out, "[info] {} already expired", st.already_expired);
}

fn check_error(out: &mut impl Write, st: &State, offset: u64, msg: &str) {
    let _ = writeln!(out, "--- RDB ERROR DETECTED ---");
    info_line(out, offset, msg.as_bytes());
    let _ = writeln!(
        out,
        "[additional info] While doing: {}",
        DOING[st.doing as usize]
    );
    if let Some(k) = &st.key {
        let _ = out.write_all(b"[additional info] Reading key '");
        let end = k.iter().position(|&c| c == 0).unwrap_or(k.len());
        let _ = out.write_all(&k[..end]);
        let _ = out.write_all(b"'\n");
    }
    if st.key_type != -1 {
        let name = TYPE_NAMES
            .get(st.key_type as usize)
            .copied()
            .unwrap_or("unknown");
        let _ = writeln!(
            out,
            "[additional info] Reading type {} ({})",
            st.key_type, name
        );
    }
    show_generic_info(out, st);
}

/// Writes the error block (for the extended modes, which print it on stderr).
pub fn error_block(out: &mut impl Write, st: &State, offset: u64, msg: &str) {
    check_error(out, st, offset, msg);
}

/// Reports a reader error the way Redis's checker does; returns the verdict.
fn report(out: &mut impl Write, st: &State, e: &RdbError) -> Verdict {
    check_error(out, st, e.offset, &e.check_message());
    if e.is_internal() {
        let _ = out.flush();
        server_log(out, "Terminating server after rdb file reading failure.");
        Verdict::Terminated
    } else {
        Verdict::Failed
    }
}

/// Redis's `redis_check_rdb` over an open stream: prints the progress and error lines to
/// `out`; `visit` sees every key read (for the extended modes).
pub fn check_stream<R: Read>(
    input: R,
    out: &mut impl Write,
    st: &mut State,
    mut visit: impl FnMut(&redis_rdb::KeyEntry, u64),
) -> (Verdict, u64) {
    let mut r = Reader::new(input);
    macro_rules! t {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => {
                    st.offset = r.offset();
                    return (report(out, st, &e), r.offset());
                }
            }
        };
    }
    macro_rules! fail {
        ($msg:expr) => {{
            st.offset = r.offset();
            let m: String = $msg.into();
            check_error(out, st, r.offset(), &m);
            return (Verdict::Failed, r.offset());
        }};
    }
    let ver = if st.accept_newer {
        t!(r.read_header()).version as i64
    } else {
        let magic = t!(r.read_bytes(9));
        if &magic[..5] != b"REDIS" {
            fail!("Wrong signature trying to load DB from file");
        }
        let ver = atoi(&magic[5..]);
        if !(1..=10).contains(&ver) {
            fail!(format!("Can't handle RDB format version {ver}"));
        }
        r.set_version(ver as u32);
        ver
    };
    let now = now_ms();
    let mut expire: i64 = -1;
    let mut db: u64 = 0;
    let mut idle = None;
    let mut freq = None;
    loop {
        st.doing = Doing::ReadType;
        let start = r.offset();
        let t = t!(r.read_u8());
        match t {
            opcodes::EXPIRETIME => {
                st.doing = Doing::ReadExpire;
                expire = t!(r.read_secs()) as i64 * 1000;
                continue;
            }
            opcodes::EXPIRETIME_MS => {
                st.doing = Doing::ReadExpire;
                expire = t!(r.read_millis());
                continue;
            }
            opcodes::FREQ => {
                freq = Some(t!(r.read_u8()));
                continue;
            }
            opcodes::IDLE => {
                idle = Some(t!(r.read_len()));
                continue;
            }
            opcodes::EOF => break,
            opcodes::SELECTDB => {
                st.doing = Doing::ReadLen;
                db = t!(r.read_len());
                info_line(out, r.offset(), format!("Selecting DB ID {db}").as_bytes());
                continue;
            }
            opcodes::RESIZEDB => {
                st.doing = Doing::ReadLen;
                t!(r.read_len());
                t!(r.read_len());
                continue;
            }
            opcodes::AUX => {
                st.doing = Doing::ReadAux;
                let k = t!(r.read_string());
                let v = t!(r.read_string());
                let mut line = b"AUX FIELD ".to_vec();
                line.extend_from_slice(cstr_bytes(&k));
                line.extend_from_slice(b" = '");
                line.extend_from_slice(cstr_bytes(&v));
                line.push(b'\'');
                info_line(out, r.offset(), &line);
                continue;
            }
            opcodes::MODULE_AUX => {
                st.doing = Doing::ReadModuleAux;
                let id = t!(r.read_len());
                let when_op = t!(r.read_len());
                t!(r.read_len());
                if when_op != 2 {
                    fail!("bad when_opcode");
                }
                let name = module_type_name(id);
                info_line(
                    out,
                    r.offset(),
                    format!("MODULE AUX for: {name}").as_bytes(),
                );
                t!(r.skip_module_value(&name));
                continue;
            }
            opcodes::FUNCTION | opcodes::FUNCTION2 => {
                st.doing = Doing::ReadFunctions;
                t!(r.read_function(t));
                continue;
            }
            opcodes::SLOT_INFO if st.accept_newer => {
                st.doing = Doing::ReadLen;
                for _ in 0..3 {
                    t!(r.read_len());
                }
                continue;
            }
            _ => {
                let known = if st.accept_newer {
                    types::is_known(t)
                } else {
                    types::is_object_type_v10(t)
                };
                if !known {
                    fail!(format!("Invalid object type: {t}"));
                }
                st.key_type = t as i32;
            }
        }
        st.doing = Doing::ReadKey;
        let key = t!(r.read_string());
        st.key = Some(key.clone());
        st.keys += 1;
        st.doing = Doing::ReadObjectValue;
        let value = t!(r.read_object(t));
        if expire != -1 && expire < now {
            st.already_expired += 1;
        }
        if expire != -1 {
            st.expires += 1;
        }
        let size = r.offset() - start;
        visit(
            &redis_rdb::KeyEntry {
                db,
                key,
                expire_ms: (expire != -1).then_some(expire),
                idle: idle.take(),
                freq: freq.take(),
                rdb_type: t,
                value,
                start_offset: start,
            },
            size,
        );
        st.key = None;
        st.key_type = -1;
        expire = -1;
    }
    if ver >= 5 {
        let expected = r.crc();
        st.doing = Doing::CheckSum;
        let c = t!(r.read_bytes(8));
        let mut a = [0u8; 8];
        a.copy_from_slice(&c);
        let stored = u64::from_le_bytes(a);
        if stored == 0 {
            info_line(
                out,
                r.offset(),
                b"RDB file was saved with checksum disabled: no check performed.",
            );
        } else if stored != expected {
            fail!("RDB CRC error");
        } else {
            info_line(out, r.offset(), b"Checksum OK");
        }
    }
    st.offset = r.offset();
    (Verdict::Ok, r.offset())
}

fn cstr_bytes(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

fn atoi(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let t = s.trim_start();
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = d.chars().take_while(|c| c.is_ascii_digit()).collect();
    let v: i64 = digits.parse().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// Redis's `redis_check_rdb_main` body for one file name: prints everything, returns the
/// verdict. `input` is `None` when the file could not be opened.
pub fn check_named<R: Read>(
    name: &[u8],
    input: Option<R>,
    out: &mut impl Write,
    st: &mut State,
    visit: impl FnMut(&redis_rdb::KeyEntry, u64),
) -> (Verdict, u64) {
    let mut line = b"Checking RDB file ".to_vec();
    line.extend_from_slice(name);
    info_line(out, 0, &line);
    let Some(input) = input else {
        return (Verdict::Failed, 0);
    };
    let (v, off) = check_stream(input, out, st, visit);
    if v == Verdict::Ok {
        info_line(out, off, b"\\o/ RDB looks OK! \\o/");
        show_generic_info(out, st);
    }
    (v, off)
}

/// `redis-check-rdb ARGS`: returns the exit code.
pub fn rdb_main(args: Vec<std::ffi::OsString>) -> i32 {
    use std::os::unix::ffi::OsStrExt;
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "redis-check-rdb".into());
    if args.len() > 2 {
        if let Some(code) = crate::rdb_ext::run(&args) {
            return code;
        }
    }
    if args.len() != 2 {
        eprintln!("Usage: {argv0} <rdb-file-name>");
        return 1;
    }
    let arg = args[1].as_bytes();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if arg == b"-v" || arg == b"--version" {
        let _ = writeln!(out, "redis-check-rdb 7.0.15");
        let _ = out.flush();
        return 0;
    }
    let file = std::fs::File::open(&args[1]).ok().map(BufReader::new);
    let mut st = State::default();
    let (v, _) = check_named(arg, file, &mut out, &mut st, |_, _| {});
    let _ = out.flush();
    match v {
        Verdict::Ok => 0,
        _ => 1,
    }
}
