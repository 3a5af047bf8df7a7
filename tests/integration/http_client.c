/* SPDX-License-Identifier: MIT */
/*
 * http_client.c - blocking HTTP/1.1 test client (see http_client.h).
 */
#include "tests/integration/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int
httpc_connect(const char *host, int port)
{
    struct sockaddr_in sa;
    struct timeval tv = {HZ_HTTPC_TIMEOUT_MS / 1000, 0};
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
httpc_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w =
            send(fd, p, n, MSG_NOSIGNAL); /* a server that closed early must not kill the test */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads to EOF into a malloc'd buffer. */
static char *
httpc_read_all(int fd, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);

    if (b == NULL)
        return NULL;
    for (;;) {
        ssize_t r;
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
        r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            /* A reset after a complete answer (server closed) still counts. */
            if (n > 0)
                break;
            free(b);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* Decodes a chunked body in place; returns its length or -1. */
static long
httpc_dechunk(char *b, size_t n)
{
    size_t in = 0, out = 0;

    for (;;) {
        char *end;
        unsigned long sz = strtoul(b + in, &end, 16);
        char *crlf = strstr(b + in, "\r\n");
        if (end == b + in || crlf == NULL)
            return -1;
        in = (size_t)(crlf - b) + 2;
        if (sz == 0)
            return (long)out;
        if (in + sz > n)
            return -1;
        memmove(b + out, b + in, sz);
        out += sz;
        in += sz + 2;
        if (in > n)
            return -1;
    }
}

static int
httpc_parse(char *raw, size_t n, int is_head, struct hz_httpc_resp *out)
{
    char *eoh = strstr(raw, "\r\n\r\n"), *eol, *body;
    size_t hlen, blen;
    char te[64], cl[32];

    if (eoh == NULL || sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1)
        return -1;
    eol = strstr(raw, "\r\n");
    hlen = (size_t)(eoh + 2 - (eol + 2));
    out->headers = malloc(hlen + 1);
    if (out->headers == NULL)
        return -1;
    memcpy(out->headers, eol + 2, hlen);
    out->headers[hlen] = '\0';
    body = eoh + 4;
    blen = n - (size_t)(body - raw);
    if (is_head || out->status == 204 || out->status == 304)
        blen = 0;
    out->body = malloc(blen + 1);
    if (out->body == NULL)
        return -1;
    memcpy(out->body, body, blen);
    out->body[blen] = '\0';
    out->body_len = blen;
    if (!is_head && hz_httpc_header(out, "Transfer-Encoding", te, sizeof(te)) &&
        strcasecmp(te, "chunked") == 0) {
        long d = httpc_dechunk(out->body, blen);
        if (d < 0)
            return -1;
        out->body_len = (size_t)d;
        out->body[d] = '\0';
    } else if (!is_head && hz_httpc_header(out, "Content-Length", cl, sizeof(cl))) {
        size_t want = (size_t)strtoul(cl, NULL, 10);
        if (want < out->body_len) {
            out->body_len = want;
            out->body[want] = '\0';
        }
    }
    return 0;
}

int
hz_httpc_raw(const char *host, int port, const char *raw, size_t len, int is_head,
             struct hz_httpc_resp *out)
{
    int fd = httpc_connect(host, port);
    size_t n = 0;
    char *resp;

    memset(out, 0, sizeof(*out));
    if (fd < 0)
        return -1;
    if (httpc_write_all(fd, raw, len) != 0) {
        /* The server may answer (413, 431) and close before reading it all. */
    }
    (void)shutdown(fd, SHUT_WR);
    resp = httpc_read_all(fd, &n);
    close(fd);
    if (resp == NULL)
        return -1;
    if (httpc_parse(resp, n, is_head, out) != 0) {
        free(resp);
        hz_httpc_free(out);
        return -1;
    }
    free(resp);
    return 0;
}

int
hz_httpc_request(const char *host, int port, const char *method, const char *path,
                 const char *headers, const char *body, size_t body_len, struct hz_httpc_resp *out)
{
    size_t hl =
        strlen(method) + strlen(path) + strlen(host) + (headers ? strlen(headers) : 0) + 128;
    char *req = malloc(hl + body_len);
    int n, rc;

    memset(out, 0, sizeof(*out));
    if (req == NULL)
        return -1;
    n = snprintf(req, hl, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n%s", method, path,
                 host, port, headers ? headers : "");
    if (body != NULL)
        n += snprintf(req + n, hl - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(req + n, hl - (size_t)n, "\r\n");
    if (body != NULL) {
        memcpy(req + n, body, body_len);
        n += (int)body_len;
    }
    rc = hz_httpc_raw(host, port, req, (size_t)n, strcmp(method, "HEAD") == 0, out);
    free(req);
    return rc;
}

int
hz_httpc_header(const struct hz_httpc_resp *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = r->headers;

    while (p != NULL && *p != '\0') {
        const char *eol = strstr(p, "\r\n");
        size_t llen = eol ? (size_t)(eol - p) : strlen(p);
        if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            size_t vlen = llen - nlen - 1;
            while (vlen > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vlen--;
            }
            if (cap > 0) {
                size_t c = vlen < cap - 1 ? vlen : cap - 1;
                memcpy(out, v, c);
                out[c] = '\0';
            }
            return 1;
        }
        p = eol ? eol + 2 : NULL;
    }
    return 0;
}

void
hz_httpc_free(struct hz_httpc_resp *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

int
hz_httpc_wait(const char *host, int port, int timeout_ms)
{
    struct timespec pause = {0, 20 * 1000 * 1000};

    for (int waited = 0; waited < timeout_ms; waited += 20) {
        int fd = httpc_connect(host, port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        (void)nanosleep(&pause, NULL);
    }
    return -1;
}
