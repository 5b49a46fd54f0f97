// The map page: browse reports, open one, and write a new report.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { initI18n, t, tn, nameOf, lang, formatNumber } from './i18n.js';
import { api, getJSON, loadReference, newIdempotencyKey } from './api.js';
import { h, $, $$, announce, errorText, categoryBadge, categoryIcon, statusBadge } from './dom.js';
import {
  buildStyle, mergeBasemap, installImageResolver, reportsTileUrl, labelPoint, pointInGeometry,
  INTERACTIVE_LAYERS, STATUS_RING, OSM_ATTRIBUTION,
} from './mapstyle.js';
import {
  emptyDraft, loadDraft, saveDraft, clearDraft, hasContent, draftGeometry, draftAnchor,
  draftFeature, minPoints,
} from './draft.js';
import { renderReport, rememberSupported, reportId, addressLabel } from './report-view.js';
import { addressSearch, nearLine } from './address-search.js';

const MAX_PHOTOS = 3;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const TILES_VERSION_KEY = 'zglos.tilesVersion';

const state = {
  ref: null,
  map: null,
  mapLoaded: false,
  mode: 'browse', // browse | details | report
  draft: null,
  filters: { status: 'open', categories: [] },
  districts: [],
  marker: null,
  sending: false,
  retryTimer: null,
  retryTick: null,
  retryDelay: 0,
  nearbyTimer: null,
  nearbySeq: 0,
  nearby: [],
  selected: null,
  uploading: 0,
  listOpen: false,
  search: null,
  near: null,
};

// ---- start ----------------------------------------------------------------------------------

async function main() {
  await initI18n();
  let ref;
  try {
    ref = await loadReference();
  } catch (e) {
    showFatal(e);
    return;
  }
  state.ref = ref;
  const city = ref.config.city || {};
  $('#city-name').textContent = city.name || '';
  $('#city-attribution').textContent = city.attribution || '';
  setTitle();

  buildFilters();
  buildLegend();
  buildCategoryList();
  initMap();
  initForm();
  initBrowse();
  initSearch();

  document.addEventListener('zglos:lang', onLangChange);
  window.addEventListener('online', () => {
    if (state.draft && state.draft.pending) sendDraft();
  });

  const draft = loadDraft();
  const params = new URLSearchParams(location.search);
  if (hasContent(draft) && (draft.pending || !params.get('report'))) {
    // A report waiting to be sent (or half written) comes back first.
    state.draft = draft;
    openReport({ focus: false });
    showBanner(draft.pending ? t('form.pendingRestored') : t('form.draftRestored'));
    if (draft.pending && navigator.onLine !== false) sendDraft();
  } else if (params.get('report')) {
    if (hasContent(draft)) {
      state.draft = draft;
      $('#resume-draft').hidden = false;
    }
    openDetails(params.get('report'), { fly: true, focus: false });
  } else if (params.get('new') === '1') {
    openReport({ focus: true });
  }
}

function setTitle() {
  const city = (state.ref && state.ref.config.city && state.ref.config.city.name) || '';
  document.title = city ? `${t('app.name')} · ${city}` : t('app.name');
}

function showFatal(err) {
  const panel = $('#view-browse');
  panel.replaceChildren(
    h('h1', {}, t('app.name')),
    h('p', { class: 'banner banner-error', role: 'alert' }, t('errors.loadFailed'), ' ', errorText(err)),
    h('button', { type: 'button', class: 'btn btn-primary', onclick: () => location.reload() }, t('errors.reload')),
  );
}

function bumpTilesVersion() {
  try { sessionStorage.setItem(TILES_VERSION_KEY, String(Date.now())); } catch { /* ignore */ }
}

function tilesVersion() {
  try { return Number(sessionStorage.getItem(TILES_VERSION_KEY)) || 0; } catch { return 0; }
}

function currentTilesUrl() {
  const s = state.filters.status;
  return reportsTileUrl({
    status: s === 'open' ? 'open' : 'all',
    categories: state.filters.categories,
    version: tilesVersion(),
  });
}

// ---- map --------------------------------------------------------------------------------------

function ownStyle() {
  const city = state.ref.config.city || {};
  return buildStyle({
    reportsUrl: currentTilesUrl(),
    attribution: OSM_ATTRIBUTION,
    cityAttribution: city.attribution,
  });
}

function initMap() {
  const cfg = state.ref.config.map || {};
  const city = state.ref.config.city || {};
  const options = {
    container: 'map',
    style: ownStyle(),
    center: cfg.center || [19.945, 50.06],
    zoom: cfg.zoom ?? 11,
    minZoom: 8,
    maxZoom: 20,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: false,
    locale: mapLocale(),
  };
  if (Array.isArray(cfg.bbox) && cfg.bbox.length === 4) {
    const [w, s, e, n] = cfg.bbox;
    const dx = (e - w) * 0.6;
    const dy = (n - s) * 0.6;
    options.maxBounds = [[w - dx, s - dy], [e + dx, n + dy]];
  }
  const map = new maplibregl.Map(options);
  state.map = map;
  window.zglosMap = map;
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.AttributionControl({
    compact: false,
    customAttribution: [OSM_ATTRIBUTION, city.attribution].filter(Boolean),
  }), 'bottom-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  labelCanvas();

  installImageResolver(map, state.ref.categoryByCode);
  map.on('error', (e) => {
    // A basemap that cannot be reached is expected with no internet; keep the console readable.
    const id = e && e.sourceId;
    if (id && !['districts', 'reports'].includes(id)) return;
    console.warn('map:', (e && e.error && e.error.message) || e);
  });
  map.on('load', () => {
    state.mapLoaded = true;
    applyFilters();
    renderDraftOnMap();
    renderSelected();
    loadDistricts();
    tryBasemap();
    document.body.dataset.mapReady = 'true';
    window.zglosReady = true;
  });
  map.on('click', onMapClick);
  map.on('mousemove', (e) => {
    if (state.mode === 'report') {
      map.getCanvas().style.cursor = 'crosshair';
      return;
    }
    const hit = map.queryRenderedFeatures(e.point, { layers: existingLayers(INTERACTIVE_LAYERS) }).length > 0;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
  map.on('moveend', () => {
    if (state.listOpen) refreshList();
  });
}

function mapLocale() {
  return {
    'NavigationControl.ZoomIn': t('map.zoomIn'),
    'NavigationControl.ZoomOut': t('map.zoomOut'),
    'AttributionControl.ToggleAttribution': t('map.attribution'),
    'ScaleControl.Meters': 'm',
    'ScaleControl.Kilometers': 'km',
  };
}

function labelCanvas() {
  const canvas = state.map.getCanvas();
  canvas.setAttribute('aria-label', t('map.label'));
  canvas.setAttribute('role', 'region');
  const container = state.map.getCanvasContainer();
  container.setAttribute('aria-describedby', 'map-help');
  // MapLibre labels its controls once; keep them in the chosen language.
  const root = state.map.getContainer();
  for (const [cls, key] of [['.maplibregl-ctrl-zoom-in', 'map.zoomIn'], ['.maplibregl-ctrl-zoom-out', 'map.zoomOut']]) {
    const btn = root.querySelector(cls);
    if (btn) {
      btn.setAttribute('aria-label', t(key));
      btn.setAttribute('title', t(key));
    }
  }
}

function existingLayers(ids) {
  const map = state.map;
  return ids.filter((id) => map.getLayer(id));
}

async function loadDistricts() {
  try {
    const fc = await getJSON('/api/v1/districts');
    state.districts = (fc && fc.features) || [];
    setDistrictLabels();
    updateWhere();
  } catch (e) {
    console.warn('districts:', e.message);
  }
}

function setDistrictLabels() {
  const src = state.map && state.map.getSource('district-labels');
  if (!src) return;
  const features = [];
  for (const d of state.districts) {
    const pt = labelPoint(d.geometry);
    if (pt) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: pt }, properties: { name: d.properties.name } });
  }
  src.setData({ type: 'FeatureCollection', features });
}

function districtAt(pt) {
  const d = state.districts.find((f) => pointInGeometry(pt, f.geometry));
  return d ? d.properties : null;
}

/** Load the configured basemap style; only when it loads is it put under our layers. */
async function tryBasemap() {
  const url = state.ref.config.map && state.ref.config.map.basemap_style_url;
  document.body.dataset.basemap = 'off';
  if (!url) return;
  const map = state.map;
  let style;
  try {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 8000);
    const res = await fetch(url, { signal: ctrl.signal, credentials: 'omit' });
    clearTimeout(timer);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    style = await res.json();
    if (!style || style.version !== 8 || !Array.isArray(style.layers) || typeof style.sources !== 'object') {
      throw new Error('not a MapLibre style');
    }
  } catch (e) {
    console.info('basemap not available, showing districts only:', e.message || e);
    return;
  }
  let settled = false;
  const fallback = setTimeout(() => {
    if (settled) return;
    settled = true;
    console.warn('basemap style did not load; back to districts only');
    map.setStyle(ownStyle(), { diff: false });
    map.once('style.load', afterStyleChange);
  }, 15000);
  map.once('style.load', () => {
    if (settled) return;
    settled = true;
    clearTimeout(fallback);
    document.body.dataset.basemap = 'on';
    afterStyleChange();
  });
  try {
    map.setStyle(style, { diff: false, transformStyle: (prev, next) => mergeBasemap(prev || ownStyle(), next) });
  } catch (e) {
    settled = true;
    clearTimeout(fallback);
    console.warn('basemap style rejected:', e.message);
    map.setStyle(ownStyle(), { diff: false });
    map.once('style.load', afterStyleChange);
  }
}

function afterStyleChange() {
  setDistrictLabels();
  applyFilters();
  renderDraftOnMap();
  renderSelected();
}

function onMapClick(e) {
  const map = state.map;
  if (state.mode === 'report') {
    addPoint([e.lngLat.lng, e.lngLat.lat]);
    return;
  }
  const pad = 10;
  const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
  const feats = map.queryRenderedFeatures(box, { layers: existingLayers(INTERACTIVE_LAYERS) });
  const report = feats.find((f) => f.sourceLayer === 'reports' && f.properties.id != null);
  if (report) {
    openDetails(report.properties.id, { focus: false });
    return;
  }
  const cluster = feats.find((f) => f.sourceLayer === 'clusters');
  if (cluster) {
    const c = cluster.geometry.type === 'Point' ? cluster.geometry.coordinates : [e.lngLat.lng, e.lngLat.lat];
    map.easeTo({ center: c, zoom: Math.min(map.getZoom() + 2, 18) });
  }
}

// ---- filters, legend, list ------------------------------------------------------------------

function buildFilters() {
  const sel = $('#status-filter');
  const keep = state.filters.status;
  const opts = [
    h('option', { value: 'open' }, t('filters.statusOpen')),
    h('option', { value: 'all' }, t('filters.statusAll')),
    h('optgroup', { label: t('filters.statusOne') },
      state.ref.statuses.map((s) => h('option', { value: s.code }, nameOf(s)))),
  ];
  sel.replaceChildren(...opts);
  sel.value = keep;

  const box = $('#category-filter-list');
  box.replaceChildren(...state.ref.categories.map((c) => h('label', { class: 'check-chip', style: { '--cat': c.color } },
    h('input', {
      type: 'checkbox', value: c.code, name: 'category-filter',
      checked: state.filters.categories.includes(c.code),
    }),
    categoryIcon(c),
    h('span', {}, nameOf(c)))));
  updateFilterSummary();
}

function updateFilterSummary() {
  const n = state.filters.categories.length;
  const parts = [];
  parts.push(n ? tn('filters.categoriesChosen', n) : t('filters.allCategories'));
  const s = state.filters.status;
  parts.push(s === 'open' ? t('filters.statusOpen') : s === 'all' ? t('filters.statusAll') : nameOf(state.ref.statusByCode.get(s)));
  $('#filter-summary').textContent = parts.join(' · ');
  $('#status-zoom-hint').hidden = s === 'open' || s === 'all';
}

function initBrowse() {
  $('#status-filter').addEventListener('change', (e) => {
    state.filters.status = e.target.value;
    applyFilters();
  });
  $('#category-filter-list').addEventListener('change', () => {
    state.filters.categories = $$('input[name="category-filter"]:checked').map((i) => i.value);
    applyFilters();
  });
  $('#filter-reset').addEventListener('click', () => {
    state.filters = { status: 'open', categories: [] };
    buildFilters();
    applyFilters();
    announce(t('filters.resetDone'));
  });
  $('#start-report').addEventListener('click', () => openReport({ focus: true }));
  $('#resume-draft-btn').addEventListener('click', () => openReport({ focus: true }));
  $('#details-back').addEventListener('click', () => closeDetails());
  $('#list-toggle').addEventListener('click', () => {
    state.listOpen = !state.listOpen;
    $('#list-toggle').setAttribute('aria-expanded', String(state.listOpen));
    $('#list-toggle').textContent = state.listOpen ? t('list.hide') : t('list.show');
    $('#report-list-wrap').hidden = !state.listOpen;
    if (state.listOpen) refreshList();
  });
}

const LAYER_BASE_FILTERS = {
  'reports-point': ['==', ['geometry-type'], 'Point'],
  'reports-icon': ['==', ['geometry-type'], 'Point'],
  'reports-status': ['==', ['geometry-type'], 'Point'],
  'reports-line': ['==', ['geometry-type'], 'LineString'],
  'reports-line-casing': ['==', ['geometry-type'], 'LineString'],
  'reports-area': ['==', ['geometry-type'], 'Polygon'],
  'reports-area-outline': ['==', ['geometry-type'], 'Polygon'],
};

function applyFilters() {
  updateFilterSummary();
  const map = state.map;
  if (!map || !state.mapLoaded) return;
  const src = map.getSource('reports');
  if (src && typeof src.setTiles === 'function') {
    const url = currentTilesUrl();
    if (!src.tiles || src.tiles[0] !== url) src.setTiles([url]);
  }
  const s = state.filters.status;
  const one = s !== 'open' && s !== 'all';
  for (const [id, base] of Object.entries(LAYER_BASE_FILTERS)) {
    if (!map.getLayer(id)) continue;
    map.setFilter(id, one ? ['all', base, ['==', ['get', 'status'], s]] : base);
  }
  for (const id of ['clusters-circle', 'clusters-count']) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', one ? 'none' : 'visible');
  }
  if (state.listOpen) refreshList();
}

function buildLegend() {
  const list = $('#legend-list');
  const seen = new Set();
  const items = [];
  for (const s of state.ref.statuses) {
    const ring = STATUS_RING[s.code] || '#ffffff';
    items.push(h('li', {},
      h('span', { class: 'legend-dot', 'aria-hidden': 'true', style: { '--ring': ring }, dataset: { open: String(s.is_open) } }),
      nameOf(s)));
    seen.add(s.code);
  }
  list.replaceChildren(...items,
    h('li', {}, h('span', { class: 'legend-cluster', 'aria-hidden': 'true' }, '12'), t('legend.cluster')));
}

let listSeq = 0;
async function refreshList() {
  const map = state.map;
  const wrap = $('#report-list');
  const b = map.getBounds();
  const params = new URLSearchParams({
    bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(','),
    limit: '30',
  });
  if (state.filters.categories.length) params.set('category', state.filters.categories.join(','));
  // The list takes status codes: "open" means every open status, "all" means no filter.
  const s = state.filters.status;
  if (s === 'open') params.set('status', state.ref.statuses.filter((x) => x.is_open).map((x) => x.code).join(','));
  else if (s !== 'all') params.set('status', s);
  const seq = ++listSeq;
  $('#report-list-status').textContent = t('list.loading');
  try {
    const fc = await getJSON(`/api/v1/reports?${params.toString().replace(/%2C/g, ',')}`);
    if (seq !== listSeq) return;
    const feats = (fc && fc.features) || [];
    wrap.replaceChildren(...feats.map((f) => {
      const p = f.properties || {};
      const cat = state.ref.categoryByCode.get(p.category);
      const st = state.ref.statusByCode.get(p.status);
      return h('li', {},
        h('button', { type: 'button', class: 'list-item', onclick: () => openDetails(reportId(f), { fly: true, focus: true }) },
          categoryBadge(cat, cat ? nameOf(cat) : p.category),
          statusBadge(p.status, st ? nameOf(st) : p.status, st && st.is_open),
          h('span', { class: 'list-desc' }, p.description || '')));
    }));
    const more = fc && Array.isArray(fc.links) && fc.links.some((l) => l.rel === 'next');
    $('#report-list-status').textContent = feats.length
      ? tn('list.count', feats.length) + (more ? ` ${t('list.more')}` : '')
      : t('list.empty');
  } catch (e) {
    if (seq !== listSeq) return;
    $('#report-list-status').textContent = errorText(e);
  }
}

// ---- views ----------------------------------------------------------------------------------

function showView(name, { focus = true } = {}) {
  for (const v of ['browse', 'details', 'report']) {
    $(`#view-${v}`).hidden = v !== name;
  }
  document.body.dataset.mode = name;
  state.mode = name;
  $('#map-hint').hidden = name !== 'report' || (state.draft && state.draft.coords.length > 0);
  if (focus) {
    const heading = $(`#view-${name} h1, #view-${name} h2`);
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
    }
  }
  $('#panel').scrollTop = 0;
}

async function openDetails(id, { fly = false, focus = true } = {}) {
  showView('details', { focus: false });
  const body = $('#details-body');
  body.replaceChildren(h('p', { class: 'hint' }, t('details.loading')));
  history.replaceState(null, '', `/?report=${encodeURIComponent(id)}`);
  try {
    const f = await getJSON(`/api/v1/reports/${encodeURIComponent(id)}`);
    if (state.mode !== 'details') return;
    state.selected = f;
    renderDetails();
    renderSelected();
    if (fly) flyToFeature(f);
    if (focus) $('#details-body .report-title').focus();
    announce(t('details.opened', { id: reportId(f) }), { visual: false });
  } catch (e) {
    body.replaceChildren(h('p', { class: 'banner banner-error', role: 'alert' }, errorText(e)));
  }
}

function renderDetails() {
  if (!state.selected) return;
  renderReport($('#details-body'), state.selected, state.ref, {
    headingLevel: 2,
    trackingLink: true,
    onSupport: supportFromDetails,
  });
}

async function supportFromDetails(id, btn) {
  btn.disabled = true;
  try {
    const { data } = await api(`/api/v1/reports/${encodeURIComponent(id)}/support`, { method: 'POST', json: { lang: lang() } });
    rememberSupported(id);
    bumpTilesVersion();
    if (state.selected && String(reportId(state.selected)) === String(id)) {
      const timeline = state.selected.properties.timeline;
      state.selected = data && data.properties ? data : state.selected;
      if (!state.selected.properties.timeline && timeline) state.selected.properties.timeline = timeline;
      renderDetails();
    }
    announce(t('details.supportThanks', { n: formatNumber((data && data.properties && data.properties.supporters) || 0) }));
  } catch (e) {
    btn.disabled = false;
    announce(errorText(e), { kind: 'error' });
  }
}

function closeDetails() {
  state.selected = null;
  renderSelected();
  history.replaceState(null, '', '/');
  showView('browse');
}

function renderSelected() {
  const src = state.map && state.mapLoaded && state.map.getSource('selected');
  if (!src) return;
  const f = state.mode === 'details' ? state.selected : null;
  src.setData({ type: 'FeatureCollection', features: f && f.geometry ? [{ type: 'Feature', geometry: f.geometry, properties: {} }] : [] });
}

function flyToFeature(f) {
  if (!f || !f.geometry || !state.map) return;
  const coords = [];
  const walk = (c) => (typeof c[0] === 'number' ? coords.push(c) : c.forEach(walk));
  walk(f.geometry.coordinates);
  if (!coords.length) return;
  if (coords.length === 1) {
    state.map.jumpTo({ center: coords[0], zoom: Math.max(state.map.getZoom(), 17) });
  } else {
    const b = new maplibregl.LngLatBounds(coords[0], coords[0]);
    coords.forEach((c) => b.extend(c));
    state.map.fitBounds(b, { padding: 60, maxZoom: 18, animate: false });
  }
}

// ---- the report form ----------------------------------------------------------------------

function buildCategoryList() {
  const list = $('#category-list');
  const current = state.draft && state.draft.category;
  list.replaceChildren(...state.ref.categories.map((c) => h('label', { class: 'cat-option', style: { '--cat': c.color } },
    h('input', { type: 'radio', name: 'category', value: c.code, checked: c.code === current }),
    categoryIcon(c, 'cat-swatch'),
    h('span', { class: 'cat-label' }, nameOf(c)))));
}

function initForm() {
  const form = $('#view-report');
  form.addEventListener('submit', onSubmit);
  $('#category-list').addEventListener('change', (e) => {
    if (e.target.name !== 'category') return;
    setCategory(e.target.value);
  });
  $('#kind-group').addEventListener('change', (e) => {
    if (e.target.name !== 'kind') return;
    setKind(e.target.value);
  });
  $('#btn-locate').addEventListener('click', useMyLocation);
  $('#btn-center').addEventListener('click', () => {
    const c = state.map.getCenter();
    addPoint([c.lng, c.lat]);
  });
  $('#btn-undo').addEventListener('click', () => {
    state.draft.coords.pop();
    draftChanged();
  });
  $('#btn-clear').addEventListener('click', () => {
    state.draft.coords = [];
    draftChanged();
  });
  const desc = $('#description');
  desc.addEventListener('input', () => {
    state.draft.description = desc.value;
    setFieldError('description', null);
    updateCounter();
    saveDraft(state.draft);
  });
  for (const k of ['name', 'email', 'phone']) {
    const input = $(`#contact-${k}`);
    input.addEventListener('input', () => {
      state.draft.contact[k] = input.value;
      setFieldError(`contact-${k}`, null);
      saveDraft(state.draft);
    });
  }
  $('#photo-input').addEventListener('change', onPhotosChosen);
  $('#form-cancel').addEventListener('click', () => closeReport({ keep: true }));
  $('#btn-discard').addEventListener('click', () => {
    if (!window.confirm(t('form.discardConfirm'))) return;
    closeReport({ keep: false });
    announce(t('form.discarded'));
  });
  $('#btn-retry').addEventListener('click', () => sendDraft());
}

function openReport({ focus = true } = {}) {
  if (!state.draft) state.draft = emptyDraft();
  state.selected = null;
  renderSelected();
  history.replaceState(null, '', '/');
  showView('report', { focus });
  fillForm();
  draftChanged({ save: false });
}

function closeReport({ keep }) {
  clearRetry();
  if (!keep) {
    clearDraft();
    state.draft = null;
  } else if (state.draft && hasContent(state.draft)) {
    saveDraft(state.draft);
    announce(t('form.keptForLater'));
  }
  showBanner(null);
  removeMarker();
  state.near.clear();
  state.mode = 'browse';
  renderDraftOnMap();
  showView('browse');
  if (keep && state.draft && hasContent(state.draft)) {
    $('#resume-draft').hidden = false;
  } else {
    $('#resume-draft').hidden = true;
    state.draft = null;
  }
}

function fillForm() {
  const d = state.draft;
  buildCategoryList();
  $('#description').value = d.description;
  for (const k of ['name', 'email', 'phone']) $(`#contact-${k}`).value = d.contact[k] || '';
  if (d.contact.name || d.contact.email || d.contact.phone) $('#contact-details').open = true;
  for (const id of ['where', 'category', 'description', 'photo', 'contact-name', 'contact-email', 'contact-phone']) setFieldError(id, null);
  updateCounter();
  renderPhotos();
  setSendStatus(null);
  $('#resume-draft').hidden = true;
}

function categoryOf(code) {
  return code ? state.ref.categoryByCode.get(code) : null;
}

function allowedKinds() {
  const cat = categoryOf(state.draft.category);
  const kinds = (cat && Array.isArray(cat.geometry_kinds) && cat.geometry_kinds.length) ? cat.geometry_kinds : ['point'];
  return ['point', 'line', 'area'].filter((k) => kinds.includes(k));
}

function setCategory(code) {
  const d = state.draft;
  d.category = code;
  setFieldError('category', null);
  if (!allowedKinds().includes(d.kind)) {
    const before = d.kind;
    d.kind = 'point';
    d.coords = d.coords.slice(0, 1);
    if (before !== 'point') announce(t('form.kindReset'));
  }
  draftChanged();
}

function setKind(kind) {
  const d = state.draft;
  if (!allowedKinds().includes(kind) || kind === d.kind) return;
  d.kind = kind;
  if (kind === 'point') d.coords = d.coords.slice(0, 1);
  draftChanged();
  announce(t(`form.hint_${kind}`), { visual: false });
}

function addPoint(c) {
  const d = state.draft;
  if (!d) return;
  const pt = [Number(c[0]), Number(c[1])];
  if (d.kind === 'point') d.coords = [pt];
  else d.coords.push(pt);
  setFieldError('where', null);
  draftChanged();
  const dist = districtAt(pt);
  if (d.kind === 'point') {
    announce(dist ? t('form.placedIn', { district: dist.name }) : t('form.placed'), { visual: false });
  } else {
    announce(tn('form.pointsCount', d.coords.length), { visual: false });
  }
}

function draftChanged({ save = true } = {}) {
  const d = state.draft;
  if (!d) return;
  if (save) saveDraft(d);
  renderKinds();
  renderDraftOnMap();
  updateWhere();
  scheduleNearby();
  state.near.update(state.mode === 'report' ? draftAnchor(d) : null);
  $('#map-hint').hidden = state.mode !== 'report' || d.coords.length > 0;
}

function renderKinds() {
  const kinds = allowedKinds();
  const group = $('#kind-group');
  group.hidden = kinds.length < 2;
  for (const input of $$('input[name="kind"]', group)) {
    const allowed = kinds.includes(input.value);
    input.closest('label').hidden = !allowed;
    input.disabled = !allowed;
    input.checked = input.value === state.draft.kind;
  }
}

function updateWhere() {
  const d = state.draft;
  if (!d) return;
  $('#where-hint').textContent = t(`form.hint_${d.kind}`);
  const multi = d.kind !== 'point';
  $('#btn-undo').hidden = !multi || d.coords.length === 0;
  $('#btn-clear').hidden = !multi || d.coords.length === 0;
  const status = $('#where-status');
  status.classList.remove('warn');
  if (!d.coords.length) {
    status.textContent = t('form.noPlace');
    return;
  }
  const anchor = draftAnchor(d);
  const dist = state.districts.length ? districtAt(anchor) : null;
  let text;
  if (d.kind === 'point') {
    text = dist ? t('form.placedIn', { district: dist.name }) : t('form.placed');
  } else {
    text = tn('form.pointsCount', d.coords.length);
    if (d.coords.length < minPoints(d.kind)) text += ` ${t(`form.needPoints_${d.kind}`)}`;
    else if (dist) text += ` ${t('form.inDistrict', { district: dist.name })}`;
  }
  if (state.districts.length && !dist) {
    text = t('errors.outside_city');
    status.classList.add('warn');
  }
  status.textContent = text;
}

function removeMarker() {
  if (state.marker) {
    state.marker.remove();
    state.marker = null;
  }
}

function renderDraftOnMap() {
  const map = state.map;
  if (!map || !state.mapLoaded) return;
  const d = state.mode === 'report' ? state.draft : null;
  const src = map.getSource('draft');
  const features = [];
  if (d && d.kind !== 'point' && d.coords.length) {
    const geom = draftGeometry(d);
    if (geom) features.push({ type: 'Feature', geometry: geom, properties: {} });
    else if (d.coords.length > 1) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: d.coords }, properties: {} });
    d.coords.forEach((c, i) => features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { i } }));
  }
  if (src) src.setData({ type: 'FeatureCollection', features });

  if (d && d.kind === 'point' && d.coords.length) {
    if (!state.marker) {
      const el = h('div', { class: 'pin', role: 'img' });
      state.marker = new maplibregl.Marker({ element: el, draggable: true, anchor: 'bottom' })
        .setLngLat(d.coords[0])
        .addTo(map);
      state.marker.on('dragend', () => {
        const ll = state.marker.getLngLat();
        state.draft.coords = [[ll.lng, ll.lat]];
        draftChanged();
      });
    } else {
      state.marker.setLngLat(d.coords[0]);
    }
    state.marker.getElement().setAttribute('aria-label', t('form.pinLabel'));
    state.marker.getElement().setAttribute('title', t('form.pinLabel'));
  } else {
    removeMarker();
  }
}

function useMyLocation() {
  const status = $('#where-status');
  if (!('geolocation' in navigator)) {
    setFieldError('where', t('form.locationUnavailable'));
    return;
  }
  status.textContent = t('form.locating');
  navigator.geolocation.getCurrentPosition((pos) => {
    const c = [pos.coords.longitude, pos.coords.latitude];
    if (state.draft.kind !== 'point') {
      state.draft.kind = 'point';
      state.draft.coords = [];
    }
    addPoint(c);
    state.map.easeTo({ center: c, zoom: Math.max(state.map.getZoom(), 17) });
  }, (err) => {
    updateWhere();
    setFieldError('where', err.code === 1 ? t('form.locationDenied') : t('form.locationError'));
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

function updateCounter() {
  const el = $('#description');
  $('#description-count').textContent = t('form.chars', { n: el.value.length, max: el.maxLength });
}

// ---- address search ---------------------------------------------------------------------------

function initSearch() {
  state.near = nearLine($('#where-address'));
  state.search = addressSearch({
    input: $('#addr-input'),
    list: $('#addr-list'),
    status: $('#addr-status'),
    near: () => {
      const map = state.map;
      if (!map || map.getZoom() < 12) return null;
      const c = map.getCenter();
      return [c.lng, c.lat];
    },
    onPick: onAddressPicked,
  });
}

/** A suggestion was picked: fly there and put the report's pin on it (starting a report). */
function onAddressPicked(f) {
  const p = f.properties || {};
  const pt = [Number(f.geometry.coordinates[0]), Number(f.geometry.coordinates[1])];
  const label = p.label || '';
  const opened = state.mode !== 'report';
  if (opened) openReport({ focus: false });
  flyToHit(f, pt);
  const parts = [];
  if (state.draft.kind === 'point') {
    addPoint(pt);
    parts.push(t('search.placed', { label }));
  } else {
    // A line or an area is drawn point by point: the map only goes there.
    parts.push(t('search.moved', { label }));
  }
  if (opened) parts.push(t('search.formOpened'));
  announce(parts.join(' '), { visual: false });
}

function flyToHit(f, pt) {
  const map = state.map;
  if (!map) return;
  const b = Array.isArray(f.bbox) && f.bbox.length === 4 ? f.bbox : null;
  if (b && (b[2] - b[0] > 0.0005 || b[3] - b[1] > 0.0005)) {
    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 18, duration: 800 });
  } else {
    map.flyTo({ center: pt, zoom: Math.max(map.getZoom(), 17), duration: 1200 });
  }
}

// ---- "already reported nearby?" -------------------------------------------------------------

function scheduleNearby() {
  clearTimeout(state.nearbyTimer);
  state.nearbyTimer = setTimeout(updateNearby, 300);
}

async function updateNearby() {
  const d = state.draft;
  const box = $('#nearby');
  const anchor = d && state.mode === 'report' ? draftAnchor(d) : null;
  if (!anchor || !d.category) {
    state.nearby = [];
    box.hidden = true;
    return;
  }
  const seq = ++state.nearbySeq;
  const q = new URLSearchParams({ lon: anchor[0].toFixed(6), lat: anchor[1].toFixed(6), category: d.category });
  try {
    const fc = await getJSON(`/api/v1/reports/nearby?${q}`);
    if (seq !== state.nearbySeq) return;
    state.nearby = ((fc && fc.features) || []).slice(0, 5);
    renderNearby();
    if (state.nearby.length) announce(tn('form.nearbyFound', state.nearby.length), { visual: false });
  } catch (e) {
    if (seq !== state.nearbySeq) return;
    state.nearby = [];
    box.hidden = true;
  }
}

function renderNearby() {
  const box = $('#nearby');
  box.hidden = state.nearby.length === 0;
  $('#nearby-list').replaceChildren(...state.nearby.map((f, i) => {
    const p = f.properties || {};
    const id = reportId(f);
    const cat = state.ref.categoryByCode.get(p.category);
    const st = state.ref.statusByCode.get(p.status);
    const descId = `nearby-desc-${i}`;
    const err = h('p', { class: 'field-error', hidden: true });
    const btn = h('button', {
      type: 'button', class: 'btn btn-primary btn-metoo', 'aria-describedby': descId,
      onclick: () => meToo(id, btn, err),
    }, t('form.meToo'));
    return h('li', { class: 'nearby-item', dataset: { reportId: String(id) } },
      h('div', { class: 'nearby-head' },
        categoryBadge(cat, cat ? nameOf(cat) : p.category),
        statusBadge(p.status, st ? nameOf(st) : p.status, st && st.is_open)),
      h('p', { class: 'nearby-desc', id: descId }, p.description || ''),
      h('p', { class: 'nearby-meta' },
        addressLabel(p) ? `${addressLabel(p)} · ` : null,
        p.distance_m != null ? t('form.distance', { m: formatNumber(Math.round(p.distance_m)) }) : null,
        p.distance_m != null ? ' · ' : null,
        tn('details.supporters', Number(p.supporters ?? 1))),
      h('div', { class: 'btn-row' }, btn,
        h('a', { class: 'btn btn-link', href: `/r/${id}` }, t('form.nearbyOpen'))),
      err);
  }));
}

async function meToo(id, btn, errEl) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  errEl.hidden = true;
  const email = (state.draft && state.draft.contact.email || '').trim();
  try {
    await api(`/api/v1/reports/${encodeURIComponent(id)}/support`, {
      method: 'POST',
      json: email ? { email, lang: lang() } : { lang: lang() },
    });
    rememberSupported(id);
    bumpTilesVersion();
    clearRetry();
    clearDraft();
    state.draft = null;
    location.assign(`/r/${encodeURIComponent(id)}?supported=1`);
  } catch (e) {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    errEl.textContent = errorText(e);
    errEl.hidden = false;
    announce(errorText(e), { kind: 'error' });
  }
}

// ---- photos ---------------------------------------------------------------------------------

async function onPhotosChosen(e) {
  const input = e.target;
  const files = [...input.files];
  input.value = '';
  setFieldError('photo', null);
  const accepted = [];
  for (const file of files) {
    if (state.draft.photos.length + state.uploading + accepted.length >= MAX_PHOTOS) {
      setFieldError('photo', t('form.photoLimit', { n: MAX_PHOTOS }));
      break;
    }
    if (file.size > MAX_PHOTO_BYTES) {
      setFieldError('photo', `${file.name}: ${t('errors.payload_too_large')}`);
      continue;
    }
    accepted.push(file);
  }
  // One at a time, in the order chosen: kinder to a weak mobile connection, and the order is kept.
  state.uploading += accepted.length;
  renderPhotos();
  for (const file of accepted) {
    await uploadPhoto(file);
  }
}

async function uploadPhoto(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  try {
    const { data } = await api('/api/v1/photos', { method: 'POST', form });
    if (state.draft) {
      state.draft.photos.push({ id: data.id, url: data.url, thumbnail_url: data.thumbnail_url });
      saveDraft(state.draft);
      announce(t('form.photoAdded'), { visual: false });
    }
  } catch (err) {
    setFieldError('photo', `${file.name}: ${errorText(err)}`);
  } finally {
    state.uploading -= 1;
    renderPhotos();
  }
}

function renderPhotos() {
  const d = state.draft;
  if (!d) return;
  $('#photo-list').replaceChildren(...d.photos.map((p, i) => h('li', {},
    h('img', { src: p.thumbnail_url || p.url, alt: t('form.photoAlt', { n: i + 1 }), width: 80, height: 80 }),
    h('button', {
      type: 'button', class: 'photo-remove', 'aria-label': t('form.removePhoto', { n: i + 1 }),
      onclick: () => {
        d.photos.splice(i, 1);
        saveDraft(d);
        renderPhotos();
        $('#photo-input').focus();
      },
    }, '×'))));
  const full = d.photos.length + state.uploading >= MAX_PHOTOS;
  $('#photo-input').disabled = full;
  $('#photo-add').classList.toggle('disabled', full);
  $('#photo-status').textContent = state.uploading
    ? t('form.uploading')
    : t('form.photoCount', { n: d.photos.length, max: MAX_PHOTOS });
}

// ---- validation and sending -----------------------------------------------------------------

const FIELD_TARGETS = {
  where: '#btn-center',
  category: '#category-list input',
  description: '#description',
  photo: '#photo-input',
  'contact-name': '#contact-name',
  'contact-email': '#contact-email',
  'contact-phone': '#contact-phone',
};

function setFieldError(id, message) {
  const el = $(`#${id}-error`);
  if (!el) return;
  el.textContent = message || '';
  el.hidden = !message;
  const target = $(FIELD_TARGETS[id] || `#${id}`);
  if (target && ['description', 'contact-name', 'contact-email', 'contact-phone'].includes(id)) {
    if (message) target.setAttribute('aria-invalid', 'true');
    else target.removeAttribute('aria-invalid');
  }
}

function validate(d) {
  const problems = [];
  if (d.coords.length < minPoints(d.kind)) {
    problems.push(['where', d.kind === 'point' ? t('validation.where') : t(`form.needPoints_${d.kind}`)]);
  }
  if (!d.category) problems.push(['category', t('validation.category')]);
  if (!d.description.trim()) problems.push(['description', t('validation.description')]);
  const email = (d.contact.email || '').trim();
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push(['contact-email', t('validation.email')]);
  return problems;
}

function focusField(id) {
  if (id.startsWith('contact-')) $('#contact-details').open = true;
  const target = id === 'category'
    ? ($('#category-list input:checked') || $('#category-list input'))
    : $(FIELD_TARGETS[id] || `#${id}`);
  if (target) target.focus();
}

/** Which form field an API error's `field` points at. */
function fieldOfApi(field) {
  if (!field) return null;
  const f = String(field).replace(/^properties\./, '');
  if (f === 'geometry' || f.startsWith('geometry')) return 'where';
  if (f === 'category') return 'category';
  if (f === 'description') return 'description';
  if (f.startsWith('photos')) return 'photo';
  if (f.startsWith('contact.')) return `contact-${f.slice(8)}`;
  return null;
}

async function onSubmit(ev) {
  ev.preventDefault();
  if (state.sending) return;
  const d = state.draft;
  const problems = validate(d);
  for (const id of ['where', 'category', 'description', 'contact-email']) setFieldError(id, null);
  if (problems.length) {
    for (const [id, msg] of problems) setFieldError(id, msg);
    focusField(problems[0][0]);
    announce(`${t('validation.summary')} ${problems.map((p) => p[1]).join(' ')}`, { kind: 'error' });
    return;
  }
  if (state.uploading) {
    announce(t('form.waitUpload'), { kind: 'error' });
    return;
  }
  d.pending = true;
  saveDraft(d);
  await sendDraft();
}

function clearRetry() {
  clearTimeout(state.retryTimer);
  clearInterval(state.retryTick);
  state.retryTimer = null;
  state.retryTick = null;
}

async function sendDraft() {
  const d = state.draft;
  if (!d || state.sending) return;
  clearRetry();
  state.sending = true;
  const btn = $('#btn-send');
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  $('#btn-retry').hidden = true;
  setSendStatus(t('form.sending'), 'info');
  try {
    const { data, res } = await api('/api/v1/reports', {
      method: 'POST',
      json: draftFeature(d, lang()),
      headers: { 'Idempotency-Key': d.idempotencyKey },
    });
    let id = data && (data.id ?? (data.properties && data.properties.id));
    if (id == null) {
      const loc = res.headers.get('Location') || '';
      id = loc.split('/').pop();
    }
    const email = (d.contact.email || '').trim();
    try { if (email) sessionStorage.setItem('zglos.email', email); } catch { /* ignore */ }
    clearDraft();
    state.draft = null;
    bumpTilesVersion();
    setSendStatus(t('form.sent'), 'ok');
    location.assign(`/r/${encodeURIComponent(id)}?new=1`);
  } catch (e) {
    state.sending = false;
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    if (e.retryable) {
      d.pending = true;
      saveDraft(d);
      scheduleRetry(e);
    } else {
      d.pending = false;
      if (e.code === 'idempotency_key_reused') {
        // An earlier version of this draft reached the service before it was edited. The resident
        // decides whether to send the changed version as a report of its own, under a new key.
        d.idempotencyKey = newIdempotencyKey();
      }
      saveDraft(d);
      const msg = errorText(e);
      const field = fieldOfApi(e.field) || (e.code === 'outside_city' ? 'where' : null);
      if (field) {
        setFieldError(field, msg);
        focusField(field);
      }
      setSendStatus(msg, 'error');
      announce(msg, { kind: 'error' });
    }
  }
}

function scheduleRetry(err) {
  state.retryDelay = Math.min(Math.max(state.retryDelay * 2, 10), 120);
  let left = state.retryDelay;
  const base = err.network ? t('form.offline') : `${errorText(err)} ${t('form.savedLocally')}`;
  const render = () => setSendStatus(`${base} ${t('form.retryIn', { s: left })}`, 'warn');
  render();
  announce(base, { kind: 'error' });
  $('#btn-retry').hidden = false;
  state.retryTick = setInterval(() => {
    left -= 1;
    if (left > 0) render();
  }, 1000);
  state.retryTimer = setTimeout(() => sendDraft(), state.retryDelay * 1000);
}

function setSendStatus(text, kind = 'info') {
  const el = $('#send-status');
  el.textContent = text || '';
  el.hidden = !text;
  el.dataset.kind = kind;
}

function showBanner(text) {
  const el = $('#form-banner');
  el.textContent = text || '';
  el.hidden = !text;
}

// ---- language change ------------------------------------------------------------------------

function onLangChange() {
  setTitle();
  if (!state.ref) return;
  buildFilters();
  buildLegend();
  buildCategoryList();
  labelCanvas();
  state.search.refresh();
  state.near.refresh();
  if (state.draft && state.mode === 'report') {
    updateWhere();
    updateCounter();
    renderPhotos();
    renderNearby();
    renderDraftOnMap();
  }
  if (state.mode === 'details') renderDetails();
  $('#list-toggle').textContent = state.listOpen ? t('list.hide') : t('list.show');
  if (state.listOpen) refreshList();
}

main();
