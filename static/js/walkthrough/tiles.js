// 28×28 images: the example's pixels (grey) and nudge maps (blue = push up, orange = push down),
// painted into small canvases for the panels and into an atlas the network overlay draws from.

import { divergingPixels, grayPixels, maxAbs } from "../lib/colors.js";
import { el } from "../lib/dom.js";

const SIDE = 28;

function surface(w, h) {
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : Object.assign(document.createElement("canvas"), { width: w, height: h });
  return { canvas, ctx: canvas.getContext("2d") };
}

/** A canvas element showing 784 grey pixels (0 = black, 1 = white). */
export function grayCanvas(pixels, cls = "wt-thumb") {
  const canvas = el("canvas", { class: cls, width: SIDE, height: SIDE });
  paintGray(canvas, pixels);
  return canvas;
}

export function paintGray(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  grayPixels(pixels, image.data, SIDE * SIDE);
  ctx.putImageData(image, 0, 0);
}

/** Diverging colours for 784 values; `scale` = the value shown at full colour (default: the largest |v|). */
export function paintDiverging(canvas, values, scale = maxAbs(values)) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  divergingPixels(values, scale || 1, image.data, 0, SIDE * SIDE);
  ctx.putImageData(image, 0, 0);
}

/**
 * A canvas of any number of values (a neuron's incoming weights, or their change): a square image when
 * the count is a square (784 pixels → 28×28), else one row. Diverging colours, `scale` at full colour.
 */
export function mapCanvas(values, scale, cls = "wt-map") {
  const n = values.length;
  const side = Math.round(Math.sqrt(n));
  const [w, h] = side * side === n ? [side, side] : [n, 1];
  const canvas = el("canvas", { class: cls, width: w, height: h });
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  divergingPixels(values, scale || 1, image.data, 0, n);
  ctx.putImageData(image, 0, 0);
  if (h === 1) canvas.classList.add("strip");
  return canvas;
}

/** Off-screen 28×28 tiles in one strip, rebuilt only when their key changes. */
export class TileAtlas {
  constructor() {
    this.key = "";
    this.count = 0;
    this.s = surface(SIDE, SIDE);
  }

  /** rows: arrays of 784 values (or null for a grey image row given in `gray`); scales: per row. */
  build(key, rows, { scales = null, gray = false } = {}) {
    if (key === this.key) return;
    this.key = key;
    this.count = rows.length;
    const w = SIDE * Math.max(1, rows.length);
    if (this.s.canvas.width !== w) this.s.canvas.width = w;
    const image = this.s.ctx.createImageData(w, SIDE);
    const tile = new Uint8ClampedArray(SIDE * SIDE * 4);
    rows.forEach((values, i) => {
      if (gray) grayPixels(values, tile, SIDE * SIDE);
      else divergingPixels(values, (scales ? scales[i] : maxAbs(values)) || 1, tile, 0, SIDE * SIDE);
      for (let y = 0; y < SIDE; y++) image.data.set(tile.subarray(y * SIDE * 4, (y + 1) * SIDE * 4), (y * w + i * SIDE) * 4);
    });
    this.s.ctx.putImageData(image, 0, 0);
  }

  draw(ctx, i, x, y, size) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.s.canvas, i * SIDE, 0, SIDE, SIDE, x, y, size, size);
    ctx.imageSmoothingEnabled = true;
  }
}
