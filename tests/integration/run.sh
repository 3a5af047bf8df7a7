#!/bin/sh
# run.sh BIN [criterion flags] - starts a private redis-server on a unix
# socket in a temporary folder (as hiredis's test.sh does), exports
# HZ_TEST_REDIS=unix:/path and HZ_TEST_TMP, runs the integration binary, and
# stops redis by its pid whatever happens.
set -u
bin=$1; shift
tmp=$(mktemp -d /tmp/haze-it.XXXXXX)
sock=$tmp/redis.sock
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$tmp" \
    --pidfile "$tmp/redis.pid" --daemonize yes --save '' --appendonly no \
    --logfile "$tmp/redis.log" >/dev/null
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ ! -S "$sock" ]; then echo "integration: redis-server did not start"; cat "$tmp/redis.log"; exit 1; fi
cleanup() {
    [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null
    sleep 0.1
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
HZ_TEST_REDIS="unix:$sock" HZ_TEST_TMP="$tmp" sh tests/criterion-run.sh "$bin" "$@"
