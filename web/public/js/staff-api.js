// The staff side of the API: requests carry the session cookie, and every state-changing request
// sends the session's CSRF token in X-CSRF-Token. Errors are the residents' ApiError, whose
// `detail` keeps e.g. the allowed transitions of a 409.
import { api, ApiError } from './api.js';

let csrfToken = null;
let onUnauthorized = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called when the service answers 401 (session expired or logged out elsewhere). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export { ApiError as StaffApiError };

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

async function request(path, { method = 'GET', headers = {}, quiet401 = false, retried, ...rest } = {}) {
  const h = { ...headers };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  try {
    return await api(path, { ...rest, method, headers: h });
  } catch (e) {
    if (e.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(e);
    throw e;
  }
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
