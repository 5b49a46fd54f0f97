// The Content-Security-Policy holds in a real browser: every page of the front end works under it
// (MapLibre's worker starts, the map draws, the forms run) without a single violation, no page
// carries an inline script, and a script injected into a page is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startService, launchBrowser, openPage, createReport, addStaffUser, staffLogin, waitForMapReady,
} from './harness.mjs';

let svc;
let browser;
let reportId;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  const created = await createReport(svc, { lon: 19.9383, lat: 50.0614, description: 'CSP check' });
  reportId = created.properties.id;
  await addStaffUser(svc, { login: 'csp-admin', roles: ['admin'] });
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

/** A page that records every CSP violation the browser reports, from before its first script. */
async function watchedPage(pathname) {
  const page = await openPage(browser, svc, null);
  await page.context().addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  page.consoleCsp = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) page.consoleCsp.push(m.text());
  });
  if (pathname) await page.goto(`${svc.baseUrl}${pathname}`);
  return page;
}

async function violations(page) {
  const seen = await page.evaluate(() => window.__csp || []);
  return [...seen, ...page.consoleCsp];
}

async function assertNoInlineScript(pathname) {
  const res = await fetch(`${svc.baseUrl}${pathname}`);
  assert.equal(res.status, 200, pathname);
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self';/, pathname);
  const html = await res.text();
  for (const tag of html.match(/<script\b[^>]*>/gi) || []) {
    assert.match(tag, /\bsrc=/, `${pathname}: inline script ${tag}`);
  }
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${pathname}: an inline event handler`);
  assert.doesNotMatch(html, /javascript:/i, pathname);
}

test('the pages carry no inline script and the map page works under the policy', async () => {
  for (const p of ['/', `/r/${reportId}`, '/staff', '/stats']) await assertNoInlineScript(p);
  const page = await watchedPage('/');
  await waitForMapReady(page);
  // The map drew its own layers: its worker ran under worker-src.
  await page.waitForFunction(() => window.zglosMap.loaded(), null, { timeout: 30_000 });
  assert.deepEqual(await violations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the tracking page, the statistics and the staff inbox raise no violation', async () => {
  for (const p of [`/r/${reportId}`, '/stats']) {
    const page = await watchedPage(p);
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await violations(page), [], p);
    assert.deepEqual(page.errors, [], p);
    await page.context().close();
  }
  const page = await watchedPage(null);
  await staffLogin(page, svc, { login: 'csp-admin' });
  await page.waitForLoadState('networkidle');
  assert.deepEqual(await violations(page), [], '/staff');
  assert.deepEqual(page.errors, [], '/staff');
  await page.context().close();
});

test('a script injected into a page is refused by the browser', async () => {
  const page = await watchedPage(`/r/${reportId}`);
  await page.waitForLoadState('networkidle');
  const ran = await page.evaluate(async () => {
    window.__ran = false;
    const inline = document.createElement('script');
    inline.textContent = 'window.__ran = true';
    document.body.appendChild(inline);
    const img = document.createElement('img');
    img.setAttribute('src', 'x');
    img.setAttribute('onerror', 'window.__ran = true');
    document.body.appendChild(img);
    await new Promise((r) => setTimeout(r, 500));
    return window.__ran;
  });
  assert.equal(ran, false);
  const seen = await violations(page);
  assert.ok(seen.some((v) => v.startsWith('script-src')), JSON.stringify(seen));
  await page.context().close();
});
