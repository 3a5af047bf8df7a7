/* SPDX-License-Identifier: MIT */
/* idlog_test.c - keys and encoding of the applied hit id log (common/idlog.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "common/idlog.h"

Test(idlog, a_hit_id_packs_big_endian_and_reads_back)
{
    unsigned char b[HZ_IDLOG_ID_LEN];
    static const unsigned char want[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

    cr_assert_eq(hz_idlog_pack("0123456789abcdef", 16, b), 0);
    cr_assert_eq(memcmp(b, want, sizeof(want)), 0);
    cr_assert_eq(hz_idlog_get(b), 0x0123456789abcdefULL);
    cr_assert_eq(hz_idlog_pack("FFFFFFFFFFFFFFFF", 16, b), 0);
    cr_assert_eq(hz_idlog_get(b), UINT64_MAX);
}

Test(idlog, only_sixteen_hex_digits_pack)
{
    unsigned char b[HZ_IDLOG_ID_LEN] = {7, 7, 7, 7, 7, 7, 7, 7};

    cr_assert_eq(hz_idlog_pack("0123456789abcde", 15, b), -1);
    cr_assert_eq(hz_idlog_pack("0123456789abcdef0", 17, b), -1);
    cr_assert_eq(hz_idlog_pack("0123456789abcdeg", 16, b), -1);
    cr_assert_eq(hz_idlog_pack("0123456789abcd f", 16, b), -1);
    cr_assert_eq(b[0], 7, "nothing written on error");
}

Test(idlog, keys_are_per_ten_seconds_of_stream_id_time)
{
    char k[HZ_IDLOG_KEY_MAX];

    cr_assert_eq(hz_idlog_bucket(1764950399999ULL), 176495039ULL);
    cr_assert_eq(hz_idlog_bucket(1764950400000ULL), 176495040ULL);
    cr_assert_eq(hz_idlog_key(k, sizeof(k), "haze:events", 176495040ULL),
                 strlen("haze:events:applied:176495040"));
    cr_assert_str_eq(k, "haze:events:applied:176495040");
    cr_assert_eq(hz_idlog_key(k, 10, "haze:events", 1), 0, "too long for the buffer");
}
