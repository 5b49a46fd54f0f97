// Network trouble while sending: the draft is kept on the device and sent again with the same
// Idempotency-Key, so the city gets exactly one report. API errors are shown to the resident.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, fillReport, idFromTrackingUrl, reportsNear, waitForMapReady,
  clickMapAt, chooseCategory, photosSupported, createReport, gotoAndWait,
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

const isReportPost = (req) => req.method() === 'POST' && new URL(req.url()).pathname === '/api/v1/reports';

test('connection lost before the request arrives: draft kept across a reload, resent once', { timeout: 120_000 }, async () => {
  const spot = [19.9500, 50.0550];
  const page = await openPage(browser, svc, '/');
  const keys = [];
  let attempts = 0;
  await page.context().route('**/api/v1/reports', async (route) => {
    if (!isReportPost(route.request())) return route.fallback();
    attempts += 1;
    keys.push(route.request().headers()['idempotency-key']);
    if (attempts === 1) return route.abort('internetdisconnected');
    return route.fallback();
  });
  const description = 'Zapadnięta studzienka – wysłane przy zerwanym połączeniu';
  await fillReport(page, { lon: spot[0], lat: spot[1], category: 'water_sewer', description });
  await page.click('#btn-send');

  // The resident is told, and the draft waits on the device.
  await page.locator('#send-status[data-kind="warn"]').waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await page.locator('#send-status').textContent(), /połączenia/);
  assert.ok(await page.locator('#btn-retry').isVisible());
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('zglos.draft')));
  assert.equal(stored.pending, true);
  assert.equal(stored.description, description);
  assert.equal(stored.idempotencyKey, keys[0]);
  assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  // The phone loses the page (reload); the report is restored and sent again by itself.
  await page.reload();
  await waitForMapReady(page);
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  assert.ok(keys.length >= 2, 'sent again');
  assert.ok(keys.every((k) => k === keys[0]), `same Idempotency-Key on every try: ${keys.join(', ')}`);
  const near = (await reportsNear(svc, spot[0], spot[1])).filter((f) => f.properties.description === description);
  assert.equal(near.length, 1, 'exactly one report');
  assert.equal(String(near[0].properties.id ?? near[0].id), String(id));
  assert.equal(await page.evaluate(() => localStorage.getItem('zglos.draft')), null, 'draft cleared once sent');
  await page.context().close();
});

test('answer lost after the service saved the report: the retry does not file it twice', { timeout: 120_000 }, async () => {
  const spot = [19.9560, 50.0700];
  const page = await openPage(browser, svc, '/');
  const keys = [];
  let attempts = 0;
  await page.context().route('**/api/v1/reports', async (route) => {
    if (!isReportPost(route.request())) return route.fallback();
    attempts += 1;
    keys.push(route.request().headers()['idempotency-key']);
    if (attempts === 1) {
      // The request reaches the service, but the answer never reaches the phone.
      const res = await route.fetch();
      assert.equal(res.status(), 201);
      return route.abort('connectionreset');
    }
    return route.fallback();
  });
  const description = 'Śmieci przy przystanku – odpowiedź zgubiona w drodze';
  await fillReport(page, { lon: spot[0], lat: spot[1], category: 'litter', description });
  await page.click('#btn-send');
  await page.locator('#btn-retry').waitFor({ state: 'visible', timeout: 15_000 });
  await page.click('#btn-retry');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1]);
  const near = (await reportsNear(svc, spot[0], spot[1])).filter((f) => f.properties.description === description);
  assert.equal(near.length, 1, 'exactly one report');
  assert.equal(String(near[0].properties.id ?? near[0].id), String(id));
  await page.context().close();
});

test('a draft survives closing the form and reloading the page', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await fillReport(page, { lon: 19.9300, lat: 50.0650, category: 'graffiti', description: 'Szkic zgłoszenia' });
  const key = JSON.parse(await page.evaluate(() => localStorage.getItem('zglos.draft'))).idempotencyKey;
  await page.reload();
  await waitForMapReady(page);
  await page.locator('#view-report').waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('#description'), 'Szkic zgłoszenia');
  assert.ok(await page.locator('#category-list input[value="graffiti"]').isChecked());
  assert.ok(await page.locator('#form-banner').isVisible());
  assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('zglos.draft'))).idempotencyKey, key);
  // Following a link to another report shows that report; the draft waits one tap away.
  const other = await createReport(svc, { category: 'litter', lon: 19.9310, lat: 50.0655, description: 'Inne zgłoszenie' });
  await gotoAndWait(page, `${svc.baseUrl}/?report=${other.id}`);
  await page.locator('#details-body .report-card').waitFor();
  await page.click('#details-back');
  await page.locator('#resume-draft').waitFor({ state: 'visible' });
  await page.click('#resume-draft-btn');
  assert.equal(await page.inputValue('#description'), 'Szkic zgłoszenia');
  // Discarding removes it.
  page.removeAllListeners('dialog');
  page.on('dialog', (d) => d.accept());
  await page.click('#btn-discard');
  await page.locator('#view-browse').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => localStorage.getItem('zglos.draft')), null);
  await page.context().close();
});

test('the API\'s errors are shown: a place outside the city, a file that is not a photo', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.click('#start-report');
  await chooseCategory(page, 'pothole');
  // Zabierzów, west of Kraków.
  await clickMapAt(page, 19.7900, 50.1150, { zoom: 15 });
  await page.fill('#description', 'Poza miastem');
  await page.click('#btn-send');
  await page.locator('#where-error').waitFor({ state: 'visible', timeout: 15_000 });
  assert.match(await page.locator('#where-error').textContent(), /poza granicami miasta/);
  assert.equal(await page.locator('#send-status').getAttribute('data-kind'), 'error');

  if (await photosSupported(svc)) {
    await page.setInputFiles('#photo-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    await page.locator('#photo-error').waitFor({ state: 'visible', timeout: 15_000 });
    const text = await page.locator('#photo-error').textContent();
    assert.match(text, /notes\.txt/);
    assert.match(text, /JPEG, PNG/, `the unsupported_media_type message: ${text}`);
    assert.equal(await page.locator('#photo-list li').count(), 0);
  }
  await page.context().close();
});
