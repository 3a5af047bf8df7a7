#!/bin/sh
# stack.sh - how haze's own scripts start the stack: `make run`
# (scripts/run.sh), the browser tests (tests/e2e/run.sh) and the benchmarks
# (tests/bench/). Each caller runs these under its own process keeper (log
# prefixing, pid lists), so the pieces exec in place and keep their pid.
#
#   stack.sh redis DIR [aof]     exec a private redis-server on DIR/redis.sock:
#                                no TCP port, socket mode 700, no RDB,
#                                64 KiB stream nodes (README, "What Redis
#                                must be set to"); with "aof", appendonly +
#                                appendfsync always
#   stack.sh ready PID SECS CMD  retry CMD every 0.1 s until it succeeds, while
#                                PID lives; 1 with a reason otherwise
#   stack.sh check INI BIN       `-t` of each daemon against INI (fails fast on
#                                a bad file, naming file, line and key)
#   stack.sh daemon NAME INI BIN exec BIN/haze-NAME -c INI
#
# The daemons start in any order (each waits for what it needs), so callers
# need no order between them; they wait for readiness only to know when to
# send traffic.
set -u
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
redis)
    dir=$1
    aof=no
    [ "${2:-}" = aof ] && aof=yes
    exec redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
        --save '' --appendonly "$aof" --appendfsync always --stream-node-max-bytes 65536 \
        --daemonize no --loglevel warning
    ;;
ready)
    pid=$1 secs=$2
    shift 2
    i=0
    while [ "$i" -lt $((secs * 10)) ]; do
        "$@" >/dev/null 2>&1 && exit 0
        kill -0 "$pid" 2>/dev/null || { echo "stack: pid $pid exited before it was ready ($*)" >&2; exit 1; }
        sleep 0.1
        i=$((i + 1))
    done
    echo "stack: not ready after $secs s: $*" >&2
    exit 1
    ;;
check)
    ini=$1 bin=$2
    for d in aggregator collector dashboard; do
        "$bin/haze-$d" -c "$ini" -t >/dev/null || exit 1
    done
    ;;
daemon)
    exec "$3/haze-$1" -c "$2"
    ;;
*)
    echo "usage: stack.sh redis DIR [aof] | ready PID SECS CMD... | check INI BIN | daemon NAME INI BIN" >&2
    exit 2
    ;;
esac
