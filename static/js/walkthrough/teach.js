// "Teach it my digit": draw, say which digit it is, run one backprop step on that single example and
// watch the prediction and the ten probabilities move (before → after). Repeatable; Undo restores.
// The same drawing can be walked through (the "My drawing" example).

import { el, setText } from "../lib/dom.js";
import { fmtFixed, fmtMath, fmtPct, withArticle } from "../lib/format.js";
import { api } from "../net/walkthrough-api.js";
import { DrawPad } from "../widgets/draw-pad.js";
import { ProbBars } from "../widgets/prob-bars.js";

const pct = (p) => fmtPct(p, p < 0.095 ? 1 : 0);

export class TeachCard {
  /** h: {lr(), taught(result), undo(), walk({image, label}), error(message)} */
  constructor(node, h) {
    this.h = h;
    this.label = null;
    this.count = 0;
    this.canvas = el("canvas", { id: "wt-pad", "data-testid": "wt-pad", width: "336", height: "336", "aria-label": "Drawing pad for teaching: draw a digit." });
    this.pad = new DrawPad(this.canvas, { onBegin: () => this.changed(), onStrokeEnd: () => this.guess() });
    this.labelButtons = Array.from({ length: 10 }, (_, d) =>
      el("button", { type: "button", class: "digit", role: "radio", "aria-checked": "false", "data-digit": String(d), title: `It is ${withArticle(String(d))}.`, onclick: () => this.setLabel(d) }, String(d)),
    );
    this.teachButton = el("button", { type: "button", class: "primary", id: "wt-teach", "data-testid": "wt-teach", title: "Run one backprop step on this drawing with this label (Undo restores the weights).", onclick: () => this.teach() }, "Teach it");
    this.walkButton = el("button", { type: "button", id: "wt-walk-drawing", title: "Walk through backpropagation for this drawing and label.", onclick: () => this.walk() }, "Walk through");
    this.status = el("p", { class: "wt-teach-status", "data-testid": "wt-teach-status", text: "Draw a digit, pick what it is, then teach it." });
    this.bars = new ProbBars({ ghosts: true, listItems: true });
    this.countNode = el("span", { class: "subtle" });
    node.replaceChildren(
      el("div", { class: "wt-card-head" }, el("h2", { text: "Teach it my digit" }), this.countNode),
      el("div", { class: "wt-teach-top" },
        el("div", { class: "pad-frame wt-pad-frame" }, this.canvas, el("span", { class: "pad-hint", "aria-hidden": "true", text: "draw here" })),
        el("div", { class: "wt-teach-side" },
          el("span", { class: "k", id: "wt-label-caption", text: "It is a…" }),
          el("div", { class: "wt-digits", role: "radiogroup", "aria-labelledby": "wt-label-caption" }, ...this.labelButtons),
          this.teachButton,
          this.walkButton,
          el("button", { type: "button", class: "chip pad-clear", title: "Erase the drawing.", onclick: () => this.clear() }, "Clear ✕"),
        ),
      ),
      this.status,
      (this.barsNode = el("div", { class: "probabilities wt-probs", "data-testid": "wt-teach-bars", hidden: true, role: "list", "aria-label": "Probabilities before (outline) and after (filled) the teach step" }, ...this.bars.rows)),
    );
    this.sync();
  }

  get ready() {
    return this.pad.hasInk && this.label != null;
  }

  snapshot() {
    return this.pad.snapshot();
  }

  setLabel(d) {
    this.label = d;
    this.labelButtons.forEach((b, i) => b.setAttribute("aria-checked", String(i === d)));
    this.sync();
  }

  clear() {
    this.pad.clear();
    this.changed();
    this.showBars(null, null);
    setText(this.status, "Draw a digit, pick what it is, then teach it.");
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

  /** The network's current guess for the drawing (before any teaching). */
  async guess(prefix = "") {
    this.sync();
    if (!this.pad.hasInk) return;
    try {
      const reply = await api.predict({ image: this.pad.snapshot() });
      if (reply.empty) return;
      this.showBars(null, reply.probabilities);
      const outputs = reply.activations?.[reply.activations.length - 1];
      const a = outputs?.[reply.digit];
      const fires = Number.isFinite(a) ? `: output ${reply.digit} fires at ${fmtFixed(a, 2)}, ${pct(reply.probabilities[reply.digit])} of the outputs' sum` : ` (${pct(reply.probabilities[reply.digit])} of the outputs' sum)`;
      setText(this.status, `${prefix}The network thinks it is ${withArticle(String(reply.digit))}${fires}.${this.label == null ? " What is it really?" : ""}`);
    } catch (err) {
      this.h.error(`Could not classify the drawing: ${err.message}`);
    }
  }

  async teach() {
    if (!this.ready) return;
    this.teachButton.disabled = true;
    try {
      const r = await api.teach({ image: this.pad.snapshot(), label: this.label, learning_rate: this.h.lr() });
      this.count++;
      this.showBars(r.before.probabilities, r.after.probabilities);
      const b = r.before;
      const a = r.after;
      const slow = r.cost_before > 0 && Math.abs(r.cost_after - r.cost_before) < 0.01 * r.cost_before && b.digit !== r.label;
      setText(
        this.status,
        `One step with η = ${fmtMath(r.learning_rate)} toward “${r.label}”: it said ${b.digit} (${pct(b.probabilities[b.digit])}), now ${a.digit} (${pct(a.probabilities[a.digit])}); P(${r.label}) ${pct(b.probabilities[r.label])} → ${pct(a.probabilities[r.label])}, C₀ ${fmtMath(r.cost_before)} → ${fmtMath(r.cost_after)}.` +
          (slow ? " It barely moved: a confidently wrong sigmoid output has σ′(z) ≈ 0, so its δ is tiny — teach again, raise η, or try the cross-entropy cost." : ""),
      );
      this.h.taught(r);
    } catch (err) {
      this.h.error(`Could not teach it: ${err.message}`);
    } finally {
      this.sync();
    }
  }

  walk() {
    if (this.ready) this.h.walk({ image: this.pad.snapshot(), label: this.label });
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
    for (let d = 0; d < this.bars.count; d++) {
      const text = after ? (before ? `${pct(before[d])}→${pct(after[d])}` : pct(after[d])) : "";
      this.bars.set(d, after ? after[d] : 0, text, before ? before[d] : null);
    }
    this.bars.mark(winner, this.label);
  }
}
