// The tracking page /r/{id}: status, timeline, responsible unit, "me too" and e-mail updates.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { initI18n, t, lang, formatNumber } from './i18n.js';
import { api, getJSON, loadReference } from './api.js';
import { h, $, announce, errorText } from './dom.js';
import { buildStyle, installImageResolver, reportsTileUrl, OSM_ATTRIBUTION } from './mapstyle.js';
import { renderReport, rememberSupported, reportId } from './report-view.js';

const state = { ref: null, report: null, id: null, map: null, banner: null, subscribedTo: null };

function idFromPath() {
  const m = location.pathname.match(/\/r\/([^/]+)\/?$/);
  return m ? decodeURIComponent(m[1]) : null;
}

async function main() {
  await initI18n();
  state.id = idFromPath();
  const params = new URLSearchParams(location.search);
  if (params.get('new') === '1') state.banner = 'track.created';
  else if (params.get('supported') === '1') state.banner = 'track.supported';
  // Keep the address clean so a reload or a shared link does not thank again.
  if (state.banner) history.replaceState(null, '', location.pathname);

  try {
    state.ref = await loadReference();
  } catch (e) {
    showError(e);
    return;
  }
  const city = state.ref.config.city || {};
  $('#city-name').textContent = city.name || '';
  $('#city-attribution').textContent = city.attribution || '';
  $('#back-to-map').href = state.id ? `/?report=${encodeURIComponent(state.id)}` : '/';

  if (!state.id) {
    showError({ code: 'not_found', status: 404 });
    return;
  }
  document.addEventListener('zglos:lang', () => {
    render();
    labelMap();
  });
  $('#subscribe-form').addEventListener('submit', onSubscribe);
  // The e-mail given with the report just sent, offered for updates (still needs a tap).
  try {
    const email = sessionStorage.getItem('zglos.email');
    if (email) $('#subscribe-email').value = email;
  } catch { /* ignore */ }
  await load();
  if (state.report) {
    const title = $('#report .report-title');
    if (title) title.focus();
    if (state.banner) announce(t(state.banner, { id: state.id }), { visual: false });
  }
}

async function load() {
  try {
    state.report = await getJSON(`/api/v1/reports/${encodeURIComponent(state.id)}`);
  } catch (e) {
    showError(e);
    return;
  }
  render();
  showMap();
}

function showError(e) {
  const notFound = e && (e.status === 404 || e.code === 'not_found');
  document.title = t('app.name');
  $('#report').replaceChildren(
    h('h1', { tabindex: '-1' }, notFound ? t('track.notFoundTitle') : t('errors.loadFailed')),
    h('p', { class: 'banner banner-error', role: 'alert' }, notFound ? t('track.notFound', { id: state.id || '' }) : errorText(e)),
  );
  $('#track-map').hidden = true;
}

function render() {
  if (!state.report) return;
  const id = reportId(state.report);
  document.title = `${t('track.title', { id })} · ${t('app.name')}`;
  const banner = $('#track-banner');
  banner.hidden = !state.banner;
  banner.textContent = state.banner ? t(state.banner, { id }) : '';
  renderReport($('#report'), state.report, state.ref, { headingLevel: 1, onSupport });
  const title = $('#report .report-title');
  title.prepend(h('span', { class: 'report-number' }, `${t('track.title', { id })}: `));
  $('#subscribe').hidden = false;
  const done = $('#subscribe-done');
  if (state.subscribedTo) {
    done.textContent = t('track.subscribed', { email: state.subscribedTo });
    done.hidden = false;
  }
}

async function onSupport(id, btn) {
  btn.disabled = true;
  try {
    const { data } = await api(`/api/v1/reports/${encodeURIComponent(id)}/support`, { method: 'POST', json: { lang: lang() } });
    rememberSupported(id);
    try { sessionStorage.setItem('zglos.tilesVersion', String(Date.now())); } catch { /* ignore */ }
    const n = data && data.properties ? data.properties.supporters : null;
    // The timeline comes only with GET; fetch the report again to show the new entry.
    try {
      state.report = await getJSON(`/api/v1/reports/${encodeURIComponent(state.id)}`);
    } catch {
      if (data && data.properties) state.report = { ...data, properties: { ...data.properties, timeline: state.report.properties.timeline } };
    }
    state.banner = 'track.supported';
    render();
    announce(t('details.supportThanks', { n: formatNumber(n ?? state.report.properties.supporters) }));
  } catch (e) {
    btn.disabled = false;
    announce(errorText(e), { kind: 'error' });
  }
}

async function onSubscribe(ev) {
  ev.preventDefault();
  const input = $('#subscribe-email');
  const err = $('#subscribe-error');
  const email = input.value.trim();
  const fail = (msg) => {
    err.textContent = msg;
    err.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    announce(msg, { kind: 'error' });
  };
  err.hidden = true;
  input.removeAttribute('aria-invalid');
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    fail(t('validation.email'));
    return;
  }
  const btn = $('#subscribe-btn');
  btn.disabled = true;
  try {
    await api(`/api/v1/reports/${encodeURIComponent(state.id)}/subscribe`, { method: 'POST', json: { email, lang: lang() } });
    state.subscribedTo = email;
    $('#subscribe-form').hidden = true;
    const done = $('#subscribe-done');
    done.textContent = t('track.subscribed', { email });
    done.hidden = false;
    announce(done.textContent);
  } catch (e) {
    fail(errorText(e));
  } finally {
    btn.disabled = false;
  }
}

function labelMap() {
  if (!state.map) return;
  state.map.getCanvas().setAttribute('aria-label', t('track.mapLabel'));
  const root = state.map.getContainer();
  for (const [cls, key] of [['.maplibregl-ctrl-zoom-in', 'map.zoomIn'], ['.maplibregl-ctrl-zoom-out', 'map.zoomOut']]) {
    const btn = root.querySelector(cls);
    if (btn) {
      btn.setAttribute('aria-label', t(key));
      btn.setAttribute('title', t(key));
    }
  }
}

function showMap() {
  const f = state.report;
  if (!f || !f.geometry || state.map) return;
  const coords = [];
  const walk = (c) => (typeof c[0] === 'number' ? coords.push(c) : c.forEach(walk));
  walk(f.geometry.coordinates);
  if (!coords.length) return;
  const style = buildStyle({ reportsUrl: reportsTileUrl({ status: 'all' }), attribution: OSM_ATTRIBUTION });
  const map = new maplibregl.Map({
    container: 'track-map',
    style,
    center: coords[0],
    zoom: 16,
    attributionControl: false,
    interactive: true,
    dragRotate: false,
    touchPitch: false,
  });
  state.map = map;
  window.zglosMap = map;
  map.addControl(new maplibregl.AttributionControl({ compact: false, customAttribution: OSM_ATTRIBUTION }), 'bottom-right');
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  labelMap();
  installImageResolver(map, state.ref.categoryByCode);
  map.on('load', () => {
    map.getSource('selected').setData({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: f.geometry, properties: {} }] });
    if (coords.length > 1) {
      const b = new maplibregl.LngLatBounds(coords[0], coords[0]);
      coords.forEach((c) => b.extend(c));
      map.fitBounds(b, { padding: 40, maxZoom: 18, animate: false });
    }
    window.zglosReady = true;
  });
}

main();
