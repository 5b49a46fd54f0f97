// The report being written, kept in localStorage so nothing is lost when the page closes or the
// network drops. Each draft gets one Idempotency-Key when it is created; every send of that draft
// (first try and retries) uses the same key, so the service creates the report at most once.
import { newIdempotencyKey } from './api.js';

const KEY = 'zglos.draft';

export function emptyDraft() {
  return {
    idempotencyKey: newIdempotencyKey(),
    kind: 'point',
    coords: [],
    category: null,
    description: '',
    photos: [],
    contact: { name: '', email: '', phone: '' },
    pending: false,
    createdAt: new Date().toISOString(),
  };
}

export function loadDraft() {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const d = JSON.parse(raw);
    if (!d || typeof d !== 'object' || !d.idempotencyKey) return null;
    return { ...emptyDraft(), ...d, contact: { name: '', email: '', phone: '', ...(d.contact || {}) } };
  } catch {
    return null;
  }
}

export function saveDraft(d) {
  try { localStorage.setItem(KEY, JSON.stringify(d)); } catch { /* full or disabled: keep in memory */ }
}

export function clearDraft() {
  try { localStorage.removeItem(KEY); } catch { /* ignore */ }
}

/** Has the resident put anything into this draft worth restoring? */
export function hasContent(d) {
  return !!d && (d.coords.length > 0 || !!d.category || d.description.trim() !== '' || d.photos.length > 0);
}

const round = (c) => [Math.round(c[0] * 1e6) / 1e6, Math.round(c[1] * 1e6) / 1e6];

export function minPoints(kind) {
  return kind === 'area' ? 3 : kind === 'line' ? 2 : 1;
}

/** GeoJSON geometry of the draft, or null when it has too few points. */
export function draftGeometry(d) {
  const pts = d.coords.map(round);
  if (pts.length < minPoints(d.kind)) return null;
  if (d.kind === 'line') return { type: 'LineString', coordinates: pts };
  if (d.kind === 'area') return { type: 'Polygon', coordinates: [[...pts, pts[0]]] };
  return { type: 'Point', coordinates: pts[0] };
}

/** The point used for the "already reported nearby?" check. */
export function draftAnchor(d) {
  if (!d.coords.length) return null;
  if (d.kind === 'point' || d.coords.length === 1) return d.coords[0];
  const n = d.coords.length;
  const sx = d.coords.reduce((s, c) => s + c[0], 0);
  const sy = d.coords.reduce((s, c) => s + c[1], 0);
  if (d.kind === 'area') return [sx / n, sy / n];
  return d.coords[Math.floor((n - 1) / 2)];
}

export function draftFeature(d, lang) {
  const properties = {
    category: d.category,
    description: d.description.trim(),
    channel: 'web',
    lang,
  };
  if (d.photos.length) properties.photos = d.photos.map((p) => p.id);
  const contact = {};
  for (const k of ['name', 'email', 'phone']) {
    const v = (d.contact[k] || '').trim();
    if (v) contact[k] = v;
  }
  if (Object.keys(contact).length) properties.contact = contact;
  return { type: 'Feature', geometry: draftGeometry(d), properties };
}
