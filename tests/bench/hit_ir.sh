#!/bin/sh
# SPDX-License-Identifier: MIT
#
# hit_ir.sh - the collector's instructions per hit, counted by callgrind
# (perf's counters do not work on every VM, and instruction counts do not
# depend on the machine's load): haze-collector (one thread) runs under
# valgrind --tool=callgrind against a private redis-server on a unix
# socket, and curl sends make bench's requests on one keep-alive
# connection: the pixel (tests/bench/run.sh's PIXEL_PATH, Chrome's user
# agent, X-Forwarded-For) and the tracker's POST /api/event
# (tests/bench/event.lua's body). Each kind runs twice, SMALL and BIG hits;
# the difference divided by BIG - SMALL is the cost of a hit without the
# start and stop. Prints, for each kind, the total and the functions with
# the most inclusive instructions per hit.
#
#   sh tests/bench/hit_ir.sh [COLLECTOR]      default bin/haze-collector
#
# Environment: HIT_IR_SMALL [200], HIT_IR_BIG [2200], HIT_IR_KINDS
# ["pixel event"], HIT_IR_TOP [30], HIT_IR_OUT [build/hit_ir]: where the
# callgrind files stay, to compare two binaries with callgrind_annotate.
# Instructions a valgrind'ed rep stosb / rep movsb counts per byte, so a
# large memset weighs more here than on the CPU.
set -u
cd "$(dirname "$0")/../.." || exit 1

COL=${1:-bin/haze-collector}
SMALL=${HIT_IR_SMALL:-200}
BIG=${HIT_IR_BIG:-2200}
KINDS=${HIT_IR_KINDS:-pixel event}
TOP=${HIT_IR_TOP:-30}
OUT=${HIT_IR_OUT:-build/hit_ir}
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36'
PIXEL_PATH='/p.gif?d=shop.example&u=https%3A%2F%2Fshop.example%2Fproducts%2Fbusiness-cards%3Futm_source%3Dnewsletter&r=https%3A%2F%2Fwww.google.com%2F'
BODY='{"n":"pageview","u":"https://shop.example/products/business-cards?utm_source=newsletter","d":"shop.example","r":"https://www.google.com/","w":1920}'

for c in valgrind callgrind_annotate redis-server redis-cli curl perl ss; do
    command -v "$c" >/dev/null 2>&1 || { echo "hit_ir: $c not found" >&2; exit 1; }
done
[ -x "$COL" ] || { echo "hit_ir: $COL not built" >&2; exit 1; }
mkdir -p "$OUT" || exit 1
TMP=$(mktemp -d /tmp/haze-hit-ir.XXXXXX) || exit 1
RPID="" CPID=""
cleanup() {
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
perl tests/data/make-mmdb.pl tests/data/geo-fixture.tsv "$TMP/geo.mmdb" >/dev/null || exit 1

# run KIND N FILE: one collector under callgrind taking N hits of KIND.
run() {
    local kind=$1 n=$2 file=$3 d=$TMP/run port i url
    rm -rf "$d"
    mkdir -p "$d/spool"
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
    sh scripts/stack.sh redis "$d" >"$d/redis.log" 2>&1 &
    RPID=$!
    i=0
    while [ ! -S "$d/redis.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    cat >"$d/haze.ini" <<EOF
[redis]
address = unix:$d/redis.sock
stream = haze:events
[collector]
user = root
listen = 127.0.0.1:$port
threads = 1
trusted_proxies = 127.0.0.1/8 ::1
spool_dir = $d/spool
[geo]
database = $TMP/geo.mmdb
[site shop.example]
timezone = UTC
EOF
    valgrind --tool=callgrind --callgrind-out-file="$file" "$COL" -c "$d/haze.ini" \
        >"$d/collector.log" 2>&1 &
    CPID=$!
    i=0
    until ss -ltn | grep -q ":$port "; do
        if [ $i -ge 600 ] || ! kill -0 "$CPID" 2>/dev/null; then
            cat "$d/collector.log" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    if [ "$kind" = pixel ]; then
        url=http://127.0.0.1:$port$PIXEL_PATH
        set --
    else
        url=http://127.0.0.1:$port/api/event
        set -- -H 'Content-Type: text/plain' --data-binary "$BODY"
    fi
    # One curl, one keep-alive connection, n requests in turn.
    i=0
    while [ $i -lt "$n" ]; do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$url"
        i=$((i + 1))
    done >"$d/curl.cfg"
    curl -s -K "$d/curl.cfg" -H "User-Agent: $UA" -H 'X-Forwarded-For: 192.0.2.44' "$@" \
        -w '%{http_code}\n' >"$d/codes" || { echo "hit_ir: curl failed" >&2; return 1; }
    sleep 0.3
    kill "$CPID"
    wait "$CPID"
    CPID=""
    kill "$RPID"
    wait "$RPID"
    RPID=""
    if [ "$(grep -c '^20[02]$' "$d/codes")" != "$n" ]; then
        echo "hit_ir: not every $kind hit was answered 2xx:" >&2
        sort "$d/codes" | uniq -c >&2
        return 1
    fi
}

# total FILE: the run's instructions.
total() {
    awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

# incl FILE: "instructions function" per function, inclusive.
incl() {
    callgrind_annotate --inclusive=yes --tree=none --threshold=100 "$1" 2>/dev/null |
        awk -v root="$PWD/" '$1 ~ /^[0-9,]+$/ {
            n = $1; gsub(",", "", n); f = $0
            sub(/^ *[0-9,]+ +(\([ 0-9.%]*\) +)?/, "", f); sub(/ \[.*$/, "", f)
            if (index(f, root) == 1) f = substr(f, length(root) + 1)
            if (f ~ /:/ && f !~ /^=>/ && f !~ /PROGRAM TOTALS/) print n "\t" f }'
}

for kind in $KINDS; do
    a=$OUT/$kind-$SMALL.cg b=$OUT/$kind-$BIG.cg
    run "$kind" "$SMALL" "$a" && run "$kind" "$BIG" "$b" || exit 1
    hits=$((BIG - SMALL))
    echo "hit_ir: $kind: $(( ($(total "$b") - $(total "$a")) / hits )) instructions per hit" \
        "($COL, $SMALL and $BIG hits)"
    incl "$a" >"$TMP/a"
    incl "$b" >"$TMP/b"
    awk -F '\t' -v h="$hits" 'NR == FNR { if ($1 > s[$2]) s[$2] = $1; next } { if ($1 > x[$2]) x[$2] = $1 }
        END { for (f in x) { d = (x[f] - s[f]) / h; if (d >= 1) printf "%9.0f  %s\n", d, f } }' \
        "$TMP/a" "$TMP/b" | sort -rn | head -n "$TOP"
done
