// The heatmap of reports (vector tiles /tiles/heatmap/…, drawn as a MapLibre heatmap layer
// weighted by each cell's count), filtered by category, status and a time slider, and the unit's
// hotspots: places where a category has far more reports lately than usual.
import { t, tn, nameOf, formatNumber } from './i18n.js';
import { h, $, announce, errorText, categoryBadge, categoryIcon } from './dom.js';
import { staffGet, query } from './staff-api.js';
import { ctx, isoDate } from './staff-common.js';
import { heatmapTileUrl } from './staff-map.js';
import { unitChoices, unitOptions, allUnitsAllowed, unitLabel } from './staff-inbox.js';

export const PERIODS = [7, 30, 90, 365];

const state = {
  period: 1,
  status: 'open',
  categories: [],
  unit: null,
  hotspots: null,
  hotError: null,
  hotSeq: 0,
};

let wired = false;

export function initHeatmap() {
  buildControls();
  if (wired) return;
  wired = true;
  $('#heat-filters').addEventListener('submit', (e) => e.preventDefault());
  $('#heat-period').addEventListener('input', () => {
    state.period = Number($('#heat-period').value);
    describePeriod();
    apply();
  });
  $('#heat-status').addEventListener('change', () => {
    state.status = $('#heat-status').value;
    apply();
  });
  $('#heat-categories').addEventListener('change', () => {
    state.categories = [...document.querySelectorAll('input[name="heat-category"]:checked')].map((i) => i.value);
    apply();
  });
  $('#hot-unit').addEventListener('change', () => {
    state.unit = $('#hot-unit').value;
    loadHotspots();
  });
}

function buildControls() {
  $('#heat-status').replaceChildren(
    h('option', { value: 'open', selected: state.status === 'open' }, t('filters.statusOpen')),
    h('option', { value: 'all', selected: state.status === 'all' }, t('filters.statusAll')),
  );
  $('#heat-categories').replaceChildren(...ctx.ref.categories.map((c) => h('label', { class: 'check-chip', style: { '--cat': c.color } },
    h('input', { type: 'checkbox', value: c.code, name: 'heat-category', checked: state.categories.includes(c.code) }),
    categoryIcon(c),
    h('span', {}, nameOf(c)))));
  const units = unitChoices();
  const withAll = allUnitsAllowed();
  if (state.unit === null || (state.unit && !units.includes(state.unit)) || (!state.unit && !withAll)) {
    const own = ((ctx.user && ctx.user.units) || []).map((u) => (typeof u === 'string' ? u : u.code));
    state.unit = own.find((u) => units.includes(u)) || (withAll ? '' : units[0] || '');
  }
  $('#hot-unit').replaceChildren(...unitOptions(units, state.unit, { withAll }));
  $('#heat-period').value = String(state.period);
  describePeriod();
}

function describePeriod() {
  const text = t('staff.heat.lastDays', { n: PERIODS[state.period] });
  $('#heat-period-out').textContent = text;
  $('#heat-period').setAttribute('aria-valuetext', text);
}

/** The first day shown: today minus the chosen period. */
export function fromDate(period = state.period) {
  const d = new Date();
  d.setDate(d.getDate() - PERIODS[period]);
  return isoDate(d);
}

function currentUrl() {
  return heatmapTileUrl({ categories: state.categories, status: state.status, from: fromDate() });
}

function apply() {
  const map = ctx.map;
  if (!map) return;
  const src = map.getSource('heat');
  const url = currentUrl();
  if (src && typeof src.setTiles === 'function' && (!src.tiles || src.tiles[0] !== url)) src.setTiles([url]);
  for (const id of ['heatmap', 'hotspots-ring']) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', ctx.view === 'heatmap' ? 'visible' : 'none');
  }
  $('#heat-legend').hidden = ctx.view !== 'heatmap';
  const cats = state.categories.length
    ? state.categories.map((c) => nameOf(ctx.ref.categoryByCode.get(c)) || c).join(', ')
    : t('filters.allCategories');
  const text = t('staff.heat.showing', {
    status: state.status === 'open' ? t('filters.statusOpen') : t('filters.statusAll'),
    categories: cats,
    period: t('staff.heat.lastDays', { n: PERIODS[state.period] }),
  });
  $('#heat-status-text').textContent = text;
  document.body.dataset.heatUrl = url;
}

let overviewDone = false;

export function showHeatmap() {
  apply();
  // The first time, show the whole city: a heatmap is about the overall picture.
  const cfg = ctx.ref.config.map || {};
  if (!overviewDone && Array.isArray(cfg.bbox) && cfg.bbox.length === 4) {
    overviewDone = true;
    const [w, s, e, n] = cfg.bbox;
    ctx.map.fitBounds([[w, s], [e, n]], { padding: 20, animate: false });
  }
  if (!state.hotspots && !state.hotError) loadHotspots();
  else renderHotspots();
}

export function hideHeatmap() {
  const map = ctx.map;
  for (const id of ['heatmap', 'hotspots-ring']) {
    if (map && map.getLayer(id)) map.setLayoutProperty(id, 'visibility', 'none');
  }
  $('#heat-legend').hidden = true;
}

export function rerenderHeatmap({ styleOnly = false } = {}) {
  if (!styleOnly) {
    buildControls();
    renderHotspots();
  }
  if (ctx.view === 'heatmap') apply();
  else hideHeatmap();
}

async function loadHotspots() {
  const seq = ++state.hotSeq;
  $('#hot-status').textContent = t('list.loading');
  try {
    const data = await staffGet(`/api/v1/staff/hotspots${query({ unit: state.unit })}`);
    if (seq !== state.hotSeq) return;
    state.hotspots = (data && data.hotspots) || [];
    state.hotError = null;
  } catch (e) {
    if (seq !== state.hotSeq) return;
    state.hotspots = null;
    state.hotError = e;
  }
  renderHotspots();
}

function renderHotspots() {
  const src = ctx.map && ctx.map.getSource('hotspots');
  if (src) {
    src.setData({
      type: 'FeatureCollection',
      features: (state.hotspots || []).map((hs) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [Number(hs.lon), Number(hs.lat)] },
        properties: { category: hs.category, ratio: Number(hs.ratio) || 0 },
      })),
    });
  }
  const list = $('#hotspot-list');
  const status = $('#hot-status');
  if (state.hotError) {
    list.replaceChildren();
    status.textContent = errorText(state.hotError);
    return;
  }
  if (!state.hotspots) return;
  status.textContent = state.hotspots.length
    ? tn('staff.hot.count', state.hotspots.length, { unit: unitLabel(state.unit) })
    : t('staff.hot.none', { unit: unitLabel(state.unit) });
  list.replaceChildren(...state.hotspots.map((hs) => {
    const cat = ctx.ref.categoryByCode.get(hs.category);
    const ratio = Number(hs.ratio);
    return h('li', { class: 'hotspot' },
      categoryBadge(cat, cat ? nameOf(cat) : hs.category),
      h('p', { class: 'hotspot-numbers' },
        t('staff.hot.numbers', {
          recent: formatNumber(Number(hs.recent) || 0),
          baseline: formatNumber(Math.round((Number(hs.baseline) || 0) * 10) / 10),
          ratio: Number.isFinite(ratio) ? formatNumber(Math.round(ratio * 10) / 10) : '–',
        })),
      h('button', {
        type: 'button', class: 'btn btn-secondary',
        onclick: () => {
          ctx.map.easeTo({ center: [Number(hs.lon), Number(hs.lat)], zoom: 15, duration: 500 });
          announce(t('staff.hot.shown'), { visual: false });
        },
      }, t('staff.hot.show')));
  }));
}
