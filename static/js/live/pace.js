// The pace of training, where a newcomer sees it: in plain words ("12 mini-batches/s", "speeding up"),
// a slider from slow motion to flat out, and one-click "faster ▸" / "flat out ⏩". The served page starts
// with the slow start (params.warmup): the pace rises by itself and the slider's thumb moves with it; a
// pace picked by hand ends it, "↺ slow start" begins it again. Ranges are the server's (hello `limits`).

import { $, setText } from "../lib/dom.js";
import { fmtGrouped } from "../lib/format.js";
import { roundSig } from "../lib/math.js";
import { limit } from "../state/limits.js";

const SLIDER_MAX = 100; // slider position meaning "flat out"
const FASTER = 2; // "faster ▸": the next round pace at least this many times the current one
const ROUND = [1, 2, 5]; // round paces: 1, 2, 5, 10, 20, 50, …

/** The next round pace at least `FASTER` times `sps` (null = flat out, past half the server's maximum). */
export function fasterPace(sps, range) {
  const [lo, hi] = range;
  const target = Math.max(lo, (sps ?? hi) * FASTER * 0.999);
  for (let e = Math.floor(Math.log10(Math.max(target, 1e-9))) - 1; e < 8; e++) {
    for (const m of ROUND) {
      const v = m * 10 ** e;
      if (v >= target) return v > hi / 2 ? null : roundSig(v, 2);
    }
  }
  return null;
}

/** The pace in plain words: "12 mini-batches/s", "0.5 mini-batches/s (slow motion)", "flat out". */
export function paceText(sps) {
  if (sps == null) return "flat out";
  const n = sps >= 1 ? String(Math.round(sps)) : String(roundSig(sps, 1));
  return `${n} mini-batch${sps === 1 ? "" : "es"}/s${sps < 1 ? " (slow motion)" : ""}`;
}

export class Pace {
  constructor(store, send, showError) {
    this.store = store;
    this.send = send;
    this.showError = showError;
    this.slider = $("speed");
    this.readout = $("speed-readout");
    this.note = $("pace-note");
    this.fasterButton = $("pace-faster");
    this.flatButton = $("pace-flat");
    this.slowButton = $("pace-slow-start");
    this.dragging = false;
    this.shown = "";
    this.slider.addEventListener("input", () => setText(this.readout, paceText(this.sliderToSpeed(+this.slider.value))));
    this.slider.addEventListener("change", () => this.set(this.sliderToSpeed(+this.slider.value)));
    this.slider.addEventListener("pointerdown", () => (this.dragging = true));
    this.slider.addEventListener("pointerup", () => (this.dragging = false));
    this.fasterButton.addEventListener("click", () => this.set(fasterPace(this.store.params?.steps_per_second, this.range)));
    this.flatButton.addEventListener("click", () => this.set(null));
    this.slowButton.addEventListener("click", () => this.send({ type: "set_params", warmup: true }, "speed"));
  }

  get range() {
    return limit(this.store.limits, "steps_per_second") || [NaN, NaN];
  }

  sliderToSpeed(pos) {
    if (pos >= SLIDER_MAX) return null;
    const [lo, hi] = this.range;
    return roundSig(10 ** (Math.log10(lo) + (pos / (SLIDER_MAX - 1)) * (Math.log10(hi) - Math.log10(lo))), 2);
  }

  speedToSlider(sps) {
    if (sps == null) return SLIDER_MAX;
    const [lo, hi] = this.range;
    return Math.round(((Math.log10(sps) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (SLIDER_MAX - 1));
  }

  /** A pace chosen by hand (null: flat out): it ends the slow start. */
  set(sps) {
    this.showError("speed", null);
    setText(this.readout, paceText(sps));
    this.send({ type: "set_params", steps_per_second: sps }, "speed");
  }

  /** From the animation loop: the server's pace, the slider (unless dragged) and which buttons make sense. */
  sync() {
    const store = this.store;
    if (!store.ready || !store.params) return;
    const { steps_per_second: sps, warmup, batch_size: batch } = store.params;
    const s = store.state || {};
    const text = paceText(sps);
    let note = "";
    if (warmup) note = "a slow start: speeding up by itself";
    else if (sps == null && s.running && s.samples_per_second > 0 && batch) {
      note = `about ${fmtGrouped(roundSig(s.samples_per_second / batch, 2))} mini-batches/s`;
    }
    const [lo, hi] = this.range;
    const key = `${text}|${note}|${sps}|${warmup}|${this.dragging}|${lo}|${hi}`;
    if (key === this.shown) return;
    this.shown = key;
    setText(this.note, note);
    if (!this.dragging) {
      setText(this.readout, text);
      this.slider.value = String(this.speedToSlider(sps));
    }
    this.slider.title = Number.isFinite(lo)
      ? `Mini-batches per second, from slow motion (${lo}/s) to flat out (far right).`
      : "Mini-batches per second, from slow motion to flat out (far right).";
    this.readout.title = warmup
      ? "The slow start: training began slowly so you can watch, and speeds up by itself until it runs flat out. Pick a pace to stop it."
      : "How fast training runs: mini-batches (gradient-descent steps) per second.";
    this.fasterButton.disabled = sps == null;
    this.flatButton.disabled = sps == null;
    this.slowButton.hidden = !!warmup;
  }
}
