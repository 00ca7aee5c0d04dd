// Images of the network's inputs: the example's pixels (grey) and maps over the inputs (nudges, weights:
// blue positive, orange negative), painted into small canvases for the panels and into an atlas the network
// overlay draws from. A square number of inputs is a square image (784 → 28×28); any other, one row.

import { divergingPixels, grayPixels, maxAbs } from "../lib/colors.js";
import { el } from "../lib/dom.js";

/** How n input values are laid out: {w, h}, a square when n is a square number, else one row. */
export function gridOf(n) {
  const side = Math.round(Math.sqrt(n));
  return side * side === n ? { w: side, h: side } : { w: Math.max(1, n), h: 1 };
}

/** Where input k sits ("13, 9" on a square image, "k" on a row), and its name ("pixel (13, 9)", "input k");
 * a dataset that names its inputs (the plane: x₁, x₂) gives `names`. */
export function inputCoords(k, n, names = null) {
  if (names) return names[k];
  const g = gridOf(n);
  return g.h > 1 ? `${k % g.w},${Math.floor(k / g.w)}` : String(k);
}
export function inputName(k, n, names = null) {
  if (names) return names[k];
  const g = gridOf(n);
  return g.h > 1 ? `pixel (${k % g.w}, ${Math.floor(k / g.w)})` : `input ${k}`;
}

function fit(canvas, n) {
  const { w, h } = gridOf(n);
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  if (h === 1) canvas.classList.add("strip");
  return { w, h };
}

function surface(w, h) {
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : Object.assign(document.createElement("canvas"), { width: w, height: h });
  return { canvas, ctx: canvas.getContext("2d") };
}

/** A canvas element showing the inputs as grey pixels (0 = black, 1 = white). */
export function grayCanvas(pixels, cls = "wt-thumb") {
  const canvas = el("canvas", { class: cls, width: 1, height: 1 });
  paintGray(canvas, pixels);
  return canvas;
}

export function paintGray(canvas, pixels) {
  const { w, h } = fit(canvas, pixels.length);
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  grayPixels(pixels, image.data, pixels.length);
  ctx.putImageData(image, 0, 0);
}

/** Diverging colours for one value per input; `scale` = the value shown at full colour (default: the largest |v|). */
export function paintDiverging(canvas, values, scale = maxAbs(values)) {
  const { w, h } = fit(canvas, values.length);
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  divergingPixels(values, scale || 1, image.data, 0, values.length);
  ctx.putImageData(image, 0, 0);
}

/**
 * A canvas of any number of values (a neuron's incoming weights, or their change): a square image when
 * the count is a square (784 pixels → 28×28), else one row. Diverging colours, `scale` at full colour.
 */
export function mapCanvas(values, scale, cls = "wt-map") {
  const canvas = el("canvas", { class: cls, width: 1, height: 1 });
  paintDiverging(canvas, values, scale);
  return canvas;
}

/** Off-screen input-shaped tiles in one strip, rebuilt only when their key changes. */
export class TileAtlas {
  constructor() {
    this.key = "";
    this.count = 0;
    this.grid = { w: 1, h: 1 };
    this.s = surface(1, 1);
  }

  /** rows: arrays of one value per input (grey pixels with `gray`); scales: per row. */
  build(key, rows, { scales = null, gray = false } = {}) {
    if (key === this.key) return;
    this.key = key;
    this.count = rows.length;
    const n = rows[0]?.length || 1;
    const g = (this.grid = gridOf(n));
    const w = g.w * Math.max(1, rows.length);
    if (this.s.canvas.width !== w) this.s.canvas.width = w;
    if (this.s.canvas.height !== g.h) this.s.canvas.height = g.h;
    const image = this.s.ctx.createImageData(w, g.h);
    const tile = new Uint8ClampedArray(n * 4);
    rows.forEach((values, i) => {
      if (gray) grayPixels(values, tile, n);
      else divergingPixels(values, (scales ? scales[i] : maxAbs(values)) || 1, tile, 0, n);
      for (let y = 0; y < g.h; y++) image.data.set(tile.subarray(y * g.w * 4, (y + 1) * g.w * 4), (y * w + i * g.w) * 4);
    });
    this.s.ctx.putImageData(image, 0, 0);
  }

  /** Tile i into a size × size box (a row of inputs: a strip across the box's middle). */
  draw(ctx, i, x, y, size) {
    const { w, h } = this.grid;
    const height = h === 1 ? Math.max(4, size / 6) : size;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.s.canvas, i * w, 0, w, h, x, y + (size - height) / 2, size, height);
    ctx.imageSmoothingEnabled = true;
  }
}
