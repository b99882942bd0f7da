//! Users: flags, passwords, selectors; rules applied all or nothing.

use super::*;

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
