/* SPDX-License-Identifier: MIT */
/*
 * net.h - listen/connect addresses and CIDR sets, parsed from config text.
 * Pure functions: no sockets are opened here.
 */
#ifndef HZ_COMMON_NET_H
#define HZ_COMMON_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

#define HZ_ADDR_PATH_MAX 108

/* "host:port", "[v6]:port", or "unix:/path". */
struct hz_addr {
    int is_unix;
    char host[64];               /* numeric or name, without brackets */
    int port;                    /* 1..65535 (0 for unix) */
    char path[HZ_ADDR_PATH_MAX]; /* unix socket path */
};

/* Parses (s, len) into out. 0 or HZ_EINVAL with err->msg saying why. */
int hz_addr_parse(const char *s, size_t len, struct hz_addr *out, struct hz_err *err);

/* One network: family AF_INET or AF_INET6, 16 bytes of address (IPv4 in
 * the first 4), prefix length. */
struct hz_cidr {
    int family;
    unsigned char addr[16];
    int prefix;
};

#define HZ_CIDR_MAX 32

struct hz_cidrset {
    int n;
    struct hz_cidr nets[HZ_CIDR_MAX];
};

/* "10.0.0.0/8 ::1 192.168.1.1" (space or comma separated). A bare address
 * is a /32 or /128. 0, or HZ_EINVAL naming the bad entry in err->msg. */
int hz_cidrset_parse(const char *s, size_t len, struct hz_cidrset *out, struct hz_err *err);

/* Parses one textual IP (v4 or v6, no port) into a sockaddr_storage.
 * 0 or HZ_EINVAL. */
int hz_ip_parse(const char *s, size_t len, struct sockaddr_storage *out);

/* 1 if sa (AF_INET, AF_INET6, or IPv4-mapped IPv6) is inside the set. */
int hz_cidrset_match(const struct hz_cidrset *set, const struct sockaddr *sa);

#endif
