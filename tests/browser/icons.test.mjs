// Category icons are the city's SVG pictograms, never emoji (which a device without an emoji font
// draws as empty boxes): in the category lists, on the tracking page and in the map's markers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, launchBrowser, openPage, gotoAndWait, createReport, waitForMapIdle, waitForReportOnMap, apiJson } from './harness.mjs';

let svc;
let browser;
let pothole;
let categories;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  pothole = (await createReport(svc, { category: 'pothole', lon: 19.9450, lat: 50.0550, description: 'Dziura przy przejściu' })).id;
  categories = (await apiJson(svc, '/api/v1/categories')).data.categories;
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

/** Every `.cat-icon`/`.cat-swatch` under `selector`: its image's path and natural width, and its text. */
const iconsIn = (page, selector) => page.evaluate((sel) => [...document.querySelectorAll(`${sel} .cat-icon, ${sel} .cat-swatch`)].map((el) => {
  const img = el.querySelector('img');
  return {
    src: img ? new URL(img.src).pathname : null,
    loaded: !!img && img.complete && img.naturalWidth > 0,
    alt: img ? img.getAttribute('alt') : null,
    text: el.textContent.trim(),
  };
}), selector);

async function waitForImages(page, selector, count) {
  await page.waitForFunction(({ sel, count }) => {
    const imgs = [...document.querySelectorAll(`${sel} .cat-icon img, ${sel} .cat-swatch img`)];
    return imgs.length === count && imgs.every((i) => i.complete);
  }, { sel: selector, count }, { timeout: 15_000 });
}

test('the category lists show the SVG of every category, no emoji', { timeout: 90_000 }, async () => {
  assert.equal(categories.length, 13);
  assert.ok(categories.every((c) => c.icon_url), 'every category of Kraków has an icon_url');
  const page = await openPage(browser, svc, '/');
  await page.click('#filters summary');
  await page.click('#start-report');
  await page.locator('#view-report').waitFor({ state: 'visible' });
  for (const list of ['#category-filter-list', '#category-list']) {
    await waitForImages(page, list, categories.length);
    const icons = await iconsIn(page, list);
    assert.deepEqual(icons.map((i) => i.src), categories.map((c) => `/icons/${c.code}.svg`), list);
    for (const [i, icon] of icons.entries()) {
      assert.ok(icon.loaded, `${list}: ${categories[i].code} drawn (naturalWidth > 0)`);
      assert.equal(icon.alt, '', 'decoration: the name says what it is');
      assert.equal(icon.text, '', `${list}: ${categories[i].code} has no emoji`);
    }
  }
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.foreign, []);
  await page.context().close();
});

test('the tracking page shows the category SVG', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, `/r/${pothole}`);
  await page.locator('.report-title .cat-icon img').waitFor();
  await waitForImages(page, '.report-title', 1);
  const [icon] = await iconsIn(page, '.report-title');
  assert.equal(icon.src, '/icons/pothole.svg');
  assert.ok(icon.loaded, 'drawn');
  assert.equal(icon.text, '', 'no emoji');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.foreign, []);
  await page.context().close();
});

test('the map marker of a category is its SVG drawn in white on the category colour', { timeout: 120_000 }, async () => {
  const page = await openPage(browser, svc, null);
  const svgRequests = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/icons/')) svgRequests.push(new URL(r.url()).pathname); });
  await gotoAndWait(page, `${svc.baseUrl}/`);
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9450, 50.0550], zoom: 16 }));
  await waitForMapIdle(page);
  await waitForReportOnMap(page, pothole, ['reports-icon']);
  const color = categories.find((c) => c.code === 'pothole').color;
  // The marker as it should be: the disc, and the pack's SVG over it in white. It may arrive
  // after the first paint (the SVG loads after the map asks for the image): wait for it.
  const diff = () => page.evaluate(async (color) => {
    const m = window.zglosMap;
    if (!m.hasImage('cat:pothole')) return 'missing';
    const got = (m.getImage ? m.getImage('cat:pothole') : m.style.getImage('cat:pothole')).data;
    const img = new Image();
    img.src = '/icons/pothole.svg';
    await img.decode();
    const R = 2;
    const c = document.createElement('canvas');
    c.width = c.height = 26 * R;
    const ctx = c.getContext('2d');
    ctx.scale(R, R);
    ctx.beginPath();
    ctx.arc(13, 13, 12, 0, Math.PI * 2);
    ctx.fillStyle = color;
    ctx.fill();
    const off = document.createElement('canvas');
    off.width = off.height = 14 * R;
    const o = off.getContext('2d');
    o.drawImage(img, 0, 0, off.width, off.height);
    o.globalCompositeOperation = 'source-in';
    o.fillStyle = '#ffffff';
    o.fillRect(0, 0, off.width, off.height);
    ctx.drawImage(off, 6, 6, 14, 14);
    const want = ctx.getImageData(0, 0, c.width, c.height).data;
    if (got.width !== c.width || got.height !== c.height) return `size ${got.width}×${got.height}`;
    let white = 0;
    let off_ = 0;
    for (let i = 0; i < want.length; i += 4) {
      if (want[i] > 240 && want[i + 1] > 240 && want[i + 2] > 240 && want[i + 3] > 240) white += 1;
      if ([0, 1, 2, 3].some((k) => Math.abs(want[i + k] - got.data[i + k]) > 48)) off_ += 1;
    }
    return white > 40 && off_ < want.length / 4 / 100 ? 'same' : `${off_} pixels differ (${white} white)`;
  }, color);
  let last;
  for (let i = 0; i < 60 && (last = await diff()) !== 'same'; i += 1) await page.waitForTimeout(250);
  assert.equal(last, 'same', 'cat:pothole is the SVG in white on the category colour');
  assert.ok(svgRequests.includes('/icons/pothole.svg'), `loaded from this origin: ${svgRequests}`);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.foreign, [], 'no other host');
  await page.context().close();
});
