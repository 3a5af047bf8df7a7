// SPDX-License-Identifier: MIT
// tests/e2e/plausible-tracker.mjs - the older official tracker package
// (`plausible-tracker` on npm, the version pinned in tests/e2e/tracker/,
// installed by run.sh into build/e2e-tracker, never committed) against the
// real collector, aggregator and dashboard that run.sh started.
//
// The package is run as published (its CommonJS build) with the globals it
// reads (location, document, window) and an XMLHttpRequest that sends what
// it is given over real HTTP with a browser's User-Agent. It sends props as
// a JSON string, which haze must take as Plausible does. Then the Stats API
// must show the pageviews, the custom event, the allow-listed prop and the
// dropped one.
import { createRequire } from 'node:module';

const COL = process.env.HZ_E2E_COLLECTOR, DASH = process.env.HZ_E2E_DASHBOARD;
const TOKEN = process.env.HZ_E2E_TOKEN, MODULES = process.env.HZ_TRACKER_MODULES;
const SITE = process.env.HZ_TRACKER_SITE || 'tracker.example';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    'Chrome/131.0.0.0 Safari/537.36';

let passed = 0, failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
  }
};
const same = (name, got, want) =>
  check(name, JSON.stringify(got) === JSON.stringify(want),
        `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);

const sent = [];
class ForwardingXHR {
  open(method, url) { this.method = method; this.url = url; this.headers = {}; }
  setRequestHeader(k, v) { this.headers[k] = v; }
  send(body) {
    sent.push(fetch(this.url, { method: this.method, body,
                                headers: { ...this.headers, 'User-Agent': UA } })
      .then(async (r) => {
        this.readyState = 4;
        if (this.onreadystatechange) this.onreadystatechange();
        return { status: r.status, text: await r.text(), body: JSON.parse(body) };
      }));
  }
}
globalThis.location = new URL(`https://${SITE}/pricing?utm_source=newsletter`);
globalThis.document = { referrer: 'https://search.example/results' };
globalThis.window = { innerWidth: 1440, navigator: {}, location: globalThis.location,
                      document: globalThis.document };
globalThis.XMLHttpRequest = ForwardingXHR;

const require = createRequire(`${MODULES}/`);
const version = require('plausible-tracker/package.json').version;
const Plausible = require('plausible-tracker').default;
const { trackPageview, trackEvent } = Plausible({ domain: SITE, apiHost: COL });
// One at a time, as a page sends them: the visit's source comes from its
// first hit, so the requests must reach the collector in this order.
trackPageview();
await sent[0];
trackEvent('Signup', { props: { plan: 'Pro', coupon: 'SECRET-COUPON' } });
await sent[1];
trackPageview({ url: `https://${SITE}/thanks` });
const answers = await Promise.all(sent);
console.log(`     plausible-tracker ${version}: ${answers.length} requests`);
same('every request was accepted (202)', answers.map((a) => a.status), [202, 202, 202]);
same('what the package sends', answers.map((a) => Object.keys(a.body).sort()),
     [['d', 'h', 'n', 'r', 'u', 'w'], ['d', 'h', 'n', 'p', 'r', 'u', 'w'], ['d', 'h', 'n', 'r', 'u', 'w']]);
check('props go as a JSON string', typeof answers[1].body.p === 'string', typeof answers[1].body.p);

// The Stats API, once the aggregator has caught up.
const api = async (path) => {
  const r = await fetch(`${DASH}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};
const base = `site_id=${SITE}&period=day`;
let agg;
for (let i = 0; i < 100; i++) {
  agg = await api(`/api/v1/stats/aggregate?${base}&metrics=visitors,pageviews,events`)
    .catch(() => null);
  if (agg && agg.results.events.value >= 3) break;
  await new Promise((r) => setTimeout(r, 100));
}
same('aggregate: 1 visitor, 2 pageviews, 3 events (pageviews + the custom event)',
     agg && agg.results, { visitors: { value: 1 }, pageviews: { value: 2 }, events: { value: 3 } });
const plan = await api(`/api/v1/stats/breakdown?${base}&property=event:props:plan` +
                       '&metrics=visitors,events');
same('the allow-listed prop is a property', plan.results, [{ plan: 'Pro', visitors: 1, events: 1 }]);
const src = await api(`/api/v1/stats/breakdown?${base}&property=visit:source`);
same('utm_source from the page URL', src.results.map((r) => r.source), ['newsletter']);
const filtered = await api(`/api/v1/filtered?${base}`);
const dropped = filtered.results.find((r) => r.reason === 'prop_not_allowed');
same('the other prop was dropped and counted', dropped && dropped.events, 1);
const v2 = await fetch(`${DASH}/api/v2/query`, {
  method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ site_id: SITE, metrics: ['visitors'], date_range: 'day',
                         dimensions: ['event:goal'] }),
}).then((r) => r.json());
same('event:goal lists the custom event', v2.results, [{ dimensions: ['Signup'], metrics: [1] }]);

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
