// Checks of the staff and statistics pages' files that need no service or browser: every text
// they name exists in both languages, the map attribution is in the footer, and the timeline texts
// cover every kind of event the service writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './harness.mjs';

const pub = path.join(repoRoot, 'web', 'public');
const dict = (l) => JSON.parse(fs.readFileSync(path.join(pub, 'i18n', `${l}.json`), 'utf8'));
const lookup = (d, key) => key.split('.').reduce((n, k) => (n && typeof n === 'object' ? n[k] : undefined), d);

test('texts named by staff.html and stats.html exist in Polish and English', () => {
  for (const page of ['staff.html', 'stats.html']) {
    const src = fs.readFileSync(path.join(pub, page), 'utf8');
    const keys = [...src.matchAll(/data-i18n(?:-[a-z-]+)?="([a-zA-Z_.]+)"/g)].map((m) => m[1]);
    assert.ok(keys.length > 10, page);
    for (const l of ['pl', 'en']) {
      const d = dict(l);
      assert.deepEqual(keys.filter((k) => typeof lookup(d, k) !== 'string'), [], `${page}: missing in ${l}.json`);
    }
    assert.match(src, /© OpenStreetMap contributors, ODbL 1\.0/, `${page} footer attribution`);
    assert.match(src, /\/vendor\/maplibre-gl\/maplibre-gl\.css/);
  }
});

test('texts chosen at run time exist: timeline events, channels, the measures of /stats', () => {
  const events = ['status', 'rejected', 'rerouted', 'reopened', 'unmerged', 'reassigned', 'edited'];
  const channels = ['web', 'phone'];
  const measures = ['open', 'reported', 'resolved', 'median_days_to_resolve'];
  for (const l of ['pl', 'en']) {
    const d = dict(l);
    for (const k of events) assert.equal(typeof lookup(d, `staff.timeline.${k}`), 'string', `${l}: staff.timeline.${k}`);
    for (const k of channels) assert.equal(typeof lookup(d, `staff.channel.${k}`), 'string', `${l}: staff.channel.${k}`);
    for (const k of measures) {
      assert.equal(typeof lookup(d, `stats.metrics.${k}`), 'string', `${l}: stats.metrics.${k}`);
      assert.equal(typeof lookup(d, `stats.columns.${k}`), 'string', `${l}: stats.columns.${k}`);
    }
  }
});
