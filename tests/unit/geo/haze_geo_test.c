/* SPDX-License-Identifier: MIT */
/*
 * haze_geo_test.c - the haze-geo operator tool, run as a program:
 * $HZ_BIN/haze-geo (default bin/) over the fixture in $HZ_BUILD/testdata.
 * Checks stdout, stderr and the exit status of each way to call it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define OUT_MAX 4096

struct run_result {
    int status; /* exit status, -1 when killed */
    char out[OUT_MAX];
    char err[OUT_MAX];
};

struct cli_env {
    char dir[64];   /* mkdtemp scratch */
    char tool[512]; /* haze-geo */
    char db[512];   /* the fixture */
};

static struct cli_env env;

static const char *
env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : def;
}

static void
read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;

    out[0] = '\0';
    if (f == NULL)
        return;
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    (void)fclose(f);
}

static void
cli_setup(void)
{
    struct stat sb;
    char tmpl[] = "/tmp/hz-geo-cli.XXXXXX";

    cr_assert_not_null(mkdtemp(tmpl), "mkdtemp: %s", strerror(errno));
    (void)snprintf(env.dir, sizeof(env.dir), "%s", tmpl);
    (void)snprintf(env.tool, sizeof(env.tool), "%s/haze-geo", env_or("HZ_BIN", "bin"));
    (void)snprintf(env.db, sizeof(env.db), "%s/testdata/haze-test-city.mmdb",
                   env_or("HZ_BUILD", "build/release"));
    cr_assert(stat(env.tool, &sb) == 0, "%s missing: build it (make, or set HZ_BIN)", env.tool);
    cr_assert(stat(env.db, &sb) == 0, "%s missing: run `make testdata`", env.db);
}

static void
cli_teardown(void)
{
    char p[128];
    static const char *const names[] = {"out", "err", "in", "haze.ini"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        (void)snprintf(p, sizeof(p), "%s/%s", env.dir, names[i]);
        (void)unlink(p);
    }
    (void)rmdir(env.dir);
}

/* Runs "haze-geo ARGS" through sh, stdin from `input` (NULL: empty),
 * stdout and stderr into files read back into r. Arguments are test
 * text without single quotes. */
static void
cli_run(struct run_result *r, const char *input, const char *args)
{
    char cmd[2048], p[128];
    FILE *f;
    int st;

    (void)snprintf(p, sizeof(p), "%s/in", env.dir);
    f = fopen(p, "w");
    cr_assert_not_null(f);
    if (input != NULL)
        cr_assert(fputs(input, f) >= 0);
    cr_assert_eq(fclose(f), 0);
    (void)snprintf(cmd, sizeof(cmd), "'%s' %s <'%s/in' >'%s/out' 2>'%s/err'", env.tool, args,
                   env.dir, env.dir, env.dir);
    st = system(cmd);
    cr_assert_neq(st, -1, "system: %s", strerror(errno));
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    (void)snprintf(p, sizeof(p), "%s/out", env.dir);
    read_file(p, r->out, sizeof(r->out));
    (void)snprintf(p, sizeof(p), "%s/err", env.dir);
    read_file(p, r->err, sizeof(r->err));
}

static void
write_ini(const char *text)
{
    char p[128];
    FILE *f;

    (void)snprintf(p, sizeof(p), "%s/haze.ini", env.dir);
    f = fopen(p, "w");
    cr_assert_not_null(f);
    cr_assert(fputs(text, f) >= 0);
    cr_assert_eq(fclose(f), 0);
}

TestSuite(haze_geo, .init = cli_setup, .fini = cli_teardown);

Test(haze_geo, prints_one_line_per_address)
{
    struct run_result r;
    char args[1024];

    (void)snprintf(args, sizeof(args),
                   "-d '%s' 192.0.2.1 ::ffff:203.0.113.9 2001:db8:3::1 100.64.8.1 100.64.9.1 "
                   "8.8.8.8",
                   env.db);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
    cr_assert_str_eq(r.out, "192.0.2.1\tDE-BY\n"
                            "::ffff:203.0.113.9\tCN-JS\n"
                            "2001:db8:3::1\tAU\n"
                            "100.64.8.1\tNL\n"
                            "100.64.9.1\t-\n"
                            "8.8.8.8\t-\n");
    cr_assert_str_eq(r.err, "");
}

Test(haze_geo, invalid_address_exits_2_after_the_rest)
{
    struct run_result r;
    char args[1024];

    (void)snprintf(args, sizeof(args), "-d '%s' 192.0.2.1 not-an-ip 1.2.3 198.51.100.4", env.db);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 2);
    cr_assert_str_eq(r.out, "192.0.2.1\tDE-BY\n"
                            "not-an-ip\tinvalid\n"
                            "1.2.3\tinvalid\n"
                            "198.51.100.4\tUS-CA\n");
}

Test(haze_geo, reads_stdin_without_arguments)
{
    struct run_result r;
    char args[1024];

    (void)snprintf(args, sizeof(args), "-d '%s'", env.db);
    cli_run(&r, "100.64.5.1\n\n2001:db8:1::1\r\nbogus\n", args);
    cr_assert_eq(r.status, 2);
    cr_assert_str_eq(r.out, "100.64.5.1\tJP-13\n"
                            "2001:db8:1::1\tFR-IDF\n"
                            "bogus\tinvalid\n");
}

Test(haze_geo, config_check_ok)
{
    struct run_result r;
    char ini[1024], args[256];

    (void)snprintf(ini, sizeof(ini), "[geo]\ndatabase = %s\n", env.db);
    write_ini(ini);
    (void)snprintf(args, sizeof(args), "-t -c '%s/haze.ini'", env.dir);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert_eq(strstr(r.out, "/haze.ini: configuration OK\n") != NULL, 1, "%s", r.out);

    /* And the same file looks addresses up. */
    (void)snprintf(args, sizeof(args), "-c '%s/haze.ini' 100.64.1.1", env.dir);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert_str_eq(r.out, "100.64.1.1\tGB-ENG\n");
}

Test(haze_geo, config_without_database_fails)
{
    struct run_result r;
    char args[256], want[256];

    write_ini("[dashboard]\nmin_visitors = 5\n");
    (void)snprintf(args, sizeof(args), "-t -c '%s/haze.ini'", env.dir);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.out, "");
    (void)snprintf(want, sizeof(want), "%s/haze.ini: [geo] database: required\n", env.dir);
    cr_assert_str_eq(r.err, want);
}

Test(haze_geo, bad_config_names_file_and_line)
{
    struct run_result r;
    char args[256], want[256];

    write_ini("[geo]\n; the database\ndatbase = /x.mmdb\n");
    (void)snprintf(args, sizeof(args), "-t -c '%s/haze.ini'", env.dir);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 1);
    (void)snprintf(want, sizeof(want), "%s/haze.ini:3: [geo] datbase: unknown key\n", env.dir);
    cr_assert_str_eq(r.err, want);
}

Test(haze_geo, config_naming_a_missing_database_fails)
{
    struct run_result r;
    char ini[256], args[256];

    (void)snprintf(ini, sizeof(ini), "[geo]\ndatabase = %s/none.mmdb\n", env.dir);
    write_ini(ini);
    (void)snprintf(args, sizeof(args), "-t -c '%s/haze.ini'", env.dir);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.out, "");
    cr_assert(strstr(r.err, "/none.mmdb: cannot open: No such file or directory\n") != NULL, "%s",
              r.err);
    cr_assert(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "not one line: %s", r.err);
}

Test(haze_geo, bad_database_file_fails)
{
    struct run_result r;
    char args[256];

    write_ini("not a database\n");
    (void)snprintf(args, sizeof(args), "-d '%s/haze.ini' 192.0.2.1", env.dir);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.out, "");
    cr_assert(strstr(r.err, "haze.ini: corrupt or truncated MaxMind DB") != NULL, "%s", r.err);
}

Test(haze_geo, database_check_with_d)
{
    struct run_result r;
    char args[1024], want[1024];

    (void)snprintf(args, sizeof(args), "-t -d '%s'", env.db);
    cli_run(&r, NULL, args);
    cr_assert_eq(r.status, 0);
    (void)snprintf(want, sizeof(want), "%s: database OK\n", env.db);
    cr_assert_str_eq(r.out, want);
}

Test(haze_geo, usage_errors_exit_1)
{
    struct run_result r;

    cli_run(&r, NULL, "192.0.2.1");
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "usage: haze-geo") != NULL, "%s", r.err);
    cli_run(&r, NULL, "-x");
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "usage: haze-geo") != NULL, "%s", r.err);
}
