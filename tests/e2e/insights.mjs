// insights.mjs - issue 11's panels in a real headless Chromium
// (playwright-core, /usr/bin/chromium; no browser is downloaded).
//
//   node tests/e2e/insights.mjs URL TOKEN OUTDIR TODAY
//
// Over the hand-checked day of tests/e2e/insights_demo.c: the demand panel
// shows each group x region cell with its visitors and lift (1.50 for Cards
// in DE-BY, coloured as high demand), the heatmap puts the busiest cell at
// today's weekday 14:00, the goals panel shows conversion rates (20.0 %,
// 10.0 %); clicking a goal sets a chip kept in the URL, the sources panel
// then shows conversion by source (30.0 %, 13.3 %), the groups panel says
// which pair is missing, the heatmap says it cannot be filtered; the chip
// survives a reload and is removable. No console error, no CSP violation.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.HZ_PLAYWRIGHT_DIR || process.cwd(), 'x.js'));
const { chromium } = require('playwright-core');

const [url, token, outdir, today] = process.argv.slice(2);
const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) problems.push('response: ' + r.status() + ' ' + new URL(r.url()).pathname); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));

  await page.goto(url + '/');
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  await page.waitForSelector('#app:not([hidden])');
  problems.length = 0; /* the 401s of the logged-out page are expected */

  // Demand by region.
  await page.waitForSelector('#demand td.cell');
  const cell = async (region, group) => page.$eval(
    `#demand tr[data-region="${region}"] td[data-group="${group}"]`,
    (td) => ({ text: td.textContent, lift: td.dataset.lift, title: td.title, cls: td.className }));
  const c1 = await cell('DE-BY', 'Cards');
  check(c1.text === '30' && c1.lift === '1.5' && /lift 1\.50/.test(c1.title),
    `Cards x DE-BY: 30 visitors, lift 1.50 (${JSON.stringify(c1)})`);
  check(/lift-3|lift-4|lift-5/.test(c1.cls), 'a lift of 1.5 is coloured as high demand');
  const c2 = await cell('FR-IDF', 'Cards');
  check(c2.text === '5' && c2.lift === '0.42' && /lift-0/.test(c2.cls), `Cards x FR-IDF: lift 0.42, low (${JSON.stringify(c2)})`);
  const c3 = await cell('FR-IDF', 'Flyers');
  check(c3.text === '12' && c3.lift === '1.33', `Flyers x FR-IDF: 12 visitors, lift 1.33 (${JSON.stringify(c3)})`);
  const regions = await page.$$eval('#demand tbody tr', (t) => t.map((r) => r.dataset.region));
  check(regions.join(',') === 'DE-BY,FR-IDF,IT-21', `regions by visitors (${regions})`);

  // Heatmap: 7 x 24 cells, the busiest at today's weekday, 14:00.
  await page.waitForSelector('#heat .hc');
  const heat = await page.$$eval('#heat .hc', (cs) => cs.map((c) => [c.dataset.day, c.dataset.hour, Number(c.dataset.value)]));
  check(heat.length === 168, `168 heatmap cells (${heat.length})`);
  const wd = String(((Number(today) + 3) % 7) + 1);
  const hot = heat.filter((h) => h[2] > 0);
  check(hot.length === 2 && hot.some((h) => h[0] === wd && h[1] === '14' && h[2] === 30) &&
    hot.some((h) => h[0] === wd && h[1] === '9' && h[2] === 10), `visits at ${wd} 14:00 (30) and 09:00 (10): ${JSON.stringify(hot)}`);
  await page.selectOption('#heat-metric', 'pageviews');
  await page.waitForFunction(() => [...document.querySelectorAll('#heat .hc')].some((c) => c.dataset.value === '80'));
  check(true, 'the heatmap switches to pageviews (80 at 14:00)');

  // Goals with conversion rates.
  await page.waitForSelector('#goals tbody tr');
  const goals = await page.$$eval('#goals tbody tr', (t) => t.map((r) => [r.dataset.value, r.querySelector('[data-metric=conversion_rate]').textContent]));
  check(JSON.stringify(goals) === JSON.stringify([['Signup', '20.0%'], ['Visit /thanks*', '10.0%']]),
    `goals with conversion rates (${JSON.stringify(goals)})`);

  // Click to filter: the Signup goal.
  await page.click('#goals tr[data-value="Signup"]');
  await page.waitForSelector('#chips .chip');
  const chip = await page.textContent('#chips .chip');
  check(/event:goal is Signup/.test(chip), `a filter chip appears (${chip})`);
  check(decodeURIComponent(page.url()).includes('f=event:goal==Signup'), `the URL keeps the filter (${page.url()})`);
  // The headline numbers and the chart follow the chip: 20 visitors reached
  // Signup; goal rows keep no pageviews, so that card shows a dash.
  await page.waitForFunction(() => document.querySelector('#kpis [data-metric=visitors] .value')?.textContent === '20');
  const kp = await page.$eval('#kpis [data-metric=pageviews]', (k) => [k.querySelector('.value').textContent, k.title]);
  check(kp[0] === '–' && /Not kept per event:goal/.test(kp[1]), `KPIs follow the chip (pageviews ${JSON.stringify(kp)})`);
  const cnote = await page.textContent('#chart-note');
  check(/Filtered: event:goal is Signup/.test(cnote), `the chart says it is filtered (${cnote})`);
  await page.waitForSelector('#isources [data-metric=conversion_rate]');
  const conv = await page.$$eval('#isources tbody tr', (t) => t.map((r) => [r.dataset.value, r.querySelector('[data-metric=conversion_rate]').textContent]));
  check(JSON.stringify(conv) === JSON.stringify([['google.com', '30.0%'], ['Direct / None', '13.3%']]),
    `conversion by source for Signup (${JSON.stringify(conv)})`);
  await page.waitForSelector('#groups .pair-missing');
  const gmsg = await page.textContent('#groups .pair-missing');
  check(/No declared pair covers event:goal with event:group; add "crosstab = event:goal x event:group"/.test(gmsg), `an uncovered panel names the missing pair (${gmsg})`);
  const hmsg = await page.textContent('#heat');
  check(/cannot be filtered/.test(hmsg), 'the heatmap says it cannot be filtered');

  // The chip survives a reload (the URL), then is removed.
  await page.reload();
  await page.waitForSelector('#chips .chip');
  check(true, 'the chip is restored from the URL');
  await page.screenshot({ path: path.join(outdir, 'insights.png'), fullPage: true });
  await page.click('#chips .chip button');
  await page.waitForSelector('#heat .hc');
  check(!(await page.$('#chips .chip')) && !decodeURIComponent(page.url()).includes('f='), 'the chip is removable');

  // A region click filters the demand panel to that region.
  await page.click('#demand tr[data-region="IT-21"] button');
  await page.waitForFunction(() => document.querySelectorAll('#demand tbody tr').length === 1);
  const only = await page.$$eval('#demand tbody tr', (t) => t.map((r) => r.dataset.region));
  check(only.join() === 'IT-21', 'clicking a region filters the demand panel to it');

  // Funnels by segment: the note names mobile; a click on the mobile row of
  // the Devices table filters the funnel to that segment.
  await page.click('#chips .chip button');
  await page.waitForSelector('#funnel .funnel-summary');
  const summary = await page.textContent('#funnel .funnel-summary');
  check(/drops most for visit:device mobile \(80\.0%\)/.test(summary), `the biggest drop names the segment (${summary})`);
  await page.click('#tables [data-card="Technology"] button.tab:has-text("Devices")');
  await page.click('#tables [data-card="Technology"] tr[data-value="mobile"]');
  await page.waitForSelector('#funnel .funnel-segment');
  const segSteps = await page.$$eval('#funnel .step strong:first-child', (s) => s.map((x) => x.textContent));
  const segText = await page.textContent('#funnel .funnel-segment');
  check(/visit:device is mobile/.test(segText) && segSteps[0] === '20',
    `the funnel filtered by device (${segText}: ${segSteps.slice(0, 3)})`);
  await page.waitForFunction(() => document.querySelector('#kpis [data-metric=visitors] .value')?.textContent === '40');
  const kv = await page.$eval('#kpis [data-metric=visits] .value', (v) => v.textContent);
  check(kv === '44', `KPIs for visit:device mobile: 40 visitors, 44 visits (${kv})`);
  const chip2 = await page.textContent('#chips .chip');
  check(/visit:device is mobile/.test(chip2), 'a table row click sets the chip too');
  const pagesMsg = await page.textContent('#tables [data-card="Pages"]');
  check(/No declared pair covers visit:device with event:page/.test(pagesMsg), 'an uncovered table says so instead of unfiltered numbers');

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(url + '/');
  await phone.waitForSelector('#demand td.cell');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
  check(problems.length === 0, 'no console errors or CSP violations' + (problems.length ? ': ' + problems.join('; ') : ''));
} finally {
  await browser.close();
}
console.log(failures.length ? `insights e2e: ${failures.length} check(s) failed` : 'insights e2e: all checks passed');
process.exit(failures.length ? 1 : 0);
