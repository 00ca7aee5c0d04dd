// Gradient descent against SGD from one start: every runner's path on one PCA plane, and their costs
// against examples seen and against compute time. A momentum runner, when asked for, is drawn dashed and
// named "beyond the lecture".

import { INK, rgba } from "../lib/colors.js";
import { fitCanvas } from "../lib/dom.js";
import { fmtNum } from "../lib/format.js";
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

/**
 * Cost against `key` ("examples" or "seconds") for every runner, under the title `label`. The start's cost
 * often towers over everything after it (a fresh network: C ≈ 3, then ≈ 0.9), which would flatten the race
 * into the floor: then the axis is fitted to the costs after the start, the first segments run off the top,
 * and a note says where they start. Returns {boxes: the texts drawn ({text, x, y, w, h}), clipped, hi}.
 */
export function drawRunnerCosts(canvas, r, w, h, key, label) {
  const ctx = prep(canvas, w, h);
  const finite = (c) => c != null && Number.isFinite(c);
  const costs = r.runners.flatMap((x) => x.costs.filter(finite));
  const later = r.runners.flatMap((x) => x.costs.slice(1).filter(finite));
  const lo = Math.min(...costs);
  const top = Math.max(...costs);
  const rest = later.length ? Math.max(...later) : top;
  const clipped = top - lo > 3 * (rest - lo) && rest > lo;
  const hi = clipped ? rest + 0.1 * (rest - lo) : top;
  const xm = Math.max(...r.runners.map((x) => x[key][x[key].length - 1] || 0)) || 1;
  // examples seen on a log axis: SGD at batch 1 sees 50 where gradient descent sees 50,000 — on a linear
  // axis its whole run would sit on the y axis
  const logX = key === "examples" && xm > 10;
  const x0 = logX ? 1 : 0;
  const xf = logX ? (v) => Math.log10(Math.max(1, v)) : (v) => v;
  const X = (v) => plot.x + ((xf(v) - xf(x0)) / (xf(xm) - xf(x0) || 1)) * plot.w;
  if (logX) label = `${label} (log scale)`;
  const plot = { x: 46, y: 24, w: w - 54, h: h - 44 };
  ctx.font = FONT;
  ctx.fillStyle = rgba(INK, 0.8);
  ctx.textAlign = "left";
  ctx.fillText(label, 6, 12);
  const boxes = [{ text: label, x: 6, y: 3, w: ctx.measureText(label).width, h: 11 }];
  if (clipped) {
    const note = `↑ starts at C = ${fmtNum(top, 3)}`;
    ctx.fillStyle = "#ffd166";
    ctx.textAlign = "right";
    const nw = ctx.measureText(note).width;
    if (6 + boxes[0].w + 10 + nw <= w - 4) {
      ctx.fillText(note, w - 4, 12);
      boxes.push({ text: note, x: w - 4 - nw, y: 3, w: nw, h: 11 });
    } else { // inside the plot's top right, away from the start (top left) and the costs, now low
      ctx.fillText(note, plot.x + plot.w - 4, plot.y + 13);
      boxes.push({ text: note, x: plot.x + plot.w - 4 - nw, y: plot.y + 4, w: nw, h: 11 });
    }
    ctx.textAlign = "left";
  }
  boxes.push(...axes(ctx, plot, [lo, hi], [x0, xm], "", "C"));
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w + 1, plot.h + 1);
  ctx.clip();
  r.runners.forEach((run, i) => {
    ctx.beginPath();
    let on = false;
    run.costs.forEach((c, k) => {
      if (c == null) return void (on = false);
      const x = X(run[key][k]);
      const y = plot.y + plot.h * (1 - (c - lo) / (hi - lo || 1));
      on ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      on = true;
    });
    styleFor(ctx, run, i);
    ctx.stroke();
  });
  ctx.restore();
  ctx.setLineDash([]);
  return { boxes, clipped, hi };
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
