// The Descent view (issue 14), a mode beside live training and the walkthrough: the cost along −∇C
// with η marked, a slice of the cost surface with the path the network took (heat map, contours, −∇C,
// each path point's own cost beside the slice's; rotatable 3-D), and gradient descent against SGD from
// one start. Training goes on.

import { el, fitCanvas, observeSize, setText } from "../lib/dom.js";
import { fmtGrouped, fmtNum, fmtPct, fmtSigned } from "../lib/format.js";
import { readNumber } from "../lib/number-input.js";
import * as api from "./api.js";
import { drawLine } from "./line.js";
import { drawRunnerCosts, drawRunnerPaths, runnerLabel } from "./runners.js";
import { describePath, describePoint, drawPathCosts, drawSlice, nearestPathPoint, pathCostsGeometry } from "./slice.js";
import { drawSurface3d, rotatable } from "./surface3d.js";

const LINE_MS = 1000;
const RESOLUTION = 41;
const PLANE_NAMES = { pca: "PCA plane of the path", random: "random filter-normalised plane", weights: "two weights" };
const LAYER_TITLE = "l: which weight matrix W⁽ˡ⁾, as the walkthrough numbers them — W⁽¹⁾ feeds hidden 1, W⁽ᴸ⁾ the output";

function card(title, testid, ...children) {
  return el("section", { class: "dc-card", "data-testid": testid }, el("h3", {}, title), ...children);
}

function canvasIn(wrapClass, testid, label, onResize) {
  const canvas = el("canvas", { "data-testid": testid, "aria-label": label, tabindex: "0" });
  const wrap = el("div", { class: `dc-canvas ${wrapClass}` }, canvas);
  const box = { canvas, wrap, w: 0, h: 0 };
  observeSize(wrap, (w, h) => {
    box.w = w;
    box.h = h;
    box.dirty = true;
    onResize?.();
  });
  return box;
}

/** A 2-D context for `box`, cleared, in CSS pixels; null while the box is too small to draw in. */
function context(box, minW = 50, minH = 40) {
  const { canvas, w, h } = box;
  if (w < minW || h < minH) return null;
  fitCanvas(canvas, w, h);
  const ctx = canvas.getContext("2d");
  const px = canvas.width / w;
  ctx.setTransform(px, 0, 0, px, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

export class DescentView {
  constructor({ root, store, toasts }) {
    this.root = root;
    this.store = store;
    this.toasts = toasts;
    this.active = false;
    this.lineData = null;
    this.surf = null; // {plane, alphas, betas, costs, path, gradient, explained, exact_path, center_cost, partial}
    this.selected = null; // the path point shown in the tooltip and beside the slice
    this.pinned = false; // a tap or click keeps it; hovering elsewhere moves it
    this.runs = null;
    this.lineAt = 0;
    this.lineBusy = false;
    this.view = { yaw: -0.7, pitch: 0.9 };
    this.build();
  }

  build() {
    this.line = canvasIn("dc-line", "descent-line", "The cost along the negative gradient, with the learning rate marked.");
    this.lineCaption = el("p", { class: "dc-caption", "data-testid": "descent-line-caption" }, "…");
    this.heat = canvasIn("dc-heat", "descent-heat", "A slice of the cost surface: heat map, contours, the path (each dot coloured by the cost it really had) and −∇C.");
    this.tip = el("div", { class: "dc-tip", "data-testid": "descent-tip", hidden: true });
    this.heat.wrap.append(this.tip);
    this.pathCosts = canvasIn("dc-path-costs", "descent-path-costs", "Along the path: each point's own cost and the slice's cost under it.");
    this.pointText = el("p", { class: "dc-caption dc-point", "data-testid": "descent-path-point", "aria-live": "polite" }, "");
    this.surfCaption = el("p", { class: "dc-caption", "data-testid": "descent-surface-caption" }, "…");
    this.plane = el("select", { "data-testid": "descent-plane", "aria-label": "plane", title: "Which plane through the current weights to slice the cost on." },
      el("option", { value: "pca" }, "PCA of the path"), el("option", { value: "random" }, "random (filter-normalised)"), el("option", { value: "weights" }, "two weights"));
    this.span = el("select", { "data-testid": "descent-span", "aria-label": "extent", title: "How far the slice reaches from the current weights (in the plane's units). It always holds the whole path; auto fits it (a random plane: ±1)." },
      el("option", { value: "" }, "auto: fit the path"), ...[0.25, 0.5, 1, 2, 4, 10].map((s) => el("option", { value: String(s) }, `at least ±${s}`)));
    this.wInputs = el("span", { class: "dc-weights", hidden: true },
      "w⁽", el("input", { name: "l1", type: "number", value: "1", min: "1", title: LAYER_TITLE, "aria-label": "first weight: matrix W⁽ˡ⁾, l" }), "⁾",
      el("input", { name: "j1", type: "number", value: "0", min: "0", title: "j: the neuron it feeds, in layer l", "aria-label": "first weight: neuron j" }),
      el("input", { name: "k1", type: "number", value: "406", min: "0", title: "k: the neuron (or pixel) of the layer before", "aria-label": "first weight: input k" }),
      " & w⁽", el("input", { name: "l2", type: "number", value: "1", min: "1", title: LAYER_TITLE, "aria-label": "second weight: matrix W⁽ˡ⁾, l" }), "⁾",
      el("input", { name: "j2", type: "number", value: "1", min: "0", title: "j: the neuron it feeds, in layer l", "aria-label": "second weight: neuron j" }),
      el("input", { name: "k2", type: "number", value: "406", min: "0", title: "k: the neuron (or pixel) of the layer before", "aria-label": "second weight: input k" }));
    const redo = el("button", { type: "button", class: "chip", "data-testid": "descent-refresh", title: "Compute the slice again at the current weights." }, "↻ Recompute");
    for (const c of [this.plane, this.span]) c.addEventListener("change", () => this.loadSurface());
    this.wError = el("p", { class: "field-error", hidden: true, role: "alert", "data-testid": "descent-weights-error" });
    this.plane.addEventListener("change", () => {
      this.wInputs.hidden = this.plane.value !== "weights";
      if (this.wInputs.hidden) this.wError.hidden = true;
    });
    this.wInputs.addEventListener("change", () => this.loadSurface());
    redo.addEventListener("click", () => this.loadSurface());
    this.pointing();
    this.view3d = canvasIn("dc-3d", "descent-3d", "The same slice as a 3-D surface with the path: drag to rotate.");
    rotatable(this.view3d.canvas, this.view, () => this.draw3d());
    this.runPlane = canvasIn("dc-run", "descent-runners-plane", "Gradient descent and SGD runners on one PCA plane.");
    this.runExamples = canvasIn("dc-run", "descent-runners-examples", "Cost against examples seen.");
    this.runTime = canvasIn("dc-run", "descent-runners-time", "Cost against compute time.");
    this.runCaption = el("p", { class: "dc-caption", "data-testid": "descent-runners-caption" }, "Run gradient descent on the whole evaluation set and SGD at batch 1, 10 and 100 from one start, on copies: the live network is not touched.");
    this.runStart = el("select", { "aria-label": "start", title: "Start from the current weights or a freshly initialised network." }, el("option", { value: "current" }, "from the current weights"), el("option", { value: "fresh" }, "from a fresh start"));
    this.runSteps = el("select", { "aria-label": "steps", title: "How many steps each runner takes." }, ...[20, 50, 100, 200].map((s) => el("option", { value: String(s), selected: s === 50 }, `${s} steps`)));
    this.momentum = el("input", { type: "checkbox", "data-testid": "descent-momentum" });
    const momentumLabel = el("label", { class: "dc-check", title: "Add gradient descent with momentum 0.9 (v ← 0.9 v − η∇C, θ ← θ + v): beyond the lecture." },
      this.momentum, " + momentum (beyond the lecture)");
    const runButton = el("button", { type: "button", class: "primary", "data-testid": "descent-run", title: "Run the runners (a few seconds)." }, "Run GD vs SGD");
    runButton.addEventListener("click", () => this.loadRunners(runButton));

    this.root.append(
      el("div", { class: "dc-grid" },
        card("The cost along −∇C: C(θ − t∇C)", "descent-line-card", this.lineCaption, this.line.wrap),
        card("A slice of the cost surface, and the path the network took", "descent-surface-card",
          el("div", { class: "dc-tools" }, this.plane, this.span, this.wInputs, redo), this.wError, this.surfCaption,
          el("div", { class: "dc-slice-row" }, this.heat.wrap, el("div", { class: "dc-slice-side" }, this.pathCosts.wrap, this.pointText))),
        card("The slice in 3-D (drag to rotate)", "descent-3d-card", this.view3d.wrap),
        card("Gradient descent against SGD, from one start", "descent-runners-card",
          el("div", { class: "dc-tools" }, this.runStart, this.runSteps, momentumLabel, runButton), this.runCaption,
          el("div", { class: "dc-run-row" }, this.runPlane.wrap, this.runExamples.wrap, this.runTime.wrap))));
  }

  // ----- mode --------------------------------------------------------------------------------------
  enter() {
    this.active = true;
    this.lineAt = 0;
    const L = (this.store.sizes?.length || 2) - 1; // W⁽¹⁾ … W⁽ᴸ⁾
    for (const name of ["l1", "l2"]) {
      const input = this.wInputs.querySelector(`[name=${name}]`);
      input.max = String(L);
      if (+input.value > L) input.value = String(L);
    }
    this.loadSurface();
  }

  leave() {
    this.active = false;
  }

  tick(now) {
    if (!this.active) return;
    const running = this.store.state?.running;
    if (!this.lineBusy && (this.lineAt === 0 || (running && now - this.lineAt > LINE_MS) || this.store.state?.iteration !== this.lineData?.iteration && now - this.lineAt > LINE_MS)) {
      this.lineAt = now;
      this.loadLine();
    }
    const boxes = [[this.line, () => this.drawLine()], [this.heat, () => this.drawHeat()], [this.pathCosts, () => this.drawHeat()],
      [this.view3d, () => this.draw3d()], [this.runPlane, () => this.drawRunners()], [this.runExamples, () => this.drawRunners()],
      [this.runTime, () => this.drawRunners()]];
    for (const [box, fn] of boxes) {
      if (box.dirty) {
        box.dirty = false;
        fn();
      }
    }
  }

  // ----- the line ----------------------------------------------------------------------------------
  async loadLine() {
    this.lineBusy = true;
    try {
      const eta = this.store.params?.learning_rate ?? 1;
      const maxStep = Math.min(100, Math.max(0.01, eta * 3));
      const data = await api.line({ examples: 1000, max_step: maxStep, points: 41 });
      if (data) {
        this.lineData = data;
        this.drawLine();
      }
    } catch (err) {
      setText(this.lineCaption, `Could not compute the line: ${err.message}`);
    } finally {
      this.lineBusy = false;
    }
  }

  drawLine() {
    const ctx = this.lineData && context(this.line);
    if (ctx) setText(this.lineCaption, drawLine(ctx, this.lineData, this.line.w, this.line.h));
  }

  // ----- the surface -------------------------------------------------------------------------------
  /** The two weights typed for the "two weights" plane, each within this network; null (and a message
   * beside the fields) when one is empty, not a number or not a weight of this network. */
  readWeights() {
    const sizes = this.store.sizes;
    const L = Math.max(1, sizes.length - 1);
    const weights = [];
    let problem = null;
    for (const [n, which] of [[1, "first"], [2, "second"]]) {
      const field = (name) => this.wInputs.querySelector(`[name=${name}${n}]`);
      // W⁽ˡ⁾ as the walkthrough numbers it (l = 1 feeds hidden 1); the server counts its matrices from 0
      const layer = readNumber(field("l"), { name: `the ${which} weight's matrix W⁽ˡ⁾, l`, whole: true, min: 1, max: L });
      const l = (layer.value ?? 1) - 1;
      const j = readNumber(field("j"), { name: `the ${which} weight's neuron j`, whole: true, min: 0, max: (sizes[l + 1] || 1) - 1 });
      const k = readNumber(field("k"), { name: `the ${which} weight's input k`, whole: true, min: 0, max: (sizes[l] || 1) - 1 });
      problem = problem || layer.problem || j.problem || k.problem;
      weights.push({ layer: l, j: j.value, k: k.value });
    }
    this.wError.hidden = !problem;
    setText(this.wError, problem || "");
    return problem ? null : weights;
  }

  async loadSurface() {
    const body = { plane: this.plane.value, resolution: RESOLUTION, examples: 1000, seed: 0 };
    if (this.span.value) body.span = Number(this.span.value);
    if (body.plane === "weights") {
      body.weights = this.readWeights();
      if (!body.weights) return; // refused beside the fields: the slice stays as it is
    }
    setText(this.surfCaption, `computing the ${PLANE_NAMES[body.plane]} slice…`);
    const seq = (this.surfSeq = (this.surfSeq || 0) + 1);
    let head = null;
    try {
      const done = await api.surface(body, (part) => {
        if (seq !== this.surfSeq) return;
        if (part.type === "plane") {
          head = part;
          this.pinned = false;
          this.select(null);
          return;
        }
        if (part.type === "coarse") {
          this.surf = { ...head, alphas: part.alphas, betas: part.betas, costs: part.costs, partial: true };
        } else if (part.type === "rows") {
          if (!this.surf?.fine) {
            const R = head.betas.length;
            this.surf = { ...head, fine: true, partial: true, costs: Array.from({ length: R }, (_, r) => resample(this.surf.costs, R, head.alphas.length, r)) };
          }
          part.costs.forEach((row, i) => (this.surf.costs[part.start + i] = row));
        } else if (part.type === "done") {
          this.surf = { ...part, partial: false };
        }
        this.drawHeat();
        this.draw3d();
      });
      if (seq !== this.surfSeq || !done) return;
      setText(this.surfCaption, this.caption(this.surf));
      this.showPoint();
    } catch (err) {
      setText(this.surfCaption, `Could not compute the slice: ${err.message}`);
    }
  }

  caption(s) {
    const parts = [`${PLANE_NAMES[s.plane]} through the weights of iteration ${fmtGrouped(s.iteration)} · C here ${fmtNum(s.center_cost, 4)}`];
    if (s.explained) {
      const total = s.explained.reduce((a, b) => a + b, 0);
      parts.push(`the plane holds ${fmtPct(s.explained[0], 0)} + ${fmtPct(s.explained[1], 0)} = ${fmtPct(total, 0)} of the path's variance about now`);
    }
    parts.push(s.exact_path ? "the path's position is exact here, its cost is not: its other weights moved too" : "the path is projected on it");
    return parts.join(" · ");
  }

  drawHeat() {
    const s = this.surf;
    if (!s?.costs) return;
    const ctx = context(this.heat, 50, 50);
    if (ctx) {
      this.heatGeo = drawSlice(ctx, s, this.heat.w, this.heat.h, this.selected);
      this.heatInfo = { pathPoints: (s.path || []).length, partial: !!s.partial };
    }
    const side = (s.path || []).length ? context(this.pathCosts, 80, 60) : null;
    if (side) this.pathGeo = drawPathCosts(side, s.path, this.pathCosts.w, this.pathCosts.h, this.selected);
    this.placeTip();
  }

  /** Hover, tap and the arrow keys pick a path point, on the heat map or on the chart beside it. */
  pointing() {
    const onHeat = (e) => {
      if (!this.heatGeo || !this.surf) return null;
      const r = this.heat.canvas.getBoundingClientRect();
      return nearestPathPoint(this.surf, this.heatGeo, e.clientX - r.left, e.clientY - r.top);
    };
    const onChart = (e) => {
      const path = this.surf?.path || [];
      if (!path.length) return null;
      const r = this.pathCosts.canvas.getBoundingClientRect();
      const { plot } = pathCostsGeometry(path, this.pathCosts.w, this.pathCosts.h);
      const f = (e.clientX - r.left - plot.x) / plot.w;
      return Math.max(0, Math.min(path.length - 1, Math.round(f * (path.length - 1))));
    };
    for (const [canvas, find] of [[this.heat.canvas, onHeat], [this.pathCosts.canvas, onChart]]) {
      canvas.addEventListener("pointermove", (e) => {
        if (e.pointerType === "touch" || this.pinned) return;
        this.select(find(e));
      });
      canvas.addEventListener("pointerdown", (e) => {
        const i = find(e);
        this.pinned = i != null;
        this.select(i);
      });
      canvas.addEventListener("pointerleave", () => !this.pinned && this.select(null));
      canvas.addEventListener("keydown", (e) => {
        const n = this.surf?.path?.length || 0;
        const d = { ArrowLeft: -1, ArrowRight: 1, Home: -n, End: n }[e.key];
        if (d == null || !n) return;
        e.preventDefault();
        e.stopPropagation(); // → walks the path here, it does not step the training
        this.pinned = true;
        this.select(Math.max(0, Math.min(n - 1, (this.selected ?? (d > 0 ? -1 : n)) + d)));
      });
    }
  }

  select(i) {
    if (i === this.selected) return;
    this.selected = i;
    this.drawHeat();
    this.draw3d();
    this.showPoint();
  }

  showPoint() {
    const path = this.surf?.path || [];
    const p = this.selected != null ? path[this.selected] : null;
    setText(this.pointText, p ? describePoint(p, this.surf.exact_path) : describePath(path));
  }

  placeTip() {
    const p = this.selected != null ? this.surf?.path?.[this.selected] : null;
    if (!p || !this.heatGeo) {
      this.tip.hidden = true;
      return;
    }
    const [a, b, own, iteration, slice, distance] = p;
    this.tip.replaceChildren(
      el("b", {}, `iteration ${fmtGrouped(iteration)}`),
      el("span", {}, `its own cost ${fmtNum(own, 4)}`),
      el("span", {}, `the slice under it ${fmtNum(slice, 4)}${own != null && slice != null ? ` (${fmtSigned(slice - own, 3)})` : ""}`),
      el("span", {}, this.surf.exact_path ? "other weights differ from now" : `${fmtNum(distance, 3)} off the plane`));
    this.tip.hidden = false;
    // in the corner of the slice farthest from the point, so it never hides the point or its neighbours
    const { plot } = this.heatGeo;
    const left = this.heatGeo.ax(a) > plot.x + plot.w / 2;
    const top = this.heatGeo.by(b) > plot.y + plot.h / 2;
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    this.tip.style.left = `${Math.max(0, left ? plot.x + 4 : plot.x + plot.w - tw - 4)}px`;
    this.tip.style.top = `${Math.max(0, top ? plot.y + 4 : plot.y + plot.h - th - 4)}px`;
  }

  draw3d() {
    const s = this.surf;
    const ctx = s?.costs && context(this.view3d, 50, 50);
    if (ctx) drawSurface3d(ctx, s, this.view3d.w, this.view3d.h, this.view, this.selected);
  }

  // ----- the runners -------------------------------------------------------------------------------
  async loadRunners(button) {
    button.disabled = true;
    setText(this.runCaption, "running gradient descent and SGD on copies…");
    try {
      const body = { steps: Number(this.runSteps.value), examples: 1000, batch_sizes: [1, 10, 100], start: this.runStart.value, seed: 0 };
      if (this.momentum.checked) body.momentum = 0.9;
      const r = await api.runners(body);
      if (!r) return;
      this.runs = r;
      const notes = r.runners.filter((x) => x.note).map((x) => `${runnerLabel(x)}: ${x.note}`);
      const heavy = r.runners.some((x) => x.momentum != null) ? " Dashed: gradient descent with momentum, which keeps a velocity between steps (beyond the lecture)." : "";
      setText(this.runCaption, `${r.steps} steps at η = ${fmtNum(r.learning_rate, 3)} from ${r.start === "fresh" ? "a fresh start" : `the weights of iteration ${fmtGrouped(r.iteration)}`} (yellow dot). Gradient descent averages all ${fmtGrouped(r.examples)} examples each step; SGD takes "larger strides rather than steps" on fewer.${heavy}${notes.length ? " " + notes.join("; ") : ""}`);
      this.drawRunners();
    } catch (err) {
      setText(this.runCaption, `Could not run: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  }

  drawRunners() {
    const r = this.runs;
    if (!r) return;
    if (this.runPlane.w >= 40 && this.runPlane.h >= 40) drawRunnerPaths(this.runPlane.canvas, r, this.runPlane.w, this.runPlane.h);
    this.runDrawn = {}; // what each cost chart drew (its texts, whether the start runs off the top): tests read it
    for (const [box, key, label] of [[this.runExamples, "examples", "cost vs examples seen"], [this.runTime, "seconds", "cost vs compute time (s)"]]) {
      if (box.w >= 40 && box.h >= 40) this.runDrawn[key] = drawRunnerCosts(box.canvas, r, box.w, box.h, key, label);
    }
  }
}

/** Row r of an R×C grid, nearest-sampled from a coarser grid over the same extent (while the rows stream in). */
function resample(coarse, R, C, r) {
  const n = coarse.length;
  const m = coarse[0].length;
  const cr = Math.round((r / (R - 1)) * (n - 1));
  return Array.from({ length: C }, (_, c) => coarse[cr][Math.round((c / (C - 1)) * (m - 1))]);
}
