#!/bin/sh
# run.sh BIN [criterion flags] - runs the integration binary with
# HZ_TEST_TMP set to a temporary folder of its own, removed afterwards.
# Each test starts the real parts it needs itself (harness.c: redis-server
# on a private unix socket, haze's binaries), and stops them by pid.
#
# The collector reads and writes its sockets through io_uring where the
# kernel allows it, with read/writev otherwise: its front's suites run a
# second time the other way (HAZE_IO_URING=0, inherited by the collectors
# the tests start). collector_io runs both ways itself.
set -u
bin=$1; shift
tmp=$(mktemp -d /tmp/haze-it.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0
HZ_TEST_TMP="$tmp" sh tests/criterion-run.sh "$bin" "$@" || status=1
echo "== the collector's front again, with read/writev (HAZE_IO_URING=0)"
HAZE_IO_URING=0 HZ_TEST_TMP="$tmp" sh tests/criterion-run.sh "$bin" "$@" \
    --filter '@(collector|collector_bad|collector_strict|hostile|http_details|proxy_lines)/*' || status=1
exit $status
