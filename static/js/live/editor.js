// The network editor: hidden layers and sizes, activations, cost and seed → a `reset` command.
// How many hidden layers, how many neurons and which seeds: the server's limits from `hello`.

import { $, setText } from "../lib/dom.js";
import { fmtGrouped } from "../lib/format.js";
import { sharedSession } from "../net/api.js";
import { readNumber } from "../lib/number-input.js";
import { applyRange, limit, neuronsProblem, rangeOf, seedProblem } from "../state/limits.js";
import { ask } from "../widgets/dialog.js";

export class NetworkEditor {
  constructor(store, send, showError) {
    this.store = store;
    this.send = send;
    this.showError = showError;
    this.form = $("editor-form");
    this.count = $("hidden-count");
    this.sizesNode = $("hidden-sizes");
    this.sizes = Array.from(this.sizesNode.querySelectorAll("input"));
    this.activation = $("activation");
    this.output = $("output-activation");
    this.cost = $("cost-fn");
    this.seed = $("seed");
    this.summary = $("net-summary");
    this.filledFor = -1;
    this.picker = null; // the dataset picker ({fill, problem, request}), set by main.js
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
    this.picker?.fill();
    if (!store.ready || this.filledFor === store.helloCount) return;
    this.filledFor = store.helloCount;
    this.showLimits();
    const c = store.config;
    const hidden = c.sizes.slice(1, -1);
    this.count.value = String(hidden.length);
    this.sizes.forEach((input, i) => (input.value = hidden[i] ?? input.value ?? 16));
    this.activation.value = c.activation;
    this.output.value = c.output_activation;
    this.cost.value = c.cost;
    this.seed.value = c.seed ?? 0;
    this.showSizes();
    setText(this.summary, `${c.sizes.join(" → ")} · ${(c.sizes.length > 2 ? c.activation : c.output_activation).replace("_", " ")}`);
  }

  /** One option per allowed number of hidden layers, one size input per layer, their ranges and tooltips. */
  showLimits() {
    const limits = this.store.limits;
    const layers = limit(limits, "hidden_layers");
    const neurons = limit(limits, "neurons");
    if (layers) {
      const [lo, hi] = layers;
      const counts = Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i));
      if (Array.from(this.count.options, (o) => o.value).join() !== counts.join()) {
        this.count.replaceChildren(...counts.map((n) => Object.assign(document.createElement("option"), { textContent: n })));
      }
      this.count.title = `How many hidden layers sit between the inputs and the outputs (${lo}–${hi}).`;
      while (this.sizes.length < hi) {
        const input = this.sizes[this.sizes.length - 1].cloneNode();
        input.value = "";
        this.sizesNode.append(input);
        this.sizes.push(input);
      }
      while (this.sizes.length > Math.max(hi, 1)) this.sizes.pop().remove();
    }
    this.sizes.forEach((input, i) => {
      applyRange(input, neurons);
      input.setAttribute("aria-label", `Neurons in hidden layer ${i + 1}`);
      if (neurons) input.title = `Number of neurons in hidden layer ${i + 1} (${neurons[0]}–${neurons[1]}).`;
    });
    applyRange(this.seed, limit(limits, "seed"));
  }

  problem() {
    if (this.cost.value === "cross_entropy" && !["softmax", "sigmoid"].includes(this.output.value)) {
      return "Cross-entropy needs a softmax or sigmoid output layer.";
    }
    return null;
  }

  async submit() {
    const limits = this.store.limits;
    const read = [
      ...this.sizes.slice(0, +this.count.value).map((input, i) => readNumber(input, { name: `hidden layer ${i + 1}'s size`, ...rangeOf(limits, "neurons") })),
      readNumber(this.seed, { name: "the seed", ...rangeOf(limits, "seed") }),
    ];
    const refused = read.find((r) => r.problem);
    if (refused) return this.showError("reset", refused.problem);
    const hidden = read.slice(0, -1).map((r) => r.value);
    const seed = read[read.length - 1].value;
    const problem = neuronsProblem(limits, hidden) || seedProblem(limits, seed) || this.problem() || this.picker?.problem();
    if (problem) return this.showError("reset", problem);
    this.showError("reset", null);
    const message = { type: "reset", hidden, activation: this.activation.value, output_activation: this.output.value, cost: this.cost.value, seed, ...this.picker?.request() };
    if (sharedSession && !(await this.confirm(message))) return;
    this.send(message, "reset");
  }

  /** Every tab shares the session: a reset replaces the network for all of them, so ask first. */
  async confirm(message) {
    const c = this.store.config;
    const iteration = this.store.state?.iteration ?? 0;
    const describe = (dataset, hidden, activation, output, cost, seed) =>
      `${dataset}: hidden ${hidden.length ? hidden.join(", ") : "none"} · ${activation}/${output} · ${cost.replace("_", "-")} · seed ${seed}`;
    const choice = await ask({
      title: "Reset the network for everyone?",
      testid: "reset-confirm",
      lines: [
        "Every tab of this server shares one network: a reset replaces it in all of them.",
        iteration
          ? `Its training (${fmtGrouped(iteration)} iteration${iteration === 1 ? "" : "s"}) is lost unless you save a checkpoint first.`
          : "It has not been trained yet.",
      ],
      list: c ? [`now: ${describe(this.store.dataset?.name || "mnist", c.sizes.slice(1, -1), c.activation, c.output_activation, c.cost, c.seed ?? 0)}`,
        `new: ${describe(message.dataset || "mnist", message.hidden, message.activation, message.output_activation, message.cost, message.seed)}`] : [],
      buttons: [
        { label: "Cancel", value: false, testid: "reset-cancel", focus: true, title: "Keep the network as it is." },
        { label: "Reset network", value: true, kind: "danger", testid: "reset-confirm-ok", title: "Replace the network for every tab." },
      ],
    });
    return choice === true;
  }
}
