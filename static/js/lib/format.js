// Every number the page shows as text, in one family, written one way everywhere: a real minus sign,
// powers of ten as ×10ⁿ (never "e-4"), whole numbers grouped by commas (229,495). Two styles of real numbers:
//   fmtNum …    compact, for counters, tooltips and axes: 0.0123, 1235, 3.2×10⁻⁵ (trailing zeros dropped)
//   fmtMath …   as on the blackboard (the walkthrough's formulas): 0.0123, −0.0045, 6.54×10⁻⁶
// and the plain ones: whole numbers, percentages, rates, fixed decimals, bytes and ages.
// A missing or non-finite number is a dash.

import { roundSig } from "./math.js";

const DASH = "—";
const MINUS = "−";

const SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻", "+": "⁺" };
const WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

const missing = (x) => x == null || !Number.isFinite(x);

/** A leading hyphen as the real minus sign. */
const realMinus = (s) => s.replace(/^-/, MINUS);

/** An explicit "+" before a positive number's text. */
const plus = (x, s) => (x > 0 ? `+${s}` : s);

/** Digits and signs as superscripts: supText(-6) → "⁻⁶". */
export const supText = (s) => String(s).replace(/[0-9+-]/g, (c) => SUP[c]);

// ----- compact ------------------------------------------------------------------------------------

/** A short number with `digits` significant digits: 0.0123 → "0.0123", 1234.5 → "1235",
 * 9.55e-4 → "9.55×10⁻⁴" (as fmtMath writes it), −0.25 → "−0.25". */
export function fmtNum(x, digits = 3) {
  if (missing(x)) return DASH;
  if (x === 0) return "0";
  const ax = Math.abs(x);
  if (ax >= 1e5 || ax < 1e-3) {
    const [m, e] = x.toExponential(Math.max(0, digits - 1)).split("e");
    return realMinus(`${m.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "")}×10${supText(String(Number(e)))}`);
  }
  if (ax >= 100) return realMinus(x.toFixed(0));
  return realMinus(x.toPrecision(digits).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, ""));
}

/** fmtNum with an explicit sign: +0.0123, −0.0045. */
export function fmtSigned(x, digits = 3) {
  return plus(x, realMinus(fmtNum(x, digits)));
}

// ----- blackboard ---------------------------------------------------------------------------------

/**
 * A number in a formula: `sig` significant digits, a real minus sign, and ×10ⁿ below 0.001
 * (trained networks have tiny gradients: 6.54×10⁻⁶ stays readable where 0.00000654 does not).
 */
export function fmtMath(x, sig = 3) {
  if (missing(x)) return DASH;
  if (x === 0) return "0";
  const ax = Math.abs(x);
  let s;
  if (ax >= 1e-3 && ax < 1e4) {
    s = ax >= 10 ** sig ? String(Math.round(x)) : x.toPrecision(sig);
  } else {
    const [m, e] = x.toExponential(sig - 1).split("e");
    s = `${m}×10${supText(String(Number(e)))}`;
  }
  return realMinus(s);
}

/**
 * Two numbers (a value before and after a step) with enough significant digits, from `sig` up to 9, that
 * they differ in print whenever they differ at all (9 digits tell any two float32 numbers apart).
 */
export function fmtMathPair(before, after, sig = 4) {
  let s = sig;
  while (s < 9 && before !== after && fmtMath(before, s) === fmtMath(after, s)) s++;
  return [fmtMath(before, s), fmtMath(after, s)];
}

/** fmtMath with an explicit sign: +0.0123, −0.0045 (nudges and terms of a sum). */
export function fmtMathSigned(x, sig = 3) {
  return plus(x, fmtMath(x, sig));
}

/** fmtMath inside a product: negative numbers in parentheses, as on the blackboard. */
export function fmtFactor(x, sig = 3) {
  const s = fmtMath(x, sig);
  return x < 0 ? `(${s})` : s;
}

// ----- plain --------------------------------------------------------------------------------------

export function fmtInt(n) {
  return missing(n) ? DASH : realMinus(String(Math.round(n)));
}

/** A whole number in groups of three: 60,000 (every count on the page, and the server's messages). */
export function fmtGrouped(n, sep = ",") {
  return missing(n) ? DASH : Math.round(n).toLocaleString("en-US").replace(/,/g, sep);
}

/** A name with its article, as it is said: "an 8", "a 7", "an 18", "an Ankle boot", "a T-shirt/top". */
export function withArticle(name) {
  const s = String(name);
  const an = /^(8|11|18)(\D|$)|^8/.test(s) || /^[aeiou]/i.test(s);
  return `${an ? "an" : "a"} ${s}`;
}

/** Small counts in words, as in prose ("the ten C₀"); larger ones in digits. */
export function fmtCount(n) {
  return WORDS[n] ?? String(n);
}

/** Fixed decimals, without a "−0.00" for a tiny negative number. */
export function fmtFixed(x, digits) {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : realMinus(s);
}

/** Fixed decimals with an explicit sign (+0.08, −0.12); zero is "0". */
export function fmtFixedSigned(x, digits) {
  return x === 0 ? "0" : `${x < 0 ? MINUS : "+"}${Math.abs(x).toFixed(digits)}`;
}

export function fmtPct(x, digits = 1) {
  return missing(x) ? DASH : `${(x * 100).toFixed(digits)}%`;
}

export function fmtRate(x) {
  if (missing(x)) return DASH;
  if (x >= 1e4) return `${(x / 1000).toFixed(1)}k`;
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/** Learning rates and other positive values that live on a log scale. */
export function fmtLog(x) {
  if (missing(x)) return DASH;
  return String(roundSig(x, x >= 1 ? 3 : 2));
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** How long ago a time (seconds since 1970) was: "just now", "5 min ago", … then the date. */
export function fmtAgo(seconds, nowMs = Date.now()) {
  const ago = Math.max(0, nowMs / 1000 - seconds);
  if (ago < 45) return "just now";
  if (ago < 3600) return `${Math.max(1, Math.round(ago / 60))} min ago`;
  if (ago < 86400) return `${Math.round(ago / 3600)} h ago`;
  if (ago < 7 * 86400) return `${Math.round(ago / 86400)} d ago`;
  return new Date(seconds * 1000).toLocaleDateString();
}
