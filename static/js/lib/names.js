// One name for each layer and each weight matrix, in every view (the network view's captions, the
// walkthrough, Descent, Look back): layer l of L (0 the input, L the output) is "input", "hidden" (the only
// hidden layer), "hidden l" or "output"; the weight matrix that feeds layer l is W⁽ˡ⁾, as in the lecture
// notes' w⁽ᴸ⁾ — the server's 0-based `layer` m is W⁽ᵐ⁺¹⁾.

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

/** The layer l of a network of L weight matrices, by the network view's names. */
export function layerName(l, L) {
  if (l === 0) return "input";
  if (l === L) return "output";
  return L > 2 ? `hidden ${l}` : "hidden";
}

/** A number as a superscript: 12 → ¹². */
export const superscript = (n) => String(n).replace(/\d/g, (d) => SUPERSCRIPT[+d]);

/** The weight matrix with the server's 0-based index m: "W⁽ᵐ⁺¹⁾". */
export function matrixName(m) {
  return `W⁽${superscript(m + 1)}⁾`;
}
