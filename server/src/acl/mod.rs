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

mod file;
mod selector;
#[cfg(test)]
mod tests;
mod user;

pub use file::*;
pub use selector::*;
pub use user::*;

use crate::client::Client;
use crate::state::Server;
use redis_commands::flags::ACL_CATEGORY_NAMES;
use redis_commands::{AclCategories, CommandFlags, CommandSpec, KeyFlags};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock};

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
