// The slice as a 3-D surface, like the lecture's picture of "the graph of this multivariable function":
// height and colour = cost, rotatable by dragging or with the arrow keys. The path sits on the surface
// at the slice's cost under each point, with a stalk up (or down) to the cost the network really had.

import { ACCENT, INK, NEG, rgba } from "../lib/colors.js";
import { costScale, ramp } from "./plot.js";

const FONT = "11px system-ui, sans-serif";

/** Drag or arrow keys on `canvas` turn `view` ({yaw, pitch}); `redraw()` after each turn. */
export function rotatable(canvas, view, redraw) {
  let last = null;
  canvas.addEventListener("pointerdown", (e) => {
    last = [e.clientX, e.clientY];
    canvas.setPointerCapture?.(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!last || !(e.buttons & 1)) return;
    view.yaw += (e.clientX - last[0]) * 0.01;
    view.pitch = Math.max(0.1, Math.min(1.5, view.pitch + (e.clientY - last[1]) * 0.01));
    last = [e.clientX, e.clientY];
    redraw();
  });
  canvas.addEventListener("pointerup", () => (last = null));
  canvas.addEventListener("keydown", (e) => {
    const d = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] }[e.key];
    if (!d) return;
    e.preventDefault();
    e.stopPropagation(); // → turns the surface here, it does not step the training
    view.yaw += d[0];
    view.pitch = Math.max(0.1, Math.min(1.5, view.pitch + d[1]));
    redraw();
  });
}

export function drawSurface3d(ctx, s, w, h, view, selected) {
  const R = s.costs.length;
  const C = s.costs[0].length;
  const scale = costScale(s.costs);
  const cy = Math.cos(view.yaw), sy = Math.sin(view.yaw), cp = Math.cos(view.pitch), sp = Math.sin(view.pitch);
  const H = h - 34; // the two lines of text at the bottom
  const k = Math.min(w, H) * 0.4;
  const proj = (x, y, z) => {
    // x, y in -1..1 (α, β), z in 0..1 (cost, scaled)
    const X = x * cy - y * sy;
    const Y = x * sy + y * cy;
    return [w / 2 + X * k, H * 0.6 - (Y * cp * 0.9 + (z - 0.4) * sp * 1.1) * k * 0.9];
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
  // α, β → the surface's -1..1 square
  const a0 = s.alphas[0], a1 = s.alphas[s.alphas.length - 1];
  const b0 = s.betas[0], b1 = s.betas[s.betas.length - 1];
  const at = (a, b, cost) => proj(((a - a0) / (a1 - a0)) * 2 - 1, ((b - b0) / (b1 - b0)) * 2 - 1, Math.min(1.3, scale.t(cost ?? scale.hi)));
  const path = s.path || [];
  if (path.length) {
    // stalks: from the slice under each point to the cost it really had
    ctx.strokeStyle = rgba(NEG, 0.9);
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (const [a, b, own, , slice] of path) {
      if (own == null || slice == null) continue;
      const [x0, y0] = at(a, b, slice);
      const [x1, y1] = at(a, b, own);
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
    }
    ctx.stroke();
    ctx.beginPath();
    path.forEach(([a, b, , , slice], i) => {
      const [x, y] = at(a, b, slice);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.strokeStyle = "#ffffff";
    ctx.lineWidth = 1.5;
    ctx.stroke();
    path.forEach(([a, b, own], i) => {
      if (own == null) return;
      const [x, y] = at(a, b, own);
      ctx.fillStyle = i === selected ? ACCENT : "#ffffff";
      ctx.beginPath();
      ctx.arc(x, y, i === selected ? 4.5 : 2.5, 0, Math.PI * 2);
      ctx.fill();
    });
  }
  const [x, y] = at(0, 0, s.center_cost ?? s.costs[R >> 1][C >> 1]);
  ctx.fillStyle = ACCENT;
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, Math.PI * 2);
  ctx.fill();
  ctx.fillStyle = rgba(INK, 0.7);
  ctx.font = FONT;
  ctx.textAlign = "left";
  ctx.fillText("drag or arrow keys: rotate · height, colour: cost", 8, h - 8);
  if (path.length) ctx.fillText("white: the path on the slice · stalks: the cost it really had", 8, h - 22);
}
