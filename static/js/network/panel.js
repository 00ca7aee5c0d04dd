// The chrome around the network view: what the view is for (one line, per mode), caption of the shown
// example, weights/gradients switch, "follow training" button and the colour legend.

import { $, el, setText } from "../lib/dom.js";
import { fmtFixed, fmtGrouped, fmtNum } from "../lib/format.js";
import { matrixName } from "../lib/names.js";

const PURPOSE = {
  weights: "Weights: each map is what a first-layer neuron looks for — watch noise turn into strokes.",
  gradients: "Gradients −∂C/∂w, last mini-batch: a map sums δ·x over its images, hence other digits.",
};
// On the plane every neuron draws its own map: what it computes, or where moving its output would help.
const PLANE_PURPOSE = {
  weights: "Weights: what each neuron computes. Inside each node, its activation at every point of the plane: watch the regions form.",
  gradients: "Gradients: how the last mini-batch wants each weight to change (−∂C/∂w). Inside each node, −∂C₀/∂a over the plane: where moving that neuron's output would lower the cost.",
};

// the notes' simple example: one input x, one neuron per layer, no maps
const PURPOSE_SCALAR = {
  weights: "Weights: one number per link of the notes' simple network x → a⁽¹⁾ → a⁽²⁾ → a⁽³⁾ (blue positive, orange negative).",
  gradients: "Gradients: how the last step wants each weight to change (−∂C/∂w). With one training example, that is its own gradient.",
};

export class NetworkPanel {
  constructor(store, view, onFollow) {
    this.store = store;
    this.view = view;
    this.caption = $("example-caption");
    this.followButton = $("follow-training");
    this.weightsButton = $("show-weights");
    this.gradButton = $("show-gradients");
    this.legend = $("network-legend");
    this.purpose = $("network-purpose");
    this.seen = "";
    this.followButton.addEventListener("click", onFollow);
    this.weightsButton.addEventListener("click", () => this.setMode("weights"));
    this.gradButton.addEventListener("click", () => this.setMode("gradients"));
    for (const b of [this.weightsButton, this.gradButton]) {
      b.addEventListener("keydown", (e) => {
        if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
          e.preventDefault();
          e.stopPropagation();
          const next = this.view.mode === "weights" ? "gradients" : "weights";
          this.setMode(next);
          (next === "weights" ? this.weightsButton : this.gradButton).focus();
        }
      });
    }
    this.setMode("weights");
  }

  setMode(mode) {
    this.view.setMode(mode);
    this.weightsButton.setAttribute("aria-checked", String(mode === "weights"));
    this.gradButton.setAttribute("aria-checked", String(mode === "gradients"));
    this.weightsButton.tabIndex = mode === "weights" ? 0 : -1;
    this.gradButton.tabIndex = mode === "gradients" ? 0 : -1;
    setText(this.purpose, (this.kind === "scalar" ? PURPOSE_SCALAR : this.kind === "plane" ? PLANE_PURPOSE : PURPOSE)[mode]);
    this.renderLegend(mode);
  }

  /** On the plane, with gradients: what each grid point is scored against (the nearest training point's
   * class, or one class everywhere). */
  labelPicker() {
    const maps = this.view.planeMaps;
    if (!maps) return null;
    const names = this.store.classNames;
    const select = el(
      "select",
      { id: "gradient-label", "data-testid": "gradient-label", "aria-label": "Label the cost-gradient maps score each point against", title: "The cost C₀ needs a label at every point: the class of the nearest training point (what the data say there), or one class everywhere (“what if the answer here were …”)." },
      el("option", { value: "nearest", text: "the nearest training point's class" }),
      ...names.map((name, c) => el("option", { value: String(c), text: `“${name}” everywhere` })),
    );
    select.value = String(maps.labelInUse);
    select.addEventListener("change", () => {
      maps.setLabel(select.value);
      this.view.invalidate();
    });
    return el("label", { class: "legend-item legend-pick" }, "label at each point: ", select);
  }

  renderLegend(mode) {
    const swatch = (cls) => el("span", { class: `swatch ${cls}` });
    const items =
      mode === "weights"
        ? [
            [swatch("pos"), "positive weight"],
            [swatch("neg"), "negative weight"],
            [null, "thicker = larger |w| (within a layer)"],
            [swatch("neuron"), "brightness = activation a"],
            this.kind === "plane"
              ? [swatch("heat"), "inside each node: its activation over the plane (blue high, orange low; white line: z = 0)"]
              : this.kind === "scalar"
                ? [null, "one neuron per layer: the lecture notes' simple example"]
                : [swatch("heat"), "heat-maps: each hidden neuron's 784 incoming weights"],
          ]
        : [
            [swatch("pos"), "nudge −∂C/∂w > 0: the weight goes up"],
            [swatch("neg"), "< 0: it goes down"],
            [null, "thicker = pushed harder (last mini-batch)"],
            [swatch("ring"), "ring: −∂C/∂b, how much the neuron wants to change"],
            ...(this.plane ? [[swatch("heat"), "inside each node: −∂C₀/∂a over the plane — blue: raising its output would lower the cost there, orange: lowering it would"]] : []),
          ];
    this.legend.replaceChildren(...items.map(([sw, text]) => el("span", { class: "legend-item" }, sw, text)));
    if (this.plane && mode === "gradients") {
      const picker = this.labelPicker();
      if (picker) this.legend.append(picker);
    }
    this.norms = mode === "gradients" ? el("span", { class: "legend-item norms", title: "Length of each layer's gradient ‖∂C/∂W‖ in the last mini-batch." }) : null;
    if (this.norms) this.legend.append(this.norms);
    this.normsText = "";
  }

  /** Called from the animation loop; cheap when nothing changed. */
  update() {
    const store = this.store;
    // the legend names the classes (the gradient maps' label): on the plane, redrawn for every new network
    const kind = store.isPlane ? "plane" : store.isScalar ? "scalar" : "image";
    if (store.ready && (kind !== this.kind || (kind === "plane" && this.legendFor !== store.helloCount))) {
      this.kind = kind;
      this.plane = kind === "plane";
      this.legendFor = store.helloCount;
      this.setMode(this.view.mode);
    }
    if (this.norms) {
      const norms = store.gradNorms.map((g, l) => `${matrixName(l)} ${g.w == null ? "…" : fmtNum(g.w, 2)}`).join(" · ");
      const text = norms ? `‖∇W‖ last batch: ${norms}` : "no gradients yet: step or play";
      if (text !== this.normsText) setText(this.norms, (this.normsText = text));
    }
    const shown = store.shown();
    const meta = shown?.meta || {};
    const key = `${store.helloCount}|${store.exampleVersion}|${!!store.drawing}|${meta.source}|${meta.index}|${meta.prediction}|${meta.pinned}|${store.state?.running}`;
    if (key === this.seen) return;
    this.seen = key;
    let text = !store.ready
      ? "Waiting for the server…"
      : store.state?.running
        ? "Waiting for the first frame…"
        : `Paused — press Play, or Step (→), to send ${store.isPlane ? "a point" : store.isScalar ? "the example" : "an image"} through the network.`;
    const names = store.classNames;
    const name = (c) => names[c] ?? c;
    if (store.drawing && meta.source === "point") {
      text = `Your point (${fmtFixed(meta.point[0], 2)}, ${fmtFixed(meta.point[1], 2)}) · the network says ${name(meta.prediction)}`;
    } else if (store.drawing && meta.source !== "test") {
      text = `Showing your drawing · the network says ${meta.prediction == null ? "?" : name(meta.prediction)}`;
    } else if (meta.source) {
      const thing = store.isPlane ? "point" : store.isScalar ? "example" : "image";
      const what = meta.source === "test" ? `Test ${thing} #${fmtGrouped(meta.index)}` : `Training ${thing} #${fmtGrouped(meta.index)}`;
      const verdict =
        meta.label != null && meta.prediction != null
          ? ` · label ${name(meta.label)} · network says ${name(meta.prediction)} ${meta.label === meta.prediction ? "✓" : "✗"}`
          : meta.prediction != null
            ? ` · network says ${name(meta.prediction)}`
            : "";
      const how = meta.pinned ? "" : " (first of its mini-batch)";
      text = `${what}${verdict}${how}`;
    } else if (shown) {
      text = "Current example";
    }
    setText(this.caption, text);
    this.followButton.hidden = !(store.drawing || meta.pinned);
  }
}

