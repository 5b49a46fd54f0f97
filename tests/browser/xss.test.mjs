// Cross-site scripting: a corpus of payloads entered in every text a resident or clerk can enter
// (report descriptions, reporter names, staff user names, public and internal notes on status
// changes, reassignment and merge notes), then every page that shows them is opened in Chromium.
// No payload may run (each calls window.__xss), open a dialog, or create an element.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, gotoAndWait, apiJson, addStaffUser, staffSession,
  staffLogin, clickMapAt, waitForMapReady,
} from './harness.mjs';

const RUN = 'window.__xss&&window.__xss(1)';
const PAYLOADS = [
  `<script>${RUN}</script>`,
  `<img src=x onerror="${RUN}">`,
  `<svg onload="${RUN}"><circle r=1></svg>`,
  `"><iframe src="javascript:${RUN}"></iframe>`,
  `'><img src=x onerror=${RUN}>`,
  `javascript:${RUN}`,
  `<a href="javascript:${RUN}">link</a>`,
  `\${${RUN}}\`;${RUN};//`,
  `</textarea></title></style><script>${RUN}</script>`,
  `<details open ontoggle="${RUN}">`,
  `" onmouseover="${RUN}" x="`,
  `<math><mtext><table><mglyph><style><img src=x onerror="${RUN}">`,
];
const INJECTED = 'img[src="x"], iframe, svg[onload], details[ontoggle], a[href^="javascript"], [onerror], [onmouseover], math';

let svc;
let browser;
let admin;
let session;
const ids = [];

// Reports in Stare Miasto, 120 m apart so that none is taken for a duplicate of another.
const ORIGIN = [19.9290, 50.0590];
const place = (i) => [ORIGIN[0] + (i % 4) * 0.0017, ORIGIN[1] + Math.floor(i / 4) * 0.0011];

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  admin = await addStaffUser(svc, { login: 'xss-admin', name: PAYLOADS[1], roles: ['admin'] });
  session = await staffSession(svc, admin);
  for (const [i, payload] of PAYLOADS.entries()) {
    const [lon, lat] = place(i);
    const { status, data } = await apiJson(svc, '/api/v1/reports', {
      method: 'POST',
      body: {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [lon, lat] },
        properties: { category: 'pothole', description: `Hole ${i} ${payload}`, contact: { name: payload, email: `r${i}@example.org` } },
      },
    });
    assert.equal(status, 201, JSON.stringify(data));
    ids.push(String(data.properties.id));
  }
  // Staff texts: public and internal notes, a reassignment and a merge note.
  for (const [i, id] of ids.slice(0, 6).entries()) {
    const r = await session.request(`/api/v1/staff/reports/${id}/status`, {
      method: 'POST',
      body: { status: 'acknowledged', public_note: `Seen ${PAYLOADS[i]}`, internal_note: PAYLOADS[(i + 3) % PAYLOADS.length] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.data));
  }
  let r = await session.request(`/api/v1/staff/reports/${ids[6]}/reassign`, { method: 'POST', body: { unit: 'ZZM', note: PAYLOADS[2] } });
  assert.ok(r.status < 300, `reassign: ${r.status} ${JSON.stringify(r.data)}`);
  r = await session.request(`/api/v1/staff/reports/${ids[7]}/merge`, { method: 'POST', body: { into: Number(ids[0]), note: PAYLOADS[3] } });
  assert.ok(r.status < 300, `merge: ${r.status} ${JSON.stringify(r.data)}`);
  r = await session.request(`/api/v1/staff/reports/${ids[8]}/status`, { method: 'POST', body: { status: 'resolved', public_note: PAYLOADS[8] } });
  assert.equal(r.status, 200, JSON.stringify(r.data));
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

/** A page that records every payload run (window.__xss), dialog and page error. */
async function guardedPage() {
  const page = await openPage(browser, svc, null);
  await page.context().addInitScript(() => {
    window.__xssRuns = 0;
    window.__xss = () => { window.__xssRuns += 1; };
  });
  return page;
}

async function assertClean(page, where) {
  await page.waitForTimeout(300);
  const runs = await page.evaluate(() => window.__xssRuns);
  assert.equal(runs, 0, `${where}: a payload ran`);
  assert.deepEqual(page.dialogs, [], `${where}: no dialog`);
  const injected = await page.evaluate((sel) => [...document.querySelectorAll(sel)].map((e) => e.outerHTML.slice(0, 120)), INJECTED);
  assert.deepEqual(injected, [], `${where}: no injected element`);
}

test('payloads in reports and staff notes stay text on the tracking pages', async () => {
  const page = await guardedPage();
  for (const id of ids) {
    await gotoAndWait(page, `${svc.baseUrl}/r/${id}`);
    await page.locator('#report').waitFor();
    await page.waitForTimeout(200);
    await assertClean(page, `/r/${id}`);
  }
  // The description shows as the characters typed.
  await gotoAndWait(page, `${svc.baseUrl}/r/${ids[0]}`);
  await page.locator('#report .timeline').waitFor();
  assert.match(await page.locator('#report').textContent(), /<script>window\.__xss/);
  await page.context().close();
});

test('payloads stay text on the map, its report panel and the stats page', async () => {
  const page = await guardedPage();
  await gotoAndWait(page, `${svc.baseUrl}/`);
  await waitForMapReady(page);
  for (const i of [0, 1, 2, 3, 5, 9]) {
    const [lon, lat] = place(i);
    await clickMapAt(page, lon, lat, { zoom: 18 });
    await page.waitForTimeout(500);
    await assertClean(page, `map, report ${ids[i]}`);
  }
  await gotoAndWait(page, `${svc.baseUrl}/stats`);
  await page.waitForTimeout(500);
  await assertClean(page, '/stats');
  await page.context().close();
});

test('payloads stay text in the staff inbox and report details', async () => {
  const page = await guardedPage();
  await staffLogin(page, svc, admin);
  await page.locator('#view-inbox').waitFor({ state: 'visible' });
  await page.waitForTimeout(500);
  await assertClean(page, 'staff inbox');
  assert.equal((await page.locator('#staff-user-name').textContent()).trim(), PAYLOADS[1]);
  for (const id of ids) {
    await page.goto(`${svc.baseUrl}/staff#/report/${id}`);
    await page.locator('#report-body').waitFor();
    await page.waitForTimeout(300);
    await assertClean(page, `staff report ${id}`);
  }
  await page.context().close();
});
