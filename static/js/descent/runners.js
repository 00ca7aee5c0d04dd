// Gradient descent against SGD from one start: every runner's path on one PCA plane, and their costs
// against examples seen and against compute time. A momentum runner, when asked for, is drawn dashed and
// named "beyond the lecture".

import { INK, rgba } from "../lib/colors.js";
import { fitCanvas } from "../lib/dom.js";
import { axes } from "./plot.js";

const FONT = "11px system-ui, sans-serif";
export const RUNNER_COLORS = ["#ffffff", "#58c4dd", "#5fd39a", "#ff8c38", "#c792ea"];

export function runnerLabel(run) {
  return run.momentum != null ? `${run.name} (beyond the lecture)` : run.name;
}

function styleFor(ctx, run, i) {
  ctx.strokeStyle = RUNNER_COLORS[i % RUNNER_COLORS.length];
  ctx.lineWidth = 1.5;
  ctx.setLineDash(run.momentum != null ? [5, 3] : []);
}

function prep(canvas, w, h) {
  fitCanvas(canvas, w, h);
  const ctx = canvas.getContext("2d");
  const px = canvas.width / w;
  ctx.setTransform(px, 0, 0, px, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

/** The runners' paths on their shared plane (equal scales on both axes), with a legend that wraps. */
export function drawRunnerPaths(canvas, r, w, h) {
  const ctx = prep(canvas, w, h);
  ctx.font = FONT;
  ctx.fillStyle = rgba(INK, 0.8);
  ctx.textAlign = "left";
  ctx.fillText("paths on one PCA plane", 6, 12);
  const top = legend(ctx, r.runners, 6, 28, w - 6) + 6;
  const all = r.runners.flatMap((x) => x.path);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [xl, xh, yl, yh] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const pad = 10;
  const sc = Math.min((w - 2 * pad) / (xh - xl || 1), (h - top - pad) / (yh - yl || 1));
  const ox = (w - (xh - xl) * sc) / 2;
  const X = (a) => ox + (a - xl) * sc;
  const Y = (b) => h - pad - (b - yl) * sc;
  r.runners.forEach((run, i) => {
    ctx.beginPath();
    run.path.forEach(([a, b], k) => (k ? ctx.lineTo(X(a), Y(b)) : ctx.moveTo(X(a), Y(b))));
    styleFor(ctx, run, i);
    ctx.stroke();
  });
  ctx.setLineDash([]);
  if (all.length) {
    ctx.fillStyle = "#ffd166";
    ctx.beginPath();
    ctx.arc(X(r.runners[0].path[0][0]), Y(r.runners[0].path[0][1]), 4, 0, Math.PI * 2);
    ctx.fill();
  }
}

/** Cost against `key` ("examples" or "seconds") for every runner. */
export function drawRunnerCosts(canvas, r, w, h, key, label) {
  const ctx = prep(canvas, w, h);
  const costs = r.runners.flatMap((x) => x.costs.filter((c) => c != null && Number.isFinite(c)));
  const lo = Math.min(...costs);
  const hi = Math.max(...costs);
  const xm = Math.max(...r.runners.map((x) => x[key][x[key].length - 1] || 0)) || 1;
  const plot = { x: 46, y: 8, w: w - 54, h: h - 28 };
  axes(ctx, plot, [lo, hi], [0, xm], label, "C");
  r.runners.forEach((run, i) => {
    ctx.beginPath();
    let on = false;
    run.costs.forEach((c, k) => {
      if (c == null) return void (on = false);
      const x = plot.x + (run[key][k] / xm) * plot.w;
      const y = plot.y + plot.h * (1 - (c - lo) / (hi - lo || 1));
      on ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      on = true;
    });
    styleFor(ctx, run, i);
    ctx.stroke();
  });
  ctx.setLineDash([]);
}

/** Runner names in their colours, left to right, wrapping at `right`; returns the y under the last row. */
function legend(ctx, runners, x0, y, right) {
  ctx.font = FONT;
  ctx.textAlign = "left";
  let x = x0;
  runners.forEach((run, i) => {
    ctx.fillStyle = RUNNER_COLORS[i % RUNNER_COLORS.length];
    const label = runnerLabel(run);
    // a name too long for a row of its own breaks before its parenthesis
    const pieces = ctx.measureText(label).width > right - x0 && label.includes(" (") ? [label.slice(0, label.indexOf(" (")), label.slice(label.indexOf(" (") + 1)] : [label];
    pieces.forEach((name, k) => {
      const width = ctx.measureText(name).width;
      if (x > x0 && (k > 0 || x + width > right)) {
        x = x0;
        y += 14;
      }
      ctx.fillText(name, x, y);
      x += width + 12;
    });
  });
  return y;
}
