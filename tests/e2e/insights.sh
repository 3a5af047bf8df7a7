#!/bin/sh
# insights.sh - the goals, page groups, demand-by-region and heatmap panels
# (issue 11) in headless Chromium: fills an LMDB with one hand-checked day
# (tests/e2e/insights_demo.c), starts haze-dashboard with the site's groups,
# goals and pairs, runs tests/e2e/insights.mjs, stops the dashboard by pid.
#
# Needs node, /usr/bin/chromium and playwright-core in
# $HZ_PLAYWRIGHT_DIR/node_modules (tests/e2e/run.sh installs it); without
# them it says SKIPPED and exits 0.
set -eu
build=${HZ_BUILD:-build/release}
bindir=${HZ_BIN:-bin}
out="$build/e2e"
pwdir=${HZ_PLAYWRIGHT_DIR:-$(pwd)}
if ! command -v node >/dev/null || [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] ||
   [ ! -d "$pwdir/node_modules/playwright-core" ]; then
    echo "insights e2e: SKIPPED (needs node, chromium and playwright-core in $pwdir/node_modules)"
    exit 0
fi
[ -x "$bindir/haze-dashboard" ] || { echo "insights e2e: build $bindir/haze-dashboard first"; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d /tmp/haze-e2e-insights.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2046
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -O2 ${HZ_SAN:-} -I. -o "$tmp/insights_demo" \
    tests/e2e/insights_demo.c "$build/libhzcommon.a" $(pkg-config --libs lmdb) -lm
mkdir "$tmp/db"
today=$(( $(date -u +%s) / 86400 ))
"$tmp/insights_demo" "$tmp/db" shop.example "$today"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/haze.ini" <<INI
[aggregator]
user = root
lmdb = $tmp/db
retention_days = 400
[dashboard]
user = root
listen = 127.0.0.1:$port
token = e2e-token-1234
min_visitors = 5
[site shop.example]
timezone = UTC
group = Cards: /cards*
group = Flyers: /flyers*
goal = Signup
goal = /thanks*
crosstab = event:group x visit:region
crosstab = event:goal x visit:source
funnel = checkout: /products/* > /cart > /thanks
funnel_by = visit:device
INI
"$bindir/haze-dashboard" -c "$tmp/haze.ini" 2>"$tmp/dash.log" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/privacy.json"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/dash.log"; exit 1; }; sleep 0.05
done
HZ_PLAYWRIGHT_DIR="$pwdir" node tests/e2e/insights.mjs "http://127.0.0.1:$port" e2e-token-1234 "$out" "$today"
