/* SPDX-License-Identifier: MIT */
/*
 * main.c - haze-aggregator -c haze.ini [-t] [-v]: the only LMDB writer.
 *
 * Parse args -> load config -> create the LMDB folder for the user ->
 * sandbox (drop root) -> open LMDB and connect Redis (waiting for it with
 * a backoff when it is not up yet) -> loop. SIGTERM/SIGINT finish the
 * batch in flight and exit 0; SIGUSR1 runs retention and compaction now
 * (they run once a day anyway). A bad config exits 1 with "FILE:LINE:
 * [section] key: reason"; an LMDB failure in the loop exits 1 (the next
 * start recovers, see consume.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/tz.h"

static volatile sig_atomic_t agg_stop;

static void
agg_on_signal(int sig)
{
    (void)sig;
    agg_stop = 1;
}

static void
agg_on_usr1(int sig)
{
    (void)sig;
    hz_agg_compact_requested = 1;
}

static _Noreturn void
usage(void)
{
    hz_errx("usage: haze-aggregator -c FILE [-t] [-v]");
    exit(1);
}

int
main(int argc, char *argv[])
{
    static struct hz_config cfg;
    struct hz_err err = {0};
    const char *path = NULL;
    int ch, test = 0, verbose = 1, rc;
    struct sigaction sa;
    struct hz_user user;
    hz_agg *agg;

    while ((ch = getopt(argc, argv, "c:tvh")) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 't':
            test = 1;
            break;
        case 'v':
            verbose++;
            break;
        default:
            usage();
        }
    }
    if (path == NULL || optind != argc)
        usage();
    hz_log_init("haze-aggregator", verbose);

    if (hz_cfg_load(&cfg, path, &err) != 0 || hz_cfg_require_aggregator(&cfg, &err) != 0) {
        hz_errx("%s", err.msg);
        return 1;
    }
    /* Every site's zone rules, once, before any thread (common/tz.h). */
    for (int i = 0; i < cfg.nsites; i++)
        if (hz_tz_load(cfg.sites[i].timezone, &err) != 0) {
            hz_errx("%s: [site %s] timezone: %s", path, cfg.sites[i].name, err.msg);
            return 1;
        }
    if (test) {
        hz_out("%s: configuration OK", path);
        return 0;
    }

    /* Signals first: a stop during recovery is honoured after it. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = agg_on_signal;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = agg_on_usr1;
    (void)sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);

    /* The LMDB folder is made for the user before the drop; the store is
     * opened after it, so that its files belong to that user too. */
    if (hz_sandbox_user(&user, cfg.aggregator_user, &err) != 0 ||
        hz_sandbox_mkdir(cfg.lmdb, &user, &err) != 0) {
        hz_errx("haze-aggregator: %s", err.msg);
        return 1;
    }
    hz_sandbox_aggregator(&user);
    if (hz_agg_open(&agg, &cfg, &err) != 0) {
        hz_errx("haze-aggregator: %s", err.msg);
        return 1;
    }
    hz_log_info("started: stream %s, group %s, store %s", cfg.redis_stream, cfg.group, cfg.lmdb);

    rc = hz_agg_run(agg, &agg_stop, &err);
    if (rc != 0)
        hz_log_warnx("stopping: %s", err.msg);
    else
        hz_log_info("stopped: %llu batches, %llu records, %llu malformed; "
                    "seconds waiting for redis %.2f, folding %.2f, committing %.2f",
                    (unsigned long long)hz_agg_stats(agg)->batches,
                    (unsigned long long)hz_agg_stats(agg)->applied,
                    (unsigned long long)hz_agg_stats(agg)->malformed, hz_agg_stats(agg)->t_redis,
                    hz_agg_stats(agg)->t_fold, hz_agg_stats(agg)->t_commit);
    hz_agg_close(agg);
    hz_cfg_free(&cfg);
    return rc != 0 ? 1 : 0;
}
