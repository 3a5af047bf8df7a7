// dash.mjs - the dashboard in a real headless Chromium (playwright-core,
// /usr/bin/chromium; no browser is downloaded).
//
//   node tests/e2e/dash.mjs URL TOKEN OUTDIR
//
// Logs in through the form, then checks: headline numbers filled, the top
// pages table filled with the dataset's pages, funnel bars drawn with the
// biggest drop highlighted, a chart drawn (SVG paths), the path
// "/<img src=x onerror=alert(1)>" shown as text and never as an element,
// no dialog opened, no console error, no CSP violation. Saves screenshots
// (laptop and phone) under OUTDIR. Exit status 0 when every check passed.
//
// Over HTTPS (dash.sh serves it with a certificate made at test time;
// HZ_SPKI pins its key in Chromium): the page is https, HSTS is sent, the
// session cookie is Secure; the admin sees the Access log; logging out
// revokes the session on the server (the same cookie elsewhere is 401);
// a view token for one site (HZ_VIEWER) sees that site only and no log.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.HZ_PLAYWRIGHT_DIR || process.cwd(), 'x.js'));
const { chromium } = require('playwright-core');

const [url, token, outdir] = process.argv.slice(2);
const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'].concat(
    process.env.HZ_SPKI ? ['--ignore-certificate-errors-spki-list=' + process.env.HZ_SPKI] : []),
});
const https = url.startsWith('https:');
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('dialog', async (d) => { problems.push('dialog: ' + d.message()); await d.dismiss(); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));

  const first = await page.goto(url + '/');
  if (https) {
    check(await page.evaluate(() => location.protocol) === 'https:', 'the page is served over HTTPS');
    check(/max-age=\d+/.test(first.headers()['strict-transport-security'] || ''), 'HSTS is sent');
  }
  await page.waitForSelector('#login:not([hidden])');
  check(await page.isVisible('#token'), 'the login form shows before logging in');
  await page.fill('#token', 'not-the-token');
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  await page.waitForSelector('#login-error:not([hidden])');
  check(true, 'a wrong token shows the error');

  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  await page.waitForSelector('#app:not([hidden])');
  problems.length = 0; /* the 401s of the logged-out page are expected */
  if (https) {
    const sc = (await page.context().cookies()).find((c) => c.name === 'haze_session');
    check(sc && sc.secure && sc.httpOnly && sc.sameSite === 'Strict', 'the session cookie is Secure, HttpOnly, SameSite=Strict');
  }
  await page.waitForSelector('#kpis .kpi .value');
  await page.waitForSelector('#tables [data-card="Pages"] tbody tr');
  await page.waitForSelector('#funnel .step');
  await page.waitForSelector('#chart svg path.line-visitors');
  await page.waitForSelector('#paths .path-center');
  await page.waitForTimeout(500);

  const kpis = await page.$$eval('#kpis .kpi', (ks) => ks.map((k) => [k.dataset.metric, k.querySelector('.value').textContent]));
  check(kpis.length === 6, `six headline numbers (${kpis.map((k) => k.join('=')).join(', ')})`);
  check(kpis.every(([, v]) => v !== '–' && v !== ''), 'every headline number has a value');
  const changes = await page.$$eval('#kpis .change', (cs) => cs.length);
  check(changes === 6, 'each headline number shows its change');

  const pages = await page.$$eval('#tables [data-card="Pages"] tbody td.name', (tds) => tds.map((t) => t.textContent));
  check(pages.includes('/') && pages.includes('/products/business-cards') && pages.includes('/cart'),
    `top pages table filled (${pages.slice(0, 5).join(' | ')} ...)`);
  const xss = '/<img src=x onerror=alert(1)>';
  check(pages.includes(xss), 'the attacker-controlled path is listed as text');
  const imgs = await page.$$eval('main img', (e) => e.length);
  check(imgs === 0, 'no <img> element was created from tracked data');
  check(!problems.some((p) => p.startsWith('dialog')), 'no dialog opened');

  // Sorting: click the Pageviews header twice and read the order back.
  const card = '#tables [data-card="Pages"]';
  await page.click(`${card} th:nth-child(3) button`);
  const pv = await page.$$eval(`${card} tbody tr:not(.other) td:nth-child(3)`, (tds) => tds.map((t) => t.textContent));
  const nums = pv.map((s) => parseFloat(s.replace(/,/g, '')) * (s.endsWith('k') ? 1000 : 1));
  check(nums.every((v, i) => i === 0 || nums[i - 1] >= v), 'pageviews column sorts descending');
  const csv = await page.getAttribute(`${card} a.csv`, 'href');
  check(csv.includes('format=csv') && csv.startsWith('/api/v1/stats/breakdown?'), 'CSV export link');
  const csvResp = await page.request.get(url + csv);
  const csvText = await csvResp.text();
  check(csvResp.status() === 200 && csvText.startsWith('page,visitors'), 'CSV export works with the session cookie');

  // Versions: a tab of the Technology card, and a drill-down into one
  // browser's versions after clicking the browser.
  const tech = '#tables [data-card="Technology"]';
  await page.click(`${tech} .tab:has-text("Browser versions")`);
  await page.waitForSelector(`${tech} tbody tr td.name`);
  const vers = await page.$$eval(`${tech} tbody td.name`, (tds) => tds.map((t) => t.textContent));
  check(vers.includes('Chrome 131') && vers.includes('Safari 18') && !vers.some((v) => /\d+\.\d/.test(v)),
    `browser versions listed as family and major (${vers.slice(0, 4).join(' | ')} ...)`);
  await page.click(`${tech} .tab:has-text("Browsers")`);
  await page.click(`${tech} tbody tr[data-value="Chrome"]`);
  await page.waitForTimeout(500);
  await page.click(`${tech} .tab:has-text("Browser versions")`);
  await page.waitForTimeout(800);
  const chromeVers = await page.$$eval(`${tech} tbody td.name`, (tds) => tds.map((t) => t.textContent));
  check(chromeVers.length > 0 && chromeVers.every((v) => v.startsWith('Chrome ') || v === '(other)'),
    `a browser's chip drills into its versions (${chromeVers.join(' | ')})`);
  if (await page.$('#chips .chip button')) await page.click('#chips .chip button');
  else await page.evaluate(() => { history.replaceState(null, '', location.pathname); document.dispatchEvent(new CustomEvent('haze:chip')); });
  await page.waitForTimeout(500);
  await page.click(`${tech} .tab:has-text("Browsers")`);
  await page.evaluate(() => window.scrollTo(0, 0)); /* the chart checks below hover by position */

  const steps = await page.$$eval('#funnel .step', (s) => s.length);
  check(steps === 4, `funnel shows 4 steps (${steps})`);
  const worst = await page.$$eval('#funnel .step.worst', (s) => s.map((x) => x.dataset.step));
  check(worst.length === 1, `one step is highlighted as the biggest drop (step ${worst[0]})`);
  const widths = await page.$$eval('#funnel .step-bar', (b) => b.map((x) => x.getBoundingClientRect().width));
  check(widths[0] > widths[1] && widths[1] > widths[3], 'funnel bars shrink step by step');

  const pathD = await page.getAttribute('#chart svg path.line-visitors', 'd');
  check(pathD && pathD.split('L').length > 20, 'the chart is drawn (a visitors line over the period)');
  const box = await page.$('#chart svg rect.overlay');
  const bb = await box.boundingBox();
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2);
  check(await page.isVisible('#chart-tip'), 'hovering the chart shows a tooltip');

  const came = await page.$$eval('#paths li', (l) => l.length);
  check(came > 0, 'paths show where visitors came from and went');
  const realtime = await page.textContent('#realtime-text');
  check(/last 5 minutes/.test(realtime), `realtime count shown (${realtime})`);
  const filtered = await page.$$eval('#filtered .reason', (r) => r.length);
  check(filtered >= 2, 'filtered traffic panel filled');

  // Switch to "Today": the chart becomes hourly.
  await page.selectOption('#period', 'day');
  await page.waitForTimeout(800);
  const hourly = await page.$$eval('#chart svg text.tick', (t) => t.map((x) => x.textContent));
  check(hourly.some((t) => /^\d\d:00$/.test(t)), 'a day is charted by hour');
  await page.selectOption('#period', '30d');
  await page.waitForTimeout(800);
  await page.mouse.move(0, 0);

  await page.screenshot({ path: path.join(outdir, 'dashboard.png'), fullPage: true });
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(url + '/');
  await phone.waitForSelector('#tables [data-card="Pages"] tbody tr');
  await phone.waitForSelector('#chart svg path.line-visitors');
  await phone.waitForTimeout(500);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
  await phone.screenshot({ path: path.join(outdir, 'dashboard-phone.png'), fullPage: true });
  await phone.screenshot({ path: path.join(outdir, 'dashboard-phone-top.png') });
  check(problems.length === 0, 'no console errors, CSP violations or dialogs' + (problems.length ? ': ' + problems.join('; ') : ''));

  // The admin's Access log: this session's login is in it.
  await page.waitForSelector('#audit-card:not([hidden]) .audit-table tbody tr');
  const audit = await page.$$eval('#audit .audit-table tbody tr', (trs) => trs.map((t) => t.textContent));
  check(audit.some((r) => r.includes('login') && r.includes('default')), `the Access log lists the login (${audit.length} rows)`);
  check(!audit.some((r) => r.includes('e2e-token-1234')), 'the Access log holds no token');

  // Logging out ends the session on the server: the phone's copy of the cookie is dead too.
  await Promise.all([page.waitForNavigation(), page.click('.logout button')]);
  await page.waitForSelector('#login:not([hidden])');
  const after = await phone.request.get(url + '/api/v1/sites');
  check(after.status() === 401, `the logged-out session is revoked (${after.status()})`);

  // A view token for blog.example: that site only, no access log.
  if (process.env.HZ_VIEWER) {
    const v = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await v.goto(url + '/');
    await v.waitForSelector('#login:not([hidden])');
    await v.fill('#token', process.env.HZ_VIEWER);
    await Promise.all([v.waitForNavigation(), v.click('#login button[type=submit]')]);
    await v.waitForSelector('#app:not([hidden])');
    await v.waitForSelector('#kpis .kpi .value');
    const sites = await v.$$eval('#site option', (o) => o.map((x) => x.value));
    check(JSON.stringify(sites) === '["blog.example"]', `the viewer's site list is its site only (${sites.join(', ')})`);
    await v.waitForTimeout(500);
    check(await v.isHidden('#audit-card'), 'no Access log for a view token');
    const other = await v.request.get(url + '/api/v1/stats/aggregate?site_id=printshop.example&period=day');
    check(other.status() === 401, `another site is 401 for the viewer (${other.status()})`);
  }
} finally {
  await browser.close();
}
console.log(failures.length ? `dash e2e: ${failures.length} check(s) failed` : 'dash e2e: all checks passed');
process.exit(failures.length ? 1 : 0);
