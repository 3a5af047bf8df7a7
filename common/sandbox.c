/* SPDX-License-Identifier: MIT */
/* sandbox.c - privilege drop and process restrictions, one function each. */
#include "common/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/str.h"

int
hz_sandbox_user(struct hz_user *u, const char *name, struct hz_err *err)
{
    struct passwd *pw;

    memset(u, 0, sizeof(*u));
    if (geteuid() != 0) {
        pw = getpwuid(geteuid());
        (void)hz_strlcpy(u->name, pw != NULL ? pw->pw_name : "?", sizeof(u->name));
        u->uid = geteuid();
        u->gid = getegid();
        return 0;
    }
    if (strcmp(name, "root") == 0) {
        hz_log_warnx("sandbox: staying root (user = root); set another user to drop privileges");
        (void)hz_strlcpy(u->name, "root", sizeof(u->name));
        return 0;
    }
    pw = getpwnam(name);
    if (pw == NULL) {
        hz_log_warnx("sandbox: user %s does not exist; running as %s instead (create %s, or "
                     "set user)",
                     name, HZ_SANDBOX_FALLBACK, name);
        pw = getpwnam(HZ_SANDBOX_FALLBACK);
        if (pw == NULL)
            return hz_err_set(err, HZ_ECONFIG, "sandbox: neither user %s nor %s exists", name,
                              HZ_SANDBOX_FALLBACK);
    }
    if (pw->pw_uid == 0)
        return hz_err_set(err, HZ_ECONFIG, "sandbox: user %s is root; set user = root to stay root",
                          pw->pw_name);
    (void)hz_strlcpy(u->name, pw->pw_name, sizeof(u->name));
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    u->drop = 1;
    return 0;
}

/* mkdir of one component; 1 when created, 0 when it was there, -1. */
static int
sandbox_mkdir1(const char *path, mode_t mode)
{
    struct stat st;

    if (mkdir(path, mode) == 0)
        return 1;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == EEXIST)
        errno = ENOTDIR;
    return -1;
}

int
hz_sandbox_mkdir(const char *path, const struct hz_user *u, struct hz_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    int rc;

    if (n == 0 || n >= sizeof(buf))
        return hz_err_set(err, HZ_EINVAL, "mkdir: bad folder name");
    memcpy(buf, path, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    /* Parents: traversable by the user the daemon becomes. */
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        rc = sandbox_mkdir1(buf, 0755);
        *p = '/';
        if (rc < 0)
            return hz_err_set(err, errno, "cannot create %.*s: %s", (int)(p - buf), buf,
                              strerror(errno));
    }
    rc = sandbox_mkdir1(buf, 0700);
    if (rc < 0)
        return hz_err_set(err, errno, "cannot create %s: %s", buf, strerror(errno));
    if (rc == 1 && u != NULL && u->drop && chown(buf, u->uid, u->gid) != 0)
        return hz_err_set(err, errno, "cannot give %s to user %s: %s", buf, u->name,
                          strerror(errno));
    return 0;
}

long
hz_sandbox_nofile(long want)
{
    (void)want; /* the hard limit is the operator's (LimitNOFILE=, ulimit -Hn) */
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

/* Drops root to u (when u says so), checked. */
static void
sandbox_drop_root(const struct hz_user *u)
{
    if (u == NULL || !u->drop || geteuid() != 0)
        return;
    /* The user's supplementary groups too (initgroups), as a login gets
     * them: kernel.io_uring_group may be one of them. */
    if (initgroups(u->name, u->gid) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0)
        hz_fatal("sandbox: cannot drop privileges to user %s", u->name);
    if (setuid(0) == 0)
        hz_fatalx("sandbox: privileges could be regained");
    hz_log_info("sandbox: running as user %s", u->name);
}

static void
sandbox_common(const struct hz_user *u)
{
    sandbox_drop_root(u);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        hz_fatal("sandbox: PR_SET_NO_NEW_PRIVS");
}

static void
sandbox_nocore(void)
{
    struct rlimit rl = {0, 0};

    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        hz_fatal("sandbox: RLIMIT_CORE");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        hz_fatal("sandbox: PR_SET_DUMPABLE");
}

void
hz_sandbox_collector(const struct hz_user *u)
{
    sandbox_common(u);
    sandbox_nocore(); /* after the drop: setuid resets the dumpable flag */
}

void
hz_sandbox_aggregator(const struct hz_user *u)
{
    sandbox_common(u);
}

void
hz_sandbox_dashboard(const struct hz_user *u)
{
    sandbox_common(u);
    sandbox_nocore();
}

void
hz_sandbox_tool(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        hz_fatal("sandbox: PR_SET_NO_NEW_PRIVS");
}
