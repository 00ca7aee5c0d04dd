// The slice of the cost surface as a heat map with contours, the recorded path projected on it, −∇C,
// and beside it the path's two costs: the cost each point really had, and the slice's cost under it.
// A path point lies off the plane in general, so the two differ; each dot is filled with the colour of
// its own cost on the slice's colour scale, so where it stands out from the background the slice is
// only an approximation there. Path entries: [α, β, own cost, iteration, slice cost, distance].

import { ACCENT, INK, NEG, POS, rgba } from "../lib/colors.js";
import { fmtGrouped, fmtNum, fmtSigned } from "../lib/format.js";
import { contourSegments, costScale, ramp } from "./plot.js";

const FONT = "11px system-ui, sans-serif";
const SLICE = rgba(POS);
const OWN = "#ffffff";
const GAP = rgba(NEG, 0.85);

/** Where the heat map goes in a w × h box, and α, β ↔ canvas (grid nodes at cell centres). */
export function sliceGeometry(s, w, h) {
  const size = Math.max(40, Math.min(w - 36 - 64, h - 20));
  const plot = { x: 36, y: 4, w: size, h: size };
  const C = s.alphas.length;
  const R = s.betas.length;
  const da = (s.alphas[C - 1] - s.alphas[0]) / Math.max(1, C - 1) || 1;
  const db = (s.betas[R - 1] - s.betas[0]) / Math.max(1, R - 1) || 1;
  const a0 = s.alphas[0] - da / 2;
  const b0 = s.betas[0] - db / 2;
  const ax = (a) => plot.x + ((a - a0) / (da * C)) * plot.w;
  const by = (b) => plot.y + plot.h - ((b - b0) / (db * R)) * plot.h;
  return { plot, ax, by };
}

export function drawSlice(ctx, s, w, h, selected) {
  const geo = sliceGeometry(s, w, h);
  const { plot, ax, by } = geo;
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
  sliceAxes(ctx, s, plot);
  const path = s.path || [];
  if (path.length) {
    ctx.beginPath();
    path.forEach(([a, b], i) => (i ? ctx.lineTo(ax(a), by(b)) : ctx.moveTo(ax(a), by(b))));
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    path.forEach(([a, b, own], i) => {
      const [r, g, bl] = own == null ? [255, 255, 255] : ramp(scale.t(own));
      ctx.fillStyle = `rgb(${r | 0},${g | 0},${bl | 0})`;
      ctx.strokeStyle = i === selected ? ACCENT : "#ffffff";
      ctx.lineWidth = i === selected ? 2.5 : 1.2;
      ctx.beginPath();
      ctx.arc(ax(a), by(b), i === selected ? 6.5 : 4, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
    });
    ctx.font = FONT;
    ctx.fillStyle = "#ffffff";
    const [sa, sb] = path[0];
    ctx.textAlign = ax(sa) > plot.x + plot.w - 40 ? "right" : "left";
    ctx.fillText("start", ax(sa) + (ctx.textAlign === "right" ? -7 : 7), by(sb) + 4);
    ctx.textAlign = "left";
  }
  // the current point and −∇C
  ctx.fillStyle = ACCENT;
  ctx.beginPath();
  ctx.arc(ax(0), by(0), 4.5, 0, Math.PI * 2);
  ctx.fill();
  if (s.gradient) {
    const [ga, gb] = s.gradient;
    const n = Math.hypot(ga, gb) || 1;
    const len = plot.w * 0.16;
    const x1 = ax(0) + (ga / n) * len;
    const y1 = by(0) - (gb / n) * len;
    arrow(ctx, ax(0), by(0), x1, y1, ACCENT);
    ctx.fillStyle = ACCENT;
    ctx.font = FONT;
    ctx.textAlign = x1 > plot.x + plot.w - 30 ? "right" : "left";
    ctx.fillText("−∇C", x1 + (ctx.textAlign === "right" ? -4 : 4), y1 - 4);
    ctx.textAlign = "left";
  }
  // colour key
  const kx = plot.x + plot.w + 10;
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
  if (s.partial) {
    ctx.fillStyle = "rgba(0,0,0,0.55)";
    ctx.fillRect(plot.x + 2, plot.y + 2, 62, 16);
    ctx.fillStyle = "#ffffff";
    ctx.fillText("refining…", plot.x + 6, plot.y + 14);
  }
  return geo;
}

function sliceAxes(ctx, s, plot) {
  ctx.fillStyle = rgba(INK, 0.6);
  ctx.font = FONT;
  ctx.textAlign = "right";
  ctx.fillText(fmtNum(s.betas[s.betas.length - 1], 2), plot.x - 4, plot.y + 9);
  ctx.fillText(fmtNum(s.betas[0], 2), plot.x - 4, plot.y + plot.h);
  ctx.fillText("β", plot.x - 4, plot.y + plot.h / 2 + 4);
  ctx.textAlign = "left";
  ctx.fillText(fmtNum(s.alphas[0], 2), plot.x, plot.y + plot.h + 13);
  ctx.textAlign = "right";
  ctx.fillText(fmtNum(s.alphas[s.alphas.length - 1], 2), plot.x + plot.w, plot.y + plot.h + 13);
  ctx.textAlign = "center";
  ctx.fillText("α", plot.x + plot.w / 2, plot.y + plot.h + 13);
  ctx.textAlign = "left";
}

/** The index of the path point nearest (x, y) on the heat map, within `radius` CSS pixels, or null. */
export function nearestPathPoint(s, geo, x, y, radius = 14) {
  let best = null;
  let bestD = radius;
  (s?.path || []).forEach(([a, b], i) => {
    const d = Math.hypot(geo.ax(a) - x, geo.by(b) - y);
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}

/** The chart beside the slice: along the path, each point's own cost and the slice's cost under it. */
export function pathCostsGeometry(path, w, h) {
  const plot = { x: 44, y: 28, w: Math.max(20, w - 52), h: Math.max(20, h - 50) };
  const n = path.length;
  const px = (i) => plot.x + (n > 1 ? (i / (n - 1)) * plot.w : plot.w / 2);
  return { plot, px };
}

export function drawPathCosts(ctx, path, w, h, selected) {
  const { plot, px } = pathCostsGeometry(path, w, h);
  const values = path.flatMap((p) => [p[2], p[4]]).filter((v) => v != null && Number.isFinite(v));
  ctx.font = FONT;
  const rows = legendRow(ctx, [[OWN, "its own cost", false], [SLICE, "the slice under it", true], [GAP, "difference", null]], 4, 12, w);
  plot.y += 14 * (rows - 1);
  plot.h -= 14 * (rows - 1);
  if (!values.length) return { plot, px };
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const log = lo > 0 && hi / lo > 4;
  const f = log ? Math.log : (v) => v;
  if (!(hi > lo)) {
    hi = lo + 1e-9;
    lo -= 1e-9;
  }
  const y = (v) => plot.y + plot.h * (1 - (f(v) - f(lo)) / (f(hi) - f(lo)));
  ctx.strokeStyle = rgba(INK, 0.2);
  ctx.lineWidth = 1;
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w, plot.h);
  ctx.fillStyle = rgba(INK, 0.65);
  ctx.textAlign = "right";
  ctx.fillText(fmtNum(hi, 3), plot.x - 4, plot.y + 9);
  ctx.fillText(fmtNum(lo, 3), plot.x - 4, plot.y + plot.h);
  ctx.fillText(log ? "C (log)" : "C", plot.x - 4, plot.y + plot.h / 2 + 4);
  ctx.textAlign = "left";
  ctx.fillText(`it ${fmtGrouped(path[0][3])}`, plot.x, plot.y + plot.h + 13);
  ctx.textAlign = "right";
  ctx.fillText(`now, it ${fmtGrouped(path[path.length - 1][3])}`, plot.x + plot.w, plot.y + plot.h + 13);
  if (plot.w > 260) {
    ctx.textAlign = "center";
    ctx.fillText("path points", plot.x + plot.w / 2, plot.y + plot.h + 13);
  }
  ctx.textAlign = "left";
  if (selected != null && path[selected]) {
    ctx.fillStyle = rgba(INK, 0.12);
    ctx.fillRect(px(selected) - 4, plot.y, 8, plot.h);
  }
  // the difference at each point
  ctx.strokeStyle = GAP;
  ctx.lineWidth = 2;
  ctx.beginPath();
  path.forEach((p, i) => {
    if (p[2] == null || p[4] == null) return;
    ctx.moveTo(px(i), y(p[2]));
    ctx.lineTo(px(i), y(p[4]));
  });
  ctx.stroke();
  for (const [k, color, dash] of [[4, SLICE, [4, 3]], [2, OWN, []]]) {
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let on = false;
    path.forEach((p, i) => {
      if (p[k] == null) return void (on = false);
      on ? ctx.lineTo(px(i), y(p[k])) : ctx.moveTo(px(i), y(p[k]));
      on = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    path.forEach((p, i) => {
      if (p[k] == null) return;
      ctx.beginPath();
      ctx.arc(px(i), y(p[k]), i === selected ? 4 : 2.2, 0, Math.PI * 2);
      ctx.fill();
    });
  }
  return { plot, px };
}

/** Legend items left to right from (x0, y), wrapping before `right`; returns the number of rows. */
function legendRow(ctx, items, x0, y, right) {
  ctx.textAlign = "left";
  let x = x0;
  let rows = 1;
  for (const [color, label, dashed] of items) {
    if (x > x0 && x + 18 + ctx.measureText(label).width > right) {
      x = x0;
      y += 14;
      rows += 1;
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = dashed == null ? 2.5 : 1.5;
    ctx.setLineDash(dashed ? [4, 3] : []);
    ctx.beginPath();
    if (dashed == null) {
      ctx.moveTo(x + 7, y - 8);
      ctx.lineTo(x + 7, y + 2);
    } else {
      ctx.moveTo(x, y - 3);
      ctx.lineTo(x + 14, y - 3);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = rgba(INK, 0.8);
    ctx.fillText(label, x + 18, y + 1);
    x += 18 + ctx.measureText(label).width + 12;
  }
  return rows;
}

/** One line about path point i: its own cost, the slice's under it, the difference, the distance. */
export function describePoint(p, exact) {
  const [, , own, iteration, slice, distance] = p;
  const gap = own != null && slice != null ? ` (${fmtSigned(slice - own, 3)})` : "";
  const off = exact ? "its other weights differ from now, so" : distance > 0 ? `it lies ${fmtNum(distance, 3)} off the plane, so` : "it lies on the plane, so";
  const verdict = distance > 0 || exact ? "the slice only approximates it" : "the slice is exact here";
  return `iteration ${fmtGrouped(iteration)}: its own cost ${fmtNum(own, 4)} · the slice under it ${fmtNum(slice, 4)}${gap} — ${off} ${verdict}`;
}

/** A line about the whole path: where the slice is furthest from the costs the path really had. */
export function describePath(path) {
  let worst = null;
  for (const p of path) if (p[2] != null && p[4] != null && (worst == null || Math.abs(p[4] - p[2]) > Math.abs(worst[4] - worst[2]))) worst = p;
  if (!worst) return "";
  return `Each dot is coloured by the cost the network really had there, the background by the slice's. Along the path they differ by up to ${fmtNum(Math.abs(worst[4] - worst[2]), 3)} (iteration ${fmtGrouped(worst[3])}): hover or tap a dot.`;
}

export function arrow(ctx, x0, y0, x1, y1, color) {
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
