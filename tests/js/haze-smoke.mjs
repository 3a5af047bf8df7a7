// SPDX-License-Identifier: MIT
//
// haze-smoke.mjs - runs collector/assets/haze.js in a fake, minimal
// window/document/navigator (node:vm, no npm packages) and checks what it
// sends: the pageview on load, SPA pageviews, engagement time from a fake
// clock, custom events and the pre-load queue, the automation switch, and
// that it never touches document.cookie, localStorage, sessionStorage or
// indexedDB (they are getters that record and throw).
//
//   node tests/js/haze-smoke.mjs      prints "N passed, N failed"; exit 1 on failure
import { readFileSync } from 'node:fs';
import { deepStrictEqual as eq } from 'node:assert/strict';
import vm from 'node:vm';

const SRC = readFileSync(new URL('../../collector/assets/haze.js', import.meta.url), 'utf8');

// A fresh fake browser that has loaded haze.js. opts: url, src, attrs (script
// attributes on top of data-domain), noDomain, referrer, vis (visibilityState),
// prerendering, webdriver, beacon (false: no sendBeacon), init(win) (runs
// before the script, like Playwright's addInitScript).
function browser(opts = {}) {
  const sent = [], touched = [], lw = {}, ld = {};
  let clock = 5000;
  const loc = {};
  const setUrl = (u) => {
    const x = new URL(u, loc.href);
    Object.assign(loc, { href: x.href, protocol: x.protocol, hostname: x.hostname,
                         pathname: x.pathname, search: x.search, hash: x.hash });
  };
  setUrl(opts.url || 'http://localhost:8080/a?x=1#top');
  const listen = (tbl) => (type, f) => (tbl[type] ||= []).push(f);
  const fire = (tbl, type) => (tbl[type] || []).forEach((f) => f({ type }));
  const attrs = { 'data-domain': 'example.com', ...opts.attrs };
  if (opts.noDomain) delete attrs['data-domain'];
  const script = {
    src: opts.src ?? 'http://localhost:8080/haze.js',
    getAttribute: (n) => (n in attrs ? attrs[n] : null),
    hasAttribute: (n) => n in attrs,
  };
  const document = {
    currentScript: script, referrer: opts.referrer ?? '', visibilityState: opts.vis || 'visible',
    prerendering: opts.prerendering, addEventListener: listen(ld), querySelector: () => script,
  };
  const trap = (obj, name) => Object.defineProperty(obj, name, {
    get() { touched.push(name); throw new Error(`haze.js read ${name}`); },
    set() { touched.push(name); throw new Error(`haze.js wrote ${name}`); },
  });
  trap(document, 'cookie');
  // opts.scroll: a page of height h whose window is vh high, scrolled to y.
  if (opts.scroll) {
    document.documentElement = { scrollHeight: opts.scroll.h, offsetHeight: opts.scroll.h, scrollTop: 0 };
  }
  class Blob {
    constructor(parts, o) { this.text = parts.join(''); this.type = o && o.type; }
  }
  const navigator = { webdriver: !!opts.webdriver };
  if (opts.beacon !== false) {
    navigator.sendBeacon = (url, blob) => {
      sent.push({ via: 'beacon', url, type: blob.type, raw: blob.text, body: JSON.parse(blob.text) });
      return true;
    };
  }
  const win = {
    document, navigator, location: loc, Blob, URL, innerWidth: 1280,
    innerHeight: opts.scroll ? opts.scroll.vh : undefined, scrollY: opts.scroll ? opts.scroll.y : undefined,
    performance: { now: () => clock },
    history: { pushState: (s, t, u) => setUrl(u), replaceState: (s, t, u) => setUrl(u) },
    addEventListener: listen(lw),
    fetch: (url, o) => {
      sent.push({ via: 'fetch', url, opts: o, raw: o.body, body: JSON.parse(o.body) });
      return Promise.resolve({});
    },
  };
  for (const k of ['localStorage', 'sessionStorage', 'indexedDB']) trap(win, k);
  win.window = win;
  vm.createContext(win);
  if (opts.init) vm.runInContext(`(${opts.init})(window)`, win);
  vm.runInContext(SRC, win, { filename: 'haze.js' });
  return {
    win, sent, touched,
    tick: (ms) => { clock += ms; },
    visibility: (v) => { document.visibilityState = v; fire(ld, 'visibilitychange'); },
    prerendered: () => { document.prerendering = false; fire(ld, 'prerenderingchange'); },
    fireWin: (type) => fire(lw, type),
    goBack: (u) => { setUrl(u); fire(lw, 'popstate'); },
    names: () => sent.map((s) => s.body.n),
  };
}

const PV = { n: 'pageview', u: 'http://localhost:8080/a?x=1', d: 'example.com', r: null, w: 1280 };

let passed = 0, failed = 0;
function test(name, fn) {
  try {
    const b = fn();
    // Every test: no cookie or storage access, whatever else it checks.
    if (b && b.touched) eq(b.touched, [], 'touched cookie/storage');
    passed++;
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message.split('\n').slice(0, 6).join('\n')}`);
  }
}

test('pageview on load: endpoint, content type, exact JSON', () => {
  const b = browser();
  eq(b.sent.length, 1);
  eq(b.sent[0].url, 'http://localhost:8080/api/event');
  eq(b.sent[0].type, 'text/plain');
  eq(b.sent[0].raw,
     '{"n":"pageview","u":"http://localhost:8080/a?x=1","d":"example.com","r":null,"w":1280}');
  return b;
});

test('referrer is sent when present', () => {
  const b = browser({ referrer: 'https://www.google.com/' });
  eq(b.sent[0].body, { ...PV, r: 'https://www.google.com/' });
  return b;
});

test('pushState: engagement for the old page, then a pageview', () => {
  const b = browser();
  b.tick(1500);
  b.win.history.pushState({}, '', '/b');
  eq(b.sent.map((s) => s.body), [
    PV,
    { n: 'engagement', u: PV.u, d: 'example.com', r: null, w: 1280, e: 1500 },
    { ...PV, u: 'http://localhost:8080/b' },
  ]);
  return b;
});

test('pushState to the same URL is not counted twice', () => {
  const b = browser();
  b.win.history.pushState({}, '', '/a?x=1');
  b.win.history.pushState({}, '', '/a?x=1#section');
  eq(b.names(), ['pageview']);
  return b;
});

test('replaceState counts only when the path changes', () => {
  const b = browser();
  b.win.history.replaceState({}, '', '/a?x=2');
  eq(b.names(), ['pageview']);
  b.tick(10);
  b.win.history.replaceState({}, '', '/c');
  eq(b.names(), ['pageview', 'engagement', 'pageview']);
  eq(b.sent[2].body.u, 'http://localhost:8080/c');
  return b;
});

test('popstate counts the page navigated back to', () => {
  const b = browser();
  b.win.history.pushState({}, '', '/b');
  b.goBack('/a?x=1');
  eq(b.sent.filter((s) => s.body.n == 'pageview').map((s) => s.body.u),
     [PV.u, 'http://localhost:8080/b', PV.u]);
  return b;
});

test('hidden sends engagement with e > 0, once; shown again accumulates anew', () => {
  const b = browser();
  b.tick(2000);
  b.visibility('hidden');
  eq(b.sent[1].body, { n: 'engagement', u: PV.u, d: 'example.com', r: null, w: 1280, e: 2000 });
  b.tick(60000);          // hidden time does not count
  b.fireWin('pagehide');  // nothing new: no second engagement of 0
  eq(b.names(), ['pageview', 'engagement']);
  b.visibility('visible');
  b.tick(700);
  b.visibility('hidden');
  eq(b.names(), ['pageview', 'engagement', 'engagement']);
  eq(b.sent[2].body.e, 700);
  return b;
});

test('pagehide sends the engagement', () => {
  const b = browser();
  b.tick(321);
  b.fireWin('pagehide');
  eq(b.sent[1].body.n, 'engagement');
  eq(b.sent[1].body.e, 321);
  return b;
});

test('blur pauses the engaged time, focus resumes it', () => {
  const b = browser();
  b.tick(1000);
  b.fireWin('blur');
  b.tick(5000);
  b.fireWin('focus');
  b.tick(500);
  b.visibility('hidden');
  eq(b.sent[1].body.e, 1500);
  return b;
});

test('a page loaded hidden counts a pageview and 0 engaged ms, once', () => {
  const b = browser({ vis: 'hidden' });
  b.tick(4000);
  b.fireWin('pagehide');
  b.fireWin('pagehide');
  eq(b.sent.map((s) => [s.body.n, s.body.e]), [['pageview', undefined], ['engagement', 0]]);
  return b;
});

test("haze('Signup') sends a custom event; its callback runs", () => {
  const b = browser();
  let called = 0;
  b.win.haze('Signup', { props: { plan: 'pro' }, callback: () => called++ });
  eq(b.sent[1].body, { ...PV, n: 'Signup' });
  eq(called, 1);
  return b;
});

test('calls queued before load are sent after the pageview', () => {
  const b = browser({
    init: (w) => {
      w.haze = w.haze || function () { (w.haze.q = w.haze.q || []).push(arguments); };
      w.haze('Early');
      w.haze('Second');
    },
  });
  eq(b.names(), ['pageview', 'Early', 'Second']);
  return b;
});

test('webdriver: nothing is sent, haze() only runs the callback', () => {
  const b = browser({ webdriver: true });
  let called = 0;
  b.win.haze('Signup', { callback: () => called++ });
  eq(called, 1);
  b.win.history.pushState({}, '', '/b');
  b.visibility('hidden');
  eq(b.sent, []);
  return b;
});

test('webdriver with window.hazeAllowAutomation = true: sends', () => {
  const b = browser({ webdriver: true, init: (w) => { w.hazeAllowAutomation = true; } });
  eq(b.sent.map((s) => s.body), [PV]);
  return b;
});

test('Cypress and PhantomJS are skipped too', () => {
  const c = browser({ init: (w) => { w.Cypress = {}; } });
  const p = browser({ init: (w) => { w._phantom = {}; } });
  eq(c.sent.length + p.sent.length, 0);
  return c;
});

test('file: URLs are skipped; localhost is counted', () => {
  const f = browser({ url: 'file:///tmp/page.html', src: 'file:///tmp/haze.js' });
  eq(f.sent, []);
  const l = browser({ url: 'http://127.0.0.1/', src: 'http://127.0.0.1:9000/haze.js' });
  eq(l.sent.map((s) => [s.url, s.body.u]), [['http://127.0.0.1:9000/api/event', 'http://127.0.0.1/']]);
  return l;
});

test('prerender: no pageview until the page is shown', () => {
  const b = browser({ vis: 'prerender' });
  eq(b.sent, []);
  b.visibility('visible');
  eq(b.names(), ['pageview']);
  b.visibility('visible');
  eq(b.names(), ['pageview']);
  const p = browser({ prerendering: true, vis: 'hidden' });
  eq(p.sent, []);
  p.prerendered();
  eq(p.sent, []);
  p.visibility('visible');
  eq(p.names(), ['pageview']);
  return b;
});

test('data-api overrides the endpoint', () => {
  const b = browser({ attrs: { 'data-api': 'https://collect.example.net/api/event' } });
  eq(b.sent[0].url, 'https://collect.example.net/api/event');
  return b;
});

test('data-hash: hash routes are pages, u keeps the hash, h is 1', () => {
  const b = browser({ url: 'http://localhost:8080/app#/home', attrs: { 'data-hash': '' } });
  eq(b.sent[0].body, { ...PV, u: 'http://localhost:8080/app#/home', h: 1 });
  b.tick(250);
  b.win.location.href = 'http://localhost:8080/app#/cart';
  b.win.location.hash = '#/cart';
  b.fireWin('hashchange');
  b.fireWin('popstate');  // browsers fire both; counted once
  eq(b.sent.map((s) => [s.body.n, s.body.u, s.body.e]), [
    ['pageview', 'http://localhost:8080/app#/home', undefined],
    ['engagement', 'http://localhost:8080/app#/home', 250],
    ['pageview', 'http://localhost:8080/app#/cart', undefined],
  ]);
  return b;
});

test('without sendBeacon: fetch with keepalive, text/plain, no credentials', () => {
  const b = browser({ beacon: false });
  eq(b.sent.length, 1);
  eq(b.sent[0].via, 'fetch');
  eq(b.sent[0].url, 'http://localhost:8080/api/event');
  const o = b.sent[0].opts;
  eq([o.method, o.keepalive, o.credentials, o.headers['Content-Type']],
     ['POST', true, 'omit', 'text/plain']);
  eq(b.sent[0].body, PV);
  return b;
});

test('over 2048 bytes, u and r lose their query', () => {
  const long = 'x'.repeat(2100);
  const b = browser({ url: `http://localhost:8080/a?q=${long}`,
                      referrer: `https://ref.example/p?q=${long}` });
  eq(b.sent[0].body, { ...PV, u: 'http://localhost:8080/a', r: 'https://ref.example/p' });
  return b;
});

test('included twice: counted once', () => {
  const b = browser();
  vm.runInContext(SRC, b.win);
  b.win.history.pushState({}, '', '/b');
  eq(b.names(), ['pageview', 'engagement', 'pageview']);
  return b;
});

test('data-domain defaults to location.hostname', () => {
  const b = browser({ noDomain: true });
  eq(b.sent.map((s) => s.body), [{ ...PV, d: 'localhost' }]);
  return b;
});

test('engagement carries the deepest scroll depth in %, as Plausible\'s tracker', () => {
  const b = browser({ scroll: { h: 4000, vh: 1000, y: 0 } });
  b.tick(1000);
  b.win.scrollY = 2000;        // 75 %
  b.fireWin('scroll');
  b.win.scrollY = 500;         // back up: the deepest point stays
  b.fireWin('scroll');
  b.visibility('hidden');
  eq(b.sent[1].body.n, 'engagement');
  eq(b.sent[1].body.sd, 75);
  // The next page starts from its own depth.
  b.visibility('visible');
  b.win.scrollY = 0;
  b.win.history.pushState({}, '', '/b');
  eq(b.sent[2].body.n, 'pageview');
  b.tick(500);
  b.visibility('hidden');
  eq(b.sent[3].body.sd, 25);
  // Unknown height (a fake document without one): no sd at all.
  const c = browser();
  c.tick(100);
  c.visibility('hidden');
  eq('sd' in c.sent[1].body, false);
  return b;
});

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
