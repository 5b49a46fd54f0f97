// "Already reported nearby?": a resident about to report a problem that is already on the map
// sees the existing report and adds their voice with one tap instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, fillReport, createReport, getReport, idFromTrackingUrl,
  reportsNear,
} from './harness.mjs';

let svc;
let browser;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

// ul. Floriańska, Stare Miasto.
const SPOT = [19.93975, 50.06330];

test('an open report nearby is suggested, and "me too" adds a supporter', { timeout: 120_000 }, async () => {
  const existing = await createReport(svc, {
    category: 'street_lighting', lon: SPOT[0], lat: SPOT[1], description: 'Latarnia nie świeci od tygodnia',
  });
  const id = String(existing.properties.id ?? existing.id);
  assert.equal(existing.properties.supporters, 1);

  const page = await openPage(browser, svc, '/');
  // About 5 m away from the existing report.
  await fillReport(page, { lon: SPOT[0] + 0.00005, lat: SPOT[1] + 0.00002, category: 'street_lighting', description: 'Ciemno' });
  const item = page.locator(`#nearby .nearby-item[data-report-id="${id}"]`);
  await item.waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await page.locator('#nearby-title').textContent(), /zgłosił/);
  assert.match(await item.locator('.nearby-desc').textContent(), /Latarnia nie świeci od tygodnia/);
  assert.match(await item.locator('.nearby-meta').textContent(), /\d+ m/);
  await item.scrollIntoViewIfNeeded();

  await item.locator('.btn-metoo').click();
  await page.waitForURL(new RegExp(`/r/${id}$`), { timeout: 30_000 });
  await page.locator('#report .report-card').waitFor();
  assert.ok(await page.locator('#track-banner').isVisible());
  assert.equal(await page.locator('#report .report-supporters').getAttribute('data-count'), '2');

  const after = await getReport(svc, id);
  assert.equal(after.properties.supporters, 2);
  // No new report was filed, and the draft is gone.
  const near = await reportsNear(svc, SPOT[0], SPOT[1]);
  assert.equal(near.filter((f) => f.properties.category === 'street_lighting').length, 1);
  assert.equal(await page.evaluate(() => localStorage.getItem('zglos.draft')), null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a different category at the same place is not suggested', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await fillReport(page, { lon: SPOT[0], lat: SPOT[1], category: 'graffiti', description: 'Napis na murze' });
  await page.waitForTimeout(1500);
  assert.ok(await page.locator('#nearby').isHidden());
  await page.context().close();
});

test('"me too" on the tracking page', { timeout: 90_000 }, async () => {
  const r = await createReport(svc, { category: 'litter', lon: 19.9420, lat: 50.0600, description: 'Przepełniony kosz' });
  const id = String(r.properties.id ?? r.id);
  const page = await openPage(browser, svc, `/r/${id}`);
  await page.locator('#report .btn-metoo').click();
  await page.waitForFunction(() => document.querySelector('#report .report-supporters')?.dataset.count === '2');
  assert.ok(await page.locator('#report .btn-metoo').isDisabled());
  assert.equal((await getReport(svc, id)).properties.supporters, 2);
  assert.equal(idFromTrackingUrl(page.url()), id);
  await page.context().close();
});
