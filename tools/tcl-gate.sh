#!/usr/bin/env bash
# The CI gate made of Redis's own Tcl tests: every file listed in tools/tcl-gate.txt is run
# alone with our redis-server dropped in (Debian's redis-cli and redis-benchmark beside it) and
# must pass completely. Tests skipped by name are listed under their file with the reason
# (only features a later issue builds).
# usage: tools/tcl-gate.sh [FILE ...]   (default: every file of tools/tcl-gate.txt)
# env: REDIS_SRC (a Redis 7.0.15 tree; default: taken from Debian's source package by
#      ../shared/bench/redis-src.sh into /tmp/redis-src), OURS (dir with our redis-server,
#      default $CARGO_TARGET_DIR/release or target/release), SHARED (default ../shared),
#      CLIENTS (default 2).
set -uo pipefail
shopt -s extglob
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$here/../shared}
src=${REDIS_SRC:-}
if [[ -z $src ]]; then
  src=$(bash "$shared/bench/redis-src.sh" /tmp/redis-src) || { echo "tcl-gate: no Redis source tree" >&2; exit 1; }
fi
ours=$(cd "${OURS:-${CARGO_TARGET_DIR:-$here/target}/release}" && pwd) || {
  echo "tcl-gate: no release build (cargo build --release --bin redis-server)" >&2; exit 1; }
# integration/aof runs src/redis-check-aof: a missing checker would fail it mid-file.
for b in redis-server redis-check-aof redis-check-rdb; do
  [[ -x $ours/$b ]] || { echo "tcl-gate: no $ours/$b (cargo build --release --bin $b)" >&2; exit 1; }
done
list=$here/tools/tcl-gate.txt

# Reads the list: "FILE [runtest options]" lines (e.g. "unit/tls --tls"), each followed by
# indented "skip NAME -- reason" lines.
declare -a files=()
declare -A skips=()
cur=
while IFS= read -r line; do
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  if [[ $line =~ ^[[:space:]]+skip[[:space:]]+(.*)$ ]]; then
    name=${BASH_REMATCH[1]%% -- *}
    skips[$cur]+="${name}"$'\n'
  else
    cur=${line%%+([[:space:]])}
    files+=("$cur")
  fi
done < "$list"
(($#)) && files=("$@")

total_ok=0 total_bad=0 failed_files=()
# Runs with --tls need the suite's test certificates (made by its own script) and tcl-tls.
for f in "${files[@]}"; do
  if [[ $f == *" --tls"* && ! -f $src/tests/tls/ca.crt ]]; then
    (cd "$src" && ./utils/gen-test-certs.sh >/dev/null 2>&1) || echo "tcl-gate: gen-test-certs.sh failed" >&2
  fi
done

for f in "${files[@]}"; do
  read -r -a extra <<< "${f#* }"
  [[ $f == *" "* ]] || extra=()
  args=(--single "${f%% *}" "${extra[@]}" --clients "${CLIENTS:-2}" --baseport $((21000 + (RANDOM % 400) * 50)))
  while IFS= read -r s; do
    [[ -n $s ]] && args+=(--skiptest "$s")
  done <<< "${skips[$f]:-}"
  t0=$SECONDS
  # The suite picks its ports from --baseport; a port another process holds (or one in
  # TIME_WAIT) stops the run before any test: such a run is tried again elsewhere.
  for attempt in 1 2 3; do
    anchor=$(mktemp -d)
    out=$(ANCHOR=$anchor REDIS_CLI=/usr/bin/redis-cli REDIS_BENCHMARK=/usr/bin/redis-benchmark \
      SUITE_TIMEOUT=900 "$shared/bench/redis-suite-dropin.sh" "$ours" "$src" runtest "${args[@]}" 2>&1)
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
    echo "tcl-gate: $f FAILED (passed $ok failed $bad rc=${rc:-?}, $((SECONDS - t0)) s)"
    grep '^\[err\]\|^\[exception\]' "$anchor/suite-dropin.log" | head -20
    tail -30 "$anchor/suite-dropin.log"
  else
    echo "tcl-gate: $f ok ($ok tests, $((SECONDS - t0)) s)"
    rm -rf "$anchor"
  fi
  total_ok=$((total_ok + ok)); total_bad=$((total_bad + bad))
done
echo "tcl-gate: $total_ok passed, $total_bad failed"
((${#failed_files[@]} == 0))
