// The key under the network view for each walkthrough step: what hue, width and rings mean there.

import { el } from "../lib/dom.js";

const sw = (cls) => el("span", { class: `swatch ${cls}` });

// One colour rule in the whole walkthrough (lib/colors.js): colour = which way a thing moves or is pushed,
// blue ↑ up, orange ↓ down — the same on the network and in the tables beside it. A gradient ∂C₀/∂x is
// coloured by the way gradient descent moves x, against its sign: a nudge −aₖδⱼ, a ring −δⱼ, a wish −∂C₀/∂a.
/** The rule itself, first in the legends that colour gradients: "▬ ↑ up ▬ ↓ down: <what the colour is>". */
const keep = (...parts) => el("span", { class: "keep" }, ...parts); // a swatch and its words stay together
const RULE = (what) => [[keep(sw("pos"), "↑ up"), " ", keep(sw("neg"), "↓ down")], what, "rule"];
const legends = () => ({
  forward: [[sw("pos"), "w·a > 0: pushes z ↑ up"], [sw("neg"), "< 0: pulls it ↓ down"], [null, "thicker = bigger term"], [sw("neuron"), "brightness = activation a"], [sw("sel"), "selected neuron — click another"]],
  cost: [[sw("pos"), "ring: aⱼ should go ↑ up (y − a > 0)"], [sw("neg"), "↓ down"], [null, "thicker = further from the target y"], [sw("sel"), "selected output"]],
  output: [RULE("which way the step moves it, as in the table (against ∂C₀/∂·)"), [null, "lines: the weights' nudges −aₖδⱼ"], [sw("ring"), "rings: the biases' −δⱼ"], [null, "thicker = bigger"]],
  dCda: [RULE("which way each path wants aₖ to move (−wⱼₖδⱼ), as in the table"), [null, "thicker = bigger"], [sw("ring"), "ring: each neuron's total wish −∂C₀/∂a"]],
  hidden: [RULE("which way the step moves it, as in the table (against ∂C₀/∂·)"), [sw("heat"), "maps: each first-layer neuron's weight nudges, one per pixel"], [sw("ring"), "rings: the biases' −δⱼ"]],
  pixels: [[sw("heat"), "input: blue ↑ more ink would lower C₀, orange ↓ less"], [null, "lines: the biggest wish's paths −wⱼₖδⱼ"], RULE("")],
  batch: [[sw("gold"), "the table's rows, numbered"], RULE("which way each example pushes it (in the table)")],
  step: [[sw("gold"), "the parameters the step moves (all the others move too)"], [sw("pos"), "Δw ↑ up"], [sw("neg"), "Δw ↓ down"]],
});

// On the plane the inputs are a point's two coordinates: no maps over pixels.
const planeLegends = () => ({
  hidden: [[sw("pos"), "nudge −∂C₀/∂w > 0: the weight goes up"], [sw("neg"), "< 0: it goes down"], [null, "thicker = bigger nudge"], [sw("ring"), "ring: −δ"]],
  pixels: [[sw("ring"), "rings on x₁, x₂: −∂C₀/∂x, which way moving the point lowers C₀ (blue: larger)"], [null, "lines: the paths into the larger wish, −w·δ"], [sw("pos"), "> 0"], [sw("neg"), "< 0"]],
});

export function renderLegend(node, kind, plane = false) {
  // fresh swatches each time: a node shows in one place only
  const items = (plane && planeLegends()[kind]) || legends()[kind] || [];
  node.replaceChildren(...items.map(([swatch, text, cls]) => el("span", { class: cls ? `legend-item ${cls}` : "legend-item" }, ...[swatch].flat(), Array.isArray(swatch) && text ? ": " : "", text)));
}
