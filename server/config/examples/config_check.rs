//! Runs redis-server's start-up configuration parsing and nothing else, printing what
//! the server would: on success every parameter as `CONFIG GET *` shows it (name and
//! value lines, exit 0); on a configuration error Redis's message (stderr, exit 1).
//! The differential tests compare it with Debian's redis-server.

use redis_server_config::*;
use std::io::Write;
use std::os::unix::ffi::OsStringExt;

/// Directive handling for this checker: rename-command knows a few command names,
/// users and modules are accepted without checks (the server owns ACL and modules).
struct Checker;

impl Directives for Checker {
    fn rename_command(&mut self, name: &[u8], _new: &[u8]) -> Result<(), String> {
        const KNOWN: &[&str] = &[
            "get", "set", "config", "flushall", "flushdb", "keys", "debug", "del",
        ];
        if KNOWN
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k.as_bytes()))
        {
            Ok(())
        } else {
            Err("No such command in rename-command".into())
        }
    }
    fn user(&mut self, _args: &[Vec<u8>]) -> Result<(), String> {
        Ok(())
    }
    fn loadmodule(&mut self, _path: &[u8], _args: &[Vec<u8>]) -> Result<(), String> {
        Ok(())
    }
}

fn main() {
    let args: Vec<Vec<u8>> = std::env::args_os().skip(1).map(|a| a.into_vec()).collect();
    let opts = match parse_command_line(&args) {
        StartupCommand::Version => {
            print!("{}", version_line("libc", 0));
            return;
        }
        StartupCommand::Help => {
            eprint!("{}", USAGE);
            std::process::exit(1);
        }
        StartupCommand::TestMemory(None) => {
            eprint!("{}", TEST_MEMORY_USAGE);
            std::process::exit(1);
        }
        StartupCommand::TestMemory(Some(_)) | StartupCommand::CheckSystem => {
            eprintln!("not part of the configuration checker");
            std::process::exit(2);
        }
        StartupCommand::Run(o) => o,
    };
    match load_config(&opts, &mut std::io::stdin(), &mut Checker) {
        Ok(loaded) => {
            let mut out = std::io::stdout().lock();
            for (k, v) in loaded.config.get(&[b"*"]) {
                let _ = out.write_all(k.as_bytes());
                let _ = out.write_all(b"\n");
                let _ = out.write_all(&v);
                let _ = out.write_all(b"\n");
            }
        }
        Err(e) => {
            if let Some(t) = e.stderr_text() {
                let _ = std::io::stderr().write_all(&t);
            }
            if let Some(m) = e.log_message() {
                println!("{}", m);
            }
            std::process::exit(1);
        }
    }
}
