//! `redis-check-aof` beyond Redis (only reachable where Redis prints its usage):
//!
//! `redis-check-aof --fix --drop-later DIR/NAME.manifest` repairs a multi-part AOF whose
//! damage is in a file that is not the last one (where `--fix` refuses): it truncates that
//! file after its last complete command, turns every later file into a history file in the
//! manifest (Redis then ignores them), and says which commands that drops. It asks first,
//! like `--fix`.

use crate::rdb::{check_stream, State, Verdict};
use redis_rdb::aof::{format_manifest, parse_manifest, FileType, Manifest, Scanner, Stop};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Runs an extended invocation; `None` when the arguments are not ours.
pub fn run(args: &[OsString], out: &mut impl Write) -> Option<i32> {
    if args.len() == 4 && args[1] == "--fix" && args[2] == "--drop-later" {
        return Some(fix_drop_later(Path::new(&args[3]), out));
    }
    None
}

struct FileCheck {
    size: u64,
    ok_up_to: u64,
    commands: u64,
    error: Option<String>,
}

fn check_file(path: &Path, rdb_base: bool) -> Result<FileCheck, String> {
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("Cannot open {}: {e}", path.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut start = 0;
    if rdb_base {
        let mut sink = Vec::new();
        let mut st = State::default();
        let (v, off) = check_stream(BufReader::new(&mut f), &mut sink, &mut st, |_, _| {});
        if v != Verdict::Ok {
            return Err(format!(
                "the RDB part of {} is damaged (see redis-check-rdb --salvage):\n{}",
                path.display(),
                String::from_utf8_lossy(&sink)
            ));
        }
        start = off;
    }
    f.seek(SeekFrom::Start(start)).map_err(|e| e.to_string())?;
    let mut sc = Scanner::new(BufReader::new(f), start, 1);
    let scan = sc
        .scan(&path.display().to_string(), None)
        .map_err(|e| e.to_string())?;
    let error = match scan.stop {
        Stop::Error(e) => Some(String::from_utf8_lossy(&e).into_owned()),
        Stop::FormatError => Some("format error".to_string()),
        _ if scan.ok_up_to < size => Some("truncated command".to_string()),
        _ => None,
    };
    Ok(FileCheck {
        size,
        ok_up_to: scan.ok_up_to.min(size),
        commands: scan.commands,
        error,
    })
}

fn fix_drop_later(manifest_path: &Path, out: &mut impl Write) -> i32 {
    let text = match std::fs::read(manifest_path) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(out, "Cannot read {}: {e}", manifest_path.display());
            return 1;
        }
    };
    let mut m: Manifest = match parse_manifest(&text) {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(
                out,
                "Invalid manifest {}: {}",
                manifest_path.display(),
                e.msg
            );
            return 1;
        }
    };
    let dir: PathBuf = manifest_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut files: Vec<(String, bool)> = Vec::new();
    if let Some(b) = &m.base {
        let p = dir.join(&b.name);
        let is_rdb = std::fs::read(&p)
            .map(|d| d.starts_with(b"REDIS") && d.len() >= 8)
            .unwrap_or(false);
        files.push((b.name.clone(), is_rdb));
    }
    files.extend(m.incr.iter().map(|i| (i.name.clone(), false)));
    let mut damaged = None;
    let mut later_counts = Vec::new();
    for (idx, (name, is_rdb)) in files.iter().enumerate() {
        let p = dir.join(name);
        let c = match check_file(&p, *is_rdb) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(out, "{e}");
                return 1;
            }
        };
        if damaged.is_some() {
            later_counts.push((name.clone(), c.commands, c.error.is_some()));
            continue;
        }
        match &c.error {
            None => {
                let _ = writeln!(out, "{name}: valid ({} commands)", c.commands);
            }
            Some(e) => {
                let _ = writeln!(
                    out,
                    "{name}: damaged: {e}; valid up to offset {} of {} ({} complete commands)",
                    c.ok_up_to, c.size, c.commands
                );
                damaged = Some((idx, name.clone(), c));
            }
        }
    }
    let Some((idx, name, c)) = damaged else {
        let _ = writeln!(out, "Nothing to fix: every file is valid");
        return 0;
    };
    let dropped: Vec<String> = later_counts
        .iter()
        .map(|(n, k, bad)| {
            format!(
                "{n} ({k} commands{})",
                if *bad { ", itself damaged" } else { "" }
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "This will truncate {name} from {} to {} bytes (dropping {} bytes after its last complete command){}",
        c.size,
        c.ok_up_to,
        c.size - c.ok_up_to,
        if dropped.is_empty() {
            String::new()
        } else {
            format!(" and turn the later files into history files, dropping their commands: {}", dropped.join(", "))
        }
    );
    let _ = write!(out, "Continue? [y/N]: ");
    let _ = out.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !answer.starts_with(['y', 'Y']) {
        let _ = writeln!(out, "Aborting...");
        return 1;
    }
    let p = dir.join(&name);
    let truncated = std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .and_then(|f| f.set_len(c.ok_up_to));
    if let Err(e) = truncated {
        let _ = writeln!(out, "Failed to truncate {name}: {e}");
        return 1;
    }
    // Files after the damaged one become history (base is index 0 when present).
    let first_incr_to_drop = if m.base.is_some() { idx } else { idx + 1 };
    let moved: Vec<_> = m
        .incr
        .drain(first_incr_to_drop.min(m.incr.len())..)
        .collect();
    for mut e in moved {
        e.kind = FileType::History;
        m.history.push(e);
    }
    let tmp = dir.join(format!(
        "temp-{}",
        manifest_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let written = std::fs::write(&tmp, format_manifest(&m))
        .and_then(|_| std::fs::rename(&tmp, manifest_path));
    if let Err(e) = written {
        let _ = writeln!(
            out,
            "Truncated {name}, but failed to update the manifest: {e}"
        );
        return 1;
    }
    let _ = writeln!(
        out,
        "Successfully truncated AOF {name}; manifest updated ({} later files are now history)",
        later_counts.len()
    );
    0
}
