//! The shape of one command as Redis 7.0 describes it in `COMMAND INFO` and `COMMAND DOCS`.
//!
//! Field names follow Redis's reply keys. Optional reply fields (the ones Redis leaves out
//! of a `COMMAND DOCS` map when the command does not declare them) are `Option`s, so an
//! absent field and an empty one stay distinct and the writers reproduce Redis's replies
//! byte for byte.

use crate::flags::{AclCategories, CommandFlags, KeyFlags};
use serde::{Deserialize, Serialize};

/// One command or subcommand (`COMMAND INFO` plus `COMMAND DOCS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// Lowercase full name: `get`, or `config|get` for a subcommand (Redis's fullname).
    pub name: String,
    /// Redis's arity: `n` means exactly `n` arguments (the name included), `-n` at least `n`.
    pub arity: i64,
    /// Command flags as `COMMAND INFO` lists them (`write`, `readonly`, `fast`, ...), in its order.
    pub flags: Vec<String>,
    /// Legacy key range: position of the first key (0 when none).
    pub first_key: i64,
    /// Legacy key range: position of the last key (negative counts from the end).
    pub last_key: i64,
    /// Legacy key range: step between keys.
    pub step: i64,
    /// ACL categories with their `@` (`@write`, `@string`, ...), in Redis's order.
    pub acl_categories: Vec<String>,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`, ...).
    pub tips: Vec<String>,
    /// Key specifications, in Redis's order (arguments refer to them by index).
    pub key_specs: Vec<KeySpec>,
    /// Subcommands (container commands only), in the order Redis listed them.
    pub subcommands: Vec<CommandSpec>,
    /// The documentation part (`COMMAND DOCS`).
    pub doc: CommandDoc,
    /// `flags` as a bit set, filled in when the table is loaded.
    #[serde(skip)]
    pub flag_bits: CommandFlags,
    /// `acl_categories` as a bit set, filled in when the table is loaded.
    #[serde(skip)]
    pub acl_bits: AclCategories,
    /// Index of this command in [`CommandTable::all`](crate::CommandTable::all)
    /// (commands and subcommands numbered together), filled in when the table is loaded.
    #[serde(skip)]
    pub id: usize,
    /// Redis's special key extraction for this command, if it has one.
    #[serde(skip)]
    pub(crate) getkeys: Option<crate::keys::GetKeysProc>,
}

/// Where a key specification starts looking for keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "spec",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum BeginSearch {
    /// At a fixed argument position.
    Index {
        /// The position (the command name is 0).
        index: i64,
    },
    /// After the first occurrence of a keyword (searched case-insensitively).
    Keyword {
        /// The keyword, as Redis spells it.
        keyword: String,
        /// Where the search starts; negative searches backwards from the end.
        startfrom: i64,
    },
    /// Redis cannot tell (the key spec is incomplete).
    Unknown {},
}

/// How the keys are found once the search has begun.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "spec",
    rename_all = "lowercase",
    deny_unknown_fields
)]
pub enum FindKeys {
    /// A range of keys.
    Range {
        /// Last key relative to the first (negative: from the end of the arguments).
        lastkey: i64,
        /// Step between keys.
        keystep: i64,
        /// With `lastkey == -1`: the keys take `1/limit` of the remaining arguments (0: all).
        limit: i64,
    },
    /// A count of keys given by an argument.
    Keynum {
        /// Position of the count, relative to the begin-search position.
        keynumidx: i64,
        /// Position of the first key, relative to the begin-search position.
        firstkey: i64,
        /// Step between keys.
        keystep: i64,
    },
    /// Redis cannot tell (the key spec is incomplete).
    Unknown {},
}

/// One key specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// Free-text notes, when Redis has some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Key flags (`RO`, `RW`, `OW`, `RM`, `access`, `update`, `insert`, `delete`, ...).
    pub flags: Vec<String>,
    /// Where the search for keys begins.
    pub begin_search: BeginSearch,
    /// How keys are found from there.
    pub find_keys: FindKeys,
    /// `flags` as a bit set, filled in when the table is loaded.
    #[serde(skip)]
    pub flag_bits: KeyFlags,
}

/// The documentation of a command (`COMMAND DOCS`). Fields Redis omits are `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandDoc {
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The Redis version that introduced the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The command group (`string`, `generic`, `sorted-set`, ...), always present.
    pub group: String,
    /// Time complexity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<String>,
    /// Documentation flags (`deprecated`, `syscmd`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_flags: Vec<String>,
    /// The version that deprecated the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
    /// What replaces a deprecated command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// `(version, change)` pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<(String, String)>>,
    /// The arguments after the command name (after the subcommand name for subcommands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<ArgDoc>>,
}

/// The type of a documented argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgType {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `double`
    Double,
    /// `key`
    Key,
    /// `pattern`
    Pattern,
    /// `unix-time`
    UnixTime,
    /// `pure-token`: the token alone.
    PureToken,
    /// `oneof`: exactly one of the nested arguments.
    Oneof,
    /// `block`: the nested arguments in sequence.
    Block,
}

impl ArgType {
    /// The name `COMMAND DOCS` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// One documented argument. Redis 7.0.15 does not report `display_text` or `value`
/// (7.2 added `display_text`), so they are not part of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgDoc {
    /// The argument's name (`key`, `condition`, `expiration`, ...).
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub arg_type: ArgType,
    /// For keys: the index of the key spec that finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec_index: Option<i64>,
    /// The token that introduces the argument (`EX`, `LIMIT`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The version that added the argument.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The version that deprecated it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
    /// `optional`, `multiple`, `multiple_token`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Nested arguments (`oneof` and `block` only; Redis always lists them for those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<ArgDoc>>,
}

impl ArgDoc {
    /// True when the argument may be left out.
    pub fn is_optional(&self) -> bool {
        self.flags.iter().any(|f| f == "optional")
    }

    /// True when the argument may be repeated.
    pub fn is_multiple(&self) -> bool {
        self.flags.iter().any(|f| f == "multiple")
    }

    /// True when each repetition repeats the token too.
    pub fn is_multiple_token(&self) -> bool {
        self.flags.iter().any(|f| f == "multiple_token")
    }
}

impl CommandSpec {
    /// True for subcommands (`config|get`).
    pub fn is_subcommand(&self) -> bool {
        self.name.contains('|')
    }

    /// The name of the parent command for a subcommand (`config` for `config|get`),
    /// the name itself otherwise.
    pub fn container_name(&self) -> &str {
        self.name.split('|').next().unwrap_or(&self.name)
    }

    /// The subcommand part of the name (`get` for `config|get`), if this is a subcommand.
    pub fn subcommand_name(&self) -> Option<&str> {
        self.name.split_once('|').map(|(_, s)| s)
    }

    /// True when the command has the given flag (see [`CommandFlags`]).
    pub fn has_flag(&self, f: CommandFlags) -> bool {
        self.flag_bits.contains(f)
    }

    /// True when `argc` arguments (the command name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }
}
