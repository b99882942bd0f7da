#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (Debian's
# Redis 7.0.15 as the oracle, tclsh, rustfmt and clippy), then checks formatting and
# lints and runs every test of the workspace (unit, integration and differential).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v tclsh >/dev/null 2>&1 || need_apt+=(tcl)
# unit/tls runs with --tls: the suite's Tcl client needs the tls package.
echo 'package require tls' | tclsh >/dev/null 2>&1 || need_apt+=(tcl-tls)
# The redis-cli TLS tests make a throwaway CA with the openssl tool.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if ((${#need_apt[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Debian's package starts a service on 6379; the tests use their own ports, but a
# stray server only wastes memory.
if command -v service >/dev/null 2>&1; then service redis-server stop >/dev/null 2>&1 || true; fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"

# Redis's own Tcl files that pass completely with our server (tools/tcl-gate.txt), each
# run alone against the release build; Redis's tree comes from Debian's source package.
# integration/aof runs src/redis-check-aof too, so the checkers are built first.
cargo build --release --bin redis-server --bin redis-check-rdb --bin redis-check-aof
gate_rc=0
tools/tcl-gate.sh 2>&1 | tee -a "$log" || gate_rc=$?
# The Tcl files that run redis-check-aof/redis-check-rdb (integration/aof), with Debian's
# redis-server and our release checkers.
tools/tcl-checkers.sh 2>&1 | tee -a "$log" || gate_rc=$?

# One closing line for the whole run (cargo prints one per test binary, the last of
# which is usually an empty doc-test run; the Tcl gate and tcl-checkers print their own totals).
awk '/^test result:/ { p += $4; f += $6 }
     /^tcl-(gate|checkers): [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$gate_rc"
