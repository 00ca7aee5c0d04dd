// The network view on a plane dataset: the inputs x₁ and x₂ as two nodes, every input connection, each
// neuron's own map of the plane inside its node (its activation; with "Gradients", the cost's gradient
// −∂C₀/∂a), the point shown marked on it, the hovered one enlarged with both maps side by side, and the
// weights written on the focused neuron's connections.
// The maps come from outside (`pictures`: see static/js/plane/paint.js, handed over by main.js).

import { ACCENT, BG, INK, rgba } from "../lib/colors.js";
import { fmtFixed } from "../lib/format.js";
import { linkSource } from "./links.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const TOOLTIP_WIDTH = 250; // about the hover tooltip's width (static/css): the enlarged maps keep off it

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

/** The input nodes (x₁ and x₂ of the plane, or the simple example's x, as the dataset names them), with
 * the shown example's values. */
/** The input nodes' names: the dataset's, else x (one input) or x₁, x₂. */
export function inputLabels(names, n) {
  return names && names.length === n ? names : n === 1 ? ["x"] : ["x₁", "x₂"];
}

export function drawPlaneInput(ctx, layout, shown, names = null) {
  const { input } = layout;
  const a0 = shown?.activations?.[0];
  const n = input.nodeYs.length;
  const labels = inputLabels(names, n);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  labels.forEach((name, k) => {
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
    if (a0 && a0.length === n) {
      ctx.font = `11px ${FONT}`;
      ctx.fillStyle = rgba(INK, 0.7);
      ctx.fillText(fmtFixed(a0[k], 2), input.nodeX, y + (k === 0 && n > 1 ? -input.r - 8 : input.r + 9));
    }
  });
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
}

/** Where a point [x, y] of the plane falls in a map drawn in the square (left, top, side). */
function mapPoint(pictures, extent, left, top, side, x, y) {
  return [left + ((x + extent) / (2 * extent)) * side, top + ((extent - y) / (2 * extent)) * side];
}

/** Each drawn neuron's map inside its node (`gradients`: its cost-gradient map). */
export function drawNodeMaps(ctx, layout, store, pictures, extent, shown, gradients = false) {
  if (!pictures) return;
  const a0 = shown?.activations?.[0];
  const point = a0 && a0.length === 2 ? a0 : null;
  const atlas = gradients && pictures.gradAtlas ? pictures.gradAtlas : pictures.atlas;
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
      ctx.drawImage(atlas, tile[0], tile[1], pictures.size, pictures.size, x - rr, y - rr, 2 * rr, 2 * rr);
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
}

/** The focused neuron's maps enlarged beside it: its activation map and (when computed) its cost-gradient
 * map side by side. Returns where they are drawn ({x, y, w, h} in layout units), or null. */
export function drawEnlarged(ctx, layout, pictures, extent, shown, focus) {
  if (!pictures || !focus || focus.layer < 1) return null;
  const a0 = shown?.activations?.[0];
  const point = a0 && a0.length === 2 ? a0 : null;
  const layer = layout.layers[focus.layer];
  const slot = layer?.slotOf[focus.index];
  const tile = pictures.tile(focus.layer, focus.index);
  if (slot == null || slot < 0 || !tile) return null;
  // [atlas, titles, notes]: the longest that fits under the square is written
  const maps = [[pictures.atlas, ["activation a", "a"], ["white line: z = 0", "line: z = 0", "z = 0"]]];
  if (pictures.gradAtlas) maps.push([pictures.gradAtlas, ["−∂C₀/∂a"], ["blue: raising a helps", "blue: raise a", "blue: a ↑"]]);
  const gap = 8;
  // Both squares beside the node, smaller when the view is narrow; on the side the hover tooltip leaves
  // free (it goes right of the node when it fits there) when that side has room, else the roomier one.
  const roomLeft = layer.x - layer.r - 14;
  const roomRight = layout.width - (layer.x + layer.r) - 14;
  const tooltipRight = layer.x + layer.r + 14 + TOOLTIP_WIDTH <= layout.width;
  const fits = (room) => (room - gap * (maps.length - 1)) / maps.length >= 56;
  const onLeft = tooltipRight ? fits(roomLeft) || roomLeft > roomRight : !fits(roomRight) && roomLeft > roomRight;
  let side = Math.min(140, Math.max(90, layout.availH * 0.4));
  side = Math.max(56, Math.min(side, ((onLeft ? roomLeft : roomRight) - gap * (maps.length - 1)) / maps.length));
  const width = maps.length * side + (maps.length - 1) * gap;
  const left = onLeft ? Math.max(4, layer.x - layer.r - 10 - width) : Math.min(layer.x + layer.r + 10, layout.width - 4 - width);
  const top = Math.max(layout.top, Math.min(layout.top + layout.availH - side - 28, layer.ys[slot] - side / 2));
  ctx.fillStyle = rgba(BG, 1);
  ctx.fillRect(left - 3, top - 3, width + 6, side + 32);
  maps.forEach(([atlas, title, note], i) => {
    const x = left + i * (side + gap);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(atlas, tile[0], tile[1], pictures.size, pictures.size, x, top, side, side);
    ctx.imageSmoothingEnabled = true;
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(x - 0.5, top - 0.5, side + 1, side + 1);
    if (point) {
      const [px, py] = mapPoint(pictures, extent, x, top, side, point[0], point[1]);
      ctx.fillStyle = ACCENT;
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, Math.PI * 2);
      ctx.fill();
    }
    const fit = (texts) => texts.find((t) => ctx.measureText(t).width <= side) ?? texts[texts.length - 1];
    ctx.font = `600 10.5px ${FONT}`;
    ctx.fillStyle = rgba(INK, 0.9);
    ctx.fillText(fit(title), x, top + side + 12);
    ctx.font = `10px ${FONT}`;
    ctx.fillStyle = rgba(INK, 0.72);
    ctx.fillText(fit(note), x, top + side + 25);
  });
  return { x: left - 3, y: top - 3, w: width + 6, h: side + 32 };
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
