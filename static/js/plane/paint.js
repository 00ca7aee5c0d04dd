// Colours of the plane: one hue per class (Okabe–Ito, colour-blind safe), the decision map (hue = the
// class the network answers, lightness = how sure it is) and each neuron's own map (blue above its
// middle value, orange below, a light line where its weighted sum z crosses 0), and each neuron's
// cost-gradient map (−∂C₀/∂a: blue where raising the neuron's output would lower the cost, orange where
// lowering it would).
// PlaneMaps keeps the maps and their pictures for the current weights, recomputed at most once per
// weight update (the gradient maps only while something shows them).

import { BG, CLASS_COLORS, NEG, POS, classColor } from "../lib/colors.js";
import { activationRange, computeCostGradients, computeMaps, nearestLabels, netOf } from "./maps.js";

const MAX_TILES = 64; // neurons of a layer that get a picture (a canvas is at most ~32k px wide)

export { CLASS_COLORS, classColor }; // the class hues live in lib/colors.js (every view uses them)

// Blue above the middle, orange below, |t|^0.7 towards full colour: one RGB triple per step of t in
// [−1, 1] (LUT_STEPS on each side), looked up instead of computed for every pixel of every map.
const LUT_STEPS = 256;
const DIVERGING = (() => {
  const lut = new Uint8ClampedArray((2 * LUT_STEPS + 1) * 3);
  for (let i = 0; i <= 2 * LUT_STEPS; i++) {
    const t = (i - LUT_STEPS) / LUT_STEPS;
    const col = t >= 0 ? POS : NEG;
    const s = Math.abs(t) ** 0.7;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = BG[c] + (col[c] - BG[c]) * s;
  }
  return lut;
})();

/** Pixel `o` of an RGBA buffer in the diverging colour of t (clamped to [−1, 1]; NaN: the middle). */
function diverging(data, o, t) {
  const i = (t > 1 ? LUT_STEPS * 2 : t < -1 ? 0 : t === t ? Math.round((t + 1) * LUT_STEPS) : LUT_STEPS) * 3;
  data[o] = DIVERGING[i];
  data[o + 1] = DIVERGING[i + 1];
  data[o + 2] = DIVERGING[i + 2];
  data[o + 3] = 255;
}

/** The decision map into an RGBA buffer: the winning class's colour, darker where the network hesitates. */
export function paintDecision(maps, outAct, data) {
  const L = maps.a.length - 1;
  const a = maps.a[L];
  const N = maps.N;
  const n = a.length / N;
  const [, half] = activationRange(outAct, a);
  for (let p = 0; p < N; p++) {
    let best = 0;
    let bv = -Infinity;
    let second = -Infinity;
    for (let j = 0; j < n; j++) {
      const v = a[j * N + p];
      if (v > bv) {
        second = bv;
        bv = v;
        best = j;
      } else if (v > second) second = v;
    }
    const margin = n > 1 ? Math.min(1, Math.max(0, (bv - second) / (2 * half))) : 1;
    const s = 0.12 + 0.5 * Math.sqrt(margin);
    const c = CLASS_COLORS[best % CLASS_COLORS.length];
    const o = p * 4;
    data[o] = BG[0] + (c[0] - BG[0]) * s;
    data[o + 1] = BG[1] + (c[1] - BG[1]) * s;
    data[o + 2] = BG[2] + (c[2] - BG[2]) * s;
    data[o + 3] = 255;
  }
}

/** Neuron j of layer l into an RGBA buffer at `offset` with row `stride` (pixels). */
export function paintNeuron(maps, l, j, act, data, offset, stride) {
  const { N, size } = maps;
  const a = maps.a[l].subarray(j * N, (j + 1) * N);
  const z = maps.z[l].subarray(j * N, (j + 1) * N);
  const [mid, half] = activationRange(act, a);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const p = r * size + c;
      const o = (offset + r * stride + c) * 4;
      const sz = z[p] > 0;
      const edge = (c + 1 < size && z[p + 1] > 0 !== sz) || (r + 1 < size && z[p + size] > 0 !== sz);
      if (edge) {
        data[o] = data[o + 1] = data[o + 2] = 245;
        data[o + 3] = 255;
        continue;
      }
      diverging(data, o, (a[p] - mid) / half);
    }
  }
}

/** A robust full-colour scale for a gradient map: the 95th percentile of |v| over a sample of its
 * pixels (a few huge values, e.g. −1/a where a softmax output is nearly 0, would otherwise wash it out). */
const SAMPLE = new Float32Array(1024);
export function gradientScale(values) {
  const n = values.length;
  const stride = Math.max(1, Math.ceil(n / 512));
  const sample = SAMPLE;
  let m = 0;
  for (let i = 0; i < n; i += stride) sample[m++] = Math.abs(values[i]);
  const sorted = sample.subarray(0, m).sort();
  return sorted[Math.min(m - 1, Math.floor(0.95 * m))] || sorted[m - 1] || 0;
}

/** Neuron j of layer l's cost gradient −∂C₀/∂a into an RGBA buffer (blue: raising a lowers C₀ there). */
export function paintGradient(grads, maps, l, j, data, offset, stride) {
  const { N, size } = maps;
  const g = grads.dC[l].subarray(j * N, (j + 1) * N);
  const scale = gradientScale(g) || 1;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const p = r * size + c;
      const o = (offset + r * stride + c) * 4;
      diverging(data, o, -g[p] / scale);
    }
  }
}

function surface(w, h) {
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  return { canvas, ctx: canvas.getContext("2d") };
}

export class PlaneMaps {
  constructor(store, size = 64) {
    this.store = store;
    this.size = size;
    this.cache = null;
    this.key = "";
    this.pictureKey = "";
    this.decision = surface(size, size);
    this.atlas = null; // one row per layer, one tile per neuron
    this.gradAtlas = null; // the same layout: each neuron's cost-gradient map
    this.grads = null;
    this.gradKey = "";
    this.gradPictureKey = "";
    this.labels = null; // the nearest training point's class at every grid pixel
    this.labelsKey = "";
    this.label = "nearest"; // what the gradient maps score each point against: "nearest" or a class
    this.lastMs = 0;
    this.gradMs = 0;
    this.paintMs = 0; // the last repaint of the pictures
    this.computedAt = 0;
  }

  get active() {
    return this.store.ready && this.store.dataset?.kind === "plane" && this.store.sizes[0] === 2;
  }

  get extent() {
    return this.store.dataset?.extent || 1;
  }

  /** What the gradient maps score each grid point against: "nearest" (the nearest training point's
   * class) or a class index. */
  setLabel(label) {
    this.label = label === "nearest" ? "nearest" : Number(label);
    this.gradKey = "";
  }

  /** The label in use (a class past the current class count falls back to the nearest point's). */
  get labelInUse() {
    const n = this.store.sizes[this.store.sizes.length - 1];
    return this.label === "nearest" || !(this.label < n) ? "nearest" : this.label;
  }

  /** The maps for the current weights (null when the dataset is not of the plane). */
  maps() {
    if (!this.active) return null;
    const s = this.store;
    const key = `${s.helloCount}|${s.weightsVersion}`;
    const now = performance.now();
    // A big network (hundreds of neurons a layer) gets a coarser grid and fewer updates a second: the
    // maps, their gradients and their pictures take at most about a fifth of the time.
    const fresh = this.cache && this.key.startsWith(`${s.helloCount}|`);
    if (key !== this.key && (!fresh || now - this.computedAt >= 4 * (this.lastMs + this.gradMs + this.paintMs))) {
      let mults = 0;
      for (let l = 0; l < s.layers; l++) mults += s.sizes[l] * s.sizes[l + 1];
      let size = this.size;
      while (size > 16 && mults * size * size > 4e6) size /= 2;
      this.cache = computeMaps(netOf(s), size, this.extent, this.cache);
      this.computedAt = performance.now();
      this.lastMs = this.computedAt - now;
      this.key = key;
    }
    return this.cache;
  }

  /** Each grid pixel's label for the gradient maps: one class everywhere, or the nearest training point's. */
  gridLabels(maps) {
    const label = this.labelInUse;
    const N = maps.N;
    if (label !== "nearest") {
      if (!this.fixed || this.fixed.length !== N) this.fixed = new Uint8Array(N);
      return this.fixed.fill(label);
    }
    const points = this.store.points;
    if (!points || !points.y.length) return null;
    const key = `${this.store.helloCount}|${maps.size}|${maps.extent}`;
    if (key !== this.labelsKey || points !== this.labelsFor) {
      this.labels = nearestLabels(maps, points, this.labels);
      this.labelsKey = key;
      this.labelsFor = points;
    }
    return this.labels;
  }

  /** The cost's gradient maps for the current weights ({dC, delta, labels}); null without data. */
  gradients() {
    const maps = this.maps();
    if (!maps) return null;
    const t = performance.now();
    const labels = this.gridLabels(maps);
    if (!labels) return null;
    const key = `${this.key}|${this.labelInUse}|${this.labelsKey}`;
    if (key !== this.gradKey) {
      this.grads = computeCostGradients(maps, netOf(this.store), labels, this.grads);
      this.gradKey = key;
      this.gradMs = performance.now() - t;
    }
    return this.grads;
  }

  /** Pictures of the current maps: {decision, atlas, gradAtlas (with `gradients`), tile(l, j) → [sx, sy]};
   * repainted once per update. */
  pictures({ gradients = false } = {}) {
    const maps = this.maps();
    if (!maps) return null;
    const s = this.store;
    const { size } = maps;
    const L = s.layers;
    const cols = Math.min(MAX_TILES, Math.max(...s.sizes.slice(1)));
    const grads = gradients ? this.gradients() : null;
    const t0 = performance.now();
    let painted = false;
    if (this.pictureKey !== this.key) {
      painted = true;
      if (this.decision.canvas.width !== size) this.decision = surface(size, size);
      const image = this.decision.ctx.createImageData(size, size);
      paintDecision(maps, s.config.output_activation, image.data);
      this.decision.ctx.putImageData(image, 0, 0);
      if (!this.atlas || this.atlas.canvas.width !== cols * size || this.atlas.canvas.height !== L * size) {
        this.atlas = surface(cols * size, L * size);
      }
      const atlasImage = this.atlas.ctx.createImageData(cols * size, L * size);
      for (let l = 1; l <= L; l++) {
        const act = l === L ? s.config.output_activation : s.config.activation;
        for (let j = 0; j < Math.min(cols, s.sizes[l]); j++) paintNeuron(maps, l, j, act, atlasImage.data, (l - 1) * size * cols * size + j * size, cols * size);
      }
      this.atlas.ctx.putImageData(atlasImage, 0, 0);
      this.pictureKey = this.key;
    }
    if (grads && this.gradPictureKey !== this.gradKey) {
      painted = true;
      if (!this.gradAtlas || this.gradAtlas.canvas.width !== cols * size || this.gradAtlas.canvas.height !== L * size) {
        this.gradAtlas = surface(cols * size, L * size);
      }
      const image = this.gradAtlas.ctx.createImageData(cols * size, L * size);
      for (let l = 1; l <= L; l++) {
        for (let j = 0; j < Math.min(cols, s.sizes[l]); j++) paintGradient(grads, maps, l, j, image.data, (l - 1) * size * cols * size + j * size, cols * size);
      }
      this.gradAtlas.ctx.putImageData(image, 0, 0);
      this.gradPictureKey = this.gradKey;
    }
    if (painted) this.paintMs = performance.now() - t0;
    return {
      decision: this.decision.canvas,
      atlas: this.atlas.canvas,
      gradAtlas: grads ? this.gradAtlas.canvas : null,
      size,
      tile: (l, j) => (j < MAX_TILES ? [j * size, (l - 1) * size] : null),
    };
  }
}
