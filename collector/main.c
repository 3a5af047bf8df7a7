/* SPDX-License-Identifier: MIT */
/*
 * main.c - haze-collector: parse args -> load config -> acquire what needs
 * root (listeners, the geo database, the spool folder for the user) ->
 * sandbox (drop root) -> workers (spool files and Redis, as that user; Redis
 * may come later) -> one event loop per thread.
 *
 *   haze-collector -c haze.ini [-t] [-v]
 *
 * SIGTERM / SIGINT: stop accepting, answer what is in flight, sync the
 * spools, exit 0. SIGHUP: load [collector] tls_cert and tls_key again
 * (connections already open keep the old ones; a bad file is logged and
 * the old ones kept).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>
#include <jansson.h>

#include "collector/http.h"
#include "collector/ua.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/sandbox.h"
#include "common/tls.h"
#include "geo/geo.h"

#define MAIN_THREADS_MAX 64

static struct hz_config cfg; /* large: static, not on the stack */

static void
usage(void)
{
    hz_errx("usage: haze-collector -c FILE [-t] [-v]");
    exit(2);
}

int
main(int argc, char **argv)
{
    hz_worker *workers[MAIN_THREADS_MAX];
    pthread_t tids[MAIN_THREADS_MAX];
    evutil_socket_t fds[MAIN_THREADS_MAX];
    const char *path = NULL;
    struct hz_err err = {0, ""};
    hz_geo *geo = NULL;
    struct hz_user user;
    long nofile;
    hz_tls *tls = NULL;
    int ch, check = 0, verbose = 1, n, sig;
    size_t nskip;
    sigset_t set;

    while ((ch = getopt(argc, argv, "c:tvh")) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 't':
            check = 1;
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
    hz_log_init("haze-collector", verbose);

    if (hz_cfg_load(&cfg, path, &err) != 0 || hz_cfg_require_collector(&cfg, &err) != 0)
        hz_fatalx("%s", err.msg);
    if (hz_geo_open(&geo, cfg.geo_database, &err) != 0)
        hz_fatalx("%s", err.msg);
    if (cfg.collector_tls_cert[0] != '\0' &&
        hz_tls_open(&tls, cfg.collector_tls_cert, cfg.collector_tls_key, &err) != 0)
        hz_fatalx("%s", err.msg);
    if (check) {
        hz_tls_close(tls);
        hz_geo_close(geo);
        hz_out("%s: configuration OK", path);
        return 0;
    }

    n = cfg.collector_threads;
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    if (n > MAIN_THREADS_MAX)
        n = MAIN_THREADS_MAX;

    /* Acquire as root what needs root (the port, the spool folder for
     * the user), then drop before the workers open their spool files and
     * connect to Redis, so that what they create belongs to that user. */
    if (hz_sandbox_user(&user, cfg.collector_user, &err) != 0 ||
        hz_sandbox_mkdir(cfg.spool_dir, &user, &err) != 0)
        hz_fatalx("%s", err.msg);
    nofile = hz_sandbox_nofile(cfg.collector_max_conns + 256);
    if (nofile < cfg.collector_max_conns + 64)
        hz_log_warnx("main: open files limit %ld is below max_connections %ld + 64", nofile,
                     cfg.collector_max_conns);

    if (evthread_use_pthreads() != 0)
        hz_fatalx("main: libevent threads unavailable");
    /* Signals are taken by sigwait in this thread only. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        hz_fatalx("main: pthread_sigmask");
    (void)signal(SIGPIPE, SIG_IGN);

    /* The user agent databases' matchers (PCRE2 JIT): built once, before
     * the port opens, not on the first hit. */
    nskip = hz_ua_init();
    if (nskip != 0)
        hz_log_warnx("main: %zu user agent patterns did not compile and are left out", nskip);
    for (int i = 0; i < n; i++) {
        fds[i] = hz_http_listen(&cfg, &err);
        if (fds[i] < 0)
            hz_fatalx("%s", err.msg);
    }
    /* jansson seeds its hash from /dev/urandom on first use: do it now,
     * before the sandbox. */
    json_object_seed(0);
    hz_sandbox_collector(&user);
    /* Redis may not be up yet: the workers spool until it is. */
    for (int i = 0; i < n; i++) {
        if (hz_worker_new(&workers[i], &cfg, geo, fds[i], i, n, i == 0 ? 1000 : 0, &err) != 0)
            hz_fatalx("%s", err.msg);
        if (tls != NULL)
            hz_worker_set_tls(workers[i], tls);
    }
    for (int i = 0; i < n; i++)
        if (pthread_create(&tids[i], NULL, hz_worker_run, workers[i]) != 0)
            hz_fatalx("main: cannot start thread %d", i);
    hz_log_info("main: listening on %s:%d (%s) with %d threads", cfg.collector_listen.host,
                cfg.collector_listen.port, tls ? "https" : "http", n);

    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        if (tls == NULL)
            continue;
        if (hz_tls_reload(tls, &err) != 0)
            hz_log_warnx("main: SIGHUP: %s; keeping the certificate in use", err.msg);
        else
            hz_log_info("main: SIGHUP: TLS certificate and key reloaded");
    }
    hz_log_info("main: signal %d, finishing requests in flight", sig);
    for (int i = 0; i < n; i++)
        hz_worker_stop(workers[i]);
    for (int i = 0; i < n; i++) {
        (void)pthread_join(tids[i], NULL);
        hz_worker_free(workers[i]); /* its front closed fds[i] */
    }
    hz_tls_close(tls);
    hz_geo_close(geo);
    hz_cfg_free(&cfg);
    hz_log_info("main: stopped");
    return 0;
}
