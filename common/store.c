/* SPDX-License-Identifier: MIT */
/*
 * store.c - the LMDB store of aggregates: key encoding, the batched writer
 * (deltas folded in memory, written in key order in one transaction with the
 * stream position), the read API used by the dashboard, retention and
 * compaction. The key layout is documented in store.h and nowhere else.
 *
 * Privacy: only sums over (site, period, dimension, value) are written; no
 * visitor hash or anything per visit reaches this file (DESIGN.md rule 4).
 * Retention swaps in a compacted copy, so deleted rows do not survive in
 * free pages of the file (rule 8).
 */
#include "common/store.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "common/kmap.h"
#include "common/log.h"
#include "common/record.h"
#include "common/str.h"
#include "common/tz.h"

#define ST_VERSION 2
#define ST_KEY_MAX 511 /* LMDB's default maximum key size */
#define ST_VMAX    (1 + HZ_HIST_BUCKETS)
/* A row's delta key: db, site (< HZ_HOST_MAX), \0, gran, dim, day, value. */
_Static_assert(1 + HZ_HOST_MAX + 2 + 1 + 4 + HZ_PAGE_MAX <= ST_KEY_MAX + 8, "row keys fit");
#define ST_OTHER        "(other)"
#define ST_CLASS_HIST   0x80
#define ST_CLASS_TRANS  0x81
#define ST_RETAIN_CHUNK 20000 /* deletions per write transaction */

enum st_db { DB_META, DB_ROWS, DB_HIST, DB_FUN, DB_TRANS, DB_N };

static const char *const st_dbnames[DB_N] = {"meta", "rows", "hist", "fun", "trans"};
/* Width of a value in u64 words, per database. */
static const int st_width[DB_N] = {1, 8, HZ_HIST_BUCKETS, ST_VMAX, 1};

struct hz_store {
    MDB_env *env;
    MDB_dbi dbi[DB_N];
    int have_dbs;   /* read-only: the writer has created the databases */
    unsigned psize; /* LMDB's page size, a power of two (0: unknown) */
    int readonly;
    size_t map_size;
    char path[PATH_MAX];
    dev_t dev;
    ino_t ino;
    hz_kmap *spare;  /* a delta map kept between write transactions */
    hz_kmap *months; /* the month rows of the write in progress (one at a time) */
    /* The hash key of every delta and cards map of this store: a key hashed
     * for one batch's map is looked up in the previous batch's with the
     * same hash. Random per open, so collisions cannot be precomputed. */
    unsigned char mkey[16];
    /* Delta keys known to be rows (committed, or in a batch that commits
     * before any later one begins): a key found here needs neither the
     * previous batch's map nor an mdb_get to count as existing for the cap.
     * Writer's thread only. Emptied when a batch is dropped unwritten, when
     * retention deletes rows, and when it reaches ST_KNOWN_MAX keys. */
    hz_kmap *known;
    /* The writer's memo of delta keys -> their delta in the open write
     * transaction (entries of another generation are stale): most adds hit
     * a row added moments ago, and a probe here costs a fraction of the
     * delta map's SipHash. Writer's thread only. */
    struct st_memo *memo;
    uint32_t memo_gen;
};

#define ST_MEMO (1 << 13) /* slots, a power of two */

struct st_memo {
    uint32_t gen, klen;
    const unsigned char *key; /* the delta map's copy */
    uint64_t *v;
};

#define ST_KNOWN_MAX (1 << 17)

struct hz_rtxn {
    hz_store *s;
    MDB_txn *txn;
};

struct st_delta {
    uint64_t v[ST_VMAX];
};

struct hz_wtxn {
    hz_store *s;
    hz_kmap *delta; /* db byte + LMDB key -> struct st_delta */
    hz_kmap *cards; /* meta card key -> struct st_card */
    MDB_txn *snap;  /* read snapshot for cap decisions, or NULL */
    int snap_rc;    /* a failed snapshot: the commit reports it */
    uint64_t max_values;
    char pos[64];
    int has_pos;
    const hz_wtxn *prev; /* sealed, being written by another thread, or NULL */
    int sealed;          /* no more adds: the deltas are read-only (st_write sorts them) */
    int written;         /* committed to LMDB (set by st_write) */
    uint32_t memo_gen;   /* its entries in s->memo */
};

/* ------------------------------------------------------------ histograms */

int
hz_hist_bucket(uint64_t ms)
{
    int b = 1;

    if (ms < 1000)
        return 0;
    for (uint64_t s = ms / 1000; s >= 2 && b < HZ_HIST_BUCKETS - 1; s >>= 1)
        b++;
    return b;
}

void
hz_hist_bounds(int b, uint64_t *lo, uint64_t *hi)
{
    if (b <= 0) {
        *lo = 0;
        *hi = 1000;
    } else if (b >= HZ_HIST_BUCKETS - 1) {
        *lo = 1000ULL << (HZ_HIST_BUCKETS - 2);
        *hi = 7200000;
    } else {
        *lo = 1000ULL << (b - 1);
        *hi = 1000ULL << b;
    }
}

uint64_t
hz_hist_quantile(const uint64_t h[HZ_HIST_BUCKETS], double q)
{
    uint64_t total = 0, cum = 0, lo, hi;
    double rank;

    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        total += h[b];
    if (total == 0)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    rank = q * (double)total;
    for (int b = 0; b < HZ_HIST_BUCKETS; b++) {
        if (h[b] == 0)
            continue;
        if ((double)(cum + h[b]) >= rank) {
            double frac = (rank - (double)cum) / (double)h[b];
            hz_hist_bounds(b, &lo, &hi);
            if (frac < 0)
                frac = 0;
            /* Bucket 0 starts at 0: interpolate linearly there; elsewhere
             * geometrically, matching the log-scale buckets. */
            if (lo == 0)
                return (uint64_t)(frac * (double)hi);
            return (uint64_t)((double)lo * pow((double)hi / (double)lo, frac));
        }
        cum += h[b];
    }
    hz_hist_bounds(HZ_HIST_BUCKETS - 1, &lo, &hi);
    return hi;
}

/* ------------------------------------------------------------ encoding */

static void
st_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t
st_rd32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
st_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

static void
st_put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
st_month_of(int32_t day)
{
    int y, m, d;

    hz_civil_from_days(day, &y, &m, &d);
    return (uint32_t)(y * 12 + m - 1);
}

static int32_t
st_month_first(uint32_t month)
{
    return hz_days_from_civil((int)(month / 12), (int)(month % 12) + 1, 1);
}

/* A key under construction: bytes and length, bounded by ST_KEY_MAX + 1
 * (the delta map's keys carry a leading db byte). */
struct st_key {
    unsigned char b[ST_KEY_MAX + 8];
    size_t n;
    int over; /* too long for LMDB */
};

static void
st_kinit(struct st_key *k)
{
    k->n = 0;
    k->over = 0;
}

static void
st_kput(struct st_key *k, const void *p, size_t n)
{
    if (k->over || k->n + n > sizeof(k->b)) {
        k->over = 1;
        return;
    }
    memcpy(k->b + k->n, p, n);
    k->n += n;
}

static void
st_kbyte(struct st_key *k, unsigned char c)
{
    st_kput(k, &c, 1);
}

static void
st_kperiod(struct st_key *k, uint32_t period)
{
    unsigned char p[4];
    st_be32(p, period);
    st_kput(k, p, 4);
}

/* site\0 gran */
static void
st_ksite(struct st_key *k, const char *site, size_t slen, char gran)
{
    st_kput(k, site, slen);
    st_kbyte(k, 0);
    st_kbyte(k, (unsigned char)gran);
}

static int
st_err(struct hz_err *err, int rc, const char *what, const hz_store *s)
{
    return hz_err_set(err, HZ_ESTORE, "%s: %s: %s", s != NULL ? s->path : "store", what,
                      mdb_strerror(rc));
}

/* ------------------------------------------------------------ open/close */

static int
st_stat_data(const char *path, dev_t *dev, ino_t *ino)
{
    char p[PATH_MAX + 16];
    struct stat st;

    (void)snprintf(p, sizeof(p), "%s/data.mdb", path);
    if (stat(p, &st) != 0)
        return errno != 0 ? errno : EIO;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

/* Opens the databases; the writer creates them and checks the version. */
static int
st_open_dbs(hz_store *s, struct hz_err *err)
{
    MDB_txn *txn;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
    if (rc != 0)
        return st_err(err, rc, "begin", s);
    s->have_dbs = 1;
    for (int i = 0; i < DB_N; i++) {
        rc = mdb_dbi_open(txn, st_dbnames[i], s->readonly ? 0 : MDB_CREATE, &s->dbi[i]);
        if (rc == MDB_NOTFOUND && s->readonly) {
            s->have_dbs = 0;
            break;
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
            return st_err(err, rc, "open databases", s);
        }
    }
    if (s->have_dbs) {
        MDB_val k = {3, (void *)"ver"}, v;
        unsigned char ver[4] = {ST_VERSION, 0, 0, 0};
        rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
        if (rc == MDB_NOTFOUND && !s->readonly) {
            v.mv_size = 4;
            v.mv_data = ver;
            rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
        } else if (rc == 0 && (v.mv_size != 4 || memcmp(v.mv_data, ver, 4) != 0)) {
            mdb_txn_abort(txn);
            return hz_err_set(err, HZ_ESTORE, "%s: layout version is not %d", s->path, ST_VERSION);
        } else if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
        if (rc != 0) {
            mdb_txn_abort(txn);
            return st_err(err, rc, "version", s);
        }
    }
    /* Commit even when read-only: it publishes the dbi handles. */
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return st_err(err, rc, "commit", s);
    return 0;
}

static int
st_env_open(hz_store *s, struct hz_err *err)
{
    unsigned flags = 0;
    int rc;

    rc = mdb_env_create(&s->env);
    if (rc != 0)
        return st_err(err, rc, "create", s);
    (void)mdb_env_set_maxdbs(s->env, 8);
    if (s->map_size > 0)
        (void)mdb_env_set_mapsize(s->env, s->map_size);
    /* NOTLS: read snapshots are tied to their txn, not the thread, so a
     * writer's cap snapshot and a reader can coexist in one thread. */
    flags |= MDB_NOTLS;
    if (s->readonly)
        flags |= MDB_RDONLY;
    rc = mdb_env_open(s->env, s->path, flags, 0600);
    if (rc != 0) {
        mdb_env_close(s->env);
        s->env = NULL;
        return st_err(err, rc, "open", s);
    }
    if ((rc = st_open_dbs(s, err)) != 0) {
        mdb_env_close(s->env);
        s->env = NULL;
        return rc;
    }
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) == 0)
        s->map_size = info.me_mapsize;
    MDB_stat est;
    s->psize = mdb_env_stat(s->env, &est) == 0 && est.ms_psize >= 64 &&
                       (est.ms_psize & (est.ms_psize - 1)) == 0
                   ? est.ms_psize
                   : 0;
    /* The inode of the file LMDB holds open, not of the path: a compaction
     * that renames a new data.mdb in between would otherwise be taken for
     * the file this reader holds, which would then never be reopened. */
    mdb_filehandle_t fd;
    struct stat st;
    if (mdb_env_get_fd(s->env, &fd) == 0 && fstat(fd, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    return 0;
}

int
hz_store_open(hz_store **out, const char *path, int readonly, size_t map_size, struct hz_err *err)
{
    hz_store *s;
    int rc;

    if (strlen(path) >= sizeof(s->path) - 32)
        return hz_err_set(err, HZ_ESTORE, "store path too long");
    if (!readonly && mkdir(path, 0700) != 0 && errno != EEXIST)
        return hz_err_set(err, HZ_ESTORE, "%s: mkdir: %s", path, strerror(errno));
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hz_err_set(err, HZ_ESTORE, "%s: out of memory", path);
    (void)hz_strlcpy(s->path, path, sizeof(s->path));
    s->readonly = readonly;
    s->map_size = map_size;
    arc4random_buf(s->mkey, sizeof(s->mkey));
    if ((rc = st_env_open(s, err)) != 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void
hz_store_close(hz_store *s)
{
    if (s == NULL)
        return;
    if (s->env != NULL)
        mdb_env_close(s->env);
    hz_kmap_free(s->spare);
    hz_kmap_free(s->months);
    hz_kmap_free(s->known);
    free(s->memo);
    free(s);
}

int
hz_store_replaced(const hz_store *s)
{
    dev_t dev = 0;
    ino_t ino = 0;

    if (st_stat_data(s->path, &dev, &ino) != 0)
        return 1;
    return dev != s->dev || ino != s->ino;
}

size_t
hz_store_map_size(const hz_store *s)
{
    return s->map_size;
}

/* ------------------------------------------------------------ reading */

int
hz_store_rbegin(hz_store *s, hz_rtxn **out, struct hz_err *err)
{
    MDB_txn *txn;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
        /* The writer grew the map: adopt its size and retry once. */
        (void)mdb_env_set_mapsize(s->env, 0);
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    }
    if (rc != 0)
        return st_err(err, rc, "read txn", s);
    if (!s->have_dbs) {
        /* A reader opened before the writer ever ran: look again. */
        int ok = 1;
        for (int i = 0; i < DB_N && ok; i++)
            ok = mdb_dbi_open(txn, st_dbnames[i], 0, &s->dbi[i]) == 0;
        if (ok) {
            mdb_txn_abort(txn);
            if ((rc = st_open_dbs(s, err)) != 0)
                return rc;
            if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
                return st_err(err, rc, "read txn", s);
        }
    }
    struct hz_rtxn *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        mdb_txn_abort(txn);
        return hz_err_set(err, HZ_ESTORE, "out of memory");
    }
    t->s = s;
    t->txn = txn;
    *out = t;
    return 0;
}

int
hz_store_rbegin_more(hz_store *s, hz_rtxn **out)
{
    MDB_txn *txn;
    struct hz_rtxn *t;

    /* Another transaction of this process is open: LMDB forbids remapping
     * now, so a grown map (MDB_MAP_RESIZED) is an error here, and the
     * databases must be open already. */
    if (!s->have_dbs || mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return -1;
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        mdb_txn_abort(txn);
        return -1;
    }
    t->s = s;
    t->txn = txn;
    *out = t;
    return 0;
}

void
hz_store_rend(hz_rtxn *t)
{
    if (t == NULL)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

/* hz_store_dim_rows_prefix reads an edge month as its month row minus the
 * days outside the range when the days inside have rows on more than this
 * many days over those outside (a month row has about as many rows as a
 * week of days when values change slowly). */
#define ST_EDGE_MARGIN 7

/* A range of periods at one granularity. */
struct st_span {
    char gran;
    uint32_t lo, hi;
};

/* Splits days [from, to] into at most three spans: edge days before the
 * first whole month, the whole months, edge days after the last one. */
static int
st_spans(int32_t from, int32_t to, struct st_span out[3])
{
    int n = 0;

    if (from > to || from < 0)
        return 0;
    uint32_t mf = st_month_of(from), mt = st_month_of(to);
    int32_t ms = st_month_first(mf) == from ? from : st_month_first(mf + 1);
    int32_t me = st_month_first(mt + 1) - 1 == to ? to : st_month_first(mt) - 1;
    if (ms > me) {
        out[n++] = (struct st_span){'d', (uint32_t)from, (uint32_t)to};
        return n;
    }
    if (from < ms)
        out[n++] = (struct st_span){'d', (uint32_t)from, (uint32_t)(ms - 1)};
    out[n++] = (struct st_span){'m', st_month_of(ms), st_month_of(me)};
    if (me < to)
        out[n++] = (struct st_span){'d', (uint32_t)(me + 1), (uint32_t)to};
    return n;
}

typedef void (*st_scan_cb)(uint32_t period, const unsigned char *rest, size_t rlen,
                           const unsigned char *val, size_t vlen, void *arg);

/* Calls cb for every key prefix + period + rest with lo <= period <= hi. */
static int
st_scan(hz_rtxn *t, enum st_db db, const struct st_key *prefix, uint32_t lo, uint32_t hi,
        st_scan_cb cb, void *arg)
{
    struct st_key seek = *prefix;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if (!t->s->have_dbs)
        return 0;
    st_kperiod(&seek, lo);
    if (seek.over)
        return 0;
    rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur);
    if (rc != 0)
        return HZ_ESTORE;
    k.mv_size = seek.n;
    k.mv_data = seek.b;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        const unsigned char *kb = k.mv_data;
        if (k.mv_size < prefix->n + 4 || memcmp(kb, prefix->b, prefix->n) != 0)
            break;
        uint32_t p = st_rd32(kb + prefix->n);
        if (p > hi)
            break;
        cb(p, kb + prefix->n + 4, k.mv_size - prefix->n - 4, v.mv_data, v.mv_size, arg);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : HZ_ESTORE;
}

static void
st_counts_add(struct hz_counts *c, const unsigned char *val, size_t vlen)
{
    uint64_t *f = &c->visitors;

    if (vlen != 8 * sizeof(uint64_t))
        return;
    for (int i = 0; i < 8; i++)
        f[i] += st_le64(val + 8 * i);
}

static void
st_vec_add(uint64_t *dst, int n, const unsigned char *val, size_t vlen)
{
    if (vlen != (size_t)n * 8)
        return;
    for (int i = 0; i < n; i++)
        dst[i] += st_le64(val + 8 * i);
}

/* Row callback: sum into a map keyed by value + NUL. */
static void
st_dim_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
          size_t vlen, void *arg)
{
    unsigned char key[HZ_PAGE_MAX + 2];
    (void)period;

    if (rlen >= sizeof(key))
        return;
    memcpy(key, rest, rlen);
    key[rlen] = 0;
    st_counts_add(hz_kmap_put(arg, key, rlen + 1, NULL), val, vlen);
}

static void
st_rows_prefix(struct st_key *k, const char *site, char gran, enum hz_dim dim)
{
    st_kinit(k);
    st_ksite(k, site, strlen(site), gran);
    st_kbyte(k, (unsigned char)dim);
}

int
hz_store_dim(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to, hz_row_cb cb,
             void *arg)
{
    struct st_span sp[3];
    struct st_key pre;
    int n = st_spans(from, to, sp), rc = 0;
    hz_kmap *m;

    if ((unsigned)dim >= HZ_DIM_COUNT)
        return HZ_EINVAL;
    m = hz_kmap_new(sizeof(struct hz_counts));
    for (int i = 0; i < n && rc == 0; i++) {
        st_rows_prefix(&pre, site, sp[i].gran, dim);
        rc = st_scan(t, DB_ROWS, &pre, sp[i].lo, sp[i].hi, st_dim_cb, m);
    }
    for (size_t i = 0; rc == 0 && i < hz_kmap_count(m); i++) {
        const void *k;
        size_t kl;
        const struct hz_counts *c = hz_kmap_at(m, i, &k, &kl);
        cb(k, kl - 1, c, arg);
    }
    hz_kmap_free(m);
    return rc;
}

/* Row callback of hz_store_dim_rows: decode and hand over, no map. */
struct st_raw {
    hz_row_cb cb;
    void *arg;
    int neg; /* hand the counters over negated (rows to subtract) */
};

/* The counters of a stored row (vlen bytes at val) into c, negated when
 * neg; a row of another size counts zeros. */
static void
st_counts_of(struct hz_counts *c, const unsigned char *val, size_t vlen, int neg)
{
    uint64_t *f = &c->visitors;
    /* Negated: (x ^ ~0) - ~0 is 0 - x, two's complement (the caller's sums
     * wrap back); m = 0 leaves x as it is. */
    uint64_t m = neg ? ~(uint64_t)0 : 0;

    _Static_assert(sizeof(*c) == 8 * sizeof(uint64_t), "struct hz_counts: eight counters");
    if (vlen != sizeof(*c))
        memset(c, 0, sizeof(*c));
#if __BYTE_ORDER == __LITTLE_ENDIAN
    else if (m == 0)
        memcpy(c, val, sizeof(*c)); /* the stored layout: one copy */
#endif
    else
        for (int i = 0; i < 8; i++)
            f[i] = (st_le64(val + 8 * i) ^ m) - m;
}

static void
st_raw_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
          size_t vlen, void *arg)
{
    struct st_raw *r = arg;
    struct hz_counts c;

    (void)period;
    st_counts_of(&c, val, vlen, r->neg);
    r->cb((const char *)rest, rlen, &c, r->arg);
}

/* hz_raw_cb handing decoded rows to an hz_row_cb (struct st_raw). */
static void
st_raw_row_cb(const char *value, size_t vlen, const unsigned char *counts, size_t clen, int neg,
              void *arg)
{
    struct st_raw *r = arg;
    struct hz_counts c;

    st_counts_of(&c, counts, clen, neg);
    r->cb(value, vlen, &c, r->arg);
}

int
hz_store_dim_rows(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
                  hz_row_cb cb, void *arg)
{
    struct st_span sp[3];
    struct st_key pre;
    struct st_raw raw = {cb, arg, 0};
    int n = st_spans(from, to, sp), rc = 0;

    if ((unsigned)dim >= HZ_DIM_COUNT)
        return HZ_EINVAL;
    for (int i = 0; i < n && rc == 0; i++) {
        st_rows_prefix(&pre, site, sp[i].gran, dim);
        rc = st_scan(t, DB_ROWS, &pre, sp[i].lo, sp[i].hi, st_raw_cb, &raw);
    }
    return rc;
}

/* The key prefix + period + vp into k; 0, or MDB_NOTFOUND when too long. */
static int
st_kvalue(struct st_key *k, const struct st_key *prefix, uint32_t period, const char *vp,
          size_t vplen)
{
    *k = *prefix;
    st_kperiod(k, period);
    st_kput(k, vp, vplen);
    return k->over ? MDB_NOTFOUND : 0;
}

/* Puts cur on the first row at or after prefix + period + vp (k, v: that
 * row). MDB_NOTFOUND also when the key would be too long. */
static int
st_seek_value(MDB_cursor *cur, const struct st_key *prefix, uint32_t period, const char *vp,
              size_t vplen, MDB_val *k, MDB_val *v)
{
    struct st_key seek;

    if (st_kvalue(&seek, prefix, period, vp, vplen) != 0)
        return MDB_NOTFOUND;
    k->mv_size = seek.n;
    k->mv_data = seek.b;
    return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

/*
 * The rows of periods [lo, hi] under prefix whose value starts with vp, as
 * stored, to cb (counters to subtract when neg). The rows of one period
 * that start with head (prefix + period + vp) are the keys from head up to
 * the first key at or after head's successor (head with its last byte
 * below 0xff raised by one, cut after it), not included. That key is
 * sought first, then the rows are read until the cursor reaches it, which
 * LMDB gives at the same address within a transaction: a pointer
 * comparison a row instead of comparing the head's bytes.
 */
static int
st_scan_prefix(hz_rtxn *t, const struct st_key *prefix, uint32_t lo, uint32_t hi, const char *vp,
               size_t vplen, hz_raw_cb cb, void *arg, int neg)
{
    struct st_key head, succ;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = 0;
    size_t vo = prefix->n + 4;    /* where a row's value starts */
    unsigned psize = t->s->psize; /* a power of two */
    uintptr_t page = 0;

    if (!t->s->have_dbs)
        return 0;
    if (mdb_cursor_open(t->txn, t->s->dbi[DB_ROWS], &cur) != 0)
        return HZ_ESTORE;
    for (uint64_t period = lo; period <= hi && rc == 0; period++) {
        const void *stop = NULL; /* none: every key after head starts with it */
        if (st_kvalue(&head, prefix, (uint32_t)period, vp, vplen) != 0)
            break; /* too long for a key: no rows */
        succ = head;
        while (succ.n > 0 && succ.b[succ.n - 1] == 0xff)
            succ.n--;
        if (succ.n > 0) {
            succ.b[succ.n - 1]++;
            k.mv_size = succ.n;
            k.mv_data = succ.b;
            if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) == 0)
                stop = k.mv_data;
            else if (rc != MDB_NOTFOUND)
                break;
        }
        k.mv_size = head.n;
        k.mv_data = head.b;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && k.mv_data != stop;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            uintptr_t pg = (uintptr_t)k.mv_data & ~(uintptr_t)(psize - 1);
            if (psize != 0 && pg != page) {
                /* A new leaf page: all of it at once, not a row's lines
                 * one miss after the other; and the page after it in the
                 * file, which is most often the next leaf (about 3 in 4
                 * in a year's store). */
                for (unsigned o = 0; o < 2 * psize; o += 64)
                    __builtin_prefetch((const char *)pg + o);
                page = pg;
            }
            cb((const char *)k.mv_data + vo, k.mv_size - vo, v.mv_data, v.mv_size, neg, arg);
        }
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    mdb_cursor_close(cur);
    return rc == 0 ? 0 : HZ_ESTORE;
}

/* The number of days in [lo, hi] with a row under dpre whose value starts
 * with vp (one seek per day with rows), or -1 on a store error. */
static int
st_days_with(hz_rtxn *t, const struct st_key *dpre, const char *vp, size_t vplen, uint32_t lo,
             uint32_t hi)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int n = 0, rc = 0;

    if (!t->s->have_dbs || lo > hi)
        return 0;
    if (mdb_cursor_open(t->txn, t->s->dbi[DB_ROWS], &cur) != 0)
        return -1;
    for (uint32_t d = lo; d <= hi;) {
        if ((rc = st_seek_value(cur, dpre, d, vp, vplen, &k, &v)) != 0)
            break;
        const unsigned char *kb = k.mv_data, *val = kb + dpre->n + 4;
        if (k.mv_size < dpre->n + 4 || memcmp(kb, dpre->b, dpre->n) != 0)
            break;
        uint32_t p = st_rd32(kb + dpre->n);
        size_t vl = k.mv_size - dpre->n - 4;
        if (p > hi)
            break;
        int c = memcmp(val, vp, vl < vplen ? vl : vplen);
        if (c == 0 && vl >= vplen)
            n++;
        d = c < 0 || (c == 0 && vl < vplen) ? p : p + 1;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? n : -1;
}

/* Appends a step to p (at most HZ_STORE_PLAN_MAX: hz_store_plan_prefix
 * makes five at most, a split one more per half). */
static void
st_plan_add(struct hz_store_plan *p, char gran, uint32_t lo, uint32_t hi, int neg, uint32_t w)
{
    if (p->n < HZ_STORE_PLAN_MAX)
        p->step[p->n++] = (struct hz_store_step){gran, (unsigned char)neg, lo, hi, w};
}

/*
 * Plans days [lo, hi] of month m (its other days: [olo, ohi]) under prefix
 * vp. The month row holds the sum of the month's days (retention subtracts
 * the days it deletes: st_unmonth), so when no other day of the month has
 * rows it is exactly those days, in fewer rows; and when the days inside
 * have rows on more days than those outside, by a margin for the month's
 * own rows, it is read minus the days outside.
 */
static int
st_edge_month(hz_rtxn *t, struct hz_store_plan *p, uint32_t lo, uint32_t hi, uint32_t olo,
              uint32_t ohi)
{
    struct st_key dpre;
    uint32_t m = st_month_of((int32_t)lo);

    st_rows_prefix(&dpre, p->site, 'd', p->dim);
    int nin = st_days_with(t, &dpre, p->vp, p->vplen, lo, hi);
    int nout = nin > 0 ? st_days_with(t, &dpre, p->vp, p->vplen, olo, ohi) : 0;
    if (nin < 0 || nout < 0)
        return HZ_ESTORE;
    if (nin == 0)
        return 0;
    if (nout > 0 && nin <= nout + ST_EDGE_MARGIN) {
        st_plan_add(p, 'd', lo, hi, 0, 1);
        return 0;
    }
    st_plan_add(p, 'm', m, m, 0, hi - lo + 1 < ST_EDGE_MARGIN ? hi - lo + 1 : ST_EDGE_MARGIN);
    if (nout > 0)
        st_plan_add(p, 'd', olo, ohi, 1, 1);
    return 0;
}

int
hz_store_plan_prefix(hz_rtxn *t, const char *site, enum hz_dim dim, const char *vp, size_t vplen,
                     int32_t from, int32_t to, struct hz_store_plan *p)
{
    struct st_span sp[3];
    int n = st_spans(from, to, sp), rc = 0, months = 0;

    memset(p, 0, sizeof(*p));
    if ((unsigned)dim >= HZ_DIM_COUNT || vplen >= HZ_PAGE_MAX)
        return HZ_EINVAL;
    p->site = site;
    p->dim = dim;
    p->vp = vp;
    p->vplen = vplen;
    for (int i = 0; i < n; i++)
        months |= sp[i].gran == 'm';
    for (int i = 0; i < n && rc == 0; i++) {
        if (months && sp[i].gran == 'd') {
            /* An edge: the days after from's month begins, or before to's ends. */
            uint32_t m = st_month_of((int32_t)sp[i].lo);
            uint32_t first = (uint32_t)st_month_first(m),
                     last = (uint32_t)st_month_first(m + 1) - 1;
            if (i == 0)
                rc = st_edge_month(t, p, sp[i].lo, sp[i].hi, first, sp[i].lo - 1);
            else
                rc = st_edge_month(t, p, sp[i].lo, sp[i].hi, sp[i].hi + 1, last);
            continue;
        }
        st_plan_add(p, sp[i].gran, sp[i].lo, sp[i].hi, 0, sp[i].gran == 'm' ? ST_EDGE_MARGIN : 1);
    }
    return rc;
}

int
hz_store_plan_dim(const char *site, enum hz_dim dim, int32_t from, int32_t to,
                  struct hz_store_plan *p)
{
    struct st_span sp[3];
    int n = st_spans(from, to, sp);

    memset(p, 0, sizeof(*p));
    if ((unsigned)dim >= HZ_DIM_COUNT)
        return HZ_EINVAL;
    p->site = site;
    p->dim = dim;
    p->vp = "";
    for (int i = 0; i < n; i++)
        st_plan_add(p, sp[i].gran, sp[i].lo, sp[i].hi, 0, sp[i].gran == 'm' ? ST_EDGE_MARGIN : 1);
    return 0;
}

uint64_t
hz_store_plan_weight(const struct hz_store_plan *p)
{
    uint64_t w = 0;

    for (int i = 0; i < p->n; i++)
        w += (uint64_t)(p->step[i].hi - p->step[i].lo + 1) * p->step[i].w;
    return w;
}

size_t
hz_store_plan_periods(const struct hz_store_plan *p)
{
    size_t n = 0;

    for (int i = 0; i < p->n; i++)
        n += (size_t)(p->step[i].hi - p->step[i].lo) + 1;
    return n;
}

void
hz_store_plan_period(const struct hz_store_plan *p, size_t k, struct hz_store_plan *one)
{
    *one = *p;
    one->n = 0;
    for (int i = 0; i < p->n; i++) {
        size_t n = (size_t)(p->step[i].hi - p->step[i].lo) + 1;
        if (k < n) {
            one->step[0] = p->step[i];
            one->step[0].lo = one->step[0].hi = p->step[i].lo + (uint32_t)k;
            one->n = 1;
            return;
        }
        k -= n;
    }
}

int
hz_store_plan_raw(hz_rtxn *t, const struct hz_store_plan *p, hz_raw_cb cb, void *arg)
{
    struct st_key pre;
    int rc = 0;

    for (int i = 0; i < p->n && rc == 0; i++) {
        st_rows_prefix(&pre, p->site, p->step[i].gran, p->dim);
        rc = st_scan_prefix(t, &pre, p->step[i].lo, p->step[i].hi, p->vp, p->vplen, cb, arg,
                            p->step[i].neg);
    }
    return rc;
}

int
hz_store_plan_rows(hz_rtxn *t, const struct hz_store_plan *p, hz_row_cb cb, void *arg)
{
    struct st_raw raw = {cb, arg, 0};

    return hz_store_plan_raw(t, p, st_raw_row_cb, &raw);
}

int
hz_store_dim_rows_prefix(hz_rtxn *t, const char *site, enum hz_dim dim, const char *vp,
                         size_t vplen, int32_t from, int32_t to, hz_row_cb cb, void *arg)
{
    struct hz_store_plan p;
    int rc = hz_store_plan_prefix(t, site, dim, vp, vplen, from, to, &p);

    return rc != 0 ? rc : hz_store_plan_rows(t, &p, cb, arg);
}

uint64_t
hz_store_rtxn_id(const hz_rtxn *t)
{
    return (uint64_t)mdb_txn_id(t->txn);
}

hz_store *
hz_store_of(const hz_rtxn *t)
{
    return t->s;
}

static void
st_sum_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
          size_t vlen, void *arg)
{
    (void)period;
    (void)rest;
    if (rlen == 0)
        st_counts_add(arg, val, vlen);
}

int
hz_store_active(hz_rtxn *t, const char *site, uint32_t from, uint32_t to, uint64_t *out)
{
    struct hz_counts c;
    struct st_key pre;
    int rc;

    memset(&c, 0, sizeof(c));
    st_rows_prefix(&pre, site, 'n', HZ_DIM_TOTAL);
    rc = st_scan(t, DB_ROWS, &pre, from, to, st_sum_cb, &c);
    *out = c.visitors > c.outs ? c.visitors - c.outs : 0;
    return rc;
}

int
hz_store_totals(hz_rtxn *t, const char *site, int32_t from, int32_t to, struct hz_counts *out)
{
    struct st_span sp[3];
    struct st_key pre;
    int n = st_spans(from, to, sp), rc = 0;

    memset(out, 0, sizeof(*out));
    for (int i = 0; i < n && rc == 0; i++) {
        st_rows_prefix(&pre, site, sp[i].gran, HZ_DIM_TOTAL);
        rc = st_scan(t, DB_ROWS, &pre, sp[i].lo, sp[i].hi, st_sum_cb, out);
    }
    return rc;
}

struct st_period_arg {
    hz_period_cb cb;
    void *arg;
};

static void
st_period_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
             size_t vlen, void *arg)
{
    struct st_period_arg *a = arg;
    struct hz_counts c;

    (void)rest;
    if (rlen != 0)
        return;
    memset(&c, 0, sizeof(c));
    st_counts_add(&c, val, vlen);
    a->cb((int32_t)period, &c, a->arg);
}

static int
st_periods(hz_rtxn *t, const char *site, char gran, int32_t from, int32_t to, hz_period_cb cb,
           void *arg)
{
    struct st_period_arg a = {cb, arg};
    struct st_key pre;

    if (from > to || from < 0)
        return 0;
    st_rows_prefix(&pre, site, gran, HZ_DIM_TOTAL);
    return st_scan(t, DB_ROWS, &pre, (uint32_t)from, (uint32_t)to, st_period_cb, &a);
}

int
hz_store_days(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_period_cb cb, void *arg)
{
    return st_periods(t, site, 'd', from, to, cb, arg);
}

int
hz_store_hours(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_period_cb cb, void *arg)
{
    return st_periods(t, site, 'h', from, to, cb, arg);
}

int
hz_store_hist(hz_rtxn *t, const char *site, const char *page, int32_t from, int32_t to,
              uint64_t out[HZ_HIST_BUCKETS])
{
    size_t plen = strlen(page);
    struct st_span sp[3];
    struct st_key pre, k;
    int n = st_spans(from, to, sp);

    memset(out, 0, HZ_HIST_BUCKETS * sizeof(uint64_t));
    if (!t->s->have_dbs)
        return 0;
    for (int i = 0; i < n; i++) {
        st_kinit(&pre);
        st_ksite(&pre, site, strlen(site), sp[i].gran);
        /* Point lookups: one key per period. */
        for (uint64_t p = sp[i].lo; p <= sp[i].hi; p++) {
            MDB_val kv, v;
            k = pre;
            st_kperiod(&k, (uint32_t)p);
            st_kput(&k, page, plen);
            if (k.over)
                return 0;
            kv.mv_size = k.n;
            kv.mv_data = k.b;
            int rc = mdb_get(t->txn, t->s->dbi[DB_HIST], &kv, &v);
            if (rc == 0)
                st_vec_add(out, HZ_HIST_BUCKETS, v.mv_data, v.mv_size);
            else if (rc != MDB_NOTFOUND)
                return HZ_ESTORE;
        }
    }
    return 0;
}

static void
st_hists_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
            size_t vlen, void *arg)
{
    unsigned char key[HZ_PAGE_MAX + 2];
    (void)period;

    if (rlen >= sizeof(key))
        return;
    memcpy(key, rest, rlen);
    key[rlen] = 0;
    st_vec_add(hz_kmap_put(arg, key, rlen + 1, NULL), HZ_HIST_BUCKETS, val, vlen);
}

int
hz_store_hists(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_hist_cb cb, void *arg)
{
    struct st_span sp[3];
    struct st_key pre;
    int n = st_spans(from, to, sp), rc = 0;
    hz_kmap *m = hz_kmap_new(HZ_HIST_BUCKETS * sizeof(uint64_t));

    for (int i = 0; i < n && rc == 0; i++) {
        st_kinit(&pre);
        st_ksite(&pre, site, strlen(site), sp[i].gran);
        rc = st_scan(t, DB_HIST, &pre, sp[i].lo, sp[i].hi, st_hists_cb, m);
    }
    for (size_t i = 0; rc == 0 && i < hz_kmap_count(m); i++) {
        const void *k;
        size_t kl;
        const uint64_t *h = hz_kmap_at(m, i, &k, &kl);
        cb(k, kl - 1, h, arg);
    }
    hz_kmap_free(m);
    return rc;
}

struct st_fun_arg {
    const char *funnel;
    size_t flen;
    int nsteps;
    struct hz_funnel_step_counts *out;
};

static void
st_fun_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
          size_t vlen, void *arg)
{
    struct st_fun_arg *a = arg;
    uint64_t v[ST_VMAX] = {0};
    (void)period;

    /* rest = funnel \0 step */
    if (rlen != a->flen + 2 || memcmp(rest, a->funnel, a->flen) != 0 || rest[a->flen] != 0)
        return;
    int step = rest[a->flen + 1];
    if (step >= a->nsteps)
        return;
    st_vec_add(v, ST_VMAX, val, vlen);
    a->out[step].visitors += v[0];
    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        a->out[step].hist[b] += v[1 + b];
}

int
hz_store_funnel(hz_rtxn *t, const char *site, const char *funnel, int nsteps, int32_t from,
                int32_t to, struct hz_funnel_step_counts *out)
{
    struct st_fun_arg a = {funnel, strlen(funnel), nsteps, out};
    struct st_span sp[3];
    struct st_key pre;
    int n = st_spans(from, to, sp), rc = 0;

    if (nsteps < 0 || nsteps > 255)
        return HZ_EINVAL;
    memset(out, 0, (size_t)nsteps * sizeof(*out));
    for (int i = 0; i < n && rc == 0; i++) {
        st_kinit(&pre);
        st_ksite(&pre, site, strlen(site), sp[i].gran);
        rc = st_scan(t, DB_FUN, &pre, sp[i].lo, sp[i].hi, st_fun_cb, &a);
    }
    return rc;
}

static void
st_trans_cb(uint32_t period, const unsigned char *rest, size_t rlen, const unsigned char *val,
            size_t vlen, void *arg)
{
    unsigned char key[2 * HZ_PAGE_MAX + 2];
    uint64_t *n;
    (void)period;

    if (rlen + 1 > sizeof(key) || memchr(rest, 0, rlen) == NULL)
        return;
    memcpy(key, rest, rlen);
    key[rlen] = 0;
    n = hz_kmap_put(arg, key, rlen + 1, NULL);
    st_vec_add(n, 1, val, vlen);
}

int
hz_store_transitions(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_trans_cb cb,
                     void *arg)
{
    struct st_span sp[3];
    struct st_key pre;
    int n = st_spans(from, to, sp), rc = 0;
    hz_kmap *m = hz_kmap_new(sizeof(uint64_t));

    for (int i = 0; i < n && rc == 0; i++) {
        st_kinit(&pre);
        st_ksite(&pre, site, strlen(site), sp[i].gran);
        rc = st_scan(t, DB_TRANS, &pre, sp[i].lo, sp[i].hi, st_trans_cb, m);
    }
    for (size_t i = 0; rc == 0 && i < hz_kmap_count(m); i++) {
        const void *k;
        size_t kl;
        const uint64_t *c = hz_kmap_at(m, i, &k, &kl);
        const char *f = k;
        size_t fl = strlen(f);
        cb(f, fl, f + fl + 1, kl - fl - 2, *c, arg);
    }
    hz_kmap_free(m);
    return rc;
}

static int
st_meta_get(hz_rtxn *t, const void *key, size_t klen, MDB_val *v)
{
    MDB_val k = {klen, (void *)key};
    int rc;

    if (!t->s->have_dbs)
        return HZ_ENOTFOUND;
    rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, v);
    if (rc == MDB_NOTFOUND)
        return HZ_ENOTFOUND;
    return rc == 0 ? 0 : HZ_ESTORE;
}

int
hz_store_position(hz_rtxn *t, char out[64])
{
    MDB_val v;
    int rc = st_meta_get(t, "pos", 3, &v);

    out[0] = '\0';
    if (rc == HZ_ENOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size >= 64)
        return HZ_ESTORE;
    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = '\0';
    return 0;
}

int
hz_store_retained(hz_rtxn *t, int32_t *cutoff)
{
    MDB_val v;
    int rc = st_meta_get(t, "ret", 3, &v);

    if (rc != 0)
        return rc;
    if (v.mv_size != 4)
        return HZ_ESTORE;
    const unsigned char *p = v.mv_data;
    *cutoff = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24);
    return 0;
}

int
hz_store_span(hz_rtxn *t, const char *site, int32_t *first, int32_t *last)
{
    struct st_key pre, seek;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, found = 0;

    if (!t->s->have_dbs)
        return HZ_ENOTFOUND;
    st_rows_prefix(&pre, site, 'd', HZ_DIM_TOTAL);
    if (pre.over)
        return HZ_ENOTFOUND;
    if (mdb_cursor_open(t->txn, t->s->dbi[DB_ROWS], &cur) != 0)
        return HZ_ESTORE;
    k.mv_size = pre.n;
    k.mv_data = pre.b;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size >= pre.n + 4 && memcmp(k.mv_data, pre.b, pre.n) == 0) {
        *first = (int32_t)st_rd32((const unsigned char *)k.mv_data + pre.n);
        found = 1;
    }
    if (found) {
        seek = pre;
        st_kperiod(&seek, UINT32_MAX);
        st_kbyte(&seek, 0xff);
        k.mv_size = seek.n;
        k.mv_data = seek.b;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
        if (rc == 0 && k.mv_size >= pre.n + 4 && memcmp(k.mv_data, pre.b, pre.n) == 0)
            *last = (int32_t)st_rd32((const unsigned char *)k.mv_data + pre.n);
        else
            *last = *first;
    }
    mdb_cursor_close(cur);
    return found ? 0 : HZ_ENOTFOUND;
}

/* ------------------------------------------------------------ writing */

/* A distinct-value counter of (site, day, class), as loaded plus this
 * batch's admissions. */
struct st_card {
    uint64_t n;
    int dirty;
};

int
hz_store_wbegin(hz_store *s, hz_wtxn **out, uint64_t max_values, struct hz_err *err)
{
    return hz_store_wbegin_after(s, out, max_values, NULL, err);
}

int
hz_store_wbegin_after(hz_store *s, hz_wtxn **out, uint64_t max_values, const hz_wtxn *prev,
                      struct hz_err *err)
{
    hz_wtxn *t;

    if (s->readonly)
        return hz_err_set(err, HZ_ESTORE, "%s: opened read-only", s->path);
    if (prev != NULL && prev->s != s) /* its maps are hashed with s's key */
        return hz_err_set(err, HZ_EINVAL, "%s: prev belongs to another store", s->path);
    if (s->memo == NULL && (s->memo = calloc(ST_MEMO, sizeof(*s->memo))) == NULL)
        return hz_err_set(err, HZ_ESTORE, "out of memory");
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return hz_err_set(err, HZ_ESTORE, "out of memory");
    t->s = s;
    t->max_values = max_values ? max_values : 10000;
    if (s->spare != NULL) {
        t->delta = s->spare;
        s->spare = NULL;
    } else {
        t->delta = hz_kmap_new_keyed(sizeof(struct st_delta), s->mkey);
    }
    t->cards = hz_kmap_new_keyed(sizeof(struct st_card), s->mkey);
    if (s->known == NULL)
        s->known = hz_kmap_new_keyed(0, s->mkey);
    if (++s->memo_gen == 0) { /* wrapped: forget every entry */
        memset(s->memo, 0, ST_MEMO * sizeof(*s->memo));
        s->memo_gen = 1;
    }
    t->memo_gen = s->memo_gen;
    t->prev = prev;
    *out = t;
    return 0;
}

void
hz_store_detach(hz_wtxn *t)
{
    t->prev = NULL;
    /* A snapshot from before prev's commit would miss prev's rows. */
    if (t->snap != NULL)
        mdb_txn_abort(t->snap);
    t->snap = NULL;
}

static void
st_wfree(hz_wtxn *t)
{
    if (t->snap != NULL)
        mdb_txn_abort(t->snap);
    /* Dropped unwritten: its new keys in known are no rows. */
    if (!t->written && t->s->known != NULL)
        hz_kmap_clear(t->s->known);
    hz_kmap_clear(t->delta);
    if (t->s->spare == NULL)
        t->s->spare = t->delta;
    else
        hz_kmap_free(t->delta);
    hz_kmap_free(t->cards);
    free(t);
}

void
hz_store_abort(hz_wtxn *t)
{
    if (t != NULL)
        st_wfree(t);
}

/* k's delta in t if the memo has it, else NULL; *slot is k's slot. */
static uint64_t *
st_memo_get(const hz_wtxn *t, const struct st_key *k, struct st_memo **slot)
{
    struct st_memo *m = &t->s->memo[hz_quick_hash(0, k->b, k->n) & (ST_MEMO - 1)];

    *slot = m;
    if (m->gen == t->memo_gen && m->klen == k->n && memcmp(m->key, k->b, k->n) == 0)
        return m->v;
    return NULL;
}

/* Remembers d, k's delta in t's map, in k's slot; returns its counters. */
static uint64_t *
st_memo_put(const hz_wtxn *t, struct st_memo *m, const struct st_key *k, struct st_delta *d)
{
    m->gen = t->memo_gen;
    m->klen = (uint32_t)k->n;
    m->key = hz_kmap_key_of(t->delta, d, k->n);
    m->v = d->v;
    return d->v;
}

static uint64_t *
st_delta(hz_wtxn *t, const struct st_key *k)
{
    struct st_memo *m;
    uint64_t *v = st_memo_get(t, k, &m);

    if (v != NULL)
        return v;
    return st_memo_put(t, m, k, hz_kmap_put(t->delta, k->b, k->n, NULL));
}

/* A read snapshot for the cap decisions, begun on first use. The writer is
 * the only writer, so the snapshot is the current state. */
static MDB_txn *
st_snap(hz_wtxn *t)
{
    if (t->snap == NULL && t->snap_rc == 0)
        t->snap_rc = mdb_txn_begin(t->s->env, NULL, MDB_RDONLY, &t->snap);
    return t->snap;
}

/* May a new value be created in (site, day, class)? Counts it if so. */
static int
st_admit(hz_wtxn *t, const char *site, size_t slen, uint32_t day, int cls)
{
    struct st_key ck;
    struct st_card *c;
    uint64_t h;
    int created;

    st_kinit(&ck);
    st_kbyte(&ck, 'c');
    st_kput(&ck, site, slen);
    st_kbyte(&ck, 0);
    st_kperiod(&ck, day);
    st_kbyte(&ck, (unsigned char)cls);
    h = hz_kmap_hash(t->cards, ck.b, ck.n);
    c = hz_kmap_put_h(t->cards, h, ck.b, ck.n, &created);
    if (created) {
        MDB_val k = {ck.n, ck.b}, v;
        const struct st_card *pc =
            t->prev != NULL ? hz_kmap_find_h(t->prev->cards, h, ck.b, ck.n) : NULL;
        MDB_txn *snap = pc == NULL ? st_snap(t) : NULL;
        /* The batch being committed holds the newer count. */
        if (pc != NULL)
            c->n = pc->n;
        else if (snap != NULL && mdb_get(snap, t->s->dbi[DB_META], &k, &v) == 0 && v.mv_size == 8)
            c->n = st_le64(v.mv_data);
    }
    if (c->n >= t->max_values)
        return 0;
    c->n++;
    c->dirty = 1;
    return 1;
}

/* The delta of key k (db byte + LMDB key; the value starts at vstart),
 * deciding the cardinality cap in stream order: a value already in this
 * batch or in the store counts as before; a new one is admitted while
 * (site, day, cls) has room, else the delta goes to "(other)" (a pair:
 * "(other)" -> "(other)"). Deciding here, not at commit, makes the outcome
 * independent of batch boundaries, so a replay after a crash folds exactly
 * as an uninterrupted run. */
/* The new delta of key k (hash h), a row that exists or was admitted: it
 * is known from now on. */
static struct st_delta *
st_delta_known(hz_wtxn *t, uint64_t h, const struct st_key *k)
{
    hz_kmap *known = t->s->known;

    if (hz_kmap_count(known) >= ST_KNOWN_MAX)
        hz_kmap_clear(known);
    (void)hz_kmap_put_h(known, h, k->b, k->n, NULL);
    return hz_kmap_put_h(t->delta, h, k->b, k->n, NULL);
}

static uint64_t *
st_delta_cap(hz_wtxn *t, struct st_key *k, size_t vstart, const char *site, size_t slen,
             uint32_t day, int cls, int pair)
{
    static const char other[] = ST_OTHER "\0" ST_OTHER;
    size_t ol = pair ? sizeof(other) - 1 : strlen(ST_OTHER);
    struct st_memo *m;
    uint64_t *mv = st_memo_get(t, k, &m);
    uint64_t h;
    struct st_delta *d;
    MDB_val kv, v;
    MDB_txn *snap;

    if (mv != NULL) /* in t's map already */
        return mv;
    h = hz_kmap_hash(t->delta, k->b, k->n);
    if ((d = hz_kmap_find_h(t->delta, h, k->b, k->n)) != NULL)
        return st_memo_put(t, m, k, d);
    if (k->n - vstart == ol && memcmp(k->b + vstart, other, ol) == 0)
        return st_memo_put(t, m, k, hz_kmap_put_h(t->delta, h, k->b, k->n, NULL));
    /* A row of an earlier batch (the maps share one hash key). */
    if (hz_kmap_find_h(t->s->known, h, k->b, k->n) != NULL)
        return st_memo_put(t, m, k, hz_kmap_put_h(t->delta, h, k->b, k->n, NULL));
    kv.mv_size = k->n - 1;
    kv.mv_data = k->b + 1;
    /* In the batch being committed, the row exists as far as the cap goes. */
    if (t->prev != NULL && hz_kmap_find_h(t->prev->delta, h, k->b, k->n) != NULL)
        return st_memo_put(t, m, k, st_delta_known(t, h, k));
    snap = st_snap(t);
    if ((snap != NULL && mdb_get(snap, t->s->dbi[k->b[0]], &kv, &v) == 0) ||
        st_admit(t, site, slen, day, cls))
        return st_memo_put(t, m, k, st_delta_known(t, h, k));
    k->n = vstart;
    st_kput(k, other, ol);
    return st_delta(t, k);
}

/* Starts a delta key: db byte, site\0 gran. */
static int
st_dkey(struct st_key *k, enum st_db db, const char *site, char gran)
{
    size_t slen = strlen(site);

    if (slen == 0 || slen >= HZ_HOST_MAX)
        return HZ_EINVAL;
    /* Written directly (every add starts here): it fits, see ST_KEY_MAX. */
    k->b[0] = (unsigned char)db;
    memcpy(k->b + 1, site, slen);
    k->b[1 + slen] = 0;
    k->b[2 + slen] = (unsigned char)gran;
    k->n = 3 + slen;
    k->over = 0;
    return 0;
}

int
hz_store_add(hz_wtxn *t, const char *site, int32_t day, enum hz_dim dim, const char *value,
             size_t vlen, const struct hz_counts *c)
{
    struct st_key k;
    const uint64_t *f = &c->visitors;
    uint64_t *d;

    if ((unsigned)dim >= HZ_DIM_COUNT || vlen >= HZ_PAGE_MAX || day < 0 ||
        memchr(value, 0, vlen) != NULL || st_dkey(&k, DB_ROWS, site, 'd') != 0)
        return HZ_EINVAL;
    /* dim, day, value: within the key's room (site < HZ_HOST_MAX, value <
     * HZ_PAGE_MAX), so written without st_kput's checks. */
    size_t slen = k.n - 3, vstart = k.n + 5;
    k.b[k.n] = (unsigned char)dim;
    st_be32(k.b + k.n + 1, (uint32_t)day);
    memcpy(k.b + vstart, value, vlen);
    k.n = vstart + vlen;
    if (dim == HZ_DIM_TOTAL)
        d = st_delta(t, &k);
    else
        d = st_delta_cap(t, &k, vstart, site, slen, (uint32_t)day, dim, 0);
    for (int i = 0; i < 8; i++)
        d[i] += f[i];
    return 0;
}

int
hz_store_add_hour(hz_wtxn *t, const char *site, int32_t hour, const struct hz_counts *c)
{
    struct st_key k;
    const uint64_t *f = &c->visitors;
    uint64_t *d;

    if (hour < 0 || st_dkey(&k, DB_ROWS, site, 'h') != 0)
        return HZ_EINVAL;
    st_kbyte(&k, HZ_DIM_TOTAL);
    st_kperiod(&k, (uint32_t)hour);
    d = st_delta(t, &k);
    for (int i = 0; i < 8; i++)
        d[i] += f[i];
    return 0;
}

int
hz_store_add_active(hz_wtxn *t, const char *site, uint32_t from_min, uint32_t to_min)
{
    struct st_key k;
    uint64_t *d;

    if (to_min == 0 || st_dkey(&k, DB_ROWS, site, 'n') != 0)
        return HZ_EINVAL;
    st_kbyte(&k, HZ_DIM_TOTAL);
    st_kperiod(&k, to_min);
    d = st_delta(t, &k);
    d[0] += 1; /* visitors: in */
    if (from_min == 0)
        return 0;
    if (st_dkey(&k, DB_ROWS, site, 'n') != 0)
        return HZ_EINVAL;
    st_kbyte(&k, HZ_DIM_TOTAL);
    st_kperiod(&k, from_min);
    d = st_delta(t, &k);
    d[5] += 1; /* outs: out */
    return 0;
}

int
hz_store_add_engaged(hz_wtxn *t, const char *site, int32_t day, const char *page, uint64_t ms)
{
    struct st_key k, all;
    size_t plen = strlen(page);
    int b = hz_hist_bucket(ms);

    if (plen >= HZ_PAGE_MAX || day < 0 || st_dkey(&k, DB_HIST, site, 'd') != 0)
        return HZ_EINVAL;
    st_kperiod(&k, (uint32_t)day);
    all = k;
    if (plen > 0) {
        size_t vstart = k.n;
        st_kput(&k, page, plen);
        st_delta_cap(t, &k, vstart, site, strlen(site), (uint32_t)day, ST_CLASS_HIST, 0)[b] += 1;
    }
    st_delta(t, &all)[b] += 1;
    return 0;
}

int
hz_store_add_scroll(hz_wtxn *t, const char *site, int32_t day, const char *page, int depth)
{
    struct st_key k;
    size_t plen = strlen(page), vstart;
    uint64_t *d;

    if (plen == 0 || plen >= HZ_PAGE_MAX || depth < 0 || depth > 100 || day < 0 ||
        st_dkey(&k, DB_HIST, site, 'd') != 0)
        return HZ_EINVAL;
    st_kperiod(&k, (uint32_t)day);
    vstart = k.n;
    st_kbyte(&k, HZ_SCROLL_KEY);
    st_kput(&k, page, plen);
    d = st_delta_cap(t, &k, vstart, site, strlen(site), (uint32_t)day, ST_CLASS_HIST, 0);
    d[depth / 10] += 1;
    d[HZ_SCROLL_SUM] += (uint64_t)depth;
    d[HZ_SCROLL_N] += 1;
    return 0;
}

int
hz_store_add_funnel(hz_wtxn *t, const char *site, int32_t day, const char *funnel, int step,
                    uint64_t visitors, int has_time, uint64_t ms)
{
    struct st_key k;
    size_t flen = strlen(funnel);
    uint64_t *d;

    if (flen == 0 || flen >= 64 || step < 0 || step > 255 || day < 0 ||
        st_dkey(&k, DB_FUN, site, 'd') != 0)
        return HZ_EINVAL;
    st_kperiod(&k, (uint32_t)day);
    st_kput(&k, funnel, flen);
    st_kbyte(&k, 0);
    st_kbyte(&k, (unsigned char)step);
    d = st_delta(t, &k);
    d[0] += visitors;
    if (has_time && step > 0)
        d[1 + hz_hist_bucket(ms)] += 1;
    return 0;
}

int
hz_store_add_transition(hz_wtxn *t, const char *site, int32_t day, const char *from_page,
                        const char *to_page, uint64_t n)
{
    struct st_key k;
    size_t fl = strlen(from_page), tl = strlen(to_page), vstart;

    if (fl >= HZ_PAGE_MAX || tl >= HZ_PAGE_MAX || day < 0 || st_dkey(&k, DB_TRANS, site, 'd') != 0)
        return HZ_EINVAL;
    st_kperiod(&k, (uint32_t)day);
    vstart = k.n;
    st_kput(&k, from_page, fl);
    st_kbyte(&k, 0);
    st_kput(&k, to_page, tl);
    /* The delta key has one extra leading byte: LMDB's limit is on the rest. */
    if (k.over || k.n - 1 > ST_KEY_MAX) {
        k.over = 0;
        k.n = vstart;
        st_kput(&k, ST_OTHER, strlen(ST_OTHER));
        st_kbyte(&k, 0);
        st_kput(&k, ST_OTHER, strlen(ST_OTHER));
    }
    st_delta_cap(t, &k, vstart, site, strlen(site), (uint32_t)day, ST_CLASS_TRANS, 1)[0] += n;
    return 0;
}

int
hz_store_set_position(hz_wtxn *t, const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n >= sizeof(t->pos))
        return HZ_EINVAL;
    memcpy(t->pos, id, n + 1);
    t->has_pos = 1;
    return 0;
}

/* ---------------------------------------------------- writing: the flush */

struct st_flush {
    hz_wtxn *t;
    MDB_txn *txn;
    MDB_cursor *cur[DB_N];
    hz_kmap *months; /* delta key of a month row -> struct st_delta */
};

/* Adds n words of v to the row at key (creating it), through a cursor:
 * one B-tree descent for the lookup, an in-place overwrite for the update. */
static int
st_apply(struct st_flush *f, enum st_db db, const unsigned char *key, size_t klen,
         const uint64_t *v, int n)
{
    unsigned char buf[ST_VMAX * 8];
    MDB_val k = {klen, (void *)key}, d;
    int rc, found;

    rc = mdb_cursor_get(f->cur[db], &k, &d, MDB_SET_KEY);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    found = rc == 0;
    if (found && d.mv_size != (size_t)n * 8)
        return MDB_CORRUPTED;
    for (int i = 0; i < n; i++) {
        uint64_t x = found ? st_le64((const unsigned char *)d.mv_data + 8 * i) : 0;
        st_put64(buf + 8 * i, x + v[i]);
    }
    d.mv_size = (size_t)n * 8;
    d.mv_data = buf;
    if (found)
        return mdb_cursor_put(f->cur[db], &k, &d, MDB_CURRENT);
    k.mv_size = klen;
    k.mv_data = (void *)key;
    return mdb_cursor_put(f->cur[db], &k, &d, 0);
}

/* Adds a day row's delta to its month row's delta. */
static void
st_month_delta(struct st_flush *f, enum st_db db, const unsigned char *key, size_t klen,
               const uint64_t *v, int n)
{
    unsigned char mk[ST_KEY_MAX + 8];
    struct st_delta *d;
    size_t slen = strlen((const char *)key);
    size_t poff = slen + 2 + (db == DB_ROWS ? 1 : 0); /* site\0 gran [dim] */

    /* Month key: db byte, then the day key with gran 'm' and the month. */
    mk[0] = (unsigned char)db;
    memcpy(mk + 1, key, klen);
    mk[1 + slen + 1] = 'm';
    st_be32(mk + 1 + poff, st_month_of((int32_t)st_rd32(key + poff)));
    d = hz_kmap_put(f->months, mk, klen + 1, NULL);
    for (int i = 0; i < n; i++)
        d->v[i] += v[i];
}

static int
st_flush(struct st_flush *f)
{
    hz_wtxn *t = f->t;
    int rc = 0;

    for (int i = 1; i < DB_N; i++)
        if ((rc = mdb_cursor_open(f->txn, t->s->dbi[i], &f->cur[i])) != 0)
            goto done;
    for (size_t i = 0; rc == 0 && i < hz_kmap_count(t->delta); i++) {
        const void *kp;
        size_t kl;
        const struct st_delta *d = hz_kmap_at(t->delta, i, &kp, &kl);
        const unsigned char *k = kp;
        enum st_db db = (enum st_db)k[0];
        rc = st_apply(f, db, k + 1, kl - 1, d->v, st_width[db]);
        if (rc == 0 && k[1 + strlen((const char *)k + 1) + 1] == 'd')
            st_month_delta(f, db, k + 1, kl - 1, d->v, st_width[db]);
    }
    /* Month rows, in key order too. */
    hz_kmap_sort(f->months);
    for (size_t i = 0; rc == 0 && i < hz_kmap_count(f->months); i++) {
        const void *kp;
        size_t kl;
        const struct st_delta *d = hz_kmap_at(f->months, i, &kp, &kl);
        const unsigned char *k = kp;
        rc = st_apply(f, (enum st_db)k[0], k + 1, kl - 1, d->v, st_width[k[0]]);
    }
    for (size_t i = 0; rc == 0 && i < hz_kmap_count(t->cards); i++) {
        const void *kp;
        size_t kl;
        const struct st_card *c = hz_kmap_at(t->cards, i, &kp, &kl);
        unsigned char b[8];
        MDB_val k = {kl, (void *)kp}, v = {8, b};
        if (!c->dirty)
            continue;
        st_put64(b, c->n);
        rc = mdb_put(f->txn, t->s->dbi[DB_META], &k, &v, 0);
    }
    if (rc == 0 && t->has_pos) {
        MDB_val k = {3, (void *)"pos"}, v = {strlen(t->pos), t->pos};
        rc = mdb_put(f->txn, t->s->dbi[DB_META], &k, &v, 0);
    }
done:
    for (int i = 1; i < DB_N; i++) {
        if (f->cur[i] != NULL)
            mdb_cursor_close(f->cur[i]);
        f->cur[i] = NULL;
    }
    return rc;
}

/* Doubles the map after MDB_MAP_FULL (no transaction may be open). */
static int
st_grow(hz_store *s, struct hz_err *err)
{
    MDB_envinfo info;
    size_t next;
    int rc;

    if ((rc = mdb_env_info(s->env, &info)) != 0)
        return st_err(err, rc, "env info", s);
    if (info.me_mapsize > SIZE_MAX / 2)
        return hz_err_set(err, HZ_ESTORE, "%s: map full and cannot grow", s->path);
    next = info.me_mapsize * 2;
    if ((rc = mdb_env_set_mapsize(s->env, next)) != 0)
        return st_err(err, rc, "map full; growing the map failed", s);
    s->map_size = next;
    hz_log_info("hz_store_commit: map full, grew to %zu KiB", next >> 10);
    return 0;
}

void
hz_store_seal(hz_wtxn *t)
{
    if (t->sealed)
        return;
    if (t->snap != NULL) {
        /* One transaction per thread: the snapshot ends before the write. */
        mdb_txn_abort(t->snap);
        t->snap = NULL;
    }
    t->prev = NULL;
    t->sealed = 1;
}

/* One LMDB write transaction with t's deltas, committed; MDB_MAP_FULL is
 * returned as such (the deltas are untouched, so the batch can be redone
 * in a bigger map). Reads t only. */
static int
st_write(hz_wtxn *t)
{
    struct st_flush f;
    int rc;

    memset(&f, 0, sizeof(f));
    f.t = t;
    /* Kept between writes (there is one at a time): its table and memory
     * are reused, not grown again from empty for every batch. */
    if (t->s->months == NULL)
        t->s->months = hz_kmap_new(sizeof(struct st_delta));
    f.months = t->s->months;
    /* In key order, the writes touch each B-tree page once. Sorted here,
     * in the writer's thread: the owner may meanwhile look keys up in
     * t->delta (hz_store_wbegin_after), which the order does not touch. */
    hz_kmap_sort(t->delta);
    rc = mdb_txn_begin(t->s->env, NULL, 0, &f.txn);
    if (rc == 0) {
        rc = st_flush(&f);
        if (rc == 0)
            rc = mdb_txn_commit(f.txn);
        else
            mdb_txn_abort(f.txn);
        t->written = rc == 0;
    }
    hz_kmap_clear(f.months);
    return rc;
}

int
hz_store_write(hz_wtxn *t, struct hz_err *err)
{
    int rc;

    if (!t->sealed)
        return hz_err_set(err, HZ_ESTORE, "%s: write of an unsealed batch", t->s->path);
    if (t->snap_rc != 0)
        return st_err(err, t->snap_rc, "read snapshot", t->s);
    rc = st_write(t);
    if (rc == MDB_MAP_FULL)
        return hz_err_set(err, HZ_ETOOBIG, "%s: map full", t->s->path);
    if (rc != 0)
        return st_err(err, rc, "commit", t->s);
    return 0;
}

int
hz_store_commit(hz_wtxn *t, struct hz_err *err)
{
    hz_store *s = t->s;
    int rc;

    hz_store_seal(t);
    if (t->snap_rc != 0) {
        rc = t->snap_rc;
        st_wfree(t);
        return st_err(err, rc, "read snapshot", s);
    }
    /* MDB_MAP_FULL: redo the whole batch in a bigger map. */
    while ((rc = st_write(t)) == MDB_MAP_FULL) {
        if ((rc = st_grow(s, err)) != 0) {
            st_wfree(t);
            return rc;
        }
    }
    st_wfree(t);
    if (rc != 0)
        return st_err(err, rc, "commit", s);
    return 0;
}

/* ------------------------------------------------------------ retention */

/* 1 if the key (of db) lies wholly before cutoff_day. */
static int
st_is_old(enum st_db db, const unsigned char *k, size_t klen, int32_t cutoff)
{
    const unsigned char *z = memchr(k, 0, klen);
    size_t off;

    if (db == DB_META) {
        /* 'c' site\0 day class */
        if (klen < 1 || k[0] != 'c' || z == NULL || (size_t)(z - k) + 6 != klen)
            return 0;
        return (int32_t)st_rd32(z + 1) < cutoff;
    }
    if (z == NULL)
        return 0;
    off = (size_t)(z - k) + 2 + (db == DB_ROWS ? 1 : 0);
    if (off + 4 > klen)
        return 0;
    uint32_t p = st_rd32(k + off);
    switch (z[1]) {
    case 'd':
        return (int64_t)p < cutoff;
    case 'h':
        return (int64_t)p < (int64_t)cutoff * 24;
    case 'n':
        /* Minute rows serve the realtime count only: a day is plenty. */
        return (int64_t)p < (int64_t)time(NULL) / 60 - 1440;
    case 'm':
        return st_month_first(p + 1) <= cutoff;
    default:
        return 0;
    }
}

static int
st_put_ret(hz_store *s, MDB_txn *txn, int32_t cutoff)
{
    unsigned char b[4];
    uint32_t c = (uint32_t)cutoff;
    MDB_val k = {3, (void *)"ret"}, v = {4, b};

    b[0] = (unsigned char)c;
    b[1] = (unsigned char)(c >> 8);
    b[2] = (unsigned char)(c >> 16);
    b[3] = (unsigned char)(c >> 24);
    return mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
}

/* A day row about to be deleted also lives in its month row, which stays
 * while part of the month is retained: subtract the day from the month
 * (values are arrays of u64 LE, month = sum of its days), and delete the
 * month row when nothing is left, so an expired day leaves no trace, not
 * even its value's name in a month key. Leaves cur on the same day key. */
static int
st_unmonth(hz_store *s, MDB_txn *txn, enum st_db db, MDB_cursor *cur, MDB_val *k, MDB_val *v,
           int32_t cutoff)
{
    unsigned char day[ST_KEY_MAX + 1], mkey[ST_KEY_MAX + 1], val[1024];
    const unsigned char *kb = k->mv_data, *z = memchr(kb, 0, k->mv_size);
    size_t off, klen = k->mv_size, vlen = v->mv_size;
    MDB_val mk, mv, dk;
    uint32_t month;
    int rc, nonzero = 0;

    if (z == NULL || (size_t)(z - kb) + 2 > klen || z[1] != 'd' || klen > ST_KEY_MAX ||
        vlen > sizeof(val) || vlen % 8 != 0)
        return 0;
    off = (size_t)(z - kb) + 2 + (db == DB_ROWS ? 1 : 0);
    if (off + 4 > klen)
        return 0;
    month = st_month_of((int32_t)st_rd32(kb + off));
    if (st_month_first(month + 1) <= cutoff)
        return 0; /* the whole month goes: its row is deleted on its own */
    memcpy(day, kb, klen);
    memcpy(val, v->mv_data, vlen);
    memcpy(mkey, kb, klen);
    mkey[z - kb + 1] = 'm';
    mkey[off] = (unsigned char)(month >> 24);
    mkey[off + 1] = (unsigned char)(month >> 16);
    mkey[off + 2] = (unsigned char)(month >> 8);
    mkey[off + 3] = (unsigned char)month;
    mk.mv_size = klen;
    mk.mv_data = mkey;
    rc = mdb_get(txn, s->dbi[db], &mk, &mv);
    if (rc == 0 && mv.mv_size == vlen) {
        unsigned char out[1024];
        for (size_t i = 0; i < vlen; i += 8) {
            uint64_t a = st_le64((const unsigned char *)mv.mv_data + i), b = st_le64(val + i);
            uint64_t d = a > b ? a - b : 0;
            st_put64(out + i, d);
            nonzero |= d != 0;
        }
        if (nonzero) {
            MDB_val ov = {vlen, out};
            rc = mdb_put(txn, s->dbi[db], &mk, &ov, 0);
        } else {
            rc = mdb_del(txn, s->dbi[db], &mk, NULL);
        }
        if (rc != 0)
            return rc;
    } else if (rc != MDB_NOTFOUND && rc != 0) {
        return rc;
    }
    /* Back onto the day key (the writes above may have moved pages). */
    dk.mv_size = klen;
    dk.mv_data = day;
    return mdb_cursor_get(cur, &dk, v, MDB_SET);
}

/* Deletes old keys of one database in chunks of ST_RETAIN_CHUNK per
 * transaction (a huge delete would overflow one transaction's dirty list),
 * resuming each chunk at the key where the last one stopped. */
static int
st_delete_db(hz_store *s, enum st_db db, int32_t cutoff, struct hz_err *err)
{
    unsigned char resume[ST_KEY_MAX + 1];
    size_t rlen = 0;
    int more = 1, started = 0;

    while (more) {
        MDB_txn *txn;
        MDB_cursor *cur;
        MDB_val k, v;
        int rc, n = 0;

        more = 0;
        if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
            return st_err(err, rc, "retention txn", s);
        if ((rc = mdb_cursor_open(txn, s->dbi[db], &cur)) != 0) {
            mdb_txn_abort(txn);
            return st_err(err, rc, "retention cursor", s);
        }
        if (started) {
            k.mv_size = rlen;
            k.mv_data = resume;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        } else {
            rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        }
        started = 1;
        while (rc == 0) {
            if (st_is_old(db, k.mv_data, k.mv_size, cutoff)) {
                if (n >= ST_RETAIN_CHUNK) {
                    /* Stop before this key; the next chunk starts here. */
                    memcpy(resume, k.mv_data, k.mv_size);
                    rlen = k.mv_size;
                    more = 1;
                    break;
                }
                if (db != DB_META && (rc = st_unmonth(s, txn, db, cur, &k, &v, cutoff)) != 0)
                    break;
                if ((rc = mdb_cursor_del(cur, 0)) != 0)
                    break;
                n++;
            }
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
        if (rc == MDB_MAP_FULL) {
            /* Deleting copies pages too: grow and redo this chunk. */
            mdb_txn_abort(txn);
            if ((rc = st_grow(s, err)) != 0)
                return rc;
            more = 1;
            continue;
        }
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (rc != 0)
            return st_err(err, rc, "retention delete", s);
    }
    return 0;
}

static int
st_delete_old(hz_store *s, int32_t cutoff, struct hz_err *err)
{
    MDB_txn *txn;
    int rc;

    for (int db = 0; db < DB_N; db++)
        if ((rc = st_delete_db(s, (enum st_db)db, cutoff, err)) != 0)
            return rc;
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return st_err(err, rc, "retention txn", s);
    if ((rc = st_put_ret(s, txn, cutoff)) != 0) {
        mdb_txn_abort(txn);
        return st_err(err, rc, "retention mark", s);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return st_err(err, rc, "retention commit", s);
    return 0;
}

static int
st_fsync_path(const char *p, int dir)
{
    int fd = open(p, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return errno;
    if (fsync(fd) != 0)
        rc = errno;
    (void)close(fd);
    return rc;
}

/* Compacting copy into path/compact.tmp, then one write transaction there so
 * that both meta pages of the new file describe the full data (the copy
 * leaves meta page 0 empty, and a writer that shares a stale lock file with
 * a reader picks the meta page by the lock's txnid parity), then rename
 * over data.mdb and reopen. */
static int
st_compact(hz_store *s, struct hz_err *err)
{
    char tmp[PATH_MAX + 32], tdata[PATH_MAX + 48], tlock[PATH_MAX + 48], data[PATH_MAX + 16];
    hz_store t;
    int rc;

    (void)snprintf(tmp, sizeof(tmp), "%s/compact.tmp", s->path);
    (void)snprintf(tdata, sizeof(tdata), "%s/data.mdb", tmp);
    (void)snprintf(tlock, sizeof(tlock), "%s/lock.mdb", tmp);
    (void)snprintf(data, sizeof(data), "%s/data.mdb", s->path);
    (void)unlink(tdata);
    (void)unlink(tlock);
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return hz_err_set(err, HZ_ESTORE, "%s: mkdir: %s", tmp, strerror(errno));
    if ((rc = mdb_env_copy2(s->env, tmp, MDB_CP_COMPACT)) != 0) {
        (void)unlink(tdata);
        (void)rmdir(tmp);
        return st_err(err, rc, "compacting copy", s);
    }
    memset(&t, 0, sizeof(t));
    (void)hz_strlcpy(t.path, tmp, sizeof(t.path));
    t.map_size = s->map_size;
    if (st_env_open(&t, err) != 0)
        goto fail;
    {
        MDB_txn *txn;
        unsigned char ver[4] = {ST_VERSION, 0, 0, 0};
        MDB_val k = {3, (void *)"ver"}, v = {4, ver};
        rc = mdb_txn_begin(t.env, NULL, 0, &txn);
        if (rc == 0 && (rc = mdb_put(txn, t.dbi[DB_META], &k, &v, 0)) != 0)
            mdb_txn_abort(txn);
        else if (rc == 0)
            rc = mdb_txn_commit(txn);
        if (rc == 0)
            rc = mdb_env_sync(t.env, 1);
        mdb_env_close(t.env);
        if (rc != 0) {
            st_err(err, rc, "compacted copy", s);
            goto fail;
        }
    }
    if ((rc = st_fsync_path(tdata, 0)) != 0) {
        hz_err_set(err, HZ_ESTORE, "%s: fsync: %s", tdata, strerror(rc));
        goto fail;
    }
    mdb_env_close(s->env);
    s->env = NULL;
    if (rename(tdata, data) != 0) {
        hz_err_set(err, HZ_ESTORE, "%s: rename: %s", data, strerror(errno));
        (void)st_env_open(s, NULL);
        goto fail;
    }
    (void)st_fsync_path(s->path, 1);
    (void)unlink(tlock);
    (void)rmdir(tmp);
    return st_env_open(s, err);
fail:
    (void)unlink(tdata);
    (void)unlink(tlock);
    (void)rmdir(tmp);
    return HZ_ESTORE;
}

int
hz_store_retain(hz_store *s, int32_t cutoff_day, struct hz_err *err)
{
    int rc;

    if (s->readonly)
        return hz_err_set(err, HZ_ESTORE, "%s: opened read-only", s->path);
    /* Rows go: what known holds may no longer be so. */
    if (s->known != NULL)
        hz_kmap_clear(s->known);
    if ((rc = st_delete_old(s, cutoff_day, err)) != 0)
        return rc;
    return st_compact(s, err);
}

/*
 * The first day in [from, to] with a row of dim whose value starts with
 * (vp, vplen): one seek per day to (site, 'd', dim, day, vp), so days
 * full of other values cost nothing (issue 11: from which day a declared
 * pair has cells). 0 with *first, HZ_ENOTFOUND, or HZ_ESTORE.
 */
int
hz_store_first_day(hz_rtxn *t, const char *site, enum hz_dim dim, const char *vp, size_t vplen,
                   int32_t from, int32_t to, int32_t *first)
{
    MDB_cursor *cur;
    int rc = 0;

    if ((unsigned)dim >= HZ_DIM_COUNT || from < 0 || vplen >= HZ_PAGE_MAX)
        return HZ_EINVAL;
    if (!t->s->have_dbs)
        return HZ_ENOTFOUND;
    if (mdb_cursor_open(t->txn, t->s->dbi[DB_ROWS], &cur) != 0)
        return HZ_ESTORE;
    for (int32_t d = from; d <= to; d++) {
        struct st_key k;
        MDB_val key, v;
        st_rows_prefix(&k, site, 'd', dim);
        size_t pre = k.n;
        rc = st_seek_value(cur, &k, (uint32_t)d, vp, vplen, &key, &v);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc != 0) {
            mdb_cursor_close(cur);
            return HZ_ESTORE;
        }
        const unsigned char *kb = key.mv_data;
        if (key.mv_size < pre + 4 + vplen || memcmp(kb, k.b, pre) != 0)
            break; /* past the dimension: no later day either */
        uint32_t p = st_rd32(kb + pre);
        if (p == (uint32_t)d && memcmp(kb + pre + 4, vp, vplen) == 0) {
            *first = d;
            mdb_cursor_close(cur);
            return 0;
        }
        if (p > (uint32_t)d && p <= (uint32_t)to)
            d = (int32_t)p - 1; /* skip the empty days */
    }
    mdb_cursor_close(cur);
    return HZ_ENOTFOUND;
}
