// The map of the staff pages: the residents' map style (districts, report tiles) plus the staff's
// own sources and layers (the inbox's reports, the heatmap). A basemap is merged in underneath only
// after its style has loaded, keeping every source of ours.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { t } from './i18n.js';
import { getJSON } from './api.js';
import { buildStyle, installImageResolver, reportsTileUrl, labelPoint, OSM_ATTRIBUTION } from './mapstyle.js';

export { maplibregl };

const EMPTY = { type: 'FeatureCollection', features: [] };

export const INBOX_LAYERS = ['inbox-area', 'inbox-line', 'inbox-point'];

export function heatmapTileUrl({ categories = [], status = 'open', from = '', version = 0 } = {}) {
  const p = new URLSearchParams();
  if (categories.length) p.set('category', categories.join(','));
  if (status) p.set('status', status);
  if (from) p.set('from', from);
  if (version) p.set('v', String(version));
  const qs = p.toString().replace(/%2C/g, ',');
  return `${location.origin}/tiles/heatmap/{z}/{x}/{y}.mvt${qs ? `?${qs}` : ''}`;
}

function staffLayers() {
  const overdueRing = ['case', ['boolean', ['get', 'overdue'], false], '#b3261e', '#ffffff'];
  return [
    {
      id: 'heatmap', type: 'heatmap', source: 'heat', 'source-layer': 'heatmap',
      layout: { visibility: 'none' },
      paint: {
        // Cells carry how many reports they hold; a logarithmic weight keeps one busy street from
        // hiding the rest of the city.
        'heatmap-weight': ['interpolate', ['linear'], ['ln', ['+', 1, ['to-number', ['get', 'count'], 1]]], 0, 0, 0.7, 0.45, 3, 1],
        'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 9, 1.4, 13, 2, 16, 3],
        'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 9, 16, 13, 26, 17, 36],
        'heatmap-opacity': 0.82,
        'heatmap-color': [
          'interpolate', ['linear'], ['heatmap-density'],
          0, 'rgba(33,102,172,0)', 0.15, '#67a9cf', 0.35, '#d1e5f0', 0.55, '#fddbc7', 0.75, '#ef8a62', 1, '#b2182b',
        ],
      },
    },
    {
      id: 'hotspots-ring', type: 'circle', source: 'hotspots',
      layout: { visibility: 'none' },
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 10, 15, 26],
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': '#6a1b9a',
        'circle-stroke-width': 3,
      },
    },
    {
      id: 'inbox-area', type: 'fill', source: 'inbox', filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': ['coalesce', ['get', 'color'], '#666666'], 'fill-opacity': 0.35, 'fill-outline-color': '#1b1f24' },
    },
    {
      id: 'inbox-line', type: 'line', source: 'inbox', filter: ['==', ['geometry-type'], 'LineString'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': ['coalesce', ['get', 'color'], '#666666'], 'line-width': 5 },
    },
    {
      id: 'inbox-point', type: 'circle', source: 'inbox', filter: ['==', ['geometry-type'], 'Point'],
      paint: {
        'circle-color': ['coalesce', ['get', 'color'], '#666666'],
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 6, 14, 9, 17, 13],
        'circle-stroke-color': overdueRing,
        'circle-stroke-width': ['case', ['boolean', ['get', 'overdue'], false], 4, 2],
      },
    },
    {
      id: 'inbox-icon', type: 'symbol', source: 'inbox', minzoom: 13, filter: ['==', ['geometry-type'], 'Point'],
      layout: {
        'icon-image': ['concat', 'cat:', ['get', 'category']],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'icon-size': ['interpolate', ['linear'], ['zoom'], 13, 0.55, 17, 0.95],
      },
    },
  ];
}

const STAFF_SOURCES = {
  inbox: () => ({ type: 'geojson', data: EMPTY }),
  heat: (url) => ({ type: 'vector', tiles: [url], minzoom: 0, maxzoom: 16 }),
};

/** The staff map style: the residents' style with the staff's sources and layers added. */
export function staffStyle({ heatUrl }) {
  const style = buildStyle({ reportsUrl: reportsTileUrl({ status: 'open' }), attribution: OSM_ATTRIBUTION });
  style.sources.inbox = STAFF_SOURCES.inbox();
  style.sources.heat = STAFF_SOURCES.heat(heatUrl);
  style.sources.hotspots = STAFF_SOURCES.inbox();
  // Staff layers go below the selection and the draft pin, above the residents' report layers.
  const at = style.layers.findIndex((l) => l.id === 'selected-halo');
  style.layers.splice(at < 0 ? style.layers.length : at, 0, ...staffLayers());
  return style;
}

/** Put a loaded basemap under our layers, keeping all our sources (transformStyle). */
function mergeBasemap(previous, basemap) {
  const own = new Set(Object.keys(previous.sources));
  const rename = {};
  const sources = {};
  for (const [id, src] of Object.entries(basemap.sources || {})) {
    const nid = own.has(id) ? `basemap-${id}` : id;
    rename[id] = nid;
    sources[nid] = src;
  }
  const baseLayers = (basemap.layers || []).map((l) => {
    const layer = { ...l, id: `basemap-${l.id}` };
    if (l.source) layer.source = rename[l.source] || l.source;
    return layer;
  });
  const ownLayers = previous.layers
    .filter((l) => l.id !== 'zglos-background' && !l.id.startsWith('basemap-'))
    .map((l) => (l.id === 'districts-fill' ? { ...l, paint: { ...l.paint, 'fill-opacity': 0.12 } } : l));
  return { ...basemap, sources: { ...sources, ...previous.sources }, layers: [...baseLayers, ...ownLayers] };
}

async function tryBasemap(map, url, onStyle) {
  if (!url) return;
  let style;
  try {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 8000);
    const res = await fetch(url, { signal: ctrl.signal, credentials: 'omit' });
    clearTimeout(timer);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    style = await res.json();
    if (!style || style.version !== 8 || !Array.isArray(style.layers)) throw new Error('not a MapLibre style');
  } catch (e) {
    console.info('basemap not available, showing districts only:', e.message || e);
    return;
  }
  map.once('style.load', onStyle);
  try {
    map.setStyle(style, { diff: false, transformStyle: (prev, next) => mergeBasemap(prev, next) });
  } catch (e) {
    console.warn('basemap style rejected:', e.message);
  }
}

export function labelMapControls(map, labelKey) {
  const canvas = map.getCanvas();
  canvas.setAttribute('aria-label', t(labelKey));
  canvas.setAttribute('role', 'region');
  const root = map.getContainer();
  for (const [cls, key] of [['.maplibregl-ctrl-zoom-in', 'map.zoomIn'], ['.maplibregl-ctrl-zoom-out', 'map.zoomOut']]) {
    const btn = root.querySelector(cls);
    if (btn) {
      btn.setAttribute('aria-label', t(key));
      btn.setAttribute('title', t(key));
    }
  }
}

/** Create the staff map in `container`; resolves when the style has loaded. */
export function createStaffMap(container, ref, { heatUrl, labelKey = 'staff.mapLabel', onStyle = () => {} } = {}) {
  const cfg = ref.config.map || {};
  const city = ref.config.city || {};
  const options = {
    container,
    style: staffStyle({ heatUrl: heatUrl || heatmapTileUrl() }),
    center: cfg.center || [19.945, 50.06],
    zoom: cfg.zoom ?? 11,
    minZoom: 8,
    maxZoom: 20,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: false,
    locale: { 'NavigationControl.ZoomIn': t('map.zoomIn'), 'NavigationControl.ZoomOut': t('map.zoomOut') },
  };
  if (Array.isArray(cfg.bbox) && cfg.bbox.length === 4) {
    const [w, s, e, n] = cfg.bbox;
    const dx = (e - w) * 0.6;
    const dy = (n - s) * 0.6;
    options.maxBounds = [[w - dx, s - dy], [e + dx, n + dy]];
  }
  const map = new maplibregl.Map(options);
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.AttributionControl({
    compact: false,
    customAttribution: [OSM_ATTRIBUTION, city.attribution].filter(Boolean),
  }), 'bottom-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  labelMapControls(map, labelKey);
  installImageResolver(map, ref.categoryByCode);
  map.on('error', (e) => {
    const id = e && e.sourceId;
    if (id && !['districts', 'reports', 'heat', 'inbox'].includes(id)) return;
    console.warn('map:', (e && e.error && e.error.message) || e);
  });
  return new Promise((resolve) => {
    map.on('load', async () => {
      resolve(map);
      try {
        const fc = await getJSON('/api/v1/districts');
        const features = [];
        for (const d of (fc && fc.features) || []) {
          const pt = labelPoint(d.geometry);
          if (pt) features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: pt }, properties: { name: d.properties.name } });
        }
        const src = map.getSource('district-labels');
        if (src) src.setData({ type: 'FeatureCollection', features });
      } catch (e) {
        console.warn('districts:', e.message);
      }
      tryBasemap(map, cfg.basemap_style_url, onStyle);
    });
  });
}

/** Every coordinate of a GeoJSON geometry. */
export function coordsOf(geometry) {
  const out = [];
  const walk = (c) => (typeof c[0] === 'number' ? out.push(c) : c.forEach(walk));
  if (geometry && geometry.coordinates) walk(geometry.coordinates);
  return out;
}

export function fitFeatures(map, features, { maxZoom = 16, padding = 40 } = {}) {
  const pts = features.flatMap((f) => coordsOf(f.geometry));
  if (!pts.length) return;
  const b = new maplibregl.LngLatBounds(pts[0], pts[0]);
  pts.forEach((p) => b.extend(p));
  map.fitBounds(b, { padding, maxZoom, animate: false });
}
