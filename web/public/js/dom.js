// Small DOM helpers. Text is always inserted as text nodes / textContent, never as HTML.
import { t, has } from './i18n.js';

/**
 * h('p', {class: 'x', onclick: fn}, 'text', childNode, [more]) → element.
 * Strings become text nodes, so user-provided text can never become markup.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') {
      for (const [prop, val] of Object.entries(v)) {
        if (val == null) continue;
        if (prop.startsWith('--')) el.style.setProperty(prop, val);
        else el.style[prop] = val;
      }
    }
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** A message for the resident from an ApiError (or any error). */
export function errorText(err) {
  if (!err) return t('errors.generic');
  if (err.network) return t('errors.network');
  // Codes with a translation get the resident's language; any other code shows the API's own
  // message, which names the field or limit concerned.
  const key = `errors.${err.code}`;
  if (has(key)) return t(key);
  if (err.message) return err.message;
  if (err.status >= 500) return t('errors.server');
  return t('errors.generic');
}

let liveTimer = null;
/** Announce a message in the page's live region (polite, or assertive for errors). */
export function announce(text, { kind = 'info', sticky = false, visual = true } = {}) {
  const region = document.getElementById(kind === 'error' ? 'live-assertive' : 'live-polite');
  const toast = document.getElementById('toast');
  if (region) {
    region.textContent = '';
    // A fresh text node after a tick makes screen readers repeat identical messages.
    setTimeout(() => { region.textContent = text; }, 30);
  }
  if (toast && visual) {
    toast.textContent = text;
    toast.dataset.kind = kind;
    toast.hidden = !text;
    clearTimeout(liveTimer);
    if (!sticky && text) liveTimer = setTimeout(() => { toast.hidden = true; }, 6000);
  }
}

/**
 * A category's pictogram: its SVG (`icon_url`) as an image, or the text symbol when the city
 * has no SVG for it. Decoration only: the name beside it says what it is.
 */
export function categoryIcon(cat, cls = 'cat-icon') {
  if (cat && cat.icon_url) {
    return h('span', { class: cls, 'aria-hidden': 'true' },
      h('img', { src: cat.icon_url, alt: '', 'aria-hidden': 'true', width: 16, height: 16, decoding: 'async' }));
  }
  return h('span', { class: cls, 'aria-hidden': 'true' }, (cat && cat.icon) || '•');
}

/** Coloured category badge: icon + name; colour is decoration only. */
export function categoryBadge(cat, name) {
  return h('span', { class: 'cat-badge', style: { '--cat': (cat && cat.color) || '#666' } },
    categoryIcon(cat),
    h('span', { class: 'cat-name' }, name));
}

export function statusBadge(code, name, isOpen) {
  return h('span', { class: `status-badge status-${code}`, dataset: { open: String(!!isOpen) } }, name || code);
}
