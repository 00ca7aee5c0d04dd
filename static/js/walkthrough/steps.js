// The walkthrough's sequence: the lectures' six phases, unrolled into one step per layer, and the
// choices each step starts with (which neuron, which weight). Layer numbers are the network view's:
// 0 = the inputs (an image's pixels, a point's coordinates), 1 … L = the layers after weight matrices 0 … L−1.

import { layerName } from "../lib/names.js";
import { inputName } from "./tiles.js";

/** Examples in the mini-batch table: the walkthrough's own choice (ten, as in the lectures' table). */
export const BATCH_TABLE_SIZE = 10;

export const PHASES = [
  { n: 1, title: "Forward", blurb: "z = Σ w·a + b, then a = σ(z), layer by layer" },
  { n: 2, title: "Cost", blurb: "how wrong: C₀ = Σ (aⱼ − yⱼ)²" },
  { n: 3, title: "Output layer backward", blurb: "δ, the bias nudges and the weight nudges aₖ·δⱼ" },
  { n: 4, title: "Into the previous layers", blurb: "∂C₀/∂aₖ = Σⱼ wⱼₖ δⱼ: the sum over paths" },
  { n: 5, title: "The mini-batch", blurb: "every example's nudges, and their average" },
  { n: 6, title: "The step", blurb: "w ← w − η · average" },
];

export { layerName }; // (lib/names.js: one name per layer in every view)

/** The steps for a network of L weight matrices. `chain`: one neuron per layer (the lecture notes' simple
 * example), which first gets the whole chain of its last layer with a slider on w⁽ᴸ⁾ (see chain.js);
 * `plane`: its inputs are a point's coordinates, not pixels. */
export function buildSteps(L, { chain = false, plane = false } = {}) {
  const steps = [];
  for (let l = 1; l <= L; l++) steps.push({ phase: 1, kind: "forward", l, title: `Forward · ${layerName(l, L)} layer` });
  steps.push({ phase: 2, kind: "cost", l: L, title: "The cost of this example" });
  if (chain) steps.push({ phase: 3, kind: "chain", l: L, title: "The chain rule, one neuron per layer" });
  steps.push({ phase: 3, kind: "output", l: L, title: "Output layer backward" });
  for (let l = L - 1; l >= 1; l--) {
    steps.push({ phase: 4, kind: "dCda", l, title: `Into the ${layerName(l, L)} layer: the sum over paths` });
    steps.push({ phase: 4, kind: "hidden", l, title: l === 1 ? (plane ? "The first layer: every weight's nudge" : "The first layer: its nudge maps") : `The chain rule, one layer back: ${layerName(l, L)}` });
  }
  const last = plane ? (L === 1 ? "The first layer's nudges and the inputs" : "Down to the inputs") : L === 1 ? "The first layer: its nudge maps and the pixels" : "Down to the pixels";
  steps.push({ phase: 4, kind: "pixels", l: 0, title: last });
  steps.push({ phase: 5, kind: "batch", l: L, title: "The mini-batch" });
  steps.push({ phase: 6, kind: "step", l: L, title: "The step" });
  return steps;
}

/** Per-layer numbers of the breakdown in view numbering (layer 0: the input). */
export function layerData(bd, l) {
  return l === 0 ? { a: bd.input, dC_da: bd.input_dC_da } : bd.layers[l - 1];
}

function argmaxAbs(values, key = (v) => v) {
  let best = 0;
  let bestValue = -1;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(key(values[i], i));
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Starting selection per layer: the label at the output; elsewhere the neuron with the largest |δ|. */
export function defaultSelection(bd) {
  const L = bd.layers.length;
  const sel = [null];
  for (let l = 1; l < L; l++) sel.push(argmaxAbs(bd.layers[l - 1].delta));
  sel.push(bd.label);
  return sel;
}

/**
 * Is output j saturated for this example: wrong by a lot (|∂C₀/∂aⱼ| > 0.1) yet with almost no δⱼ (under a
 * hundredth of it), because its activation's slope σ′(zⱼ) is ≈ 0? Then its own nudges are tiny:
 * {j, z, a, y, sigmaPrime, dCda, delta, whole, other}, else null — `whole`: every output's δ is that small
 * (the whole example barely moves anything), `other`: else the output with the largest |δ| {k, a, delta},
 * which does the moving. (With cross-entropy δ = a − y: never.)
 */
export function saturatedOutput(bd, j) {
  const out = bd.layers[bd.layers.length - 1];
  const dCda = out.dC_da[j];
  const delta = out.delta[j];
  if (!(Math.abs(dCda) > 0.1 && Math.abs(delta) < 0.01 * Math.abs(dCda))) return null;
  const k = argmaxAbs(out.delta);
  const whole = Math.abs(out.delta[k]) < 1e-3;
  if (!whole && k === j) return null; // still what this example moves most: nothing to explain
  return { j, z: out.z[j], a: out.a[j], y: bd.target[j], sigmaPrime: out.sigma_prime[j], dCda, delta, whole, other: whole || k === j ? null : { k, a: out.a[k], delta: out.delta[k] } };
}

/** The incoming weight k of neuron j (layer l) with the largest |a_k δ_j|: its biggest nudge. */
export function biggestNudge(bd, l, j) {
  const aPrev = layerData(bd, l - 1).a;
  const delta = bd.layers[l - 1].delta[j];
  return argmaxAbs(aPrev, (a) => a * delta);
}

/** The incoming weight with the largest |w_jk a_k|: the biggest term of z_j. */
function biggestTerm(bd, l, j) {
  const aPrev = layerData(bd, l - 1).a;
  const row = bd.layers[l - 1].w[j];
  return argmaxAbs(aPrev, (a, k) => a * row[k]);
}

/** The path j (into layer l+1) with the largest |w_jk δ_j| for neuron k of layer l. */
function biggestPath(bd, l, k) {
  const next = bd.layers[l];
  return argmaxAbs(next.delta, (d, j) => d * next.w[j][k]);
}

/**
 * The weight a step is about (the gradient check's "selected weight"): {layer: weight-matrix index,
 * j, k}. The mini-batch and the step use the first row of their table instead.
 */
export function focusParam(step, bd, sel) {
  const L = bd.layers.length;
  switch (step.kind) {
    case "forward":
      return { layer: step.l - 1, j: sel[step.l], k: biggestTerm(bd, step.l, sel[step.l]) };
    case "dCda": {
      const k = sel[step.l];
      return { layer: step.l, j: biggestPath(bd, step.l, k), k };
    }
    case "hidden":
      return { layer: step.l - 1, j: sel[step.l], k: biggestNudge(bd, step.l, sel[step.l]) };
    case "pixels":
      return { layer: 0, j: sel[1], k: biggestNudge(bd, 1, sel[1]) };
    default:
      return { layer: L - 1, j: sel[L], k: biggestNudge(bd, L, sel[L]) };
  }
}

/** "w⁽³⁾₇,₁₂" in words, for titles: which neurons a parameter connects (sizes: the network's layer sizes;
 * inputNames: the dataset's names of its inputs, e.g. x₁, x₂). */
export function describeParam(p, sizes, inputNames = null) {
  const L = sizes.length - 1;
  const to = layerName(p.layer + 1, L);
  if (p.k == null) return `bias of ${to} neuron ${p.j}`;
  const from = p.layer === 0 ? inputName(p.k, sizes[0], inputNames) : `${layerName(p.layer, L)} neuron ${p.k}`;
  return `weight from ${from} to ${to} neuron ${p.j}`;
}
