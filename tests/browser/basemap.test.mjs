// The city's own basemap: streets with their names, buildings, water and house numbers drawn from
// the service's tiles, style and glyphs, with every request to another host cut off and counted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, waitForMapIdle, screenshot, createReport, waitForReportOnMap,
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

const rendered = (page, layer) => page.evaluate((id) => {
  const m = window.zglosMap;
  if (!m.getLayer(id)) return [];
  return m.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties['name:latin'] || f.properties.housenumber || '');
}, layer);

/** Waits (up to 20 s) until a layer has at least `min` features drawn; their names or numbers. */
async function drawn(page, layer, min = 1) {
  await page.waitForFunction(([id, n]) => {
    const m = window.zglosMap;
    return m.getLayer(id) && m.queryRenderedFeatures({ layers: [id] }).length >= n;
  }, [layer, min], { timeout: 20_000, polling: 250 }).catch(() => {});
  return rendered(page, layer);
}

async function view(page, center, zoom) {
  await page.evaluate(([c, z]) => window.zglosMap.jumpTo({ center: c, zoom: z }), [center, zoom]);
  await waitForMapIdle(page);
}

test('the map shows the city\'s streets, names and buildings with no request to another host', { timeout: 180_000 }, async () => {
  const pin = await createReport(svc, { category: 'pothole', lon: 19.93935, lat: 50.06330, description: 'Dziura przy Floriańskiej' });
  const page = await openPage(browser, svc, null);
  const glyphs = [];
  page.on('response', (r) => { if (r.url().includes('/fonts/')) glyphs.push([r.url(), r.status()]); });
  await page.goto(`${svc.baseUrl}/`);
  await page.waitForFunction(() => document.body.dataset.basemap === 'on', null, { timeout: 30_000 });

  // The city at z12: districts over the basemap's landuse, water and main roads.
  await view(page, [19.945, 50.06], 12);
  assert.ok((await drawn(page, 'basemap-water')).length > 0, 'the Vistula');
  assert.ok((await drawn(page, 'basemap-road-primary')).length > 0, 'main roads');
  await screenshot(page, 'basemap-city-z12');

  // The Old Town at z16: buildings, and street names drawn with Polish letters.
  await view(page, [19.9385, 50.0625], 16);
  assert.ok((await drawn(page, 'basemap-building', 51)).length > 50, 'buildings');
  const names = new Set([...await drawn(page, 'basemap-road-name-minor'), ...await rendered(page, 'basemap-road-name')]);
  assert.ok(names.size >= 5, `street names drawn: ${[...names]}`);
  assert.ok([...names].some((n) => /[ąćęłńóśźż]/i.test(n)), `a name with Polish letters: ${[...names]}`);
  await screenshot(page, 'basemap-old-town-z16');

  // A street at z18, overzoomed from z14 tiles: house numbers and the report's pin.
  await view(page, [19.93935, 50.0633], 18);
  assert.ok((await drawn(page, 'basemap-housenumber')).length > 0, 'house numbers');
  await waitForReportOnMap(page, String(pin.id), ['reports-point']);
  await screenshot(page, 'basemap-street-z18');

  // The glyphs came from the service and every one loaded; the attribution is on the map.
  assert.ok(glyphs.length > 0, 'labels asked for glyphs');
  assert.deepEqual(glyphs.filter(([, s]) => s !== 200), [], 'every glyph range loaded');
  assert.ok(glyphs.every(([u]) => u.startsWith(svc.baseUrl)), 'glyphs from this origin');
  const attribution = await page.locator('.maplibregl-ctrl-attrib').innerText();
  assert.match(attribution, /© OpenStreetMap contributors/);

  assert.deepEqual(page.foreign, [], 'no request left the service\'s origin');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
