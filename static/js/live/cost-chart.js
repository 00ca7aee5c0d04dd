// The descent curve: every mini-batch's cost (light), its moving average (bold), the test accuracy
// on a second axis, and markers where a setting changed. Hover for a readout; log scale on demand.

import { ACCENT, GOOD, INK, POS, rgba } from "../lib/colors.js";
import { fitCanvas, observeSize } from "../lib/dom.js";
import { fmtGrouped, fmtNum, fmtPct } from "../lib/format.js";
import { roundSig } from "../lib/math.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const PAD = { left: 52, right: 46, top: 17, bottom: 26 }; // (the top band: the markers' labels, above the curve)
const ACC_COLOR = GOOD;
const RAW_COLOR = rgba(POS, 0.55); // ≥ 3:1 on the panel, like every line that carries meaning
const AVG_COLOR = "#8fdcf0";

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

export class CostChart {
  constructor(canvas, wrap, store) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.store = store;
    this.log = false;
    this.hoverX = null;
    this.cssW = 0;
    this.cssH = 0;
    this.zoom = 1; // presentation mode: text and lines ×zoom
    this.lastKey = "";
    this.avg = new Float64Array(0);
    this.sorted = new Float64Array(0);
    observeSize(wrap, (w, h) => {
      this.cssW = w;
      this.cssH = h;
    });
    canvas.addEventListener("pointermove", (e) => {
      const rect = canvas.getBoundingClientRect();
      this.hoverX = rect.width ? (e.clientX - rect.left) / rect.width : null; // a fraction of the width
    });
    canvas.addEventListener("pointerleave", () => (this.hoverX = null));
    // The scrubber (static/js/history/): a drag along the curve picks an iteration; `cursor` marks it.
    this.cursor = null;
    this.onScrub = null;
    this.geom = null; // {x, w, xMax, W}: the plot's place, for the timeline under the chart
    const scrub = (e) => {
      if (!this.onScrub || !this.geom || (e.type === "pointermove" && !(e.buttons & 1))) return;
      const rect = canvas.getBoundingClientRect();
      const x = ((e.clientX - rect.left) / rect.width) * this.geom.W;
      this.onScrub(Math.max(0, Math.min(1, (x - this.geom.x) / this.geom.w)) * this.geom.xMax);
    };
    canvas.addEventListener("pointerdown", (e) => {
      if (!this.onScrub) return;
      canvas.setPointerCapture?.(e.pointerId);
      scrub(e);
    });
    canvas.addEventListener("pointermove", scrub);
  }

  /** Mark the scrubbed iteration (null: none). */
  setCursor(iteration) {
    this.cursor = iteration;
  }

  /** Number of points on the curve (a debug hook for the browser tests). */
  get length() {
    return this.store.series.length;
  }

  setLog(on) {
    this.log = on;
  }

  /** Draw the text and lines `zoom` times bigger (presentation mode). */
  setZoom(zoom) {
    this.zoom = zoom;
  }

  draw() {
    const store = this.store;
    if (this.cssW < 50 || this.cssH < 50) return false;
    const resized = fitCanvas(this.canvas, this.cssW, this.cssH);
    const key = `${store.helloCount}|${store.chartVersion}|${store.series.version}|${this.log}|${this.hoverX}|${this.zoom}|${this.cursor}|${this.canvas.width}x${this.canvas.height}`;
    if (key === this.lastKey && !resized) return false;
    this.lastKey = key;
    const ctx = this.ctx;
    const W = this.cssW / this.zoom;
    const H = this.cssH / this.zoom;
    const px = (this.canvas.width / this.cssW) * this.zoom; // backing pixels per drawing unit
    ctx.setTransform(px, 0, 0, px, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const s = store.series;
    const plot = { x: PAD.left, y: PAD.top, w: W - PAD.left - PAD.right, h: H - PAD.top - PAD.bottom };
    if (!s.length) {
      this.geom = { x: plot.x, w: plot.w, xMax: 10, W }; // a new network: the old run's scale is gone too
      this.drawFrame(ctx, plot, null);
      ctx.fillStyle = rgba(INK, 0.55);
      ctx.font = `13px ${FONT}`;
      ctx.textAlign = "center";
      const lines = wrapText(ctx, "Press Play: the cost of every mini-batch will trace the descent here.", plot.w - 16);
      lines.forEach((line, i) => ctx.fillText(line, plot.x + plot.w / 2, plot.y + plot.h / 2 + (i - (lines.length - 1) / 2) * 18));
      ctx.textAlign = "left";
      return true;
    }
    const n = s.length;
    const last = s.lastIteration;
    const xMax = Math.max(10, last);
    if (this.avg.length < n) this.avg = new Float64Array(s.capacity);
    s.movingAverage(Math.min(5000, Math.max(3, xMax / 40)), this.avg);
    // Scale to the data, but not to a blow-up: values over 50× the median (a diverging step) are
    // drawn clipped at the top instead of flattening the whole curve.
    if (this.sorted.length < n) this.sorted = new Float64Array(s.capacity);
    const sorted = this.sorted.subarray(0, n);
    sorted.set(s.values.subarray(0, n));
    sorted.sort();
    const cap = 50 * Math.max(sorted[n >> 1], 1e-12);
    let yMax = 0;
    let yMinPos = Infinity;
    for (let i = 0; i < n; i++) {
      const v = s.values[i];
      if (v > yMax && v <= cap) yMax = v;
      if (v > 0 && v < yMinPos) yMinPos = v;
    }
    if (yMax <= 0) yMax = 1;
    const scale = this.log ? logScale(yMinPos === Infinity ? yMax / 10 : yMinPos, yMax) : linearScale(yMax);
    const sx = (it) => plot.x + (it / xMax) * plot.w;
    const sy = (v) => plot.y + plot.h * (1 - scale.t(v));
    this.geom = { x: plot.x, y: plot.y, w: plot.w, h: plot.h, xMax, W };
    this.labels = []; // the texts drawn about the curve ({text, x, y, w, h}): never on it (tests check)
    this.drawFrame(ctx, plot, { scale, xMax, sx, sy });
    this.drawMarkerLabels(ctx, plot, sx);

    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y - 2, plot.w + 2, plot.h + 4);
    ctx.clip();
    this.drawMarkers(ctx, plot, sx);
    // raw cost per mini-batch: one vertex per screen pixel column (weighted mean of its points), so
    // the light line looks the same whether the history is fine or bucketed
    ctx.beginPath();
    let column = -1;
    let sumW = 0;
    let sumV = 0;
    let started = false;
    const flush = () => {
      if (!sumW) return;
      const y = sy(sumV / sumW);
      if (started) ctx.lineTo(column + 0.5, y);
      else ctx.moveTo(column + 0.5, y);
      started = true;
    };
    for (let i = 0; i < n; i++) {
      const c = Math.floor(sx(s.iters[i]));
      if (c !== column) {
        flush();
        column = c;
        sumW = sumV = 0;
      }
      sumW += s.weights[i];
      sumV += s.values[i] * s.weights[i];
    }
    flush();
    ctx.strokeStyle = RAW_COLOR;
    ctx.lineWidth = 1;
    ctx.stroke();
    if (n <= 60) {
      // the first few mini-batches (e.g. after single steps) as dots, so one point is visible too
      ctx.fillStyle = AVG_COLOR;
      for (let i = 0; i < n; i++) {
        ctx.beginPath();
        ctx.arc(sx(s.iters[i]), sy(s.values[i]), 2.5, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    // moving average
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const x = sx(s.iters[i]);
      const y = sy(this.avg[i]);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.strokeStyle = AVG_COLOR;
    ctx.lineWidth = 2.25;
    ctx.lineJoin = "round";
    ctx.stroke();
    this.drawAccuracy(ctx, plot, sx);
    ctx.restore();
    if (this.cursor != null) {
      const x = Math.round(sx(Math.min(this.cursor, xMax))) + 0.5;
      ctx.strokeStyle = ACCENT;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, plot.y);
      ctx.lineTo(x, plot.y + plot.h);
      ctx.stroke();
    }
    if (this.hoverX != null) this.drawHover(ctx, plot, sx, sy, xMax, this.hoverX * W);
    return true;
  }

  drawFrame(ctx, plot, axes) {
    ctx.font = `11px ${FONT}`;
    ctx.lineWidth = 1;
    ctx.textBaseline = "middle";
    // right axis: accuracy 0–100 %
    ctx.textAlign = "left";
    for (let p = 0; p <= 100; p += 25) {
      const y = plot.y + plot.h * (1 - p / 100);
      ctx.fillStyle = rgba([95, 211, 154], 0.75);
      ctx.fillText(`${p}%`, plot.x + plot.w + 8, y);
    }
    if (axes) {
      const { scale, xMax, sx } = axes;
      ctx.textAlign = "right";
      for (const v of scale.ticks) {
        const y = plot.y + plot.h * (1 - scale.t(v));
        ctx.strokeStyle = rgba(INK, 0.07);
        ctx.beginPath();
        ctx.moveTo(plot.x, Math.round(y) + 0.5);
        ctx.lineTo(plot.x + plot.w, Math.round(y) + 0.5);
        ctx.stroke();
        ctx.fillStyle = rgba(INK, 0.6);
        ctx.fillText(fmtNum(v, 2), plot.x - 8, y);
      }
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      const step = niceStep(xMax, Math.max(2, Math.floor(plot.w / 90)));
      for (let it = 0; it <= xMax; it += step) {
        if (sx(it) > plot.x + plot.w - 95) break; // room for the axis name
        ctx.fillStyle = rgba(INK, 0.55);
        ctx.fillText(fmtGrouped(it), sx(it), plot.y + plot.h + 8);
      }
      ctx.textAlign = "right";
      ctx.fillStyle = rgba(INK, 0.6);
      ctx.fillText("iteration →", plot.x + plot.w, plot.y + plot.h + 8);
    }
    ctx.strokeStyle = rgba(INK, 0.4);
    ctx.beginPath();
    ctx.moveTo(plot.x + 0.5, plot.y);
    ctx.lineTo(plot.x + 0.5, plot.y + plot.h + 0.5);
    ctx.lineTo(plot.x + plot.w, plot.y + plot.h + 0.5);
    ctx.stroke();
    ctx.save();
    ctx.translate(12, plot.y + plot.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillStyle = rgba(INK, 0.55);
    ctx.fillText(this.log ? "cost C (log)" : "cost C", 0, 0);
    ctx.restore();
    ctx.textBaseline = "alphabetic";
    ctx.textAlign = "left";
  }

  drawMarkers(ctx, plot, sx) {
    for (const m of this.store.markers) {
      const x = Math.round(sx(m.iteration)) + 0.5;
      ctx.strokeStyle = rgba([255, 209, 102], 0.55);
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, plot.y);
      ctx.lineTo(x, plot.y + plot.h);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  /** What changed at each marker, in the band above the plot (outside its clip), where no curve is. */
  drawMarkerLabels(ctx, plot, sx) {
    let lastLabelX = -Infinity;
    ctx.font = `11px ${FONT}`;
    for (const m of this.store.markers) {
      const x = Math.round(sx(m.iteration)) + 0.5;
      if (x - lastLabelX > 110) {
        const text = shorten(m.text);
        const w = ctx.measureText(text).width;
        const tx = x + 4 + w > plot.x + plot.w ? x - 4 - w : x + 4;
        ctx.fillStyle = ACCENT;
        ctx.textBaseline = "bottom";
        ctx.fillText(text, tx, plot.y - 2);
        ctx.textBaseline = "alphabetic";
        this.labels?.push({ text, x: tx, y: plot.y - 2 - 11, w, h: 11 });
        lastLabelX = x;
      }
    }
  }

  drawAccuracy(ctx, plot, sx) {
    const acc = this.store.accuracy;
    const ay = (a) => plot.y + plot.h * (1 - a);
    // chance level on the accuracy axis (from the data: always guessing the commonest class)
    const outputs = this.store.sizes[this.store.sizes.length - 1];
    const chance = this.store.state?.chance_accuracy ?? (outputs ? 1 / outputs : null);
    if (chance != null) {
      const y = Math.round(ay(chance)) + 0.5;
      ctx.save();
      ctx.setLineDash([4, 4]);
      ctx.strokeStyle = rgba([95, 211, 154], 0.4);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(plot.x, y);
      ctx.lineTo(plot.x + plot.w, y);
      ctx.stroke();
      ctx.restore();
      // its value is in the legend ("chance 11%"): a label here would sit on the curve
      if (this.chanceText !== fmtPct(chance, 0)) {
        this.chanceText = fmtPct(chance, 0);
        const legend = document.getElementById("chance-legend");
        if (legend) legend.textContent = `chance ${this.chanceText}`;
      }
    }
    if (!acc.length) return;
    ctx.beginPath();
    acc.forEach(([it, a], i) => (i ? ctx.lineTo(sx(it), ay(a)) : ctx.moveTo(sx(it), ay(a))));
    ctx.strokeStyle = rgba([95, 211, 154], 0.85);
    ctx.lineWidth = 1.75;
    ctx.stroke();
    for (const [it, a, full] of acc) {
      ctx.beginPath();
      ctx.arc(sx(it), ay(a), full ? 3.5 : 2, 0, Math.PI * 2);
      ctx.fillStyle = full ? ACC_COLOR : rgba([95, 211, 154], 0.6);
      ctx.fill();
    }
  }

  drawHover(ctx, plot, sx, sy, xMax, hoverX) {
    const s = this.store.series;
    const it = ((hoverX - plot.x) / plot.w) * xMax;
    if (it < 0 || it > xMax * 1.02) return;
    const i = s.nearest(it);
    if (i < 0) return;
    const x = sx(s.iters[i]);
    ctx.strokeStyle = rgba(INK, 0.35);
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, plot.y);
    ctx.lineTo(Math.round(x) + 0.5, plot.y + plot.h);
    ctx.stroke();
    for (const [v, c] of [[s.values[i], POS], [this.avg[i], [143, 220, 240]]]) {
      ctx.beginPath();
      ctx.arc(x, sy(v), 3.5, 0, Math.PI * 2);
      ctx.fillStyle = rgba(c, 1);
      ctx.fill();
    }
    let acc = null;
    for (const [ai, a] of this.store.accuracy) if (ai <= s.iters[i]) acc = a;
    const lines = [
      `iteration ${fmtGrouped(s.iters[i])}${s.weights[i] > 1 ? ` (mean of ${Math.round(s.weights[i])})` : ""}`,
      `cost ${fmtNum(s.values[i], 4)}   average ${fmtNum(this.avg[i], 4)}`,
      `test accuracy ${fmtPct(acc)}`,
    ];
    const near = this.store.markers.find((m) => Math.abs(sx(m.iteration) - x) < 6);
    if (near) lines.push(`⚑ ${near.text}`);
    ctx.font = `12px ${FONT}`;
    const w = Math.max(...lines.map((t) => ctx.measureText(t).width)) + 16;
    const h = lines.length * 17 + 10;
    let bx = x + 12;
    if (bx + w > plot.x + plot.w) bx = x - 12 - w;
    const by = plot.y + 6;
    ctx.fillStyle = "rgba(10,13,20,0.92)";
    ctx.strokeStyle = rgba(INK, 0.2);
    ctx.beginPath();
    ctx.roundRect(bx, by, w, h, 6);
    ctx.fill();
    ctx.stroke();
    lines.forEach((t, k) => {
      ctx.fillStyle = k === 2 ? ACC_COLOR : k === 3 ? ACCENT : rgba(INK, 0.92);
      ctx.fillText(t, bx + 8, by + 20 + k * 17);
    });
  }
}

/** Words of `text` in lines no wider than `width` (the canvas has no text wrapping of its own). */
function wrapText(ctx, text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function shorten(text) {
  return text.length > 24 ? `${text.slice(0, 23)}…` : text;
}

function linearScale(max) {
  const step = niceStep(max, 4);
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(roundSig(v, 6));
  return { t: (v) => v / top, ticks };
}

function logScale(min, max) {
  const lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi === lo) hi = lo + 1;
  const ticks = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { t: (v) => (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo), ticks };
}
