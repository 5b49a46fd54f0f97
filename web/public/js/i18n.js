// Translations: every visible text comes from /i18n/{lang}.json.
// The chosen language is remembered in localStorage ("zglos.lang"). On a first visit (nothing
// remembered) the server negotiates it from the browser's Accept-Language; Polish is the default.

export const LANGS = ['pl', 'en', 'uk'];
const STORAGE_KEY = 'zglos.lang';

let current = 'pl';
let dict = {};

function storedLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(v)) return v;
  } catch { /* storage may be disabled */ }
  return null;
}

/** The language the server negotiates from Accept-Language (Polish when it cannot say). */
async function negotiatedLang() {
  try {
    const res = await fetch('/api/v1/language', { headers: { Accept: 'application/json' } });
    if (res.ok) {
      const { lang } = await res.json();
      if (LANGS.includes(lang)) return lang;
    }
  } catch { /* offline on a first visit: the default */ }
  return 'pl';
}

export function lang() {
  return current;
}

function lookup(key) {
  let node = dict;
  for (const part of key.split('.')) {
    if (node == null || typeof node !== 'object') return undefined;
    node = node[part];
  }
  return node;
}

function fill(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Translated text for `key`, with {placeholders} filled from `vars`. */
export function t(key, vars) {
  const v = lookup(key);
  if (typeof v === 'string') return fill(v, vars);
  if (v && typeof v === 'object' && vars && typeof vars.n === 'number') return tn(key, vars.n, vars);
  return key;
}

/** True when `key` has a translation. */
export function has(key) {
  return lookup(key) !== undefined;
}

/** Plural-aware text: the entry is an object keyed by Intl.PluralRules categories. */
export function tn(key, n, vars = {}) {
  const v = lookup(key);
  if (typeof v === 'string') return fill(v, { n, ...vars });
  if (!v || typeof v !== 'object') return key;
  const cat = new Intl.PluralRules(current).select(n);
  const text = v[cat] ?? v.other ?? Object.values(v)[0];
  return fill(text, { n: formatNumber(n), ...vars });
}

export function formatNumber(n) {
  return new Intl.NumberFormat(current).format(n);
}

export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A calendar day ("2026-12-15") in the current language, without a time. */
export function formatDay(isoDay) {
  if (!isoDay) return '';
  const [y, m, d] = String(isoDay).split('-').map(Number);
  if (!y || !m || !d) return String(isoDay);
  return new Intl.DateTimeFormat(current, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** Name of a category or status object from the API in the current language (the city's
 * first language where the city pack has no name in it). */
export function nameOf(item) {
  if (!item) return '';
  return (item.names && item.names[current]) || item[`name_${current}`] || item.name_pl || item.name_en || item.code || '';
}

/** Fill every element marked with data-i18n / data-i18n-ATTR under `root`. */
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const attr of ['aria-label', 'placeholder', 'title', 'alt']) {
    const dataKey = 'i18n' + attr.replace(/(^|-)(\w)/g, (m, d, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.dataset[dataKey]));
    }
  }
}

async function load(l) {
  const res = await fetch(`/i18n/${l}.json`, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`cannot load /i18n/${l}.json: ${res.status}`);
  return res.json();
}

/** Load the stored (or given) language, apply it to the page and remember it. */
export async function setLang(l) {
  if (!LANGS.includes(l)) l = 'pl';
  dict = await load(l);
  current = l;
  try { localStorage.setItem(STORAGE_KEY, l); } catch { /* ignore */ }
  document.documentElement.lang = l;
  applyI18n();
  for (const btn of document.querySelectorAll('[data-lang]')) {
    btn.setAttribute('aria-pressed', String(btn.dataset.lang === l));
  }
  document.dispatchEvent(new CustomEvent('zglos:lang', { detail: { lang: l } }));
}

export async function initI18n() {
  await setLang(storedLang() ?? await negotiatedLang());
  for (const btn of document.querySelectorAll('[data-lang]')) {
    btn.addEventListener('click', () => {
      if (btn.dataset.lang !== current) setLang(btn.dataset.lang);
    });
  }
}
