// Test harness for the browser tests: a fresh PostGIS database and a real `zglos serve` per test
// file, and headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
//
//   const svc = await startService();        // createdb, zglos setup, zglos serve, wait for /readyz
//   const browser = await launchBrowser();
//   const page = await openPage(browser, svc, '/');
//   ...
//   await browser.close(); await svc.stop();  // stops the service, drops the database
//
// ZGLOS_TEST_URL=http://127.0.0.1:8080 runs the tests against an already running service instead.
// Environment: ZGLOS_BIN (default debug/zglos in CARGO_TARGET_DIR or target/), PGHOST/PGPORT/PGUSER (default
// 127.0.0.1:5432, postgres), CHROMIUM (default /usr/bin/chromium), ZGLOS_SCREENSHOTS=1 to write
// docs/screenshots/*.png.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotsDir = path.join(repoRoot, 'docs', 'screenshots');
export const takeScreenshots = process.env.ZGLOS_SCREENSHOTS === '1';

const PGHOST = process.env.PGHOST || '127.0.0.1';
const PGPORT = process.env.PGPORT || '5432';
const PGUSER = process.env.PGUSER || 'postgres';

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function zglosBin() {
  const target = process.env.CARGO_TARGET_DIR || path.join(repoRoot, 'target');
  return process.env.ZGLOS_BIN || path.join(target, 'debug', 'zglos');
}

/** Create a database, set up the city in it and start the service on a free port (`env`: more
 * settings for `zglos serve`, as its environment variables). */
export async function startService({ city = 'cities/krakow', env = {} } = {}) {
  if (process.env.ZGLOS_TEST_URL) {
    // Run against a service that is already running (its database is not reset).
    const baseUrl = process.env.ZGLOS_TEST_URL.replace(/\/$/, '');
    return { baseUrl, dbName: null, dbUrl: null, stop: async () => {}, logs: () => '' };
  }
  const bin = zglosBin();
  if (!fs.existsSync(bin)) {
    throw new Error(`${bin} does not exist: build the service first (cargo build) or set ZGLOS_BIN`);
  }
  const dbName = `zglos_browser_${randomBytes(5).toString('hex')}`;
  const dbUrl = `postgres://${PGUSER}@${PGHOST}:${PGPORT}/${dbName}`;
  await run('createdb', ['-h', PGHOST, '-p', PGPORT, '-U', PGUSER, dbName]);
  let proc = null;
  const logs = [];
  const dropDb = () => run('dropdb', ['-h', PGHOST, '-p', PGPORT, '-U', PGUSER, '--force', '--if-exists', dbName]).catch((e) => {
    console.error(`could not drop ${dbName}: ${e.message}`);
  });
  try {
    await run(bin, ['setup', '--database-url', dbUrl, '--city', city], { timeout: 180_000 });
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    // Every test files its reports from 127.0.0.1, so the anonymous-write limits are lifted
    // (they are tested through HTTP in tests/api/hardening.rs).
    const lifted = ['--write-burst', '1000000', '--write-per-hour', '1000000000', '--contact-per-hour', '1000000'];
    proc = spawn(bin, ['serve', '--database-url', dbUrl, '--listen', `127.0.0.1:${port}`, '--web-dir', 'web', ...lifted], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
    });
    const keep = (chunk) => {
      logs.push(chunk.toString());
      if (logs.length > 500) logs.splice(0, logs.length - 500);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let exited = null;
    proc.on('exit', (code, signal) => { exited = { code, signal }; });

    const deadline = Date.now() + 90_000;
    for (;;) {
      if (exited) throw new Error(`zglos serve exited early (${JSON.stringify(exited)}):\n${logs.join('')}`);
      try {
        const res = await fetch(`${baseUrl}/readyz`);
        if (res.status === 200) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`zglos serve not ready after 90 s:\n${logs.join('')}`);
      await sleep(200);
    }

    const stop = async () => {
      if (proc && !exited) {
        proc.kill('SIGTERM');
        for (let i = 0; i < 50 && !exited; i++) await sleep(100);
        if (!exited) proc.kill('SIGKILL');
        for (let i = 0; i < 20 && !exited; i++) await sleep(100);
      }
      await dropDb();
    };
    return { baseUrl, dbName, dbUrl, stop, logs: () => logs.join('') };
  } catch (e) {
    if (proc) proc.kill('SIGKILL');
    await sleep(200);
    await dropDb();
    throw e;
  }
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * A new browser context and page on the service. Requests to anything but the service are cut off
 * and recorded in page.foreign (by default nothing may leave the service's origin). Page errors are
 * collected in page.errors; any JavaScript dialog (alert) is recorded in page.dialogs.
 */
export async function openPage(browser, svc, pathname = '/', { viewport = { width: 1280, height: 800 }, lang, ...ctxOpts } = {}) {
  const context = await browser.newContext({ viewport, locale: 'pl-PL', ...ctxOpts });
  const origin = new URL(svc.baseUrl).origin;
  const foreign = [];
  await context.route((url) => url.origin !== origin, (route) => {
    foreign.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  if (lang) {
    await context.addInitScript((l) => { try { localStorage.setItem('zglos.lang', l); } catch { /* ignore */ } }, lang);
  }
  const page = await context.newPage();
  page.errors = [];
  page.foreign = foreign;
  page.dialogs = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  if (pathname !== null) await gotoAndWait(page, `${svc.baseUrl}${pathname}`);
  return page;
}

/** Load a page of the front end and wait until its map is ready. */
export async function gotoAndWait(page, url) {
  await page.goto(url);
  await waitForMapReady(page);
}

export async function waitForMapReady(page, timeout = 30_000) {
  await page.waitForFunction(() => window.zglosReady === true && window.zglosMap && window.zglosMap.isStyleLoaded(), null, { timeout });
}

/** Wait until the map stops moving and has loaded its tiles. */
export async function waitForMapIdle(page, timeout = 30_000) {
  await page.waitForFunction(() => {
    const m = window.zglosMap;
    return m && !m.isMoving() && m.loaded() && m.areTilesLoaded();
  }, null, { timeout, polling: 100 });
}

/** Centre the map on lon/lat at `zoom` and click (tap) that place. */
export async function clickMapAt(page, lon, lat, { zoom = 17, jump = true } = {}) {
  if (jump) {
    await page.evaluate(({ lon, lat, zoom }) => window.zglosMap.jumpTo({ center: [lon, lat], zoom }), { lon, lat, zoom });
  }
  await waitForMapIdle(page);
  const box = await page.locator('#map').boundingBox();
  const pt = await page.evaluate(([lon, lat]) => {
    const p = window.zglosMap.project([lon, lat]);
    return { x: p.x, y: p.y };
  }, [lon, lat]);
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

/** Wait until the report with `id` is rendered on one of the map's report layers. */
export async function waitForReportOnMap(page, id, layers = ['reports-point', 'reports-line', 'reports-area'], timeout = 30_000) {
  await page.waitForFunction(({ id, layers }) => {
    const m = window.zglosMap;
    if (!m) return false;
    const present = layers.filter((l) => m.getLayer(l));
    return m.queryRenderedFeatures({ layers: present }).some((f) => String(f.properties.id) === String(id));
  }, { id, layers }, { timeout, polling: 250 });
}

/** The report id in a /r/{id} address. */
export function idFromTrackingUrl(url) {
  const m = new URL(url).pathname.match(/^\/r\/([^/?#]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

// ---- direct API calls (seeding and checks) --------------------------------------------------

export async function apiJson(svc, pathname, { method = 'GET', body, headers = {} } = {}) {
  const res = await fetch(`${svc.baseUrl}${pathname}`, {
    method,
    headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, data, headers: res.headers };
}

export async function createReport(svc, { category = 'pothole', lon, lat, geometry, description = 'Test report', lang = 'pl' }) {
  const feature = {
    type: 'Feature',
    geometry: geometry || { type: 'Point', coordinates: [lon, lat] },
    properties: { category, description, channel: 'web', lang },
  };
  const { status, data } = await apiJson(svc, '/api/v1/reports', { method: 'POST', body: feature });
  if (status !== 201) throw new Error(`creating a report failed: ${status} ${JSON.stringify(data)}`);
  return data;
}

export async function getReport(svc, id) {
  const { status, data } = await apiJson(svc, `/api/v1/reports/${id}`);
  if (status !== 200) throw new Error(`GET report ${id}: ${status} ${JSON.stringify(data)}`);
  return data;
}

/** All reports (any status) in a small box around lon/lat. */
export async function reportsNear(svc, lon, lat, d = 0.002) {
  const bbox = [lon - d, lat - d, lon + d, lat + d].join(',');
  const { status, data } = await apiJson(svc, `/api/v1/reports?bbox=${bbox}&limit=100`);
  if (status !== 200) throw new Error(`list reports: ${status} ${JSON.stringify(data)}`);
  return data.features;
}

export async function screenshot(page, name) {
  if (!takeScreenshots) return;
  fs.mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotsDir, `${name}.png`) });
}

/** Fill the new-report form: place, category, description. */
export async function fillReport(page, { lon, lat, category = 'pothole', description = 'Test', kind, points }) {
  if (await page.locator('#view-report').isHidden()) await page.click('#start-report');
  await page.locator('#view-report').waitFor({ state: 'visible' });
  await chooseCategory(page, category);
  if (kind && kind !== 'point') {
    await page.locator('#kind-group label', { has: page.locator(`input[value="${kind}"]`) }).click();
    let first = true;
    for (const [x, y] of points) {
      await clickMapAt(page, x, y, { jump: first, zoom: 17 });
      first = false;
    }
  } else {
    await clickMapAt(page, lon, lat);
  }
  await page.fill('#description', description);
}

export async function chooseCategory(page, code) {
  await page.locator('#category-list label', { has: page.locator(`input[value="${code}"]`) }).click();
}

/** A small, valid PNG (solid colour), for photo uploads. */
export async function makePng(width = 64, height = 48, [r, g, b] = [200, 80, 40]) {
  const { deflateSync } = await import('node:zlib');
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  // A soft vertical gradient from the colour to white, so thumbnails look like something.
  const rows = Array.from({ length: height }, (_, y) => {
    const row = Buffer.alloc(1 + width * 3);
    const k = y / Math.max(1, height - 1);
    const mix = (c) => Math.round(c + (255 - c) * k * 0.7);
    for (let x = 0; x < width; x++) row.set([mix(r), mix(g), mix(b)], 1 + x * 3);
    return row;
  });
  const raw = Buffer.concat(rows);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Does this service take photo uploads (POST /api/v1/photos)? */
export async function photosSupported(svc) {
  const form = new FormData();
  form.append('file', new Blob(['not an image'], { type: 'text/plain' }), 'probe.txt');
  let res;
  try {
    res = await fetch(`${svc.baseUrl}/api/v1/photos`, { method: 'POST', body: form });
  } catch {
    // A service without the route may answer 404 and close before reading the upload.
    return false;
  }
  const body = await res.json().catch(() => ({}));
  return !(res.status === 404 && body.error && body.error.code === 'not_found') && res.status !== 405;
}

// ---- staff accounts and sessions -----------------------------------------------------------

export const STAFF_PASSWORD = 'correct-horse-battery-staple';

/**
 * Create (or update) a staff account with `zglos user add`; the password goes in ZGLOS_PASSWORD.
 * Needs a service started by startService() (not ZGLOS_TEST_URL).
 */
export async function addStaffUser(svc, { login, name = login, roles = ['unit_staff'], units = [], password = STAFF_PASSWORD }) {
  if (!svc.dbUrl) throw new Error('addStaffUser needs a service started by startService()');
  const args = ['user', 'add', '--database-url', svc.dbUrl, '--login', login, '--name', name, '--roles', roles.join(',')];
  if (units.length) args.push('--units', units.join(','));
  await run(zglosBin(), args, { env: { ...process.env, ZGLOS_PASSWORD: password }, timeout: 60_000 });
  return { login, password, name, roles, units };
}

/** Log in through the API: {status, user, csrf, cookie, request(path, {method, body})}. */
export async function staffSession(svc, { login, password = STAFF_PASSWORD }) {
  const res = await fetch(`${svc.baseUrl}/api/v1/staff/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  const data = await res.json().catch(() => null);
  if (res.status !== 200) throw new Error(`staff login as ${login}: ${res.status} ${JSON.stringify(data)}`);
  const setCookies = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [res.headers.get('set-cookie')];
  const cookie = setCookies.filter(Boolean).map((c) => c.split(';')[0]).join('; ');
  const csrf = data.csrf_token;
  const request = (pathname, { method = 'GET', body } = {}) => apiJson(svc, pathname, {
    method,
    body,
    headers: { Cookie: cookie, ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }) },
  });
  return { user: data.user, csrf, cookie, request };
}

/** Open /staff and log in through its form; resolves when the staff map is ready. */
export async function staffLogin(page, svc, { login, password = STAFF_PASSWORD }, pathname = '/staff') {
  await page.goto(`${svc.baseUrl}${pathname}`);
  await page.locator('#login-form').waitFor({ state: 'visible' });
  await page.fill('#login-login', login);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await waitForMapReady(page);
}

// ---- accessibility audits -------------------------------------------------------------------

const axeSource = (() => {
  let src = null;
  return () => {
    if (src === null) src = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    return src;
  };
})();

/**
 * Loads axe-core into the page. The pages forbid inline scripts (CSP `script-src 'self'`), so
 * axe is evaluated through the DevTools protocol rather than added as a script tag.
 */
export async function injectAxe(page) {
  await page.evaluate(axeSource());
}

/**
 * Runs the WCAG 2.1 AA audit (axe-core) on the page and fails listing every violation. The map
 * canvas is drawn by WebGL; its controls are checked, its pixels cannot be.
 */
export async function audit(page, label) {
  await injectAxe(page);
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    exclude: [['.maplibregl-canvas']],
  }));
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, [], `${label}: accessibility violations`);
}
