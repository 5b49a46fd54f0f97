// The map's own style: district boundaries and reports from the service's vector tiles, drawn
// without any outside resource (no glyphs, no sprite), so the map works with no internet. Icons and
// labels are painted on a canvas on demand (styleimagemissing). A basemap style is merged in only
// once it has loaded.

export const OSM_ATTRIBUTION = '© OpenStreetMap contributors, ODbL 1.0';

const EMPTY = { type: 'FeatureCollection', features: [] };

// Report statuses are shown by the ring around a report's dot and a small badge at high zoom.
export const STATUS_RING = {
  new: '#ffffff',
  acknowledged: '#ffffff',
  planned: '#1c7ed6',
  in_progress: '#f08c00',
  resolved: '#2b8a3e',
  rejected: '#495057',
  duplicate: '#495057',
  closed: '#495057',
};
const STATUS_MARK = {
  new: '!', acknowledged: '✓', planned: '…', in_progress: '⚒', resolved: '✔', rejected: '✕', duplicate: '=', closed: '■',
};
const CLOSED = ['resolved', 'rejected', 'duplicate', 'closed'];

export const INTERACTIVE_LAYERS = ['clusters-circle', 'reports-point', 'reports-line', 'reports-area'];
export const REPORT_LAYERS = ['reports-point', 'reports-line', 'reports-area'];

export function reportsTileUrl({ status = 'open', categories = [], version = 0 } = {}) {
  const p = new URLSearchParams();
  p.set('status', status === 'open' ? 'open' : 'all');
  if (categories.length) p.set('category', categories.join(','));
  if (version) p.set('v', String(version));
  // URLSearchParams escapes the commas of the category list; the tile endpoint reads either form.
  return `${location.origin}/tiles/reports/{z}/{x}/{y}.mvt?${p.toString().replace(/%2C/g, ',')}`;
}

const statusRing = ['match', ['get', 'status'], ...Object.entries(STATUS_RING).flat(), '#ffffff'];
const closedOpacity = (open, closed) => ['case', ['in', ['get', 'status'], ['literal', CLOSED]], closed, open];

export function buildStyle({ reportsUrl, attribution }) {
  return {
    version: 8,
    name: 'zglos',
    sources: {
      districts: {
        type: 'vector',
        tiles: [`${location.origin}/tiles/districts/{z}/{x}/{y}.mvt`],
        minzoom: 0,
        maxzoom: 14,
        attribution,
      },
      reports: { type: 'vector', tiles: [reportsUrl], minzoom: 0, maxzoom: 16 },
      'district-labels': { type: 'geojson', data: EMPTY },
      draft: { type: 'geojson', data: EMPTY },
      selected: { type: 'geojson', data: EMPTY },
    },
    layers: [
      { id: 'zglos-background', type: 'background', paint: { 'background-color': '#d9e0e7' } },
      ...overlayLayers(),
    ],
  };
}

/** Layers drawn above any basemap. */
function overlayLayers() {
  return [
    {
      id: 'districts-fill', type: 'fill', source: 'districts', 'source-layer': 'districts',
      paint: {
        'fill-color': ['match', ['%', ['to-number', ['get', 'id'], 0], 4], 0, '#fbfcfd', 1, '#f7f5ee', 2, '#fffbe6', '#f1f5ff'],
        'fill-opacity': 1,
      },
    },
    {
      id: 'districts-line', type: 'line', source: 'districts', 'source-layer': 'districts',
      paint: {
        'line-color': '#495a6e',
        'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1, 14, 2.5],
        'line-opacity': 0.8,
      },
    },
    {
      id: 'district-labels', type: 'symbol', source: 'district-labels', maxzoom: 14.5,
      layout: {
        'icon-image': ['concat', 'label:', ['get', 'name']],
        'icon-allow-overlap': false,
        'icon-optional': false,
      },
    },
    {
      id: 'reports-area', type: 'fill', source: 'reports', 'source-layer': 'reports',
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: {
        'fill-color': ['coalesce', ['get', 'color'], '#666666'],
        'fill-opacity': closedOpacity(0.35, 0.15),
      },
    },
    {
      id: 'reports-area-outline', type: 'line', source: 'reports', 'source-layer': 'reports',
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'line-color': ['coalesce', ['get', 'color'], '#666666'], 'line-width': 2 },
    },
    {
      id: 'reports-line-casing', type: 'line', source: 'reports', 'source-layer': 'reports',
      filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': statusRing, 'line-width': 8, 'line-opacity': closedOpacity(0.9, 0.4) },
    },
    {
      id: 'reports-line', type: 'line', source: 'reports', 'source-layer': 'reports',
      filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': ['coalesce', ['get', 'color'], '#666666'],
        'line-width': 5,
        'line-opacity': closedOpacity(1, 0.45),
      },
    },
    {
      id: 'clusters-circle', type: 'circle', source: 'reports', 'source-layer': 'clusters',
      paint: {
        'circle-color': ['coalesce', ['get', 'color'], '#495057'],
        'circle-radius': ['interpolate', ['linear'], ['sqrt', ['max', ['to-number', ['get', 'count'], 1], 1]], 1, 11, 10, 22, 40, 38],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
        'circle-opacity': 0.88,
      },
    },
    {
      id: 'clusters-count', type: 'symbol', source: 'reports', 'source-layer': 'clusters',
      layout: {
        'icon-image': ['concat', 'count:', ['to-string', ['get', 'count']]],
        'icon-allow-overlap': true,
      },
    },
    {
      id: 'reports-point', type: 'circle', source: 'reports', 'source-layer': 'reports',
      filter: ['==', ['geometry-type'], 'Point'],
      paint: {
        'circle-color': ['coalesce', ['get', 'color'], '#666666'],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 5, 14, 8, 17, 13],
        'circle-stroke-color': statusRing,
        'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 10, 1.5, 16, 3],
        'circle-opacity': closedOpacity(1, 0.55),
        'circle-stroke-opacity': closedOpacity(1, 0.7),
      },
    },
    {
      id: 'reports-icon', type: 'symbol', source: 'reports', 'source-layer': 'reports', minzoom: 14,
      filter: ['==', ['geometry-type'], 'Point'],
      layout: {
        'icon-image': ['concat', 'cat:', ['get', 'category']],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'icon-size': ['interpolate', ['linear'], ['zoom'], 14, 0.6, 17, 1],
      },
    },
    {
      id: 'reports-status', type: 'symbol', source: 'reports', 'source-layer': 'reports', minzoom: 15,
      filter: ['==', ['geometry-type'], 'Point'],
      layout: {
        'icon-image': ['concat', 'status:', ['get', 'status']],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'icon-offset': [12, -12],
      },
    },
    {
      id: 'selected-halo', type: 'circle', source: 'selected', filter: ['==', ['geometry-type'], 'Point'],
      paint: {
        'circle-radius': 20, 'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': '#0b5cad', 'circle-stroke-width': 4,
      },
    },
    {
      id: 'selected-line', type: 'line', source: 'selected', filter: ['!=', ['geometry-type'], 'Point'],
      paint: { 'line-color': '#0b5cad', 'line-width': 4, 'line-dasharray': [2, 1] },
    },
    {
      id: 'draft-fill', type: 'fill', source: 'draft', filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': '#c92a2a', 'fill-opacity': 0.18 },
    },
    {
      id: 'draft-line', type: 'line', source: 'draft', filter: ['!=', ['geometry-type'], 'Point'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#c92a2a', 'line-width': 4, 'line-dasharray': [2, 1] },
    },
    {
      id: 'draft-vertex', type: 'circle', source: 'draft', filter: ['==', ['geometry-type'], 'Point'],
      paint: {
        'circle-radius': 7, 'circle-color': '#ffffff',
        'circle-stroke-color': '#c92a2a', 'circle-stroke-width': 3,
      },
    },
  ];
}

const OWN_SOURCES = ['districts', 'reports', 'district-labels', 'draft', 'selected'];

/**
 * Put a loaded basemap style under our layers. Used as MapLibre's setStyle transformStyle, so the
 * current sources (with their filters and drawn draft) carry over.
 */
export function mergeBasemap(previous, basemap) {
  const sources = {};
  const rename = {};
  for (const [id, src] of Object.entries(basemap.sources || {})) {
    const nid = OWN_SOURCES.includes(id) ? `basemap-${id}` : id;
    rename[id] = nid;
    sources[nid] = src;
  }
  const baseLayers = (basemap.layers || []).map((l) => {
    const layer = { ...l, id: `basemap-${l.id}` };
    if (l.source) layer.source = rename[l.source] || l.source;
    return layer;
  });
  const ownSources = {};
  for (const id of OWN_SOURCES) if (previous.sources[id]) ownSources[id] = previous.sources[id];
  // Over a basemap the districts are only a light tint, so streets and names show through.
  const ownLayers = previous.layers
    .filter((l) => l.id !== 'zglos-background' && !l.id.startsWith('basemap-'))
    .map((l) => (l.id === 'districts-fill' ? { ...l, paint: { ...l.paint, 'fill-opacity': 0.12 } } : l));
  return {
    ...basemap,
    sources: { ...sources, ...ownSources },
    layers: [...baseLayers, ...ownLayers],
  };
}

// ---- images painted on demand -------------------------------------------------------------

const RATIO = 2;

function canvas(w, h) {
  const c = document.createElement('canvas');
  c.width = w * RATIO;
  c.height = h * RATIO;
  const ctx = c.getContext('2d');
  ctx.scale(RATIO, RATIO);
  return { c, ctx };
}

function toImage({ c, ctx }) {
  return { image: ctx.getImageData(0, 0, c.width, c.height), options: { pixelRatio: RATIO } };
}

const FONT = 'system-ui, "DejaVu Sans", "Liberation Sans", Arial, sans-serif';
const EMOJI_FONT = '"Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", system-ui, sans-serif';

function haloText(ctx, text, x, y, { size = 12, weight = 600, fill = '#1b1f24', halo = '#ffffff', haloWidth = 3 } = {}) {
  ctx.font = `${weight} ${size}px ${FONT}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  if (halo) {
    ctx.strokeStyle = halo;
    ctx.lineWidth = haloWidth;
    ctx.strokeText(text, x, y);
  }
  ctx.fillStyle = fill;
  ctx.fillText(text, x, y);
}

function shortCount(n) {
  if (n >= 1e6) return `${Math.round(n / 1e5) / 10}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${Math.round(n / 100) / 10}k`;
  return String(n);
}

// ---- category pictograms ------------------------------------------------------------------

/** The categories' SVG pictograms, one Image per path, loaded from this origin only. */
const pictograms = new Map();

/** The pictogram of a category (loading or loaded), or null when it has no `icon_url`. */
function pictogramOf(cat) {
  if (!cat || !cat.icon_url) return null;
  let path;
  try {
    // Always this origin: the map requests nothing from another host.
    path = new URL(cat.icon_url, location.href).pathname;
  } catch {
    return null;
  }
  let pic = pictograms.get(path);
  if (!pic) {
    const img = new Image();
    pic = { img, ready: false, failed: false };
    pic.loaded = new Promise((done) => {
      img.onload = () => { pic.ready = img.naturalWidth > 0; pic.failed = !pic.ready; done(pic.ready); };
      img.onerror = () => { pic.failed = true; done(false); };
    });
    img.src = path;
    pictograms.set(path, pic);
  }
  return pic;
}

/** Draws `img` (a currentColor pictogram) in white, `size` px square at x, y. */
function drawWhite(ctx, img, x, y, size) {
  const off = document.createElement('canvas');
  off.width = off.height = Math.ceil(size * RATIO);
  const o = off.getContext('2d');
  o.drawImage(img, 0, 0, off.width, off.height);
  o.globalCompositeOperation = 'source-in';
  o.fillStyle = '#ffffff';
  o.fillRect(0, 0, off.width, off.height);
  ctx.drawImage(off, x, y, size, size);
}

/** Paint the image MapLibre asked for, or null when the id is not ours. */
export function paintImage(id, categories) {
  const sep = id.indexOf(':');
  if (sep < 0) return null;
  const kind = id.slice(0, sep);
  const value = id.slice(sep + 1);
  if (kind === 'count') {
    const text = shortCount(Number(value) || 0);
    const w = Math.max(20, text.length * 9 + 8);
    const cv = canvas(w, 20);
    haloText(cv.ctx, text, w / 2, 10.5, { size: 13, weight: 700, fill: '#ffffff', halo: 'rgba(0,0,0,0.55)', haloWidth: 3 });
    return toImage(cv);
  }
  if (kind === 'label') {
    const probe = canvas(1, 1).ctx;
    probe.font = `600 13px ${FONT}`;
    const w = Math.ceil(probe.measureText(value).width) + 10;
    const cv = canvas(w, 20);
    haloText(cv.ctx, value, w / 2, 10, { size: 13, weight: 600, fill: '#2b3440', halo: 'rgba(255,255,255,0.95)', haloWidth: 4 });
    return toImage(cv);
  }
  if (kind === 'cat') {
    const cat = categories.get(value);
    const cv = canvas(26, 26);
    const { ctx } = cv;
    ctx.beginPath();
    ctx.arc(13, 13, 12, 0, Math.PI * 2);
    ctx.fillStyle = (cat && cat.color) || '#666666';
    ctx.fill();
    const pic = pictogramOf(cat);
    if (pic && pic.ready) {
      drawWhite(ctx, pic.img, 6, 6, 14);
    } else if (!pic || pic.failed) {
      // No SVG for the category: its text symbol. (While the SVG loads, the disc alone.)
      ctx.font = `15px ${EMOJI_FONT}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillStyle = '#ffffff';
      ctx.fillText((cat && cat.icon) || '•', 13, 14);
    }
    return toImage(cv);
  }
  if (kind === 'status') {
    const cv = canvas(16, 16);
    const { ctx } = cv;
    ctx.beginPath();
    ctx.arc(8, 8, 7, 0, Math.PI * 2);
    const ring = STATUS_RING[value] || '#ffffff';
    ctx.fillStyle = ring === '#ffffff' ? '#c92a2a' : ring;
    ctx.fill();
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 1.5;
    ctx.stroke();
    haloText(ctx, STATUS_MARK[value] || '?', 8, 8.5, { size: 10, weight: 700, fill: '#ffffff', halo: null });
    return toImage(cv);
  }
  return null;
}

// ---- district label points ----------------------------------------------------------------

function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return Math.abs(a / 2);
}

export function pointInRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

export function pointInGeometry(pt, geometry) {
  return polygonsOf(geometry).some((poly) => pointInRing(pt, poly[0]) && !poly.slice(1).some((hole) => pointInRing(pt, hole)));
}

/** A point well inside the largest part of a (multi)polygon: middle of the widest horizontal chord. */
export function labelPoint(geometry) {
  const polys = polygonsOf(geometry);
  if (!polys.length) return null;
  const poly = polys.reduce((a, b) => (ringArea(b[0]) > ringArea(a[0]) ? b : a));
  const ring = poly[0];
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [, y] of ring) { minY = Math.min(minY, y); maxY = Math.max(maxY, y); }
  let best = null;
  for (let k = 1; k < 12; k++) {
    const y = minY + ((maxY - minY) * k) / 12;
    const xs = [];
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const width = xs[i + 1] - xs[i];
      // Prefer chords near the middle: weight by distance from the vertical centre.
      const score = width * (1 - Math.abs(k - 6) / 12);
      if (!best || score > best.score) best = { score, pt: [(xs[i] + xs[i + 1]) / 2, y] };
    }
  }
  return best && best.pt;
}

/** Paint our icons and labels whenever the map needs one (MapLibre 6 resolver, or the 5.x event). */
export function installImageResolver(map, categories) {
  const resolve = (id) => {
    if (map.hasImage(id)) return;
    const img = paintImage(id, categories);
    if (img) map.addImage(id, img.image, img.options);
    // A category marker whose SVG is still loading: painted again when it arrives.
    const pic = id.startsWith('cat:') ? pictogramOf(categories.get(id.slice(4))) : null;
    if (img && pic && !pic.ready && !pic.failed) {
      // (Or, should it fail, with the text symbol.)
      pic.loaded.then(() => {
        const again = paintImage(id, categories);
        try {
          if (map.hasImage(id)) map.updateImage(id, again.image);
          else map.addImage(id, again.image, again.options);
          map.triggerRepaint();
        } catch {
          // The map was removed meanwhile.
        }
      });
    }
  };
  if (typeof map.setMissingStyleImageResolver === 'function') map.setMissingStyleImageResolver(resolve);
  else map.on('styleimagemissing', (e) => resolve(e.id));
}
