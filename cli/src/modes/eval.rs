//! `--eval FILE keys , args` (and the Lua debugger with --ldb).

use crate::session::{err, out, ConnectFlags, Session};

/// Builds `EVAL script numkeys keys... args...` from the words after the
/// options; the first lone `,` separates keys from args.
pub fn eval_argv(script: Vec<u8>, words: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut keys = 0;
    let mut got_comma = false;
    let mut rest = Vec::with_capacity(words.len());
    for w in words {
        if !got_comma && w.as_slice() == b"," {
            got_comma = true;
            continue;
        }
        if !got_comma {
            keys += 1;
        }
        rest.push(w.clone());
    }
    let mut argv = vec![b"EVAL".to_vec(), script, keys.to_string().into_bytes()];
    argv.extend(rest);
    argv
}

/// Runs `--eval`; returns the exit code.
pub fn eval_mode(s: &mut Session, words: Vec<Vec<u8>>) -> i32 {
    let path = s.cfg.eval.clone().unwrap_or_default();
    loop {
        if s.cfg.eval_ldb {
            out(b"Lua debugging session started, please use:\n\
quit    -- End the session.\n\
restart -- Restart the script in debug mode again.\n\
help    -- Show Lua script debugging commands.\n\n");
        }
        let script = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                err(
                    format!("Can't open file '{path}': {}\n", crate::conn::strerror(&e)).as_bytes(),
                );
                return 1;
            }
        };
        if s.cfg.eval_ldb {
            let mode: &[u8] = if s.cfg.eval_ldb_sync { b"sync" } else { b"yes" };
            if let Some(c) = s.conn.as_mut() {
                let _ = c.command(&[&b"SCRIPT"[..], b"DEBUG", mode]);
            }
        }
        let argv = eval_argv(script, &words);
        let ldb = s.cfg.eval_ldb;
        let r = s.issue_command(&argv, s.cfg.repeat);
        if !ldb {
            return i32::from(r.is_err());
        }
        if !s.cfg.eval_ldb {
            // The session ended at once: the script did not compile.
            s.ldb_end = false;
            out(b"Eval debugging session can't start:\n");
            let _ = s.read_and_print(false);
            return i32::from(r.is_err());
        }
        // The debugger session: a REPL whose lines go to the server until
        // it ends the session.
        match crate::repl::ldb_repl(s) {
            crate::repl::LdbOutcome::Restart => {
                let _ = s.connect(ConnectFlags {
                    force: true,
                    quiet: false,
                });
                out(b"\n");
            }
            crate::repl::LdbOutcome::Exit(code) => return code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_splits_keys_and_args() {
        let w: Vec<Vec<u8>> = ["k1", "k2", ",", "a1", ","]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let a = eval_argv(b"return 1".to_vec(), &w);
        assert_eq!(a[2], b"2");
        assert_eq!(
            a[3..],
            [
                b"k1".to_vec(),
                b"k2".to_vec(),
                b"a1".to_vec(),
                b",".to_vec()
            ]
        );
    }
}
