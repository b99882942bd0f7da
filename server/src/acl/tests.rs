//! Unit tests of the rule parser, the description, the matcher and the log.

use super::*;

fn user(rules: &[&str]) -> User {
    let r: Vec<&[u8]> = rules.iter().map(|s| s.as_bytes()).collect();
    set_user_from_rules(None, b"u", &r, false).unwrap()
}

fn desc(u: &User) -> String {
    String::from_utf8(u.describe()).unwrap()
}

fn spec(argv: &[&[u8]]) -> &'static CommandSpec {
    redis_commands::table().lookup(argv).unwrap()
}

fn allowed(u: &User, argv: &[&[u8]]) -> Result<(), Denial> {
    u.check(spec(argv), argv)
}

#[test]
fn default_user_description() {
    let d = User::new_default(false);
    assert_eq!(desc(&d), "on nopass ~* &* +@all");
    assert!(d.unrestricted);
    assert_eq!(desc(&User::new(b"x", false)), "off resetchannels -@all");
}

#[test]
fn rules_and_errors() {
    let u = user(&[
        "on",
        ">pass",
        "~obj:*",
        "%R~r*",
        "&chan",
        "+get",
        "+config|get",
    ]);
    let h = String::from_utf8(hash_password(b"pass")).unwrap();
    assert_eq!(
        desc(&u),
        format!("on #{h} ~obj:* %R~r* resetchannels &chan -@all +get +config|get")
    );
    let err = |rules: &[&str]| {
        let r: Vec<&[u8]> = rules.iter().map(|s| s.as_bytes()).collect();
        set_user_from_rules(None, b"u", &r, false).unwrap_err()
    };
    assert_eq!(
        err(&["bogus"]),
        "Error in ACL SETUSER modifier 'bogus': Syntax error"
    );
    assert_eq!(
        err(&["+nosuch"]),
        "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"
    );
    assert_eq!(
        err(&["+config|get|x"]),
        "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"
    );
    assert!(err(&["~*", "~foo"]).contains("'allkeys' flag"));
    assert!(err(&["&*", "&foo"]).contains("'allchannels' flag"));
    assert!(err(&["<nopass"]).contains("does not exist"));
    assert!(err(&["#abc"]).contains("exactly 64"));
    assert_eq!(
        err(&["(+get", "~x"]),
        "Unmatched parenthesis in acl selector starting at '(+get'."
    );
    assert!(err(&["%X~foo"]).contains("Syntax error"));
}

#[test]
fn selectors_merge_and_describe() {
    let u = user(&["on", "nopass", "(+set", "~w*)", "(+get ~r*)"]);
    assert_eq!(u.selectors.len(), 3);
    assert_eq!(
        desc(&u),
        "on nopass resetchannels -@all (~w* resetchannels -@all +set) (~r* resetchannels -@all +get)"
    );
    assert!(allowed(&u, &[b"get", b"rkey"]).is_ok());
    assert!(allowed(&u, &[b"set", b"wkey", b"v"]).is_ok());
    let d = allowed(&u, &[b"get", b"wkey"]).unwrap_err();
    assert_eq!(d.reason, Denied::Key);
    assert_eq!(
        allowed(&u, &[b"del", b"x"]).unwrap_err().reason,
        Denied::Cmd
    );
}

#[test]
fn key_read_write_permissions() {
    let u = user(&["+@all", "%R~read*", "%W~write*", "~rw*"]);
    assert!(allowed(&u, &[b"get", b"readx"]).is_ok());
    assert!(allowed(&u, &[b"get", b"writex"]).is_err());
    assert!(allowed(&u, &[b"set", b"writex", b"v"]).is_ok());
    assert!(allowed(&u, &[b"set", b"readx", b"v"]).is_err());
    // COPY reads the source and writes the destination.
    assert!(allowed(&u, &[b"copy", b"readx", b"writey"]).is_ok());
    assert!(allowed(&u, &[b"copy", b"writex", b"ready"]).is_err());
    // EXISTS neither reads nor writes the value.
    assert!(allowed(&u, &[b"exists", b"readx", b"writex"]).is_ok());
    assert!(allowed(&u, &[b"exists", b"other"]).is_err());
}

#[test]
fn channels_and_patterns() {
    let u = user(&["+@all", "~*", "resetchannels", "&foo*"]);
    assert!(allowed(&u, &[b"publish", b"foobar", b"m"]).is_ok());
    assert!(allowed(&u, &[b"subscribe", b"foo1", b"foo2"]).is_ok());
    let d = allowed(&u, &[b"subscribe", b"foo1", b"bar"]).unwrap_err();
    assert_eq!((d.reason, d.pos), (Denied::Channel, 2));
    // A PSUBSCRIBE pattern must equal an ACL pattern.
    assert!(allowed(&u, &[b"psubscribe", b"foo*"]).is_ok());
    assert!(allowed(&u, &[b"psubscribe", b"foox*"]).is_err());
    assert!(allowed(&u, &[b"unsubscribe", b"bar"]).is_ok());
}

#[test]
fn commands_categories_firstargs() {
    let u = user(&["+@all", "-@dangerous", "~*"]);
    assert!(allowed(&u, &[b"get", b"k"]).is_ok());
    assert!(allowed(&u, &[b"flushall"]).is_err());
    assert!(desc(&u).ends_with("+@all -@dangerous"));
    let u = user(&["-@all", "+select|0", "+client|id"]);
    assert!(allowed(&u, &[b"select", b"0"]).is_ok());
    assert!(allowed(&u, &[b"select", b"1"]).is_err());
    assert!(allowed(&u, &[b"client", b"id"]).is_ok());
    assert!(allowed(&u, &[b"client", b"kill"]).is_err());
    assert!(desc(&u).ends_with("-@all +client|id +select|0"));
    // AUTH and HELLO are always allowed.
    assert!(allowed(&u, &[b"auth", b"x"]).is_ok());
    let u = user(&["+@all", "-config", "+config|get"]);
    assert!(allowed(&u, &[b"config", b"get", b"x"]).is_ok());
    assert!(allowed(&u, &[b"config", b"set", b"x", b"y"]).is_err());
}

#[test]
fn passwords() {
    let mut u = user(&["on", ">a", ">b", "<a"]);
    assert!(!u.password_ok(b"a"));
    assert!(u.password_ok(b"b"));
    u.apply(b"off", false).unwrap();
    assert!(!u.password_ok(b"b"));
    assert_eq!(
        String::from_utf8(hash_password(b"foo")).unwrap(),
        "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
    );
}

#[test]
fn acl_file_errors() {
    let e = parse_acl_file(b"user a on\nfoo\nuser b +nosuch\n", "f.acl", false).unwrap_err();
    assert_eq!(e, "f.acl:2 should start with user keyword followed by the username. f.acl:3: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
    let ok = parse_acl_file(
        b"user a on nopass\n\nuser default on nopass ~* &* +@all\n",
        "f",
        false,
    )
    .unwrap();
    assert_eq!(ok.len(), 2);
}

#[test]
fn log_merges_similar_entries() {
    let mut acl = Acl::default();
    let e = |obj: &[u8], t| LogEntry {
        count: 1,
        reason: Denied::Cmd,
        context: LogContext::Toplevel,
        object: obj.to_vec(),
        username: b"u".to_vec(),
        ctime: t,
        client_info: String::new(),
    };
    acl.add_log(e(b"get", 0), 128);
    acl.add_log(e(b"set", 1), 128);
    acl.add_log(e(b"get", 2), 128);
    assert_eq!(acl.log.len(), 2);
    assert_eq!(acl.log[0].count, 2);
    acl.add_log(e(b"get", 100_000), 2);
    assert_eq!(acl.log.len(), 2);
    assert_eq!(acl.log[0].count, 1);
}
