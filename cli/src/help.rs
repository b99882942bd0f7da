//! Command help, hints and completion, built from the server's COMMAND DOCS.
//!
//! When the server cannot be asked (not connected, or a server without
//! COMMAND DOCS), a static table can be plugged in through
//! [`set_fallback_table`]; the suite's own command table crate is meant to
//! provide one.

use crate::session::{ConnectFlags, Session};
use redis_formats::RespValue;
use std::sync::{Mutex, OnceLock};

/// One help topic: a command, a subcommand (`CONFIG GET`) or a group (`@list`).
#[derive(Debug, Clone, PartialEq)]
pub struct HelpEntry {
    /// Upper-cased words: `["CONFIG", "GET"]`, or `["@list"]` for a group.
    pub argv: Vec<String>,
    /// `argv` joined by a space.
    pub full: String,
    /// Whether this is a group topic.
    pub is_group: bool,
    /// The argument synopsis (`key value [NX|XX]`).
    pub params: String,
    pub summary: String,
    pub since: Option<String>,
    pub group: String,
}

/// A source of help entries used when the server cannot be asked.
pub trait CommandTable: Send + Sync {
    /// Command (and subcommand) entries; groups are derived from them.
    fn entries(&self) -> Vec<HelpEntry>;
}

static FALLBACK: OnceLock<Box<dyn CommandTable>> = OnceLock::new();
static TABLE: Mutex<Option<Vec<HelpEntry>>> = Mutex::new(None);
/// Whether the last load could ask a server (whatever it answered).
static ASKED_SERVER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Plugs in the static table used when COMMAND DOCS is unavailable.
pub fn set_fallback_table(t: Box<dyn CommandTable>) {
    let _ = FALLBACK.set(t);
}

fn pairs(v: &RespValue) -> Vec<(&RespValue, &RespValue)> {
    match v {
        RespValue::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        RespValue::Array(a) => a
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (&c[0], &c[1]))
            .collect(),
        _ => Vec::new(),
    }
}

fn text(v: &RespValue) -> String {
    String::from_utf8_lossy(v.as_bytes().unwrap_or(b"")).into_owned()
}

fn or_empty(s: &str) -> &str {
    if s.is_empty() {
        "\"\""
    } else {
        s
    }
}

/// Renders one argument spec of COMMAND DOCS the way Redis's help shows it.
fn argument(out: &mut String, spec: &RespValue) {
    let (mut name, mut ty, mut token) = (String::new(), String::new(), String::new());
    let (mut optional, mut multiple, mut multiple_token) = (false, false, false);
    let mut args = None;
    if !matches!(spec, RespValue::Map(_) | RespValue::Array(_)) {
        return;
    }
    for (k, v) in pairs(spec) {
        match text(k).as_str() {
            "name" => name = text(v),
            "token" => token.push_str(or_empty(&text(v))),
            "type" => ty = text(v),
            "arguments" => args = Some(v),
            "flags" => {
                for f in v.as_slice().unwrap_or(&[]) {
                    match text(f).as_str() {
                        "optional" => optional = true,
                        "multiple" => multiple = true,
                        "multiple_token" => multiple_token = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut repeat = String::new();
    match ty.as_str() {
        "key" | "string" | "integer" | "double" | "pattern" | "unix-time" | "token" => {
            repeat.push_str(or_empty(&name))
        }
        "oneof" => concat(&mut repeat, args, "|"),
        "block" => concat(&mut repeat, args, " "),
        _ => {}
    }
    if !token.is_empty() && ty != "pure-token" {
        token.push(' ');
    }
    if optional {
        out.push('[');
    }
    out.push_str(&token);
    out.push_str(&repeat);
    if multiple {
        out.push_str(" [");
        if multiple_token {
            out.push_str(&token);
        }
        out.push_str(&repeat);
        out.push_str(" ...]");
    }
    if optional {
        out.push(']');
    }
}

fn concat(out: &mut String, args: Option<&RespValue>, sep: &str) {
    let items = args.and_then(|a| a.as_slice()).unwrap_or(&[]);
    for (i, a) in items.iter().enumerate() {
        argument(out, a);
        if i + 1 < items.len() {
            out.push_str(sep);
        }
    }
}

fn entry_from_docs(cmd: &str, sub: Option<&str>, specs: &RespValue, out: &mut Vec<HelpEntry>) {
    let mut argv = vec![cmd.to_uppercase()];
    if let Some(s) = sub {
        argv.push(s.split_once('|').map(|x| x.1).unwrap_or(s).to_uppercase());
    }
    let mut e = HelpEntry {
        full: argv.join(" "),
        argv,
        is_group: false,
        params: String::new(),
        summary: String::new(),
        since: None,
        group: String::new(),
    };
    let mut subs = Vec::new();
    for (k, v) in pairs(specs) {
        match text(k).as_str() {
            "summary" => e.summary = text(v),
            "since" => e.since = Some(text(v)),
            "group" => e.group = text(v),
            "arguments" => concat(&mut e.params, Some(v), " "),
            "subcommands" => subs.push(v),
            _ => {}
        }
    }
    out.push(e);
    for s in subs {
        for (name, spec) in pairs(s) {
            entry_from_docs(cmd, Some(&text(name)), spec, out);
        }
    }
}

/// Builds the help table from a COMMAND DOCS reply (groups added, sorted).
pub fn table_from_docs(docs: &RespValue) -> Vec<HelpEntry> {
    let mut out = Vec::new();
    for (name, spec) in pairs(docs) {
        entry_from_docs(&text(name), None, spec, &mut out);
    }
    finish(out)
}

fn finish(mut out: Vec<HelpEntry>) -> Vec<HelpEntry> {
    let mut groups: Vec<String> = out.iter().map(|e| e.group.clone()).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let full = format!("@{g}");
        out.push(HelpEntry {
            argv: vec![full.clone()],
            full,
            is_group: true,
            params: String::new(),
            summary: String::new(),
            since: None,
            group: String::new(),
        });
    }
    out.sort_by(|a, b| a.full.cmp(&b.full));
    out
}

/// (Re)loads the table: COMMAND DOCS from the server, else the fallback.
pub fn init(s: &mut Session) {
    let mut table = None;
    if s.connect(ConnectFlags {
        force: false,
        quiet: true,
    })
    .is_ok()
    {
        if let Some(c) = s.conn.as_mut() {
            ASKED_SERVER.store(true, std::sync::atomic::Ordering::SeqCst);
            match c.command(&[&b"COMMAND"[..], b"DOCS"]) {
                Ok(v) if matches!(v, RespValue::Map(_) | RespValue::Array(_)) => {
                    table = Some(table_from_docs(&v));
                }
                Ok(_) => {}
                // The link died (e.g. a Lua debugging session closed it):
                // the next command reconnects.
                Err(crate::conn::ConnError::Protocol(_)) => {}
                Err(_) => s.conn = None,
            }
        }
    }
    let table = table.unwrap_or_else(|| {
        FALLBACK
            .get()
            .map(|f| finish(f.entries().into_iter().filter(|e| !e.is_group).collect()))
            .unwrap_or_default()
    });
    *TABLE.lock().unwrap_or_else(|p| p.into_inner()) = Some(table);
}

fn with_table<R>(f: impl FnOnce(&[HelpEntry]) -> R) -> R {
    let g = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    f(g.as_deref().unwrap_or(&[]))
}

/// Whether no server could be asked yet (it was down at start): the REPL
/// asks once a link exists, replacing the offline table.
pub fn needs_init() -> bool {
    !ASKED_SERVER.load(std::sync::atomic::Ordering::SeqCst)
}

fn loaded() -> bool {
    TABLE.lock().unwrap_or_else(|p| p.into_inner()).is_some()
}

fn print_entry(out: &mut String, e: &HelpEntry, group: bool) {
    out.push_str(&format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
        e.full, e.params
    ));
    out.push_str(&format!("  \x1b[33msummary:\x1b[0m {}\r\n", e.summary));
    if let Some(s) = &e.since {
        out.push_str(&format!("  \x1b[33msince:\x1b[0m {s}\r\n"));
    }
    if group {
        out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", e.group));
    }
}

/// `help`, `help @group`, `help COMMAND [SUB]`.
pub fn output_help(s: &mut Session, argv: &[Vec<u8>]) {
    if argv.is_empty() {
        crate::session::out(
            format!(
                "redis-cli {}\n\
                 To get help about Redis commands type:\n\
                 \x20     \"help @<group>\" to get a list of commands in <group>\n\
                 \x20     \"help <command>\" for help on <command>\n\
                 \x20     \"help <tab>\" to get a list of possible help topics\n\
                 \x20     \"quit\" to exit\n\
                 \n\
                 To set redis-cli preferences:\n\
                 \x20     \":set hints\" enable online hints\n\
                 \x20     \":set nohints\" disable online hints\n\
                 Set your preferences in ~/.redisclirc\n",
                crate::VERSION
            )
            .as_bytes(),
        );
        return;
    }
    if !loaded() {
        init(s);
    }
    let words: Vec<String> = argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let group = words[0].strip_prefix('@').map(str::to_string);
    let mut out = String::new();
    with_table(|t| {
        for e in t.iter().filter(|e| !e.is_group) {
            match &group {
                None => {
                    if words.len() <= e.argv.len()
                        && words
                            .iter()
                            .zip(&e.argv)
                            .all(|(w, a)| w.eq_ignore_ascii_case(a))
                    {
                        print_entry(&mut out, e, true);
                    }
                }
                Some(g) => {
                    if g.eq_ignore_ascii_case(&e.group) {
                        print_entry(&mut out, e, false);
                    }
                }
            }
        }
    });
    out.push_str("\r\n");
    crate::session::out(out.as_bytes());
}

/// Completions for the line typed so far (command names, or help topics
/// after `help `).
pub fn completions(buf: &str) -> Vec<String> {
    let (start, groups) = if buf.len() >= 5 && buf[..5].eq_ignore_ascii_case("help ") {
        let rest = &buf[5..];
        (buf.len() - rest.trim_start().len(), true)
    } else {
        (0, false)
    };
    let typed = &buf[start..];
    with_table(|t| {
        t.iter()
            .filter(|e| groups || !e.is_group)
            .filter(|e| {
                e.full.len() >= typed.len()
                    && e.full.as_bytes()[..typed.len()].eq_ignore_ascii_case(typed.as_bytes())
            })
            .map(|e| format!("{}{}", &buf[..start], e.full))
            .collect()
    })
}

/// The argument hint for what is typed: the synopsis minus the arguments
/// already given (Redis's hint rules).
pub fn hint(buf: &str) -> Option<String> {
    let argv = redis_formats::request::split_args(buf.as_bytes())?;
    if argv.is_empty() {
        return None;
    }
    let endspace = buf.ends_with(|c: char| c.is_ascii_whitespace());
    let params = with_table(|t| {
        let mut best: Option<(usize, String)> = None;
        for e in t.iter().filter(|e| !e.is_group) {
            let n = e.argv.len();
            if n <= argv.len()
                && e.argv
                    .iter()
                    .zip(&argv)
                    .all(|(a, w)| a.as_bytes().eq_ignore_ascii_case(w))
                && best.as_ref().map_or(true, |(m, _)| n > *m)
            {
                best = Some((n, e.params.clone()));
            }
        }
        best
    })?;
    let (matched, params) = params;
    let mut hint = params.as_str();
    let mut toremove = argv.len() - matched;
    while toremove > 0 && !hint.is_empty() {
        if hint.starts_with('[') {
            break;
        }
        if hint.starts_with(' ') {
            toremove -= 1;
        }
        hint = &hint[1..];
    }
    Some(if endspace {
        hint.to_string()
    } else {
        format!(" {hint}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use RespValue::*;

    fn b(s: &str) -> RespValue {
        Bulk(s.as_bytes().to_vec())
    }

    fn docs() -> RespValue {
        let arg = |name: &str, ty: &str, flags: &[&str]| {
            Map(vec![
                (b("name"), b(name)),
                (b("type"), b(ty)),
                (
                    b("flags"),
                    Array(
                        flags
                            .iter()
                            .map(|f| Status(f.as_bytes().to_vec()))
                            .collect(),
                    ),
                ),
            ])
        };
        Map(vec![(
            b("get"),
            Map(vec![
                (b("summary"), b("Get the value of a key")),
                (b("since"), b("1.0.0")),
                (b("group"), b("string")),
                (
                    b("arguments"),
                    Array(vec![
                        arg("key", "key", &[]),
                        arg("extra", "string", &["optional"]),
                    ]),
                ),
            ]),
        )])
    }

    #[test]
    fn table_and_hints() {
        let t = table_from_docs(&docs());
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].full, "@string");
        assert_eq!(t[1].params, "key [extra]");
        *TABLE.lock().unwrap() = Some(t);
        assert_eq!(hint("get").as_deref(), Some(" key [extra]"));
        assert_eq!(hint("get k ").as_deref(), Some("[extra]"));
        assert_eq!(completions("ge"), vec!["GET".to_string()]);
        assert_eq!(completions("help @s"), vec!["help @string".to_string()]);
    }
}
