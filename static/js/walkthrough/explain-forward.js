// Phases 1 and 2 in the panel: the selected neuron's weighted sum with its largest terms, a = σ(z),
// and the cost table (the lectures' "cost of a 3"), all with the engine's numbers.

import { el } from "../lib/dom.js";
import { fmtFactor, fmtMath } from "../lib/format.js";
import { eq, layerSup, num, op, pow, sigma, sym } from "../widgets/math-text.js";
import { bar, numTable } from "../widgets/num-table.js";
import { layerData, layerName } from "./steps.js";
import { inputName } from "./tiles.js";

const ACT_NAME = { sigmoid: "σ", relu: "ReLU", tanh: "tanh", leaky_relu: "leaky ReLU", softmax: "softmax" };

export const actOf = (c, l) => (l === c.L ? c.cfg.output_activation : c.cfg.activation);
export const actName = (name) => ACT_NAME[name] || name;

/** The k largest |values| (indices), largest first. */
export function topK(values, k) {
  return values.map((v, i) => [Math.abs(v), i]).sort((p, q) => q[0] - p[0]).slice(0, k).map(([, i]) => i);
}

/** Who neuron k of layer l is, for tables: "pixel (13, 9)" (of n inputs), "x₁", or "neuron 12". */
function whoName(l, k, n, inputNames) {
  return l === 0 ? inputName(k, n, inputNames) : `neuron ${k}`;
}

/** a = σ(z) with the numbers, for each activation function. */
function activationLine(act, l, j, z, a) {
  const A = sym("a", j, layerSup(l));
  const Z = sym("z", j, layerSup(l));
  switch (act) {
    case "sigmoid":
      return eq(A, op("="), "σ(", Z, ")", op("="), "1 / (1 +\u00a0", pow("e", z < 0 ? fmtMath(-z) : `−${fmtMath(z)}`), ")", op("="), num(a, 4, { cls: "result" }));
    case "relu":
      return eq(A, op("="), "ReLU(", Z, ")", op("="), `max(0, ${fmtMath(z)})`, op("="), num(a, 4, { cls: "result" }));
    case "leaky_relu":
      return eq(A, op("="), "leaky ReLU(", Z, ")", op("="), z > 0 ? fmtMath(z) : `0.01 × ${fmtFactor(z)}`, op("="), num(a, 4, { cls: "result" }));
    case "tanh":
      return eq(A, op("="), "tanh(", Z, ")", op("="), `tanh(${fmtMath(z)})`, op("="), num(a, 4, { cls: "result" }));
    case "softmax":
      return eq(A, op("="), pow("e", Z), " / ", sigma("i"), pow("e", sym("z", "i", layerSup(l))), op("="), num(a, 4, { cls: "result" }));
    default:
      return eq(A, op("="), `${act}(`, Z, ")", op("="), num(a, 4, { cls: "result" }));
  }
}

export function renderForward(c) {
  const { bd, step, sel, L } = c;
  const l = step.l;
  const j = sel[l];
  const data = bd.layers[l - 1];
  const aPrev = layerData(bd, l - 1).a;
  const row = data.w[j];
  const products = aPrev.map((a, k) => row[k] * a);
  const top = topK(products, 6);
  const shown = top.slice(0, 3);
  const bias = data.b[j];
  const z = data.z[j];
  const rest = z - bias - shown.reduce((s, k) => s + products[k], 0);
  const nIn = aPrev.length;

  const W = (k) => sym("w", k == null ? `${j}k` : `${j},${k}`, layerSup(l));
  const Aprev = (k) => sym("a", k, layerSup(l - 1));
  const terms = [];
  shown.forEach((k, i) => {
    if (i) terms.push(op("+"));
    terms.push(el("span", { class: "term", title: `${fmtMath(row[k], 4)} × ${fmtMath(aPrev[k], 4)} = ${fmtMath(products[k], 4)}` }, num(row[k], 3, { factor: true }), op("×"), num(aPrev[k], 3, { factor: true })));
  });
  if (nIn > shown.length) terms.push(op("+"), el("span", { class: "rest", title: `The other ${nIn - shown.length} terms w·a added together.` }, `(${nIn - shown.length} more: ${fmtMath(rest)})`));
  const formula = el(
    "div",
    { class: "wt-formula" },
    eq(sym("z", j, layerSup(l)), op("="), sigma("k"), W(null), Aprev("k"), op("+"), sym("b", j, layerSup(l))),
    eq(null, op("="), terms, op("+"), num(bias, 3, { factor: true }), el("span", { class: "eq-note", text: "(bias)" })),
    eq(null, op("="), num(z, 4, { cls: "result" })),
    activationLine(actOf(c, l), l, j, z, data.a[j]),
  );

  const max = Math.abs(products[top[0]]) || 1;
  const table = numTable(
    ["", "w", "a", "w·a", ""],
    [
      ...top.map((k) => ({ label: whoName(l - 1, k, nIn, c.words.inputNames), cells: [{ v: row[k] }, { v: aPrev[k] }, { v: products[k], signed: true, sign: true }, bar(products[k], max)] })),
      ...(nIn > top.length ? [{ label: `other ${nIn - top.length}`, cls: "sub", cells: ["", "", { v: z - bias - top.reduce((s, k) => s + products[k], 0), signed: true }, ""] }] : []),
      { label: "bias b", cls: "sub", cells: ["", "", { v: bias, signed: true }, ""] },
      { label: "z = sum", cls: "total", cells: ["", "", { v: z, sig: 4 }, ""] },
    ],
    { cls: "terms" },
  );
  const w = c.words;
  const few = nIn <= 6; // every term is listed
  const title = el("h4", {}, l === 1 ? (few ? `Every term: ${w.input} × its weight` : `Largest terms: ${w.input} × its weight`) : `${few ? "Every term" : "Largest terms"} wₖ·aₖ from the ${layerName(l - 1, L)} layer`);
  const name = l === L ? `output neuron ${j}${w.digits ? "" : ` (${w.short(j)})`}` : `${layerName(l, L)} neuron ${j}`;
  const first = w.scalar
    ? `The one input x = ${fmtMath(aPrev[0], 3)} is the first activation a⁽⁰⁾. Every neuron of the ${layerName(1, L)} layer weighs it, adds its bias and squishes the sum.`
    : w.plane
    ? `The point's ${w.inputs} are the first activations a⁽⁰⁾ (${w.inputNames.map((n, k) => `${n} = ${fmtMath(aPrev[k], 3)}`).join(", ")}). Every neuron of the ${layerName(1, L)} layer weighs both, adds its bias and squishes the sum — drawn over the whole plane, that function is the map in its node.`
    : `The ${nIn} inputs (pixels) are the first activations a⁽⁰⁾. Every neuron of the ${layerName(1, L)} layer weighs all of them (its weights are the maps beside it), adds its bias and squishes the sum.`;
  const caption =
    l === 1
      ? `${first} Shown: ${name} — click any neuron.`
      : l === L && w.names.length === 1
        ? `The output layer does the same with the ${layerName(l - 1, L)} layer's activations: its one output a = ${fmtMath(data.a[j], 4)} is compared with the target y = ${bd.target[j]}. Shown: ${name}.`
      : l === L
        ? `The output layer does the same with the ${layerName(l - 1, L)} layer's activations. The brightest of the ${w.count} is the network's answer: ${w.cls(bd.prediction)}${bd.prediction === bd.label ? " — right" : `, but the label is ${w.cls(bd.label)}`}. Shown: ${name}.`
        : `The ${layerName(l, L)} layer takes the previous layer's activations as its input — the same rule: weigh, add the bias, squish. Shown: ${name} — click any neuron.`;
  return { caption, body: el("div", { class: "wt-cols" }, formula, el("div", { class: "wt-side-table" }, title, table)) };
}

export function renderCost(c) {
  const { bd, L } = c;
  const out = bd.layers[L - 1];
  const w = c.words;
  const digits = out.a.map((_, j) => j);
  const quadratic = c.cfg.cost === "quadratic";
  const softmax = c.cfg.output_activation === "softmax";
  const termLabel = quadratic ? "(aⱼ − yⱼ)²" : softmax ? "−yⱼ ln aⱼ" : "−[y ln a + (1−y) ln(1−a)]";
  const max = Math.max(...bd.cost_terms.map(Math.abs)) || 1;
  const table = numTable(
    ["j", "aⱼ", "yⱼ", termLabel, ""],
    [
      ...digits.map((j) => ({
        label: w.digits ? String(j) : w.short(j),
        hl: j === bd.label,
        mark: j === bd.prediction && j !== bd.label,
        cells: [{ v: out.a[j] }, el("span", { class: bd.target[j] ? "n y1" : "n y0", text: String(bd.target[j]) }), { v: bd.cost_terms[j] }, bar(bd.cost_terms[j], max, "warm")],
      })),
      { label: "sum", cls: "total", cells: ["", "", el("span", { class: "n result", id: "wt-cost-total", "data-testid": "wt-cost-total", text: fmtMath(bd.cost, 4) }), ""] },
    ],
    { cls: "terms vertical" },
  );
  const C = sym("C", 0);
  const lines = [];
  if (quadratic) {
    const parts = [];
    digits.forEach((j) => {
      if (j) parts.push(op("+"));
      parts.push(el("span", { class: j === bd.label ? "term lab" : "term" }, `(${fmtMath(out.a[j])} − ${bd.target[j]})²`));
    });
    lines.push(eq(C, op("="), sigma("j"), "(", sym("a", "j"), op("−"), sym("y", "j"), ")²"));
    lines.push(eq(null, op("="), parts));
  } else if (softmax) {
    lines.push(eq(C, op("="), sigma("j", "−"), sym("y", "j"), " ln ", sym("a", "j"), op("="), "−ln ", sym("a", bd.label), op("="), `−ln(${fmtMath(out.a[bd.label], 4)})`));
  } else {
    lines.push(eq(C, op("="), sigma("j", "−"), "[", sym("y", "j"), " ln ", sym("a", "j"), " + (1 − ", sym("y", "j"), ") ln(1 − ", sym("a", "j"), ")]"));
    const others = bd.cost_terms.reduce((s, v, j) => (j === bd.label ? s : s + v), 0);
    lines.push(eq(null, op("="), el("span", { class: "term lab" }, `−ln(${fmtMath(out.a[bd.label], 4)})`), op("+"), el("span", { class: "rest", title: `−ln(1 − aⱼ) for ${w.others} outputs, which should be 0, added together.` }, `(${w.others}: ${fmtMath(others)})`)));
  }
  lines.push(eq(null, op("="), num(bd.cost, 4, { cls: "result big" })));
  const wrong = bd.prediction !== bd.label;
  const caption = quadratic
    ? `The label says ${w.cls(bd.label)}: the wanted output y is 1 for neuron ${bd.label}${w.names.length > 1 ? ` and 0 for ${w.others}` : ""}. The cost of this one example adds up the squared differences — ${wrong ? `large here: the network says ${w.cls(bd.prediction)}.` : "small when the network is right and sure."}`
    : `The label says ${w.cls(bd.label)}. Cross-entropy charges −ln of the probability given to the right answer${softmax ? "" : `, plus −ln(1 − a) for ${w.others}, which should be 0`}: near 0 when sure and right, large when sure and wrong.`;
  return { caption, body: el("div", { class: "wt-cols" }, el("div", { class: "wt-formula" }, ...lines), el("div", { class: "wt-side-table" }, table)) };
}

