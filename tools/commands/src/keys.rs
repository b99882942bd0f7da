//! Finding the keys of a command line, as Redis 7.0's `COMMAND GETKEYS` does: from the key
//! specs when they are complete and their flags fixed, otherwise with the command's own
//! rules (Redis's "getkeys procs" for EVAL, SORT, MIGRATE, XREAD, ZUNIONSTORE, ...),
//! which this module implements from their documented behaviour.

use crate::flags::{CommandFlags, KeyFlags};
use crate::spec::{BeginSearch, CommandSpec, FindKeys, KeySpec};
use redis_formats::num::parse_i64;
use std::fmt;

/// One key found in a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Its position in argv (the command name is 0).
    pub pos: usize,
    /// How the command uses it (`COMMAND GETKEYSANDFLAGS`); empty where Redis reports none.
    pub flags: KeyFlags,
}

/// Why `COMMAND GETKEYS` gives no keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysError {
    /// The command takes no keys at all.
    NoKeyArguments,
    /// The argument count does not fit the command's arity.
    WrongArity,
    /// The arguments do not say where the keys are (a bad count, a missing keyword, ...).
    InvalidArguments,
}

impl KeysError {
    /// Redis's error reply for it, as `ReplyBuf::error` takes it.
    pub fn reply_text(self) -> &'static str {
        match self {
            KeysError::NoKeyArguments => "ERR The command has no key arguments",
            KeysError::WrongArity => "ERR Invalid number of arguments specified for command",
            KeysError::InvalidArguments => "ERR Invalid arguments specified for command",
        }
    }
}

impl fmt::Display for KeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reply_text()[4..])
    }
}

impl std::error::Error for KeysError {}

/// The commands whose keys Redis finds with special code rather than (only) key specs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GetKeysProc {
    /// A count of keys at `count`, keys from `first` every `step`, and a destination key at
    /// `store` (0: none) listed last.
    Counted {
        store: usize,
        count: usize,
        first: usize,
        step: usize,
    },
    Sort,
    SortRo,
    Migrate,
    Georadius,
    Xread,
    Set,
    Bitfield,
}

impl GetKeysProc {
    /// The special key rule of a command (by its lowercase full name), if Redis has one.
    pub(crate) fn for_command(name: &str) -> Option<GetKeysProc> {
        let counted = |store, count, first| GetKeysProc::Counted {
            store,
            count,
            first,
            step: 1,
        };
        Some(match name {
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => {
                counted(0, 2, 3)
            }
            "zunionstore" | "zinterstore" | "zdiffstore" => counted(1, 2, 3),
            "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => {
                counted(0, 1, 2)
            }
            "blmpop" | "bzmpop" => counted(0, 2, 3),
            "sort" => GetKeysProc::Sort,
            "sort_ro" => GetKeysProc::SortRo,
            "migrate" => GetKeysProc::Migrate,
            "georadius" | "georadiusbymember" => GetKeysProc::Georadius,
            "xread" | "xreadgroup" => GetKeysProc::Xread,
            "set" => GetKeysProc::Set,
            "bitfield" => GetKeysProc::Bitfield,
            _ => return None,
        })
    }
}

/// Redis compares arguments with C string functions, which stop at a NUL byte.
fn c_str(a: &[u8]) -> &[u8] {
    a.iter().position(|&c| c == 0).map_or(a, |i| &a[..i])
}

/// `strcasecmp(arg, keyword) == 0`.
fn is(arg: &[u8], keyword: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(keyword.as_bytes())
}

/// C's `atoi`: leading blanks, a sign, digits up to the first non-digit; the `long`
/// result of `strtol` (saturated on overflow) truncated to `int`.
fn atoi(a: &[u8]) -> i64 {
    let s = c_str(a);
    let mut i = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(s.len());
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    let mut overflow = false;
    for &c in s[i..].iter().take_while(|c| c.is_ascii_digit()) {
        let d = (c - b'0') as i64;
        match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => v = x,
            None => {
                overflow = true;
                break;
            }
        }
    }
    if overflow {
        v = if neg { i64::MIN } else { i64::MAX };
    }
    v as i32 as i64
}

impl CommandSpec {
    /// The keys of `argv` (the command name included) as Redis finds them for cluster
    /// routing, ACLs and `COMMAND GETKEYS` (no arity check; empty when none are found).
    pub fn keys<A: AsRef<[u8]>>(&self, argv: &[A]) -> Vec<KeyRef> {
        let has_keyspec = self
            .key_specs
            .iter()
            .any(|k| !k.flag_bits.contains(KeyFlags::NOT_KEY));
        let has_varflags = self
            .key_specs
            .iter()
            .any(|k| k.flag_bits.contains(KeyFlags::VARIABLE_FLAGS));
        if has_keyspec && !has_varflags {
            if let Some(keys) = self.keys_from_specs(argv) {
                return keys;
            }
        }
        match self.getkeys {
            Some(p) => run_proc(p, argv),
            None => Vec::new(),
        }
    }

    /// True when the command can have keys (`COMMAND GETKEYS` refuses the others).
    pub fn has_keys(&self) -> bool {
        self.getkeys.is_some()
            || self
                .key_specs
                .iter()
                .any(|k| !k.flag_bits.contains(KeyFlags::NOT_KEY))
    }

    /// `COMMAND GETKEYS`: the positions of the keys in `argv` (the command name included,
    /// so positions count from it), or the reason Redis gives for finding none.
    pub fn key_positions<A: AsRef<[u8]>>(&self, argv: &[A]) -> Result<Vec<usize>, KeysError> {
        Ok(self.key_refs(argv)?.into_iter().map(|k| k.pos).collect())
    }

    /// `COMMAND GETKEYSANDFLAGS`: like [`key_positions`](Self::key_positions) with flags.
    pub fn key_refs<A: AsRef<[u8]>>(&self, argv: &[A]) -> Result<Vec<KeyRef>, KeysError> {
        if !self.has_keys() {
            return Err(KeysError::NoKeyArguments);
        }
        if !self.arity_ok(argv.len()) {
            return Err(KeysError::WrongArity);
        }
        let keys = self.keys(argv);
        if keys.is_empty() && !self.has_flag(CommandFlags::NO_MANDATORY_KEYS) {
            return Err(KeysError::InvalidArguments);
        }
        Ok(keys)
    }

    /// Keys from the key specs; `None` when a spec cannot be applied (Redis then falls back
    /// to the command's own rules).
    fn keys_from_specs<A: AsRef<[u8]>>(&self, argv: &[A]) -> Option<Vec<KeyRef>> {
        let mut out = Vec::new();
        for spec in &self.key_specs {
            if spec.flag_bits.contains(KeyFlags::NOT_KEY) {
                continue;
            }
            match spec_range(spec, argv) {
                Range::Skip => continue,
                Range::Invalid => return None,
                Range::Keys { first, last, step } => {
                    let mut i = first;
                    while i <= last {
                        out.push(KeyRef {
                            pos: i as usize,
                            flags: spec.flag_bits,
                        });
                        i += step;
                    }
                }
            }
            if spec.flag_bits.contains(KeyFlags::INCOMPLETE) {
                return None;
            }
        }
        Some(out)
    }
}

enum Range {
    /// The spec's keyword is absent: it contributes no keys.
    Skip,
    /// The spec does not fit the arguments.
    Invalid,
    Keys {
        first: i64,
        last: i64,
        step: i64,
    },
}

fn spec_range<A: AsRef<[u8]>>(spec: &KeySpec, argv: &[A]) -> Range {
    let argc = argv.len() as i64;
    let mut first = match &spec.begin_search {
        BeginSearch::Index { index } => *index,
        BeginSearch::Keyword { keyword, startfrom } => {
            let start = if *startfrom > 0 {
                *startfrom
            } else {
                argc + startfrom
            };
            let end = if *startfrom > 0 { argc - 1 } else { 1 };
            // The search stops before `end`: a keyword there could not be followed by a key.
            let mut i = start;
            let mut found = 0;
            while i != end {
                if i >= argc || i < 1 {
                    break;
                }
                if is(argv[i as usize].as_ref(), keyword) {
                    found = i + 1;
                    break;
                }
                i = if start <= end { i + 1 } else { i - 1 };
            }
            if found == 0 {
                return Range::Skip;
            }
            found
        }
        BeginSearch::Unknown {} => return Range::Invalid,
    };
    let (last, step) = match &spec.find_keys {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => {
            let last = if *lastkey >= 0 {
                first + lastkey
            } else if *limit == 0 {
                argc + lastkey
            } else {
                first + ((argc - first) / limit + lastkey)
            };
            (last, *keystep)
        }
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => {
            if *keynumidx >= argc {
                return Range::Invalid;
            }
            let Some(arg) = usize::try_from(first + keynumidx)
                .ok()
                .and_then(|i| argv.get(i))
            else {
                return Range::Invalid;
            };
            let numkeys = match parse_i64(arg.as_ref()) {
                Some(n) if n >= 0 => n,
                _ => return Range::Invalid,
            };
            first += firstkey;
            (first + numkeys - 1, *keystep)
        }
        FindKeys::Unknown {} => return Range::Invalid,
    };
    if last >= argc || last < first || first >= argc || first < 0 || step <= 0 {
        return Range::Invalid;
    }
    Range::Keys { first, last, step }
}

fn run_proc<A: AsRef<[u8]>>(p: GetKeysProc, argv: &[A]) -> Vec<KeyRef> {
    let argc = argv.len();
    let key = |pos: usize, flags: KeyFlags| KeyRef { pos, flags };
    match p {
        GetKeysProc::Counted {
            store,
            count,
            first,
            step,
        } => {
            let Some(n) = argv.get(count).map(|a| atoi(a.as_ref())) else {
                return Vec::new();
            };
            // No keys when the command is going to reply with a syntax error anyway.
            if n < 1 || n > (argc as i64 - first as i64) / step as i64 {
                return Vec::new();
            }
            let mut keys: Vec<KeyRef> = (0..n as usize)
                .map(|i| key(first + i * step, KeyFlags::EMPTY))
                .collect();
            if store != 0 {
                keys.push(key(store, KeyFlags::EMPTY));
            }
            keys
        }
        GetKeysProc::SortRo => vec![key(1, KeyFlags::RO | KeyFlags::ACCESS)],
        GetKeysProc::Sort => {
            let mut keys = vec![key(1, KeyFlags::RO | KeyFlags::ACCESS)];
            let mut store = None;
            let mut i = 2;
            while i < argc {
                let a = argv[i].as_ref();
                if is(a, "limit") {
                    i += 2;
                } else if is(a, "store") && i + 1 < argc {
                    // The last STORE wins, as in SORT itself; its key is scanned as an
                    // option next, like any other argument.
                    store = Some(i + 1);
                } else if is(a, "get") || is(a, "by") {
                    i += 1;
                }
                i += 1;
            }
            if let Some(s) = store {
                keys.push(key(s, KeyFlags::OW | KeyFlags::UPDATE));
            }
            keys
        }
        GetKeysProc::Migrate => {
            let (mut first, mut num) = (3, 1);
            if argc > 6 {
                let mut i = 6;
                while i < argc {
                    let a = argv[i].as_ref();
                    if is(a, "keys") {
                        if !argv[3].as_ref().is_empty() {
                            // A key and KEYS together: MIGRATE replies with a syntax error.
                            num = 0;
                        } else {
                            first = i + 1;
                            num = argc - first;
                        }
                        break;
                    } else if is(a, "auth") {
                        i += 1;
                    } else if is(a, "auth2") {
                        i += 2;
                    }
                    i += 1;
                }
            }
            let flags = KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::DELETE;
            (first..first + num).map(|p| key(p, flags)).collect()
        }
        GetKeysProc::Georadius => {
            let mut stored = None;
            let mut i = 5;
            while i < argc {
                let a = argv[i].as_ref();
                if (is(a, "store") || is(a, "storedist")) && i + 1 < argc {
                    // With both options the later one wins, as in GEORADIUS itself.
                    stored = Some(i + 1);
                    i += 1;
                }
                i += 1;
            }
            let mut keys = vec![key(1, KeyFlags::EMPTY)];
            keys.extend(stored.map(|s| key(s, KeyFlags::EMPTY)));
            keys
        }
        GetKeysProc::Xread => {
            let mut streams = None;
            let mut i = 1;
            while i < argc {
                let a = argv[i].as_ref();
                if is(a, "block") || is(a, "count") {
                    i += 1;
                } else if is(a, "group") {
                    i += 2;
                } else if is(a, "streams") {
                    streams = Some(i);
                    break;
                } else if !is(a, "noack") {
                    break;
                }
                i += 1;
            }
            let Some(pos) = streams else {
                return Vec::new();
            };
            let num = argc - pos - 1;
            if num == 0 || num & 1 != 0 {
                return Vec::new();
            }
            (pos + 1..pos + 1 + num / 2)
                .map(|p| key(p, KeyFlags::EMPTY))
                .collect()
        }
        GetKeysProc::Set => {
            // Redis tests for exactly "get" (three letters, any case) here.
            let get = argv.iter().skip(3).any(|a| is(a.as_ref(), "get"));
            let flags = if get {
                KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE
            } else {
                KeyFlags::OW | KeyFlags::UPDATE
            };
            vec![key(1, flags)]
        }
        GetKeysProc::Bitfield => {
            let mut readonly = true;
            let mut i = 2;
            while i < argc {
                let rem = argc - i - 1;
                let a = argv[i].as_ref();
                if is(a, "get") && rem >= 2 {
                    i += 2;
                } else if (is(a, "set") || is(a, "incrby")) && rem >= 3 {
                    readonly = false;
                    break;
                } else if is(a, "overflow") && rem >= 1 {
                    i += 1;
                } else {
                    // A syntax error: safer to assume the command writes.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            let flags = if readonly {
                KeyFlags::RO | KeyFlags::ACCESS
            } else {
                KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE
            };
            vec![key(1, flags)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    fn pos(line: &str) -> Result<Vec<usize>, KeysError> {
        let argv: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        table().lookup(&argv).unwrap().key_positions(&argv)
    }

    #[test]
    fn atoi_is_c_atoi() {
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"  -3"), -3);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"4294967297"), 1);
        assert_eq!(atoi(b"99999999999999999999"), -1);
        assert_eq!(atoi(b"1\x002"), 1);
    }

    #[test]
    fn spec_commands() {
        assert_eq!(pos("get k"), Ok(vec![1]));
        assert_eq!(pos("set k v"), Ok(vec![1]));
        assert_eq!(pos("mset a 1 b 2"), Ok(vec![1, 3]));
        assert_eq!(pos("mget a b c"), Ok(vec![1, 2, 3]));
        assert_eq!(pos("lmove a b left right"), Ok(vec![1, 2]));
        assert_eq!(pos("object encoding k"), Ok(vec![2]));
        assert_eq!(pos("get"), Err(KeysError::WrongArity));
        assert_eq!(pos("ping"), Err(KeysError::NoKeyArguments));
        assert_eq!(pos("spublish ch m"), Err(KeysError::NoKeyArguments));
    }

    #[test]
    fn movable_keys() {
        assert_eq!(pos("eval s 2 a b c"), Ok(vec![3, 4]));
        assert_eq!(pos("eval s 0"), Ok(vec![]));
        assert_eq!(pos("eval s x"), Ok(vec![]));
        assert_eq!(pos("zunionstore d 2 a b weights 1 2"), Ok(vec![1, 3, 4]));
        assert_eq!(pos("zunionstore d 3 a b"), Err(KeysError::InvalidArguments));
        assert_eq!(pos("xread count 2 streams a b 0 0"), Ok(vec![4, 5]));
        assert_eq!(pos("xread streams a"), Err(KeysError::WrongArity));
        assert_eq!(pos("xread streams a b c"), Ok(vec![2]));
        assert_eq!(pos("sort k by x store d"), Ok(vec![1, 5]));
        assert_eq!(pos("sort k limit 0 1 get # store d"), Ok(vec![1, 8]));
        assert_eq!(pos("migrate h 1 \"\" 0 5 keys a b").ok(), None); // argv[3] is `""`, not empty
        assert_eq!(pos("georadius k 1 2 3 m store d"), Ok(vec![1, 7]));
        assert_eq!(pos("georadius k 1 2 3 m store"), Ok(vec![1]));
    }

    #[test]
    fn migrate_keys_option() {
        let t = table();
        let argv: Vec<&[u8]> = vec![
            b"migrate", b"h", b"1", b"", b"0", b"5", b"auth", b"keys", b"keys", b"a",
        ];
        assert_eq!(t.get(b"migrate").unwrap().key_positions(&argv), Ok(vec![9]));
        let argv: Vec<&[u8]> = vec![b"migrate", b"h", b"1", b"k", b"0", b"5"];
        assert_eq!(t.get(b"migrate").unwrap().key_positions(&argv), Ok(vec![3]));
    }

    #[test]
    fn flags_of_variable_commands() {
        let t = table();
        let set = t.get(b"set").unwrap();
        let refs = set.key_refs(&["set", "k", "v", "GET"]).unwrap();
        assert_eq!(
            refs[0].flags.names().collect::<Vec<_>>(),
            ["RW", "access", "update"]
        );
        let refs = set.key_refs(&["set", "k", "v"]).unwrap();
        assert_eq!(refs[0].flags.names().collect::<Vec<_>>(), ["OW", "update"]);
        let bf = t.get(b"bitfield").unwrap();
        let refs = bf.key_refs(&["bitfield", "k", "get", "u8", "0"]).unwrap();
        assert_eq!(refs[0].flags, KeyFlags::RO | KeyFlags::ACCESS);
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            KeysError::WrongArity.to_string(),
            "Invalid number of arguments specified for command"
        );
        assert_eq!(
            KeysError::NoKeyArguments.reply_text(),
            "ERR The command has no key arguments"
        );
    }
}
