// One report's details, shared by the map's side panel and the tracking page /r/{id}.
// Every text that comes from residents (description, notes) is set with textContent.
import { t, tn, nameOf, formatDate, formatDay } from './i18n.js';
import { h, categoryBadge, statusBadge } from './dom.js';

const SUPPORTED_KEY = 'zglos.supported';

export function supportedIds() {
  try { return new Set(JSON.parse(localStorage.getItem(SUPPORTED_KEY) || '[]').map(String)); } catch { return new Set(); }
}

export function rememberSupported(id) {
  const s = supportedIds();
  s.add(String(id));
  try { localStorage.setItem(SUPPORTED_KEY, JSON.stringify([...s].slice(-200))); } catch { /* ignore */ }
}

export function reportId(f) {
  return (f && f.properties && f.properties.id) ?? (f && f.id);
}

/**
 * The address a report stored when it was filed ("Floriańska 12"), or null when it has none or
 * only its district's name (shown as the district already).
 */
export function addressLabel(p) {
  const a = p && p.address;
  const label = a && typeof a.label === 'string' ? a.label.trim() : '';
  if (!label) return null;
  if (!a.street && p.district && p.district.name === label) return null;
  return label;
}

/** "Floriańska 12" with a pin icon and, for screen readers, "Address:" before it. */
export function addressLine(p, cls = 'report-address') {
  const label = addressLabel(p);
  if (!label) return null;
  return h('p', { class: cls },
    pinIcon(),
    h('span', { class: 'visually-hidden' }, `${t('details.address')}: `),
    h('span', { class: 'address-label' }, label));
}

function pinIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 9.6a2.6 2.6 0 1 1 0-5.2 2.6 2.6 0 0 1 0 5.2z');
  path.setAttribute('fill', 'currentColor');
  svg.appendChild(path);
  return svg;
}

function timelineText(ev, ref) {
  const status = ev.status ? nameOf(ref.statusByCode.get(ev.status)) || ev.status : '';
  switch (ev.kind) {
    case 'created': return t('timeline.created');
    case 'status': return t('timeline.status', { status });
    case 'support': return t('timeline.support');
    case 'duplicate': return t('timeline.duplicate');
    case 'confirmed_fixed': return t('timeline.confirmed_fixed');
    case 'reopened': return t('timeline.reopened');
    default: return status ? t('timeline.status', { status }) : ev.kind;
  }
}

/**
 * Fill `container` with the report `f`.
 * opts: headingLevel (1 or 2), onSupport(id, button) for the "me too" button, trackingLink (bool).
 */
export function renderReport(container, f, ref, opts = {}) {
  const p = f.properties || {};
  const id = reportId(f);
  const cat = ref.categoryByCode.get(p.category);
  const status = ref.statusByCode.get(p.status);
  const isOpen = status ? status.is_open : true;
  const H = opts.headingLevel === 1 ? 'h1' : 'h2';
  const H2 = opts.headingLevel === 1 ? 'h2' : 'h3';

  const meta = h('dl', { class: 'report-meta' },
    h('dt', {}, t('details.number')), h('dd', {}, `#${id}`),
    h('dt', {}, t('details.created')), h('dd', {}, h('time', { datetime: p.created_at }, formatDate(p.created_at))),
    p.updated_at && Date.parse(p.updated_at) - Date.parse(p.created_at) > 60_000
      ? [h('dt', {}, t('details.updated')), h('dd', {}, h('time', { datetime: p.updated_at }, formatDate(p.updated_at)))]
      : null,
    h('dt', {}, t('details.district')), h('dd', {}, (p.district && p.district.name) || t('details.none')),
    h('dt', {}, t('details.unit')), h('dd', { class: 'report-unit' }, (p.unit && p.unit.name) || t('details.unitNone')),
    isOpen && p.expected_at
      ? [h('dt', {}, t('details.expected')), h('dd', { class: 'report-expected' }, h('time', { datetime: p.expected_at }, formatDay(p.expected_at)))]
      : null,
    h('dt', {}, t('details.supportersLabel')),
    h('dd', { class: 'report-supporters', dataset: { count: String(p.supporters ?? 1) } },
      tn('details.supporters', Number(p.supporters ?? 1))),
  );

  const photos = Array.isArray(p.photos) && p.photos.length
    ? h('section', { class: 'report-photos' },
      h(H2, {}, t('details.photos')),
      h('ul', { class: 'photo-list' }, p.photos.map((ph, i) => h('li', {},
        h('a', { href: ph.url, target: '_blank', rel: 'noopener' },
          h('img', { src: ph.thumbnail_url || ph.url, alt: t('details.photoAlt', { n: i + 1 }), loading: 'lazy', width: 96, height: 96 }))))))
    : null;

  let timeline = null;
  if (Array.isArray(p.timeline)) {
    const events = [...p.timeline].sort((a, b) => String(a.at).localeCompare(String(b.at)));
    timeline = h('section', { class: 'report-timeline' },
      h(H2, {}, t('details.timeline')),
      h('ol', { class: 'timeline' }, events.map((ev) => h('li', { class: `tl-${ev.kind}` },
        h('time', { datetime: ev.at }, formatDate(ev.at)),
        h('span', { class: 'tl-text' }, timelineText(ev, ref)),
        ev.note ? h('p', { class: 'tl-note' }, ev.note) : null))));
  }

  let support = null;
  if (opts.onSupport && isOpen) {
    const done = supportedIds().has(String(id));
    const btn = h('button', {
      type: 'button', class: 'btn btn-secondary btn-metoo', disabled: done,
      onclick: () => opts.onSupport(id, btn),
    }, done ? t('details.supportedAlready') : t('details.meToo'));
    support = h('div', { class: 'report-actions' }, btn, h('p', { class: 'hint' }, t('details.meTooHint')));
  }

  container.replaceChildren(h('article', { class: 'report-card', dataset: { reportId: String(id) } },
    h('header', { class: 'report-head' },
      h(H, { class: 'report-title', tabindex: '-1' },
        categoryBadge(cat, cat ? nameOf(cat) : p.category)),
      h('p', { class: 'report-status' },
        h('span', { class: 'visually-hidden' }, `${t('details.status')}: `),
        statusBadge(p.status, status ? nameOf(status) : p.status, isOpen))),
    addressLine(p),
    p.duplicate_of
      ? h('p', { class: 'banner banner-info' }, t('details.duplicateOf', { id: p.duplicate_of }), ' ',
        h('a', { href: `/r/${p.duplicate_of}` }, t('details.openOriginal')))
      : null,
    h('p', { class: 'report-desc' }, p.description || ''),
    meta,
    p.near_border ? h('p', { class: 'hint' }, t('details.nearBorder')) : null,
    support,
    photos,
    timeline,
    opts.trackingLink
      ? h('p', {}, h('a', { class: 'btn btn-link', href: `/r/${id}` }, t('details.trackingLink')))
      : null,
  ));
  return container;
}

