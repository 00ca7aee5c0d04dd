// Reading a number the user typed. Every numeric field of the page goes through readNumber: an empty
// field, text the browser cannot read as a number (`1e309`, `-`, `1.5e`: a number field then reports
// "" with validity.badInput), a number JavaScript cannot hold, a fraction where a whole number is needed
// and a number outside the field's range are each refused with a message naming the field. The caller
// shows the message beside the field and changes nothing: `+input.value` would have read all of them as 0.

import { fmtGrouped } from "./format.js";

const MINUS = "−";

/** A bound as the messages write it: whole numbers grouped (2,147,483,647), a real minus sign. */
function bound(x) {
  const s = Number.isInteger(x) && Math.abs(x) >= 1e4 ? fmtGrouped(x) : String(x);
  return s.replace(/^-/, MINUS);
}

/** "a whole number from 0 to 2,147,483,647", "a number above 0 and at most 10", "a number". */
export function rangeText({ min = -Infinity, max = Infinity, whole = false, above = false } = {}) {
  const kind = whole ? "a whole number" : "a number";
  const lo = Number.isFinite(min);
  const hi = Number.isFinite(max);
  if (lo && hi) return above ? `${kind} above ${bound(min)} and at most ${bound(max)}` : `${kind} from ${bound(min)} to ${bound(max)}`;
  if (lo) return above ? `${kind} above ${bound(min)}` : `${kind} of at least ${bound(min)}`;
  if (hi) return `${kind} of at most ${bound(max)}`;
  return kind;
}

/** A sentence's first word capitalised ("the seed" → "The seed"); a symbol (w⁽ᴸ⁾, η) stays as it is. */
const capital = (s) => (/^[a-z][a-z]/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s);

/**
 * The number in a field: {value} or {problem} (one sentence naming the field).
 * @param {HTMLInputElement|{value: string, validity?: ValidityState}} input
 * @param {{name: string, min?: number, max?: number, whole?: boolean, above?: boolean}} spec
 *   `name` as it reads in a sentence ("the seed", "hidden layer 2's size"); `above`: min is excluded.
 */
export function readNumber(input, { name, min = -Infinity, max = Infinity, whole = false, above = false }) {
  const want = rangeText({ min, max, whole, above });
  const text = String(input.value ?? "").trim();
  if (input.validity?.badInput) return { problem: `${capital(name)}: what is typed there is not a number. Type ${want}.` };
  if (text === "") return { problem: `${capital(name)} is empty: type ${want}.` };
  const value = Number(text);
  if (!Number.isFinite(value)) return { problem: `${capital(name)}: “${text}” is not a number JavaScript can hold. Type ${want}.` };
  const shown = text.replace(/^-/, MINUS);
  if (whole && !Number.isInteger(value)) return { problem: `${capital(name)} must be ${want}, not ${shown}.` };
  if (value > max || value < min || (above && value <= min)) return { problem: `${capital(name)} must be ${want}, not ${shown}.` };
  return { value };
}
