#!/bin/sh
# ua.sh - haze-ua throughput on one core, with and without the cache.
#
# Two inputs from tests/data/ua-bench.txt (100 distinct real UAs, one a
# line):
# - hits: UA_BENCH_LINES (default 1,000,000) lines repeating them in order,
#   classified with the cache (as the collector does): after the first 100
#   lines every lookup is a hit;
# - cold: UA_BENCH_COLD (default 20,000) lines, each with a random number in
#   place of its first version number, classified with -n (no cache): every
#   line runs the databases' rules.
# Times bin/haze-ua (one thread) over each UA_BENCH_RUNS (default 5) times
# by its CPU time, user + system (GNU time; the start-up, which builds the
# matchers, included: on a shared machine the wall clock measures the
# neighbours) and prints the median rate:
#   haze-ua: N UAs/s (median of 5, cache hits)
#   haze-ua -n: N UAs/s (median of 5, no cache, distinct UAs)
# Run from the repository root; HZ_BIN picks the binary folder (make sets it).
# Not pinned to a CPU: on a shared machine a fixed core may be the busy one.
set -eu

bin=${HZ_BIN:-bin}/haze-ua
data=tests/data/ua-bench.txt
lines=${UA_BENCH_LINES:-1000000}
cold=${UA_BENCH_COLD:-20000}
runs=${UA_BENCH_RUNS:-5}

[ -x "$bin" ] || { echo "ua.sh: $bin not built (make)" >&2; exit 1; }
[ -r "$data" ] || { echo "ua.sh: $data missing" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "ua.sh: /usr/bin/time missing (Debian package time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

awk -v n="$lines" '{ ua[NR] = $0 } END { for (i = 0; i < n; i++) print ua[i % NR + 1] }' \
    "$data" > "$tmp/hits"
awk -v n="$cold" 'BEGIN { srand(20250601) }
    { ua[NR] = $0 }
    END {
        for (i = 0; i < n; i++) {
            u = ua[i % NR + 1]
            sub(/[0-9]+/, int(rand() * 1000000000), u)
            print u
        }
    }' "$data" > "$tmp/cold"

# bench FLAGS FILE LINES: prints the median UAs/s over $runs runs.
bench() {
    : > "$tmp/rates"
    i=0
    while [ "$i" -lt "$runs" ]; do
        /usr/bin/time -o "$tmp/cpu" -f "%U %S" "$bin" $1 < "$2" > "$tmp/out"
        awk -v n="$3" '{ s = $1 + $2; if (s < 0.01) s = 0.01; printf "%d\n", n / s }' \
            "$tmp/cpu" >> "$tmp/rates"
        i=$((i + 1))
    done
    [ "$(wc -l < "$tmp/out")" -eq "$3" ] || { echo "ua.sh: short output" >&2; exit 1; }
    sort -n "$tmp/rates" | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }'
}

echo "haze-ua: $(bench "" "$tmp/hits" "$lines") UAs/s (median of $runs, cache hits)"
echo "haze-ua -n: $(bench -n "$tmp/cold" "$cold") UAs/s (median of $runs, no cache, distinct UAs)"
