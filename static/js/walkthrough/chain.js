// The lecture notes' simple example (one neuron per layer): the whole computational chain of the last
// layer, w⁽ᴸ⁾, a⁽ᴸ⁻¹⁾, b⁽ᴸ⁾ → z⁽ᴸ⁾ → a⁽ᴸ⁾ → C₀ = (a⁽ᴸ⁾ − y)², and the chain rule in the notes' order,
//   ∂C₀/∂w⁽ᴸ⁾ = ∂C₀/∂a⁽ᴸ⁾ × ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾ × ∂z⁽ᴸ⁾/∂w⁽ᴸ⁾ = 2(a⁽ᴸ⁾ − y) × σ′(z⁽ᴸ⁾) × a⁽ᴸ⁻¹⁾
// (and the same for b⁽ᴸ⁾, and for a⁽ᴸ⁻¹⁾ as the notes write it: ∂z/∂a⁽ᴸ⁻¹⁾ × ∂a/∂z × ∂C₀/∂a), every factor
// with the engine's number from /api/backprop. Beside it, a slider on w⁽ᴸ⁾ that moves the live weight
// (POST /api/walkthrough/set, one undo step per drag) and the curve C₀(w) computed by the engine
// (POST /api/walkthrough/curve) with its tangent at the current w, whose slope is backprop's ∂C₀/∂w⁽ᴸ⁾.
//
// The panel is one persistent element: a new breakdown updates its numbers in place, so a drag on the
// slider is never cut short by a redraw.

import { el, setText } from "../lib/dom.js";
import { fmtMath } from "../lib/format.js";
import { readNumber } from "../lib/number-input.js";
import { api } from "../net/walkthrough-api.js";
import { dC, dd, eq, num, op, sym } from "../widgets/math-text.js";
import { ChainPlot } from "./chain-plot.js";

const VALUE_LIMIT = 1000; // the server's limit on a value set by hand
const CURVE_POINTS = 161;
const L_SUP = "(L)";
const PREV_SUP = "(L−1)";

/** Is this breakdown the notes' simple network: one neuron in every layer after the input (and one input
 * when there is no hidden layer), with the notes' cost C₀ = (a − y)² and an output of its own (not softmax)? */
export function isChain(bd) {
  if (!bd || bd.config.cost !== "quadratic" || bd.config.output_activation === "softmax") return false;
  const L = bd.layers.length;
  return bd.layers.every((d) => d.a.length === 1) && (L > 1 || bd.input.length === 1);
}

/** The numbers of the chain, all from the engine's breakdown `bd` (nothing recomputed here). */
export function chainNumbers(bd) {
  const L = bd.layers.length;
  const last = bd.layers[L - 1];
  const prev = L > 1 ? bd.layers[L - 2] : { a: bd.input, dC_da: bd.input_dC_da };
  return {
    L,
    param: { layer: L - 1, j: 0, k: 0 },
    w: last.w[0][0],
    b: last.b[0],
    aPrev: prev.a[0],
    z: last.z[0],
    a: last.a[0],
    y: bd.target[0],
    cost: bd.cost,
    sigmaPrime: last.sigma_prime[0],
    dCda: last.dC_da[0],
    dCdw: last.nabla_w[0][0],
    dCdb: last.nabla_b[0],
    dCdaPrev: prev.dC_da[0],
  };
}

const W = () => sym("w", null, L_SUP);
const B = () => sym("b", null, L_SUP);
const Z = () => sym("z", null, L_SUP);
const A = () => sym("a", null, L_SUP);
const AP = () => sym("a", null, PREV_SUP);
const Y = () => sym("y");
const C0 = () => sym("C", "0");

/** A number as the chain shows it: a whole number as it is (y = 1, ∂z/∂b = 1), else 4 significant digits. */
const show = (x) => (Number.isInteger(x) ? String(x).replace("-", "−") : fmtMath(x, 4));

/** A number whose full value travels with it (data-value): the test multiplies those. */
function factor(x, testid, sig = 4) {
  const node = num(x, sig, { factor: true });
  if (Number.isInteger(x)) node.textContent = x < 0 ? `(${show(x)})` : show(x);
  node.dataset.testid = testid;
  node.dataset.value = String(x);
  return node;
}

function result(x, testid) {
  const node = num(x, 4, { cls: "result" });
  node.dataset.testid = testid;
  node.dataset.value = String(x);
  return node;
}

/** σ′ under the name of the activation in use (the notes' σ is "some special non-linear function"). */
function primeName(act) {
  return act === "sigmoid" ? "σ′" : `${{ relu: "ReLU", tanh: "tanh", leaky_relu: "leaky ReLU" }[act] || act}′`;
}

export class ChainPanel {
  /** h: {set(param, value, mergeUndo) → Promise (resolves once the new numbers are shown), error(message)} */
  constructor(h) {
    this.h = h;
    this.key = "";
    this.range = 6;
    this.pending = null; // {value, merge}: the latest value the slider asked for, not sent yet
    this.busy = false;
    this.gesture = false; // within one drag of the slider (its sets merge into one undo step)
    this.curveSeq = 0;
    this.version = -1;
    this.numbers = null;

    this.nodes = el("div", { class: "chain-graph", "data-testid": "chain-graph", role: "group", "aria-label": "The computational chain of the last layer" });
    this.formula = el("div", { class: "wt-formula chain-formula", "data-testid": "chain-formula" });
    this.slider = el("input", { type: "range", id: "chain-w", "data-testid": "chain-w-slider", min: "-6", max: "6", step: "0.01", "aria-label": "w⁽ᴸ⁾, the weight of the last layer", title: "Drag to move the last weight w⁽ᴸ⁾ of the live network: every number of the chain and the point on the curve follow (Undo takes the whole drag back)." });
    this.slider.addEventListener("input", () => {
      const merge = this.gesture;
      this.gesture = true; // the next values of this drag join its undo step
      this.want(+this.slider.value, merge);
    });
    this.slider.addEventListener("pointerdown", () => (this.gesture = false));
    this.slider.addEventListener("change", () => (this.gesture = false));
    this.valueInput = el("input", { type: "number", step: "any", id: "chain-w-value", "data-testid": "chain-w-value", min: String(-VALUE_LIMIT), max: String(VALUE_LIMIT), "aria-label": "Type a value for w⁽ᴸ⁾", title: `Type a value for w⁽ᴸ⁾ (−${VALUE_LIMIT} to ${VALUE_LIMIT}) and press Enter.` });
    this.valueInput.addEventListener("keydown", (e) => e.key === "Enter" && this.typed());
    this.valueInput.addEventListener("change", () => this.typed());
    this.error = el("p", { class: "field-error", hidden: true, role: "alert", "data-testid": "chain-error" });
    this.plot = new ChainPlot();
    this.readout = el("p", { class: "chain-readout", "data-testid": "chain-readout", "aria-live": "polite" });
    this.root = el(
      "div",
      { class: "chain", "data-testid": "chain-panel" },
      this.nodes,
      this.formula,
      el(
        "section",
        { class: "chain-right", "aria-label": "The cost as a function of w⁽ᴸ⁾" },
        el("div", { class: "chain-slider-row" }, el("label", { for: "chain-w", class: "chain-label" }, sym("w", null, L_SUP), " ="), this.valueInput, this.slider),
        this.error,
        this.plot.wrap,
        this.readout,
      ),
    );
  }

  // ----- the walkthrough's step -------------------------------------------------------------------
  /** The step "chain" (called by the walkthrough's render with its context): {caption, body}. */
  render(c) {
    const n = chainNumbers(c.bd);
    this.numbers = n;
    this.example = c.example;
    const key = `${JSON.stringify(c.example.request)}|${c.example.label}|${c.bd.config.sizes.join(",")}|${c.bd.config.activation}|${c.bd.config.output_activation}`;
    if (key !== this.key) {
      this.key = key;
      this.range = Math.max(6, Math.ceil(Math.abs(n.w) * 1.25 + 1));
      this.plot.clear();
    }
    if (Math.abs(n.w) > this.range) this.range = Math.min(VALUE_LIMIT, Math.ceil(Math.abs(n.w) * 1.25 + 1));
    this.slider.min = String(-this.range);
    this.slider.max = String(this.range);
    if (!this.busy && !this.pending) this.slider.value = String(n.w);
    if (document.activeElement !== this.valueInput) this.valueInput.value = String(+n.w.toPrecision(6));
    this.showGraph(n, c.cfg);
    this.showFormula(n, c.cfg);
    this.showPlot();
    if (c.version !== this.version) {
      this.version = c.version;
      this.loadCurve(c);
    }
    const caption = `One neuron per layer (L = ${n.L}), so every derivative is one number and the chain rule is one line. Drag w⁽ᴸ⁾: C₀ follows its curve, and the tangent's slope is the product of the three factors.`;
    return { caption, body: this.root };
  }

  /** w⁽ᴸ⁾, a⁽ᴸ⁻¹⁾, b⁽ᴸ⁾ → z⁽ᴸ⁾ → a⁽ᴸ⁾ → C₀ ← y: the forward chain, each node with its value and its rule. */
  showGraph(n, cfg) {
    const node = (symbol, value, rule, testid, cls = "") =>
      el("div", { class: `chain-node ${cls}`.trim(), "data-testid": testid, "data-value": String(value) }, el("div", { class: "cn-sym" }, symbol), el("div", { class: "cn-val", text: show(value) }), rule ? el("div", { class: "cn-rule", text: rule }) : null);
    // each link "→ node" stays together when the chain wraps (a phone)
    const link = (...nodes) => el("div", { class: "chain-link" }, el("span", { class: "chain-arrow", "aria-hidden": "true", text: "→" }), ...nodes);
    const act = cfg.output_activation === "sigmoid" ? "σ" : cfg.output_activation;
    this.nodes.replaceChildren(
      el("div", { class: "chain-inputs" }, node(W(), n.w, null, "chain-node-w", "param"), node(AP(), n.aPrev, null, "chain-node-aprev"), node(B(), n.b, null, "chain-node-b", "param")),
      link(node(Z(), n.z, "w a + b", "chain-node-z")),
      link(node(A(), n.a, `${act}(z)`, "chain-node-a")),
      link(el("div", { class: "chain-inputs" }, node(C0(), n.cost, "(a − y)²", "chain-node-c", "cost"), node(Y(), n.y, "target", "chain-node-y", "target"))),
    );
  }

  /** The three derivatives of the notes, symbol by symbol, then with the engine's numbers. */
  showFormula(n, cfg) {
    const prime = primeName(cfg.output_activation);
    const dCa = () => dC(A());
    const daz = () => dd(A(), Z());
    const sp = () => el("span", {}, `${prime}(`, Z(), ")");
    const err = () => el("span", {}, "2(", A(), " − ", Y(), ")");
    const x = () => op("×");
    this.formula.replaceChildren(
      // ∂C₀/∂w⁽ᴸ⁾ = ∂C₀/∂a⁽ᴸ⁾ × ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾ × ∂z⁽ᴸ⁾/∂w⁽ᴸ⁾
      eq(dC(W()), op("="), dCa(), x(), daz(), x(), dd(Z(), W())),
      eq(null, op("="), err(), x(), sp(), x(), AP()),
      eq(null, op("="), factor(n.dCda, "chain-w-f1"), x(), factor(n.sigmaPrime, "chain-w-f2"), x(), factor(n.aPrev, "chain-w-f3"), op("="), result(n.dCdw, "chain-w-result")),
      // ∂C₀/∂b⁽ᴸ⁾: the same with ∂z/∂b = 1
      eq(dC(B()), op("="), dCa(), x(), daz(), x(), dd(Z(), B())),
      eq(null, op("="), factor(n.dCda, "chain-b-f1"), x(), factor(n.sigmaPrime, "chain-b-f2"), x(), factor(1, "chain-b-f3"), op("="), result(n.dCdb, "chain-b-result")),
      // ∂C₀/∂a⁽ᴸ⁻¹⁾ = ∂z⁽ᴸ⁾/∂a⁽ᴸ⁻¹⁾ × ∂a⁽ᴸ⁾/∂z⁽ᴸ⁾ × ∂C₀/∂a⁽ᴸ⁾, as the notes write it
      eq(dC(AP()), op("="), dd(Z(), AP()), x(), daz(), x(), dCa()),
      eq(null, op("="), W(), x(), sp(), x(), err()),
      eq(null, op("="), factor(n.w, "chain-a-f1"), x(), factor(n.sigmaPrime, "chain-a-f2"), x(), factor(n.dCda, "chain-a-f3"), op("="), result(n.dCdaPrev, "chain-a-result")),
      el("p", { class: "chain-note" }, "∂z⁽ᴸ⁾/∂w⁽ᴸ⁾ = a⁽ᴸ⁻¹⁾: the weight moves the cost more when the previous neuron is more active (fire together, wire together); ∂C₀/∂a⁽ᴸ⁾ = 2(a⁽ᴸ⁾ − y): the further from the target, the bigger the nudge. a⁽ᴸ⁻¹⁾ cannot be set directly: its wish goes one layer back, through its own w and b."),
    );
  }

  // ----- the slider ---------------------------------------------------------------------------------
  typed() {
    const { value: v, problem } = readNumber(this.valueInput, { name: "w⁽ᴸ⁾", min: -VALUE_LIMIT, max: VALUE_LIMIT });
    if (problem) return this.showError(problem);
    this.showError(null);
    if ((this.numbers && v === this.numbers.w) || v === this.sending || v === this.pending?.value) return; // Enter, then change
    this.gesture = false;
    this.want(v, false);
  }

  /** Ask for w⁽ᴸ⁾ = v: sent as soon as the previous set has been shown (the latest value wins). */
  want(v, merge) {
    this.showError(null);
    this.pending = { value: v, merge: this.pending ? this.pending.merge && merge : merge };
    this.pump();
  }

  async pump() {
    if (this.busy || !this.numbers) return;
    this.busy = true;
    try {
      while (this.pending) {
        const { value, merge } = this.pending;
        this.pending = null;
        this.sending = value;
        try {
          await this.h.set(this.numbers.param, value, merge);
        } catch (err) {
          this.showError(`Could not set w⁽ᴸ⁾: ${err.message}`);
        }
        this.sending = null;
      }
    } finally {
      this.busy = false;
    }
    if (this.numbers && !this.pending && document.activeElement !== this.slider) this.slider.value = String(this.numbers.w);
  }

  showError(message) {
    this.error.hidden = !message;
    setText(this.error, message || "");
  }

  // ----- the curve C₀(w) and its tangent -------------------------------------------------------------
  async loadCurve(c) {
    const seq = ++this.curveSeq;
    const { param } = this.numbers;
    try {
      const curve = await api.curve({ ...c.example.request, label: c.example.label, param, low: -this.range, high: this.range, points: CURVE_POINTS });
      if (seq !== this.curveSeq) return;
      this.plot.setCurve(curve);
      this.showPlot();
    } catch (err) {
      if (seq === this.curveSeq) this.showError(`Could not compute the curve C₀(w): ${err.message}`);
    }
  }

  showPlot() {
    const n = this.numbers;
    if (!n) return;
    this.plot.set({ w: n.w, cost: n.cost, slope: n.dCdw, range: this.range, version: this.version });
    setText(this.readout, `At w⁽ᴸ⁾ = ${fmtMath(n.w, 4)}: C₀ = ${fmtMath(n.cost, 4)}, and the tangent's slope is ∂C₀/∂w⁽ᴸ⁾ = ${fmtMath(n.dCdw, 4)} (backprop): ${n.dCdw < 0 ? "raising w lowers the cost" : n.dCdw > 0 ? "lowering w lowers the cost" : "flat here"}.`);
  }
}
