// Browser tests of the three pages against a running `hazardline serve
// --demo`, in headless Chromium driven by playwright-core:
//
//   node web/tests/run.mjs http://127.0.0.1:PORT
//
// Environment: HAZARDLINE_TEST_OPERATOR=user:password (an operator account
// of that server; the walk creates its own issuer through the API),
// CHROMIUM (default /usr/bin/chromium). Screenshots of failures go to
// web/test-results/. Prints "N passed, N failed" and exits 1 on a failure.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { residentSubscribes, residentSeesAlert, residentDeletesData } from './resident.mjs';
import { issuerSendsAlert } from './console.mjs';
import { ApiClient } from './client.mjs';

const base = process.argv[2];
if (!base) {
  console.error('usage: node web/tests/run.mjs BASE_URL');
  process.exit(2);
}
const [operatorUser, operatorPassword] = (process.env.HAZARDLINE_TEST_OPERATOR || '').split(/:(.*)/s);
if (!operatorUser || !operatorPassword) {
  console.error('HAZARDLINE_TEST_OPERATOR=user:password is required');
  process.exit(2);
}

const results = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
mkdirSync(results, { recursive: true });

// playwright-core gives every launch a fresh temporary profile
// (--user-data-dir) of its own and removes it on close.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

let passed = 0;
let failed = 0;
const pageErrors = [];

// The devices people use: residents a phone, staff a desktop browser.
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1400, height: 1000 } };

// Each step gets its own browser context (its own storage), as a separate
// person on a separate device.
async function newPage(name, device) {
  const context = await browser.newContext({ baseURL: base, ...device });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${name} console: ${message.text()}`);
  });
  return page;
}

async function step(name, run) {
  const started = Date.now();
  try {
    await run();
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}: ${error.stack || error}`);
  }
}

async function screenshotOnFailure(page, name, run) {
  try {
    await run();
  } catch (error) {
    await page.screenshot({ path: join(results, `${name}.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}

try {
  const api = new ApiClient(base);
  const issuer = await api.createIssuer(operatorUser, operatorPassword);
  const resident = await newPage('resident', PHONE);
  const consolePage = await newPage('console', DESKTOP);
  let sent = null;

  await step('resident subscribes by address', () =>
    screenshotOnFailure(resident, 'resident-subscribe', () => residentSubscribes(resident)));
  await step('issuer draws a polygon, previews, sends and sees progress', () =>
    screenshotOnFailure(consolePage, 'console-send', async () => {
      sent = await issuerSendsAlert(consolePage, issuer);
    }));
  await step('resident receives the alert in my alerts', () =>
    screenshotOnFailure(resident, 'resident-alert', () => {
      if (!sent) throw new Error('no alert was sent');
      return residentSeesAlert(resident, sent);
    }));
  await step('the resident page fits a phone screen (no sideways scrolling)', async () => {
    const { scrollWidth, innerWidth } = await resident.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    if (innerWidth !== PHONE.viewport.width) throw new Error(`viewport is ${innerWidth} px wide, not a phone's`);
    if (scrollWidth > innerWidth) throw new Error(`the page is ${scrollWidth} px wide on a ${innerWidth} px screen`);
  });
  await step('resident deletes their data', () =>
    screenshotOnFailure(resident, 'resident-delete', () => residentDeletesData(resident)));
  await step('no script errors on any page', async () => {
    if (pageErrors.length) throw new Error(pageErrors.join('\n'));
  });
} catch (error) {
  failed += 1;
  console.log(`FAIL setup: ${error.stack || error}`);
} finally {
  await browser.close();
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
