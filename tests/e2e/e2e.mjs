// SPDX-License-Identifier: MIT
// e2e.mjs - haze end to end in a real browser (Debian's headless Chromium,
// driven by playwright-core). Started by tests/e2e/run.sh, which runs the
// collector, the aggregator, the dashboard and the demo shop and passes
// their addresses in HZ_E2E_* variables.
//
// 1. With JavaScript: one visit walks the shop (home, a custom event,
//    products, a product, cart, checkout), the single-page card designer
//    (two pushState views), and the about page, where it stays ~3 s
//    visible, is hidden, and leaves. The stats API must then show exactly
//    those pageviews, the entry and exit page, the funnel steps reached,
//    the custom event, and the about page's engaged time within a second
//    of what the browser spent visible there.
// 2. Without JavaScript: a second visitor opens the pixel page (counted)
//    and a script page (not counted: no script runs).
// 3. haze-loadgen plays 2000 visits to a second site; every number it says
//    it sent (pages, entry and exit pages, sources, regions, browsers,
//    funnel, events, filtered bots and DNT) must be what the API reports.
// Both fail if anything set a cookie or wrote web storage or IndexedDB.
// Prints "N passed, N failed"; exits 1 on any failure.

import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

function env(name) {
    const v = process.env[name];
    if (!v) {
        console.error(`e2e: ${name} is not set (run tests/e2e/run.sh)`);
        process.exit(2);
    }
    return v;
}

const DEMO = env('HZ_E2E_DEMO');
const COLLECTOR = env('HZ_E2E_COLLECTOR');
const DASH = env('HZ_E2E_DASHBOARD');
const TOKEN = env('HZ_E2E_TOKEN');
const SITE = env('HZ_E2E_SITE');
const TMP = env('HZ_E2E_TMP');
// playwright-core lives in build/e2e/node_modules, not beside this file.
const { chromium } = createRequire(path.join(env('HZ_E2E_MODULES'), 'e2e.cjs'))('playwright-core');

// Headless Chromium reports "HeadlessChrome", which haze rightly counts as
// a bot: each visitor presents an ordinary browser, and a different one,
// so that the two runs are two visitors (the visitor hash is IP + UA).
const UA_JS = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    'Chrome/124.0.0.0 Safari/537.36';
const UA_NOJS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 ' +
    '(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80';

let passed = 0;
let failed = 0;

function check(name, ok, detail) {
    if (ok) {
        passed++;
        console.log(`ok   ${name}`);
    } else {
        failed++;
        console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
    }
}

function same(name, got, want) {
    const g = JSON.stringify(got);
    const w = JSON.stringify(want);
    check(name, g === w, `got ${g}, want ${w}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ browser

async function launch(opts) {
    const dir = mkdtempSync(path.join(TMP, 'chromium-'));
    const ctx = await chromium.launchPersistentContext(dir, {
        executablePath: env('HZ_E2E_CHROMIUM'),
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync'],
        viewport: { width: 1280, height: 800 },
        ...opts,
    });
    return { ctx, dir };
}

// Records what the browser sent to the collector and whether any answer
// tried to set a cookie. Beacon bodies are only visible to a route (the
// request event does not carry them); the route passes every request on
// unchanged.
async function watchCollector(ctx, log) {
    await ctx.route((u) => u.href.startsWith(COLLECTOR), (route) => {
        const req = route.request();
        let body = null;
        try {
            body = JSON.parse(req.postData() || 'null');
        } catch (e) {
            body = null;
        }
        log.requests.push({ url: req.url(), body });
        return route.continue();
    });
    ctx.on('response', async (resp) => {
        if (!resp.url().startsWith(COLLECTOR)) return;
        const h = await resp.allHeaders().catch(() => ({}));
        log.responses.push({ url: resp.url(), status: resp.status(), cookie: h['set-cookie'] });
    });
}

// Everything a tracker could have stored, as seen from the page.
async function storageOf(page) {
    return page.evaluate(async () => ({
        cookie: document.cookie,
        localStorage: localStorage.length,
        sessionStorage: sessionStorage.length,
        indexedDB: indexedDB.databases ? (await indexedDB.databases()).length : 0,
    }));
}

const NO_STORAGE = { cookie: '', localStorage: 0, sessionStorage: 0, indexedDB: 0 };

// Minimizes the window of page (CDP Browser.setWindowBounds).
async function minimize(page, state) {
    const cdp = await page.context().newCDPSession(page);
    const { windowId } = await cdp.send('Browser.getWindowForTarget');
    await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: state } });
    await cdp.detach();
}

// Whether minimizing a window hides its page in this browser: true in a
// headed Chromium; headless Chromium keeps minimized windows and
// background tabs "visible". Probed on a blank page, not the shop's.
async function canReallyHide(ctx) {
    const probe = await ctx.newPage();
    try {
        await minimize(probe, 'minimized');
        return await probe.waitForFunction(() => document.visibilityState === 'hidden', null,
            { timeout: 1000 }).then(() => true, () => false);
    } catch (e) {
        return false;
    } finally {
        await probe.close();
    }
}

// Hides the page: for real when the browser can (see canReallyHide), else
// emulated: document.visibilityState reads "hidden" and a visibilitychange
// event fires, which is all haze.js listens to. Returns the time the page
// became hidden and how.
async function hide(page, real) {
    if (real) {
        const t = Date.now();
        await minimize(page, 'minimized');
        await page.waitForFunction(() => document.visibilityState === 'hidden');
        return { t, how: 'window minimized' };
    }
    const t = Date.now();
    await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange'));
    });
    return { t, how: 'emulated (headless Chromium keeps minimized windows visible)' };
}

// ------------------------------------------------------------------ stats API

async function api(pathAndQuery) {
    const r = await fetch(DASH + pathAndQuery, { headers: { Authorization: 'Bearer ' + TOKEN } });
    const text = await r.text();
    if (!r.ok) throw new Error(`${pathAndQuery}: HTTP ${r.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text);
}

// Yesterday and today (UTC, the test site's zone), so that a run across
// midnight still sees its hits.
function range() {
    const day = (ms) => new Date(ms).toISOString().slice(0, 10);
    const now = Date.now();
    return `period=custom&date=${day(now - 86400e3)},${day(now)}`;
}

const base = (site = SITE) => `site_id=${encodeURIComponent(site)}&${range()}`;

async function aggregate(site = SITE) {
    const r = await api(`/api/v1/stats/aggregate?${base(site)}` +
        '&metrics=visitors,visits,pageviews,bounce_rate');
    const out = {};
    for (const [k, v] of Object.entries(r.results)) out[k] = v.value;
    return out;
}

// {value: {metric: n}} for a breakdown by property.
async function breakdown(property, metrics, site = SITE) {
    const r = await api(`/api/v1/stats/breakdown?${base(site)}&property=${property}` +
        `&metrics=${metrics}&limit=1000`);
    const key = property.split(':')[1];
    const out = {};
    for (const row of r.results) {
        const { [key]: value, ...rest } = row;
        out[value] = rest;
    }
    return out;
}

const column = (rows, metric) =>
    Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v[metric]]).sort());
// The dashboard lists pages that were never an exit page as an "(other)"
// row of 0 exits; only pages where visits ended are compared.
const nonzero = (col) => Object.fromEntries(Object.entries(col).filter(([, v]) => v !== 0));

// Polls until the aggregator has folded what the browser sent: pageviews
// reach the expected count, and then hold still for a moment (nothing
// extra arrives late).
async function settle(pageviews, extra, site = SITE) {
    const deadline = Date.now() + 20000;
    let agg = null;
    while (Date.now() < deadline) {
        agg = await aggregate(site).catch(() => null);
        if (agg && agg.pageviews >= pageviews && (!extra || (await extra()))) {
            await sleep(1500);
            return aggregate(site);
        }
        await sleep(250);
    }
    return agg;
}

// ------------------------------------------------------------------ 1: with JavaScript

async function withJavaScript() {
    const log = { requests: [], responses: [] };
    const { ctx, dir } = await launch({ userAgent: UA_JS });
    // The documented test switch: haze.js ignores automated browsers otherwise.
    await ctx.addInitScript(() => {
        window.hazeAllowAutomation = true;
    });
    const realHide = await canReallyHide(ctx);
    await watchCollector(ctx, log);
    const page = ctx.pages()[0] || (await ctx.newPage());
    const visible = {}; // page path -> ms the browser showed it
    let cur = null;
    let since = 0;

    const arrived = (p) => {
        cur = p;
        since = Date.now();
    };
    const leaving = () => {
        visible[cur] = (visible[cur] || 0) + (Date.now() - since);
    };
    // A link that loads a new document.
    const follow = async (selector, p) => {
        await sleep(300);
        leaving();
        await Promise.all([page.waitForURL(DEMO + p, { waitUntil: 'load' }), page.click(selector)]);
        arrived(p);
    };
    // A view of the single-page designer (history.pushState, same document).
    const pushView = async (selector, p) => {
        await sleep(300);
        leaving();
        await page.click(selector);
        await page.waitForURL(DEMO + p);
        arrived(p);
    };

    const start = Date.now();
    await page.goto(DEMO + '/', { waitUntil: 'load' });
    arrived('/');
    await page.click('button[data-event="Signup"]');
    await page.waitForSelector('#signed', { state: 'visible' });
    await follow('a.button[href="/products"]', '/products');
    await follow('a.card[href="/products/business-cards"]', '/products/business-cards');
    await follow('#add-to-cart', '/cart');
    await follow('#to-checkout', '/checkout');
    await follow('nav a[href="/designer"]', '/designer');
    await pushView('[data-template="Bold"]', '/designer/preview');
    await pushView('#back-to-templates', '/designer');
    await follow('nav a[href="/about"]', '/about');
    await sleep(3000);
    const hidden = await hide(page, realHide);
    const aboutVisible = (visible['/about'] || 0) + (hidden.t - since);
    console.log(`     hid /about after ${aboutVisible} ms visible: ${hidden.how}`);

    same('no cookie, web storage or IndexedDB on the shop page', await storageOf(page), NO_STORAGE);
    await sleep(500); // the engagement beacon leaves
    await page.close({ runBeforeUnload: true });
    await sleep(300);
    same('no cookie in the browser (any origin)', await ctx.cookies(), []);
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });

    // What the tracker sent (a check of haze.js itself, before the pipeline).
    const sent = log.requests.map((r) => r.body).filter(Boolean);
    const sentViews = sent.filter((b) => b.n === 'pageview').map((b) => new URL(b.u).pathname);
    same('the tracker sent one pageview per page and view', sentViews,
        ['/', '/products', '/products/business-cards', '/cart', '/checkout', '/designer',
         '/designer/preview', '/designer', '/about']);
    same('the tracker sent the custom event', sent.filter((b) => b.n === 'Signup').length, 1);
    check('every collector answer was 2xx',
        log.responses.length > 0 && log.responses.every((r) => r.status >= 200 && r.status < 300),
        JSON.stringify(log.responses.filter((r) => r.status >= 300)));
    same('no collector answer sets a cookie', log.responses.filter((r) => r.cookie), []);

    // What the pipeline counted.
    const agg = await settle(9, async () => {
        const p = await breakdown('event:page', 'time_on_page_median').catch(() => ({}));
        return p['/about'] && p['/about'].time_on_page_median != null;
    });
    same('aggregate: one visitor, one visit, 9 pageviews, no bounce', agg,
        { visitors: 1, visits: 1, pageviews: 9, bounce_rate: 0 });
    const pages = await breakdown('event:page',
        'pageviews,time_on_page,time_on_page_median,time_on_page_mean');
    same('pageviews per page', column(pages, 'pageviews'), {
        '/': 1, '/about': 1, '/cart': 1, '/checkout': 1, '/designer': 2, '/designer/preview': 1,
        '/products': 1, '/products/business-cards': 1,
    });
    same('entry page', column(await breakdown('visit:entry_page', 'visits'), 'visits'), { '/': 1 });
    same('exit page', nonzero(column(await breakdown('visit:exit_page', 'visits'), 'visits')),
        { '/about': 1 });
    const dur = await api(`/api/v1/stats/aggregate?${base()}&metrics=visit_duration`);
    const walked = hidden.t - start;
    console.log(`     visit_duration ${dur.results.visit_duration.value} s, walk ${walked} ms`);
    check('visit duration within a second of the walk (first page to hide)',
        Math.abs(dur.results.visit_duration.value * 1000 - walked) <= 1000,
        `visit_duration ${dur.results.visit_duration.value} s, walk ${walked} ms`);
    const tp = pages['/about'] ? pages['/about'].time_on_page_median : null;
    // Plausible's time_on_page: engaged time per visitor of the page (one here).
    const tpp = pages['/about'] ? pages['/about'].time_on_page : null;
    check('time_on_page (Plausible: engaged time per visitor) within a second of the visible time',
        tpp != null && Math.abs(tpp * 1000 - aboutVisible) <= 1000,
        `time_on_page ${tpp} s, visible ${aboutVisible} ms`);
    const tm = pages['/about'] ? pages['/about'].time_on_page_mean : null;
    console.log(`     time_on_page(/about) median ${tp} s (log-scale histogram), ` +
        `mean ${tm} s, visible ${aboutVisible} ms`);
    check('engaged time on /about within a second of the time it was visible',
        tm != null && Math.abs(tm * 1000 - aboutVisible) <= 1000,
        `time_on_page_mean ${tm} s, visible ${aboutVisible} ms`);
    check('the median time on /about is the histogram bucket of that time',
        tp != null && Math.abs(tp * 1000 - aboutVisible) <= Math.max(1000, aboutVisible / 2),
        `time_on_page_median ${tp} s, visible ${aboutVisible} ms`);
    same('custom event', column(await breakdown('event:name', 'events'), 'events'), { Signup: 1 });
    same('browser', column(await breakdown('visit:browser', 'visitors'), 'visitors'), { Chrome: 1 });

    const f = await api(`/api/v1/funnels?${base()}&funnel=checkout`);
    const fun = (f.results || []).find((x) => x.funnel === 'checkout');
    same('funnel checkout: steps reached', fun ? fun.steps.map((s) => s.visitors) : null,
        [1, 1, 1, 0]);
}

// ------------------------------------------------------------------ 2: without JavaScript

async function withoutJavaScript() {
    const log = { requests: [], responses: [] };
    const { ctx, dir } = await launch({ userAgent: UA_NOJS, javaScriptEnabled: false });
    await watchCollector(ctx, log);
    const page = ctx.pages()[0] || (await ctx.newPage());

    const [pixel] = await Promise.all([
        page.waitForResponse((r) => r.url().startsWith(COLLECTOR + '/p.gif'), { timeout: 10000 }),
        page.goto(DEMO + '/stores', { waitUntil: 'load' }),
    ]);
    same('the pixel answers 200', pixel.status(), 200);
    // A page that counts itself with haze.js cannot, without JavaScript.
    await page.goto(DEMO + '/products', { waitUntil: 'load' });
    await sleep(500);
    same('no cookie in the browser without JavaScript', await ctx.cookies(), []);
    same('no collector answer sets a cookie (pixel)', log.responses.filter((r) => r.cookie), []);
    same('without JavaScript only the pixel reached the collector',
        log.requests.map((r) => new URL(r.url).pathname), ['/p.gif']);
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });

    const agg = await settle(10);
    same('aggregate: the pixel visit is a second visitor and a 10th pageview', agg,
        { visitors: 2, visits: 2, pageviews: 10, bounce_rate: 50 });
    const pages = column(await breakdown('event:page', 'pageviews'), 'pageviews');
    same('pixel page counted once', pages['/stores'], 1);
    same('the script page was not counted without JavaScript', pages['/products'], 1);
}

// ------------------------------------------------------------------ 3: load generator totals

// haze-loadgen plays a few thousand visits to a second site and prints
// what it sent; the dashboard must report exactly that.
async function loadgenTotals(bin, site) {
    const out = await new Promise((resolve, reject) => {
        execFile(bin, ['-u', COLLECTOR, '-S', site, '-n', '2000', '-c', '16', '-s', '7', '--totals'],
            { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
                process.stderr.write(stderr);
                if (err) reject(new Error(`haze-loadgen: ${err.message}`));
                else resolve(stdout);
            });
    });
    const t = JSON.parse(out);
    const agg = await settle(t.pageviews, null, site);
    same(`loadgen: ${t.visits} visits counted exactly`, agg, {
        visitors: t.visitors, visits: t.visits, pageviews: t.pageviews,
        bounce_rate: Math.round((100 * t.bounces) / t.visits),
    });
    const col = async (prop, metric) => nonzero(column(await breakdown(prop, metric, site), metric));
    const sorted = (o) => Object.fromEntries(Object.entries(o).sort());
    same('loadgen: pageviews per page', await col('event:page', 'pageviews'), sorted(t.pages));
    same('loadgen: entry pages', await col('visit:entry_page', 'visits'), sorted(t.entry_pages));
    same('loadgen: exit pages', await col('visit:exit_page', 'visits'), sorted(t.exit_pages));
    // The dashboard names the empty source (no referrer) as Plausible does.
    const sources = Object.fromEntries(Object.entries(t.sources)
        .map(([k, v]) => [k === '' ? 'Direct / None' : k, v]));
    same('loadgen: sources', await col('visit:source', 'visits'), sorted(sources));
    same('loadgen: utm campaigns', await col('visit:utm_campaign', 'visits'),
        sorted(t.utm_campaign));
    same('loadgen: regions', await col('visit:region', 'visitors'), sorted(t.regions));
    same('loadgen: countries', await col('visit:country', 'visitors'), sorted(t.countries));
    same('loadgen: browsers', await col('visit:browser', 'visitors'), sorted(t.browsers));
    same('loadgen: operating systems', await col('visit:os', 'visitors'), sorted(t.os));
    same('loadgen: devices', await col('visit:device', 'visitors'), sorted(t.devices));
    same('loadgen: custom events', await col('event:name', 'events'), sorted(t.events));
    const f = await api(`/api/v1/funnels?${base(site)}&funnel=checkout`);
    const fun = (f.results || []).find((x) => x.funnel === 'checkout');
    same('loadgen: funnel steps reached', fun ? fun.steps.map((s) => s.visitors) : null,
        t.funnel.reached);
    // The collector reports drops in batches, a little later than the hits.
    let drops = {};
    for (const deadline = Date.now() + 20000; Date.now() < deadline; await sleep(250)) {
        const filtered = await api(`/api/v1/filtered?${base(site)}`);
        drops = Object.fromEntries((filtered.results || []).map((r) => [r.reason, r.events]));
        if (drops.bot >= t.bots_sent && drops.dnt >= t.dnt_sent) break;
    }
    same('loadgen: bots and DNT/GPC hits filtered, each counted as a drop',
        { bot: drops.bot, dnt: drops.dnt }, { bot: t.bots_sent, dnt: t.dnt_sent });
}

// ------------------------------------------------------------------ main

try {
    await withJavaScript();
    await withoutJavaScript();
    if (process.env.HZ_E2E_LOADGEN) {
        await loadgenTotals(process.env.HZ_E2E_LOADGEN, env('HZ_E2E_LOADGEN_SITE'));
    }
} catch (e) {
    check('the test ran to the end', false, e && e.stack ? e.stack : String(e));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
