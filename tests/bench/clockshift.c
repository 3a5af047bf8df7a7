/* SPDX-License-Identifier: MIT */
/*
 * clockshift.c - LD_PRELOAD shim for tests/bench/replay.sh: the process's
 * wall clock (CLOCK_REALTIME) starts at HZ_FAKE_START_MS (ms since the
 * epoch) and runs on from there, so that a collector can be watched
 * crossing UTC midnight (its salt change) without waiting for it. The
 * monotonic clocks are left alone. Bench tooling only; never linked into
 * haze.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long long cs_shift_ns;
static int cs_ready;

int
clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    int rc;

    if (real == NULL)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    rc = real(id, ts);
    if (rc != 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE))
        return rc;
    long long now = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec;
    if (!cs_ready) {
        const char *s = getenv("HZ_FAKE_START_MS");
        if (s != NULL)
            cs_shift_ns = atoll(s) * 1000000LL - now;
        cs_ready = 1;
    }
    now += cs_shift_ns;
    ts->tv_sec = (time_t)(now / 1000000000LL);
    ts->tv_nsec = (long)(now % 1000000000LL);
    return rc;
}
