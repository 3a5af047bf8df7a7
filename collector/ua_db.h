/* SPDX-License-Identifier: MIT */
/*
 * ua_db.h - the user agent databases, as scripts/uadb/gen.mjs writes them
 * into $(BUILD)/gen/ua_db.c at build time (the databases themselves are
 * npm packages fetched into build/uadb, never copied into the repository).
 * Read by collector/ua.c only.
 */
#ifndef HZ_COLLECTOR_UA_DB_H
#define HZ_COLLECTOR_UA_DB_H

#include <stddef.h>

/* One uap-core rule: a regex, its replacement ("$1" stands for the first
 * group) or NULL for the first group itself, regex_flag: 'i', and the
 * major version's replacement (v1_replacement / os_v1_replacement: "$N"
 * stands for group N) or NULL for the second group itself (NULL for the
 * device rules, which name no version). */
struct hz_uadb_rule {
    const char *re;
    const char *repl;
    int caseless;
    const char *v1;
};

/* uap-core's user_agent_parsers, os_parsers and device_parsers, in order
 * (the first match wins; a device "Spider" is uap-core's word for a bot). */
extern const struct hz_uadb_rule hz_uadb_browsers[];
extern const size_t hz_uadb_browsers_n;
extern const struct hz_uadb_rule hz_uadb_oses[];
extern const size_t hz_uadb_oses_n;
extern const struct hz_uadb_rule hz_uadb_devices[];
extern const size_t hz_uadb_devices_n;

/* isbot's patterns (matched caseless, as isbot does) as two alternations:
 * those that name a word, and those that only describe a UA's shape (no
 * three letters in a row); crawler-user-agents' patterns that are not
 * plain strings as another (case-sensitive). */
extern const char hz_uadb_isbot_words[];
extern const char hz_uadb_isbot_shapes[];
extern const char hz_uadb_crawlers[];
/* crawler-user-agents' patterns that are plain strings (two bytes or
 * more), NULL-terminated: they are not in hz_uadb_crawlers. */
extern const char *const hz_uadb_crawler_strings[];

/* "uap-core X, isbot Y, crawler-user-agents Z". */
extern const char hz_uadb_versions[];

#endif
