//! ACL users, as Redis 7.0: the user model (flags, password hashes, a root selector and
//! extra selectors), the rule parser of ACL SETUSER / `user` lines / ACL files, the
//! description of a user back as rules (ACL LIST, GETUSER, SAVE), the permission check
//! the dispatcher makes for every command, and the ACL LOG.
//!
//! Users live in [`Acl::users`] (on `state::Server`) as `Arc<User>`; a client holds the
//! `Arc` of the user it authenticated as. A change of a user builds a new `User` and
//! swaps the `Arc` in the map and in the clients that held the old one, so a client
//! always sees its user's current rules. [`User::unrestricted`] (all commands, all
//! keys, all channels in one selector) lets the dispatcher skip the check with one
//! flag test.

use crate::client::Client;
use crate::state::Server;
use redis_commands::flags::ACL_CATEGORY_NAMES;
use redis_commands::{AclCategories, CommandFlags, CommandSpec, KeyFlags};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock};

/// Command bits per selector (Redis's USER_COMMAND_BITS_COUNT); the last one means
/// "commands added later" and is set only by `+@all`.
const BITS: usize = 1024;
const WORDS: usize = BITS / 64;
const FUTURE_BIT: usize = BITS - 1;

/// User flags, in the order ACL LIST and GETUSER print them.
pub mod uflags {
    pub const ENABLED: u8 = 1;
    pub const DISABLED: u8 = 2;
    pub const NOPASS: u8 = 4;
    pub const SKIP_SANITIZE: u8 = 8;
    pub const SANITIZE: u8 = 16;
    pub const NAMES: [(&str, u8); 5] = [
        ("on", ENABLED),
        ("off", DISABLED),
        ("nopass", NOPASS),
        ("skip-sanitize-payload", SKIP_SANITIZE),
        ("sanitize-payload", SANITIZE),
    ];
}

/// Key pattern permissions (`%R~`, `%W~`, `~` is both).
pub const PERM_READ: u8 = 1;
pub const PERM_WRITE: u8 = 2;
pub const PERM_ALL: u8 = 3;

/// Why a rule was refused (Redis's errno values of ACLSetUser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    NoEnt,
    Inval,
    Exist,
    IsDir,
    NoDev,
    BadMsg,
    Already,
    Child,
}

impl RuleError {
    /// Redis's ACLSetUserStringError text.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::NoEnt => "Unknown command or category name in ACL",
            RuleError::Inval => "Syntax error",
            RuleError::Exist => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::IsDir => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoDev => "The password you are trying to remove from the user does not exist",
            RuleError::BadMsg => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::Already => "Duplicate user found. A user can only be defined once in config files",
            RuleError::Child => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// One key pattern with its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

/// A set of permissions: commands, keys, channels. A user has a root selector and
/// any number of extra ones; a command may run if one selector allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub root: bool,
    pub all_keys: bool,
    pub all_channels: bool,
    pub all_commands: bool,
    allowed: [u64; WORDS],
    /// Allowed first arguments of otherwise denied commands (`+select|0`), by id.
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

/// Why a command was denied (Redis's ACL_DENIED_*; the order picks the error shown
/// when no selector allows a command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Cmd = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

/// A denial: the reason and the argument position of the key or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    pub reason: Denied,
    pub pos: usize,
}

impl Denial {
    /// The NOPERM reply of a command refused before it runs.
    pub fn noperm(&self, spec: &CommandSpec) -> String {
        match self.reason {
            Denied::Cmd => format!(
                "NOPERM this user has no permissions to run the '{}' command",
                spec.name
            ),
            Denied::Key => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .into()
            }
            _ => "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into(),
        }
    }

    /// The words scripts get after "The user executing the script ".
    pub fn script_text(&self) -> &'static str {
        match self.reason {
            Denied::Cmd => "can't run this command or subcommand",
            Denied::Key => {
                "can't access at least one of the keys mentioned in the command arguments"
            }
            Denied::Channel => "can't publish to the channel mentioned in the command",
            Denied::Auth => "lacking the permissions for the command",
        }
    }

    /// The reason EXEC gives for a queued command no longer allowed.
    pub fn exec_text(&self) -> &'static str {
        match self.reason {
            Denied::Cmd => "no permission to execute the command or subcommand",
            Denied::Key => "no permission to touch the specified keys",
            Denied::Channel => "no permission to access one of the channels used as arguments",
            Denied::Auth => "no permission",
        }
    }
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&c| c == 0 || matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
}

/// Redis's ACLLookupCommand: `name` or `name|sub`, case-insensitively.
fn lookup_command(name: &[u8]) -> Option<&'static CommandSpec> {
    redis_commands::table().get_by_fullname(name)
}

fn is_subcommand(spec: &CommandSpec) -> bool {
    spec.name.contains('|')
}

/// Every command then its subcommands, in table order.
fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    redis_commands::table()
        .iter()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
}

fn category_by_name(name: &[u8]) -> Option<AclCategories> {
    let name = std::str::from_utf8(name).ok()?;
    let lower = name.to_ascii_lowercase();
    AclCategories::from_name(&lower)
}

/// Redis's SHA-256 password hash, as 64 lowercase hex characters.
pub fn hash_password(pass: &[u8]) -> Vec<u8> {
    let digest = Sha256::digest(pass);
    let mut out = Vec::with_capacity(64);
    for b in digest {
        out.push(b"0123456789abcdef"[(b >> 4) as usize]);
        out.push(b"0123456789abcdef"[(b & 15) as usize]);
    }
    out
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64
        && h.iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

impl Selector {
    /// An empty selector (no command, key or channel), with the channels
    /// `acl-pubsub-default` gives.
    pub fn new(root: bool, pubsub_all: bool) -> Selector {
        Selector {
            root,
            all_keys: false,
            all_channels: pubsub_all,
            all_commands: false,
            allowed: [0; WORDS],
            firstargs: Vec::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    #[inline]
    fn bit(&self, id: usize) -> bool {
        id < BITS && self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if id >= BITS {
            return;
        }
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    fn reset_firstargs_for(&mut self, id: usize) {
        self.firstargs.retain(|(i, _)| *i != id);
    }

    /// Allows or denies a command; a container's subcommands go with it.
    fn change_perm(&mut self, spec: &CommandSpec, allow: bool) {
        self.set_bit(spec.id, allow);
        self.reset_firstargs_for(spec.id);
        for sub in &spec.subcommands {
            self.set_bit(sub.id, allow);
        }
    }

    fn set_category(&mut self, cat: AclCategories, allow: bool) {
        for top in redis_commands::table().iter() {
            if top.acl_bits.0 & cat.0 != 0 {
                self.change_perm(top, allow);
            }
            for sub in &top.subcommands {
                if sub.acl_bits.0 & cat.0 != 0 {
                    self.change_perm(sub, allow);
                }
            }
        }
    }

    fn add_firstarg(&mut self, id: usize, arg: &[u8]) {
        match self.firstargs.iter_mut().find(|(i, _)| *i == id) {
            Some((_, v)) => {
                if !v.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                    v.push(arg.to_vec());
                }
            }
            None => self.firstargs.push((id, vec![arg.to_vec()])),
        }
    }

    /// Applies one selector rule (Redis's ACLSetSelector).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.allowed = [u64::MAX; WORDS];
            self.all_commands = true;
            self.firstargs.clear();
        } else if is("nocommands") || is("-@all") {
            self.allowed = [0; WORDS];
            self.all_commands = false;
            self.firstargs.clear();
        } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
            if self.all_keys {
                return Err(RuleError::Exist);
            }
            let mut flags = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                while offset < op.len() {
                    let c = op[offset].to_ascii_uppercase();
                    if c == b'R' && flags & PERM_READ == 0 {
                        flags |= PERM_READ;
                    } else if c == b'W' && flags & PERM_WRITE == 0 {
                        flags |= PERM_WRITE;
                    } else if op[offset] == b'~' {
                        offset += 1;
                        break;
                    } else {
                        return Err(RuleError::Inval);
                    }
                    offset += 1;
                }
                if flags == 0 {
                    return Err(RuleError::Inval);
                }
            } else {
                flags = PERM_ALL;
            }
            let pat = &op[offset.min(op.len())..];
            if has_spaces(pat) {
                return Err(RuleError::Inval);
            }
            match self.patterns.iter_mut().find(|p| p.pattern == pat) {
                Some(p) => p.flags |= flags,
                None => self.patterns.push(KeyPattern {
                    flags,
                    pattern: pat.to_vec(),
                }),
            }
            self.all_keys = false;
        } else if op.first() == Some(&b'&') {
            if self.all_channels {
                return Err(RuleError::IsDir);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Inval);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
            self.all_channels = false;
        } else if op.first() == Some(&b'+') && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match name.iter().rposition(|&c| c == b'|') {
                None => {
                    let spec = lookup_command(name).ok_or(RuleError::NoEnt)?;
                    self.change_perm(spec, true);
                }
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let spec = lookup_command(base).ok_or(RuleError::NoEnt)?;
                    if is_subcommand(spec) {
                        return Err(RuleError::Child);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Inval);
                    }
                    if !spec.subcommands.is_empty() {
                        let spec = lookup_command(name).ok_or(RuleError::NoEnt)?;
                        self.change_perm(spec, true);
                    } else {
                        crate::log::log(
                            crate::log::Level::Warning,
                            &format!(
                                "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                                String::from_utf8_lossy(name)
                            ),
                        );
                        self.add_firstarg(spec.id, sub);
                    }
                }
            }
        } else if op.first() == Some(&b'-') && op.get(1) != Some(&b'@') {
            let spec = lookup_command(&op[1..]).ok_or(RuleError::NoEnt)?;
            self.change_perm(spec, false);
        } else if (op.first() == Some(&b'+') || op.first() == Some(&b'-'))
            && op.get(1) == Some(&b'@')
        {
            let cat = category_by_name(&op[2..]).ok_or(RuleError::NoEnt)?;
            self.set_category(cat, op[0] == b'+');
        } else {
            return Err(RuleError::Inval);
        }
        Ok(())
    }

    /// On and off counts of the commands of a category.
    fn count_category(&self, cat: AclCategories) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        let table = redis_commands::table();
        // Commands beyond 7.0 do not weigh in the choice of categories, so users
        // are described as Redis 7.0 describes them.
        for c in all_commands().filter(|c| !table.is_beyond_7_0(c)) {
            if c.acl_bits.0 & cat.0 != 0 {
                if self.bit(c.id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules that rebuild this selector's command bits (Redis's
    /// ACLDescribeSelectorCommandRules): `+@all` or `-@all`, the best fitting
    /// categories, then single commands.
    pub fn describe_commands(&self) -> Vec<u8> {
        let mut rules = Vec::new();
        let additive = !self.bit(FUTURE_BIT);
        let mut fake = Selector::new(false, false);
        if additive {
            rules.extend_from_slice(b"-@all ");
            let _ = fake.apply(b"-@all");
        } else {
            rules.extend_from_slice(b"+@all ");
            let _ = fake.apply(b"+@all");
        }
        let mut temp = Selector::new(false, false);
        temp.allowed = self.allowed;
        let names = ACL_CATEGORY_NAMES;
        let mut applied = vec![false; names.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, name) in names.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let cat = AclCategories::from_name(name).expect("category");
                let (on, off) = temp.count_category(cat);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let cat = AclCategories::from_name(names[j]).expect("category");
            fake.set_category(cat, additive);
            temp.set_category(cat, !additive);
            rules.push(if additive { b'+' } else { b'-' });
            rules.push(b'@');
            rules.extend_from_slice(names[j].as_bytes());
            rules.push(b' ');
            applied[j] = true;
        }
        for c in all_commands() {
            let user = self.bit(c.id);
            if user != fake.bit(c.id) {
                rules.push(if user { b'+' } else { b'-' });
                rules.extend_from_slice(c.name.as_bytes());
                rules.push(b' ');
                fake.change_perm(c, user);
            }
            if !user {
                if let Some((_, args)) = self.firstargs.iter().find(|(i, _)| *i == c.id) {
                    for a in args {
                        rules.push(b'+');
                        rules.extend_from_slice(c.name.as_bytes());
                        rules.push(b'|');
                        rules.extend_from_slice(a);
                        rules.push(b' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    fn pattern_string(p: &KeyPattern, out: &mut Vec<u8>) {
        out.extend_from_slice(match p.flags {
            PERM_READ => b"%R~".as_slice(),
            PERM_WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&p.pattern);
    }

    /// The keys field of GETUSER.
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            Self::pattern_string(p, &mut out);
        }
        out
    }

    /// The channels field of GETUSER.
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The selector as rules (Redis's ACLDescribeSelector).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for p in &self.patterns {
                Self::pattern_string(p, &mut out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
        out
    }

    fn check_key(&self, key: &[u8], kflags: KeyFlags) -> bool {
        if self.all_keys {
            return true;
        }
        let mut need = 0;
        if kflags.contains(KeyFlags::ACCESS) {
            need |= PERM_READ;
        }
        if kflags.contains(KeyFlags::INSERT)
            || kflags.contains(KeyFlags::DELETE)
            || kflags.contains(KeyFlags::UPDATE)
        {
            need |= PERM_WRITE;
        }
        self.patterns.iter().any(|p| {
            p.flags & need == need && redis_formats::glob::glob_match(&p.pattern, key, false)
        })
    }

    fn check_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels || channel_in_list(&self.channels, channel, is_pattern)
    }

    /// Redis's ACLSelectorCheckCmd; `keys` caches the keys between selectors.
    fn check(
        &self,
        spec: &CommandSpec,
        argv: &[&[u8]],
        keys: &mut Option<Vec<redis_commands::KeyRef>>,
    ) -> Result<(), Denial> {
        let deny_cmd = Denial {
            reason: Denied::Cmd,
            pos: 0,
        };
        if !self.all_commands && !spec.has_flag(CommandFlags::NO_AUTH) && !self.bit(spec.id) {
            let Some((_, args)) = self.firstargs.iter().find(|(i, _)| *i == spec.id) else {
                return Err(deny_cmd);
            };
            let idx = if is_subcommand(spec) { 2 } else { 1 };
            let Some(arg) = argv.get(idx).filter(|_| argv.len() >= 2) else {
                return Err(deny_cmd);
            };
            if !args.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                return Err(deny_cmd);
            }
        }
        if !self.all_keys && spec.has_keys() {
            let keys = keys.get_or_insert_with(|| spec.keys(argv));
            for k in keys.iter() {
                if !self.check_key(argv[k.pos], k.flags) {
                    return Err(Denial {
                        reason: Denied::Key,
                        pos: k.pos,
                    });
                }
            }
        }
        if !self.all_channels {
            if let Some((is_pattern, count)) = channel_args(spec) {
                let stop = count.map_or(argv.len(), |n| (1 + n).min(argv.len()));
                for (pos, ch) in argv.iter().enumerate().take(stop).skip(1) {
                    if !channel_in_list(&self.channels, ch, is_pattern) {
                        return Err(Denial {
                            reason: Denied::Channel,
                            pos,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// The channel arguments of the commands whose channels ACLs check (publish and
/// subscribe; unsubscribing is always allowed): (pattern, count of channels or all).
fn channel_args(spec: &CommandSpec) -> Option<(bool, Option<usize>)> {
    match spec.name.as_str() {
        "subscribe" | "ssubscribe" => Some((false, None)),
        "psubscribe" => Some((true, None)),
        "publish" | "spublish" => Some((false, Some(1))),
        _ => None,
    }
}

/// A channel (or, for PSUBSCRIBE, a pattern taken literally) against ACL patterns.
fn channel_in_list(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| {
        if is_pattern {
            p == channel
        } else {
            redis_formats::glob::glob_match(p, channel, false)
        }
    })
}

/// One ACL user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub flags: u8,
    /// SHA-256 hex hashes.
    pub passwords: Vec<Vec<u8>>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
    /// Some selector allows every command, key and channel: no check needed.
    pub unrestricted: bool,
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.name))
    }
}

impl User {
    /// A new user as ACL SETUSER creates it: off, no password, no permissions.
    pub fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            flags: uflags::DISABLED,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, pubsub_all)],
            unrestricted: false,
        }
    }

    /// The default user of a fresh server: `on nopass ~* &* +@all`.
    pub fn new_default(pubsub_all: bool) -> User {
        let mut u = User::new(b"default", pubsub_all);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(op.as_bytes(), pubsub_all);
        }
        u
    }

    /// Recomputes [`unrestricted`](Self::unrestricted).
    pub fn refresh(&mut self) {
        self.unrestricted = self
            .selectors
            .iter()
            .any(|s| s.all_commands && s.all_keys && s.all_channels);
    }

    pub fn enabled(&self) -> bool {
        self.flags & uflags::DISABLED == 0
    }

    pub fn nopass(&self) -> bool {
        self.flags & uflags::NOPASS != 0
    }

    /// Applies one rule (Redis's ACLSetUser); `pubsub_all` is acl-pubsub-default.
    pub fn apply(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        let r = self.apply_inner(op, pubsub_all);
        self.refresh();
        r
    }

    fn apply_inner(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        use uflags::*;
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.flags = (self.flags | ENABLED) & !DISABLED;
        } else if is("off") {
            self.flags = (self.flags | DISABLED) & !ENABLED;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | SKIP_SANITIZE) & !SANITIZE;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | SANITIZE) & !SKIP_SANITIZE;
        } else if is("nopass") {
            self.flags |= NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadMsg);
                }
                op[1..].to_vec()
            };
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.flags &= !NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadMsg);
                }
                op[1..].to_vec()
            };
            match self.passwords.iter().position(|p| *p == h) {
                Some(i) => {
                    self.passwords.remove(i);
                }
                None => return Err(RuleError::NoDev),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let inner = &op[1..op.len() - 1];
            let mut s = Selector::new(false, pubsub_all);
            // Redis's sdssplitargs; unbalanced quotes give no rules at all.
            for a in redis_formats::request::split_args(inner).unwrap_or_default() {
                s.apply(&a)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for op in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply_inner(op.as_bytes(), pubsub_all)?;
            }
            if pubsub_all {
                self.apply_inner(b"allchannels", pubsub_all)?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply_inner(op.as_bytes(), pubsub_all)?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// The user as rules after `user <name> ` (ACL LIST, ACL SAVE, CONFIG REWRITE).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, f) in uflags::NAMES {
            if self.flags & f != 0 {
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
            }
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p);
            out.push(b' ');
        }
        for s in &self.selectors {
            if s.root {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }

    /// Redis's ACLCheckAllUserCommandPerm: Ok if some selector allows the command,
    /// else the most relevant denial (command < key < channel, then the last argument).
    pub fn check(&self, spec: &CommandSpec, argv: &[&[u8]]) -> Result<(), Denial> {
        if self.unrestricted {
            return Ok(());
        }
        let mut keys = None;
        let mut worst = Denial {
            reason: Denied::Cmd,
            pos: 0,
        };
        for s in &self.selectors {
            match s.check(spec, argv, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    if d.reason > worst.reason || (d.reason == worst.reason && d.pos > worst.pos) {
                        worst = d;
                    }
                }
            }
        }
        Err(worst)
    }

    /// Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess for reads: some selector
    /// allows the command and reading every key (SORT BY/GET patterns).
    pub fn may_read_any_key(&self, spec: &CommandSpec, argv: &[&[u8]]) -> bool {
        if self.unrestricted {
            return true;
        }
        let mut keys = None;
        self.selectors.iter().any(|s| {
            s.check(spec, argv, &mut keys).is_ok()
                && (s.all_keys
                    || s.patterns
                        .iter()
                        .any(|p| p.flags & PERM_READ != 0 && p.pattern == b"*"))
        })
    }

    /// True if some selector lets this user use `channel` (Redis's
    /// ACLUserCheckChannelPerm).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors
            .iter()
            .any(|s| s.check_channel(channel, is_pattern))
    }

    /// Redis's ACLCheckUserCredentials for this user.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled() {
            return false;
        }
        if self.nopass() {
            return true;
        }
        let h = hash_password(pass);
        self.passwords.iter().any(|p| {
            p.len() == h.len() && p.iter().zip(&h).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }
}

/// The user internal clients run as (AOF loading, scripts before they take their
/// caller's user): everything allowed.
pub fn internal_user() -> Arc<User> {
    static U: OnceLock<Arc<User>> = OnceLock::new();
    U.get_or_init(|| Arc::new(User::new_default(true))).clone()
}

/// Redis's ACLMergeSelectorArguments: a selector spread over several arguments
/// (`(+get` `~key)`) becomes one. `Err(i)`: the unmatched `(` at argument `i`.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, &op) in args.iter().enumerate() {
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().expect("open selector").1);
            }
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// Where a denial happened (ACL LOG `context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogContext {
    Toplevel,
    Multi,
    Lua,
}

/// One ACL LOG entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Denied,
    pub context: LogContext,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Unix ms of the last update.
    pub ctime: i64,
    pub client_info: String,
}

/// The users and the ACL LOG.
pub struct Acl {
    /// By name, in byte order (ACL LIST and USERS order, as Redis's radix tree).
    pub users: BTreeMap<Vec<u8>, Arc<User>>,
    /// Newest first.
    pub log: VecDeque<LogEntry>,
}

impl Default for Acl {
    fn default() -> Self {
        let mut users = BTreeMap::new();
        users.insert(b"default".to_vec(), Arc::new(User::new_default(false)));
        Acl {
            users,
            log: VecDeque::new(),
        }
    }
}

impl Acl {
    /// The default user.
    pub fn default_user(&self) -> &Arc<User> {
        self.users
            .get(&b"default"[..])
            .expect("the default user exists")
    }

    /// True when connections must authenticate (the default user is not
    /// `on nopass`): Redis's authRequired for a client that has not authenticated.
    pub fn default_needs_auth(&self) -> bool {
        let d = self.default_user();
        !d.nopass() || !d.enabled()
    }

    /// Redis's ACLUpdateDefaultUserPassword (`requirepass`): the default user gets
    /// this one password, or `nopass` for none.
    pub fn update_default_password(&mut self, pass: Option<&[u8]>) {
        let mut u = (**self.default_user()).clone();
        default_password_rules(&mut u, pass);
        self.users.insert(b"default".to_vec(), Arc::new(u));
    }

    /// Adds an entry, merging it with a recent similar one (Redis's addACLLogEntry).
    pub fn add_log(&mut self, mut e: LogEntry, max_len: u64) {
        let found = self.log.iter().take(10).position(|c| {
            c.reason == e.reason
                && c.context == e.context
                && (c.ctime - e.ctime).abs() <= 60000
                && c.object == e.object
                && c.username == e.username
        });
        if let Some(i) = found {
            let mut m = self.log.remove(i).expect("found entry");
            m.client_info = std::mem::take(&mut e.client_info);
            m.ctime = e.ctime;
            m.count += 1;
            self.log.push_front(m);
        } else {
            self.log.push_front(e);
            while self.log.len() as u64 > max_len {
                self.log.pop_back();
            }
        }
    }
}

/// Applies `rules` to a copy of `base` (or a new user `name`), all or nothing:
/// Redis's ACLStringSetUser. The error is the reply text without `ERR `.
pub fn set_user_from_rules(
    base: Option<&User>,
    name: &[u8],
    rules: &[&[u8]],
    pubsub_all: bool,
) -> Result<User, String> {
    let merged = merge_selector_args(rules).map_err(|i| {
        format!(
            "Unmatched parenthesis in acl selector starting at '{}'.",
            String::from_utf8_lossy(rules[i])
        )
    })?;
    let mut u = match base {
        Some(b) => b.clone(),
        None => User::new(name, pubsub_all),
    };
    for op in &merged {
        if let Err(e) = u.apply(op, pubsub_all) {
            return Err(format!(
                "Error in ACL SETUSER modifier '{}': {}",
                String::from_utf8_lossy(op),
                e.text()
            ));
        }
    }
    Ok(u)
}

/// True if clients of `old` subscribed to channels may lose access with `new`
/// (Redis's ACLKillPubsubClientsIfNeeded first checks): then the upcoming channel
/// list is returned for checking each client.
pub fn revoked_channels(new: &User, old: &User) -> Option<Vec<Vec<u8>>> {
    if new.selectors.iter().any(|s| s.all_channels) {
        return None;
    }
    let upcoming: Vec<Vec<u8>> = new
        .selectors
        .iter()
        .flat_map(|s| s.channels.iter().cloned())
        .collect();
    let superset = old
        .selectors
        .iter()
        .all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(c)));
    if superset {
        None
    } else {
        Some(upcoming)
    }
}

/// True if a subscription (channel or pattern) is not in `upcoming`.
pub fn subscription_revoked(upcoming: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    !channel_in_list(upcoming, channel, is_pattern)
}

/// Parses an ACL file (Redis's ACLLoadFromFile): the new users, or Redis's error
/// text listing every bad line. `filename` is the aclfile setting, as the messages
/// show it.
pub fn parse_acl_file(
    content: &[u8],
    filename: &str,
    pubsub_all: bool,
) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let mut errors = String::new();
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let lines: Vec<&[u8]> = content.split(|&c| c == b'\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line
            .split(|&c| c == b' ')
            .filter(|a| !a.is_empty())
            .collect();
        if argv.is_empty() {
            continue;
        }
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{filename}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        if has_spaces(argv[1]) {
            errors.push_str(&format!(
                "'{filename}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        if users.contains_key(argv[1]) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        let mut u = User::new(argv[1], pubsub_all);
        let merged = match merge_selector_args(&argv[2..]) {
            Ok(m) => m,
            Err(_) => {
                errors.push_str(&format!(
                    "{filename}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            if let Err(e) = u.apply(op, pubsub_all) {
                if e == RuleError::NoEnt {
                    errors.push_str(&format!(
                        "{filename}:{linenum}: Error in applying operation '{}': {}. ",
                        String::from_utf8_lossy(op),
                        e.text()
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{filename}:{linenum}: {}. ", e.text()));
                    syntax_error = true;
                }
            }
        }
        users.insert(argv[1].to_vec(), u);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Installs `user` (new or changed) and points the clients that held the old
/// version at it, `current` (the running client, out of the registry) included.
pub fn install_user(srv: &mut Server, current: &mut Client, user: User) -> Arc<User> {
    let new = Arc::new(user);
    if let Some(old) = srv.acl.users.insert(new.name.clone(), new.clone()) {
        for c in srv.clients.iter_mut() {
            if Arc::ptr_eq(&c.user, &old) {
                c.user = new.clone();
            }
        }
        if Arc::ptr_eq(&current.user, &old) {
            current.user = new.clone();
        }
    }
    new
}

/// `requirepass` changed (CONFIG SET): the default user's password follows.
pub fn set_default_password(srv: &mut Server, current: &mut Client, pass: Option<&[u8]>) {
    let mut u = (**srv.acl.default_user()).clone();
    default_password_rules(&mut u, pass);
    install_user(srv, current, u);
}

fn default_password_rules(u: &mut User, pass: Option<&[u8]>) {
    let _ = u.apply(b"resetpass", false);
    match pass {
        Some(p) => {
            let mut op = Vec::with_capacity(p.len() + 1);
            op.push(b'>');
            op.extend_from_slice(p);
            let _ = u.apply(&op, false);
        }
        None => {
            let _ = u.apply(b"nopass", false);
        }
    }
}

/// Redis's authRequired: the client has not authenticated and the default user is
/// not `on nopass`.
#[inline]
pub fn auth_required(srv: &Server, c: &Client) -> bool {
    !c.authenticated && srv.acl.default_needs_auth()
}

/// `<name> <rules>` of every user, for CONFIG REWRITE.
pub fn user_lines(acl: &Acl) -> Vec<Vec<u8>> {
    acl.users
        .values()
        .map(|u| {
            let mut l = u.name.clone();
            l.push(b' ');
            l.extend_from_slice(&u.describe());
            l
        })
        .collect()
}

/// A `user` line of redis.conf (`args` after `user`): validated as Redis's
/// ACLAppendUserForLoading (unknown commands are only found when loading) and queued.
/// The error is Redis's text after "Error in user declaration ".
pub fn append_user_for_loading(
    queued: &mut Vec<Vec<Vec<u8>>>,
    args: &[Vec<u8>],
) -> Result<(), String> {
    // Redis names the argument at the failing index of its argv, which starts with
    // "user" (for a rule error the index counts rules, as Redis does).
    let at = |i: usize| -> String {
        if i == 0 {
            "user".into()
        } else {
            String::from_utf8_lossy(&args[i - 1]).into_owned()
        }
    };
    let fail = |i: usize, e: RuleError| Err(format!("'{}': {}", at(i), e.text()));
    if queued.iter().any(|u| u[0] == args[0]) {
        return fail(1, RuleError::Already);
    }
    let rules: Vec<&[u8]> = args[1..].iter().map(|a| &a[..]).collect();
    // Redis reports an unmatched parenthesis with a stale errno, which is ENOENT
    // at this point of its start-up.
    let merged = match merge_selector_args(&rules) {
        Ok(m) => m,
        Err(j) => return fail(j, RuleError::NoEnt),
    };
    let mut fake = User::new(b"", false);
    for (j, op) in merged.iter().enumerate() {
        if let Err(e) = fake.apply(op, false) {
            if e != RuleError::NoEnt {
                return fail(j, e);
            }
        }
    }
    let mut entry = vec![args[0].clone()];
    entry.extend(merged);
    queued.push(entry);
    Ok(())
}

/// Redis's ACLLoadUsersAtStartup: the `user` lines of the config, or the aclfile
/// (not both). The error is the log line before Redis exits.
pub fn load_users_at_startup(srv: &mut Server, queued: &[Vec<Vec<u8>>]) -> Result<(), String> {
    if !srv.config.aclfile.is_empty() && !queued.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    let all = srv.config.acl_pubsub_default == crate::config::AclPubsubDefault::AllChannels;
    for entry in queued {
        let name = &entry[0];
        if has_spaces(name) {
            crate::log::log(
                crate::log::Level::Warning,
                "Spaces not allowed in ACL usernames",
            );
            return Err("Critical error while loading ACLs. Exiting.".into());
        }
        let mut u = match srv.acl.users.get(name) {
            Some(d) => {
                let mut d = (**d).clone();
                let _ = d.apply(b"reset", all);
                d
            }
            None => User::new(name, all),
        };
        for op in &entry[1..] {
            if let Err(e) = u.apply(op, all) {
                crate::log::log(
                    crate::log::Level::Warning,
                    &format!(
                        "Error loading ACL rule '{}' for the user named '{}': {}",
                        String::from_utf8_lossy(op),
                        String::from_utf8_lossy(name),
                        e.text()
                    ),
                );
                return Err("Critical error while loading ACLs. Exiting.".into());
            }
        }
        if !u.enabled() {
            crate::log::log(
                crate::log::Level::Notice,
                &format!(
                    "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                    String::from_utf8_lossy(name)
                ),
            );
        }
        srv.acl.users.insert(name.clone(), Arc::new(u));
    }
    if !srv.config.aclfile.is_empty() {
        crate::cmd::acl::load_acl_file(srv, None)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
    }
    Ok(())
}

/// The text of an ACL file for these users (ACL SAVE).
pub fn acl_file_text(acl: &Acl) -> Vec<u8> {
    let mut out = Vec::new();
    for u in acl.users.values() {
        out.extend_from_slice(b"user ");
        out.extend_from_slice(&u.name);
        out.push(b' ');
        out.extend_from_slice(&u.describe());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let r: Vec<&[u8]> = rules.iter().map(|s| s.as_bytes()).collect();
        set_user_from_rules(None, b"u", &r, false).unwrap()
    }

    fn desc(u: &User) -> String {
        String::from_utf8(u.describe()).unwrap()
    }

    fn spec(argv: &[&[u8]]) -> &'static CommandSpec {
        redis_commands::table().lookup(argv).unwrap()
    }

    fn allowed(u: &User, argv: &[&[u8]]) -> Result<(), Denial> {
        u.check(spec(argv), argv)
    }

    #[test]
    fn default_user_description() {
        let d = User::new_default(false);
        assert_eq!(desc(&d), "on nopass ~* &* +@all");
        assert!(d.unrestricted);
        assert_eq!(desc(&User::new(b"x", false)), "off resetchannels -@all");
    }

    #[test]
    fn rules_and_errors() {
        let u = user(&[
            "on",
            ">pass",
            "~obj:*",
            "%R~r*",
            "&chan",
            "+get",
            "+config|get",
        ]);
        let h = String::from_utf8(hash_password(b"pass")).unwrap();
        assert_eq!(
            desc(&u),
            format!("on #{h} ~obj:* %R~r* resetchannels &chan -@all +get +config|get")
        );
        let err = |rules: &[&str]| {
            let r: Vec<&[u8]> = rules.iter().map(|s| s.as_bytes()).collect();
            set_user_from_rules(None, b"u", &r, false).unwrap_err()
        };
        assert_eq!(
            err(&["bogus"]),
            "Error in ACL SETUSER modifier 'bogus': Syntax error"
        );
        assert_eq!(
            err(&["+nosuch"]),
            "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"
        );
        assert_eq!(
            err(&["+config|get|x"]),
            "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"
        );
        assert!(err(&["~*", "~foo"]).contains("'allkeys' flag"));
        assert!(err(&["&*", "&foo"]).contains("'allchannels' flag"));
        assert!(err(&["<nopass"]).contains("does not exist"));
        assert!(err(&["#abc"]).contains("exactly 64"));
        assert_eq!(
            err(&["(+get", "~x"]),
            "Unmatched parenthesis in acl selector starting at '(+get'."
        );
        assert!(err(&["%X~foo"]).contains("Syntax error"));
    }

    #[test]
    fn selectors_merge_and_describe() {
        let u = user(&["on", "nopass", "(+set", "~w*)", "(+get ~r*)"]);
        assert_eq!(u.selectors.len(), 3);
        assert_eq!(
            desc(&u),
            "on nopass resetchannels -@all (~w* resetchannels -@all +set) (~r* resetchannels -@all +get)"
        );
        assert!(allowed(&u, &[b"get", b"rkey"]).is_ok());
        assert!(allowed(&u, &[b"set", b"wkey", b"v"]).is_ok());
        let d = allowed(&u, &[b"get", b"wkey"]).unwrap_err();
        assert_eq!(d.reason, Denied::Key);
        assert_eq!(
            allowed(&u, &[b"del", b"x"]).unwrap_err().reason,
            Denied::Cmd
        );
    }

    #[test]
    fn key_read_write_permissions() {
        let u = user(&["+@all", "%R~read*", "%W~write*", "~rw*"]);
        assert!(allowed(&u, &[b"get", b"readx"]).is_ok());
        assert!(allowed(&u, &[b"get", b"writex"]).is_err());
        assert!(allowed(&u, &[b"set", b"writex", b"v"]).is_ok());
        assert!(allowed(&u, &[b"set", b"readx", b"v"]).is_err());
        // COPY reads the source and writes the destination.
        assert!(allowed(&u, &[b"copy", b"readx", b"writey"]).is_ok());
        assert!(allowed(&u, &[b"copy", b"writex", b"ready"]).is_err());
        // EXISTS neither reads nor writes the value.
        assert!(allowed(&u, &[b"exists", b"readx", b"writex"]).is_ok());
        assert!(allowed(&u, &[b"exists", b"other"]).is_err());
    }

    #[test]
    fn channels_and_patterns() {
        let u = user(&["+@all", "~*", "resetchannels", "&foo*"]);
        assert!(allowed(&u, &[b"publish", b"foobar", b"m"]).is_ok());
        assert!(allowed(&u, &[b"subscribe", b"foo1", b"foo2"]).is_ok());
        let d = allowed(&u, &[b"subscribe", b"foo1", b"bar"]).unwrap_err();
        assert_eq!((d.reason, d.pos), (Denied::Channel, 2));
        // A PSUBSCRIBE pattern must equal an ACL pattern.
        assert!(allowed(&u, &[b"psubscribe", b"foo*"]).is_ok());
        assert!(allowed(&u, &[b"psubscribe", b"foox*"]).is_err());
        assert!(allowed(&u, &[b"unsubscribe", b"bar"]).is_ok());
    }

    #[test]
    fn commands_categories_firstargs() {
        let u = user(&["+@all", "-@dangerous", "~*"]);
        assert!(allowed(&u, &[b"get", b"k"]).is_ok());
        assert!(allowed(&u, &[b"flushall"]).is_err());
        assert!(desc(&u).ends_with("+@all -@dangerous"));
        let u = user(&["-@all", "+select|0", "+client|id"]);
        assert!(allowed(&u, &[b"select", b"0"]).is_ok());
        assert!(allowed(&u, &[b"select", b"1"]).is_err());
        assert!(allowed(&u, &[b"client", b"id"]).is_ok());
        assert!(allowed(&u, &[b"client", b"kill"]).is_err());
        assert!(desc(&u).ends_with("-@all +client|id +select|0"));
        // AUTH and HELLO are always allowed.
        assert!(allowed(&u, &[b"auth", b"x"]).is_ok());
        let u = user(&["+@all", "-config", "+config|get"]);
        assert!(allowed(&u, &[b"config", b"get", b"x"]).is_ok());
        assert!(allowed(&u, &[b"config", b"set", b"x", b"y"]).is_err());
    }

    #[test]
    fn passwords() {
        let mut u = user(&["on", ">a", ">b", "<a"]);
        assert!(!u.password_ok(b"a"));
        assert!(u.password_ok(b"b"));
        u.apply(b"off", false).unwrap();
        assert!(!u.password_ok(b"b"));
        assert_eq!(
            String::from_utf8(hash_password(b"foo")).unwrap(),
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
        );
    }

    #[test]
    fn acl_file_errors() {
        let e = parse_acl_file(b"user a on\nfoo\nuser b +nosuch\n", "f.acl", false).unwrap_err();
        assert_eq!(e, "f.acl:2 should start with user keyword followed by the username. f.acl:3: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        let ok = parse_acl_file(
            b"user a on nopass\n\nuser default on nopass ~* &* +@all\n",
            "f",
            false,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
    }

    #[test]
    fn log_merges_similar_entries() {
        let mut acl = Acl::default();
        let e = |obj: &[u8], t| LogEntry {
            count: 1,
            reason: Denied::Cmd,
            context: LogContext::Toplevel,
            object: obj.to_vec(),
            username: b"u".to_vec(),
            ctime: t,
            client_info: String::new(),
        };
        acl.add_log(e(b"get", 0), 128);
        acl.add_log(e(b"set", 1), 128);
        acl.add_log(e(b"get", 2), 128);
        assert_eq!(acl.log.len(), 2);
        assert_eq!(acl.log[0].count, 2);
        acl.add_log(e(b"get", 100_000), 2);
        assert_eq!(acl.log.len(), 2);
        assert_eq!(acl.log[0].count, 1);
    }
}
