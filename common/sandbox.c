/* SPDX-License-Identifier: MIT */
/* sandbox.c - privilege drop and process restrictions, one function each. */
#include "common/sandbox.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"

/* Drops root to the "haze" user when there is one. */
static void
sandbox_drop_root(void)
{
    struct passwd *pw;

    if (geteuid() != 0)
        return;
    pw = getpwnam("haze");
    if (pw == NULL) {
        hz_log_debug("sandbox: running as root; create a 'haze' user to drop privileges");
        return;
    }
    if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        hz_fatal("sandbox: cannot drop privileges to user haze");
    if (setuid(0) == 0)
        hz_fatalx("sandbox: privileges could be regained");
}

static void
sandbox_common(void)
{
    sandbox_drop_root();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        hz_fatal("sandbox: PR_SET_NO_NEW_PRIVS");
}

void
hz_sandbox_collector(void)
{
    struct rlimit rl = {0, 0};

    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        hz_fatal("sandbox: RLIMIT_CORE");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        hz_fatal("sandbox: PR_SET_DUMPABLE");
    sandbox_common();
}

void
hz_sandbox_aggregator(void)
{
    sandbox_common();
}

void
hz_sandbox_dashboard(void)
{
    sandbox_common();
}

void
hz_sandbox_tool(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        hz_fatal("sandbox: PR_SET_NO_NEW_PRIVS");
}
