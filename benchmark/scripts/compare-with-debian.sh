#!/usr/bin/env bash
# usage: compare-with-debian.sh OURS_BENCHMARK PORT -- per test, alternates ours and Debian's redis-benchmark REPS times
# (client pinned to CPU 1; the server is pinned to CPU 0 by the caller); prints the median rps of
# each and the ratio ours/Debian's, per config.
# Start the server first, e.g.: taskset -c 0 redis-server --port PORT --bind 127.0.0.1 --save "" --appendonly no &
# Env: REPS (default 5), OUT (scratch dir). Ours and Debian's run in turn for each test, so load drift hits both.
set -u
OURS=$1; PORT=$2; REPS=${REPS:-5}; OUT=${OUT:-/tmp/bench-compare}; mkdir -p $OUT; rm -f $OUT/*
TESTS="ping_inline ping_mbulk set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100 lrange_300 lrange_500 lrange_600 mset"
declare -A CONF=( [p1]="-c 50 -P 1" [p16]="-c 50 -P 16" [t2p16]="--threads 2 -c 50 -P 16" )
for name in p1 p16 t2p16; do
  for t in $TESTS; do
    n=50000; [[ $name != p1 ]] && n=500000
    [[ $t == lrange_* ]] && n=$(( n / 10 ))
    for r in $(seq 1 $REPS); do
      for who in ours deb; do
        bin=$OURS; [[ $who == deb ]] && bin=/usr/bin/redis-benchmark
        taskset -c 1 $bin -p $PORT ${CONF[$name]} -n $n -t $t --csv 2>/dev/null | tail -n +2 >> $OUT/$name.$who.csv
      done
    done
  done
done
python3 - "$OUT" <<'PY'
import csv, sys, statistics
out = sys.argv[1]
for name in ["p1","p16","t2p16"]:
    data = {}
    for who in ["ours","deb"]:
        for row in csv.reader(open(f"{out}/{name}.{who}.csv")):
            data.setdefault(row[0], {}).setdefault(who, []).append(float(row[1]))
    print(f"## {name}")
    print(f"{'test':36} {'ours':>11} {'debian':>11} {'ratio':>6}")
    ratios = []
    for t, d in data.items():
        o, b = statistics.median(d["ours"]), statistics.median(d["deb"])
        ratios.append(o/b)
        print(f"{t:36} {o:11.0f} {b:11.0f} {ratios[-1]:6.3f}")
    print(f"min ratio {min(ratios):.3f}  max ratio {max(ratios):.3f}")
PY
