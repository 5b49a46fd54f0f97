// The public accountability page /stats: a choropleth map of the districts (open reports, reports,
// resolved, or median days to resolve, chosen by a select) and tables per district and per unit,
// from GET /api/v1/stats.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { initI18n, t, formatNumber, formatDate } from './i18n.js';
import { getJSON, loadReference } from './api.js';
import { h, $, announce, errorText } from './dom.js';
import { installImageResolver, labelPoint, OSM_ATTRIBUTION } from './mapstyle.js';

export const METRICS = ['open', 'reported', 'resolved', 'median_days_to_resolve'];
// Sequential blues: more (reports, days) is darker. Light classes keep dark labels readable.
const PALETTE = ['#eff3ff', '#c6dbef', '#9ecae1', '#6baed6', '#3182bd', '#08519c'];
const NO_DATA = '#d4d4d4';

const state = {
  ref: null,
  stats: null,
  districts: null,
  metric: 'open',
  map: null,
  sort: { districts: { key: 'name', dir: 1 }, units: { key: 'name', dir: 1 } },
  picked: null,
};

function metricFromUrl() {
  const m = new URLSearchParams(location.search).get('metric');
  return METRICS.includes(m) ? m : 'open';
}

async function main() {
  await initI18n();
  state.metric = metricFromUrl();
  $('#metric').value = state.metric;
  document.title = `${t('stats.title')} · ${t('app.name')}`;
  try {
    const [ref, stats, districts] = await Promise.all([
      loadReference(),
      getJSON('/api/v1/stats'),
      getJSON('/api/v1/districts'),
    ]);
    state.ref = ref;
    state.stats = stats || { districts: [], units: [] };
    state.districts = districts;
  } catch (e) {
    const err = $('#stats-error');
    err.textContent = `${t('errors.loadFailed')} ${errorText(e)}`;
    err.hidden = false;
    return;
  }
  const city = state.ref.config.city || {};
  $('#city-name').textContent = city.name || '';
  $('#city-attribution').textContent = city.attribution || '';
  $('#metric').addEventListener('change', () => {
    state.metric = $('#metric').value;
    const url = new URL(location.href);
    url.searchParams.set('metric', state.metric);
    history.replaceState(null, '', url);
    paint();
    renderTables();
    announce(t('stats.showing', { metric: metricName(state.metric) }), { visual: false });
  });
  document.addEventListener('zglos:lang', () => {
    document.title = `${t('stats.title')} · ${t('app.name')}`;
    renderAll();
    if (state.map) state.map.getCanvas().setAttribute('aria-label', t('stats.mapLabel'));
  });
  renderAll();
  initMap();
}

function renderAll() {
  const gen = state.stats && state.stats.generated_at;
  $('#generated').textContent = gen ? t('stats.generated', { at: formatDate(gen) }) : '';
  renderTables();
  paint();
}

function metricName(m) {
  return t(`stats.metrics.${m}`);
}

function fmt(v, metric) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return t('stats.noData');
  if (metric === 'median_days_to_resolve') return formatNumber(Math.round(Number(v) * 10) / 10);
  return formatNumber(Number(v));
}

// ---- choropleth -------------------------------------------------------------------------------

/** Class breaks (upper bounds) from the values: quantiles, without repeats. */
export function breaks(values, classes = PALETTE.length) {
  const v = values.filter((x) => x !== null && x !== undefined && Number.isFinite(Number(x))).map(Number).sort((a, b) => a - b);
  if (!v.length) return [];
  const out = [];
  for (let i = 1; i <= classes; i++) {
    const q = v[Math.min(v.length - 1, Math.ceil((i / classes) * v.length) - 1)];
    if (!out.length || q > out[out.length - 1]) out.push(q);
  }
  return out;
}

function colorFor(value, bounds) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return NO_DATA;
  const i = bounds.findIndex((b) => Number(value) <= b);
  // Spread the classes over the palette when there are fewer than its colours.
  const idx = i < 0 ? bounds.length - 1 : i;
  const k = bounds.length <= 1 ? PALETTE.length - 1 : Math.round((idx * (PALETTE.length - 1)) / (bounds.length - 1));
  return PALETTE[k];
}

function statsByDistrict() {
  return new Map(((state.stats && state.stats.districts) || []).map((d) => [String(d.id), d]));
}

function choroplethData() {
  const byId = statsByDistrict();
  const values = [...byId.values()].map((d) => d[state.metric]);
  const bounds = breaks(values);
  const features = [];
  const labels = [];
  for (const f of (state.districts && state.districts.features) || []) {
    const id = String(f.properties.id);
    const s = byId.get(id);
    const value = s ? s[state.metric] : null;
    const name = (s && s.name) || f.properties.name;
    features.push({
      type: 'Feature',
      id: Number(id),
      geometry: f.geometry,
      properties: { id: Number(id), name, value: value ?? null, color: colorFor(value, bounds), metric: state.metric },
    });
    const pt = labelPoint(f.geometry);
    if (pt) labels.push({ type: 'Feature', geometry: { type: 'Point', coordinates: pt }, properties: { label: `${name}: ${fmt(value, state.metric)}` } });
  }
  return { features, labels, bounds };
}

function paint() {
  const { features, labels, bounds } = choroplethData();
  renderLegend(bounds, features.some((f) => f.properties.value === null));
  if (!state.map || !state.map.getSource('stats-districts')) return;
  state.map.getSource('stats-districts').setData({ type: 'FeatureCollection', features });
  state.map.getSource('stats-labels').setData({ type: 'FeatureCollection', features: labels });
  state.map.getContainer().dataset.metric = state.metric;
}

function renderLegend(bounds, hasNoData) {
  const items = [];
  let lo = null;
  const all = ((state.stats && state.stats.districts) || []).map((d) => d[state.metric]).filter((x) => x != null).map(Number);
  const min = all.length ? Math.min(...all) : 0;
  bounds.forEach((b, i) => {
    const from = i === 0 ? min : lo;
    const text = i === 0 || from === b ? (from === b ? fmt(b, state.metric) : `${fmt(from, state.metric)} – ${fmt(b, state.metric)}`)
      : `> ${fmt(from, state.metric)} – ${fmt(b, state.metric)}`;
    items.push(h('li', {}, h('span', { class: 'choro-swatch', style: { background: colorFor(b, bounds) }, 'aria-hidden': 'true' }), text));
    lo = b;
  });
  if (hasNoData) items.push(h('li', {}, h('span', { class: 'choro-swatch', style: { background: NO_DATA }, 'aria-hidden': 'true' }), t('stats.noData')));
  $('#choro-legend').replaceChildren(h('li', { class: 'legend-title' }, h('strong', {}, `${metricName(state.metric)}:`)), ...items);
}

function initMap() {
  const cfg = state.ref.config.map || {};
  const map = new maplibregl.Map({
    container: 'stats-map',
    style: {
      version: 8,
      sources: {
        'stats-districts': { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, attribution: OSM_ATTRIBUTION },
        'stats-labels': { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
      layers: [
        { id: 'stats-background', type: 'background', paint: { 'background-color': '#f4f6f8' } },
        { id: 'stats-fill', type: 'fill', source: 'stats-districts', paint: { 'fill-color': ['get', 'color'], 'fill-opacity': 0.9 } },
        {
          id: 'stats-line', type: 'line', source: 'stats-districts',
          paint: { 'line-color': ['case', ['boolean', ['feature-state', 'picked'], false], '#ffbf00', '#2b3440'], 'line-width': ['case', ['boolean', ['feature-state', 'picked'], false], 4, 1.2] },
        },
        { id: 'stats-labels', type: 'symbol', source: 'stats-labels', minzoom: 10.2, layout: { 'icon-image': ['concat', 'label:', ['get', 'label']], 'icon-allow-overlap': false } },
      ],
    },
    center: cfg.center || [19.945, 50.06],
    zoom: 10,
    minZoom: 8,
    maxZoom: 15,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: false,
    locale: { 'NavigationControl.ZoomIn': t('map.zoomIn'), 'NavigationControl.ZoomOut': t('map.zoomOut') },
  });
  state.map = map;
  window.zglosMap = map;
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.AttributionControl({ compact: false, customAttribution: OSM_ATTRIBUTION }), 'bottom-right');
  const canvas = map.getCanvas();
  canvas.setAttribute('aria-label', t('stats.mapLabel'));
  canvas.setAttribute('role', 'region');
  map.getCanvasContainer().setAttribute('aria-describedby', 'map-desc');
  installImageResolver(map, state.ref.categoryByCode);
  map.on('load', () => {
    paint();
    if (Array.isArray(cfg.bbox) && cfg.bbox.length === 4) {
      const [w, s, e, n] = cfg.bbox;
      map.fitBounds([[w, s], [e, n]], { padding: 12, animate: false });
    }
    window.zglosReady = true;
  });
  map.on('mousemove', 'stats-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'stats-fill', () => { map.getCanvas().style.cursor = ''; });
  map.on('click', 'stats-fill', (e) => {
    const f = e.features && e.features[0];
    if (f) pick(f.properties.id);
  });
}

function pick(id) {
  const map = state.map;
  if (state.picked != null) map.setFeatureState({ source: 'stats-districts', id: state.picked }, { picked: false });
  state.picked = Number(id);
  map.setFeatureState({ source: 'stats-districts', id: state.picked }, { picked: true });
  const s = statsByDistrict().get(String(id));
  const text = s
    ? t('stats.picked', {
      name: s.name,
      reported: fmt(s.reported), resolved: fmt(s.resolved), open: fmt(s.open),
      median: fmt(s.median_days_to_resolve, 'median_days_to_resolve'),
    })
    : '';
  $('#district-picked').textContent = text;
  for (const tr of document.querySelectorAll('#districts-table tbody tr')) {
    tr.dataset.selected = String(tr.dataset.id === String(id));
  }
}

// ---- tables ---------------------------------------------------------------------------------

const COLUMNS = ['reported', 'resolved', 'open', 'median_days_to_resolve'];

function renderTables() {
  renderTable('districts', $('#districts-table'), (state.stats && state.stats.districts) || [], t('stats.district'), (r) => String(r.id));
  renderTable('units', $('#units-table'), (state.stats && state.stats.units) || [], t('stats.unit'), (r) => r.code);
  renderDeadlines($('#deadlines-table'), (state.stats && state.stats.deadlines && state.stats.deadlines.by_unit) || []);
}

const percent = (x) => (x == null ? '—' : new Intl.NumberFormat(document.documentElement.lang || undefined, { style: 'percent', maximumFractionDigits: 0 }).format(x));
const days = (x) => (x == null ? '—' : formatNumber(x));

/** Keeping to deadlines: a row per month and unit, newest month first. */
function renderDeadlines(table, rows) {
  const cols = ['month', 'unit', 'reported', 'onTime', 'toResponse', 'toResolve', 'reopened'];
  table.querySelector('thead').replaceChildren(h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`stats.deadlines.${c}`)))));
  const sorted = [...rows].sort((a, b) => b.month.localeCompare(a.month) || String(a.name || a.unit).localeCompare(String(b.name || b.unit)));
  table.querySelector('tbody').replaceChildren(...sorted.map((r) => h('tr', { dataset: { unit: r.unit, month: r.month } },
    h('td', {}, r.month),
    h('th', { scope: 'row' }, r.name || r.unit || '—'),
    h('td', {}, formatNumber(r.reported)),
    h('td', { dataset: { col: 'on_time_share' } }, percent(r.on_time_share)),
    h('td', {}, days(r.median_working_days_to_first_response)),
    h('td', {}, days(r.median_working_days_to_resolve)),
    h('td', {}, percent(r.reopened_share)))));
  if (!rows.length) {
    table.querySelector('tbody').replaceChildren(h('tr', {}, h('td', { colspan: cols.length }, t('stats.empty'))));
  }
}

function renderTable(kind, table, rows, firstHeader, keyOf) {
  const sort = state.sort[kind];
  const cols = ['name', ...COLUMNS];
  const headers = cols.map((c) => {
    const label = c === 'name' ? firstHeader : t(`stats.columns.${c}`);
    const active = sort.key === c;
    const btn = h('button', { type: 'button', class: 'sort-btn' }, label,
      h('span', { 'aria-hidden': 'true' }, active ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''));
    btn.addEventListener('click', () => {
      state.sort[kind] = { key: c, dir: active ? -sort.dir : (c === 'name' ? 1 : -1) };
      renderTables();
      const again = table.querySelector(`th[data-col="${c}"] button`);
      if (again) again.focus();
    });
    return h('th', {
      scope: 'col',
      dataset: { col: c },
      'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : null,
      class: c === state.metric ? 'metric-col' : null,
    }, btn);
  });
  const sorted = [...rows].sort((a, b) => {
    const x = a[sort.key];
    const y = b[sort.key];
    if (x == null && y == null) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    if (typeof x === 'number' || typeof y === 'number') return (Number(x) - Number(y)) * sort.dir;
    return String(x).localeCompare(String(y), undefined, { numeric: true }) * sort.dir;
  });
  table.querySelector('thead').replaceChildren(h('tr', {}, headers));
  table.querySelector('tbody').replaceChildren(...sorted.map((r) => h('tr', { dataset: { id: keyOf(r), selected: String(kind === 'districts' && String(r.id) === String(state.picked)) } },
    h('th', { scope: 'row' }, r.name || r.code || ''),
    COLUMNS.map((c) => h('td', { dataset: { col: c }, class: c === state.metric ? 'metric-col' : null }, fmt(r[c], c))))));
  if (!rows.length) {
    table.querySelector('tbody').replaceChildren(h('tr', {}, h('td', { colspan: cols.length }, t('stats.empty'))));
  }
}

main();
