/* SPDX-License-Identifier: MIT */
/* harness.c - temporary folders, redis-server, child processes, HTTP. */
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void
ht_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void
ht_tmpdir(char out[64])
{
    strcpy(out, "/tmp/haze-it.XXXXXX");
    cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
}

void
ht_rmdir(const char *dir)
{
    pid_t pid;
    const char *argv[] = {"rm", "-rf", dir, NULL};
    int st;

    if (strncmp(dir, "/tmp/haze-", 10) != 0)
        return;
    if (posix_spawnp(&pid, "rm", NULL, NULL, (char *const *)argv, environ) == 0)
        waitpid(pid, &st, 0);
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

int
ht_spawn(struct ht_proc *p, const char *dir, const char *name, const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    int rc;

    snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    rc = posix_spawn(&p->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? 0 : -1;
}

int
ht_wait(struct ht_proc *p, int ms)
{
    int st;

    for (int waited = 0; waited <= ms; waited += 10) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        ht_sleep_ms(10);
    }
    return -1;
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
        p->pid = 0;
    }
    return rc;
}

static int
ht_redis_ping(const struct ht_redis *r)
{
    const char *args[] = {"PING", NULL};
    char *out = ht_redis_cli(r, args);
    int ok = out != NULL && strncmp(out, "PONG", 4) == 0;
    free(out);
    return ok;
}

int
ht_redis_start(struct ht_redis *r, const char *dir, int aof)
{
    struct ht_proc p;
    const char *argv[] = {"/usr/bin/redis-server", "--port", "0", "--unixsocket", r->sock,
                          "--unixsocketperm", "700", "--dir", dir, "--save", "",
                          "--appendonly", aof ? "yes" : "no", "--appendfsync", "always",
                          "--daemonize", "no", NULL};

    snprintf(r->dir, sizeof(r->dir), "%s", dir);
    snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", dir);
    snprintf(r->addr, sizeof(r->addr), "unix:%s", r->sock);
    argv[4] = r->sock;
    if (ht_spawn(&p, dir, "redis", argv) != 0)
        return -1;
    r->pid = p.pid;
    for (int i = 0; i < 500; i++) {
        if (ht_redis_ping(r))
            return 0;
        ht_sleep_ms(10);
    }
    return -1;
}

void
ht_redis_stop(struct ht_redis *r, int hard)
{
    struct ht_proc p = {r->pid, ""};

    if (r->pid > 0)
        ht_stop(&p, hard ? SIGKILL : SIGTERM, 5000);
    r->pid = 0;
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
