#!/bin/sh
# SPDX-License-Identifier: MIT
# replay.sh - the collector's /api/event latency while it replays its spool
# and across a salt change (UTC midnight), against a quiet run (not a timed
# test; tests/bench/run.sh's section "replay").
#
#   quiet    wrk (-c CONNS, D seconds) against a collector with Redis up
#   replay   Redis paused while REPLAY_HITS hits are taken into the spools,
#            then resumed: wrk measures while the spools are replayed (the
#            replay's length is measured too, by polling /metrics)
#   salt     the collector started 5 s before UTC midnight on its own clock
#            (tests/bench/clockshift.c, LD_PRELOAD): wrk measures across the
#            day change, when the salts roll over and the next day's is
#            fetched
# Each of quiet and replay is measured twice: with wrk's closed loop (CONNS
# connections, each sending again as soon as it is answered: the machine
# flat out) and paced (PACED_CONNS connections, each waiting PACE_MS after
# an answer: a steady rate the collector takes with room to spare, so the
# p99 shows what the replay does to a hit rather than how a saturated
# 2-core machine schedules wrk, the workers and Redis; README, "Replay
# latency"). The paced figures are printed with a "paced_" prefix.
# Prints "name value" lines: quiet_p99_ms, replay_p99_ms, replay_s,
# replay_hits, replay_left (still spooled when wrk stopped: a thread that
# takes hits replays at its own pace, README "When Redis is down"),
# replay_peak (the most entries spooled while it drained: hits spooled
# while the replay waits for the duplicate search), replay_dup_scanned
# (stream entries the duplicate search read), quiet_cpu_us and replay_cpu_us (the CPU time of the
# collector and Redis during wrk's run, per request answered: less noisy
# than a p99 on a shared machine), salt_p99_ms, salt_days (salts in Redis after the change: 3 =
# yesterday's, today's, tomorrow's).
#
#   sh tests/bench/replay.sh     env: HZ_BIN, D (seconds, 8), CONNS (16),
#                                PACED_CONNS (32), PACE_MS (4),
#                                REPLAY_HITS (100000), SALT (1; 0 skips the
#                                salt run), KEEP (a folder that keeps wrk's
#                                reports and the collector's log)
set -u
bindir=${HZ_BIN:-bin}
d=${D:-8}
conns=${CONNS:-16}
pconns=${PACED_CONNS:-32}
pace=${PACE_MS:-4}
want=${REPLAY_HITS:-100000}
cc=${CC:-cc}
[ -x "$bindir/haze-collector" ] || { echo "replay.sh: build $bindir/haze-collector first"; exit 1; }
command -v wrk >/dev/null || { echo "replay.sh: wrk is required"; exit 1; }
tmp=$(mktemp -d /tmp/haze-bench-replay.XXXXXX)
rpid= cpid= wpid=
stop_pid() { [ -n "$1" ] && kill -CONT "$1" 2>/dev/null; [ -n "$1" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; }
cleanup() {
    stop_pid "$wpid"
    stop_pid "$cpid"
    stop_pid "$rpid"
    [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$tmp"/*.txt "$tmp"/collector.log "$KEEP"/ 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

$cc -shared -fPIC -O2 -o "$tmp/clockshift.so" tests/bench/clockshift.c -ldl || exit 1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port 0 --unixsocket "$tmp/r.sock" --unixsocketperm 700 --dir "$tmp" --save '' \
    --appendonly no --daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
rpid=$!
i=0
until redis-cli -s "$tmp/r.sock" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "replay.sh: redis did not start"; exit 1; }; sleep 0.05
done
geo=${HZ_BUILD:-build/release}/testdata/haze-test-city.mmdb
[ -f "$geo" ] || perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv "$tmp/geo.mmdb"
[ -f "$geo" ] || geo=$tmp/geo.mmdb
cat >"$tmp/haze.ini" <<INI
[redis]
address = unix:$tmp/r.sock
stream = bench:replay
maxlen = 1000000
[collector]
user = root
listen = 127.0.0.1:$port
spool_dir = $tmp/spool
spool_max_mb = 512
[geo]
database = $geo
[site shop.example]
timezone = UTC
INI

collector() { # collector [ENV...]: starts it, waits for /healthz
    env "$@" "$bindir/haze-collector" -c "$tmp/haze.ini" >>"$tmp/collector.log" 2>&1 &
    cpid=$!
    i=0
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 200 ] || { echo "replay.sh: collector did not start"; cat "$tmp/collector.log"; exit 1; }
        sleep 0.05
    done
}
metric() { curl -fsS "http://127.0.0.1:$port/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
p99() { # p99 FILE: wrk --latency's 99% line, in ms
    awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.2f\n", v }' "$1"
}
cpu() { # cpu: CPU ticks of the collector and Redis so far
    cat "/proc/$cpid/stat" "/proc/$rpid/stat" | awk '{ t += $14 + $15 } END { print t }'
}
cpu_per_hit() { # cpu_per_hit TICKS0 TICKS1 WRK-OUT: microseconds per request
    awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" '$2 == "requests" && $3 == "in" {
         printf "%.1f\n", (b - a) * 1e6 / hz / $1 }' "$3"
}
measure() { # measure OUT [paced]: wrk for d seconds
    if [ "${2:-}" = paced ]; then
        REPLAY_PACE_MS=$pace wrk -t1 -c"$pconns" -d"${d}s" --latency -s tests/bench/replay.lua \
            "http://127.0.0.1:$port/api/event" >"$1" 2>&1
    else
        wrk -t1 -c"$conns" -d"${d}s" --latency -s tests/bench/replay.lua "http://127.0.0.1:$port/api/event" >"$1" 2>&1
    fi
}

# quiet
collector
for mode in closed paced; do
    pre=; [ $mode = paced ] && pre=paced_
    c0=$(cpu)
    measure "$tmp/${pre}quiet.txt" $mode
    c1=$(cpu)
    echo "${pre}quiet_p99_ms $(p99 "$tmp/${pre}quiet.txt")"
    echo "${pre}quiet_cpu_us $(cpu_per_hit "$c0" "$c1" "$tmp/${pre}quiet.txt")"
done

# replay MODE: fill the spools with Redis paused, resume it, measure
replay() {
    pre=; [ "$1" = paced ] && pre=paced_
    kill -STOP "$rpid"
    wrk -t1 -c32 -d300s -s tests/bench/replay.lua "http://127.0.0.1:$port/api/event" >/dev/null 2>&1 &
    wpid=$!
    while [ "$(metric haze_spool_entries)" -lt "$want" ]; do sleep 0.2; done
    kill "$wpid"; wait "$wpid" 2>/dev/null; wpid=
    sleep 1 # the connections settle
    spooled=$(metric haze_spool_entries)
    scanned0=$(metric haze_dup_scanned_total)
    kill -CONT "$rpid"
    t0=$(date +%s.%N)
    c0=$(cpu)
    : >"$tmp/${pre}drain.txt"
    measure "$tmp/${pre}replay.txt" "$1" &
    wpid=$!
    t1=
    while kill -0 "$wpid" 2>/dev/null; do
        e=$(metric haze_spool_entries)
        echo "$(date +%s.%N) $e" >>"$tmp/${pre}drain.txt"
        [ -z "$t1" ] && [ "$e" = 0 ] && t1=$(date +%s.%N)
        sleep 0.1
    done
    wait "$wpid"; wpid=
    c1=$(cpu)
    left=$(metric haze_spool_entries)
    while [ -z "$t1" ]; do [ "$(metric haze_spool_entries)" = 0 ] && t1=$(date +%s.%N); sleep 0.1; done
    echo "${pre}replay_hits $spooled"
    echo "${pre}replay_left $left"
    echo "${pre}replay_s $(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')"
    echo "${pre}replay_p99_ms $(p99 "$tmp/${pre}replay.txt")"
    echo "${pre}replay_cpu_us $(cpu_per_hit "$c0" "$c1" "$tmp/${pre}replay.txt")"
    echo "${pre}replay_peak $(awk '$2 > m { m = $2 } END { print m + 0 }' "$tmp/${pre}drain.txt")"
    echo "${pre}replay_dup_scanned $(($(metric haze_dup_scanned_total) - scanned0))"
}
replay closed
replay paced
stop_pid "$cpid"; cpid=
[ "${SALT:-1}" = 0 ] && exit 0

# salt: 5 s before the next UTC midnight on the collector's clock
start_ms=$(( ($(date +%s) / 86400 + 1) * 86400 * 1000 - 5000 ))
redis-cli -s "$tmp/r.sock" --scan --pattern 'haze:salt:*' | while read -r k; do redis-cli -s "$tmp/r.sock" del "$k" >/dev/null; done
collector LD_PRELOAD="$tmp/clockshift.so" HZ_FAKE_START_MS="$start_ms"
measure "$tmp/salt.txt"
echo "salt_p99_ms $(p99 "$tmp/salt.txt")"
echo "salt_days $(redis-cli -s "$tmp/r.sock" --scan --pattern 'haze:salt:*' | wc -l)"
