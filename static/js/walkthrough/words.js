// The walkthrough's words for the data it walks: an image and its pixels, a point of the plane and its
// two coordinates (named by the dataset: x₁, x₂), or the notes' one example x; the classes by their
// dataset's names ("arm 1"), the digits as they are. Every phase's text asks here instead of saying "pixel" or "digit".

import { fmtCount } from "../lib/format.js";

/** @param store the page's store (its dataset, class names and input names) */
export function dataWords(store) {
  const inputNames = store.inputNames;
  const plane = !!store.isPlane && !!inputNames; // a point of the plane (inputs x₁, x₂)
  const scalar = !!store.isScalar; // the notes' simple example: one number x, one class
  const names = store.classNames;
  const digits = names.every((n, i) => n === String(i));
  return {
    plane,
    names,
    digits,
    inputNames,
    /** A class in prose: 7, or “arm 2”. */
    cls: (c) => (digits ? String(c) : `“${names[c] ?? c}”`),
    /** A class in a table or a tag: 7, or arm 2. */
    short: (c) => names[c] ?? String(c),
    /** "the other nine", "the other one", "the other two" (outputs besides the label's). */
    others: `the other ${fmtCount(names.length - 1)}`,
    count: fmtCount(names.length),
    scalar,
    thing: plane ? "point" : scalar ? "example" : "image",
    things: plane ? "points" : scalar ? "examples" : "images",
    input: plane ? "coordinate" : scalar ? "input" : "pixel",
    inputs: plane ? `coordinates ${inputNames.join(", ")}` : scalar ? "input x" : "pixels",
  };
}
