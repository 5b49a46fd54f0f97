// The contact centre: a consultant takes a call, finds the place, searches existing reports
// nearby first ("me too" for the caller instead of a duplicate), and only then files a new report
// for the caller (channel "phone", the caller's contact).
import { t, tn, nameOf, lang, formatNumber } from './i18n.js';
import { h, $, announce, errorText, categoryBadge, statusBadge } from './dom.js';
import { newIdempotencyKey } from './api.js';
import { staffApi, staffGet, query } from './staff-api.js';
import { ctx, districtAt } from './staff-common.js';
import { maplibregl } from './staff-map.js';
import { reportId, addressLabel } from './report-view.js';
import { addressSearch, nearLine } from './address-search.js';

const state = {
  place: null,
  marker: null,
  searched: null, // key of the place+category last searched
  nearby: [],
  key: newIdempotencyKey(),
  sending: false,
  search: null,
  near: null,
};

let wired = false;

export function initPhone() {
  buildCategories();
  if (wired) return;
  wired = true;
  state.near = nearLine($('#phone-address'));
  state.search = addressSearch({
    input: $('#phone-addr-input'),
    list: $('#phone-addr-list'),
    status: $('#phone-addr-status'),
    near: () => {
      if (!ctx.map || ctx.map.getZoom() < 12) return null;
      const c = ctx.map.getCenter();
      return [c.lng, c.lat];
    },
    onPick: onAddressPicked,
  });
  $('#phone-center').addEventListener('click', () => {
    const c = ctx.map.getCenter();
    setPlace([c.lng, c.lat]);
  });
  $('#phone-category').addEventListener('change', () => {
    invalidateSearch();
    updateWhere();
  });
  $('#phone-search').addEventListener('click', search);
  $('#phone-form').addEventListener('submit', send);
  $('#lookup-form').addEventListener('submit', lookup);
}

/** A caller asks about a report: its status, unit, expected date and the latest public note. */
async function lookup(ev) {
  ev.preventDefault();
  const out = $('#lookup-result');
  const id = Number.parseInt($('#lookup-id').value, 10);
  if (!Number.isFinite(id) || id <= 0) {
    out.replaceChildren(h('p', { class: 'field-error' }, t('staff.actions.needReport')));
    $('#lookup-id').focus();
    return;
  }
  out.replaceChildren(h('p', { class: 'hint' }, t('list.loading')));
  try {
    const f = await staffGet(`/api/v1/staff/reports/${id}`);
    const p = f.properties || {};
    const st = ctx.ref.statusByCode.get(p.status);
    const cat = ctx.ref.categoryByCode.get(p.category);
    const notes = (p.timeline || []).filter((e) => e.note).sort((a, b) => String(a.at).localeCompare(String(b.at)));
    const last = notes[notes.length - 1];
    out.replaceChildren(h('div', { class: 'lookup-card', dataset: { reportId: String(id) } },
      h('p', { class: 'inbox-line1' }, h('span', { class: 'inbox-id' }, `#${id}`),
        categoryBadge(cat, cat ? nameOf(cat) : p.category),
        statusBadge(p.status, st ? nameOf(st) : p.status, st && st.is_open)),
      h('p', { class: 'lookup-desc' }, p.description || ''),
      h('dl', { class: 'report-meta' },
        h('dt', {}, t('details.unit')), h('dd', {}, (p.unit && p.unit.name) || t('details.unitNone')),
        p.expected_at ? [h('dt', {}, t('staff.report.expected')), h('dd', {}, p.expected_at)] : null,
        last ? [h('dt', {}, t('staff.lookup.lastNote')), h('dd', { class: 'lookup-note' }, last.note)] : null),
      h('p', {}, h('a', { href: `/r/${id}`, target: '_blank', rel: 'noopener' }, t('staff.report.publicPage')))));
  } catch (e) {
    out.replaceChildren(h('p', { class: 'field-error' }, e.status === 404 ? t('track.notFound', { id }) : errorText(e)));
  }
}

function buildCategories() {
  const sel = $('#phone-category');
  const keep = sel.value;
  sel.replaceChildren(
    h('option', { value: '' }, t('staff.phone.chooseCategory')),
    ...ctx.ref.categories.map((c) => h('option', { value: c.code }, c.icon_url ? nameOf(c) : `${c.icon || ''} ${nameOf(c)}`.trim())),
  );
  sel.value = keep;
}

export function showPhone() {
  const hint = $('#map-hint');
  hint.textContent = t('staff.phone.mapHint');
  hint.hidden = !!state.place;
  if (state.marker) state.marker.addTo(ctx.map);
  updateWhere();
}

export function rerenderPhone() {
  buildCategories();
  if (state.search) state.search.refresh();
  if (state.near) state.near.refresh();
  updateWhere();
  if (state.searched) renderNearby();
  if (ctx.view === 'phone') showPhone();
}

export function onPhoneMapClick(e) {
  setPlace([e.lngLat.lng, e.lngLat.lat]);
  // A click on the whole city is rough: come closer so the pin can be dragged to the spot.
  if (ctx.map.getZoom() < 15) ctx.map.easeTo({ center: state.place, zoom: 16, duration: 400 });
}

/** The caller's address was picked from the suggestions: the map goes there, the pin too. */
function onAddressPicked(f) {
  const pt = [Number(f.geometry.coordinates[0]), Number(f.geometry.coordinates[1])];
  const b = Array.isArray(f.bbox) && f.bbox.length === 4 ? f.bbox : null;
  if (b && (b[2] - b[0] > 0.0005 || b[3] - b[1] > 0.0005)) {
    ctx.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 18, duration: 800 });
  } else {
    ctx.map.flyTo({ center: pt, zoom: Math.max(ctx.map.getZoom(), 17), duration: 1200 });
  }
  setPlace(pt);
  announce(t('search.placed', { label: (f.properties && f.properties.label) || '' }), { visual: false });
}

function setPlace(pt) {
  state.place = [Number(pt[0].toFixed(6)), Number(pt[1].toFixed(6))];
  if (!state.marker) {
    const el = h('div', { class: 'pin', role: 'img', 'aria-label': t('form.pinLabel') });
    state.marker = new maplibregl.Marker({ element: el, draggable: true, anchor: 'bottom' }).setLngLat(state.place).addTo(ctx.map);
    state.marker.on('dragend', () => {
      const ll = state.marker.getLngLat();
      setPlace([ll.lng, ll.lat]);
    });
  } else {
    state.marker.setLngLat(state.place);
  }
  $('#map-hint').hidden = true;
  invalidateSearch();
  updateWhere();
  state.near.update(state.place);
}

function updateWhere() {
  const el = $('#phone-where');
  if (!state.place) {
    el.textContent = t('form.noPlace');
    return;
  }
  const d = districtAt(state.place);
  el.textContent = d ? t('form.placedIn', { district: d.name }) : t('form.placed');
}

function searchKey() {
  return state.place ? `${state.place.join(',')}|${$('#phone-category').value}` : null;
}

function invalidateSearch() {
  if (state.searched && state.searched === searchKey()) return;
  state.searched = null;
  state.nearby = [];
  $('#phone-nearby').replaceChildren();
  $('#phone-search-status').textContent = state.place ? t('staff.phone.searchAgain') : '';
  $('#phone-form').hidden = true;
}

async function search() {
  const status = $('#phone-search-status');
  const category = $('#phone-category').value;
  if (!state.place) {
    status.textContent = t('validation.where');
    announce(t('validation.where'), { kind: 'error' });
    $('#phone-center').focus();
    return;
  }
  if (!category) {
    status.textContent = t('validation.category');
    announce(t('validation.category'), { kind: 'error' });
    $('#phone-category').focus();
    return;
  }
  status.textContent = t('list.loading');
  $('#phone-result').hidden = true;
  try {
    const fc = await staffGet(`/api/v1/reports/nearby${query({ lon: state.place[0], lat: state.place[1], category })}`);
    state.nearby = ((fc && fc.features) || []).slice(0, 8);
    state.searched = searchKey();
  } catch (e) {
    status.textContent = errorText(e);
    return;
  }
  renderNearby();
  $('#phone-form').hidden = false;
  $('#phone-search-status').scrollIntoView({ block: 'nearest' });
  announce($('#phone-search-status').textContent, { visual: false });
}

function renderNearby() {
  const status = $('#phone-search-status');
  status.textContent = state.nearby.length
    ? tn('staff.phone.found', state.nearby.length)
    : t('staff.phone.noneFound');
  $('#phone-nearby').replaceChildren(...state.nearby.map((f, i) => {
    const p = f.properties || {};
    const id = reportId(f);
    const cat = ctx.ref.categoryByCode.get(p.category);
    const st = ctx.ref.statusByCode.get(p.status);
    const descId = `phone-nearby-desc-${i}`;
    const err = h('p', { class: 'field-error', hidden: true });
    const btn = h('button', { type: 'button', class: 'btn btn-primary btn-metoo', 'aria-describedby': descId },
      t('staff.phone.meToo'));
    btn.addEventListener('click', () => meToo(id, btn, err));
    return h('li', { class: 'nearby-item', dataset: { reportId: String(id) } },
      h('div', { class: 'nearby-head' },
        h('span', { class: 'inbox-line1' }, h('span', { class: 'inbox-id' }, `#${id}`), categoryBadge(cat, cat ? nameOf(cat) : p.category)),
        statusBadge(p.status, st ? nameOf(st) : p.status, st && st.is_open)),
      h('p', { class: 'nearby-desc', id: descId }, p.description || ''),
      h('p', { class: 'nearby-meta' },
        addressLabel(p) ? `${addressLabel(p)} · ` : null,
        p.distance_m != null ? t('form.distance', { m: formatNumber(Math.round(p.distance_m)) }) : null,
        p.distance_m != null ? ' · ' : null,
        tn('details.supporters', Number(p.supporters ?? 1))),
      h('div', { class: 'btn-row' }, btn,
        h('a', { class: 'btn btn-link', href: `/r/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' }, t('form.nearbyOpen'))),
      err);
  }));
}

function callerEmail() {
  return $('#phone-email').value.trim();
}

function validEmail(email) {
  return !email || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
}

async function meToo(id, btn, errEl) {
  const email = callerEmail();
  errEl.hidden = true;
  if (!validEmail(email)) {
    errEl.textContent = t('validation.email');
    errEl.hidden = false;
    return;
  }
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    await staffApi(`/api/v1/reports/${encodeURIComponent(id)}/support`, {
      method: 'POST',
      json: email ? { email, lang: lang() } : { lang: lang() },
    });
    showResult(t('staff.phone.supported', { id }), id);
    resetCall();
  } catch (e) {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    errEl.textContent = errorText(e);
    errEl.hidden = false;
    announce(errorText(e), { kind: 'error' });
  }
}

async function send(ev) {
  ev.preventDefault();
  if (state.sending) return;
  const desc = $('#phone-description');
  const email = $('#phone-email');
  const descErr = $('#phone-description-error');
  const emailErr = $('#phone-email-error');
  const sendErr = $('#phone-send-error');
  for (const [el, er] of [[desc, descErr], [email, emailErr]]) {
    er.hidden = true;
    el.removeAttribute('aria-invalid');
  }
  sendErr.hidden = true;
  if (!state.searched || state.searched !== searchKey()) {
    sendErr.textContent = t('staff.phone.searchFirst');
    sendErr.hidden = false;
    $('#phone-search').focus();
    return;
  }
  const problems = [];
  if (!desc.value.trim()) problems.push([desc, descErr, t('validation.description')]);
  if (!validEmail(email.value.trim())) problems.push([email, emailErr, t('validation.email')]);
  if (problems.length) {
    for (const [el, er, msg] of problems) {
      er.textContent = msg;
      er.hidden = false;
      el.setAttribute('aria-invalid', 'true');
    }
    problems[0][0].focus();
    announce(problems.map((p) => p[2]).join(' '), { kind: 'error' });
    return;
  }
  const contact = {};
  const name = $('#phone-name').value.trim();
  const phone = $('#phone-phone').value.trim();
  if (name) contact.name = name;
  if (phone) contact.phone = phone;
  if (email.value.trim()) contact.email = email.value.trim();
  const feature = {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: state.place },
    properties: {
      category: $('#phone-category').value,
      description: desc.value.trim(),
      channel: 'phone',
      lang: lang(),
      ...(Object.keys(contact).length ? { contact } : {}),
    },
  };
  state.sending = true;
  const btn = $('#phone-send');
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    const { data, res } = await staffApi('/api/v1/reports', { method: 'POST', json: feature, headers: { 'Idempotency-Key': state.key } });
    let id = data && (data.id ?? (data.properties && data.properties.id));
    if (id == null) id = (res.headers.get('Location') || '').split('/').pop();
    const dup = data && data.properties && data.properties.duplicate_of;
    showResult(dup ? t('staff.phone.filedDuplicate', { id, original: dup }) : t('staff.phone.filed', { id }), id);
    resetCall();
  } catch (e) {
    sendErr.textContent = errorText(e);
    sendErr.hidden = false;
    announce(errorText(e), { kind: 'error' });
  } finally {
    state.sending = false;
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

function showResult(text, id) {
  const box = $('#phone-result');
  box.replaceChildren(
    h('p', {}, text),
    h('p', {}, h('a', { href: `/r/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' }, t('staff.phone.openReport', { id }))),
    h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { box.hidden = true; $('#view-phone h1').focus(); } }, t('staff.phone.nextCall')));
  box.hidden = false;
  box.focus();
  announce(text, { visual: false });
}

/** Ready for the next call: a new idempotency key, an empty form, no place. */
function resetCall() {
  state.key = newIdempotencyKey();
  state.place = null;
  if (state.marker) {
    state.marker.remove();
    state.marker = null;
  }
  state.searched = null;
  state.nearby = [];
  for (const id of ['#phone-description', '#phone-name', '#phone-phone', '#phone-email']) $(id).value = '';
  $('#phone-category').value = '';
  $('#phone-nearby').replaceChildren();
  $('#phone-search-status').textContent = '';
  $('#phone-form').hidden = true;
  state.search.clear();
  state.near.clear();
  updateWhere();
}
