// Automated accessibility audit (axe-core, WCAG 2.1 A and AA rules, colour contrast included) of
// the map page, the report form with its nearby suggestion, the tracking page, in both languages
// and on a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, fillReport, createReport, audit,
} from './harness.mjs';


let svc;
let browser;
let reportId;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  reportId = String((await createReport(svc, { category: 'pothole', lon: 19.9440, lat: 50.0560, description: 'Dziura przy krawężniku' })).id);
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});


test('map page, browse view with filters open', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.click('#filters summary');
  await page.click('#list-toggle');
  await audit(page, 'map page');
  await page.context().close();
});

test('report form with the nearby suggestion, Polish and English', { timeout: 120_000 }, async () => {
  for (const lang of ['pl', 'en']) {
    const page = await openPage(browser, svc, '/', { lang });
    await fillReport(page, { lon: 19.9440, lat: 50.0560, category: 'pothole', description: 'Test' });
    await page.locator('#nearby .nearby-item').first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.click('#contact-details summary');
    await audit(page, `form (${lang})`);
    await page.context().close();
  }
});

test('form errors', { timeout: 60_000 }, async () => {
  const page = await openPage(browser, svc, '/');
  await page.click('#start-report');
  await page.click('#btn-send');
  await audit(page, 'form errors');
  await page.context().close();
});

test('report details and tracking page, phone size', { timeout: 90_000 }, async () => {
  const page = await openPage(browser, svc, `/?report=${reportId}`, { viewport: { width: 360, height: 740 } });
  await page.locator('#details-body .report-card').waitFor();
  await audit(page, 'details');
  await page.goto(`${svc.baseUrl}/r/${reportId}`);
  await page.locator('#report .report-card').waitFor();
  await audit(page, 'tracking page');
  await page.context().close();
});
