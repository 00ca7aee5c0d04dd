// The network view on a plane dataset: the inputs x and y as two nodes, every input connection, each
// neuron's own map of the plane inside its node (the point shown marked on it, the hovered one
// enlarged), and the weights written on the focused neuron's connections.
// The maps come from outside (`pictures`: see static/js/plane/paint.js, handed over by main.js).

import { ACCENT, BG, INK, rgba } from "../lib/colors.js";
import { fmtFixed } from "../lib/format.js";
import { linkSource } from "./links.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/** Every connection from the input nodes (x and y, or the simple example's x) to the first layer's drawn neurons. */
export function addPlaneInputLinks(batch, layout, store, mode) {
  const layer = layout.layers[1];
  const source = linkSource(store, 0, mode);
  if (!layer || !source) return;
  const { input } = layout;
  const n = input.nodeYs.length;
  for (let slot = 0; slot < layer.k; slot++) {
    const j = layer.visible[slot];
    for (let k = 0; k < n; k++) {
      batch.add(input.nodeX + input.r + 1, input.nodeYs[k], layer.x - layer.r - 1, layer.ys[slot], source.sign * source.data[j * n + k]);
    }
  }
}

/** The input nodes (x and y of the plane, or the simple example's x), with the shown example's values. */
export function drawPlaneInput(ctx, layout, shown) {
  const { input } = layout;
  const a0 = shown?.activations?.[0];
  const names = input.nodeYs.length === 1 ? ["x"] : ["x", "y"];
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  names.forEach((name, k) => {
    const y = input.nodeYs[k];
    ctx.beginPath();
    ctx.arc(input.nodeX, y, input.r, 0, Math.PI * 2);
    ctx.fillStyle = rgba(BG, 1);
    ctx.fill();
    ctx.strokeStyle = rgba(INK, 0.5);
    ctx.lineWidth = 1.2;
    ctx.stroke();
    ctx.font = `600 ${Math.round(input.r * 0.9)}px ${FONT}`;
    ctx.fillStyle = rgba(INK, 0.95);
    ctx.fillText(name, input.nodeX, y);
    if (a0 && a0.length === names.length) {
      ctx.font = `11px ${FONT}`;
      ctx.fillStyle = rgba(INK, 0.7);
      ctx.fillText(fmtFixed(a0[k], 2), input.nodeX, y + (k === 0 && names.length > 1 ? -input.r - 8 : input.r + 9));
    }
  });
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
}

/** Where a point [x, y] of the plane falls in a map drawn in the square (left, top, side). */
function mapPoint(pictures, extent, left, top, side, x, y) {
  return [left + ((x + extent) / (2 * extent)) * side, top + ((extent - y) / (2 * extent)) * side];
}

/** Each drawn neuron's map inside its node; the hovered (or pinned) one also enlarged beside it. */
export function drawNodeMaps(ctx, layout, store, pictures, extent, shown, focus) {
  if (!pictures) return;
  const a0 = shown?.activations?.[0];
  const point = a0 && a0.length === 2 ? a0 : null;
  for (let l = 1; l < layout.layers.length; l++) {
    const layer = layout.layers[l];
    if (layer.r < 7) continue; // too small to read: the activation colour alone
    for (let slot = 0; slot < layer.k; slot++) {
      const j = layer.visible[slot];
      const tile = pictures.tile(l, j);
      if (!tile) continue;
      const rr = layer.r - 2.5; // the outer ring keeps the activation's brightness
      const x = layer.x;
      const y = layer.ys[slot];
      ctx.save();
      ctx.beginPath();
      ctx.arc(x, y, rr, 0, Math.PI * 2);
      ctx.clip();
      ctx.drawImage(pictures.atlas, tile[0], tile[1], pictures.size, pictures.size, x - rr, y - rr, 2 * rr, 2 * rr);
      if (point) {
        const [px, py] = mapPoint(pictures, extent, x - rr, y - rr, 2 * rr, point[0], point[1]);
        ctx.fillStyle = ACCENT;
        ctx.beginPath();
        ctx.arc(px, py, Math.max(1.5, rr * 0.09), 0, Math.PI * 2);
        ctx.fill();
      }
      ctx.restore();
    }
  }
  if (focus && focus.layer > 0) drawEnlarged(ctx, layout, pictures, extent, point, focus);
}

function drawEnlarged(ctx, layout, pictures, extent, point, focus) {
  const layer = layout.layers[focus.layer];
  const slot = layer?.slotOf[focus.index];
  const tile = pictures.tile(focus.layer, focus.index);
  if (slot == null || slot < 0 || !tile) return;
  const side = Math.min(140, Math.max(90, layout.availH * 0.4));
  let left = layer.x + layer.r + 10;
  if (left + side > layout.width - 4) left = layer.x - layer.r - 10 - side;
  const top = Math.max(layout.top, Math.min(layout.top + layout.availH - side, layer.ys[slot] - side / 2));
  ctx.fillStyle = rgba(BG, 1);
  ctx.fillRect(left - 3, top - 3, side + 6, side + 20);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(pictures.atlas, tile[0], tile[1], pictures.size, pictures.size, left, top, side, side);
  ctx.imageSmoothingEnabled = true;
  ctx.strokeStyle = ACCENT;
  ctx.lineWidth = 1.5;
  ctx.strokeRect(left - 0.5, top - 0.5, side + 1, side + 1);
  if (point) {
    const [px, py] = mapPoint(pictures, extent, left, top, side, point[0], point[1]);
    ctx.fillStyle = ACCENT;
    ctx.beginPath();
    ctx.arc(px, py, 3, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.font = `10.5px ${FONT}`;
  ctx.fillStyle = rgba(INK, 0.75);
  ctx.fillText("white line: z = 0", left, top + side + 13);
}

/** The weights of the focused neuron's incoming and outgoing connections, written on them. */
export function drawWeightLabels(ctx, layout, store, focus, mode) {
  if (!focus || focus.layer < 1) return;
  const source = (l) => linkSource(store, l, mode);
  const pos = (l, i) => {
    if (l === 0) return { x: layout.input.nodeX, y: layout.input.nodeYs[i], r: layout.input.r };
    const layer = layout.layers[l];
    const slot = layer?.slotOf[i];
    return slot == null || slot < 0 ? null : { x: layer.x, y: layer.ys[slot], r: layer.r };
  };
  const labels = [];
  const l = focus.layer;
  const me = pos(l, focus.index);
  if (!me) return;
  const nIn = store.sizes[l - 1];
  const inSrc = source(l - 1);
  if (inSrc && nIn <= 8) {
    for (let k = 0; k < nIn; k++) {
      const p = pos(l - 1, k);
      if (p) labels.push([p, me, inSrc.sign * inSrc.data[focus.index * nIn + k], 0.62]);
    }
  }
  const nOut = store.sizes[l + 1];
  const outSrc = l < store.layers ? source(l) : null;
  if (outSrc && nOut <= 8) {
    for (let j = 0; j < nOut; j++) {
      const p = pos(l + 1, j);
      if (p) labels.push([me, p, outSrc.sign * outSrc.data[j * store.sizes[l] + focus.index], 0.38]);
    }
  }
  ctx.font = `10.5px ${FONT}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const [a, b, v, t] of labels) {
    const x = a.x + a.r + (b.x - b.r - a.x - a.r) * t;
    const y = a.y + (b.y - a.y) * t;
    const text = fmtFixed(v, 2);
    const w = ctx.measureText(text).width + 6;
    ctx.fillStyle = rgba(BG, 0.85);
    ctx.fillRect(x - w / 2, y - 7, w, 14);
    ctx.fillStyle = rgba(INK, 0.95);
    ctx.fillText(text, x, y);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
}
