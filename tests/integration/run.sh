#!/bin/sh
# run.sh BIN [criterion flags] - runs the integration binary with
# HZ_TEST_TMP set to a temporary folder of its own, removed afterwards.
# Each test starts the real parts it needs itself (harness.c: redis-server
# on a private unix socket, haze's binaries), and stops them by pid.
set -u
bin=$1; shift
tmp=$(mktemp -d /tmp/haze-it.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
HZ_TEST_TMP="$tmp" sh tests/criterion-run.sh "$bin" "$@"
