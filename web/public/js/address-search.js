// Address search (a combobox with type-ahead suggestions from /api/v1/geocode) and the "near …"
// line for a pin (from /api/v1/geocode/reverse). Used by the residents' map and by the
// consultant's phone view.
//
// The search follows the ARIA combobox pattern: the input keeps the focus, the suggestions are a
// listbox pointed at by aria-activedescendant, Down/Up move, Enter picks (the first suggestion
// when none is chosen yet), Escape closes the list (and clears the text when it is closed), a
// click picks too. Every request is debounced, the one before it is aborted, and an answer to
// anything but the latest text is dropped.
import { t, tn, has } from './i18n.js';
import { h, announce, errorText } from './dom.js';
import { getJSON } from './api.js';

const DEBOUNCE_MS = 200;
const MIN_CHARS = 2;
const LIMIT = 6;

/** What kind of hit this is, in words ("adres", "ulica", …). */
export function kindText(kind) {
  return has(`search.kind.${kind}`) ? t(`search.kind.${kind}`) : (kind || '');
}

function noteText(note) {
  if (!note || !note.code) return '';
  return has(`search.note.${note.code}`) ? t(`search.note.${note.code}`, { asked: note.asked ?? '' }) : '';
}

/**
 * Wire a search box.
 *   input: the <input role="combobox">, list: its <ul role="listbox">, status: a <p> for "nothing
 *   found" and errors; near(): [lon, lat] to prefer hits near (or null); onPick(feature).
 * Returns {refresh(), clear(), input}.
 */
export function addressSearch({ input, list, status, near = () => null, onPick }) {
  const s = {
    results: [], // features for s.resultsQuery
    resultsQuery: null,
    active: -1,
    open: false,
    timer: null,
    ctrl: null,
    pending: null, // {q, promise} of the request in flight
    seq: 0,
  };
  const prefix = list.id;

  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', list.id);
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('autocomplete', 'off');
  list.setAttribute('role', 'listbox');

  const query = () => input.value.trim();

  // The status line: "nothing found", "not available" or an error; kept as a function of the
  // language so that it can be said again after a language change.
  let statusText = () => '';
  function setStatus(fn) {
    statusText = fn || (() => '');
    const text = statusText();
    status.textContent = text;
    status.hidden = !text;
  }

  function setOpen(open) {
    s.open = open && s.results.length > 0;
    list.hidden = !s.open;
    input.setAttribute('aria-expanded', String(s.open));
    if (!s.open) {
      s.active = -1;
      input.removeAttribute('aria-activedescendant');
    }
  }

  function render() {
    list.replaceChildren(...s.results.map((f, i) => {
      const p = f.properties || {};
      const meta = [kindText(p.kind), p.district, noteText(p.note)].filter(Boolean).join(' · ');
      const li = h('li', {
        id: `${prefix}-opt-${i}`,
        role: 'option',
        class: 'addr-option',
        'aria-selected': String(i === s.active),
        dataset: { kind: p.kind || '', index: String(i) },
      },
      h('span', { class: 'addr-label' }, p.label || ''),
      meta ? h('span', { class: 'addr-meta' }, meta) : null);
      // Keep the focus in the input: a press on a suggestion must not blur it first.
      li.addEventListener('mousedown', (e) => e.preventDefault());
      li.addEventListener('click', () => pick(i));
      return li;
    }));
    if (s.active >= 0) {
      const el = list.children[s.active];
      input.setAttribute('aria-activedescendant', el.id);
      el.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  /** Ask the service for `q`; resolves to the features, or null when overtaken or failed. */
  function fetchNow(q) {
    clearTimeout(s.timer);
    if (s.pending && s.pending.q === q) return s.pending.promise;
    if (s.ctrl) s.ctrl.abort();
    const ctrl = new AbortController();
    s.ctrl = ctrl;
    const seq = ++s.seq;
    const params = new URLSearchParams({ q, limit: String(LIMIT) });
    const pt = near();
    if (pt) {
      params.set('lon', pt[0].toFixed(5));
      params.set('lat', pt[1].toFixed(5));
    }
    const promise = (async () => {
      try {
        const fc = await getJSON(`/api/v1/geocode?${params}`, { signal: ctrl.signal });
        if (seq !== s.seq || q !== query()) return null; // a newer text was typed meanwhile
        s.results = ((fc && fc.features) || []).filter((f) => f && f.geometry && Array.isArray(f.geometry.coordinates));
        s.resultsQuery = q;
        s.active = -1;
        render();
        if (s.results.length) {
          setStatus(null);
          setOpen(document.activeElement === input);
          announce(tn('search.count', s.results.length), { visual: false });
        } else {
          setOpen(false);
          setStatus(() => t('search.none', { q }));
          announce(t('search.none', { q }), { visual: false });
        }
        return s.results;
      } catch (e) {
        if ((e && e.name === 'AbortError') || seq !== s.seq) return null;
        s.results = [];
        s.resultsQuery = null;
        setOpen(false);
        setStatus(() => (e && e.code === 'no_gazetteer' ? t('search.unavailable') : errorText(e)));
        return null;
      } finally {
        if (s.pending && s.pending.promise === promise) s.pending = null;
        if (s.ctrl === ctrl) s.ctrl = null;
      }
    })();
    s.pending = { q, promise };
    return promise;
  }

  function cancel() {
    clearTimeout(s.timer);
    if (s.ctrl) s.ctrl.abort();
    s.ctrl = null;
    s.pending = null;
    s.seq += 1;
  }

  function onInput() {
    const q = query();
    clearTimeout(s.timer);
    if (q.length < MIN_CHARS) {
      cancel();
      s.results = [];
      s.resultsQuery = null;
      render();
      setOpen(false);
      setStatus(null);
      return;
    }
    if (q === s.resultsQuery) {
      setOpen(true);
      return;
    }
    s.timer = setTimeout(() => fetchNow(q), DEBOUNCE_MS);
  }

  function move(delta) {
    const n = s.results.length;
    if (!n) return;
    if (!s.open) {
      setOpen(true);
      s.active = delta > 0 ? 0 : n - 1;
    } else {
      s.active = s.active < 0 ? (delta > 0 ? 0 : n - 1) : (s.active + delta + n) % n;
    }
    render();
  }

  function pick(i) {
    const f = s.results[i];
    if (!f) return;
    cancel();
    input.value = (f.properties && f.properties.label) || input.value;
    // The list is for the text typed; after a pick, Down asks again for the label shown.
    setOpen(false);
    s.results = [];
    s.resultsQuery = null;
    render();
    setStatus(null);
    onPick(f);
  }

  async function onKeyDown(e) {
    if (e.isComposing) return;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        e.preventDefault();
        const delta = e.key === 'ArrowDown' ? 1 : -1;
        const q = query();
        if (q.length >= MIN_CHARS && q !== s.resultsQuery) {
          const res = await fetchNow(q);
          if (res && res.length) move(delta);
        } else {
          move(delta);
        }
        break;
      }
      case 'Enter': {
        e.preventDefault();
        if (s.open && s.active >= 0) {
          pick(s.active);
          break;
        }
        const q = query();
        if (q.length < MIN_CHARS) break;
        const res = q === s.resultsQuery ? s.results : await fetchNow(q);
        if (res && res.length && q === query()) pick(0);
        break;
      }
      case 'Escape':
        if (s.open) {
          e.preventDefault();
          setOpen(false);
        } else if (input.value) {
          e.preventDefault();
          cancel();
          input.value = '';
          s.results = [];
          s.resultsQuery = null;
          render();
          setStatus(null);
        }
        break;
      case 'Tab':
        setOpen(false);
        break;
      default:
        break;
    }
  }

  input.addEventListener('input', onInput);
  input.addEventListener('keydown', onKeyDown);
  input.addEventListener('blur', () => setOpen(false));
  input.addEventListener('focus', () => {
    if (s.results.length && query() === s.resultsQuery) setOpen(true);
  });
  setStatus(null);

  return {
    input,
    /** Re-render in the current language. */
    refresh() {
      render();
      setStatus(statusText);
    },
    clear() {
      cancel();
      input.value = '';
      s.results = [];
      s.resultsQuery = null;
      render();
      setOpen(false);
      setStatus(null);
    },
  };
}

/**
 * The "near Floriańska 12" line for a pin: update(pt) asks the reverse endpoint (debounced, the
 * request before aborted, stale answers dropped); an answer that is only a district, or nothing,
 * shows nothing (the district is shown beside it already).
 */
export function nearLine(el, { delay = 250 } = {}) {
  const s = { key: null, answer: null, timer: null, ctrl: null };

  function show() {
    const a = s.answer;
    const label = a && (a.kind === 'address' || a.kind === 'near_street') && a.address && a.address.label;
    // The element stays in place (a live region must exist before it speaks); empty is invisible.
    el.textContent = label ? t('form.near', { label }) : '';
    el.dataset.kind = (a && a.kind) || '';
  }

  async function ask(pt, key) {
    if (s.ctrl) s.ctrl.abort();
    const ctrl = new AbortController();
    s.ctrl = ctrl;
    const params = new URLSearchParams({ lon: pt[0].toFixed(6), lat: pt[1].toFixed(6) });
    try {
      const answer = await getJSON(`/api/v1/geocode/reverse?${params}`, { signal: ctrl.signal });
      if (key !== s.key) return;
      s.answer = answer;
    } catch (e) {
      if ((e && e.name === 'AbortError') || key !== s.key) return;
      s.answer = null;
    } finally {
      if (s.ctrl === ctrl) s.ctrl = null;
    }
    show();
  }

  return {
    update(pt) {
      if (!pt) {
        this.clear();
        return;
      }
      const key = `${pt[0].toFixed(6)},${pt[1].toFixed(6)}`;
      if (key === s.key) return;
      s.key = key;
      clearTimeout(s.timer);
      s.timer = setTimeout(() => ask(pt, key), delay);
    },
    clear() {
      clearTimeout(s.timer);
      if (s.ctrl) s.ctrl.abort();
      s.ctrl = null;
      s.key = null;
      s.answer = null;
      show();
    },
    /** Re-render in the current language. */
    refresh: show,
    get answer() { return s.answer; },
  };
}
