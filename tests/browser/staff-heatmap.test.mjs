// The heatmap for staff: a MapLibre heatmap layer over /tiles/heatmap tiles whose features decode
// with a count, changing with the category, status and time filters; the unit's hotspots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, createReport, addStaffUser, staffLogin, staffSession, waitForMapIdle,
  screenshot, injectAxe,
} from './harness.mjs';


let svc;
let browser;
let analyst;

// Clusters of reports: many potholes around the Old Town, street lights in Nowa Huta, litter here
// and there. A deterministic spread so the tiles are the same on every run.
function spread(centre, n, radius, seed) {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  return Array.from({ length: n }, () => {
    const a = rnd() * Math.PI * 2;
    const r = Math.sqrt(rnd()) * radius;
    return [centre[0] + Math.cos(a) * r * 1.55, centre[1] + Math.sin(a) * r];
  });
}

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  analyst = await addStaffUser(svc, { login: 'analityk@example.org', name: 'Analityk', roles: ['unit_staff', 'analyst'], units: ['ZDMK'] });
  const batches = [
    ['pothole', spread([19.9385, 50.0615], 30, 0.006, 7)],
    ['street_lighting', spread([20.0350, 50.0720], 14, 0.008, 11)],
    ['litter', spread([19.9600, 50.0450], 8, 0.02, 13)],
  ];
  for (const [category, points] of batches) {
    for (const [lon, lat] of points) {
      await createReport(svc, { category, lon, lat, description: `Zgłoszenie ${category}` });
    }
  }
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

/** Heat cells the map has decoded from the tiles in view: [{count, ...}]. */
async function heatCells(page) {
  await waitForMapIdle(page);
  return page.evaluate(() => window.zglosMap.querySourceFeatures('heat', { sourceLayer: 'heatmap' }).map((f) => f.properties));
}

const total = (cells) => cells.reduce((s, c) => s + Number(c.count || 0), 0);

test('heatmap layer from decoded tiles, changing with the category, status and time filters; hotspots', { timeout: 180_000 }, async () => {
  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, analyst, '/staff#/heatmap');
  await page.locator('#view-heatmap').waitFor({ state: 'visible' });
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.975, 50.06], zoom: 11.3 }));

  const layer = await page.evaluate(() => {
    const l = window.zglosMap.getLayer('heatmap');
    return l && { type: l.type, visibility: window.zglosMap.getLayoutProperty('heatmap', 'visibility') };
  });
  assert.deepEqual(layer, { type: 'heatmap', visibility: 'visible' });

  const all = await heatCells(page);
  assert.ok(all.length > 0, 'heat cells decoded from the tiles');
  assert.ok(all.every((c) => Number(c.count) >= 1), 'every cell has a count');
  const allTotal = total(all);
  assert.ok(allTotal >= 30, `the cells count the reports (${allTotal})`);
  await page.waitForTimeout(500);
  await screenshot(page, 'staff-heatmap');

  // One category: fewer reports; a category nobody reported: nothing.
  await page.locator('#heat-categories label', { has: page.locator('input[value="street_lighting"]') }).click();
  await page.waitForFunction(() => /category=street_lighting/.test(document.body.dataset.heatUrl || ''));
  const lights = await heatCells(page);
  assert.ok(lights.length > 0 && total(lights) < allTotal, `street lights only: ${total(lights)} of ${allTotal}`);
  await page.locator('#heat-categories label', { has: page.locator('input[value="street_lighting"]') }).click();
  await page.locator('#heat-categories label', { has: page.locator('input[value="snow_ice"]') }).click();
  await page.waitForFunction(() => /category=snow_ice(&|$)/.test(document.body.dataset.heatUrl || ''));
  assert.equal((await heatCells(page)).length, 0, 'no snow reports, no heat');
  await page.locator('#heat-categories label', { has: page.locator('input[value="snow_ice"]') }).click();

  // The time slider sets from= (last 7 days by keyboard), and status=all is passed on.
  await page.locator('#heat-period').focus();
  await page.keyboard.press('Home');
  const week = new Date(Date.now() - 7 * 86400_000);
  const p = (n) => String(n).padStart(2, '0');
  const from = `${week.getFullYear()}-${p(week.getMonth() + 1)}-${p(week.getDate())}`;
  await page.waitForFunction((f) => (document.body.dataset.heatUrl || '').includes(`from=${f}`), from);
  assert.match(await page.locator('#heat-period-out').textContent(), /7/);
  assert.equal(await page.locator('#heat-period').getAttribute('aria-valuetext'), await page.locator('#heat-period-out').textContent());
  await page.locator('#heat-status').selectOption('all');
  await page.waitForFunction(() => /status=all/.test(document.body.dataset.heatUrl || ''));
  const recent = await heatCells(page);
  assert.equal(total(recent), allTotal, 'all reports are from this week');

  // Hotspots for the unit: a list (possibly empty), never an error.
  await page.waitForFunction(() => (document.querySelector('#hot-status')?.textContent || '').length > 0);
  assert.equal(await page.locator('#hot-status').textContent().then((t) => /ZDMK|Zarząd Dróg/.test(t)), true,
    await page.locator('#hot-status').textContent());
  const api = await (await staffSession(svc, analyst)).request('/api/v1/staff/hotspots?unit=ZDMK');
  assert.equal(api.status, 200);
  assert.equal(await page.locator('#hotspot-list li').count(), api.data.hotspots.length, 'every hotspot is listed');
  if (api.data.hotspots.length) {
    // Each is ringed on the map, and "show on the map" goes there.
    assert.equal(await page.evaluate(async () => (await window.zglosMap.getSource('hotspots').getData()).features.length), api.data.hotspots.length);
    assert.equal(await page.evaluate(() => window.zglosMap.getLayoutProperty('hotspots-ring', 'visibility')), 'visible');
    await page.locator('#hotspot-list li').first().locator('button').click();
    const [lon, lat] = [api.data.hotspots[0].lon, api.data.hotspots[0].lat];
    await page.waitForFunction(([x, y]) => {
      const c = window.zglosMap.getCenter();
      return !window.zglosMap.isMoving() && Math.abs(c.lng - x) < 1e-4 && Math.abs(c.lat - y) < 1e-4;
    }, [lon, lat], { timeout: 10_000 });
  }

  // The view passes a WCAG 2.1 AA audit, in English too.
  for (const l of ['pl', 'en']) {
    if (l === 'en') {
      await page.click('[data-lang="en"]');
      await page.waitForFunction(() => document.querySelector('#view-heatmap h1').textContent === 'Heatmap');
      assert.match(await page.locator('#heat-period-out').textContent(), /Last 7 days/);
    }
    await injectAxe(page);
    const result = await page.evaluate(async () => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      exclude: [['.maplibregl-canvas']],
    }));
    assert.deepEqual(result.violations.map((v) => `${v.id}: ${v.help} ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`), [], l);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the inbox of a busy unit: list, counts and map', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, analyst, '/staff#/inbox');
  await page.locator('#inbox-list li').first().waitFor({ timeout: 20_000 });
  const shown = await page.locator('#inbox-list li').count();
  assert.ok(shown >= 40, `potholes and street lights of ZDMK (${shown})`);
  assert.equal(Number((await page.locator('#count-open').textContent()).replace(/\D/g, '')), shown);
  // Oldest first, and the map shows the same reports.
  await page.locator('#f-sort').selectOption('oldest');
  await page.waitForFunction(() => {
    const ids = [...document.querySelectorAll('#inbox-list li')].map((li) => Number(li.dataset.reportId));
    return ids.length > 1 && ids[0] < ids[ids.length - 1];
  });
  await page.waitForFunction((n) => window.zglosMap.querySourceFeatures('inbox').length >= n, shown);
  await waitForMapIdle(page);
  await page.waitForTimeout(400);
  await screenshot(page, 'staff-inbox');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('without a staff session the heatmap tiles are refused', { timeout: 30_000 }, async () => {
  const res = await fetch(`${svc.baseUrl}/tiles/heatmap/12/2275/1388.mvt`);
  assert.ok([401, 403].includes(res.status), `status ${res.status}`);
});
