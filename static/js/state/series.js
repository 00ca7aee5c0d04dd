// The descent curve's data: (iteration, cost) points that never grow past a fixed capacity.
// When full, neighbouring points are merged into buckets of equal width (weighted mean, placed at the
// bucket's last iteration), like the decimated history the server sends in `hello`.

export class CostSeries {
  constructor(capacity = 4096) {
    this.capacity = capacity;
    this.iters = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.weights = new Float64Array(capacity); // how many mini-batches each point stands for
    this.length = 0;
    this.bucket = 1; // mini-batches per point, doubled whenever the capacity fills up
    this.version = 0;
  }

  clear() {
    this.length = 0;
    this.bucket = 1;
    this.version++;
  }

  get lastIteration() {
    return this.length ? this.iters[this.length - 1] : 0;
  }

  /** Replace everything with a (possibly bucketed) history, e.g. from `hello`. */
  setHistory(iterations, values) {
    this.clear();
    let prev = 0;
    for (let i = 0; i < iterations.length; i++) {
      const it = iterations[i];
      this.push(it, values[i], Math.max(1, it - prev));
      prev = it;
    }
  }

  push(iteration, value, weight = 1) {
    if (!Number.isFinite(value)) return;
    if (this.length && iteration <= this.iters[this.length - 1]) {
      // Out-of-order or duplicate: a resync will replace the history; keep the curve monotone.
      return;
    }
    if (this.length === this.capacity) this.compact();
    const i = this.length++;
    this.iters[i] = iteration;
    this.values[i] = value;
    this.weights[i] = weight;
    this.version++;
  }

  /**
   * Merge until at most 3/4 of the capacity is used, doubling the bucket width when needed: consecutive points are merged
   * (weighted mean, at the later iteration) until each covers ≥ `bucket` mini-batches. Points that are
   * already that wide stay as they are, so old history is never merged more than new history.
   */
  compact() {
    const { iters, values, weights } = this;
    let first = true;
    do {
      if (!first) this.bucket *= 2; // first try merging only the points narrower than the bucket
      first = false;
      let out = 0;
      let accW = 0;
      let accV = 0;
      let accI = 0;
      for (let i = 0; i < this.length; i++) {
        accW += weights[i];
        accV += values[i] * weights[i];
        accI = iters[i];
        if (accW >= this.bucket) {
          iters[out] = accI;
          values[out] = accV / accW;
          weights[out] = accW;
          out++;
          accW = accV = 0;
        }
      }
      if (accW > 0) {
        iters[out] = accI;
        values[out] = accV / accW;
        weights[out] = accW;
        out++;
      }
      this.length = out;
    } while (this.length > this.capacity * 0.75);
  }

  /** Index of the point nearest to an iteration (binary search). */
  nearest(iteration) {
    let lo = 0;
    let hi = this.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.iters[mid] < iteration) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && iteration - this.iters[lo - 1] < this.iters[lo] - iteration) return lo - 1;
    return lo;
  }

  /**
   * Moving average in iteration space: a bias-corrected exponential average whose time constant is
   * `tau` mini-batches, so bucketed (wide) points and per-batch points are weighted fairly.
   */
  movingAverage(tau, out = new Float64Array(this.length)) {
    let m = 0;
    let c = 0;
    for (let i = 0; i < this.length; i++) {
      const alpha = 1 - Math.exp(-this.weights[i] / tau);
      m = (1 - alpha) * m + alpha * this.values[i];
      c = (1 - alpha) * c + alpha;
      out[i] = m / c;
    }
    return out;
  }
}
