/* SPDX-License-Identifier: MIT */
/*
 * proxy.h - the client's address: the connection's peer, or, only when the
 * peer is a trusted proxy, the address that X-Forwarded-For or Forwarded
 * (RFC 7239) names. Walking right to left, trusted hops are skipped and
 * the first untrusted address is the client; if every hop is trusted, the
 * leftmost is. Forwarded wins when both headers are present.
 *
 * Pure; the address is returned to the caller's stack and never kept.
 */
#ifndef HZ_COLLECTOR_PROXY_H
#define HZ_COLLECTOR_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/net.h"

/* xff / fwd may be NULL (header absent). 0, or HZ_EINVAL when the peer is
 * trusted and a present header is malformed (garbage, a host name, an
 * "unknown" or obfuscated node, over 64 hops, over 8 KiB). */
int hz_proxy_client(const struct sockaddr *peer, const struct hz_cidrset *trusted,
                    const char *xff, size_t xfflen, const char *fwd, size_t fwdlen,
                    struct sockaddr_storage *out, struct hz_err *err);

#endif
