// The cost along the negative gradient, C(θ − t∇C) for t from 0: the current η and the best step marked,
// so the student sees whether this η undershoots, lands in the valley or overshoots.

import { ACCENT } from "../lib/colors.js";
import { fmtGrouped, fmtNum } from "../lib/format.js";
import { axes } from "./plot.js";

const FONT = "11px system-ui, sans-serif";

/** Draw the line `d` (POST /api/descent/line's answer) on ctx (w × h CSS pixels); returns its caption. */
export function drawLine(ctx, d, w, h) {
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
  const atEnd = d.best_step >= tMax * (1 - 1e-9); // still falling at the right edge: the best step lies further
  mark(d.best_step, "#5fd39a", atEnd ? `lowest at the edge: best t ≥ ${fmtNum(tMax, 3)}` : `best t ≈ ${fmtNum(d.best_step, 3)}`, false);
  mark(d.learning_rate, ACCENT, `η = ${fmtNum(d.learning_rate, 3)}`, true);
  const atEta = interp(d.learning_rate);
  const verdict = atEta > c0 ? "overshoots: the step lands higher than it started" : d.best_step != null && d.learning_rate < d.best_step * 0.5 ? "undershoots: a longer step would go further down" : "lands in the valley";
  return `iteration ${fmtGrouped(d.iteration)} · first ${d.examples} training images · ‖∇C‖ = ${fmtNum(d.gradient_norm, 3)} · C(θ) = ${fmtNum(c0, 4)} → C(θ − η∇C) = ${fmtNum(atEta, 4)}: this η ${verdict}`;
}
