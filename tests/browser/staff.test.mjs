// The staff pages at /staff: logging in and out, the unit's inbox, the status workflow with public
// and internal notes (the tracking page shows the public ones only), a forbidden change showing the
// allowed ones, "not ours", merging by hand, notes shown as text, a phone, English, accessibility.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, createReport, getReport, addStaffUser, staffSession,
  staffLogin, makePng, photosSupported, audit,
} from './harness.mjs';


let svc;
let browser;
let clerk;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  clerk = await addStaffUser(svc, { login: 'clerk@example.org', name: 'Clerk', roles: ['unit_staff'], units: ['ZDMK'] });
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

// Places in Stare Miasto, each far enough from the others not to be merged as duplicates.
const PLACES = {
  rynek: [19.93745, 50.06175],
  planty: [19.94170, 50.05790],
  wawel: [19.93560, 50.05480],
  florianska: [19.94010, 50.06400],
  dietla: [19.94650, 50.05400],
  kazimierz: [19.94560, 50.05130],
};

async function potholeFor(place, description) {
  const r = await createReport(svc, { category: 'pothole', lon: place[0], lat: place[1], description });
  const id = String(r.id ?? r.properties.id);
  const full = await getReport(svc, id);
  assert.equal(full.properties.unit && full.properties.unit.code, 'ZDMK', 'potholes in Stare Miasto go to ZDMK');
  return id;
}

async function staffPage(opts = {}) {
  const page = await openPage(browser, svc, null, opts);
  await staffLogin(page, svc, clerk);
  return page;
}

async function chooseStatus(page, code, { publicNote, internalNote, expected } = {}) {
  await page.locator('#st-status').selectOption(code);
  if (publicNote !== undefined) await page.fill('#st-public', publicNote);
  if (internalNote !== undefined) await page.fill('#st-internal', internalNote);
  if (expected) await page.fill('#st-expected', expected);
}

async function saveStatusAndWait(page, code) {
  await page.click('#st-submit');
  await page.waitForFunction((c) => {
    const badge = document.querySelector('#report-body .report-status .status-badge');
    return badge && badge.classList.contains(`status-${c}`);
  }, code, { timeout: 20_000 });
}

test('wrong password is refused with a message; the right one opens the inbox; logging out', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, null);
  await page.goto(`${svc.baseUrl}/staff`);
  await page.locator('#login-form').waitFor();
  await page.fill('#login-login', clerk.login);
  await page.fill('#login-password', 'not-the-password');
  await page.click('#login-submit');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#login-error').textContent(), /login|hasło/i);
  assert.ok(await page.locator('#work').isHidden());

  await page.fill('#login-password', clerk.password);
  await page.click('#login-submit');
  await page.locator('#view-inbox').waitFor({ state: 'visible' });
  assert.equal((await page.locator('#staff-user-name').textContent()).trim(), 'Clerk');
  // The session survives a reload.
  await page.reload();
  await page.locator('#view-inbox').waitFor({ state: 'visible' });

  await page.click('#logout');
  await page.locator('#login-form').waitFor({ state: 'visible' });
  const me = await page.evaluate(async () => (await fetch('/api/v1/staff/me')).status);
  assert.equal(me, 401, 'the session is gone after logging out');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a clerk sees a new report in the inbox and takes it through the workflow; the public page shows public notes only', { timeout: 180_000 }, async () => {
  const id = await potholeFor(PLACES.rynek, 'Głęboka dziura przy Sukiennicach');
  const page = await staffPage();
  const item = page.locator(`#inbox-list li[data-report-id="${id}"]`);
  await item.waitFor({ timeout: 20_000 });
  assert.match(await item.textContent(), /Głęboka dziura przy Sukiennicach/);
  assert.ok(Number((await page.locator('#count-open').textContent()).replace(/\D/g, '')) >= 1, 'open count');
  // The inbox's reports are on the map too.
  await page.waitForFunction((rid) => window.zglosMap.querySourceFeatures('inbox').some((f) => String(f.properties.id) === rid), id);

  await item.locator('a').click();
  await page.locator('#status-form').waitFor();
  assert.equal(await page.locator('#report-body .report-desc').textContent(), 'Głęboka dziura przy Sukiennicach');
  const options = await page.locator('#st-status option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(options.includes('acknowledged'), `allowed from new: ${options}`);

  await chooseStatus(page, 'acknowledged', { publicNote: 'Przyjęliśmy zgłoszenie, dziękujemy.', internalNote: 'Brygada B, tylko wewnętrznie' });
  await saveStatusAndWait(page, 'acknowledged');
  const tl = page.locator('#report-body .staff-timeline');
  await tl.locator('.tl-note', { hasText: 'Przyjęliśmy zgłoszenie, dziękujemy.' }).waitFor();
  await tl.locator('.tl-internal', { hasText: 'Brygada B, tylko wewnętrznie' }).waitFor();

  const due = new Date(Date.now() + 7 * 86400_000).toISOString().slice(0, 10);
  const scriptNote = 'Naprawa w tym tygodniu <script>window.__pwned = 1</script><b>pogrubione</b>';
  await chooseStatus(page, 'in_progress', { publicNote: scriptNote, expected: due });
  await saveStatusAndWait(page, 'in_progress');
  // Notes are text: the markup is shown as written and never runs.
  const note = tl.locator('.tl-note', { hasText: 'Naprawa w tym tygodniu' });
  await note.waitFor();
  assert.match(await note.textContent(), /<script>window\.__pwned = 1<\/script><b>pogrubione<\/b>/);
  assert.equal(await note.locator('b, script').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  const staffView = await staffSession(svc, clerk).then((s) => s.request(`/api/v1/staff/reports/${id}`));
  assert.equal(staffView.data.properties.expected_at ?? staffView.data.expected_at, due, 'expected date saved');

  await chooseStatus(page, 'resolved', { publicNote: 'Dziura załatana.' });
  const withPhoto = await photosSupported(svc);
  if (withPhoto) {
    await page.setInputFiles('#st-photo', { name: 'po.png', mimeType: 'image/png', buffer: await makePng(200, 150, [60, 60, 60]) });
    await page.locator('#st-photo-list img').waitFor({ timeout: 60_000 });
  }
  await saveStatusAndWait(page, 'resolved');

  const report = await getReport(svc, id);
  assert.equal(report.properties.status, 'resolved');
  if (withPhoto) assert.equal((report.properties.photos || []).length, 1, 'the "after" photo is attached to the report');

  // The public tracking page: every public note, no internal one.
  const pub = await openPage(browser, svc, `/r/${id}`);
  await pub.locator('#report .timeline').waitFor();
  const text = await pub.locator('#report').textContent();
  assert.match(text, /Przyjęliśmy zgłoszenie, dziękujemy\./);
  assert.match(text, /Naprawa w tym tygodniu <script>/);
  assert.match(text, /Dziura załatana\./);
  assert.doesNotMatch(text, /Brygada B/);
  assert.doesNotMatch(JSON.stringify(report), /Brygada B/, 'the public API has no internal note either');
  assert.equal(await pub.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(pub.errors, []);
  assert.deepEqual(page.errors, []);
  await pub.context().close();
  await page.context().close();
});

test('a change that is no longer allowed shows the allowed ones; "not ours" reroutes to the right unit', { timeout: 120_000 }, async () => {
  const id = await potholeFor(PLACES.planty, 'Zapadnięty asfalt przy Plantach');
  const page = await staffPage();
  await page.goto(`${svc.baseUrl}/staff#/report/${id}`);
  await page.locator('#status-form').waitFor();

  // Meanwhile a colleague resolves it.
  const colleague = await staffSession(svc, clerk);
  const r = await colleague.request(`/api/v1/staff/reports/${id}/status`, { method: 'POST', body: { status: 'resolved', public_note: 'Załatane.' } });
  assert.equal(r.status, 200, JSON.stringify(r.data));

  // The page still offers the moves from "new"; "planned" is refused with the allowed ones listed.
  await chooseStatus(page, 'planned', { publicNote: 'Zaplanowane na przyszły tydzień.' });
  await page.click('#st-submit');
  const box = page.locator('#st-not-allowed');
  await box.waitFor({ timeout: 20_000 });
  const allowed = await box.locator('li[data-status]').evaluateAll((ls) => ls.map((l) => l.dataset.status));
  const now = (await colleague.request(`/api/v1/staff/reports/${id}`)).data;
  const expected = now.properties.allowed_transitions;
  assert.ok(allowed.length > 0, 'some moves are listed');
  assert.deepEqual([...allowed].sort(), [...expected].sort());
  assert.ok(!allowed.includes('planned'));
  // The form now offers exactly those, and keeps the note written.
  const offered = await page.locator('#st-status option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(offered.sort(), [...expected].sort());
  assert.equal(await page.inputValue('#st-public'), 'Zaplanowane na przyszły tydzień.');
  // Screen readers hear it: the message is an alert.
  assert.equal(await box.getAttribute('role'), 'alert');

  // "Not ours": a second report goes to the unit it belongs to.
  const other = await potholeFor(PLACES.wawel, 'To raczej sprawa MPO');
  await page.goto(`${svc.baseUrl}/staff#/report/${other}`);
  await page.locator('#status-form').waitFor();
  await page.locator('#st-status').selectOption('rejected');
  assert.ok(await page.locator('#st-unit').isVisible());
  await page.fill('#st-public', 'Przekazujemy do MPO.');
  await page.click('#st-submit');
  await page.locator('#st-error').waitFor({ state: 'visible' });
  assert.ok((await page.locator('#st-error').textContent()).length > 0, 'a unit must be chosen');
  await page.locator('#st-unit').selectOption('MPO');
  await page.click('#st-submit');
  await page.waitForFunction(() => /MPO|Oczyszczania/.test(document.querySelector('#report-body .staff-unit')?.textContent || '')
    || document.querySelector('#report-body .banner-error'), null, { timeout: 20_000 });
  const after = await getReport(svc, other);
  assert.equal(after.properties.unit && after.properties.unit.code, 'MPO');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('merging a duplicate by hand and unmerging it', { timeout: 120_000 }, async () => {
  const main = await potholeFor(PLACES.florianska, 'Dziura na Floriańskiej');
  const dup = await potholeFor(PLACES.dietla, 'Ta sama dziura, źle zaznaczona');
  const page = await staffPage();
  await page.goto(`${svc.baseUrl}/staff#/report/${dup}`);
  await page.locator('#merge-form').waitFor({ state: 'attached' });
  await page.locator('#merge-form').locator('xpath=..').locator('summary').click();
  await page.fill('#mg-into', main);
  await page.fill('#mg-note', 'To samo miejsce');
  await page.locator('#merge-form button[type="submit"]').click();
  await page.locator('#unmerge').waitFor({ timeout: 20_000 });
  assert.equal(String((await getReport(svc, dup)).properties.duplicate_of), main);

  await page.click('#unmerge');
  await page.locator('#merge-form').waitFor({ state: 'attached', timeout: 20_000 });
  assert.equal((await getReport(svc, dup)).properties.duplicate_of ?? null, null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('correcting the category and the place with a reason, then passing the report to another unit', { timeout: 120_000 }, async () => {
  const id = await potholeFor([19.9330, 50.0640], 'To chodnik, nie jezdnia');
  const page = await staffPage();
  await page.goto(`${svc.baseUrl}/staff#/report/${id}`);
  await page.locator('#edit-form').waitFor({ state: 'attached' });
  await page.locator('#edit-form').locator('xpath=..').locator('summary').click();
  await page.locator('#ed-category').selectOption('pavement');
  // The new place, by keyboard: choose, then take the map centre.
  await page.click('#ed-place');
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.93330, 50.06420], zoom: 17 }));
  await page.click('#ed-centre');
  assert.match(await page.locator('#ed-place-status').textContent(), /50\.0642/);
  await page.locator('#edit-form button[type="submit"]').click();
  await page.locator('#edit-form-error').waitFor({ state: 'visible' });
  assert.ok((await page.locator('#edit-form-error').textContent()).length > 0, 'a reason is needed');
  await page.fill('#ed-reason', 'Zgłaszający pomylił kategorię i miejsce');
  await page.locator('#edit-form button[type="submit"]').click();
  await page.locator('#report-body .staff-timeline .tl-edited').waitFor({ timeout: 20_000 });
  const edited = await getReport(svc, id);
  assert.equal(edited.properties.category, 'pavement');
  const [lon, lat] = edited.geometry.coordinates;
  assert.ok(Math.abs(lon - 19.9333) < 0.00001 && Math.abs(lat - 50.0642) < 0.00001, `moved to ${lon},${lat}`);
  assert.match(await page.locator('#report-body .staff-timeline .tl-edited').textContent(), /pomylił kategorię/);

  await page.locator('#reassign-form').locator('xpath=..').locator('summary').click();
  await page.locator('#ra-unit').selectOption('ZZM');
  await page.fill('#ra-note', 'Chodnik w parku należy do ZZM');
  await page.locator('#reassign-form button[type="submit"]').click();
  await page.waitForFunction(() => /Zieleni/.test(document.querySelector('#report-body .staff-unit')?.textContent || ''), null, { timeout: 20_000 });
  assert.equal((await getReport(svc, id)).properties.unit.code, 'ZZM');
  // The internal reason is not public.
  assert.doesNotMatch(JSON.stringify(await getReport(svc, id)), /należy do ZZM|pomylił/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an ended session asks to log in again and goes on; a login in another tab does not break this one', { timeout: 90_000 }, async () => {
  const id = await potholeFor([19.9395, 50.0600], 'Dziura do sesji');
  const page = await staffPage();
  await page.goto(`${svc.baseUrl}/staff#/report/${id}`);
  await page.locator('#status-form').waitFor();

  // Another tab logs in: a new session cookie with its own CSRF token replaces this tab's.
  const status = await page.evaluate(async ({ login, password }) => (await fetch('/api/v1/staff/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password }),
  })).status, clerk);
  assert.equal(status, 200);
  await chooseStatus(page, 'acknowledged', { publicNote: 'Przyjęte mimo drugiej karty.' });
  await saveStatusAndWait(page, 'acknowledged');

  // The session ends (cookie gone): the next request brings the login form, then work goes on.
  await page.context().clearCookies();
  await page.locator('#report-back').click();
  await page.locator('#login-form').waitFor({ state: 'visible', timeout: 20_000 });
  assert.ok((await page.locator('#login-error').textContent()).length > 0, 'says the session ended');
  await page.fill('#login-login', clerk.login);
  await page.fill('#login-password', clerk.password);
  await page.click('#login-submit');
  await page.locator('#view-inbox').waitFor({ state: 'visible', timeout: 20_000 });
  await page.locator(`#inbox-list li[data-report-id="${id}"]`).waitFor({ timeout: 20_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a phone: the inbox fits 360 px, filters work by keyboard, English', { timeout: 120_000 }, async () => {
  await potholeFor(PLACES.kazimierz, 'Dziura na Kazimierzu');
  const page = await staffPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, lang: 'en' });
  await page.locator('#inbox-list li').first().waitFor({ timeout: 20_000 });
  assert.equal((await page.locator('#view-inbox h1').textContent()).trim(), 'Unit inbox');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);

  // Filters fold away on a phone; only reports older than a year: none.
  assert.equal(await page.locator('#inbox-filter-box').evaluate((d) => d.open), false);
  await page.locator('#inbox-filter-box summary').click();
  await page.locator('#f-age').focus();
  await page.keyboard.type('365');
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.querySelectorAll('#inbox-list li').length === 0, null, { timeout: 20_000 });
  assert.equal((await page.locator('#inbox-status').textContent()).trim(), 'No reports match the filters.');
  await page.click('#f-reset');
  await page.locator('#inbox-list li').first().waitFor({ timeout: 20_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an administrator sees every unit at once, or one unit', { timeout: 90_000 }, async () => {
  const litter = await createReport(svc, { category: 'litter', lon: 19.9420, lat: 50.0660, description: 'Przepełniony kosz' });
  const litterId = String(litter.id ?? litter.properties.id);
  const litterUnit = (await getReport(svc, litterId)).properties.unit.code;
  const pothole = await potholeFor([19.9300, 50.0610], 'Dziura dla administratora');
  assert.notEqual(litterUnit, 'ZDMK');
  const admin = await addStaffUser(svc, { login: 'admin@example.org', name: 'Admin', roles: ['admin'] });
  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, admin);
  await page.locator(`#inbox-list li[data-report-id="${litterId}"]`).waitFor({ timeout: 20_000 });
  await page.locator(`#inbox-list li[data-report-id="${pothole}"]`).waitFor();
  assert.equal(await page.inputValue('#f-unit'), '', 'all units');
  await page.locator('#f-unit').selectOption('ZDMK');
  await page.waitForFunction((id) => !document.querySelector(`#inbox-list li[data-report-id="${id}"]`), litterId, { timeout: 20_000 });
  await page.locator(`#inbox-list li[data-report-id="${pothole}"]`).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the login form, the inbox and a report pass an accessibility audit (WCAG 2.1 AA)', { timeout: 120_000 }, async () => {
  const id = await potholeFor([19.9380, 50.0595], 'Dziura do audytu');
  const page = await openPage(browser, svc, null);
  await page.goto(`${svc.baseUrl}/staff`);
  await page.locator('#login-form').waitFor();
  await audit(page, 'login');
  await staffLogin(page, svc, clerk);
  await page.locator('#inbox-list li').first().waitFor({ timeout: 20_000 });
  await audit(page, 'inbox');
  await page.goto(`${svc.baseUrl}/staff#/report/${id}`);
  await page.locator('#status-form').waitFor();
  await audit(page, 'report');
  await page.context().close();
});

