#!/bin/sh
# dash.sh - the dashboard in headless Chromium: fills a demo LMDB
# (tests/e2e/dash_demo.c), starts haze-dashboard, runs tests/e2e/dash.mjs,
# stops the dashboard by pid. Screenshots land in $HZ_BUILD/e2e/.
#
# Needs node, /usr/bin/chromium and playwright-core (npm, no browser
# download): found in ./node_modules or in $HZ_PLAYWRIGHT_DIR/node_modules.
# Without them it says SKIPPED and exits 0 (it is not a unit test).
set -eu
build=${HZ_BUILD:-build/release}
bindir=${HZ_BIN:-bin}
out="$build/e2e"
pwdir=${HZ_PLAYWRIGHT_DIR:-$(pwd)}
if ! command -v node >/dev/null || [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] ||
   [ ! -d "$pwdir/node_modules/playwright-core" ]; then
    echo "dash e2e: SKIPPED (needs node, chromium and playwright-core in $pwdir/node_modules)"
    exit 0
fi
[ -x "$bindir/haze-dashboard" ] || { echo "dash e2e: build $bindir/haze-dashboard first"; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d /tmp/haze-e2e-dash.XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2046
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -O2 ${HZ_SAN:-} -I. -o "$tmp/dash_demo" tests/e2e/dash_demo.c \
    "$build/libhzcommon.a" $(pkg-config --libs lmdb) -lm
mkdir "$tmp/db"
# Today in the site's zone (UTC here).
"$tmp/dash_demo" "$tmp/db" printshop.example "$(( $(date -u +%s) / 86400 ))"
port=$(( 20000 + $$ % 30000 ))
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
[site printshop.example]
timezone = UTC
funnel = checkout: /products/* > /cart > /checkout > /thanks
INI
"$bindir/haze-dashboard" -c "$tmp/haze.ini" 2>"$tmp/dash.log" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/privacy.json"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/dash.log"; exit 1; }; sleep 0.05
done
HZ_PLAYWRIGHT_DIR="$pwdir" node tests/e2e/dash.mjs "http://127.0.0.1:$port" e2e-token-1234 "$out"
echo "dash e2e: screenshots in $out/dashboard.png and $out/dashboard-phone.png"
