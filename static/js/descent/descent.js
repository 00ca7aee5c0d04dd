// The Descent view (issue 14), a mode beside live training and the walkthrough: the cost along −∇C
// with η marked, a slice of the cost surface with the path the network took (heat map, contours,
// −∇C arrow; rotatable 3-D), and gradient descent against SGD from one start. Training goes on.

import { ACCENT, INK, rgba } from "../lib/colors.js";
import { el, fitCanvas, observeSize, setText } from "../lib/dom.js";
import { fmtGrouped, fmtNum, fmtPct } from "../lib/format.js";
import * as api from "./api.js";
import { contourSegments, costScale, ramp } from "./plot.js";

const FONT = "11px system-ui, sans-serif";
const RUNNER_COLORS = ["#ffffff", "#58c4dd", "#5fd39a", "#ff8c38", "#c792ea"];
const LINE_MS = 1000;

function card(title, testid, ...children) {
  return el("section", { class: "dc-card", "data-testid": testid }, el("h3", {}, title), ...children);
}

function canvasIn(wrapClass, testid, label) {
  const canvas = el("canvas", { "data-testid": testid, "aria-label": label, tabindex: "0" });
  const wrap = el("div", { class: `dc-canvas ${wrapClass}` }, canvas);
  const box = { canvas, wrap, w: 0, h: 0 };
  observeSize(wrap, (w, h) => {
    box.w = w;
    box.h = h;
    box.dirty = true;
  });
  return box;
}

export class DescentView {
  constructor({ root, store, toasts }) {
    this.root = root;
    this.store = store;
    this.toasts = toasts;
    this.active = false;
    this.lineData = null;
    this.surf = null; // {plane, alphas, betas, costs, path, gradient, explained, exact_path, center_cost}
    this.runs = null;
    this.lineAt = 0;
    this.lineBusy = false;
    this.yaw = -0.7;
    this.pitch = 0.9;
    this.build();
  }

  build() {
    this.line = canvasIn("dc-line", "descent-line", "The cost along the negative gradient, with the learning rate marked.");
    this.lineCaption = el("p", { class: "dc-caption", "data-testid": "descent-line-caption" }, "…");
    this.heat = canvasIn("dc-heat", "descent-heat", "A slice of the cost surface: heat map, contours, the path and −∇C.");
    this.surfCaption = el("p", { class: "dc-caption", "data-testid": "descent-surface-caption" }, "…");
    this.plane = el("select", { "data-testid": "descent-plane", title: "Which plane through the current weights to slice the cost on." },
      el("option", { value: "pca" }, "PCA of the path"), el("option", { value: "random" }, "random (filter-normalised)"), el("option", { value: "weights" }, "two weights"));
    this.span = el("select", { title: "How far from the current weights the slice reaches (in the plane's units)." },
      ...[0.25, 0.5, 1, 2, 4].map((s) => el("option", { value: String(s), selected: s === 1 }, `span ${s}`)));
    this.wInputs = el("span", { class: "dc-weights", hidden: true },
      "w", el("input", { name: "l1", type: "number", value: "0", min: "0", title: "layer (0 = first weight matrix)" }),
      el("input", { name: "j1", type: "number", value: "0", min: "0", title: "neuron j" }),
      el("input", { name: "k1", type: "number", value: "406", min: "0", title: "input k" }),
      " & w", el("input", { name: "l2", type: "number", value: "0", min: "0", title: "layer" }),
      el("input", { name: "j2", type: "number", value: "1", min: "0", title: "neuron j" }),
      el("input", { name: "k2", type: "number", value: "406", min: "0", title: "input k" }));
    const redo = el("button", { type: "button", class: "chip", "data-testid": "descent-refresh", title: "Compute the slice again at the current weights." }, "↻ Recompute");
    for (const c of [this.plane, this.span]) c.addEventListener("change", () => this.loadSurface());
    this.plane.addEventListener("change", () => (this.wInputs.hidden = this.plane.value !== "weights"));
    this.wInputs.addEventListener("change", () => this.loadSurface());
    redo.addEventListener("click", () => this.loadSurface());
    this.view3d = canvasIn("dc-3d", "descent-3d", "The same slice as a 3-D surface: drag to rotate.");
    this.runPlane = canvasIn("dc-run", "descent-runners-plane", "Gradient descent and SGD runners on one PCA plane.");
    this.runExamples = canvasIn("dc-run", "descent-runners-examples", "Cost against examples seen.");
    this.runTime = canvasIn("dc-run", "descent-runners-time", "Cost against compute time.");
    this.runCaption = el("p", { class: "dc-caption", "data-testid": "descent-runners-caption" }, "Run gradient descent on the whole evaluation set and SGD at batch 1, 10 and 100 from one start, on copies: the live network is not touched.");
    this.runStart = el("select", { title: "Start from the current weights or a freshly initialised network." }, el("option", { value: "current" }, "from the current weights"), el("option", { value: "fresh" }, "from a fresh start"));
    this.runSteps = el("select", { title: "How many steps each runner takes." }, ...[20, 50, 100, 200].map((s) => el("option", { value: String(s), selected: s === 50 }, `${s} steps`)));
    const runButton = el("button", { type: "button", class: "primary", "data-testid": "descent-run", title: "Run the four runners (a few seconds)." }, "Run GD vs SGD");
    runButton.addEventListener("click", () => this.loadRunners(runButton));
    this.drag3d();

    this.root.append(
      el("div", { class: "dc-grid" },
        card("The cost along −∇C: C(θ − t∇C)", "descent-line-card", this.lineCaption, this.line.wrap),
        card("A slice of the cost surface, and the path the network took", "descent-surface-card",
          el("div", { class: "dc-tools" }, this.plane, this.span, this.wInputs, redo), this.surfCaption, this.heat.wrap),
        card("The slice in 3-D (drag to rotate)", "descent-3d-card", this.view3d.wrap),
        card("Gradient descent against SGD, from one start", "descent-runners-card",
          el("div", { class: "dc-tools" }, this.runStart, this.runSteps, runButton), this.runCaption,
          el("div", { class: "dc-run-row" }, this.runPlane.wrap, this.runExamples.wrap, this.runTime.wrap))));
  }

  // ----- mode --------------------------------------------------------------------------------------
  enter() {
    this.active = true;
    this.lineAt = 0;
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
    for (const [box, fn] of [[this.line, () => this.drawLine()], [this.heat, () => this.drawHeat()], [this.view3d, () => this.draw3d()],
      [this.runPlane, () => this.drawRunners()]]) {
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
    const d = this.lineData;
    const { canvas, w, h } = this.line;
    if (!d || w < 50 || h < 40) return;
    fitCanvas(canvas, w, h);
    const ctx = canvas.getContext("2d");
    const px = canvas.width / w;
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const plot = { x: 48, y: 10, w: w - 60, h: h - 36 };
    const finite = d.costs.filter((c) => c != null && Number.isFinite(c));
    const c0 = d.costs[0];
    const hi = Math.min(Math.max(...finite), Math.max(c0 * 3, 1e-9));
    const lo = Math.min(...finite);
    const tMax = d.steps[d.steps.length - 1] || 1;
    const sx = (t) => plot.x + (t / tMax) * plot.w;
    const sy = (c) => plot.y + plot.h * (1 - (Math.min(c, hi) - lo) / (hi - lo || 1));
    axes(ctx, plot, [lo, hi], [0, tMax], "step size t", "C");
    ctx.beginPath();
    let started = false;
    d.steps.forEach((t, i) => {
      const c = d.costs[i];
      if (c == null || !Number.isFinite(c)) return void (started = false);
      if (started) ctx.lineTo(sx(t), sy(c));
      else ctx.moveTo(sx(t), sy(c));
      started = true;
    });
    ctx.strokeStyle = "#8fdcf0";
    ctx.lineWidth = 2;
    ctx.stroke();
    const interp = (t) => {
      for (let i = 1; i < d.steps.length; i++) if (d.steps[i] >= t) {
        const f = (t - d.steps[i - 1]) / (d.steps[i] - d.steps[i - 1] || 1);
        return d.costs[i - 1] + (d.costs[i] - d.costs[i - 1]) * f;
      }
      return d.costs[d.costs.length - 1];
    };
    const mark = (t, color, label, up) => {
      if (t == null || t > tMax) return;
      const c = interp(t);
      ctx.strokeStyle = color;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(sx(t), plot.y);
      ctx.lineTo(sx(t), plot.y + plot.h);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(sx(t), sy(c), 4.5, 0, Math.PI * 2);
      ctx.fill();
      ctx.font = FONT;
      ctx.textAlign = sx(t) > plot.x + plot.w - 80 ? "right" : "left";
      ctx.fillText(label, sx(t) + (ctx.textAlign === "right" ? -6 : 6), up ? plot.y + 12 : plot.y + 26);
    };
    mark(d.best_step, "#5fd39a", `best t ≈ ${fmtNum(d.best_step, 3)}`, false);
    mark(d.learning_rate, ACCENT, `η = ${fmtNum(d.learning_rate, 3)}`, true);
    const atEta = interp(d.learning_rate);
    const verdict = atEta > c0 ? "overshoots: the step lands higher than it started" : d.best_step != null && d.learning_rate < d.best_step * 0.5 ? "undershoots: a longer step would go further down" : "lands in the valley";
    setText(this.lineCaption, `iteration ${fmtGrouped(d.iteration, ",")} · first ${d.examples} training images · ‖∇C‖ = ${fmtNum(d.gradient_norm, 3)} · C(θ) = ${fmtNum(c0, 4)} → C(θ − η∇C) = ${fmtNum(atEta, 4)}: this η ${verdict}`);
  }

  // ----- the surface -------------------------------------------------------------------------------
  async loadSurface() {
    const body = { plane: this.plane.value, resolution: 41, span: Number(this.span.value), examples: 1000, seed: 0 };
    if (body.plane === "weights") {
      const v = (n) => Number(this.wInputs.querySelector(`[name=${n}]`).value) || 0;
      body.weights = [{ layer: v("l1"), j: v("j1"), k: v("k1") }, { layer: v("l2"), j: v("j2"), k: v("k2") }];
    }
    setText(this.surfCaption, `computing the ${body.plane} slice…`);
    const seq = (this.surfSeq = (this.surfSeq || 0) + 1);
    try {
      const done = await api.surface(body, (part) => {
        if (seq !== this.surfSeq) return;
        if (part.type === "coarse") {
          this.surf = { ...part, plane: body.plane, path: this.surf?.plane === body.plane ? this.surf.path : [], partial: true };
        } else if (part.type === "rows") {
          if (!this.surf?.fine) {
            const R = body.resolution;
            this.surf = { ...this.surf, fine: true, alphas: linspace(-body.span, body.span, R), betas: linspace(-body.span, body.span, R),
              costs: Array.from({ length: R }, (_, r) => this.surf.costs ? resample(this.surf.costs, R, r) : new Array(R).fill(null)) };
          }
          part.costs.forEach((row, i) => (this.surf.costs[part.start + i] = row));
        } else if (part.type === "done") {
          this.surf = { ...part, plane: part.plane || body.plane, partial: false };
        }
        this.drawHeat();
        this.draw3d();
      });
      if (seq !== this.surfSeq || !done) return;
      const s = this.surf;
      const explained = s.explained ? ` · the two directions explain ${s.explained.map((e) => fmtPct(e, 0)).join(" and ")} of the path's variance` : "";
      const exact = s.exact_path ? " · the path is exact here: every other weight is frozen on this plane" : " · the path is projected: its points lie off the slice, so each shows the cost it really had";
      setText(this.surfCaption, `${{ pca: "PCA plane", random: "random filter-normalised plane", weights: "two weights" }[s.plane]} through the weights of iteration ${fmtGrouped(s.iteration, ",")} · C here ${fmtNum(s.center_cost, 4)}${explained}${exact}`);
    } catch (err) {
      setText(this.surfCaption, `Could not compute the slice: ${err.message}`);
    }
  }

  drawHeat() {
    const s = this.surf;
    const { canvas, w, h } = this.heat;
    if (!s?.costs || w < 50 || h < 50) return;
    fitCanvas(canvas, w, h);
    const ctx = canvas.getContext("2d");
    const px = canvas.width / w;
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const size = Math.min(w - 70, h - 8);
    const plot = { x: 4, y: 4, w: size, h: size };
    const R = s.costs.length;
    const C = s.costs[0].length;
    const scale = costScale(s.costs);
    const img = document.createElement("canvas");
    img.width = C;
    img.height = R;
    const ictx = img.getContext("2d");
    const data = ictx.createImageData(C, R);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      const v = s.costs[r][c];
      const [cr, cg, cb] = v == null ? [40, 40, 40] : ramp(scale.t(v));
      const o = ((R - 1 - r) * C + c) * 4; // β up
      data.data[o] = cr;
      data.data[o + 1] = cg;
      data.data[o + 2] = cb;
      data.data[o + 3] = 255;
    }
    ictx.putImageData(data, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(img, plot.x, plot.y, plot.w, plot.h);
    // contours at 10 levels of the colour scale
    const gx = (c) => plot.x + ((c + 0.5) / C) * plot.w;
    const gy = (r) => plot.y + plot.h - ((r + 0.5) / R) * plot.h;
    ctx.strokeStyle = "rgba(255,255,255,0.35)";
    ctx.lineWidth = 0.8;
    if (scale.inverse) for (let k = 1; k < 10; k++) {
      ctx.beginPath();
      for (const [[x0, y0], [x1, y1]] of contourSegments(s.costs, scale.inverse(k / 10))) {
        ctx.moveTo(gx(x0), gy(y0));
        ctx.lineTo(gx(x1), gy(y1));
      }
      ctx.stroke();
    }
    // α, β → canvas
    const a0 = s.alphas[0], a1 = s.alphas[s.alphas.length - 1], b0 = s.betas[0], b1 = s.betas[s.betas.length - 1];
    const ax = (a) => plot.x + ((a - a0) / (a1 - a0)) * plot.w;
    const by = (b) => plot.y + plot.h - ((b - b0) / (b1 - b0)) * plot.h;
    const path = s.path || [];
    if (path.length) {
      ctx.beginPath();
      path.forEach(([a, b], i) => (i ? ctx.lineTo(ax(a), by(b)) : ctx.moveTo(ax(a), by(b))));
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1.75;
      ctx.stroke();
      for (const [a, b] of path) {
        ctx.fillStyle = "#ffffff";
        ctx.beginPath();
        ctx.arc(ax(a), by(b), 2.2, 0, Math.PI * 2);
        ctx.fill();
      }
      // path point costs beside the slice value: the start and the latest
      ctx.font = FONT;
      ctx.fillStyle = "#ffffff";
      const [sa, sb, sc, si] = path[0];
      ctx.fillText(`it ${si}: C ${fmtNum(sc, 3)} (recorded)`, Math.min(ax(sa) + 5, plot.x + plot.w - 120), by(sb) - 5);
    }
    // the current point and −∇C
    ctx.fillStyle = ACCENT;
    ctx.beginPath();
    ctx.arc(ax(0), by(0), 5, 0, Math.PI * 2);
    ctx.fill();
    if (s.gradient) {
      const [ga, gb] = s.gradient;
      const n = Math.hypot(ga, gb) || 1;
      const len = plot.w * 0.18;
      const x1 = ax(0) + (ga / n) * len;
      const y1 = by(0) - (gb / n) * len;
      arrow(ctx, ax(0), by(0), x1, y1, ACCENT);
      ctx.fillStyle = ACCENT;
      ctx.font = FONT;
      ctx.fillText("−∇C", x1 + 4, y1 - 4);
    }
    // colour key
    const kx = plot.x + plot.w + 12;
    for (let i = 0; i < plot.h; i++) {
      const [r, g, b] = ramp(1 - i / plot.h);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(kx, plot.y + i, 10, 1);
    }
    ctx.fillStyle = rgba(INK, 0.75);
    ctx.font = FONT;
    ctx.textAlign = "left";
    ctx.fillText(fmtNum(scale.hi, 3), kx + 13, plot.y + 9);
    ctx.fillText(fmtNum(scale.lo, 3), kx + 13, plot.y + plot.h);
    ctx.fillText(scale.log ? "C (log)" : "C", kx + 13, plot.y + plot.h / 2);
    if (s.partial) ctx.fillText("refining…", plot.x + 6, plot.y + 14);
    this.heatInfo = { pathPoints: path.length, partial: !!s.partial };
  }

  // ----- 3-D ---------------------------------------------------------------------------------------
  drag3d() {
    const c = this.view3d.canvas;
    let last = null;
    c.addEventListener("pointerdown", (e) => {
      last = [e.clientX, e.clientY];
      c.setPointerCapture?.(e.pointerId);
    });
    c.addEventListener("pointermove", (e) => {
      if (!last || !(e.buttons & 1)) return;
      this.yaw += (e.clientX - last[0]) * 0.01;
      this.pitch = Math.max(0.1, Math.min(1.5, this.pitch + (e.clientY - last[1]) * 0.01));
      last = [e.clientX, e.clientY];
      this.draw3d();
    });
    c.addEventListener("pointerup", () => (last = null));
    c.addEventListener("keydown", (e) => {
      const d = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] }[e.key];
      if (!d) return;
      e.preventDefault();
      this.yaw += d[0];
      this.pitch = Math.max(0.1, Math.min(1.5, this.pitch + d[1]));
      this.draw3d();
    });
  }

  draw3d() {
    const s = this.surf;
    const { canvas, w, h } = this.view3d;
    if (!s?.costs || w < 50 || h < 50) return;
    fitCanvas(canvas, w, h);
    const ctx = canvas.getContext("2d");
    const px = canvas.width / w;
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const R = s.costs.length;
    const C = s.costs[0].length;
    const scale = costScale(s.costs);
    const cy = Math.cos(this.yaw), sy = Math.sin(this.yaw), cp = Math.cos(this.pitch), sp = Math.sin(this.pitch);
    const k = Math.min(w, h) * 0.42;
    const proj = (x, y, z) => {
      // x, y in -1..1 (α, β), z in 0..1 (cost, scaled)
      const X = x * cy - y * sy;
      const Y = x * sy + y * cy;
      return [w / 2 + X * k, h * 0.62 - (Y * cp * 0.9 + (z - 0.4) * sp * 1.1) * k * 0.9 + 0];
    };
    const P = (r, c) => proj((c / (C - 1)) * 2 - 1, (r / (R - 1)) * 2 - 1, scale.t(s.costs[r][c] ?? scale.hi));
    // quads painted back to front
    const quads = [];
    for (let r = 0; r < R - 1; r++) for (let c = 0; c < C - 1; c++) {
      const x = ((c + 0.5) / (C - 1)) * 2 - 1;
      const y = ((r + 0.5) / (R - 1)) * 2 - 1;
      quads.push([x * sy + y * cy, r, c]);
    }
    quads.sort((a, b) => b[0] - a[0]);
    for (const [, r, c] of quads) {
      const v = [s.costs[r][c], s.costs[r][c + 1], s.costs[r + 1][c + 1], s.costs[r + 1][c]].map((x) => scale.t(x ?? scale.hi));
      const [cr, cg, cb] = ramp((v[0] + v[1] + v[2] + v[3]) / 4);
      const pts = [P(r, c), P(r, c + 1), P(r + 1, c + 1), P(r + 1, c)];
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
      ctx.fillStyle = `rgb(${cr | 0},${cg | 0},${cb | 0})`;
      ctx.fill();
      ctx.strokeStyle = "rgba(0,0,0,0.25)";
      ctx.lineWidth = 0.5;
      ctx.stroke();
    }
    // the current point
    const a0 = s.alphas[0], a1 = s.alphas[s.alphas.length - 1];
    const b0 = s.betas[0], b1 = s.betas[s.betas.length - 1];
    const [x, y] = proj(((0 - a0) / (a1 - a0)) * 2 - 1, ((0 - b0) / (b1 - b0)) * 2 - 1, scale.t(s.center_cost ?? s.costs[R >> 1][C >> 1]));
    ctx.fillStyle = ACCENT;
    ctx.beginPath();
    ctx.arc(x, y, 5, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = rgba(INK, 0.7);
    ctx.font = FONT;
    ctx.fillText("drag or use the arrow keys to rotate · height and colour = cost", 8, h - 8);
  }

  // ----- the runners -------------------------------------------------------------------------------
  async loadRunners(button) {
    button.disabled = true;
    setText(this.runCaption, "running gradient descent and SGD on copies…");
    try {
      const r = await api.runners({ steps: Number(this.runSteps.value), examples: 1000, batch_sizes: [1, 10, 100], start: this.runStart.value, seed: 0 });
      if (!r) return;
      this.runs = r;
      const notes = r.runners.filter((x) => x.note || x.diverged_at != null).map((x) => `${x.name}: ${x.note || `diverged at step ${x.diverged_at}`}`);
      setText(this.runCaption, `${r.steps} steps at η = ${fmtNum(r.learning_rate, 3)} from ${r.start === "fresh" ? "a fresh start" : `the weights of iteration ${fmtGrouped(r.iteration, ",")}`}. GD averages all ${this.runs.runners[0]?.batch_size ?? ""} examples per step; SGD takes "larger strides rather than steps" on fewer.${notes.length ? " " + notes.join("; ") : ""}`);
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
    // the plane: every runner's path
    const { canvas, w, h } = this.runPlane;
    if (w < 40 || h < 40) return;
    let ctx = prep(canvas, w, h);
    const all = r.runners.flatMap((x) => x.path);
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]);
    const [xl, xh, yl, yh] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const pad = 14;
    const sc = Math.min((w - 2 * pad) / (xh - xl || 1), (h - 2 * pad - 14) / (yh - yl || 1));
    const X = (a) => pad + (a - xl) * sc;
    const Y = (b) => h - pad - (b - yl) * sc;
    r.runners.forEach((run, i) => {
      ctx.beginPath();
      run.path.forEach(([a, b], k) => (k ? ctx.lineTo(X(a), Y(b)) : ctx.moveTo(X(a), Y(b))));
      ctx.strokeStyle = RUNNER_COLORS[i % RUNNER_COLORS.length];
      ctx.lineWidth = 1.5;
      ctx.stroke();
    });
    ctx.fillStyle = rgba(INK, 0.8);
    ctx.font = FONT;
    ctx.fillText("paths on one PCA plane", 6, 12);
    legend(ctx, r.runners, w);
    // cost against examples seen, and against seconds
    for (const [box, key, label] of [[this.runExamples, "examples", "cost vs examples seen"], [this.runTime, "seconds", "cost vs compute time (s)"]]) {
      const { canvas: cv, w: bw, h: bh } = box;
      if (bw < 40 || bh < 40) continue;
      ctx = prep(cv, bw, bh);
      const costs = r.runners.flatMap((x) => x.costs.filter((c) => c != null && Number.isFinite(c)));
      const lo = Math.min(...costs);
      const hi = Math.max(...costs);
      const xm = Math.max(...r.runners.map((x) => lastOf(x[key]) || 1));
      const plot = { x: 40, y: 16, w: bw - 48, h: bh - 36 };
      axes(ctx, plot, [lo, hi], [0, xm], label, "C");
      r.runners.forEach((run, i) => {
        const n = run.costs.length;
        const xsOf = (k) => (Array.isArray(run[key]) ? run[key][k] : (run[key] * k) / Math.max(1, n - 1));
        ctx.beginPath();
        run.costs.forEach((c, k) => {
          if (c == null) return;
          const x = plot.x + (xsOf(k) / xm) * plot.w;
          const y = plot.y + plot.h * (1 - (c - lo) / (hi - lo || 1));
          k ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
        });
        ctx.strokeStyle = RUNNER_COLORS[i % RUNNER_COLORS.length];
        ctx.lineWidth = 1.5;
        ctx.stroke();
      });
    }
  }
}

function lastOf(v) {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function prep(canvas, w, h) {
  fitCanvas(canvas, w, h);
  const ctx = canvas.getContext("2d");
  const px = canvas.width / w;
  ctx.setTransform(px, 0, 0, px, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

function legend(ctx, runners, w) {
  ctx.font = FONT;
  let x = w - 6;
  ctx.textAlign = "right";
  for (let i = runners.length - 1; i >= 0; i--) {
    const name = runners[i].name;
    ctx.fillStyle = RUNNER_COLORS[i % RUNNER_COLORS.length];
    ctx.fillText(name, x, 26);
    x -= ctx.measureText(name).width + 10;
  }
  ctx.textAlign = "left";
}

function axes(ctx, plot, [lo, hi], [x0, x1], xLabel, yLabel) {
  ctx.strokeStyle = rgba(INK, 0.2);
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w, plot.h);
  ctx.fillStyle = rgba(INK, 0.65);
  ctx.font = FONT;
  ctx.textAlign = "right";
  ctx.fillText(fmtNum(hi, 3), plot.x - 4, plot.y + 9);
  ctx.fillText(fmtNum(lo, 3), plot.x - 4, plot.y + plot.h);
  ctx.fillText(yLabel, plot.x - 4, plot.y + plot.h / 2);
  ctx.textAlign = "left";
  ctx.fillText(fmtNum(x0, 3), plot.x, plot.y + plot.h + 13);
  ctx.textAlign = "right";
  ctx.fillText(`${xLabel} ${fmtNum(x1, 3)}`, plot.x + plot.w, plot.y + plot.h + 13);
  ctx.textAlign = "left";
}

function arrow(ctx, x0, y0, x1, y1, color) {
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 2.5;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  const a = Math.atan2(y1 - y0, x1 - x0);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 9 * Math.cos(a - 0.4), y1 - 9 * Math.sin(a - 0.4));
  ctx.lineTo(x1 - 9 * Math.cos(a + 0.4), y1 - 9 * Math.sin(a + 0.4));
  ctx.closePath();
  ctx.fill();
}

function linspace(a, b, n) {
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** Row r of an R×R grid, nearest-sampled from a coarser square grid (while the fine rows stream in). */
function resample(coarse, R, r) {
  const n = coarse.length;
  const cr = Math.round((r / (R - 1)) * (n - 1));
  return Array.from({ length: R }, (_, c) => coarse[cr][Math.round((c / (R - 1)) * (n - 1))]);
}
