// Gradient check, shown: for the selected weight, backprop's ∂C₀/∂w next to the finite difference
// (C(w+ε) − C(w−ε)) / 2ε, both computed by the server in float64, and their relative error. Beside it
// the experiment: set that weight (or bias) by hand and see z, a, the output and C₀ change — by about
// ∂C₀/∂w × Δw, the slope at work. The change is a real, undoable change of the live network.

import { el, setText } from "../lib/dom.js";
import { fmtMath, fmtMathPair, fmtMathSigned } from "../lib/format.js";
import { readNumber } from "../lib/number-input.js";
import { api } from "../net/walkthrough-api.js";
import { layerSup, sym } from "../widgets/math-text.js";
import { paramSym } from "./explain-batch.js";
import { describeParam } from "./steps.js";

const EPS = 1e-4;
const NUDGE = 0.5; // the −/+ buttons of the experiment
const VALUE_LIMIT = 1000; // the server's limit on a value set by hand

/** What the experiment watches for parameter p in a breakdown: its value, slope, z and a of the neuron it
 * feeds, the output for the label, the answer and C₀. */
function watch(bd, p) {
  const layer = bd.layers[p.layer];
  const out = bd.layers[bd.layers.length - 1];
  return {
    value: p.k == null ? layer.b[p.j] : layer.w[p.j][p.k],
    slope: p.k == null ? layer.nabla_b[p.j] : layer.nabla_w[p.j][p.k],
    z: layer.z[p.j],
    a: layer.a[p.j],
    out: out.a[bd.label],
    prediction: bd.prediction,
    cost: bd.cost,
  };
}

export class GradCheckCard {
  /** h: {set(param, value) → Promise, error(message)} */
  constructor(node, h = {}) {
    this.h = h;
    this.experiment = null; // {param, before, after, label}
    this.key = "";
    this.request = null;
    this.seq = 0;
    this.which = el("div", { class: "gc-param", "data-testid": "wt-gc-param" });
    this.button = el("button", { type: "button", id: "wt-gc-run", "data-testid": "wt-gc-run", title: "Compute the finite-difference estimate for this weight again.", onclick: () => this.run() }, "Check");
    this.values = {
      backprop: el("span", { class: "n stale", "data-testid": "wt-gc-backprop", text: "—" }),
      numeric: el("span", { class: "n stale", "data-testid": "wt-gc-numeric", text: "—" }),
      error: el("span", { class: "n stale", "data-testid": "wt-gc-error", text: "—" }),
    };
    this.costs = el("p", { class: "subtle gc-costs" });
    this.verdict = el("p", { class: "gc-verdict", "data-testid": "wt-gc-verdict" });
    node.replaceChildren(
      el("div", { class: "wt-card-head" }, el("h2", { text: "Gradient check" }), this.button),
      el("p", { class: "subtle", text: "Is backprop right? Nudge the selected weight by ±ε and measure how the cost changes." }),
      this.which,
      el(
        "dl",
        { class: "gc-rows" },
        el("dt", {}, "backprop ∂C₀/∂w"), el("dd", {}, this.values.backprop),
        el("dt", {}, `(C(w+ε) − C(w−ε)) / 2ε`), el("dd", {}, this.values.numeric),
        el("dt", {}, "relative error"), el("dd", {}, this.values.error),
      ),
      this.costs,
      this.verdict,
      this.buildExperiment(),
    );
  }

  buildExperiment() {
    this.valueInput = el("input", { type: "number", step: "any", id: "wt-set-value", "data-testid": "wt-set-value", min: String(-VALUE_LIMIT), max: String(VALUE_LIMIT), "aria-label": "New value for the selected weight or bias", title: "Type a new value for the selected weight or bias, then press Enter or Set." });
    this.valueInput.addEventListener("keydown", (e) => e.key === "Enter" && this.applyTyped());
    this.expError = el("p", { class: "field-error", hidden: true, role: "alert", "data-testid": "wt-set-error" });
    const button = (text, title, fn, testid) => el("button", { type: "button", class: "chip", title, "data-testid": testid, onclick: fn }, text);
    this.expResult = el("div", { class: "exp-result", "data-testid": "wt-set-result" });
    this.useBias = false;
    this.targetButtons = [
      el("button", { type: "button", role: "radio", "aria-checked": "true", "data-testid": "wt-set-weight", title: "Change the selected weight.", onclick: () => this.setTarget(false) }, "w"),
      el("button", { type: "button", role: "radio", "aria-checked": "false", "data-testid": "wt-set-bias", title: "Change the bias of the neuron that weight feeds.", onclick: () => this.setTarget(true) }, "b"),
    ];
    return el(
      "section",
      { class: "exp", "aria-label": "Set the weight by hand" },
      el("h3", { class: "wt-h", text: "Experiment: set it by hand" }),
      el("p", { class: "subtle", text: "Move the weight (or its neuron's bias) yourself and watch z, a, the output and C₀: C₀ changes by about ∂C₀/∂w × Δw. Undo puts it back." }),
      el(
        "div",
        { class: "exp-row" },
        el("div", { class: "segmented exp-target", role: "radiogroup", "aria-label": "Which parameter to set" }, ...this.targetButtons),
        this.valueInput,
        button("Set", "Give it this value (a real change of the network; Undo restores it).", () => this.applyTyped(), "wt-set"),
        button(`−${NUDGE}`, `Lower it by ${NUDGE}.`, () => this.nudge(-NUDGE), "wt-set-minus"),
        button(`+${NUDGE}`, `Raise it by ${NUDGE}.`, () => this.nudge(NUDGE), "wt-set-plus"),
      ),
      this.expError,
      this.expResult,
    );
  }

  /** What the experiment changes: the selected weight, or the bias of the neuron it feeds. */
  get target() {
    return this.param && (this.useBias ? { layer: this.param.layer, j: this.param.j, k: null } : this.param);
  }

  setTarget(bias) {
    this.useBias = bias;
    this.targetButtons.forEach((b, i) => b.setAttribute("aria-checked", String(i === (bias ? 1 : 0))));
    this.showTarget();
  }

  /** The target's symbol on the switch and its current value in the box (unless it is being typed in). */
  showTarget() {
    if (!this.param) return;
    this.targetButtons[0].replaceChildren(paramSym(this.param));
    this.targetButtons[1].replaceChildren(paramSym({ layer: this.param.layer, j: this.param.j, k: null }));
    if (this.bd && document.activeElement !== this.valueInput) this.valueInput.value = String(+watch(this.bd, this.target).value.toPrecision(5));
  }

  nudge(delta) {
    if (!this.bd || !this.param) return;
    this.apply(watch(this.bd, this.target).value + delta);
  }

  /** The value typed in the box: refused beside it (nothing changes), else set. */
  applyTyped() {
    const name = this.useBias ? "the new bias" : "the new weight";
    const { value, problem } = readNumber(this.valueInput, { name, min: -VALUE_LIMIT, max: VALUE_LIMIT });
    if (problem) return this.showError(problem);
    this.apply(value);
  }

  showError(message) {
    this.expError.hidden = !message;
    setText(this.expError, message || "");
  }

  async apply(value) {
    if (!this.bd || !this.param || !this.h.set) return;
    if (!Number.isFinite(value) || Math.abs(value) > VALUE_LIMIT) {
      this.showError(`The new value must be a number from −${VALUE_LIMIT} to ${VALUE_LIMIT}.`);
      return;
    }
    this.showError(null);
    const param = this.target;
    const before = watch(this.bd, param);
    this.experiment = { param, before, after: null, version: this.version, label: this.bd.label, L: this.bd.layers.length };
    this.showExperiment();
    try {
      await this.h.set(param, value);
    } catch (err) {
      this.experiment = null;
      this.showExperiment();
      this.showError(`Could not set it: ${err.message}`);
    }
  }

  /** The walkthrough has new numbers (after a set, a step, teach or undo): the experiment's "after". */
  breakdown(bd, version) {
    this.bd = bd;
    const e = this.experiment;
    if (e && !e.after && version > e.version) {
      e.after = watch(bd, e.param);
      this.showExperiment();
    } else if (e?.after && version > e.version + 1) {
      this.experiment = null; // something else changed the network since: the comparison no longer holds
      this.showExperiment();
    }
  }

  showExperiment() {
    const e = this.experiment;
    if (!e) {
      this.expResult.replaceChildren();
      return;
    }
    if (!e.after) {
      this.expResult.replaceChildren(el("p", { class: "subtle", text: "Setting it…" }));
      return;
    }
    const { before: b, after: a, param: p, L } = e;
    const line = (label, x, y, testid) => {
      const [bx, ay] = fmtMathPair(x, y, 4);
      return el("div", { class: "exp-line", "data-testid": testid }, el("span", { class: "k" }, ...label), el("span", { class: "n", text: `${bx} → ${ay}` }));
    };
    const dw = a.value - b.value;
    const feeds = p.layer + 1;
    const predicted = b.slope * dw;
    this.expResult.replaceChildren(
      line([paramSym(p)], b.value, a.value, "wt-set-w"),
      line([sym("z", p.j, layerSup(feeds))], b.z, a.z, "wt-set-z"),
      line([sym("a", p.j, layerSup(feeds))], b.a, a.a, "wt-set-a"),
      line(["output for the label ", sym("a", e.label, layerSup(L))], b.out, a.out, "wt-set-out"),
      line([sym("C", 0)], b.cost, a.cost, "wt-set-cost"),
      el("p", { class: "exp-note" }, `ΔC₀ = ${fmtMathSigned(a.cost - b.cost, 3)}; the slope predicted ∂C₀/∂${p.k == null ? "b" : "w"} × Δ${p.k == null ? "b" : "w"} = ${fmtMath(b.slope, 3)} × ${fmtMathSigned(dw, 3)} = ${fmtMathSigned(predicted, 3)}.${b.prediction !== a.prediction ? ` The answer changed: ${b.prediction} → ${a.prediction}.` : ""}`),
    );
  }

  /** The walkthrough's selected weight and example changed: check again (debounced). */
  set(param, example, sizes, version, bd = null, inputNames = null) {
    if (bd) this.version = version;
    if (bd) this.breakdown(bd, version);
    const key = JSON.stringify([param, version]);
    if (key === this.key) return;
    this.key = key;
    this.param = param;
    this.example = example;
    this.showTarget();
    this.which.replaceChildren(paramSym(param), el("span", { class: "subtle", text: ` ${describeParam(param, sizes, inputNames)}` }));
    for (const v of Object.values(this.values)) v.classList.add("stale");
    this.verdict.className = "gc-verdict";
    setText(this.verdict, "Checking…");
    this.seq++; // an answer still on its way is for the previous weight: ignore it
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), 250);
  }

  /** Forget the pending check (the network is about to be replaced: it would ask about an example the new
   * network cannot take); resolves when a check already on its way has come back. */
  cancel() {
    clearTimeout(this.timer);
    this.seq++;
    this.key = "";
    return this.running || Promise.resolve();
  }

  run() {
    this.running = this.check().finally(() => (this.running = null));
    return this.running;
  }

  async check() {
    if (!this.param || !this.example) return;
    const seq = ++this.seq;
    this.button.disabled = true;
    try {
      const r = await api.gradcheck({ ...this.example, param: this.param, eps: EPS });
      if (seq !== this.seq) return;
      setText(this.values.backprop, fmtMath(r.backprop, 6));
      setText(this.values.numeric, fmtMath(r.numeric, 6));
      setText(this.values.error, fmtMath(r.relative_error, 2));
      for (const v of Object.values(this.values)) v.classList.remove("stale");
      setText(this.costs, `ε = 10⁻⁴ · in float64: C₀ ≈ ${fmtMath(r.cost_plus, 4)}, C(w+ε) − C(w−ε) = ${fmtMath(r.cost_plus - r.cost_minus, 4)}`);
      const good = r.relative_error < 1e-4;
      this.verdict.className = `gc-verdict ${good ? "good" : "bad"}`;
      setText(this.verdict, good ? "✓ They agree: the chain rule gives the slope the cost really has." : "These differ more than expected — the gradient is tiny here, so rounding in C(w±ε) dominates.");
    } catch (err) {
      if (seq === this.seq) setText(this.verdict, `Could not check: ${err.message}`);
    } finally {
      if (seq === this.seq) this.button.disabled = false;
    }
  }
}
