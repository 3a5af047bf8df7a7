/* SPDX-License-Identifier: MIT */
/*
 * redis_harness.c - private redis-server and aggregator processes for the
 * aggregator's integration tests. See redis_harness.h.
 */
#include "tests/integration/redis_harness.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/str.h"

/* What this test process started, so rh_cleanup can undo it even after a
 * failed assertion (Criterion runs .fini then). */
static struct rh_redis *rh_reg_redis[8];
static char rh_reg_dirs[16][64];
static pid_t rh_reg_pids[64];

static void
rh_reg_pid(pid_t pid, int add)
{
    for (size_t i = 0; i < sizeof(rh_reg_pids) / sizeof(rh_reg_pids[0]); i++) {
        if (add && rh_reg_pids[i] == 0) {
            rh_reg_pids[i] = pid;
            return;
        }
        if (!add && rh_reg_pids[i] == pid) {
            rh_reg_pids[i] = 0;
            return;
        }
    }
}

/* fork + exec with PR_SET_PDEATHSIG, so a child never outlives a test
 * process that died (timeout, crash); stdout/stderr to log (or /dev/null). */
static pid_t
rh_fork_exec(const char *const *argv, const char *log, int use_path)
{
    pid_t parent = getpid(), pid = fork();

    if (pid != 0)
        return pid;
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int fd = open(log != NULL ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        (void)dup2(fd, 1);
        (void)dup2(fd, 2);
        if (fd > 2)
            (void)close(fd);
    }
    if (use_path)
        execvp(argv[0], (char *const *)(uintptr_t)argv);
    else
        execv(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
}

void
rh_cleanup(void)
{
    for (size_t i = 0; i < sizeof(rh_reg_pids) / sizeof(rh_reg_pids[0]); i++) {
        if (rh_reg_pids[i] > 0) {
            (void)kill(rh_reg_pids[i], SIGKILL);
            (void)waitpid(rh_reg_pids[i], NULL, 0);
            rh_reg_pids[i] = 0;
        }
    }
    for (size_t i = 0; i < sizeof(rh_reg_redis) / sizeof(rh_reg_redis[0]); i++)
        if (rh_reg_redis[i] != NULL)
            rh_redis_stop(rh_reg_redis[i]);
    for (size_t i = 0; i < sizeof(rh_reg_dirs) / sizeof(rh_reg_dirs[0]); i++)
        if (rh_reg_dirs[i][0] != '\0')
            rh_rmtree(rh_reg_dirs[i]);
}

void
rh_tmpdir(char out[64])
{
    (void)snprintf(out, 64, "/tmp/haze-agg.XXXXXX");
    cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
    for (size_t i = 0; i < sizeof(rh_reg_dirs) / sizeof(rh_reg_dirs[0]); i++)
        if (rh_reg_dirs[i][0] == '\0') {
            memcpy(rh_reg_dirs[i], out, 64);
            break;
        }
}

static void
rh_rm(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char p[512];

    if (d == NULL) {
        (void)unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (void)snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        rh_rm(p);
    }
    closedir(d);
    (void)rmdir(path);
}

void
rh_rmtree(const char *dir)
{
    char copy[64];

    if (strncmp(dir, "/tmp/haze-agg.", 14) != 0)
        return;
    (void)hz_strlcpy(copy, dir, sizeof(copy));
    for (size_t i = 0; i < sizeof(rh_reg_dirs) / sizeof(rh_reg_dirs[0]); i++)
        if (strcmp(rh_reg_dirs[i], copy) == 0)
            rh_reg_dirs[i][0] = '\0';
    rh_rm(copy);
}

static void
rh_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

int
rh_redis_start(struct rh_redis *r)
{
    char log[128];

    memset(r, 0, sizeof(*r));
    rh_tmpdir(r->dir);
    (void)snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
    (void)snprintf(r->addr, sizeof(r->addr), "unix:%s", r->sock);
    (void)snprintf(log, sizeof(log), "%s/redis.log", r->dir);
    const char *argv[] = {
        "redis-server", "--port",      "0",    "--unixsocket", r->sock, "--unixsocketperm",
        "700",          "--dir",       r->dir, "--save",       "",      "--appendonly",
        "no",           "--daemonize", "no",   "--logfile",    log,     NULL};
    r->pid = rh_fork_exec(argv, NULL, 1);
    if (r->pid < 0)
        return -1;
    for (size_t i = 0; i < sizeof(rh_reg_redis) / sizeof(rh_reg_redis[0]); i++)
        if (rh_reg_redis[i] == NULL) {
            rh_reg_redis[i] = r;
            break;
        }
    for (int i = 0; i < 200; i++) {
        struct hz_addr a;
        hz_rs *rs;
        if (hz_addr_parse(r->addr, strlen(r->addr), &a, NULL) == 0 && access(r->sock, F_OK) == 0 &&
            hz_rs_connect(&rs, &a, 500, 1, NULL) == 0) {
            const char *ping[] = {"PING"};
            long long v = rh_cmd(rs, 1, ping);
            hz_rs_close(rs);
            if (v == 0)
                return 0;
        }
        rh_sleep_ms(25);
    }
    rh_redis_stop(r);
    return -1;
}

void
rh_redis_stop(struct rh_redis *r)
{
    for (size_t i = 0; i < sizeof(rh_reg_redis) / sizeof(rh_reg_redis[0]); i++)
        if (rh_reg_redis[i] == r)
            rh_reg_redis[i] = NULL;
    if (r->pid > 0) {
        (void)kill(r->pid, SIGTERM);
        if (rh_wait(r->pid, 5000) < 0) {
            (void)kill(r->pid, SIGKILL);
            (void)waitpid(r->pid, NULL, 0);
        }
        r->pid = 0;
    }
    rh_rmtree(r->dir);
}

hz_rs *
rh_connect(const struct rh_redis *r)
{
    struct hz_addr a;
    struct hz_err e = {0};
    hz_rs *rs = NULL;

    cr_assert_eq(hz_addr_parse(r->addr, strlen(r->addr), &a, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_rs_connect(&rs, &a, 10000, 3, &e), 0, "%s", e.msg);
    return rs;
}

void
rh_xadd_raw(hz_rs *rs, const char *stream, int n, const char *const *names, const char *const *vals,
            const size_t *vlens)
{
    const char *argv[64];
    size_t lens[64];
    int argc = 0;

    cr_assert_leq(n, 30);
    argv[argc] = "XADD";
    lens[argc++] = 4;
    argv[argc] = stream;
    lens[argc++] = strlen(stream);
    argv[argc] = "*";
    lens[argc++] = 1;
    for (int i = 0; i < n; i++) {
        argv[argc] = names[i];
        lens[argc++] = strlen(names[i]);
        argv[argc] = vals[i];
        lens[argc++] = vlens != NULL ? vlens[i] : strlen(vals[i]);
    }
    cr_assert_eq(hz_rs_append(rs, argc, argv, lens), 0);
}

void
rh_xadd(hz_rs *rs, const char *stream, const struct hz_record *rec)
{
    struct hz_field f[HZ_RECORD_FIELDS];
    const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS];
    size_t vlens[HZ_RECORD_FIELDS];
    char num[64];
    int n = hz_record_fields(rec, f, num);

    for (int i = 0; i < n; i++) {
        names[i] = f[i].name;
        vals[i] = f[i].val;
        vlens[i] = f[i].vlen;
    }
    rh_xadd_raw(rs, stream, n, names, vals, vlens);
}

void
rh_flush(hz_rs *rs, int n)
{
    for (int i = 0; i < n; i++) {
        hz_rs_reply *rep = NULL;
        struct hz_err e = {0};
        cr_assert_eq(hz_rs_get(rs, &rep, &e), 0, "%s", e.msg);
        cr_assert_neq(hz_rs_reply_type(rep), HZ_RS_ERROR, "%s", hz_rs_reply_str(rep, NULL));
        hz_rs_reply_free(rep);
    }
}

long long
rh_cmd(hz_rs *rs, int argc, const char *const *argv)
{
    size_t lens[32];
    hz_rs_reply *rep = NULL;
    long long v;

    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (hz_rs_command(rs, argc, (const char **)(uintptr_t)argv, lens, &rep, NULL) != 0)
        return -2;
    switch (hz_rs_reply_type(rep)) {
    case HZ_RS_INTEGER:
        v = hz_rs_reply_int(rep);
        break;
    case HZ_RS_ARRAY:
        v = (long long)hz_rs_reply_count(rep);
        break;
    case HZ_RS_NIL:
        v = -1;
        break;
    case HZ_RS_ERROR:
        v = -2;
        break;
    default:
        v = 0;
    }
    hz_rs_reply_free(rep);
    return v;
}

void
rh_config(char out[256], const char *dir, const struct rh_redis *r, const char *stream, int batch,
          const char *extra)
{
    FILE *f;

    (void)snprintf(out, 256, "%s/haze.ini", dir);
    f = fopen(out, "w");
    cr_assert_not_null(f);
    /* Long retention unless the test sets its own: fixed dates stay. */
    int own_ret = extra != NULL && strstr(extra, "retention_days") != NULL;
    fprintf(f,
            "[redis]\naddress = %s\nstream = %s\n\n"
            "[aggregator]\nlmdb = %s/db\nsession_minutes = 30\nbatch = %d\nmap_size_mb = 64\n"
            "stream_keep_seconds = 0\nuser = root\n%s\n"
            "%s",
            r->addr, stream, dir, batch, own_ret ? "" : "retention_days = 3650",
            extra != NULL ? extra : "");
    cr_assert_eq(fclose(f), 0);
}

pid_t
rh_spawn(const char *const *argv, const char *log)
{
    pid_t pid = rh_fork_exec(argv, log, 0);

    cr_assert_gt(pid, 0, "spawn %s", argv[0]);
    rh_reg_pid(pid, 1);
    return pid;
}

int
rh_wait(pid_t pid, int ms)
{
    int status;

    for (int i = 0; i <= ms / 5; i++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            rh_reg_pid(pid, 0);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (w < 0)
            return -1;
        rh_sleep_ms(5);
    }
    return -1;
}

void
rh_aggregator_bin(char out[256])
{
    const char *b = getenv("HZ_BIN");
    (void)snprintf(out, 256, "%s/haze-aggregator", b != NULL && b[0] ? b : "bin");
}

struct hz_record
rh_rec(enum hz_kind kind, uint64_t t_ms, const char *site, const char *page, const char *vh)
{
    struct hz_record r;

    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.t_ms = t_ms;
    (void)hz_strlcpy(r.site, site, sizeof(r.site));
    (void)hz_strlcpy(r.page, page, sizeof(r.page));
    (void)hz_strlcpy(r.vh, vh, sizeof(r.vh));
    (void)hz_strlcpy(r.browser, "Firefox", sizeof(r.browser));
    (void)hz_strlcpy(r.os, "Linux", sizeof(r.os));
    (void)hz_strlcpy(r.device, "desktop", sizeof(r.device));
    return r;
}
