//! The offline help table: the suite's command table (`redis-commands`)
//! plugged into [`help::set_fallback_table`](crate::help::set_fallback_table),
//! used when the server cannot be asked for COMMAND DOCS (Redis uses its
//! built-in help.h for the same purpose).

use crate::help::{CommandTable, HelpEntry};

/// Help entries from `redis_commands::table()`.
pub struct SuiteTable;

impl CommandTable for SuiteTable {
    fn entries(&self) -> Vec<HelpEntry> {
        // Redis 7.0's help.h: the commands the server has beyond 7.0 stay out.
        redis_commands::table()
            .redis_7_0()
            .map(|c| {
                let full = c.help_name();
                HelpEntry {
                    argv: full.split(' ').map(str::to_string).collect(),
                    full,
                    is_group: false,
                    params: c.synopsis(),
                    summary: c.doc.summary.clone().unwrap_or_default(),
                    since: c.doc.since.clone(),
                    group: c.doc.group.clone(),
                }
            })
            .collect()
    }
}
