// Formulas as plain DOM: italic symbols with stacked super/subscripts, the engine's numbers plugged in.
// Never innerHTML: every piece is a text node or an element built here.

import { el } from "../lib/dom.js";

const SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻", "+": "⁺" };
export const MINUS = "−";

export const supText = (s) => String(s).replace(/[0-9+-]/g, (c) => SUP[c]);

/**
 * A number as the page shows it: `sig` significant digits, a real minus sign, and ×10ⁿ below 0.001
 * (trained networks have tiny gradients: 6.54×10⁻⁶ stays readable where 0.00000654 does not).
 */
export function fmt(x, sig = 3) {
  if (x == null || !Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  const ax = Math.abs(x);
  let s;
  if (ax >= 1e-3 && ax < 1e4) {
    s = ax >= 10 ** sig ? String(Math.round(x)) : x.toPrecision(sig);
  } else {
    const [m, e] = x.toExponential(sig - 1).split("e");
    s = `${m}×10${supText(String(Number(e)))}`;
  }
  return s.replace(/^-/, MINUS);
}

/** With an explicit sign: +0.0123, −0.0045 (nudges and terms of a sum). */
export function fmtSigned(x, sig = 3) {
  const s = fmt(x, sig);
  return x > 0 ? `+${s}` : s;
}

/** A number inside a product: negative ones in parentheses, as on the blackboard. */
export function fmtFactor(x, sig = 3) {
  const s = fmt(x, sig);
  return x < 0 ? `(${s})` : s;
}

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
  const text = factor ? fmtFactor(x, sig) : signed ? fmtSigned(x, sig) : fmt(x, sig);
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
export function partial(top, bottom) {
  return el("span", { class: "frac" }, el("span", { class: "num" }, top), el("span", { class: "den" }, bottom));
}

export function dC(bottom) {
  return partial(el("span", {}, "∂", sym("C", "0")), el("span", {}, "∂", bottom));
}
