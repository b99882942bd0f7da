//! What redis-cli's `help` shows: command groups, names and argument synopses, built from
//! the docs the way redis-cli 7.0 builds them from a server's `COMMAND DOCS` reply.

use crate::spec::{ArgDoc, ArgType, CommandSpec};
use crate::table::CommandTable;

/// The groups of redis-cli's built-in help (its `help.h`, used when no server answers
/// `COMMAND DOCS`), in that order; `help @<group>` takes these names.
pub const CLI_HELP_GROUPS: &[&str] = &[
    "generic",
    "string",
    "list",
    "set",
    "sorted-set",
    "hash",
    "pubsub",
    "transactions",
    "connection",
    "server",
    "scripting",
    "hyperloglog",
    "cluster",
    "geo",
    "stream",
    "bitmap",
];

impl CommandTable {
    /// The distinct `COMMAND DOCS` groups of the table, sorted as redis-cli sorts its help
    /// topics (`bitmap`, `cluster`, `connection`, ...); `help @<group>` takes these names.
    pub fn doc_groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = self.all().map(|c| c.doc.group.as_str()).collect();
        groups.sort_unstable();
        groups.dedup();
        groups
    }
}

impl CommandSpec {
    /// The name as redis-cli's help prints it: uppercase, a space before a subcommand
    /// (`CONFIG GET`).
    pub fn help_name(&self) -> String {
        self.name.replace('|', " ").to_ascii_uppercase()
    }

    /// The argument synopsis redis-cli prints after the name in `help <command>` and uses for
    /// its hints, e.g. for SET: `key value [NX|XX] [GET] [EX seconds|PX milliseconds|...]`.
    pub fn synopsis(&self) -> String {
        let mut out = String::new();
        if let Some(args) = &self.doc.arguments {
            join_args(&mut out, args, " ");
        }
        out
    }
}

fn join_args(out: &mut String, args: &[ArgDoc], sep: &str) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        push_arg(out, a);
    }
}

/// An empty name or token is shown as `""`, as redis-cli does.
fn or_empty(s: &str) -> &str {
    if s.is_empty() {
        "\"\""
    } else {
        s
    }
}

fn push_arg(out: &mut String, a: &ArgDoc) {
    let mut token = a.token.as_deref().map(or_empty).unwrap_or("").to_string();
    let mut repeat = String::new();
    match a.arg_type {
        ArgType::Oneof => join_args(&mut repeat, a.arguments.as_deref().unwrap_or(&[]), "|"),
        ArgType::Block => join_args(&mut repeat, a.arguments.as_deref().unwrap_or(&[]), " "),
        ArgType::PureToken => {}
        _ => repeat.push_str(or_empty(&a.name)),
    }
    if !token.is_empty() && a.arg_type != ArgType::PureToken {
        token.push(' ');
    }
    let optional = a.is_optional();
    if optional {
        out.push('[');
    }
    out.push_str(&token);
    out.push_str(&repeat);
    if a.is_multiple() {
        out.push_str(" [");
        if a.is_multiple_token() {
            out.push_str(&token);
        }
        out.push_str(&repeat);
        out.push_str(" ...]");
    }
    if optional {
        out.push(']');
    }
}

#[cfg(test)]
mod tests {
    use crate::table;

    fn syn(name: &str) -> String {
        table().get_by_fullname(name.as_bytes()).unwrap().synopsis()
    }

    #[test]
    fn synopses_as_redis_cli_prints_them() {
        // `redis-cli help SET` against Debian's redis-server 7.0.15.
        assert_eq!(
            syn("set"),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"
        );
        assert_eq!(syn("get"), "key");
        assert_eq!(syn("mset"), "key value [key value ...]");
        assert_eq!(syn("ping"), "[message]");
        assert_eq!(syn("command|count"), "");
        assert_eq!(table().get(b"config").unwrap().help_name(), "CONFIG");
        assert_eq!(
            table().get_by_fullname(b"config|get").unwrap().help_name(),
            "CONFIG GET"
        );
    }

    #[test]
    fn groups() {
        let g = table().doc_groups();
        assert!(g.contains(&"string") && g.contains(&"sorted-set"));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
    }
}
