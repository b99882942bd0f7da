//! `redis-check-aof`.

use crate::rdb::{check_named, State, Verdict};
use crate::util::{server_log, strerror};
use redis_rdb::aof::{looks_like_manifest_in, parse_manifest, starts_with_rdb, Scanner, Stop};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What checking one file ended with (Redis's `AOF_CHECK_*`).
enum Checked {
    Ok,
    Empty,
    Truncated,
    TimestampTruncated,
}

/// Stops the program with an exit code after everything printed so far is flushed.
struct Exit(i32);

struct Ctx<'a, W: Write> {
    out: &'a mut W,
    line: i64,
    to_timestamp: i64,
    fix: bool,
    rdb_state: State,
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

impl<W: Write> Ctx<'_, W> {
    fn say(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
    }

    fn check_single(
        &mut self,
        name: &str,
        path: &Path,
        last_file: bool,
        preamble: bool,
    ) -> Result<Checked, Exit> {
        let mut f = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) => {
                self.say(&format!(
                    "Cannot open file {}: {}, aborting...",
                    display(path),
                    strerror(&e)
                ));
                return Err(Exit(1));
            }
        };
        let size = match f.metadata() {
            Ok(m) => m.len(),
            Err(_) => {
                self.say(&format!("Cannot stat file: {name}, aborting..."));
                return Err(Exit(1));
            }
        };
        if size == 0 {
            return Ok(Checked::Empty);
        }
        let mut start = 0u64;
        if preamble {
            let mut br = BufReader::new(&mut f);
            let (v, off) = check_named(
                name.as_bytes(),
                Some(&mut br),
                &mut *self.out,
                &mut self.rdb_state,
                |_, _| {},
            );
            match v {
                Verdict::Ok => {
                    self.say("RDB preamble is OK, proceeding with AOF tail...");
                    start = off;
                }
                Verdict::Failed => {
                    self.say("RDB preamble of AOF file is not sane, aborting.");
                    return Err(Exit(1));
                }
                Verdict::Terminated => return Err(Exit(1)),
            }
        }
        if f.seek(SeekFrom::Start(start)).is_err() {
            self.say(&format!("Failed to read from AOF {name}, aborting..."));
            return Err(Exit(1));
        }
        let mut sc = Scanner::new(BufReader::new(&mut f), start, self.line);
        let to = (self.to_timestamp != 0).then_some(self.to_timestamp);
        let scan = match sc.scan(&display(path), to) {
            Ok(s) => s,
            Err(_) => {
                self.say(&format!("Failed to read from AOF {name}, aborting..."));
                return Err(Exit(1));
            }
        };
        self.line = sc.line;
        drop(sc);
        let mut pos = scan.ok_up_to;
        match &scan.stop {
            Stop::FormatError => self.say(&format!("AOF {name} format error")),
            Stop::Error(e) => {
                let _ = self.out.write_all(e);
                let _ = self.out.write_all(b"\n");
            }
            Stop::BadTimestamp => {
                self.say("Invalid timestamp annotation");
                return Err(Exit(1));
            }
            Stop::Timestamp { offset } => {
                if *offset == 0 {
                    self.say(&format!(
                        "AOF {} has nothing before timestamp {}, aborting...",
                        display(path),
                        self.to_timestamp
                    ));
                    return Err(Exit(1));
                }
                if !last_file {
                    self.say(&format!("Failed to truncate AOF {} to timestamp {} to offset {} because it is not the last file.", display(path), self.to_timestamp, offset));
                    self.say("If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof.");
                    return Err(Exit(1));
                }
                if f.set_len(*offset).is_err() {
                    self.say(&format!(
                        "Failed to truncate AOF {} to timestamp {}",
                        display(path),
                        self.to_timestamp
                    ));
                    return Err(Exit(1));
                }
                return Ok(Checked::TimestampTruncated);
            }
            Stop::Eof => {}
        }
        if pos > size {
            pos = size;
        }
        let diff = size - pos;
        if diff == 0 && self.to_timestamp != 0 {
            self.say(&format!(
                "Truncate nothing in AOF {name} to timestamp {}",
                self.to_timestamp
            ));
            return Ok(Checked::Ok);
        }
        self.say(&format!(
            "AOF analyzed: filename={name}, size={size}, ok_up_to={pos}, ok_up_to_line={}, diff={diff}",
            self.line
        ));
        if diff > 0 {
            if !self.fix {
                self.say(&format!(
                    "AOF {name} is not valid. Use the --fix option to try fixing it."
                ));
                return Err(Exit(1));
            }
            if !last_file {
                self.say(&format!(
                    "Failed to truncate AOF {name} because it is not the last file"
                ));
                return Err(Exit(1));
            }
            self.say(&format!(
                "This will shrink the AOF {name} from {size} bytes, with {diff} bytes, to {pos} bytes"
            ));
            let _ = write!(self.out, "Continue? [y/N]: ");
            let _ = self.out.flush();
            let mut answer = String::new();
            let _ = std::io::stdin().lock().read_line(&mut answer);
            if !answer.starts_with(['y', 'Y']) {
                self.say("Aborting...");
                return Err(Exit(1));
            }
            if f.set_len(pos).is_err() {
                self.say(&format!("Failed to truncate AOF {name}"));
                return Err(Exit(1));
            }
            return Ok(Checked::Truncated);
        }
        Ok(Checked::Ok)
    }

    fn report(&mut self, prefix: &str, name: &str, c: Checked) {
        let s = match c {
            Checked::Ok => format!("{prefix}{name} is valid"),
            Checked::Empty => format!("{prefix}{name} is empty"),
            Checked::TimestampTruncated => format!(
                "Successfully truncated AOF {name} to timestamp {}",
                self.to_timestamp
            ),
            Checked::Truncated => format!("Successfully truncated AOF {name}"),
        };
        self.say(&s);
    }
}

fn file_is_rdb(out: &mut impl Write, path: &Path) -> Result<bool, Exit> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(out, "Cannot open file {}: {}", display(path), strerror(&e));
            return Err(Exit(1));
        }
    };
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 5];
    let n = f.read(&mut head).unwrap_or(0);
    Ok(n == 5 && starts_with_rdb(&head, size))
}

fn file_is_manifest(out: &mut impl Write, path: &Path) -> Result<bool, Exit> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(out, "Cannot open file {}: {}", display(path), strerror(&e));
            return Err(Exit(1));
        }
    };
    match looks_like_manifest_in(BufReader::new(&mut f)) {
        Ok(v) => Ok(v),
        Err(_) => {
            let _ = writeln!(out, "Cannot read file: {}", display(path));
            Err(Exit(1))
        }
    }
}

fn dirname(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        Some(_) => PathBuf::from("."),
        None => PathBuf::from(if p.has_root() { "/" } else { "." }),
    }
}

fn run<W: Write>(ctx: &mut Ctx<'_, W>, path: &Path) -> Result<(), Exit> {
    if file_is_manifest(ctx.out, path)? {
        return check_multi_part(ctx, path);
    }
    let preamble = file_is_rdb(ctx.out, path)?;
    ctx.say("Start checking Old-Style AOF");
    let name = display(path);
    let c = ctx.check_single(&name, path, true, preamble)?;
    ctx.report("AOF ", &name, c);
    Ok(())
}

fn check_multi_part<W: Write>(ctx: &mut Ctx<'_, W>, manifest_path: &Path) -> Result<(), Exit> {
    ctx.say("Start checking Multi Part AOF");
    let text = match std::fs::read(manifest_path) {
        Ok(t) => t,
        Err(e) => {
            server_log(
                ctx.out,
                &format!(
                    "Fatal error: can't open the AOF manifest file {} for reading: {}",
                    display(manifest_path),
                    strerror(&e)
                ),
            );
            return Err(Exit(1));
        }
    };
    let m = match parse_manifest(&text) {
        Ok(m) => m,
        Err(e) => {
            server_log(ctx.out, "\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if let Some((n, l)) = &e.line {
                server_log(
                    ctx.out,
                    &format!("Reading the manifest file, at line {n}\n"),
                );
                server_log(ctx.out, &format!(">>> '{l}'\n"));
            }
            server_log(ctx.out, &format!("{}\n", e.msg));
            return Err(Exit(1));
        }
    };
    let dir = dirname(manifest_path);
    let total = m.base.iter().count() + m.incr.len();
    let mut n = 0;
    if let Some(b) = &m.base {
        let p = dir.join(&b.name);
        n += 1;
        let pre = file_is_rdb(ctx.out, &p)?;
        ctx.say(&format!(
            "Start to check BASE AOF ({} format).",
            if pre { "RDB" } else { "RESP" }
        ));
        let c = ctx.check_single(&b.name, &p, n == total, pre)?;
        ctx.report("BASE AOF ", &b.name, c);
    }
    if !m.incr.is_empty() {
        ctx.say("Start to check INCR files.");
        for i in &m.incr {
            let p = dir.join(&i.name);
            n += 1;
            let c = ctx.check_single(&i.name, &p, n == total, false)?;
            ctx.report("INCR AOF ", &i.name, c);
        }
    }
    ctx.say("All AOF files and manifest are valid");
    Ok(())
}

/// `redis-check-aof ARGS`: returns the exit code.
pub fn aof_main(args: Vec<std::ffi::OsString>) -> i32 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "redis-check-aof".into());
    let usage = |out: &mut dyn Write| {
        let _ = writeln!(
            out,
            "Usage: {argv0} [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>"
        );
        let _ = out.flush();
        1
    };
    let mut fix = false;
    let mut to_timestamp = 0i64;
    let path = match args.len() {
        2 => PathBuf::from(&args[1]),
        3 if args[1] == "--fix" => {
            fix = true;
            PathBuf::from(&args[2])
        }
        4 if args[1] == "--truncate-to-timestamp" => {
            let s = args[2].to_string_lossy();
            let (v, used) = redis_rdb::aof::strtol(s.as_bytes());
            let rest = &s.as_bytes()[used..];
            let bad_rest = if used == 0 {
                !s.is_empty()
            } else {
                !rest.is_empty()
            };
            if bad_rest || v == i64::MAX || v == i64::MIN {
                let _ = writeln!(out, "Invalid timestamp, aborting...");
                let _ = out.flush();
                return 1;
            }
            to_timestamp = v;
            PathBuf::from(&args[3])
        }
        _ => {
            if let Some(code) = crate::aof_ext::run(&args, &mut out) {
                let _ = out.flush();
                return code;
            }
            return usage(&mut out);
        }
    };
    let mut ctx = Ctx {
        out: &mut out,
        line: 1,
        to_timestamp,
        fix,
        rdb_state: State::default(),
    };
    let code = match run(&mut ctx, &path) {
        Ok(()) => 0,
        Err(Exit(c)) => c,
    };
    let _ = out.flush();
    code
}
