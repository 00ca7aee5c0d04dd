// The lectures' maths on the client: σ'(z) for the hover readouts, z = Σ w·a + b for drawings, and a few
// array helpers.

/** σ'(z) of one neuron, from its z and a (softmax: the diagonal of its Jacobian, a(1 − a)). */
export function activationDerivative(name, z, a) {
  switch (name) {
    case "sigmoid":
    case "softmax":
      return a * (1 - a);
    case "tanh":
      return 1 - a * a;
    case "relu":
      return z > 0 ? 1 : 0;
    case "leaky_relu":
      return z > 0 ? 1 : 0.01;
    default:
      return NaN;
  }
}

/** z_j = Σ_k W[j, k] a_k + b_j for one neuron (W row-major, shape (nOut, nIn)). */
export function weightedSum(W, b, a, j, nIn) {
  let z = b ? b[j] : 0;
  const row = j * nIn;
  for (let k = 0; k < nIn; k++) z += W[row + k] * a[k];
  return z;
}

/** Indices of the `count` largest |values| (in descending order). */
export function topIndices(values, count, start = 0, end = values.length, key = Math.abs) {
  if (count * 8 >= end - start) {
    // many of few: one sort (the insertion below re-sorts its list at every insertion)
    const all = [];
    for (let i = start; i < end; i++) all.push([key(values[i]), i - start]);
    all.sort((x, y) => y[0] - x[0]);
    return all.slice(0, count).map(([, i]) => i);
  }
  const best = [];
  for (let i = start; i < end; i++) {
    const s = key(values[i]);
    if (best.length < count) {
      best.push([s, i - start]);
      best.sort((x, y) => y[0] - x[0]);
    } else if (s > best[best.length - 1][0]) {
      best[best.length - 1] = [s, i - start];
      best.sort((x, y) => y[0] - x[0]);
    }
  }
  return best.map(([, i]) => i);
}

export function argmax(values) {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}

/** x rounded to `digits` significant digits (a number, e.g. for slider positions and axis ticks). */
export function roundSig(x, digits) {
  return +x.toPrecision(digits);
}
