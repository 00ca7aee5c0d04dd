// The key under the network view for each walkthrough step: what hue, width and rings mean there.

import { el } from "../lib/dom.js";

const sw = (cls) => el("span", { class: `swatch ${cls}` });

// One colour rule on the whole page: blue = positive, orange = negative, of the quantity each legend names
// (live mode's weights w; here a term w·a, or a nudge −∂C₀/∂w: positive = that weight goes up).
const LEGENDS = {
  forward: [[sw("pos"), "w·a > 0: pushes z up"], [sw("neg"), "w·a < 0: pulls z down"], [null, "thicker = bigger term"], [sw("neuron"), "brightness = activation a"], [sw("sel"), "selected neuron — click another"]],
  cost: [[sw("ring"), "ring: y − a, which way aⱼ should move (blue > 0: up, orange < 0: down)"], [null, "thicker = further from the target y"], [sw("sel"), "selected output"]],
  output: [[sw("pos"), "nudge −∂C₀/∂w > 0: the weight goes up"], [sw("neg"), "< 0: it goes down"], [null, "thicker = bigger nudge"], [sw("ring"), "ring: −δ, the bias's nudge (blue: up)"]],
  dCda: [[sw("pos"), "−w·δ > 0: this path wants aₖ up"], [sw("neg"), "< 0: wants it down"], [null, "thicker = |w·δ| bigger"], [sw("ring"), "ring: −∂C₀/∂a, each neuron's total wish"]],
  hidden: [[sw("pos"), "nudge −∂C₀/∂w > 0: the weight goes up"], [sw("neg"), "< 0: it goes down"], [sw("heat"), "maps: each first-layer neuron's weight nudges, one per pixel"], [sw("ring"), "ring: −δ"]],
  pixels: [[sw("heat"), "input: −∂C₀/∂a⁽⁰⁾ — blue: more ink would lower C₀, orange: less"], [null, "lines: the biggest wish's paths, −w·δ"], [sw("pos"), "> 0"], [sw("neg"), "< 0"]],
  batch: [[sw("gold"), "the table's weights and biases, numbered as its rows"], [sw("pos"), "in the table: ∂C₀/∂· > 0"], [sw("neg"), "< 0"], [null, "↑ ↓ which way the step moves it"]],
  step: [[sw("gold"), "the parameters the step moves (all the others move too)"], [sw("pos"), "Δw > 0: up"], [sw("neg"), "Δw < 0: down"]],
};

// On the plane the inputs are a point's two coordinates: no maps over pixels.
const PLANE_LEGENDS = {
  hidden: [[sw("pos"), "nudge −∂C₀/∂w > 0: the weight goes up"], [sw("neg"), "< 0: it goes down"], [null, "thicker = bigger nudge"], [sw("ring"), "ring: −δ"]],
  pixels: [[sw("ring"), "rings on x₁, x₂: −∂C₀/∂x, which way moving the point lowers C₀ (blue: larger)"], [null, "lines: the paths into the larger wish, −w·δ"], [sw("pos"), "> 0"], [sw("neg"), "< 0"]],
};

export function renderLegend(node, kind, plane = false) {
  const items = (plane && PLANE_LEGENDS[kind]) || LEGENDS[kind] || [];
  node.replaceChildren(...items.map(([swatch, text]) => el("span", { class: "legend-item" }, swatch, text)));
}
