// The forward pass in the page, for a snapshot's weights (float64 arithmetic, float32 results).

const LEAKY_SLOPE = 0.01; // server/engine/activations.py

function activate(name, z) {
  const a = new Float32Array(z.length);
  if (name === "softmax") {
    let m = -Infinity;
    for (const v of z) m = Math.max(m, v);
    let s = 0;
    for (let i = 0; i < z.length; i++) s += (a[i] = Math.exp(z[i] - m));
    for (let i = 0; i < z.length; i++) a[i] /= s;
    return a;
  }
  for (let i = 0; i < z.length; i++) {
    const v = z[i];
    if (name === "relu") a[i] = v > 0 ? v : 0;
    else if (name === "leaky_relu") a[i] = v > 0 ? v : LEAKY_SLOPE * v;
    else if (name === "tanh") a[i] = Math.tanh(v);
    else a[i] = 1 / (1 + Math.exp(-v));
  }
  return a;
}

/** {activations: [a0..aL], zs: [null, z1..zL]} of `input` through (weights, biases), row-major n_out×n_in. */
export function forward(config, weights, biases, input) {
  const activations = [input];
  const zs = [null];
  let a = input;
  const L = weights.length;
  for (let l = 0; l < L; l++) {
    const W = weights[l];
    const b = biases[l];
    const nOut = b.length;
    const nIn = a.length;
    const z = new Float32Array(nOut);
    for (let j = 0; j < nOut; j++) {
      let s = b[j];
      const row = j * nIn;
      for (let k = 0; k < nIn; k++) s += W[row + k] * a[k];
      z[j] = s;
    }
    a = activate(l === L - 1 ? config.output_activation : config.activation, z);
    zs.push(z);
    activations.push(a);
  }
  return { activations, zs };
}

/** Probabilities shown for the output activations (softmax: as they are; otherwise normalised). */
export function probabilities(config, out) {
  if (config.output_activation === "softmax") return Array.from(out);
  const pos = Array.from(out, (v) => Math.max(0, v));
  const s = pos.reduce((x, y) => x + y, 0);
  return s > 0 ? pos.map((v) => v / s) : pos.map(() => 1 / pos.length);
}
