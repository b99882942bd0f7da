//! The built-in tests: Redis 7.0's names, selection rules and commands.

/// One benchmark to run: its title and the arguments of the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub title: String,
    pub args: Vec<Vec<u8>>,
    /// PING_INLINE is sent as an inline command, not a multibulk.
    pub inline: bool,
}

/// The payload of SET/GET-like tests: Redis's deterministic pseudo-random
/// filler (a linear congruential generator over printable characters, #7196),
/// continuing its sequence across loops like Redis's static state does.
pub struct DataGen {
    state: u32,
}

impl Default for DataGen {
    fn default() -> Self {
        DataGen { state: 1234 }
    }
}

impl DataGen {
    /// Fills `n` bytes.
    pub fn generate(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.state = self.state.wrapping_mul(1103515245).wrapping_add(12345);
                b'0' + ((self.state >> 16) & 63) as u8
            })
            .collect()
    }
}

fn selected(tests: &Option<Vec<String>>, names: &[&str]) -> bool {
    match tests {
        None => true,
        Some(list) => names.iter().any(|n| list.iter().any(|t| t == n)),
    }
}

fn words(s: &str) -> Vec<Vec<u8>> {
    s.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

/// The default suite in Redis's order, filtered by `-t`.
///
/// `tag` is `":{tag}"` in cluster mode (replaced per client by a hash tag of
/// one of its node's slots) and empty otherwise; `random` is whether `-r` was
/// given (ZADD then also randomizes its score). XADD is not in Redis 7.0's
/// default run: it runs only when `-t` names it (`XADD mystream * myfield DATA`,
/// as Redis 7.2 benchmarks it).
pub fn default_tests(
    selection: &Option<Vec<String>>,
    data: &[u8],
    tag: &str,
    random: bool,
) -> Vec<Test> {
    let mut out = Vec::new();
    let mut add = |title: &str, mut args: Vec<Vec<u8>>, with_data: bool| {
        if with_data {
            args.push(data.to_vec());
        }
        out.push(Test {
            // PING_INLINE is the one test sent as an inline command.
            inline: title == "PING_INLINE",
            title: title.to_string(),
            args,
        });
    };
    let t = selection;
    if selected(t, &["ping_inline", "ping"]) {
        add("PING_INLINE", words("PING"), false);
    }
    if selected(t, &["ping_mbulk", "ping"]) {
        add("PING_MBULK", words("PING"), false);
    }
    if selected(t, &["set"]) {
        add("SET", words(&format!("SET key{tag}:__rand_int__")), true);
    }
    if selected(t, &["get"]) {
        add("GET", words(&format!("GET key{tag}:__rand_int__")), false);
    }
    if selected(t, &["incr"]) {
        add(
            "INCR",
            words(&format!("INCR counter{tag}:__rand_int__")),
            false,
        );
    }
    if selected(t, &["lpush"]) {
        add("LPUSH", words(&format!("LPUSH mylist{tag}")), true);
    }
    if selected(t, &["rpush"]) {
        add("RPUSH", words(&format!("RPUSH mylist{tag}")), true);
    }
    if selected(t, &["lpop"]) {
        add("LPOP", words(&format!("LPOP mylist{tag}")), false);
    }
    if selected(t, &["rpop"]) {
        add("RPOP", words(&format!("RPOP mylist{tag}")), false);
    }
    if selected(t, &["sadd"]) {
        add(
            "SADD",
            words(&format!("SADD myset{tag} element:__rand_int__")),
            false,
        );
    }
    if selected(t, &["hset"]) {
        add(
            "HSET",
            words(&format!("HSET myhash{tag} element:__rand_int__")),
            true,
        );
    }
    if selected(t, &["spop"]) {
        add("SPOP", words(&format!("SPOP myset{tag}")), false);
    }
    if selected(t, &["zadd"]) {
        let score = if random { "__rand_int__" } else { "0" };
        add(
            "ZADD",
            words(&format!("ZADD myzset{tag} {score} element:__rand_int__")),
            false,
        );
    }
    if selected(t, &["zpopmin"]) {
        add("ZPOPMIN", words(&format!("ZPOPMIN myzset{tag}")), false);
    }
    let lranges = [
        "lrange",
        "lrange_100",
        "lrange_300",
        "lrange_500",
        "lrange_600",
    ];
    if selected(t, &lranges) {
        add(
            "LPUSH (needed to benchmark LRANGE)",
            words(&format!("LPUSH mylist{tag}")),
            true,
        );
    }
    for n in [100, 300, 500, 600] {
        if selected(t, &["lrange", &format!("lrange_{n}")]) {
            add(
                &format!("LRANGE_{n} (first {n} elements)"),
                words(&format!("LRANGE mylist{tag} 0 {}", n - 1)),
                false,
            );
        }
    }
    if selected(t, &["mset"]) {
        let mut args = vec![b"MSET".to_vec()];
        for _ in 0..10 {
            args.push(format!("key{tag}:__rand_int__").into_bytes());
            args.push(data.to_vec());
        }
        add("MSET (10 keys)", args, false);
    }
    if t.as_ref().is_some_and(|l| l.iter().any(|n| n == "xadd")) {
        add(
            "XADD",
            words(&format!("XADD mystream{tag} * myfield")),
            true,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(t: Vec<Test>) -> Vec<String> {
        t.into_iter().map(|t| t.title).collect()
    }

    #[test]
    fn default_order_matches_redis() {
        let all = titles(default_tests(&None, b"xxx", "", false));
        assert_eq!(all.len(), 20);
        assert_eq!(all[0], "PING_INLINE");
        assert_eq!(all[14], "LPUSH (needed to benchmark LRANGE)");
        assert_eq!(all[19], "MSET (10 keys)");
        assert!(!all.contains(&"XADD".to_string()));
    }

    #[test]
    fn selection() {
        let sel = Some(vec![
            "ping".to_string(),
            "lrange_300".to_string(),
            "xadd".to_string(),
        ]);
        let t = default_tests(&sel, b"v", "", false);
        assert_eq!(
            titles(t.clone()),
            [
                "PING_INLINE",
                "PING_MBULK",
                "LPUSH (needed to benchmark LRANGE)",
                "LRANGE_300 (first 300 elements)",
                "XADD"
            ]
        );
        assert!(t[0].inline && !t[1].inline);
        assert_eq!(t[3].args[3], b"299");
        assert_eq!(t[4].args, words("XADD mystream * myfield v"));
    }

    #[test]
    fn cluster_tags_and_random_scores() {
        let t = default_tests(&Some(vec!["zadd".into()]), b"v", ":{tag}", true);
        assert_eq!(
            t[0].args,
            words("ZADD myzset:{tag} __rand_int__ element:__rand_int__")
        );
    }

    #[test]
    fn data_is_redis_filler() {
        let d = DataGen::default().generate(8);
        assert!(d.iter().all(|&c| (b'0'..b'0' + 64).contains(&c)));
        assert_eq!(DataGen::default().generate(8), d);
    }
}
