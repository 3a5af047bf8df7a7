#!/bin/sh
# lint.sh - DESIGN.md's boundaries as failing checks, then clang-tidy when
# asked (LINT_TIDY=1; slow). Prints each violation and exits 1 on any.
set -u
fail=0
say() { echo "lint: $*"; fail=1; }

# The internet-facing collector never touches LMDB.
grep -rln '<lmdb.h>' collector/ && say "collector/ includes lmdb.h"
# ... nor links it, and the dashboard links no Redis client: each program gets
# only its own libraries (Makefile NEEDS_*), checked on the built binaries.
for pair in collector:liblmdb dashboard:libhiredis geo:libhiredis geo:liblmdb; do
    b=${HZ_BIN:-bin}/haze-${pair%%:*}
    [ -x "$b" ] || continue
    readelf -d "$b" | grep -q "NEEDED.*\[${pair#*:}\." && say "$b links ${pair#*:}"
done
# The dashboard never writes.
grep -rnE 'mdb_(put|del|drop)\b' dashboard/ && say "dashboard/ writes LMDB"
# hiredis only behind the Redis modules: common/rstream.c (every blocking
# use) and the collector's async publisher (publish.c, pub_*.{c,h}).
grep -rln '<hiredis/' common collector aggregator dashboard geo | \
    grep -vE '^(common/rstream\.c|collector/publish\.c|collector/pub_[a-z]+\.[ch])$' && say "hiredis included outside rstream.c and the publisher"
# Never log a raw address or user agent.
grep -rnE 'hz_(log|fatal|out|errx)[a-z_]*\(.*raw_(ip|ua)' common collector aggregator dashboard geo && \
    say "a raw_ip/raw_ua value reaches a log call"
# Unfinished-work markers.
grep -rnE '\b(TODO|XXX|FIXME)\b' common collector aggregator dashboard geo tests/unit tests/integration && \
    say "unfinished-work markers"
# Diagnostics only through common/log.c.
grep -rnE 'fprintf\(stderr' common collector aggregator dashboard geo | grep -v '^common/bin2c.c' && \
    say "fprintf(stderr) outside common/log.c"

if [ "${LINT_TIDY:-0}" = 1 ]; then
    srcs=$(git ls-files 'common/*.c' 'collector/*.c' 'aggregator/*.c' 'dashboard/*.c' 'geo/*.c')
    clang-tidy --quiet $srcs -- -std=c11 -D_DEFAULT_SOURCE -I. -Ibuild/release/gen \
        $(pkg-config --cflags libevent hiredis lmdb libmaxminddb inih jansson) || fail=1
fi
[ $fail -eq 0 ] && echo "lint: clean"
exit $fail
