/* SPDX-License-Identifier: MIT */
/*
 * col_maxlen_test.c - [redis] maxlen caps the stream although only a
 * connection's first XADD and every PUB_TRIM_EVERY-th carry MAXLEN ~
 * (collector/pub_int.h): with no aggregator trimming it, 2,500 hits leave
 * at least maxlen entries (the cap is approximate: Redis trims whole nodes
 * only) and no more than maxlen, a node (stream-node-max-entries, 100) and
 * PUB_TRIM_EVERY - 1 untrimmed XADDs for each of the two threads.
 */
#include <criterion/criterion.h>

#include "collector/pub_int.h"
#include "tests/integration/collector_env.h"

#define ML_CAP  1000
#define ML_HITS 2500

Test(collector_maxlen, cap_holds_with_lean_xadds, .timeout = 120)
{
    struct ce e;
    long n;

    ce_start_tail(&e, 0, NULL, "[redis]\nmaxlen = 1000\n");
    ce_page_hits(&e, 0, ML_HITS);
    n = ht_redis_xlen(&e.redis, CE_STREAM);
    cr_expect_geq(n, ML_CAP, "XLEN %ld: trimmed below the cap", n);
    cr_expect_leq(n, ML_CAP + 100 + 2 * (PUB_TRIM_EVERY - 1), "XLEN %ld: the cap did not hold", n);
    ce_stop(&e);
}
