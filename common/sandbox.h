/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - restrict each process after it has acquired what it needs
 * (OpenBSD's acquire, restrict, serve). On Linux: when started as root,
 * drop to the configured user ("user" under the daemon's section, default
 * "haze"; when that user does not exist, "nobody", with a warning; "root"
 * stays root, with a warning), with its groups (initgroups: its primary
 * and supplementary groups, as at login), setgid and setuid, checked with a
 * failed setuid(0) afterwards; then PR_SET_NO_NEW_PRIVS. The collector,
 * which holds client addresses in memory, and the dashboard, which holds
 * the token, also disable core dumps (privacy rule 1: no IP in core files).
 *
 * The folders a daemon writes (the spool, the LMDB folder) are created
 * before the drop, parents too, and owned by the user that writes them.
 */
#ifndef HZ_COMMON_SANDBOX_H
#define HZ_COMMON_SANDBOX_H

#include <sys/types.h>

#include "common/err.h"

#define HZ_SANDBOX_FALLBACK "nobody" /* exists on every Debian machine */

struct hz_user {
    char name[32]; /* the user the process runs as after hz_sandbox_* */
    uid_t uid;
    gid_t gid;
    int drop; /* 1: started as root and will drop to uid/gid */
};

/* Resolves the user a daemon runs as from the configured name: when not
 * root, the current user (nothing to drop); as root, name, or the fallback
 * (warning) when name does not exist, or root itself when name is "root"
 * (warning). 0, or HZ_ECONFIG when neither user exists. */
int hz_sandbox_user(struct hz_user *u, const char *name, struct hz_err *err);

/* Creates path and its missing parents (parents 0755, path itself 0700);
 * when u drops, a folder created here is owned by u. An existing path
 * is left as it is. 0, or errno with err->msg naming the folder. */
int hz_sandbox_mkdir(const char *path, const struct hz_user *u, struct hz_err *err);

/* Raises the soft RLIMIT_NOFILE to the hard limit (the hard limit is the
 * operator's: systemd's LimitNOFILE=, ulimit -Hn); the caller warns when
 * it is below want. Returns the soft limit now in force. */
long hz_sandbox_nofile(long want);

void hz_sandbox_collector(const struct hz_user *u);  /* after bind, hz_geo_open */
void hz_sandbox_aggregator(const struct hz_user *u); /* after creating the LMDB folder */
void hz_sandbox_dashboard(const struct hz_user *u);  /* after bind */
void hz_sandbox_tool(void);                          /* haze-geo, haze-ua */

#endif
