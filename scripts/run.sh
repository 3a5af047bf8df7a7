#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh - `make run`: the whole of haze on this machine, in the foreground.
#
# On first run it writes run/haze.ini (a demo site "localhost", a checkout
# funnel, a random dashboard token) and run/geo.mmdb (from the project's geo
# fixture, no download). Then it starts, each with its own log prefix:
# redis-server on a unix socket in run/ (never the system service, no TCP
# port), haze-aggregator, haze-collector (127.0.0.1:8080), haze-dashboard
# (127.0.0.1:8081), the demo shop (127.0.0.1:8000), and haze-loadgen, which
# plays a burst of visits and then a few minutes of steady traffic.
# Ctrl-C (or SIGTERM) stops everything it started, by pid, in order, and
# exits 0: that is how a run ends.
#
# Knobs (environment): HAZE_RUN_MINUTES (steady traffic, default 3; 0 = none),
# HAZE_RUN_RATE (hits/s, default 8), HAZE_RUN_BURST (visits, default 400),
# HAZE_RUN_SEED (default random).

# The log prefixes and the process bookkeeping need bash (Debian has it).
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -u -o pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BIN=${HZ_BIN:-bin}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
RUN=$ROOT/run
INI=$RUN/haze.ini
SOCK=$RUN/redis.sock
COLLECTOR_PORT=8080
DASHBOARD_PORT=8081
DEMO_PORT=8000
MINUTES=${HAZE_RUN_MINUTES:-3}
RATE=${HAZE_RUN_RATE:-8}
BURST=${HAZE_RUN_BURST:-400}
SEED=${HAZE_RUN_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

NAMES=()
PIDS=()
STOPPING=0

say() { printf 'run: %s\n' "$*"; }
die() { printf 'run: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ checks

for b in haze-collector haze-aggregator haze-dashboard haze-loadgen; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing: build it with \`make\` (it may not be merged yet)"
done
for c in redis-server python3 curl perl; do
    command -v "$c" >/dev/null 2>&1 || die "$c is not installed: run \`make deps\` (as root)"
done
[ ${#SOCK} -lt 100 ] || die "the checkout path is too long for a unix socket ($SOCK); clone it somewhere shorter"

# A port is free when we can bind it (with SO_REUSEADDR, as the daemons do,
# so a connection in TIME_WAIT does not count as taken).
port_taken() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}
taken=""
for p in "$COLLECTOR_PORT:collector" "$DASHBOARD_PORT:dashboard" "$DEMO_PORT:demo site"; do
    if port_taken "${p%%:*}"; then
        taken="$taken
  port ${p%%:*} (the ${p#*:}) is already in use"
    fi
done
if [ -n "$taken" ]; then
    printf 'run: cannot start:%s\n' "$taken" >&2
    if command -v ss >/dev/null 2>&1; then
        printf 'run: see which process holds it with: ss -ltnp | grep -E ":(%s|%s|%s) "\n' \
            "$COLLECTOR_PORT" "$DASHBOARD_PORT" "$DEMO_PORT" >&2
    fi
    exit 1
fi
if [ -S "$SOCK" ]; then
    if redis-cli -s "$SOCK" ping >/dev/null 2>&1; then
        die "another \`make run\` is already using $SOCK; stop it first"
    fi
    rm -f "$SOCK"
fi

# ------------------------------------------------------------------ first run

mkdir -p "$RUN/db" "$RUN/spool"
chmod 700 "$RUN"

# The site's time zone decides what "today" is on the dashboard: use this
# machine's, when it names a zone haze can load.
site_tz() {
    local tz=""
    if [ -n "${TZ:-}" ] && [ -f "/usr/share/zoneinfo/${TZ#:}" ]; then
        tz=${TZ#:}
    elif [ -r /etc/timezone ]; then
        tz=$(head -n1 /etc/timezone)
    elif [ -L /etc/localtime ]; then
        tz=$(readlink /etc/localtime | sed 's#.*/zoneinfo/##')
    fi
    case $tz in "" | *..* | /*) tz=UTC ;; esac
    [ -f "/usr/share/zoneinfo/$tz" ] || tz=UTC
    printf '%s\n' "$tz"
}

if [ ! -f "$INI" ]; then
    token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    umask 077
    cat >"$INI" <<EOF
; haze.ini for \`make run\`, written by scripts/run.sh on first run.
; Edit freely; delete it (or the whole run/ folder) to start over.
; Relative paths are relative to the repository root (run.sh starts every
; daemon there). The redis socket must be an absolute path.

[redis]
address = unix:$SOCK
stream = haze:events

[collector]
user = root
listen = 127.0.0.1:$COLLECTOR_PORT
; haze-loadgen sends visitors' addresses in X-Forwarded-For from 127.0.0.1
trusted_proxies = 127.0.0.1/8 ::1
honor_dnt = yes
spool_dir = run/spool

[geo]
; generated from tests/data/geo-fixture.tsv (documentation address ranges)
database = run/geo.mmdb

[aggregator]
user = root
lmdb = run/db
retention_days = 400
session_minutes = 30

[dashboard]
user = root
listen = 127.0.0.1:$DASHBOARD_PORT
token = $token
min_visitors = 5

; The demo shop (tests/demo/site) on http://localhost:$DEMO_PORT/ and the
; load generator both report to this site.
[site localhost]
aliases = 127.0.0.1
timezone = $(site_tz)
funnel = checkout: /products/* > /cart > /checkout > /thanks
; Page groups (event:group), goals (event:goal, conversion_rate) and the
; declared pairs that answer questions across two properties (README,
; "Groups, goals and cross-tabs"). haze-loadgen gives regions their tastes.
group = Business cards: /products/business-cards*, /designer*
group = Flyers: /products/flyers*, /products/brochures*
group = Posters: /products/posters*, /products/banners*
group = Stickers: /products/stickers*
group = Stationery: /products/postcards*, /products/letterheads*
group = Blog: /blog/*
goal = /thanks*
goal = Signup
crosstab = event:group x visit:region
crosstab = visit:source x event:page
crosstab = event:goal x visit:source
funnel_by = visit:device, visit:source
EOF
    umask 022
    say "wrote run/haze.ini (a new dashboard token)"
fi

# A moved checkout leaves an old absolute socket path behind: follow it.
if ! grep -qxF "address = unix:$SOCK" "$INI"; then
    if grep -q '^address = unix:.*/run/redis\.sock$' "$INI"; then
        sed -i "s#^address = unix:.*/run/redis\.sock\$#address = unix:$SOCK#" "$INI"
        say "run/haze.ini: the redis socket now points to $SOCK"
    else
        say "run/haze.ini: [redis] address is not $SOCK; using it as it is"
    fi
fi

if [ ! -f "$RUN/geo.mmdb" ] || [ tests/data/geo-fixture.tsv -nt "$RUN/geo.mmdb" ] ||
    { [ -f tests/data/make-mmdb.pl ] && [ tests/data/make-mmdb.pl -nt "$RUN/geo.mmdb" ]; }; then
    [ -f tests/data/make-mmdb.pl ] ||
        die "tests/data/make-mmdb.pl is missing (the geo fixture generator); cannot build run/geo.mmdb"
    perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv "$RUN/geo.mmdb.tmp" &&
        mv "$RUN/geo.mmdb.tmp" "$RUN/geo.mmdb" || die "could not generate run/geo.mmdb"
    say "generated run/geo.mmdb from tests/data/geo-fixture.tsv"
fi

sh scripts/stack.sh check "$INI" "$BIN" ||
    die "run/haze.ini is rejected (above; fix it, or delete it to get a fresh one)"

# ------------------------------------------------------------------ processes

if [ -t 1 ]; then COLOR=1; else COLOR=0; fi
color_of() {
    case $1 in
    redis) echo 31 ;; aggregator) echo 35 ;; collector) echo 32 ;;
    dashboard) echo 34 ;; demo) echo 33 ;; *) echo 36 ;;
    esac
}

# start NAME CMD...: runs CMD in the background with its output (stdout and
# stderr) prefixed "NAME | ", and records its pid. CMD gets a session of its
# own (setsid does not fork here: a background child is no group leader, so
# the pid stays CMD's): Ctrl-C then reaches this script only, which stops
# the processes in order. The prefixer ignores SIGINT so that it outlives
# the process whose lines it prints.
start() {
    local name=$1 tag
    shift
    tag=$(printf '%-10s |' "$name")
    if [ "$COLOR" = 1 ]; then tag=$(printf '\033[%sm%s\033[0m' "$(color_of "$name")" "$tag"); fi
    setsid "$@" > >(trap '' INT; exec sed -u "s/^/$tag /") 2>&1 &
    NAMES+=("$name")
    PIDS+=("$!")
}

pid_of() {
    local i
    for i in "${!NAMES[@]}"; do
        if [ "${NAMES[$i]}" = "$1" ]; then echo "${PIDS[$i]}"; return; fi
    done
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Stops one process: SIGTERM, up to 10 s to finish its work, then SIGKILL.
stop_one() {
    local name=$1 pid i
    pid=$(pid_of "$name")
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 100); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "$name (pid $pid) did not stop in 10 s; killing it"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

# Loadgen and demo first (no new hits), then the collector (it hands its
# last hits to Redis), the aggregator (it folds them), the dashboard, and
# Redis last.
stop_all() {
    local n
    [ "$STOPPING" = 1 ] && return
    STOPPING=1
    [ ${#PIDS[@]} -gt 0 ] || return 0
    say "stopping..."
    for n in loadgen burst demo collector aggregator dashboard redis; do
        stop_one "$n"
    done
    wait 2>/dev/null
    say "stopped. Aggregates stay in run/db (delete run/ to start over); Redis kept nothing."
}
trap 'stop_all; exit 0' INT
trap 'stop_all; exit 0' TERM
trap 'stop_all' EXIT

# wait_ready NAME CHECK...: retries CHECK for up to 15 s while NAME lives.
wait_ready() {
    local name=$1 pid i
    shift
    pid=$(pid_of "$name")
    for i in $(seq 150); do
        "$@" >/dev/null 2>&1 && return 0
        alive "$pid" || die "$name exited during start-up (its messages are above)"
        sleep 0.1
    done
    die "$name did not become ready in 15 s"
}

say "starting haze (logs below, prefixed by process; Ctrl-C stops everything)"
start redis sh scripts/stack.sh redis "$RUN"
wait_ready redis redis-cli -s "$SOCK" ping

for d in aggregator collector dashboard; do
    start "$d" sh scripts/stack.sh daemon "$d" "$INI" "$BIN"
done
start demo python3 -u tests/demo/serve.py --bind 127.0.0.1 --directory tests/demo/site "$DEMO_PORT"
wait_ready collector curl -fsS "http://127.0.0.1:$COLLECTOR_PORT/healthz"
wait_ready dashboard curl -fsS "http://127.0.0.1:$DASHBOARD_PORT/privacy.json"
wait_ready demo curl -fsS "http://127.0.0.1:$DEMO_PORT/"
alive "$(pid_of aggregator)" || die "aggregator exited during start-up (its messages are above)"

# A burst first, so that the dashboard is full on first open.
if [ "$BURST" -gt 0 ]; then
    start burst "$BIN/haze-loadgen" -u "http://127.0.0.1:$COLLECTOR_PORT" -S localhost \
        -n "$BURST" -c 32 -s "$SEED"
    wait "$(pid_of burst)" || say "the initial burst reported failures (see above)"
fi

token=$(sed -n 's/^token *= *//p' "$INI" | head -n1)
cat <<EOF

  haze is running.

    dashboard   http://127.0.0.1:$DASHBOARD_PORT/
    token       $token
    demo shop   http://localhost:$DEMO_PORT/   (click around: your visit shows up as it happens)

  Traffic: $BURST visits sent; $( [ "$MINUTES" -gt 0 ] && echo "$RATE hits/s for $MINUTES min more." || echo "no more.")
  Ctrl-C stops everything.

  This Redis is a throwaway: no AOF, no snapshots. Stopping (or a crash of
  redis-server) loses the stream (hits not yet folded) and the visit
  states; the aggregates in run/db stay. For production settings see
  README, "Reliability" (appendonly yes, appendfsync always).

EOF

if [ "$MINUTES" -gt 0 ]; then
    start loadgen "$BIN/haze-loadgen" -u "http://127.0.0.1:$COLLECTOR_PORT" -S localhost \
        -d $((MINUTES * 60)) -r "$RATE" -c 64 -t 4000 -s $((SEED + 1))
fi

# Wait for any child to end: the traffic generator ending is expected; any
# other process ending is a failure that stops the rest.
while :; do
    dead=""
    wait -n -p dead
    rc=$?
    [ -z "$dead" ] && { sleep 1; continue; }
    for i in "${!PIDS[@]}"; do
        [ "${PIDS[$i]}" = "$dead" ] || continue
        case ${NAMES[$i]} in
        loadgen | burst)
            if [ "$rc" = 0 ]; then
                say "traffic generator finished; everything else keeps running (Ctrl-C stops)"
            else
                say "traffic generator ended with status $rc (see above); the rest keeps running"
            fi
            ;;
        *)
            say "${NAMES[$i]} exited with status $rc; stopping everything"
            stop_all
            exit 1
            ;;
        esac
    done
done
