// The staff side of the API: requests carry the session cookie, and every state-changing request
// sends the session's CSRF token in X-CSRF-Token. Errors become StaffApiError, which also keeps the
// error's `detail` (e.g. the allowed transitions of a 409).
import { ApiError } from './api.js';

let csrfToken = null;
let onUnauthorized = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called when the service answers 401 (session expired or logged out elsewhere). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export class StaffApiError extends ApiError {
  constructor(opts = {}) {
    super(opts);
    this.detail = opts.detail ?? null;
  }
}

export async function staffApi(path, opts = {}) {
  try {
    return await request(path, opts);
  } catch (e) {
    // Logging in again in another tab starts a new session with its own CSRF token: take the
    // current one and try once more.
    if (e.status === 403 && e.code === 'csrf' && !opts.retried) {
      const me = await request('/api/v1/staff/me', { quiet401: opts.quiet401 });
      setCsrfToken(me.data && me.data.csrf_token);
      return request(path, { ...opts, retried: true });
    }
    throw e;
  }
}

async function request(path, { method = 'GET', json, form, headers = {}, signal, quiet401 = false } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  let body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body, signal, credentials: 'same-origin' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new StaffApiError({ network: true, code: 'network', message: String((e && e.message) || e) });
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const error = new StaffApiError({
      status: res.status,
      code: err.code || `http_${res.status}`,
      message: err.message || res.statusText || `HTTP ${res.status}`,
      field: err.field || null,
      detail: err.detail ?? null,
    });
    if (res.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(error);
    throw error;
  }
  return { data, res };
}

export const staffGet = async (path, opts) => (await staffApi(path, opts)).data;
export const staffPost = async (path, json, opts = {}) => (await staffApi(path, { ...opts, method: 'POST', json })).data;

/** A query string from an object; empty values are left out and commas stay readable. */
export function query(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    p.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = p.toString().replace(/%2C/g, ',');
  return s ? `?${s}` : '';
}

/** Units as {code, name}: the API may give a code or an object. */
export function unitCode(u) {
  if (!u) return '';
  return typeof u === 'string' ? u : (u.code || '');
}
