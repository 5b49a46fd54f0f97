// The unit's inbox: filters, counts of open / overdue / new, a list and the same reports on the map.
import { t, tn, nameOf, formatNumber, formatDate } from './i18n.js';
import { h, $, announce, errorText, categoryBadge, statusBadge } from './dom.js';
import { staffGet, query, unitCode } from './staff-api.js';
import { ctx, unitName, statusName } from './staff-common.js';
import { fitFeatures, INBOX_LAYERS } from './staff-map.js';
import { reportId, addressLabel } from './report-view.js';

const PAGE = 50;

const state = {
  filters: null,
  features: [],
  counts: null,
  next: null,
  seq: 0,
  loaded: false,
  fitPending: true,
  error: null,
};

function defaultFilters() {
  return { unit: defaultUnit(), status: 'open', category: '', district: '', age: '', nearBorder: false, sort: 'newest' };
}

function defaultUnit() {
  const own = (ctx.user && ctx.user.units) || [];
  if (own.length) return unitCode(own[0]);
  return allUnitsAllowed() ? '' : (ctx.units.length ? ctx.units[0].code : '');
}

/** Admins, analysts and staff without a unit may look at every unit at once ('' = all). */
export function allUnitsAllowed() {
  const roles = (ctx.user && ctx.user.roles) || [];
  return roles.includes('admin') || roles.includes('analyst') || !((ctx.user && ctx.user.units) || []).length;
}

export function unitLabel(code) {
  return code ? unitName(code) : t('staff.inbox.allUnits');
}

/** Units this user may pick: their own, or every unit for admins and analysts. */
export function unitChoices() {
  const roles = (ctx.user && ctx.user.roles) || [];
  const own = ((ctx.user && ctx.user.units) || []).map(unitCode);
  if (roles.includes('admin') || roles.includes('analyst') || !own.length) return ctx.units.map((u) => u.code);
  return own;
}

export function unitOptions(codes, selected, { withAll = false } = {}) {
  return [
    withAll ? h('option', { value: '', selected: !selected }, t('staff.inbox.allUnits')) : null,
    ...codes.map((code) => h('option', { value: code, selected: code === selected }, unitName(code) || code)),
  ].filter(Boolean);
}

let wired = false;

export function initInbox(c, { reset = false, relabel = false } = {}) {
  if (!state.filters || reset) {
    state.filters = defaultFilters();
    state.loaded = false;
    state.fitPending = true;
  }
  buildFilterControls();
  if (!wired) {
    wired = true;
    const form = $('#inbox-filters');
    form.addEventListener('submit', (e) => e.preventDefault());
    form.addEventListener('change', readFilters);
    let ageTimer = null;
    $('#f-age').addEventListener('input', () => {
      clearTimeout(ageTimer);
      ageTimer = setTimeout(readFilters, 500);
    });
    $('#f-reset').addEventListener('click', () => {
      const unit = state.filters.unit;
      state.filters = { ...defaultFilters(), unit };
      buildFilterControls();
      load();
      announce(t('filters.resetDone'));
    });
    $('#inbox-more').addEventListener('click', () => load({ more: true }));
    // New reports keep coming: refresh the list every minute while it is on screen.
    setInterval(() => {
      const busy = $('#view-inbox').contains(document.activeElement) && document.activeElement !== document.body;
      // Not while someone works in the list or filters (focus would be lost), nor past the first page.
      if (ctx.view === 'inbox' && document.visibilityState === 'visible' && !busy && state.features.length <= PAGE) load({ quiet: true });
    }, 60_000);
    // Filters start open where there is room for them beside the list.
    if (window.matchMedia('(min-width: 800px)').matches) $('#inbox-filter-box').open = true;
  }
  if (relabel) renderList();
}

function buildFilterControls() {
  const f = state.filters;
  $('#f-unit').replaceChildren(...unitOptions(unitChoices(), f.unit, { withAll: allUnitsAllowed() }));
  $('#f-status').replaceChildren(
    h('option', { value: 'open', selected: f.status === 'open' }, t('filters.statusOpen')),
    h('option', { value: 'all', selected: f.status === 'all' }, t('filters.statusAll')),
    h('optgroup', { label: t('filters.statusOne') },
      ctx.ref.statuses.map((s) => h('option', { value: s.code, selected: f.status === s.code }, nameOf(s)))),
  );
  $('#f-category').replaceChildren(
    h('option', { value: '' }, t('filters.allCategories')),
    ...ctx.ref.categories.map((c) => h('option', { value: c.code, selected: f.category === c.code }, nameOf(c))),
  );
  $('#f-district').replaceChildren(
    h('option', { value: '' }, t('staff.inbox.allDistricts')),
    ...ctx.districts.map((d) => h('option', { value: String(d.id), selected: String(f.district) === String(d.id) },
      d.roman ? `${d.roman} ${d.name}` : d.name)),
  );
  $('#f-age').value = f.age;
  $('#f-sort').value = f.sort;
  $('#f-border').checked = f.nearBorder;
  summarize();
}

/** A short summary of the filters in force, shown on the closed filter box. */
function summarize() {
  const f = state.filters;
  const parts = [unitLabel(f.unit)];
  if (f.status === 'open') parts.push(t('filters.statusOpen'));
  else if (f.status === 'all') parts.push(t('filters.statusAll'));
  else parts.push(statusName(f.status));
  if (f.category) parts.push(nameOf(ctx.ref.categoryByCode.get(f.category)) || f.category);
  if (f.district) {
    const d = ctx.districts.find((x) => String(x.id) === String(f.district));
    parts.push(d ? d.name : f.district);
  }
  const age = Number.parseInt(f.age, 10);
  if (Number.isFinite(age) && age > 0) parts.push(t('staff.inbox.olderThan', { n: age }));
  if (f.nearBorder) parts.push(t('staff.inbox.border'));
  $('#inbox-filter-summary').textContent = parts.filter(Boolean).join(' · ');
}

function readFilters() {
  const before = JSON.stringify(state.filters);
  const unitBefore = state.filters.unit;
  state.filters = {
    unit: $('#f-unit').value,
    status: $('#f-status').value,
    category: $('#f-category').value,
    district: $('#f-district').value,
    age: $('#f-age').value.trim(),
    nearBorder: $('#f-border').checked,
    sort: $('#f-sort').value,
  };
  if (JSON.stringify(state.filters) === before) return;
  if (state.filters.unit !== unitBefore) state.fitPending = true;
  summarize();
  load();
}

export function showInbox({ focus = false } = {}) {
  load();
  if (focus) {
    const heading = $('#view-inbox h1');
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function inboxUrl(cursor) {
  const f = state.filters;
  const age = Number.parseInt(f.age, 10);
  return `/api/v1/staff/inbox${query({
    unit: f.unit,
    status: f.status,
    category: f.category,
    district: f.district,
    older_than_days: Number.isFinite(age) && age > 0 ? age : '',
    near_border: f.nearBorder ? 'true' : '',
    sort: f.sort,
    limit: PAGE,
    cursor: cursor || '',
  })}`;
}

function nextUrl(next) {
  if (!next) return null;
  if (typeof next === 'object' && next.href) return nextUrl(next.href);
  const s = String(next);
  if (s.startsWith('/')) return s;
  if (/^https?:/.test(s)) {
    const u = new URL(s);
    return u.pathname + u.search;
  }
  return inboxUrl(s);
}

async function load({ more = false, quiet = false } = {}) {
  const seq = ++state.seq;
  const url = more ? nextUrl(state.next) : inboxUrl();
  if (!url) return;
  if (!quiet) $('#inbox-status').textContent = t('list.loading');
  $('#inbox-more').disabled = true;
  try {
    const data = await staffGet(url);
    if (seq !== state.seq) return;
    const feats = (data && data.features) || [];
    state.features = more ? [...state.features, ...feats] : feats;
    state.counts = (data && data.counts) || state.counts;
    state.next = (data && data.next) || null;
    state.loaded = true;
    state.error = null;
  } catch (e) {
    if (seq !== state.seq) return;
    state.error = e;
    if (!more) state.features = [];
    if (e.status === 401) return;
  }
  renderCounts();
  renderList();
  refreshInboxLayers();
  if (state.fitPending && state.features.length && ctx.view === 'inbox') {
    state.fitPending = false;
    fitFeatures(ctx.map, state.features, { maxZoom: 15 });
  }
}

function renderCounts() {
  const c = state.counts || {};
  $('#count-open').textContent = c.open != null ? formatNumber(c.open) : '–';
  $('#count-overdue').textContent = c.overdue != null ? formatNumber(c.overdue) : '–';
  $('#count-new').textContent = c.new != null ? formatNumber(c.new) : '–';
  $('#inbox-counts').dataset.overdue = String((c.overdue || 0) > 0);
}

function renderList() {
  const list = $('#inbox-list');
  const status = $('#inbox-status');
  if (state.error) {
    list.replaceChildren();
    status.textContent = errorText(state.error);
    $('#inbox-more').hidden = true;
    return;
  }
  if (!state.loaded) return;
  list.replaceChildren(...state.features.map(listItem));
  const n = state.features.length;
  status.textContent = n
    ? `${tn('staff.inbox.shown', n)}${state.next ? ` ${t('staff.inbox.moreAvailable')}` : ''}`
    : t('staff.inbox.empty');
  $('#inbox-more').hidden = !state.next;
  $('#inbox-more').disabled = false;
}

function listItem(f) {
  const p = f.properties || {};
  const id = reportId(f);
  const cat = ctx.ref.categoryByCode.get(p.category);
  const st = ctx.ref.statusByCode.get(p.status);
  const age = p.age_days != null ? Math.floor(Number(p.age_days)) : null;
  return h('li', { dataset: { reportId: String(id), overdue: String(!!p.overdue) } },
    h('a', { class: 'inbox-item', href: `#/report/${encodeURIComponent(id)}` },
      h('span', { class: 'inbox-line1' },
        h('span', { class: 'inbox-id' }, `#${id}`),
        categoryBadge(cat, cat ? nameOf(cat) : p.category),
        statusBadge(p.status, st ? nameOf(st) : statusName(p.status), st && st.is_open)),
      h('span', { class: 'inbox-desc' }, p.description || ''),
      h('span', { class: 'inbox-meta' },
        addressLabel(p) ? h('span', { class: 'inbox-address' },
          h('span', { class: 'visually-hidden' }, `${t('details.address')}: `), addressLabel(p)) : null,
        p.district && p.district.name ? h('span', {}, p.district.name) : null,
        age != null ? h('span', {}, tn('staff.inbox.ageDays', age)) : null,
        p.created_at ? h('time', { datetime: p.created_at }, formatDate(p.created_at)) : null,
        p.supporters > 1 ? h('span', {}, tn('details.supporters', Number(p.supporters))) : null,
        p.channel === 'phone' ? h('span', {}, t('staff.inbox.byPhone')) : null),
      h('span', { class: 'inbox-flags' },
        p.overdue ? h('span', { class: 'flag flag-overdue' }, t('staff.inbox.overdue')) : null,
        p.near_border ? h('span', { class: 'flag flag-border' }, t('staff.inbox.border')) : null,
        p.expected_at ? h('span', { class: 'flag' }, t('staff.inbox.expected', { date: p.expected_at })) : null,
        p.unit && unitCode(p.unit) !== state.filters.unit ? h('span', { class: 'flag' }, unitName(p.unit)) : null)));
}

/** The inbox's reports on the map (shown with the inbox and a report, hidden elsewhere). */
export function refreshInboxLayers() {
  const map = ctx.map;
  if (!map) return;
  const src = map.getSource('inbox');
  if (src) {
    src.setData({
      type: 'FeatureCollection',
      features: state.features.filter((f) => f.geometry).map((f) => {
        const p = f.properties || {};
        const cat = ctx.ref.categoryByCode.get(p.category);
        return {
          type: 'Feature',
          geometry: f.geometry,
          properties: { id: reportId(f), category: p.category, status: p.status, overdue: !!p.overdue, color: (cat && cat.color) || '#666666' },
        };
      }),
    });
  }
  const show = ctx.view === 'inbox' || ctx.view === 'report';
  for (const id of [...INBOX_LAYERS, 'inbox-icon']) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', show ? 'visible' : 'none');
  }
  // The residents' report layers stay for context in the phone view only.
  const showReports = ctx.view === 'phone';
  const ids = typeof map.getLayersOrder === 'function' ? map.getLayersOrder() : map.getStyle().layers.map((l) => l.id);
  for (const id of ids) {
    const layer = map.getLayer(id);
    if (layer && layer.source === 'reports') map.setLayoutProperty(id, 'visibility', showReports ? 'visible' : 'none');
  }
}

/** Reload the inbox after a change to a report. */
export function inboxChanged() {
  state.loaded = false;
}
