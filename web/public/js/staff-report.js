// One report for staff: details with the caller's contact, the status workflow (public and
// internal notes, expected date, "not ours" with the right unit, an "after" photo), merging and
// unmerging duplicates, reassigning, editing the category or the place, the full timeline and the
// audit log. Staff notes are always put in as text.
import { t, tn, has, nameOf, formatDate } from './i18n.js';
import { h, $, announce, errorText } from './dom.js';
import { staffApi, staffGet, unitCode } from './staff-api.js';
import { ctx, unitName, statusName, isoDate } from './staff-common.js';
import { renderReport, reportId } from './report-view.js';
import { maplibregl, coordsOf } from './staff-map.js';
import { inboxChanged, unitOptions } from './staff-inbox.js';

const CLOSING = ['resolved', 'rejected', 'duplicate', 'closed'];
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

const state = {
  id: null,
  report: null,
  error: null,
  seq: 0,
  notAllowed: null, // {tried, allowed} after a 409
  photos: [],
  uploading: false,
  picking: false,
  newPlace: null,
  marker: null,
  busy: false,
};

export function initReport() {
  $('#report-back').addEventListener('click', () => ctx.go('#/inbox'));
}

export async function openReport(id) {
  if (String(id) !== String(state.id)) {
    state.notAllowed = null;
    state.photos = [];
    stopPicking();
  }
  state.id = id;
  const seq = ++state.seq;
  const body = $('#report-body');
  if (!state.report || String(reportId(state.report)) !== String(id)) {
    body.replaceChildren(h('p', { class: 'hint', role: 'status' }, t('details.loading')));
  }
  try {
    const data = await staffGet(`/api/v1/staff/reports/${encodeURIComponent(id)}`);
    if (seq !== state.seq) return;
    state.report = data;
    state.error = null;
  } catch (e) {
    if (seq !== state.seq) return;
    state.report = null;
    state.error = e;
  }
  render();
  showOnMap(true);
  const title = $('#report-body .report-title');
  if (title) title.focus();
  if (state.report) announce(t('details.opened', { id }), { visual: false });
}

async function reload() {
  const seq = ++state.seq;
  try {
    const data = await staffGet(`/api/v1/staff/reports/${encodeURIComponent(state.id)}`);
    if (seq !== state.seq) return;
    state.report = data;
  } catch (e) {
    if (seq !== state.seq) return;
    announce(errorText(e), { kind: 'error' });
  }
  render();
  showOnMap(false);
}

export function rerenderReport() {
  if (ctx.view === 'report') render();
}

// ---- rendering ------------------------------------------------------------------------------

function render() {
  const body = $('#report-body');
  if (state.error) {
    const notFound = state.error.status === 404;
    body.replaceChildren(
      h('h2', { class: 'report-title', tabindex: '-1' }, notFound ? t('track.notFoundTitle') : t('errors.loadFailed')),
      h('p', { class: 'banner banner-error', role: 'alert' }, notFound ? t('track.notFound', { id: state.id }) : errorText(state.error)));
    return;
  }
  const f = state.report;
  if (!f) return;
  const p = f.properties || {};
  const id = reportId(f);
  // The public part, as the residents see it, without the public timeline (the staff one follows).
  const card = h('div', { class: 'staff-card' });
  renderReport(card, { ...f, properties: { ...p, timeline: undefined } }, ctx.ref, { headingLevel: 2 });
  const title = card.querySelector('.report-title');
  if (title) title.prepend(h('span', { class: 'report-number' }, `#${id} `));

  body.replaceChildren(
    card,
    staffFacts(f),
    h('p', { class: 'report-links' },
      h('a', { href: `/r/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' }, t('staff.report.publicPage'))),
    ctx.can('workflow') ? redactSection(f) : null,
    ctx.can('workflow') ? statusSection(f) : null,
    ctx.can('workflow') ? otherActions(f) : null,
    timelineSection(f),
    auditSection(f),
  );
  document.title = `#${id} · ${t('staff.title')} · ${t('app.name')}`;
}

function staffFacts(f) {
  const p = f.properties || {};
  const c = p.contact || {};
  const rows = [];
  const row = (label, value, cls) => {
    if (value === null || value === undefined || value === '') return;
    rows.push(h('dt', {}, label), h('dd', { class: cls }, value));
  };
  row(t('staff.report.unit'), unitName(p.unit) || t('details.unitNone'), 'staff-unit');
  if (p.routing_rule != null) {
    const rule = typeof p.routing_rule === 'object' ? (p.routing_rule.id ?? JSON.stringify(p.routing_rule)) : p.routing_rule;
    row(t('staff.report.rule'), String(rule));
  }
  row(t('staff.report.channel'), p.channel ? (has(`staff.channel.${p.channel}`) ? t(`staff.channel.${p.channel}`) : p.channel) : '');
  row(t('staff.report.expected'), p.expected_at || '');
  row(t('staff.report.responseDue'), p.response_due || '');
  row(t('staff.report.fixDue'), p.fix_due && p.fix_due !== p.expected_at ? p.fix_due : '');
  if (p.age_days != null) row(t('staff.report.age'), tn('staff.inbox.ageDays', Math.floor(Number(p.age_days))));
  if (p.overdue) row(t('staff.report.deadline'), h('span', { class: 'flag flag-overdue' }, t('staff.inbox.overdue')));
  const contact = [c.name, c.phone, c.email].filter(Boolean);
  row(t('staff.report.contact'), contact.length
    ? h('span', { class: 'contact' },
      c.name ? h('span', {}, c.name) : null,
      c.phone ? h('a', { href: `tel:${c.phone}` }, c.phone) : null,
      c.email ? h('a', { href: `mailto:${c.email}` }, c.email) : null)
    : t('staff.report.noContact'), 'staff-contact');
  return h('section', { class: 'box staff-facts', 'aria-labelledby': 'facts-title' },
    h('h3', { id: 'facts-title' }, t('staff.report.forStaff')),
    h('dl', { class: 'report-meta' }, rows));
}

// ---- hiding a description or a photo from the public (redaction) ---------------------------

function redactSection(f) {
  const id = reportId(f);
  const body = h('div', {}, h('p', { class: 'hint', role: 'status' }, t('details.loading')));
  staffGet(`/api/v1/staff/reports/${encodeURIComponent(id)}/redactions`)
    .then((r) => { if (String(state.id) === String(id)) body.replaceChildren(...redactBody(r)); })
    .catch((e) => body.replaceChildren(h('p', { class: 'field-error', role: 'alert' }, errorText(e))));
  return h('details', { class: 'box action redactions', id: 'redact-box' },
    h('summary', {}, t('staff.redact.title')),
    h('p', { class: 'hint' }, t('staff.redact.intro')),
    body);
}

function redactBody(r) {
  const reason = h('input', { id: 'redact-reason', type: 'text', maxlength: 500, 'aria-describedby': 'redact-error' });
  const err = h('p', { class: 'field-error', id: 'redact-error', role: 'alert', hidden: true });
  const hide = async (json, btn) => {
    err.hidden = true;
    const why = reason.value.trim();
    if (!why) {
      err.textContent = t('staff.actions.needReason');
      err.hidden = false;
      reason.focus();
      return;
    }
    if (state.busy) return;
    btn.disabled = true;
    const res = await post('/redact', { ...json, reason: why });
    btn.disabled = false;
    if (!res.ok) {
      err.textContent = errorText(res.error);
      err.hidden = false;
      return;
    }
    announce(t(json.field === 'photo' ? 'staff.redact.photoHidden' : 'staff.redact.descriptionHidden'));
    await reload();
    const box = $('#redact-box');
    if (box) box.open = true;
  };
  const button = (label, json, aria) => {
    const b = h('button', { type: 'button', class: 'btn btn-secondary', 'aria-label': aria || null }, label);
    b.addEventListener('click', () => hide(json, b));
    return b;
  };
  const hiddenNote = (why) => h('span', { class: 'flag flag-hidden' }, t('staff.redact.hiddenBecause', { reason: why }));
  const items = [h('li', { class: 'redact-description' },
    h('span', {}, t('staff.redact.description')), ' ',
    r.description_hidden
      ? hiddenNote(r.description_hidden)
      : button(t('staff.redact.hideDescription'), { field: 'description' }))];
  (r.photos || []).forEach((ph, i) => {
    items.push(h('li', { class: 'redact-photo', dataset: { photo: ph.id } },
      h('img', { src: `/api/v1/staff/photos/${encodeURIComponent(ph.id)}?thumb=true`, alt: t('staff.status.photoAlt', { n: i + 1 }), width: 64, height: 64 }),
      ' ',
      ph.hidden
        ? hiddenNote(ph.hidden)
        : button(t('staff.redact.hidePhoto'), { field: 'photo', photo_id: ph.id }, t('staff.redact.hidePhotoN', { n: i + 1 }))));
  });
  return [
    h('div', { class: 'field' }, h('label', { for: 'redact-reason' }, t('staff.redact.reason')), reason, err),
    h('ul', { class: 'redact-list' }, items),
  ];
}

function statusSection(f) {
  const p = f.properties || {};
  const allowed = (state.notAllowed && state.notAllowed.allowed) || f.allowed_transitions || p.allowed_transitions || [];
  const section = h('section', { class: 'box workflow', 'aria-labelledby': 'workflow-title' },
    h('h3', { id: 'workflow-title' }, t('staff.status.title')));
  if (state.notAllowed) {
    section.append(h('div', { class: 'banner banner-error', role: 'alert', id: 'st-not-allowed' },
      h('p', {}, t('staff.status.notAllowed', { status: statusName(state.notAllowed.tried) })),
      state.notAllowed.allowed.length
        ? [h('p', {}, t('staff.status.allowedAre')),
          h('ul', { class: 'allowed-list' }, state.notAllowed.allowed.map((code) => h('li', { dataset: { status: code } }, statusName(code))))]
        : h('p', {}, t('staff.status.noneAllowed'))));
  }
  if (!allowed.length) {
    section.append(h('p', { class: 'hint' }, t('staff.status.noneAllowed')));
    return section;
  }
  // In the workflow's order; from a closed report, a move to an open status is a reopening.
  const order = ctx.ref.statuses.map((x) => x.code);
  const rank = (c) => (order.indexOf(c) < 0 ? order.length : order.indexOf(c));
  const isOpen = (c) => { const st = ctx.ref.statusByCode.get(c); return st ? st.is_open : true; };
  const sel = h('select', { id: 'st-status', required: true },
    [...allowed].sort((a, b) => rank(a) - rank(b)).map((code) => h('option', { value: code },
      !isOpen(p.status) && isOpen(code) ? t('staff.status.reopen', { status: statusName(code) }) : statusName(code))));
  const unitSel = h('select', { id: 'st-unit' },
    h('option', { value: '' }, t('staff.status.chooseUnit')),
    unitOptions(ctx.units.map((u) => u.code).filter((c) => c !== unitCode(p.unit)), ''));
  const expected = h('input', { id: 'st-expected', type: 'date', min: isoDate(new Date()), value: p.expected_at || '' });
  const photoInput = h('input', { id: 'st-photo', class: 'file-input', type: 'file', accept: 'image/jpeg,image/png,image/webp', 'aria-describedby': 'st-photo-status' });
  const photoList = h('ul', { class: 'photo-list', id: 'st-photo-list' });
  const photoStatus = h('p', { class: 'hint', id: 'st-photo-status', role: 'status' });
  const err = h('p', { class: 'field-error', id: 'st-error', hidden: true });
  const publicNote = h('textarea', { id: 'st-public', rows: 3, maxlength: 2000, required: true, 'aria-describedby': 'st-public-hint st-error' });
  const internalNote = h('textarea', { id: 'st-internal', rows: 2, maxlength: 4000, 'aria-describedby': 'st-internal-hint' });
  const unitField = h('div', { class: 'field', id: 'st-unit-field' },
    h('label', { for: 'st-unit' }, t('staff.status.unit')),
    h('p', { class: 'hint', id: 'st-unit-hint' }, t('staff.status.unitHint')),
    unitSel);
  unitSel.setAttribute('aria-describedby', 'st-unit-hint');
  const expectedField = h('div', { class: 'field', id: 'st-expected-field' },
    h('label', { for: 'st-expected' }, t('staff.status.expected')), expected);
  const photoField = h('div', { class: 'field', id: 'st-photo-field' },
    h('p', { class: 'field-label' }, t('staff.status.photo')),
    photoList, photoInput,
    h('label', { for: 'st-photo', class: 'btn btn-secondary' }, t('staff.status.addPhoto')),
    photoStatus);
  const renderPhotos = () => {
    photoList.replaceChildren(...state.photos.map((ph, i) => h('li', {},
      h('img', { src: ph.thumbnail_url || ph.url, alt: t('staff.status.photoAlt', { n: i + 1 }), width: 80, height: 80 }),
      h('button', {
        type: 'button', class: 'photo-remove', 'aria-label': t('form.removePhoto', { n: i + 1 }),
        onclick: () => { state.photos.splice(i, 1); renderPhotos(); photoInput.focus(); },
      }, '×'))));
    photoStatus.textContent = state.uploading ? t('form.uploading') : '';
    photoInput.disabled = state.uploading || state.photos.length >= 3;
  };
  const sync = () => {
    const s = sel.value;
    unitField.hidden = s !== 'rejected';
    unitSel.required = s === 'rejected';
    expectedField.hidden = CLOSING.includes(s);
    photoField.hidden = s !== 'resolved';
  };
  sel.addEventListener('change', sync);
  photoInput.addEventListener('change', async () => {
    const file = photoInput.files[0];
    photoInput.value = '';
    if (!file) return;
    if (file.size > MAX_PHOTO_BYTES) {
      photoStatus.textContent = `${file.name}: ${t('errors.payload_too_large')}`;
      return;
    }
    state.uploading = true;
    renderPhotos();
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const { data } = await staffApi('/api/v1/photos', { method: 'POST', form });
      state.photos.push({ id: data.id, url: data.url, thumbnail_url: data.thumbnail_url });
      state.uploading = false;
      renderPhotos();
      announce(t('form.photoAdded'), { visual: false });
    } catch (e2) {
      state.uploading = false;
      renderPhotos();
      photoStatus.textContent = `${file.name}: ${errorText(e2)}`;
    }
  });

  const form = h('form', { id: 'status-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'st-status' }, t('staff.status.newStatus')), sel),
    unitField,
    h('div', { class: 'field' },
      h('label', { for: 'st-public' }, t('staff.status.publicNote')),
      h('p', { class: 'hint', id: 'st-public-hint' }, t('staff.status.publicHint')),
      publicNote),
    h('div', { class: 'field' },
      h('label', { for: 'st-internal' }, t('staff.status.internalNote')),
      h('p', { class: 'hint', id: 'st-internal-hint' }, t('staff.status.internalHint')),
      internalNote),
    expectedField,
    photoField,
    err,
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'st-submit' }, t('staff.status.submit')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (state.busy) return;
    const status = sel.value;
    const fail = (msg, target) => {
      err.textContent = msg;
      err.hidden = false;
      if (target) {
        target.setAttribute('aria-invalid', 'true');
        target.focus();
      }
      announce(msg, { kind: 'error' });
    };
    err.hidden = true;
    publicNote.removeAttribute('aria-invalid');
    unitSel.removeAttribute('aria-invalid');
    if (!publicNote.value.trim()) return fail(t('staff.status.needPublic'), publicNote);
    if (status === 'rejected' && !unitSel.value) return fail(t('staff.status.needUnit'), unitSel);
    if (state.uploading) return fail(t('form.waitUpload'));
    const body = { status, public_note: publicNote.value.trim() };
    if (internalNote.value.trim()) body.internal_note = internalNote.value.trim();
    if (!expectedField.hidden && expected.value) body.expected_at = expected.value;
    if (status === 'rejected') body.unit = unitSel.value;
    if (status === 'resolved' && state.photos.length) body.photos = state.photos.map((ph) => ph.id);
    const result = await post(`/status`, body, form);
    if (result.ok) {
      state.notAllowed = null;
      state.photos = [];
      await reload();
      announce(t('staff.status.done', { status: statusName(status) }));
      const heading = $('#workflow-title');
      if (heading) { heading.setAttribute('tabindex', '-1'); heading.focus(); }
    } else if (result.error && result.error.status === 409) {
      const detail = result.error.detail || {};
      const allowedNow = Array.isArray(detail.allowed) ? detail.allowed : [];
      state.notAllowed = { tried: status, allowed: allowedNow };
      const keep = { pub: publicNote.value, internal: internalNote.value };
      render();
      // Keep what was written: the notes are still wanted for the allowed change.
      const pub = $('#st-public');
      const int = $('#st-internal');
      if (pub) pub.value = keep.pub;
      if (int) int.value = keep.internal;
      const box = $('#st-not-allowed');
      if (box) { box.setAttribute('tabindex', '-1'); box.focus(); }
      announce(t('staff.status.notAllowed', { status: statusName(status) }), { kind: 'error', visual: false });
    } else if (result.error) {
      fail(errorText(result.error));
    }
  });
  sync();
  renderPhotos();
  section.append(form);
  return section;
}

/** POST to /api/v1/staff/reports/{id}{suffix}; {ok} or {error}. */
async function post(suffix, json, form) {
  state.busy = true;
  const btn = form && form.querySelector('button[type="submit"]');
  if (btn) { btn.disabled = true; btn.setAttribute('aria-busy', 'true'); }
  try {
    await staffApi(`/api/v1/staff/reports/${encodeURIComponent(state.id)}${suffix}`, { method: 'POST', json });
    inboxChanged();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e };
  } finally {
    state.busy = false;
    if (btn) { btn.disabled = false; btn.removeAttribute('aria-busy'); }
  }
}

function actionForm({ id, title, fields, submit, onSubmit }) {
  const err = h('p', { class: 'field-error', id: `${id}-error`, hidden: true, role: 'alert' });
  const form = h('form', { id, novalidate: true }, fields, err, h('button', { type: 'submit', class: 'btn btn-secondary' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (state.busy) return;
    err.hidden = true;
    const problem = await onSubmit(form);
    if (problem) {
      err.textContent = problem;
      err.hidden = false;
    }
  });
  return h('details', { class: 'box action' }, h('summary', {}, title), form);
}

function otherActions(f) {
  const p = f.properties || {};
  const actions = h('section', { class: 'actions', 'aria-labelledby': 'actions-title' },
    h('h3', { id: 'actions-title' }, t('staff.actions.title')));

  // Duplicates by hand.
  if (p.duplicate_of != null || p.status === 'duplicate') {
    const btn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'unmerge' }, t('staff.actions.unmerge'));
    btn.addEventListener('click', async () => {
      const r = await post('/unmerge', {});
      if (r.ok) { await reload(); announce(t('staff.actions.unmerged')); } else announce(errorText(r.error), { kind: 'error' });
    });
    actions.append(h('div', { class: 'box action-inline' },
      h('p', {}, t('details.duplicateOf', { id: p.duplicate_of ?? '?' }), ' ',
        p.duplicate_of != null ? h('a', { href: `#/report/${p.duplicate_of}` }, t('details.openOriginal')) : null),
      btn));
  } else {
    actions.append(actionForm({
      id: 'merge-form',
      title: t('staff.actions.merge'),
      submit: t('staff.actions.mergeSubmit'),
      fields: [
        h('p', { class: 'hint' }, t('staff.actions.mergeHint')),
        h('div', { class: 'field' }, h('label', { for: 'mg-into' }, t('staff.actions.mergeInto')),
          h('input', { id: 'mg-into', type: 'number', min: 1, step: 1, inputmode: 'numeric', required: true })),
        h('div', { class: 'field' }, h('label', { for: 'mg-note' }, t('staff.actions.note')),
          h('textarea', { id: 'mg-note', rows: 2, maxlength: 2000 })),
      ],
      onSubmit: async () => {
        const into = Number.parseInt($('#mg-into').value, 10);
        if (!Number.isFinite(into) || into <= 0) return t('staff.actions.needReport');
        if (String(into) === String(state.id)) return t('staff.actions.notItself');
        const note = $('#mg-note').value.trim();
        const r = await post('/merge', note ? { into, note } : { into });
        if (!r.ok) return errorText(r.error);
        await reload();
        announce(t('staff.actions.merged', { id: into }));
        return null;
      },
    }));
  }

  // Reassign to another unit.
  actions.append(actionForm({
    id: 'reassign-form',
    title: t('staff.actions.reassign'),
    submit: t('staff.actions.reassignSubmit'),
    fields: [
      h('div', { class: 'field' }, h('label', { for: 'ra-unit' }, t('staff.actions.toUnit')),
        h('select', { id: 'ra-unit', required: true },
          h('option', { value: '' }, t('staff.status.chooseUnit')),
          unitOptions(ctx.units.map((u) => u.code).filter((c) => c !== unitCode(p.unit)), ''))),
      h('div', { class: 'field' }, h('label', { for: 'ra-note' }, t('staff.actions.reason')),
        h('textarea', { id: 'ra-note', rows: 2, maxlength: 2000, required: true })),
    ],
    onSubmit: async () => {
      const unit = $('#ra-unit').value;
      const note = $('#ra-note').value.trim();
      if (!unit) return t('staff.status.needUnit');
      if (!note) return t('staff.actions.needReason');
      const r = await post('/reassign', { unit, note });
      if (!r.ok) return errorText(r.error);
      await reload();
      announce(t('staff.actions.reassigned', { unit: unitName(unit) }));
      return null;
    },
  }));

  // Edit the category or the place.
  const isPoint = f.geometry && f.geometry.type === 'Point';
  const placeBtn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'ed-place', 'aria-pressed': String(state.picking) },
    state.picking ? t('staff.actions.placeStop') : t('staff.actions.placePick'));
  const placeStatus = h('p', { class: 'hint', id: 'ed-place-status', role: 'status' },
    state.newPlace ? t('staff.actions.placeChosen', { lon: state.newPlace[0].toFixed(5), lat: state.newPlace[1].toFixed(5) }) : '');
  placeBtn.addEventListener('click', () => {
    if (state.picking) stopPicking();
    else startPicking();
    placeBtn.setAttribute('aria-pressed', String(state.picking));
    placeBtn.textContent = state.picking ? t('staff.actions.placeStop') : t('staff.actions.placePick');
  });
  const centreBtn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'ed-centre', hidden: !state.picking }, t('form.useCenter'));
  centreBtn.addEventListener('click', () => {
    const c = ctx.map.getCenter();
    onReportMapClick({ lngLat: c });
  });
  placeBtn.addEventListener('click', () => { centreBtn.hidden = !state.picking; });
  actions.append(actionForm({
    id: 'edit-form',
    title: t('staff.actions.edit'),
    submit: t('staff.actions.editSubmit'),
    fields: [
      h('div', { class: 'field' }, h('label', { for: 'ed-category' }, t('staff.inbox.category')),
        h('select', { id: 'ed-category' }, ctx.ref.categories.map((c) => h('option', { value: c.code, selected: c.code === p.category }, nameOf(c))))),
      isPoint ? h('div', { class: 'field' }, h('p', { class: 'field-label' }, t('staff.actions.place')), h('div', { class: 'btn-row' }, placeBtn, centreBtn), placeStatus) : null,
      h('div', { class: 'field' }, h('label', { for: 'ed-reason' }, t('staff.actions.reason')),
        h('textarea', { id: 'ed-reason', rows: 2, maxlength: 2000, required: true })),
    ],
    onSubmit: async () => {
      const category = $('#ed-category').value;
      const reason = $('#ed-reason').value.trim();
      const body = { reason };
      if (category !== p.category) body.category = category;
      if (state.newPlace) body.geometry = { type: 'Point', coordinates: state.newPlace };
      if (!body.category && !body.geometry) return t('staff.actions.nothingChanged');
      if (!reason) return t('staff.actions.needReason');
      const r = await post('/edit', body);
      if (!r.ok) return errorText(r.error);
      stopPicking();
      await reload();
      announce(t('staff.actions.edited'));
      return null;
    },
  }));
  return actions;
}

function actorName(a) {
  if (!a) return '';
  if (typeof a === 'object') return a.name || a.login || '';
  return String(a);
}

function timelineText(ev) {
  const status = ev.status ? statusName(ev.status) : '';
  if (has(`staff.timeline.${ev.kind}`)) return t(`staff.timeline.${ev.kind}`, { status });
  if (has(`timeline.${ev.kind}`)) return t(`timeline.${ev.kind}`, { status });
  return status ? t('timeline.status', { status }) : String(ev.kind || '');
}

function timelineSection(f) {
  const events = [...(((f.properties || {}).timeline) || f.timeline || [])]
    .sort((a, b) => String(a.at).localeCompare(String(b.at)));
  return h('section', { class: 'report-timeline', 'aria-labelledby': 'staff-tl-title' },
    h('h3', { id: 'staff-tl-title' }, t('details.timeline')),
    h('ol', { class: 'timeline staff-timeline' }, events.map((ev) => h('li', { class: `tl-${ev.kind}` },
      h('time', { datetime: ev.at }, formatDate(ev.at)),
      h('span', { class: 'tl-text' }, timelineText(ev)),
      actorName(ev.actor) ? h('span', { class: 'tl-actor' }, ` · ${actorName(ev.actor)}`) : null,
      ev.note ? h('p', { class: 'tl-note' }, h('span', { class: 'note-label' }, `${t('staff.report.publicNote')}: `), ev.note) : null,
      ev.internal_note ? h('p', { class: 'tl-internal' }, h('span', { class: 'note-label' }, `${t('staff.report.internalNote')}: `), ev.internal_note) : null))));
}

function fmtValue(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => `${k}: ${typeof x === 'object' && x !== null ? JSON.stringify(x) : x}`).join('; ');
  }
  return String(v);
}

function auditSection(f) {
  const audit = f.audit || (f.properties && f.properties.audit) || [];
  if (!audit.length) return null;
  return h('details', { class: 'box audit' },
    h('summary', {}, t('staff.report.audit'), h('span', { class: 'summary-note' }, ` (${audit.length})`)),
    h('ol', { class: 'audit-list' }, [...audit].reverse().map((a) => h('li', {},
      h('time', { datetime: a.at }, formatDate(a.at)), ' · ',
      h('strong', {}, a.action || ''), actorName(a.actor) ? ` · ${actorName(a.actor)}` : '',
      a.before != null || a.after != null
        ? h('p', { class: 'audit-change' }, h('span', {}, fmtValue(a.before)), h('span', { 'aria-hidden': 'true' }, ' → '),
          h('span', { class: 'visually-hidden' }, ` ${t('staff.report.becomes')} `), h('span', {}, fmtValue(a.after)))
        : null))));
}

// ---- the map ----------------------------------------------------------------------------------

function showOnMap(fly) {
  const map = ctx.map;
  const f = state.report;
  const src = map && map.getSource('selected');
  if (src) src.setData({ type: 'FeatureCollection', features: f && f.geometry ? [{ type: 'Feature', geometry: f.geometry, properties: {} }] : [] });
  if (!fly || !f || !f.geometry) return;
  const pts = coordsOf(f.geometry);
  if (!pts.length) return;
  if (pts.length === 1) map.easeTo({ center: pts[0], zoom: Math.max(map.getZoom(), 16), duration: 400 });
  else {
    const b = new maplibregl.LngLatBounds(pts[0], pts[0]);
    pts.forEach((c) => b.extend(c));
    map.fitBounds(b, { padding: 60, maxZoom: 17, duration: 400 });
  }
}

function startPicking() {
  state.picking = true;
  document.body.dataset.pickPlace = 'true';
  const hint = $('#map-hint');
  hint.textContent = t('staff.actions.placeHint');
  hint.hidden = false;
  announce(t('staff.actions.placeHint'), { visual: false });
}

function stopPicking() {
  state.picking = false;
  state.newPlace = null;
  delete document.body.dataset.pickPlace;
  const hint = $('#map-hint');
  if (hint) hint.hidden = true;
  if (state.marker) {
    state.marker.remove();
    state.marker = null;
  }
}

/** A click on the map while choosing a new place; true when it was used. */
export function onReportMapClick(e) {
  if (!state.picking) return false;
  state.newPlace = [Number(e.lngLat.lng.toFixed(6)), Number(e.lngLat.lat.toFixed(6))];
  if (!state.marker) {
    state.marker = new maplibregl.Marker({ element: h('div', { class: 'pin', role: 'img', 'aria-label': t('staff.actions.newPlace') }), anchor: 'bottom' })
      .setLngLat(state.newPlace).addTo(ctx.map);
  } else state.marker.setLngLat(state.newPlace);
  const st = $('#ed-place-status');
  const msg = t('staff.actions.placeChosen', { lon: state.newPlace[0].toFixed(5), lat: state.newPlace[1].toFixed(5) });
  if (st) st.textContent = msg;
  return true;
}

