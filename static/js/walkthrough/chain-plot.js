// The simple example's plot: the cost C₀ of the one example as a function of the last weight w⁽ᴸ⁾ (the
// engine's curve, POST /api/walkthrough/curve), the current w as a point on it, and the tangent there
// whose slope is backprop's ∂C₀/∂w⁽ᴸ⁾. What was drawn is also left on the canvas (data-w, data-cost,
// data-slope, data-points) and said in its aria-label.

import { ACCENT, INK, rgba } from "../lib/colors.js";
import { el, fitCanvas, observeSize, pixelRatio } from "../lib/dom.js";
import { fmtMath } from "../lib/format.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const PAD = { left: 34, right: 10, top: 18, bottom: 26 };

/** An axis tick: whole numbers as they are (with a real minus), others to 2 significant digits. */
const tick = (t) => (Number.isInteger(t) ? String(t).replace("-", "−") : fmtMath(t, 2));

export class ChainPlot {
  constructor() {
    this.canvas = el("canvas", { class: "chain-plot", "data-testid": "chain-plot", role: "img", "aria-label": "The cost C₀ as a function of w⁽ᴸ⁾: loading." });
    this.wrap = el("div", { class: "chain-plot-wrap" }, this.canvas);
    this.curve = null; // {values, costs}
    this.state = null; // {w, cost, slope, range}
    this.size = [0, 0];
    observeSize(this.wrap, (w, h) => {
      this.size = [w, h];
      this.draw();
    });
  }

  clear() {
    this.curve = null;
    this.draw();
  }

  setCurve(curve) {
    this.curve = curve;
    this.draw();
  }

  set(state) {
    this.state = state;
    this.draw();
  }

  draw() {
    const [cssW, cssH] = this.size;
    if (cssW < 40 || cssH < 40) return;
    fitCanvas(this.canvas, cssW, cssH);
    const ctx = this.canvas.getContext("2d");
    const dpr = pixelRatio();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const s = this.state;
    if (!s) return;
    const costs = this.curve ? this.curve.costs.filter((c) => c != null) : [];
    const lo = -s.range;
    const hi = s.range;
    const top = Math.max(s.cost, ...costs) * 1.08 || 1;
    ctx.font = `11px ${FONT}`;
    const yTicks = [0, top / 2, top].map((c) => [c, fmtMath(c, 2)]);
    const x0 = Math.max(PAD.left, 10 + Math.max(...yTicks.map(([, t]) => ctx.measureText(t).width))); // room for "1.8×10⁻⁴"
    const x1 = cssW - PAD.right;
    const y0 = cssH - PAD.bottom;
    const y1 = PAD.top;
    const X = (w) => x0 + ((w - lo) / (hi - lo)) * (x1 - x0);
    const Y = (c) => y0 - (c / top) * (y0 - y1);

    // axes, ticks and their labels
    ctx.strokeStyle = rgba(INK, 0.35);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x0, y1);
    ctx.lineTo(x0, y0);
    ctx.lineTo(x1, y0);
    ctx.stroke();
    ctx.font = `11px ${FONT}`;
    ctx.fillStyle = rgba(INK, 0.72);
    ctx.textAlign = "center";
    const step = s.range <= 6 ? 2 : s.range <= 15 ? 5 : 10 ** Math.floor(Math.log10(s.range));
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
      ctx.fillRect(X(t) - 0.5, y0, 1, 4);
      ctx.fillText(tick(t), X(t), y0 + 15);
    }
    ctx.textAlign = "right";
    for (const [c, text] of yTicks) {
      ctx.fillRect(x0 - 4, Y(c) - 0.5, 4, 1);
      ctx.fillText(text, x0 - 6, Y(c) + 4);
    }
    ctx.textAlign = "left";
    ctx.fillText("C₀", x0 + 5, y1 - 6);
    ctx.textAlign = "right";
    ctx.fillText("w⁽ᴸ⁾", x1, y0 - 5);
    ctx.textAlign = "left";

    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, y1 - 2, x1 - x0, y0 - y1 + 2);
    ctx.clip();
    // the curve C₀(w), as the engine computed it
    if (this.curve) {
      ctx.strokeStyle = rgba(INK, 0.9);
      ctx.lineWidth = 2;
      ctx.beginPath();
      let pen = false;
      this.curve.values.forEach((w, i) => {
        const c = this.curve.costs[i];
        if (c == null) return void (pen = false);
        if (pen) ctx.lineTo(X(w), Y(c));
        else ctx.moveTo(X(w), Y(c));
        pen = true;
      });
      ctx.stroke();
    }
    // the tangent at the current w: C₀(w) + slope · (v − w), over a third of the range each way
    const half = (hi - lo) / 3;
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2;
    ctx.setLineDash([7, 4]);
    ctx.beginPath();
    ctx.moveTo(X(s.w - half), Y(s.cost - s.slope * half));
    ctx.lineTo(X(s.w + half), Y(s.cost + s.slope * half));
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.restore();
    // the current point
    ctx.fillStyle = ACCENT;
    ctx.beginPath();
    ctx.arc(X(Math.max(lo, Math.min(hi, s.w))), Y(s.cost), 5, 0, Math.PI * 2);
    ctx.fill();

    Object.assign(this.canvas.dataset, { w: String(s.w), cost: String(s.cost), slope: String(s.slope), points: String(this.curve ? this.curve.values.length : 0), range: String(s.range) });
    this.canvas.setAttribute("aria-label", `The cost C₀ as a function of w⁽ᴸ⁾ from ${fmtMath(lo, 3)} to ${fmtMath(hi, 3)}${this.curve ? "" : " (the curve is loading)"}; at w⁽ᴸ⁾ = ${fmtMath(s.w, 4)}, C₀ = ${fmtMath(s.cost, 4)} and the dashed tangent has slope ${fmtMath(s.slope, 4)}.`);
  }
}
