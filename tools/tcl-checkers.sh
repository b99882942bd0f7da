#!/usr/bin/env bash
# The checkers' part of the Tcl gate: Redis's own Tcl files that run redis-check-aof or
# redis-check-rdb (`grep -rl 'check-aof\|check-rdb' tests/` in Redis 7.0.15 finds only
# integration/aof), run alone with Debian's redis-server, redis-cli and redis-benchmark and
# OUR redis-check-aof and redis-check-rdb dropped in beside them. Every test must pass.
# (tools/tcl-gate.sh runs our redis-server, which has no AOF yet, so these files are here.)
# usage: tools/tcl-checkers.sh [FILE ...]   (default: integration/aof)
# env: REDIS_SRC (a Redis 7.0.15 tree; default: taken from Debian's source package by
#      ../shared/bench/redis-src.sh into /tmp/redis-src), OURS (dir with our checkers,
#      default target/release), SERVER_DIR (dir with Redis's binaries, default /usr/bin),
#      SHARED (default ../shared), CLIENTS (default 2).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$here/../shared}
src=${REDIS_SRC:-}
if [[ -z $src ]]; then
  src=$(bash "$shared/bench/redis-src.sh" /tmp/redis-src) || { echo "tcl-checkers: no Redis source tree" >&2; exit 1; }
fi
ours=$(cd "${OURS:-${CARGO_TARGET_DIR:-$here/target}/release}" && pwd) || {
  echo "tcl-checkers: no release build of the checkers" >&2; exit 1; }
server_dir=${SERVER_DIR:-/usr/bin}
files=(integration/aof)
(($#)) && files=("$@")

total_ok=0 total_bad=0 failed_files=()
for f in "${files[@]}"; do
  args=(--single "$f" --clients "${CLIENTS:-2}" --baseport $((21000 + (RANDOM % 400) * 50)))
  t0=$SECONDS
  # A port another process holds stops the suite before any test: try elsewhere.
  for attempt in 1 2 3; do
    anchor=$(mktemp -d)
    out=$(ANCHOR=$anchor REDIS_CHECK_AOF=$ours/redis-check-aof REDIS_CHECK_RDB=$ours/redis-check-rdb \
      SUITE_TIMEOUT=900 "$shared/bench/redis-suite-dropin.sh" "$server_dir" "$src" runtest "${args[@]}" 2>&1)
    grep -q 'address already in use\|non busy port' "$anchor/suite-dropin.log" || break
    ((attempt < 3)) && rm -rf "$anchor"
    for i in "${!args[@]}"; do
      [[ ${args[$i]} == --baseport ]] && args[$((i + 1))]=$((21000 + (RANDOM % 400) * 50))
    done
  done
  last=$(tail -1 <<< "$out")
  ok=0 bad=1
  if [[ $last =~ ^passed\ ([0-9]+)\ failed\ ([0-9]+)$ ]]; then
    ok=${BASH_REMATCH[1]} bad=${BASH_REMATCH[2]}
  fi
  rc=$(grep -o 'rc=[0-9]*' <<< "$out" | head -1); rc=${rc#rc=}
  # A file that ends early (exception, timeout) has rc != 0 even with no [err] line.
  if ((bad > 0 || ok == 0)) || [[ ${rc:-1} != 0 ]]; then
    ((bad == 0)) && bad=1
    failed_files+=("$f")
    echo "tcl-checkers: $f FAILED (passed $ok failed $bad rc=${rc:-?}, $((SECONDS - t0)) s)"
    grep '^\[err\]\|^\[exception\]' "$anchor/suite-dropin.log" | head -20
    tail -30 "$anchor/suite-dropin.log"
  else
    echo "tcl-checkers: $f ok ($ok tests, $((SECONDS - t0)) s)"
    rm -rf "$anchor"
  fi
  total_ok=$((total_ok + ok)); total_bad=$((total_bad + bad))
done
echo "tcl-checkers: $total_ok passed, $total_bad failed"
((${#failed_files[@]} == 0))
