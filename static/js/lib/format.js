// Number formatting for counters, tooltips and axes.

export const DASH = "—";

export function fmtInt(n) {
  return n == null || !Number.isFinite(n) ? DASH : String(Math.round(n));
}

export function fmtGrouped(n) {
  return n == null || !Number.isFinite(n) ? DASH : Math.round(n).toLocaleString("en-US").replace(/,/g, "\u2009");
}

/** A short, sign-aware number: 0.0123 → "0.0123", 1234.5 → "1235", 3.2e-5 → "3.2e-5". */
export function fmtNum(x, digits = 3) {
  if (x == null || !Number.isFinite(x)) return DASH;
  if (x === 0) return "0";
  const ax = Math.abs(x);
  if (ax >= 1e5 || ax < 1e-3) return x.toExponential(Math.max(1, digits - 2)).replace("e+", "e").replace(/\.?0+e/, "e");
  if (ax >= 100) return x.toFixed(0);
  return x.toPrecision(digits).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

export function fmtSigned(x, digits = 3) {
  const s = fmtNum(x, digits);
  return x > 0 ? `+${s}` : s.replace("-", "−");
}

export function fmtPct(x, digits = 1) {
  return x == null || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(digits)}%`;
}

export function fmtRate(x) {
  if (x == null || !Number.isFinite(x)) return DASH;
  if (x >= 1e4) return `${(x / 1000).toFixed(1)}k`;
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/** Learning rates and other positive values that live on a log scale. */
export function fmtLog(x) {
  if (x == null || !Number.isFinite(x)) return DASH;
  if (x >= 1) return String(+x.toPrecision(3));
  return String(+x.toPrecision(2));
}
