// Phases 5 and 6 in the panel: the lectures' mini-batch table (rows = parameters, columns = examples,
// column 1 = the example just walked through, last column = the average) and the step w ← w − η·average,
// shown moving the network: Δw beside each row, the batch's cost before and after, each example's output
// for its label before and after, and the map of one first-layer neuron's change.
//
// Numbers: two significant digits each (never "0.00" for a value that is not zero); before/after pairs
// with as many digits as it takes to tell them apart. Colours: the walkthrough's one rule (lib/colors.js),
// the way the step moves the parameter — blue ↑ up (a negative ∂C₀/∂·), orange ↓ down — as on the network.

import { moveClass } from "../lib/colors.js";
import { el } from "../lib/dom.js";
import { fmtCount, fmtFixed, fmtGrouped, fmtMath, fmtMathPair, fmtMathSigned } from "../lib/format.js";
import { eq, layerSup, num, op, sym } from "../widgets/math-text.js";
import { scrollX } from "../widgets/scroll-x.js";
import { planeFigure } from "./plane-figure.js";
import { BATCH_TABLE_SIZE, describeParam, layerName, saturatedOutput } from "./steps.js";
import { grayCanvas, mapCanvas } from "./tiles.js";

const CIRCLED = ["①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩", "⑪", "⑫"];

export function paramSym(p) {
  return p.k == null ? sym("b", p.j, layerSup(p.layer + 1)) : sym("w", `${p.j},${p.k}`, layerSup(p.layer + 1));
}

function paramLabel(p, i, sizes, why = null, inputNames = null) {
  const title = `${describeParam(p, sizes, inputNames)}${why === "example" ? " — the walked example's biggest nudge" : why === "batch" ? " — one this batch pushes hardest (largest |average|)" : ""}`;
  return el("span", { class: "param", title }, el("span", { class: "tag", text: CIRCLED[i] || String(i + 1) }), paramSym(p), why === "example" ? el("span", { class: "star", text: "★" }) : null);
}

function parameterTotal(sizes) {
  let n = 0;
  for (let l = 1; l < sizes.length; l++) n += (sizes[l - 1] + 1) * sizes[l];
  return n;
}

function parameterCount(sizes) {
  return fmtGrouped(parameterTotal(sizes));
}

/** A gradient in a table: two significant digits, coloured by the way the step moves its parameter
 * (exact value in the title); one digit, faint, when it is under a thousandth of the largest in its row
 * (that example barely cares). */
function cellValue(v, sig = 2, rowMax = 0) {
  const tiny = rowMax > 0 && Math.abs(v) < 1e-3 * rowMax && v !== 0;
  const cls = `n ${moveClass(v)}${tiny ? " tiny" : ""}`;
  return el("span", { class: cls, "data-value": String(v), title: fmtMath(v, 6), text: fmtMathSigned(v, tiny ? 1 : sig) });
}

/** Which way the step moves a parameter with this average gradient. */
function stepArrow(average) {
  if (!average) return null;
  const up = average < 0;
  return el("span", { class: "arrow", title: up ? "The step moves it up (against a negative average)." : "The step moves it down (against a positive average).", text: up ? "↑" : "↓" });
}

/** The column headers: each example's image (on the plane: where the point is) and label; column 1
 * marked as the walked example. */
function exampleHeads(t, c) {
  const w = c.words;
  return t.labels.map((label, i) => {
    const walked = t.example_first && i === 0;
    const where = walked ? "The example you walked through" : `Training ${w.thing} #${t.indices[i - (t.example_first ? 1 : 0)]}`;
    const input = t.inputs?.[i] || t.images?.[i];
    const at = w.plane && input ? ` at (${input.map((v) => fmtFixed(v, 2)).join(", ")})` : "";
    // an image as itself; a point of the plane where it lies; the simple example's x as its number
    const picture = t.images ? grayCanvas(t.images[i], "wt-ex")
      : w.plane ? planeFigure(c.planeMaps, c.store, input, { side: 34, cls: "wt-ex plane", label: `${where}${at}` })
        : el("span", { class: "ex-in", text: input.map((v) => fmtMath(v, 2)).join(", ") });
    return el(
      "th",
      { class: ["ex", t.predictions[i] === label ? "" : "wrong", walked ? "walked" : ""].join(" ").trim(), title: `${where}${at}: label ${w.short(label)}, the network says ${w.short(t.predictions[i])}; its cost C₀ = ${fmtMath(t.costs[i], 4)}.` },
      picture,
      el("span", { class: "lab", text: walked ? `${w.short(label)} ★` : w.short(label) }),
    );
  });
}

export function renderBatch(c) {
  const { batch } = c;
  const count = parameterCount(c.cfg.sizes);
  const n = batch?.table?.labels.length ?? BATCH_TABLE_SIZE;
  const w = c.words;
  const all = batch?.table && batch.table.rows.length === parameterTotal(c.cfg.sizes);
  const rowsText = all ? `Rows: every one of the ${count} weights and biases` : `Rows: of the ${count} weights and biases, those this batch pushes hardest`;
  const caption = batch?.table && !batch.table.example_first
    ? `Gradient descent averages the nudges over a mini-batch: here ${fmtCount(n)} training ${n === 1 ? `${w.thing} (the dataset's only one, so the average is its own nudge)` : w.things}. ${rowsText}. The Average column is the step.`
    : `Gradient descent averages the nudges over a mini-batch: column 1 (★) is the example you walked through, then ${fmtCount(n - 1)} random training ${w.things}. ${rowsText}${all ? "" : ", and ★ your example's biggest"}. The Average column is the step.${saturatedOutput(c.bd, c.bd.label)?.whole ? ` Column 1 barely moves anything, wrong as it is: its output neurons are saturated (σ′(z) ≈ 0).` : ""}`;
  if (!batch?.table) {
    return { caption, body: el("div", { class: "wt-loading", text: batch?.error ? `Could not load a mini-batch: ${batch.error}` : `Backpropagating ${n} training ${w.things}…` }) };
  }
  const t = batch.table;
  const head = el("tr", {}, el("th", { class: "corner", text: "∂C₀/∂·" }), ...exampleHeads(t, c), el("th", { class: "avg", text: "Average" }));
  const rows = t.rows.map((row, r) => {
    const max = Math.max(...row.per_example.map(Math.abs), Math.abs(row.average));
    return el(
      "tr",
      { class: row.why === "example" ? "mine" : null },
      el("th", { scope: "row" }, paramLabel(row.param, r, c.cfg.sizes, row.why, c.words.inputNames)),
      ...row.per_example.map((v, i) => {
        const cell = el("td", { class: t.example_first && i === 0 ? "walked" : null }, cellValue(v, 2, max));
        cell.style.setProperty("--w", String(max ? Math.min(1, Math.abs(v) / max) : 0));
        cell.classList.add(moveClass(v));
        return cell;
      }),
      el("td", { class: "avg" }, cellValue(row.average, 3), stepArrow(row.average)),
    );
  });
  const costRow = el(
    "tr",
    { class: "cost-row" },
    el("th", { scope: "row", text: "cost C₀" }),
    ...t.costs.map((v, i) => el("td", { class: t.example_first && i === 0 ? "walked" : null }, el("span", { class: "n", title: fmtMath(v, 6), text: fmtMath(v, 2) }))),
    el("td", { class: "avg", title: `The mini-batch cost, the average of the ${fmtCount(t.costs.length)} C₀: ${fmtMath(t.cost, 6)}` }, el("span", { class: "n", text: fmtMath(t.cost, 3) })),
  );
  const table = el("table", { class: "wt-table batch", "data-testid": "wt-batch-table" }, el("thead", {}, head), el("tbody", {}, ...rows, costRow));
  const tools = el(
    "div",
    { class: "wt-inline" },
    el("button", { type: "button", class: "chip", title: `Backpropagate your example with ${fmtCount(n - 1)} other random training ${w.things}.`, onclick: () => c.newBatch() }, "↻ another mini-batch"),
    el("span", { class: "subtle", text: `Colour = which way that example pushes the parameter, as on the network: blue ↑ up (∂C₀/∂· < 0), orange ↓ down (∂C₀/∂· > 0); grey: under a thousandth of its row's largest. The step moves it against the Average. Red label: the network gets that ${w.thing} wrong.` }),
  );
  return { caption, body: el("div", { class: "wt-stack" }, scrollX(table), tools) };
}

/** "before → after" with digits enough to tell them apart; "unchanged" said when the step is too small. */
function pair(before, after, sig = 4) {
  const [b, a] = fmtMathPair(before, after, sig);
  return { b, a };
}

export function renderStep(c) {
  const { batch, stepResult, lr, L } = c;
  const all = batch?.table && batch.table.rows.length === parameterTotal(c.cfg.sizes);
  const caption = `Every weight and bias moves against its average nudge, scaled by the learning rate η — all ${parameterCount(c.cfg.sizes)} at once${all ? ", every one in the table" : ", not only these"}. Δw = −η · average is the change. If η is too big the step jumps past the valley and the cost goes up.`;
  if (!batch?.table) return { caption, body: el("div", { class: "wt-loading", text: batch?.error ? `Could not load the mini-batch: ${batch.error}` : "Loading the mini-batch…" }) };
  const t = batch.table;
  const taken = stepResult && stepResult.batchKey === batch.key ? stepResult : null;
  const eta = taken ? taken.learning_rate : lr;
  const first = t.rows[0];
  const b0 = taken ? taken.before[0] : first.value;
  const firstPair = taken ? pair(taken.before[0], taken.after[0]) : null;
  const formula = el(
    "div",
    { class: "wt-formula" },
    eq(sym("w"), op("←"), sym("w"), op("−"), sym("η"), op("·"), "average ∂C₀/∂", sym("w")),
    eq(paramSym(first.param), op("←"), el("span", { class: "n" }, firstPair ? firstPair.b : fmtMath(b0, 4)), op("−"), num(eta, 3), op("×"), num(taken ? taken.average[0] : first.average, 3, { factor: true }), op("="), taken ? el("span", { class: "n result", text: firstPair.a }) : el("span", { class: "n pending", text: "?" })),
  );
  const header = el("tr", {}, el("th", { class: "corner", text: "parameter" }), el("th", { text: "before" }), el("th", { text: "average ∂C₀/∂·" }), el("th", { class: "dw", text: taken ? "Δw = −η·average" : "Δw (planned)" }), el("th", { text: "after" }));
  const rows = t.rows.map((row, r) => {
    const before = taken ? taken.before[r] : row.value;
    const average = taken ? taken.average[r] : row.average;
    const change = taken ? taken.step[r] : -eta * average;
    const p = taken ? pair(taken.before[r], taken.after[r]) : { b: fmtMath(before, 4), a: null };
    const same = taken && taken.after[r] === taken.before[r] && average !== 0;
    return el(
      "tr",
      { class: row.why === "example" ? "mine" : null },
      el("th", { scope: "row" }, paramLabel(row.param, r, c.cfg.sizes, row.why, c.words.inputNames)),
      el("td", {}, el("span", { class: "n", text: p.b })),
      el("td", {}, cellValue(average, 3)),
      el(
        "td",
        { class: `dw ${change > 0 ? "pos" : change < 0 ? "neg" : ""}`, title: same ? `−η·average = ${fmtMath(-eta * average)} is smaller than the float32 spacing of numbers near ${fmtMath(before)}: this one stays as it is.` : `Δ = ${fmtMath(change, 6)}` },
        same ? el("span", { class: "n zero", text: "0 (below float32 precision)" }) : el("span", { class: "n" }, fmtMathSigned(change, 3), " ", change > 0 ? "↑" : change < 0 ? "↓" : ""),
      ),
      el("td", { class: taken ? "after" : "pending" }, taken ? el("span", { class: "n", text: p.a }) : "—"),
    );
  });
  const table = el("table", { class: "wt-table step", "data-testid": "wt-step-table" }, el("thead", {}, header), el("tbody", {}, ...rows));
  const action = el(
    "div",
    { class: "wt-actions" },
    el("button", { type: "button", class: "primary", id: "wt-take-step", "data-testid": "wt-take-step", title: "Apply w ← w − η·average for this mini-batch to the live network (Undo restores it).", onclick: () => c.takeStep() }, taken ? `Take another step (η = ${fmtMath(lr)})` : `Take the step (η = ${fmtMath(lr)})`),
    el("button", { type: "button", title: "Restore the weights from before the last step or teach step.", disabled: c.undoDepth > 0 ? null : true, onclick: () => c.undo() }, "↶ Undo"),
  );
  return {
    caption,
    body: el(
      "div",
      { class: "wt-stack" },
      el("div", { class: "wt-cols" }, el("div", {}, formula, action), costPanel(t, taken)),
      scrollX(table),
      outputsTable(t, taken, c),
      firstLayerChange(taken, L, c.words),
    ),
  };
}

/** Each example's output for its own label, a_y, before and after the step (green: closer to 1). */
function outputsTable(t, taken, c) {
  const outBefore = taken ? taken.outputs_before : null;
  const cells = (pick) =>
    t.labels.map((_, i) => {
      const walked = t.example_first && i === 0 ? "walked" : null;
      if (!taken) return el("td", { class: walked }, pick === "before" ? "…" : "—");
      const [b, a] = fmtMathPair(outBefore[i], taken.outputs_after[i], 2);
      if (pick === "before") return el("td", { class: walked }, el("span", { class: "n", text: b }));
      const better = taken.outputs_after[i] > outBefore[i];
      const worse = taken.outputs_after[i] < outBefore[i];
      const title = `C₀ ${fmtMath(taken.costs_before[i], 4)} → ${fmtMath(taken.costs_after[i], 4)}`;
      return el("td", { class: [walked, better ? "better" : worse ? "worse" : ""].filter(Boolean).join(" "), title }, el("span", { class: "n", text: a }), " ", better ? "▲" : worse ? "▼" : "");
    });
  return scrollX(
    el(
      "table",
      { class: "wt-table batch outputs", "data-testid": "wt-step-outputs" },
      el("thead", {}, el("tr", {}, el("th", { class: "corner", title: "aᵧ: each example's output for its own label y (a probability with softmax)." }, "output for its label"), ...exampleHeads(t, c))),
      el(
        "tbody",
        {},
        el("tr", {}, el("th", { scope: "row", text: "before" }), ...cells("before")),
        el("tr", {}, el("th", { scope: "row", text: taken ? "after the step" : "after (take the step)" }), ...cells("after")),
      ),
    ),
  );
}

/** One first-layer neuron's incoming weights before, their change Δw, and after, as maps. */
function firstLayerChange(taken, L, words) {
  if (!taken?.first_layer) {
    return el("p", { class: "subtle", text: "Take the step to see how it changes one first-layer neuron's incoming weights." });
  }
  const { j, before, change } = taken.first_layer;
  const after = before.map((v, k) => v + change[k]);
  const wMax = Math.max(...before.map(Math.abs), ...after.map(Math.abs)) || 1;
  const dMax = Math.max(...change.map(Math.abs)) || 1;
  const name = `${layerName(1, L)} neuron ${j}`;
  if (words.plane) {
    // two weights, from x₁ and x₂: numbers, not maps
    const rows = words.inputNames.map((input, k) => {
      const [b, a] = fmtMathPair(before[k], after[k], 4);
      return el("tr", {}, el("th", { scope: "row", text: `from ${input}` }), el("td", {}, el("span", { class: "n", text: b })), el("td", { class: `dw ${change[k] > 0 ? "pos" : change[k] < 0 ? "neg" : ""}` }, el("span", { class: "n", text: fmtMathSigned(change[k], 3) })), el("td", { class: "after" }, el("span", { class: "n", text: a })));
    });
    return el(
      "div",
      { class: "wt-change", "data-testid": "wt-first-layer-change" },
      el("div", { class: "wt-change-text" }, el("h4", { text: `Where the step moved most: ${name}'s incoming weights` }), el("p", { class: "subtle", text: `Δw = −η · average for its two weights, from ${words.inputNames.join(" and ")}: its map of the plane turns and shifts with them (watch it in the node).` })),
      el("table", { class: "wt-table step" }, el("thead", {}, el("tr", {}, el("th", { class: "corner", text: "weight" }), el("th", { text: "before" }), el("th", { text: "Δw" }), el("th", { text: "after" }))), el("tbody", {}, ...rows)),
    );
  }
  const fig = (canvas, text) => el("figure", {}, canvas, el("figcaption", {}, text));
  return el(
    "div",
    { class: "wt-change", "data-testid": "wt-first-layer-change" },
    el("div", { class: "wt-change-text" }, el("h4", { text: `Where the step moved most: ${name}'s incoming weights` }), el("p", { class: "subtle", text: `Δw = −η · average for each of its ${fmtGrouped(change.length)} weights, one per pixel (its own scale: the largest is ${fmtMath(dMax)}). Blue: the weight went up, orange: down — the mini-batch's digits, pressed into the map.` })),
    el(
      "div",
      { class: "wt-pair" },
      fig(mapCanvas(before, wMax, "wt-big"), "before"),
      el("span", { class: "arrow", text: "+" }),
      fig(mapCanvas(change, dMax, "wt-big"), el("span", {}, "Δw", el("br"), `max ${fmtMath(dMax)}`)),
      el("span", { class: "arrow", text: "=" }),
      fig(mapCanvas(after, wMax, "wt-big"), "after"),
    ),
  );
}

function costPanel(t, taken) {
  if (!taken) {
    return el("div", { class: "wt-cost" }, el("div", { class: "k", text: "cost of this mini-batch" }), el("div", { class: "v" }, num(t.cost, 4)), el("p", { class: "subtle", text: "Take the step to see it after." }));
  }
  const before = taken.cost_before;
  const after = taken.cost_after;
  const dropped = after < before;
  const max = Math.max(before, after) || 1;
  const [bText, aText] = fmtMathPair(before, after, 4);
  const barRow = (label, value, text, cls) => {
    const fill = el("span", { class: `fill ${cls}` });
    fill.style.transform = `scaleX(${Math.min(1, value / max)})`;
    return el("div", { class: "cost-bar" }, el("span", { class: "k", text: label }), el("span", { class: "track" }, fill), el("span", { class: "n", text }));
  };
  const change = before ? ((after - before) / before) * 100 : 0;
  const verdict = dropped
    ? el("p", { class: "verdict good", "data-testid": "wt-step-verdict" }, `✓ The cost dropped by ${fmtFixed(Math.abs(change), Math.abs(change) < 1 ? 2 : 0)}%: one step downhill.`)
    : el("p", { class: "verdict bad", "data-testid": "wt-step-verdict" }, `✗ The cost went up${before ? ` by ${fmtFixed(change, 0)}%` : ""}: with η = ${fmtMath(taken.learning_rate)} the step is too big and jumps past the valley. Undo and try a smaller learning rate.`);
  return el("div", { class: "wt-cost", "data-testid": "wt-step-cost", "data-before": String(before), "data-after": String(after) }, el("div", { class: "k", text: "cost of this mini-batch" }), barRow("before", before, bText, "before"), barRow("after", after, aText, dropped ? "good" : "bad"), verdict);
}
