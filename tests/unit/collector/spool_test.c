/* SPDX-License-Identifier: MIT */
/* spool_test.c - the on-disk FIFO: order, bounds, reopen, torn tails. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/spool.h"

static char dir[64];

static void
setup(void)
{
    strcpy(dir, "/tmp/haze-spool.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static void
mkrec(struct hz_record *r, int i)
{
    memset(r, 0, sizeof(*r));
    r->t_ms = 1764000000000ULL + (uint64_t)i;
    r->kind = HZ_KIND_PAGEVIEW;
    strcpy(r->site, "example.com");
    snprintf(r->page, sizeof(r->page), "/page/%d", i);
    strcpy(r->browser, "Firefox");
    strcpy(r->os, "Linux");
    strcpy(r->device, "desktop");
    strcpy(r->vh, "0123456789abcdef");
    snprintf(r->id, sizeof(r->id), "%016x", i + 1);
}

TestSuite(spool, .init = setup, .fini = teardown);

Test(spool, keeps_order_and_empties)
{
    hz_spool *s;
    struct hz_record r, got;
    int amb;

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    cr_assert_eq(hz_spool_peek(s, &got, &amb), HZ_ENOTFOUND);
    for (int i = 0; i < 100; i++) {
        mkrec(&r, i);
        cr_assert_eq(hz_spool_push(s, &r, i == 7), 0);
    }
    cr_assert_eq(hz_spool_entries(s), 100);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
        mkrec(&r, i);
        cr_assert_str_eq(got.page, r.page);
        cr_assert_eq(got.t_ms, r.t_ms);
        cr_assert_str_eq(got.id, r.id);
        cr_assert_eq(amb, i == 7);
        cr_assert_eq(hz_spool_pop(s), 0);
    }
    cr_assert_eq(hz_spool_entries(s), 0);
    cr_assert_eq(hz_spool_bytes(s), 0);
    hz_spool_close(s);

    char path[128];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/t.q", dir);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_size, 0, "a drained spool is truncated");
}

Test(spool, refuses_past_its_bound)
{
    hz_spool *s;
    struct hz_record r;
    int i, rc = 0;

    cr_assert_eq(hz_spool_open(&s, dir, "t", 2000, NULL), 0);
    for (i = 0; i < 1000 && (rc = hz_spool_push(s, (mkrec(&r, i), &r), 0)) == 0; i++)
        ;
    cr_assert_eq(rc, HZ_EFULL);
    cr_assert_gt(i, 5);
    cr_assert_leq(hz_spool_bytes(s), 2000);
    cr_assert_eq(hz_spool_entries(s), (uint64_t)i);
    hz_spool_close(s);
}

Test(spool, survives_reopen_and_marks_old_entries_ambiguous)
{
    hz_spool *s;
    struct hz_record r, got;
    int amb;

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(hz_spool_push(s, (mkrec(&r, i), &r), 0), 0);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
        cr_assert_eq(hz_spool_pop(s), 0);
    }
    hz_spool_close(s);

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    cr_assert_eq(hz_spool_entries(s), 6);
    cr_assert_eq(hz_spool_push(s, (mkrec(&r, 10), &r), 0), 0);
    for (int i = 4; i < 11; i++) {
        cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
        mkrec(&r, i);
        cr_assert_str_eq(got.page, r.page);
        /* What a previous process left may have been sent already. */
        cr_assert_eq(amb, i < 10);
        cr_assert_eq(hz_spool_pop(s), 0);
    }
    hz_spool_close(s);
}

Test(spool, cuts_a_torn_tail)
{
    hz_spool *s;
    struct hz_record r, got;
    char path[128];
    int amb, fd;

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(hz_spool_push(s, (mkrec(&r, i), &r), 0), 0);
    hz_spool_close(s);
    snprintf(path, sizeof(path), "%s/t.q", dir);
    fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "\x40\x00\x00\x00\x00garb", 9), 9); /* a half-written entry */
    close(fd);

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    cr_assert_eq(hz_spool_entries(s), 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
        cr_assert_eq(hz_spool_pop(s), 0);
    }
    cr_assert_eq(hz_spool_peek(s, &got, &amb), HZ_ENOTFOUND);
    hz_spool_close(s);
}

Test(spool, rejects_a_corrupt_entry_without_crashing)
{
    hz_spool *s;
    struct hz_record r, got;
    char path[128];
    int amb, fd;

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    cr_assert_eq(hz_spool_push(s, (mkrec(&r, 0), &r), 0), 0);
    cr_assert_eq(hz_spool_push(s, (mkrec(&r, 1), &r), 0), 0);
    hz_spool_close(s);
    snprintf(path, sizeof(path), "%s/t.q", dir);
    fd = open(path, O_WRONLY);
    cr_assert_eq(pwrite(fd, "Z", 1, 6), 1); /* corrupt a field name of entry 0 */
    close(fd);

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    cr_assert_eq(hz_spool_peek(s, &got, &amb), HZ_EINVAL);
    cr_assert_eq(hz_spool_pop(s), 0);
    cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
    cr_assert_str_eq(got.page, "/page/1");
    hz_spool_close(s);
}

static long
file_size(const char *name)
{
    char path[128];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static long
saved_off(void)
{
    char path[128], buf[32] = "";
    FILE *f;

    snprintf(path, sizeof(path), "%s/t.off", dir);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    if (fgets(buf, sizeof(buf), f) == NULL)
        buf[0] = '\0';
    fclose(f);
    return strtol(buf, NULL, 10);
}

static void
wait_for(long (*get)(void), long want)
{
    for (int i = 0; i < 400 && get() != want; i++)
        usleep(5000);
    cr_assert_eq(get(), want);
}

static long
q_size(void)
{
    return file_size("t.q");
}

Test(spool, its_thread_saves_the_offset_and_truncates_a_drained_file)
{
    hz_spool *s;
    struct hz_record r, got;
    uint64_t at = 0, next;
    int amb;

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(hz_spool_push(s, (mkrec(&r, i), &r), 0), 0);
    /* Pipelined replay: read ahead, pop up to where each read left off. */
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(hz_spool_peek_at(s, &at, &got, &amb), 0);
        cr_assert_str_eq(got.page, (mkrec(&r, i), r.page));
    }
    next = at;
    at = 0;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(hz_spool_peek_at(s, &at, &got, &amb), 0);
        cr_assert_eq(hz_spool_pop_to(s, at), 0);
    }
    cr_assert_eq(hz_spool_head(s), next);
    cr_assert_eq(hz_spool_sync_async(s), 0);
    wait_for(saved_off, (long)next);

    for (int i = 4; i < 10; i++)
        cr_assert_eq(hz_spool_pop(s), 0);
    cr_assert_eq(hz_spool_entries(s), 0);
    wait_for(q_size, 0); /* the drained file, truncated by the spool's thread */
    cr_assert_eq(hz_spool_push(s, (mkrec(&r, 20), &r), 0), 0);
    cr_assert_gt(q_size(), 0);
    cr_assert_lt(q_size(), 300, "the next entry is written at offset 0");
    cr_assert_eq(hz_spool_head(s), 0);
    cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
    cr_assert_str_eq(got.page, "/page/20");
    cr_assert_eq(amb, 0);
    hz_spool_close(s);
    cr_assert_eq(saved_off(), 0);
}

Test(spool, takes_entries_right_after_draining)
{
    hz_spool *s;
    struct hz_record r, got;
    int amb;

    /* Pushes that race the truncation of the drained file: whether they
     * come before it, during it or after it, none is lost or reordered. */
    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 3; i++)
            cr_assert_eq(hz_spool_push(s, (mkrec(&r, round * 10 + i), &r), 0), 0);
        if (round % 7 == 3)
            usleep(2000);
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
            cr_assert_str_eq(got.page, (mkrec(&r, round * 10 + i), r.page));
            cr_assert_eq(amb, 0);
            cr_assert_eq(hz_spool_pop(s), 0);
        }
        cr_assert_eq(hz_spool_entries(s), 0);
        cr_assert_eq(hz_spool_peek(s, &got, &amb), HZ_ENOTFOUND);
        if (round % 5 == 1)
            cr_assert_eq(hz_spool_sync_async(s), 0);
    }
    cr_assert_eq(hz_spool_push(s, (mkrec(&r, 999), &r), 0), 0);
    hz_spool_close(s);

    cr_assert_eq(hz_spool_open(&s, dir, "t", 1 << 20, NULL), 0);
    cr_assert_eq(hz_spool_entries(s), 1);
    cr_assert_eq(hz_spool_peek(s, &got, &amb), 0);
    cr_assert_str_eq(got.page, "/page/999");
    hz_spool_close(s);
}
