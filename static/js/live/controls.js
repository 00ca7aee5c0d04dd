// Transport (play/pause, step), hyper-parameters (η, batch size) and keyboard shortcuts (the pace: pace.js).
// Inputs follow the server's params (every tab sees the same session) unless the user is editing them;
// their ranges are the server's limits from `hello`.

import { $, isTyping } from "../lib/dom.js";
import { fmtLog } from "../lib/format.js";
import { roundSig } from "../lib/math.js";
import { readNumber } from "../lib/number-input.js";
import { applyRange, batchSizeProblem, learningRateProblem, learningRateSpan, limit, rangeOf } from "../state/limits.js";

const BATCH_PRESETS = [1, 2, 5, 10, 20, 32, 64, 100, 256, 512, 1024]; // the slider's stops, within the server's limits

export class Controls {
  constructor(store, send, showError) {
    this.store = store;
    this.send = send;
    this.showError = showError;
    this.paramsSeen = -1;
    this.limitsFor = -1; // the hello whose limits the inputs show
    this.presets = BATCH_PRESETS;
    this.runningShown = null;
    this.play = $("play-pause");
    this.stepButton = $("step");
    this.stepUnit = $("step-unit");
    this.lrSlider = $("lr-slider");
    this.lrNumber = $("lr-number");
    this.batchSlider = $("batch-slider");
    this.batchNumber = $("batch-size");
    this.dragging = null;
    this.expected = null;

    this.play.addEventListener("click", () => this.togglePlay());
    this.stepButton.addEventListener("click", () => this.step());

    this.lrSlider.addEventListener("input", () => (this.lrNumber.value = fmtLog(this.sliderToLr(+this.lrSlider.value))));
    this.lrSlider.addEventListener("change", () => this.setLearningRate(this.sliderToLr(+this.lrSlider.value), this.lrSlider));
    this.lrNumber.addEventListener("change", () => this.typed(this.lrNumber, "lr", "the learning rate η", "learning_rate", (v) => this.setLearningRate(v, this.lrNumber)));

    this.batchSlider.addEventListener("input", () => (this.batchNumber.value = this.presets[+this.batchSlider.value]));
    this.batchSlider.addEventListener("change", () => this.setBatchSize(this.presets[+this.batchSlider.value]));
    this.batchNumber.addEventListener("change", () => this.typed(this.batchNumber, "batch", "the mini-batch size", "batch_size", (v) => this.setBatchSize(v)));

    for (const input of [this.lrSlider, this.batchSlider]) {
      input.addEventListener("pointerdown", () => (this.dragging = input));
      input.addEventListener("pointerup", () => (this.dragging = null));
    }
    document.addEventListener("keydown", (e) => this.key(e));
  }

  key(e) {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    if (e.key === " " || e.code === "Space") {
      if (e.target instanceof HTMLButtonElement || e.target instanceof HTMLElement && e.target.tagName === "SUMMARY") return; // the focused control handles it
      e.preventDefault();
      this.togglePlay();
    } else if (e.key === "ArrowRight") {
      e.preventDefault();
      this.step();
    }
  }

  /** Running as the user last asked for it, until the server's frames confirm (fast double presses). */
  get running() {
    if (this.expected && performance.now() - this.expected.at < 1500 && this.store.state?.running !== this.expected.running) {
      return this.expected.running;
    }
    this.expected = null;
    return !!this.store.state?.running;
  }

  /** The server changed course by itself (diverged) or refused a command: show its state again. */
  forgetExpected() {
    this.expected = null;
  }

  togglePlay() {
    const running = !this.running;
    if (this.send({ type: running ? "play" : "pause" }, "transport")) this.expected = { running, at: performance.now() };
  }

  step() {
    if (this.send({ type: "step", unit: this.stepUnit.value }, "transport")) this.expected = { running: false, at: performance.now() };
  }

  get lrSpan() {
    return learningRateSpan(this.store.limits) || [NaN, NaN]; // NaN until the first hello
  }

  sliderToLr(pos) {
    const [lo, hi] = this.lrSpan;
    const v = 10 ** (Math.log10(lo) + (pos / 1000) * (Math.log10(hi) - Math.log10(lo)));
    return roundSig(v, 2);
  }

  lrToSlider(lr) {
    const [lo, hi] = this.lrSpan;
    return Math.round(((Math.log10(lr) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * 1000);
  }

  /** A number typed in a field: refused beside it (the server's value comes back), else `use(value)`. */
  typed(input, where, name, setting, use) {
    const { value, problem } = readNumber(input, { name, ...rangeOf(this.store.limits, setting) });
    if (problem) {
      this.showError(where, problem);
      this.paramsSeen = -1; // show the value in force again
      return;
    }
    use(value);
  }

  setLearningRate(lr, source) {
    const problem = learningRateProblem(this.store.limits, lr);
    if (problem) {
      this.showError("lr", problem);
      this.paramsSeen = -1; // restore the server's value
      return;
    }
    this.showError("lr", null);
    if (source !== this.lrSlider) this.lrSlider.value = this.lrToSlider(lr);
    this.send({ type: "set_params", learning_rate: lr }, "lr");
  }

  setBatchSize(size) {
    const problem = batchSizeProblem(this.store.limits, size);
    if (problem) {
      this.showError("batch", problem);
      this.paramsSeen = -1;
      return;
    }
    this.showError("batch", null);
    this.send({ type: "set_params", batch_size: size }, "batch");
  }

  /** Called from the animation loop: mirror the server's params and running state. */
  sync() {
    const store = this.store;
    if (!store.ready) return;
    const running = this.running;
    if (running !== this.runningShown) {
      this.runningShown = running;
      this.play.querySelector(".icon").textContent = running ? "❚❚" : "▶";
      this.play.querySelector(".label").textContent = running ? "Pause" : "Play";
      this.play.setAttribute("aria-pressed", String(running));
      this.play.classList.toggle("running", running);
    }
    if (store.helloCount !== this.limitsFor) this.showLimits();
    if (store.paramsVersion === this.paramsSeen) return;
    this.paramsSeen = store.paramsVersion;
    const p = store.params;
    const focus = document.activeElement;
    if (focus !== this.lrNumber && this.dragging !== this.lrSlider) {
      this.lrNumber.value = fmtLog(p.learning_rate);
      this.lrSlider.value = this.lrToSlider(p.learning_rate);
    }
    if (focus !== this.batchNumber && this.dragging !== this.batchSlider) {
      this.batchNumber.value = p.batch_size;
      this.batchSlider.value = nearestPreset(this.presets, p.batch_size);
    }
  }

  /** After a hello: the inputs' ranges, the slider stops and the tooltips follow the server's limits. */
  showLimits() {
    const limits = this.store.limits;
    this.limitsFor = this.store.helloCount;
    applyRange(this.lrNumber, limit(limits, "learning_rate"));
    const span = learningRateSpan(limits);
    if (span) {
      const [lo, hi] = span.map(fmtLog);
      this.lrSlider.title = `How big a step gradient descent takes downhill: W ← W − η∇C (logarithmic, ${lo} to ${hi}).`;
      this.lrNumber.title = `Type an exact learning rate η between ${lo} and ${hi}, then press Enter.`;
    }
    const batch = limit(limits, "batch_size");
    applyRange(this.batchNumber, batch);
    if (batch) {
      this.presets = BATCH_PRESETS.filter((v) => v >= batch[0] && v <= batch[1]);
      this.batchSlider.max = String(this.presets.length - 1);
      this.batchNumber.title = `Type a mini-batch size from ${batch[0]} to ${batch[1]}, then press Enter.`;
    }
  }
}

function nearestPreset(presets, size) {
  let best = 0;
  presets.forEach((v, i) => {
    if (Math.abs(Math.log(v / size)) < Math.abs(Math.log(presets[best] / size))) best = i;
  });
  return best;
}
