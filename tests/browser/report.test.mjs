// Filing reports through the form: a point, a line, an area; tracking page; e-mail updates;
// resident text shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, gotoAndWait, fillReport, waitForReportOnMap,
  idFromTrackingUrl, getReport, waitForMapIdle, makePng, photosSupported,
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

// Rynek Główny, Stare Miasto.
const RYNEK = [19.93745, 50.06175];

test('point report: pin, category, description, send; tracking page; shown on the map', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await fillReport(page, { lon: RYNEK[0], lat: RYNEK[1], category: 'pothole', description: 'Głęboka dziura przy wejściu do Sukiennic' });
  await page.click('#contact-details summary');
  await page.fill('#contact-name', 'Jan Kowalski');
  await page.fill('#contact-email', 'mieszkaniec@example.com');
  // The pin is on the map and the place is named.
  await page.locator('.pin').waitFor({ state: 'visible' });
  assert.match(await page.locator('#where-status').textContent(), /Stare Miasto/);

  await page.click('#btn-send');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  assert.ok(id, 'tracking page address carries the report id');
  await page.locator('#report .report-card').waitFor();
  assert.equal((await page.locator('#report .report-desc').textContent()).trim(), 'Głęboka dziura przy wejściu do Sukiennic');
  assert.match(await page.locator('#track-banner').textContent(), new RegExp(`${id}`));
  assert.ok(await page.locator('#report .status-badge').isVisible());
  assert.ok((await page.locator('#report .timeline li').count()) >= 1, 'timeline has the creation entry');
  const unit = (await page.locator('#report .report-unit').textContent()).trim();
  assert.ok(unit.length > 0);

  const report = await getReport(svc, id);
  assert.equal(report.properties.category, 'pothole');
  assert.equal(report.geometry.type, 'Point');
  const [lon, lat] = report.geometry.coordinates;
  assert.ok(Math.abs(lon - RYNEK[0]) < 0.0001 && Math.abs(lat - RYNEK[1]) < 0.0001, `pin at ${lon},${lat}`);
  assert.equal(report.properties.district && report.properties.district.name, 'Stare Miasto');
  if (report.properties.unit) assert.equal(unit, report.properties.unit.name);

  // The report's public view never carries the contact details.
  assert.doesNotMatch(JSON.stringify(report), /Kowalski|mieszkaniec@example\.com/);
  // Leave an e-mail for updates: the one given with the report is offered.
  assert.equal(await page.inputValue('#subscribe-email'), 'mieszkaniec@example.com');
  await page.click('#subscribe-btn');
  await page.locator('#subscribe-done').waitFor({ state: 'visible' });
  assert.match(await page.locator('#subscribe-done').textContent(), /mieszkaniec@example\.com/);

  // Back on the map, the report is drawn from the vector tiles.
  await gotoAndWait(page, `${svc.baseUrl}/?report=${id}`);
  await waitForReportOnMap(page, id, ['reports-point']);
  await page.locator('#details-body .report-card').waitFor();
  assert.equal((await page.locator('#details-body .report-desc').textContent()).trim(), 'Głęboka dziura przy wejściu do Sukiennic');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('clicking a report on the map opens its details and timeline', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.evaluate(([lon, lat]) => window.zglosMap.jumpTo({ center: [lon, lat], zoom: 17 }), RYNEK);
  await waitForMapIdle(page);
  // The report filed in the previous test (or any report rendered here).
  await page.waitForFunction(() => window.zglosMap.queryRenderedFeatures({ layers: ['reports-point'] }).length > 0, null, { timeout: 20_000 });
  const { x, y, id } = await page.evaluate(() => {
    const f = window.zglosMap.queryRenderedFeatures({ layers: ['reports-point'] })[0];
    const p = window.zglosMap.project(f.geometry.coordinates);
    return { x: p.x, y: p.y, id: f.properties.id };
  });
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + x, box.y + y);
  await page.locator('#details-body .report-card').waitFor();
  assert.equal(await page.locator('#details-body .report-card').getAttribute('data-report-id'), String(id));
  assert.ok((await page.locator('#details-body .timeline li').count()) >= 1);
  await page.click('#details-back');
  await page.locator('#view-browse').waitFor({ state: 'visible' });
  await page.context().close();
});

test('a description with markup is shown as text, never run', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  const evil = '<script>alert(1)</script><img src=x onerror="alert(2)"> <b>bold?</b>';
  await fillReport(page, { lon: 19.9449, lat: 50.0647, category: 'litter', description: evil });
  await page.click('#btn-send');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  await page.locator('#report .report-desc').waitFor();
  assert.equal((await page.locator('#report .report-desc').textContent()).trim(), evil);
  assert.equal(await page.locator('#report script, #report img[src="x"], #report b').count(), 0);

  await gotoAndWait(page, `${svc.baseUrl}/?report=${id}`);
  await page.locator('#details-body .report-desc').waitFor();
  assert.equal((await page.locator('#details-body .report-desc').textContent()).trim(), evil);
  assert.equal(await page.locator('#details-body script, #details-body img[src="x"], #details-body b').count(), 0);
  assert.deepEqual(page.dialogs, [], 'no alert() ran');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('line report: a category that allows lines, drawn point by point', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.click('#start-report');
  // Pothole allows points only: no shape choice.
  await page.locator('#category-list label', { has: page.locator('input[value="pothole"]') }).click();
  assert.ok(await page.locator('#kind-group').isHidden());
  const line = [[19.9330, 50.0580], [19.9338, 50.0583], [19.9346, 50.0585]];
  await fillReport(page, { category: 'snow_ice', kind: 'line', points: line, description: 'Oblodzony chodnik na całej długości ulicy' });
  assert.ok(await page.locator('#kind-group').isVisible());
  assert.match(await page.locator('#where-status').textContent(), /3/);
  await page.click('#btn-send');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  const report = await getReport(svc, id);
  assert.equal(report.geometry.type, 'LineString');
  assert.equal(report.geometry.coordinates.length, 3);
  assert.equal(report.properties.category, 'snow_ice');

  await gotoAndWait(page, `${svc.baseUrl}/?report=${id}`);
  await waitForReportOnMap(page, id, ['reports-line']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('area report: an outlined area for an illegal dump', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  const area = [[19.9600, 50.0500], [19.9610, 50.0500], [19.9610, 50.0506], [19.9600, 50.0506]];
  await fillReport(page, { category: 'illegal_dumping', kind: 'area', points: area, description: 'Gruz i opony w zaroślach' });
  await page.click('#btn-send');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  const report = await getReport(svc, id);
  assert.equal(report.geometry.type, 'Polygon');
  assert.equal(report.geometry.coordinates[0].length, 5, 'closed ring of 4 corners');
  await gotoAndWait(page, `${svc.baseUrl}/?report=${id}`);
  await waitForReportOnMap(page, id, ['reports-area']);
  await page.context().close();
});

test('the form says what is missing and does not send', { timeout: 60_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  let posted = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/reports')) posted += 1; });
  await page.click('#start-report');
  await page.click('#btn-send');
  for (const id of ['#where-error', '#category-error', '#description-error']) {
    assert.ok(await page.locator(id).isVisible(), `${id} shown`);
  }
  assert.equal(await page.locator('#description').getAttribute('aria-invalid'), 'true');
  assert.equal(posted, 0);
  await page.context().close();
});

test('photos: up to three attached, shown on the tracking page', { timeout: 120_000 }, async (t) => {
  if (!(await photosSupported(svc))) {
    t.skip('the service has no POST /api/v1/photos');
    return;
  }
  const page = await openPage(browser, svc, '/');
  await fillReport(page, { lon: 19.9200, lat: 50.0620, category: 'greenery', description: 'Złamane drzewo po burzy' });
  const files = await Promise.all([[200, 60, 40], [40, 160, 60], [40, 60, 200], [120, 120, 120]].map(async (rgb, i) => ({
    name: `photo${i + 1}.png`, mimeType: 'image/png', buffer: await makePng(64, 48, rgb),
  })));
  await page.setInputFiles('#photo-input', files.slice(0, 2));
  await page.waitForFunction(() => document.querySelectorAll('#photo-list li').length === 2, null, { timeout: 60_000 });
  await page.setInputFiles('#photo-input', files.slice(2));
  await page.waitForFunction(() => document.querySelectorAll('#photo-list li').length === 3, null, { timeout: 60_000 });
  // The fourth is refused on the device, with a message.
  assert.ok(await page.locator('#photo-error').isVisible());
  assert.ok(await page.locator('#photo-input').isDisabled());
  // Remove one, keep two.
  await page.locator('#photo-list li .photo-remove').first().click();
  assert.equal(await page.locator('#photo-list li').count(), 2);
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('zglos.draft')));
  assert.equal(stored.photos.length, 2);

  await page.click('#btn-send');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  await page.locator('#report .report-photos img').first().waitFor();
  assert.equal(await page.locator('#report .report-photos img').count(), 2);
  const report = await getReport(svc, id);
  assert.equal(report.properties.photos.length, 2);
  assert.deepEqual(report.properties.photos.map((p) => p.id), stored.photos.map((p) => p.id));
  // The thumbnails really load.
  const loaded = await page.locator('#report .report-photos img').evaluateAll((imgs) => imgs.map((i) => i.complete && i.naturalWidth > 0));
  assert.deepEqual(loaded, [true, true]);
  await page.context().close();
});
