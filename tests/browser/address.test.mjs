// Addresses in the front end: the search box on the residents' map (type-ahead suggestions, the
// combobox keys, a pick flies the map there and places the pin), "near …" under the pin following
// it, slow and stale answers, the consultant's phone view, the stored address on the tracking page,
// in the staff inbox and report view, and a report filed with the keyboard alone, audited with axe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, createReport, getReport, addStaffUser, staffLogin,
  clickMapAt, waitForMapIdle, apiJson, idFromTrackingUrl, chooseCategory, audit,
} from './harness.mjs';

let svc;
let browser;
let consultant;
let admin;

// Points of the gazetteer built from the basemap at `zglos setup`.
const FLORIANSKA_12 = [19.9396598, 50.0627971];
const BARSKA_37A = [19.9303097, 50.0500882];
const FLORIANSKA_30 = [19.9405557, 50.0640092];

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  consultant = await addStaffUser(svc, { login: 'konsultant@example.org', name: 'Konsultant', roles: ['consultant'] });
  admin = await addStaffUser(svc, { login: 'admin@example.org', name: 'Admin', roles: ['admin'] });
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

const near = (a, b, eps = 1e-5) => Math.abs(a[0] - b[0]) < eps && Math.abs(a[1] - b[1]) < eps;

async function reverseLabel(pt) {
  const { status, data } = await apiJson(svc, `/api/v1/geocode/reverse?lon=${pt[0]}&lat=${pt[1]}`);
  assert.equal(status, 200);
  return data.address && data.address.label;
}

async function draftCoords(page) {
  const d = JSON.parse(await page.evaluate(() => localStorage.getItem('zglos.draft')) || 'null');
  return d && d.coords;
}

async function options(page, list = '#addr-list') {
  return page.locator(`${list} [role="option"]`).evaluateAll((els) => els.map((e) => ({
    id: e.id,
    label: e.querySelector('.addr-label').textContent,
    meta: (e.querySelector('.addr-meta') || { textContent: '' }).textContent,
    kind: e.dataset.kind,
    selected: e.getAttribute('aria-selected'),
  })));
}

/** Wait until the first suggestion's label is `label`. */
async function firstSuggestionIs(page, label, list = '#addr-list') {
  await page.waitForFunction(({ label, list }) => {
    const o = document.querySelector(`${list} [role="option"] .addr-label`);
    return o && o.textContent === label && !document.querySelector(list).hidden;
  }, { label, list }, { timeout: 15_000 });
}


test('"florianska 1" without diacritics: suggestions as you type, keys move, Enter flies there and places the pin, "near …" follows the pin', { timeout: 150_000 }, async () => {
  // Already reported here: the "already reported nearby?" step must still come after a pick.
  const seeded = await createReport(svc, { category: 'street_lighting', lon: FLORIANSKA_12[0] + 0.00005, lat: FLORIANSKA_12[1], description: 'Latarnia przy Floriańskiej nie świeci' });
  const seededId = String(seeded.id ?? seeded.properties.id);

  const page = await openPage(browser, svc, '/');
  const input = page.locator('#addr-input');
  assert.equal(await input.getAttribute('role'), 'combobox');
  assert.equal(await input.getAttribute('aria-controls'), 'addr-list');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('label[for="addr-input"]').textContent(), 'Szukaj adresu lub miejsca');

  await input.focus();
  await page.keyboard.type('florianska 1');
  await page.locator('#addr-list [role="option"]').first().waitFor({ timeout: 15_000 });
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  let opts = await options(page);
  assert.ok(opts.length >= 2, JSON.stringify(opts));
  assert.ok(opts.some((o) => o.label === 'Floriańska' && o.kind === 'street' && /ulica/.test(o.meta)), JSON.stringify(opts));
  assert.ok(opts.some((o) => o.kind === 'address' && /^Floriańska \d+/.test(o.label) && /adres/.test(o.meta)), JSON.stringify(opts));
  assert.ok(opts.every((o) => o.selected === 'false'), 'nothing chosen before an arrow key');

  // Down, Down, Up: the active option follows, announced through aria-activedescendant.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  opts = await options(page);
  assert.equal(await input.getAttribute('aria-activedescendant'), opts[1].id);
  assert.equal(opts[1].selected, 'true');
  await page.keyboard.press('ArrowUp');
  assert.equal(await input.getAttribute('aria-activedescendant'), opts[0].id);
  // Escape closes the list and keeps the text; the focus stays in the box.
  await page.keyboard.press('Escape');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  assert.ok(await page.locator('#addr-list').isHidden());
  assert.equal(await input.inputValue(), 'florianska 1');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'addr-input');

  // One more digit: "florianska 12" finds the house number.
  await page.keyboard.type('2');
  await firstSuggestionIs(page, 'Floriańska 12');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');

  // The report form opens with the pin on Floriańska 12 and the map flies there.
  await page.locator('#view-report').waitFor({ state: 'visible' });
  await page.locator('.pin').waitFor({ state: 'visible' });
  assert.equal(await input.inputValue(), 'Floriańska 12');
  assert.equal(await input.getAttribute('aria-expanded'), 'false');
  const coords = await draftCoords(page);
  assert.equal(coords.length, 1);
  assert.ok(near(coords[0], FLORIANSKA_12), JSON.stringify(coords));
  await waitForMapIdle(page);
  const view = await page.evaluate(() => ({ c: window.zglosMap.getCenter().toArray(), z: window.zglosMap.getZoom() }));
  assert.ok(near(view.c, FLORIANSKA_12, 1e-4), `map centre ${view.c}`);
  assert.ok(view.z >= 17, `zoom ${view.z}`);
  // The pin is drawn where the address is.
  const pinAt = await page.evaluate(() => {
    const el = document.querySelector('.pin').getBoundingClientRect();
    const map = document.getElementById('map').getBoundingClientRect();
    return [el.left + el.width / 2 - map.left, el.bottom - map.top];
  });
  const expected = await page.evaluate((pt) => { const p = window.zglosMap.project(pt); return [p.x, p.y]; }, FLORIANSKA_12);
  assert.ok(Math.abs(pinAt[0] - expected[0]) < 3 && Math.abs(pinAt[1] - expected[1]) < 3, `pin ${pinAt} vs ${expected}`);

  await page.waitForFunction(() => document.getElementById('where-address').textContent === 'W pobliżu: Floriańska 12', null, { timeout: 15_000 });
  assert.match(await page.locator('#where-status').textContent(), /Stare Miasto/);

  // The "already reported nearby?" step works after a pick, and names the report's address.
  await chooseCategory(page, 'street_lighting');
  const item = page.locator(`#nearby .nearby-item[data-report-id="${seededId}"]`);
  await item.waitFor({ timeout: 15_000 });
  assert.match(await item.textContent(), /Floriańska 12/);

  // The pin dragged up the street: "near …" changes to what the service calls the new place.
  const box = await page.locator('.pin').boundingBox();
  const target = await page.evaluate((pt) => { const p = window.zglosMap.project(pt); return [p.x, p.y]; }, FLORIANSKA_30);
  const mapBox = await page.locator('#map').boundingBox();
  const start = [box.x + box.width / 2, box.y + box.height - 6];
  const delta = [mapBox.x + target[0] - (box.x + box.width / 2), mapBox.y + target[1] - (box.y + box.height)];
  await page.mouse.move(start[0], start[1]);
  await page.mouse.down();
  await page.mouse.move(start[0] + delta[0] / 2, start[1] + delta[1] / 2, { steps: 5 });
  await page.mouse.move(start[0] + delta[0], start[1] + delta[1], { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => {
    const d = JSON.parse(localStorage.getItem('zglos.draft'));
    return d && d.coords.length && Math.abs(d.coords[0][1] - 50.0627971) > 0.0005;
  }, null, { timeout: 10_000 });
  const dragged = (await draftCoords(page))[0];
  const draggedLabel = await reverseLabel(dragged);
  assert.notEqual(draggedLabel, 'Floriańska 12');
  assert.match(draggedLabel, /Floriańska/);
  await page.waitForFunction((l) => document.getElementById('where-address').textContent === `W pobliżu: ${l}`, draggedLabel, { timeout: 15_000 });

  // A tap elsewhere moves the pin too: Barska 37A in Dębniki.
  await clickMapAt(page, BARSKA_37A[0], BARSKA_37A[1]);
  await page.waitForFunction(() => document.getElementById('where-address').textContent === 'W pobliżu: Barska 37A', null, { timeout: 15_000 });
  assert.match(await page.locator('#where-status').textContent(), /Dębniki/);

  // In English.
  await page.click('[data-lang="en"]');
  await page.waitForFunction(() => document.getElementById('where-address').textContent === 'Near Barska 37A', null, { timeout: 10_000 });
  assert.equal(await page.locator('label[for="addr-input"]').textContent(), 'Find an address or place');

  // Closing the form takes the line away with the pin.
  await page.click('#form-cancel');
  assert.equal(await page.locator('#where-address').textContent(), '');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('slow, stale and failed answers: only the latest text counts; Enter before the suggestions picks the first', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, null);
  // Answers for "florianska" come late: by then the resident has typed something else.
  let slowAborted = false;
  page.on('requestfailed', (r) => { if (/q=florianska(&|$)/.test(r.url())) slowAborted = true; });
  await page.route(/\/api\/v1\/geocode\?/, async (route) => {
    const q = new URL(route.request().url()).searchParams.get('q');
    if (q === 'florianska') {
      const res = await route.fetch();
      await new Promise((r) => setTimeout(r, 2500));
      await route.fulfill({ response: res }).catch(() => {});
    } else if (q === 'zepsute') {
      await route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: { code: 'internal', message: 'Błąd serwera' } }) });
    } else {
      await route.continue();
    }
  });
  await page.goto(`${svc.baseUrl}/`);
  await page.waitForFunction(() => window.zglosReady === true);
  const input = page.locator('#addr-input');
  await input.focus();
  await page.keyboard.type('florianska');
  await page.waitForTimeout(600); // the request is on its way
  await input.fill('');
  await page.keyboard.type('rynek glowny');
  await firstSuggestionIs(page, 'Rynek Główny');
  await page.waitForTimeout(3000); // the late answer has come and gone
  const opts = await options(page);
  assert.ok(opts.length > 0 && opts.every((o) => /Rynek/.test(o.label)), JSON.stringify(opts));
  assert.ok(slowAborted, 'the request for the older text was aborted');

  // A failing search says so and the box keeps working.
  await input.fill('');
  await page.keyboard.type('zepsute');
  await page.locator('#addr-status').waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await page.locator('#addr-status').textContent(), /Błąd serwera|serwer/i);
  assert.equal(await input.getAttribute('aria-expanded'), 'false');

  // Nothing found is said too.
  await input.fill('');
  await page.keyboard.type('qqqxxzz');
  await page.waitForFunction(() => /Nie znaleziono/.test(document.getElementById('addr-status').textContent), null, { timeout: 10_000 });

  // Typed fast and Enter at once, before any suggestion is shown: the first hit is taken.
  await input.fill('');
  await page.keyboard.type('florianska 12');
  await page.keyboard.press('Enter');
  await page.locator('.pin').waitFor({ state: 'visible', timeout: 15_000 });
  assert.ok(near((await draftCoords(page))[0], FLORIANSKA_12));
  assert.equal(await page.locator('#addr-status').textContent(), '');
  // Escape on a closed list clears the box.
  await page.keyboard.press('Escape');
  assert.equal(await input.inputValue(), '');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the consultant\'s phone view: the caller\'s address searched, the pin placed, "near …" shown, the report filed there', { timeout: 150_000 }, async () => {
  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, consultant);
  await page.locator('#view-phone').waitFor({ state: 'visible' });
  const input = page.locator('#phone-addr-input');
  assert.equal(await input.getAttribute('role'), 'combobox');
  await input.focus();
  await page.keyboard.type('barska 37a');
  await firstSuggestionIs(page, 'Barska 37A', '#phone-addr-list');
  const opts = await options(page, '#phone-addr-list');
  assert.match(opts[0].meta, /adres · Dębniki/);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.locator('.pin').waitFor({ state: 'visible' });
  await waitForMapIdle(page);
  const c = await page.evaluate(() => window.zglosMap.getCenter().toArray());
  assert.ok(near(c, BARSKA_37A, 1e-4), `map centre ${c}`);
  assert.match(await page.locator('#phone-where').textContent(), /Dębniki/);
  await page.waitForFunction(() => document.getElementById('phone-address').textContent === 'W pobliżu: Barska 37A', null, { timeout: 15_000 });

  await page.locator('#phone-category').selectOption('illegal_parking');
  await page.click('#phone-search');
  await page.locator('#phone-form').waitFor({ state: 'visible', timeout: 20_000 });
  await page.fill('#phone-description', 'Samochód na chodniku, dzwoni mieszkaniec');
  await page.click('#phone-send');
  await page.locator('#phone-result').waitFor({ state: 'visible', timeout: 20_000 });
  const id = (await page.locator('#phone-result').textContent()).match(/(\d+)/)[1];
  const r = await getReport(svc, id);
  assert.equal(r.properties.address.label, 'Barska 37A');
  assert.ok(near(r.geometry.coordinates, BARSKA_37A, 2e-6), JSON.stringify(r.geometry));
  // Ready for the next call: the box and the line are empty.
  assert.equal(await input.inputValue(), '');
  assert.equal(await page.locator('#phone-address').textContent(), '');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the stored address: on the tracking page, on the map\'s details, in the staff inbox and the staff report view', { timeout: 120_000 }, async () => {
  const created = await createReport(svc, { category: 'graffiti', lon: FLORIANSKA_12[0], lat: FLORIANSKA_12[1], description: 'Napis na bramie' });
  const id = String(created.id ?? created.properties.id);
  assert.equal((await getReport(svc, id)).properties.address.label, 'Floriańska 12');

  const page = await openPage(browser, svc, `/r/${id}`);
  await page.locator('#report .report-card').waitFor();
  assert.equal(await page.locator('#report .report-address').textContent(), 'Adres: Floriańska 12');
  assert.equal(await page.locator('#report .report-address .address-label').textContent(), 'Floriańska 12');

  await page.goto(`${svc.baseUrl}/?report=${id}`);
  await page.locator('#details-body .report-card').waitFor();
  assert.equal(await page.locator('#details-body .report-address .address-label').textContent(), 'Floriańska 12');

  await staffLogin(page, svc, admin);
  const row = page.locator(`#inbox-list li[data-report-id="${id}"]`);
  await row.waitFor({ timeout: 20_000 });
  assert.equal(await row.locator('.inbox-address').textContent(), 'Adres: Floriańska 12');
  await row.locator('a').click();
  await page.locator('#report-body .report-card').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#report-body .report-address .address-label').textContent(), 'Floriańska 12');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Press Tab until the focused element passes `check` (a function run in the page). */
async function tabUntil(page, check, what, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(check)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

test('keyboard only, from the page load: find the address, pick it, choose a category, describe, send; the report has the address; WCAG 2.1 AA audit passes', { timeout: 180_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  // No mouse in this test: any use of it fails.
  for (const m of ['click', 'dblclick', 'down', 'up', 'move', 'wheel']) {
    page.mouse[m] = async () => { throw new Error(`mouse.${m} used in the keyboard-only test`); };
  }
  const focused = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.className));

  // The first Tab reaches the skip link; it leads to the panel, whose first stop is the search.
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'skip-link');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'addr-input');

  await page.keyboard.type('florianska 12');
  await firstSuggestionIs(page, 'Floriańska 12');
  await audit(page, 'search with its suggestions open');
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('ArrowDown');
    const active = await page.evaluate(() => {
      const id = document.getElementById('addr-input').getAttribute('aria-activedescendant');
      return id && document.getElementById(id).querySelector('.addr-label').textContent;
    });
    if (active === 'Floriańska 12') break;
  }
  await page.keyboard.press('Enter');
  await page.locator('#view-report').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.getElementById('where-address').textContent === 'W pobliżu: Floriańska 12', null, { timeout: 15_000 });
  // The pick was announced.
  await page.waitForFunction(() => /Pinezka postawiona: Floriańska 12/.test(document.getElementById('live-polite').textContent), null, { timeout: 5_000 });

  // Category: Tab into the radio group, Space chooses the focused one (the first: a pothole).
  await tabUntil(page, () => document.activeElement.name === 'category', 'the categories');
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => document.querySelector('#category-list input:checked')?.value), 'pothole');

  await tabUntil(page, () => document.activeElement.id === 'description', 'the description');
  await page.keyboard.type('Głęboka dziura przed bramą, zgłoszona z klawiatury');
  await audit(page, 'the report form after the address pick');

  await tabUntil(page, () => document.activeElement.id === 'btn-send', 'the send button');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/r\/[^/]+$/, { timeout: 30_000 });
  const id = idFromTrackingUrl(page.url());
  const r = await getReport(svc, id);
  assert.equal(r.properties.category, 'pothole');
  assert.equal(r.properties.description, 'Głęboka dziura przed bramą, zgłoszona z klawiatury');
  assert.equal(r.properties.address.label, 'Floriańska 12');
  assert.equal(r.properties.address.street, 'Floriańska');
  assert.equal(r.properties.address.number, '12');
  assert.ok(near(r.geometry.coordinates, FLORIANSKA_12, 2e-6), JSON.stringify(r.geometry));

  await page.locator('#report .report-card').waitFor();
  assert.equal(await page.locator('#report .report-address .address-label').textContent(), 'Floriańska 12');
  await audit(page, 'the tracking page of the report');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.dialogs, []);
  await page.context().close();
});
