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

/*
 * Matomo device-detector's regexes (npm node-device-detector), read by
 * collector/ua_dd.c. Every list is matched in order, the first match wins,
 * each pattern caseless and only after a non-word byte (ua_dd.c wraps them
 * as device-detector does).
 */
struct hz_dd_rule {
    const char *re;
    const char *name;    /* "$1" stands for the first group */
    const char *version; /* the same; NULL when the rule has none */
    int kind;            /* clients: enum hz_dd_client_kind; else 0 */
};
/* A device brand: its set (hz_dd_set), its type (enum hz_dd_type) and its
 * models, hz_dd_models[first .. first + n): runs of consecutive models of
 * one type, merged; the first run that matches gives the type. */
struct hz_dd_brand {
    const char *re;
    int set, type;
    size_t first, n;
};
struct hz_dd_model {
    const char *re;
    int type;
};
struct hz_dd_name {
    const char *name, *family;
};

/* device-detector's client parsers, in its order. */
enum hz_dd_client_kind {
    HZ_DD_FEED_READER = 1,
    HZ_DD_MOBILE_APP,
    HZ_DD_MEDIA_PLAYER,
    HZ_DD_PIM,
    HZ_DD_BROWSER,
    HZ_DD_LIBRARY
};
/* device-detector's device sets, in its order. */
enum hz_dd_set {
    HZ_DD_SET_HBBTV = 0,
    HZ_DD_SET_SHELLTV,
    HZ_DD_SET_NOTEBOOK,
    HZ_DD_SET_CONSOLE,
    HZ_DD_SET_CAR,
    HZ_DD_SET_CAMERA,
    HZ_DD_SET_PMP,
    HZ_DD_SET_MOBILE
};
/* device-detector's device types (gen.mjs: ddTypes). */
enum hz_dd_type {
    HZ_DD_NONE = 0,
    HZ_DD_DESKTOP,
    HZ_DD_SMARTPHONE,
    HZ_DD_TABLET,
    HZ_DD_FEATURE_PHONE,
    HZ_DD_CONSOLE,
    HZ_DD_TV,
    HZ_DD_CAR_BROWSER,
    HZ_DD_SMART_DISPLAY,
    HZ_DD_CAMERA,
    HZ_DD_PMP,
    HZ_DD_PHABLET,
    HZ_DD_SMART_SPEAKER,
    HZ_DD_WEARABLE,
    HZ_DD_PERIPHERAL
};

extern const struct hz_dd_rule hz_dd_bots[], hz_dd_oses[], hz_dd_clients[];
extern const size_t hz_dd_bots_n, hz_dd_oses_n, hz_dd_clients_n;
extern const struct hz_dd_brand hz_dd_brands[];
extern const size_t hz_dd_brands_n;
extern const struct hz_dd_model hz_dd_models[];
extern const size_t hz_dd_models_n;
/* os name -> device-detector's os family ("Android", "GNU/Linux", ...);
 * NULL-terminated. */
extern const struct hz_dd_name hz_dd_os_families[];

/* Names, NULL-terminated: browsers device-detector knows only on phones
 * and tablets, its desktop oses (names or families), its TV clients. */
extern const char *const hz_dd_mobile_browsers[], *const hz_dd_desktop_oses[],
                                                      *const hz_dd_tv_clients[];

/*
 * The prefilter (collector/ua_pre.c). Every rule of the lists above has a
 * slot: uap-core's browsers, oses and devices, device-detector's bots,
 * oses, clients, brands and model runs, from the bases below. Literals are
 * lowercase byte strings (two bytes or more), sorted as memcmp sorts them;
 * literal k's postings hz_pre_post[hz_pre_post_first[k] ..
 * hz_pre_post_first[k + 1]) are the slots of the rules every match of
 * which contains it or another of the rule's literals. The slots in
 * hz_pre_always have no literal: their rules are always run.
 */
extern const char *const hz_pre_lits[];
extern const size_t hz_pre_nlits;
extern const unsigned hz_pre_post_first[], hz_pre_post[], hz_pre_always[];
extern const size_t hz_pre_nalways, hz_pre_nslots;
extern const size_t hz_pre_uadb_browsers, hz_pre_uadb_oses, hz_pre_uadb_devices, hz_pre_dd_bots,
    hz_pre_dd_oses, hz_pre_dd_clients, hz_pre_dd_brands, hz_pre_dd_models;

/* "uap-core X, isbot Y, crawler-user-agents Z, node-device-detector W (...)". */
extern const char hz_uadb_versions[];

#endif
