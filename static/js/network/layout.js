// Geometry of the network view: where the input image, every visible neuron and heat-map sit.
// Pure function of (sizes, canvas size, subsets), so it is computed only when one of those changes.

const MARGIN = { top: 40, bottom: 14, left: 14, right: 112 };
const MAX_HEAT = 46; // px, the largest "what it looks for" heat-map
const HIDDEN_SPACING = 9; // px per neuron, at the least, in a layer after the first

function clamp(x, lo, hi) {
  return Math.max(lo, Math.min(hi, x));
}

/** The most neurons of one layer a view of `height` px (drawing units) shows: what to ask the server for. */
export function mostShown(height) {
  return Math.max(2, Math.floor(Math.max(60, height - MARGIN.top - MARGIN.bottom) / HIDDEN_SPACING));
}

/** The right margin: the default, or wider when the output's class names need it (`labelWidth`: the
 * longest name in px; `r`: the output nodes' radius), never more than 42% of the view. */
function rightMargin(width, compact, labelWidth, r) {
  // (room right of the outputs for a digit and a short value, "3×10⁻⁵" as the walkthrough writes it)
  const right = compact ? clamp(width * 0.23, 80, MARGIN.right) : MARGIN.right;
  return Math.max(right, Math.min(width * 0.42, labelWidth + r + 14));
}

/** How many neurons of an `n`-neuron layer fit in `height` px, with `minSpacing` px each. */
function visibleCount(n, height, minSpacing) {
  return n * minSpacing <= height ? n : Math.max(2, Math.floor(height / minSpacing));
}

/**
 * @param {number[]} sizes  layer sizes, sizes[0] = 784
 * @param {number} width, height  CSS pixels
 * @param {(l: number, k: number) => Int32Array} pickSubset  which k of layer l's neurons to show
 * @param {number} labelWidth  px the longest output class name needs (0: digits, the default margin does)
 */
export function computeLayout(sizes, width, height, pickSubset, labelWidth = 0) {
  const L = sizes.length - 1;
  const top = MARGIN.top;
  const availH = Math.max(60, height - MARGIN.top - MARGIN.bottom);
  const layers = [null];
  // A narrow view (a phone, a pinned inspector beside it) shrinks the margins, the gap after the
  // image and the heat-maps before it lets two columns come closer than ~50 px.
  const compact = width < 560;
  const left = compact ? 8 : MARGIN.left;
  const right = rightMargin(width, compact, labelWidth, 13);

  // Input: the 28×28 image, a whole number of screen pixels per image pixel where possible.
  let size = Math.min(availH * 0.56, width * 0.19);
  size = size >= 84 ? Math.floor(size / 28) * 28 : Math.max(compact ? 42 : 56, Math.floor(size));
  const input = {
    x: left,
    y: Math.round(top + (availH - size) / 2),
    size,
    cell: size / 28,
  };

  // The layer fed by W0 (the first hidden layer, or the output if there is none) gets heat-maps.
  const n1 = sizes[1];
  const k1 = visibleCount(n1, availH, 9); // (a short view keeps every neuron, with smaller maps)
  let spacing1 = availH / k1;
  // One column of heat-maps when they can be big anyway, else two staggered columns (twice the size).
  const cols = spacing1 - 4 >= 34 || k1 === 1 ? 1 : 2;
  const maxBlock = compact ? width * 0.16 : Infinity;
  const hs = Math.max(8, Math.min(MAX_HEAT, cols === 1 ? spacing1 - 4 : 2 * spacing1 - 4, cols === 1 ? maxBlock : (maxBlock - 6) / 2));
  if (L === 1) spacing1 = Math.min(spacing1, 52);
  const heatBlock = cols * hs + (cols - 1) * 6;
  const inputRight = input.x + input.size;
  // With no hidden layer the output sits between the image and the right edge; else leave room for links.
  const minGap = compact ? 24 : 48;
  const gap = L === 1 ? Math.max(minGap, (width - right - inputRight - heatBlock) * 0.45) : clamp(width * 0.11, minGap, 170);
  const heatStart = inputRight + gap;
  const r1 = clamp(spacing1 * 0.3, 3, L === 1 ? 12 : 8);
  const x1 = heatStart + heatBlock + 10 + r1;
  const xLast = width - right;

  for (let l = 1; l <= L; l++) {
    const n = sizes[l];
    const isOutput = l === L;
    let k;
    let spacing;
    let r;
    if (l === 1) {
      k = k1;
      spacing = spacing1;
      r = r1;
    } else {
      k = visibleCount(n, availH, HIDDEN_SPACING);
      spacing = Math.min(availH / k, isOutput ? 46 : 40);
      r = clamp(spacing * 0.36, 2.5, isOutput ? (compact ? 10 : 13) : 11);
    }
    const x = L === 1 ? x1 : l === 1 ? x1 : x1 + ((xLast - x1) * (l - 1)) / (L - 1);
    const visible = k < n ? pickSubset(l, k) : Int32Array.from({ length: n }, (_, i) => i);
    const ys = new Float32Array(k);
    const y0 = top + (availH - k * spacing) / 2;
    for (let i = 0; i < k; i++) ys[i] = y0 + spacing * (i + 0.5);
    const slotOf = new Int32Array(n).fill(-1);
    visible.forEach((neuron, slot) => (slotOf[neuron] = slot));
    const layer = { l, n, k, x, r, spacing, ys, visible, slotOf, subset: k < n, heat: null, strip: null };
    if (l === 1) {
      const hx = new Float32Array(k);
      for (let i = 0; i < k; i++) hx[i] = heatStart + (cols === 2 ? (i % 2) * (hs + 6) : 0);
      layer.heat = { size: hs, xs: hx, cols, start: heatStart };
    }
    if (layer.subset) layer.strip = { x: x + r + 6, w: 5, y: top, h: availH };
    layers.push(layer);
  }
  return { width, height, top, availH, input, layers, compact, sizes: sizes.slice() };
}

/**
 * A network on the plane (2 inputs, small layers): the inputs x and y as two nodes, every layer a column
 * of big round nodes (each shows its own map of the plane), no heat-maps or strips unless a layer is too
 * tall (then a subset, as for images). The notes' simple example (1 input) is drawn the same way, its one
 * input x as one node.
 */
export function computePlaneLayout(sizes, width, height, pickSubset, labelWidth = 0) {
  const L = sizes.length - 1;
  const top = MARGIN.top;
  const availH = Math.max(60, height - MARGIN.top - MARGIN.bottom);
  const compact = width < 560;
  const left = compact ? 8 : MARGIN.left;
  const r0 = clamp(availH / 8, 9, 16);
  const right = rightMargin(width, compact, labelWidth, clamp(availH / Math.max(1, sizes[L]) * 0.45, 4, 24));
  const x0 = left + r0 + 2;
  const xLast = width - right;
  const colGap = (xLast - x0) / Math.max(1, L);
  const ys0 = sizes[0] === 1 ? [top + availH / 2] : [top + availH / 2 - 1.6 * r0, top + availH / 2 + 1.6 * r0];
  const input = { x: x0 - r0, y: ys0[0] - r0, size: 2 * r0, cell: 2 * r0, plane: true, nodeX: x0, nodeYs: ys0, r: r0 };
  const layers = [null];
  for (let l = 1; l <= L; l++) {
    const n = sizes[l];
    const k = visibleCount(n, availH, 14);
    const spacing = Math.min(availH / k, 96);
    const r = clamp(Math.min(spacing * 0.45, colGap * 0.3), 4, l === L ? 24 : 30);
    const x = x0 + colGap * l;
    const visible = k < n ? pickSubset(l, k) : Int32Array.from({ length: n }, (_, i) => i);
    const ys = new Float32Array(k);
    const y0 = top + (availH - k * spacing) / 2;
    for (let i = 0; i < k; i++) ys[i] = y0 + spacing * (i + 0.5);
    const slotOf = new Int32Array(n).fill(-1);
    visible.forEach((neuron, slot) => (slotOf[neuron] = slot));
    const layer = { l, n, k, x, r, spacing, ys, visible, slotOf, subset: k < n, heat: null, strip: null };
    if (layer.subset) layer.strip = { x: x + r + 6, w: 5, y: top, h: availH };
    layers.push(layer);
  }
  return { width, height, top, availH, input, layers, compact, plane: true, sizes: sizes.slice() };
}

/** The neuron under a point: {layer, index} (layer 0 = an input pixel), or null. */
export function hitTest(layout, px, py) {
  const { input } = layout;
  if (layout.plane) {
    for (let i = 0; i < input.nodeYs.length; i++) if (Math.hypot(px - input.nodeX, py - input.nodeYs[i]) <= input.r + 2) return { layer: 0, index: i };
  } else if (px >= input.x && px < input.x + input.size && py >= input.y && py < input.y + input.size) {
    const col = Math.floor((px - input.x) / input.cell);
    const row = Math.floor((py - input.y) / input.cell);
    return { layer: 0, index: row * 28 + col };
  }
  for (let l = 1; l < layout.layers.length; l++) {
    const layer = layout.layers[l];
    const reach = Math.max(layer.r, 7) + 3;
    let slot = -1;
    if (layer.heat && px >= layer.heat.start - 2 && px <= layer.x + reach) {
      // Over the heat-map block or the circles: pick by heat-map rectangle first, then by row.
      const hs = layer.heat.size;
      for (let i = 0; i < layer.k; i++) {
        const hx = layer.heat.xs[i];
        if (px >= hx && px <= hx + hs && Math.abs(py - layer.ys[i]) <= hs / 2) {
          slot = i;
          break;
        }
      }
      if (slot < 0 && Math.abs(px - layer.x) <= reach) slot = nearestSlot(layer, py);
    } else if (Math.abs(px - layer.x) <= reach) {
      slot = nearestSlot(layer, py);
    }
    if (slot >= 0) return { layer: l, index: layer.visible[slot] };
  }
  return null;
}

function nearestSlot(layer, py) {
  let best = -1;
  let bestD = Math.max(layer.spacing / 2, layer.r + 2);
  for (let i = 0; i < layer.k; i++) {
    const d = Math.abs(py - layer.ys[i]);
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Screen position of a neuron, or null when it is not drawn (a subset is shown). */
export function positionOf(layout, l, index) {
  if (!layout) return null;
  if (l === 0) {
    const { input } = layout;
    if (layout.plane) return index < input.nodeYs.length ? { x: input.nodeX, y: input.nodeYs[index], r: input.r } : null;
    const row = Math.floor(index / 28);
    const col = index % 28;
    return { x: input.x + (col + 0.5) * input.cell, y: input.y + (row + 0.5) * input.cell, r: input.cell / 2 };
  }
  const layer = layout.layers[l];
  if (!layer) return null;
  const slot = layer.slotOf[index];
  if (slot < 0) return null;
  return { x: layer.x, y: layer.ys[slot], r: layer.r };
}
