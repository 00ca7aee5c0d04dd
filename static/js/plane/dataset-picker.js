// The dataset picker of the network editor: every dataset of GET /api/datasets (those this server cannot
// offer are disabled, with the reason as their tooltip), and the chosen one's options with the server's
// limits. The editor adds {dataset, dataset_options} to its `reset`.

import { el, setText } from "../lib/dom.js";
import { readNumber } from "../lib/number-input.js";
import { getJSON } from "../net/api.js";

const OPTION_LABELS = { noise: "Noise", points: "Points", test_fraction: "Test share", classes: "Classes", seed: "Data seed", x: "Input x" };
const KIND_TITLES = { plane: "Points [x, y] of the plane", scalar: "One number x per example" };

export class DatasetPicker {
  constructor(store, { select, options, note }) {
    this.store = store;
    this.select = select;
    this.optionsNode = options;
    this.note = note;
    this.entries = [];
    this.inputs = {};
    this.filledFor = -1;
    this.loading = null;
    this.select.addEventListener("change", () => this.showOptions(true));
  }

  entry(name = this.select.value) {
    return this.entries.find((e) => e.name === name) || null;
  }

  async load() {
    if (!this.loading) {
      this.loading = getJSON("/api/datasets")
        .then((reply) => {
          this.entries = reply.datasets || [];
          this.render();
        })
        .catch((err) => {
          setText(this.note, `Could not list the datasets: ${err.message}`);
        })
        .finally(() => (this.loading = null));
    }
    return this.loading;
  }

  render() {
    const current = this.store.dataset?.name || this.select.value || "mnist";
    this.select.replaceChildren(
      ...this.entries.map((e) => {
        const classes = e.class_count[0] === e.class_count[1] ? `${e.class_count[0]} classes` : `${e.class_count[0]}–${e.class_count[1]} classes`;
        return el("option", {
          value: e.name,
          text: e.available ? e.title : `${e.title} (not available)`,
          disabled: e.available ? null : "",
          title: e.available ? `${KIND_TITLES[e.kind] || `${e.shape.join("×")} images`}, ${classes.replace(/^1 classes$/, "1 class")}.` : e.reason,
        });
      }),
    );
    this.select.value = current;
    this.filledFor = -1;
    this.fill();
  }

  /** Mirror the session's dataset and its options (after every hello). */
  fill() {
    const store = this.store;
    if (!store.ready || !this.entries.length || this.filledFor === store.helloCount) return;
    this.filledFor = store.helloCount;
    if (store.dataset?.name && this.entry(store.dataset.name)) this.select.value = store.dataset.name;
    this.showOptions(false);
  }

  /** One input per option of the chosen dataset, each with the server's range and help. */
  showOptions(changed) {
    const entry = this.entry();
    const values = !changed && this.store.dataset?.name === entry?.name ? this.store.dataset.values || {} : {};
    this.inputs = {};
    const fields = (entry?.options || [])
      .filter((o) => o.type !== "points")
      .map((o) => {
        const input = el("input", {
          type: "number",
          id: `ds-opt-${o.name}`,
          "data-testid": `ds-opt-${o.name}`,
          min: String(o.min),
          max: String(o.max),
          step: o.type === "int" ? "1" : "any",
          title: `${o.help} (${o.min}–${o.max}).`,
        });
        input.value = String(values[o.name] ?? o.default);
        this.inputs[o.name] = { input, spec: o };
        return el("label", { class: "ds-opt", for: input.id }, el("span", { text: OPTION_LABELS[o.name] || o.name }), input);
      });
    this.optionsNode.replaceChildren(...fields);
    this.optionsNode.hidden = !fields.length;
    let note = "";
    if (entry?.name === "fashion-mnist") note = "Clothes, not digits: ten kinds of garment in 28×28 grey images.";
    else if (entry?.name === "custom") note = "Your own points: add them by clicking on the plane (right-click removes).";
    else if (entry?.kind === "plane") note = `${entry.train_size} training and ${entry.test_size} test points of the plane; the input layer becomes x and y.`;
    else if (entry?.kind === "scalar") note = "The lecture notes' simple example: one training example x with target y = 1. With hidden layers 1, 1 the network is [1, 1, 1, 1], one neuron per layer.";
    if (entry && !entry.available) note = entry.reason;
    setText(this.note, note);
    this.note.hidden = !note;
  }

  /** A problem with the options (out of the server's range), or null. */
  problem() {
    for (const [name, { input, spec }] of Object.entries(this.inputs)) {
      const label = `the dataset's ${(OPTION_LABELS[name] || name).toLowerCase()}`;
      const { problem } = readNumber(input, { name: label, min: spec.min, max: spec.max, whole: spec.type === "int" });
      if (problem) return problem;
    }
    const entry = this.entry();
    if (entry && !entry.available) return entry.reason;
    return null;
  }

  /** The fields this picker adds to `reset` (none until the list has loaded: the server keeps MNIST). */
  request() {
    const entry = this.entry();
    if (!entry) return {};
    const options = {};
    for (const [name, { input }] of Object.entries(this.inputs)) options[name] = Number(input.value);
    return { dataset: entry.name, dataset_options: options };
  }
}
