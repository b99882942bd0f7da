//! Errors of the RDB reader, with the byte offset where they were noticed.

use std::fmt;

/// What went wrong while reading an RDB stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// The input ended in the middle of something (Redis: "Unexpected EOF reading RDB file").
    /// Redis also ends up here for a few semantic failures (an empty collection, a score that
    /// does not parse), which this reader reports the same way.
    Eof,
    /// A structural error Redis reports through `rdbReportCorruptRDB`/`rdbReportReadError`:
    /// the message and the line of Debian's Redis 7.0.15 `rdb.c` that reports it.
    Corrupt {
        /// Line in Debian's `rdb.c` (the checker prints it).
        line: u32,
        /// Redis's message text.
        msg: String,
    },
    /// Anything else Redis's checker reports directly (bad signature, version, object type...).
    Other(String),
    /// An I/O error other than end of file.
    Io(String),
}

/// An error with the number of bytes successfully consumed before it (Redis's
/// `processed_bytes`, which the checker prints as `[offset N]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RdbError {
    /// Bytes read successfully before the failing read.
    pub offset: u64,
    /// What happened.
    pub kind: ErrorKind,
}

impl RdbError {
    /// The message as `redis-check-rdb` prints it after `[offset N] ` (Redis reports any
    /// failed read, end of file or I/O error, as an unexpected end of file).
    pub fn check_message(&self) -> String {
        match &self.kind {
            ErrorKind::Eof | ErrorKind::Io(_) => "Unexpected EOF reading RDB file".to_string(),
            ErrorKind::Corrupt { line, msg } => {
                format!("Internal error in RDB reading offset 0, function at rdb.c:{line} -> {msg}")
            }
            ErrorKind::Other(m) => m.clone(),
        }
    }

    /// Whether Redis's checker also logs "Terminating server after rdb file reading failure."
    pub fn is_internal(&self) -> bool {
        matches!(self.kind, ErrorKind::Corrupt { .. })
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Io(m) => write!(f, "[offset {}] I/O error: {}", self.offset, m),
            _ => write!(f, "[offset {}] {}", self.offset, self.check_message()),
        }
    }
}

impl std::error::Error for RdbError {}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, RdbError>;
