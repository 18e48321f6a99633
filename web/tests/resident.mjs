// The resident page walk: subscribe by address in the demo region, see the
// issuer's alert arrive in "My alerts", delete every trace of my data.

import assert from 'node:assert/strict';

// A gazetteer address of the demo region: 海豐里, 雲港鎮, 霧島縣 (99000).
export const ADDRESS = '霧島縣雲港鎮海豐里中山路1號';

export async function residentSubscribes(page) {
  await page.goto('/');
  await page.locator('#subscribe').waitFor({ state: 'visible' });
  await page.locator('#place-address').fill(ADDRESS);
  await page.getByRole('button', { name: 'Check address' }).click();
  // The geocoding preview names the village before anything is stored.
  await page.locator('#geocode-result').getByText('海豐里').first().waitFor();
  await page.locator('#sub-locale').selectOption('en');
  await page.locator('#channel').selectOption('email');
  await page.locator('#channel-address').fill('resident@example.invalid');
  await page.locator('#sub-exercises').check();
  await page.getByRole('button', { name: 'Subscribe', exact: true }).click();
  await page.locator('#mine').waitFor({ state: 'visible' });
  await page.locator('#my-places').getByText('海豐里').waitFor();
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('hazardline.device')));
  assert.ok(saved && saved.key && saved.id, 'the device key is kept in localStorage');
}

// `sent` is { alertId, headline } from the console walk.
export async function residentSeesAlert(page, sent) {
  // Polling every few seconds (and the live stream) bring it in without a
  // reload. The message itself is written by the service in the resident's
  // language, so the alert is found by its id.
  const item = page.locator(`#my-alerts li.alert[data-alert-id="${sent.alertId}"]`);
  await item.waitFor({ timeout: 30000 });
  const text = await item.innerText();
  assert.match(text, /EXERCISE/, 'an exercise is marked as one');
  assert.match(text, /Orange/, 'the level is written out, not only coloured');
  assert.match(text, /Debris flow/, 'the hazard is named');
  assert.equal(await item.locator('h3').getAttribute('lang'), 'en', 'the message is marked with its language');
}

export async function residentDeletesData(page) {
  await page.getByRole('button', { name: 'Delete my data…' }).click();
  await page.getByRole('button', { name: 'Yes, delete everything' }).click();
  await page.locator('#subscribe').waitFor({ state: 'visible' });
  await page.getByText('Your data has been deleted').waitFor();
  const saved = await page.evaluate(() => localStorage.getItem('hazardline.device'));
  assert.equal(saved, null, 'the device key is forgotten');
}
