// Moderation in the staff UI: an admin puts an address on the abuse list, a report from it is
// held (not public) and waits in the queue; one is released (public and routed), another
// rejected (stays off the map, listed as rejected); the moderation log shows both. Redaction: a
// description and a photo hidden through the report view disappear from the tracking page,
// while staff still see them, marked with the reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, apiJson, addStaffUser, staffLogin, makePng, getReport, injectAxe,
} from './harness.mjs';

let svc;
let browser;
let admin;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  admin = await addStaffUser(svc, { login: 'moderator@example.org', name: 'Moderator', roles: ['admin'] });
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

const SPAMMER = 'spammer@example.org';

async function fileReport({ lon, lat, description, email, photos }) {
  const properties = { category: 'pothole', description, channel: 'web', lang: 'pl' };
  if (email) properties.contact = { email };
  if (photos) properties.photos = photos;
  const { status, data } = await apiJson(svc, '/api/v1/reports', {
    method: 'POST',
    body: { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties },
  });
  assert.equal(status, 201, JSON.stringify(data));
  return String(data.id ?? data.properties.id);
}

async function publicStatus(id) {
  return (await apiJson(svc, `/api/v1/reports/${id}`)).status;
}

async function uploadPhoto(colour) {
  const png = await makePng(64, 48, colour);
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'photo.png');
  const res = await fetch(`${svc.baseUrl}/api/v1/photos`, { method: 'POST', body: form });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.id;
}

async function moderationPage() {
  const page = await openPage(browser, svc, null);
  page.on('dialog', (d) => d.accept());
  await staffLogin(page, svc, admin, '/staff#/moderation');
  await page.locator('#view-moderation').waitFor({ state: 'visible' });
  return page;
}

test('an abuse-listed sender is held, then released or rejected in the queue, and the log shows it', { timeout: 120_000 }, async () => {
  const page = await moderationPage();

  // The abuse list: a malformed value is refused next to its field, a good one is listed.
  await page.locator('#abuse-kind').selectOption('email');
  await page.fill('#abuse-value', 'not an address');
  await page.click('#abuse-form button[type="submit"]');
  await page.locator('#abuse-value-error').waitFor({ state: 'visible' });
  assert.equal(await page.getAttribute('#abuse-value', 'aria-invalid'), 'true');
  await page.fill('#abuse-value', SPAMMER);
  await page.fill('#abuse-note', 'bulk junk');
  await page.click('#abuse-form button[type="submit"]');
  await page.locator('.abuse-item .abuse-value', { hasText: SPAMMER }).waitFor();
  assert.ok(await page.locator('#abuse-value-error').isHidden());

  // Two reports from the listed address: acknowledged (201) but not public.
  const kept = await fileReport({ lon: 19.9374, lat: 50.0617, description: 'Held one, to be released', email: SPAMMER });
  const dropped = await fileReport({ lon: 19.9417, lat: 50.0579, description: 'Held two, to be rejected', email: SPAMMER });
  assert.equal(await publicStatus(kept), 404);
  assert.equal(await publicStatus(dropped), 404);

  await page.reload();
  await page.locator('#view-moderation').waitFor({ state: 'visible' });
  const item = (id) => page.locator(`.mod-item[data-id="${id}"]`);
  await item(kept).waitFor();
  await item(dropped).waitFor();
  assert.match(await item(kept).textContent(), /Held one, to be released/);
  assert.match(await item(kept).textContent(), new RegExp(SPAMMER));

  // Release: public and routed.
  await item(kept).locator('.mod-release').click();
  await item(kept).waitFor({ state: 'detached' });
  const released = await getReport(svc, kept);
  assert.equal(released.properties.unit && released.properties.unit.code, 'ZDMK');

  // Reject without a reason is refused in place; with one it leaves the queue.
  await item(dropped).locator('.mod-reject').click();
  await item(dropped).locator('.field-error').waitFor({ state: 'visible' });
  await item(dropped).locator('input').fill('advertising');
  await item(dropped).locator('.mod-reject').click();
  await item(dropped).waitFor({ state: 'detached' });
  assert.equal(await publicStatus(dropped), 404);

  await page.locator('#mod-which').selectOption('rejected');
  await item(dropped).waitFor();
  assert.equal(await item(kept).count(), 0);

  // The log: the listing, the release and the rejection with its reason.
  const log = page.locator('#mod-audit');
  await log.locator('tr', { hasText: `#${kept}` }).first().waitFor();
  const rejectedRow = log.locator('tr', { hasText: `#${dropped}` }).first();
  await rejectedRow.waitFor();
  assert.match(await rejectedRow.textContent(), /advertising/);
  assert.match(await rejectedRow.textContent(), /moderator@example\.org/);

  // The view passes the WCAG 2.1 AA audit.
  await injectAxe(page);
  const result = await page.evaluate(async () => window.axe.run(document.querySelector('#view-moderation'), {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  assert.deepEqual(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
  await page.close();
});

test('a description and a photo hidden in the report view leave the tracking page, staff still see them', { timeout: 120_000 }, async () => {
  const keep = await uploadPhoto([40, 160, 60]);
  const hide = await uploadPhoto([200, 40, 40]);
  const secret = 'Call me on 600 100 200, I live at number 5';
  const id = await fileReport({ lon: 19.9401, lat: 50.0640, description: secret, photos: [keep, hide] });

  const page = await moderationPage();
  await page.goto(`${svc.baseUrl}/staff#/report/${id}`);
  const box = page.locator('#redact-box');
  await box.waitFor();
  await box.locator('summary').click();
  await box.locator('.redact-description button').waitFor();

  // A reason is required.
  await box.locator('.redact-description button').click();
  await page.locator('#redact-error').waitFor({ state: 'visible' });

  await page.fill('#redact-reason', 'a phone number');
  await box.locator('.redact-description button').click();
  await page.locator('#redact-box .redact-description .flag-hidden').waitFor();
  assert.match(await page.locator('#redact-box .redact-description').textContent(), /a phone number/);

  await page.locator('#redact-box').evaluate((d) => { d.open = true; });
  await page.fill('#redact-reason', 'a face');
  await page.locator(`#redact-box .redact-photo[data-photo="${hide}"] button`).click();
  await page.locator(`#redact-box .redact-photo[data-photo="${hide}"] .flag-hidden`).waitFor();
  assert.equal(await page.locator(`#redact-box .redact-photo[data-photo="${keep}"] .flag-hidden`).count(), 0);

  // The public: neither the text nor the hidden photo, on the API or the tracking page.
  const pub = await getReport(svc, id);
  assert.ok(!JSON.stringify(pub).includes('600 100 200'));
  assert.deepEqual(pub.properties.photos.map((p) => p.id), [keep]);
  const track = await openPage(browser, svc, `/r/${id}`);
  await track.locator('.report-title').first().waitFor();
  const html = await track.content();
  assert.ok(!html.includes('600 100 200'), 'the hidden description is not on the tracking page');
  assert.ok(!html.includes(hide), 'the hidden photo is not on the tracking page');
  assert.ok(html.includes(keep), 'the other photo still is');
  await track.close();
  await page.close();
});
