// Checks of the front end's files that need no service or browser: scripts parse, both languages
// have every text the pages use, resident text is never put in as HTML, nothing third-party is
// copied into web/public.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './harness.mjs';

const web = path.join(repoRoot, 'web');
const pub = path.join(web, 'public');
const jsDir = path.join(pub, 'js');
const jsFiles = fs.readdirSync(jsDir).filter((f) => f.endsWith('.js')).map((f) => path.join(jsDir, f));
const htmlFiles = ['index.html', 'report.html'].map((f) => path.join(pub, f));

function flatKeys(obj, prefix = '') {
  const out = new Set();
  for (const [k, v] of Object.entries(obj)) {
    const isPlural = v && typeof v === 'object' && Object.keys(v).every((x) => ['zero', 'one', 'two', 'few', 'many', 'other'].includes(x));
    if (v && typeof v === 'object' && !isPlural) for (const sub of flatKeys(v, `${prefix}${k}.`)) out.add(sub);
    else out.add(prefix + k);
  }
  return out;
}

test('every script parses as an ES module', () => {
  for (const f of jsFiles) {
    execFileSync(process.execPath, ['--check', '--input-type=module'], { input: fs.readFileSync(f) });
  }
});

/** Every text of a translation by its flat key (plural forms as key#form). */
function flatTexts(obj, prefix = '', out = new Map()) {
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === 'object') flatTexts(v, `${prefix}${k}${Object.keys(v).every((x) => ['zero', 'one', 'two', 'few', 'many', 'other'].includes(x)) ? '#' : '.'}`, out);
    else out.set(prefix + k, String(v));
  }
  return out;
}

const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

test('Polish, English and Ukrainian translations have the same texts, and every text used exists', () => {
  const read = (l) => JSON.parse(fs.readFileSync(path.join(pub, 'i18n', `${l}.json`), 'utf8'));
  const pl = read('pl');
  const plKeys = flatKeys(pl);
  for (const l of ['en', 'uk']) {
    const keys = flatKeys(read(l));
    assert.deepEqual([...plKeys].filter((k) => !keys.has(k)), [], `missing in ${l}.json`);
    assert.deepEqual([...keys].filter((k) => !plKeys.has(k)), [], `only in ${l}.json`);
  }
  // Ukrainian plurals have every form Intl.PluralRules('uk') picks, and no text loses a placeholder.
  const plTexts = flatTexts(pl);
  const ukTexts = flatTexts(read('uk'));
  const ukForms = new Intl.PluralRules('uk').resolvedOptions().pluralCategories;
  for (const key of [...plTexts.keys()].filter((k) => k.includes('#')).map((k) => k.split('#')[0])) {
    for (const form of ukForms) assert.ok(ukTexts.has(`${key}#${form}`), `uk.json: ${key} has the form ${form}`);
  }
  for (const [key, text] of ukTexts) {
    const plText = plTexts.get(key) ?? plTexts.get(`${key.split('#')[0]}#other`);
    assert.equal(placeholders(text), placeholders(plText), `uk.json: ${key} keeps the placeholders of pl.json`);
  }

  const used = new Set();
  for (const f of jsFiles) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\bt[n]?\('([a-zA-Z_.]+)'/g)) used.add(m[1]);
    for (const m of src.matchAll(/\bt\(`(form\.(?:hint|needPoints)_)\$\{[^}]+\}`/g)) {
      for (const kind of m[1].startsWith('form.hint') ? ['point', 'line', 'area'] : ['line', 'area']) used.add(`${m[1]}${kind}`);
    }
    for (const m of src.matchAll(/'(track\.(?:created|supported))'/g)) used.add(m[1]);
  }
  for (const f of htmlFiles) {
    const src = fs.readFileSync(f, 'utf8');
    for (const m of src.matchAll(/data-i18n(?:-[a-z-]+)?="([a-zA-Z_.]+)"/g)) used.add(m[1]);
  }
  const missing = [...used].filter((k) => !plKeys.has(k));
  assert.deepEqual(missing, [], 'texts used by the pages but missing from the translations');
});

test('no script inserts HTML strings (resident text goes in as text)', () => {
  for (const f of jsFiles) {
    const src = fs.readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write\(/, path.basename(f));
  }
});

test('MapLibre comes from npm, nothing third-party is copied into web/public', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(web, 'package.json'), 'utf8'));
  assert.ok(pkg.dependencies && pkg.dependencies['maplibre-gl'], 'maplibre-gl is a dependency');
  const lock = JSON.parse(fs.readFileSync(path.join(web, 'package-lock.json'), 'utf8'));
  assert.ok(lock.packages && lock.packages['node_modules/maplibre-gl'], 'the lock file pins maplibre-gl');
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const f of walk(pub)) {
    assert.doesNotMatch(path.basename(f), /maplibre|mapbox/i, f);
    assert.ok(fs.statSync(f).size < 150_000, `${f} is suspiciously large`);
  }
  for (const f of htmlFiles) {
    const src = fs.readFileSync(f, 'utf8');
    assert.match(src, /\/vendor\/maplibre-gl\/maplibre-gl\.css/);
    assert.match(src, /© OpenStreetMap contributors, ODbL 1\.0/, `${path.basename(f)} footer attribution`);
  }
});
