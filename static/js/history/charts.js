// Small line charts over the iteration axis for the diagnostics panel (log or linear y, bands).

import { ACCENT, INK, rgba } from "../lib/colors.js";
import { fitCanvas } from "../lib/dom.js";
import { fmtNum, supText } from "../lib/format.js";

const FONT = "11px system-ui, sans-serif";
export const LAYER_COLORS = ["#58c4dd", "#ff8c38", "#5fd39a", "#c792ea", "#ffd166", "#ff6b6b", "#8fdcf0", "#b8e986"];
const PAD = { l: 44, r: 8, t: 14, b: 16 };

/**
 * Draw on `canvas` (CSS size w×h): series [{color, points: [[x, y], …]}], bands [{color, lo: [[x, y]], hi}],
 * yBand [lo, hi] shaded across, log y when `log`. Returns the x mapping for clicks.
 */
export function drawSmallChart(canvas, w, h, { title, xMax, series = [], bands = [], yBand = null, log = false, yMin = null, yMax = null, cursor = null }) {
  fitCanvas(canvas, w, h);
  const ctx = canvas.getContext("2d");
  const px = canvas.width / w;
  ctx.setTransform(px, 0, 0, px, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const plot = { x: PAD.l, y: PAD.t, w: w - PAD.l - PAD.r, h: h - PAD.t - PAD.b };
  let lo = Infinity;
  let hi = -Infinity;
  const see = (v) => {
    if (v == null || !Number.isFinite(v) || (log && v <= 0)) return;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  };
  for (const s of series) for (const p of s.points) see(p[1]);
  for (const b of bands) for (const p of [...b.lo, ...b.hi]) see(p[1]);
  if (yBand) yBand.forEach(see);
  if (yMin != null) lo = yMin;
  if (yMax != null) hi = yMax;
  if (!(hi >= lo)) {
    lo = log ? 1e-3 : 0;
    hi = log ? 1 : 1;
  }
  if (hi === lo) hi = lo + (log ? lo : 1);
  const T = log ? Math.log10 : (v) => v;
  const tLo = log ? Math.floor(T(lo)) : lo;
  const tHi = log ? Math.ceil(T(hi)) : hi;
  const sx = (it) => plot.x + (Math.min(it, xMax) / Math.max(1, xMax)) * plot.w;
  const sy = (v) => plot.y + plot.h * (1 - (T(Math.max(v, log ? 1e-30 : -Infinity)) - tLo) / (tHi - tLo || 1));
  ctx.font = FONT;
  ctx.fillStyle = rgba(INK, 0.8);
  ctx.textAlign = "left";
  ctx.fillText(title, plot.x, 10);
  ctx.strokeStyle = rgba(INK, 0.16);
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w, plot.h);
  ctx.fillStyle = rgba(INK, 0.6);
  ctx.textAlign = "right";
  const ticks = log ? [] : [lo, (lo + hi) / 2, hi];
  if (log) for (let e = tLo; e <= tHi; e += Math.max(1, Math.ceil((tHi - tLo) / 3))) ticks.push(10 ** e);
  for (const v of ticks) {
    const y = sy(v);
    ctx.fillText(log ? `10${supText(String(Math.round(Math.log10(v))))}` : fmtTick(v), plot.x - 4, y + 3);
    ctx.strokeStyle = rgba(INK, 0.06);
    ctx.beginPath();
    ctx.moveTo(plot.x, y);
    ctx.lineTo(plot.x + plot.w, y);
    ctx.stroke();
  }
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  if (yBand) {
    ctx.fillStyle = "rgba(95, 211, 154, 0.13)";
    const y0 = sy(yBand[1]);
    ctx.fillRect(plot.x, y0, plot.w, sy(yBand[0]) - y0);
  }
  for (const b of bands) {
    if (!b.lo.length) continue;
    ctx.beginPath();
    b.lo.forEach(([x, y], i) => (i ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
    for (let i = b.hi.length - 1; i >= 0; i--) ctx.lineTo(sx(b.hi[i][0]), sy(b.hi[i][1]));
    ctx.closePath();
    ctx.fillStyle = b.color;
    ctx.fill();
  }
  for (const s of series) {
    ctx.beginPath();
    let started = false;
    for (const [x, y] of s.points) {
      if (y == null || !Number.isFinite(y) || (log && y <= 0)) {
        started = false;
        continue;
      }
      if (started) ctx.lineTo(sx(x), sy(y));
      else ctx.moveTo(sx(x), sy(y));
      started = true;
    }
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.75;
    ctx.stroke();
  }
  if (cursor != null) {
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(sx(cursor), plot.y);
    ctx.lineTo(sx(cursor), plot.y + plot.h);
    ctx.stroke();
  }
  ctx.restore();
  return (clientFraction) => Math.max(0, Math.min(1, (clientFraction * w - plot.x) / plot.w)) * xMax;
}

function fmtTick(v) {
  return fmtNum(v, 2);
}
