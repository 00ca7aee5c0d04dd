// "Draw a digit": the pad, throttled `predict` messages while drawing, test images and mistakes.
// While a drawing is up, the network view shows its activations (store.drawing).

import { $ } from "../lib/dom.js";
import { fmtGrouped } from "../lib/format.js";
import { getJSON } from "../net/api.js";
import { DrawPad } from "../widgets/draw-pad.js";

const THROTTLE_MS = 120; // at most ~8 predictions a second while drawing (the server allows 50 messages/s)
const REFRESH_MS = 800; // while training runs, re-classify what is on the pad as the weights change

export class DigitLab {
  constructor(store, send, panel, showError, toasts) {
    this.store = store;
    this.send = send;
    this.panel = panel;
    this.showError = showError;
    this.toasts = toasts;
    this.nextId = 1;
    this.latest = 0;
    this.context = null; // {kind: "drawing"} | {kind: "test", index, label, pixels}
    this.viewDrawing = true;
    this.sentAt = 0;
    this.timer = null;
    this.mistakeAfter = -1;
    this.caption = $("pad-caption");
    this.pad = new DrawPad($("draw-pad"), {
      onBegin: () => this.begin(),
      onStroke: () => this.schedule(),
      onStrokeEnd: () => this.predictNow(),
    });
    $("clear-pad").addEventListener("click", () => this.clear());
    $("random-test").addEventListener("click", () => this.randomTest());
    $("next-mistake").addEventListener("click", () => this.nextMistake());
  }

  get pinnedOnServer() {
    return !!this.store.example?.meta?.pinned;
  }

  begin() {
    if (this.context?.kind === "test" || this.pinnedOnServer) this.follow();
    this.context = { kind: "drawing" };
    this.viewDrawing = true;
    this.caption.textContent = "Classified as you draw. Clear to start again.";
    this.showError("pad", null);
  }

  schedule() {
    const wait = THROTTLE_MS - (performance.now() - this.sentAt);
    if (wait <= 0) this.predictNow();
    else if (!this.timer) this.timer = setTimeout(() => this.predictNow(), wait);
  }

  predictNow() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.context) return;
    this.sentAt = performance.now();
    const body = this.context.kind === "test" ? { pixels: this.context.pixels } : { image: this.pad.snapshot() };
    this.send({ type: "predict", id: this.nextId++, ...body }, "pad");
  }

  /** A `prediction` reply from the server. */
  receive(reply) {
    if (typeof reply.id === "number") {
      if (reply.id < this.latest) return; // an older request answered late
      this.latest = reply.id;
    }
    if (!this.context) return;
    this.panel.show(reply, { ...this.context, softmax: this.store.config?.output_activation === "softmax" });
    const sizes = this.store.sizes;
    const fits = Array.isArray(reply.activations) && reply.activations.length === sizes.length &&
      reply.activations.every((a, l) => a.length === sizes[l]);
    if (this.context.kind === "drawing" && this.viewDrawing && !reply.empty && fits) {
      this.store.setDrawing({
        meta: { source: "drawing", prediction: reply.digit },
        activations: reply.activations.map((a) => Float32Array.from(a)),
        zs: null,
        deltas: null,
      });
    } else if (this.store.drawing) {
      this.store.setDrawing(null);
    }
  }

  clear() {
    this.pad.clear();
    if (this.context?.kind === "test" || this.pinnedOnServer) this.follow();
    this.context = null;
    this.latest = this.nextId;
    this.panel.reset();
    this.store.setDrawing(null);
    this.caption.textContent = "Draw 0–9 below — it is classified as you draw.";
    this.showError("pad", null);
  }

  /** Network view back to following training (the drawing stays on the pad). */
  follow() {
    this.viewDrawing = false;
    this.store.setDrawing(null);
    if (this.pinnedOnServer || this.context?.kind === "test") this.send({ type: "select_example", source: "follow" }, "pad");
  }

  async showTest(index) {
    try {
      const example = await getJSON(`/api/test-example?index=${index}`);
      this.pad.showImage(example.pixels);
      this.context = { kind: "test", index: example.index, label: example.label, pixels: example.pixels };
      this.store.setDrawing(null);
      this.viewDrawing = true;
      this.caption.textContent = `MNIST test image #${fmtGrouped(example.index)}, labelled ${example.label}.`;
      this.send({ type: "select_example", source: "test", index: example.index }, "pad");
      this.predictNow();
      this.showError("pad", null);
    } catch (err) {
      this.showError("pad", `Could not load test image: ${err.message}`);
    }
  }

  randomTest() {
    const n = this.store.state?.test_size;
    if (!n) return this.showError("pad", "Not connected to the training server — waiting to reconnect.");
    return this.showTest(Math.floor(Math.random() * n));
  }

  async nextMistake() {
    try {
      const reply = await getJSON(`/api/mistake?after=${this.mistakeAfter}`);
      const index = typeof reply === "number" ? reply : reply?.index;
      if (index == null || index < 0) {
        this.toasts.show("The network gets every test image right — nothing to show.", "success");
        return;
      }
      this.mistakeAfter = index;
      await this.showTest(index);
    } catch (err) {
      this.showError("pad", `Could not find a mistake: ${err.message}`);
    }
  }

  /** From the animation loop: keep the pad's classification live while the network trains. */
  tick(now) {
    if (this.context && this.store.state?.running && now - this.sentAt > REFRESH_MS) this.predictNow();
  }

  /** After a hello (new network or reconnect): re-classify and re-pin what the pad shows. */
  resync() {
    const n = this.store.state?.test_size;
    if (n) $("random-test").title = `Show a random image from the ${fmtGrouped(n)} test images the network never trains on.`;
    if (!this.context) return;
    if (this.context.kind === "test") this.send({ type: "select_example", source: "test", index: this.context.index }, "pad");
    this.predictNow();
  }
}
