//! The `--help` text, identical to Redis 7.0's so scripts and docs match.

/// The usage text printed by `--help` and a lone `-h`.
pub fn text() -> String {
    include_str!("usage.txt").to_string()
}
