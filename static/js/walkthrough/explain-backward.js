// Phases 3 and 4 in the panel: δ at the output, the bias and weight nudges, the sum over paths into
// each earlier layer, the chain rule one layer back, the first layer's 28×28 nudge maps and the pixels —
// on the plane, every first-layer weight's nudge in one table and the point's two coordinates, with the
// way moving the point would lower its cost drawn as an arrow on the plane.

import { moveClass } from "../lib/colors.js";
import { el } from "../lib/dom.js";
import { fmtMath } from "../lib/format.js";
import { dC, eq, layerSup, num, op, sigma, sym } from "../widgets/math-text.js";
import { bar, numTable } from "../widgets/num-table.js";
import { actName, actOf, topK } from "./explain-forward.js";
import { biggestNudge, layerData, layerName, saturatedOutput } from "./steps.js";
import { planeFigure } from "./plane-figure.js";
import { grayCanvas, inputCoords, inputName, mapCanvas } from "./tiles.js";

const SUBSCRIPT = "₀₁₂₃₄₅₆₇₈₉";
/** A neuron index as a subscript: 12 → ₁₂. */
export const subscript = (n) => String(n).replace(/\d/g, (d) => SUBSCRIPT[+d]);

/** ∂C₀/∂a_j in the lectures' form for the cost in use, with numbers. */
function dCdaLine(c, j, a, y, value) {
  const Aj = sym("a", j, layerSup(c.L));
  if (c.cfg.cost === "quadratic") {
    return eq(dC(Aj), op("="), `2(${fmtMath(a)} − ${y})`, op("="), num(value, 3, { cls: "result" }));
  }
  if (c.cfg.output_activation === "softmax") {
    return eq(dC(Aj), op("="), `−y / a = −${y} / ${fmtMath(a)}`, op("="), num(value, 3, { cls: "result" }));
  }
  return eq(dC(Aj), op("="), `(a − y) / (a(1 − a)) = (${fmtMath(a)} − ${y}) / (${fmtMath(a)} × ${fmtMath(1 - a)})`, op("="), num(value, 3, { cls: "result" }));
}

/** The weight-nudge line: ∂C₀/∂w_jk = a_k · δ_j for the most active k. */
function weightLine(bd, l, j, k) {
  const aPrev = layerData(bd, l - 1).a;
  const data = bd.layers[l - 1];
  return eq(
    dC(sym("w", `${j},${k}`, layerSup(l))),
    op("="),
    sym("a", k, layerSup(l - 1)),
    op("·"),
    sym("δ", j, layerSup(l)),
    op("="),
    num(aPrev[k], 3, { factor: true }),
    op("×"),
    num(data.delta[j], 3, { factor: true }),
    op("="),
    num(data.nabla_w[j][k], 3, { cls: "result" }),
  );
}

export function renderOutput(c) {
  const { bd, L, sel } = c;
  const out = bd.layers[L - 1];
  const j = sel[L];
  const softmax = c.cfg.output_activation === "softmax";
  const quadratic = c.cfg.cost === "quadratic";
  const k = biggestNudge(bd, L, j);
  const aPrev = layerData(bd, L - 1).a;
  const table = numTable(
    ["j", "aⱼ", "yⱼ", quadratic ? "2(aⱼ−yⱼ)" : "∂C₀/∂aⱼ", softmax ? "∂aⱼ/∂zⱼ" : "σ′(zⱼ)", "δⱼ = ∂C₀/∂bⱼ"],
    out.a.map((a, i) => ({
      label: String(i),
      hl: i === j,
      onClick: () => c.select(L, i),
      clickTitle: `Show output neuron ${i}'s numbers.`,
      cells: [{ v: a }, el("span", { class: bd.target[i] ? "n y1" : "n y0", text: String(bd.target[i]) }), { v: out.dC_da[i], signed: true, nudge: true, arrow: false }, { v: out.sigma_prime[i] }, { v: out.delta[i], signed: true, nudge: true }],
    })),
    { cls: "terms vertical" },
  );
  const D = () => sym("δ", j, layerSup(L));
  const lines = [dCdaLine(c, j, out.a[j], bd.target[j], out.dC_da[j])];
  if (softmax) {
    lines.push(eq(D(), op("="), sigma("i"), dC(sym("a", "i")), " ∂aᵢ/∂", sym("z", j), op("="), num(out.delta[j], 3, { cls: "result" }), el("span", { class: "eq-note", text: "(softmax Jacobian)" })));
  } else {
    lines.push(eq(D(), op("="), `${actName(actOf(c, L))}′(`, sym("z", j, layerSup(L)), ")", op("·"), dC(sym("a", j, layerSup(L))), op("="), num(out.sigma_prime[j], 3, { factor: true }), op("×"), num(out.dC_da[j], 3, { factor: true }), op("="), num(out.delta[j], 3, { cls: "result" })));
  }
  lines.push(eq(dC(sym("b", j, layerSup(L))), op("="), D(), op("="), num(out.nabla_b[j], 3, { cls: "result" }), el("span", { class: "eq-note", text: out.nabla_b[j] < 0 ? "→ the bias goes up" : out.nabla_b[j] > 0 ? "→ the bias goes down" : "" })));
  lines.push(weightLine(bd, L, j, k));
  const active = L > 1 ? `the most active ${layerName(L - 1, L)} neuron (a = ${fmtMath(aPrev[k])})` : c.words.plane ? `the larger coordinate, ${c.words.inputNames[k]} = ${fmtMath(aPrev[k])}` : `the brightest pixel`;
  const fire = el("p", { class: "wt-callout" }, el("b", { text: "Fire together, wire together. " }), `The biggest weight nudge into neuron ${j} comes from ${active}: ∂C₀/∂wⱼₖ = aₖ·δⱼ, so connections from dark neurons barely move.`);
  const flat = saturatedOutput(bd, j);
  const saturated = flat && el(
    "p",
    { class: "wt-callout warn", "data-testid": "wt-saturated" },
    el("b", { text: flat.whole ? "It barely learns: the neuron is saturated. " : `Output ${j} barely learns: the neuron is saturated. ` }),
    `σ′(z${subscript(j)}) = ${fmtMath(flat.sigmaPrime)} ≈ 0: at z = ${fmtMath(flat.z)} output ${j}'s ${actName(actOf(c, L))} is flat, so even this wrong answer (a = ${fmtMath(flat.a)}, y = ${flat.y}) barely moves the weights — δ = σ′ × ∂C₀/∂a = ${fmtMath(flat.delta)}, `,
    flat.whole ? "and every nudge of this example is that small. " : `and so are the nudges that would raise a${subscript(j)}; what this example does move comes from output ${flat.other.k} (a = ${fmtMath(flat.other.a)}, δ = ${fmtMath(flat.other.delta)}). `,
    `"A more inaccurate set … would incur greater adjustments" holds only while σ′ is not ≈ 0. `,
    quadratic && !softmax ? "The cross-entropy cost fixes this: its δ = a − y has no σ′ (network editor → cost)." : "",
  );
  const caption = softmax
    ? `Backwards from the output. With softmax every output depends on every z, so δⱼ is not σ′(zⱼ)·∂C₀/∂aⱼ: the server takes δ from the softmax Jacobian${quadratic ? "" : " (with cross-entropy it is just aⱼ − yⱼ)"}. δⱼ is the bias nudge; a weight's is aₖ·δⱼ (on the connections).`
    : `Backwards from the output: each output's wish ∂C₀/∂aⱼ${quadratic ? " = 2(aⱼ − yⱼ)" : ""} (positive: go down), through σ: δⱼ = σ′(zⱼ)·∂C₀/∂aⱼ — also the bias nudge ∂C₀/∂bⱼ. A weight's nudge is aₖ·δⱼ, drawn on the connections. Click a row to follow that output.`;
  return { caption, body: el("div", { class: "wt-cols" }, el("div", { class: "wt-stack grow" }, saturated, el("div", { class: "wt-formula" }, ...lines), fire), el("div", { class: "wt-side-table" }, table)) };
}

export function renderDCda(c) {
  const { bd, L, sel, step } = c;
  const l = step.l;
  const k = sel[l];
  const next = bd.layers[l];
  const products = next.delta.map((d, j) => next.w[j][k] * d);
  const top = topK(products, 6);
  const shown = top.slice(0, 3);
  const value = bd.layers[l - 1].dC_da[k];
  const n = products.length;
  const rest = value - shown.reduce((s, j) => s + products[j], 0);
  const terms = [];
  shown.forEach((j, i) => {
    if (i) terms.push(op("+"));
    terms.push(el("span", { class: "term" }, num(next.w[j][k], 3, { factor: true }), op("×"), num(next.delta[j], 3, { factor: true })));
  });
  if (n > shown.length) terms.push(op("+"), el("span", { class: "rest", title: `The other ${n - shown.length} paths added together.` }, `(${n - shown.length} more: ${fmtMath(rest)})`));
  const A = sym("a", k, layerSup(l));
  const formula = el(
    "div",
    { class: "wt-formula" },
    eq(dC(A), op("="), sigma("j"), sym("w", `j${k}`, layerSup(l + 1)), sym("δ", "j", layerSup(l + 1))),
    eq(null, op("="), terms),
    eq(null, op("="), num(value, 3, { cls: "result" }), el("span", { class: "eq-note", text: value < 0 ? `→ neuron ${k} should be brighter` : value > 0 ? `→ neuron ${k} should be dimmer` : "" })),
  );
  const max = Math.abs(products[top[0]]) || 1;
  const table = numTable(
    ["path via", "wⱼₖ", "δⱼ", "wⱼₖ·δⱼ", ""],
    [
      ...top.map((j) => ({ label: `${l + 1 === L ? "output" : "neuron"} ${j}`, cells: [{ v: next.w[j][k] }, { v: next.delta[j], nudge: true, arrow: false }, { v: products[j], signed: true, nudge: true }, bar(products[j], max, moveClass(products[j]))] })),
      ...(n > top.length ? [{ label: `other ${n - top.length}`, cls: "sub", cells: ["", "", { v: value - top.reduce((s, j) => s + products[j], 0), signed: true, nudge: true, arrow: false }, ""] }] : []),
      { label: "∂C₀/∂aₖ = sum", cls: "total", cells: ["", "", { v: value, nudge: true }, ""] },
    ],
    { cls: "terms" },
  );
  const caption = `We can't set the ${layerName(l, L)} activations directly — only through their own weights and biases — but we can ask what each would like. As in the notes, k counts the ${layerName(l, L)} layer (the one before) and j the ${layerName(l + 1, L)} layer: neuron ${k} feeds every neuron j, so its wish adds up the wishes along every path, ∂C₀/∂aₖ = Σⱼ wⱼₖ δⱼ. The rings show every neuron's wish; click one to see its sum.`;
  return { caption, body: el("div", { class: "wt-cols" }, formula, el("div", { class: "wt-side-table" }, el("h4", { text: `Paths from ${layerName(l, L)} neuron ${k}` }), table)) };
}

export function renderHidden(c) {
  const { bd, L, sel, step } = c;
  const l = step.l;
  // the notes' letters at every layer: j for the neurons of the layer computed here, k for the layer before
  const j = sel[l];
  const data = bd.layers[l - 1];
  const k = biggestNudge(bd, l, j);
  const lines = el(
    "div",
    { class: "wt-formula" },
    eq(sym("δ", j, layerSup(l)), op("="), `${actName(actOf(c, l))}′(`, sym("z", j, layerSup(l)), ")", op("·"), dC(sym("a", j, layerSup(l))), op("="), num(data.sigma_prime[j], 3, { factor: true }), op("×"), num(data.dC_da[j], 3, { factor: true }), op("="), num(data.delta[j], 3, { cls: "result" })),
    eq(dC(sym("b", j, layerSup(l))), op("="), sym("δ", j, layerSup(l)), op("="), num(data.nabla_b[j], 3, { cls: "result" })),
    weightLine(bd, l, j, k),
  );
  const name = layerName(l, L);
  const letters = `The ${name} layer is now the one we compute, so its neurons are j and the ${layerName(l - 1, L)} layer before it is k — the notes' letters at every layer.`;
  if (l === 1 && c.words.plane) {
    const [x1, x2] = c.words.inputNames;
    const caption = `The chain rule once more: δₖ = σ′(zₖ)·∂C₀/∂aₖ. Each first-layer neuron has just two weights, from ${x1} and ${x2}, and a bias: ∂C₀/∂w = ${x1}·δₖ and ${x2}·δₖ, and ∂C₀/∂b = δₖ — every one of them is in the table (↑ ↓: which way the step moves it, against its sign). Click a row to follow that neuron.`;
    return { caption, body: el("div", { class: "wt-cols" }, lines, el("div", { class: "wt-side-table" }, el("h4", { text: "Every first-layer weight and bias: ∂C₀/∂·" }), firstLayerTable(c))) };
  }
  if (l === 1) {
    const caption = `The chain rule once more: δⱼ = σ′(zⱼ)·∂C₀/∂aⱼ. ${letters} Its weights come from the ${bd.input.length} inputs, so each neuron's weight nudges −aₖ·δⱼ form a map over them — blue weights go up, orange down, only where this example's input is not zero. Each map has its own scale; on the network they share one.`;
    return { caption, body: el("div", { class: "wt-stack" }, lines, nudgeMaps(c, 1)) };
  }
  const n = data.delta.length;
  const top = topK(data.delta, 8);
  const rows = (n <= 8 ? data.delta.map((_, q) => q) : top.includes(j) ? top : [...top.slice(0, 7), j]).sort((p, q) => p - q);
  const table = numTable(
    ["j", "∂C₀/∂aⱼ", "σ′(zⱼ)", "δⱼ = ∂C₀/∂bⱼ"],
    rows.map((q) => ({
      label: String(q),
      hl: q === j,
      onClick: () => c.select(l, q),
      clickTitle: `Show ${name} neuron ${q}'s numbers.`,
      cells: [{ v: data.dC_da[q], signed: true, nudge: true, arrow: false }, { v: data.sigma_prime[q] }, { v: data.delta[q], signed: true, nudge: true }],
    })),
    { cls: "terms vertical" },
  );
  const title = el("h4", { text: n > rows.length ? `The ${rows.length} of ${n} with the largest |δ|` : `All ${n} neurons` });
  const caption = `One layer further back, the same chain rule: δⱼ = σ′(zⱼ)·∂C₀/∂aⱼ is the bias nudge, and each incoming weight's nudge is aₖ·δⱼ — drawn on the connections into the ${name} layer. ${letters} From here the wishes flow on, one layer further back.`;
  return { caption, body: el("div", { class: "wt-cols" }, lines, el("div", { class: "wt-side-table" }, title, table)) };
}

/** On the plane: every first-layer neuron's ∂C₀/∂w for x₁ and x₂ and ∂C₀/∂b, one row each. */
function firstLayerTable(c) {
  const { bd, sel } = c;
  const data = bd.layers[0];
  const [x1, x2] = c.words.inputNames;
  return numTable(
    ["k", `∂C₀/∂wₖ,${x1}`, `∂C₀/∂wₖ,${x2}`, "∂C₀/∂bₖ = δₖ"],
    data.delta.map((d, k) => ({
      label: String(k),
      hl: k === sel[1],
      onClick: () => c.select(1, k),
      clickTitle: `Show neuron ${k}'s numbers.`,
      cells: [{ v: data.nabla_w[k][0], signed: true, nudge: true }, { v: data.nabla_w[k][1], signed: true, nudge: true }, { v: data.nabla_b[k], signed: true, nudge: true }],
    })),
    { cls: "terms vertical", testid: "wt-first-layer-table" },
  );
}

/** The first layer's nudge maps: each neuron's −∂C₀/∂w row as an image of the inputs (own scale, max printed). */
function nudgeMaps(c, l) {
  const { bd, sel } = c;
  const data = bd.layers[l - 1];
  const n = data.nabla_w.length;
  const which = n <= 16 ? data.nabla_w.map((_, j) => j) : topK(data.delta, 16).sort((p, q) => p - q);
  const figures = which.map((j) => {
    const values = data.nabla_w[j].map((v) => -v);
    const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const canvas = mapCanvas(values, max || 1, "wt-map");
    return el(
      "button",
      { type: "button", class: `wt-map-fig${j === sel[l] ? " selected" : ""}`, title: `Neuron ${j}: δ = ${fmtMath(data.delta[j])}, largest |∂C₀/∂w| = ${fmtMath(max)}${max === 0 ? " (saturated: σ′(z) ≈ 0, nothing to change)" : ""}. Click to select it.`, onclick: () => c.select(l, j) },
      canvas,
      el("span", { class: "cap", text: `#${j}` }),
    );
  });
  const grid = el("div", { class: "wt-maps", "data-testid": "wt-nudge-maps" }, ...figures);
  grid.style.gridTemplateColumns = `repeat(${Math.max(8, figures.length)}, minmax(0, 1fr))`;
  return grid;
}

/** On the plane: ∂C₀/∂x for both coordinates, and the way moving the point would lower its cost. */
function renderInputs(c) {
  const { bd, L } = c;
  const first = bd.layers[0];
  const wish = bd.input_dC_da;
  const names = c.words.inputNames;
  const lines = names.map((name, i) => {
    const products = first.delta.map((d, j) => first.w[j][i] * d);
    const top = topK(products, 3);
    const terms = [];
    top.forEach((j, q) => {
      if (q) terms.push(op("+"));
      terms.push(el("span", { class: "term" }, num(first.w[j][i], 3, { factor: true }), op("×"), num(first.delta[j], 3, { factor: true })));
    });
    const restN = products.length - top.length;
    if (restN > 0) terms.push(op("+"), el("span", { class: "rest" }, `(${restN} more: ${fmtMath(wish[i] - top.reduce((s, j) => s + products[j], 0))})`));
    return [
      eq(dC(el("span", { class: "sym", text: name })), op("="), sigma("j"), sym("w", `j,${name}`, layerSup(1)), sym("δ", "j", layerSup(1))),
      eq(null, op("="), terms, op("="), num(wish[i], 3, { cls: "result" })),
    ];
  });
  const arrow = [-wish[0], -wish[1]];
  const figure = el(
    "figure",
    { class: "wt-plane-figure" },
    planeFigure(c.planeMaps, c.store, bd.input, { arrow, label: "The plane with the walked point and the arrow −∂C₀/∂x" }),
    el("figcaption", {}, `arrow: −∂C₀/∂x = (${fmtMath(arrow[0], 2)}, ${fmtMath(arrow[1], 2)})`, el("br"), "the way that lowers C₀"),
  );
  const extra = L === 1 ? [el("div", { class: "wt-side-table" }, firstLayerTable(c))] : [];
  const caption = `The chain rule reaches the inputs too: ∂C₀/∂xᵢ = Σⱼ wⱼᵢ δⱼ, one more sum over paths. The point's coordinates are data, not parameters — gradient descent never moves them — but the arrow shows which way moving the point would lower its cost: towards where the network would say ${c.words.cls(bd.label)} more surely.`;
  return { caption, body: el("div", { class: "wt-cols" }, figure, el("div", { class: "wt-formula" }, ...lines.flat()), ...extra) };
}

export function renderPixels(c) {
  if (c.words.plane) return renderInputs(c);
  const { bd, L } = c;
  const first = bd.layers[0];
  const wish = bd.input_dC_da;
  let best = 0;
  wish.forEach((v, i) => {
    if (Math.abs(v) > Math.abs(wish[best])) best = i;
  });
  const img = grayCanvas(bd.input, "wt-big");
  const max = wish.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const map = mapCanvas(wish.map((v) => -v), max || 1, "wt-big");
  const products = first.delta.map((d, j) => first.w[j][best] * d);
  const top = topK(products, 3);
  const terms = [];
  top.forEach((j, q) => {
    if (q) terms.push(op("+"));
    terms.push(el("span", { class: "term" }, num(first.w[j][best], 3, { factor: true }), op("×"), num(first.delta[j], 3, { factor: true })));
  });
  const restN = products.length - top.length;
  if (restN > 0) terms.push(op("+"), el("span", { class: "rest" }, `(${restN} more: ${fmtMath(wish[best] - top.reduce((s, j) => s + products[j], 0))})`));
  const px = inputCoords(best, wish.length);
  const formula = el(
    "div",
    { class: "wt-formula" },
    eq(dC(sym("a", px, layerSup(0))), op("="), sigma("j"), sym("w", `j,(${px})`, layerSup(1)), sym("δ", "j", layerSup(1))),
    eq(null, op("="), terms),
    eq(null, op("="), num(wish[best], 3, { cls: "result" }), el("span", { class: "eq-note", text: `${inputName(best, wish.length)}, the biggest wish` })),
  );
  const figs = el(
    "div",
    { class: "wt-pair" },
    el("figure", {}, img, el("figcaption", { text: "the image a⁽⁰⁾" })),
    el("span", { class: "arrow", text: "→" }),
    el("figure", {}, map, el("figcaption", {}, "its wish −∂C₀/∂a⁽⁰⁾", el("br"), `max |·| = ${fmtMath(max)}`)),
  );
  const extra = L === 1 ? [nudgeMaps(c, 1)] : [];
  const caption = `The chain rule reaches the pixels too: ∂C₀/∂aₖ⁽⁰⁾ = Σⱼ wⱼₖ δⱼ, one more sum over paths — the pixels are now the layer before (k), the first layer's neurons the j. Pixels are data, not parameters — gradient descent never changes them — but the map shows which ink would have lowered the cost: blue where more ink would help, orange where less would.`;
  return { caption, body: el("div", { class: "wt-stack" }, el("div", { class: "wt-cols" }, figs, formula), ...extra) };
}

