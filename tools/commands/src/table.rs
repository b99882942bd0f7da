//! The table itself: loaded once from the embedded `commands.json`, looked up by name.

use crate::flags::{AclCategories, CommandFlags, KeyFlags};
use crate::keys::GetKeysProc;
use crate::spec::CommandSpec;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// The command data observed from Redis 7.0.15 (`examples/generate.rs` writes it).
const DATA: &str = include_str!("../commands.json");

/// Commands beyond Redis 7.0 the server implements, declared as Redis 7.4/8.0 define
/// them (the hash field-expiry family), in the same format; appended to the table.
const BEYOND_7_0: &str = include_str!("../commands-beyond-7.0.json");

/// Longest name looked up (longer names are not commands; this bounds the stack buffer).
const MAX_NAME: usize = 64;

/// FNV-1a: command names are short and not attacker-chosen keys of a growing map, so a
/// simple hash beats SipHash on the per-command lookup of the dispatcher.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<V> = HashMap<Box<[u8]>, V, BuildHasherDefault<Fnv>>;

/// Position of a command in the table: a top-level index and, for a subcommand, its index
/// among the parent's subcommands.
#[derive(Debug, Clone, Copy)]
struct Slot {
    top: usize,
    sub: Option<usize>,
}

/// Every built-in command of Redis 7.0.15 with its subcommands.
#[derive(Debug)]
pub struct CommandTable {
    commands: Vec<CommandSpec>,
    /// Lowercase full names (`get`, `config|get`) to positions.
    by_name: FnvMap<Slot>,
    /// Positions by [`CommandSpec::id`].
    by_id: Vec<Slot>,
    /// How many top-level commands at the end are beyond Redis 7.0.
    beyond_7_0: usize,
}

/// The table, parsed on first use.
pub fn table() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut commands: Vec<CommandSpec> =
            serde_json::from_str(DATA).expect("embedded commands.json is valid (tested)");
        let beyond: Vec<CommandSpec> = serde_json::from_str(BEYOND_7_0)
            .expect("embedded commands-beyond-7.0.json is valid (tested)");
        let n = beyond.len();
        commands.extend(beyond);
        let mut t = CommandTable::new(commands);
        t.beyond_7_0 = n;
        t
    })
}

/// Lowercases `name` into `buf`; `None` when it is too long to be a command name.
fn lower<'a>(name: &[u8], buf: &'a mut [u8; MAX_NAME]) -> Option<&'a [u8]> {
    let out = buf.get_mut(..name.len())?;
    for (o, c) in out.iter_mut().zip(name) {
        *o = c.to_ascii_lowercase();
    }
    Some(out)
}

impl CommandTable {
    /// Builds the table from commands as they are stored, filling in the derived fields.
    pub fn new(mut commands: Vec<CommandSpec>) -> CommandTable {
        let mut by_name = FnvMap::default();
        let mut by_id = Vec::new();
        for (top, cmd) in commands.iter_mut().enumerate() {
            let slot = Slot { top, sub: None };
            prepare(cmd, by_id.len());
            by_id.push(slot);
            by_name.insert(cmd.name.as_bytes().into(), slot);
            for (i, sub) in cmd.subcommands.iter_mut().enumerate() {
                let slot = Slot { top, sub: Some(i) };
                prepare(sub, by_id.len());
                by_id.push(slot);
                by_name.insert(sub.name.as_bytes().into(), slot);
            }
        }
        CommandTable {
            commands,
            by_name,
            by_id,
            beyond_7_0: 0,
        }
    }

    fn at(&self, s: Slot) -> &CommandSpec {
        let top = &self.commands[s.top];
        match s.sub {
            Some(i) => &top.subcommands[i],
            None => top,
        }
    }

    /// A top-level command by name, ASCII case-insensitively (`b"GET"`, `b"config"`).
    /// Names with `|` are not top-level commands; see [`get_by_fullname`](Self::get_by_fullname).
    pub fn get(&self, name: &[u8]) -> Option<&CommandSpec> {
        let mut buf = [0u8; MAX_NAME];
        let key = lower(name, &mut buf)?;
        if key.contains(&b'|') {
            return None;
        }
        self.by_name.get(key).map(|&s| self.at(s))
    }

    /// A subcommand of `cmd` (`b"config"`, `b"GET"`), case-insensitively.
    pub fn get_subcommand(&self, cmd: &[u8], sub: &[u8]) -> Option<&CommandSpec> {
        if cmd.contains(&b'|') || sub.contains(&b'|') {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        let len = cmd.len() + 1 + sub.len();
        let out = buf.get_mut(..len)?;
        out[..cmd.len()].copy_from_slice(cmd);
        out[cmd.len()] = b'|';
        out[cmd.len() + 1..].copy_from_slice(sub);
        out.make_ascii_lowercase();
        self.by_name.get(&*out).map(|&s| self.at(s))
    }

    /// A command by its full name as `COMMAND INFO`/`COMMAND DOCS` and ACL rules take it:
    /// `get` or `config|get` (one level of subcommands; a container with `|` and nothing
    /// after it is not found, as in Redis).
    pub fn get_by_fullname(&self, name: &[u8]) -> Option<&CommandSpec> {
        match name.iter().position(|&c| c == b'|') {
            None => self.get(name),
            Some(i) => self.get_subcommand(&name[..i], &name[i + 1..]),
        }
    }

    /// The command a request runs, as Redis's dispatcher resolves it: the command named by
    /// `argv[0]`, or for a container command given more arguments the subcommand named by
    /// `argv[1]` (`None` when that subcommand does not exist).
    pub fn lookup<A: AsRef<[u8]>>(&self, argv: &[A]) -> Option<&CommandSpec> {
        let base = self.get(argv.first()?.as_ref())?;
        if argv.len() == 1 || base.subcommands.is_empty() {
            return Some(base);
        }
        self.get_subcommand(base.name.as_bytes(), argv[1].as_ref())
    }

    /// Top-level commands in the order Redis listed them.
    pub fn iter(&self) -> std::slice::Iter<'_, CommandSpec> {
        self.commands.iter()
    }

    /// Commands and subcommands together, by [`CommandSpec::id`] (a parent comes before its
    /// subcommands).
    pub fn all(&self) -> impl Iterator<Item = &CommandSpec> {
        self.by_id.iter().map(|&s| self.at(s))
    }

    /// The command with [`CommandSpec::id`] `id`.
    pub fn by_id(&self, id: usize) -> Option<&CommandSpec> {
        self.by_id.get(id).map(|&s| self.at(s))
    }

    /// Number of top-level commands (`COMMAND COUNT`).
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Number of commands and subcommands together.
    pub fn len_all(&self) -> usize {
        self.by_id.len()
    }

    /// True for the commands beyond Redis 7.0 (appended last, without subcommands):
    /// 7.0's COMMAND does not know them.
    pub fn is_beyond_7_0(&self, spec: &CommandSpec) -> bool {
        spec.id >= self.by_id.len() - self.beyond_7_0
    }

    /// Every command and subcommand Redis 7.0 has, by id.
    pub fn redis_7_0(&self) -> impl Iterator<Item = &CommandSpec> {
        self.all().filter(|s| !self.is_beyond_7_0(s))
    }

    /// Number of top-level commands Redis 7.0 has.
    pub fn len_7_0(&self) -> usize {
        self.commands.len() - self.beyond_7_0
    }

    /// True when the table is empty (never for the embedded table).
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

fn prepare(cmd: &mut CommandSpec, id: usize) {
    cmd.id = id;
    cmd.flag_bits = CommandFlags::from_names(&cmd.flags);
    cmd.acl_bits = AclCategories::from_at_names(&cmd.acl_categories);
    cmd.getkeys = GetKeysProc::for_command(&cmd.name);
    for ks in &mut cmd.key_specs {
        ks.flag_bits = KeyFlags::from_names(&ks.flags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::{ACL_CATEGORY_NAMES, COMMAND_FLAG_NAMES, KEY_FLAG_NAMES};

    #[test]
    fn lookups() {
        let t = table();
        assert_eq!(t.get(b"GeT").unwrap().name, "get");
        assert!(t.get(b"nosuch").is_none());
        assert!(t.get(b"config|get").is_none());
        assert!(t.get(&[b'a'; 200]).is_none());
        assert_eq!(
            t.get_subcommand(b"CONFIG", b"Get").unwrap().name,
            "config|get"
        );
        assert!(t.get_subcommand(b"config", b"nosuch").is_none());
        assert!(t.get_subcommand(b"get", b"x").is_none());
        assert_eq!(t.get_by_fullname(b"CONFIG|SET").unwrap().name, "config|set");
        assert_eq!(t.get_by_fullname(b"set").unwrap().name, "set");
        assert!(t.get_by_fullname(b"config|").is_none());
        assert!(t.get_by_fullname(b"config|get|x").is_none());
        assert_eq!(t.lookup(&["config"]).unwrap().name, "config");
        assert_eq!(
            t.lookup(&["object", "ENCODING", "k"]).unwrap().name,
            "object|encoding"
        );
        assert!(t.lookup(&["object", "nosuch"]).is_none());
        assert_eq!(t.lookup(&["get", "k"]).unwrap().name, "get");
        assert!(t.lookup::<&str>(&[]).is_none());
    }

    #[test]
    fn every_command_is_complete() {
        let t = table();
        // COMMAND COUNT of Debian's redis-server 7.0.15, plus the commands beyond 7.0.
        let beyond: Vec<serde_json::Value> = serde_json::from_str(BEYOND_7_0).unwrap();
        assert_eq!(t.len(), 240 + beyond.len());
        for (i, c) in t.all().enumerate() {
            assert_eq!(c.id, i);
            assert_eq!(t.by_id(i).unwrap().name, c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.arity != 0, "{}", c.name);
            assert!(!c.doc.group.is_empty(), "{}", c.name);
            // Every name the data uses is one the bit sets know.
            for f in &c.flags {
                assert!(COMMAND_FLAG_NAMES.contains(&f.as_str()), "{} {f}", c.name);
            }
            for a in &c.acl_categories {
                let a = a.strip_prefix('@').unwrap();
                assert!(ACL_CATEGORY_NAMES.contains(&a), "{} {a}", c.name);
            }
            for ks in &c.key_specs {
                for f in &ks.flags {
                    assert!(KEY_FLAG_NAMES.contains(&f.as_str()), "{} {f}", c.name);
                }
            }
            assert!(!c.has_flag(CommandFlags::MODULE));
        }
        assert!(t.len_all() > t.len());
        let set = t.get(b"set").unwrap();
        assert!(set.has_flag(CommandFlags::WRITE | CommandFlags::DENYOOM));
        assert!(!set.has_flag(CommandFlags::FAST));
        assert!(set.acl_bits.contains(AclCategories::STRING));
    }
}
