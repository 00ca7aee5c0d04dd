// Phases 5 and 6 in the panel: the lectures' mini-batch table (rows = parameters, columns = examples,
// last column = the average) and the step w ← w − η·average with the batch's cost before and after.

import { el } from "../lib/dom.js";
import { fmtCount, fmtFixed, fmtFixedSigned, fmtGrouped, fmtMath, supText } from "../lib/format.js";
import { eq, layerSup, num, op, sym } from "../widgets/math-text.js";
import { BATCH_TABLE_SIZE, describeParam } from "./steps.js";
import { grayCanvas } from "./tiles.js";

const CIRCLED = ["①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩", "⑪", "⑫"];

export function paramSym(p) {
  return p.k == null ? sym("b", p.j, layerSup(p.layer + 1)) : sym("w", `${p.j},${p.k}`, layerSup(p.layer + 1));
}

function paramLabel(p, i, L) {
  return el("span", { class: "param", title: describeParam(p, L) }, el("span", { class: "tag", text: CIRCLED[i] || String(i + 1) }), paramSym(p));
}

function parameterCount(sizes) {
  let n = 0;
  for (let l = 1; l < sizes.length; l++) n += (sizes[l - 1] + 1) * sizes[l];
  return fmtGrouped(n, ",");
}

export function renderBatch(c) {
  const { batch, L } = c;
  const count = parameterCount(c.cfg.sizes);
  const caption = `One example is one noisy opinion: gradient descent averages the nudges over a mini-batch of ${batch?.table?.labels.length ?? BATCH_TABLE_SIZE} training images. Rows: a few of the ${count} weights and biases (gold on the network); columns: each example's ∂C₀/∂w; the last column, the average, is the step.`;
  if (!batch?.table) {
    return { caption, body: el("div", { class: "wt-loading", text: batch?.error ? `Could not load a mini-batch: ${batch.error}` : `Backpropagating ${BATCH_TABLE_SIZE} training images…` }) };
  }
  const t = batch.table;
  const head = el(
    "tr",
    {},
    el("th", { class: "corner", text: "∂C₀/∂·" }),
    el("th", { class: "unit" }),
    ...t.labels.map((label, i) =>
      el(
        "th",
        { class: t.predictions[i] === label ? "ex" : "ex wrong", title: `Training image #${t.indices[i]}: label ${label}, the network says ${t.predictions[i]}; its cost C₀ = ${fmtMath(t.costs[i], 4)}.` },
        grayCanvas(t.images[i], "wt-ex"),
        el("span", { class: "lab", text: String(label) }),
      ),
    ),
    el("th", { class: "avg", text: "Average" }),
  );
  // Each row in its own unit (×10ⁿ), as the lectures' table shows plain numbers like +0.08.
  const rows = t.rows.map((row, r) => {
    const max = Math.max(...row.per_example.map(Math.abs), Math.abs(row.average));
    const e = max > 0 ? Math.floor(Math.log10(max)) : 0;
    const unit = 10 ** e;
    const scaled = (v, digits) => fmtFixedSigned(v / unit, digits);
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, paramLabel(row.param, r, L)),
      el("td", { class: "unit", title: `This row's numbers are in units of 10${supText(e)}.` }, e ? `×10${supText(e)}` : ""),
      ...row.per_example.map((v, i) => {
        const cell = el("td", { title: `∂C₀/∂· for example ${i + 1}: ${fmtMath(v, 4)}` }, el("span", { class: "n", text: scaled(v, 2) }));
        cell.style.setProperty("--w", String(max ? Math.min(1, Math.abs(v) / max) : 0));
        cell.classList.add(v < 0 ? "pos" : v > 0 ? "neg" : "zero"); // blue: this example wants it up
        return cell;
      }),
      el("td", { class: "avg", title: `The average: ${fmtMath(row.average, 6)}` }, el("span", { class: "n", "data-value": String(row.average), text: scaled(row.average, 3) })),
    );
  });
  const costMax = Math.max(...t.costs, t.cost);
  const ce = costMax > 0 ? Math.floor(Math.log10(costMax)) : 0;
  const cu = 10 ** ce;
  const costRow = el(
    "tr",
    { class: "cost-row" },
    el("th", { scope: "row", text: "cost C₀" }),
    el("td", { class: "unit", title: `This row's numbers are in units of 10${supText(ce)}.` }, ce ? `×10${supText(ce)}` : ""),
    ...t.costs.map((v) => el("td", { title: `C₀ = ${fmtMath(v, 4)}` }, el("span", { class: "n", text: fmtFixed(v / cu, 2) }))),
    el("td", { class: "avg", title: `The mini-batch cost, the average of the ${fmtCount(t.costs.length)} C₀: ${fmtMath(t.cost, 6)}` }, el("span", { class: "n", text: fmtFixed(t.cost / cu, 3) })),
  );
  const table = el("table", { class: "wt-table batch", "data-testid": "wt-batch-table" }, el("thead", {}, head), el("tbody", {}, ...rows, costRow));
  const tools = el(
    "div",
    { class: "wt-inline" },
    el("button", { type: "button", class: "chip", title: `Backpropagate a different random mini-batch of ${BATCH_TABLE_SIZE} training images.`, onclick: () => c.newBatch() }, "↻ another mini-batch"),
    el("span", { class: "subtle", text: "Blue: this example wants the parameter up (∂C₀/∂· < 0), orange: down; each row in its own unit ×10ⁿ. Red label: the network gets that image wrong." }),
  );
  return { caption, body: el("div", { class: "wt-stack" }, table, tools) };
}

export function renderStep(c) {
  const { batch, stepResult, lr, L } = c;
  const caption = `Every weight and bias moves against its average nudge, scaled by the learning rate η — all the network's parameters at once, not only these five. If η is too big the step jumps past the valley and the cost goes up.`;
  if (!batch?.table) return { caption, body: el("div", { class: "wt-loading", text: "Load the mini-batch first (step 5)." }) };
  const t = batch.table;
  const taken = stepResult && stepResult.indicesKey === t.indices.join(",") ? stepResult : null;
  const eta = taken ? taken.learning_rate : lr;
  const first = t.rows[0];
  const formula = el(
    "div",
    { class: "wt-formula" },
    eq(sym("w"), op("←"), sym("w"), op("−"), sym("η"), op("·"), "average ∂C₀/∂", sym("w")),
    eq(paramSym(first.param), op("←"), num(taken ? taken.before[0] : first.value, 4, { factor: true }), op("−"), num(eta, 3), op("×"), num(taken ? taken.average[0] : first.average, 3, { factor: true }), op("="), taken ? num(taken.after[0], 4, { cls: "result" }) : el("span", { class: "n pending", text: "?" })),
  );
  const header = el("tr", {}, el("th", { class: "corner", text: "parameter" }), el("th", { text: "before" }), el("th", { text: "average" }), el("th", { text: "change" }), el("th", { text: "after" }));
  const rows = t.rows.map((row, r) => {
    const before = taken ? taken.before[r] : row.value;
    const change = taken ? taken.step[r] : -eta * row.average;
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, paramLabel(row.param, r, L)),
      el("td", {}, num(before, 4)),
      el("td", {}, num(taken ? taken.average[r] : row.average, 3, { signed: true })),
      el(
        "td",
        { class: change > 0 ? "pos" : change < 0 ? "neg" : "", title: taken && change === 0 && taken.average[r] !== 0 ? `−η·average = ${fmtMath(-eta * taken.average[r])} is smaller than the float32 spacing of numbers near ${fmtMath(before)}: this weight stays as it is.` : null },
        num(change, 3, { signed: true }),
      ),
      el("td", { class: taken ? "after" : "pending" }, taken ? num(taken.after[r], 4) : "—"),
    );
  });
  const table = el("table", { class: "wt-table step", "data-testid": "wt-step-table" }, el("thead", {}, header), el("tbody", {}, ...rows));
  const action = el(
    "div",
    { class: "wt-actions" },
    el("button", { type: "button", class: "primary", id: "wt-take-step", "data-testid": "wt-take-step", title: "Apply w ← w − η·average for this mini-batch to the live network (Undo restores it).", onclick: () => c.takeStep() }, taken ? `Take another step (η = ${fmtMath(lr)})` : `Take the step (η = ${fmtMath(lr)})`),
    el("button", { type: "button", title: "Restore the weights from before the last step or teach step.", disabled: c.undoDepth > 0 ? null : true, onclick: () => c.undo() }, "↶ Undo"),
  );
  return { caption, body: el("div", { class: "wt-stack" }, el("div", { class: "wt-cols" }, el("div", {}, formula, action), costPanel(t, taken)), table) };
}

function costPanel(t, taken) {
  if (!taken) {
    return el("div", { class: "wt-cost" }, el("div", { class: "k", text: "cost of this mini-batch" }), el("div", { class: "v" }, num(t.cost, 4)), el("p", { class: "subtle", text: "Take the step to see it after." }));
  }
  const before = taken.cost_before;
  const after = taken.cost_after;
  const dropped = after < before;
  const max = Math.max(before, after) || 1;
  const barRow = (label, value, cls) => {
    const fill = el("span", { class: `fill ${cls}` });
    fill.style.transform = `scaleX(${Math.min(1, value / max)})`;
    return el("div", { class: "cost-bar" }, el("span", { class: "k", text: label }), el("span", { class: "track" }, fill), num(value, 4));
  };
  const change = before ? ((after - before) / before) * 100 : 0;
  const verdict = dropped
    ? el("p", { class: "verdict good", "data-testid": "wt-step-verdict" }, `✓ The cost dropped by ${fmtFixed(Math.abs(change), change > -1 ? 2 : 0)}%: one step downhill.`)
    : el("p", { class: "verdict bad", "data-testid": "wt-step-verdict" }, `✗ The cost went up${before ? ` by ${fmtFixed(change, 0)}%` : ""}: with η = ${fmtMath(taken.learning_rate)} the step is too big and jumps past the valley. Undo and try a smaller learning rate.`);
  return el("div", { class: "wt-cost", "data-testid": "wt-step-cost", "data-before": String(before), "data-after": String(after) }, el("div", { class: "k", text: "cost of this mini-batch" }), barRow("before", before, "before"), barRow("after", after, dropped ? "good" : "bad"), verdict);
}

