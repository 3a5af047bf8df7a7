#!/bin/sh
# xq_same.sh - answers stay byte-identical across a change of the query
# engine (not a timed test). Builds tests/bench/xq_run.c against the
# libraries of revision REV (default main; built in a temporary copy) and
# against this tree's build, fills one store with dash_fill (a year of the
# dashboard benchmark's 10,000-page site with the demo's three pairs), and
# asks both the same questions: the pair questions of dash.sh and many
# more (pairs both ways, filters is/is_not/contains, lift, conversion rate,
# two dimensions, aggregates, ranges from a day to a year across month
# edges, limits and pages, ascending orders, one-property breakdowns of
# pages, entry and exit pages, filtered page rows),
# under min_visitors 5, 40 and 400 (folding, region fallback and
# complementary suppression at work). Prints the number of answers and
# "same", or the first differences (exit 1).
#
#   sh tests/bench/xq_same.sh [REV]       env: HZ_BUILD, PAGES, ROWS, KEEP, XQ_THREADS
#
# KEEP=DIR keeps the questions (q) and both sides' answers (a.out, b.out).
# XQ_THREADS=0 or 2 reaches both sides' xq_run (when the helper thread reads).
set -eu
rev=${1:-main}
build=${HZ_BUILD:-build/release}
pages=${PAGES:-10000}
rows=${ROWS:-1000}
cc=${CC:-cc}

[ -f "$build/libhzdashboard.a" ] || { echo "xq_same.sh: build this tree first (make)"; exit 1; }
tmp=$(mktemp -d /tmp/haze-xq-same.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# xq_run's libraries: pkg-config names as the Makefile links the dashboard.
libs="$(pkg-config --libs lmdb libevent libevent_openssl jansson libpcre2-8 inih openssl) -lm"
mkdir "$tmp/a"
git archive "$rev" | tar -x -C "$tmp/a"
nice make -C "$tmp/a" -j2 build/release/libhzdashboard.a build/release/libhzcommon.a \
    >"$tmp/a.log" 2>&1 || { tail -20 "$tmp/a.log"; exit 1; }
# shellcheck disable=SC2086
$cc -std=c11 -D_GNU_SOURCE -O2 -I"$tmp/a" -I"$tmp/a/build/release/gen" -o "$tmp/xq_a" \
    tests/bench/xq_run.c "$tmp/a/build/release/libhzdashboard.a" \
    "$tmp/a/build/release/libhzcommon.a" $libs
# shellcheck disable=SC2086
$cc -std=c11 -D_GNU_SOURCE -O2 -I. -I"$build/gen" -o "$tmp/xq_b" tests/bench/xq_run.c \
    "$build/libhzdashboard.a" "$build/libhzcommon.a" $libs
# shellcheck disable=SC2086
$cc -std=c11 -D_DEFAULT_SOURCE -O2 -I. -o "$tmp/dash_fill" tests/bench/dash_fill.c \
    "$build/libhzcommon.a" $libs

today=$(( $(date -u +%s) / 86400 ))
now=$(( today * 86400 + 43200 ))
mkdir "$tmp/db"
"$tmp/dash_fill" "$tmp/db" bench.test "$today" "$pages" "$rows" 1

day() { date -u -d "@$(( ($1) * 86400 ))" +%F; }
# Ranges: a year, 30 and 7 days, one day, a whole month, 45 days across
# month edges, and Plausible's relative periods.
m1=$(date -u -d "$(day "today - 60") " +%Y-%m-01)
m1e=$(date -u -d "$m1 +1 month -1 day" +%F)
ranges="period=custom&date=$(day "today - 364"),$(day today)
period=custom&date=$(day "today - 29"),$(day today)
period=custom&date=$(day "today - 6"),$(day today)
period=custom&date=$(day "today - 100"),$(day "today - 100")
period=custom&date=$m1,$m1e
period=custom&date=$(day "today - 200"),$(day "today - 156")
period=12mo
period=month"
p0=%2Farticles%2F0%2Fsome-readable-slug
echo "$ranges" | while read -r r; do
    b="site_id=bench.test&$r"
    for lim in 1 7 100 1000; do
        echo "breakdown $b&property=event:page&filters=visit:source%3D%3Dgoogle.com&limit=$lim"
    done
    echo "breakdown $b&property=event:page&filters=visit:source%3D%3Dgoogle.com&limit=50&page=3"
    echo "breakdown $b&property=event:page&filters=visit:source%3D%3Dnewsletter&limit=100"
    echo "breakdown $b&property=event:page&filters=visit:source!%3Dgoogle.com&limit=20"
    echo "breakdown $b&property=event:page&filters=visit:source%3D%3Dgoogle.com&metrics=visitors,visits,pageviews,lift&limit=30"
    echo "breakdown $b&property=visit:source&filters=event:page%3D%3D$p0"
    echo "breakdown $b&property=visit:source&filters=event:page~articles%2F5&limit=100"
    echo "breakdown $b&property=visit:region&filters=event:group%3D%3DGroup%201&metrics=visitors,visits,lift&limit=100"
    echo "breakdown $b&property=event:group&filters=visit:region%3D%3DDE-01&metrics=visitors,lift"
    echo "breakdown $b&property=visit:source&filters=event:goal%3D%3DSignup&metrics=visitors,conversion_rate"
    echo "breakdown $b&property=event:goal&filters=visit:source%3D%3Dgoogle.com&metrics=visitors,events,conversion_rate"
    echo "aggregate $b&filters=visit:source%3D%3Dgoogle.com;event:page%3D%3D$p0&metrics=visitors,visits"
    echo "aggregate $b&filters=event:group%3D%3DGroup%202;visit:region%3D%3DDE-07&metrics=visitors"
    echo "breakdown $b&property=event:page&limit=100"
    echo "breakdown $b&property=event:page&metrics=visitors,pageviews,bounce_rate,time_on_page_median,exit_rate&limit=10"
    echo "aggregate $b&metrics=visitors,visits,pageviews,bounce_rate,visit_duration"
    # One property, no pair: the rows of a dimension (dashboard/xscan.c
    # hz_xscan_rows), entry rows joined, filtered, pages of results.
    echo "breakdown $b&property=event:page&limit=1000&page=2"
    echo "breakdown $b&property=event:page&filters=event:page~articles%2F1&metrics=visitors,visits,pageviews,bounce_rate&limit=50"
    echo "breakdown $b&property=visit:entry_page&metrics=visitors,visits,bounce_rate,visit_duration&limit=100"
    echo "breakdown $b&property=visit:exit_page&metrics=visitors,exit_rate&limit=30"
    echo "aggregate $b&filters=event:page%3D%3D$p0&metrics=visitors,visits,pageviews,bounce_rate"
    echo "timeseries $b&filters=event:page~articles%2F2&metrics=visitors,pageviews"
done > "$tmp/q"
# v2: two dimensions, ascending orders, pages of results.
for r in "[\"$(day "today - 364")\",\"$(day today)\"]" "\"30d\"" "\"day\""; do
    d="\"site_id\":\"bench.test\",\"date_range\":$r"
    echo "v2 {$d,\"metrics\":[\"visitors\",\"visits\"],\"dimensions\":[\"event:group\",\"visit:region\"],\"pagination\":{\"limit\":50}}"
    echo "v2 {$d,\"metrics\":[\"visitors\",\"lift\"],\"dimensions\":[\"event:group\",\"visit:region\"]}"
    echo "v2 {$d,\"metrics\":[\"visitors\"],\"dimensions\":[\"visit:source\",\"event:page\"],\"pagination\":{\"limit\":100,\"offset\":50}}"
    echo "v2 {$d,\"metrics\":[\"visitors\",\"pageviews\"],\"dimensions\":[\"event:page\"],\"filters\":[[\"is\",\"visit:source\",[\"bing.com\"]]],\"order_by\":[[\"visitors\",\"asc\"]],\"pagination\":{\"limit\":40}}"
    echo "v2 {$d,\"metrics\":[\"visitors\"],\"dimensions\":[\"visit:source\"],\"filters\":[[\"is\",\"event:page\",[\"/articles/7/some-readable-slug\"]]],\"order_by\":[[\"visit:source\",\"desc\"]]}"
    echo "v2 {$d,\"metrics\":[\"visitors\",\"conversion_rate\"],\"dimensions\":[\"event:goal\",\"visit:source\"]}"
    echo "v2 {$d,\"metrics\":[\"visitors\",\"pageviews\"],\"dimensions\":[\"event:page\"],\"order_by\":[[\"pageviews\",\"asc\"],[\"event:page\",\"desc\"]],\"pagination\":{\"limit\":25,\"offset\":10}}"
done >> "$tmp/q"

for mv in 5 40 400; do
    cat > "$tmp/haze-$mv.ini" <<INI
[aggregator]
user = root
lmdb = $tmp/db
retention_days = 400
[dashboard]
user = root
listen = 127.0.0.1:1
token = same-token-123
min_visitors = $mv
INI
cat tests/bench/dash_site.ini >> "$tmp/haze-$mv.ini"
    "$tmp/xq_a" "$tmp/haze-$mv.ini" "$now" - < "$tmp/q" > "$tmp/a-$mv.out"
    "$tmp/xq_b" "$tmp/haze-$mv.ini" "$now" - < "$tmp/q" > "$tmp/b-$mv.out"
done
cat "$tmp"/a-*.out > "$tmp/a.out"
cat "$tmp"/b-*.out > "$tmp/b.out"
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$tmp/q" "$tmp/a.out" "$tmp/b.out" "$KEEP/"
n=$(wc -l < "$tmp/a.out")
errs=$(grep -c '^error' "$tmp/a.out" || true)
if cmp -s "$tmp/a.out" "$tmp/b.out"; then
    echo "xq_same: $n answers ($errs of them errors) byte-identical between $rev and this tree"
    exit 0
fi
echo "xq_same: answers differ between $rev and this tree:"
diff "$tmp/a.out" "$tmp/b.out" | cut -c1-300 | head -20
exit 1
