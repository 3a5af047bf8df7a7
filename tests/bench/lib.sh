# shellcheck shell=dash
# SPDX-License-Identifier: MIT
#
# lib.sh - helpers sourced by tests/bench/run.sh: processes started in the
# background and stopped by pid, free loopback ports, /proc readings (RSS,
# peak RSS, CPU ticks), wrk output parsing, medians and number formatting.
#
# Every long-running process goes through bench_spawn, which records its
# pid; run.sh's EXIT trap calls bench_stop_all, which stops each of them by
# that pid. Nothing is ever stopped by name.

BENCH_PIDS=""        # pids started by bench_spawn and not yet stopped
BENCH_LAST_PID=""    # the pid bench_spawn started last
BENCH_TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)

bench_log() {
    printf 'bench: %s\n' "$*" >&2
}

bench_die() {
    bench_log "$*"
    exit 1
}

# bench_now: seconds since the epoch with nanoseconds.
bench_now() {
    date +%s.%N
}

# bench_sub A B: A - B, three decimals.
bench_sub() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'
}

# bench_alive PID: the process exists and is not a zombie.
bench_alive() {
    local st
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# bench_spawn LOG CMD...: starts CMD in the background, output to LOG, and
# records its pid in BENCH_LAST_PID and BENCH_PIDS.
bench_spawn() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 &
    BENCH_LAST_PID=$!
    BENCH_PIDS="$BENCH_PIDS $BENCH_LAST_PID"
}

# bench_stop PID: SIGTERM, up to 15 s for a clean exit, then SIGKILL.
bench_stop() {
    local pid=$1 i=0 rest="" p
    if bench_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        while bench_alive "$pid" && [ $i -lt 150 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if bench_alive "$pid"; then
            bench_log "pid $pid did not stop on SIGTERM; SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    wait "$pid" 2>/dev/null
    for p in $BENCH_PIDS; do
        [ "$p" = "$pid" ] || rest="$rest $p"
    done
    BENCH_PIDS=$rest
}

# bench_stop_all: stops every recorded pid, newest first.
bench_stop_all() {
    local rev="" p
    for p in $BENCH_PIDS; do
        rev="$p $rev"
    done
    for p in $rev; do
        bench_stop "$p"
    done
}

# bench_port: sets BENCH_PORT to a loopback TCP port nobody listens on and
# that this run has not handed out before, below the ephemeral range so that
# wrk's own connections never collide with it. (Not in $(...): the list of
# ports handed out must survive.)
BENCH_PORTS=""
bench_port() {
    local p i=0
    while [ $i -lt 500 ]; do
        p=$(od -An -N2 -tu2 /dev/urandom | awk '{ printf "%d", 11000 + $1 % 20000 }')
        case " $BENCH_PORTS " in *" $p "*) i=$((i + 1)); continue ;; esac
        if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
            BENCH_PORTS="$BENCH_PORTS $p"
            # shellcheck disable=SC2034 # read by the caller
            BENCH_PORT=$p
            return 0
        fi
        i=$((i + 1))
    done
    bench_die "no free port"
}

# bench_wait_listen PORT PID [TENTHS]: waits until process PID itself
# listens on PORT (not some other program that took the port meanwhile);
# fails at once if PID exits.
bench_wait_listen() {
    local i=0 max=${3:-100}
    while [ $i -lt "$max" ]; do
        bench_alive "$2" || return 1
        ss -Htlnp "sport = :$1" 2>/dev/null | grep -q "pid=$2," && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# bench_wait_file PATH [TENTHS]: waits until PATH exists (a socket, a pid file).
bench_wait_file() {
    local i=0 max=${2:-100}
    while [ $i -lt "$max" ]; do
        [ -e "$1" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# bench_children PID: the pids whose parent is PID (nginx's workers).
bench_children() {
    ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' ' '
}

# bench_status_kb FIELD PID...: sum of a /proc/PID/status field (VmRSS,
# VmHWM) over the pids, in kB.
bench_status_kb() {
    local f=$1 s=0 v p
    shift
    for p in "$@"; do
        v=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# bench_ticks PID...: utime + stime of the pids (clock ticks).
bench_ticks() {
    local s=0 v p
    for p in "$@"; do
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# bench_ticks_s TICKS: clock ticks as seconds.
bench_ticks_s() {
    awk -v t="$1" -v hz="$BENCH_TICK" 'BEGIN { printf "%.2f", t / hz }'
}

# bench_wrk_field FILE WHAT: one figure from wrk --latency output.
#   rps | p50 | p99 (ms) | requests | non2xx | errors (socket errors, summed)
bench_wrk_field() {
    awk -v what="$2" '
    function ms(v) {
        if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
        if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
        if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
        if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
        return v + 0
    }
    what == "rps" && /^Requests\/sec:/ { out = $2 + 0 }
    what == "p50" && $1 == "50%" { out = ms($2) }
    what == "p99" && $1 == "99%" { out = ms($2) }
    what == "requests" && / requests in / { out = $1 + 0 }
    what == "non2xx" && /Non-2xx or 3xx responses:/ { out = $NF + 0 }
    what == "errors" && /Socket errors:/ {
        gsub(/,/, "")
        out = $4 + $6 + $8 + $10
    }
    END { printf "%s", (out == "" ? 0 : out) }
    ' "$1"
}

# bench_median V...: the median of the values (mean of the two middle ones
# for an even count); "-" when there are none.
bench_median() {
    [ $# -eq 0 ] && { echo "-"; return; }
    printf '%s\n' "$@" | sort -g | awk '
    { v[NR] = $1 }
    END {
        if (NR % 2) printf "%.15g", v[(NR + 1) / 2]
        else printf "%.15g", (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

# bench_div A B [FMT]: A / B formatted ("-" when B is 0 or not a number).
bench_div() {
    awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {
        if (b + 0 == 0) { printf "-"; exit }
        printf f, a / b }'
}

# bench_fmt N: an integer with thousands separators (",").
bench_fmt() {
    awk -v n="$1" 'BEGIN {
        if (n == "-" || n == "") { printf "-"; exit }
        s = sprintf("%.0f", n); neg = ""
        if (substr(s, 1, 1) == "-") { neg = "-"; s = substr(s, 2) }
        out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        printf "%s%s%s", neg, s, out }'
}

# bench_ge A B: exit 0 when A >= B (numbers).
bench_ge() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && a + 0 >= b + 0) }'
}

# bench_mb KB: kilobytes as MB with one decimal.
bench_mb() {
    awk -v k="$1" 'BEGIN { if (k == "-" || k == "") printf "-"; else printf "%.1f", k / 1024 }'
}

# bench_mbb BYTES...: the sum of the byte counts as MB with one decimal.
bench_mbb() {
    awk 'BEGIN { for (i = 1; i < ARGC; i++) { if (ARGV[i] == "-") { printf "-"; exit } s += ARGV[i] }
                 printf "%.1f", s / 1048576 }' "$@"
}
