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
    this.config = header.config;
    this.params = header.params;
    this.state = header.state;
    this.limits = header.limits || null;
    this.sizes = header.config.sizes.slice();
    this.dataset = header.dataset || null;
    if (arrays.points_x) this.points = { x: arrays.points_x, y: arrays.points_y, testX: arrays.test_x, testY: arrays.test_y };
    for (let l = 0; l < this.layers; l++) {
      this.weights[l] = arrays[`W${l}`] || new Float32Array(this.sizes[l] * this.sizes[l + 1]);
      this.biases[l] = arrays[`b${l}`] || new Float32Array(this.sizes[l + 1]);
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

  applyFrame({ header, arrays }) {
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
    for (let l = 0; l < L; l++) {
      if (arrays[`W${l}`]) this.weights[l] = arrays[`W${l}`];
      if (arrays[`b${l}`]) this.biases[l] = arrays[`b${l}`];
      if (arrays[`nabla_w${l}`]) this.nablaW[l] = arrays[`nabla_w${l}`];
      if (arrays[`nabla_b${l}`]) this.nablaB[l] = arrays[`nabla_b${l}`];
    }
    if (header.has_first_layer) this.firstLayerVersion++;
    this.weightsVersion++;
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
