#!/bin/sh
# ua.sh - haze-ua throughput on one core, with and without the cache.
#
# Builds UA_BENCH_LINES (default 100,000) lines from tests/data/ua-bench.txt
# (100 distinct real UAs, one a line), repeating them in order; every other
# line gets a random number in place of its first version number, so about
# half the lines are new to the cache and it cannot make the run trivial.
# Times bin/haze-ua (one thread) over the file UA_BENCH_RUNS (default 5)
# times by the wall clock and prints the median rate:
#   haze-ua: N UAs/s (median of 5)
#   haze-ua -n: N UAs/s (median of 5, no cache)
# Run from the repository root; HZ_BIN picks the binary folder (make sets it).
# Not pinned to a CPU: on a shared machine a fixed core may be the busy one.
set -eu

bin=${HZ_BIN:-bin}/haze-ua
data=tests/data/ua-bench.txt
lines=${UA_BENCH_LINES:-100000}
runs=${UA_BENCH_RUNS:-5}

[ -x "$bin" ] || { echo "ua.sh: $bin not built (make)" >&2; exit 1; }
[ -r "$data" ] || { echo "ua.sh: $data missing" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

awk -v n="$lines" 'BEGIN { srand(20250601) }
    { ua[NR] = $0 }
    END {
        for (i = 0; i < n; i++) {
            u = ua[i % NR + 1]
            if (i % 2)
                sub(/[0-9]+/, int(rand() * 1000000), u)
            print u
        }
    }' "$data" > "$tmp/in"

# bench FLAGS: prints the median UAs/s over $runs runs.
bench() {
    : > "$tmp/rates"
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(date +%s%N)
        "$bin" $1 < "$tmp/in" > "$tmp/out"
        t1=$(date +%s%N)
        echo "$lines $t0 $t1" | awk '{ printf "%d\n", $1 * 1e9 / ($3 - $2) }' >> "$tmp/rates"
        i=$((i + 1))
    done
    [ "$(wc -l < "$tmp/out")" -eq "$lines" ] || { echo "ua.sh: short output" >&2; exit 1; }
    sort -n "$tmp/rates" | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }'
}

echo "haze-ua: $(bench "") UAs/s (median of $runs)"
echo "haze-ua -n: $(bench -n) UAs/s (median of $runs, no cache)"
