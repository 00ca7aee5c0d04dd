// Small numeric tables (textContent only), as in the walkthrough's panels. A cell is a Node, a string, or
// {v, sig, signed, sign, nudge, arrow, title}; a column can be highlighted (the selected neuron) and headers
// can be clickable.

import { moveClass, signClass } from "../lib/colors.js";
import { el } from "../lib/dom.js";
import { num } from "./math-text.js";

function cellNode(c) {
  if (c == null) return "";
  if (c instanceof Node || typeof c === "string") return c;
  if (typeof c === "number") return num(c);
  const node = num(c.v, c.sig ?? 3, { signed: !!c.signed });
  // One colour rule (lib/colors.js): colour = which way it moves, blue ↑ up, orange ↓ down. A term that
  // pushes (`sign`: w·a pushes z) has its own sign's colour; a gradient (`nudge`) the colour of the way
  // gradient descent moves it — against its sign — and the arrow that says so (unless `arrow: false`).
  if (c.sign) node.classList.add(signClass(c.v));
  if (c.nudge) node.classList.add(moveClass(c.v));
  if (c.title) node.title = c.title;
  if (c.nudge && c.v && c.arrow !== false) {
    const up = c.v < 0;
    return el("span", { class: "nudged" }, node, el("span", { class: "arrow", title: up ? "∂C₀/∂· < 0: gradient descent pushes it up (blue ↑)." : "∂C₀/∂· > 0: gradient descent pushes it down (orange ↓).", text: up ? "↑" : "↓" }));
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

/** A horizontal bar for the size of one term against the largest, in the colour `cls` (default: the
 * value's own sign, blue positive, orange negative). */
export function bar(value, max, cls = null) {
  const fill = el("span", { class: `bar ${cls || (value >= 0 ? "pos" : "neg")}` });
  fill.style.transform = `scaleX(${max ? Math.min(1, Math.abs(value) / max) : 0})`;
  return el("span", { class: "track" }, fill);
}
