// A small picture of the plane for the walkthrough on a plane dataset: the network's decision map (the
// plane view's background), the training points faintly, the walked point, and optionally an arrow from
// it — the way moving the point would lower its cost (−∂C₀/∂x), or any other direction.

import { ACCENT, BG, INK, POS, classColor, rgba } from "../lib/colors.js";
import { el } from "../lib/dom.js";

/**
 * A canvas `side` CSS px wide: planeMaps' decision picture over [−e, e]², the training points as dots
 * (not in a thumbnail),
 * `point` [x, y] marked, and `arrow` [dx, dy] (drawn with a fixed length; its sign colours it).
 */
export function planeFigure(planeMaps, store, point, { arrow = null, side = 132, cls = "wt-plane-fig", label = "" } = {}) {
  const dpr = Math.min(3, window.devicePixelRatio || 1);
  const canvas = el("canvas", { class: cls, width: String(Math.round(side * dpr)), height: String(Math.round(side * dpr)), role: "img", "aria-label": label });
  canvas.style.width = `${side}px`;
  canvas.style.height = `${side}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const e = planeMaps?.extent || 1;
  const toPx = (x, y) => [((x + e) / (2 * e)) * side, ((e - y) / (2 * e)) * side];
  ctx.fillStyle = rgba(BG, 1);
  ctx.fillRect(0, 0, side, side);
  const pictures = planeMaps?.active ? planeMaps.pictures() : null;
  if (pictures) {
    ctx.globalAlpha = 0.85;
    ctx.drawImage(pictures.decision, 0, 0, side, side);
    ctx.globalAlpha = 1;
  }
  const pts = side >= 80 ? store.points : null; // in a thumbnail the points would hide the map
  if (pts) {
    for (let i = 0; i < pts.y.length; i++) {
      const [px, py] = toPx(pts.x[2 * i], pts.x[2 * i + 1]);
      ctx.fillStyle = classColor(pts.y[i], 0.55);
      ctx.fillRect(px - 1, py - 1, 2, 2);
    }
  }
  if (point) {
    const [sx, sy] = toPx(point[0], point[1]);
    if (arrow && (arrow[0] || arrow[1])) {
      const n = Math.hypot(arrow[0], arrow[1]);
      const len = side * 0.28;
      const ex = sx + (arrow[0] / n) * len;
      const ey = sy - (arrow[1] / n) * len;
      ctx.strokeStyle = rgba(POS, 1);
      ctx.fillStyle = rgba(POS, 1);
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.moveTo(sx, sy);
      ctx.lineTo(ex, ey);
      ctx.stroke();
      const ang = Math.atan2(ey - sy, ex - sx);
      ctx.beginPath();
      ctx.moveTo(ex, ey);
      ctx.lineTo(ex - 9 * Math.cos(ang - 0.45), ey - 9 * Math.sin(ang - 0.45));
      ctx.lineTo(ex - 9 * Math.cos(ang + 0.45), ey - 9 * Math.sin(ang + 0.45));
      ctx.closePath();
      ctx.fill();
    }
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(sx - 7, sy);
    ctx.lineTo(sx + 7, sy);
    ctx.moveTo(sx, sy - 7);
    ctx.lineTo(sx, sy + 7);
    ctx.stroke();
  }
  ctx.strokeStyle = rgba(INK, 0.25);
  ctx.lineWidth = 1;
  ctx.strokeRect(0.5, 0.5, side - 1, side - 1);
  return canvas;
}
