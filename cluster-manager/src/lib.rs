//! `redis-cli --cluster`: Redis 7.0's cluster manager.
//!
//! redis-cli's option parser (`redis_cli_core::opts`) collects the
//! subcommand, its arguments and the `--cluster-*` options into
//! `Config::cluster`; the redis-cli binary registers [`run`] with
//! `redis_cli_core::set_cluster_manager`. Connections are the cli crate's
//! (`redis_cli_core::conn::Conn`).
//!
//! - [`node`]: one node and its `CLUSTER NODES` view.
//! - [`cluster`]: loading a cluster, the check report, `info`, the join wait.
//! - [`create`]: `create` (slot allocation, replica placement).
//! - [`commands`]: `check`, `info`, `call`, `set-timeout`, `add-node`, `del-node`, `backup`.
//! - [`rebalance`]: `rebalance` (weights, thresholds, --cluster-simulate).
//! - [`fix`]: `fix` (open slots, coverage, multiple owners) inside the check.
//! - [`import`]: `import` from a standalone server (SCAN + MIGRATE per key).
//! - [`json`]: `--json` documents for `check` and `info` (beyond Redis).
//! - [`progress`]: the progress bar on a terminal stderr (beyond Redis).
//! - [`reshard`]: `reshard` and the slot move (SETSLOT / GETKEYSINSLOT / MIGRATE).

pub mod cluster;
pub mod commands;
pub mod create;
pub mod fix;
pub mod import;
pub mod json;
pub mod log;
pub mod node;
pub mod progress;
pub mod rebalance;
pub mod reshard;

use redis_cli_core::opts::Config;
use std::io::Read;

/// A subcommand of `--cluster`: name, arity (negative: at least), argument
/// text and options, as `--cluster help` lists them.
struct CommandDef {
    name: &'static str,
    arity: i64,
    args: Option<&'static str>,
    options: Option<&'static str>,
}

const HOST_ARGS: &str = "<host:port> or <host> <port> - separated by either colon or space";

const COMMANDS: &[CommandDef] = &[
    CommandDef {
        name: "create",
        arity: -2,
        args: Some("host1:port1 ... hostN:portN"),
        options: Some("replicas <arg>"),
    },
    CommandDef {
        name: "check",
        arity: -1,
        args: Some(HOST_ARGS),
        options: Some("search-multiple-owners"),
    },
    CommandDef {
        name: "info",
        arity: -1,
        args: Some(HOST_ARGS),
        options: None,
    },
    CommandDef {
        name: "fix",
        arity: -1,
        args: Some(HOST_ARGS),
        options: Some("search-multiple-owners,fix-with-unreachable-masters"),
    },
    CommandDef {
        name: "reshard",
        arity: -1,
        args: Some(HOST_ARGS),
        options: Some("from <arg>,to <arg>,slots <arg>,yes,timeout <arg>,pipeline <arg>,replace"),
    },
    CommandDef {
        name: "rebalance",
        arity: -1,
        args: Some(HOST_ARGS),
        options: Some(
            "weight <node1=w1...nodeN=wN>,use-empty-masters,timeout <arg>,simulate,\
             pipeline <arg>,threshold <arg>,replace",
        ),
    },
    CommandDef {
        name: "add-node",
        arity: 2,
        args: Some("new_host:new_port existing_host:existing_port"),
        options: Some("slave,master-id <arg>"),
    },
    CommandDef {
        name: "del-node",
        arity: 2,
        args: Some("host:port node_id"),
        options: None,
    },
    CommandDef {
        name: "call",
        arity: -2,
        args: Some("host:port command arg arg .. arg"),
        options: Some("only-masters,only-replicas"),
    },
    CommandDef {
        name: "set-timeout",
        arity: 2,
        args: Some("host:port milliseconds"),
        options: None,
    },
    CommandDef {
        name: "import",
        arity: 1,
        args: Some("host:port"),
        options: Some("from <arg>,from-user <arg>,from-pass <arg>,from-askpass,copy,replace"),
    },
    CommandDef {
        name: "backup",
        arity: 2,
        args: Some("host:port backup_directory"),
        options: None,
    },
    CommandDef {
        name: "help",
        arity: 0,
        args: None,
        options: None,
    },
];

/// The text of `--cluster help`.
pub fn help_text() -> String {
    const PAD: usize = 15;
    let mut s = String::from("Cluster Manager Commands:\n");
    for d in COMMANDS {
        s.push_str(&format!(
            "  {:<PAD$}{}\n",
            d.name,
            d.args.unwrap_or(""),
            PAD = PAD
        ));
        if let Some(opts) = d.options {
            for o in opts.split(',').filter(|o| !o.is_empty()) {
                s.push_str(&format!("{}  --cluster-{o}\n", " ".repeat(PAD)));
            }
        }
    }
    s.push_str(
        "\nFor check, fix, reshard, del-node, set-timeout, info, rebalance, call, import, \
         backup you can specify the host and port of any working node in the cluster.\n",
    );
    s.push_str("\nCluster Manager Options:\n");
    s.push_str(&format!(
        "  {:<15}{}\n",
        "--cluster-yes", "Automatic yes to cluster commands prompts"
    ));
    s.push('\n');
    s
}

/// Reads all of stdin (for -x / -X).
fn read_stdin() -> Vec<u8> {
    let mut v = Vec::new();
    let _ = std::io::stdin().lock().read_to_end(&mut v);
    v
}

/// Runs `--cluster <subcommand>`; returns the exit code.
pub fn run(cfg: &Config) -> i32 {
    log::init_color();
    let name = cfg.cluster.name.clone().unwrap_or_default();
    let mut argv = cfg.cluster.argv.clone();
    if cfg.stdin_lastarg {
        argv.push(read_stdin());
    } else if let Some(tag) = &cfg.stdin_tag {
        let input = read_stdin();
        match argv.iter().position(|a| a == tag) {
            Some(i) => argv[i] = input,
            None => {
                eprintln!("Using -X option but stdin tag not match.");
                return 1;
            }
        }
    }
    let Some(def) = COMMANDS
        .iter()
        .find(|d| d.name.as_bytes() == name.as_slice())
    else {
        eprintln!("Unknown --cluster subcommand");
        return 1;
    };
    let argc = argv.len() as i64;
    if (def.arity > 0 && argc != def.arity) || (def.arity < 0 && argc < -def.arity) {
        eprintln!("[ERR] Wrong number of arguments for specified --cluster sub command");
        return 1;
    }
    let argv: Vec<String> = argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut m = cluster::Manager::new(cfg);
    let ok = match def.name {
        "create" => create::create(&mut m, &argv),
        "check" | "info" if cfg.output == redis_cli_core::opts::OutputMode::Json => {
            // Beyond Redis: a JSON document instead of the text report.
            log::set_silent(true);
            let ok = if def.name == "check" {
                commands::check(&mut m, &argv)
            } else {
                commands::info(&mut m, &argv)
            };
            log::set_silent(false);
            if !m.nodes.is_empty() {
                let doc = if def.name == "check" {
                    json::check(&m, ok)
                } else {
                    json::info(&m)
                };
                log::out(&doc);
            }
            ok
        }
        "check" => commands::check(&mut m, &argv),
        "fix" => {
            m.fix = true;
            commands::check(&mut m, &argv)
        }
        "info" => commands::info(&mut m, &argv),
        "call" => commands::call(&mut m, &argv),
        "set-timeout" => commands::set_timeout(&mut m, &argv),
        "add-node" => commands::add_node(&mut m, &argv),
        "del-node" => commands::del_node(&mut m, &argv),
        "backup" => commands::backup(&mut m, &argv),
        "import" => {
            let from_pass = if cfg.cluster.from_askpass {
                Some(redis_cli_core::repl::ask_password(
                    "Please input import source node password: ",
                ))
            } else {
                cfg.cluster.from_pass.clone()
            };
            import::import(&mut m, &argv, from_pass)
        }
        "rebalance" => match commands::host_from_args(&argv) {
            Some(h) => rebalance::rebalance(&mut m, h),
            None => commands::invalid_args(),
        },
        "reshard" => match commands::host_from_args(&argv) {
            Some(h) => reshard::reshard(&mut m, h),
            None => commands::invalid_args(),
        },
        "help" => {
            log::out(&help_text());
            // Redis's help handler reports failure, so the exit code is 1.
            false
        }
        other => {
            eprintln!("--cluster {other} is not implemented in this redis-cli yet.");
            false
        }
    };
    if ok {
        0
    } else {
        1
    }
}
