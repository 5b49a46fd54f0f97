// The public accountability page /stats: a choropleth of the districts from GET /api/v1/stats,
// switched by a select, and tables per district and per unit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, createReport, apiJson, addStaffUser, staffSession,
  waitForMapIdle, screenshot, injectAxe,
} from './harness.mjs';


let svc;
let browser;
let stats;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  // Reports in a few districts; some resolved, so the medians exist somewhere.
  const spots = [
    [19.9372, 50.0617, 'pothole'], [19.9445, 50.0648, 'street_lighting'], [19.9510, 50.0550, 'litter'],
    [20.0350, 50.0720, 'illegal_dumping'], [19.9050, 50.0460, 'water_sewer'], [19.9700, 50.0340, 'transit_stop'],
    [19.9300, 50.0300, 'litter'], [19.9750, 50.0150, 'pothole'], [19.9180, 50.0710, 'greenery'],
  ];
  const ids = [];
  for (const [lon, lat, category] of spots) {
    const r = await createReport(svc, { lon, lat, category, description: `Zgłoszenie: ${category}` });
    ids.push(String(r.id ?? r.properties.id));
  }
  const admin = await addStaffUser(svc, { login: 'admin@example.org', name: 'Admin', roles: ['admin'] });
  const s = await staffSession(svc, admin);
  for (const id of ids.slice(0, 4)) {
    const r = await s.request(`/api/v1/staff/reports/${id}/status`, { method: 'POST', body: { status: 'resolved', public_note: 'Załatwione.' } });
    assert.equal(r.status, 200, JSON.stringify(r.data));
  }
  const res = await apiJson(svc, '/api/v1/stats');
  assert.equal(res.status, 200, JSON.stringify(res.data));
  stats = res.data;
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

test('/stats: choropleth of the districts switched by the select, tables per district and unit', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/stats');
  await waitForMapIdle(page);
  const rendered = await page.evaluate(() => window.zglosMap.queryRenderedFeatures({ layers: ['stats-fill'] }).map((f) => f.properties));
  const ids = new Set(rendered.map((p) => String(p.id)));
  assert.equal(ids.size, 18, 'all 18 districts are drawn');
  const byId = new Map(stats.districts.map((d) => [String(d.id), d]));
  for (const p of rendered) {
    const want = byId.get(String(p.id));
    if (want) assert.equal(p.value, want.open, `open reports in district ${p.id}`);
  }
  const colours = new Set(rendered.map((p) => p.color));
  assert.ok(colours.size >= 2, 'districts with more open reports are coloured differently');

  // Tables: every district and unit from the API.
  assert.equal(await page.locator('#districts-table tbody tr').count(), stats.districts.length);
  assert.equal(await page.locator('#units-table tbody tr').count(), Math.max(1, stats.units.length));
  const first = stats.districts.find((d) => d.reported > 0);
  const row = page.locator(`#districts-table tbody tr[data-id="${first.id}"]`);
  assert.equal((await row.locator('td[data-col="reported"]').textContent()).trim(), String(first.reported));
  assert.equal((await row.locator('th').textContent()).trim(), first.name);

  // Another measure.
  await page.locator('#metric').selectOption('reported');
  await page.waitForFunction(() => window.zglosMap.getContainer().dataset.metric === 'reported');
  await waitForMapIdle(page);
  const reported = await page.evaluate(() => window.zglosMap.queryRenderedFeatures({ layers: ['stats-fill'] }).map((f) => f.properties));
  for (const p of reported) {
    const want = byId.get(String(p.id));
    if (want) assert.equal(p.value, want.reported);
  }
  await page.locator('#metric').selectOption('median_days_to_resolve');
  await page.waitForFunction(() => window.zglosMap.getContainer().dataset.metric === 'median_days_to_resolve');
  assert.match(await page.locator('#choro-legend').textContent(), /Mediana|Median/);

  // Sorting a table by a column, by keyboard.
  await page.locator('#districts-table th[data-col="reported"] button').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#districts-table th[data-col="reported"]').getAttribute('aria-sort'), 'descending');
  const firstRow = await page.locator('#districts-table tbody tr').first().getAttribute('data-id');
  const max = Math.max(...stats.districts.map((d) => d.reported));
  assert.equal(byId.get(firstRow).reported, max);

  await page.locator('#metric').selectOption('open');
  await waitForMapIdle(page);
  await page.waitForTimeout(400);
  await screenshot(page, 'stats');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('/stats on a phone, in English, passes an accessibility audit', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/stats', { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, lang: 'en' });
  assert.equal((await page.locator('h1').textContent()).trim(), 'How the city handles reports');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling of the page (${overflow}px)`);
  await injectAxe(page);
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    exclude: [['.maplibregl-canvas']],
  }));
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('/stats shows how each unit keeps its deadlines, with the figures as CSV', { timeout: 90_000 }, async () => {
  const month = new Date().toISOString().slice(0, 7);
  const zdmk = stats.deadlines.by_unit.find((r) => r.unit === 'ZDMK' && r.month === month);
  assert.ok(zdmk, JSON.stringify(stats.deadlines));
  // Both potholes and the street light went to ZDMK; a pothole and the light were resolved today, on time.
  assert.equal(zdmk.reported, 3);
  assert.equal(zdmk.on_time_share, 1);
  const page = await openPage(browser, svc, '/stats');
  const row = page.locator(`#deadlines-table tbody tr[data-unit="ZDMK"][data-month="${month}"]`);
  await row.waitFor();
  const cells = await row.locator('th, td').allTextContents();
  assert.equal(cells[1], 'Zarząd Dróg Miasta Krakowa');
  assert.equal(cells[2], '3');
  assert.match(cells[3], /^100\s?%$/);
  const csv = await page.locator('a[href="/api/v1/stats.csv"]').getAttribute('href');
  const res = await fetch(`${svc.baseUrl}${csv}`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), new RegExp(`^unit,ZDMK,Zarząd Dróg Miasta Krakowa,${month},3,`, 'm'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
