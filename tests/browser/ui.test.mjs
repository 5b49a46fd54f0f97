// Language switch, a 360 px phone, keyboard use and the basics screen readers need.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, fillReport, idFromTrackingUrl, waitForMapReady,
  createReport,
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

test('Polish by default; switching to English changes the texts and is remembered', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'pl');
  assert.equal((await page.locator('#view-browse h1').textContent()).trim(), 'Zgłoszenia mieszkańców');
  assert.match(await page.locator('#start-report').textContent(), /Zgłoś problem/);
  assert.equal(await page.getAttribute('[data-lang="pl"]', 'aria-pressed'), 'true');
  // The map's footer carries the data attribution.
  assert.match(await page.locator('footer').textContent(), /© OpenStreetMap contributors, ODbL 1\.0/);

  await page.click('[data-lang="en"]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.equal(await page.getAttribute('.maplibregl-ctrl-zoom-in', 'aria-label'), 'Zoom in');
  assert.equal((await page.locator('#view-browse h1').textContent()).trim(), "Residents' reports");
  assert.match(await page.locator('#start-report').textContent(), /Report a problem/);
  assert.equal(await page.getAttribute('[data-lang="en"]', 'aria-pressed'), 'true');
  await page.click('#start-report');
  assert.match(await page.locator('#category-list').textContent(), /Pothole/);
  assert.doesNotMatch(await page.locator('#category-list').textContent(), /Dziura w jezdni/);
  assert.match(await page.locator('#btn-send').textContent(), /Send report/);
  await page.click('#form-cancel');

  await page.reload();
  await waitForMapReady(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.locator('#start-report').textContent(), /Report a problem/);

  // Back to Polish.
  await page.click('[data-lang="pl"]');
  await page.waitForFunction(() => document.documentElement.lang === 'pl');
  assert.match(await page.locator('#start-report').textContent(), /Zgłoś problem/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the tracking page in English', { timeout: 60_000 }, async () => {
  const r = await createReport(svc, { category: 'graffiti', lon: 19.9400, lat: 50.0580, description: 'Tag on the wall' });
  const id = String(r.properties.id ?? r.id);
  const page = await openPage(browser, svc, `/r/${id}`, { lang: 'en' });
  await page.locator('#report .report-card').waitFor();
  assert.match(await page.locator('#report h1').textContent(), new RegExp(`Report no\\. ${id}`));
  assert.match(await page.locator('#report h1').textContent(), /Graffiti and vandalism/);
  assert.match(await page.locator('#subscribe-title').textContent(), /E-mail updates/);
  await page.context().close();
});

test('a 360×740 phone: nothing wider than the screen, the form can be filled and sent', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/', { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const noSideScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(await noSideScroll());
  // The main button is big enough for a thumb.
  const start = await page.locator('#start-report').boundingBox();
  assert.ok(start.height >= 44 && start.width >= 300, JSON.stringify(start));

  await fillReport(page, { lon: 19.9520, lat: 50.0830, category: 'traffic_sign', description: 'Przewrócony znak ustąp pierwszeństwa' });
  assert.ok(await noSideScroll());
  // The category tiles fit side by side, two per row.
  const tiles = await page.locator('#category-list label').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
  assert.ok(tiles.every(([l, r]) => l >= 0 && r <= 360), 'category tiles inside the screen');
  const send = page.locator('#btn-send');
  await send.scrollIntoViewIfNeeded();
  const sb = await send.boundingBox();
  assert.ok(sb.y >= 0 && sb.y + sb.height <= 740 && sb.x >= 0 && sb.x + sb.width <= 360, `send button on screen ${JSON.stringify(sb)}`);
  await send.tap();
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  await page.locator('#report .report-card').waitFor();
  assert.ok(await noSideScroll());
  assert.ok(idFromTrackingUrl(page.url()));
  await page.context().close();
});

test('"my location" puts the pin where the phone is', { timeout: 90_000 }, async () => {
  const here = { longitude: 19.9610, latitude: 50.0700 };
  const page = await openPage(browser, svc, '/', { geolocation: here, permissions: ['geolocation'] });
  await page.click('#start-report');
  await page.click('#btn-locate');
  await page.locator('.pin').waitFor({ state: 'visible' });
  const stored = JSON.parse(await page.evaluate(() => localStorage.getItem('zglos.draft')));
  assert.deepEqual(stored.coords, [[here.longitude, here.latitude]]);
  assert.match(await page.locator('#where-status').textContent(), /Grzegórzki|Prądnik Czerwony|Czyżyny|Miejsce wybrane/);
  await page.context().close();
});

test('keyboard only: start a report, place it at the map centre, pick a category, send', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9350, 50.0540], zoom: 17 }));
  // Tab from the top of the page reaches the language switch and the panel's button.
  await page.focus('#start-report');
  await page.keyboard.press('Enter');
  await page.locator('#view-report').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Nowe zgłoszenie', 'focus moves to the form heading');

  await page.focus('#btn-center');
  await page.keyboard.press('Enter');
  await page.locator('.pin').waitFor({ state: 'visible' });

  await page.focus('#category-list input[value="pothole"]');
  await page.keyboard.press('ArrowRight');
  const chosen = await page.evaluate(() => document.querySelector('#category-list input:checked')?.value);
  assert.ok(chosen, 'arrow keys choose a category');
  await page.focus('#description');
  await page.keyboard.type('Zgłoszenie wpisane z klawiatury');
  await page.focus('#btn-send');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  await page.context().close();
});

test('form controls have labels; messages go to live regions; language buttons say their state', { timeout: 60_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.click('#start-report');
  await fillReport(page, { lon: 19.9370, lat: 50.0500, category: 'pothole', description: 'x' });
  const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, textarea, select, button')]
    .filter((el) => el.offsetParent !== null || el.type === 'radio' || el.type === 'file')
    .filter((el) => {
      const name = (el.labels && [...el.labels].map((l) => l.textContent).join(' ').trim())
        || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent.trim())
        || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent.trim());
      return !name;
    })
    .map((el) => el.outerHTML.slice(0, 120)));
  assert.deepEqual(unlabeled, []);
  assert.equal(await page.getAttribute('#live-polite', 'aria-live'), 'polite');
  assert.equal(await page.getAttribute('#live-assertive', 'aria-live'), 'assertive');
  // Placing the pin was announced.
  await page.waitForFunction(() => document.getElementById('live-polite').textContent.length > 0);
  // A skip link leads to the panel.
  assert.equal(await page.getAttribute('.skip-link', 'href'), '#panel');
  await page.context().close();
});
