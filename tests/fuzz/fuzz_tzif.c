/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tzif.c - libFuzzer target for common/tz.h's TZif reader and its
 * POSIX TZ footer. Any input either fails cleanly or gives a zone whose
 * offsets, over times from the far past to the far future, stay within
 * RFC 8536's bounds (+-25:59:59, one hour more for a footer's DST), and
 * whose local day and hour numbers agree with each other.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static int64_t
fdiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hz_tz_zone *z = NULL;

    if (hz_tz_zone_parse(data, size, &z) != 0) {
        check(z == NULL);
        return 0;
    }
    check(z != NULL);
    for (int64_t t = -(INT64_C(1) << 42); t < (INT64_C(1) << 42); t += (INT64_C(1) << 35) + 7919) {
        long off = hz_tz_zone_offset(z, t);
        check(off >= -26 * 3600 - 3600 && off <= 26 * 3600 + 3600);
    }
    for (int64_t t = 0; t < 5000000000LL; t += 86400 * 13 + 3599) {
        long off = hz_tz_zone_offset(z, t);
        int64_t local = t + off;
        check(off >= -26 * 3600 - 3600 && off <= 26 * 3600 + 3600);
        check(fdiv(fdiv(local, 3600), 24) == fdiv(local, 86400));
    }
    hz_tz_zone_free(z);
    return 0;
}
