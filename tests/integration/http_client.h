/* SPDX-License-Identifier: MIT */
/*
 * http_client.h - a tiny blocking HTTP/1.1 client for integration tests:
 * one request per connection ("Connection: close"), loopback only, with a
 * timeout. Shared by the dashboard and collector tests.
 *
 * Responses are read to EOF; Content-Length and chunked bodies are both
 * decoded, and HEAD answers have no body. Everything in a response is
 * malloc'd and freed by hz_httpc_free.
 */
#ifndef HZ_TESTS_HTTP_CLIENT_H
#define HZ_TESTS_HTTP_CLIENT_H

#include <stddef.h>

struct hz_httpc_resp {
    int status;    /* 200, 404, ...; 0 if the status line was unreadable */
    char *headers; /* the header lines after the status line, "Name: value\r\n"... */
    char *body;    /* decoded body, NUL-terminated (may hold NULs) */
    size_t body_len;
};

#define HZ_HTTPC_TIMEOUT_MS 5000

/*
 * Sends method path to host:port with extra header lines (each ending in
 * "\r\n", or NULL) and an optional body (Content-Length is added when body
 * is not NULL). Host and Connection: close are added. 0, or -1 when the
 * connection or the exchange failed (out is then zeroed).
 */
int hz_httpc_request(const char *host, int port, const char *method, const char *path,
                     const char *headers, const char *body, size_t body_len,
                     struct hz_httpc_resp *out);

/* Sends raw bytes as they are (for malformed requests) and reads the answer. */
int hz_httpc_raw(const char *host, int port, const char *raw, size_t len, int is_head,
                 struct hz_httpc_resp *out);

/* Copies the first header named name (case-insensitive) into out.
 * 1 if found, 0 otherwise. */
int hz_httpc_header(const struct hz_httpc_resp *r, const char *name, char *out, size_t cap);

/* Frees what r holds and zeroes it. */
void hz_httpc_free(struct hz_httpc_resp *r);

/* 0 once a TCP connection to host:port succeeds, -1 after timeout_ms. */
int hz_httpc_wait(const char *host, int port, int timeout_ms);

#endif
