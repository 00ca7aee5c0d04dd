// Connections of the network view, batched by sign and strength so thousands of lines cost a
// dozen strokes. Positive values are blue, negative orange; width and opacity grow with |value|.

import { NEG, POS, rgba } from "../lib/colors.js";
import { topIndices } from "../lib/math.js";

const BUCKETS = 6;
const MAX_HIDDEN_LINKS = 2400;

export class LinkBatch {
  constructor() {
    this.segments = Array.from({ length: 2 * BUCKETS }, () => []);
    this.values = [];
    this.coords = [];
  }

  clear() {
    for (const s of this.segments) s.length = 0;
    this.values.length = 0;
    this.coords.length = 0;
  }

  /** Queue one line; strengths are normalised by the batch's largest |value| in draw(). */
  add(x1, y1, x2, y2, value) {
    this.values.push(value);
    this.coords.push(x1, y1, x2, y2);
  }

  draw(ctx, { widthScale = 1, alphaScale = 1 } = {}) {
    let max = 0;
    for (const v of this.values) max = Math.max(max, Math.abs(v));
    if (max === 0) max = 1;
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i];
      const t = Math.abs(v) / max;
      const b = Math.min(BUCKETS - 1, Math.floor(t * BUCKETS));
      const seg = this.segments[(v >= 0 ? 0 : BUCKETS) + b];
      seg.push(this.coords[4 * i], this.coords[4 * i + 1], this.coords[4 * i + 2], this.coords[4 * i + 3]);
    }
    ctx.lineCap = "round";
    for (let b = 0; b < BUCKETS; b++) {
      const strength = (b + 0.5) / BUCKETS;
      for (const sign of [0, 1]) {
        const seg = this.segments[sign * BUCKETS + b];
        if (!seg.length) continue;
        ctx.beginPath();
        for (let i = 0; i < seg.length; i += 4) {
          ctx.moveTo(seg[i], seg[i + 1]);
          ctx.lineTo(seg[i + 2], seg[i + 3]);
        }
        ctx.strokeStyle = rgba(sign === 0 ? POS : NEG, Math.min(1, (0.05 + 0.75 * strength ** 1.3) * alphaScale));
        ctx.lineWidth = (0.35 + 2.4 * strength) * widthScale;
        ctx.stroke();
      }
    }
    this.clear();
  }
}

/** The value a connection shows: the weight, or the nudge −∂C/∂w of the last mini-batch. */
export function linkSource(store, l, mode) {
  if (mode === "gradients") return store.nablaW[l] ? { data: store.nablaW[l], sign: -1 } : null;
  return store.weights[l] ? { data: store.weights[l], sign: 1 } : null;
}

/**
 * Input → first layer: only the strongest links of each visible neuron (|w·a| for the shown image,
 * or |∂C/∂w| in gradient mode), from the pixel to the neuron's heat-map.
 */
export function addInputLinks(batch, layout, store, shown, mode) {
  const layer = layout.layers[1];
  const source = linkSource(store, 0, mode);
  if (!layer || !source) return;
  const a0 = shown?.activations?.[0];
  const nIn = layout.sizes[0];
  const perNeuron = Math.max(1, Math.min(4, Math.floor(150 / layer.k)));
  const { input } = layout;
  const scratch = new Float32Array(nIn);
  for (let slot = 0; slot < layer.k; slot++) {
    const j = layer.visible[slot];
    const row = j * nIn;
    for (let k = 0; k < nIn; k++) {
      const v = source.sign * source.data[row + k];
      scratch[k] = mode === "weights" && a0 ? v * a0[k] : v;
    }
    const best = topIndices(scratch, perNeuron);
    const tx = layer.heat ? layer.heat.xs[slot] : layer.x - layer.r;
    const ty = layer.ys[slot];
    for (const k of best) {
      if (scratch[k] === 0) continue;
      const px = input.x + ((k % 28) + 0.5) * input.cell;
      const py = input.y + (Math.floor(k / 28) + 0.5) * input.cell;
      batch.add(px, py, tx, ty, scratch[k]);
    }
  }
}

/** Layer l → l+1 (l ≥ 1): every connection between the drawn neurons, or the strongest per target. */
export function addHiddenLinks(batch, layout, store, l, mode) {
  const from = layout.layers[l];
  const to = layout.layers[l + 1];
  const source = linkSource(store, l, mode);
  if (!from || !to || !source) return;
  const nIn = layout.sizes[l];
  const limitPerTarget = from.k * to.k > MAX_HIDDEN_LINKS ? Math.max(2, Math.floor(MAX_HIDDEN_LINKS / to.k)) : from.k;
  const column = new Float32Array(from.k);
  for (let t = 0; t < to.k; t++) {
    const j = to.visible[t];
    for (let s = 0; s < from.k; s++) column[s] = source.sign * source.data[j * nIn + from.visible[s]];
    const slots = limitPerTarget < from.k ? topIndices(column, limitPerTarget) : null;
    const count = slots ? slots.length : from.k;
    for (let i = 0; i < count; i++) {
      const s = slots ? slots[i] : i;
      const x1 = (from.strip ? from.strip.x + from.strip.w : from.x + from.r) + 1;
      batch.add(x1, from.ys[s], to.x - to.r - 1, to.ys[t], column[s]);
    }
  }
}

/** Stable choice of which neurons a big layer shows: the ones with the strongest outgoing weights (in the
 *  summary stream, the server's choice by the same score: the first k of those it sends). */
export function influentialNeurons(store, l, k) {
  const n = store.sizes[l];
  const order = store.shownOrder?.[l];
  if (order) {
    const chosen = Array.from(order.subarray(0, k));
    if (chosen.length < k) {
      const taken = new Set(chosen);
      for (let i = 0; i < n && chosen.length < k; i++) if (!taken.has(i)) chosen.push(i);
    }
    return Int32Array.from(chosen.sort((a, b) => a - b));
  }
  const W = store.weights[l]; // shape (sizes[l+1], n): column i = outgoing weights of neuron i
  const score = new Float32Array(n);
  if (W) {
    const nOut = store.sizes[l + 1];
    for (let j = 0; j < nOut; j++) for (let i = 0; i < n; i++) score[i] += Math.abs(W[j * n + i]);
  }
  const chosen = W ? topIndices(score, k) : Array.from({ length: k }, (_, i) => i);
  return Int32Array.from(chosen.sort((a, b) => a - b));
}
