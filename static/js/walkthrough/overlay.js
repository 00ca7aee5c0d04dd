// What the walkthrough draws ON the network view (through networkView.setOverlay): the base drawing is
// veiled, then this step's story is drawn with the walkthrough example's own numbers — lit layers,
// connections coloured by their term or nudge (hue = direction, width = size), rings for the wished-for
// changes, the selected neuron, and the 28×28 nudge maps in the first layer's heat-map slots. On the
// plane the inputs are the two nodes x₁, x₂ (their wish −∂C₀/∂x as rings) and the outputs carry the
// dataset's class names.

import { ACCENT, INK, NEG, POS, rgba } from "../lib/colors.js";
import { fmtMath } from "../lib/format.js";
import { drawDigitColumn } from "../network/labels.js";
import { LinkBatch } from "../network/links.js";
import { inputLabels } from "../network/plane-nodes.js";
import { layerData } from "./steps.js";
import { TileAtlas, gridOf } from "./tiles.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const PANEL = [17, 22, 32];
const DARK = [27, 34, 48];
const GOLD = [255, 209, 102];
const TOP = 38; // keep the column captions of the base drawing

/** The centre of input k in the view's input box (a square image, or a row across the box's middle), or
 * of its node when the inputs are nodes (the plane's x₁ and x₂, the simple example's x), and the size
 * of its cell. */
function inputXY(layout, k) {
  const { input } = layout;
  if (layout.plane) return [input.nodeX, input.nodeYs[k] ?? input.nodeYs[0], input.r];
  const g = gridOf(layout.sizes[0]);
  const cell = input.size / g.w;
  return g.h > 1
    ? [input.x + ((k % g.w) + 0.5) * cell, input.y + (Math.floor(k / g.w) + 0.5) * cell, cell]
    : [input.x + (k + 0.5) * cell, input.y + input.size / 2, cell];
}

export class WalkthroughOverlay {
  constructor() {
    this.state = null;
    this.links = new LinkBatch();
    this.tiles = new TileAtlas();
    this.image = new TileAtlas();
  }

  /** state: {bd, version, step, sel, params} — params: the mini-batch table's parameters. */
  set(state) {
    this.state = state;
  }

  paint(ctx, { layout, store }) {
    const s = this.state;
    if (!s?.bd || !layout) return;
    const { bd, step, sel } = s;
    const L = bd.layers.length;
    if (layout.layers.length - 1 !== L || layout.layers.some((layer, l) => layer && layer.n !== bd.layers[l - 1].a.length)) return;
    ctx.fillStyle = rgba(PANEL, 0.9);
    ctx.fillRect(0, TOP, layout.width, layout.height - TOP);
    const kind = step.kind;
    const lit = kind === "forward" ? step.l : L;

    if (!layout.plane) this.drawInput(ctx, layout, s, kind === "pixels");
    this.drawTiles(ctx, layout, s, lit);
    // connections for this step
    switch (kind) {
      case "forward":
        this.forwardLinks(ctx, layout, bd, step.l, sel[step.l]);
        break;
      case "output":
      case "chain":
        this.nudgeLinks(ctx, layout, bd, L, sel[L]);
        break;
      case "dCda":
        this.pathLinks(ctx, layout, bd, step.l, sel[step.l]);
        break;
      case "hidden":
        this.nudgeLinks(ctx, layout, bd, step.l, sel[step.l]);
        break;
      case "pixels":
        this.pixelPaths(ctx, layout, bd);
        break;
      default:
        break;
    }
    if (layout.plane) this.drawPlaneInputs(ctx, layout, s, kind === "pixels", store?.inputNames); // over the links' ends
    for (let l = 1; l <= L; l++) this.drawNeurons(ctx, layout, bd, l, l <= lit);
    this.drawRings(ctx, layout, bd, step, L);
    if (kind === "batch" || kind === "step") this.drawParams(ctx, layout, s.params || []);
    this.drawOutputLabels(ctx, layout, bd, step, lit === L, store?.classNames);
    const focusLayer = kind === "pixels" ? 1 : step.l;
    if (kind !== "batch" && kind !== "step" && focusLayer >= 1) this.drawFocus(ctx, layout, focusLayer, sel[focusLayer], this.callout(bd, step, sel));
  }

  // ----- pieces ------------------------------------------------------------------------------------
  drawInput(ctx, layout, s, wish) {
    const { input } = layout;
    const values = wish ? s.bd.input_dC_da.map((v) => -v) : s.bd.input;
    this.image.build(`${s.version}|${wish}`, [values], { gray: !wish });
    this.image.draw(ctx, 0, input.x, input.y, input.size);
    ctx.strokeStyle = wish ? rgba(GOLD, 0.8) : rgba(INK, 0.3);
    ctx.lineWidth = wish ? 1.5 : 1;
    ctx.strokeRect(input.x - 0.5, input.y - 0.5, input.size + 1, input.size + 1);
    if (wish) {
      ctx.font = `600 11px ${FONT}`;
      ctx.fillStyle = rgba(GOLD, 0.95);
      ctx.fillText("the pixels' wish −∂C₀/∂a⁽⁰⁾", input.x, input.y + input.size + 16);
    }
  }

  /** Inputs drawn as nodes (the plane's x₁ and x₂, the simple example's x), each with its value; in the
   * last backward step their wish −∂C₀/∂x as rings (blue: a larger input would lower C₀). */
  drawPlaneInputs(ctx, layout, s, wish, names) {
    const { input } = layout;
    const values = s.bd.input;
    const wishes = s.bd.input_dC_da.map((v) => -v);
    const max = Math.max(...wishes.map(Math.abs)) || 1;
    const n = input.nodeYs.length;
    const labels = inputLabels(names, n);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    labels.forEach((name, k) => {
      const y = input.nodeYs[k];
      ctx.beginPath();
      ctx.arc(input.nodeX, y, input.r, 0, Math.PI * 2);
      ctx.fillStyle = rgba(DARK, 1);
      ctx.fill();
      ctx.strokeStyle = rgba(INK, 0.45);
      ctx.lineWidth = 1.2;
      ctx.stroke();
      if (wish && Math.abs(wishes[k]) / max > 0.015) {
        ctx.beginPath();
        ctx.arc(input.nodeX, y, input.r + 2.5, 0, Math.PI * 2);
        ctx.strokeStyle = rgba(wishes[k] >= 0 ? POS : NEG, 0.95);
        ctx.lineWidth = 1 + 3.5 * Math.sqrt(Math.abs(wishes[k]) / max);
        ctx.stroke();
      }
      ctx.font = `600 ${Math.round(input.r * 0.9)}px ${FONT}`;
      ctx.fillStyle = rgba(INK, 0.95);
      ctx.fillText(name, input.nodeX, y);
      ctx.font = `11px ${FONT}`;
      ctx.fillStyle = wish ? rgba(GOLD, 0.95) : rgba(INK, 0.75);
      const text = wish ? fmtMath(wishes[k], 2) : fmtMath(values[k], 3);
      ctx.fillText(text, input.nodeX, y + (k === 0 && n > 1 ? -input.r - 9 : input.r + 10));
    });
    if (wish) {
      ctx.textAlign = "left";
      ctx.font = `600 11px ${FONT}`;
      ctx.fillStyle = rgba(GOLD, 0.95);
      ctx.fillText("−∂C₀/∂x", Math.max(2, input.nodeX - input.r), input.nodeYs[n - 1] + input.r + 26);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
  }

  /** The first layer's slots: incoming weights (forward) or nudge maps −∂C₀/∂w (backward, first layer). */
  drawTiles(ctx, layout, s, lit) {
    const layer = layout.layers[1];
    if (!layer?.heat) return;
    const { bd, step } = s;
    const nudges = step.kind === "pixels" || (step.kind === "hidden" && step.l === 1) || (step.kind === "output" && bd.layers.length === 1);
    const first = bd.layers[0];
    const rows = [];
    for (let slot = 0; slot < layer.k; slot++) {
      const j = layer.visible[slot];
      rows.push(nudges ? first.nabla_w[j].map((v) => -v) : first.w[j]);
    }
    // Each map in its own scale (the pattern stays visible), faded by its size next to the largest
    // map so that a neuron that barely wants to change shows a faint map.
    const maxes = rows.map((row) => row.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    const top = Math.max(...maxes) || 1;
    this.tiles.build(`${s.version}|${nudges}|${layer.visible.join(",")}`, rows, { scales: maxes.map((m) => m || 1) });
    const { size, xs } = layer.heat;
    const alpha = nudges || (step.kind === "forward" && step.l === 1) ? 1 : 0.45;
    for (let slot = 0; slot < layer.k; slot++) {
      const x = xs[slot];
      const y = layer.ys[slot] - size / 2;
      ctx.globalAlpha = nudges ? 0.2 + 0.8 * Math.max(0, 1 + Math.log10(maxes[slot] / top) / 4) : alpha;
      this.tiles.draw(ctx, slot, x, y, size);
      ctx.strokeStyle = nudges ? rgba(GOLD, 0.35) : rgba(INK, 0.18);
      ctx.lineWidth = 1;
      ctx.strokeRect(x - 0.5, y - 0.5, size + 1, size + 1);
    }
    ctx.globalAlpha = 1;
  }

  drawNeurons(ctx, layout, bd, l, isLit) {
    const layer = layout.layers[l];
    const a = bd.layers[l - 1].a;
    const scale = Math.max(1, ...a.map(Math.abs));
    for (let slot = 0; slot < layer.k; slot++) {
      const j = layer.visible[slot];
      const v = isLit ? a[j] / scale : 0;
      const t = Math.min(1, Math.abs(v));
      const c = v >= 0 ? INK : NEG;
      ctx.beginPath();
      ctx.arc(layer.x, layer.ys[slot], layer.r, 0, Math.PI * 2);
      ctx.fillStyle = `rgb(${Math.round(DARK[0] + (c[0] - DARK[0]) * t)},${Math.round(DARK[1] + (c[1] - DARK[1]) * t)},${Math.round(DARK[2] + (c[2] - DARK[2]) * t)})`;
      ctx.fill();
      ctx.strokeStyle = rgba(INK, isLit ? 0.35 : 0.14);
      ctx.lineWidth = 1;
      ctx.stroke();
    }
  }

  /** Rings: each neuron's wished-for change (blue: up, orange: down), thickness = size. */
  drawRings(ctx, layout, bd, step, L) {
    const rings = [];
    const out = bd.layers[L - 1];
    if (step.kind === "cost") rings.push([L, out.a.map((a, j) => bd.target[j] - a), 1]);
    if (step.kind === "output" || step.kind === "chain") rings.push([L, out.delta.map((d) => -d), 1]);
    if (step.kind === "dCda") {
      rings.push([step.l, bd.layers[step.l - 1].dC_da.map((d) => -d), 1]);
      rings.push([step.l + 1, bd.layers[step.l].delta.map((d) => -d), 0.55]);
    }
    if (step.kind === "hidden" || step.kind === "pixels") {
      const l = step.kind === "pixels" ? 1 : step.l;
      rings.push([l, bd.layers[l - 1].delta.map((d) => -d), 1]);
    }
    for (const [l, values, alpha] of rings) {
      const layer = layout.layers[l];
      const max = Math.max(...values.map(Math.abs)) || 1;
      for (let slot = 0; slot < layer.k; slot++) {
        const v = values[layer.visible[slot]];
        const t = Math.abs(v) / max;
        if (t < 0.015) continue;
        ctx.beginPath();
        ctx.arc(layer.x, layer.ys[slot], layer.r + 2.5, 0, Math.PI * 2);
        ctx.strokeStyle = rgba(v >= 0 ? POS : NEG, 0.95 * alpha);
        ctx.lineWidth = 1 + 3.5 * Math.sqrt(t);
        ctx.stroke();
      }
    }
  }

  /** Forward: every connection into layer l coloured by its term w·a (faint), the selected neuron's bright. */
  forwardLinks(ctx, layout, bd, l, j) {
    const data = bd.layers[l - 1];
    const aPrev = layerData(bd, l - 1).a;
    if (l === 1) {
      this.pixelLinks(layout, 1, j, (k) => data.w[j][k] * aPrev[k], 48);
      this.links.draw(ctx, { widthScale: 1.1, alphaScale: 1.4 });
      return;
    }
    this.layerLinks(layout, l, (jj, k) => data.w[jj][k] * aPrev[k]);
    this.links.draw(ctx, { alphaScale: 0.35 });
    this.layerLinks(layout, l, (jj, k) => (jj === j ? data.w[jj][k] * aPrev[k] : 0), j);
    this.links.draw(ctx, { widthScale: 1.5, alphaScale: 1.6 });
  }

  /** Backward: the weight nudges −∂C₀/∂w_jk = −a_k δ_j into layer l (first layer: from the pixels). */
  nudgeLinks(ctx, layout, bd, l, j) {
    const data = bd.layers[l - 1];
    if (l === 1) {
      this.pixelLinks(layout, 1, j, (k) => -data.nabla_w[j][k], 40);
      this.links.draw(ctx, { widthScale: 1.1, alphaScale: 1.4 });
      return;
    }
    this.layerLinks(layout, l, (jj, k) => -data.nabla_w[jj][k]);
    this.links.draw(ctx, { widthScale: 1.25, alphaScale: 1.35 });
  }

  /** Sum over paths: neuron k of layer l and its paths to layer l+1, each coloured by −w_jk δ_j. */
  pathLinks(ctx, layout, bd, l, k) {
    const next = bd.layers[l];
    this.layerLinks(layout, l + 1, (j, kk) => (kk === k ? -next.w[j][kk] * next.delta[j] : 0), null, k);
    this.links.draw(ctx, { widthScale: 1.6, alphaScale: 1.6 });
  }

  /** The pixel with the biggest wish and its paths to the first layer. */
  pixelPaths(ctx, layout, bd) {
    const first = bd.layers[0];
    let best = 0;
    bd.input_dC_da.forEach((v, i) => {
      if (Math.abs(v) > Math.abs(bd.input_dC_da[best])) best = i;
    });
    const layer = layout.layers[1];
    const [px, py, cell] = inputXY(layout, best);
    for (let slot = 0; slot < layer.k; slot++) {
      const j = layer.visible[slot];
      const tx = layer.heat ? layer.heat.xs[slot] : layer.x - layer.r;
      this.links.add(px, py, tx, layer.ys[slot], -first.w[j][best] * first.delta[j]);
    }
    this.links.draw(ctx, { widthScale: 1.3, alphaScale: 1.5 });
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2;
    if (layout.plane) {
      ctx.beginPath();
      ctx.arc(px, py, cell + 7, 0, Math.PI * 2);
      ctx.stroke();
    } else ctx.strokeRect(px - cell, py - cell, 2 * cell, 2 * cell);
  }

  /** Queue links from layer l−1 into layer l: value(j, k); `onlyJ`/`onlyK` restrict to one neuron. */
  layerLinks(layout, l, value, onlyJ = null, onlyK = null) {
    const from = layout.layers[l - 1];
    const to = layout.layers[l];
    const x1 = (from.strip ? from.strip.x + from.strip.w : from.x + from.r) + 1;
    for (let t = 0; t < to.k; t++) {
      const j = to.visible[t];
      if (onlyJ != null && j !== onlyJ) continue;
      for (let s = 0; s < from.k; s++) {
        const k = from.visible[s];
        if (onlyK != null && k !== onlyK) continue;
        const v = value(j, k);
        if (v) this.links.add(x1, from.ys[s], to.x - to.r - 1, to.ys[t], v);
      }
    }
  }

  /** The `count` strongest pixel → first-layer links of neuron j (to its heat-map slot). */
  pixelLinks(layout, l, j, value, count) {
    const layer = layout.layers[l];
    const slot = layer.slotOf[j];
    if (slot < 0) return;
    const scores = [];
    for (let k = 0; k < layout.sizes[0]; k++) scores.push([Math.abs(value(k)), k]);
    scores.sort((p, q) => q[0] - p[0]);
    const tx = layer.heat ? layer.heat.xs[slot] : layer.x - layer.r;
    for (const [score, k] of scores.slice(0, count)) {
      if (!score) break;
      const [x, y] = inputXY(layout, k);
      this.links.add(x, y, tx, layer.ys[slot], value(k));
    }
  }

  /** The mini-batch table's parameters: gold connections and rings, numbered like the table rows. */
  drawParams(ctx, layout, params) {
    ctx.font = `700 10.5px ${FONT}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    params.forEach((p, i) => {
      const to = layout.layers[p.layer + 1];
      const slot = to.slotOf[p.j];
      if (slot < 0) return;
      let tag;
      if (p.k == null) {
        ctx.beginPath();
        ctx.arc(to.x, to.ys[slot], to.r + 4, 0, Math.PI * 2);
        ctx.strokeStyle = rgba(GOLD, 0.95);
        ctx.lineWidth = 2.5;
        ctx.stroke();
        tag = [to.x - to.r - 13, to.ys[slot]]; // beside its neuron: above it would cover the next one up
      } else {
        let x1;
        let y1;
        if (p.layer === 0) {
          [x1, y1] = inputXY(layout, p.k);
        } else {
          const from = layout.layers[p.layer];
          const s = from.slotOf[p.k];
          if (s < 0) return;
          x1 = from.x + from.r + 1;
          y1 = from.ys[s];
        }
        const x2 = to.heat ? to.heat.xs[slot] : to.x - to.r - 1;
        const y2 = to.ys[slot];
        ctx.beginPath();
        ctx.moveTo(x1, y1);
        ctx.lineTo(x2, y2);
        ctx.strokeStyle = rgba(GOLD, 0.95);
        ctx.lineWidth = 2.5;
        ctx.stroke();
        tag = [x1 + (x2 - x1) * 0.55, y1 + (y2 - y1) * 0.55];
      }
      ctx.beginPath();
      ctx.arc(tag[0], tag[1], 8, 0, Math.PI * 2);
      ctx.fillStyle = rgba(GOLD, 1);
      ctx.fill();
      ctx.fillStyle = "#241a00";
      ctx.fillText(String(i + 1), tag[0], tag[1] + 0.5);
    });
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
  }

  drawOutputLabels(ctx, layout, bd, step, isLit, names = null) {
    const L = bd.layers.length;
    const a = bd.layers[L - 1].a;
    const digits = !names || names.every((n, i) => n === String(i));
    // the live view's labels under the veil would show through beside these (a longer bold name): cover them
    const out = layout.layers[L];
    ctx.fillStyle = rgba(PANEL, 1);
    ctx.fillRect(out.x + out.r + 5, TOP, layout.width - (out.x + out.r + 5), layout.height - TOP);
    this.labels = drawDigitColumn(ctx, layout.layers[L], { // (the boxes drawn: tests check they never collide)
      names: digits ? null : names,
      strong: isLit ? bd.prediction : null,
      text: isLit ? (j) => [fmtMath(a[j], 2), fmtMath(a[j], 1)] : null, // (one digit where two do not fit: a phone)
      label: bd.label,
      mark: step.kind === "forward" ? "◂ label" : "◂ y = 1",
      markAt: 50,
      width: layout.width,
    });
  }

  callout(bd, step, sel) {
    const l = step.kind === "pixels" ? 1 : step.l;
    const j = sel[l];
    const d = bd.layers[l - 1];
    switch (step.kind) {
      case "forward":
        return `z = ${fmtMath(d.z[j])}   a = ${fmtMath(d.a[j])}`;
      case "cost":
        return `a = ${fmtMath(d.a[j])}   y = ${bd.target[j]}`;
      case "dCda":
        return `∂C₀/∂a = ${fmtMath(d.dC_da[j])}`;
      case "chain":
        return `w⁽ᴸ⁾ = ${fmtMath(d.w[0][0])}   ∂C₀/∂w⁽ᴸ⁾ = ${fmtMath(d.nabla_w[0][0])}`;
      default:
        return `δ = ${fmtMath(d.delta[j])}`;
    }
  }

  /** The selected neuron: a gold ring and a tag with its numbers. */
  drawFocus(ctx, layout, l, j, text) {
    const layer = layout.layers[l];
    const slot = layer?.slotOf[j];
    if (slot == null || slot < 0) return;
    const x = layer.x;
    const y = layer.ys[slot];
    ctx.beginPath();
    ctx.arc(x, y, layer.r + 6.5, 0, Math.PI * 2);
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2;
    ctx.stroke();
    if (layer.heat && l === 1) {
      const hs = layer.heat.size;
      ctx.strokeRect(layer.heat.xs[slot] - 1.5, y - hs / 2 - 1.5, hs + 3, hs + 3);
    }
    ctx.font = `600 11.5px ${FONT}`;
    const w = ctx.measureText(text).width + 16;
    const h = 22;
    const isOutput = l === layout.layers.length - 1;
    let bx = isOutput ? x - layer.r - 12 - w : x + layer.r + 12;
    if (bx + w > layout.width - 4) bx = x - layer.r - 12 - w;
    let by = y - h - layer.r - 2;
    if (by < TOP + 2) by = y + layer.r + 6;
    if (by + h > layout.height - 2) { // a short view (one neuron per layer): beside the neuron instead
      by = y - h / 2;
      bx = x - layer.r - 12 - w;
    }
    ctx.fillStyle = "rgba(9,12,18,0.94)";
    ctx.strokeStyle = rgba(GOLD, 0.7);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.roundRect(bx, by, w, h, 6);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = ACCENT;
    ctx.textBaseline = "middle";
    ctx.fillText(text, bx + 8, by + h / 2 + 0.5);
    ctx.textBaseline = "alphabetic";
  }
}
