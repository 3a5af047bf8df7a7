/* SPDX-License-Identifier: MIT */
/*
 * harness.c - the one harness of the integration tests: temporary folders,
 * child processes (stopped by pid; never outliving the test), a private
 * redis-server on a unix socket, a Redis client for XADDs, haze.ini for the
 * aggregator, and a blocking HTTP/1.1 client for loopback. See harness.h.
 */
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/net.h"
#include "common/str.h"

extern char **environ;

static void
ht_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What this test process started, so ht_cleanup can undo it even after a
 * failed assertion (Criterion runs a suite's .fini then). */
static struct ht_redis *ht_reg_redis[8];
static char ht_reg_dirs[16][64];
static pid_t ht_reg_pids[64];

#define HT_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
ht_reg_pid(pid_t pid, int add)
{
    for (size_t i = 0; i < HT_NELEM(ht_reg_pids); i++) {
        if (add && ht_reg_pids[i] == 0) {
            ht_reg_pids[i] = pid;
            return;
        }
        if (!add && ht_reg_pids[i] == pid) {
            ht_reg_pids[i] = 0;
            return;
        }
    }
}

void
ht_tmpdir(char out[64])
{
    strcpy(out, "/tmp/haze-it.XXXXXX");
    cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
    for (size_t i = 0; i < HT_NELEM(ht_reg_dirs); i++)
        if (ht_reg_dirs[i][0] == '\0') {
            memcpy(ht_reg_dirs[i], out, 64);
            break;
        }
}

static void
ht_rm(const char *path)
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
        ht_rm(p);
    }
    closedir(d);
    (void)rmdir(path);
}

void
ht_rmdir(const char *dir)
{
    char copy[64];

    if (strncmp(dir, "/tmp/haze-", 10) != 0 || strlen(dir) >= sizeof(copy))
        return;
    memcpy(copy, dir, strlen(dir) + 1);
    for (size_t i = 0; i < HT_NELEM(ht_reg_dirs); i++)
        if (strcmp(ht_reg_dirs[i], copy) == 0)
            ht_reg_dirs[i][0] = '\0';
    ht_rm(copy);
}

void
ht_cleanup(void)
{
    for (size_t i = 0; i < HT_NELEM(ht_reg_pids); i++) {
        if (ht_reg_pids[i] > 0) {
            (void)kill(ht_reg_pids[i], SIGKILL);
            (void)waitpid(ht_reg_pids[i], NULL, 0);
            ht_reg_pids[i] = 0;
        }
    }
    for (size_t i = 0; i < HT_NELEM(ht_reg_redis); i++)
        if (ht_reg_redis[i] != NULL)
            ht_redis_stop(ht_reg_redis[i], 1);
    for (size_t i = 0; i < HT_NELEM(ht_reg_dirs); i++)
        if (ht_reg_dirs[i][0] != '\0')
            ht_rmdir(ht_reg_dirs[i]);
}

char *
ht_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL)
        return NULL;
    do {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* fork + exec with PR_SET_PDEATHSIG, so a child never outlives a test
 * process that died (timeout, crash); stdin from /dev/null, stdout and
 * stderr appended to log (or /dev/null). Registered for ht_cleanup. */
pid_t
ht_run(const char *const *argv, const char *log)
{
    pid_t parent = getpid(), pid = fork();

    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid > 0) {
        ht_reg_pid(pid, 1);
        return pid;
    }
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int fd = open(log != NULL ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0)
        (void)dup2(in, 0);
    if (fd >= 0) {
        (void)dup2(fd, 1);
        (void)dup2(fd, 2);
    }
    if (strchr(argv[0], '/') != NULL)
        execv(argv[0], (char *const *)(uintptr_t)argv);
    else
        execvp(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
}

int
ht_waitpid(pid_t pid, int ms)
{
    int st;

    for (int waited = 0; waited <= ms; waited += 5) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            ht_reg_pid(pid, 0);
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (r < 0)
            return -1;
        ht_sleep_ms(5);
    }
    return -1;
}

int
ht_spawn(struct ht_proc *p, const char *dir, const char *name, const char *const *argv)
{
    snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
    p->pid = ht_run(argv, p->log);
    return 0;
}

int
ht_wait(struct ht_proc *p, int ms)
{
    int rc = ht_waitpid(p->pid, ms);

    if (rc != -1)
        p->pid = 0;
    return rc;
}

int
ht_stop(struct ht_proc *p, int sig, int ms)
{
    int rc;

    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig ? sig : SIGTERM);
    rc = ht_wait(p, ms);
    if (rc == -1 && p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        ht_reg_pid(p->pid, 0);
        p->pid = 0;
    }
    return rc;
}

/* PING over our own client (no redis-cli process per try). */
static int
ht_redis_ping(const struct ht_redis *r)
{
    struct hz_addr a;
    hz_rs *rs;
    int ok = 0;

    if (access(r->sock, F_OK) != 0 || hz_addr_parse(r->addr, strlen(r->addr), &a, NULL) != 0 ||
        hz_rs_connect(&rs, &a, 500, 1, NULL) != 0)
        return 0;
    const char *ping[] = {"PING"};
    ok = ht_cmd(rs, 1, ping) == 0;
    hz_rs_close(rs);
    return ok;
}

int
ht_redis_start(struct ht_redis *r, const char *dir, int aof)
{
    char log[128];

    memset(r, 0, sizeof(*r));
    if (dir == NULL) {
        ht_tmpdir(r->dir);
        r->own_dir = 1;
    } else {
        snprintf(r->dir, sizeof(r->dir), "%s", dir);
    }
    snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
    snprintf(r->addr, sizeof(r->addr), "unix:%s", r->sock);
    snprintf(log, sizeof(log), "%s/redis.log", r->dir);
    const char *argv[] = {"redis-server",
                          "--port",
                          "0",
                          "--unixsocket",
                          r->sock,
                          "--unixsocketperm",
                          "700",
                          "--dir",
                          r->dir,
                          "--save",
                          "",
                          "--appendonly",
                          aof ? "yes" : "no",
                          "--appendfsync",
                          "always",
                          "--daemonize",
                          "no",
                          NULL};
    r->pid = ht_run(argv, log);
    for (size_t i = 0; i < HT_NELEM(ht_reg_redis); i++)
        if (ht_reg_redis[i] == NULL) {
            ht_reg_redis[i] = r;
            break;
        }
    for (int i = 0; i < 400; i++) {
        if (ht_redis_ping(r))
            return 0;
        ht_sleep_ms(25);
    }
    ht_redis_stop(r, 1);
    return -1;
}

void
ht_redis_stop(struct ht_redis *r, int hard)
{
    struct ht_proc p = {r->pid, ""};

    for (size_t i = 0; i < HT_NELEM(ht_reg_redis); i++)
        if (ht_reg_redis[i] == r)
            ht_reg_redis[i] = NULL;
    if (r->pid > 0)
        ht_stop(&p, hard ? SIGKILL : SIGTERM, 5000);
    r->pid = 0;
    if (r->own_dir) {
        ht_rmdir(r->dir);
        r->own_dir = 0;
    }
}

char *
ht_redis_cli(const struct ht_redis *r, const char *const *args)
{
    const char *argv[32] = {"/usr/bin/redis-cli", "-s", r->sock, "--raw"};
    char outp[160];
    struct ht_proc p;
    int n = 4;
    char *out;

    for (int i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    snprintf(outp, sizeof(outp), "%s/cli-%d.out", r->dir, (int)getpid());
    unlink(outp);
    {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&p.pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0) {
            posix_spawn_file_actions_destroy(&fa);
            return NULL;
        }
        posix_spawn_file_actions_destroy(&fa);
    }
    if (ht_wait(&p, 10000) != 0) {
        ht_stop(&p, SIGKILL, 100);
        return NULL;
    }
    out = ht_slurp(outp, NULL);
    unlink(outp);
    return out;
}

long
ht_redis_xlen(const struct ht_redis *r, const char *stream)
{
    const char *args[] = {"XLEN", stream, NULL};
    char *out = ht_redis_cli(r, args);
    long n = out ? strtol(out, NULL, 10) : -1;
    free(out);
    return n;
}

hz_rs *
ht_rs_connect(const struct ht_redis *r)
{
    struct hz_addr a;
    struct hz_err e = {0};
    hz_rs *rs = NULL;

    cr_assert_eq(hz_addr_parse(r->addr, strlen(r->addr), &a, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_rs_connect(&rs, &a, 10000, 3, &e), 0, "%s", e.msg);
    return rs;
}

void
ht_xadd_raw(hz_rs *rs, const char *stream, int n, const char *const *names, const char *const *vals,
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
ht_xadd(hz_rs *rs, const char *stream, const struct hz_record *rec)
{
    struct hz_field f[HZ_RECORD_FIELDS];
    const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS];
    size_t vlens[HZ_RECORD_FIELDS];
    char num[HZ_RECORD_NUMBUF];
    int n = hz_record_fields(rec, f, num);

    for (int i = 0; i < n; i++) {
        names[i] = f[i].name;
        vals[i] = f[i].val;
        vlens[i] = f[i].vlen;
    }
    ht_xadd_raw(rs, stream, n, names, vals, vlens);
}

void
ht_xadd_packed(hz_rs *rs, const char *stream, const struct hz_record *rec)
{
    unsigned char buf[HZ_RECORD_PACK_MAX];
    const char *name = HZ_RECORD_KEY, *val = (const char *)buf;
    size_t vlen = hz_record_pack(rec, buf);

    ht_xadd_raw(rs, stream, 1, &name, &val, &vlen);
}

void
ht_flush(hz_rs *rs, int n)
{
    for (int i = 0; i < n; i++) {
        hz_rs_reply *rep = NULL;
        struct hz_err e = {0};
        cr_assert_eq(hz_rs_get(rs, &rep, &e), 0, "%s", e.msg);
        cr_assert_neq(hz_rs_reply_type(rep), HZ_RS_ERROR, "%s", hz_rs_reply_str(rep, NULL));
        hz_rs_reply_free(rep);
    }
}

long
ht_idlog(hz_rs *rs, const char *stream, uint64_t **out)
{
    char pat[HZ_IDLOG_KEY_MAX + 2];
    const char *kv[] = {"KEYS", pat};
    size_t kl[2], n = 0, cap = 0;
    hz_rs_reply *keys = NULL;
    uint64_t *ids = NULL;

    (void)snprintf(pat, sizeof(pat), "%s:applied:*", stream);
    kl[0] = 4;
    kl[1] = strlen(pat);
    if (hz_rs_command(rs, 2, kv, kl, &keys, NULL) != 0 || hz_rs_reply_type(keys) != HZ_RS_ARRAY) {
        hz_rs_reply_free(keys);
        return -1;
    }
    for (size_t i = 0; i < hz_rs_reply_count(keys); i++) {
        size_t len, vl;
        const char *k = hz_rs_reply_str(hz_rs_reply_elem(keys, i), &len);
        const char *gv[] = {"GET", k};
        size_t gl[] = {3, len};
        hz_rs_reply *val = NULL;
        if (k == NULL || hz_rs_command(rs, 2, gv, gl, &val, NULL) != 0 ||
            hz_rs_reply_type(val) != HZ_RS_STRING) {
            hz_rs_reply_free(val);
            hz_rs_reply_free(keys);
            free(ids);
            return -1;
        }
        const char *v = hz_rs_reply_str(val, &vl);
        for (size_t off = 0; off + HZ_IDLOG_ID_LEN <= vl; off += HZ_IDLOG_ID_LEN) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                ids = realloc(ids, cap * sizeof(*ids));
                cr_assert_not_null(ids);
            }
            ids[n++] = hz_idlog_get((const unsigned char *)v + off);
        }
        hz_rs_reply_free(val);
    }
    hz_rs_reply_free(keys);
    *out = ids;
    return (long)n;
}

long long
ht_cmd(hz_rs *rs, int argc, const char *const *argv)
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

long long
ht_agg_drain(const char *ini, hz_rs *rs, const char *stream, const char *log)
{
    char bin[256];
    const char *xlen[] = {"XLEN", stream};
    long long left;

    ht_bin(bin, "haze-aggregator");
    const char *argv[] = {bin, "-c", ini, NULL};
    pid_t pid = ht_run(argv, log);
    for (int i = 0; i < 400 && ht_cmd(rs, 2, xlen) != 0; i++) {
        struct timespec sl = {0, 25000000};
        (void)nanosleep(&sl, NULL);
    }
    left = ht_cmd(rs, 2, xlen);
    cr_assert_eq(kill(pid, 0), 0, "the aggregator is alive");
    kill(pid, SIGTERM);
    cr_assert_eq(ht_waitpid(pid, 10000), 0, "SIGTERM: exit 0");
    return left;
}

void
ht_agg_config(char out[256], const char *dir, const struct ht_redis *r, const char *stream,
              int batch, const char *extra)
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
            "user = root\n%s\n"
            "%s",
            r->addr, stream, dir, batch, own_ret ? "" : "retention_days = 3650",
            extra != NULL ? extra : "");
    cr_assert_eq(fclose(f), 0);
}

struct hz_record
ht_rec(enum hz_kind kind, uint64_t t_ms, const char *site, const char *page, const char *vh)
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

int
ht_free_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t sl = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

const char *ht_source_addr;

static int
ht_connect(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {10, 0};

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (ht_source_addr != NULL) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, ht_source_addr, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            close(fd);
            return -1;
        }
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int
ht_wait_port(int port, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        int fd = ht_connect(port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        ht_sleep_ms(20);
    }
    return -1;
}

void
ht_bin(char out[256], const char *name)
{
    const char *b = getenv("HZ_BIN");
    snprintf(out, 256, "%s/%s", b ? b : "bin", name);
}

void
ht_geo_fixture(char out[256])
{
    const char *b = getenv("HZ_BUILD");
    snprintf(out, 256, "%s/testdata/haze-test-city.mmdb", b ? b : "build/release");
}

void
ht_write_file(char out[256], const char *dir, const char *name, const char *text)
{
    FILE *f;

    snprintf(out, 256, "%s/%s", dir, name);
    f = fopen(out, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    fclose(f);
}

static int
ht_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until EOF (we always send Connection: close). */
static char *
ht_read_all(int fd, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    ssize_t r;

    cr_assert_not_null(buf);
    while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
        n += (size_t)r;
        if (cap - n < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int
ht_http(int port, const char *method, const char *target, const char *extra_headers,
        const char *body, size_t body_len, struct ht_response *out)
{
    char head[16384];
    size_t len;
    char *raw, *sep;
    int fd, n;

    memset(out, 0, sizeof(*out));
    fd = ht_connect(port);
    if (fd < 0)
        return -1;
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, target, port, extra_headers ? extra_headers : "", body ? body_len : 0);
    if (n < 0 || (size_t)n >= sizeof(head) || ht_write_all(fd, head, (size_t)n) != 0 ||
        (body && ht_write_all(fd, body, body_len) != 0)) {
        close(fd);
        return -1;
    }
    raw = ht_read_all(fd, &len);
    close(fd);
    if (sscanf(raw, "HTTP/1.%*d %d", &out->status) != 1) {
        free(raw);
        return -1;
    }
    sep = strstr(raw, "\r\n\r\n");
    if (sep == NULL) {
        free(raw);
        return -1;
    }
    snprintf(out->headers, sizeof(out->headers), "%.*s", (int)(sep - raw), raw);
    out->body_len = len - (size_t)(sep + 4 - raw);
    out->body = malloc(out->body_len + 1);
    memcpy(out->body, sep + 4, out->body_len);
    out->body[out->body_len] = '\0';
    free(raw);
    return 0;
}

int
ht_http_raw(int port, const char *raw, size_t len)
{
    int fd = ht_connect(port), status = -1;
    size_t n;
    char *resp;

    if (fd < 0)
        return -1;
    if (ht_write_all(fd, raw, len) == 0) {
        shutdown(fd, SHUT_WR);
        resp = ht_read_all(fd, &n);
        if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
            status = 0; /* closed without a reply */
        free(resp);
    }
    close(fd);
    return status;
}

void
ht_response_free(struct ht_response *r)
{
    free(r->body);
    r->body = NULL;
}

int
ht_header(const struct ht_response *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = r->headers;

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(e ? (size_t)(e - v) : strlen(v)), v);
            return 0;
        }
    }
    return -1;
}
