// The console's map: administrative boundaries from /api/v1/geo/areas drawn
// as vector layers on a plain background (no tiles, nothing fetched from
// elsewhere), and the three ways to choose an alert's area: draw a polygon
// point by point, pick towns or villages by clicking them, or a circle
// around a clicked centre. Leaflet is loaded as a classic script (window.L).

import { api } from './api.js';

const L = window.L;

const STYLE = {
  county: { color: '#34495e', weight: 2, fillOpacity: 0.02, fillColor: '#34495e' },
  town: { color: '#5d6d7e', weight: 1, fillOpacity: 0.04, fillColor: '#5d6d7e' },
  village: { color: '#85929e', weight: 0.7, dashArray: '3 3', fillOpacity: 0.06, fillColor: '#85929e' },
  picked: { color: '#b03a2e', weight: 2, fillOpacity: 0.35, fillColor: '#e74c3c' },
  drawing: { color: '#b03a2e', weight: 2, dashArray: '6 4', fillOpacity: 0.2, fillColor: '#e74c3c' },
};

const HELP = {
  polygon: 'Click on the map to add the corners of the area, in order. Three points make an area.',
  towns: 'Click towns to add or remove them.',
  villages: 'Click a town to show its villages, then click villages to add or remove them.',
  circle: 'Click the centre of the area and set the radius.',
};

export class AreaMap {
  // onChange(area) is called whenever the chosen area changes (null: none).
  constructor(container, { onChange, onError }) {
    this.onChange = onChange;
    this.onError = onError || (() => {});
    this.mode = 'polygon';
    this.points = []; // [lat, lng] while drawing
    this.centre = null;
    this.radiusKm = 5;
    this.picked = new Map(); // code → {name, layer}
    this.loadedTowns = new Set(); // towns whose villages are shown
    this.map = L.map(container, { attributionControl: false, zoomSnap: 0.25, doubleClickZoom: false });
    this.map.setView([23.7, 121], 7);
    this.boundaries = {
      county: L.layerGroup().addTo(this.map),
      town: L.layerGroup().addTo(this.map),
      village: L.layerGroup().addTo(this.map),
    };
    this.overlay = L.layerGroup().addTo(this.map);
    this.map.on('click', (event) => this.clickMap(event.latlng));
  }

  async load() {
    const counties = await api('GET', '/geo/areas');
    const countyLayer = this.addAreas('county', counties);
    const bounds = countyLayer.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [10, 10], animate: false });
    const codes = (counties.features || []).map((f) => f.properties && f.properties.code).filter(Boolean);
    await Promise.all(codes.map(async (code) => {
      try {
        this.addAreas('town', await api('GET', '/geo/areas', { query: { parent: code } }));
      } catch (error) {
        this.onError(error);
      }
    }));
    // Tells people's tools and the browser tests that the boundaries are in.
    this.map.getContainer().dataset.loaded = 'true';
  }

  addAreas(level, collection) {
    const layer = L.geoJSON(collection, {
      // The class names let people's style sheets and the browser tests
      // find an area by its code.
      style: (feature) => ({ ...STYLE[level], className: `area area-${level} area-${(feature.properties || {}).code}` }),
      onEachFeature: (feature, featureLayer) => {
        const p = feature.properties || {};
        featureLayer.bindTooltip(`${p.name || ''} ${p.name_en ? '· ' + p.name_en : ''} (${p.code || ''})`, { sticky: true });
        featureLayer.on('click', () => this.clickArea(level, p, featureLayer));
      },
    });
    layer.addTo(this.boundaries[level]);
    return layer;
  }

  setMode(mode) {
    this.mode = mode;
    this.boundaries.village.eachLayer((layer) => {
      if (mode !== 'villages') this.boundaries.village.removeLayer(layer);
    });
    if (mode !== 'villages') this.loadedTowns.clear();
    this.clear();
    return HELP[mode];
  }

  setRadius(km) {
    this.radiusKm = km;
    this.redraw();
  }

  clickMap(latlng) {
    if (this.mode === 'polygon') {
      this.points.push([latlng.lat, latlng.lng]);
      this.redraw();
    } else if (this.mode === 'circle') {
      this.centre = latlng;
      this.redraw();
    }
  }

  async clickArea(level, properties, layer) {
    const code = properties.code;
    if (!code) return;
    if ((this.mode === 'towns' && level === 'town') || (this.mode === 'villages' && level === 'village')) {
      if (this.picked.has(code)) {
        this.picked.get(code).layer.setStyle(STYLE[level]);
        this.picked.delete(code);
      } else {
        layer.setStyle(STYLE.picked);
        this.picked.set(code, { name: properties.name || code, layer, level });
      }
      this.changed();
    } else if (this.mode === 'villages' && level === 'town' && !this.loadedTowns.has(code)) {
      this.loadedTowns.add(code);
      try {
        this.addAreas('village', await api('GET', '/geo/areas', { query: { parent: code } }));
      } catch (error) {
        this.loadedTowns.delete(code);
        this.onError(error);
      }
    }
  }

  undo() {
    this.points.pop();
    this.redraw();
  }

  clear() {
    this.points = [];
    this.centre = null;
    for (const { layer, level } of this.picked.values()) layer.setStyle(STYLE[level]);
    this.picked.clear();
    this.redraw();
  }

  redraw() {
    this.overlay.clearLayers();
    if (this.mode === 'polygon' && this.points.length) {
      for (const point of this.points) {
        L.circleMarker(point, { radius: 4, color: STYLE.drawing.color, interactive: false }).addTo(this.overlay);
      }
      const shape = this.points.length >= 3 ? L.polygon(this.points, STYLE.drawing) : L.polyline(this.points, STYLE.drawing);
      shape.options.interactive = false;
      shape.addTo(this.overlay);
    }
    if (this.mode === 'circle' && this.centre) {
      L.circle(this.centre, { ...STYLE.drawing, radius: this.radiusKm * 1000, interactive: false }).addTo(this.overlay);
    }
    this.changed();
  }

  // The area as the drafts API takes it, or null while incomplete.
  area() {
    if (this.mode === 'polygon') {
      if (this.points.length < 3) return null;
      const ring = this.points.map(([lat, lng]) => [round(lng), round(lat)]);
      ring.push(ring[0]);
      return { polygon: ring };
    }
    if (this.mode === 'circle') {
      if (!this.centre || !(this.radiusKm > 0)) return null;
      return { circle: { lon: round(this.centre.lng), lat: round(this.centre.lat), radius_km: this.radiusKm } };
    }
    if (!this.picked.size) return null;
    return { codes: [...this.picked.keys()] };
  }

  // Words for people: what is chosen now.
  describe() {
    if (this.mode === 'polygon') {
      return this.points.length < 3
        ? `${this.points.length} point${this.points.length === 1 ? '' : 's'} — add ${3 - this.points.length} more.`
        : `Polygon with ${this.points.length} corners.`;
    }
    if (this.mode === 'circle') {
      return this.centre ? `Circle of ${this.radiusKm} km around ${round(this.centre.lat)}, ${round(this.centre.lng)}.` : 'No centre yet.';
    }
    return this.picked.size ? `${this.picked.size} area${this.picked.size === 1 ? '' : 's'} picked.` : 'Nothing picked yet.';
  }

  pickedNames() {
    return [...this.picked.entries()].map(([code, { name }]) => ({ code, name }));
  }

  unpick(code) {
    const entry = this.picked.get(code);
    if (!entry) return;
    entry.layer.setStyle(STYLE[entry.level]);
    this.picked.delete(code);
    this.changed();
  }

  changed() {
    this.onChange(this.area());
  }
}

// Six decimals: about 10 cm, more than any warning needs.
function round(value) {
  return Math.round(value * 1e6) / 1e6;
}
