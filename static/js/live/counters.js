// The progress counters, refreshed from the animation loop at most ten times a second.

import { $, setText } from "../lib/dom.js";
import { fmtGrouped, fmtInt, fmtNum, fmtPct, fmtRate } from "../lib/format.js";

export class Counters {
  constructor(store) {
    this.store = store;
    this.at = 0;
    this.nodes = {
      iteration: $("iteration"),
      epoch: $("epoch"),
      examples: $("examples"),
      cost: $("cost"),
      accuracy: $("accuracy"),
      sps: $("sps"),
      progress: $("epoch-progress"),
    };
  }

  /** After a hello: the tooltips name the server's numbers of training and test images. */
  showSizes() {
    const s = this.store.state;
    if (s?.train_size) this.nodes.epoch.parentElement.title = this.epochTitle();
    if (s?.test_size) this.nodes.accuracy.parentElement.title = `Share of the ${fmtGrouped(s.test_size, ",")} held-out test images the network classifies correctly.`;
  }

  epochTitle() {
    return `Complete passes over the ${fmtGrouped(this.store.state?.train_size, ",")} training images.`;
  }

  /** An epoch just ended: flash its counter and keep the message in its tooltip. */
  flashEpoch(message) {
    const card = this.nodes.epoch.parentElement;
    card.title = `${this.epochTitle()} Latest: ${message}`;
    card.classList.remove("flash");
    void card.offsetWidth; // restart the animation
    card.classList.add("flash");
  }

  update(now, force = false) {
    if (!force && now - this.at < 100) return;
    this.at = now;
    const s = this.store.state;
    if (!s) return;
    const n = this.nodes;
    setText(n.iteration, fmtInt(s.iteration));
    setText(n.epoch, fmtInt(s.epoch));
    setText(n.examples, fmtGrouped(s.examples_seen));
    setText(n.cost, fmtNum(s.cost, 4));
    setText(n.accuracy, fmtPct(s.accuracy));
    const within = s.epoch_progress ?? (s.train_size ? (s.examples_seen % s.train_size) / s.train_size : 0);
    // An epoch step runs flat out whatever the speed: say how far it is, where the pace usually is.
    setText(n.sps, s.epoch_step ? `epoch step ${fmtPct(within, 0)}` : s.running ? fmtRate(s.samples_per_second) : "paused");
    n.progress.style.transform = `scaleX(${within})`;
  }
}
