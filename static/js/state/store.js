// Everything the page knows about the session, rebuilt from `hello` and updated by every `frame`.
// Views read from here in the animation loop; message handlers only write and bump versions.

import { CostSeries } from "./series.js";

export class Store {
  constructor() {
    this.series = new CostSeries(4096);
    this.reset();
  }

  reset() {
    this.ready = false;
    this.config = null;
    this.params = null;
    this.state = null;
    this.limits = null; // the server's [min, max] per setting: see limits.js
    this.dataset = null; // hello.dataset: {name, title, kind, classes, extent, values, ...}
    this.points = null; // a plane dataset's points: {x, y, testX, testY} (x: flat [x0, y0, x1, y1, ...])
    this.sizes = [];
    this.weights = [];
    this.biases = [];
    this.nablaW = [];
    this.nablaB = [];
    this.gradNorms = [];
    // The `summary` stream (docs/protocol.md, "Detail levels"): the weights arrive in parts, written into
    // whole matrices kept here; a big layer's shown neurons, strongest first (null: every neuron is sent).
    this.summary = false;
    this.weightsComplete = null; // (summary) whether every weight of the latest frame's state has arrived
    this.stream = null; // hello.stream: {detail, budget, max_budget, neurons}
    this.shownOrder = [];
    this.layerVersion = []; // per weight matrix: bumps when any of its values changed
    this.example = null; // {meta, activations[], zs[], deltas[]} from the latest frame
    this.drawing = null; // {activations[], input, digit, probabilities} from the latest prediction
    this.accuracy = []; // [iteration, accuracy, full]
    this.markers = []; // {iteration, text}
    this.series.clear();
    this.helloCount = this.helloCount || 0;
    this.weightsVersion = 0;
    this.firstLayerVersion = 0;
    this.exampleVersion = 0;
    this.chartVersion = 0;
    this.paramsVersion = 0;
  }

  /** The class names (one per output neuron): the dataset's, else "0"…"9". */
  get classNames() {
    const n = this.sizes[this.sizes.length - 1] || 10;
    const names = this.dataset?.classes;
    return names && names.length === n ? names : Array.from({ length: n }, (_, i) => String(i));
  }

  /** What the page calls the inputs: the dataset's names (the plane: x₁, x₂), or null (an image's pixels). */
  get inputNames() {
    const names = this.dataset?.input_names;
    return names && names.length === this.sizes[0] ? names : null;
  }

  get isPlane() {
    return this.dataset?.kind === "plane";
  }

  /** One number per example (the lecture notes' simple example, dataset `simple`). */
  get isScalar() {
    return this.dataset?.kind === "scalar";
  }

  /** The inputs are drawn as nodes (x, y on the plane; x of the simple example), not as an image. */
  get inputNodes() {
    return (this.isPlane && this.sizes[0] === 2) || (this.isScalar && this.sizes[0] === 1);
  }

  get layers() {
    return this.sizes.length - 1; // number of weight matrices, L
  }

  applyHello({ header, arrays }) {
    const helloCount = this.helloCount + 1;
    this.reset();
    this.helloCount = helloCount;
    this.connection = header.connection ?? null; // this tab's websocket id: walkthrough holds end with it
    this.config = header.config;
    this.params = header.params;
    this.state = header.state;
    this.limits = header.limits || null;
    this.sizes = header.config.sizes.slice();
    this.dataset = header.dataset || null;
    this.stream = header.stream || null;
    this.summary = this.stream?.detail === "summary";
    if (arrays.points_x) this.points = { x: arrays.points_x, y: arrays.points_y, testX: arrays.test_x, testY: arrays.test_y };
    for (let l = 0; l < this.layers; l++) {
      // (summary: matrices of its own, which the frames' parts are written into)
      const own = (a, n) => (this.summary ? new Float32Array(a || n) : a || new Float32Array(n));
      this.weights[l] = own(arrays[`W${l}`], this.sizes[l] * this.sizes[l + 1]);
      this.biases[l] = own(arrays[`b${l}`], this.sizes[l + 1]);
      this.layerVersion[l] = 1;
    }
    if (arrays.cost_iterations && arrays.cost_values) {
      this.series.setHistory(arrays.cost_iterations, arrays.cost_values);
    }
    this.accuracy = (header.accuracy_history || []).slice();
    this.markers = (header.markers || []).slice();
    this.ready = true;
    this.weightsVersion++;
    this.firstLayerVersion++;
    this.exampleVersion++;
    this.chartVersion++;
    this.paramsVersion++;
  }

  applyFrame({ header, arrays, shapes = {} }) {
    if (!this.ready) return;
    this.state = header.state;
    if (header.params && JSON.stringify(header.params) !== JSON.stringify(this.params)) {
      this.params = header.params;
      this.paramsVersion++;
    }
    // Descent curve: every mini-batch cost since this client's previous frame.
    const costs = arrays.costs;
    if (costs && costs.length) {
      const start = header.costs_start;
      for (let i = 0; i < costs.length; i++) this.series.push(start + i, costs[i]);
      this.chartVersion++;
    }
    if (header.accuracy_history_new?.length) {
      this.accuracy.push(...header.accuracy_history_new);
      this.chartVersion++;
    }
    if (header.markers_new?.length) {
      this.markers.push(...header.markers_new);
      this.chartVersion++;
    }
    this.gradNorms = header.grad_norms || [];
    const L = this.layers;
    if (header.detail === "summary") {
      this.applyParts(arrays, shapes);
      this.weightsComplete = !!header.weights_complete; // every weight of this frame's state has arrived
    } else {
      for (let l = 0; l < L; l++) {
        if (arrays[`W${l}`]) this.weights[l] = arrays[`W${l}`];
        if (arrays[`b${l}`]) this.biases[l] = arrays[`b${l}`];
        if (arrays[`nabla_w${l}`]) this.nablaW[l] = arrays[`nabla_w${l}`];
        if (arrays[`nabla_b${l}`]) this.nablaB[l] = arrays[`nabla_b${l}`];
        this.layerVersion[l] = (this.layerVersion[l] || 0) + 1;
      }
      if (header.has_first_layer) this.firstLayerVersion++;
      this.weightsVersion++;
    }
    const activations = [];
    const zs = [null];
    const deltas = [null];
    for (let l = 0; l <= L; l++) activations.push(arrays[`a${l}`] || null);
    for (let l = 1; l <= L; l++) {
      zs.push(arrays[`z${l}`] || null);
      deltas.push(arrays[`delta${l}`] || null);
    }
    if (activations[0]) {
      this.example = { meta: header.example || {}, activations, zs, deltas };
      this.exampleVersion++;
    }
  }

  /** A summary frame's weight parts: each written into the whole matrices at its rows and columns. */
  applyParts(arrays, shapes) {
    let changed = false;
    for (let l = 0; l < this.layers; l++) {
      if (l > 0 && l < this.layers) this.shownOrder[l] = arrays[`shown${l}`] || null;
      const W = arrays[`W${l}`];
      if (!W) continue;
      const nOut = this.sizes[l + 1];
      const nIn = this.sizes[l];
      const [r, c] = shapes[`W${l}`] || [nOut, nIn];
      const rows = arrays[`rows${l}`] || null;
      const cols = arrays[`cols${l}`] || null;
      scatter(this.weights[l], W, rows, cols, nIn, r, c);
      scatter(this.biases[l], arrays[`b${l}`], rows, null, 1, r, 1);
      if (arrays[`nabla_w${l}`]) {
        if (!this.nablaW[l] || this.nablaW[l].length !== nOut * nIn) this.nablaW[l] = new Float32Array(nOut * nIn);
        if (!this.nablaB[l] || this.nablaB[l].length !== nOut) this.nablaB[l] = new Float32Array(nOut);
        scatter(this.nablaW[l], arrays[`nabla_w${l}`], rows, cols, nIn, r, c);
        scatter(this.nablaB[l], arrays[`nabla_b${l}`], rows, null, 1, r, 1);
      }
      this.layerVersion[l] = (this.layerVersion[l] || 0) + 1;
      if (l === 0) this.firstLayerVersion++;
      changed = true;
    }
    if (changed) this.weightsVersion++;
  }

  /** What the network view shows: the user's drawing while one is up, else the frame's example. */
  shown() {
    if (this.drawing) return this.drawing;
    return this.example;
  }

  setDrawing(drawing) {
    this.drawing = drawing;
    this.exampleVersion++;
  }
}

/** Write `src` (r × c, row-major) into `dest` (rows of `nIn`) at rows `rows` and columns `cols` (null: 0, 1, …). */
function scatter(dest, src, rows, cols, nIn, r, c) {
  if (!dest || !src) return;
  for (let i = 0; i < r; i++) {
    const at = (rows ? rows[i] : i) * nIn;
    const from = i * c;
    if (!cols) dest.set(src.subarray(from, from + c), at);
    else for (let k = 0; k < c; k++) dest[at + cols[k]] = src[from + k];
  }
}
