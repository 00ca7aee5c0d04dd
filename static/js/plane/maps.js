// Per-neuron maps of the plane, computed in the page from the weights every frame already carries:
// one batched forward pass over a size×size grid of points [x, y] (the grid of POST /api/maps:
// x = −e + (c + ½)·2e/size, y = e − (r + ½)·2e/size, row 0 at the top). No bytes on the wire; a
// [2,8,8,8,3] network at 64×64 takes about a millisecond (README, "Datasets in the page").
// The cost's gradient maps follow the same grid backwards: each neuron's ∂C₀/∂a (and δ = ∂C₀/∂z) at
// every grid point, for a label at each point (the nearest training point's class, or one chosen class),
// one batched backward pass — the walkthrough's numbers for every point of the plane at once.

const LEAKY_SLOPE = 0.01; // server/engine/activations.py
const TINY = 1.1754943508222875e-38; // float32's smallest normal: the engine's clamp in server/engine/costs.py

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
    cost: store.config.cost,
  };
}

/** σ′(z) of a hidden activation, in place over `len` values (server/engine/activations.py). */
function hiddenSlope(name, z, a, out, len) {
  switch (name) {
    case "sigmoid":
      for (let i = 0; i < len; i++) out[i] = a[i] * (1 - a[i]);
      break;
    case "tanh":
      for (let i = 0; i < len; i++) out[i] = 1 - a[i] * a[i];
      break;
    case "relu":
      for (let i = 0; i < len; i++) out[i] = z[i] > 0 ? 1 : 0;
      break;
    case "leaky_relu":
      for (let i = 0; i < len; i++) out[i] = z[i] > 0 ? 1 : LEAKY_SLOPE;
      break;
    default:
      out.fill(1, 0, len);
  }
}

/**
 * The cost's gradient over the grid of `maps` (computeMaps' forward pass, for the same network): for each
 * layer l ≥ 1, dC[l] = ∂C₀/∂a and delta[l] = δ = ∂C₀/∂z, laid out as the maps (row j = neuron j), with
 * `labels[p]` the class grid pixel p is scored against. The lectures' chain rule on whole rows:
 * output ∂C₀/∂a from the cost, δ = σ′(z)·∂C₀/∂a (softmax: its Jacobian; cross-entropy: a − y), then
 * ∂C₀/∂a_k = Σ_j w_jk δ_j one layer back.
 * @returns {{key, labels, dC: Float32Array[], delta: Float32Array[]}} (index 0 unused)
 */
export function computeCostGradients(maps, net, labels, cache = null) {
  const { N } = maps;
  const sizes = net.sizes;
  const L = sizes.length - 1;
  const key = `${sizes.join(",")}|${N}`;
  const g = cache && cache.key === key ? cache : { key, dC: [null], delta: [null] };
  if (g !== cache) {
    for (let l = 1; l <= L; l++) {
      g.dC.push(new Float32Array(sizes[l] * N));
      g.delta.push(new Float32Array(sizes[l] * N));
    }
  }
  g.labels = labels;
  const nOut = sizes[L];
  const a = maps.a[L];
  const z = maps.z[L];
  const dC = g.dC[L];
  const delta = g.delta[L];
  const crossEntropy = net.cost === "cross_entropy";
  const softmax = net.outputActivation === "softmax";
  for (let j = 0; j < nOut; j++) {
    for (let p = 0; p < N; p++) {
      const i = j * N + p;
      const y = labels[p] === j ? 1 : 0;
      const av = a[i];
      if (!crossEntropy) dC[i] = 2 * (av - y);
      else if (softmax) dC[i] = -y / Math.max(av, TINY);
      else dC[i] = (av - y) / Math.max(av * (1 - av), TINY);
    }
  }
  if (crossEntropy) {
    for (let j = 0; j < nOut; j++) for (let p = 0; p < N; p++) delta[j * N + p] = a[j * N + p] - (labels[p] === j ? 1 : 0);
  } else if (softmax) {
    for (let p = 0; p < N; p++) {
      let s = 0;
      for (let j = 0; j < nOut; j++) s += a[j * N + p] * dC[j * N + p];
      for (let j = 0; j < nOut; j++) delta[j * N + p] = a[j * N + p] * (dC[j * N + p] - s);
    }
  } else {
    hiddenSlope(net.outputActivation, z, a, delta, nOut * N);
    for (let i = 0; i < nOut * N; i++) delta[i] *= dC[i];
  }
  for (let l = L - 1; l >= 1; l--) {
    const nIn = sizes[l];
    const nNext = sizes[l + 1];
    const W = net.weights[l];
    const next = g.delta[l + 1];
    const out = g.dC[l];
    for (let k = 0; k < nIn; k++) {
      const row = out.subarray(k * N, (k + 1) * N);
      row.fill(0);
      for (let j = 0; j < nNext; j++) {
        const w = W ? W[j * nIn + k] : 0;
        if (w === 0) continue;
        const src = next.subarray(j * N, (j + 1) * N);
        for (let p = 0; p < N; p++) row[p] += w * src[p];
      }
    }
    const d = g.delta[l];
    hiddenSlope(net.activation, maps.z[l], maps.a[l], d, nIn * N);
    for (let i = 0; i < nIn * N; i++) d[i] *= out[i];
  }
  return g;
}

/** The class of the nearest of `points` ({x: [x0, y0, x1, y1, …], y: labels}) at every pixel of the grid
 * of `maps`: the data's answer anywhere on the plane (what the server's nearest_labels computes). */
export function nearestLabels(maps, points, out = null) {
  const { size, extent, N } = maps;
  const labels = out && out.length === N ? out : new Uint8Array(N);
  const xs = points.x;
  const ys = points.y;
  const n = ys.length;
  const step = (2 * extent) / size;
  for (let r = 0; r < size; r++) {
    const py = extent - (r + 0.5) * step;
    for (let c = 0; c < size; c++) {
      const px = -extent + (c + 0.5) * step;
      let best = 0;
      let bd = Infinity;
      for (let i = 0; i < n; i++) {
        const dx = xs[2 * i] - px;
        const dy = xs[2 * i + 1] - py;
        const d = dx * dx + dy * dy;
        if (d < bd) {
          bd = d;
          best = ys[i];
        }
      }
      labels[r * size + c] = best;
    }
  }
  return labels;
}

/** Where an activation function's values sit: [middle, half-range] (ReLU: from the values). */
export function activationRange(name, values) {
  if (name === "sigmoid" || name === "softmax") return [0.5, 0.5];
  if (name === "tanh") return [0, 1];
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return [0, m || 1];
}
