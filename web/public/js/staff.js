// The staff pages at /staff: log in, the unit's inbox (list and map), one report with the status
// workflow, the consultant's phone entry, the heatmap with hotspots. Views are chosen by the
// address's hash: #/inbox, #/report/{id}, #/phone, #/heatmap, #/moderation.
import { initI18n, t } from './i18n.js';
import { ctx } from './staff-common.js';
import { getJSON, loadReference } from './api.js';
import { h, $, announce, errorText } from './dom.js';
import { staffApi, staffGet, setCsrfToken, setUnauthorizedHandler } from './staff-api.js';
import { createStaffMap, labelMapControls } from './staff-map.js';
import { initInbox, showInbox, refreshInboxLayers } from './staff-inbox.js';
import { initReport, openReport, rerenderReport, onReportMapClick } from './staff-report.js';
import { initPhone, showPhone, onPhoneMapClick, rerenderPhone } from './staff-phone.js';
import { initHeatmap, showHeatmap, hideHeatmap, rerenderHeatmap } from './staff-heatmap.js';
import { initModeration, showModeration, rerenderModeration } from './staff-moderation.js';
import { showDeliveries } from './staff-deliveries.js';

const VIEWS = ['inbox', 'report', 'phone', 'heatmap', 'moderation', 'deliveries', 'none'];

ctx.go = go;
ctx.can = can;

function can(what) {
  const roles = (ctx.user && ctx.user.roles) || [];
  const any = (...r) => r.some((x) => roles.includes(x));
  switch (what) {
    case 'inbox': return any('admin', 'unit_staff');
    case 'workflow': return any('admin', 'unit_staff');
    case 'phone': return any('admin', 'consultant');
    case 'heatmap': return any('admin', 'unit_staff', 'analyst');
    case 'moderation': return any('admin', 'unit_staff');
    case 'deliveries': return any('admin');
    default: return false;
  }
}

async function main() {
  await initI18n();
  setUnauthorizedHandler(() => showLogin({ expired: true }));
  try {
    ctx.ref = await loadReference();
  } catch (e) {
    fatal(e);
    return;
  }
  const city = ctx.ref.config.city || {};
  $('#city-attribution').textContent = city.attribution || '';
  setTitle();
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', onLogout);
  document.addEventListener('zglos:lang', onLangChange);
  window.addEventListener('hashchange', route);

  let me = null;
  try {
    const { data } = await staffApi('/api/v1/staff/me', { quiet401: true });
    me = data;
  } catch (e) {
    if (e.status !== 401) {
      fatal(e);
      return;
    }
  }
  if (me && me.user) await startWork(me);
  else showLogin();
}

function setTitle() {
  document.title = `${t('staff.title')} · ${t('app.name')}`;
}

function fatal(err) {
  document.body.dataset.view = 'error';
  $('#login-view').hidden = false;
  $('#work').hidden = true;
  $('#login-view').replaceChildren(h('div', { class: 'login-box' },
    h('h1', {}, t('errors.loadFailed')),
    h('p', { class: 'banner banner-error', role: 'alert' }, errorText(err)),
    h('button', { type: 'button', class: 'btn btn-primary', onclick: () => location.reload() }, t('errors.reload'))));
}

// ---- logging in and out ---------------------------------------------------------------------

function showLogin({ expired = false } = {}) {
  ctx.user = null;
  setCsrfToken(null);
  document.body.dataset.view = 'login';
  $('#work').hidden = true;
  $('#staff-nav').hidden = true;
  $('#staff-user').hidden = true;
  $('#login-view').hidden = false;
  const err = $('#login-error');
  err.hidden = !expired;
  err.textContent = expired ? t('staff.login.expired') : '';
  $('#login-title').focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const login = $('#login-login').value.trim();
  const password = $('#login-password').value;
  const err = $('#login-error');
  err.hidden = true;
  if (!login || !password) {
    err.textContent = t('staff.login.missing');
    err.hidden = false;
    (login ? $('#login-password') : $('#login-login')).focus();
    return;
  }
  const btn = $('#login-submit');
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    const { data } = await staffApi('/api/v1/staff/login', { method: 'POST', json: { login, password }, quiet401: true });
    $('#login-password').value = '';
    await startWork(data);
  } catch (e) {
    let msg;
    if (e.status === 401 || e.code === 'invalid_credentials') msg = t('staff.login.invalid');
    else if (e.status === 429 || e.code === 'too_many_attempts') msg = t('staff.login.tooMany');
    else msg = errorText(e);
    err.textContent = msg;
    err.hidden = false;
    $('#login-password').focus();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

async function onLogout() {
  try {
    await staffApi('/api/v1/staff/logout', { method: 'POST', quiet401: true });
  } catch { /* logged out either way */ }
  history.replaceState(null, '', location.pathname);
  showLogin();
  announce(t('staff.login.loggedOut'));
}

async function startWork({ user, csrf_token: csrf }) {
  ctx.user = user;
  setCsrfToken(csrf);
  document.body.dataset.view = 'work';
  $('#login-view').hidden = true;
  $('#staff-user').hidden = false;
  $('#staff-user-name').textContent = user.name || user.login;
  $('#staff-nav').hidden = false;
  for (const a of document.querySelectorAll('[data-view-link]')) a.hidden = !can(a.dataset.viewLink);
  $('#work').hidden = false;

  if (!ctx.units.length) {
    try {
      const [units, districts] = await Promise.all([getJSON('/api/v1/units'), getJSON('/api/v1/districts')]);
      ctx.units = (units && units.units) || [];
      ctx.unitByCode = new Map(ctx.units.map((u) => [u.code, u]));
      ctx.districtFeatures = (districts && districts.features) || [];
      ctx.districts = ctx.districtFeatures.map((f) => f.properties).sort((a, b) => Number(a.id) - Number(b.id));
    } catch (e) {
      announce(errorText(e), { kind: 'error' });
    }
  }
  if (!ctx.map) {
    ctx.mapReady = createStaffMap('map', ctx.ref, { onStyle: afterStyleChange });
    ctx.map = await ctx.mapReady;
    window.zglosMap = ctx.map;
    ctx.map.on('click', onMapClick);
    ctx.map.on('mousemove', onMapHover);
    initInbox(ctx);
    initReport(ctx);
    initPhone(ctx);
    initHeatmap(ctx);
    initModeration(ctx);
    window.zglosReady = true;
  } else {
    // Another user may have logged in: their units and roles.
    initInbox(ctx, { reset: true });
    initHeatmap(ctx);
  }
  document.dispatchEvent(new CustomEvent('zglos:staff-login'));
  route();
}

// ---- views ----------------------------------------------------------------------------------

function defaultView() {
  if (can('inbox')) return 'inbox';
  if (can('phone')) return 'phone';
  if (can('heatmap')) return 'heatmap';
  return 'none';
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  if (!ctx.user || !ctx.map) return;
  const m = location.hash.match(/^#\/(\w+)(?:\/([^/]+))?/);
  let view = m ? m[1] : defaultView();
  const arg = m && m[2] ? decodeURIComponent(m[2]) : null;
  if (!VIEWS.includes(view) || (view !== 'report' && view !== 'none' && !can(view))) view = defaultView();
  if (view === 'report' && !arg) view = defaultView();
  const previous = ctx.view;
  ctx.view = view;
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  document.body.dataset.view = view;
  for (const a of document.querySelectorAll('[data-view-link]')) {
    const current = a.dataset.viewLink === view || (view === 'report' && a.dataset.viewLink === 'inbox');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  $('#map-hint').hidden = true;
  if (previous === 'heatmap' && view !== 'heatmap') hideHeatmap();
  if (view !== 'report') clearSelected();
  $('#panel').scrollTop = 0;
  if (view === 'inbox') showInbox({ focus: previous !== null && previous !== 'inbox' });
  else if (view === 'report') openReport(arg);
  else if (view === 'phone') showPhone();
  else if (view === 'heatmap') showHeatmap();
  else if (view === 'moderation') showModeration();
  else if (view === 'deliveries') showDeliveries();
  if (view !== 'report' && view !== 'inbox' && previous !== null) {
    const heading = $(`#view-${view} h1`);
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }
  refreshInboxLayers();
}

function clearSelected() {
  const src = ctx.map.getSource('selected');
  if (src) src.setData({ type: 'FeatureCollection', features: [] });
  delete document.body.dataset.pickPlace;
}

function onMapClick(e) {
  if (ctx.view === 'phone') onPhoneMapClick(e);
  else if (ctx.view === 'report') {
    if (!onReportMapClick(e)) pickInboxFeature(e);
  } else if (ctx.view === 'inbox') pickInboxFeature(e);
}

function pickInboxFeature(e) {
  const pad = 8;
  const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
  const layers = ['inbox-point', 'inbox-line', 'inbox-area'].filter((l) => ctx.map.getLayer(l));
  const f = ctx.map.queryRenderedFeatures(box, { layers })[0];
  if (f && f.properties.id != null) go(`#/report/${f.properties.id}`);
}

function onMapHover(e) {
  const map = ctx.map;
  if (ctx.view === 'phone' || document.body.dataset.pickPlace === 'true') {
    map.getCanvas().style.cursor = 'crosshair';
    return;
  }
  const layers = ['inbox-point', 'inbox-line', 'inbox-area'].filter((l) => map.getLayer(l));
  const hit = map.queryRenderedFeatures(e.point, { layers }).length > 0;
  map.getCanvas().style.cursor = hit ? 'pointer' : '';
}

function afterStyleChange() {
  refreshInboxLayers();
  rerenderHeatmap({ styleOnly: true });
}

function onLangChange() {
  setTitle();
  if (!ctx.ref) return;
  if (ctx.map) labelMapControls(ctx.map, 'staff.mapLabel');
  if (!ctx.user) return;
  initInbox(ctx, { relabel: true });
  rerenderReport();
  rerenderPhone();
  rerenderHeatmap();
  rerenderModeration();
  if (ctx.view === 'deliveries') showDeliveries();
}

main();
