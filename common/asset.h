/* SPDX-License-Identifier: MIT */
/*
 * asset.h - files embedded in a binary at build time by common/bin2c.c.
 * Each table ends with an entry whose path is NULL. Data is static and
 * immutable: serve it with evbuffer_add_reference, no copy.
 */
#ifndef HZ_COMMON_ASSET_H
#define HZ_COMMON_ASSET_H

#include <stddef.h>
#include <string.h>

struct hz_asset {
    const char *path; /* "/haze.js" */
    const unsigned char *data;
    size_t len;
    const char *ctype; /* Content-Type */
    const char *etag;  /* quoted, changes with the content */
};

extern const struct hz_asset collector_assets[];
extern const struct hz_asset dashboard_assets[];

/* Finds path in table, or NULL. */
static inline const struct hz_asset *
hz_asset_find(const struct hz_asset *table, const char *path)
{
    for (; table->path != NULL; table++)
        if (strcmp(table->path, path) == 0)
            return table;
    return NULL;
}

#endif
