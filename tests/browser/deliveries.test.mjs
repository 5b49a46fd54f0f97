// The dead-letter list in the staff UI: with the mail server down, a resident's confirmation
// gives up after its attempts and waits at /staff#/deliveries; once the mail server is back, the
// admin's "Retry" sends it (received by a real SMTP listener) and the list empties. Only admins
// see the view, and it passes the WCAG 2.1 AA audit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startService, launchBrowser, openPage, apiJson, addStaffUser, staffLogin, audit,
} from './harness.mjs';

let svc;
let browser;
let admin;
let clerk;
let smtpPort;

/** A port with nothing listening on it (yet). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A minimal SMTP listener: accepts every message and keeps its data. */
function smtpListener(port) {
  const messages = [];
  const server = net.createServer((socket) => {
    let data = null;
    let buf = '';
    socket.write('220 test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (data !== null) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          // Undo the dot-stuffing (RFC 5321 4.5.2) of lines that begin with a dot.
          messages.push((data + buf.slice(0, end)).replace(/^\./gm, ''));
          buf = buf.slice(end + 5);
          data = null;
          socket.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'DATA') {
          data = '';
          socket.write('354 go on\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
          return;
        } else {
          socket.write('250 ok\r\n');
        }
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ messages, close: () => server.close() })));
}

before(async () => {
  smtpPort = await freePort();
  svc = await startService({
    env: { ZGLOS_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, ZGLOS_MAX_ATTEMPTS: '1', ZGLOS_RETRY_BASE_MS: '100' },
  });
  browser = await launchBrowser();
  admin = await addStaffUser(svc, { login: 'admin@example.org', roles: ['admin'] });
  clerk = await addStaffUser(svc, { login: 'clerk@example.org', roles: ['unit_staff'], units: ['ZDMK'] });
});

after(async () => {
  if (browser) await browser.close();
  if (svc) await svc.stop();
});

test('mail that gave up waits in the dead-letter list and goes once the admin retries it', { timeout: 120_000 }, async () => {
  const { status, data } = await apiJson(svc, '/api/v1/reports', {
    method: 'POST',
    body: {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [19.9373, 50.0617] },
      properties: { category: 'pothole', description: 'Dziura przy fontannie', lang: 'pl', contact: { email: 'ola@example.org' } },
    },
  });
  assert.equal(status, 201, JSON.stringify(data));
  const id = data.id ?? data.properties.id;

  const page = await openPage(browser, svc, null, { locale: 'en-GB', lang: 'en' });
  await staffLogin(page, svc, admin, '/staff#/deliveries');
  await page.locator('#view-deliveries').waitFor({ state: 'visible' });
  const row = page.locator('#dl-list tr[data-kind="mail"]');
  // The one attempt fails at once; the list may need a reload to show it.
  for (let i = 0; i < 50 && (await row.count()) === 0; i++) {
    await page.waitForTimeout(200);
    await page.evaluate(() => { location.hash = '#/inbox'; });
    await page.evaluate(() => { location.hash = '#/deliveries'; });
  }
  await row.first().waitFor();
  const text = await row.first().innerText();
  assert.match(text, /ola@example\.org/);
  assert.match(text, new RegExp(`#${id}`));
  assert.match(await page.locator('#dl-status').innerText(), /Undelivered: 1/);
  await audit(page, 'the dead-letter list');

  // The mail server is back: "Retry" sends it, and the list empties.
  const smtp = await smtpListener(smtpPort);
  try {
    await row.first().locator('button.dl-retry').click();
    await page.locator('#dl-status', { hasText: 'Everything was delivered' }).waitFor();
    for (let i = 0; i < 100 && smtp.messages.length === 0; i++) await page.waitForTimeout(100);
    assert.equal(smtp.messages.length, 1);
    assert.match(smtp.messages[0], new RegExp(`#${id}`));
  } finally {
    smtp.close();
  }
  await page.close();
});

test('a clerk sees no deliveries view', { timeout: 60_000 }, async () => {
  const page = await openPage(browser, svc, null);
  await staffLogin(page, svc, clerk, '/staff#/deliveries');
  await page.locator('#view-inbox').waitFor({ state: 'visible' });
  assert.ok(await page.locator('a[data-view-link="deliveries"]').isHidden());
  assert.ok(await page.locator('#view-deliveries').isHidden());
  await page.close();
});
