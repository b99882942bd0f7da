//! ACL files (ACL LOAD / SAVE), `user` lines of the configuration, start-up loading.

use super::*;

/// Parses an ACL file (Redis's ACLLoadFromFile): the new users, or Redis's error
/// text listing every bad line. `filename` is the aclfile setting, as the messages
/// show it.
pub fn parse_acl_file(
    content: &[u8],
    filename: &str,
    pubsub_all: bool,
) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let mut errors = String::new();
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let lines: Vec<&[u8]> = content.split(|&c| c == b'\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let linenum = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line
            .split(|&c| c == b' ')
            .filter(|a| !a.is_empty())
            .collect();
        if argv.is_empty() {
            continue;
        }
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{filename}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        if has_spaces(argv[1]) {
            errors.push_str(&format!(
                "'{filename}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        if users.contains_key(argv[1]) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        let mut u = User::new(argv[1], pubsub_all);
        let merged = match merge_selector_args(&argv[2..]) {
            Ok(m) => m,
            Err(_) => {
                errors.push_str(&format!(
                    "{filename}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            if let Err(e) = u.apply(op, pubsub_all) {
                if e == RuleError::NoEnt {
                    errors.push_str(&format!(
                        "{filename}:{linenum}: Error in applying operation '{}': {}. ",
                        String::from_utf8_lossy(op),
                        e.text()
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{filename}:{linenum}: {}. ", e.text()));
                    syntax_error = true;
                }
            }
        }
        users.insert(argv[1].to_vec(), u);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        Err(errors)
    }
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|c| !set.contains(c))
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// A `user` line of redis.conf (`args` after `user`): validated as Redis's
/// ACLAppendUserForLoading (unknown commands are only found when loading) and queued.
/// The error is Redis's text after "Error in user declaration ".
pub fn append_user_for_loading(
    queued: &mut Vec<Vec<Vec<u8>>>,
    args: &[Vec<u8>],
) -> Result<(), String> {
    // Redis names the argument at the failing index of its argv, which starts with
    // "user" (for a rule error the index counts rules, as Redis does).
    let at = |i: usize| -> String {
        if i == 0 {
            "user".into()
        } else {
            String::from_utf8_lossy(&args[i - 1]).into_owned()
        }
    };
    let fail = |i: usize, e: RuleError| Err(format!("'{}': {}", at(i), e.text()));
    if queued.iter().any(|u| u[0] == args[0]) {
        return fail(1, RuleError::Already);
    }
    let rules: Vec<&[u8]> = args[1..].iter().map(|a| &a[..]).collect();
    // Redis reports an unmatched parenthesis with a stale errno, which is ENOENT
    // at this point of its start-up.
    let merged = match merge_selector_args(&rules) {
        Ok(m) => m,
        Err(j) => return fail(j, RuleError::NoEnt),
    };
    let mut fake = User::new(b"", false);
    for (j, op) in merged.iter().enumerate() {
        if let Err(e) = fake.apply(op, false) {
            if e != RuleError::NoEnt {
                return fail(j, e);
            }
        }
    }
    let mut entry = vec![args[0].clone()];
    entry.extend(merged);
    queued.push(entry);
    Ok(())
}

/// Redis's ACLLoadUsersAtStartup: the `user` lines of the config, or the aclfile
/// (not both). The error is the log line before Redis exits.
pub fn load_users_at_startup(srv: &mut Server, queued: &[Vec<Vec<u8>>]) -> Result<(), String> {
    if !srv.config.aclfile.is_empty() && !queued.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    let all = srv.config.acl_pubsub_default == crate::config::AclPubsubDefault::AllChannels;
    for entry in queued {
        let name = &entry[0];
        if has_spaces(name) {
            crate::log::log(
                crate::log::Level::Warning,
                "Spaces not allowed in ACL usernames",
            );
            return Err("Critical error while loading ACLs. Exiting.".into());
        }
        let mut u = match srv.acl.users.get(name) {
            Some(d) => {
                let mut d = (**d).clone();
                let _ = d.apply(b"reset", all);
                d
            }
            None => User::new(name, all),
        };
        for op in &entry[1..] {
            if let Err(e) = u.apply(op, all) {
                crate::log::log(
                    crate::log::Level::Warning,
                    &format!(
                        "Error loading ACL rule '{}' for the user named '{}': {}",
                        String::from_utf8_lossy(op),
                        String::from_utf8_lossy(name),
                        e.text()
                    ),
                );
                return Err("Critical error while loading ACLs. Exiting.".into());
            }
        }
        if !u.enabled() {
            crate::log::log(
                crate::log::Level::Notice,
                &format!(
                    "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                    String::from_utf8_lossy(name)
                ),
            );
        }
        srv.acl.users.insert(name.clone(), Arc::new(u));
    }
    if !srv.config.aclfile.is_empty() {
        crate::cmd::acl::load_acl_file(srv, None)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
    }
    Ok(())
}

/// The text of an ACL file for these users (ACL SAVE).
pub fn acl_file_text(acl: &Acl) -> Vec<u8> {
    let mut out = Vec::new();
    for u in acl.users.values() {
        out.extend_from_slice(b"user ");
        out.extend_from_slice(&u.name);
        out.push(b' ');
        out.extend_from_slice(&u.describe());
        out.push(b'\n');
    }
    out
}
