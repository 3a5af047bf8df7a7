/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - restrict each process after it has acquired what it needs
 * (OpenBSD's acquire, restrict, serve). On Linux: when started as root and
 * a "haze" user exists, drop to it (setgroups/setgid/setuid, checked); then
 * PR_SET_NO_NEW_PRIVS. The collector, which holds client addresses in
 * memory, also disables core dumps (privacy rule 1: no IP in core files).
 */
#ifndef HZ_COMMON_SANDBOX_H
#define HZ_COMMON_SANDBOX_H

void hz_sandbox_collector(void);  /* after bind, hz_geo_open, Redis connect */
void hz_sandbox_aggregator(void); /* after mdb_env_open (read-write) */
void hz_sandbox_dashboard(void);  /* after the read-only open and bind */
void hz_sandbox_tool(void);       /* haze-geo, haze-ua: no privileges needed */

#endif
