// Colours shared by the views. Positive = blue, negative = orange: a colour-blind-safe pair.

export const POS = [88, 196, 221]; // #58c4dd
export const NEG = [255, 140, 56]; // #ff8c38
export const BG = [14, 18, 26];
export const INK = [236, 241, 247];
export const ACCENT = "#ffd166";
export const GOOD = "#5fd39a";

/** The colour class of a value by its own sign: "pos" (blue), "neg" (orange) or "zero". */
export function signClass(v) {
  return v > 0 ? "pos" : v < 0 ? "neg" : "zero";
}

/**
 * The walkthrough's one colour rule: colour = which way a thing moves or is pushed — blue ↑ up, orange ↓
 * down. A gradient ∂C₀/∂x is coloured by the way gradient descent moves x, against its sign (−∂C₀/∂x), so
 * a number in a table has the colour of the same thing drawn on the network (a nudge −aₖδⱼ, a ring −δⱼ).
 */
export function moveClass(gradient) {
  return signClass(-gradient);
}

export function rgba([r, g, b], a = 1) {
  return `rgba(${r},${g},${b},${a})`;
}

/**
 * Fill an RGBA pixel buffer from values in [-1, 1]: 0 is the dark background, +1 full blue, −1 full orange.
 * `scale` divides the values first. Used for the "what the neuron looks for" heat-maps.
 */
export function divergingPixels(values, scale, out, outOffset = 0, stride = values.length) {
  const inv = scale !== 0 && Number.isFinite(scale) ? 1 / scale : 0; // a negative scale flips colours
  for (let i = 0; i < stride; i++) {
    let t = values[i] * inv;
    if (t > 1) t = 1;
    else if (t < -1) t = -1;
    const c = t >= 0 ? POS : NEG;
    const s = Math.abs(t) ** 0.7; // perceptual boost for small weights
    const o = outOffset + i * 4;
    out[o] = BG[0] + (c[0] - BG[0]) * s;
    out[o + 1] = BG[1] + (c[1] - BG[1]) * s;
    out[o + 2] = BG[2] + (c[2] - BG[2]) * s;
    out[o + 3] = 255;
  }
}

/** Grayscale pixels (0..1 → black..white) into an RGBA buffer. */
export function grayPixels(values, out, count = values.length) {
  for (let i = 0; i < count; i++) {
    let v = values[i];
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    const g = 10 + v * 245;
    const o = i * 4;
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
}

export function maxAbs(values, start = 0, end = values.length) {
  let m = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(values[i]);
    if (a > m) m = a;
  }
  return m;
}

// One hue per class of a dataset of the plane (Okabe–Ito, colour-blind safe), the same in every view.
export const CLASS_COLORS = [
  // not the weights' blue and orange: a class is never mistaken for a sign
  [204, 121, 167], // reddish purple
  [0, 158, 115], // bluish green
  [240, 228, 66], // yellow
  [0, 114, 178], // blue
  [213, 94, 0], // vermillion
];
export const classColor = (c, a = 1) => {
  const [r, g, b] = CLASS_COLORS[c % CLASS_COLORS.length];
  return `rgba(${r},${g},${b},${a})`;
};
