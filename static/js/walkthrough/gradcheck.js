// Gradient check, shown: for the selected weight, backprop's ∂C₀/∂w next to the finite difference
// (C(w+ε) − C(w−ε)) / 2ε, both computed by the server in float64, and their relative error.

import { el, setText } from "../lib/dom.js";
import { fmtMath } from "../lib/format.js";
import { api } from "../net/walkthrough-api.js";
import { paramSym } from "./explain-batch.js";
import { describeParam } from "./steps.js";

const EPS = 1e-4;

export class GradCheckCard {
  constructor(node) {
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
    );
  }

  /** The walkthrough's selected weight and example changed: check again (debounced). */
  set(param, example, L, version) {
    const key = JSON.stringify([param, version]);
    if (key === this.key) return;
    this.key = key;
    this.param = param;
    this.example = example;
    this.which.replaceChildren(paramSym(param), el("span", { class: "subtle", text: ` ${describeParam(param, L)}` }));
    for (const v of Object.values(this.values)) v.classList.add("stale");
    this.verdict.className = "gc-verdict";
    setText(this.verdict, "Checking…");
    this.seq++; // an answer still on its way is for the previous weight: ignore it
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), 250);
  }

  async run() {
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
