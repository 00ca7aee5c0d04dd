// The "Look back" drawer (issue 13 §3–5): diagnostics over the iteration axis with plain-language
// notes (a click jumps the scrubber to when a note started), the confusion matrix with its images,
// and export (PNG of the views, CSV of the histories).

import { grayPixels } from "../lib/colors.js";
import { $, el, setText } from "../lib/dom.js";
import { fmtFixed, fmtGrouped, fmtNum, fmtPct } from "../lib/format.js";
import { layerName, matrixName } from "../lib/names.js";
import { getJSON, postJSON, withToken } from "../net/api.js";
import { accuracyMeaning } from "../live/counters.js";
import { drawSmallChart, LAYER_COLORS } from "./charts.js";

const CHART_H = 92;

/** The diagnostics' title for what test accuracy means now (counters.js: accuracyMeaning's kind). */
export function diagnosticsTitle(kind) {
  return { good: "How is it learning?", chance: "Why isn't it learning?", worse: "Why is it getting worse?" }[kind] || "Is it learning?";
}

export class LookBack {
  /** scrubber: the Scrubber; walkThrough(example): open the walkthrough on it; pictures: the PicturePicker,
   * which saves a view as a PNG; views: [[testid, label, element]] of the live views offered for export. */
  constructor({ store, scrubber, chart, toasts, walkThrough, pictures, views }) {
    this.store = store;
    this.scrubber = scrubber;
    this.chart = chart;
    this.toasts = toasts;
    this.walkThrough = walkThrough;
    this.pictures = pictures;
    this.views = views;
    this.open = false;
    this.diag = null;
    this.confusion = null;
    this.fetchedAt = 0;
    this.layer = 0;
    this.build();
  }

  build() {
    this.toggle = el("button", { type: "button", class: "chip", id: "lookback-toggle", "data-testid": "lookback-toggle", "aria-expanded": "false",
      title: "Diagnostics (is it learning, and how?), the confusion matrix of the test images, and export." }, "Look back ▸");
    this.toggle.addEventListener("click", () => this.setOpen(!this.open));
    const close = el("button", { type: "button", class: "chip", title: "Close this panel.", "aria-label": "Close" }, "✕");
    close.addEventListener("click", () => this.setOpen(false));
    this.notes = el("ul", { class: "lb-notes", "data-testid": "diag-notes" });
    this.charts = {};
    const names = [["grad", "‖∂C/∂W⁽ˡ⁾‖ per weight matrix (log)"], ["ratio", "update ÷ weight η‖∇W‖/‖W‖ (log), band ≈ 10⁻³"],
      ["sat", "saturated σ′<0.01 / dead ReLU share"], ["wdist", "weights: 5–95 %, 25–75 %, median"], ["adist", "activations: 5–95 %, 25–75 %, median"]];
    const chartBox = el("div", { class: "lb-charts" });
    for (const [key, label] of names) {
      const canvas = el("canvas", { class: "lb-chart", "data-testid": `diag-${key}`, "aria-label": label, title: "Click: show the network at that iteration." });
      canvas.addEventListener("click", (e) => {
        const map = this.maps?.[key];
        const rect = canvas.getBoundingClientRect();
        if (map) this.scrubber.scrubTo(map((e.clientX - rect.left) / rect.width));
      });
      this.charts[key] = { canvas, label };
      chartBox.append(canvas);
    }
    this.layerSelect = el("select", { "aria-label": "Layer for the distributions", title: "Which layer the two distribution charts show." });
    this.layerSelect.addEventListener("change", () => {
      this.layer = Number(this.layerSelect.value);
      this.drawDiagnostics();
    });
    this.legend = el("div", { class: "lb-legend" });
    this.diagStatus = el("p", { class: "subtle lb-status" });

    this.matrix = el("div", { class: "lb-matrix", "data-testid": "confusion-matrix", role: "grid" });
    this.confCaption = el("p", { class: "subtle", "data-testid": "confusion-caption" });
    this.cell = el("div", { class: "lb-cell", "data-testid": "confusion-cell" });

    const csv = (path, text) => el("a", { class: "button-link", href: withToken(path), download: "", title: `Download ${path.slice(5)}` }, text);
    this.diagSection = el("section", { class: "lb-sec", "data-testid": "lb-diagnostics" },
      el("div", { class: "lb-sec-head" }, (this.diagTitle = el("h3", {}, diagnosticsTitle("none"))), this.layerSelect),
      this.diagStatus, this.notes, this.legend, chartBox);
    this.confSection = el("section", { class: "lb-sec", "data-testid": "lb-confusion" }, el("h3", {}, "Confusion matrix (test images)"), this.confCaption,
      el("p", { class: "subtle" }, "rows: true label · columns: the network's answer · click a cell for its examples"), this.matrix, this.cell);
    const views = [...this.views, ["diagnostics", "The diagnostics", this.diagSection], ["confusion", "The confusion matrix", this.confSection]];
    const pngButtons = views.map(([testid, label, view]) => {
      const b = el("button", { type: "button", "data-testid": `png-${testid}`, title: `Save ${label.toLowerCase()} as a PNG picture, as it looks now.` }, `PNG: ${label.replace(/^The /, "")}`);
      b.addEventListener("click", () => this.pictures.save(view));
      return b;
    });

    this.drawer = el("aside", { class: "lookback", id: "lookback", "data-testid": "lookback", hidden: true, "aria-label": "Look back: diagnostics, confusion matrix, export" },
      el("div", { class: "lb-head" }, el("h2", {}, "Look back"), close),
      this.diagSection,
      this.confSection,
      el("section", { class: "lb-sec lb-export-sec" }, el("h3", {}, "Export"),
        el("div", { class: "lb-export" }, ...pngButtons, csv("/api/history.csv", "CSV: cost history"), csv("/api/diagnostics.csv", "CSV: diagnostics")),
        el("p", { class: "subtle" }, "Any other view: press PNG at the top of the page, then click the view.")));
    document.body.append(this.drawer);
    $("history-bar").querySelector(".hist-tools").append(this.toggle);
  }

  setOpen(open) {
    this.open = open;
    this.drawer.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("lookback-open", open);
    if (open) this.refresh();
  }

  async refresh() {
    this.fetchedAt = performance.now();
    try {
      const [diag, conf] = await Promise.all([getJSON("/api/diagnostics"), getJSON("/api/confusion")]);
      this.diag = diag;
      this.confusion = conf;
      this.drawDiagnostics();
      this.drawConfusion();
    } catch (err) {
      setText(this.diagStatus, `Could not load: ${err.message}`);
    }
  }

  tick(now) {
    if (!this.open) return;
    if (this.store.state?.running && now - this.fetchedAt > 3000) this.refresh();
    const cursor = this.scrubber.current?.snap.iteration ?? null;
    if (cursor !== this.cursor || this.chart.geom?.xMax !== this.xMax) {
      this.cursor = cursor;
      this.drawDiagnostics();
    }
  }

  drawDiagnostics() {
    const ms = this.diag?.measurements || [];
    const L = Math.max(0, ...ms.map((m) => m.layers.length));
    if (this.layerSelect.options.length !== L) {
      // the layer fed by W⁽ˡ⁾ (its weights and its activations), named as the network view names it
      this.layerSelect.replaceChildren(...Array.from({ length: L }, (_, l) => el("option", { value: String(l) }, `${layerName(l + 1, L)} · ${matrixName(l)}`)));
      this.layer = Math.min(this.layer, Math.max(0, L - 1));
      this.layerSelect.value = String(this.layer);
    }
    setText(this.diagStatus, ms.length ? `${fmtGrouped(ms.length)} measurement${ms.length === 1 ? "" : "s"} on a fixed probe of training images, at each accuracy evaluation` : "No measurements yet: they are taken at each accuracy evaluation while it trains.");
    this.legend.replaceChildren(...Array.from({ length: L }, (_, l) => el("span", {}, el("i", { style: { background: LAYER_COLORS[l % LAYER_COLORS.length] } }), matrixName(l))));
    this.drawNotes(ms);
    const s = this.store.state;
    const outputs = this.store.sizes[this.store.sizes.length - 1];
    const meaning = accuracyMeaning(s?.accuracy, this.store.accuracy, s?.chance_accuracy ?? (outputs ? 1 / outputs : null));
    setText(this.diagTitle, diagnosticsTitle(meaning.kind));
    const xMax = Math.max(this.chart.geom?.xMax || 10, ms.length ? ms[ms.length - 1].iteration : 0);
    this.xMax = this.chart.geom?.xMax;
    const per = (fn) => Array.from({ length: L }, (_, l) => ({
      color: LAYER_COLORS[l % LAYER_COLORS.length],
      points: ms.map((m) => [m.iteration, m.layers[l] ? fn(m.layers[l]) : null]),
    }));
    const bands = (key) => {
      const pts = ms.filter((m) => m.layers[this.layer]?.[key]);
      const q = (i) => pts.map((m) => [m.iteration, m.layers[this.layer][key][i]]);
      return {
        bands: [{ color: "rgba(88,196,221,0.18)", lo: q(0), hi: q(4) }, { color: "rgba(88,196,221,0.35)", lo: q(1), hi: q(3) }],
        series: [{ color: "#8fdcf0", points: q(2) }],
      };
    };
    const w = this.drawer.clientWidth - 36;
    if (w < 100) return;
    const cursor = this.cursor;
    const sat = [
      ...per((x) => x.saturated),
      ...per((x) => x.dead).map((s) => ({ ...s, color: s.color })),
    ];
    this.maps = {
      grad: drawSmallChart(this.charts.grad.canvas, w, CHART_H, { title: this.charts.grad.label, xMax, series: per((x) => x.grad_norm), log: true, cursor }),
      ratio: drawSmallChart(this.charts.ratio.canvas, w, CHART_H, { title: this.charts.ratio.label, xMax, series: per((x) => x.update_ratio), log: true, yBand: [3e-4, 3e-3], cursor }),
      sat: drawSmallChart(this.charts.sat.canvas, w, CHART_H, { title: this.charts.sat.label, xMax, series: sat, yMin: 0, yMax: 1, cursor }),
      wdist: drawSmallChart(this.charts.wdist.canvas, w, CHART_H, { title: `${this.charts.wdist.label} · ${matrixName(this.layer)}, into ${layerName(this.layer + 1, L)}`, xMax, ...bands("weights"), cursor }),
      adist: drawSmallChart(this.charts.adist.canvas, w, CHART_H, { title: `${this.charts.adist.label} · ${layerName(this.layer + 1, L)}`, xMax, ...bands("activations"), cursor }),
    };
  }

  drawNotes(ms) {
    // each note as it stands now, with the iteration its current run of measurements started
    const started = new Map();
    let latest = [];
    for (const m of ms) {
      const keys = new Set();
      for (const n of m.notes || []) {
        const k = `${n.kind}|${n.layer}`;
        keys.add(k);
        if (!started.has(k)) started.set(k, m.iteration);
      }
      for (const k of [...started.keys()]) if (!keys.has(k)) started.delete(k);
      latest = m.notes || [];
    }
    const items = latest.map((n) => {
      const at = started.get(`${n.kind}|${n.layer}`) ?? 0;
      const b = el("button", { type: "button", class: `lb-note ${n.kind}`, title: `Show the network at iteration ${fmtGrouped(at)}, when this started.` },
        el("span", { class: "lb-note-text" }, n.text), el("span", { class: "lb-note-at" }, `since iteration ${fmtGrouped(at)} ↦`));
      b.addEventListener("click", () => this.scrubber.scrubTo(at));
      return el("li", {}, b);
    });
    const key = latest.map((n) => n.text).join("|") + [...started.values()].join(",");
    if (key === this.notesKey) return;
    this.notesKey = key;
    this.notes.replaceChildren(...(items.length ? items : [el("li", { class: "subtle" }, "No warning signs: gradients, step sizes and units look healthy.")]));
  }

  drawConfusion() {
    const c = this.confusion;
    if (!c) return;
    const n = c.classes.length;
    let total = 0;
    let diag = 0;
    let max = 0;
    c.matrix.forEach((row, t) => row.forEach((v, p) => {
      total += v;
      if (t === p) diag += v;
      else max = Math.max(max, v);
    }));
    setText(this.confCaption, `At iteration ${fmtGrouped(c.iteration)}: diagonal ${fmtGrouped(diag)} of ${fmtGrouped(total)} = ${fmtPct(total ? diag / total : 0, 2)} · reported test accuracy ${fmtPct(c.accuracy, 2)}`);
    this.confCaption.dataset.diagonal = String(diag);
    this.confCaption.dataset.total = String(total);
    this.confCaption.dataset.accuracy = String(c.accuracy);
    this.matrix.style.gridTemplateColumns = `auto repeat(${n}, minmax(0, 1fr))`;
    // ten classes: their first letters ("T-sh"); a few (the plane's): the whole names ("x·y > 0", "x·y < 0")
    const short = (name) => (n > 5 && name.length > 4 ? name.slice(0, 4) : name);
    const cells = [el("span", { class: "lb-corner" }, "t\\p"), ...c.classes.map((name) => el("span", { class: "lb-axis", title: name }, short(name)))];
    c.matrix.forEach((row, t) => {
      cells.push(el("span", { class: "lb-axis", title: c.classes[t] }, short(c.classes[t])));
      const rowTotal = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((v, p) => {
        const share = v / rowTotal;
        const bg = t === p ? `rgba(95,211,154,${0.12 + 0.75 * share})` : `rgba(255,107,107,${v ? 0.12 + 0.8 * Math.sqrt(v / (max || 1)) : 0.03})`;
        const b = el("button", { type: "button", class: `lb-m${t === p ? " diag" : ""}`, style: { background: bg }, "data-true": String(t), "data-pred": String(p),
          title: `true ${c.classes[t]}, answered ${c.classes[p]}: ${v} ${this.store.isPlane ? "point" : "image"}${v === 1 ? "" : "s"}` }, String(v));
        b.addEventListener("click", () => this.openCell(t, p));
        cells.push(b);
      });
    });
    this.matrix.replaceChildren(...cells);
  }

  async openCell(t, p) {
    const c = this.confusion;
    this.cell.replaceChildren(el("p", { class: "subtle" }, "loading…"));
    let reply;
    try {
      reply = await getJSON(`/api/confusion/cell?true=${t}&predicted=${p}&limit=48`);
    } catch (err) {
      this.cell.replaceChildren(el("p", { class: "field-error" }, err.message));
      return;
    }
    const title = el("p", { class: "lb-cell-title" }, `True ${c.classes[t]}, answered ${c.classes[p]}: ${reply.indices.length ? "" : `no ${this.store.isPlane ? "points" : "images"}`}`);
    const thumbs = reply.images.map((pixels, i) => {
      const image = pixels.length === 784;
      const canvas = el("canvas", { width: 28, height: 28, class: "lb-thumb" });
      if (image) {
        const ctx = canvas.getContext("2d");
        const data = ctx.createImageData(28, 28);
        grayPixels(pixels, data.data, 784);
        ctx.putImageData(data, 0, 0);
      }
      const pick = el("button", { type: "button", class: image ? "lb-pick" : "lb-pick point", "data-testid": "confusion-image", title: `Test ${image ? "image" : "point"} #${fmtGrouped(reply.indices[i])}` },
        image ? canvas : `(${pixels.map((v) => fmtFixed(v, 2)).join(", ")})`);
      pick.addEventListener("click", () => this.choose({ index: reply.indices[i], pixels, label: t, predicted: p }, pick));
      return pick;
    });
    this.actions = el("div", { class: "lb-actions" });
    this.cell.replaceChildren(title, el("div", { class: "lb-thumbs" }, ...thumbs), this.actions);
  }

  choose(example, button) {
    for (const b of this.cell.querySelectorAll(".lb-pick")) b.classList.toggle("chosen", b === button);
    const c = this.confusion;
    // a test point of the plane is sent as its coordinates ("input"), an image as its pixels
    const plane = this.store.isPlane;
    const input = plane ? { input: Array.from(example.pixels) } : { pixels: Array.from(example.pixels) };
    const thing = plane ? "point" : "image";
    const walk = el("button", { type: "button", class: "primary", "data-testid": "confusion-walk", title: `Open the backprop walkthrough on this test ${thing}.` }, "Walk through this one");
    walk.addEventListener("click", () => {
      this.setOpen(false);
      this.walkThrough({ source: "test", label: example.label, index: example.index, request: input });
    });
    const teach = el("button", { type: "button", "data-testid": "confusion-teach", title: `One gradient step on this ${thing} towards “${c.classes[example.label]}”, at the current η.` }, "Teach it this");
    teach.addEventListener("click", async () => {
      try {
        const r = await postJSON("/api/teach", { ...input, label: example.label, learning_rate: this.store.params?.learning_rate });
        const name = (d) => c.classes[d] ?? d;
        this.toasts?.show(`Before: ${name(r.before.digit)} · after one step: ${name(r.after.digit)} (cost ${fmtNum(r.cost_before, 3)} → ${fmtNum(r.cost_after, 3)})`, "success", { title: `Taught it this ${thing}` });
      } catch (err) {
        this.toasts?.show(err.message, "error", { title: "Could not teach it" });
      }
    });
    this.actions.replaceChildren(el("span", { class: "subtle" }, `test ${thing} #${fmtGrouped(example.index)}: `), walk, teach);
  }
}
