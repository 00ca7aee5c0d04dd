// Exact numbers behind one neuron, fetched on demand (GET /api/neuron): the summary stream's weights are
// quantised for drawing, and a big layer's z and δ are not streamed at all, so what a person reads in the
// inspector (and in the tooltip of a big layer's neuron) comes from here, exactly as /api/model has it.

import { getJSON } from "../net/api.js";

const REFRESH_MS = 250; // while the shown example changes (training), at most this often

export class ExactNeuron {
  constructor(store) {
    this.store = store;
    this.key = "";
    this.record = null; // the latest answer for the neuron asked for
    this.busy = false;
    this.fetchedAt = -Infinity;
    this.fetchedFor = ""; // what the store showed when it was asked
    this.error = null;
  }

  /** The exact record of neuron `index` of layer `l` (null until it arrives); asks again when the shown
   *  example or the weights moved on since the last answer. */
  get(l, index, now = performance.now()) {
    const store = this.store;
    const key = `${store.helloCount}|${l}|${index}`;
    if (key !== this.key) {
      this.key = key;
      this.record = null;
      this.fetchedFor = "";
      this.error = null;
    }
    const seen = `${store.exampleVersion}|${store.weightsVersion}|${store.state?.iteration}`;
    if (!this.busy && seen !== this.fetchedFor && now - this.fetchedAt >= REFRESH_MS) this.fetch(l, index, key, seen, now);
    return this.record;
  }

  async fetch(l, index, key, seen, now) {
    this.busy = true;
    this.fetchedAt = now;
    this.fetchedFor = seen;
    try {
      const record = await getJSON(`/api/neuron?layer=${l}&index=${index}`);
      if (key === this.key) {
        record.w = Float32Array.from(record.w);
        record.a_prev = Float32Array.from(record.a_prev);
        this.record = record;
        this.error = null;
      }
    } catch (err) {
      if (key === this.key) this.error = err.message;
    } finally {
      this.busy = false;
    }
  }
}
