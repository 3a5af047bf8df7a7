/* SPDX-License-Identifier: MIT */
/*
 * fuzz_front.c - libFuzzer target for collector/front.h: the bytes a
 * client sends on one connection, parsed (llhttp) and answered as from a
 * socket. The first byte picks how the rest arrives (in reads of 1..64
 * bytes, or all at once) and how often answers are drained; the handler
 * answers at once, from static memory (/static), or only after the next
 * read (/later, as the publisher does). Checked, else abort:
 * - what the handler sees: a path and values that are NUL-terminated
 *   with no NUL, CR or LF inside, every header found by its own name,
 *   sizes within the limits;
 * - what goes out: a sequence of whole answers, one per request (plus
 *   "100 Continue"s and at most one refusal, which is the last), in
 *   request order, each with a Content-Length that matches its body
 *   (none for HEAD), and a refusal is 400/413/414/431 with one line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, also under the fuzz build's _DEFAULT_SOURCE */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/front.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQS 65536

static void
check(int ok)
{
    if (!ok)
        abort();
}

static char fuzz_big[3000];

struct fuzz_state {
    int nreq, refused, refusal_status;
    unsigned char head[FUZZ_REQS]; /* per request: HEAD */
    struct hz_front_slot *later[HZ_FRONT_SLOTS];
    int nlater;
    int later_n[HZ_FRONT_SLOTS];
};
static struct fuzz_state st;

static void
fuzz_answer(struct hz_front_slot *s, int n, int head)
{
    char body[64];
    int len = snprintf(body, sizeof(body), "req %d\n", n);

    (void)head;
    hz_front_reply(s, 200, "Content-Type: text/plain\r\n", NULL, body, (size_t)len);
}

static void
fuzz_handler(struct hz_req *r, void *arg)
{
    int n = st.nreq++;

    (void)arg;
    check(n < FUZZ_REQS);
    st.head[n] = r->method == HZ_M_HEAD;
    check(r->body_len <= 1024);
    if (r->path != NULL) {
        check(strlen(r->path) == r->path_len);
        check(r->path_len <= 2048);
    }
    if (r->query != NULL)
        check(strlen(r->query) == r->query_len);
    for (int i = 0; i < r->nh; i++) {
        const char *v;
        check(strlen(r->h[i].name) == r->h[i].name_len && r->h[i].name_len > 0);
        check(strlen(r->h[i].value) == r->h[i].value_len);
        check(strpbrk(r->h[i].value, "\r\n") == NULL);
        v = hz_req_header(r, r->h[i].name, NULL);
        check(v != NULL);
    }
    if (r->path != NULL && strcmp(r->path, "/later") == 0 && st.nlater < HZ_FRONT_SLOTS) {
        st.later[st.nlater] = r->slot;
        st.later_n[st.nlater++] = n;
        return;
    }
    if (r->path != NULL && strcmp(r->path, "/static") == 0) {
        char hdr[64];
        (void)snprintf(hdr, sizeof(hdr), "X-Req: %d\r\n", n);
        hz_front_reply_static(r->slot, 200, hdr, NULL, fuzz_big, sizeof(fuzz_big));
        return;
    }
    fuzz_answer(r->slot, n, st.head[n]);
}

static void
fuzz_refused(void *arg, int status)
{
    (void)arg;
    check(status == 400 || status == 413 || status == 414 || status == 431);
    check(!st.refused);
    st.refused = 1;
    st.refusal_status = status;
}

static void
fuzz_answer_later(void)
{
    for (int i = 0; i < st.nlater; i++)
        fuzz_answer(st.later[i], st.later_n[i], st.head[st.later_n[i]]);
    st.nlater = 0;
}

/* The answers so far, checked one by one; returns how many final ones. */
static size_t out_len;
static char out[1 << 20];
static int answers_seen, refusal_seen;
static size_t drained;

static void
fuzz_check_output(int final)
{
    size_t at = 0;

    while (at < out_len) {
        char *end = memmem(out + at, out_len - at, "\r\n\r\n", 4), *cl;
        int status;
        size_t hlen, blen = 0;
        if (end == NULL) {
            check(!final);
            break;
        }
        hlen = (size_t)(end + 4 - (out + at));
        check(sscanf(out + at, "HTTP/1.1 %3d ", &status) == 1);
        if (status == 100) {
            at += hlen;
            continue;
        }
        cl = memmem(out + at, hlen, "\r\nContent-Length: ", 18);
        check(cl != NULL);
        blen = strtoul(cl + 18, NULL, 10);
        if (status == 200) {
            check(answers_seen < st.nreq);
            if (st.head[answers_seen])
                blen = 0;
        }
        if (at + hlen + blen > out_len) {
            check(!final);
            break;
        }
        check(!refusal_seen); /* nothing after a refusal */
        if (status == 200) {
            char want[32];
            int k = answers_seen++;
            if (blen > 0 && blen != sizeof(fuzz_big)) {
                (void)snprintf(want, sizeof(want), "req %d\n", k);
                check(blen == strlen(want) && memcmp(out + at + hlen, want, blen) == 0);
            }
        } else {
            check(status == st.refusal_status);
            check(memmem(out + at, hlen, "\r\nConnection: close\r\n", 21) != NULL);
            check(blen > 1 && memchr(out + at + hlen, '\n', blen) == out + at + hlen + blen - 1);
            refusal_seen = 1;
        }
        at += hlen + blen;
    }
    memmove(out, out + at, out_len - at);
    out_len -= at;
}

static void
fuzz_drain(struct hz_front_conn *c)
{
    size_t n;

    while ((n = hz_front_test_output(c, out + out_len, sizeof(out) - out_len)) > 0) {
        out_len += n;
        drained += n;
        fuzz_check_output(0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hz_front *f;
    struct hz_front_conn *c;
    size_t step, at = 1;
    unsigned sel;
    int closed = 0;

    if (f == NULL) {
        struct hz_front_cfg cfg = {.max_url = 2048,
                                   .max_headers = 2048,
                                   .max_body = 1024,
                                   .timeout_ms = 1000,
                                   .request_ms = 1000,
                                   .max_conns = 16,
                                   .who = "fuzz"};
        memset(fuzz_big, 'b', sizeof(fuzz_big));
        f = hz_front_new(NULL, -1, &cfg, fuzz_handler, fuzz_refused, NULL);
        check(f != NULL);
    }
    if (size == 0)
        return 0;
    memset(&st, 0, sizeof(st));
    out_len = 0;
    answers_seen = refusal_seen = 0;
    sel = data[0];
    step = (sel & 63) + 1;
    if (sel & 64)
        step = size;
    c = hz_front_test_conn(f);
    while (at < size && !closed) {
        size_t k = size - at < step ? size - at : step;
        closed = hz_front_test_feed(c, (const char *)data + at, k) != 0;
        at += k;
        if (!(sel & 128))
            fuzz_drain(c);
        fuzz_answer_later();
    }
    /* The rest: answers free ring slots, which lets more be parsed. */
    for (;;) {
        size_t before = drained;
        int later = st.nlater;
        fuzz_answer_later();
        fuzz_drain(c);
        if (later == 0 && drained == before)
            break;
    }
    fuzz_check_output(1);
    check(out_len == 0);
    check(answers_seen == st.nreq);
    check(refusal_seen == st.refused);
    hz_front_test_close(c);
    return 0;
}
