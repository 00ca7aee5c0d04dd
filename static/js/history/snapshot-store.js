// A read-only stand-in for the live Store that the network view draws while the scrubber is back in
// time: the weights of one snapshot, and the live view's example pushed through them in the page.

import { forward, probabilities } from "./forward.js";

let nextId = 1;

export class SnapshotStore {
  /** live: the page's Store; snap: {iteration, epoch, config, weights[], biases[]} from the .npz. */
  constructor(live, snap) {
    this.live = live;
    this.snap = snap;
    this.id = nextId++;
    this.ready = true;
    this.config = snap.config;
    this.sizes = snap.config.sizes.slice();
    this.weights = snap.weights;
    this.biases = snap.biases;
    this.nablaW = []; // a snapshot keeps no gradient: the "gradients" colouring falls back to weights
    this.nablaB = [];
    this.gradNorms = [];
    this.drawing = null;
    this.helloCount = 1e9 + this.id; // never equal to a live hello: every cache in the view redraws
    this.weightsVersion = this.id;
    this.firstLayerVersion = this.id;
    this.exampleVersion = 0;
    this.inputOf = null;
    this.example = null;
    this.refresh();
  }

  get layers() {
    return this.sizes.length - 1;
  }
  get state() {
    return this.live.state;
  }
  get params() {
    return this.live.params;
  }
  get limits() {
    return this.live.limits;
  }
  // the dataset is the live one's (a snapshot is of this network, trained on it)
  get dataset() {
    return this.live.dataset;
  }
  get classNames() {
    return this.live.classNames;
  }
  get isPlane() {
    return this.live.isPlane;
  }
  get isScalar() {
    return this.live.isScalar;
  }
  get inputNodes() {
    return this.live.inputNodes;
  }
  get inputNames() {
    return this.live.inputNames;
  }
  get points() {
    return this.live.points;
  }

  /** Recompute the shown example through the snapshot's weights when the live one changed. */
  refresh() {
    const shown = this.live.shown();
    const input = shown?.activations?.[0];
    if (!input || input.length !== this.sizes[0]) {
      if (this.example) {
        this.example = null;
        this.exampleVersion++;
      }
      return false;
    }
    if (input === this.inputOf) return false;
    this.inputOf = input;
    const { activations, zs } = forward(this.config, this.weights, this.biases, input);
    const probs = probabilities(this.config, activations[activations.length - 1]);
    let digit = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i] > probs[digit]) digit = i;
    this.example = { meta: { ...(shown.meta || {}), snapshot: this.snap.iteration }, activations, zs, deltas: [], probabilities: probs, digit };
    this.exampleVersion++;
    return true;
  }

  shown() {
    return this.example;
  }

  setDrawing() {}
}
