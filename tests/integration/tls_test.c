/* SPDX-License-Identifier: MIT */
/*
 * tls_test.c - HTTPS on both listeners with real certificates: a CA and
 * server certificates are made at test time with the openssl command;
 * curl --cacert succeeds over TLS 1.3 and 1.2; TLS 1.0 and 1.1 (offered by
 * a client that is allowed to speak them) and plain HTTP to the TLS port
 * are refused; a SIGHUP certificate swap is seen by a new connection while
 * an old one stays open and keeps working; a bad new file is logged and
 * the old certificate kept. With TLS the dashboard's cookie is Secure and
 * HSTS is sent. Also [collector] metrics_allow.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/store.h"
#include "tests/integration/collector_env.h"
#include "tests/integration/harness.h"

#define TOKEN "tls-test-token-0123456789"

/* Runs a shell command line; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    (void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

/* A test CA in dir (ca.pem) and a server certificate NAME.pem/NAME.key for
 * 127.0.0.1 and localhost with common name cn, signed by it. */
static void
make_ca(const char *dir)
{
    cr_assert_eq(sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                    "-nodes -keyout ca.key "
                    "-out ca.pem -days 2 -subj '/CN=haze test CA' >/dev/null 2>&1",
                    dir),
                 0, "openssl could not make a CA");
}

static void
make_cert(const char *dir, const char *name, const char *cn)
{
    cr_assert_eq(sh("cd %s && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf && "
                    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "
                    "%s.key -out %s.csr "
                    "-subj '/CN=%s' >/dev/null 2>&1 && "
                    "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "-out %s.pem -days 2 -extfile ext.cnf >/dev/null 2>&1",
                    dir, name, name, cn, name, name),
                 0, "openssl could not make %s", name);
}

/* ------------------------------------------------------------ a TLS client */

struct tconn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

/* Connects to 127.0.0.1:port and completes a handshake verified against
 * ca (min..max protocol versions). 0, or -1 when the handshake failed. */
static int
tconn_open(struct tconn *c, int port, const char *ca, int min, int max, int seclevel0)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {5, 0};

    memset(c, 0, sizeof(*c));
    c->ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(c->ctx);
    if (seclevel0) {
        /* Let this client offer what Debian's defaults forbid, so the
         * refusal observed is the server's. */
        SSL_CTX_set_security_level(c->ctx, 0);
        cr_assert_eq(SSL_CTX_set_cipher_list(c->ctx, "ALL:@SECLEVEL=0"), 1);
    }
    SSL_CTX_set_min_proto_version(c->ctx, min);
    SSL_CTX_set_max_proto_version(c->ctx, max);
    cr_assert_eq(SSL_CTX_load_verify_locations(c->ctx, ca, NULL), 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(c->fd, 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    cr_assert_eq(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set1_host(c->ssl, "127.0.0.1");
    if (SSL_connect(c->ssl) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

static void
tconn_close(struct tconn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd > 0)
        close(c->fd);
    memset(c, 0, sizeof(*c));
}

/* The common name of the server's certificate. */
static void
tconn_cn(struct tconn *c, char *out, size_t cap)
{
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    cr_assert_not_null(x);
    out[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)cap);
    X509_free(x);
}

/* One keep-alive GET on the connection; the status (reads the answer of a
 * Content-Length body). */
static int
tconn_get(struct tconn *c, const char *path, int port)
{
    char req[512], buf[16384];
    int n, len = 0, status = 0;
    const char *cl, *hend;

    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
    cr_assert_eq(SSL_write(c->ssl, req, n), n);
    for (;;) {
        int r = SSL_read(c->ssl, buf + len, (int)sizeof(buf) - 1 - len);
        if (r <= 0)
            return -1;
        len += r;
        buf[len] = '\0';
        if ((hend = strstr(buf, "\r\n\r\n")) == NULL)
            continue;
        cl = strcasestr(buf, "Content-Length:");
        if (cl == NULL || len >= (hend + 4 - buf) + atoi(cl + 15))
            break;
    }
    (void)sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

/* ------------------------------------------------------------ the dashboard */

static struct {
    char dir[64], ini[256];
    int port;
    struct ht_proc dash;
} D;

static void
dash_start(void)
{
    char text[1024], bin[256], lmdb[128];
    const char *argv[] = {bin, "-c", D.ini, NULL};
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *t;

    ht_tmpdir(D.dir);
    make_ca(D.dir);
    make_cert(D.dir, "one", "haze-one");
    make_cert(D.dir, "two", "haze-two");
    (void)snprintf(lmdb, sizeof(lmdb), "%s/db", D.dir);
    cr_assert_eq(mkdir(lmdb, 0700), 0);
    cr_assert_eq(hz_store_open(&s, lmdb, 0, 16u << 20, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_wbegin(s, &t, 10, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_set_position(t, "1-1"), 0);
    cr_assert_eq(hz_store_commit(t, &err), 0, "%s", err.msg);
    hz_store_close(s);
    /* The served files are copies, so the test can swap them. */
    cr_assert_eq(sh("cd %s && cp one.pem cert.pem && cp one.key key.pem", D.dir), 0);
    D.port = ht_free_port();
    (void)snprintf(
        text, sizeof(text),
        "[aggregator]\nlmdb = %s\n[dashboard]\nuser = root\nlisten = 127.0.0.1:%d\ntoken = " TOKEN
        "\ntls_cert = %s/cert.pem\ntls_key = %s/key.pem\n[site a.example]\n",
        lmdb, D.port, D.dir, D.dir);
    ht_write_file(D.ini, D.dir, "haze.ini", text);
    ht_bin(bin, "haze-dashboard");
    cr_assert_eq(ht_spawn(&D.dash, D.dir, "dashboard", argv), 0);
    if (ht_wait_port(D.port, 10000) != 0) {
        char *log = ht_slurp(D.dash.log, NULL);
        cr_assert_fail("haze-dashboard did not listen: %s", log ? log : "");
    }
}

static void
dash_stop(void)
{
    cr_expect_eq(ht_stop(&D.dash, 0, 5000), 0, "haze-dashboard exits 0 on SIGTERM");
    ht_rmdir(D.dir);
}

TestSuite(tls, .timeout = 90);

/* curl's HTTP status for url with options, or -1 when curl failed. */
static int
curl_status(const char *opts, const char *ca, const char *url)
{
    char out[64], path[160];
    FILE *f;
    int status = -1;

    (void)snprintf(path, sizeof(path), "%s/curl.out", D.dir[0] ? D.dir : "/tmp");
    if (sh("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 --cacert %s %s '%s' > %s", ca,
           opts, url, path) != 0)
        return -1;
    f = fopen(path, "r");
    if (f != NULL && fgets(out, sizeof(out), f) != NULL)
        status = atoi(out);
    if (f != NULL)
        fclose(f);
    return status;
}

Test(tls, dashboard_over_tls_1_3_and_1_2_only)
{
    char ca[160], url[128];
    struct tconn c;

    dash_start();
    (void)snprintf(ca, sizeof(ca), "%s/ca.pem", D.dir);
    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%d/privacy.json", D.port);
    cr_assert_eq(curl_status("--tlsv1.3", ca, url), 200, "TLS 1.3");
    cr_assert_eq(curl_status("--tlsv1.2 --tls-max 1.2", ca, url), 200, "TLS 1.2");
    /* Intermediate profile: an ECDHE AES-GCM suite works over 1.2, a CBC
     * one does not. */
    cr_assert_eq(
        curl_status("--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256", ca, url),
        200);
    cr_assert_eq(curl_status("--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA", ca, url),
                 -1);
    /* Another CA: refused by the client (the server's certificate is real). */
    cr_assert_eq(curl_status("", "/etc/ssl/certs/ca-certificates.crt", url), -1);

    /* TLS 1.0 and 1.1 from a client willing to speak them: refused. */
    cr_assert_eq(tconn_open(&c, D.port, ca, TLS1_VERSION, TLS1_VERSION, 1), -1, "TLS 1.0");
    tconn_close(&c);
    cr_assert_eq(tconn_open(&c, D.port, ca, TLS1_1_VERSION, TLS1_1_VERSION, 1), -1, "TLS 1.1");
    tconn_close(&c);
    /* The same client over 1.2: accepted (so the refusals were the server's). */
    cr_assert_eq(tconn_open(&c, D.port, ca, TLS1_VERSION, TLS1_2_VERSION, 1), 0);
    cr_assert_str_eq(SSL_get_version(c.ssl), "TLSv1.2");
    cr_assert_eq(tconn_get(&c, "/privacy.json", D.port), 200);
    tconn_close(&c);

    /* Plain HTTP to the TLS port: no HTTP answer. */
    {
        struct ht_response r;
        cr_assert_eq(ht_http(D.port, "GET", "/privacy.json", NULL, NULL, 0, &r), -1);
    }
    cr_assert_eq(curl_status("", ca, url), 200, "still serving after the plain request");
    dash_stop();
}

Test(tls, dashboard_cookie_is_secure_and_hsts_is_sent)
{
    char path[160];
    char *hdr;

    dash_start();
    (void)snprintf(path, sizeof(path), "%s/login.hdr", D.dir);
    cr_assert_eq(sh("curl -s -o /dev/null -D %s --max-time 5 --cacert %s/ca.pem "
                    "--data 'token=" TOKEN "' https://127.0.0.1:%d/login",
                    path, D.dir, D.port),
                 0);
    hdr = ht_slurp(path, NULL);
    cr_assert_not_null(hdr);
    cr_assert(strstr(hdr, "HTTP/1.1 303") != NULL, "%s", hdr);
    cr_assert(strstr(hdr, "Set-Cookie: haze_session=") != NULL, "%s", hdr);
    cr_assert(strstr(hdr, "; Secure") != NULL, "%s", hdr);
    cr_assert(strstr(hdr, "Strict-Transport-Security: max-age=31536000") != NULL, "%s", hdr);
    free(hdr);
    dash_stop();
}

Test(tls, sighup_swaps_the_certificate_for_new_connections_only)
{
    char ca[160], cn[64], *log;
    struct tconn old, fresh;

    dash_start();
    (void)snprintf(ca, sizeof(ca), "%s/ca.pem", D.dir);
    cr_assert_eq(tconn_open(&old, D.port, ca, TLS1_2_VERSION, TLS1_3_VERSION, 0), 0);
    tconn_cn(&old, cn, sizeof(cn));
    cr_assert_str_eq(cn, "haze-one");
    cr_assert_eq(tconn_get(&old, "/privacy.json", D.port), 200);

    /* Swap the files and reload. */
    cr_assert_eq(sh("cd %s && cp two.pem cert.pem && cp two.key key.pem", D.dir), 0);
    cr_assert_eq(kill(D.dash.pid, SIGHUP), 0);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(tconn_open(&fresh, D.port, ca, TLS1_2_VERSION, TLS1_3_VERSION, 0), 0);
        tconn_cn(&fresh, cn, sizeof(cn));
        if (strcmp(cn, "haze-two") == 0)
            break;
        tconn_close(&fresh);
        struct timespec ms20 = {0, 20000000};
        nanosleep(&ms20, NULL);
    }
    cr_assert_str_eq(cn, "haze-two", "a new connection sees the new certificate");
    cr_assert_eq(tconn_get(&fresh, "/privacy.json", D.port), 200);
    tconn_close(&fresh);
    /* The old connection is still open, on the old certificate. */
    cr_assert_eq(tconn_get(&old, "/privacy.json", D.port), 200);
    tconn_cn(&old, cn, sizeof(cn));
    cr_assert_str_eq(cn, "haze-one");

    /* A bad new file: logged, and the certificate in use is kept. */
    cr_assert_eq(sh("cd %s && echo not-a-certificate > cert.pem", D.dir), 0);
    cr_assert_eq(kill(D.dash.pid, SIGHUP), 0);
    for (int i = 0; i < 100; i++) {
        log = ht_slurp(D.dash.log, NULL);
        if (log && strstr(log, "keeping the certificate in use"))
            break;
        free(log);
        log = NULL;
        struct timespec ms20 = {0, 20000000};
        nanosleep(&ms20, NULL);
    }
    cr_assert_not_null(log, "the bad file was not reported");
    cr_assert(strstr(log, "tls_cert") != NULL, "%s", log);
    free(log);
    cr_assert_eq(tconn_open(&fresh, D.port, ca, TLS1_2_VERSION, TLS1_3_VERSION, 0), 0);
    tconn_cn(&fresh, cn, sizeof(cn));
    cr_assert_str_eq(cn, "haze-two");
    tconn_close(&fresh);
    cr_assert_eq(tconn_get(&old, "/privacy.json", D.port), 200, "the old one survives too");
    tconn_close(&old);
    dash_stop();
}

/* ------------------------------------------------------------ the collector */

Test(tls, collector_over_tls_and_sighup)
{
    char certs[64], extra[512], url[160], ca[160], cn[64];
    struct ce env;
    struct tconn c;

    ht_tmpdir(certs);
    make_ca(certs);
    make_cert(certs, "one", "collector-one");
    make_cert(certs, "two", "collector-two");
    cr_assert_eq(sh("cd %s && cp one.pem cert.pem && cp one.key key.pem", certs), 0);
    (void)snprintf(extra, sizeof(extra), "tls_cert = %s/cert.pem\ntls_key = %s/key.pem\n", certs,
                   certs);
    ce_start(&env, 0, extra);
    (void)snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%d/healthz", env.port);
    cr_assert_eq(curl_status("--tlsv1.3", ca, url), 200);
    cr_assert_eq(curl_status("--tlsv1.2 --tls-max 1.2", ca, url), 200);
    /* A hit over HTTPS is accepted and reaches the stream. */
    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%d/api/event", env.port);
    cr_assert_eq(sh("curl -s -o /dev/null -w '%%{http_code}' --max-time 5 --cacert %s "
                    "-H 'Content-Type: text/plain' -A 'Mozilla/5.0 (X11; Linux x86_64) "
                    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' "
                    "--data '{\"n\":\"pageview\",\"u\":\"https://example.com/tls\","
                    "\"d\":\"example.com\"}' '%s' | grep -qx 202",
                    ca, url),
                 0);
    {
        char *log = ht_slurp(env.collector.log, NULL);
        cr_assert(log != NULL && strstr(log, "io_uring") == NULL,
                  "an HTTPS collector opens no ring: %s", log);
        free(log);
    }
    cr_assert_eq(tconn_open(&c, env.port, ca, TLS1_VERSION, TLS1_1_VERSION, 1), -1);
    tconn_close(&c);
    {
        struct ht_response r;
        cr_assert_eq(ht_http(env.port, "GET", "/healthz", NULL, NULL, 0, &r), -1, "plain HTTP");
    }
    /* SIGHUP in the collector (sigwait in main, threads serving). */
    cr_assert_eq(tconn_open(&c, env.port, ca, TLS1_2_VERSION, TLS1_3_VERSION, 0), 0);
    cr_assert_eq(tconn_get(&c, "/healthz", env.port), 200);
    cr_assert_eq(sh("cd %s && cp two.pem cert.pem && cp two.key key.pem", certs), 0);
    cr_assert_eq(kill(env.collector.pid, SIGHUP), 0);
    for (int i = 0; i < 100; i++) {
        struct tconn f;
        cr_assert_eq(tconn_open(&f, env.port, ca, TLS1_2_VERSION, TLS1_3_VERSION, 0), 0);
        tconn_cn(&f, cn, sizeof(cn));
        tconn_close(&f);
        if (strcmp(cn, "collector-two") == 0)
            break;
        struct timespec ms20 = {0, 20000000};
        nanosleep(&ms20, NULL);
    }
    cr_assert_str_eq(cn, "collector-two");
    cr_assert_eq(tconn_get(&c, "/healthz", env.port), 200, "the open connection stays");
    tconn_close(&c);
    {
        static struct ce_entry en[8];
        int n = 0;
        for (int i = 0; i < 100 && (n = ce_entries(&env, en, 8, 1)) < 1; i++) {
            struct timespec ms20 = {0, 20000000};
            nanosleep(&ms20, NULL);
        }
        cr_assert_eq(n, 1, "the HTTPS hit is in the stream");
        cr_assert_str_eq(ce_field(&en[0], "p") ? ce_field(&en[0], "p") : "", "/tls");
    }
    ce_stop(&env);
    ht_rmdir(certs);
}

Test(tls, collector_metrics_allow)
{
    struct ce env;
    struct ht_response r;

    /* Default 127.0.0.1/8 ::1: loopback reads the counters. */
    ce_start(&env, 0, NULL);
    cr_assert_eq(ht_http(env.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "haze_") != NULL);
    ht_response_free(&r);
    ce_stop(&env);

    /* Listed networks only: loopback is not in 10.0.0.0/8. */
    ce_start(&env, 0, "metrics_allow = 10.0.0.0/8\n");
    cr_assert_eq(ht_http(env.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 403);
    cr_assert_null(strstr(r.body, "haze_"), "no counters in the refusal");
    ht_response_free(&r);
    /* A forwarded address cannot widen it. */
    cr_assert_eq(ht_http(env.port, "GET", "/metrics", "X-Forwarded-For: 10.1.2.3\r\n", NULL, 0, &r),
                 0);
    cr_assert_eq(r.status, 403);
    ht_response_free(&r);
    cr_assert_eq(ht_http(env.port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200, "other routes are not affected");
    ht_response_free(&r);
    ce_stop(&env);
}
