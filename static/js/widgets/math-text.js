// Formulas as plain DOM: italic symbols with stacked super/subscripts, the engine's numbers plugged in.
// Never innerHTML: every piece is a text node or an element built here. Numbers: lib/format.js.

import { el } from "../lib/dom.js";
import { fmtFactor, fmtMath, fmtMathSigned } from "../lib/format.js";

/** An italic symbol with an optional superscript (layer) stacked over a subscript (indices). */
export function sym(base, sub = null, sup = null) {
  const node = el("span", { class: "sym" }, el("i", { text: base }));
  if (sub != null || sup != null) {
    node.append(el("span", { class: "scripts" }, el("sup", { text: sup == null ? "\u00a0" : String(sup) }), el("sub", { text: sub == null ? "\u00a0" : String(sub) })));
  }
  return node;
}

/** A layer superscript in the lectures' style: (2). */
export const layerSup = (l) => `(${l})`;

/** A number node (monospace-free, tabular) with a sign class for colour. */
export function num(x, sig = 3, { signed = false, factor = false, cls = "" } = {}) {
  const text = factor ? fmtFactor(x, sig) : signed ? fmtMathSigned(x, sig) : fmtMath(x, sig);
  return el("span", { class: `n ${cls}`.trim(), text });
}

/** An operator with thin spaces around it. */
export const op = (s) => el("span", { class: "op", text: s });

/**
 * One line of a formula, aligned on its relation sign with the lines around it (the panel lays
 * formulas out as a grid): eq(lhs, rel, ...rhs). `lhs` null continues the line above ("= …").
 * Strings become text, nodes are kept.
 */
export function eq(lhs, rel, ...rhs) {
  const relText = typeof rel === "string" ? rel : rel.textContent;
  return el(
    "div",
    { class: "wt-eq" },
    el("span", { class: "lhs" }, ...(lhs == null ? [] : [lhs].flat())),
    el("span", { class: "rel", text: relText }),
    el("span", { class: "rhs" }, ...rhs.flat()),
  );
}

/** Σ with its index below-right, kept together (a bare <sub> would not lower inside a flex line). */
export const sigma = (index, prefix = "") => el("span", { class: "sigma" }, `${prefix}Σ`, el("sub", { text: index }), "\u2009");

/** base^exponent as one inline piece. */
export const pow = (base, exponent) => el("span", { class: "pow" }, base, el("sup", {}, exponent));

/** ∂C₀/∂x as a small stacked fraction. */
function partial(top, bottom) {
  return el("span", { class: "frac" }, el("span", { class: "num" }, top), el("span", { class: "den" }, bottom));
}

export function dC(bottom) {
  return partial(el("span", {}, "∂", sym("C", "0")), el("span", {}, "∂", bottom));
}

/** ∂top/∂bottom as a small stacked fraction (top, bottom: symbols or text). */
export function dd(top, bottom) {
  return partial(el("span", {}, "∂", top), el("span", {}, "∂", bottom));
}
