// The map: filters by category and status, the list of reports in view, and the basemap, which is
// put under the city's layers only when its style loads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, gotoAndWait, createReport, waitForMapIdle, waitForReportOnMap,
  apiJson,
} from './harness.mjs';

let svc;
let browser;
let pothole;
let litter;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  pothole = String((await createReport(svc, { category: 'pothole', lon: 19.9450, lat: 50.0550, description: 'Dziura przy przejściu' })).id);
  litter = String((await createReport(svc, { category: 'litter', lon: 19.9456, lat: 50.0552, description: 'Rozsypane śmieci' })).id);
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

const renderedIds = (page) => page.evaluate(() => {
  const m = window.zglosMap;
  return [...new Set(m.queryRenderedFeatures({ layers: ['reports-point'] }).map((f) => String(f.properties.id)))].sort();
});

async function waitForIds(page, expected) {
  await page.waitForFunction((want) => {
    const m = window.zglosMap;
    const got = [...new Set(m.queryRenderedFeatures({ layers: ['reports-point'] }).map((f) => String(f.properties.id)))].sort();
    return JSON.stringify(got) === JSON.stringify(want);
  }, [...expected].sort(), { timeout: 20_000, polling: 200 }).catch(async (e) => {
    throw new Error(`${e.message}; rendered ${JSON.stringify(await renderedIds(page))}, wanted ${JSON.stringify(expected)}`);
  });
}

test('filter by category and by status', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9453, 50.0551], zoom: 17 }));
  await waitForMapIdle(page);
  await waitForIds(page, [pothole, litter]);

  await page.click('#filters summary');
  await page.locator('#category-filter-list label', { has: page.locator('input[value="litter"]') }).click();
  await waitForIds(page, [litter]);
  assert.match(await page.evaluate(() => window.zglosMap.getSource('reports').tiles[0]), /category=litter/);
  assert.match(await page.locator('#filter-summary').textContent(), /1 kategoria/);

  await page.click('#filter-reset');
  await waitForIds(page, [pothole, litter]);

  await page.selectOption('#status-filter', 'resolved');
  await waitForIds(page, []);
  assert.ok(await page.locator('#status-zoom-hint').isVisible());
  await page.selectOption('#status-filter', 'new');
  await waitForIds(page, [pothole, litter]);
  await page.selectOption('#status-filter', 'all');
  assert.match(await page.evaluate(() => window.zglosMap.getSource('reports').tiles[0]), /status=all/);
  await waitForIds(page, [pothole, litter]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the list of reports in view opens a report', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9453, 50.0551], zoom: 16 }));
  await waitForMapIdle(page);
  await page.click('#list-toggle');
  assert.equal(await page.getAttribute('#list-toggle', 'aria-expanded'), 'true');
  await page.waitForFunction(() => document.querySelectorAll('#report-list li').length === 2, null, { timeout: 15_000 });
  await page.locator('#report-list button', { hasText: 'Rozsypane śmieci' }).click();
  await page.locator('#details-body .report-card').waitFor();
  assert.equal(await page.locator('#details-body .report-card').getAttribute('data-report-id'), litter);
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains('report-title')), true, 'focus on the report');
  await page.context().close();
});

test('a basemap style that loads goes under the city layers', { timeout: 90_000 }, async () => {
  const { data: config } = await apiJson(svc, '/api/v1/config');
  const styleUrl = config.map.basemap_style_url;
  assert.ok(styleUrl, 'the city configures a basemap');
  const page = await openPage(browser, svc, null);
  const style = {
    version: 8,
    name: 'test basemap',
    sources: {
      land: {
        type: 'geojson',
        attribution: '© Test basemap',
        data: { type: 'Polygon', coordinates: [[[19.7, 49.9], [20.3, 49.9], [20.3, 50.2], [19.7, 50.2], [19.7, 49.9]]] },
      },
    },
    layers: [
      { id: 'bg', type: 'background', paint: { 'background-color': '#f2efe9' } },
      { id: 'land', type: 'fill', source: 'land', paint: { 'fill-color': '#e8f0e0' } },
    ],
  };
  await page.route(styleUrl, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(style) }));
  await gotoAndWait(page, `${svc.baseUrl}/`);
  await page.waitForFunction(() => document.body.dataset.basemap === 'on', null, { timeout: 20_000 });
  const layers = await page.evaluate(() => window.zglosMap.getStyle().layers.map((l) => l.id));
  assert.ok(layers.indexOf('basemap-land') >= 0 && layers.indexOf('basemap-land') < layers.indexOf('districts-fill'), layers.join(','));
  assert.ok(!layers.includes('zglos-background'));
  assert.equal(await page.evaluate(() => window.zglosMap.getPaintProperty('districts-fill', 'fill-opacity')), 0.12);
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9453, 50.0551], zoom: 17 }));
  await waitForMapIdle(page);
  await waitForReportOnMap(page, pothole, ['reports-point']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a basemap that fails leaves the districts-only map working', { timeout: 90_000 }, async () => {
  const { data: config } = await apiJson(svc, '/api/v1/config');
  const page = await openPage(browser, svc, null);
  await page.route(config.map.basemap_style_url, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"version": 8, "layers": "broken' }));
  await gotoAndWait(page, `${svc.baseUrl}/`);
  await page.waitForTimeout(1000);
  assert.equal(await page.evaluate(() => document.body.dataset.basemap), 'off');
  await page.waitForFunction(() => window.zglosMap.queryRenderedFeatures({ layers: ['districts-line'] }).length > 0, null, { timeout: 20_000 });
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9453, 50.0551], zoom: 17 }));
  await waitForMapIdle(page);
  await waitForReportOnMap(page, pothole, ['reports-point']);
  await page.context().close();
});
