#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run.sh - `make bench`: haze measured side by side with nginx and GoAccess,
# in one run, on this machine, everything on loopback. Prints one Markdown
# table and writes it, with the detailed figures and the profiles of any
# missed target, to build/bench/results.md.
#
#   1. collector ingest: wrk against haze-collector and nginx (empty_gif and
#      `return 202`, combined access log), keep-alive and Connection: close
#   2. aggregation: tests/bench/agg.sh (the aggregator's own benchmark)
#   3. end to end: the same hits (haze-loadgen, fixed seed) through haze
#      (collector -> Redis -> aggregator -> LMDB) and through nginx's access
#      log analysed by GoAccess; and many visitors of a few pages each sent
#      by wrk (tests/bench/visitors.lua) to both, CPU and wall per hit
#   4. queries: tests/bench/dash.sh (the dashboard's own benchmark)
#   5. scaling: 1 and 2 at two sizes
#   6. user-agent classifier: tests/bench/ua.sh
#   7. collector latency while it replays its spool and across a salt
#      change: tests/bench/replay.sh
#
# Each figure is the median of BENCH_REPS runs; ratios are taken within one
# run (haze and its baseline back to back) and their median quoted. Every
# process is started here, recorded by pid and stopped by pid on exit. A
# full run takes about 25 minutes on 2 cores. Needs nginx, wrk, goaccess,
# redis-server, curl, ss, ps, /usr/bin/time; perf for the profiles.
#
# Environment (sizes; defaults in brackets, BENCH_QUICK=1 values second):
#   BENCH_QUICK=1             a ~3 minute run with the small sizes below
#   BENCH_REPS                runs per figure [3]
#   BENCH_WRK_SECONDS         wrk duration [10 | 2]
#   BENCH_WRK_SECONDS_SMALL   the smaller wrk size for scaling [5 | 1]
#   BENCH_CONNS               wrk connections [100]
#   BENCH_AGG_ENTRIES         aggregation stream size [1000000 | 100000]
#   BENCH_AGG_ENTRIES_SMALL   the smaller one for scaling [250000 | 25000]
#   BENCH_E2E_HITS            end-to-end hits [1000000 | 50000]
#   BENCH_E2E_REPS            end-to-end runs [BENCH_REPS]
#   BENCH_ING_REPS            ingest runs at BENCH_WRK_SECONDS [5; BENCH_REPS
#                             when that is set]: their ratios vary most
#   BENCH_SEED                haze-loadgen seed [42]
#   BENCH_PROFILE=0           do not profile missed targets
#   BENCH_ONLY="ua ingest agg e2e dash replay"   run only these sections
#   BENCH_REPLAY_HITS         spooled hits replayed in section 7 [100000]
#   BENCH_OUT                 output folder [build/bench]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/bench/lib.sh

BIN=${HZ_BIN:-bin}
OUT=${BENCH_OUT:-build/bench}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    d_wrk=2 d_wrk_small=1 d_agg=100000 d_agg_small=25000 d_e2e=50000
else
    d_wrk=10 d_wrk_small=5 d_agg=1000000 d_agg_small=250000 d_e2e=1000000
fi
REPS=${BENCH_REPS:-3}
WRK_D=${BENCH_WRK_SECONDS:-$d_wrk}
WRK_D_SMALL=${BENCH_WRK_SECONDS_SMALL:-$d_wrk_small}
CONNS=${BENCH_CONNS:-100}
AGG_N=${BENCH_AGG_ENTRIES:-$d_agg}
AGG_N_SMALL=${BENCH_AGG_ENTRIES_SMALL:-$d_agg_small}
E2E_HITS=${BENCH_E2E_HITS:-$d_e2e}
E2E_REPS=${BENCH_E2E_REPS:-$REPS}
ING_REPS=${BENCH_ING_REPS:-${BENCH_REPS:-5}}
SEED=${BENCH_SEED:-42}
PROFILE=${BENCH_PROFILE:-1}
ONLY=${BENCH_ONLY:-ua ingest agg e2e dash replay}

SITE=shop.example
STREAM=haze:events
GROUP=haze-aggregator
TOKEN=bench-token-0123456789abcdef
# A current Chrome on Windows, and a client address in the geo fixture (the
# collector trusts X-Forwarded-For from 127.0.0.1), so every hit runs the
# whole pipeline: UA families, region lookup, visitor hash, XADD.
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36'
XFF=192.0.2.44
PIXEL_PATH='/p.gif?d=shop.example&u=https%3A%2F%2Fshop.example%2Fproducts%2Fbusiness-cards%3Futm_source%3Dnewsletter&r=https%3A%2F%2Fwww.google.com%2F'
LG_CONNS=64

RAW=$OUT/raw
ROWS=$OUT/.rows
DETAIL=$OUT/.detail
PROF=$OUT/.profiles
LIMITS=$OUT/.limits
MISSES=""

# ------------------------------------------------------------------ set-up

want() {
    case " $ONLY " in *" $1 "*) return 0 ;; esac
    return 1
}

# row ID MEASURE HAZE BASELINE RATIO TARGET RESULT: one line of the table.
row() {
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@" >>"$ROWS"
}

# limit TEXT...: a finding for "What limits the missed figures".
limit() {
    printf -- '- %s\n' "$*" >>"$LIMITS"
}

# detail TEXT...: lines for the detailed figures.
detail() {
    printf '%s\n' "$@" >>"$DETAIL"
}

miss() {
    MISSES="$MISSES $1"
}

cleanup() {
    trap - EXIT INT TERM
    bench_stop_all
    [ -n "${TMP:-}" ] && [ -d "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HAZE_DEPS_EXTRA=bench sh scripts/deps.sh || bench_die "missing packages (see above)"
for c in nginx wrk goaccess redis-server redis-cli perl curl ss /usr/bin/time timeout; do
    command -v "$c" >/dev/null 2>&1 || bench_die "$c not found"
done
for b in haze-collector haze-aggregator haze-loadgen; do
    [ -x "$BIN/$b" ] || bench_log "$BIN/$b not built: the sections that need it are skipped"
done

mkdir -p "$OUT" "$RAW" || exit 1
rm -f "$ROWS" "$DETAIL" "$PROF" "$LIMITS" "$RAW"/*
TMP=$(mktemp -d /tmp/haze-bench.XXXXXX) || exit 1
perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv "$TMP/geo.mmdb" >/dev/null ||
    bench_die "cannot build the geo fixture"
BENCH_T0=$(bench_now)
BENCH_LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${BENCH_LOAD0%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
    bench_log "load average $BENCH_LOAD0 on $(nproc) cores: other work on the machine adds noise"

# bench_linear BIG SMALL cost|rate: the verdict on a figure per unit (CPU
# per request: cost; events/s: rate) measured at the larger and the smaller
# size: "linear" within 15 %, else whether the larger size does better or worse.
bench_linear() {
    awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
        r = a / b; if (k == "cost") r = 1 / r
        if (r > 0.85 && r < 1.15) print "linear"
        else if (r >= 1.15) print "better than linear (fixed costs amortised)"
        else print "worse than linear" }'
}

# ------------------------------------------------------------------ processes

rcli() {
    local dir=$1
    shift
    redis-cli -s "$dir/redis.sock" "$@"
}

# start_redis DIR: a private redis-server on DIR/redis.sock (no TCP, no
# persistence while measuring; the RDB at rest is written on request).
start_redis() {
    bench_spawn "$1/redis.log" sh scripts/stack.sh redis "$1"
    REDIS_PID=$BENCH_LAST_PID
    bench_wait_file "$1/redis.sock" 100 || { cat "$1/redis.log"; bench_die "redis-server did not start"; }
}

# write_ini DIR COLLECTOR_PORT DASHBOARD_PORT: DIR/haze.ini for all three daemons.
write_ini() {
    mkdir -p "$1/spool" "$1/db"
    cat >"$1/haze.ini" <<EOF
; haze.ini written by tests/bench/run.sh
[redis]
address = unix:$1/redis.sock
stream = $STREAM

[collector]
user = root
listen = 127.0.0.1:$2
threads = 2
trusted_proxies = 127.0.0.1/8 ::1
spool_dir = $1/spool

[geo]
database = $TMP/geo.mmdb

[aggregator]
user = root
lmdb = $1/db

[dashboard]
user = root
listen = 127.0.0.1:$3
token = $TOKEN

[site $SITE]
timezone = UTC
funnel = checkout: /products/* > /cart > /checkout > /thanks
EOF
}

# start_daemon NAME DIR [PORT]: bin/haze-NAME -c DIR/haze.ini; waits for PORT.
start_daemon() {
    bench_spawn "$2/$1.log" sh scripts/stack.sh daemon "$1" "$2/haze.ini" "$BIN"
    DAEMON_PID=$BENCH_LAST_PID
    if [ $# -ge 3 ]; then
        bench_wait_listen "$3" "$DAEMON_PID" 100 ||
            { cat "$2/$1.log"; bench_die "haze-$1 did not listen on $3"; }
    else
        sleep 0.3
        bench_alive "$DAEMON_PID" || { cat "$2/$1.log"; bench_die "haze-$1 exited"; }
    fi
}

# start_nginx DIR PORT [HTTP_LINES]: nginx with its own configuration in
# DIR, run as the current user: empty_gif at /p.gif, `return 202` for POST
# /api/event, and the combined access log (unbuffered: the default) in
# DIR/access.log. HTTP_LINES go into its http block.
start_nginx() {
    local user="" extra=${3:-}
    [ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
    mkdir -p "$1/tmp"
    cat >"$1/nginx.conf" <<EOF
# nginx.conf written by tests/bench/run.sh: the cheapest thing that records a hit
$user
worker_processes 2;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log $1/access.log combined;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    keepalive_requests 1000000;
    $extra
    server {
        listen 127.0.0.1:$2;
        location = /p.gif { empty_gif; add_header Cache-Control no-store; }
        location = /api/event {
            if (\$request_method = POST) { return 202; }
            return 405;
        }
    }
}
EOF
    bench_spawn "$1/nginx.out" nginx -c "$1/nginx.conf" -p "$1" -g 'daemon off;'
    NGX_PID=$BENCH_LAST_PID
    bench_wait_listen "$2" "$NGX_PID" 100 ||
        { cat "$1/nginx.out" "$1/error.log"; bench_die "nginx did not listen on $2"; }
    sleep 0.2
    NGX_WORKERS=$(bench_children "$NGX_PID")
}

# ------------------------------------------------------------------ profiles

# profile_start NAME SECONDS PID...: perf record -g on the pids, in the
# background, for SECONDS (0: until profile_end).
profile_start() {
    local name=$1 secs=$2 pids
    shift 2
    PERF_PID=""
    PERF_SECS=$secs
    command -v perf >/dev/null 2>&1 || return 0
    pids=$(echo "$@" | tr ' ' ',')
    [ "$secs" = 0 ] && secs=3600
    bench_spawn "$RAW/perf-$name.log" perf record -g -F 499 -o "$RAW/perf-$name.data" \
        -p "$pids" -- sleep "$secs"
    PERF_PID=$BENCH_LAST_PID
}

# profile_end NAME TITLE COMM...: stops perf (SIGINT, which makes it write
# its data) unless it is done, and adds to the results where the time went:
# by process and object, then each COMM's hottest symbols (self time; the
# binaries keep no frame pointers, so callers are not reliable).
profile_end() {
    local name=$1 title=$2 i=0
    shift 2
    [ -n "$PERF_PID" ] || { printf '\n### %s\n\nperf is not installed.\n' "$title" >>"$PROF"; return; }
    [ "$PERF_SECS" = 0 ] && kill -INT "$PERF_PID" 2>/dev/null
    while bench_alive "$PERF_PID" && [ $i -lt 600 ]; do
        sleep 0.2
        i=$((i + 1))
    done
    bench_stop "$PERF_PID"
    profile_report "$name" "$title" "$@"
}

# profile_report NAME TITLE COMM...: the perf data's summary into the results.
profile_report() {
    local data=$RAW/perf-$1.data title=$2 c
    shift 2
    # shellcheck disable=SC2016
    {
        printf '\n### %s\n\nBy process and object (share of all samples):\n\n```\n' "$title"
        # Debian's redis-server binary is named redis-check-rdb.
        perf report -i "$data" --stdio --no-children --sort comm,dso --percent-limit 1.5 -g none \
            2>/dev/null | grep -v '^#' | grep -v '^ *$' | sed 's/redis-check-rdb/redis-server   /' | head -14
        printf '```\n'
        for c in "$@"; do
            printf '\n%s: hottest symbols (self time, share of all samples):\n\n```\n' "$c"
            perf report -i "$data" --stdio --no-children --comms "$c" --sort sym \
                --percent-limit 0.5 -g none 2>/dev/null | grep -v '^#' | grep -v '^ *$' | head -20
            printf '```\n'
        done
    } >>"$PROF"
}

# ------------------------------------------------------------------ 1. ingest

ING=$RAW/ingest.tsv

# ingest_run TARGET VARIANT SECONDS REP: one wrk run; appends a line to $ING:
# target variant seconds rep rps p50 p99 requests bad cpu_ticks rss_kb stream
ingest_run() {
    local target=$1 variant=$2 secs=$3 rep=$4 url pids cpupids f t0 t1 rss xlen=0
    f=$RAW/wrk-$target-$variant-${secs}s-$rep.txt
    case $target in
    haze)
        url=http://127.0.0.1:$CPORT pids=$COL_PID cpupids="$COL_PID $REDIS_PID"
        rcli "$IDIR" DEL "$STREAM" >/dev/null
        ;;
    *)
        url=http://127.0.0.1:$NPORT pids="$NGX_PID $NGX_WORKERS" cpupids="$NGX_PID $NGX_WORKERS"
        ;;
    esac
    set -- -t 2 -c "$CONNS" -d "${secs}s" --timeout 5s --latency \
        -H "User-Agent: $UA" -H "X-Forwarded-For: $XFF"
    case $variant in *-close) set -- "$@" -H "Connection: close" ;; esac
    case $variant in
    pixel-*) url=$url$PIXEL_PATH ;;
    event-*) url=$url/api/event; set -- "$@" -s tests/bench/event.lua ;;
    esac
    # shellcheck disable=SC2086
    t0=$(bench_ticks $cpupids)
    timeout $((secs + 60)) wrk "$@" "$url" >"$f" 2>&1 || bench_log "wrk failed: $f"
    # shellcheck disable=SC2086
    t1=$(bench_ticks $cpupids)
    # The peak RSS is the kernel's high-water mark, read after the run: a
    # sampler forking awk every 0.2 s during it would add its own stalls to
    # the latencies measured (on 2 cores, shared with wrk and the server).
    # shellcheck disable=SC2086
    rss=$(bench_status_kb VmHWM $pids)
    [ "$target" = haze ] && xlen=$(rcli "$IDIR" XLEN "$STREAM")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$variant" "$secs" "$rep" \
        "$(bench_wrk_field "$f" rps)" "$(bench_wrk_field "$f" p50)" "$(bench_wrk_field "$f" p99)" \
        "$(bench_wrk_field "$f" requests)" \
        "$(($(bench_wrk_field "$f" non2xx) + $(bench_wrk_field "$f" errors)))" \
        "$((t1 - t0))" "$rss" "$xlen" >>"$ING"
    # Let the server settle (TIME_WAIT sockets after Connection: close).
    case $variant in *-close) sleep 1 ;; *) sleep 0.2 ;; esac
}

# ing_vals TARGET VARIANT SECONDS COLUMN: the column over all reps.
ing_vals() {
    awk -F '\t' -v t="$1" -v v="$2" -v s="$3" -v c="$4" \
        '$1 == t && $2 == v && $3 == s { print $c }' "$ING"
}

# ing_med TARGET VARIANT SECONDS COLUMN: median over reps.
ing_med() {
    # shellcheck disable=SC2046
    bench_median $(ing_vals "$@")
}

# ing_ratio VARIANT SECONDS COLUMN: median over reps of haze/nginx (same rep).
ing_ratio() {
    # shellcheck disable=SC2046
    bench_median $(awk -F '\t' -v v="$1" -v s="$2" -v c="$3" '
        $2 == v && $3 == s { x[$1, $4] = $c; r[$4] = 1 }
        END { for (k in r) if (x["nginx", k] > 0) printf "%.4f\n", x["haze", k] / x["nginx", k] }' "$ING")
}

# ing_cpu_us TARGET VARIANT SECONDS: median CPU microseconds per request.
ing_cpu_us() {
    # shellcheck disable=SC2046
    bench_median $(awk -F '\t' -v t="$1" -v v="$2" -v s="$3" -v hz="$BENCH_TICK" '
        $1 == t && $2 == v && $3 == s && $8 > 0 { printf "%.3f\n", $10 / hz * 1e6 / $8 }' "$ING")
}

ingest_summary() {
    local v label id hr nr ratio hp50 hp99 np50 np99 res target bad xl secs t
    id=0
    for v in pixel-ka event-ka pixel-close event-close; do
        id=$((id + 1))
        case $v in
        pixel-ka) label="Ingest \`GET /p.gif\`, keep-alive" ;;
        event-ka) label="Ingest \`POST /api/event\`, keep-alive" ;;
        pixel-close) label="Ingest \`GET /p.gif\`, \`Connection: close\`" ;;
        event-close) label="Ingest \`POST /api/event\`, \`Connection: close\`" ;;
        esac
        hr=$(ing_med haze "$v" "$WRK_D" 5)
        nr=$(ing_med nginx "$v" "$WRK_D" 5)
        ratio=$(ing_ratio "$v" "$WRK_D" 5)
        hp50=$(ing_med haze "$v" "$WRK_D" 6)
        hp99=$(ing_med haze "$v" "$WRK_D" 7)
        np50=$(ing_med nginx "$v" "$WRK_D" 6)
        np99=$(ing_med nginx "$v" "$WRK_D" 7)
        res=PASS
        bench_ge "$ratio" 1.0 || res="MISS (throughput)"
        case $v in
        *-ka)
            target="≥ 1.0 × nginx, p99 ≤ 5 ms"
            if ! awk -v p="$hp99" 'BEGIN { exit !(p <= 5) }'; then
                [ "$res" = PASS ] && res="MISS (p99)" || res="MISS (throughput, p99)"
            fi
            ;;
        *) target="≥ 1.0 × nginx" ;;
        esac
        bad=$(awk -F '\t' -v v="$v" '$1 == "haze" && $2 == v { s += $9 } END { print s + 0 }' "$ING")
        [ "$bad" -gt 0 ] && res="$res; $bad errors"
        [ "$res" = PASS ] || miss ingest
        row "1.$id" "$label: req/s (p50 / p99 ms)" \
            "$(bench_fmt "$hr") ($hp50 / $hp99)" "nginx $(bench_fmt "$nr") ($np50 / $np99)" \
            "$(bench_div "$ratio" 1)" "$target" "$res"
    done
    id=$((id + 1))
    hr=$(ing_med haze pixel-ka "$WRK_D" 11)
    for v in event-ka pixel-close event-close; do
        hr="$hr $(ing_med haze "$v" "$WRK_D" 11)"
    done
    # shellcheck disable=SC2086
    hr=$(printf '%s\n' $hr | sort -g | tail -1)
    nr=$(ing_med nginx pixel-ka "$WRK_D" 11)
    res=PASS
    [ "$COL_HWM" -gt "$hr" ] 2>/dev/null || COL_HWM=$hr
    awk -v h="$COL_HWM" 'BEGIN { exit !(h <= 32768) }' || { res=MISS; miss ingest; }
    row "1.$id" "Collector RSS under load (VmHWM after the runs; at the end)" \
        "$(bench_mb "$hr") MB; $(bench_mb "$COL_HWM") MB" \
        "nginx master + 2 workers $(bench_mb "$nr") MB" "-" "≤ 32 MB" "$res"
    id=$((id + 1))
    hr=$(ing_cpu_us haze pixel-ka "$WRK_D")
    nr=$(ing_cpu_us nginx pixel-ka "$WRK_D")
    res=PASS
    awk -v h="$hr" -v n="$nr" 'BEGIN { exit !(h > 0 && h <= n) }' || { res=MISS; miss ingest; }
    row "1.$id" "CPU per \`/p.gif\` hit, keep-alive (µs; haze: collector + Redis)" \
        "$hr" "nginx $nr" "$(bench_div "$hr" "$nr")" "≤ nginx" "$res"

    detail "" "### 1. Collector ingest" "" \
        "wrk $WRK_D s, 2 threads, $CONNS connections, median of $ING_REPS runs ($REPS at $WRK_D_SMALL s); haze and nginx back to back" \
        "in each run, who goes first alternating. The collector runs 2 threads; nginx 2 workers; wrk, the server and (for haze)" \
        "redis-server share the machine's $(nproc) cores. Request: \`GET $PIXEL_PATH\`" \
        "or \`POST /api/event\` (tests/bench/event.lua), \`User-Agent:\` Chrome 142 on Windows," \
        "\`X-Forwarded-For: $XFF\` (a fixture region). \"stream\" is the entries XADDed per 2xx answer." "" \
        "| workload | target | wrk s | req/s | p50 ms | p99 ms | errors | CPU µs/req | RSS MB | stream/2xx |" \
        "|---|---|---|---|---|---|---|---|---|---|"
    for v in pixel-ka event-ka pixel-close event-close; do
        for secs in "$WRK_D" "$WRK_D_SMALL"; do
            for t in haze nginx; do
                [ -n "$(ing_vals "$t" "$v" "$secs" 5)" ] || continue
                xl="-"
                if [ "$t" = haze ]; then
                    # shellcheck disable=SC2046
                    xl=$(bench_median $(awk -F '\t' -v v="$v" -v s="$secs" \
                        '$1 == "haze" && $2 == v && $3 == s && $8 - $9 > 0 { printf "%.4f\n", $12 / ($8 - $9) }' "$ING"))
                fi
                bad=$(awk -F '\t' -v t="$t" -v v="$v" -v s="$secs" '$1 == t && $2 == v && $3 == s { n += $9 } END { print n + 0 }' "$ING")
                detail "| $v | $t | $secs | $(bench_fmt "$(ing_med "$t" "$v" "$secs" 5)") | $(ing_med "$t" "$v" "$secs" 6) | $(ing_med "$t" "$v" "$secs" 7) | $bad | $(ing_cpu_us "$t" "$v" "$secs") | $(bench_mb "$(ing_med "$t" "$v" "$secs" 11)") | $xl |"
            done
        done
    done
    detail "" "Raw runs (target, workload, seconds, run, req/s, p50, p99, requests, errors, CPU ticks, RSS kB, stream entries):" "" '```'
    cat "$ING" >>"$DETAIL"
    detail '```'
}

ingest_scaling() {
    local v big small res hb hs cb cs
    for v in pixel-ka event-ka; do
        hb=$(ing_med haze "$v" "$WRK_D" 5)
        hs=$(ing_med haze "$v" "$WRK_D_SMALL" 5)
        cb=$(ing_cpu_us haze "$v" "$WRK_D")
        cs=$(ing_cpu_us haze "$v" "$WRK_D_SMALL")
        big=$(ing_med haze "$v" "$WRK_D" 8)
        small=$(ing_med haze "$v" "$WRK_D_SMALL" 8)
        # Linear: the same CPU cost per request (within 15 %) at both sizes.
        res=$(bench_linear "$cb" "$cs" cost)
        row "5.${v%-ka}" "Scaling ingest \`$v\`: $WRK_D_SMALL s → $WRK_D s of wrk (requests; req/s; CPU µs per request)" \
            "$(bench_fmt "$small") → $(bench_fmt "$big"); $(bench_fmt "$hs") → $(bench_fmt "$hb"); $cs → $cb" \
            "nginx $(bench_fmt "$(ing_med nginx "$v" "$WRK_D_SMALL" 5)") → $(bench_fmt "$(ing_med nginx "$v" "$WRK_D" 5)") req/s" \
            "$(bench_div "$big" "$small") × requests" "CPU per request constant (±15 %)" "$res"
    done
}

# ingest_wrk OUT URL: one more keep-alive /p.gif wrk run (for profiles).
ingest_wrk() {
    local url=$2
    timeout $((WRK_D + 60)) wrk -t 2 -c "$CONNS" -d "${WRK_D}s" --latency -H "User-Agent: $UA" \
        -H "X-Forwarded-For: $XFF" "$url$PIXEL_PATH" >"$1" 2>&1
}

# The system calls counted per request when a target is missed.
SYSCALLS="read readv recvfrom write writev sendto sendmsg epoll_wait epoll_pwait epoll_ctl accept4
close shutdown setsockopt getsockname getpeername fcntl ioctl futex clock_gettime io_uring_enter"

# perfstat_start NAME PIDS: perf stat (every system call, the ones above,
# context switches) over the comma-separated pids for WRK_D seconds.
perfstat_start() {
    local ev="raw_syscalls:sys_enter,context-switches" c
    for c in $SYSCALLS; do
        ev="$ev,syscalls:sys_enter_$c"
    done
    bench_spawn "$RAW/perfstat-$1.log" perf stat -x, -e "$ev" -p "$2" -o "$RAW/perfstat-$1.csv" \
        -- sleep "$WRK_D"
}

# ingest_syscalls: system calls per request under wrk (keep-alive GET
# /p.gif) for the collector, its Redis and nginx (master + workers): a
# Markdown table on stdout.
ingest_syscalls() {
    local p1 p2 p3 rh rn
    rcli "$IDIR" DEL "$STREAM" >/dev/null
    perfstat_start collector "$COL_PID"
    p1=$BENCH_LAST_PID
    perfstat_start redis "$REDIS_PID"
    p2=$BENCH_LAST_PID
    ingest_wrk "$RAW/wrk-perfstat-haze.txt" "http://127.0.0.1:$CPORT"
    # shellcheck disable=SC2086
    perfstat_start nginx "$(echo $NGX_PID $NGX_WORKERS | tr ' ' ',')"
    p3=$BENCH_LAST_PID
    while bench_alive "$p1" || bench_alive "$p2"; do sleep 0.2; done
    ingest_wrk "$RAW/wrk-perfstat-nginx.txt" "http://127.0.0.1:$NPORT"
    while bench_alive "$p3"; do sleep 0.2; done
    bench_stop "$p1"
    bench_stop "$p2"
    bench_stop "$p3"
    rh=$(bench_wrk_field "$RAW/wrk-perfstat-haze.txt" requests)
    rn=$(bench_wrk_field "$RAW/wrk-perfstat-nginx.txt" requests)
    printf '| per request | haze-collector | its redis-server | nginx (master + workers) |\n|---|---|---|---|\n'
    awk -F, -v rh="$rh" -v rn="$rn" '
        FNR == 1 { f++ }
        $3 != "" && $1 ~ /^[0-9]+$/ {
            e = $3; sub(/^syscalls:sys_enter_/, "", e); sub(/^raw_syscalls:sys_enter$/, "all system calls", e)
            if (!(e in seen)) { seen[e] = 1; order[++n] = e }
            v[f, e] = $1
        }
        END {
            for (i = 1; i <= n; i++) {
                e = order[i]
                a = rh > 0 ? v[1, e] / rh : 0; b = rh > 0 ? v[2, e] / rh : 0; c = rn > 0 ? v[3, e] / rn : 0
                if (a >= 0.01 || b >= 0.01 || c >= 0.01)
                    printf "| %s | %.2f | %.2f | %.2f |\n", e, a, b, c
            }
        }' "$RAW/perfstat-collector.csv" "$RAW/perfstat-redis.csv" "$RAW/perfstat-nginx.csv"
}

# ingest_profile: where the collector's time goes under wrk, beside nginx.
ingest_profile() {
    local t
    command -v perf >/dev/null 2>&1 || { printf '\nperf is not installed: no profile.\n' >>"$PROF"; return; }
    bench_log "ingest: a target was missed; profiling the collector under wrk"
    t=$(ingest_syscalls)
    limit "Ingest: the collector spends $(ing_cpu_us haze pixel-ka "$WRK_D") µs of CPU per keep-alive pixel hit" \
        "(collector + Redis) where nginx spends $(ing_cpu_us nginx pixel-ka "$WRK_D") µs, and makes" \
        "$(printf '%s\n' "$t" | awk -F' *[|] *' '$2 == "all system calls" { print $3 }') system calls per request" \
        "to nginx's $(printf '%s\n' "$t" | awk -F' *[|] *' '$2 == "all system calls" { print $5 }')," \
        "$(printf '%s\n' "$t" | awk -F' *[|] *' '$2 == "epoll_ctl" { print $3 }') of them epoll_ctl" \
        "(see the profile below for where the rest goes). On $(nproc) cores shared with wrk, CPU per" \
        "request is what bounds requests/s."
    # shellcheck disable=SC2016
    {
        printf '\n### Collector vs nginx: system calls per request\n\n'
        printf 'perf stat during %s s of keep-alive `GET /p.gif` (wrk, %s connections), per request answered.\n\n' "$WRK_D" "$CONNS"
        printf '%s\n' "$t"
    } >>"$PROF"
    rcli "$IDIR" DEL "$STREAM" >/dev/null
    profile_start collector "$WRK_D" "$COL_PID" "$REDIS_PID"
    ingest_wrk "$RAW/wrk-profile.txt" "http://127.0.0.1:$CPORT"
    profile_end collector "Collector under wrk (\`GET /p.gif\`, keep-alive): perf record -g over haze-collector and redis-server" \
        haze-collector redis-server
}

sec_ingest() {
    local rep v t code
    IDIR=$TMP/ingest
    mkdir -p "$IDIR/nginx"
    bench_port
    CPORT=$BENCH_PORT
    bench_port
    NPORT=$BENCH_PORT
    bench_port
    start_redis "$IDIR"
    write_ini "$IDIR" "$CPORT" "$BENCH_PORT"
    start_daemon collector "$IDIR" "$CPORT"
    COL_PID=$DAEMON_PID
    start_nginx "$IDIR/nginx" "$NPORT"

    # The bench hits must be ones the collector accepts and XADDs.
    code=$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" -H "X-Forwarded-For: $XFF" \
        "http://127.0.0.1:$CPORT$PIXEL_PATH")
    [ "$code" = 200 ] || bench_die "the collector answers $code to the bench pixel"
    code=$(curl -s -o /dev/null -w '%{http_code}' -A "$UA" -H "X-Forwarded-For: $XFF" \
        -H 'Content-Type: text/plain' --data-binary \
        '{"n":"pageview","u":"https://shop.example/products/business-cards?utm_source=newsletter","d":"shop.example","r":"https://www.google.com/","w":1920}' \
        "http://127.0.0.1:$CPORT/api/event")
    [ "$code" = 202 ] || bench_die "the collector answers $code to the bench event"
    [ "$(rcli "$IDIR" XLEN "$STREAM")" -ge 2 ] || bench_die "the bench hits did not reach the stream"

    : >"$ING"
    rep=1
    while [ $rep -le "$ING_REPS" ]; do
        # Who goes first alternates: neither side always follows the
        # other's TIME_WAIT sockets or warm caches.
        order="haze nginx"
        [ $((rep % 2)) = 0 ] && order="nginx haze"
        for v in pixel-ka event-ka pixel-close event-close; do
            bench_log "ingest run $rep/$ING_REPS: $v, $WRK_D s"
            for t in $order; do
                ingest_run "$t" "$v" "$WRK_D" "$rep"
            done
        done
        if [ "$rep" -le "$REPS" ]; then
            for v in pixel-ka event-ka; do
                bench_log "ingest run $rep/$REPS: $v, $WRK_D_SMALL s (scaling)"
                for t in $order; do
                    ingest_run "$t" "$v" "$WRK_D_SMALL" "$rep"
                done
            done
        fi
        rep=$((rep + 1))
    done
    COL_HWM=$(bench_status_kb VmHWM "$COL_PID")
    ingest_summary
    ingest_scaling

    case " $MISSES " in
    *" ingest "*) [ "$PROFILE" = 1 ] && ingest_profile ;;
    esac
    curl -s "http://127.0.0.1:$CPORT/metrics" >"$RAW/collector-metrics.txt"
    bench_stop "$NGX_PID"
    bench_stop "$COL_PID"
    bench_stop "$REDIS_PID"
}

# ------------------------------------------------------------------ 3. end to end

E2E=$RAW/e2e.tsv

# stream_done DIR: the aggregator has committed everything (its consumer
# group mirrors the committed position, with nothing pending).
stream_done() {
    local last info
    last=$(rcli "$1" XINFO STREAM "$STREAM" 2>/dev/null | awk 'p == "last-generated-id" { print; exit } { p = $0 }')
    [ -n "$last" ] || return 1
    info=$(rcli "$1" XINFO GROUPS "$STREAM" 2>/dev/null | awk -v g="$GROUP" '
        p == "name" { cur = $0 }
        p == "pending" && cur == g { pend = $0 }
        p == "last-delivered-id" && cur == g { ldi = $0 }
        { p = $0 }
        END { print pend " " ldi }')
    [ "$info" = "0 $last" ]
}

# lg_time FILE: "wall user sys maxrss_kb" written by /usr/bin/time -f.
TIMEFMT='%e %U %S %M'
time_field() {
    tail -1 "$1" | awk -v i="$2" '{ print $i }'
}

# e2e_visits HITS: the number of visits whose hits add up to about HITS
# (haze-loadgen counts visits; the same seed always draws the same visits).
e2e_visits() {
    local n=20000 lines
    "$BIN/haze-loadgen" -q -n $n -s "$SEED" -S "$SITE" --access-log "$TMP/calib.log" ||
        bench_die "haze-loadgen --access-log failed"
    lines=$(wc -l <"$TMP/calib.log")
    rm -f "$TMP/calib.log"
    awk -v h="$1" -v n=$n -v l="$lines" 'BEGIN { v = int(h * n / l + 0.5); print (v < 1 ? 1 : v) }'
}

# haze_start DIR: Redis, aggregator and collector with DIR/haze.ini (the
# collector's port in CPORT), once the aggregator's consumer group exists.
haze_start() {
    local i=0
    mkdir -p "$1"
    bench_port
    CPORT=$BENCH_PORT
    bench_port
    start_redis "$1"
    write_ini "$1" "$CPORT" "$BENCH_PORT"
    start_daemon aggregator "$1"
    AGG_PID=$DAEMON_PID
    start_daemon collector "$1" "$CPORT"
    COL_PID=$DAEMON_PID
    while ! rcli "$1" XINFO GROUPS "$STREAM" 2>/dev/null | grep -qx "$GROUP" && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}

# haze_wait_caught_up DIR SECONDS: until the aggregator has committed the
# stream's last entry; dies after SECONDS or if the aggregator exits.
haze_wait_caught_up() {
    local i=0
    while ! stream_done "$1"; do
        sleep 0.05
        i=$((i + 1))
        [ $i -lt $(($2 * 20)) ] || bench_die "the aggregator did not catch up within $2 s"
        bench_alive "$AGG_PID" || { cat "$1/aggregator.log"; bench_die "haze-aggregator exited"; }
    done
}

# e2e_haze REP: haze-loadgen -> collector -> Redis -> aggregator, until the
# consumer group (the committed position) is at the last entry. Appends to $E2E.
e2e_haze() {
    local rep=$1 d cport t0 t1 tl c0 c1 i hwm lmdb rdb mem xlen pv lgcpu sent cc cr ca
    d=$TMP/e2e-haze-$rep
    haze_start "$d"
    cport=$CPORT
    cc=$(bench_ticks "$COL_PID")
    cr=$(bench_ticks "$REDIS_PID")
    ca=$(bench_ticks "$AGG_PID")
    c0=$((cc + cr + ca))
    t0=$(bench_now)
    [ "$PROFILE_E2E" = 1 ] && profile_start e2e 0 "$COL_PID" "$REDIS_PID" "$AGG_PID"
    timeout 1800 /usr/bin/time -f "$TIMEFMT" -o "$d/loadgen.time" "$BIN/haze-loadgen" -q \
        -u "http://127.0.0.1:$cport" -n "$E2E_VISITS" -s "$SEED" -S "$SITE" -c "$LG_CONNS" \
        --totals >"$RAW/e2e-totals-$rep.json" 2>"$d/loadgen.err" ||
        { cat "$d/loadgen.err"; bench_die "haze-loadgen against the collector failed"; }
    tl=$(bench_now)
    haze_wait_caught_up "$d" 1800
    t1=$(bench_now)
    c1=$(bench_ticks "$COL_PID" "$REDIS_PID" "$AGG_PID")
    cc=$(bench_ticks_s $(($(bench_ticks "$COL_PID") - cc)))
    cr=$(bench_ticks_s $(($(bench_ticks "$REDIS_PID") - cr)))
    ca=$(bench_ticks_s $(($(bench_ticks "$AGG_PID") - ca)))
    [ "$PROFILE_E2E" = 1 ] && profile_end e2e "End to end, haze side ($E2E_VISITS visits): perf record -g over collector + redis-server + aggregator, from the first hit until the aggregator caught up" \
        haze-collector redis-server haze-aggregator
    hwm="$(bench_status_kb VmHWM "$COL_PID") $(bench_status_kb VmHWM "$REDIS_PID") $(bench_status_kb VmHWM "$AGG_PID")"
    # At rest: the aggregator trims what it has applied (the applied id log
    # keeps their hit ids for stream_keep_seconds, for the collectors'
    # duplicate search after an outage); whatever entries are left, the
    # bench trims now.
    xlen=$(rcli "$d" XLEN "$STREAM")
    rcli "$d" XTRIM "$STREAM" MAXLEN 0 >/dev/null
    mem=$(rcli "$d" INFO memory | awk -F: '$1 == "used_memory" { print $2 + 0 }')
    rcli "$d" SAVE >/dev/null
    rdb=$(stat -c %s "$d/dump.rdb" 2>/dev/null || echo 0)
    bench_stop "$COL_PID"
    bench_stop "$AGG_PID"
    lmdb=$(stat -c %s "$d/db/data.mdb" 2>/dev/null || echo 0)
    pv=$(awk '/"pageviews":/ { gsub(/[^0-9]/, ""); print; exit }' "$RAW/e2e-totals-$rep.json")
    sent=$(awk '/"total":/ { gsub(/[^0-9]/, ""); print; exit }' "$RAW/e2e-totals-$rep.json")
    lgcpu=$(awk '{ printf "%.2f", $2 + $3 }' "$d/loadgen.time")
    # shellcheck disable=SC2086
    printf 'haze\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$(bench_sub "$t1" "$t0")" \
        "$(bench_ticks_s $((c1 - c0)))" "$(echo $hwm | awk '{ print $1 + $2 + $3 }')" \
        "$lmdb" "$rdb" "$mem" "$xlen" "$sent" "$pv" "$lgcpu" "$(echo $hwm | tr ' ' '/')" \
        "$cc/$cr/$ca" "$(bench_sub "$tl" "$t0")" "$(bench_sub "$t1" "$tl")" >>"$E2E"
    e2e_check "$d" "$rep" "$pv"
    bench_stop "$REDIS_PID"
}

# e2e_check DIR REP PAGEVIEWS: reads the pageviews back through the dashboard
# API (when it is built) and records whether haze counted every one.
e2e_check() {
    local dport out got
    [ -x "$BIN/haze-dashboard" ] || return 0
    dport=$(sed -n 's/^listen = 127.0.0.1:\([0-9]*\)$/\1/p' "$1/haze.ini" | tail -1)
    start_daemon dashboard "$1" "$dport"
    out=$(curl -s -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$dport/api/v1/stats/aggregate?site_id=$SITE&period=day&metrics=pageviews,visitors")
    bench_stop "$DAEMON_PID"
    got=$(printf '%s' "$out" | tr -d ' \n' | sed -n 's/.*"pageviews":{"value":\([0-9]*\).*/\1/p')
    printf '%s\t%s\t%s\n' "$2" "$3" "${got:-?}" >>"$RAW/e2e-check.tsv"
    printf '%s\n' "$out" >"$RAW/e2e-aggregate-$2.json"
}

# e2e_nginx REP: the same hits sent to nginx (its access log records them),
# then GoAccess analyses the same hits as the site's combined log (written
# once by haze-loadgen --access-log: the same seed gives the same file).
e2e_nginx() {
    local rep=$1 d nport t0 t1 c0 c1 hwm ng_wall ng_cpu ga_wall ga_cpu ga_rss lgcpu
    d=$TMP/e2e-nginx-$rep
    mkdir -p "$d"
    bench_port
    nport=$BENCH_PORT
    start_nginx "$d" "$nport"
    # shellcheck disable=SC2086
    c0=$(bench_ticks "$NGX_PID" $NGX_WORKERS)
    t0=$(bench_now)
    timeout 1800 /usr/bin/time -f "$TIMEFMT" -o "$d/loadgen.time" "$BIN/haze-loadgen" -q \
        -u "http://127.0.0.1:$nport" -n "$E2E_VISITS" -s "$SEED" -S "$SITE" -c "$LG_CONNS" \
        >/dev/null 2>"$d/loadgen.err" ||
        { cat "$d/loadgen.err"; bench_die "haze-loadgen against nginx failed"; }
    t1=$(bench_now)
    # shellcheck disable=SC2086
    c1=$(bench_ticks "$NGX_PID" $NGX_WORKERS)
    # shellcheck disable=SC2086
    hwm=$(bench_status_kb VmHWM "$NGX_PID" $NGX_WORKERS)
    bench_stop "$NGX_PID"
    ng_wall=$(bench_sub "$t1" "$t0")
    ng_cpu=$(bench_ticks_s $((c1 - c0)))
    lgcpu=$(awk '{ printf "%.2f", $2 + $3 }' "$d/loadgen.time")

    if [ ! -f "$TMP/site.log" ]; then
        "$BIN/haze-loadgen" -q -n "$E2E_VISITS" -s "$SEED" -S "$SITE" --access-log "$TMP/site.log" ||
            bench_die "haze-loadgen --access-log failed"
    fi
    timeout 1800 /usr/bin/time -f "$TIMEFMT" -o "$d/goaccess.time" goaccess "$TMP/site.log" \
        --log-format=COMBINED --no-global-config -o "$d/report.json" >"$d/goaccess.out" 2>&1 ||
        { cat "$d/goaccess.out"; bench_die "goaccess failed"; }
    ga_wall=$(time_field "$d/goaccess.time" 1)
    ga_cpu=$(awk '{ printf "%.2f", $2 + $3 }' "$d/goaccess.time")
    ga_rss=$(time_field "$d/goaccess.time" 4)
    printf 'nginx\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" \
        "$(awk -v a="$ng_wall" -v b="$ga_wall" 'BEGIN { printf "%.3f", a + b }')" \
        "$(awk -v a="$ng_cpu" -v b="$ga_cpu" 'BEGIN { printf "%.2f", a + b }')" \
        "$((hwm + ga_rss))" "$(stat -c %s "$d/access.log")" "$(stat -c %s "$TMP/site.log")" \
        "$(stat -c %s "$d/report.json")" "$(wc -l <"$TMP/site.log")" "$(wc -l <"$d/access.log")" \
        "$ng_wall" "$ng_cpu" "$hwm" "$ga_wall" "$ga_cpu" "$ga_rss" "$lgcpu" >>"$E2E"
    rm -f "$d/access.log"
}

e2e_col() {
    awk -F '\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$E2E"
}

e2e_med() {
    # shellcheck disable=SC2046
    bench_median $(e2e_col "$@")
}

# e2e_ratio COL_HAZE COL_NGINX: median over runs of haze/nginx in the same run.
e2e_ratio() {
    # shellcheck disable=SC2046
    bench_median $(awk -F '\t' -v a="$1" -v b="$2" '
        $1 == "haze" { h[$2] = $a } $1 == "nginx" { n[$2] = $b }
        END { for (r in h) if (n[r] > 0) printf "%.4f\n", h[r] / n[r] }' "$E2E")
}

# ------------------------------------------------------------------ 3.5 many visitors, wrk

E2EW=$RAW/e2e-wrk.tsv
# nginx records the client that X-Forwarded-For names, as haze's
# trusted_proxies does, so GoAccess counts the same visitors.
NGX_REALIP='set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;'

# e2ew_wrk OUT URL: wrk with tests/bench/visitors.lua, keep-alive, WRK_D s.
e2ew_wrk() {
    timeout $((WRK_D + 60)) wrk -t 2 -c "$CONNS" -d "${WRK_D}s" -s tests/bench/visitors.lua "$2" >"$1" 2>&1 ||
        { cat "$1"; bench_die "wrk (visitors.lua) failed"; }
}

# e2ew_haze REP: wrk's visitors -> collector -> Redis -> aggregator, until
# the aggregator has committed the last entry. Appends a line to $E2EW:
# haze REP 2xx wall_s cpu_s hwm_kb col/redis/agg_cpu_s added send_s
e2ew_haze() {
    local rep=$1 d cport t0 tl t1 cc cr ca hits added hwm i
    d=$TMP/e2ew-haze-$rep
    haze_start "$d"
    cport=$CPORT
    cc=$(bench_ticks "$COL_PID")
    cr=$(bench_ticks "$REDIS_PID")
    ca=$(bench_ticks "$AGG_PID")
    t0=$(bench_now)
    e2ew_wrk "$RAW/e2ew-wrk-haze-$rep.txt" "http://127.0.0.1:$cport"
    tl=$(bench_now)
    haze_wait_caught_up "$d" 600
    t1=$(bench_now)
    cc=$(($(bench_ticks "$COL_PID") - cc))
    cr=$(($(bench_ticks "$REDIS_PID") - cr))
    ca=$(($(bench_ticks "$AGG_PID") - ca))
    hwm=$(bench_status_kb VmHWM "$COL_PID" "$REDIS_PID" "$AGG_PID")
    hits=$(($(bench_wrk_field "$RAW/e2ew-wrk-haze-$rep.txt" requests) - $(bench_wrk_field "$RAW/e2ew-wrk-haze-$rep.txt" non2xx)))
    added=$(rcli "$d" XINFO STREAM "$STREAM" | awk 'p == "entries-added" { print; exit } { p = $0 }')
    bench_stop "$COL_PID"
    bench_stop "$AGG_PID"
    bench_stop "$REDIS_PID"
    printf 'haze\t%s\t%s\t%s\t%s\t%s\t%s/%s/%s\t%s\t%s\n' "$rep" "$hits" "$(bench_sub "$t1" "$t0")" \
        "$(bench_ticks_s $((cc + cr + ca)))" "$hwm" "$(bench_ticks_s "$cc")" "$(bench_ticks_s "$cr")" \
        "$(bench_ticks_s "$ca")" "${added:-?}" "$(bench_sub "$tl" "$t0")" >>"$E2EW"
}

# e2ew_nginx REP: the same wrk script against nginx (realip, combined access
# log), then GoAccess over that log. Appends to $E2EW:
# nginx REP 2xx wall_s cpu_s hwm_kb nginx/goaccess_cpu_s lines send_s
e2ew_nginx() {
    local rep=$1 d nport t0 tl c0 c1 hwm hits ga_cpu ga_wall ga_rss
    d=$TMP/e2ew-nginx-$rep
    mkdir -p "$d"
    bench_port
    nport=$BENCH_PORT
    start_nginx "$d" "$nport" "$NGX_REALIP"
    # shellcheck disable=SC2086
    c0=$(bench_ticks "$NGX_PID" $NGX_WORKERS)
    t0=$(bench_now)
    e2ew_wrk "$RAW/e2ew-wrk-nginx-$rep.txt" "http://127.0.0.1:$nport"
    tl=$(bench_now)
    # shellcheck disable=SC2086
    c1=$(bench_ticks "$NGX_PID" $NGX_WORKERS)
    # shellcheck disable=SC2086
    hwm=$(bench_status_kb VmHWM "$NGX_PID" $NGX_WORKERS)
    bench_stop "$NGX_PID"
    hits=$(($(bench_wrk_field "$RAW/e2ew-wrk-nginx-$rep.txt" requests) - $(bench_wrk_field "$RAW/e2ew-wrk-nginx-$rep.txt" non2xx)))
    timeout 1800 /usr/bin/time -f "$TIMEFMT" -o "$d/goaccess.time" goaccess "$d/access.log" \
        --log-format=COMBINED --no-global-config -o "$d/report.json" >"$d/goaccess.out" 2>&1 ||
        { cat "$d/goaccess.out"; bench_die "goaccess failed"; }
    ga_wall=$(time_field "$d/goaccess.time" 1)
    ga_cpu=$(awk '{ printf "%.2f", $2 + $3 }' "$d/goaccess.time")
    ga_rss=$(time_field "$d/goaccess.time" 4)
    printf 'nginx\t%s\t%s\t%s\t%s\t%s\t%s/%s\t%s\t%s\n' "$rep" "$hits" \
        "$(awk -v a="$(bench_sub "$tl" "$t0")" -v b="$ga_wall" 'BEGIN { printf "%.3f", a + b }')" \
        "$(awk -v a="$(bench_ticks_s $((c1 - c0)))" -v b="$ga_cpu" 'BEGIN { printf "%.2f", a + b }')" \
        "$((hwm + ga_rss))" "$(bench_ticks_s $((c1 - c0)))" "$ga_cpu" "$(wc -l <"$d/access.log")" \
        "$(bench_sub "$tl" "$t0")" >>"$E2EW"
    rm -f "$d/access.log"
}

# e2ew_per REP-COLUMN TARGET: median over runs of COLUMN per 2xx hit.
e2ew_per() {
    # shellcheck disable=SC2046
    bench_median $(awk -F '\t' -v t="$2" -v c="$1" '$1 == t && $3 > 0 { printf "%.9f\n", $c / $3 }' "$E2EW")
}

# e2ew_ratio COLUMN: median over runs of (haze COLUMN per hit) / (nginx's).
e2ew_ratio() {
    # shellcheck disable=SC2046
    bench_median $(awk -F '\t' -v c="$1" '
        $1 == "haze" && $3 > 0 { h[$2] = $c / $3 } $1 == "nginx" && $3 > 0 { n[$2] = $c / $3 }
        END { for (r in h) if (n[r] > 0) printf "%.4f\n", h[r] / n[r] }' "$E2EW")
}

sec_e2e_wrk() {
    local rep res r hs ns
    : >"$E2EW"
    rep=1
    while [ $rep -le "$E2E_REPS" ]; do
        bench_log "end to end, many visitors (wrk) run $rep/$E2E_REPS: haze"
        e2ew_haze "$rep"
        bench_log "end to end, many visitors (wrk) run $rep/$E2E_REPS: nginx + GoAccess"
        e2ew_nginx "$rep"
        rep=$((rep + 1))
    done
    hs=$(bench_median $(awk -F '\t' '$1 == "haze" { print $3 }' "$E2EW"))
    ns=$(bench_median $(awk -F '\t' '$1 == "nginx" { print $3 }' "$E2EW"))
    r=$(e2ew_ratio 5)
    res=PASS
    awk -v r="$r" 'BEGIN { exit !(r > 0 && r <= 0.8) }' || { res=MISS; miss e2e; }
    row 3.5 "End to end, many visitors × 4 pages (wrk keep-alive, $WRK_D s; 2xx hits haze / nginx): CPU µs per hit" \
        "$(awk -v v="$(e2ew_per 5 haze)" 'BEGIN { printf "%.2f", v * 1e6 }') ($(bench_fmt "$hs"))" \
        "nginx + GoAccess $(awk -v v="$(e2ew_per 5 nginx)" 'BEGIN { printf "%.2f", v * 1e6 }') ($(bench_fmt "$ns"))" \
        "$(bench_div "$r" 1)" "≤ 0.8 ×" "$res"
    r=$(e2ew_ratio 4)
    res=PASS
    awk -v r="$r" 'BEGIN { exit !(r > 0 && r <= 0.7) }' || { res=MISS; miss e2e; }
    row 3.6 "End to end, many visitors: wall µs per hit (sending + catching up; nginx: sending + GoAccess)" \
        "$(awk -v v="$(e2ew_per 4 haze)" 'BEGIN { printf "%.2f", v * 1e6 }')" \
        "nginx + GoAccess $(awk -v v="$(e2ew_per 4 nginx)" 'BEGIN { printf "%.2f", v * 1e6 }')" \
        "$(bench_div "$r" 1)" "≤ 0.7 ×" "$res"
    detail "" "### 3.5 End to end, many visitors of a few pages each (wrk)" "" \
        "wrk -t 2 -c $CONNS -d $WRK_D with tests/bench/visitors.lua (a new visitor every 4 pixel hits: its own" \
        "X-Forwarded-For address, one of 5 browsers, home page from google.com, then 3 product/cart pages)," \
        "$E2E_REPS runs, haze and nginx back to back. haze: collector + Redis + aggregator CPU from the first" \
        "hit until the aggregator committed the last; nginx (realip from X-Forwarded-For, combined log) +" \
        "GoAccess over that log. Per-hit figures divide by each side's own 2xx count." "" \
        "Runs: haze REP 2xx wall_s cpu_s peak_rss_kB collector/redis/aggregator_cpu_s stream_entries_added send_s;" \
        "nginx REP 2xx wall_s cpu_s peak_rss_kB nginx/goaccess_cpu_s log_lines send_s" "" '```'
    cat "$E2EW" >>"$DETAIL"
    detail '```'
}

sec_e2e() {
    local rep hw nw hc nc res
    if [ ! -x "$BIN/haze-loadgen" ] || [ ! -x "$BIN/haze-aggregator" ] || [ ! -x "$BIN/haze-collector" ]; then
        row 3 "End to end vs nginx + GoAccess" "-" "-" "-" "faster, less CPU" "SKIPPED (not built)"
        return
    fi
    E2E_VISITS=$(e2e_visits "$E2E_HITS")
    bench_log "end to end: $E2E_VISITS visits (about $E2E_HITS hits), seed $SEED"
    : >"$E2E"
    : >"$RAW/e2e-check.tsv"
    PROFILE_E2E=0
    rep=1
    while [ $rep -le "$E2E_REPS" ]; do
        bench_log "end to end run $rep/$E2E_REPS: haze"
        e2e_haze "$rep"
        bench_log "end to end run $rep/$E2E_REPS: nginx + GoAccess"
        e2e_nginx "$rep"
        rep=$((rep + 1))
    done
    e2e_summary
    sec_e2e_wrk
    case " $MISSES " in
    *" e2e "*)
        limit "End to end: CPU s by process (run 1) collector / redis-server / aggregator:" \
            "$(e2e_col haze 14 | head -1); nginx $(e2e_col nginx 12 | head -1) + GoAccess $(e2e_col nginx 15 | head -1)." \
            "haze's wall time (medians) is $(e2e_med haze 15) s of sending, until the collector had answered" \
            "the last hit, plus $(e2e_med haze 16) s for the aggregator to catch up; the same load generator" \
            "sent the same hits to nginx in $(e2e_med nginx 11) s. The collector's CPU per hit (ingest above) sets both."
        if [ "$PROFILE" = 1 ]; then
            bench_log "end to end: a target was missed; profiling the haze side"
            # A third of the size is enough to see where the time goes.
            PROFILE_E2E=1
            E2E_SAVE=$E2E E2E_VISITS_SAVE=$E2E_VISITS
            E2E=$RAW/e2e-profile.tsv E2E_VISITS=$((E2E_VISITS / 3 + 1))
            e2e_haze profile
            E2E=$E2E_SAVE E2E_VISITS=$E2E_VISITS_SAVE
            PROFILE_E2E=0
        fi
        ;;
    esac
}

e2e_summary() {
    local hits hw nw hc nc wr cr res
    hits=$(e2e_med nginx 9)
    hw=$(e2e_med haze 3)
    nw=$(e2e_med nginx 3)
    hc=$(e2e_med haze 4)
    nc=$(e2e_med nginx 4)
    wr=$(e2e_ratio 3 3)
    cr=$(e2e_ratio 4 4)
    res=PASS
    awk -v r="$wr" 'BEGIN { exit !(r <= 0.7) }' || { res=MISS; miss e2e; }
    row 3.1 "End to end, $(bench_fmt "$hits") hits: wall s" "$hw" "nginx + GoAccess $nw" \
        "$(bench_div "$wr" 1)" "≤ 0.7 ×" "$res"
    res=PASS
    awk -v r="$cr" 'BEGIN { exit !(r <= 0.8) }' || { res=MISS; miss e2e; }
    row 3.2 "End to end: CPU s (user + sys)" "$hc" "nginx + GoAccess $nc" \
        "$(bench_div "$cr" 1)" "≤ 0.8 ×" "$res"
    res=PASS
    awk -v h="$(e2e_med haze 5)" -v n="$(e2e_med nginx 5)" 'BEGIN { exit !(n > 0 && h <= 2 * n) }' ||
        { res=MISS; miss e2e; }
    row 3.3 "End to end: peak RSS MB (sum of the processes)" "$(bench_mb "$(e2e_med haze 5)")" \
        "nginx + GoAccess $(bench_mb "$(e2e_med nginx 5)")" \
        "$(bench_div "$(e2e_med haze 5)" "$(e2e_med nginx 5)")" "≤ 2 ×" "$res"
    row 3.4 "End to end: bytes at rest MB (haze: LMDB + Redis RDB; nginx: the log)" \
        "$(bench_mbb "$(e2e_med haze 6)" "$(e2e_med haze 7)")" "log $(bench_mbb "$(e2e_med nginx 7)")" \
        "$(bench_div "$(awk -v a="$(e2e_med haze 6)" -v b="$(e2e_med haze 7)" 'BEGIN { print a + b }')" "$(e2e_med nginx 7)")" \
        "-" "info"

    detail "" "### 3. End to end" "" \
        "The same $(bench_fmt "$hits") hits ($E2E_VISITS visits, \`haze-loadgen -s $SEED -c $LG_CONNS\`), median of $E2E_REPS runs." \
        "haze: haze-loadgen → haze-collector (2 threads) → Redis stream → haze-aggregator → LMDB, timed" \
        "until the consumer group (the committed position) is at the stream's last entry; CPU and peak RSS (VmHWM)" \
        "of collector + redis-server + aggregator, each started fresh. nginx + GoAccess: haze-loadgen" \
        "sends the same hits to nginx (combined access log, 2 workers), then \`goaccess LOG" \
        "--log-format=COMBINED -o report.json\` analyses the same hits as the site's own combined log" \
        "(\`haze-loadgen --access-log\`: each pageview as the page's GET); wall and CPU are the sums of" \
        "the two steps, peak RSS nginx's (master + workers) plus GoAccess's. The load generator's own" \
        "CPU is not counted on either side." "" \
        "| | wall s | CPU s | peak RSS MB | at rest |" "|---|---|---|---|---|" \
        "| haze | $hw | $hc | $(bench_mb "$(e2e_med haze 5)") | LMDB $(bench_mbb "$(e2e_med haze 6)") MB, Redis RDB $(bench_mbb "$(e2e_med haze 7)") MB (used_memory $(bench_mbb "$(e2e_med haze 8)") MB), after trimming the $(bench_fmt "$(e2e_med haze 9)") stream entries left (the aggregator trims what it applied; the applied id log, in used_memory, keeps their hit ids for \`stream_keep_seconds\`) |" \
        "| haze: sending (until the last hit was answered) + catching up | $(e2e_med haze 15) + $(e2e_med haze 16) | | | |" \
        "| haze by process: collector / redis-server / aggregator (run 1) | | $(e2e_col haze 14 | head -1) | $(e2e_col haze 13 | head -1) kB | |" \
        "| nginx (receiving + logging) | $(e2e_med nginx 11) | $(e2e_med nginx 12) | $(bench_mb "$(e2e_med nginx 13)") | its access log $(bench_mbb "$(e2e_med nginx 6)") MB |" \
        "| GoAccess | $(e2e_med nginx 14) | $(e2e_med nginx 15) | $(bench_mb "$(e2e_med nginx 16)") | site log $(bench_mbb "$(e2e_med nginx 7)") MB, report.json $(bench_mbb "$(e2e_med nginx 8)") MB |" \
        "| haze-loadgen CPU s (not counted) | | haze run $(e2e_med haze 12), nginx run $(e2e_med nginx 17) | | |" ""
    if [ -s "$RAW/e2e-check.tsv" ]; then
        detail "Counted: pageviews sent (haze-loadgen --totals) vs the dashboard API's aggregate for the day:" ""
        awk -F '\t' '{ printf "- run %s: sent %s, counted %s%s\n", $1, $2, $3, ($2 == $3 ? " (exact)" : " (MISMATCH)") }' \
            "$RAW/e2e-check.tsv" >>"$DETAIL"
    fi
    detail "" "Raw runs (haze: side, run, wall s, CPU s, peak RSS kB, data.mdb B, dump.rdb B, used_memory B," \
        "stream length, hits sent, pageviews sent, loadgen CPU s, VmHWM kB and CPU s of collector/redis/aggregator," \
        "s until the last hit was answered, s from then until the aggregator caught up;" \
        "nginx: side, run, wall s, CPU s, peak RSS kB, access.log B, site log B, report.json B, site log lines," \
        "access.log lines, nginx wall s, CPU s, VmHWM kB, GoAccess wall s, CPU s, max RSS kB, loadgen CPU s):" "" '```'
    cat "$E2E" >>"$DETAIL"
    detail '```'
}

# ------------------------------------------------------------------ 2, 4, 6: the parts' own benchmarks

# helper_bench NAME SCRIPT OUTFILE [VAR=VALUE...]: runs another part's
# benchmark script (bounded to 15 minutes) with our sizes in its environment.
helper_bench() {
    local name=$1 script=$2 out=$3
    shift 3
    bench_log "$name: sh $script $*"
    env HZ_BIN="$BIN" BENCH_QUICK="$QUICK" BENCH_REPS="$REPS" "$@" \
        timeout 900 sh "$script" >"$out" 2>"$out.err"
}

# agg_run: tests/bench/agg.sh (pre-fills a stream with N realistic entries,
# times haze-aggregator draining it, then the raw LMDB increment rate on
# the same disk) at both sizes, REPS times; profiled (its PERF=1) on a miss.
AGG=$RAW/agg.tsv
agg_run() {
    local rep=1 n f rate lmdb res big small lb pr
    : >"$AGG"
    while [ $rep -le "$REPS" ]; do
        for n in "$AGG_N_SMALL" "$AGG_N"; do
            f=$RAW/agg-$n-$rep.txt
            if ! helper_bench "aggregation run $rep/$REPS, $n entries" tests/bench/agg.sh "$f" \
                HZ_BUILD="${HZ_BUILD:-build/release}" N="$n"; then
                cat "$f" "$f.err" >&2
                row 2 "Aggregation (tests/bench/agg.sh)" "-" "-" "-" "≥ 250,000/s" "ERROR (see raw/$(basename "$f"))"
                return
            fi
            rate=$(sed -n 's/^aggregator: .* = \([0-9.]*\) events\/s.*/\1/p' "$f")
            lmdb=$(sed -n 's/^lmdb: \([0-9.]*\) increments\/s.*/\1/p' "$f")
            printf '%s\t%s\t%s\t%s\n' "$n" "$rep" "${rate:-0}" "${lmdb:-0}" >>"$AGG"
        done
        # The same stream folded for a site with the demo's groups, goals
        # and three declared pairs (issue 11): the cost of the pairs.
        f=$RAW/agg-pairs-$rep.txt
        if helper_bench "aggregation run $rep/$REPS, $AGG_N entries, three pairs" tests/bench/agg.sh "$f" \
            HZ_BUILD="${HZ_BUILD:-build/release}" N="$AGG_N" PAIRS=1; then
            rate=$(sed -n 's/^aggregator: .* = \([0-9.]*\) events\/s.*/\1/p' "$f")
            printf '%s\t%s\t%s\t%s\n' "pairs" "$rep" "${rate:-0}" "-" >>"$AGG"
        fi
        rep=$((rep + 1))
    done
    # shellcheck disable=SC2046
    big=$(bench_median $(awk -F '\t' -v n="$AGG_N" '$1 == n { print $3 }' "$AGG"))
    # shellcheck disable=SC2046
    small=$(bench_median $(awk -F '\t' -v n="$AGG_N_SMALL" '$1 == n { print $3 }' "$AGG"))
    # shellcheck disable=SC2046
    lb=$(bench_median $(awk -F '\t' -v n="$AGG_N" '$1 == n { print $4 }' "$AGG"))
    res=PASS
    bench_ge "$big" 250000 || { res=MISS; miss agg; }
    # shellcheck disable=SC2046
    row 2 "Aggregation: events/s folded into LMDB from a pre-filled stream of $(bench_fmt "$AGG_N")" \
        "$(bench_fmt "$big")" "raw LMDB increments/s $(bench_fmt "$lb")" \
        "$(bench_div "$(bench_median $(awk -F '\t' -v n="$AGG_N" '$1 == n && $4 > 0 { printf "%.4f\n", $3 / $4 }' "$AGG"))" 1)" \
        "≥ 250,000/s" "$res"
    # shellcheck disable=SC2046
    pr=$(bench_median $(awk -F '\t' '$1 == "pairs" { print $3 }' "$AGG"))
    res=PASS
    bench_ge "$pr" 150000 || { res=MISS; miss aggpairs; }
    row 2.pairs "Aggregation with the demo's groups, goals and three declared pairs (events/s)" \
        "$(bench_fmt "$pr")" "no pairs $(bench_fmt "$big")" "$(bench_div "$pr" "$big")" "≥ 150,000/s" "$res"
    res=$(bench_linear "$big" "$small" rate)
    row 5.agg "Scaling aggregation: $(bench_fmt "$AGG_N_SMALL") → $(bench_fmt "$AGG_N") entries (events/s)" \
        "$(bench_fmt "$small") → $(bench_fmt "$big")" "-" "$(bench_div "$big" "$small")" \
        "events/s constant (±15 %)" "$res"
    detail "" "### 2. Aggregation" "" "\`sh tests/bench/agg.sh\` (the aggregator's own benchmark), N = $(bench_fmt "$AGG_N_SMALL")" \
        "and $(bench_fmt "$AGG_N"), $REPS runs each; the first run's output at the larger size:" "" '```'
    cat "$RAW/agg-$AGG_N-1.txt" >>"$DETAIL"
    detail '```' "" "Runs (entries, run, events/s, LMDB increments/s):" "" '```'
    cat "$AGG" >>"$DETAIL"
    detail '```'
    case " $MISSES " in
    *" agg "*)
        # How busy the aggregator was while draining: its CPU seconds over the drain's wall time.
        limit "Aggregation: $(sed -n 's/^aggregator: \([0-9]*\) entries in \([0-9.]*\) s = .*(batch \([0-9]*\),.*cpu: aggregator \([0-9.]*\) s, redis-server \([0-9.]*\) s.*/\1 \2 \3 \4 \5/p' \
            "$RAW/agg-$AGG_N-1.txt" | awk '{ printf "in the first run haze-aggregator used %s CPU s (redis-server %s s) over a %.1f s drain of %s entries in batches of %s, so it was on a core %.0f%% of the time", $4, $5, $2, $1, $3, 100 * $4 / $2 }')$(sed -n 's/.*seconds waiting for redis \([0-9.]*\), folding \([0-9.]*\), committing \([0-9.]*\).*/\1 \2 \3/p' "$RAW/agg-$AGG_N-1.txt" | awk '{ printf "; by its own account its main loop spent %s s waiting for Redis, %s s folding and %s s committing (LMDB page writes and fdatasync), %.1f s in all: one after the other", $1, $2, $3, $1 + $2 + $3 }')."
        if [ "$PROFILE" = 1 ] && command -v perf >/dev/null 2>&1; then
            helper_bench "aggregation: a target was missed; profile" tests/bench/agg.sh \
                "$RAW/agg-profile.txt" HZ_BUILD="${HZ_BUILD:-build/release}" N="$AGG_N_SMALL" PERF=1 STATS=1
            # shellcheck disable=SC2016
            {
                printf '\n### Aggregator draining %s entries: perf (tests/bench/agg.sh PERF=1 STATS=1)\n\n```\n' "$(bench_fmt "$AGG_N_SMALL")"
                grep -E '^ +[0-9.]+%' "$RAW/agg-profile.txt" | head -30
                printf '```\n\nRedis commands during the drain (INFO commandstats):\n\n```\n'
                grep -E '^redis ' "$RAW/agg-profile.txt"
                grep -E '^aggregator: |stopped' "$RAW/agg-profile.txt"
                printf '```\n'
            } >>"$PROF"
        fi
        ;;
    esac
}

sec_agg() {
    if [ ! -f tests/bench/agg.sh ]; then
        row 2 "Aggregation: events/s folded into LMDB" "-" "-" "-" "≥ 250,000/s" "SKIPPED (no tests/bench/agg.sh)"
        return
    fi
    agg_run
}

# dash_run: tests/bench/dash.sh (its own LMDB of a year over 10,000 pages,
# N requests per query, median and p99); profiled under perf when the
# 365-day breakdown misses 20 ms.
dash_run() {
    local out=$RAW/dash.txt n=200 res id=0 name p50 p99 target
    [ "$QUICK" = 1 ] && n=50
    if ! helper_bench dash tests/bench/dash.sh "$out" HZ_BUILD="${HZ_BUILD:-build/release}" N=$n; then
        row 4 "Queries (tests/bench/dash.sh)" "-" "-" "-" "≤ 20 ms" "ERROR (see raw/dash.txt)"
        cat "$out" "$out.err" >&2
        return
    fi
    sed -n 's/^dash: \(.*[^ ]\)  *median  *\([0-9.]*\) ms  *p99  *\([0-9.]*\) ms.*/\1|\2|\3/p' "$out" >"$RAW/dash.rows"
    while IFS='|' read -r name p50 p99; do
        id=$((id + 1))
        case $name in
        *"(pair)"*)
            # A question across a declared pair (issue 11): p99 counts.
            target="≤ 20 ms p99"
            res=PASS
            awk -v p="$p99" 'BEGIN { exit !(p <= 20) }' || { res=MISS; miss dash; }
            ;;
        *breakdown*warm* | *warm*breakdown*) target="- (answer cache)" res=info ;;
        *breakdown*)
            target="≤ 20 ms"
            res=PASS
            awk -v p="$p50" 'BEGIN { exit !(p <= 20) }' || { res=MISS; miss dash; }
            ;;
        *) target="-" res=info ;;
        esac
        row "4.$id" "Query: $name, median (p99) ms" "$p50 ($p99)" "-" "-" "$target" "$res"
    done <"$RAW/dash.rows"
    [ $id -gt 0 ] || row 4 "Queries (tests/bench/dash.sh)" "-" "-" "-" "≤ 20 ms" "ERROR (no figures in raw/dash.txt)"
    sed -n 's/^dash: bytes per day on disk, \([0-9]*\)-page site: \([0-9]*\) with the three pairs, \([0-9]*\) without.*/\1 \2 \3/p' "$out" |
        while read -r np with without; do
            row 4.bytes "Bytes on disk per day, $(bench_fmt "$np")-page site with the demo's three pairs (dash.sh's year)" \
                "$(bench_fmt "$with")" "without pairs $(bench_fmt "$without")" "$(bench_div "$with" "$without")" "-" info
        done
    detail "" "### 4. Queries" "" "\`sh tests/bench/dash.sh\` (the dashboard's own benchmark; N=$n requests per query," \
        "one curl each, median and p99):" "" '```'
    cat "$out" >>"$DETAIL"
    detail '```'
    case " $MISSES " in
    *" dash "*)
        if [ "$PROFILE" = 1 ] && command -v perf >/dev/null 2>&1; then
            bench_log "queries: a target was missed; profiling haze-dashboard under dash.sh"
            env HZ_BIN="$BIN" HZ_BUILD="${HZ_BUILD:-build/release}" N=50 timeout 900 \
                perf record -g -F 999 -o "$RAW/perf-dash.data" -- sh tests/bench/dash.sh \
                >"$RAW/dash-profile.txt" 2>&1
            PERF_PID="" PERF_SECS=1
            profile_report dash "haze-dashboard under tests/bench/dash.sh (N=50): perf record -g" haze-dashboard
        fi
        ;;
    esac
}

# sec_replay: tests/bench/replay.sh - /api/event p99 while the collector
# replays 100,000 spooled hits and across a salt change (UTC midnight on the
# collector's clock), against a quiet run; target within 2 x quiet.
sec_replay() {
    local out=$RAW/replay.txt q r s pq pr res
    if [ ! -f tests/bench/replay.sh ]; then
        row 7 "Collector p99 during replay / salt change" "-" "-" "-" "≤ 2 × quiet" "SKIPPED (no tests/bench/replay.sh)"
        return
    fi
    if ! helper_bench replay tests/bench/replay.sh "$out" HZ_BUILD="${HZ_BUILD:-build/release}" \
        REPLAY_HITS="${BENCH_REPLAY_HITS:-100000}"; then
        row 7 "Collector p99 during replay / salt change" "-" "-" "-" "≤ 2 × quiet" "ERROR (see raw/replay.txt)"
        cat "$out" "$out.err" >&2
        return
    fi
    q=$(awk '$1 == "quiet_p99_ms" { print $2 }' "$out")
    r=$(awk '$1 == "replay_p99_ms" { print $2 }' "$out")
    s=$(awk '$1 == "salt_p99_ms" { print $2 }' "$out")
    pq=$(awk '$1 == "paced_quiet_p99_ms" { print $2 }' "$out")
    pr=$(awk '$1 == "paced_replay_p99_ms" { print $2 }' "$out")
    res=PASS
    awk -v a="$pr" -v b="$pq" 'BEGIN { exit !(a <= 2 * b) }' || { res=MISS; miss replay; }
    row 7.1 "/api/event p99 at a steady rate (wrk paced: 32 connections, 4 ms after each answer) while $(awk '$1 == "paced_replay_hits" { print $2 }' "$out") spooled hits are replayed ($(awk '$1 == "paced_replay_s" { print $2 }' "$out") s), ms" \
        "$pr" "$pq (quiet, paced)" "$(awk -v a="$pr" -v b="$pq" 'BEGIN { printf "%.2f", a / b }')" "≤ 2 × quiet" "$res"
    row 7.1c "/api/event p99 with wrk flat out (16 connections, closed loop) while $(awk '$1 == "replay_hits" { print $2 }' "$out") spooled hits are replayed ($(awk '$1 == "replay_s" { print $2 }' "$out") s), ms" \
        "$r" "$q (quiet)" "$(awk -v a="$r" -v b="$q" 'BEGIN { printf "%.2f", a / b }')" "- (saturated machine: README, Replay latency)" "info"
    res=PASS
    awk -v a="$s" -v b="$q" 'BEGIN { exit !(a <= 2 * b) }' || { res=MISS; miss replay; }
    row 7.2 "/api/event p99 across a salt change (UTC midnight), ms" \
        "$s" "$q (quiet)" "$(awk -v a="$s" -v b="$q" 'BEGIN { printf "%.2f", a / b }')" "≤ 2 × quiet" "$res"
    detail "" "### 7. Collector latency during replay and salt change" "" \
        "\`sh tests/bench/replay.sh\` (wrk, 8 s each, flat out with 16 connections and paced with 32; Redis paused while the spools fill):" "" '```'
    cat "$out" >>"$DETAIL"
    detail '```'
}

sec_dash() {
    if [ ! -f tests/bench/dash.sh ]; then
        row 4 "Queries: 365-day breakdown, 10,000 pages" "-" "-" "-" "≤ 20 ms" "SKIPPED (no tests/bench/dash.sh)"
        return
    fi
    dash_run
}

ua_run() {
    local out=$RAW/ua.txt c n
    if ! helper_bench ua tests/bench/ua.sh "$out" UA_BENCH_RUNS="$REPS"; then
        row 6 "User-agent classifier (\`haze-ua\`)" "-" "-" "-" "-" "ERROR (see raw/ua.txt.err)"
        return
    fi
    c=$(sed -n 's/^haze-ua: \([0-9]*\) UAs.*/\1/p' "$out")
    n=$(sed -n 's/^haze-ua -n: \([0-9]*\) UAs.*/\1/p' "$out")
    local res=info
    [ -n "$c" ] && res=$([ "$c" -ge 1000000 ] && echo PASS || echo MISS)
    row 6 "User-agent classifier, one core: UAs/s on cache hits; distinct UAs without cache" \
        "$(bench_fmt "${c:--}"); $(bench_fmt "${n:--}")" "-" "-" "≥ 1,000,000/s on hits" "$res"
    detail "" "### 6. User-agent classifier" "" "\`sh tests/bench/ua.sh\` (the classifier's own benchmark):" "" '```'
    cat "$out" >>"$DETAIL"
    detail '```'
}

sec_ua() {
    if [ ! -f tests/bench/ua.sh ]; then
        row 6 "User-agent classifier" "-" "-" "-" "-" "SKIPPED (no tests/bench/ua.sh)"
        return
    fi
    ua_run
}

# ------------------------------------------------------------------ results

write_results() {
    local f=$OUT/results.md cpu mem
    cpu=$(awk -F: '/^model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
    {
        echo "# haze benchmark results"
        echo
        echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($cpu), $mem RAM, Linux $(uname -r)," \
            "Debian $(cat /etc/debian_version 2>/dev/null)."
        echo "Load average before the run: $BENCH_LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine adds noise)."
        echo "haze $(git describe --always --dirty 2>/dev/null), $(nginx -v 2>&1 | sed 's/.*version: //')," \
            "$(wrk -v 2>&1 | head -1 | awk '{ print "wrk " $2 }'), $(goaccess --version | head -1 | sed 's/ - / /; s/\.$//')," \
            "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')."
        echo
        echo "Command: \`make bench\`$([ "$QUICK" = 1 ] && echo ' with BENCH_QUICK=1') ($(bench_sub "$(bench_now)" "$BENCH_T0" | cut -d. -f1) s)." \
            "Each figure is the median of $REPS runs ($ING_REPS for the ingest at $WRK_D s); ratios are haze / baseline measured in the same run."
        echo
        echo "| # | measure | haze | baseline | ratio | target | result |"
        echo "|---|---|---|---|---|---|---|"
        cat "$ROWS"
        echo
        echo "## Details"
        [ -f "$DETAIL" ] && cat "$DETAIL"
        if [ -s "$PROF" ]; then
            echo
            echo "## Profiles of missed targets"
            cat "$PROF"
        fi
        if [ -s "$LIMITS" ]; then
            echo
            echo "## What limits the missed figures (measured in this run)"
            echo
            cat "$LIMITS"
        fi
    } >"$f"
    echo
    sed -n '/^| # |/,/^$/p' "$f"
    echo "bench: results in $f"
}

# ------------------------------------------------------------------ main

want ua && sec_ua
if want ingest; then
    if [ -x "$BIN/haze-collector" ]; then
        sec_ingest
    else
        row 1 "Collector ingest vs nginx" "-" "-" "-" "≥ 1.0 × nginx" "SKIPPED (haze-collector not built)"
    fi
fi
want agg && sec_agg
want e2e && sec_e2e
want dash && sec_dash
want replay && sec_replay
write_results
