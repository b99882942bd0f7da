//! The runtime API behind CONFIG GET / CONFIG SET: defaults, lookups by name, glob
//! queries, all-or-nothing updates with Redis's error texts, and rollback.

use crate::table::{flags, lookup, Kind, PARAMS};
use crate::types::*;
use crate::value::{get_value, set_value, SetCtx};
use redis_formats::glob::glob_match;

/// Who is running CONFIG SET, for the checks that depend on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetContext {
    /// The client is on loopback or a unix socket (`enable-protected-configs local`).
    pub local_client: bool,
    /// The server is loading its dataset (deny-loading parameters are refused).
    pub loading: bool,
}

/// Facts about one parameter, for the server (redaction, INFO, DEBUG, COMMAND DOCS...).
#[derive(Clone, Copy, Debug)]
pub struct ParamInfo {
    /// Canonical name.
    pub name: &'static str,
    /// Old name still accepted (e.g. `slaveof` for `replicaof`).
    pub alias: Option<&'static str>,
    /// Bits of [`crate::flags`].
    pub flags: u32,
}

/// Every parameter of Redis 7.0.15, in our fixed order.
pub fn params() -> impl Iterator<Item = ParamInfo> {
    PARAMS.iter().map(|d| ParamInfo {
        name: d.name,
        alias: d.alias,
        flags: d.flags,
    })
}

/// Looks a parameter up by name or alias (case-insensitive).
pub fn param_info(name: &[u8]) -> Option<ParamInfo> {
    lookup(name).map(|e| {
        let d = e.def();
        ParamInfo {
            name: d.name,
            alias: d.alias,
            flags: d.flags,
        }
    })
}

/// Whether CONFIG SET's value for this name must be redacted (sensitive parameter).
pub fn is_sensitive(name: &[u8]) -> bool {
    param_info(name).is_some_and(|p| p.flags & flags::SENSITIVE != 0)
}

/// The full error reply text when applying a change failed in the server (e.g.
/// "Unable to listen on this port. Check server logs."), in Redis's words.
pub fn apply_failed_error(name: &str, message: &str) -> String {
    format!(
        "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
        name, message
    )
}

impl Default for Config {
    /// Redis 7.0.15's defaults; `dir` is the current directory.
    fn default() -> Self {
        let mut c = Config::blank();
        for d in PARAMS {
            match &d.kind {
                Kind::Bool { set, default, .. } => set(&mut c, *default),
                Kind::Num { set, default, .. } => set(&mut c, *default),
                Kind::Enum { set, default, .. } => set(&mut c, *default),
                Kind::Str { set, default, .. } => {
                    set(&mut c, default.map(|s| s.as_bytes().to_vec()))
                }
                Kind::Special(_) => {}
            }
        }
        c.dir = std::env::current_dir().unwrap_or_default();
        c.save = vec![(3600, 1), (300, 100), (60, 10000)];
        c.client_output_buffer_limit = [
            OutputBufferLimit {
                hard_bytes: 0,
                soft_bytes: 0,
                soft_seconds: 0,
            },
            OutputBufferLimit {
                hard_bytes: 256 << 20,
                soft_bytes: 64 << 20,
                soft_seconds: 60,
            },
            OutputBufferLimit {
                hard_bytes: 32 << 20,
                soft_bytes: 8 << 20,
                soft_seconds: 60,
            },
        ];
        c.oom_score_adj_values = [0, 200, 800];
        c.notify_keyspace_events = 0;
        c.bind = vec![b"*".to_vec(), b"-::*".to_vec()];
        c.replicaof = None;
        c.latency_tracking_info_percentiles = vec![50.0, 99.0, 99.9];
        c
    }
}

impl Config {
    /// Redis's defaults (same as `Config::default()`).
    pub fn new() -> Config {
        Config::default()
    }

    /// CONFIG GET with one or more patterns. A pattern without `*`, `?` or `[` is an
    /// exact (case-insensitive) name, returned as typed, hidden parameters included; a
    /// glob matches names and aliases case-insensitively, skipping hidden parameters.
    /// No name is returned twice (compared case-insensitively). Redis's own order is
    /// its hash table's (it varies between runs); ours is the patterns' order, then
    /// the table's.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        let seen = |out: &Vec<(String, Vec<u8>)>, n: &str| {
            out.iter().any(|(k, _)| k.eq_ignore_ascii_case(n))
        };
        for pat in patterns {
            if !pat.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
                let name = String::from_utf8_lossy(pat).into_owned();
                if seen(&out, &name) {
                    continue;
                }
                if let Some(e) = lookup(pat) {
                    out.push((name, get_value(self, e.def())));
                }
                continue;
            }
            for d in PARAMS {
                if d.flags & flags::HIDDEN != 0 {
                    continue;
                }
                for n in std::iter::once(d.name).chain(d.alias) {
                    if !seen(&out, n) && glob_match(pat, n.as_bytes(), true) {
                        out.push((n.to_string(), get_value(self, d)));
                    }
                }
            }
        }
        out
    }

    /// The CONFIG GET text of one parameter (name or alias), None if unknown.
    pub fn get_one(&self, name: &[u8]) -> Option<Vec<u8>> {
        lookup(name).map(|e| get_value(self, e.def()))
    }

    /// CONFIG SET from a client allowed everything but protected parameters, while
    /// not loading. See [`Config::set_with`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, SetContext::default())
    }

    /// CONFIG SET: all pairs or none. On success returns the canonical names whose
    /// value changed (the server applies those: rebinding a port, resizing...; if that
    /// fails it calls [`Config::restore`] with a [`Config::snapshot`] taken before,
    /// and replies [`apply_failed_error`]). On failure nothing changed and the error
    /// is the full reply text, e.g. `ERR Unknown option or number of arguments for
    /// CONFIG SET - 'foo'`. Multi-argument values are split at single spaces, as
    /// Redis does.
    pub fn set_with(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        ctx: SetContext,
    ) -> Result<Vec<&'static str>, String> {
        let mut entries = Vec::with_capacity(pairs.len());
        let mut unknown: Option<&[u8]> = None;
        let mut failed: Option<(String, &str)> = None;
        let mut deny_loading = false;
        for (name, _) in pairs {
            let e = match lookup(name) {
                Some(e) => e,
                None => {
                    if failed.is_none() && unknown.is_none() && !deny_loading {
                        unknown = Some(name);
                    }
                    continue;
                }
            };
            if failed.is_some() || unknown.is_some() || deny_loading {
                continue;
            }
            let d = e.def();
            let typed = String::from_utf8_lossy(name).into_owned();
            if d.flags & flags::IMMUTABLE != 0 {
                failed = Some((typed, "can't set immutable config"));
                continue;
            }
            if d.flags & flags::PROTECTED != 0
                && !self.enable_protected_configs.allows(ctx.local_client)
            {
                failed = Some((typed, "can't set protected config"));
                continue;
            }
            if ctx.loading && d.flags & flags::DENY_LOADING != 0 {
                deny_loading = true;
                continue;
            }
            if entries
                .iter()
                .any(|x: &crate::table::Entry| x.idx == e.idx && x.via_alias == e.via_alias)
            {
                failed = Some((typed, "duplicate parameter"));
                continue;
            }
            entries.push(e);
        }
        if deny_loading {
            return Err("LOADING Redis is loading the dataset in memory".into());
        }
        if let Some(n) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                String::from_utf8_lossy(n)
            ));
        }
        if let Some((n, msg)) = failed {
            return Err(apply_failed_error(&n, msg));
        }

        let backup = self.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut ctx = SetCtx::default();
        for (e, (_, value)) in entries.iter().zip(pairs) {
            let d = e.def();
            let args: Vec<Vec<u8>> = if d.flags & flags::MULTI_ARG != 0 {
                // Split at each single space; an empty value has no arguments at all.
                if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(|&c| c == b' ').map(|a| a.to_vec()).collect()
                }
            } else {
                vec![value.to_vec()]
            };
            match set_value(self, d, &args, &mut ctx) {
                Ok(true) => {
                    if !changed.contains(&d.name) {
                        changed.push(d.name);
                    }
                }
                Ok(false) => {}
                Err(msg) => {
                    self.restore(backup);
                    return Err(apply_failed_error(e.name(), &msg));
                }
            }
        }
        Ok(changed)
    }

    /// A copy to restore if applying a CONFIG SET fails.
    pub fn snapshot(&self) -> Config {
        self.clone()
    }

    /// Puts back a snapshot, including the process's working directory.
    pub fn restore(&mut self, old: Config) {
        if old.dir != self.dir {
            // Best effort, as Redis: the old directory existed a moment ago.
            let _ = std::env::set_current_dir(&old.dir);
        }
        *self = old;
    }

    /// Whether a parameter is at its default value (as CONFIG REWRITE judges it).
    pub fn is_default(&self, name: &[u8]) -> Option<bool> {
        let e = lookup(name)?;
        let d = e.def();
        Some(match &d.kind {
            Kind::Bool { get, default, .. } => get(self) == *default,
            Kind::Num { get, default, .. } => get(self) == *default,
            Kind::Enum { get, default, .. } => get(self) == *default,
            Kind::Str { get, default, .. } => get(self) == default.map(|s| s.as_bytes()),
            Kind::Special(_) => {
                let def = Config::default();
                get_value(self, d) == get_value(&def, d)
            }
        })
    }
}
