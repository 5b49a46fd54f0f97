// The dead-letter list at /staff#/deliveries (admins): mail and deliveries to units' own systems
// that gave up after all their attempts. Nothing is lost: each waits here until an admin, the
// cause fixed (the receiver back, the address corrected), gives it a new round of attempts.
import { t } from './i18n.js';
import { unitName, fmtTime } from './staff-common.js';
import { h, $, announce, errorText } from './dom.js';
import { staffGet, staffPost } from './staff-api.js';

let seq = 0;

export async function showDeliveries() {
  const mine = ++seq;
  const status = $('#dl-status');
  const list = $('#dl-list');
  status.textContent = t('details.loading');
  let data;
  try {
    data = await staffGet('/api/v1/staff/dead-letters');
  } catch (e) {
    if (mine === seq) status.textContent = errorText(e);
    return;
  }
  if (mine !== seq) return;
  const letters = data.dead_letters || [];
  status.textContent = letters.length
    ? t('staff.deliveries.count', { n: letters.length, pending: data.pending ?? 0 })
    : `${t('staff.deliveries.empty')} ${t('staff.deliveries.pending', { pending: data.pending ?? 0 })}`;
  list.replaceChildren(...letters.map(row));
}

function row(d) {
  const retry = h('button', { type: 'button', class: 'btn btn-secondary dl-retry' }, t('staff.deliveries.retry'));
  retry.setAttribute('aria-label', `${t('staff.deliveries.retry')}: ${d.kind} ${d.id}`);
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    try {
      await staffPost(`/api/v1/staff/dead-letters/${encodeURIComponent(d.kind)}/${encodeURIComponent(d.id)}/retry`, {});
      announce(t('staff.deliveries.retried', { kind: d.kind, id: d.id }));
      await showDeliveries();
    } catch (e) {
      retry.disabled = false;
      $('#dl-status').textContent = errorText(e);
    }
  });
  const kind = d.kind === 'mail' ? t('staff.deliveries.mail') : d.kind;
  const target = d.kind === 'mail' ? d.target : `${unitName(d.target)} (${d.target})`;
  return h('tr', { dataset: { kind: d.kind, id: String(d.id) } },
    h('td', {}, kind),
    h('td', {}, target),
    h('td', {}, d.what),
    h('td', {}, d.report_id != null ? h('a', { href: `#/report/${d.report_id}` }, `#${d.report_id}`) : ''),
    h('td', {}, String(d.attempts)),
    h('td', { class: 'dl-error' }, d.last_error || ''),
    h('td', {}, fmtTime(d.dead_at)),
    h('td', {}, retry));
}
