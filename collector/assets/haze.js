/*
 * haze.js - haze's tracker (MIT). No cookies, web storage or IndexedDB.
 * <script defer data-domain="example.com" src="https://stats.example.com/haze.js">
 * data-domain: the site (default location.hostname); data-api: endpoint
 * (default /api/event beside this script); data-hash: "#/path" routes count.
 * Sends text/plain JSON {n, u (no #fragment unless data-hash), d, r, w}:
 * "pageview" on load and SPA navigation; "engagement", e = ms visible and
 * focused and sd = deepest scroll in % (as Plausible's), when the page is
 * hidden or left; NAME from haze('NAME').
 * Skips file: and automated browsers unless window.hazeAllowAutomation=true
 * is set before it runs (the test switch).
 */
(() => {
  const w = window, d = document, L = location, nav = navigator;
  if (w.haze && w.haze.hz) return; // included twice: the first copy counts
  const s = d.currentScript || d.querySelector('script[data-domain]');
  const on = (t, e, f) => t.addEventListener(e, f);
  const vis = () => d.visibilityState == 'visible';
  const now = () => performance.now();
  const set = (f) => (w.haze = Object.assign(f, { hz: 1 }));
  let api, q = (w.haze && w.haze.q) || [];

  set((...a) => q.push(a));
  try {
    api = s.getAttribute('data-api') || new URL('/api/event', s.src).href;
  } catch (x) {}
  if (!api || L.protocol == 'file:' ||
      ((nav.webdriver || w._phantom || w.__nightmare || w.Cypress) && w.hazeAllowAutomation !== true))
    return set((n, o) => o && o.callback && o.callback());

  const dom = s.getAttribute('data-domain') || L.hostname, hash = s.hasAttribute('data-hash');
  // The collector refuses a u or r over 2048 bytes: drop the query then.
  const cut = (x) => (x.length > 2048 ? x.split('?')[0].slice(0, 2048) : x);
  const url = () => cut(hash ? L.href : L.href.split('#')[0]);
  // The counted page (URL, path); engaged ms = acc + time since t0 (< 0:
  // paused); sent: its engagement went out.
  let cur, path, acc = 0, t0 = -1, sent, sd;
  // How far down the page has been seen, in % (undefined when unknown).
  const depth = () => {
    try {
      const de = d.documentElement, b = d.body;
      const h = Math.max(de.scrollHeight, de.offsetHeight, b ? b.scrollHeight : 0);
      const v = Math.round(((w.scrollY || de.scrollTop || 0) + w.innerHeight) / h * 100);
      return v >= 0 ? Math.min(v, 100) : undefined;
    } catch (x) {}
  };
  const deeper = () => {
    const v = depth();
    if (v >= 0 && !(sd >= v)) sd = v;
  };

  const send = (n, u, e, sd) => {
    const j = JSON.stringify({ n, u, d: dom, r: cut(d.referrer) || null, w: w.innerWidth,
                               h: hash ? 1 : undefined, e, sd });
    try {
      if (nav.sendBeacon(api, new Blob([j], { type: 'text/plain' }))) return;
    } catch (x) {}
    fetch(api, { method: 'POST', body: j, keepalive: true, credentials: 'omit',
                 headers: { 'Content-Type': 'text/plain' } }).catch(() => {});
  };
  const pause = () => {
    if (t0 >= 0) acc += now() - t0;
    t0 = -1;
  };
  const resume = () => {
    if (t0 < 0 && vis()) t0 = now();
  };
  // No second engagement of 0 ms for a page.
  const engage = () => {
    pause();
    const e = Math.min(Math.round(acc), 864e5);
    deeper();
    if (cur && (e || !sent)) {
      send('engagement', cur, e, sd);
      sent = 1;
    }
    acc = 0;
  };
  const page = (rep) => {
    const u = url(), p = L.pathname + (hash ? L.hash : '');
    if (u == cur || (rep && p == path)) return;
    engage();
    cur = u, path = p, sent = 0, sd = undefined;
    deeper();
    resume();
    send('pageview', u);
  };

  const start = () => {
    if (cur) return;
    for (const m of ['pushState', 'replaceState']) {
      const f = history[m];
      history[m] = function () {
        const r = f.apply(this, arguments);
        page(m[0] == 'r');
        return r;
      };
    }
    on(w, 'popstate', () => page());
    if (hash) on(w, 'hashchange', () => page());
    on(d, 'visibilitychange', () => (vis() ? resume() : engage()));
    on(w, 'pagehide', engage);
    on(w, 'blur', pause);
    on(w, 'focus', resume);
    w.addEventListener('scroll', deeper, { passive: true });
    page();
    set((n, o) => {
      if (n == 'pageview') page();
      else if (n && typeof n == 'string' && n != 'engagement') send(n, url());
      if (o && typeof o.callback == 'function') o.callback();
    });
    for (const a of q) w.haze(...a);
  };

  if (d.prerendering || d.visibilityState == 'prerender') {
    const go = () => vis() && !d.prerendering && start();
    on(d, 'visibilitychange', go);
    on(d, 'prerenderingchange', go);
  } else start();
})();
