// Ukrainian beside Polish and English: a first visit takes the language the browser asks for
// (Accept-Language, negotiated by the service), category and status names come from the city
// pack in that language, and a language chosen on the device wins over the browser's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, launchBrowser, openPage, waitForMapReady, createReport, audit } from './harness.mjs';

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

test('a browser set to Ukrainian opens the map in Ukrainian, city names included', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/', { locale: 'uk-UA' });
  assert.equal(await page.getAttribute('html', 'lang'), 'uk');
  assert.equal((await page.locator('#view-browse h1').textContent()).trim(), 'Звернення мешканців');
  assert.match(await page.locator('#start-report').textContent(), /Повідомити про проблему/);
  assert.equal(await page.getAttribute('[data-lang="uk"]', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('.lang-switch', 'aria-label'), 'Мова');
  await page.click('#start-report');
  await page.locator('#view-report').waitFor({ state: 'visible' });
  const categories = await page.locator('#category-list').textContent();
  assert.match(categories, /Яма на дорозі/);
  assert.match(categories, /Не працює ліхтар/);
  assert.doesNotMatch(categories, /Dziura w jezdni/);
  await audit(page, 'the report form in Ukrainian');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.foreign, []);
  await page.context().close();
});

test('the tracking page names the status and category in Ukrainian', { timeout: 60_000 }, async () => {
  const r = await createReport(svc, { category: 'street_lighting', lon: 19.9380, lat: 50.0600, description: 'Не світить ліхтар', lang: 'uk' });
  const id = String(r.properties.id ?? r.id);
  const page = await openPage(browser, svc, `/r/${id}`, { locale: 'uk-UA' });
  await page.locator('#report .report-card').waitFor();
  const card = await page.locator('#report .report-card').textContent();
  assert.match(card, /Не працює ліхтар/);
  assert.match(card, /Нове/);
  // The date the city expects the fix by (street lights: 5 working days), in Ukrainian.
  assert.match(card, /Очікуваний термін/);
  const expected = await page.locator('#report .report-expected time').getAttribute('datetime');
  assert.equal(expected, r.properties.expected_at);
  assert.equal(await page.getAttribute('html', 'lang'), 'uk');
  await audit(page, 'the tracking page in Ukrainian');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a language chosen on the device wins over the browser; a browser in another language gets Polish', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/', { locale: 'uk-UA' });
  await page.click('[data-lang="en"]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.reload();
  await waitForMapReady(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.locator('#start-report').textContent(), /Report a problem/);
  await page.context().close();

  const french = await openPage(browser, svc, '/', { locale: 'fr-FR' });
  assert.equal(await french.getAttribute('html', 'lang'), 'pl');
  assert.match(await french.locator('#start-report').textContent(), /Zgłoś problem/);
  await french.context().close();
});
