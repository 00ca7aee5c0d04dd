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

export function renderLegend(node, kind) {
  const items = legends()[kind] || []; // fresh swatches each time: a node shows in one place only
  node.replaceChildren(...items.map(([swatch, text, cls]) => el("span", { class: cls ? `legend-item ${cls}` : "legend-item" }, ...[swatch].flat(), Array.isArray(swatch) && text ? ": " : "", text)));
}
