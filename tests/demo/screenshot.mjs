// SPDX-License-Identifier: MIT
// screenshot.mjs - a full-page screenshot of the dashboard of a running
// `make run` (logs in with run/haze.ini's token, shows "Today"), as in the
// README. Uses the playwright-core that `make check` installs in build/e2e
// and Debian's Chromium.
//
//   node tests/demo/screenshot.mjs [OUT.png] [DASHBOARD_URL]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const out = process.argv[2] || 'dashboard.png';
const url = process.argv[3] || 'http://127.0.0.1:8081/';
const ini = readFileSync(path.join(root, 'run/haze.ini'), 'utf8');
const token = (ini.match(/^token\s*=\s*(\S+)/m) || [])[1];
if (!token) {
    console.error('screenshot: no token in run/haze.ini (start `make run` first)');
    process.exit(1);
}
const { chromium } = createRequire(path.join(root, 'build/e2e/node_modules/x.js'))('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
                                        args: ['--no-sandbox', '--disable-gpu'] });
try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await page.goto(url);
    await page.fill('#token', token);
    await Promise.all([page.waitForLoadState('load'), page.press('#token', 'Enter')]);
    await page.waitForSelector('#period');
    await page.selectOption('#period', 'day');
    await page.uncheck('input[type=checkbox]').catch(() => {});
    await page.waitForTimeout(2500);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`screenshot: wrote ${out}`);
} finally {
    await browser.close();
}
