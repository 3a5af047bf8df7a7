/* SPDX-License-Identifier: MIT */
/*
 * xscan.h - a declared pair's cells, or a plain breakdown's rows, over a
 * range, read on two threads.
 *
 * A year's answer across a pair sums ~130,000 rows (the pair's whole
 * table: its crowd-size rule is decided over every cell, crosstab.h), so
 * the read is shared: the caller's thread takes the range's periods from
 * the front, one persistent helper thread takes them from the back, each
 * into a table of its own, in its own read transaction on the same
 * snapshot (LMDB's transaction id; when the aggregator committed in
 * between, or the map grew, the caller reads every period itself). The
 * tables are then merged so that the result is the table a single read
 * gives, cell for cell and in the same order, so answers do not depend on
 * it.
 *
 * The helper thread is started at the first such read and lives as long
 * as the process; it holds no transaction between reads. It runs one read
 * at a time: a caller that finds it busy, or that runs out of periods
 * before the helper has picked up the job, reads what is left itself.
 */
#ifndef HZ_DASHBOARD_XSCAN_H
#define HZ_DASHBOARD_XSCAN_H

#include <stdint.h>

#include "common/store.h"
#include "dashboard/xcells.h"

/* The cells of the pair whose cell values start with pre (two letters,
 * common/groups.h hz_crosstab_cell) over local days [from, to] into
 * cells (initialised, empty), keyed "v1\x1fv2", after hz_xcells_seq_end.
 * Rows that are not cells (no separator) stay as cells of all zeros, like
 * the cells whose rows were all outside the range (hz_xcells_drop_empty).
 * 0 or a store error (HZ_ESTORE, HZ_EINVAL). */
int hz_xscan_cells(hz_rtxn *t, const char *site, const char pre[2], int32_t from, int32_t to,
                   struct hz_xcells *cells);

/* The rows of a plain (one-dimension) breakdown: dim's rows over local
 * days [from, to] as hz_store_dim_rows reads them, one cell per distinct
 * value (no separator looked for, the whole value is the key) with its
 * eight counters summed in cells->wide (hz_xcells_wide), in the order the
 * values first came, after hz_xcells_seq_end. The same two-thread read as
 * a pair's: the table is the one a single thread builds. 0 or a store
 * error (HZ_ESTORE, HZ_EINVAL). */
int hz_xscan_rows(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
                  struct hz_xcells *cells);

/* When the helper thread is used: 1 (the default) for reads large enough
 * (the last table of the pair or dimension, scaled to this read's
 * weight, times the periods read: the first read of one, and small or
 * short reads, stay in the caller's thread), 2 for every read
 * of two periods or more, 0 never. For tests and comparisons. */
void hz_xscan_threads(int mode);

#endif
