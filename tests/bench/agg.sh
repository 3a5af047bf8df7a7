#!/bin/sh
# agg.sh - aggregator throughput (not a timed test).
#
# Builds tests/bench/agg_bench.c against the project libraries, starts a
# private redis-server (unix socket, no persistence), pre-fills a stream
# with N (default 1,000,000) realistic entries (Zipf pages over 2000 paths,
# 400 concurrent visitors, funnels declared, engagement and custom events),
# runs bin/haze-aggregator until the stream is drained and prints
#   aggregator: N entries in T s = R events/s
# and, measured in the same run on the same disk, the ceiling:
#   lmdb: R increments/s (mdb_get + mdb_put, 5000 per txn)
# Stops what it started.
#
#   sh tests/bench/agg.sh          env: HZ_BUILD, HZ_BIN, N, BATCH, PERF=1 (profile the
#                                  aggregator; PERF_TARGET=redis: redis-server instead),
#                                  STATS=1 (Redis time per command), PAIRS=1 (groups, goals
#                                  and the demo's three declared pairs), FORMAT=fields (fill
#                                  with the older multi-field records, not the compact form)
set -eu
build=${HZ_BUILD:-build/release}
bindir=${HZ_BIN:-bin}
n=${N:-1000000}
batch=${BATCH:-5000}
cc=${CC:-cc}

[ -x "$bindir/haze-aggregator" ] || { echo "agg.sh: build $bindir/haze-aggregator first (make)"; exit 1; }
[ -f "$build/libhzcommon.a" ] || { echo "agg.sh: $build/libhzcommon.a missing (make)"; exit 1; }
tmp=$(mktemp -d /tmp/haze-bench-agg.XXXXXX)
rpid=
apid=
cleanup() {
    [ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2046
$cc -std=c11 -D_DEFAULT_SOURCE -O2 -I. -o "$tmp/agg_bench" tests/bench/agg_bench.c \
    "$build/libhzcommon.a" $(pkg-config --cflags --libs hiredis lmdb) -lm

sock=$tmp/redis.sock
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$tmp" --save '' \
    --appendonly no --daemonize no --logfile "$tmp/redis.log" &
rpid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -S "$sock" ] || { echo "agg.sh: redis-server did not start"; exit 1; }

cat > "$tmp/haze.ini" <<INI
[redis]
address = unix:$sock
stream = bench:events

[aggregator]
user = root
lmdb = $tmp/db
batch = $batch
map_size_mb = 1024

[site bench.test]
timezone = Europe/Berlin
funnel = checkout: /products/* > /cart > /checkout > /thanks
funnel = signup: /pricing > Signup
funnel = help: /help/* > Download
INI
# PAIRS=1: the demo's groups, goals and three declared pairs (issue 11).
if [ "${PAIRS:-0}" = 1 ]; then
    cat >> "$tmp/haze.ini" <<INI
group = Products: /products/*
group = Blog: /blog/*
group = Help: /help/*
goal = /thanks*
goal = Signup
crosstab = event:group x visit:region
crosstab = visit:source x event:page
crosstab = event:goal x visit:source
INI
fi

t0=$(date +%s.%N)
"$tmp/agg_bench" fill "unix:$sock" bench:events "$n" bench.test
t1=$(date +%s.%N)
echo "agg: filled $n entries in $(echo "$t1 - $t0" | bc) s," \
     "redis used $(redis-cli -s "$sock" info memory | awk -F: '/^used_memory_human/ {print $2}' | tr -d '\r')"

redis-cli -s "$sock" config resetstat >/dev/null
tck=$(getconf CLK_TCK)
rcpu0=$(awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$rpid/stat")
t0=$(date +%s.%N)
"$bindir/haze-aggregator" -c "$tmp/haze.ini" 2> "$tmp/agg.log" &
apid=$!
if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    target=$apid
    [ "${PERF_TARGET:-}" = redis ] && target=$rpid
    perf record -g -o "$tmp/perf.data" -p "$target" 2>/dev/null &
    perfpid=$!
fi
while [ "$(redis-cli -s "$sock" xlen bench:events)" != 0 ]; do sleep 0.05; done
t1=$(date +%s.%N)
# CPU seconds of the aggregator and of redis-server (utime + stime, in ticks).
acpu=$(awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$apid/stat")
rcpu=$(awk -v t="$tck" -v c0="$rcpu0" '{ printf "%.2f", ($14 + $15) / t - c0 }' "/proc/$rpid/stat")
kill "$apid"; wait "$apid" || true
apid=
if [ "${STATS:-0}" = 1 ]; then
    redis-cli -s "$sock" info commandstats | tr -d '\r' | grep usec= | \
        awk -F'[:=,]' '{ printf "redis %-24s calls %8s usec %10s per call %8s\n", $1, $3, $5, $7 }' | \
        sort -k6 -n -r | head -12
fi
if [ -n "${perfpid:-}" ]; then
    kill -INT "$perfpid"; wait "$perfpid" || true
    perf report -i "$tmp/perf.data" --no-children --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -30
fi
secs=$(echo "$t1 - $t0" | bc)
echo "aggregator: $n entries in $secs s = $(echo "$n / $secs" | bc) events/s" \
     "(batch $batch, data.mdb $(du -m "$tmp/db/data.mdb" | cut -f1) MB;" \
     "cpu: aggregator $acpu s, redis-server $rcpu s)"
grep -E 'warn|fatal|stopped' "$tmp/agg.log" | sed 's/^[^:]*: //' | head -5 || true

mkdir "$tmp/raw"
echo "lmdb: $("$tmp/agg_bench" lmdb "$tmp/raw" 3) increments/s (mdb_get + mdb_put, 5000 per txn)"
