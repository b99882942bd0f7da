//! Selectors: a command bitmap, allowed first arguments, key and channel patterns;
//! the rules that change them, their description back as rules, and the check.

use super::*;

/// Command bits per selector (Redis's USER_COMMAND_BITS_COUNT); the last one means
/// "commands added later" and is set only by `+@all`.
const BITS: usize = 1024;
const WORDS: usize = BITS / 64;
const FUTURE_BIT: usize = BITS - 1;
/// Key pattern permissions (`%R~`, `%W~`, `~` is both).
pub const PERM_READ: u8 = 1;
pub const PERM_WRITE: u8 = 2;
pub const PERM_ALL: u8 = 3;
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

    pub(super) fn check_channel(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels || channel_in_list(&self.channels, channel, is_pattern)
    }

    /// Redis's ACLSelectorCheckCmd; `keys` caches the keys between selectors.
    pub(super) fn check(
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
pub(super) fn channel_in_list(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| {
        if is_pattern {
            p == channel
        } else {
            redis_formats::glob::glob_match(p, channel, false)
        }
    })
}
