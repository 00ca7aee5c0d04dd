// The network editor: hidden layers and sizes, activations, cost and seed → a `reset` command.

import { $, setText } from "../lib/dom.js";

export class NetworkEditor {
  constructor(store, send, showError) {
    this.store = store;
    this.send = send;
    this.showError = showError;
    this.form = $("editor-form");
    this.count = $("hidden-count");
    this.sizes = Array.from($("hidden-sizes").querySelectorAll("input"));
    this.activation = $("activation");
    this.output = $("output-activation");
    this.cost = $("cost-fn");
    this.seed = $("seed");
    this.summary = $("net-summary");
    this.filledFor = -1;
    this.count.addEventListener("change", () => this.showSizes());
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    for (const input of [this.cost, this.output]) input.addEventListener("change", () => this.showError("reset", this.problem()));
  }

  showSizes() {
    const n = +this.count.value;
    this.sizes.forEach((input, i) => {
      input.hidden = i >= n;
      if (!input.value) input.value = 16;
    });
  }

  /** Mirror the current network (after every hello). */
  fill() {
    const store = this.store;
    if (!store.ready || this.filledFor === store.helloCount) return;
    this.filledFor = store.helloCount;
    const c = store.config;
    const hidden = c.sizes.slice(1, -1);
    this.count.value = String(hidden.length);
    this.sizes.forEach((input, i) => (input.value = hidden[i] ?? input.value ?? 16));
    this.activation.value = c.activation;
    this.output.value = c.output_activation;
    this.cost.value = c.cost;
    this.seed.value = c.seed ?? 0;
    const [lo, hi] = store.limits?.neurons || [1, 512];
    for (const input of this.sizes) {
      input.min = lo;
      input.max = hi;
    }
    this.showSizes();
    setText(this.summary, `${c.sizes.join(" → ")} · ${(c.sizes.length > 2 ? c.activation : c.output_activation).replace("_", " ")}`);
  }

  problem() {
    if (this.cost.value === "cross_entropy" && !["softmax", "sigmoid"].includes(this.output.value)) {
      return "Cross-entropy needs a softmax or sigmoid output layer.";
    }
    return null;
  }

  submit() {
    const [lo, hi] = this.store.limits?.neurons || [1, 512];
    const hidden = this.sizes.slice(0, +this.count.value).map((input) => +input.value);
    const bad = hidden.find((n) => !Number.isInteger(n) || n < lo || n > hi);
    if (bad !== undefined) return this.showError("reset", `Each hidden layer needs ${lo}–${hi} neurons.`);
    const seed = +this.seed.value;
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) return this.showError("reset", "The seed must be a whole number from 0 to 2147483647.");
    const problem = this.problem();
    if (problem) return this.showError("reset", problem);
    this.showError("reset", null);
    this.send(
      { type: "reset", hidden, activation: this.activation.value, output_activation: this.output.value, cost: this.cost.value, seed },
      "reset",
    );
  }
}
