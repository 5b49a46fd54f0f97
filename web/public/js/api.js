// Thin client for the Zgłoś JSON API. Errors come back as ApiError with the API's code/message/field.

export class ApiError extends Error {
  constructor({ status = 0, code = 'network', message = '', field = null, detail = null, network = false } = {}) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field;
    /** Machine-readable detail, e.g. the allowed transitions of a 409. */
    this.detail = detail;
    this.network = network;
  }

  /** Worth retrying later with the same request (no answer, or a server-side failure). */
  get retryable() {
    return this.network || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export async function api(path, { method = 'GET', json, form, headers = {}, signal } = {}) {
  const h = { Accept: 'application/json', ...headers };
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
    throw new ApiError({ network: true, code: 'network', message: String((e && e.message) || e) });
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError({
      status: res.status,
      code: err.code || `http_${res.status}`,
      message: err.message || res.statusText || `HTTP ${res.status}`,
      field: err.field || null,
      detail: err.detail ?? null,
    });
  }
  return { data, res };
}

export const getJSON = async (path, opts) => (await api(path, opts)).data;

let refCache = null;
/** Config, categories and statuses, fetched once per page. */
export function loadReference() {
  if (!refCache) {
    refCache = Promise.all([
      getJSON('/api/v1/config'),
      getJSON('/api/v1/categories'),
      getJSON('/api/v1/statuses'),
    ]).then(([config, cats, stats]) => {
      const categories = cats.categories || [];
      const statuses = stats.statuses || [];
      return {
        config,
        categories,
        statuses,
        categoryByCode: new Map(categories.map((c) => [c.code, c])),
        statusByCode: new Map(statuses.map((s) => [s.code, s])),
      };
    });
    refCache.catch(() => { refCache = null; });
  }
  return refCache;
}

export function newIdempotencyKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Non-secure contexts (plain http on a LAN address) lack randomUUID: build a v4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
