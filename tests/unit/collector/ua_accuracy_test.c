/* SPDX-License-Identifier: MIT */
/*
 * ua_accuracy_test.c - collector/ua against labelled sets that the
 * databases' own projects wrote (DESIGN.md "What it must reach": browser
 * >= 0.95, os >= 0.97, device >= 0.93, bot recall >= 0.95, people called
 * bots <= 1 %).
 *
 * The sets are generated at build time by scripts/uadb/gen.mjs (make
 * target $(UADB_FIX)) from the packages' fixtures, with the fixtures' own
 * labels, into $HZ_UADB/fixtures (default build/uadb/fixtures):
 * - uap_ua.tsv: uap-core's test_ua.yaml; the expected browser is its
 *   family mapped by hz_ua_browser_of (ua.c's documented table);
 * - uap_os.tsv: test_os.yaml; the os family mapped by hz_ua_os_of;
 * - uap_device.tsv: test_device.yaml; "Spider" rows are bots, rows that
 *   name a real device (anything but Spider and Other) are people;
 * - crawlers.tsv: crawler-user-agents' instances, all bots.
 * tests/data/ua-labelled.tsv: a small set written and labelled by hand for
 * haze (its header says how); ../shared/ua/sample.tsv
 * (device-detector's labels), when present: see ua_sample in ua_test.c.
 * Each set's figures are printed on stderr; every miss is logged at info
 * level (--verbose).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ua.h"

struct acc {
    size_t ok, n;
};

/* Calls row(ua, label, acc) for each line of $HZ_UADB/fixtures/file. */
static void
acc_each(const char *file, struct acc *a,
         void (*row)(const char *ua, size_t len, const char *label, struct acc *a))
{
    const char *dir = getenv("HZ_UADB");
    char path[4096], *line = NULL;
    size_t cap = 0;
    ssize_t got;
    FILE *fp;

    (void)snprintf(path, sizeof path, "%s/fixtures/%s", dir ? dir : "build/uadb", file);
    fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s is missing: run make (target $(UADB_FIX))", path);
    while ((got = getline(&line, &cap, fp)) > 0) {
        char *tab;
        if (line[got - 1] == '\n')
            line[--got] = '\0';
        tab = strchr(line, '\t');
        if (tab == NULL)
            continue;
        *tab = '\0';
        row(line, (size_t)(tab - line), tab + 1, a);
    }
    free(line);
    (void)fclose(fp);
}

static void
acc_report(const char *what, const struct acc *a, double min)
{
    double r = a->n ? (double)a->ok / (double)a->n : 0.0;

    /* On stderr, so that the figures show without --verbose (a Criterion
     * warning would make the binary exit 1). */
    fprintf(stderr, "accuracy: %s %zu of %zu (%.3f)\n", what, a->ok, a->n, r);
    cr_expect_geq(a->n, 50, "%s: too few rows", what);
    cr_expect_geq(r, min, "%s: %.3f is under %.2f", what, r, min);
}

static void
row_browser(const char *ua, size_t len, const char *label, struct acc *a)
{
    struct hz_ua got;
    enum hz_browser want = hz_ua_browser_of(label);

    hz_ua_classify(ua, len, &got);
    a->n++;
    if (got.browser == want)
        a->ok++;
    else
        cr_log_info("browser: want %s (%s), got %s: %s", hz_ua_browser_name(want), label,
                    hz_ua_browser_name(got.browser), ua);
}

static void
row_os(const char *ua, size_t len, const char *label, struct acc *a)
{
    struct hz_ua got;
    enum hz_os want = hz_ua_os_of(label);

    hz_ua_classify(ua, len, &got);
    a->n++;
    if (got.os == want)
        a->ok++;
    else
        cr_log_info("os: want %s (%s), got %s: %s", hz_ua_os_name(want), label,
                    hz_ua_os_name(got.os), ua);
}

/* Bots: a->ok counts bots found. */
static void
row_bot(const char *ua, size_t len, const char *label, struct acc *a)
{
    struct hz_ua got;

    if (strcmp(label, "Spider") != 0 && strcmp(label, "bot") != 0)
        return;
    hz_ua_classify(ua, len, &got);
    a->n++;
    if (got.bot)
        a->ok++;
    else
        cr_log_info("bot missed: %s", ua);
}

/* People: a->ok counts people not called bots. */
static void
row_person(const char *ua, size_t len, const char *label, struct acc *a)
{
    struct hz_ua got;

    if (strcmp(label, "Spider") == 0 || strcmp(label, "Other") == 0)
        return;
    hz_ua_classify(ua, len, &got);
    a->n++;
    if (!got.bot)
        a->ok++;
    else
        cr_log_info("person called a bot (%s): %s", label, ua);
}

Test(ua_accuracy, browser_on_uap_core_fixtures)
{
    struct acc a = {0, 0};

    acc_each("uap_ua.tsv", &a, row_browser);
    acc_report("browser (uap-core test_ua)", &a, 0.95);
}

Test(ua_accuracy, os_on_uap_core_fixtures)
{
    struct acc a = {0, 0};

    acc_each("uap_os.tsv", &a, row_os);
    acc_report("os (uap-core test_os)", &a, 0.97);
}

Test(ua_accuracy, bot_recall_on_uap_core_spiders)
{
    struct acc a = {0, 0};

    acc_each("uap_device.tsv", &a, row_bot);
    acc_report("bot recall (uap-core Spider)", &a, 0.95);
}

Test(ua_accuracy, bot_recall_on_crawler_user_agents)
{
    struct acc a = {0, 0};

    acc_each("crawlers.tsv", &a, row_bot);
    acc_report("bot recall (crawler-user-agents)", &a, 0.95);
}

Test(ua_accuracy, people_are_not_bots_on_uap_core_devices)
{
    struct acc a = {0, 0};

    acc_each("uap_device.tsv", &a, row_person);
    acc_report("people not called bots (uap-core devices)", &a, 0.99);
}

/* tests/data/ua-labelled.tsv: ua, browser, os, device, bot; '#' lines are
 * comments. */
Test(ua_accuracy, hand_labelled)
{
    struct acc b = {0, 0}, o = {0, 0}, d = {0, 0}, p = {0, 0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    FILE *fp = fopen("tests/data/ua-labelled.tsv", "r");

    cr_assert_not_null(fp, "tests/data/ua-labelled.tsv is missing");
    while ((got = getline(&line, &cap, fp)) > 0) {
        char *f[5], *s = line;
        struct hz_ua ua;
        int k = 0;

        if (line[0] == '#')
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        while (k < 5 && s != NULL) {
            f[k++] = s;
            s = strchr(s, '\t');
            if (s != NULL)
                *s++ = '\0';
        }
        cr_assert_eq(k, 5, "a row without five fields");
        hz_ua_classify(f[0], strlen(f[0]), &ua);
        b.n++, o.n++, d.n++, p.n++;
        b.ok += strcmp(hz_ua_browser_name(ua.browser), f[1]) == 0;
        o.ok += strcmp(hz_ua_os_name(ua.os), f[2]) == 0;
        d.ok += strcmp(hz_ua_device_name(ua.device), f[3]) == 0;
        p.ok += ua.bot == (f[4][0] == '1');
        if (strcmp(hz_ua_browser_name(ua.browser), f[1]) != 0 ||
            strcmp(hz_ua_os_name(ua.os), f[2]) != 0 ||
            strcmp(hz_ua_device_name(ua.device), f[3]) != 0 || ua.bot != (f[4][0] == '1'))
            cr_log_info("labelled: want %s/%s/%s/%s, got %s/%s/%s/%d: %s", f[1], f[2], f[3], f[4],
                        hz_ua_browser_name(ua.browser), hz_ua_os_name(ua.os),
                        hz_ua_device_name(ua.device), ua.bot, f[0]);
    }
    free(line);
    (void)fclose(fp);
    /* A small set: the floors are the targets, the row count is its own. */
    fprintf(stderr, "accuracy: tests/data browser %zu of %zu, os %zu, device %zu, bot %zu\n", b.ok,
            b.n, o.ok, d.ok, p.ok);
    cr_expect_geq(b.n, 30, "tests/data/ua-labelled.tsv: too few rows");
    cr_expect_geq(b.ok * 100, b.n * 95, "browser under 0.95");
    cr_expect_geq(o.ok * 100, o.n * 97, "os under 0.97");
    cr_expect_geq(d.ok * 100, d.n * 93, "device under 0.93");
    cr_expect_geq(p.ok * 100, p.n * 99, "bot verdicts under 0.99");
}
