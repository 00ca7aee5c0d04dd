// Small numeric tables (textContent only), as in the walkthrough's panels. A cell is a Node, a string, or
// {v, sig, signed, sign, nudge, title}; a column can be highlighted (the selected neuron) and headers can be
// clickable.

import { el } from "../lib/dom.js";
import { num } from "./math-text.js";

function cellNode(c) {
  if (c == null) return "";
  if (c instanceof Node || typeof c === "string") return c;
  if (typeof c === "number") return num(c);
  const node = num(c.v, c.sig ?? 3, { signed: !!c.signed });
  // Colour is the value's own sign, everywhere (blue positive, orange negative); a gradient (`nudge`)
  // also gets an arrow for the way the step moves its parameter: against it, ↑ when it is negative.
  if (c.sign || c.nudge) node.classList.add(c.v > 0 ? "pos" : c.v < 0 ? "neg" : "zero");
  if (c.title) node.title = c.title;
  if (c.nudge && c.v) {
    const up = c.v < 0;
    return el("span", { class: "nudged" }, node, el("span", { class: "arrow", title: up ? "Negative ∂C₀: gradient descent pushes this up." : "Positive ∂C₀: gradient descent pushes this down.", text: up ? "↑" : "↓" }));
  }
  return node;
}

/**
 * head: [corner, ...column headers]; rows: [{label, cells, cls, title, hl, mark, onClick, clickTitle}]
 * (hl/mark: highlight the row; onClick: the row label is a button); options: {highlight: column
 * index (0-based over the data columns), mark: another column index, onHead(i), headTitle(i), cls}.
 */
export function numTable(head, rows, { highlight = -1, mark = -1, onHead = null, headTitle = null, cls = "", testid = null } = {}) {
  const colClass = (i) => [i === highlight ? "hl" : "", i === mark ? "mark" : ""].join(" ").trim() || null;
  const thead = el(
    "tr",
    {},
    el("th", { class: "corner" }, cellNode(head[0])),
    ...head.slice(1).map((h, i) => {
      const content = cellNode(h);
      const inner = onHead ? el("button", { type: "button", class: "th-button", title: headTitle ? headTitle(i) : "Select this column.", onclick: () => onHead(i) }, content) : content;
      return el("th", { class: colClass(i), scope: "col" }, inner);
    }),
  );
  const body = rows.map((row) =>
    el(
      "tr",
      { class: [row.cls, row.hl ? "hl-row" : "", row.mark ? "mark-row" : ""].join(" ").trim() || null, title: row.title || null },
      el("th", { scope: "row" }, row.onClick ? el("button", { type: "button", class: "th-button", title: row.clickTitle || "Select this row.", onclick: row.onClick }, cellNode(row.label)) : cellNode(row.label)),
      ...row.cells.map((c, i) => el("td", { class: colClass(i), "data-col": String(i) }, cellNode(c))),
    ),
  );
  return el("table", { class: `wt-table ${cls}`.trim(), "data-testid": testid }, el("thead", {}, thead), el("tbody", {}, ...body));
}

/** A horizontal bar for the size of one term against the largest (blue positive, orange negative). */
export function bar(value, max, cls = null) {
  const fill = el("span", { class: `bar ${cls || (value >= 0 ? "pos" : "neg")}` });
  fill.style.transform = `scaleX(${max ? Math.min(1, Math.abs(value) / max) : 0})`;
  return el("span", { class: "track" }, fill);
}
