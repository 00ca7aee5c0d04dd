// Drawing helpers for the Descent view: a colour ramp, a heat map, contours (marching squares), axes.

import { INK, rgba } from "../lib/colors.js";
import { fmtNum } from "../lib/format.js";

const FONT = "11px system-ui, sans-serif";

const STOPS = [[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137], [219, 92, 104], [244, 136, 73], [254, 188, 43], [240, 249, 33]];

/** Colour of t in 0..1 (plasma-like: dark = low cost). */
export function ramp(t) {
  t = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(t));
  const f = t - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** A scale from cost to 0..1 over the finite values of `grid` (log when they span > 20×). */
export function costScale(grid) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of grid) for (const v of row) if (v != null && Number.isFinite(v)) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(hi > lo)) return { t: () => 0.5, lo, hi, log: false };
  const log = lo > 0 && hi / lo > 20;
  const f = log ? Math.log : (v) => v;
  const a = f(lo);
  const b = f(hi);
  return { t: (v) => (v == null || !Number.isFinite(v) ? 1 : (f(Math.max(v, lo)) - a) / (b - a)), lo, hi, log, inverse: (t) => (log ? Math.exp(a + (b - a) * t) : a + (b - a) * t) };
}

/** Contour segments of `grid` (rows = β) at `level`, in grid coordinates (x = column, y = row). */
export function contourSegments(grid, level) {
  const segs = [];
  const R = grid.length;
  const C = grid[0]?.length || 0;
  const val = (r, c) => {
    const v = grid[r][c];
    return v == null || !Number.isFinite(v) ? 1e300 : v;
  };
  for (let r = 0; r < R - 1; r++) {
    for (let c = 0; c < C - 1; c++) {
      const v = [val(r, c), val(r, c + 1), val(r + 1, c + 1), val(r + 1, c)];
      const pts = [];
      const corners = [[c, r], [c + 1, r], [c + 1, r + 1], [c, r + 1]];
      for (let e = 0; e < 4; e++) {
        const a = v[e];
        const b = v[(e + 1) % 4];
        if ((a < level) !== (b < level)) {
          const t = (level - a) / (b - a);
          const p = corners[e];
          const q = corners[(e + 1) % 4];
          pts.push([p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t]);
        }
      }
      if (pts.length >= 2) segs.push([pts[0], pts[1]]);
      if (pts.length === 4) segs.push([pts[2], pts[3]]);
    }
  }
  return segs;
}

/**
 * A frame with the y range [lo, hi] and the x range [x0, x1] labelled at its corners; the x axis's name
 * (`xLabel`, may be "") goes between its two numbers when it fits there, else it is left out (say it in a
 * title). Returns the boxes of the texts drawn ({text, x, y, w, h}, y = top).
 */
export function axes(ctx, plot, [lo, hi], [x0, x1], xLabel, yLabel) {
  const boxes = [];
  // textAlign "left" or "right" at (x, baseline y)
  const put = (text, x, y, align) => {
    ctx.textAlign = align;
    ctx.fillText(text, x, y);
    const w = ctx.measureText(text).width;
    boxes.push({ text, x: align === "right" ? x - w : x, y: y - 9, w, h: 11 });
  };
  ctx.strokeStyle = rgba(INK, 0.2);
  ctx.lineWidth = 1;
  ctx.setLineDash([]);
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w, plot.h);
  ctx.fillStyle = rgba(INK, 0.65);
  ctx.font = FONT;
  put(fmtNum(hi, 3), plot.x - 4, plot.y + 9, "right");
  put(fmtNum(lo, 3), plot.x - 4, plot.y + plot.h, "right");
  if (plot.h >= 44) put(yLabel, plot.x - 4, plot.y + plot.h / 2 + 4, "right");
  const y = plot.y + plot.h + 13;
  const left = fmtNum(x0, 3);
  const right = fmtNum(x1, 3);
  const both = xLabel ? `${xLabel} ${right}` : right;
  const gap = plot.w - ctx.measureText(left).width - 10;
  put(left, plot.x, y, "left");
  put(ctx.measureText(both).width <= gap ? both : right, plot.x + plot.w, y, "right");
  ctx.textAlign = "left";
  return boxes;
}
