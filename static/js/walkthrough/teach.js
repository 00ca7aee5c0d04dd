// "Teach it my digit": draw, say which digit it is, run one backprop step on that single example and
// watch the prediction and the probabilities move (before → after). Repeatable; Undo restores.
// The same drawing can be walked through (the "Drawing" example). On a dataset of the plane the pad is
// the plane itself ("Teach it a point"): click to place a point, pick its class, teach or walk it.
// Labels are the dataset's class names.

import { el, setText } from "../lib/dom.js";
import { fmtFixed, fmtMath, fmtPct, withArticle } from "../lib/format.js";
import { api } from "../net/walkthrough-api.js";
import { DrawPad } from "../widgets/draw-pad.js";
import { ProbBars } from "../widgets/prob-bars.js";
import { planeFigure } from "./plane-figure.js";

const pct = (p) => fmtPct(p, p < 0.095 ? 1 : 0);
const PLANE_SIDE = 240; // CSS px of the plane pad (it shrinks with the card)

export class TeachCard {
  /** h: {lr(), taught(result), undo(), walk({request, label}), error(message), planeMaps, store} */
  constructor(node, h) {
    this.h = h;
    this.label = null;
    this.count = 0;
    this.point = null; // on the plane: [x, y]
    this.words = null;
    this.canvas = el("canvas", { id: "wt-pad", "data-testid": "wt-pad", width: "336", height: "336", "aria-label": "Drawing pad for teaching: draw a digit." });
    this.pad = new DrawPad(this.canvas, { onBegin: () => this.changed(), onStrokeEnd: () => this.guess() });
    this.planeFrame = el("div", { class: "wt-plane-pad", "data-testid": "wt-plane-pad", hidden: true, tabindex: "0", role: "button", "aria-label": "The plane: click to place the point to teach (arrow keys move it)." });
    this.planeFrame.addEventListener("click", (e) => this.placeAt(e));
    this.planeFrame.addEventListener("keydown", (e) => this.planeKey(e));
    this.labelsNode = el("div", { class: "wt-digits", role: "radiogroup", "aria-labelledby": "wt-label-caption" });
    this.labelButtons = [];
    this.teachButton = el("button", { type: "button", class: "primary", id: "wt-teach", "data-testid": "wt-teach", title: "Run one backprop step on this drawing with this label (Undo restores the weights).", onclick: () => this.teach() }, "Teach it");
    this.walkButton = el("button", { type: "button", id: "wt-walk-drawing", title: "Walk through backpropagation for this drawing and label.", onclick: () => this.walk() }, "Walk through");
    this.clearButton = el("button", { type: "button", class: "chip pad-clear", title: "Erase the drawing.", onclick: () => this.clear() }, "Clear ✕");
    this.status = el("p", { class: "wt-teach-status", "data-testid": "wt-teach-status", text: "Draw a digit, pick what it is, then teach it." });
    this.bars = new ProbBars({ ghosts: true, listItems: true });
    this.countNode = el("span", { class: "subtle" });
    this.title = el("h2", { text: "Teach it my digit" });
    this.caption = el("span", { class: "k", id: "wt-label-caption", text: "It is a…" });
    this.padFrame = el("div", { class: "pad-frame wt-pad-frame" }, this.canvas, el("span", { class: "pad-hint", "aria-hidden": "true", text: "draw here" }));
    this.node = node;
    node.replaceChildren(
      el("div", { class: "wt-card-head" }, this.title, this.countNode),
      el("div", { class: "wt-teach-top" },
        this.padFrame,
        this.planeFrame,
        el("div", { class: "wt-teach-side" }, this.caption, this.labelsNode, this.teachButton, this.walkButton, this.clearButton),
      ),
      this.status,
      (this.barsNode = el("div", { class: "probabilities wt-probs", "data-testid": "wt-teach-bars", hidden: true, role: "list", "aria-label": "Probabilities before (outline) and after (filled) the teach step" }, ...this.bars.rows)),
    );
    this.setLabels(Array.from({ length: 10 }, (_, d) => String(d)));
    this.sync();
  }

  get plane() {
    return !!this.words?.plane;
  }

  /** The dataset's words (after every hello): the pad or the plane, the class buttons, the texts. */
  setWords(words) {
    const changed = !this.words || this.words.plane !== words.plane || this.words.names.join("\n") !== words.names.join("\n");
    this.words = words;
    if (!changed) return this.drawPlane();
    this.label = null;
    this.count = 0;
    this.point = null;
    this.pad.clear();
    this.padFrame.hidden = words.plane;
    this.planeFrame.hidden = !words.plane;
    const title = words.plane ? "Teach it a point" : words.digits ? "Teach it my digit" : "Teach it my drawing";
    setText(this.title, title);
    this.node.setAttribute("aria-label", title);
    setText(this.caption, words.plane ? "Its class:" : "It is a…");
    this.teachButton.title = `Run one backprop step on this ${words.plane ? "point" : "drawing"} with this label (Undo restores the weights).`;
    this.walkButton.title = `Walk through backpropagation for this ${words.plane ? "point" : "drawing"} and label.`;
    this.clearButton.title = words.plane ? "Forget the point." : "Erase the drawing.";
    this.setLabels(words.names);
    this.bars.bars.forEach(({ row }, d) => {
      row.hidden = d >= words.names.length;
      setText(row.querySelector(".pd"), words.names[d] ?? String(d));
    });
    this.barsNode.classList.toggle("named", !words.digits);
    this.showBars(null, null);
    setText(this.status, this.hint());
    this.drawPlane();
    this.sync();
  }

  hint() {
    return this.plane ? "Click a point on the plane, pick its class, then teach it." : this.words && !this.words.digits ? "Draw something, pick what it is, then teach it." : "Draw a digit, pick what it is, then teach it.";
  }

  setLabels(names) {
    const digits = names.every((n, i) => n === String(i));
    this.labelButtons = names.map((name, d) =>
      el("button", { type: "button", class: "digit", role: "radio", "aria-checked": "false", "data-digit": String(d), title: digits ? `It is ${withArticle(String(d))}.` : `It is “${name}”.`, onclick: () => this.setLabel(d) }, name),
    );
    this.labelsNode.classList.toggle("named", !digits);
    this.labelsNode.replaceChildren(...this.labelButtons);
  }

  get ready() {
    return (this.plane ? this.point != null : this.pad.hasInk) && this.label != null;
  }

  /** The example as a request: the drawing ({image}) or the point ({input}). */
  request() {
    return this.plane ? { input: this.point.slice() } : { image: this.pad.snapshot() };
  }

  snapshot() {
    return this.pad.snapshot();
  }

  setLabel(d) {
    this.label = d;
    this.labelButtons.forEach((b, i) => b.setAttribute("aria-checked", String(i === d)));
    this.sync();
  }

  // ----- the plane ---------------------------------------------------------------------------------
  placeAt(event) {
    const rect = this.planeFrame.getBoundingClientRect();
    const e = this.h.planeMaps?.extent || 1;
    const x = ((event.clientX - rect.left) / rect.width) * 2 * e - e;
    const y = e - ((event.clientY - rect.top) / rect.height) * 2 * e;
    this.setPoint([x, y]);
  }

  planeKey(event) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation(); // not the walkthrough's step keys
    const [dx, dy] = moves[event.key];
    const [x, y] = this.point || [0, 0];
    this.setPoint([x + dx * 0.05, y + dy * 0.05]);
  }

  setPoint([x, y]) {
    const e = this.h.planeMaps?.extent || 1;
    const clamp = (v) => Math.round(Math.max(-e, Math.min(e, v)) * 1e4) / 1e4;
    this.point = [clamp(x), clamp(y)];
    this.count = 0;
    this.drawPlane();
    this.guess();
  }

  /** The plane pad: the network's decision map, the training points, the point to teach. */
  drawPlane() {
    if (!this.plane || !this.h.store) return;
    const side = Math.max(120, Math.min(PLANE_SIDE, this.planeFrame.clientWidth || PLANE_SIDE));
    const figure = planeFigure(this.h.planeMaps, this.h.store, this.point, { side, cls: "wt-plane-canvas", label: this.point ? `The point to teach, at (${this.point.map((v) => fmtFixed(v, 2)).join(", ")})` : "The plane: no point placed yet" });
    this.planeFrame.replaceChildren(figure, ...(this.point ? [] : [el("span", { class: "pad-hint", "aria-hidden": "true", text: "click to place a point" })]));
  }

  clear() {
    this.pad.clear();
    this.point = null;
    this.drawPlane();
    this.changed();
    this.showBars(null, null);
    setText(this.status, this.hint());
  }

  changed() {
    this.count = 0;
    this.sync();
  }

  sync() {
    this.teachButton.disabled = !this.ready;
    this.walkButton.disabled = !this.ready;
    setText(this.countNode, this.count ? `taught ×${this.count}` : "");
  }

  /** A class in the status line: 7, or “arm 2”. */
  cls(c) {
    return this.words ? this.words.cls(c) : String(c);
  }

  /** The network's current guess for the drawing or the point (before any teaching). */
  async guess(prefix = "") {
    this.sync();
    if (this.plane ? !this.point : !this.pad.hasInk) return;
    try {
      const reply = await api.predict(this.request());
      if (reply.empty) return;
      this.showBars(null, reply.probabilities);
      const outputs = reply.activations?.[reply.activations.length - 1];
      const a = outputs?.[reply.digit];
      const share = `${pct(reply.probabilities[reply.digit])} of the outputs' sum`;
      const fires = Number.isFinite(a) ? `: output ${this.cls(reply.digit)} fires at ${fmtFixed(a, 2)}, ${share}` : ` (${share})`;
      const what = this.plane ? `this point is ${this.cls(reply.digit)}` : `it is ${withArticle(this.cls(reply.digit))}`;
      setText(this.status, `${prefix}The network thinks ${what}${fires}.${this.label == null ? " What is it really?" : ""}`);
      if (this.plane) this.drawPlane();
    } catch (err) {
      this.h.error(`Could not classify the ${this.plane ? "point" : "drawing"}: ${err.message}`);
    }
  }

  async teach() {
    if (!this.ready) return;
    this.teachButton.disabled = true;
    try {
      const r = await api.teach({ ...this.request(), label: this.label, learning_rate: this.h.lr() });
      this.count++;
      this.showBars(r.before.probabilities, r.after.probabilities);
      const b = r.before;
      const a = r.after;
      const slow = r.cost_before > 0 && Math.abs(r.cost_after - r.cost_before) < 0.01 * r.cost_before && b.digit !== r.label;
      const toward = this.words && !this.words.digits ? this.cls(r.label) : `“${r.label}”`;
      setText(
        this.status,
        `One step with η = ${fmtMath(r.learning_rate)} toward ${toward}: it said ${this.cls(b.digit)} (${pct(b.probabilities[b.digit])}), now ${this.cls(a.digit)} (${pct(a.probabilities[a.digit])}); P(${this.cls(r.label)}) ${pct(b.probabilities[r.label])} → ${pct(a.probabilities[r.label])}, C₀ ${fmtMath(r.cost_before)} → ${fmtMath(r.cost_after)}.` +
          (slow ? " It barely moved: a confidently wrong sigmoid output has σ′(z) ≈ 0, so its δ is tiny — teach again, raise η, or try the cross-entropy cost." : ""),
      );
      this.h.taught(r);
      if (this.plane) this.drawPlane();
    } catch (err) {
      this.h.error(`Could not teach it: ${err.message}`);
    } finally {
      this.sync();
    }
  }

  walk() {
    if (this.ready) this.h.walk({ request: this.request(), label: this.label });
  }

  /** After an undo: the weights are back, so say so and forget the last bars. */
  undone() {
    if (!this.count) return;
    this.count = Math.max(0, this.count - 1);
    setText(this.status, "Undone: the weights are back to before the last step.");
    this.guess("Undone. ");
    this.sync();
  }

  /** Bars: `before` as an outline, `after` filled (animated by CSS); either may be null. */
  showBars(before, after) {
    this.barsNode.hidden = !after;
    const winner = after ? after.indexOf(Math.max(...after)) : -1;
    const n = after ? after.length : this.bars.count;
    for (let d = 0; d < n && d < this.bars.count; d++) {
      const text = after ? (before ? `${pct(before[d])}→${pct(after[d])}` : pct(after[d])) : "";
      this.bars.set(d, after ? after[d] : 0, text, before ? before[d] : null);
    }
    this.bars.mark(winner, this.label);
  }
}
