// The progress counters, refreshed from the animation loop at most ten times a second. Test accuracy is
// coloured and worded by what it means: at chance level (no better than always guessing the most frequent
// class, from the server's `chance_accuracy`, else 1 / the number of outputs), getting worse (clearly
// below the best this network reached), or good (clearly better than chance and not falling).

import { $, setText } from "../lib/dom.js";
import { fmtGrouped, fmtNum, fmtPct, fmtRate } from "../lib/format.js";

const AT_CHANCE = 0.05; // "at chance": within 5 points of the chance level
const WINDOW = 5; // evaluations averaged: one 1000-image estimate wobbles, and early SGD jumps about
const WORSE = 0.04; // "getting worse": the latest WINDOW average 4 points below the best WINDOW average

function windowMeans(history) {
  const means = [];
  let sum = 0;
  for (let i = 0; i < history.length; i++) {
    sum += history[i][1];
    if (i >= WINDOW) sum -= history[i - WINDOW][1];
    if (i >= WINDOW - 1) means.push(sum / WINDOW);
  }
  return means;
}

/** What a test accuracy means: {kind: "chance" | "worse" | "good" | "none", text, title}. ``history``:
 * the evaluations [iteration, accuracy, full] of this network, ``chance``: the chance level. */
export function accuracyMeaning(accuracy, history, chance) {
  if (accuracy == null || chance == null) return { kind: "none", text: "", title: "" };
  const chanceText = fmtPct(chance, 0);
  if (accuracy < chance + AT_CHANCE) {
    return { kind: "chance", text: "≈ chance level", title: `About what always guessing the commonest answer scores (${chanceText}): the network has not learned anything yet, or has lost it.` };
  }
  const means = windowMeans(history);
  const best = means.reduce((m, v) => Math.max(m, v), 0);
  if (means.length && means[means.length - 1] < best - WORSE) {
    return { kind: "worse", text: "↓ getting worse", title: `Clearly below the best this network reached (${fmtPct(best)} over ${WINDOW} evaluations): a learning rate that is too big makes the steps overshoot.` };
  }
  return { kind: "good", text: "✓ above chance", title: `Clearly better than guessing (chance level ${chanceText}) and not falling.` };
}

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
      accuracyCard: $("accuracy-card"),
      meaning: $("accuracy-meaning"),
      sps: $("sps"),
      progress: $("epoch-progress"),
    };
  }

  /** After a hello: the tooltips name the server's numbers of training and test images. */
  showSizes() {
    const s = this.store.state;
    if (s?.train_size) this.nodes.epoch.parentElement.title = this.epochTitle();
    if (s?.test_size) this.accuracyTitle = `Share of the ${fmtGrouped(s.test_size)} held-out test ${this.things} the network classifies correctly.`;
  }

  epochTitle() {
    return `Complete passes over the ${fmtGrouped(this.store.state?.train_size)} training ${this.things}.`;
  }

  /** What the examples are: images, or points of the plane. */
  get things() {
    return this.store.isPlane ? "points" : "images";
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
    setText(n.iteration, fmtGrouped(s.iteration));
    setText(n.epoch, fmtGrouped(s.epoch));
    setText(n.examples, fmtGrouped(s.examples_seen));
    setText(n.cost, fmtNum(s.cost, 4));
    setText(n.accuracy, fmtPct(s.accuracy));
    const outputs = this.store.sizes[this.store.sizes.length - 1];
    const chance = s.chance_accuracy ?? (outputs ? 1 / outputs : null);
    const meaning = accuracyMeaning(s.accuracy, this.store.accuracy, chance);
    n.accuracyCard.dataset.meaning = meaning.kind;
    setText(n.meaning, meaning.text);
    const title = `${this.accuracyTitle || `Share of the held-out test ${this.things} the network classifies correctly.`}${meaning.title ? ` ${meaning.title}` : ""}`;
    if (n.accuracyCard.title !== title) n.accuracyCard.title = title;
    const within = s.epoch_progress ?? (s.train_size ? (s.examples_seen % s.train_size) / s.train_size : 0);
    // An epoch step runs flat out whatever the speed: say how far it is, where the pace usually is.
    setText(n.sps, s.epoch_step ? `epoch step ${fmtPct(within, 0)}` : s.running ? fmtRate(s.samples_per_second) : "paused");
    n.progress.style.transform = `scaleX(${within})`;
  }
}
