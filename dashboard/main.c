/* SPDX-License-Identifier: MIT */
/*
 * main.c - haze-dashboard -c haze.ini [-t] [-v]: the dashboard page and the
 * stats API over the aggregates, read-only.
 *
 *   haze-dashboard -c haze.ini --new-token NAME
 *
 * prints a new random token and the [token NAME] lines to paste into
 * haze.ini (only the token's SHA-256 goes into the file), then exits.
 *
 * Order (acquire, restrict, serve): parse args, load the config, bind,
 * sandbox (drop root), open LMDB read-only (MDB_RDONLY: this process never
 * writes it), event loop. When the store is not there yet (the aggregator
 * has not written anything), the page and the API answer empty results
 * and say they are waiting for the first aggregates; the store is opened
 * when it appears. SIGTERM/SIGINT stop accepting, let the requests in
 * flight finish (up to one second), and exit 0. SIGHUP loads tls_cert and
 * tls_key again (open connections keep the old ones; a bad file is logged
 * and the old ones kept).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/asset.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/sandbox.h"
#include "common/tz.h"
#include "common/store.h"
#include "dashboard/auth.h"
#include "dashboard/http.h"

/* Prints the usage line and exits 2 (a usage error, not a runtime one). */
static void
usage(void)
{
    hz_errx("usage: haze-dashboard -c haze.ini [-t] [-v] | -c haze.ini --new-token NAME");
    exit(2);
}

/*
 * Opens the store read-only when the aggregator has created it; NULL when
 * not yet (the dashboard then answers empty results and opens the store
 * when it appears). A store that is there but cannot be opened is fatal.
 */
static hz_store *
open_store(const char *path)
{
    struct hz_err err = {0};
    hz_store *s = NULL;
    char data[HZ_CFG_PATH_MAX + 16];
    struct stat st;

    (void)snprintf(data, sizeof(data), "%s/data.mdb", path);
    if (stat(data, &st) != 0) {
        hz_log_info("%s: waiting for the first aggregates (no %s yet; is haze-aggregator "
                    "running?)",
                    __func__, data);
        return NULL;
    }
    if (hz_store_open(&s, path, 1, 0, &err) != 0)
        hz_fatalx("lmdb %s: cannot open read-only: %s", path, err.msg);
    return s;
}

/*
 * The sandbox step: the shared one (drop root to the haze user, no new
 * privileges), then no core files and no ptrace by other processes of the
 * same user, because the token and the session key are in memory.
 */
static void
sandbox(const struct hz_user *u)
{
    struct rlimit core = {0, 0};

    hz_sandbox_dashboard(u);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        hz_fatal("prctl(PR_SET_DUMPABLE)");
    if (setrlimit(RLIMIT_CORE, &core) != 0)
        hz_fatal("setrlimit(RLIMIT_CORE)");
}

/*
 * --new-token NAME: a new secret on stdout with the lines for haze.ini.
 * The name must be a valid token name not yet in the file. Exit code.
 */
static int
new_token(const struct hz_config *cfg, const char *name)
{
    char secret[40], sha[65];
    size_t n = strlen(name);

    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-' || name[i] == '_' || name[i] == '.'))
            n = 0;
    if (n == 0 || n > HZ_TOKEN_NAME_MAX) {
        hz_errx("--new-token %s: a name is 1-40 of a-z, 0-9, '-', '_', '.'", name);
        return 2;
    }
    if (hz_cfg_token(cfg, name) != NULL || (strcmp(name, "default") == 0 && cfg->token[0])) {
        hz_errx("--new-token %s: %s already has a token of that name", name, cfg->path);
        return 1;
    }
    hz_auth_new_secret(secret, sha);
    hz_out("token: %s", secret);
    hz_out("%s", "");
    hz_out("; Paste into %s and restart haze-dashboard. The token above is shown once:", cfg->path);
    hz_out("; haze keeps only its hash. Use it as \"Authorization: Bearer <token>\" or on the "
           "login page.");
    hz_out("[token %s]", name);
    hz_out("sha256 = %s", sha);
    hz_out("sites  = *      ; or the sites it may see: shop.example, blog.example");
    hz_out("scope  = view   ; or admin (also reads the audit log)");
    hz_out(";expires = YYYY-MM-DD");
    explicit_bzero(secret, sizeof(secret));
    return 0;
}

/* SIGHUP: TLS certificate and key again, the old ones kept on error. */
static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct hz_err err = {0};

    (void)sig;
    (void)what;
    if (hz_dash_reload_tls(arg, &err) != 0)
        hz_log_warnx("%s: %s; keeping the certificate in use", __func__, err.msg);
    else
        hz_log_info("%s: TLS certificate and key reloaded", __func__);
}

struct stop_ctx {
    struct event_base *base;
    hz_dash *dash;
};

/*
 * SIGTERM/SIGINT: stop accepting and leave the loop after a grace second,
 * so answers being written still go out; main then exits 0.
 */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct stop_ctx *sc = arg;
    struct timeval grace = {1, 0};

    (void)what;
    hz_log_info("%s: signal %d, finishing requests", __func__, (int)sig);
    hz_dash_stop(sc->dash);
    event_base_loopexit(sc->base, &grace);
}

int
main(int argc, char **argv)
{
    static struct hz_config cfg;
    struct hz_err err = {0};
    static const struct option longopts[] = {
        {"new-token", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *newtok = NULL;
    int check = 0, verbose = 1, ch;
    struct event_base *base;
    struct event *sigterm, *sigint, *sighup;
    struct stop_ctx sc;
    hz_dash *dash;
    hz_store *store;
    struct hz_user user;
    long nofile;

    /* A long-range question builds tables of tens of MB and frees them.
     * Keep up to 64 MB of freed heap for the next one instead of giving it
     * back to the kernel each time (glibc trims past 128 KB by default):
     * at 10,000 pages, the page faults of refilling it were a third of a
     * cold 365-day cross-tab answer. Blocks up to 32 MB come from the heap
     * for the same reason; the peak RSS is that of the largest answer. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);

    while ((ch = getopt_long(argc, argv, "c:tvh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'N':
            newtok = optarg;
            break;
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
    hz_log_init("haze-dashboard", verbose);

    /* Config. */
    if (newtok != NULL) {
        int rc;
        if (hz_cfg_load(&cfg, path, &err) != 0) {
            hz_errx("%s", err.msg);
            return 1;
        }
        rc = new_token(&cfg, newtok);
        hz_cfg_free(&cfg);
        return rc;
    }
    if (hz_cfg_load(&cfg, path, &err) != 0 || hz_cfg_require_dashboard(&cfg, &err) != 0) {
        hz_errx("%s", err.msg);
        return 1;
    }
    /* Every site's zone rules, once, before any thread (common/tz.h). */
    for (int i = 0; i < cfg.nsites; i++)
        if (hz_tz_load(cfg.sites[i].timezone, &err) != 0) {
            hz_errx("%s: [site %s] timezone: %s", path, cfg.sites[i].name, err.msg);
            return 1;
        }
    if (check) {
        hz_out("%s: configuration OK", path);
        hz_cfg_free(&cfg);
        return 0;
    }

    /* Acquire: the socket (as root for a low port), then drop; the store
     * is opened read-only by the user it runs as, now or when it appears. */
    (void)signal(SIGPIPE, SIG_IGN);
    if (hz_sandbox_user(&user, cfg.dashboard_user, &err) != 0)
        hz_fatalx("%s", err.msg);
    nofile = hz_sandbox_nofile(cfg.dashboard_max_conns + 64);
    if (nofile < cfg.dashboard_max_conns + 32)
        hz_log_warnx("open files limit %ld is below max_connections %ld + 32", nofile,
                     cfg.dashboard_max_conns);
    if ((base = event_base_new()) == NULL)
        hz_fatalx("event_base_new failed");
    if (hz_dash_new(&dash, base, &cfg, dashboard_assets, NULL, &err) != 0)
        hz_fatalx("%s", err.msg);
    if (hz_dash_bind(dash, &err) != 0)
        hz_fatalx("%s", err.msg);

    /* Restrict, then serve. */
    sandbox(&user);
    store = open_store(cfg.lmdb);
    if (store != NULL)
        hz_dash_set_store(dash, store);
    sc.base = base;
    sc.dash = dash;
    sigterm = evsignal_new(base, SIGTERM, on_signal, &sc);
    sigint = evsignal_new(base, SIGINT, on_signal, &sc);
    sighup = evsignal_new(base, SIGHUP, on_hup, dash);
    if (sigterm == NULL || sigint == NULL || sighup == NULL || evsignal_add(sigterm, NULL) != 0 ||
        evsignal_add(sigint, NULL) != 0 || evsignal_add(sighup, NULL) != 0)
        hz_fatalx("cannot install signal handlers");
    hz_log_info("listening on %s:%d (%s), lmdb %s (read-only)", cfg.dashboard_listen.host,
                cfg.dashboard_listen.port, cfg.dashboard_tls_cert[0] ? "https" : "http", cfg.lmdb);
    if (event_base_dispatch(base) < 0)
        hz_fatalx("event loop failed");

    event_free(sigterm);
    event_free(sigint);
    event_free(sighup);
    hz_dash_free(dash);
    event_base_free(base);
    hz_cfg_free(&cfg);
    hz_log_info("stopped");
    return 0;
}
