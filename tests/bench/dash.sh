#!/bin/sh
# dash.sh - dashboard API latency benchmark (not a timed test).
#
# Builds tests/bench/dash_fill.c against the project libraries, fills an
# LMDB in a temporary folder with a year of aggregates over PAGES distinct
# pages (ROWS page rows a day), starts haze-dashboard on 127.0.0.1, and
# measures with curl (time_total, one keep-alive-free request each):
#   - a 365-day event:page breakdown (top 100 by visitors), target <= 20 ms;
#   - the same with the dashboard's top-pages metrics (bounce rate from the
#     entry rows and median time on page from the histograms joined in);
#   - three 365-day questions across the demo's declared pairs (pages read
#     by visitors from google.com, regions of a page group, conversion rate
#     by source), target <= 20 ms;
#   - a 30-day aggregate.
# It also prints the bytes a day on disk for the site with and without the
# three pairs (two fills of the same year).
# The site (groups, goals, the three pairs) is tests/bench/dash_site.ini.
# Median and p99 over N requests each (default 200). The dashboard keeps
# answers until the data changes, so each question is measured twice:
# "cold" makes every request unique (limit=1..N, a cache miss each time, the
# full read of the store), "warm" repeats one request (served from the
# answer cache). Stops what it started. ONLY=pair measures the three pair
# questions alone (and skips the second fill, for the bytes without pairs).
#
#   sh tests/bench/dash.sh            env: HZ_BUILD, HZ_BIN, N, PAGES, ROWS, ONLY
set -eu
build=${HZ_BUILD:-build/release}
bindir=${HZ_BIN:-bin}
n=${N:-200}
pages=${PAGES:-10000}
rows=${ROWS:-1000}
only=${ONLY:-}
cc=${CC:-cc}

[ -x "$bindir/haze-dashboard" ] || { echo "dash.sh: build $bindir/haze-dashboard first (make)"; exit 1; }
command -v curl >/dev/null || { echo "dash.sh: curl is required"; exit 1; }
tmp=$(mktemp -d /tmp/haze-bench-dash.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2046
$cc -std=c11 -D_DEFAULT_SOURCE -O2 -I. -o "$tmp/dash_fill" tests/bench/dash_fill.c \
    "$build/libhzcommon.a" $(pkg-config --libs lmdb) -lm
today=$(( $(date -u +%s) / 86400 ))
# used_bytes DIR: the bytes of the pages LMDB has in use (mdb_stat -e, when
# lmdb-utils is there; else the file's allocated size).
used_bytes() {
    if command -v mdb_stat >/dev/null; then
        mdb_stat -e "$1" | awk '/Page size:/ { ps = $3 } /Number of pages used:/ { n = $5 } END { print ps * n }'
    else
        du -B1 "$1/data.mdb" | cut -f1
    fi
}
mkdir "$tmp/db" "$tmp/db0"
t0=$(date +%s.%N)
"$tmp/dash_fill" "$tmp/db" bench.test "$today" "$pages" "$rows" 1
t1=$(date +%s.%N)
echo "dash: filled 365 days x $rows page rows ($pages distinct pages) and the demo's three pairs" \
     "in $(echo "$t1 - $t0" | bc) s, data.mdb $(du -m "$tmp/db/data.mdb" | cut -f1) MB"
if [ "$only" != pair ]; then
    "$tmp/dash_fill" "$tmp/db0" bench.test "$today" "$pages" "$rows" 0
    b1=$(used_bytes "$tmp/db")
    b0=$(used_bytes "$tmp/db0")
    rm -rf "$tmp/db0"
    echo "dash: bytes per day on disk, $pages-page site: $((b1 / 365)) with the three pairs," \
         "$((b0 / 365)) without (the pairs: $(((b1 - b0) / 365)) a day)"
fi

port=$(( 20000 + $$ % 30000 ))
cat > "$tmp/haze.ini" <<INI
[aggregator]
user = root
lmdb = $tmp/db
retention_days = 400
[dashboard]
user = root
listen = 127.0.0.1:$port
token = bench-token-123
min_visitors = 5
INI
cat tests/bench/dash_site.ini >> "$tmp/haze.ini"
"$bindir/haze-dashboard" -c "$tmp/haze.ini" 2>"$tmp/dash.log" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/privacy.json"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/dash.log"; exit 1; }; sleep 0.05
done

from=$(date -u -d "@$(( (today - 364) * 86400 ))" +%F)
to=$(date -u -d "@$(( today * 86400 ))" +%F)
base="http://127.0.0.1:$port/api/v1/stats"

# measure NAME URL: prints median and p99 in ms over n requests (after 5 warm-ups).
measure() {
    # Warm-ups ask questions the measured ones never repeat (page=2 of
    # limit=1..5; a range ending 300-304 days ago), so none is cached for them.
    for k in 1 2 3 4 5; do
        d=$(date -u -d "@$(( (today - 299 - k) * 86400 ))" +%F)
        url=$(echo "$2" | sed "s/@J@/$k\&page=2/; s/@D@/$d/")
        curl -s -o /dev/null -H "Authorization: Bearer bench-token-123" "$url"
    done
    j=0
    : > "$tmp/t"
    while [ $j -lt "$n" ]; do
        # @J@ in the URL becomes 1..n (every request a different question).
        # @D@ becomes today - j (a 30-day range ending on another day each time).
        d=$(date -u -d "@$(( (today - j % 300) * 86400 ))" +%F)
        url=$(echo "$2" | sed "s/@J@/$(( j % 1000 + 1 ))\&page=$(( j / 1000 + 1 ))/; s/@D@/$d/")
        curl -s -o /dev/null -H "Authorization: Bearer bench-token-123" -w '%{http_code} %{time_total}\n' "$url" >> "$tmp/t"
        j=$((j + 1))
    done
    if grep -qv '^200 ' "$tmp/t"; then echo "dash: $1: non-200 answers"; head -3 "$tmp/t"; exit 1; fi
    [ -n "${DASH_KEEP:-}" ] && cp "$tmp/t" "$DASH_KEEP.$(echo "$1" | tr -c a-z0-9 _)"
    cut -d' ' -f2 "$tmp/t" | sort -n | awk -v name="$1" '
        { v[NR] = $1 * 1000 }
        END {
            p50 = v[int((NR + 1) / 2)]; i99 = int(NR * 0.99 + 0.999); if (i99 > NR) i99 = NR
            printf "dash: %-44s median %6.2f ms  p99 %6.2f ms  (n=%d)\n", name, p50, v[i99], NR
        }'
}

bd="$base/breakdown?site_id=bench.test&period=custom&date=$from,$to&property=event:page"
top="metrics=visitors,pageviews,bounce_rate,time_on_page_median,exit_rate"
agg="$base/aggregate?site_id=bench.test&metrics=visitors,visits,pageviews,bounce_rate,visit_duration"
echo "dash: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
if [ "$only" != pair ]; then
    measure "365-day event:page breakdown, cold" "$bd&limit=@J@"
    measure "365-day event:page breakdown, warm" "$bd&limit=100"
    measure "365-day top pages (5 metrics), cold" "$bd&$top&limit=@J@"
    measure "365-day top pages (5 metrics), warm" "$bd&$top&limit=100"
fi
measure "365-day pages from google.com (pair), cold" "$bd&filters=visit:source%3D%3Dgoogle.com&limit=@J@"
measure "365-day regions for a group (pair), cold" \
    "$base/breakdown?site_id=bench.test&period=custom&date=$from,$to&property=visit:region&filters=event:group%3D%3DGroup%201&limit=@J@"
measure "365-day conversion by source (pair), cold" \
    "$base/breakdown?site_id=bench.test&period=custom&date=$from,$to&property=visit:source&filters=event:goal%3D%3DSignup&metrics=visitors,conversion_rate&limit=@J@"
[ "$only" = pair ] && exit 0
measure "30-day aggregate, cold" "$agg&period=30d&date=@D@"
measure "30-day aggregate, warm" "$agg&period=30d"
curl -s -H "Authorization: Bearer bench-token-123" \
    "$base/breakdown?site_id=bench.test&period=custom&date=$from,$to&property=event:page&limit=3" \
    | head -c 300; echo
