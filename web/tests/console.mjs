// The issuer console walk: log in, draw a polygon around the resident's
// place in the demo region, preview the recipients, send, see progress.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

// Town 雲港鎮 (99000010) spans lon 123.00–123.10, lat 23.00–23.20; the
// resident's address lies at 123.02, 23.04, i.e. at 20 % of the width from
// the west and 80 % of the height from the north of the town's box.
const TOWN = '99000010';
const POLYGON = [[0.05, 0.6], [0.45, 0.6], [0.45, 0.95], [0.05, 0.95]];

export async function issuerSendsAlert(page, { username, password }) {
  await page.goto('/console');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.locator('#workspace').waitFor({ state: 'visible' });

  await page.locator('#map[data-loaded="true"]').waitFor();
  const town = page.locator(`path.area-${TOWN}`);
  const box = await town.boundingBox();
  assert.ok(box && box.width > 20 && box.height > 20, 'the town is drawn large enough to click');
  for (const [fx, fy] of POLYGON) {
    await page.mouse.click(box.x + fx * box.width, box.y + fy * box.height);
  }
  await page.locator('#area-summary').getByText('Polygon with 4 corners').waitFor();
  // Live counts follow the drawing.
  await page.locator('#live-count').getByText(/people would be reached/).waitFor();

  const headline = `演習：土石流警戒 ${randomBytes(3).toString('hex')}`;
  await page.locator('#exercise').check();
  await page.locator('#exercise-banner').waitFor({ state: 'visible' });
  await page.locator('#hazard').selectOption('debris_flow');
  await page.locator('#colour').selectOption('orange');
  await page.locator('#zh-headline').fill(headline);
  await page.locator('#zh-description').fill('霧島縣雲港鎮海豐里土石流警戒演習。');
  await page.locator('#zh-instruction').fill('請依指示前往避難處所。');
  await page.locator('#en-headline').fill(`Exercise: debris flow warning ${headline.slice(-6)}`);
  await page.locator('#en-description').fill('Debris flow warning exercise for Haifeng Village.');
  await page.locator('#en-instruction').fill('Go to the shelter as instructed.');

  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  const total = Number(await page.locator('#preview-total').innerText());
  assert.ok(total >= 1, `the preview counts the resident (got ${total})`);
  const villages = await page.locator('#preview-result tbody tr').count();
  assert.ok(villages >= 1, 'the preview lists recipients per village');

  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const sentLine = page.locator('#status', { hasText: 'Sent. Alert' });
  await sentLine.waitFor();
  const alertId = (await sentLine.innerText()).match(/Alert ([0-9a-f]{16})/)[1];

  const item = page.locator(`#active-alerts li[data-alert-id="${alertId}"]`);
  await item.waitFor({ timeout: 20000 });
  await item.getByText('EXERCISE').waitFor();
  await item.locator('.progress', { hasText: 'Deliveries:' }).waitFor();
  return { alertId, headline };
}
