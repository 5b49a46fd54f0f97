// State and small helpers shared by the staff modules.
import { nameOf } from './i18n.js';
import { pointInGeometry } from './mapstyle.js';

/** Filled by staff.js: reference data, the logged-in user, the map, units, districts. */
export const ctx = {
  ref: null,
  user: null,
  map: null,
  mapReady: null,
  units: [],
  unitByCode: new Map(),
  districts: [],
  districtFeatures: [],
  view: null,
  go: () => {},
  can: () => false,
};

/** Name of a unit (the API may give a code or {code, name}). */
export function unitName(u) {
  if (!u) return '';
  if (typeof u === 'object') return u.name || u.code || '';
  const known = ctx.unitByCode.get(u);
  return known ? known.name : u;
}

export function categoryName(code) {
  const c = ctx.ref.categoryByCode.get(code);
  return c ? nameOf(c) : code;
}

export function statusName(code) {
  const s = ctx.ref.statusByCode.get(code);
  return s ? nameOf(s) : code;
}


/** YYYY-MM-DD of a Date in local time. */
export function isoDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The district (properties) holding the point, if known. */
export function districtAt(pt) {
  const d = ctx.districtFeatures.find((f) => pointInGeometry(pt, f.geometry));
  return d ? d.properties : null;
}

/** A timestamp in the page's language. */
export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toLocaleString(document.documentElement.lang || undefined);
}
