// The key under the network view for each walkthrough step: what hue, width and rings mean there.

import { el } from "../lib/dom.js";

const sw = (cls) => el("span", { class: `swatch ${cls}` });

const LEGENDS = {
  forward: [[sw("pos"), "w·a > 0: pushes z up"], [sw("neg"), "w·a < 0: pulls z down"], [null, "thicker = bigger term"], [sw("neuron"), "brightness = activation a"], [sw("sel"), "selected neuron — click another"]],
  cost: [[sw("ring"), "ring: which way aⱼ should move (blue up, orange down)"], [null, "thicker = further from the target y"], [sw("sel"), "selected output"]],
  output: [[sw("pos"), "nudge −∂C₀/∂w > 0: weight goes up"], [sw("neg"), "weight goes down"], [null, "thicker = bigger nudge"], [sw("ring"), "ring: −δ, the bias nudge"]],
  dCda: [[sw("pos"), "this path wants aₖ up"], [sw("neg"), "wants it down"], [null, "thicker = w·δ bigger"], [sw("ring"), "ring: −∂C₀/∂a, each neuron's total wish"]],
  hidden: [[sw("pos"), "nudge −∂C₀/∂w > 0: weight goes up"], [sw("neg"), "weight goes down"], [sw("heat"), "28×28 maps: a neuron's 784 weight nudges"], [sw("ring"), "ring: −δ"]],
  pixels: [[sw("heat"), "input: −∂C₀/∂a⁽⁰⁾ — blue: more ink would lower C₀, orange: less"], [sw("pos"), "paths from the pixel with the biggest wish"]],
  batch: [[sw("gold"), "the table's weights and biases, numbered as its rows"]],
  step: [[sw("gold"), "the parameters the step moves (all the others move too)"]],
};

export function renderLegend(node, kind) {
  const items = LEGENDS[kind] || [];
  node.replaceChildren(...items.map(([swatch, text]) => el("span", { class: "legend-item" }, swatch, text)));
}
