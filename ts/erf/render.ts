// Draws the two ERF heat maps side by side with titles, their numbers and a colour bar
// into one RGB PNG (pngjs). Text uses a built-in 5x7 bitmap font, so no canvas or font
// files are needed.
import { PNG } from 'pngjs';
import type { ErfMap, ErfResult } from './compute.js';

// 5x7 glyphs, one number per row (5 bits, MSB left). Lower case is drawn as upper case.
const FONT: Record<string, number[]> = {
  ' ': [0, 0, 0, 0, 0, 0, 0],
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  x: [0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11],
  '.': [0, 0, 0, 0, 0, 0x0c, 0x0c], ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08], ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0],
  '-': [0, 0, 0, 0x1f, 0, 0, 0], '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0], '=': [0, 0, 0x1f, 0, 0x1f, 0, 0],
  '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02], ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0], '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  '|': [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], '<': [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
  '>': [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
};

// Viridis at five stops, interpolated linearly.
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function colour(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  return [0, 1, 2].map((c) => Math.round(STOPS[i][c] + f * (STOPS[i + 1][c] - STOPS[i][c]))) as [number, number, number];
}

/** Log scale: `decades` decades below each map's maximum map to 0..1. */
export function normalise(map: Float64Array, decades: number): Float64Array {
  let max = 0;
  for (const v of map) max = Math.max(max, v);
  const out = new Float64Array(map.length);
  if (max === 0) return out;
  for (let i = 0; i < map.length; i++) out[i] = map[i] > 0 ? Math.max(0, 1 + Math.log10(map[i] / max) / decades) : 0;
  return out;
}

class Canvas {
  readonly png: PNG;
  constructor(readonly width: number, readonly height: number) {
    this.png = new PNG({ width, height, colorType: 2 });
    this.png.data.fill(255);
  }
  set(x: number, y: number, [r, g, b]: readonly number[]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = 4 * (y * this.width + x);
    this.png.data[i] = r;
    this.png.data[i + 1] = g;
    this.png.data[i + 2] = b;
    this.png.data[i + 3] = 255;
  }
  rect(x: number, y: number, w: number, h: number, c: readonly number[]): void {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) this.set(x + i, y + j, c);
  }
  text(x: number, y: number, s: string, scale = 2, c: readonly number[] = [20, 20, 20]): void {
    for (const ch of s) {
      const g = FONT[ch] ?? FONT[ch.toUpperCase()] ?? FONT[' '];
      g.forEach((row, j) => {
        for (let i = 0; i < 5; i++) if (row & (0x10 >> i)) this.rect(x + i * scale, y + j * scale, scale, scale, c);
      });
      x += 6 * scale;
    }
  }
}

export const textWidth = (s: string, scale = 2) => s.length * 6 * scale;

/** Where the heat maps go: map cell (x, y) of panel p covers zoom x zoom pixels from (left[p] + x * zoom, top + y * zoom). */
export function erfLayout(size: number) {
  const zoom = Math.max(1, Math.floor(320 / size));
  const side = size * zoom;
  const pad = 24;
  const panelW = Math.max(side, textWidth('DEPTHWISE CONV: 00 LAYERS, K=000x000') + 4);
  const top = pad + 26 + 40;
  return { zoom, side, pad, panelW, top, left: [pad, 2 * pad + panelW], width: 2 * panelW + 3 * pad, height: top + side + 60 + 70 };
}

/** The PNG: two heat maps (log scale over `decades` decades), titles, numbers and a colour bar. */
export function renderErf(r: ErfResult, o: { layers: number; levels: number; decades: number }): Buffer {
  const S = r.size;
  const { zoom, side, pad, panelW, top, width, height } = erfLayout(S);
  const cv = new Canvas(width, height);
  cv.text(pad, pad, 'EFFECTIVE RECEPTIVE FIELD: |d y(centre) / d x|', 2);
  const panels: [ErfMap, string][] = [
    [r.wtconv, `WTCONV2D: ${o.layers} LAYERS, K=${r.wtconv.kernelSize}, ${o.levels} LEVELS`],
    [r.depthwise, `DEPTHWISE CONV: ${o.layers} LAYERS, K=${r.depthwise.kernelSize}x${r.depthwise.kernelSize}`],
  ];
  panels.forEach(([m, title], p) => {
    const x0 = pad + p * (panelW + pad);
    cv.text(x0, pad + 30, title, 2);
    cv.text(x0, pad + 50, `${m.paramsPerChannel} PARAMETERS PER CHANNEL`, 2, [90, 90, 90]);
    const n = normalise(m.map, o.decades);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) cv.rect(x0 + x * zoom, top + y * zoom, zoom, zoom, colour(n[y * S + x]));
    cv.text(x0, top + side + 10, `90% OF THE MASS WITHIN R=${m.r90.toFixed(1)} PX`, 2);
    cv.text(x0, top + side + 30, `50% WITHIN R=${m.r50.toFixed(1)} PX, SUPPORT +-${m.support} PX`, 2, [90, 90, 90]);
  });
  // Colour bar with its scale.
  const barX = pad;
  const barY = top + side + 64;
  const barW = width - 2 * pad;
  for (let i = 0; i < barW; i++) cv.rect(barX + i, barY, 1, 16, colour(i / (barW - 1)));
  cv.text(barX, barY + 22, `<= 1E-${o.decades} x MAX`, 2);
  const maxLabel = 'MAX (EACH MAP ITS OWN), LOG SCALE';
  cv.text(barX + barW - textWidth(maxLabel), barY + 22, maxLabel, 2);
  return PNG.sync.write(cv.png, { colorType: 2 });
}
