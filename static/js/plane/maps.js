// Per-neuron maps of the plane, computed in the page from the weights every frame already carries:
// one batched forward pass over a size×size grid of points [x, y] (the grid of POST /api/maps:
// x = −e + (c + ½)·2e/size, y = e − (r + ½)·2e/size, row 0 at the top). No bytes on the wire; a
// [2,8,8,8,3] network at 64×64 takes about a millisecond (README, "Datasets in the page").

const LEAKY_SLOPE = 0.01; // server/engine/activations.py

/** Apply an activation in place to `n` rows of `N` values (softmax: across the rows, per pixel). */
function activate(name, z, a, n, N) {
  const len = n * N;
  switch (name) {
    case "sigmoid":
      for (let i = 0; i < len; i++) a[i] = 1 / (1 + Math.exp(-z[i]));
      break;
    case "tanh":
      for (let i = 0; i < len; i++) a[i] = Math.tanh(z[i]);
      break;
    case "relu":
      for (let i = 0; i < len; i++) a[i] = z[i] > 0 ? z[i] : 0;
      break;
    case "leaky_relu":
      for (let i = 0; i < len; i++) a[i] = z[i] > 0 ? z[i] : LEAKY_SLOPE * z[i];
      break;
    case "softmax":
      for (let p = 0; p < N; p++) {
        let m = -Infinity;
        for (let j = 0; j < n; j++) m = Math.max(m, z[j * N + p]);
        let s = 0;
        for (let j = 0; j < n; j++) s += a[j * N + p] = Math.exp(z[j * N + p] - m);
        for (let j = 0; j < n; j++) a[j * N + p] /= s;
      }
      break;
    default:
      a.set(z.subarray(0, len));
  }
}

/**
 * Every neuron's weighted sum z and activation a over the grid.
 * @returns {{size, extent, N, z: Float32Array[], a: Float32Array[]}} index l = layer (0: the inputs x, y);
 *   row j of layer l is z[l].subarray(j*N, (j+1)*N), N = size², pixel p = r*size + c.
 */
export function computeMaps({ sizes, weights, biases, activation, outputActivation }, size = 64, extent = 1, cache = null) {
  const N = size * size;
  const L = sizes.length - 1;
  const out = cache && cache.size === size && cache.extent === extent && cache.key === sizes.join(",") ? cache : null;
  const maps = out || { size, extent, N, key: sizes.join(","), z: [null], a: [] };
  if (!out) {
    const a0 = new Float32Array(2 * N);
    const step = (2 * extent) / size;
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        a0[r * size + c] = -extent + (c + 0.5) * step;
        a0[N + r * size + c] = extent - (r + 0.5) * step;
      }
    }
    maps.a.push(a0);
    for (let l = 1; l <= L; l++) {
      maps.z.push(new Float32Array(sizes[l] * N));
      maps.a.push(new Float32Array(sizes[l] * N));
    }
  }
  for (let l = 0; l < L; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const W = weights[l];
    const b = biases[l];
    const prev = maps.a[l];
    const z = maps.z[l + 1];
    for (let j = 0; j < nOut; j++) {
      const row = z.subarray(j * N, (j + 1) * N);
      row.fill(b ? b[j] : 0);
      for (let k = 0; k < nIn; k++) {
        const w = W ? W[j * nIn + k] : 0;
        if (w === 0) continue;
        const src = prev.subarray(k * N, (k + 1) * N);
        for (let p = 0; p < N; p++) row[p] += w * src[p];
      }
    }
    activate(l + 1 === L ? outputActivation : activation, z, maps.a[l + 1], nOut, N);
  }
  return maps;
}

/** The network's output for one point (the same forward pass, for a single [x, y]). */
export function forwardPoint(net, x, y) {
  let a = Float32Array.of(x, y);
  const L = net.sizes.length - 1;
  for (let l = 0; l < L; l++) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const z = new Float32Array(nOut);
    for (let j = 0; j < nOut; j++) {
      let s = net.biases[l] ? net.biases[l][j] : 0;
      for (let k = 0; k < nIn; k++) s += net.weights[l][j * nIn + k] * a[k];
      z[j] = s;
    }
    const next = new Float32Array(nOut);
    activate(l + 1 === L ? net.outputActivation : net.activation, z, next, nOut, 1);
    a = next;
  }
  return a;
}

/** The network as computeMaps wants it, from the store. */
export function netOf(store) {
  return {
    sizes: store.sizes,
    weights: store.weights,
    biases: store.biases,
    activation: store.config.activation,
    outputActivation: store.config.output_activation,
  };
}

/** Where an activation function's values sit: [middle, half-range] (ReLU: from the values). */
export function activationRange(name, values) {
  if (name === "sigmoid" || name === "softmax") return [0.5, 0.5];
  if (name === "tanh") return [0, 1];
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return [0, m || 1];
}
