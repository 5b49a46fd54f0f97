// Moderation at /staff#/moderation: reports held because their sender is on the abuse list (or
// whose reporter asked to withdraw them), released or rejected here; the abuse list itself and
// the moderation audit log for admins. Held reports are stored and acknowledged as usual, so
// nothing a resident sent is lost while it waits here.
import { t } from './i18n.js';
import { ctx, categoryName, unitName, fmtTime } from './staff-common.js';
import { h, $, announce, errorText } from './dom.js';
import { staffApi, staffGet } from './staff-api.js';

const state = { which: 'held', seq: 0 };

export function initModeration() {
  const sw = $('#mod-which');
  sw.replaceChildren(
    h('option', { value: 'held' }, t('staff.moderation.held')),
    h('option', { value: 'rejected' }, t('staff.moderation.rejected')));
  sw.value = state.which;
  sw.addEventListener('change', () => {
    state.which = sw.value;
    loadQueue();
  });
  $('#abuse-form').addEventListener('submit', onAbuseAdd);
}

export function rerenderModeration() {
  const sw = $('#mod-which');
  if (sw) {
    sw.options[0].textContent = t('staff.moderation.held');
    sw.options[1].textContent = t('staff.moderation.rejected');
  }
  if (ctx.view === 'moderation') showModeration();
}

export async function showModeration() {
  const admin = (ctx.user?.roles || []).includes('admin');
  $('#abuse-box').hidden = !admin;
  $('#mod-audit-box').hidden = !admin;
  await Promise.all([loadQueue(), admin ? loadAbuse() : null, admin ? loadAudit() : null]);
}

// ---- the queue --------------------------------------------------------------------------------

async function loadQueue() {
  const seq = ++state.seq;
  const list = $('#mod-list');
  const status = $('#mod-status');
  status.textContent = t('details.loading');
  let data;
  try {
    data = await staffGet(`/api/v1/staff/moderation?state=${encodeURIComponent(state.which)}`);
  } catch (e) {
    if (seq === state.seq) status.textContent = errorText(e);
    return;
  }
  if (seq !== state.seq) return;
  const features = data.features || [];
  status.textContent = features.length
    ? t('staff.moderation.count', { n: features.length })
    : t(state.which === 'held' ? 'staff.moderation.emptyHeld' : 'staff.moderation.emptyRejected');
  list.replaceChildren(...features.map(queueItem));
}

function queueItem(f) {
  const p = f.properties || {};
  const m = p.moderation || {};
  const c = p.contact || {};
  const id = p.id ?? f.id;
  const reason = m.withdrawal_requested ? t('staff.moderation.reasonWithdrawal') : t('staff.moderation.reasonAbuse');
  const facts = h('dl', { class: 'report-meta' },
    h('dt', {}, t('staff.inbox.category')), h('dd', {}, categoryName(p.category)),
    h('dt', {}, t('staff.moderation.why')), h('dd', { class: 'mod-reason' }, reason),
    h('dt', {}, t('staff.report.contact')), h('dd', { class: 'staff-contact' },
      [c.name, c.email, c.phone].filter(Boolean).join(' · ') || t('staff.report.noContact')),
    h('dt', {}, t('staff.moderation.filed')), h('dd', {}, fmtTime(p.created_at)),
    p.unit ? h('dt', {}, t('staff.report.unit')) : null, p.unit ? h('dd', {}, unitName(p.unit)) : null,
    m.note ? h('dt', {}, t('staff.moderation.note')) : null, m.note ? h('dd', {}, m.note) : null);
  const item = h('li', { class: 'box mod-item', dataset: { id: String(id) } },
    h('h3', {}, `#${id} `, categoryName(p.category)),
    h('p', { class: 'mod-text' }, p.description || ''),
    facts);
  if (state.which === 'held') item.append(decisionForm(id));
  return item;
}

function decisionForm(id) {
  const reasonId = `mod-reason-${id}`;
  const reason = h('input', { id: reasonId, type: 'text', maxlength: 500, 'aria-describedby': `${reasonId}-error` });
  const err = h('p', { class: 'field-error', id: `${reasonId}-error`, role: 'alert', hidden: true });
  const release = h('button', { type: 'button', class: 'btn btn-primary mod-release' }, t('staff.moderation.release'));
  const reject = h('button', { type: 'button', class: 'btn btn-secondary mod-reject' }, t('staff.moderation.reject'));
  const act = async (what, btn) => {
    err.hidden = true;
    const text = reason.value.trim();
    if (what === 'reject' && !text) {
      err.textContent = t('staff.moderation.needReason');
      err.hidden = false;
      reason.focus();
      return;
    }
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      await staffApi(`/api/v1/staff/moderation/${encodeURIComponent(id)}/${what}`, {
        method: 'POST', json: text ? { reason: text } : {},
      });
      announce(t(what === 'release' ? 'staff.moderation.released' : 'staff.moderation.rejectedOne', { id }));
      await showModeration();
    } catch (e) {
      err.textContent = errorText(e);
      err.hidden = false;
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  };
  release.addEventListener('click', () => act('release', release));
  reject.addEventListener('click', () => act('reject', reject));
  return h('div', { class: 'mod-decision' },
    h('div', { class: 'field' }, h('label', { for: reasonId }, t('staff.moderation.reason')), reason, err),
    h('div', { class: 'button-row' }, release, reject));
}

// ---- the abuse list (admins) --------------------------------------------------------------------

async function loadAbuse() {
  const list = $('#abuse-list');
  try {
    const data = await staffGet('/api/v1/staff/abuse');
    const entries = data.entries || data || [];
    list.replaceChildren(...entries.map(abuseItem));
    $('#abuse-empty').hidden = entries.length > 0;
  } catch (e) {
    list.replaceChildren(h('li', { class: 'field-error' }, errorText(e)));
  }
}

function abuseItem(e) {
  const remove = h('button', {
    type: 'button', class: 'btn btn-secondary abuse-remove',
    'aria-label': t('staff.abuse.removeOne', { value: e.value }),
  }, t('staff.abuse.remove'));
  remove.addEventListener('click', async () => {
    if (!window.confirm(t('staff.abuse.confirmRemove', { value: e.value }))) return;
    try {
      await staffApi(`/api/v1/staff/abuse/${encodeURIComponent(e.id)}`, { method: 'DELETE' });
      announce(t('staff.abuse.removed', { value: e.value }));
      await Promise.all([loadAbuse(), loadAudit()]);
    } catch (err) {
      announce(errorText(err), { kind: 'error' });
    }
  });
  return h('li', { class: 'abuse-item', dataset: { id: String(e.id) } },
    h('span', { class: 'abuse-kind' }, t(`staff.abuse.kind.${e.kind}`)), ' ',
    h('code', { class: 'abuse-value' }, e.value),
    e.note ? h('span', { class: 'hint' }, ` — ${e.note}`) : null,
    h('span', { class: 'hint' }, ` (${e.added_by}, ${fmtTime(e.added_at)}) `),
    remove);
}

async function onAbuseAdd(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const fields = { kind: $('#abuse-kind'), value: $('#abuse-value'), note: $('#abuse-note') };
  for (const k of Object.keys(fields)) {
    const e = $(`#abuse-${k}-error`);
    e.hidden = true;
    fields[k].removeAttribute('aria-invalid');
  }
  const body = { kind: fields.kind.value, value: fields.value.value.trim() };
  if (fields.note.value.trim()) body.note = fields.note.value.trim();
  const btn = form.querySelector('button[type="submit"]');
  btn.disabled = true;
  try {
    await staffApi('/api/v1/staff/abuse', { method: 'POST', json: body });
    announce(t('staff.abuse.added', { value: body.value }));
    fields.value.value = '';
    fields.note.value = '';
    await Promise.all([loadAbuse(), loadAudit()]);
  } catch (e) {
    const field = ['kind', 'value', 'note'].includes(e.field) ? e.field : 'value';
    const out = $(`#abuse-${field}-error`);
    out.textContent = errorText(e);
    out.hidden = false;
    fields[field].setAttribute('aria-invalid', 'true');
    fields[field].focus();
  } finally {
    btn.disabled = false;
  }
}

// ---- the audit log (admins) ----------------------------------------------------------------------

async function loadAudit() {
  const body = $('#mod-audit');
  try {
    const data = await staffGet('/api/v1/staff/moderation/audit');
    const entries = (data.entries || []).slice(0, 100);
    body.replaceChildren(...entries.map((e) => h('tr', {},
      h('td', {}, fmtTime(e.at)),
      h('td', {}, e.actor),
      h('td', { class: 'audit-action' }, e.action),
      h('td', {}, e.report_id != null ? `#${e.report_id}` : describe(e)),
      h('td', {}, e.reason || ''))));
  } catch (e) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 5 }, errorText(e))));
  }
}

function describe(e) {
  const v = e.after || e.before;
  return v && typeof v === 'object' && v.value ? `${v.kind || ''} ${v.value}`.trim() : '';
}
