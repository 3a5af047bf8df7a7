/* SPDX-License-Identifier: MIT */
/*
 * visitor.h - the daily visitor hash (DESIGN.md privacy rule 3):
 * SipHash-2-4 keyed by the day's random salt over (site, address, user
 * agent). The salt changes every UTC day and is destroyed after it, so a
 * hash cannot be linked across days or reversed. Pure: no I/O.
 *
 * The salt itself is created and shared through Redis by the publisher
 * (SET NX, expiring at the end of the next day) and held in struct hz_salts.
 */
#ifndef HZ_COLLECTOR_VISITOR_H
#define HZ_COLLECTOR_VISITOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/record.h"
#include "common/siphash.h"

#define HZ_SALT_HEX (2 * HZ_SIPHASH_KEY)

/* Today's and yesterday's salts, by UTC day number. A zero day means
 * "not known". */
struct hz_salts {
    int32_t day;
    unsigned char today[HZ_SIPHASH_KEY];
    int32_t prev_day;
    unsigned char prev[HZ_SIPHASH_KEY];
};

/* Writes the 16-hex-digit hash of (site, address, ua) under salt into out.
 * IPv4 and IPv4-mapped IPv6 hash the same. */
void hz_visitor_hash(const unsigned char salt[HZ_SIPHASH_KEY], const char *site,
                     const struct sockaddr *sa, const char *raw_ua, size_t ua_len,
                     char out[HZ_VHASH_LEN + 1]);

/* Parses a salt's 32 hex digits. 0 or HZ_EINVAL. */
int hz_salt_parse(const char *hex, size_t len, unsigned char out[HZ_SIPHASH_KEY]);

#endif
