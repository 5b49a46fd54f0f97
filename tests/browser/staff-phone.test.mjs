// The contact centre: a consultant searches reports near the caller's place first, adds the caller
// to an existing report ("me too"), or files a new phone report with the caller's contact, which
// only staff can see.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, createReport, getReport, addStaffUser, staffSession,
  staffLogin, clickMapAt, injectAxe,
} from './harness.mjs';


let svc;
let browser;
let consultant;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  consultant = await addStaffUser(svc, { login: 'konsultant@example.org', name: 'Konsultant', roles: ['consultant'] });
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

const LAMP = [19.94450, 50.06480];
const NEW_PLACE = [19.92600, 50.05800];

test('a caller\'s problem already reported: found nearby, the caller is added with "me too"', { timeout: 120_000 }, async () => {
  const existing = await createReport(svc, { category: 'street_lighting', lon: LAMP[0], lat: LAMP[1], description: 'Latarnia nie świeci' });
  const id = String(existing.id ?? existing.properties.id);
  const before = (await getReport(svc, id)).properties.supporters;

  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, consultant);
  // A consultant starts on the phone view.
  await page.locator('#view-phone').waitFor({ state: 'visible' });
  assert.ok(await page.locator('[data-view-link="inbox"]').isHidden(), 'no inbox for a consultant');

  // Filing is offered only after the search.
  assert.ok(await page.locator('#phone-form').isHidden());
  await clickMapAt(page, LAMP[0] + 0.00005, LAMP[1]);
  await page.locator('#phone-category').selectOption('street_lighting');
  await page.click('#phone-search');
  const hit = page.locator(`#phone-nearby li[data-report-id="${id}"]`);
  await hit.waitFor({ timeout: 20_000 });
  assert.match(await hit.textContent(), /Latarnia nie świeci/);
  assert.ok(await page.locator('#phone-form').isVisible(), 'a new report can be filed after the search');

  // Another caller asks how report no. {id} is going.
  await page.fill('#lookup-id', id);
  await page.click('#lookup-submit');
  const card = page.locator(`#lookup-result .lookup-card[data-report-id="${id}"]`);
  await card.waitFor({ timeout: 20_000 });
  assert.match(await card.textContent(), /Latarnia nie świeci/);
  assert.match(await card.textContent(), /Nowe/);

  // The phone view with results and a looked-up report passes a WCAG 2.1 AA audit.
  await injectAxe(page);
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    exclude: [['.maplibregl-canvas']],
  }));
  assert.deepEqual(result.violations.map((v) => `${v.id}: ${v.help} ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`), []);

  await page.fill('#phone-email', 'dzwoniacy@example.org');
  await hit.locator('.btn-metoo').click();
  await page.locator('#phone-result').waitFor({ state: 'visible', timeout: 20_000 });
  assert.match(await page.locator('#phone-result').textContent(), new RegExp(`${id}`));
  assert.equal((await getReport(svc, id)).properties.supporters, before + 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a new phone report: searched first, filed with channel "phone" and the caller\'s contact, shown to staff only', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, consultant);
  await page.locator('#view-phone').waitFor({ state: 'visible' });
  await clickMapAt(page, NEW_PLACE[0], NEW_PLACE[1]);
  assert.match(await page.locator('#phone-where').textContent(), /Stare Miasto|Zwierzyniec|Dzielnica|Place/);
  await page.locator('#phone-category').selectOption('pothole');
  // Sending before searching is not possible: the form appears with the search.
  await page.click('#phone-search');
  await page.locator('#phone-form').waitFor({ state: 'visible', timeout: 20_000 });
  assert.match(await page.locator('#phone-search-status').textContent(), /nie ma|No similar/);

  await page.fill('#phone-description', 'Dzwoniący zgłasza dziurę przed szkołą');
  await page.fill('#phone-name', 'Maria Nowak');
  await page.fill('#phone-phone', '+48 600 100 200');
  await page.fill('#phone-email', 'maria@example.org');
  await page.click('#phone-send');
  await page.locator('#phone-result').waitFor({ state: 'visible', timeout: 20_000 });
  const m = (await page.locator('#phone-result').textContent()).match(/(\d+)/);
  assert.ok(m, 'the report number is shown to read to the caller');
  const id = m[1];

  const pub = await getReport(svc, id);
  assert.equal(pub.properties.channel, 'phone');
  assert.equal(pub.properties.description, 'Dzwoniący zgłasza dziurę przed szkołą');
  assert.doesNotMatch(JSON.stringify(pub), /Maria Nowak|600 100 200|maria@example\.org/, 'the public view has no contact');

  const admin = await addStaffUser(svc, { login: 'admin@example.org', name: 'Admin', roles: ['admin'] });
  const s = await staffSession(svc, admin);
  const staffView = await s.request(`/api/v1/staff/reports/${id}`);
  assert.equal(staffView.status, 200, JSON.stringify(staffView.data));
  const contact = staffView.data.properties.contact;
  assert.equal(contact.name, 'Maria Nowak');
  assert.equal(contact.email, 'maria@example.org');
  // Ready for the next call.
  assert.equal(await page.inputValue('#phone-description'), '');
  assert.ok(await page.locator('#phone-form').isHidden());
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
