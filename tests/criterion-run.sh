#!/bin/sh
# criterion-run.sh BIN [ARGS...] - runs a Criterion test binary and passes
# when no test failed or crashed. Criterion 2.4.1 exits 1 when a test was
# skipped (cr_skip_test: the cross-checks against ../shared when it is
# absent), even though nothing failed; the skip is printed, not hidden.
out=$(mktemp /tmp/haze-criterion.XXXXXX)
"$@" 2>&1 | tee "$out"
status=0
if ! grep -q 'Synthesis: Tested: [0-9]* | Passing: [0-9]* | Failing: 0 | Crashing: 0' "$out"; then
    status=1
fi
rm -f "$out"
exit $status
