//! The interactive mode: a rustyline editor when stdin is a terminal
//! (prompt, hints from COMMAND DOCS, completion, history, Ctrl-R, colours),
//! or plain line reading when commands are piped in.

use crate::help;
use crate::opts::OutputMode;
use crate::session::{out, ConnectFlags, Session};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History};
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// `:set hints` / `:set nohints`.
static HINTS: AtomicBool = AtomicBool::new(true);

/// History entries kept (linenoise's default, which Redis uses).
const HISTORY_MAX: usize = 100;

/// Key count above which KEYS * / FLUSHALL ask for confirmation.
const MANY_KEYS: i64 = 100_000;

/// Path of a dotfile: `$ENV` if set (None for /dev/null), else `$HOME/name`.
pub fn dotfile(env: &str, name: &str) -> Option<String> {
    match std::env::var(env) {
        Ok(p) if !p.is_empty() => {
            if p == "/dev/null" {
                None
            } else {
                Some(p)
            }
        }
        _ => match std::env::var("HOME") {
            Ok(h) if !h.is_empty() => Some(format!("{h}/{name}")),
            _ => None,
        },
    }
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Commands whose lines must never reach the history file.
pub fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let argc = argv.len();
    if argc == 0 {
        return false;
    }
    if eq(&argv[0], "auth") {
        return true;
    }
    if argc > 1 && eq(&argv[0], "acl") && eq(&argv[1], "setuser") {
        return true;
    }
    if argc > 2
        && eq(&argv[0], "config")
        && eq(&argv[1], "set")
        && (eq(&argv[2], "masterauth") || eq(&argv[2], "masteruser") || eq(&argv[2], "requirepass"))
    {
        return true;
    }
    if argc > 4 && eq(&argv[0], "hello") {
        let mut j = 2;
        while j < argc {
            let more = argc - 1 - j;
            if eq(&argv[j], "auth") && more >= 2 {
                return true;
            } else if eq(&argv[j], "setname") && more > 0 {
                j += 1;
            } else {
                return false;
            }
            j += 1;
        }
        return false;
    }
    if argc > 7 && eq(&argv[0], "migrate") {
        for (j, a) in argv.iter().enumerate().skip(6) {
            let more = argc - 1 - j;
            if (eq(a, "auth") && more > 0) || (eq(a, "auth2") && more >= 2) {
                return true;
            } else if eq(a, "keys") && more > 0 {
                return false;
            }
        }
    }
    false
}

/// `:set ...` preferences (from the prompt or ~/.redisclirc).
fn set_preference(argv: &[Vec<u8>], interactive: bool) {
    let pre = if interactive { "" } else { ".redisclirc: " };
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if eq(&argv[0], ":set") && argv.len() >= 2 {
        if eq(&argv[1], "hints") {
            HINTS.store(true, Ordering::SeqCst);
        } else if eq(&argv[1], "nohints") {
            HINTS.store(false, Ordering::SeqCst);
        } else {
            out(format!("{pre}unknown redis-cli preference '{}'\n", s(&argv[1])).as_bytes());
        }
    } else {
        out(format!(
            "{pre}unknown redis-cli internal command '{}'\n",
            s(&argv[0])
        )
        .as_bytes());
    }
}

fn load_rc() {
    let Some(path) = dotfile("REDISCLI_RCFILE", ".redisclirc") else {
        return;
    };
    let Ok(text) = std::fs::read(&path) else {
        return;
    };
    for line in text.split(|&b| b == b'\n') {
        if let Some(argv) = redis_formats::request::split_args(line) {
            if !argv.is_empty() {
                set_preference(&argv, false);
            }
        }
    }
}

/// The rustyline helper: hints, completion and highlighting.
struct CliHelper {
    color: bool,
}

impl Completer for CliHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        // Completions replace the whole line typed so far, as linenoise does.
        let c = help::completions(&line[..pos])
            .into_iter()
            .map(|s| Pair {
                display: s.clone(),
                replacement: s,
            })
            .collect();
        Ok((0, c))
    }
}

impl Hinter for CliHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if !HINTS.load(Ordering::SeqCst) || pos < line.len() {
            return None;
        }
        help::hint(line).filter(|h| !h.is_empty())
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
    }
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        highlight_line(line)
    }
    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// Colours the command word (bold yellow) and quoted arguments (green);
/// only escape codes are added, so the visible width is unchanged.
pub fn highlight_line(line: &str) -> Cow<'_, str> {
    let start = line.len() - line.trim_start().len();
    let rest = &line[start..];
    let cmd_end = start + rest.find(char::is_whitespace).unwrap_or(rest.len());
    if cmd_end == start {
        return Cow::Borrowed(line);
    }
    let mut o = String::with_capacity(line.len() + 32);
    o.push_str(&line[..start]);
    o.push_str("\x1b[1;33m");
    o.push_str(&line[start..cmd_end]);
    o.push_str("\x1b[0m");
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for ch in line[cmd_end..].chars() {
        match quote {
            None if ch == '"' || ch == '\'' => {
                quote = Some(ch);
                o.push_str("\x1b[32m");
                o.push(ch);
            }
            None => o.push(ch),
            Some(q) => {
                o.push(ch);
                if escaped {
                    escaped = false;
                } else if ch == '\\' && q == '"' {
                    escaped = true;
                } else if ch == q {
                    quote = None;
                    o.push_str("\x1b[0m");
                }
            }
        }
    }
    if quote.is_some() {
        o.push_str("\x1b[0m");
    }
    Cow::Owned(o)
}

impl Validator for CliHelper {}
impl Helper for CliHelper {}

fn color_terminal() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var("TERM")
            .map(|t| !t.is_empty() && t != "dumb")
            .unwrap_or(false)
        && std::env::var_os("NO_COLOR").is_none()
}

/// What the loop should do after a line.
enum Next {
    Continue,
    Exit,
}

/// Asks before KEYS * / FLUSHALL / FLUSHDB on a big keyspace (tty only).
fn confirm_dangerous(s: &mut Session, argv: &[Vec<u8>]) -> bool {
    let dangerous = (argv.len() == 2 && eq(&argv[0], "keys") && argv[1] == b"*")
        || eq(&argv[0], "flushall")
        || eq(&argv[0], "flushdb");
    if !dangerous {
        return true;
    }
    let Some(conn) = s.conn.as_mut() else {
        return true;
    };
    // FLUSHALL empties every db: count them all.
    let n = if eq(&argv[0], "flushall") {
        match conn.command(&[&b"INFO"[..], b"keyspace"]) {
            Ok(v) => String::from_utf8_lossy(v.as_bytes().unwrap_or(b""))
                .lines()
                .filter_map(|l| l.split_once(":keys=").map(|x| x.1))
                .map(|rest| crate::opts::atoi(rest.as_bytes()))
                .sum(),
            Err(_) => return true,
        }
    } else {
        match conn.command(&[&b"DBSIZE"[..]]) {
            Ok(redis_formats::RespValue::Integer(n)) => n,
            _ => return true,
        }
    };
    if n < MANY_KEYS {
        return true;
    }
    out(format!(
        "Warning: {} {n} keys. Run '{}' anyway? (y/N) ",
        if eq(&argv[0], "flushall") {
            "this server has"
        } else {
            "this database has"
        },
        String::from_utf8_lossy(&argv.join(&b' '))
    )
    .as_bytes());
    let mut ans = String::new();
    let _ = std::io::stdin().lock().read_line(&mut ans);
    matches!(ans.trim(), "y" | "Y" | "yes" | "YES")
}

/// Splits a typed line; in the Lua debugger `e`/`eval` keep the rest of the
/// line verbatim as one argument (Redis's rule).
fn split_line(s: &Session, line: &str) -> Option<Vec<Vec<u8>>> {
    if s.cfg.eval_ldb && (line.starts_with("eval ") || line.starts_with("e ")) {
        let n = if line.as_bytes()[1] == b' ' { 2 } else { 5 };
        return Some(vec![
            line.as_bytes()[..n - 1].to_vec(),
            line.as_bytes()[n..].to_vec(),
        ]);
    }
    redis_formats::request::split_args(line.as_bytes())
}

/// After a reply that ended a Lua debugging session: show the script's
/// final reply and say so.
fn finish_ldb_session(s: &mut Session) {
    s.ldb_end = false;
    let _ = s.read_and_print(false);
    out(format!(
        "\n(Lua debugging session ended{})\n\n",
        if s.cfg.eval_ldb_sync {
            ""
        } else {
            " -- dataset changes rolled back"
        }
    )
    .as_bytes());
}

fn handle_line(s: &mut Session, line: &str, tty: bool) -> (Next, bool) {
    // Returns whether the line may go to history.
    let Some(argv) = split_line(s, line) else {
        out(b"Invalid argument(s)\n");
        return (Next::Continue, true);
    };
    if argv.is_empty() {
        return (Next::Continue, false);
    }
    let mut repeat = 1i64;
    let mut skip = 0;
    let first = String::from_utf8_lossy(&argv[0]);
    if argv.len() > 1 && !first.is_empty() && is_c_long(&first) {
        match first.trim_start().parse::<i64>() {
            Ok(n) if n > 0 => {
                repeat = n;
                skip = 1;
            }
            _ => {
                out(b"Invalid redis-cli repeat command option value.\n");
                return (Next::Continue, false);
            }
        }
    }
    let history_ok = !is_sensitive(&argv[skip..]);
    let cmd = &argv[0];
    if eq(cmd, "quit") || eq(cmd, "exit") {
        return (Next::Exit, history_ok);
    }
    if cmd.first() == Some(&b':') {
        set_preference(&argv, true);
        return (Next::Continue, history_ok);
    }
    if eq(cmd, "restart") {
        out(b"Use 'restart' only in Lua debugging mode.\n");
    } else if argv.len() == 3 && eq(cmd, "connect") {
        s.cfg.host = String::from_utf8_lossy(&argv[1]).into_owned();
        s.cfg.port = crate::opts::atoi32(&argv[2]);
        let _ = s.connect(ConnectFlags {
            force: true,
            quiet: false,
        });
    } else if argv.len() == 1 && eq(cmd, "clear") {
        out(b"\x1b[H\x1b[2J");
    } else {
        if tty && !confirm_dangerous(s, &argv[skip..]) {
            return (Next::Continue, history_ok);
        }
        let start = Instant::now();
        let _ = s.issue_command(&argv[skip..], repeat);
        if s.ldb_end {
            finish_ldb_session(s);
            help::init(s);
        }
        let el = start.elapsed().as_millis();
        if el >= 500 && s.cfg.output == OutputMode::Standard {
            out(format!("({:.2}s)\n", el as f64 / 1000.0).as_bytes());
        }
    }
    (Next::Continue, history_ok)
}

/// Whether `s` is entirely a C `strtol` number (leading blanks and sign allowed).
fn is_c_long(s: &str) -> bool {
    let t = s.trim_start();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// Runs the interactive loop; returns the exit code.
pub fn repl(s: &mut Session) -> i32 {
    s.interactive = true;
    if !s.cfg.eval_ldb {
        help::init(s);
    }
    if !std::io::stdin().is_terminal() {
        return repl_piped(s);
    }
    let histfile = dotfile("REDISCLI_HISTFILE", ".rediscli_history");
    load_rc();
    let mut ed: Editor<CliHelper, DefaultHistory> = match Editor::new() {
        Ok(e) => e,
        Err(_) => return repl_piped(s),
    };
    ed.set_helper(Some(CliHelper {
        color: color_terminal(),
    }));
    let mut history: Vec<String> = Vec::new();
    if let Some(h) = &histfile {
        if let Ok(text) = std::fs::read_to_string(h) {
            for l in text.lines() {
                history.push(l.to_string());
                let _ = ed.history_mut().add(l);
            }
        }
    }
    loop {
        // Started while the server was down: load help and hints as soon as
        // a link exists (Redis keeps its static table in that case).
        if s.conn.is_some() && help::needs_init() {
            help::init(s);
        }
        let prompt = if s.conn.is_some() {
            s.prompt()
        } else {
            "not connected> ".to_string()
        };
        let line = match ed.readline(&prompt) {
            Ok(l) => l,
            Err(_) => return 0,
        };
        if line.is_empty() {
            continue;
        }
        let (next, keep) = handle_line(s, &line, true);
        if keep {
            let _ = ed.add_history_entry(line.as_str());
            if history.last() != Some(&line) {
                history.push(line.clone());
                let max = HISTORY_MAX;
                if history.len() > max {
                    history.drain(..history.len() - max);
                }
            }
            if let Some(h) = &histfile {
                save_history(h, &history);
            }
        }
        if let Next::Exit = next {
            return 0;
        }
    }
}

/// What ended a Lua debugger session.
pub enum LdbOutcome {
    /// `restart`: run the script again in the debugger.
    Restart,
    /// The session is over; the process exits with this code.
    Exit(i32),
}

/// The Lua debugger prompt (`--ldb`): lines go to the server verbatim
/// (`e`/`eval` keep the rest of the line as one argument).
pub fn ldb_repl(s: &mut Session) -> LdbOutcome {
    s.interactive = true;
    let tty = std::io::stdin().is_terminal();
    let mut ed: Option<Editor<(), DefaultHistory>> = if tty { Editor::new().ok() } else { None };
    let stdin = std::io::stdin();
    loop {
        let line = match ed.as_mut() {
            Some(e) => match e.readline("lua debugger> ") {
                Ok(l) => {
                    let _ = e.add_history_entry(l.as_str());
                    l
                }
                Err(_) => return LdbOutcome::Exit(0),
            },
            None => {
                let mut l = String::new();
                match stdin.lock().read_line(&mut l) {
                    Ok(0) | Err(_) => return LdbOutcome::Exit(0),
                    Ok(_) => l.trim_end_matches('\n').to_string(),
                }
            }
        };
        if line.is_empty() {
            continue;
        }
        let argv = if line.starts_with("eval ") || line.starts_with("e ") {
            let n = if line.as_bytes()[1] == b' ' { 2 } else { 5 };
            vec![
                line.as_bytes()[..n - 1].to_vec(),
                line.as_bytes()[n..].to_vec(),
            ]
        } else {
            match redis_formats::request::split_args(line.as_bytes()) {
                Some(a) if !a.is_empty() => a,
                Some(_) => continue,
                None => {
                    out(b"Invalid argument(s)\n");
                    continue;
                }
            }
        };
        if eq(&argv[0], "quit") || eq(&argv[0], "exit") {
            return LdbOutcome::Exit(0);
        }
        if eq(&argv[0], "restart") {
            s.cfg.eval_ldb = true;
            s.cfg.output = OutputMode::Raw;
            return LdbOutcome::Restart;
        }
        let _ = s.issue_command(&argv, 1);
        if s.ldb_end {
            finish_ldb_session(s);
            return LdbOutcome::Exit(repl(s));
        }
    }
}

/// Saves history as plain lines, the format Redis's redis-cli reads too.
fn save_history(path: &str, lines: &[String]) {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path);
    if let Ok(mut f) = f {
        for l in lines {
            let _ = writeln!(f, "{l}");
        }
    }
}

/// Commands read from a pipe: no prompt, no history, no hints.
fn repl_piped(s: &mut Session) -> i32 {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match lock.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return 0,
            Ok(_) => {}
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.is_empty() {
            continue;
        }
        let line = String::from_utf8_lossy(&buf).into_owned();
        if let (Next::Exit, _) = handle_line(s, &line, false) {
            return 0;
        }
    }
}

/// Reads a password with `*` echo on a terminal (plain line otherwise).
pub fn ask_password(msg: &str) -> Vec<u8> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = Vec::new();
        let _ = stdin.lock().read_until(b'\n', &mut line);
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        return line;
    }
    out(msg.as_bytes());
    // SAFETY: termios calls on fd 0, which is a terminal; the previous
    // settings are restored before returning.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    unsafe { libc::tcgetattr(0, &mut old) };
    let mut raw = old;
    raw.c_lflag &= !(libc::ECHO | libc::ICANON);
    raw.c_cc[libc::VMIN] = 1;
    raw.c_cc[libc::VTIME] = 0;
    unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, &raw) };
    let mut pw = Vec::new();
    loop {
        let mut b = [0u8; 1];
        let n = unsafe { libc::read(0, b.as_mut_ptr() as *mut libc::c_void, 1) };
        if n <= 0 {
            break;
        }
        match b[0] {
            b'\r' | b'\n' => break,
            127 | 8 => {
                if pw.pop().is_some() {
                    out(b"\x08 \x08");
                }
            }
            3 => {
                unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, &old) };
                std::process::exit(1);
            }
            c => {
                pw.push(c);
                out(b"*");
            }
        }
    }
    unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, &old) };
    out(b"\n");
    pw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn sensitive_commands() {
        assert!(is_sensitive(&v(&["AUTH", "x"])));
        assert!(is_sensitive(&v(&["hello", "3", "AUTH", "u", "p"])));
        assert!(!is_sensitive(&v(&["hello", "3", "SETNAME", "n", "x"])));
        assert!(is_sensitive(&v(&[
            "migrate", "h", "1", "k", "0", "10", "AUTH", "pw"
        ])));
        assert!(!is_sensitive(&v(&["get", "auth"])));
    }

    #[test]
    fn highlight_keeps_text() {
        let h = highlight_line("set k \"v w\"");
        let plain: String = {
            let mut o = String::new();
            let mut esc = false;
            for c in h.chars() {
                if c == '\x1b' {
                    esc = true;
                } else if esc && c == 'm' {
                    esc = false;
                } else if !esc {
                    o.push(c);
                }
            }
            o
        };
        assert_eq!(plain, "set k \"v w\"");
    }

    #[test]
    fn repeat_numbers() {
        assert!(is_c_long("3"));
        assert!(is_c_long("-3"));
        assert!(!is_c_long("3x"));
    }
}
