#!/usr/bin/env bash
# Runs Redis's own Tcl test files with our redis-server dropped in, one file at a time,
# and prints a pass count per file beside Debian's redis-server on the same files.
# usage: tools/tcl-suite.sh [REDIS_SRC] [unit/file ...]   (env: OURS=target/release,
#        REF=/usr/bin, SHARED=../shared, ONLY=ours|ref to run one side)
# REDIS_SRC is a Redis 7.0.15 source tree (only its tests/ are used); without one, the tree
# is taken from Debian's source package by ../shared/bench/redis-src.sh into /tmp/redis-src.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${1:-} && -d ${1:-} ]]; then
  src=$1; shift
else
  src=$(bash "${SHARED:-$here/../shared}/bench/redis-src.sh" /tmp/redis-src) || exit 1
fi
files=("$@")
if ((${#files[@]} == 0)); then
  files=(unit/protocol unit/keyspace unit/expire unit/type/string unit/type/incr unit/bitops
         unit/bitfield unit/info-command unit/info unit/auth unit/introspection
         unit/introspection-2 unit/latency-monitor unit/slowlog unit/scan unit/maxmemory
         unit/querybuf unit/limits unit/quit)
fi
ours=$(cd "${OURS:-${CARGO_TARGET_DIR:-$here/target}/release}" && pwd)
ref=${REF:-/usr/bin}
dropin=${SHARED:-$here/../shared}/bench/redis-suite-dropin.sh
run() { # run BIN_DIR FILE -> "passed N failed M"
  ANCHOR=$(mktemp -d) REDIS_CLI=/usr/bin/redis-cli REDIS_BENCHMARK=/usr/bin/redis-benchmark \
    "$dropin" "$1" "$src" runtest --single "$2" --clients 2 --baseport $((22000 + (RANDOM % 300) * 100)) 2>/dev/null | tail -1
}
printf '%-24s %-22s %s\n' file ours debian
for f in "${files[@]}"; do
  o=-; r=-
  [[ ${ONLY:-ours} != ref ]] && o=$(run "$ours" "$f")
  [[ ${ONLY:-} == ref || -z ${ONLY:-} ]] && r=$(run "$ref" "$f")
  printf '%-24s %-22s %s\n' "$f" "$o" "$r"
done
