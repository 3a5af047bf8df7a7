/* SPDX-License-Identifier: MIT */
/*
 * proxy.h - the client's address: the connection's peer, or, only when the
 * peer is a trusted proxy, the address that X-Forwarded-For or Forwarded
 * (RFC 7239) names. Every X-Forwarded-For line and every Forwarded header
 * of the request is read, in the order they came, as one list of hops
 * (a proxy may append to a line or add a line of its own, and HAProxy's
 * line comes after one the client sent). Walking the list right to left,
 * trusted hops are skipped and the first untrusted address is the client;
 * if every hop is trusted, the leftmost is. A client's own header lines
 * come before its proxy's, so they are never read as the client.
 *
 * Pure; the address is returned to the caller's stack and never kept.
 *
 * Details (README documents them for operators):
 * - An untrusted peer's headers are not read at all, even when malformed.
 * - X-Forwarded-For: comma-separated, optional spaces/tabs, empty elements
 *   skipped. An element is "1.2.3.4", "1.2.3.4:port", "2001:db8::1",
 *   "[2001:db8::1]" or "[2001:db8::1]:port".
 * - Forwarded: RFC 7239 elements (",") of pairs (";"), names any case,
 *   values tokens or quoted strings, spaces tolerated around ';' and ','.
 *   The node of "for" is one of the forms above, or "unknown"/"_obf",
 *   which are refused. Elements without "for" name no hop and are
 *   skipped; a Forwarded header with no "for" at all adds no hop, and an
 *   empty or all-blank header neither.
 * - The syntax of a used header is checked as a whole (size, hop count,
 *   list and quoting), but addresses are checked only as far as the walk
 *   reads them: text left of the client's hop was written by the client
 *   and is never used, so "unknown, 203.0.113.9" from a trusted proxy
 *   gives 203.0.113.9.
 * - The result is the address only (port 0, no scope id); an IPv4-mapped
 *   IPv6 address ("::ffff:192.0.2.1", from a peer or a header) is returned
 *   as AF_INET, so one client has one address however it connected.
 */
#ifndef HZ_COLLECTOR_PROXY_H
#define HZ_COLLECTOR_PROXY_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/net.h"

#define HZ_PROXY_HOPS_MAX   64   /* hops in all the lines */
#define HZ_PROXY_HEADER_MAX 8192 /* bytes in one line */
#define HZ_PROXY_LINES_MAX  16   /* X-Forwarded-For and Forwarded lines */

/* One header line: X-Forwarded-For (fwd 0) or Forwarded (fwd 1). */
struct hz_proxy_line {
    const char *v;
    size_t len;
    int fwd;
};

/* The client's address from the peer and the request's forwarding header
 * lines in their order (lines may be NULL when nlines is 0). 0, or
 * HZ_EINVAL as below, also for more than HZ_PROXY_LINES_MAX lines from a
 * trusted peer. */
int hz_proxy_client_lines(const struct sockaddr *peer, const struct hz_cidrset *trusted,
                          const struct hz_proxy_line *lines, int nlines,
                          struct sockaddr_storage *out, struct hz_err *err);

/* 1 when peer is a trusted proxy (trusted may be NULL: none), whose
 * forwarding headers hz_proxy_client_lines reads. */
int hz_proxy_trusted(const struct sockaddr *peer, const struct hz_cidrset *trusted);

/* 1 when one of the lines names anything (a line of blanks names nothing). */
int hz_proxy_lines_set(const struct hz_proxy_line *lines, int nlines);

/* The same for at most one line of each, read as X-Forwarded-For then
 * Forwarded. xff / fwd may be NULL (header absent); trusted may be NULL (none). 0, or
 * HZ_EINVAL when the peer is not AF_INET/AF_INET6, or when the peer is
 * trusted and a header it sent is malformed (garbage, a host name, an
 * "unknown" or obfuscated node, over 64 hops, over 8 KiB). The reason in
 * err never quotes the header. On error *out is untouched. */
int hz_proxy_client(const struct sockaddr *peer, const struct hz_cidrset *trusted, const char *xff,
                    size_t xfflen, const char *fwd, size_t fwdlen, struct sockaddr_storage *out,
                    struct hz_err *err);

#endif
