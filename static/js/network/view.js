// The network view: the input image, every layer's neurons (brightness = activation), the first
// layer's "what it looks for" heat-maps, and the connections (weights or gradient nudges).
// Drawn only when something changed, from the single animation loop in main.js, on two canvases: the
// connections between hidden layers (thousands of lines, which change only with the weights) on one
// behind, redrawn when the weights change (at most every BACK_MS); everything that follows the shown
// example on the one in front, redrawn with each frame.

import { ACCENT, BG, INK, NEG, POS, divergingPixels, grayPixels, maxAbs, rgba } from "../lib/colors.js";
import { fitCanvas, observeSize } from "../lib/dom.js";
import { argmax } from "../lib/math.js";
import { drawCaptions, drawOutputLabels } from "./labels.js";
import { computeLayout, computePlaneLayout, hitTest, mostShown, positionOf } from "./layout.js";
import { LinkBatch, addHiddenLinks, addInputLinks, influentialNeurons, linkSource } from "./links.js";
import { addPlaneInputLinks, drawEnlarged, drawNodeMaps, drawPlaneInput, drawWeightLabels } from "./plane-nodes.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const SUBSET_REFRESH_MS = 2000;
const BACK_MS = 250; // the hidden layers' connections are redrawn at most this often for new weights

export class NetworkView {
  constructor(canvas, wrap, store) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.back = document.createElement("canvas"); // the hidden layers' connections, behind
    this.back.className = "network-links";
    this.back.setAttribute("aria-hidden", "true");
    this.back.style.pointerEvents = "none";
    canvas.before(this.back);
    this.backCtx = this.back.getContext("2d");
    this.backKey = "";
    this.backAt = -Infinity;
    this.backDim = 1;
    this.store = store;
    this.mode = "weights";
    this.hover = null; // {layer, index}
    this.pinned = null;
    this.overlay = null;
    this.overlayVersion = 0;
    this.cssW = 0;
    this.cssH = 0;
    this.zoom = 1; // presentation mode: text and lines ×zoom (the layout is computed in CSS px ÷ zoom)
    this.layout = null;
    this.layoutKey = "";
    this.subsetAt = 0;
    this.lastKey = "";
    this.links = new LinkBatch();
    this.inputCanvas = new OffscreenOrCanvas(28, 28);
    this.inputKey = "";
    this.heatCanvas = new OffscreenOrCanvas(28, 28);
    this.heatKey = "";
    this.strips = []; // per layer: the 1 × n image of a big layer's strip
    this.listeners = { hover: [], pin: [] };
    this.planeMaps = null; // on a plane dataset: each neuron's map ({active, extent, pictures()}, set by main.js)
    observeSize(wrap, (w, h) => {
      this.cssW = w;
      this.cssH = h;
    });
    canvas.addEventListener("pointermove", (e) => {
      this.keyboard = false;
      this.setHover(this.hitAt(e));
    });
    canvas.addEventListener("pointerleave", () => this.setHover(null));
    canvas.addEventListener("keydown", (e) => this.key(e));
    canvas.addEventListener("blur", () => this.keyboard && this.setHover(null));
    canvas.addEventListener("click", (e) => {
      const hit = this.hitAt(e);
      const same = hit && this.pinned && hit.layer === this.pinned.layer && hit.index === this.pinned.index;
      this.setPinned(!hit || same || hit.layer === 0 ? null : hit);
    });
  }

  on(event, fn) {
    this.listeners[event].push(fn);
  }

  // ----- public API (also the hooks the modes draw through, e.g. the walkthrough's overlay) ------
  setMode(mode) {
    this.mode = mode;
    this.invalidate();
  }

  /** Draw everything `zoom` times bigger (presentation mode: larger text, thicker lines). */
  setZoom(zoom) {
    if (zoom === this.zoom) return;
    this.zoom = zoom;
    this.layoutKey = "";
    this.invalidate();
  }

  /** Draw extra things on top: fn(ctx, {layout, store, shown, positionOf(l, j)}), or null to remove. */
  setOverlay(fn) {
    this.overlay = fn;
    this.invalidate();
  }

  /** The per-neuron maps of the plane (static/js/plane/paint.js), drawn inside the nodes. */
  setPlaneMaps(maps) {
    this.planeMaps = maps;
    this.invalidate();
  }

  invalidate() {
    this.overlayVersion++;
  }

  /** How many neurons of a big layer to ask the server for: a quarter more than the view shows (room for
   *  the choice of strongest neurons to shift between two refreshes), 8–512. On the plane every neuron's
   *  map is computed in the page from all the weights: all of them (512). */
  neuronsWanted() {
    if (this.store.ready && this.store.isPlane) return 512;
    const h = (this.cssH || window.innerHeight) / this.zoom;
    return Math.max(8, Math.min(512, Math.ceil(mostShown(h) * 1.25)));
  }

  /** Where the focused neuron's enlarged maps are drawn, in CSS pixels of the canvas (null: none). */
  enlargedBox() {
    const b = this.enlarged;
    if (!b || !this.layout) return null;
    const k = this.cssW / this.layout.width;
    return { x: b.x * k, y: b.y * k, w: b.w * k, h: b.h * k };
  }

  /** Where a neuron is drawn, in CSS pixels of the canvas (null when not drawn). */
  positionOf(l, index) {
    const p = positionOf(this.layout, l, index);
    if (!p) return null;
    const k = this.cssW / this.layout.width;
    return { x: p.x * k, y: p.y * k, r: p.r * k };
  }

  setPinned(target) {
    this.pinned = target;
    this.invalidate();
    for (const fn of this.listeners.pin) fn(target);
  }

  setHover(target) {
    const a = this.hover;
    if (a === target || (a && target && a.layer === target.layer && a.index === target.index)) return;
    this.hover = target;
    this.canvas.style.cursor = target && target.layer > 0 ? "pointer" : "default";
    for (const fn of this.listeners.hover) fn(target);
  }

  /** Keyboard: arrows walk the neurons (↑↓ within a layer, ←→ between layers), Enter pins, Esc unpins. */
  key(e) {
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    if (!this.layout) return;
    if (e.key in moves) {
      e.preventDefault();
      e.stopPropagation(); // → here moves the selection, it does not step the training
      const [dl, dj] = moves[e.key];
      const L = this.layout.layers.length - 1;
      const cur = this.hover && this.hover.layer > 0 ? this.hover : { layer: L, index: this.layout.layers[L].visible[0] };
      const l = Math.max(1, Math.min(L, cur.layer + (this.hover ? dl : 0)));
      const layer = this.layout.layers[l];
      const fromSlot = this.layout.layers[cur.layer].slotOf[cur.index];
      const ratio = (fromSlot + 0.5) / this.layout.layers[cur.layer].k;
      let slot = l === cur.layer ? fromSlot + (this.hover ? dj : 0) : Math.floor(ratio * layer.k);
      slot = Math.max(0, Math.min(layer.k - 1, slot));
      this.keyboard = true;
      this.setHover({ layer: l, index: layer.visible[slot] });
    } else if (e.key === "Enter" && this.hover && this.hover.layer > 0) {
      e.preventDefault();
      this.setPinned(this.hover);
    } else if (e.key === "Escape") {
      this.setPinned(null);
    }
  }

  hitAt(event) {
    if (!this.layout) return null;
    const rect = this.canvas.getBoundingClientRect();
    const k = rect.width ? this.layout.width / rect.width : 1; // screen → layout pixels (zoom, CSS zoom)
    return hitTest(this.layout, (event.clientX - rect.left) * k, (event.clientY - rect.top) * k);
  }

  // ----- drawing ------------------------------------------------------------------------------
  draw(now) {
    const store = this.store;
    if (!store.ready || this.cssW < 50 || this.cssH < 50) return false;
    const resized = fitCanvas(this.canvas, this.cssW, this.cssH);
    fitCanvas(this.back, this.cssW, this.cssH);
    const W = this.cssW / this.zoom;
    const H = this.cssH / this.zoom;
    this.updateLayout(now, resized, W, H);
    const focus = this.pinned || (this.hover && this.hover.layer > 0 ? this.hover : null);
    this.drawBack(now, W, H, focus ? 0.35 : 1);
    const hv = this.hover ? `${this.hover.layer}:${this.hover.index}` : "";
    const pv = this.pinned ? `${this.pinned.layer}:${this.pinned.index}` : "";
    const key = `${store.helloCount}|${store.exampleVersion}|${store.weightsVersion}|${this.mode}|${hv}|${pv}|${this.overlayVersion}|${this.canvas.width}x${this.canvas.height}|${this.layoutKey}`;
    if (key === this.lastKey) return false;
    this.lastKey = key;

    const ctx = this.ctx;
    const px = (this.canvas.width / this.cssW) * this.zoom; // backing pixels per drawing unit
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const layout = this.layout;
    const shown = store.shown();

    const plane = layout.plane ? this.planeMaps : null;
    this.enlarged = null; // where a hovered neuron's enlarged maps are drawn (the tooltip keeps off them)
    this.captionBoxes = drawCaptions(ctx, layout, this.store, W);
    // Connections: all of them (the hidden layers' behind, drawBack), dimmed when a neuron is in focus;
    // then the focused neuron's own.
    const dim = focus ? 0.35 : 1;
    if (layout.plane) addPlaneInputLinks(this.links, layout, store, this.mode);
    else addInputLinks(this.links, layout, store, shown, this.mode);
    this.links.draw(ctx, { alphaScale: dim });
    if (focus) this.drawFocusLinks(ctx, focus, shown);
    if (layout.plane) {
      drawPlaneInput(ctx, layout, shown, store.inputNames);
    } else {
      this.drawInput(ctx, layout, shown);
      this.drawHeatmaps(ctx, layout, focus);
    }
    for (let l = 1; l <= store.layers; l++) this.drawLayer(ctx, layout.layers[l], shown, l === store.layers);
    if (plane?.active) {
      // the cost-gradient maps when the view shows gradients, and beside the hovered neuron's activation map
      const gradients = this.mode === "gradients";
      const pictures = plane.pictures({ gradients: gradients || !!focus });
      drawNodeMaps(ctx, layout, store, pictures, plane.extent, shown, gradients);
      drawWeightLabels(ctx, layout, store, focus, this.mode);
      this.enlarged = drawEnlarged(ctx, layout, pictures, plane.extent, shown, focus);
    }
    this.drawHighlight(ctx, this.hover, ACCENT, 2);
    if (this.pinned) this.drawHighlight(ctx, this.pinned, "#ffffff", 2.5);
    if (this.overlay) {
      ctx.save();
      this.overlay(ctx, { layout, store, shown, positionOf: (l, j) => positionOf(layout, l, j) });
      ctx.restore();
    }
    return true;
  }

  /** The hidden layers' connections, on the canvas behind: redrawn when the weights (or the layout, the
   *  mode) changed, new weights at most every BACK_MS; dimmed as a whole (CSS opacity) while a neuron is in
   *  focus. */
  drawBack(now, W, H, dim) {
    const store = this.store;
    if (dim !== this.backDim) {
      this.backDim = dim;
      this.back.style.opacity = String(dim);
    }
    const shape = `${store.helloCount}|${this.mode}|${this.back.width}x${this.back.height}|${this.layoutKey}|${this.subsetAt}|${this.zoom}`;
    const key = `${shape}|${(store.layerVersion || []).slice(1).join(",")}|${store.summary ? "" : store.weightsVersion}`;
    if (key === this.backKey) return;
    if (this.backKey.startsWith(`${shape}|`) && now - this.backAt < BACK_MS) return; // only new weights: soon
    this.backKey = key;
    this.backAt = now;
    const ctx = this.backCtx;
    const px = (this.back.width / this.cssW) * this.zoom;
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.clearRect(0, 0, W, H);
    for (let l = 1; l < store.layers; l++) {
      addHiddenLinks(this.links, this.layout, store, l, this.mode);
      this.links.draw(ctx);
    }
  }

  updateLayout(now, resized, W, H) {
    const store = this.store;
    const sizesKey = `${store.helloCount}|${store.sizes.join(",")}|${store.inputNodes}|${W}x${H}|${this.zoom}`;
    const hasSubsets = this.layout && this.layout.layers.some((layer) => layer && layer.subset);
    const refresh = hasSubsets && now - this.subsetAt > SUBSET_REFRESH_MS;
    if (!resized && sizesKey === this.layoutKey && !refresh && this.layout) return;
    const pick = (l, k) => influentialNeurons(store, l, k);
    const labelWidth = this.classNameWidth();
    this.layout = store.inputNodes ? computePlaneLayout(store.sizes, W, H, pick, labelWidth) : computeLayout(store.sizes, W, H, pick, labelWidth);
    this.subsetAt = now;
    this.layoutKey = sizesKey;
    this.heatKey = "";
    this.lastKey = "";
  }

  /** The room the output's class names take (the bold name of the answer; 0 for the digits 0–9). */
  classNameWidth() {
    const names = this.store.classNames;
    if (!names || names.every((n, i) => n === String(i))) return 0;
    const ctx = this.ctx;
    ctx.save();
    ctx.font = `700 16px ${FONT}`;
    const w = Math.max(...names.map((n) => ctx.measureText(n).width));
    ctx.restore();
    return Math.ceil(w) + 8;
  }

  drawInput(ctx, layout, shown) {
    const { input } = layout;
    const pixels = shown?.activations?.[0];
    const key = `${this.store.exampleVersion}|${this.store.helloCount}`;
    if (pixels && key !== this.inputKey) {
      const image = this.inputCanvas.ctx.createImageData(28, 28);
      grayPixels(pixels, image.data, 784);
      this.inputCanvas.ctx.putImageData(image, 0, 0);
      this.inputKey = key;
    }
    ctx.fillStyle = rgba(BG, 1);
    ctx.fillRect(input.x, input.y, input.size, input.size);
    if (pixels) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.inputCanvas.canvas, input.x, input.y, input.size, input.size);
      ctx.imageSmoothingEnabled = true;
    } else {
      ctx.fillStyle = rgba(INK, 0.6);
      ctx.font = `12px ${FONT}`;
      ctx.textAlign = "center";
      ctx.fillText("no image yet", input.x + input.size / 2, input.y + input.size / 2 + 4);
      ctx.textAlign = "left";
    }
    ctx.strokeStyle = rgba(INK, 0.25);
    ctx.lineWidth = 1;
    ctx.strokeRect(input.x - 0.5, input.y - 0.5, input.size + 1, input.size + 1);
  }

  drawHeatmaps(ctx, layout, focus) {
    const layer = layout.layers[1];
    if (!layer?.heat) return;
    const store = this.store;
    const source = linkSource(store, 0, this.mode) || linkSource(store, 0, "weights");
    const { size, xs } = layer.heat;
    const key = `${store.helloCount}|${store.firstLayerVersion}|${this.mode}|${this.layoutKey}|${this.subsetAt}`;
    if (source && key !== this.heatKey) {
      const nIn = store.sizes[0];
      const atlas = this.heatCanvas;
      atlas.resize(28 * layer.k, 28);
      const image = atlas.ctx.createImageData(28 * layer.k, 28);
      const tile = new Uint8ClampedArray(784 * 4);
      for (let slot = 0; slot < layer.k; slot++) {
        const row = layer.visible[slot] * nIn;
        const values = source.data.subarray(row, row + nIn);
        divergingPixels(values, (maxAbs(values) || 1) * source.sign, tile, 0, 784);
        for (let y = 0; y < 28; y++) image.data.set(tile.subarray(y * 112, y * 112 + 112), (y * 28 * layer.k + slot * 28) * 4);
      }
      atlas.ctx.putImageData(image, 0, 0);
      this.heatKey = key;
    }
    ctx.imageSmoothingEnabled = size > 40;
    for (let slot = 0; slot < layer.k; slot++) {
      const x = xs[slot];
      const y = layer.ys[slot] - size / 2;
      // leader line from the heat-map to its neuron
      ctx.strokeStyle = rgba(INK, 0.14);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x + size, layer.ys[slot]);
      ctx.lineTo(layer.x - layer.r, layer.ys[slot]);
      ctx.stroke();
      ctx.drawImage(this.heatCanvas.canvas, slot * 28, 0, 28, 28, x, y, size, size);
      const focused = focus && focus.layer === 1 && focus.index === layer.visible[slot];
      ctx.strokeStyle = focused ? ACCENT : rgba(INK, 0.16);
      ctx.lineWidth = focused ? 2 : 1;
      ctx.strokeRect(x - 0.5, y - 0.5, size + 1, size + 1);
    }
    ctx.imageSmoothingEnabled = true;
  }

  drawLayer(ctx, layer, shown, isOutput) {
    const l = layer.l;
    const a = shown?.activations?.[l];
    const store = this.store;
    const act = isOutput ? store.config.output_activation : store.config.activation;
    const unbounded = act === "relu" || act === "leaky_relu";
    const scale = a && unbounded ? Math.max(1, maxAbs(a)) : 1;
    const nb = this.mode === "gradients" ? store.nablaB[l - 1] : null;
    const nbMax = nb ? maxAbs(nb) || 1 : 1;
    if (layer.strip && a) this.drawStrip(ctx, layer, a, scale);
    const winner = isOutput && a ? argmax(a) : -1;
    for (let slot = 0; slot < layer.k; slot++) {
      const j = layer.visible[slot];
      const v = a ? a[j] / scale : 0;
      const y = layer.ys[slot];
      const t = Math.min(1, Math.abs(v));
      const c = v >= 0 ? INK : NEG;
      ctx.beginPath();
      ctx.arc(layer.x, y, layer.r, 0, Math.PI * 2);
      ctx.fillStyle = `rgb(${Math.round(27 + (c[0] - 27) * t)},${Math.round(34 + (c[1] - 34) * t)},${Math.round(48 + (c[2] - 48) * t)})`;
      ctx.fill();
      if (nb) {
        const g = -nb[j];
        ctx.strokeStyle = rgba(g >= 0 ? POS : NEG, 0.95);
        ctx.lineWidth = 0.75 + 3 * Math.min(1, Math.abs(g) / nbMax);
      } else {
        ctx.strokeStyle = j === winner ? ACCENT : rgba(INK, 0.32);
        ctx.lineWidth = j === winner ? 2.5 : 1;
      }
      ctx.stroke();
    }
    if (isOutput) this.outputLabels = drawOutputLabels(ctx, layer, a, winner, shown, this.layout.width, store.classNames);
  }

  drawStrip(ctx, layer, a, scale) {
    // Compact column: every neuron of a big layer as one thin row, brightness = activation. Drawn as a
    // 1-pixel-wide image stretched over the strip: one drawImage, not a fillRect per neuron.
    const { x, w, y, h } = layer.strip;
    const n = layer.n;
    const surface = (this.strips[layer.l] ||= new OffscreenOrCanvas(1, n));
    surface.resize(1, n);
    if (!surface.image || surface.image.height !== n) surface.image = surface.ctx.createImageData(1, n);
    const data = surface.image.data;
    for (let j = 0; j < n; j++) {
      const v = Math.min(1, Math.abs(a[j] / scale));
      const c = a[j] >= 0 ? INK : NEG;
      data[4 * j] = c[0];
      data[4 * j + 1] = c[1];
      data[4 * j + 2] = c[2];
      data[4 * j + 3] = Math.round(255 * (0.08 + 0.92 * v));
    }
    surface.ctx.putImageData(surface.image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(surface.canvas, x, y, w, h);
    ctx.imageSmoothingEnabled = true;
  }

  drawFocusLinks(ctx, focus, shown) {
    const { layout, store } = this;
    const l = focus.layer;
    const target = positionOf(layout, l, focus.index);
    if (!target) return;
    const source = linkSource(store, l - 1, this.mode);
    if (!source) return;
    const nIn = store.sizes[l - 1];
    const row = focus.index * nIn;
    if (l === 1) {
      const a0 = shown?.activations?.[0];
      const layer = layout.layers[1];
      const slot = layer.slotOf[focus.index];
      const tx = layer.heat ? layer.heat.xs[slot] : target.x - target.r;
      const scores = new Float32Array(nIn);
      for (let k = 0; k < nIn; k++) scores[k] = source.sign * source.data[row + k] * (this.mode === "weights" && a0 ? a0[k] : 1);
      const order = Array.from(scores.keys()).sort((p, q) => Math.abs(scores[q]) - Math.abs(scores[p])).slice(0, 40);
      for (const k of order) {
        const p = positionOf(layout, 0, k);
        if (scores[k] !== 0) this.links.add(p.x, p.y, tx, target.y, scores[k]);
      }
    } else {
      const from = layout.layers[l - 1];
      for (let s = 0; s < from.k; s++) {
        const i = from.visible[s];
        const x1 = from.strip ? from.strip.x + from.strip.w + 1 : from.x + from.r + 1;
        this.links.add(x1, from.ys[s], target.x - target.r - 1, target.y, source.sign * source.data[row + i]);
      }
    }
    this.links.draw(ctx, { widthScale: 1.25, alphaScale: 1.5 });
  }

  drawHighlight(ctx, target, color, width) {
    if (!target) return;
    const p = positionOf(this.layout, target.layer, target.index);
    if (!p) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    if (target.layer === 0) {
      const c = this.layout.input.cell;
      ctx.strokeRect(p.x - c / 2, p.y - c / 2, c, c);
      return;
    }
    ctx.beginPath();
    ctx.arc(p.x, p.y, p.r + 3, 0, Math.PI * 2);
    ctx.stroke();
  }
}

/** A small off-screen drawing surface (OffscreenCanvas where available). */
class OffscreenOrCanvas {
  constructor(w, h) {
    this.canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(w, h) : document.createElement("canvas");
    this.canvas.width = w;
    this.canvas.height = h;
    this.ctx = this.canvas.getContext("2d");
  }

  resize(w, h) {
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
  }
}
