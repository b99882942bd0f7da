//! Bit sets for the flag names of the table, so the dispatcher tests a flag with one AND
//! instead of comparing strings. The name lists are in the order Redis 7.0 reports them.

/// Command flag names in the order `COMMAND INFO` lists them; bit `i` is `COMMAND_FLAG_NAMES[i]`.
pub const COMMAND_FLAG_NAMES: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

/// Key spec flag names in Redis's order; bit `i` is `KEY_FLAG_NAMES[i]`.
pub const KEY_FLAG_NAMES: &[&str] = &[
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

/// ACL categories (without `@`) in the order `ACL CAT` lists them; bit `i` is `ACL_CATEGORY_NAMES[i]`.
pub const ACL_CATEGORY_NAMES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

fn bit_of(names: &[&str], name: &str) -> Option<u32> {
    names.iter().position(|n| *n == name).map(|i| i as u32)
}

macro_rules! bitset {
    ($(#[$doc:meta])* $name:ident, $int:ty, $names:ident, { $($(#[$cdoc:meta])* $c:ident = $bit:expr,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
        pub struct $name(pub $int);

        impl $name {
            $($(#[$cdoc])* pub const $c: $name = $name(1 << $bit);)*

            /// The empty set.
            pub const EMPTY: $name = $name(0);

            /// True when every bit of `other` is set here.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// True when no bit is set.
            pub fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The bit of one name, `None` for a name Redis does not report.
            pub fn from_name(name: &str) -> Option<$name> {
                bit_of($names, name).map(|b| $name(1 << b))
            }

            /// The set of the given names; unknown names are left out.
            pub fn from_names<S: AsRef<str>>(names: &[S]) -> $name {
                $name(names
                    .iter()
                    .filter_map(|n| Self::from_name(n.as_ref()))
                    .fold(0, |acc, b| acc | b.0))
            }

            /// The names of the bits set, in Redis's order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                $names
                    .iter()
                    .enumerate()
                    .filter(move |(i, _)| self.0 & (1 << i) != 0)
                    .map(|(_, n)| *n)
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, o: $name) -> $name {
                $name(self.0 | o.0)
            }
        }
    };
}

bitset!(
    /// A set of command flags (see [`COMMAND_FLAG_NAMES`]).
    CommandFlags, u32, COMMAND_FLAG_NAMES, {
    /// `write`
    WRITE = 0,
    /// `readonly`
    READONLY = 1,
    /// `denyoom`
    DENYOOM = 2,
    /// `module`
    MODULE = 3,
    /// `admin`
    ADMIN = 4,
    /// `pubsub`
    PUBSUB = 5,
    /// `noscript`
    NOSCRIPT = 6,
    /// `blocking`
    BLOCKING = 7,
    /// `loading`
    LOADING = 8,
    /// `stale`
    STALE = 9,
    /// `skip_monitor`
    SKIP_MONITOR = 10,
    /// `skip_slowlog`
    SKIP_SLOWLOG = 11,
    /// `asking`
    ASKING = 12,
    /// `fast`
    FAST = 13,
    /// `no_auth`
    NO_AUTH = 14,
    /// `no_mandatory_keys`
    NO_MANDATORY_KEYS = 15,
    /// `no_async_loading`
    NO_ASYNC_LOADING = 16,
    /// `no_multi`
    NO_MULTI = 17,
    /// `movablekeys`
    MOVABLEKEYS = 18,
    /// `allow_busy`
    ALLOW_BUSY = 19,
});

bitset!(
    /// A set of key spec flags (see [`KEY_FLAG_NAMES`]).
    KeyFlags, u16, KEY_FLAG_NAMES, {
    /// `RO`: read only.
    RO = 0,
    /// `RW`: read and write.
    RW = 1,
    /// `OW`: overwrite.
    OW = 2,
    /// `RM`: remove.
    RM = 3,
    /// `access`: the value is returned, copied or used.
    ACCESS = 4,
    /// `update`
    UPDATE = 5,
    /// `insert`
    INSERT = 6,
    /// `delete`
    DELETE = 7,
    /// `not_key`: a channel or similar, not a key.
    NOT_KEY = 8,
    /// `incomplete`: the spec may not find every key.
    INCOMPLETE = 9,
    /// `variable_flags`: the flags depend on the arguments.
    VARIABLE_FLAGS = 10,
});

bitset!(
    /// A set of ACL categories (see [`ACL_CATEGORY_NAMES`]).
    AclCategories, u32, ACL_CATEGORY_NAMES, {
    /// `@keyspace`
    KEYSPACE = 0,
    /// `@read`
    READ = 1,
    /// `@write`
    WRITE = 2,
    /// `@set`
    SET = 3,
    /// `@sortedset`
    SORTEDSET = 4,
    /// `@list`
    LIST = 5,
    /// `@hash`
    HASH = 6,
    /// `@string`
    STRING = 7,
    /// `@bitmap`
    BITMAP = 8,
    /// `@hyperloglog`
    HYPERLOGLOG = 9,
    /// `@geo`
    GEO = 10,
    /// `@stream`
    STREAM = 11,
    /// `@pubsub`
    PUBSUB = 12,
    /// `@admin`
    ADMIN = 13,
    /// `@fast`
    FAST = 14,
    /// `@slow`
    SLOW = 15,
    /// `@blocking`
    BLOCKING = 16,
    /// `@dangerous`
    DANGEROUS = 17,
    /// `@connection`
    CONNECTION = 18,
    /// `@transaction`
    TRANSACTION = 19,
    /// `@scripting`
    SCRIPTING = 20,
});

impl AclCategories {
    /// The set of categories given with their `@` (`@write`), as the table stores them.
    pub fn from_at_names<S: AsRef<str>>(names: &[S]) -> AclCategories {
        AclCategories(
            names
                .iter()
                .filter_map(|n| n.as_ref().strip_prefix('@').and_then(Self::from_name))
                .fold(0, |acc, b| acc | b.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_redis_order() {
        let f = CommandFlags::from_names(&["fast", "write", "bogus"]);
        assert_eq!(f, CommandFlags::WRITE | CommandFlags::FAST);
        assert_eq!(f.names().collect::<Vec<_>>(), ["write", "fast"]);
        let k = KeyFlags::RW | KeyFlags::ACCESS | KeyFlags::UPDATE;
        assert_eq!(k.names().collect::<Vec<_>>(), ["RW", "access", "update"]);
        assert!(k.contains(KeyFlags::RW));
        assert!(!k.contains(KeyFlags::RO));
        let a = AclCategories::from_at_names(&["@write", "@string", "@slow"]);
        assert_eq!(
            a,
            AclCategories::WRITE | AclCategories::STRING | AclCategories::SLOW
        );
        assert_eq!(ACL_CATEGORY_NAMES.len(), 21);
    }
}
