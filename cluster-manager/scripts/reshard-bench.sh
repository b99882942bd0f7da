#!/usr/bin/env bash
# usage: reshard-bench.sh OURS_CLI [REF_CLI] [KEYS]
# Times `redis-cli --cluster reshard` of all 16384 slots holding KEYS keys
# (default 1,000,000) between two masters, ours against the reference
# (default: redis-cli on PATH), alternating direction and tool:
#   ours A->B, ref B->A, ref A->B, ours B->A
# The two masters are Debian redis-server nodes on free loopback ports,
# persistence off, cluster-allow-replica-migration no (so a master left
# without slots stays a master). Prints one line per run and the ratio of
# the medians (ours / ref; below 1 means ours is faster).
set -euo pipefail
OURS=$(realpath "${1:?usage: reshard-bench.sh OURS_CLI [REF_CLI] [KEYS]}")
REF=$(command -v "${2:-redis-cli}")
KEYS=${3:-1000000}
SERVER=${SERVER:-$(command -v redis-server)}
DIR=$(mktemp -d /tmp/reshard-bench.XXXXXX)
free_port() {
    python3 -c 'import socket,random
while True:
    p=random.randint(20000,29999)
    try:
        a=socket.socket(); a.bind(("127.0.0.1",p)); b=socket.socket(); b.bind(("127.0.0.1",p+10000)); print(p); break
    except OSError: pass'
}
PA=$(free_port); PB=$(free_port)
cleanup() {
    for p in $PA $PB; do "$REF" -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
    rm -rf "$DIR"
}
trap cleanup EXIT
for p in $PA $PB; do
    "$SERVER" --port "$p" --bind 127.0.0.1 --save "" --appendonly no \
        --cluster-enabled yes --cluster-config-file "$DIR/nodes-$p.conf" \
        --cluster-allow-replica-migration no --dir "$DIR" \
        --logfile "$DIR/$p.log" --daemonize yes
done
for p in $PA $PB; do
    for _ in $(seq 100); do "$REF" -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
"$REF" -p "$PA" cluster addslotsrange 0 16383 >/dev/null
"$REF" -p "$PA" cluster meet 127.0.0.1 "$PB" >/dev/null
for _ in $(seq 200); do
    "$REF" -p "$PB" cluster info | grep -q cluster_state:ok && break; sleep 0.1
done
echo "loading $KEYS keys into 127.0.0.1:$PA"
python3 -c "
import sys
out = sys.stdout.buffer
for i in range($KEYS):
    k = b'key:%d' % i
    out.write(b'*3\r\n\$3\r\nSET\r\n\$%d\r\n%s\r\n\$6\r\nvalue!\r\n' % (len(k), k))
" | "$REF" -p "$PA" --pipe >/dev/null
IA=$("$REF" -p "$PA" cluster myid); IB=$("$REF" -p "$PB" cluster myid)
run() { # tool-name binary from-port from-id to-id
    local t0 t1
    t0=$(date +%s.%N)
    TERM=dumb "$2" --cluster reshard "127.0.0.1:$3" --cluster-from "$4" --cluster-to "$5" \
        --cluster-slots 16384 --cluster-yes >"$DIR/out" 2>&1 || { tail -5 "$DIR/out"; exit 1; }
    t1=$(date +%s.%N)
    local secs; secs=$(echo "$t1 - $t0" | bc)
    local moved; moved=$(grep -c '^Moving slot' "$DIR/out" || true)
    echo "$1 $secs s ($moved slot moves)"
    echo "$1 $secs" >>"$DIR/times"
    # Wait until both nodes agree before the next run.
    for _ in $(seq 100); do
        "$REF" --cluster check "127.0.0.1:$PA" >/dev/null 2>&1 && break; sleep 0.2
    done
}
run ours "$OURS" "$PA" "$IA" "$IB"
run ref "$REF" "$PB" "$IB" "$IA"
run ref "$REF" "$PA" "$IA" "$IB"
run ours "$OURS" "$PB" "$IB" "$IA"
echo "keys after: $(( $("$REF" -p "$PA" dbsize) + $("$REF" -p "$PB" dbsize) ))"
awk '{s[$1]+=$2; n[$1]++} END {printf "mean ours %.2f s, ref %.2f s, ratio ours/ref %.3f\n", s["ours"]/n["ours"], s["ref"]/n["ref"], (s["ours"]/n["ours"])/(s["ref"]/n["ref"])}' "$DIR/times"
