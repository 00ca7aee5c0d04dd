// The plane view (a plane dataset replaces the draw pad with it): the data plot, its background the
// network's decision map (colour = the class it answers, lightness = how sure), the training points,
// the test points on request, and the shown point. A click classifies a point and shows it in the
// network view; on the custom set a click adds a point of the chosen class and a right-click (or the
// erase mode, for touch) removes the nearest; the whole list goes to the server as `set_points`.

import { ACCENT, BG, INK, rgba } from "../lib/colors.js";
import { $, el, fitCanvas, observeSize, setText } from "../lib/dom.js";
import { fmtFixed, fmtGrouped, fmtPct } from "../lib/format.js";
import { getJSON } from "../net/api.js";
import { applyDatasetWords } from "./page-words.js";
import { CLASS_COLORS, classColor } from "./paint.js";

const ID_BASE = 1e9; // `predict` ids of this view (the draw pad's count up from 1)
const REFRESH_MS = 500;

export class PlaneView {
  constructor(store, send, maps, { showError, toasts }) {
    this.store = store;
    this.send = send;
    this.maps = maps;
    this.showError = showError;
    this.toasts = toasts;
    this.box = $("plane-box");
    this.canvas = $("plane-plot");
    this.ctx = this.canvas.getContext("2d");
    this.legend = $("plane-legend");
    this.classesNode = $("plane-classes");
    this.eraseButton = $("plane-erase");
    this.testToggle = $("plane-show-test");
    this.verdict = $("plane-verdict");
    this.note = $("plane-note");
    this.nextId = ID_BASE;
    this.latest = 0;
    this.point = null; // {x, y, label, source, index}: the point the user picked
    this.sentAt = 0;
    this.cls = 0;
    this.erase = false;
    this.mistakeAfter = -1;
    this.lastKey = "";
    this.kindFor = -1;
    this.cssW = 0;
    observeSize(this.canvas.parentElement, (w) => (this.cssW = w));
    this.canvas.addEventListener("click", (e) => this.click(e, false));
    this.canvas.addEventListener("contextmenu", (e) => {
      e.preventDefault();
      this.click(e, true);
    });
    this.eraseButton.addEventListener("click", () => this.setErase(!this.erase));
    this.testToggle.addEventListener("change", () => (this.lastKey = ""));
    $("plane-random-test").addEventListener("click", () => this.randomTest());
    $("plane-next-mistake").addEventListener("click", () => this.nextMistake());
  }

  get active() {
    return this.store.ready && this.store.isPlane && this.store.sizes[0] === 2;
  }

  get custom() {
    return this.store.dataset?.name === "custom";
  }

  owns(reply) {
    return typeof reply.id === "number" && reply.id >= ID_BASE;
  }

  setErase(on) {
    this.erase = on;
    this.eraseButton.setAttribute("aria-pressed", String(on));
    this.canvas.style.cursor = on ? "not-allowed" : "crosshair";
  }

  /** After every hello: which panel shows, the class buttons, the legend, the notes. */
  sync() {
    const store = this.store;
    if (!store.ready || this.kindFor === store.helloCount) return;
    this.kindFor = store.helloCount;
    const kind = store.dataset?.kind || "image";
    document.body.dataset.kind = this.active ? "plane" : kind;
    document.body.dataset.dataset = store.dataset?.name || "mnist";
    const names = store.classNames;
    applyDatasetWords(store);
    const title = store.isScalar ? "The notes' simple example" : store.dataset?.name === "fashion-mnist" ? "Draw something" : "Draw a digit";
    setText($("draw-title"), this.active ? `The plane · ${store.dataset.title}` : title);
    if (store.isScalar) setText($("scalar-x"), String(store.dataset.values?.x ?? ""));
    const clothes = $("clothes-note");
    clothes.hidden = store.dataset?.name !== "fashion-mnist";
    if (!this.active) return;
    this.lastKey = "";
    if (this.cls >= names.length) this.cls = 0;
    this.classesNode.hidden = !this.custom;
    this.eraseButton.hidden = !this.custom;
    this.classesNode.replaceChildren(
      ...names.map((name, c) =>
        el("button", {
          type: "button",
          class: "chip plane-class",
          "data-class": String(c),
          "aria-pressed": String(c === this.cls),
          title: `New points get the class “${name}”.`,
          style: { "--class-color": classColor(c) },
          onclick: () => this.pickClass(c),
          text: name,
        }),
      ),
    );
    this.legend.replaceChildren(
      ...names.map((name, c) => el("span", { class: "legend-item" }, el("span", { class: "swatch", style: { background: classColor(c) } }), name)),
      el("span", { class: "legend-item", text: "background: the network's answer there, brighter = surer" }),
      el("span", { class: "legend-item", text: "● training point · ○ test point · ✚ the point shown" }),
    );
    const test = store.points?.testX?.length ? store.points.testX.length / 2 : 0;
    this.testToggle.parentElement.hidden = this.custom || !test;
    const trivial = store.dataset?.trivial;
    setText(this.note, this.custom
      ? `${store.points ? store.points.y.length : 0} of at most ${store.limits?.custom_points?.[1] ?? "?"} points. ${trivial ? "Every point has the same class: there is nothing to tell apart, and the network just learns to always answer it." : ""}`
      : "");
    this.note.classList.toggle("warn", !!trivial);
    this.note.hidden = !this.custom;
    if (this.point) this.predict();
  }

  pickClass(c) {
    this.cls = c;
    this.setErase(false);
    for (const b of this.classesNode.children) b.setAttribute("aria-pressed", String(+b.dataset.class === c));
  }

  /** The plot's square, in CSS px, and the plane → canvas mapping. */
  geometry() {
    const side = Math.max(120, Math.min(this.cssW || 280, 420));
    const e = this.maps.extent * 1.1; // a margin: noise takes a few points past the extent
    return { side, e, toPx: (x, y) => [((x + e) / (2 * e)) * side, ((e - y) / (2 * e)) * side], toPlane: (px, py) => [(px / side) * 2 * e - e, e - (py / side) * 2 * e] };
  }

  click(event, right) {
    if (!this.active) return;
    const rect = this.canvas.getBoundingClientRect();
    const g = this.geometry();
    const k = g.side / rect.width;
    const [x, y] = g.toPlane((event.clientX - rect.left) * k, (event.clientY - rect.top) * k);
    const cx = Math.max(-1, Math.min(1, x));
    const cy = Math.max(-1, Math.min(1, y));
    if (this.custom && (right || this.erase)) return this.removeNearest(x, y);
    if (this.custom) return this.addPoint(cx, cy);
    if (right) return;
    this.choose({ x: cx, y: cy, label: this.nearestLabel(cx, cy), source: "point" });
  }

  /** The class of the nearest training point: the label a clicked point gets in the walkthrough. */
  nearestLabel(x, y) {
    const p = this.store.points;
    if (!p) return null;
    let best = null;
    let bd = Infinity;
    for (let i = 0; i < p.y.length; i++) {
      const d = (p.x[2 * i] - x) ** 2 + (p.x[2 * i + 1] - y) ** 2;
      if (d < bd) {
        bd = d;
        best = p.y[i];
      }
    }
    return best;
  }

  currentPoints() {
    const p = this.store.points;
    const list = [];
    if (p) for (let i = 0; i < p.y.length; i++) list.push([+p.x[2 * i].toFixed(4), +p.x[2 * i + 1].toFixed(4), p.y[i]]);
    return list;
  }

  addPoint(x, y) {
    const list = this.currentPoints();
    const cap = this.store.limits?.custom_points?.[1] ?? 500;
    if (list.length >= cap) return this.showError("plane", `At most ${cap} points: remove some first (right-click or erase).`);
    list.push([+x.toFixed(4), +y.toFixed(4), this.cls]);
    this.sendPoints(list);
    this.choose({ x, y, label: this.cls, source: "point" });
  }

  removeNearest(x, y) {
    const list = this.currentPoints();
    if (list.length <= 1) return this.showError("plane", "The set needs at least one point.");
    let best = -1;
    let bd = Infinity;
    list.forEach(([px, py], i) => {
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bd) {
        bd = d;
        best = i;
      }
    });
    list.splice(best, 1);
    this.sendPoints(list);
  }

  sendPoints(points) {
    this.showError("plane", null);
    this.send({ type: "set_points", points }, "plane");
  }

  /** Show this point in the network view (and classify it). */
  choose(point) {
    this.point = point;
    this.showError("plane", null);
    if (point.source === "test" && point.index != null) this.send({ type: "select_example", source: "test", index: point.index }, "plane");
    else if (this.store.example?.meta?.pinned) this.send({ type: "select_example", source: "follow" }, "plane");
    this.predict();
  }

  predict() {
    if (!this.point) return;
    this.sentAt = performance.now();
    this.send({ type: "predict", id: this.nextId++, input: [this.point.x, this.point.y] }, "plane");
  }

  receive(reply) {
    if (reply.id < this.latest) return;
    this.latest = reply.id;
    if (!this.point || !this.active) return;
    const sizes = this.store.sizes;
    const fits = Array.isArray(reply.activations) && reply.activations.length === sizes.length && reply.activations.every((a, l) => a.length === sizes[l]);
    if (!fits) return;
    const names = this.store.classNames;
    const p = this.point;
    this.store.setDrawing({
      meta: { source: p.source === "test" ? "test" : "point", index: p.index, label: p.label, prediction: reply.digit, point: [p.x, p.y] },
      activations: reply.activations.map((a) => Float32Array.from(a)),
      zs: null,
      deltas: null,
    });
    const prob = reply.probabilities?.[reply.digit];
    const where = `(${fmtFixed(p.x, 2)}, ${fmtFixed(p.y, 2)})`;
    const says = `${names[reply.digit] ?? reply.digit}${Number.isFinite(prob) ? ` (${fmtPct(prob, 0)})` : ""}`;
    let text = `The point ${where}: the network says ${says}.`;
    if (p.source === "test") text = `Test point #${fmtGrouped(p.index)} ${where} is ${names[p.label]}: the network says ${says} ${p.label === reply.digit ? "✓" : "✗"}.`;
    setText(this.verdict, text);
    this.lastKey = "";
  }

  async randomTest() {
    const n = this.store.state?.test_size;
    if (!n) return this.showError("plane", "Not connected to the training server — waiting to reconnect.");
    return this.loadTest(Math.floor(Math.random() * n));
  }

  async loadTest(index) {
    try {
      const t = await getJSON(`/api/test-example?index=${index}`);
      this.choose({ x: t.input[0], y: t.input[1], label: t.label, source: "test", index: t.index });
    } catch (err) {
      this.showError("plane", `Could not load a test point: ${err.message}`);
    }
  }

  async nextMistake() {
    try {
      const reply = await getJSON(`/api/mistake?after=${this.mistakeAfter}`);
      this.mistakeAfter = reply.index;
      await this.loadTest(reply.index);
    } catch (err) {
      if (err.status === 404) this.toasts.show("The network gets every test point right — nothing to show.", "success");
      else this.showError("plane", `Could not find a mistake: ${err.message}`);
    }
  }

  /** Network view back to following training. */
  follow() {
    this.point = null;
    setText(this.verdict, "Click on the plane to classify a point.");
  }

  tick(now) {
    this.sync();
    if (!this.active) return;
    if (this.point && this.store.state?.running && now - this.sentAt > REFRESH_MS) this.predict();
    if (this.point && !this.store.drawing && now - this.sentAt > REFRESH_MS) this.point = null; // followed training again
    this.draw();
  }

  draw() {
    const g = this.geometry();
    const pictures = this.maps.pictures();
    const shown = this.store.shown();
    const a0 = shown?.activations?.[0];
    const key = `${this.maps.key}|${this.store.exampleVersion}|${g.side}|${this.testToggle.checked}|${this.kindFor}`;
    if (key === this.lastKey || !pictures) return;
    this.lastKey = key;
    this.canvas.style.width = `${g.side}px`;
    this.canvas.style.height = `${g.side}px`;
    fitCanvas(this.canvas, g.side, g.side);
    const ctx = this.ctx;
    const px = this.canvas.width / g.side;
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.fillStyle = rgba(BG, 1);
    ctx.fillRect(0, 0, g.side, g.side);
    // The decision map covers [−extent, extent]²; the plot shows a margin round it.
    const ext = this.maps.extent;
    const [x0, y0] = g.toPx(-ext, ext);
    const [x1, y1] = g.toPx(ext, -ext);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(pictures.decision, x0, y0, x1 - x0, y1 - y0);
    ctx.strokeStyle = rgba(INK, 0.18);
    ctx.lineWidth = 1;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.beginPath();
    const [ox, oy] = g.toPx(0, 0);
    ctx.moveTo(x0, oy);
    ctx.lineTo(x1, oy);
    ctx.moveTo(ox, y0);
    ctx.lineTo(ox, y1);
    ctx.strokeStyle = rgba(INK, 0.1);
    ctx.stroke();
    const p = this.store.points;
    const r = g.side > 300 ? 3.2 : 2.6;
    if (p && this.testToggle.checked && !this.custom && p.testX) this.drawPoints(ctx, g, p.testX, p.testY, r, false);
    if (p) this.drawPoints(ctx, g, p.x, p.y, this.custom ? r + 1.5 : r, true);
    if (a0 && a0.length === 2) {
      const [sx, sy] = g.toPx(a0[0], a0[1]);
      ctx.strokeStyle = ACCENT;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(sx - 8, sy);
      ctx.lineTo(sx + 8, sy);
      ctx.moveTo(sx, sy - 8);
      ctx.lineTo(sx, sy + 8);
      ctx.stroke();
    }
  }

  drawPoints(ctx, g, xs, ys, r, filled) {
    for (let c = 0; c < CLASS_COLORS.length; c++) {
      ctx.beginPath();
      for (let i = 0; i < ys.length; i++) {
        if (ys[i] !== c) continue;
        const [x, y] = g.toPx(xs[2 * i], xs[2 * i + 1]);
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, Math.PI * 2);
      }
      if (filled) {
        ctx.fillStyle = classColor(c);
        ctx.fill();
        ctx.strokeStyle = "rgba(0,0,0,0.65)";
        ctx.lineWidth = 1;
        ctx.stroke();
      } else {
        ctx.strokeStyle = "rgba(0,0,0,0.7)";
        ctx.lineWidth = 3;
        ctx.stroke();
        ctx.strokeStyle = classColor(c);
        ctx.lineWidth = 1.5;
        ctx.stroke();
      }
    }
  }
}
