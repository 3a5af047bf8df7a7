#!/bin/bash
# SPDX-License-Identifier: MIT
# soak.sh - `make soak`: haze under steady traffic for a fixed time while
# faults are injected at random moments, each several times; then checks
# that every hit answered 2xx was counted exactly once and nothing else was.
#
# Everything runs on this machine, on loopback and unix sockets, in a
# temporary folder: redis-server with the recommended persistence
# (appendonly yes, appendfsync always), haze-aggregator, haze-collector,
# haze-dashboard, haze-loadgen, and a witness that follows the stream
# (tests/soak/audit.c). Every process is started here and stopped by pid.
#
# Faults:
#   agg-kill        kill -9 of the aggregator, restarted
#   redis-kill      kill -9 of Redis with XADDs in flight, restarted from its AOF
#   redis-pause     Redis stopped (SIGSTOP) longer than redis_timeout_ms, then SIGCONT
#   collector-term  SIGTERM of the collector (it must exit 0), restarted
#   spool-full      Redis paused while a burst fills the spool's disk (a small
#                   tmpfs when this runs as root and may mount, else the
#                   spool_max_mb limit): 503s, no crash
#   dash-compact    the aggregator compacts (SIGUSR1) while the dashboard is
#                   restarted; the dashboard must answer afterwards
#
# At the end: hits answered 2xx (haze-loadgen's tally by kind) against the
# stream (every hit id exactly once) and against LMDB (pageviews and custom
# events); every process up; with an ASan build (the default), no sanitizer
# report. Prints a table and writes it to $SOAK_OUT/soak.md.
#
# Environment: SOAK_SECONDS (steady traffic, default 600), SOAK_RATE (hits/s,
# default 150), SOAK_EACH (injections per fault, default 2 + SOAK_SECONDS/300),
# SOAK_SEED (default random), SOAK_OUT (default build/soak), HZ_BIN and
# HZ_BUILD (binaries; the Makefile sets them), SOAK_ASAN (1: the binaries are
# sanitizer builds, check their reports), SOAK_KEEP=1 keeps the folder.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BIN=${HZ_BIN:-bin}
BUILD=${HZ_BUILD:-build/release}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECONDS_TOTAL=${SOAK_SECONDS:-600}
RATE=${SOAK_RATE:-150}
EACH=${SOAK_EACH:-$((2 + SECONDS_TOTAL / 300))}
SEED=${SOAK_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
OUT=${SOAK_OUT:-build/soak}
ASAN=${SOAK_ASAN:-0}
AUDIT=$BUILD/tests/soak_audit
FAULTS="agg-kill redis-kill redis-pause collector-term spool-full dash-compact"

say() { printf 'soak: %s\n' "$*"; }
die() { printf 'soak: %s\n' "$*" >&2; exit 1; }

for b in haze-collector haze-aggregator haze-dashboard haze-loadgen; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (make soak builds it)"
done
[ -x "$AUDIT" ] || die "$AUDIT is missing (make soak builds it)"
for c in redis-server redis-cli curl python3; do
    command -v "$c" >/dev/null 2>&1 || die "$c is not installed (make deps)"
done
mkdir -p "$OUT"
RANDOM=$SEED

T=$(mktemp -d /tmp/haze-soak.XXXXXX) || die "mktemp failed"
mkdir -p "$T/redis" "$T/db" "$T/spool" "$T/san" "$T/log"
SOCK=$T/redis/redis.sock
TMPFS=0
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256k,mode=0700 tmpfs "$T/spool" 2>/dev/null; then
    TMPFS=1
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
CPORT=$(free_port)
DPORT=$(free_port)
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

cat >"$T/haze.ini" <<EOF
[redis]
address = unix:$SOCK
stream = haze:soak

[collector]
user = root
listen = 127.0.0.1:$CPORT
trusted_proxies = 127.0.0.1/8 ::1
spool_dir = $T/spool
spool_max_mb = 1
redis_timeout_ms = 300
threads = 2

[geo]
database = $T/geo.mmdb

[aggregator]
user = root
lmdb = $T/db
keep_applied_seconds = 120
retention_days = 400
session_minutes = 30

[dashboard]
user = root
listen = 127.0.0.1:$DPORT
token = $TOKEN
min_visitors = 1

[site localhost]
timezone = UTC
funnel = checkout: /products/* > /cart > /checkout > /thanks
EOF
if [ -f "$BUILD/testdata/haze-test-city.mmdb" ]; then
    cp "$BUILD/testdata/haze-test-city.mmdb" "$T/geo.mmdb"
else
    perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv "$T/geo.mmdb" || die "no geo fixture"
fi

export ASAN_OPTIONS="log_path=$T/san/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$T/san/ubsan:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"

declare -A PID
UNEXPECTED=""

start() { # start NAME CMD...
    local name=$1
    shift
    setsid "$@" >>"$T/log/$name.log" 2>&1 &
    PID[$name]=$!
}
alive() { [ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }
RC=0
stop() { # stop NAME [SIG]: by pid, waits up to 15 s; the exit status in RC
    local name=$1 sig=${2:-TERM} p=${PID[$1]:-} i
    RC=0
    [ -n "$p" ] || return 0
    kill -"$sig" "$p" 2>/dev/null
    for i in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    RC=$?
    PID[$name]=""
}
cleanup() {
    local n
    for n in burst loadgen collector aggregator dashboard audit redis; do
        [ -n "${PID[$n]:-}" ] && kill -CONT "${PID[$n]}" 2>/dev/null
        [ -n "${PID[$n]:-}" ] && stop "$n"
    done
    [ "$TMPFS" = 1 ] && umount "$T/spool" 2>/dev/null
    if [ "${SOAK_KEEP:-0}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

redis_start() {
    start redis redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --dir "$T/redis" \
        --save '' --appendonly yes --appendfsync always --daemonize no --loglevel warning
    local i
    for i in $(seq 200); do
        redis-cli -s "$SOCK" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    die "redis-server did not start"
}
wait_http() { # wait_http URL: up to 20 s
    local i
    for i in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
collector_start() {
    start collector "$BIN/haze-collector" -c "$T/haze.ini"
    wait_http "http://127.0.0.1:$CPORT/healthz" || UNEXPECTED="$UNEXPECTED collector-did-not-start"
}
dashboard_start() {
    start dashboard "$BIN/haze-dashboard" -c "$T/haze.ini"
    wait_http "http://127.0.0.1:$DPORT/privacy.json" || UNEXPECTED="$UNEXPECTED dashboard-did-not-start"
}
metric() { curl -fsS "http://127.0.0.1:$CPORT/metrics" 2>/dev/null | awk -v k="$1" '$1 == k {print $2}'; }

# ------------------------------------------------------------------ run

say "folder $T, seed $SEED, ${SECONDS_TOTAL}s at $RATE hits/s, each fault $EACH times," \
    "spool on $([ "$TMPFS" = 1 ] && echo 'a 256 KB tmpfs' || echo 'disk, spool_max_mb = 1')"
redis_start
start aggregator "$BIN/haze-aggregator" -c "$T/haze.ini"
collector_start
dashboard_start
start audit "$AUDIT" stream "unix:$SOCK" haze:soak "$T/stream.txt"
start loadgen bash -c 'exec "$0" "$@" >"'"$T/loadgen.json"'"' "$BIN/haze-loadgen" \
    -u "http://127.0.0.1:$CPORT" -S localhost -d "$SECONDS_TOTAL" -r "$RATE" -c 16 -s "$SEED" --totals -q

# The schedule: every fault EACH times, shuffled, at random moments in
# [5 s, SOAK_SECONDS - 15 s].
plan=()
for f in $FAULTS; do for i in $(seq "$EACH"); do plan+=("$f"); done; done
for ((i = ${#plan[@]} - 1; i > 0; i--)); do
    j=$((RANDOM % (i + 1)))
    tmp=${plan[$i]} plan[$i]=${plan[$j]} plan[$j]=$tmp
done
span=$((SECONDS_TOTAL - 20))
[ "$span" -gt 10 ] || die "SOAK_SECONDS is too short for the faults"
gap=$((span * 1000 / ${#plan[@]}))

declare -A DONE EFFECT
for f in $FAULTS; do DONE[$f]=0; EFFECT[$f]=""; done
t_start=$(date +%s)
sleep 5
nburst=0
for f in "${plan[@]}"; do
    # a random moment within this fault's share of the run
    sleep "$(awk -v g="$gap" -v r="$RANDOM" 'BEGIN { printf "%.3f", g * (0.3 + 0.6 * r / 32767) / 1000 }')"
    case $f in
    agg-kill)
        kill -KILL "${PID[aggregator]}" 2>/dev/null
        wait "${PID[aggregator]}" 2>/dev/null
        sleep 0.$((RANDOM % 9 + 1))
        start aggregator "$BIN/haze-aggregator" -c "$T/haze.ini"
        ;;
    redis-kill)
        kill -KILL "${PID[redis]}" 2>/dev/null
        wait "${PID[redis]}" 2>/dev/null
        sleep 0.$((RANDOM % 9 + 1))
        redis_start
        ;;
    redis-pause)
        kill -STOP "${PID[redis]}"
        sleep "1.$((RANDOM % 9))"
        kill -CONT "${PID[redis]}"
        ;;
    collector-term)
        stop collector TERM
        [ "$RC" = 0 ] || UNEXPECTED="$UNEXPECTED collector-exit-$RC"
        collector_start
        ;;
    spool-full)
        nburst=$((nburst + 1))
        kill -STOP "${PID[redis]}"
        # Redis comes back 6 s after the pause whatever the burst is doing:
        # hits whose XADD was written before the spool filled wait for its
        # late reply (it may still run, so they are not answered 503), and
        # resuming only after haze-loadgen exits would let them pass its
        # 10 s timeout: counted, with the client gone before its 2xx.
        (sleep 6; kill -CONT "${PID[redis]}") &
        resume=$!
        "$BIN/haze-loadgen" -u "http://127.0.0.1:$CPORT" -S localhost -d 5 -c 64 \
            -s $((SEED + 1000 + nburst)) --totals -q >"$T/burst-$nburst.json" 2>>"$T/log/burst.log"
        wait "$resume"
        kill -CONT "${PID[redis]}"
        n503=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['responses']['counted']['non_2xx'].get('503', 0))" "$T/burst-$nburst.json" 2>/dev/null)
        EFFECT[$f]="${EFFECT[$f]}${EFFECT[$f]:+, }${n503:-?} x 503"
        alive collector || UNEXPECTED="$UNEXPECTED collector-died-on-full-spool"
        ;;
    dash-compact)
        kill -USR1 "${PID[aggregator]}" 2>/dev/null
        sleep 0.0$((RANDOM % 9))
        stop dashboard TERM
        [ "$RC" = 0 ] || UNEXPECTED="$UNEXPECTED dashboard-exit-$RC"
        dashboard_start
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
            "http://127.0.0.1:$DPORT/api/v1/stats/aggregate?site_id=localhost&period=day&metrics=pageviews")
        [ "$code" = 200 ] || UNEXPECTED="$UNEXPECTED dashboard-answered-$code"
        ;;
    esac
    DONE[$f]=$((DONE[$f] + 1))
    for p in redis aggregator collector dashboard audit; do
        if ! alive "$p"; then
            UNEXPECTED="$UNEXPECTED $p-died-after-$f"
            case $p in
            redis) redis_start ;;
            aggregator) start aggregator "$BIN/haze-aggregator" -c "$T/haze.ini" ;;
            collector) collector_start ;;
            dashboard) dashboard_start ;;
            esac
        fi
    done
    say "$(($(date +%s) - t_start))s: $f (${DONE[$f]}/$EACH)"
done

# ------------------------------------------------------------------ settle

wait "${PID[loadgen]}"
PID[loadgen]=""
say "traffic done; waiting for the spools and the aggregator"
for i in $(seq 600); do
    sp=$(metric haze_spool_entries)
    # Everything delivered: the group's last-delivered-id is the stream's
    # last-generated-id (XINFO's "lag" is only an estimate after Redis
    # restarts from its AOF: it stayed at 4970 with nothing left to read).
    groups=$(redis-cli -s "$SOCK" XINFO GROUPS haze:soak 2>/dev/null)
    pend=$(printf '%s\n' "$groups" | awk 'p {print; exit} $0 == "pending" {p = 1}')
    got=$(printf '%s\n' "$groups" | awk 'p {print; exit} $0 == "last-delivered-id" {p = 1}')
    top=$(redis-cli -s "$SOCK" XINFO STREAM haze:soak 2>/dev/null | awk 'p {print; exit} $0 == "last-generated-id" {p = 1}')
    [ "${sp:-1}" = 0 ] && [ -n "$got" ] && [ "$got" = "$top" ] && [ "${pend:-1}" = 0 ] && break
    sleep 0.5
done
sleep 2
stop audit TERM
for p in redis aggregator collector dashboard; do
    alive "$p" || UNEXPECTED="$UNEXPECTED $p-down-at-end"
done
"$AUDIT" lmdb "$T/db" localhost >"$T/lmdb.txt" || UNEXPECTED="$UNEXPECTED lmdb-unreadable"
# Stop in order; their exits flush the sanitizer reports.
for p in collector aggregator dashboard; do
    stop "$p" TERM
    [ "$RC" = 0 ] || UNEXPECTED="$UNEXPECTED $p-exit-$RC-at-end"
done
stop redis TERM

# ------------------------------------------------------------------ verdict

san=""
if [ "$ASAN" = 1 ]; then
    san=$(grep -lE 'ERROR: |runtime error' "$T"/san/* 2>/dev/null | head -5)
fi
python3 - "$T" "$OUT/soak.md" "$SECONDS_TOTAL" "$RATE" "$EACH" "$SEED" "$TMPFS" "$ASAN" \
    "${UNEXPECTED# }" "$san" "$(for f in $FAULTS; do printf '%s=%s=%s;' "$f" "${DONE[$f]}" "${EFFECT[$f]}"; done)" <<'EOF'
import glob, json, sys
T, out, secs, rate, each, seed, tmpfs, asan, unexpected, san, faults = sys.argv[1:12]

def kv(path):
    d = {}
    for line in open(path):
        k, v = line.split()
        d[k] = int(v)
    return d

docs = [json.load(open(T + "/loadgen.json"))] + [json.load(open(p)) for p in sorted(glob.glob(T + "/burst-*.json"))]
ok = {"pageview": 0, "engagement": 0, "event": 0}
sent = two = 0
for d in docs:
    c = d["responses"]["counted"]
    k = c["ok_by_kind"]
    ok["pageview"] += k["pageview"] + k["pixel"]
    ok["engagement"] += k["engagement"]
    ok["event"] += k["event"]
    two += c["ok"]
    sent += c["ok"] + c["errors"] + sum(c["non_2xx"].values())
st = kv(T + "/stream.txt")
lm = kv(T + "/lmdb.txt")
stream_total = st["pageview"] + st["engagement"] + st["event"]
# lost: answered 2xx, missing from the stream or from LMDB; duplicated: a hit
# id twice in the stream, or LMDB counting more than the stream holds;
# extra: in the stream (a unique id) although not answered 2xx.
lost = dup = extra = 0
for kind in ("pageview", "engagement", "event"):
    lost += max(0, ok[kind] - st[kind])
    extra += max(0, st[kind] - ok[kind])
dup += st["duplicated"]
for kind in ("pageview", "event"):
    lost += max(0, min(ok[kind], st[kind]) - lm[kind])
    dup += max(0, lm[kind] - st[kind])

lines = []
lines.append("| fault | times injected | effect |")
lines.append("|---|---:|---|")
names = {"agg-kill": "`kill -9` of the aggregator", "redis-kill": "`kill -9` of Redis (XADDs in flight), restart from AOF",
         "redis-pause": "Redis paused 1-2 s (> `redis_timeout_ms` 300 ms)", "collector-term": "SIGTERM and restart of the collector",
         "spool-full": "spool disk full (" + ("256 KB tmpfs" if tmpfs == "1" else "spool_max_mb = 1") + ") while Redis is paused",
         "dash-compact": "dashboard restarted while the aggregator compacts"}
for item in faults.strip(";").split(";"):
    f, n, eff = item.split("=", 2)
    lines.append("| %s | %s | %s |" % (names.get(f, f), n, eff or "-"))
lines.append("")
lines.append("| hits sent | answered 2xx | in the stream | counted in LMDB: pageviews, events (2xx) | lost | duplicated | counted without 2xx |")
lines.append("|---:|---:|---:|---:|---:|---:|---:|")
lines.append("| %d | %d | %d | %d, %d (%d, %d) | %d | %d | %d |" % (
    sent, two, stream_total, lm["pageview"], lm["event"], ok["pageview"], ok["event"], lost, dup, extra))
lines.append("")
problems = []
if lost or dup or extra:
    problems.append("%d lost, %d duplicated, %d counted without 2xx" % (lost, dup, extra))
if two != ok["pageview"] + ok["engagement"] + ok["event"]:
    problems.append("loadgen's 2xx by kind do not add up")
if st["no_id"]:
    problems.append("%d stream entries without a hit id" % st["no_id"])
if unexpected:
    problems.append("processes: " + unexpected)
if san:
    problems.append("sanitizer reports: " + san)
lines.append("%s s of traffic at %s hits/s (seed %s), each fault %s times; %s build. Verdict: %s" % (
    secs, rate, seed, each, "ASan+UBSan" if asan == "1" else "release",
    "PASS" if not problems else "FAIL (" + "; ".join(problems) + ")"))
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text)
sys.exit(1 if problems else 0)
EOF
rc=$?
if [ "$rc" != 0 ] && [ -n "$san" ]; then head -40 $san; fi
exit $rc
