#!/bin/sh
# replay.sh BUILD NAME... - replays tests/fuzz/corpus/NAME/* through each
# target; prints "N passed, N failed" (one per target) and fails on any crash.
set -u
build=$1; shift
pass=0; fail=0
for n in "$@"; do
    dir=tests/fuzz/corpus/$n
    if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir")" ]; then
        echo "fuzz-replay: $n: no corpus in $dir"; fail=$((fail + 1)); continue
    fi
    if "$build/tests/replay_$n" "$dir"/* >/dev/null; then
        echo "fuzz-replay: $n: $(ls "$dir" | wc -l) inputs ok"; pass=$((pass + 1))
    else
        echo "fuzz-replay: $n: FAILED"; fail=$((fail + 1))
    fi
done
echo "fuzz-replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
