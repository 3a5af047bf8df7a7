/* SPDX-License-Identifier: MIT */
/*
 * parse_test.c - the v1 query-string parser and the v2 body parser: every
 * error is a 400 whose one-line message names the parameter, and good
 * questions come out with the right fields.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common/tz.h"
#include "dashboard/api.h"
#include "dash_fixture.h"

/* 2026-11-25 12:00 UTC. */
#define NOW dash_utc(2026, 11, 25, 12, 0)

struct v1_err {
    int route;
    char qs[160];
    char msg[96]; /* expected prefix */
};

#define S "site_id=example.com"
/* clang-format off */
static struct v1_err v1_errs[] = {
    { HZ_API_AGGREGATE,  "",                                        "site_id: required" },
    { HZ_API_AGGREGATE,  S "&period=week",                          "period: expected day, 7d" },
    { HZ_API_AGGREGATE,  S "&period=1234567890",                    "period: expected day, 7d" },
    { HZ_API_AGGREGATE,  S "&period=custom",                        "date: required for period=custom" },
    { HZ_API_AGGREGATE,  S "&period=custom&date=2026-11-05,2026-11-01", "date: the start is after the end" },
    { HZ_API_AGGREGATE,  S "&period=day&date=2026-13-01",           "date: expected YYYY-MM-DD" },
    { HZ_API_AGGREGATE,  S "&period=custom&date=2020-01-01,2020-01-31", "date: the range starts before the retention window (400 days" },
    { HZ_API_AGGREGATE,  S "&period=12mo&date=2025-06-01",          "period: the range starts before the retention window" },
    { HZ_API_AGGREGATE,  S "&period=custom&date=2026-11-01,2028-01-01", "date: the range ends more than a year" },
    { HZ_API_AGGREGATE,  S "&metrics=visitors,foo",                 "metrics: unknown metric" },
    { HZ_API_AGGREGATE,  S "&metrics=",                             "metrics: unknown metric" },
    { HZ_API_AGGREGATE,  S "&metrics=visitors,visitors",            "metrics: visitors is listed twice" },
    { HZ_API_AGGREGATE,  S "&metrics=exit_rate",                    "metrics: exit_rate is not available for site totals" },
    { HZ_API_BREAKDOWN,  S,                                         "property: required" },
    { HZ_API_BREAKDOWN,  S "&property=visit:city",                  "property: unknown property" },
    { HZ_API_BREAKDOWN,  S "&property=event:name&metrics=bounce_rate", "metrics: bounce_rate is not available for event:name" },
    { HZ_API_BREAKDOWN,  S "&property=visit:source&metrics=time_on_page", "metrics: time_on_page needs event:page" },
    { HZ_API_BREAKDOWN,  S "&property=visit:source&metrics=time_on_page_median", "metrics: time_on_page_median is not available for visit:source" },
    { HZ_API_AGGREGATE,  S "&metrics=percentage",                   "metrics: percentage is only available in a breakdown" },
    { HZ_API_AGGREGATE,  S "&metrics=conversion_rate",              "metrics: conversion_rate needs goals" },
    { HZ_API_AGGREGATE,  S "&interval=hourly&period=weekly",        "period: expected day, 7d" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&filters=visit:browser%3D%3DFirefox", "filters: no declared pair covers visit:browser with event:page; add " },
    { HZ_API_AGGREGATE,  S "&filters=event:page%3D%3D/a;visit:browser%3D%3DFirefox", "filters: no declared pair covers event:page with visit:browser; add " },
    { HZ_API_AGGREGATE,  S "&filters=visit:city%3D%3Dx",            "filters: unknown property" },
    { HZ_API_AGGREGATE,  S "&filters=event:page>/a",                "filters: expected ==, != or ~ after event:page" },
    { HZ_API_AGGREGATE,  S "&filters=event:page%3D%3Da|b|c|d|e|f|g|h|i", "filters: at most 8 values" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&limit=0",          "limit: expected an integer from 1 to 1000" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&limit=1001",       "limit: expected an integer from 1 to 1000" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&limit=ten",        "limit: expected an integer" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&page=0",           "page: expected an integer from 1 to 1000000" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&page=-1",          "page: expected an integer" },
    { HZ_API_TIMESERIES, S "&interval=fortnight",                   "interval: expected date, week, hour or month" },
    { HZ_API_TIMESERIES, S "&period=day&interval=hour&metrics=bounce_rate", "metrics: bounce_rate is not kept per hour" },
    { HZ_API_TIMESERIES, S "&period=6mo&interval=hour",             "interval: hour is limited to 31 days" },
    { HZ_API_TIMESERIES, S "&period=day&interval=hour&filters=event:page%3D%3D/a", "interval: hour rows are site totals" },
    { HZ_API_AGGREGATE,  S "&compare=yesterday",                    "compare: expected previous_period" },
    { HZ_API_BREAKDOWN,  S "&property=event:page&format=xml",       "format: expected json or csv" },
    { HZ_API_AGGREGATE,  S "&" S,                                   "site_id: given more than once" },
    { HZ_API_AGGREGATE,  "site_id=%zz",                             "site_id: bad percent-encoding" },
    { HZ_API_AGGREGATE,  "site_id=%ff",                             "site_id: not valid UTF-8 text" },
    { HZ_API_AGGREGATE,  "site_id=a%00b",                           "site_id: not valid UTF-8 text" },
    { HZ_API_AGGREGATE,  S "&with_imported=maybe",                  "with_imported: expected true or false" },
    { HZ_API_FUNNELS,    S "&funnel=nope",                          "funnel: unknown funnel" },
    { HZ_API_PATHS,      S,                                         "page: required" },
    { HZ_API_PATHS,      S "&page=x",                               "page: expected a path starting with /" },
    { HZ_API_SITES,      S,                                         "query: not a v1 stats route" },
};
/* clang-format on */

ParameterizedTestParameters(parse_v1, errors)
{
    return cr_make_param_array(struct v1_err, v1_errs, sizeof(v1_errs) / sizeof(v1_errs[0]));
}

ParameterizedTest(struct v1_err *c, parse_v1, errors)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};

    dash_fixture(&cfg);
    cr_assert_eq(
        hz_api_parse_v1((enum hz_api_route)c->route, c->qs, strlen(c->qs), &cfg, NOW, &q, &err),
        HZ_EINVAL, "accepted %s", c->qs);
    cr_assert_eq(strncmp(err.msg, c->msg, strlen(c->msg)), 0, "%s -> '%s'", c->qs, err.msg);
    cr_assert_null(strchr(err.msg, '\n'));
}

Test(parse_v1, breakdown_fields)
{
    static const char qs[] = S "&period=7d&date=2026-11-20&property=event:page"
                               "&metrics=visitors,pageviews,time_on_page&limit=10&page=3"
                               "&filters=event:page%3D%3D/blog/*|/x%20y";
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    char d[11];

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_BREAKDOWN, qs, strlen(qs), &cfg, NOW, &q, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(q.kind, HZ_Q_BREAKDOWN);
    cr_assert_str_eq(q.site, "example.com");
    cr_assert_str_eq(q.tz, "Europe/Berlin");
    cr_assert_eq(q.prop, HZ_P_PAGE);
    cr_assert_eq(q.nmetrics, 3);
    cr_assert_eq(q.metrics[2], HZ_M_TIME_ON_PAGE);
    cr_assert_eq(q.limit, 10);
    cr_assert_eq(q.offset, 20);
    cr_assert_eq(q.order_metric, HZ_M_VISITORS);
    cr_assert_eq(q.order_desc, 1);
    cr_assert_eq(q.nfilters, 1);
    cr_assert_eq(q.filters[0].op, HZ_FOP_GLOB);
    cr_assert_eq(q.filters[0].nvalues, 2);
    cr_assert_str_eq(q.filters[0].values[0], "/blog/*");
    cr_assert_str_eq(q.filters[0].values[1], "/x y");
    hz_date_format(q.from, d);
    cr_assert_str_eq(d, "2026-11-14");
    hz_date_format(q.to, d);
    cr_assert_str_eq(d, "2026-11-20");
    cr_assert_eq(q.csv, 0);
}

Test(parse_v1, defaults_and_intervals)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, S, strlen(S), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.interval, HZ_IV_DATE);
    cr_assert_eq(q.to - q.from + 1, 30); /* default 30d */
    cr_assert_eq(q.nmetrics, 1);
    cr_assert_eq(q.metrics[0], HZ_M_VISITORS);
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, S "&period=day", strlen(S "&period=day"), &cfg,
                                 NOW, &q, &err),
                 0);
    cr_assert_eq(q.interval, HZ_IV_HOUR);
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, S "&period=12mo&interval=month",
                                 strlen(S "&period=12mo&interval=month"), &cfg, NOW, &q, &err),
                 0);
    cr_assert_eq(q.interval, HZ_IV_MONTH);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE,
                                 S "&compare=previous_period&metrics=visitors,"
                                   "bounce_rate,time_on_page_p75,events",
                                 strlen(S "&compare=previous_period&metrics=visitors,"
                                          "bounce_rate,time_on_page_p75,events"),
                                 &cfg, NOW, &q, &err),
                 0, "%s", err.msg);
    cr_assert_eq(q.compare, 1);
    cr_assert_eq(q.nmetrics, 4);
    cr_assert_eq(hz_api_parse_v1(HZ_API_BREAKDOWN, S "&property=visit:region&format=csv",
                                 strlen(S "&property=visit:region&format=csv"), &cfg, NOW, &q,
                                 &err),
                 0);
    cr_assert_eq(q.csv, 1);
    cr_assert_eq(q.limit, HZ_QUERY_LIMIT_DEFAULT);
    cr_assert_eq(hz_api_parse_v1(HZ_API_PATHS, S "&page=%2Fcart&period=7d",
                                 strlen(S "&page=%2Fcart&period=7d"), &cfg, NOW, &q, &err),
                 0);
    cr_assert_str_eq(q.page, "/cart");
    cr_assert_eq(q.limit, 10);
    cr_assert_eq(hz_api_parse_v1(HZ_API_FUNNELS, S "&funnel=checkout", strlen(S "&funnel=checkout"),
                                 &cfg, NOW, &q, &err),
                 0);
    cr_assert_eq(q.funnel, 0);
    cr_assert_eq(hz_api_parse_v1(HZ_API_REALTIME, S, strlen(S), &cfg, NOW, &q, &err), 0);
}

Test(parse_v1, filter_operators)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    static const char a[] = S "&filters=visit:source!%3DGoogle", b[] = S "&filters=event:page~blog",
                      c[] = S "&filters=event:page!%3D/a*";

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, a, strlen(a), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.filters[0].op, HZ_FOP_IS_NOT);
    cr_assert_eq(q.filters[0].prop, HZ_P_SOURCE);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, b, strlen(b), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.filters[0].op, HZ_FOP_CONTAINS);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, c, strlen(c), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.filters[0].op, HZ_FOP_NOT_GLOB);
}

/* ================================================================ v2 */

struct v2_err {
    char body[320];
    char msg[96];
};

#define B "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"7d\""
/* clang-format off */
static struct v2_err v2_errs[] = {
    { "not json",                                        "body: invalid JSON at line 1" },
    { "",                                                "body: invalid JSON" },
    { "[]",                                              "body: expected a JSON object" },
    { B ",\"bogus\":1}",                                 "bogus: unknown field" },
    { B ",\"Bo Gus\":1}",                                "body: unknown field" },
    { "{\"metrics\":[\"visitors\"],\"date_range\":\"7d\"}", "site_id: required" },
    { "{\"site_id\":1,\"metrics\":[\"visitors\"],\"date_range\":\"7d\"}", "site_id: required" },
    { "{\"site_id\":\"example.com\",\"date_range\":\"7d\"}", "metrics: required" },
    { "{\"site_id\":\"example.com\",\"metrics\":[],\"date_range\":\"7d\"}", "metrics: required" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"foo\"],\"date_range\":\"7d\"}", "metrics: unknown metric" },
    { "{\"site_id\":\"example.com\",\"metrics\":[1],\"date_range\":\"7d\"}", "metrics: expected names" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"]}", "date_range: required" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"week\"}", "date_range: expected" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":[\"2026-11-05\",\"2026-11-01\"]}", "date_range: the start is after the end" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":[\"2026-11-05\"]}", "date_range: expected a period name" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":[\"2026-11-05\",\"2026-11-31\"]}", "date_range: expected [" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":[\"2020-01-01\",\"2020-01-05\"]}", "date_range: the range starts before the retention window" },
    { B ",\"date\":\"2026-1-1\"}",                       "date: expected YYYY-MM-DD" },
    { B ",\"dimensions\":[\"event:page\",\"visit:browser\"]}", "filters: no declared pair covers event:page with visit:browser; add " },
    { B ",\"dimensions\":[\"time:day\",\"event:page\"]}", "dimensions: two dimensions must both be properties" },
    { B ",\"dimensions\":[\"event:gaol\"]}",             "dimensions: unknown dimension" },
    { B ",\"dimensions\":\"event:page\"}",               "dimensions: expected an array" },
    { B ",\"dimensions\":[\"event:page\"],\"filters\":[[\"is\",\"visit:browser\",[\"Firefox\"]]]}", "filters: no declared pair covers visit:browser with event:page; add " },
    { B ",\"filters\":[[\"and\",[]]]}",                  "filters: and takes a list of 1 to 8" },
    { B ",\"filters\":[[\"nand\",\"event:page\",[\"^/x\"]]]}", "filters: unknown operator" },
    { B ",\"filters\":[[\"matches\",\"event:page\",[\"(a\"]]]}", "filters: invalid regular expression" },
    { B ",\"filters\":[[\"is\",\"event:page\",[\"/a\"],{\"case_sensitive\":1}]]}", "filters: case_sensitive must be true or false" },
    { B ",\"filters\":[[\"is\",\"event:page\",[\"/a\"],{\"ignore\":true}]]}", "filters: unknown modifier" },
    { B ",\"filters\":[[\"or\",[[\"is\",\"event:page\",[\"/a\"]],[\"is\",\"visit:os\",[\"Mac\"]]]]]}", "filters: no declared pair covers event:page with visit:os; add " },
    { B ",\"filters\":[[\"not\",[\"not\",[\"not\",[\"not\",[\"not\",[\"is\",\"event:page\",[\"/a\"]]]]]]]]}", "filters: nested deeper than 4" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":[\"2026-11-01T25:00:00Z\",\"2026-11-02\"]}", "date_range: expected [" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":[\"2026-11-01T10:00:00+0100\",\"2026-11-02\"]}", "date_range: expected [" },
    { B ",\"dimensions\":[\"time\"],\"order_by\":[[\"visit:os\",\"asc\"]]}", "order_by: must name a metric of the query" },
    { B ",\"order_by\":[[\"visitors\",\"asc\"],[\"visitors\",\"asc\"],[\"visitors\",\"asc\"],[\"visitors\",\"asc\"],[\"visitors\",\"asc\"]]}", "order_by: expected [[name" },
    { B ",\"filters\":[[\"is\",\"event:page\",\"/x\"]]}", "filters: expected [operator, dimension, [values]]" },
    { B ",\"filters\":[[\"is\",\"event:page\",[1]]]}",   "filters: values must be strings" },
    { B ",\"filters\":[[\"is\",\"event:page\",[]]]}",    "filters: expected at least one value" },
    { B ",\"filters\":[[\"is\",\"visit:city\",[\"x\"]]]}", "filters: unknown dimension" },
    { B ",\"filters\":{}}",                              "filters: expected an array" },
    { B ",\"dimensions\":[\"event:page\"],\"order_by\":[[\"pageviews\",\"desc\"]]}", "order_by: must name a metric of the query" },
    { B ",\"order_by\":[[\"visitors\",\"up\"]]}",        "order_by: direction is asc or desc" },
    { B ",\"order_by\":[]}",                             "order_by: expected [[name" },
    { B ",\"pagination\":{\"limit\":0}}",                "pagination: limit is 1 to 10000" },
    { B ",\"pagination\":{\"limit\":10001}}",            "pagination: limit is 1 to 10000" },
    { B ",\"pagination\":{\"limit\":1.5}}",              "pagination: limit must be an integer" },
    { B ",\"pagination\":{\"offset\":-1}}",              "pagination: offset is 0 to 1000000" },
    { B ",\"pagination\":{\"page\":2}}",                 "pagination: unknown field" },
    { B ",\"include\":{\"x\":true}}",                    "include: unknown field" },
    { B ",\"include\":{\"total_rows\":1}}",              "include: total_rows must be true or false" },
    { B ",\"site_id\":\"example.com\"}",                 "body: invalid JSON" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"bounce_rate\"],\"date_range\":\"day\",\"dimensions\":[\"time:hour\"]}", "metrics: bounce_rate is not kept per hour" },
    { "{\"site_id\":\"example.com\",\"metrics\":[\"events\"],\"date_range\":\"7d\",\"dimensions\":[\"visit:os\"]}", "metrics: events is not available for visit:os" },
    { "{\"site_id\":\"exa\\u0000mple.com\",\"metrics\":[\"visitors\"],\"date_range\":\"7d\"}", "body: invalid JSON" },
};
/* clang-format on */

ParameterizedTestParameters(parse_v2, errors)
{
    return cr_make_param_array(struct v2_err, v2_errs, sizeof(v2_errs) / sizeof(v2_errs[0]));
}

ParameterizedTest(struct v2_err *c, parse_v2, errors)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v2(c->body, strlen(c->body), &cfg, NOW, &q, &err), HZ_EINVAL,
                 "accepted %s", c->body);
    cr_assert_eq(strncmp(err.msg, c->msg, strlen(c->msg)), 0, "%s -> '%s'", c->body, err.msg);
    cr_assert_null(strchr(err.msg, '\n'));
}

Test(parse_v2, breakdown_fields)
{
    static const char body[] =
        "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\",\"bounce_rate\"],"
        "\"date_range\":[\"2026-11-01\",\"2026-11-20\"],\"dimensions\":[\"event:page\"],"
        "\"filters\":[[\"is\",\"event:page\",[\"/a\",\"/b\"]],[\"is_not\",\"event:page\",[\"/"
        "c\"]]],"
        "\"order_by\":[[\"bounce_rate\",\"asc\"]],\"pagination\":{\"limit\":5,\"offset\":10},"
        "\"include\":{\"total_rows\":true,\"imports\":false}}";
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    char d[11];

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v2(body, strlen(body), &cfg, NOW, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(q.kind, HZ_Q_BREAKDOWN);
    cr_assert_eq(q.prop, HZ_P_PAGE);
    cr_assert_eq(q.nmetrics, 2);
    cr_assert_eq(q.order_metric, HZ_M_BOUNCE_RATE);
    cr_assert_eq(q.order_desc, 0);
    cr_assert_eq(q.limit, 5);
    cr_assert_eq(q.offset, 10);
    cr_assert_eq(q.total_rows, 1);
    cr_assert_eq(q.nfilters, 2);
    cr_assert_eq(q.filters[0].op, HZ_FOP_IS);
    cr_assert_eq(q.filters[1].op, HZ_FOP_IS_NOT);
    cr_assert_str_eq(q.filters[0].values[1], "/b");
    hz_date_format(q.from, d);
    cr_assert_str_eq(d, "2026-11-01");
    hz_date_format(q.to, d);
    cr_assert_str_eq(d, "2026-11-20");
}

Test(parse_v2, shapes)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    static const char agg[] = B "}",
                      all[] = "{\"site_id\":\"example.com\",\"metrics\":"
                              "[\"visitors\"],\"date_range\":\"all\"}",
                      ts[] = "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],"
                             "\"date_range\":\"day\",\"dimensions\":[\"time\"]}",
                      tsf[] = "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],"
                              "\"date_range\":\"day\",\"dimensions\":[\"time\"],"
                              "\"filters\":[[\"contains\",\"event:page\",[\"blog\"]]]}",
                      byname[] = B ",\"dimensions\":[\"visit:region\"],\"order_by\":"
                                   "[[\"visit:region\",\"asc\"]]}";

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v2(agg, strlen(agg), &cfg, NOW, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(q.kind, HZ_Q_AGGREGATE);
    cr_assert_eq(q.to - q.from, 6);
    cr_assert_eq(hz_api_parse_v2(all, strlen(all), &cfg, NOW, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(q.all, 1);
    cr_assert_eq(hz_api_parse_v2(ts, strlen(ts), &cfg, NOW, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(q.kind, HZ_Q_TIMESERIES);
    cr_assert_eq(q.interval, HZ_IV_HOUR);
    cr_assert_eq(hz_api_parse_v2(tsf, strlen(tsf), &cfg, NOW, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(q.interval, HZ_IV_DATE);
    cr_assert_eq(q.filters[0].op, HZ_FOP_CONTAINS);
    cr_assert_eq(hz_api_parse_v2(byname, strlen(byname), &cfg, NOW, &q, &err), 0, "%s", err.msg);
    cr_assert_eq(q.order_metric, -1);
    cr_assert_eq(q.order_desc, 0);
}

/* ------------------------------------------------------------ Plausible compatibility (issue 13)
 */

/* What Plausible's docs show a client sending; haze must take it as is. */
Test(plausible_v1, unknown_site_is_plausibles_401)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    static const char qs[] = "site_id=nope.com&period=30d";
    static const char body[] = "{\"site_id\":\"nope.com\",\"metrics\":[\"visitors\"],"
                               "\"date_range\":\"7d\"}";

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, qs, strlen(qs), &cfg, NOW, &q, &err),
                 HZ_ENOTFOUND);
    cr_assert_str_eq(err.msg, HZ_API_BAD_SITE);
    cr_assert_eq(hz_api_parse_v2(body, strlen(body), &cfg, NOW, &q, &err), HZ_ENOTFOUND);
    cr_assert_str_eq(err.msg, "Invalid API key or site ID. Please make sure you're using a valid "
                              "API key with access to the site you've requested.");
}

Test(plausible_v1, unknown_parameters_are_ignored_bad_known_ones_are_not)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    /* One parameter set sent to every endpoint, plus a cache buster. */
    static const char agg[] = S "&period=6mo&metrics=visitors,pageviews&interval=month"
                                "&property=event:page&limit=5&_=1732536000&Bad%20Key=1";
    static const char rt[] = S "&period=day";
    static const char bad[] = S "&period=6mo&interval=fortnight&foo=1";

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, agg, strlen(agg), &cfg, NOW, &q, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(q.kind, HZ_Q_AGGREGATE);
    cr_assert_eq(q.nmetrics, 2);
    cr_assert_eq(hz_api_parse_v1(HZ_API_REALTIME, rt, strlen(rt), &cfg, NOW, &q, &err), 0, "%s",
                 err.msg);
    /* interval is known on timeseries: a bad value there is still a 400. */
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, bad, strlen(bad), &cfg, NOW, &q, &err),
                 HZ_EINVAL);
    cr_assert_str_eq(err.msg, "interval: expected date, week, hour or month");
}

Test(plausible_v1, limit_page_and_default_intervals)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    static const char bd[] = S "&property=event:page";
    static const char bd2[] = S "&property=event:page&limit=1000&page=2";
    static const char ts6[] = S "&period=6mo&metrics=visitors";
    static const char tsw[] = S "&period=30d&interval=week";
    static const char tsd[] = S "&period=day";

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_BREAKDOWN, bd, strlen(bd), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.limit, 100);
    cr_assert_eq(hz_api_parse_v1(HZ_API_BREAKDOWN, bd2, strlen(bd2), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.limit, 1000);
    cr_assert_eq(q.offset, 1000);
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, ts6, strlen(ts6), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.interval, HZ_IV_MONTH);
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, tsw, strlen(tsw), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.interval, HZ_IV_WEEK);
    cr_assert_eq(hz_api_parse_v1(HZ_API_TIMESERIES, tsd, strlen(tsd), &cfg, NOW, &q, &err), 0);
    cr_assert_eq(q.interval, HZ_IV_HOUR);
}

Test(plausible_v1, filters_escape_pipes_join_with_semicolons_and_take_aliases)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    /* filters=event:page==/a\|b|/c;event:page!=/d (percent-encoded as a client would) */
    static const char qs[] = S "&filters=event:page%3D%3D%2Fa%5C%7Cb%7C%2Fc%3Bevent:page!%3D%2Fd";
    static const char os[] = S "&filters=visit:os%3D%3DMac|GNU%2FLinux|Chrome%20OS";
    static const char dev[] = S "&filters=visit:device%3D%3DDesktop";

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, qs, strlen(qs), &cfg, NOW, &q, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(q.nfilters, 2);
    cr_assert_eq(q.filters[0].nvalues, 2);
    cr_assert_str_eq(q.filters[0].values[0], "/a|b");
    cr_assert_str_eq(q.filters[0].values[1], "/c");
    cr_assert_eq(q.filters[1].op, HZ_FOP_IS_NOT);
    cr_assert(hz_query_filters_match(&q, "/a|b", 4));
    cr_assert_not(hz_query_filters_match(&q, "/a", 2));
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, os, strlen(os), &cfg, NOW, &q, &err), 0, "%s",
                 err.msg);
    cr_assert_str_eq(q.filters[0].values[0], "macOS");
    cr_assert_str_eq(q.filters[0].values[1], "Linux");
    cr_assert_str_eq(q.filters[0].values[2], "ChromeOS");
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, dev, strlen(dev), &cfg, NOW, &q, &err), 0);
    cr_assert_str_eq(q.filters[0].values[0], "desktop");
}

#define V2(rest)                                                                                   \
    "{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"7d\"," rest "}"

static void
v2_ok(const char *body, struct hz_query *q)
{
    struct hz_config cfg;
    struct hz_err err = {0};

    dash_fixture(&cfg);
    cr_assert_eq(hz_api_parse_v2(body, strlen(body), &cfg, NOW, q, &err), 0, "%s: %s", body,
                 err.msg);
}

Test(plausible_v2, filter_operators_modifiers_and_logic)
{
    struct hz_query q;

    v2_ok(V2("\"filters\":[[\"contains_not\",\"event:page\",[\"/blog\"]]]"), &q);
    cr_assert(hz_query_filters_match(&q, "/shop", 5));
    cr_assert_not(hz_query_filters_match(&q, "/blog/x", 7));
    v2_ok(V2("\"filters\":[[\"matches_wildcard\",\"event:page\",[\"/blog/*\"]]]"), &q);
    cr_assert(hz_query_filters_match(&q, "/blog/a", 7));
    cr_assert_not(hz_query_filters_match(&q, "/shop", 5));
    v2_ok(V2("\"filters\":[[\"matches_wildcard_not\",\"event:page\",[\"/blog/*\"]]]"), &q);
    cr_assert_not(hz_query_filters_match(&q, "/blog/a", 7));
    v2_ok(V2("\"filters\":[[\"matches\",\"event:page\",[\"^/post/[0-9]+$\"]]]"), &q);
    cr_assert(hz_query_filters_match(&q, "/post/12", 8));
    cr_assert_not(hz_query_filters_match(&q, "/post/x", 7));
    v2_ok(V2("\"filters\":[[\"matches_not\",\"event:page\",[\"^/post\"]]]"), &q);
    cr_assert(hz_query_filters_match(&q, "/about", 6));
    cr_assert_not(hz_query_filters_match(&q, "/post/1", 7));
    v2_ok(V2("\"filters\":[[\"contains\",\"event:page\",[\"BLOG\"],{\"case_sensitive\":false}]]"),
          &q);
    cr_assert_eq(q.filters[0].icase, 1);
    cr_assert(hz_query_filters_match(&q, "/Blog/1", 7));
    v2_ok(V2("\"filters\":[[\"is\",\"event:page\",[\"/ABOUT\"],{\"case_sensitive\":false}]]"), &q);
    cr_assert(hz_query_filters_match(&q, "/about", 6));
    v2_ok(V2("\"filters\":[[\"matches\",\"event:page\",[\"^/A\"],{\"case_sensitive\":false}]]"),
          &q);
    cr_assert(hz_query_filters_match(&q, "/about", 6));
    /* or / not over one property, as in Plausible's docs. */
    v2_ok(V2("\"filters\":[[\"or\",[[\"is\",\"visit:browser\",[\"Chrome\"]],"
             "[\"is\",\"visit:browser\",[\"Firefox\"]]]]]"),
          &q);
    cr_assert(hz_query_filters_match(&q, "Firefox", 7));
    cr_assert_not(hz_query_filters_match(&q, "Safari", 6));
    v2_ok(V2("\"filters\":[[\"not\",[\"contains\",\"event:page\",[\"/blog\"]]],"
             "[\"and\",[[\"contains\",\"event:page\",[\"/p\"]],[\"is_not\",\"event:page\",[\"/p/"
             "x\"]]]]]"),
          &q);
    cr_assert(hz_query_filters_match(&q, "/p/y", 4));
    cr_assert_not(hz_query_filters_match(&q, "/p/x", 4));
    cr_assert_not(hz_query_filters_match(&q, "/blog/p", 7));
    /* Plausible's spellings of haze's families. */
    v2_ok(V2("\"filters\":[[\"is\",\"visit:device\",[\"Desktop\"]]]"), &q);
    cr_assert(hz_query_filters_match(&q, "desktop", 7));
    v2_ok(V2("\"filters\":[[\"is\",\"visit:os\",[\"GNU/Linux\",\"Chrome OS\"]]]"), &q);
    cr_assert(hz_query_filters_match(&q, "Linux", 5));
    cr_assert(hz_query_filters_match(&q, "ChromeOS", 8));
}

/* A catastrophic-backtracking pattern against a long value ends at the
 * match limit (no match), quickly. */
Test(plausible_v2, hostile_regex_cannot_stall, .timeout = 5)
{
    struct hz_query q;
    char v[200];

    v2_ok(V2("\"filters\":[[\"matches\",\"event:page\",[\"^(a+)+(b|c)+$\"]]]"), &q);
    memset(v, 'a', sizeof(v) - 1);
    v[sizeof(v) - 2] = 'x';
    v[sizeof(v) - 1] = '\0';
    for (int i = 0; i < 50; i++)
        cr_assert_not(hz_query_filters_match(&q, v, strlen(v)));
}

Test(plausible_v2, pagination_order_by_time_and_include)
{
    struct hz_query q;
    char d[11];

    v2_ok(V2("\"dimensions\":[\"event:page\"]"), &q);
    cr_assert_eq(q.limit, 10000);
    v2_ok(V2("\"dimensions\":[\"event:page\"],\"pagination\":{\"limit\":10000}"), &q);
    cr_assert_eq(q.limit, 10000);
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\",\"pageviews\"],"
          "\"date_range\":\"7d\",\"dimensions\":[\"event:page\"],"
          "\"order_by\":[[\"pageviews\",\"desc\"],[\"event:page\",\"asc\"]]}",
          &q);
    cr_assert_eq(q.norder, 2);
    cr_assert_eq(q.order[0].kind, HZ_OK_METRIC);
    cr_assert_eq(q.order[0].metric, HZ_M_PAGEVIEWS);
    cr_assert_eq(q.order[1].kind, HZ_OK_DIMENSION);
    cr_assert_eq(q.order[1].desc, 0);
    v2_ok(V2("\"dimensions\":[\"time:day\"],\"order_by\":[[\"time:day\",\"desc\"]],"
             "\"include\":{\"time_labels\":true}"),
          &q);
    cr_assert_eq(q.order[0].kind, HZ_OK_TIME);
    cr_assert_eq(q.time_labels, 1);
    v2_ok(V2("\"dimensions\":[\"time:week\"]"), &q);
    cr_assert_eq(q.interval, HZ_IV_WEEK);
    /* "time": hours for a day, days below a month, months from a month. */
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"30d\","
          "\"dimensions\":[\"time\"]}",
          &q);
    cr_assert_eq(q.interval, HZ_IV_DATE);
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"6mo\","
          "\"dimensions\":[\"time\"]}",
          &q);
    cr_assert_eq(q.interval, HZ_IV_MONTH);
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":"
          "[\"2026-10-01T00:00:00+02:00\",\"2026-11-24T23:59:59+01:00\"],"
          "\"dimensions\":[\"time\"]}",
          &q);
    cr_assert_eq(q.interval, HZ_IV_MONTH);
    hz_date_format(q.from, d);
    cr_assert_str_eq(d, "2026-10-01");
    hz_date_format(q.to, d);
    cr_assert_str_eq(d, "2026-11-24");
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":"
          "[\"2026-11-01T08:30:00.123Z\",\"2026-11-02T10:00:00Z\"]}",
          &q);
    cr_assert_eq(q.to - q.from, 1);
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"24h\"}", &q);
    cr_assert_eq(q.to, q.today);
    cr_assert_eq(q.from, q.today - 1);
    v2_ok("{\"site_id\":\"example.com\",\"metrics\":[\"visitors\"],\"date_range\":\"realtime\"}",
          &q);
    cr_assert_eq(q.from, q.today);
    v2_ok(V2("\"dimensions\":[\"event:goal\"]"), &q);
    cr_assert_eq(q.prop, HZ_P_GOAL); /* goals are their own property (issue 11) */
}
