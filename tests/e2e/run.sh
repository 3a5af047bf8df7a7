#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/e2e/run.sh - haze's real-browser end-to-end test (run by `make check`).
#
# Installs playwright-core (the version pinned in tests/e2e/package-lock.json;
# never a browser download) into build/e2e, starts a private redis-server on
# a unix socket in a temporary folder, then haze-aggregator, haze-collector,
# haze-dashboard and the demo shop on free loopback ports with a temporary
# haze.ini, and runs tests/e2e/e2e.mjs in Debian's headless Chromium (and
# haze-loadgen against a second site, whose totals the API must match). Every
# process it starts is stopped by pid on exit, whatever happens.
#
# Environment: HZ_BIN (binaries, default bin; the Makefile exports it),
# HAZE_E2E_KEEP=1 keeps the temporary folder (logs, config, LMDB).

if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
BIN=${HZ_BIN:-bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
E2E=$ROOT/build/e2e
CHROMIUM=/usr/bin/chromium
SITE=localhost

echo "== end-to-end browser test (tests/e2e)"
fail() { echo "e2e: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------------ prerequisites

for b in haze-collector haze-aggregator haze-dashboard haze-loadgen; do
    [ -x "$BIN/$b" ] || fail "$BIN/$b is missing (not built, or its part is not merged yet)"
done
LOADGEN=$BIN/haze-loadgen
for c in node npm redis-server redis-cli python3 perl; do
    command -v "$c" >/dev/null 2>&1 || fail "$c is not installed: run \`make deps\` (as root)"
done
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing: run \`make deps\` (Debian's chromium package)"
[ -f tests/data/make-mmdb.pl ] || fail "tests/data/make-mmdb.pl is missing (the geo fixture generator)"

# playwright-core from npm, exactly the locked version, reinstalled only when
# the lock file changes. It drives the system Chromium: no browser download.
want=$(sed -n 's/.*"playwright-core": "\([0-9.]*\)".*/\1/p' tests/e2e/package.json | head -n1)
have=$(sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' \
    "$E2E/node_modules/playwright-core/package.json" 2>/dev/null | head -n1)
if [ "$have" != "$want" ] || ! cmp -s tests/e2e/package-lock.json "$E2E/package-lock.json"; then
    echo "e2e: installing playwright-core $want into build/e2e"
    mkdir -p "$E2E"
    cp tests/e2e/package.json tests/e2e/package-lock.json "$E2E/"
    (cd "$E2E" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
        --loglevel=error) || fail "npm ci in build/e2e failed (is the npm registry reachable?)"
fi

# The older official tracker package (plausible-tracker), pinned by
# tests/e2e/tracker/package-lock.json, fetched here and never committed.
TRK=$ROOT/build/e2e-tracker
if ! cmp -s tests/e2e/tracker/package-lock.json "$TRK/package-lock.json" ||
    [ ! -f "$TRK/node_modules/plausible-tracker/package.json" ]; then
    echo "e2e: installing plausible-tracker into build/e2e-tracker"
    mkdir -p "$TRK"
    cp tests/e2e/tracker/package.json tests/e2e/tracker/package-lock.json "$TRK/"
    (cd "$TRK" && npm ci --no-audit --no-fund --loglevel=error) ||
        fail "npm ci in build/e2e-tracker failed (is the npm registry reachable?)"
fi

# ------------------------------------------------------------ set-up

TMP=$(mktemp -d /tmp/haze-e2e.XXXXXX)
PIDS=""
cleanup() {
    local p
    # Reverse start order: the demo, the collector, the aggregator, the
    # dashboard, then redis.
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $PIDS; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    # Sanitizer builds (make asan) report at exit, into the daemons' logs:
    # bring any report to the test's output and fail.
    if grep -lE 'ERROR: (Leak|Address)Sanitizer|runtime error:' "$TMP"/*.log >/dev/null 2>&1; then
        for l in "$TMP"/*.log; do
            grep -qE 'ERROR: (Leak|Address)Sanitizer|runtime error:' "$l" || continue
            echo "e2e: sanitizer report in $(basename "$l"):"
            cat "$l"
        done
        echo "e2e: FAIL: sanitizer reports from the daemons"
        SAN_FAIL=1
    fi
    if [ "${HAZE_E2E_KEEP:-0}" = 1 ]; then
        echo "e2e: kept $TMP"
    else
        rm -rf "$TMP"
    fi
}
SAN_FAIL=0
trap 'st=$?; cleanup; [ "$SAN_FAIL" = 1 ] && st=1; exit $st' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Three free loopback ports (collector, dashboard, demo), held together while chosen.
read -r CPORT DPORT WPORT <<EOF
$(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss:
    s.close()
')
EOF
[ -n "${WPORT:-}" ] || fail "could not find free ports"

mkdir -p "$TMP/db" "$TMP/spool" "$TMP/site"
perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv "$TMP/geo.mmdb" >/dev/null ||
    fail "could not generate the geo database"
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
SOCK=$TMP/redis.sock
cat >"$TMP/haze.ini" <<EOF
[redis]
address = unix:$SOCK
stream = haze:events

[collector]
user = root
listen = 127.0.0.1:$CPORT
trusted_proxies = 127.0.0.1/8 ::1
honor_dnt = yes
spool_dir = $TMP/spool

[geo]
database = $TMP/geo.mmdb

[aggregator]
user = root
lmdb = $TMP/db
session_minutes = 30

[dashboard]
user = root
listen = 127.0.0.1:$DPORT
token = $TOKEN
min_visitors = 1

[site $SITE]
aliases = 127.0.0.1
funnel = checkout: /products/* > /cart > /checkout > /thanks

[site printshop.example]
funnel = checkout: /products/* > /cart > /checkout > /thanks

[site tracker.example]
goal = Signup
props = plan
EOF

# The demo shop with this run's ports in place of make run's.
cp -R tests/demo/site/. "$TMP/site/"
find "$TMP/site" -name '*.html' -exec sed -i \
    -e "s#127\.0\.0\.1:8080#127.0.0.1:$CPORT#g" \
    -e "s#localhost%3A8000#localhost%3A$WPORT#g" -e "s#localhost:8000#localhost:$WPORT#g" {} +

# bg NAME CMD...: starts CMD with its output in $TMP/NAME.log.
bg() {
    local name=$1
    shift
    "$@" >"$TMP/$name.log" 2>&1 &
    PIDS="$! $PIDS"
}
ready() {
    local what=$1 pid=$2
    shift 2
    sh scripts/stack.sh ready "$pid" 15 "$@" || { tail -n 20 "$TMP/$what.log" >&2; fail "$what did not become ready"; }
}

bg redis sh scripts/stack.sh redis "$TMP"
ready redis "${PIDS%% *}" redis-cli -s "$SOCK" ping
sh scripts/stack.sh check "$TMP/haze.ini" "$BIN" 2>"$TMP/check.log" ||
    { cat "$TMP/check.log" >&2; fail "the test configuration is rejected"; }
bg dashboard sh scripts/stack.sh daemon dashboard "$TMP/haze.ini" "$BIN"
DASH_PID=${PIDS%% *}
bg aggregator sh scripts/stack.sh daemon aggregator "$TMP/haze.ini" "$BIN"
AGG_PID=${PIDS%% *}
bg collector sh scripts/stack.sh daemon collector "$TMP/haze.ini" "$BIN"
COL_PID=${PIDS%% *}
bg demo python3 -u tests/demo/serve.py --bind 127.0.0.1 --directory "$TMP/site" "$WPORT"
DEMO_PID=${PIDS%% *}
ready collector "$COL_PID" curl -fsS "http://127.0.0.1:$CPORT/healthz"
ready dashboard "$DASH_PID" curl -fsS "http://127.0.0.1:$DPORT/privacy.json"
ready demo "$DEMO_PID" curl -fsS "http://127.0.0.1:$WPORT/"
kill -0 "$AGG_PID" 2>/dev/null || { tail -n 20 "$TMP/aggregator.log" >&2; fail "aggregator exited at start-up"; }

# ------------------------------------------------------------ the test

HZ_E2E_MODULES=$E2E/node_modules HZ_E2E_CHROMIUM=$CHROMIUM HZ_E2E_TMP=$TMP \
HZ_E2E_DEMO=http://localhost:$WPORT HZ_E2E_COLLECTOR=http://127.0.0.1:$CPORT \
HZ_E2E_DASHBOARD=http://127.0.0.1:$DPORT HZ_E2E_TOKEN=$TOKEN HZ_E2E_SITE=$SITE \
HZ_E2E_LOADGEN=$LOADGEN HZ_E2E_LOADGEN_SITE=printshop.example \
    node tests/e2e/e2e.mjs
rc=$?
echo "== the official plausible-tracker package against haze"
HZ_TRACKER_MODULES=$TRK/node_modules HZ_TRACKER_SITE=tracker.example \
HZ_E2E_COLLECTOR=http://127.0.0.1:$CPORT HZ_E2E_DASHBOARD=http://127.0.0.1:$DPORT \
HZ_E2E_TOKEN=$TOKEN node tests/e2e/plausible-tracker.mjs || rc=1
if [ $rc -ne 0 ]; then
    for l in collector aggregator dashboard; do
        echo "---- last lines of $l's log"
        tail -n 15 "$TMP/$l.log"
    done
fi

# The dashboard's own browser test (layout, XSS, CSP), with the same
# playwright-core; `make check` reaches tests/e2e only through this script.
if [ -f tests/e2e/dash.sh ]; then
    echo "== dashboard browser test (tests/e2e/dash.sh)"
    HZ_PLAYWRIGHT_DIR=$E2E sh tests/e2e/dash.sh || rc=1
fi
# Goals, page groups, demand by region, the heatmap and click-to-filter.
if [ -f tests/e2e/insights.sh ]; then
    echo "== insights panels browser test (tests/e2e/insights.sh)"
    HZ_PLAYWRIGHT_DIR=$E2E sh tests/e2e/insights.sh || rc=1
fi
exit $rc
