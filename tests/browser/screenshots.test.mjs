// Screenshots of the main screens for docs/screenshots/. Runs only with ZGLOS_SCREENSHOTS=1 so
// that ordinary test runs (and CI) never rewrite the pictures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, fillReport, createReport, screenshot, takeScreenshots,
  waitForMapIdle, idFromTrackingUrl, gotoAndWait, photosSupported, makePng,
} from './harness.mjs';

let svc;
let browser;

before(async () => {
  if (!takeScreenshots) return;
  svc = await startService();
  browser = await launchBrowser();
  // A spread of reports over the city so the map looks lived in.
  const spots = [
    [19.9372, 50.0617, 'pothole'], [19.9445, 50.0648, 'street_lighting'], [19.9260, 50.0580, 'graffiti'],
    [19.9510, 50.0550, 'litter'], [19.9610, 50.0700, 'illegal_parking'], [19.9180, 50.0710, 'greenery'],
    [19.9900, 50.0780, 'pavement'], [20.0350, 50.0720, 'illegal_dumping'], [19.9050, 50.0460, 'water_sewer'],
    [19.9700, 50.0340, 'transit_stop'], [19.8950, 50.0850, 'traffic_sign'], [19.9480, 50.0900, 'pothole'],
    [20.0100, 50.0950, 'street_lighting'], [19.9300, 50.0300, 'litter'], [19.9750, 50.0150, 'pothole'],
    [20.0600, 50.0500, 'greenery'], [19.8700, 50.0600, 'idea'], [19.9600, 50.0920, 'snow_ice'],
    [19.9230, 50.0650, 'pothole'], [19.9410, 50.0530, 'graffiti'], [19.9530, 50.0630, 'street_lighting'],
    [19.9390, 50.0700, 'litter'], [20.0200, 50.0300, 'pothole'], [19.9850, 50.0500, 'water_sewer'],
  ];
  const texts = {
    pothole: 'Głęboka dziura na pasie do skrętu', street_lighting: 'Latarnia nie świeci od kilku dni',
    graffiti: 'Świeże graffiti na elewacji kamienicy', litter: 'Przepełniony kosz przy ławce',
    illegal_parking: 'Auta parkują na przejściu dla pieszych', greenery: 'Złamana gałąź nad ścieżką',
    pavement: 'Wybrzuszone płyty chodnikowe', illegal_dumping: 'Gruz i opony w zaroślach',
    water_sewer: 'Zapadnięta studzienka', transit_stop: 'Zniszczona wiata przystanku',
    traffic_sign: 'Przekrzywiony znak STOP', idea: 'Przydałby się stojak na rowery', snow_ice: 'Oblodzony chodnik',
  };
  for (const [lon, lat, category] of spots) {
    await createReport(svc, { lon, lat, category, description: texts[category] });
  }
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

test('screenshots of the main screens', { skip: !takeScreenshots && 'set ZGLOS_SCREENSHOTS=1 to take them', timeout: 240_000 }, async () => {
  // The map of the city.
  const page = await openPage(browser, svc, '/');
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.955, 50.062], zoom: 11.6 }));
  await waitForMapIdle(page);
  await page.locator('#filters summary').click();
  await page.waitForTimeout(500);
  await screenshot(page, 'map');
  await page.locator('#filters summary').click();

  // Zoomed in: single reports with category icons.
  await page.evaluate(() => window.zglosMap.jumpTo({ center: [19.9400, 50.0625], zoom: 15.2 }));
  await waitForMapIdle(page);
  await page.waitForTimeout(500);
  await screenshot(page, 'map-zoomed');

  // The form, with the "already reported nearby?" suggestion.
  await fillReport(page, { lon: 19.93725, lat: 50.06172, category: 'pothole', description: 'Dziura na środku pasa, auta ją omijają' });
  await page.locator('#nearby .nearby-item').first().waitFor({ state: 'visible', timeout: 15_000 });
  await page.waitForTimeout(400);
  await page.locator('#step-what').scrollIntoViewIfNeeded();
  await screenshot(page, 'form');
  await page.locator('#nearby').scrollIntoViewIfNeeded();
  await screenshot(page, 'nearby');

  // Sent: the tracking page.
  await fillReport(page, { lon: 19.9290, lat: 50.0560, category: 'pothole', description: 'Dziura na środku pasa, auta ją omijają' });
  if (await photosSupported(svc)) {
    await page.setInputFiles('#photo-input', [
      { name: 'dziura1.png', mimeType: 'image/png', buffer: await makePng(320, 240, [90, 80, 70]) },
      { name: 'dziura2.png', mimeType: 'image/png', buffer: await makePng(320, 240, [60, 70, 90]) },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('#photo-list li').length === 2, null, { timeout: 60_000 });
  }
  await page.click('#btn-send');
  await page.waitForURL(/\/r\/[^/]+$/);
  await page.locator('#report .report-card').waitFor();
  await page.waitForFunction(() => window.zglosReady === true);
  await page.waitForTimeout(1000);
  await screenshot(page, 'tracking');
  const id = idFromTrackingUrl(page.url());
  await page.context().close();

  // Report details in the side panel.
  const details = await openPage(browser, svc, `/?report=${id}`);
  await details.locator('#details-body .report-card').waitFor();
  await waitForMapIdle(details);
  await details.waitForTimeout(500);
  await screenshot(details, 'details');
  await details.context().close();

  // A phone.
  const phone = await openPage(browser, svc, '/', { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await screenshot(phone, 'phone-map');
  await fillReport(phone, { lon: 19.9445, lat: 50.0648, category: 'street_lighting', description: 'Ciemno na całym odcinku' });
  await phone.locator('#nearby .nearby-item').first().waitFor({ state: 'visible', timeout: 15_000 });
  await phone.locator('#nearby .btn-metoo').first().scrollIntoViewIfNeeded();
  await phone.waitForTimeout(400);
  await screenshot(phone, 'phone');
  await phone.context().close();

  // English.
  const en = await openPage(browser, svc, '/', { lang: 'en' });
  await en.evaluate(() => window.zglosMap.jumpTo({ center: [19.9400, 50.0625], zoom: 14 }));
  await en.click('#start-report');
  await en.locator('#category-list label', { has: en.locator('input[value="snow_ice"]') }).click();
  await en.locator('#kind-group label', { has: en.locator('input[value="line"]') }).click();
  for (const [lon, lat] of [[19.9330, 50.0600], [19.9370, 50.0610], [19.9410, 50.0605]]) {
    const box = await en.locator('#map').boundingBox();
    await waitForMapIdle(en);
    const p = await en.evaluate(([x, y]) => window.zglosMap.project([x, y]), [lon, lat]);
    await en.mouse.click(box.x + p.x, box.y + p.y);
  }
  await en.fill('#description', 'Icy pavement along the whole street');
  await en.evaluate(() => document.querySelector('#step-where').scrollIntoView({ block: 'start' }));
  await en.waitForTimeout(500);
  await screenshot(en, 'english');
  await gotoAndWait(en, `${svc.baseUrl}/r/${id}`);
  await en.locator('#report .report-card').waitFor();
  await en.waitForTimeout(800);
  await screenshot(en, 'english-tracking');
  assert.deepEqual(en.errors, []);
  await en.context().close();
});
