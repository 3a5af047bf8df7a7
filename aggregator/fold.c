/* SPDX-License-Identifier: MIT */
/*
 * fold.c - the counting rules of fold.h. Each record's deltas are gathered
 * into a few struct hz_counts first (one for the hit's day, one for the
 * visit's start day, one per visit-level dimension) and added with one
 * hz_store_add per row, so a pageview costs about a dozen map updates.
 *
 * Every value handed to the store comes from a record that hz_record_decode
 * accepted (or from a state hz_session_decode accepted), so its length is
 * within the store's limits and hz_store_add* cannot refuse it.
 */
#include "aggregator/fold.h"

#include <string.h>

#include "aggregator/crosstab.h"
#include "common/funnel.h"
#include "common/groups.h"

/* A visit-level dimension of the current visit. */
struct fold_dim {
    enum hz_dim dim;
    const char *v;
    size_t len;
};

/* The visit-level dimensions with a value (ENTRY first). */
#define FOLD_VISIT_DIMS 16

/* The values of the version dims: "family\x1fmajor" (store.h). */
struct fold_vbuf {
    char b[HZ_FAMILY_MAX + 1 + HZ_MAJOR_MAX], o[HZ_FAMILY_MAX + 1 + HZ_MAJOR_MAX];
};

/* "family\x1fmajor" of a visit into out, or "family\x1f(not set)" when the
 * major is unknown; its length, 0 when there is no family. */
static size_t
fold_version(char out[HZ_FAMILY_MAX + 1 + HZ_MAJOR_MAX], const char *family, const char *major)
{
    size_t fl = strlen(family), ml;

    if (fl == 0)
        return 0;
    if (major[0] == '\0')
        major = HZ_FOLD_NOT_SET;
    ml = strlen(major);
    if (fl + 1 + ml >= HZ_FAMILY_MAX + 1 + HZ_MAJOR_MAX)
        return 0; /* cannot happen: the record's limits */
    memcpy(out, family, fl);
    out[fl] = HZ_CELL_SEP;
    memcpy(out + fl + 1, major, ml + 1);
    return fl + 1 + ml;
}

static int
fold_visit_dims(const struct hz_session *s, struct fold_dim out[FOLD_VISIT_DIMS],
                struct fold_vbuf *vb)
{
    int n = 0;
    size_t rl = strlen(s->region), bl, ol;

#define FD(d, val, l)                                                                              \
    out[n++] = (struct fold_dim)                                                                   \
    {                                                                                              \
        (d), (val), (l)                                                                            \
    }
    if (s->entry[0] != '\0')
        FD(HZ_DIM_ENTRY, s->entry, strlen(s->entry));
    if (s->source[0] != '\0')
        FD(HZ_DIM_SOURCE, s->source, strlen(s->source));
    else
        FD(HZ_DIM_SOURCE, HZ_FOLD_DIRECT, strlen(HZ_FOLD_DIRECT));
    /* The record carries utm_source in src (with medium/campaign beside it):
     * a source is a campaign source when the visit has a medium or campaign. */
    if (s->source[0] != '\0' && (s->utm_medium[0] != '\0' || s->utm_campaign[0] != '\0'))
        FD(HZ_DIM_UTM_SOURCE, s->source, strlen(s->source));
    if (s->utm_medium[0] != '\0')
        FD(HZ_DIM_UTM_MEDIUM, s->utm_medium, strlen(s->utm_medium));
    if (s->utm_campaign[0] != '\0')
        FD(HZ_DIM_UTM_CAMPAIGN, s->utm_campaign, strlen(s->utm_campaign));
    if (rl >= 2)
        FD(HZ_DIM_COUNTRY, s->region, 2);
    if (rl > 2)
        FD(HZ_DIM_REGION, s->region, rl);
    if (s->browser[0] != '\0')
        FD(HZ_DIM_BROWSER, s->browser, strlen(s->browser));
    if (s->os[0] != '\0')
        FD(HZ_DIM_OS, s->os, strlen(s->os));
    if (s->device[0] != '\0')
        FD(HZ_DIM_DEVICE, s->device, strlen(s->device));
    if (s->utm_content[0] != '\0')
        FD(HZ_DIM_UTM_CONTENT, s->utm_content, strlen(s->utm_content));
    if (s->utm_term[0] != '\0')
        FD(HZ_DIM_UTM_TERM, s->utm_term, strlen(s->utm_term));
    if (s->referrer[0] != '\0')
        FD(HZ_DIM_REFERRER, s->referrer, strlen(s->referrer));
    if ((bl = fold_version(vb->b, s->browser, s->browser_version)) > 0)
        FD(HZ_DIM_BROWSER_VERSION, vb->b, bl);
    if ((ol = fold_version(vb->o, s->os, s->os_version)) > 0)
        FD(HZ_DIM_OS_VERSION, vb->o, ol);
#undef FD
    return n;
}

/* First time today for (dim, value)? Only on the seen set's own day: a late
 * hit from an earlier day never counts a unique (its set is gone). */
static int
fold_unique(struct hz_session *s, int today, enum hz_dim dim, const char *v, size_t len)
{
    if (!today)
        return 0;
    return !hz_session_seen(s, hz_session_hash((int)dim, v, len));
}

/* Rolls the day-seen set forward; 1 if the hit belongs to its day. */
static int
fold_day(struct hz_session *s, int32_t day)
{
    if (day > s->seen_day) {
        s->seen_day = day;
        s->nseen = 0;
        s->seen_ring = 0;
    }
    return day == s->seen_day;
}

static int
fold_add(hz_wtxn *w, const char *site, int32_t day, enum hz_dim dim, const char *v, size_t len,
         const struct hz_counts *c)
{
    static const struct hz_counts zero;

    if (memcmp(c, &zero, sizeof(zero)) == 0)
        return 0;
    return hz_store_add(w, site, day, dim, v, len, c);
}

void
hz_fold_site_init(struct hz_fold_site *fs, const struct hz_site *site)
{
    memset(fs, 0, sizeof(*fs));
    fs->site = site;
    hz_tz_init(&fs->tz, site->timezone);
    hz_fold_site_reset(fs);
}

void
hz_fold_site_reset(struct hz_fold_site *fs)
{
    fs->acc_day = fs->acc_hour = -1;
    memset(&fs->acc_total, 0, sizeof(fs->acc_total));
    memset(&fs->acc_hr, 0, sizeof(fs->acc_hr));
}

int
hz_fold_site_flush(hz_wtxn *w, struct hz_fold_site *fs)
{
    int rc = 0;

    if (fs->acc_day >= 0)
        rc = fold_add(w, fs->site->name, fs->acc_day, HZ_DIM_TOTAL, "", 0, &fs->acc_total);
    if (rc == 0 && fs->acc_hour >= 0)
        rc = hz_store_add_hour(w, fs->site->name, fs->acc_hour, &fs->acc_hr);
    hz_fold_site_reset(fs);
    return rc;
}

static void
fold_sum(struct hz_counts *dst, const struct hz_counts *c)
{
    uint64_t *d = &dst->visitors;
    const uint64_t *f = &c->visitors;
    for (int i = 0; i < 8; i++)
        d[i] += f[i];
}

/* Adds c to the site's TOTAL row of day, through the accumulator. */
static int
fold_total(hz_wtxn *w, struct hz_fold_site *fs, int32_t day, const struct hz_counts *c)
{
    int rc;

    if (fs->acc_day != day) {
        if (fs->acc_day >= 0 &&
            (rc = fold_add(w, fs->site->name, fs->acc_day, HZ_DIM_TOTAL, "", 0, &fs->acc_total)))
            return rc;
        fs->acc_day = day;
        memset(&fs->acc_total, 0, sizeof(fs->acc_total));
    }
    fold_sum(&fs->acc_total, c);
    return 0;
}

/* Adds c to the site's row of local hour, through the accumulator. */
static int
fold_hour(hz_wtxn *w, struct hz_fold_site *fs, int32_t hour, const struct hz_counts *c)
{
    int rc;

    if (fs->acc_hour != hour) {
        if (fs->acc_hour >= 0 &&
            (rc = hz_store_add_hour(w, fs->site->name, fs->acc_hour, &fs->acc_hr)) != 0)
            return rc;
        fs->acc_hour = hour;
        memset(&fs->acc_hr, 0, sizeof(fs->acc_hr));
    }
    fold_sum(&fs->acc_hr, c);
    return 0;
}

/* Adds vc (visit-level deltas) to TOTAL and every visit dim of the start
 * day; uniq[i] adds a visitor to dim i (at a visit's start). */
static int
fold_visit_rows(hz_wtxn *w, const struct hz_site *cs, struct hz_session *s,
                const struct hz_counts *vc, const int *uniq, int xuniq)
{
    const char *site = cs->name;
    struct fold_dim d[FOLD_VISIT_DIMS];
    struct fold_vbuf vb;
    int n = fold_visit_dims(s, d, &vb), rc;

    for (int i = 0; i < n; i++) {
        struct hz_counts c = *vc;
        c.visitors = uniq != NULL ? (uint64_t)uniq[i] : 0;
        if ((rc = fold_add(w, site, s->start_day, d[i].dim, d[i].v, d[i].len, &c)) != 0)
            return rc;
    }
    /* The entry page's group (issue 11, crosstab.c). */
    return hz_xfold_visit(w, cs, s, vc, xuniq);
}

/* Adds the gap since the visit's last hit to its (pending) duration. */
static void
fold_extend(struct hz_session *s, uint64_t t)
{
    if (t <= s->last_ms)
        return;
    s->pend.duration_ms += t - s->last_ms;
    s->last_ms = t;
}

int
hz_fold_flush(hz_wtxn *w, struct hz_fold_site *fs, struct hz_session *s)
{
    static const struct hz_counts zero;
    struct hz_counts total;
    int rc;

    if (s->start_ms == 0 || memcmp(&s->pend, &zero, sizeof(zero)) == 0)
        return 0;
    if ((rc = fold_visit_rows(w, fs->site, s, &s->pend, NULL, 0)) != 0)
        return rc;
    /* TOTAL's pageviews go to each hit's own day, added as they come. */
    total = s->pend;
    total.pageviews = 0;
    rc = fold_total(w, fs, s->start_day, &total);
    memset(&s->pend, 0, sizeof(s->pend));
    return rc;
}

static int
fold_funnels(hz_wtxn *w, struct hz_fold_site *fs, struct hz_session *s, int is_pv,
             const char *value, uint64_t t)
{
    const struct hz_site *site = fs->site;
    int n = site->nfunnels < s->nfunnels ? site->nfunnels : s->nfunnels, rc;

    for (int i = 0; i < n; i++) {
        const struct hz_funnel *f = &site->funnels[i];
        int p = s->fstep[i];
        if (p >= f->nsteps || !hz_funnel_step_match(f, p, is_pv, value, strlen(value)))
            continue;
        uint64_t dt = t > s->ftime[i] ? t - s->ftime[i] : 0;
        if ((rc = hz_store_add_funnel(w, site->name, s->start_day, f->name, p, 1, p > 0, dt)) != 0)
            return rc;
        if ((rc = hz_xfold_funnel(w, site, s, f->name, p, p > 0, dt)) != 0) /* funnel_by */
            return rc;
        s->fstep[i] = (uint8_t)(p + 1);
        s->ftime[i] = t;
    }
    return 0;
}

static int
fold_active(const struct hz_session *s, uint64_t t, uint64_t session_ms)
{
    return s->start_ms != 0 && t <= s->last_ms + session_ms;
}

static void
fold_new_visit(struct hz_fold_site *fs, struct hz_session *s, const struct hz_record *r,
               int32_t day)
{
    s->start_ms = r->t_ms;
    s->last_ms = r->t_ms;
    s->start_day = day;
    s->pageviews = 0;
    s->last_pixel = 0;
    s->engaged = 0;
    s->last_page[0] = '\0';
    s->nvpages = 0;
    s->vpages_ring = 0;
    s->nfunnels = fs->site->nfunnels;
    memset(s->fstep, 0, sizeof(s->fstep));
    memset(s->ftime, 0, sizeof(s->ftime));
    memcpy(s->entry, r->page, sizeof(s->entry));
    memcpy(s->source, r->source, sizeof(s->source));
    memcpy(s->utm_medium, r->utm_medium, sizeof(s->utm_medium));
    memcpy(s->utm_campaign, r->utm_campaign, sizeof(s->utm_campaign));
    memcpy(s->region, r->region, sizeof(s->region));
    memcpy(s->browser, r->browser, sizeof(s->browser));
    memcpy(s->os, r->os, sizeof(s->os));
    memcpy(s->device, r->device, sizeof(s->device));
    memcpy(s->utm_content, r->utm_content, sizeof(s->utm_content));
    memcpy(s->utm_term, r->utm_term, sizeof(s->utm_term));
    memcpy(s->referrer, r->referrer, sizeof(s->referrer));
    memcpy(s->browser_version, r->browser_version, sizeof(s->browser_version));
    memcpy(s->os_version, r->os_version, sizeof(s->os_version));
}

/* One hit-level row of (dim, value): the hit (a pageview or a custom
 * event), a unique visitor of the day, the visit once. */
static int
fold_hit_row(hz_wtxn *w, struct hz_fold_site *fs, const struct hz_record *r, struct hz_session *s,
             int32_t day, int today, int active, enum hz_dim dim, const char *value, size_t vlen)
{
    struct hz_counts c;

    memset(&c, 0, sizeof(c));
    if (r->kind == HZ_KIND_PAGEVIEW)
        c.pageviews = 1;
    else
        c.events = 1;
    hz_session_mark(s, today, active, (int)dim, value, vlen, &c.visitors, &c.visits);
    return hz_store_add(w, fs->site->name, day, dim, value, vlen, &c);
}

/*
 * The page's host name (event:hostname) and the record's custom props
 * (already the allow-list's, scrubbed): one row
 * per prop in its own dimension (HZ_DIM_PROP0 + its index in the current
 * allow-list, so each prop has its own cardinality cap), counting the hit
 * (a pageview or an event), a unique visitor and the visit. A prop no
 * longer in the allow-list, and the props the collector dropped, are
 * counted as filtered traffic ("prop_not_allowed").
 */
static int
fold_props(hz_wtxn *w, struct hz_fold_site *fs, const struct hz_record *r, struct hz_session *s,
           int32_t day, int today, int active)
{
    const char *name, *value;
    size_t nlen, vlen, pos = 0;
    uint64_t dropped = r->props_dropped;
    int rc;

    if (r->hostname[0] != '\0' &&
        (rc = fold_hit_row(w, fs, r, s, day, today, active, HZ_DIM_HOSTNAME, r->hostname,
                           strlen(r->hostname))) != 0)
        return rc;
    while (hz_record_prop_next(r, &pos, &name, &nlen, &value, &vlen)) {
        int i = hz_cfg_site_prop(fs->site, name, nlen);
        enum hz_dim dim;
        if (i < 0 || i > HZ_DIM_PROP_LAST - HZ_DIM_PROP0) {
            dropped++;
            continue;
        }
        dim = (enum hz_dim)(HZ_DIM_PROP0 + i);
        if ((rc = fold_hit_row(w, fs, r, s, day, today, active, dim, value, vlen)) != 0)
            return rc;
    }
    if (dropped > 0)
        return hz_fold_drop(w, fs->site->name, day, HZ_FOLD_PROP_DROPPED, dropped);
    return 0;
}

static int
fold_pageview(hz_wtxn *w, struct hz_fold_site *fs, uint64_t session_ms, const struct hz_record *r,
              struct hz_session *s, int32_t day, int32_t hour, int today)
{
    const char *site = fs->site->name;
    uint64_t t = r->t_ms;
    size_t plen = strlen(r->page);
    struct hz_counts day_total, start_total, hr, vc, page;
    int new_visit = !fold_active(s, t, session_ms);
    int rc;

    memset(&day_total, 0, sizeof(day_total));
    memset(&start_total, 0, sizeof(start_total));
    memset(&hr, 0, sizeof(hr));
    memset(&vc, 0, sizeof(vc));
    memset(&page, 0, sizeof(page));

    day_total.visitors = (uint64_t)fold_unique(s, today, HZ_DIM_TOTAL, "", 0);
    day_total.pageviews = 1;
    if (hour > s->last_hour) {
        hr.visitors = 1;
        s->last_hour = hour;
    }
    hr.pageviews = 1;

    if (new_visit) {
        struct fold_dim d[FOLD_VISIT_DIMS];
        struct fold_vbuf vb;
        int uniq[FOLD_VISIT_DIMS] = {0}, n;

        /* The previous visit's pending deltas belong to its own rows. */
        if ((rc = hz_fold_flush(w, fs, s)) != 0)
            return rc;
        fold_new_visit(fs, s, r, day);
        hr.visits = 1;
        start_total.visits = 1;
        n = fold_visit_dims(s, d, &vb);
        for (int i = 0; i < n; i++)
            uniq[i] = fold_unique(s, today, d[i].dim, d[i].v, d[i].len);
        vc.visits = 1;
        vc.pageviews = 1;
        if ((rc = fold_visit_rows(w, fs->site, s, &vc, uniq, today)) != 0)
            return rc;
    } else {
        fold_extend(s, t);
        if (s->last_page[0] != '\0') {
            struct hz_counts prev;
            memset(&prev, 0, sizeof(prev));
            prev.outs = 1;
            if (s->last_pixel) {
                /* The pixel page's time is the gap to this pageview. */
                uint64_t gap = t > s->last_pv_ms ? t - s->last_pv_ms : 0;
                if (gap > HZ_FOLD_PIXEL_CAP_MS)
                    gap = HZ_FOLD_PIXEL_CAP_MS;
                prev.engaged_ms = gap;
                prev.events = 1;
                if ((rc = hz_store_add_engaged(w, site, s->last_pv_day, s->last_page, gap)) != 0)
                    return rc;
            }
            if ((rc = hz_store_add(w, site, s->last_pv_day, HZ_DIM_PAGE, s->last_page,
                                   strlen(s->last_page), &prev)) != 0)
                return rc;
            if ((rc = hz_store_add_transition(w, site, day, s->last_page, r->page, 1)) != 0)
                return rc;
        }
        s->pend.pageviews++;
        if (s->pageviews + 1 == 2 && !s->engaged)
            s->pend.nonbounce++; /* the 2nd pageview: no longer a bounce */
    }
    s->pageviews++;

    page.pageviews = 1;
    hz_session_mark(s, today, 1, HZ_DIM_PAGE, r->page, plen, &page.visitors, &page.visits);
    if ((rc = hz_store_add(w, site, day, HZ_DIM_PAGE, r->page, plen, &page)) != 0)
        return rc;
    if ((rc = hz_xfold_pageview(w, fs->site, s, r, day, today)) != 0)
        return rc;

    /* TOTAL: the hit's day and the visit's start day, one add when equal. */
    if (s->start_day == day) {
        start_total.visitors += day_total.visitors;
        start_total.pageviews += day_total.pageviews;
    } else if ((rc = fold_total(w, fs, day, &day_total)) != 0) {
        return rc;
    }
    if ((rc = fold_total(w, fs, s->start_day, &start_total)) != 0)
        return rc;
    if ((rc = fold_hour(w, fs, hour, &hr)) != 0)
        return rc;

    memcpy(s->last_page, r->page, plen + 1);
    s->last_pv_ms = t;
    s->last_pv_day = day;
    s->last_pixel = r->pixel;
    if (t > s->last_ms)
        s->last_ms = t;
    if ((rc = fold_props(w, fs, r, s, day, today, 1)) != 0)
        return rc;
    return fold_funnels(w, fs, s, 1, r->page, t);
}

static int
fold_event(hz_wtxn *w, struct hz_fold_site *fs, uint64_t session_ms, const struct hz_record *r,
           struct hz_session *s, int32_t day, int32_t hour, int today)
{
    const char *site = fs->site->name;
    uint64_t t = r->t_ms;
    size_t nlen = strlen(r->name);
    int active = fold_active(s, t, session_ms);
    struct hz_counts ev, day_total, hr;
    int rc;

    memset(&ev, 0, sizeof(ev));
    memset(&day_total, 0, sizeof(day_total));
    memset(&hr, 0, sizeof(hr));
    ev.events = 1;
    hz_session_mark(s, today, active, HZ_DIM_EVENT, r->name, nlen, &ev.visitors, &ev.visits);
    if ((rc = hz_store_add(w, site, day, HZ_DIM_EVENT, r->name, nlen, &ev)) != 0)
        return rc;
    if ((rc = hz_xfold_event(w, fs->site, s, r, day, today, active)) != 0)
        return rc;
    day_total.visitors = (uint64_t)fold_unique(s, today, HZ_DIM_TOTAL, "", 0);
    if ((rc = fold_total(w, fs, day, &day_total)) != 0)
        return rc;
    if (hour > s->last_hour) {
        hr.visitors = 1;
        s->last_hour = hour;
        if ((rc = fold_hour(w, fs, hour, &hr)) != 0)
            return rc;
    }
    if ((rc = fold_props(w, fs, r, s, day, today, active)) != 0)
        return rc;
    if (!active)
        return 0;
    fold_extend(s, t);
    /* An interactive custom event is engagement: a one-page visit with one
     * is not a bounce (Plausible's rule); interactive: false changes nothing. */
    if (!r->noninteractive && s->pageviews == 1 && !s->engaged) {
        s->pend.nonbounce++;
        s->engaged = 1;
    }
    return fold_funnels(w, fs, s, 0, r->name, t);
}

static int
fold_engagement(hz_wtxn *w, struct hz_fold_site *fs, uint64_t session_ms, const struct hz_record *r,
                struct hz_session *s, int32_t day)
{
    const char *site = fs->site->name;
    struct hz_counts pg;
    int rc;

    memset(&pg, 0, sizeof(pg));
    pg.engaged_ms = r->ms;
    pg.events = 1;
    if ((rc = hz_store_add_engaged(w, site, day, r->page, r->ms)) != 0)
        return rc;
    if ((rc = hz_store_add(w, site, day, HZ_DIM_PAGE, r->page, strlen(r->page), &pg)) != 0)
        return rc;
    if ((rc = hz_xfold_engaged(w, fs->site, r, day)) != 0)
        return rc;
    if (r->has_scroll && (rc = hz_store_add_scroll(w, site, day, r->page, r->scroll_depth)) != 0)
        return rc;
    /* The page was visible until now: the visit lasted at least this long. */
    if (fold_active(s, r->t_ms, session_ms))
        fold_extend(s, r->t_ms);
    return 0;
}

int
hz_fold_record(hz_wtxn *w, struct hz_fold_site *fs, uint64_t session_ms, const struct hz_record *r,
               struct hz_session *s)
{
    int64_t sec = (int64_t)(r->t_ms / 1000);
    int32_t day = hz_tz_day(&fs->tz, sec);
    int32_t hour = hz_tz_hour(&fs->tz, sec);
    int today = fold_day(s, day);
    uint64_t before = s->last_ms;
    int rc;

    if (r->t_ms > s->hit_ms)
        s->hit_ms = r->t_ms;

    switch (r->kind) {
    case HZ_KIND_PAGEVIEW:
        rc = fold_pageview(w, fs, session_ms, r, s, day, hour, today);
        break;
    case HZ_KIND_EVENT:
        rc = fold_event(w, fs, session_ms, r, s, day, hour, today);
        break;
    case HZ_KIND_ENGAGEMENT:
        rc = fold_engagement(w, fs, session_ms, r, s, day);
        break;
    default:
        return HZ_EINVAL;
    }
    /* Realtime: the visitor's last hit moved to a later minute. */
    if (rc == 0 && s->last_ms / 60000 > before / 60000)
        rc = hz_store_add_active(w, fs->site->name, (uint32_t)(before / 60000),
                                 (uint32_t)(s->last_ms / 60000));
    return rc;
}

int
hz_fold_drop(hz_wtxn *w, const char *site, int32_t day, const char *reason, uint64_t count)
{
    struct hz_counts c;

    memset(&c, 0, sizeof(c));
    c.events = count;
    return hz_store_add(w, site, day, HZ_DIM_DROP, reason, strlen(reason), &c);
}

uint64_t
hz_fold_ttl_ms(struct hz_fold_site *fs, uint64_t session_ms, const struct hz_session *s)
{
    /* From the last hit of any kind: a visitor who sent only custom events
     * (no visit, so last_ms stays 0) keeps today's uniques until the end of
     * today, not for 24 h. */
    uint64_t last = s->hit_ms > s->last_ms ? s->hit_ms : s->last_ms;
    int64_t sec = (int64_t)(last / 1000);
    int32_t day = hz_tz_day(&fs->tz, sec);
    int64_t end_ms = ((int64_t)(day + 1) * 86400 - hz_tz_offset(&fs->tz, sec)) * 1000;
    uint64_t rest = end_ms > (int64_t)last ? (uint64_t)end_ms - last : 0;

    return rest + session_ms > session_ms ? rest + session_ms : session_ms;
}
