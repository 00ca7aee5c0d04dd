// The scrubber (issue 13 §2): drag along the descent curve or the timeline under it to an iteration,
// and the network view shows the network of the nearest snapshot at or before it — the first-layer
// maps, the shown example's activations, its prediction. Everything is computed in this tab from
// GET /api/model?iteration=K: scrubbing never moves another tab and never touches training.

import { fmtGrouped, fmtPct } from "../lib/format.js";
import { el, fitCanvas, observeSize, setText } from "../lib/dom.js";
import { readNumber } from "../lib/number-input.js";
import { rangeOf } from "../state/limits.js";
import { ACCENT, INK, POS, rgba } from "../lib/colors.js";
import { getJSON, postJSON } from "../net/api.js";
import { parseNpz } from "./npz.js";
import { SnapshotStore } from "./snapshot-store.js";

const token = document.querySelector('meta[name="backprop-token"]')?.content || "";
const PLAY_MS = 280; // per snapshot while playing the history

export class Scrubber {
  constructor({ root, store, networkView, chart, toasts }) {
    this.store = store;
    this.view = networkView;
    this.chart = chart;
    this.toasts = toasts;
    this.snapshots = [];
    this.onList = null; // called with the list each time it changes
    this.cache = new Map(); // snapshot iteration → parsed snapshot
    this.current = null; // SnapshotStore shown, or null: live
    this.target = null; // the iteration asked for
    this.seq = 0;
    this.lastMs = null; // time from asking to a drawn view, for the last scrub
    this.times = [];
    this.playing = null;
    this.listedAt = 0;
    this.hello = -1;

    this.canvas = el("canvas", { class: "hist-timeline", "data-testid": "history-timeline", tabindex: "0",
      "aria-label": "Timeline of the recorded snapshots: drag to see the network at an earlier iteration; arrow keys step between snapshots." });
    this.readout = el("span", { class: "hist-readout", "data-testid": "history-readout", "aria-live": "polite" });
    this.nowButton = el("button", { type: "button", class: "chip hist-now", "data-testid": "history-now", hidden: true,
      title: "Show the network as it is now, following training again." }, "Back to now");
    this.playButton = el("button", { type: "button", class: "chip", "data-testid": "history-play",
      title: "Animate the recorded snapshots from the start: watch the first-layer maps form." }, "▶ Play history");
    this.branchButton = el("button", { type: "button", class: "chip", "data-testid": "history-branch", hidden: true,
      title: "Branch from here: continue training from this snapshot with new settings; the abandoned future stays in the history as a marker." }, "Branch…");
    this.branchForm = this.buildBranchForm();
    // Why an iteration before the first snapshot shows that snapshot (a checkpoint loaded without its history)
    this.gapNote = el("p", { class: "hist-gap", "data-testid": "history-gap-note", role: "status", hidden: true });
    root.append(
      el("div", { class: "hist-row" }, this.canvas),
      el("div", { class: "hist-row hist-tools" }, this.readout, this.nowButton, this.playButton, this.branchButton),
      this.gapNote,
      this.branchForm,
    );
    this.cssW = 0;
    this.cssH = 0;
    observeSize(this.canvas, (w, h) => {
      this.cssW = w;
      this.cssH = h;
      this.lastKey = "";
    });

    chart.onScrub = (it) => this.scrubTo(it);
    const drag = (e) => {
      if (e.type === "pointermove" && !(e.buttons & 1)) return;
      const g = this.chart.geom;
      if (!g) return;
      const rect = this.canvas.getBoundingClientRect();
      const x = ((e.clientX - rect.left) / rect.width) * g.W;
      this.scrubTo(Math.max(0, Math.min(1, (x - g.x) / g.w)) * g.xMax);
    };
    this.canvas.addEventListener("pointerdown", (e) => {
      this.canvas.setPointerCapture?.(e.pointerId);
      drag(e);
    });
    this.canvas.addEventListener("pointermove", drag);
    this.canvas.addEventListener("keydown", (e) => this.key(e));
    this.nowButton.addEventListener("click", () => this.backToNow());
    this.playButton.addEventListener("click", () => (this.playing ? this.stopPlaying() : this.play()));
    this.branchButton.addEventListener("click", () => {
      this.branchForm.hidden = !this.branchForm.hidden;
      if (!this.branchForm.hidden) {
        this.branchForm.elements.lr.value = this.store.params?.learning_rate ?? "";
        this.branchForm.elements.batch.value = this.store.params?.batch_size ?? "";
      }
    });
    window.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.current) this.backToNow();
    });
  }

  buildBranchForm() {
    const form = el("form", { class: "hist-branch", hidden: true, "data-testid": "history-branch-form" },
      el("label", {}, "η ", el("input", { name: "lr", type: "number", step: "any", min: "0", title: "Learning rate for the new branch." })),
      el("label", {}, "batch ", el("input", { name: "batch", type: "number", step: "1", min: "1", title: "Mini-batch size for the new branch." })),
      el("button", { type: "submit", class: "primary", title: "Cut the history here and continue from this snapshot." }, "Branch"),
      el("span", { class: "hist-branch-note" }, "the future after this point becomes a marker"),
      el("p", { class: "field-error", hidden: true, role: "alert", "data-testid": "history-branch-error" }));
    const error = form.lastElementChild;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!this.current) return;
      const limits = this.store.limits;
      const lr = readNumber(form.elements.lr, { name: "the new branch's η", ...rangeOf(limits, "learning_rate") });
      const batch = readNumber(form.elements.batch, { name: "the new branch's batch size", ...rangeOf(limits, "batch_size") });
      error.hidden = !(lr.problem || batch.problem);
      setText(error, lr.problem || batch.problem || "");
      if (!error.hidden) return; // nothing is branched
      const body = { iteration: this.current.snap.iteration, learning_rate: lr.value, batch_size: batch.value };
      try {
        await postJSON("/api/branch", body);
        form.hidden = true;
        this.backToNow();
      } catch (err) {
        this.toasts?.show(err.message, "error", { title: "Could not branch" });
      }
    });
    return form;
  }

  get active() {
    return this.current != null;
  }

  async list() {
    const hello = this.store.helloCount;
    const reply = await getJSON("/api/snapshots");
    if (hello !== this.store.helloCount) return this.snapshots; // asked about a network replaced meanwhile
    this.snapshots = reply.snapshots || [];
    this.listedAt = performance.now();
    this.lastKey = "";
    this.onList?.(this.snapshots);
    return this.snapshots;
  }

  /** The recorded snapshot at or before `iteration`. */
  pick(iteration) {
    let best = this.snapshots[0] || null;
    for (const s of this.snapshots) if (s.iteration <= iteration) best = s;
    return best;
  }

  async fetchSnapshot(iteration) {
    if (this.cache.has(iteration)) return this.cache.get(iteration);
    const headers = token ? { "X-Backprop-Token": token } : {};
    const response = await fetch(`/api/model?iteration=${iteration}`, { headers, cache: "no-store" });
    if (!response.ok) throw new Error(`${response.status} ${(await response.text()).slice(0, 200)}`);
    const arrays = parseNpz(await response.arrayBuffer());
    const meta = JSON.parse(new TextDecoder().decode(arrays.meta.data));
    const L = meta.config.sizes.length - 1;
    const snap = {
      iteration: meta.extra?.iteration ?? iteration,
      epoch: meta.extra?.epoch ?? null,
      config: meta.config,
      weights: Array.from({ length: L }, (_, l) => Float32Array.from(arrays[`W${l}`].data)),
      biases: Array.from({ length: L }, (_, l) => Float32Array.from(arrays[`b${l}`].data)),
    };
    if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value);
    this.cache.set(iteration, snap);
    return snap;
  }

  /** Show the network at (the snapshot at or before) `iteration`. Resolves to the ms it took. */
  async scrubTo(iteration) {
    const t0 = performance.now();
    const seq = ++this.seq;
    if (!this.snapshots.length || performance.now() - this.listedAt > 1500) await this.list().catch(() => null);
    const s = this.pick(iteration);
    if (!s || seq !== this.seq) return null;
    this.target = iteration;
    let snap;
    try {
      snap = await this.fetchSnapshot(s.iteration);
    } catch (err) {
      this.toasts?.show(err.message, "error", { title: "Could not load that snapshot" });
      return null;
    }
    if (seq !== this.seq) return null;
    this.show(snap);
    this.view.draw(performance.now()); // draw now, so the time measured includes the drawing
    const ms = performance.now() - t0;
    this.lastMs = ms;
    this.times.push(ms);
    if (this.times.length > 200) this.times.shift();
    return ms;
  }

  show(snap) {
    if (snap.config.sizes.join() !== this.store.sizes.join()) return; // a reset meanwhile: not this network
    this.current = new SnapshotStore(this.store, snap);
    this.view.store = this.current;
    this.chart.setCursor(snap.iteration);
    const first = this.firstKept;
    this.gapNote.hidden = !(first > 0 && this.target < first);
    if (!this.gapNote.hidden) {
      setText(this.gapNote, `No snapshots before iteration ${fmtGrouped(first)}: the network was loaded from a checkpoint at that iteration, saved without its recorded history (“with history” keeps it). Showing the earliest, iteration ${fmtGrouped(first)}.`);
    }
    document.body.classList.add("scrubbed");
    this.nowButton.hidden = false;
    this.branchButton.hidden = false;
    this.updateReadout();
    this.lastKey = "";
  }

  /** The first kept snapshot's iteration (0 for a network trained here: its history starts there). */
  get firstKept() {
    return this.snapshots.length ? this.snapshots[0].iteration : 0;
  }

  updateReadout() {
    const c = this.current;
    if (!c) {
      const n = this.snapshots.length;
      const from = this.firstKept > 0 ? ` from iteration ${fmtGrouped(this.firstKept)}` : "";
      setText(this.readout, n ? `${fmtGrouped(n)} snapshot${n === 1 ? "" : "s"}${from} · drag the curve or the timeline to look back` : "drag the curve or the timeline to look back");
      return;
    }
    const ex = c.example;
    const guess = ex ? ` · guesses ${c.config && ex.digit != null ? ex.digit : "–"} (${fmtPct(ex.probabilities[ex.digit], 0)})` : "";
    setText(this.readout, `Showing iteration ${fmtGrouped(c.snap.iteration)}${c.snap.epoch != null ? `, epoch ${c.snap.epoch}` : ""}${guess}`);
  }

  backToNow() {
    this.seq++;
    this.stopPlaying();
    this.current = null;
    this.target = null;
    this.view.store = this.store;
    this.view.lastKey = "";
    this.view.heatKey = "";
    this.chart.setCursor(null);
    this.gapNote.hidden = true;
    document.body.classList.remove("scrubbed");
    this.nowButton.hidden = true;
    this.branchButton.hidden = true;
    this.branchForm.hidden = true;
    this.updateReadout();
    this.lastKey = "";
  }

  async play() {
    await this.list().catch(() => null);
    if (!this.snapshots.length) return;
    const token = {};
    this.playing = token;
    setText(this.playButton, "■ Stop");
    for (const s of this.snapshots.slice()) {
      if (this.playing !== token) return;
      const t = performance.now();
      await this.scrubTo(s.iteration);
      const wait = PLAY_MS - (performance.now() - t);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (this.playing === token) this.stopPlaying();
  }

  stopPlaying() {
    this.playing = null;
    setText(this.playButton, "▶ Play history");
  }

  key(e) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
    e.preventDefault();
    e.stopPropagation();
    const list = this.snapshots;
    if (!list.length) return;
    if (e.key === "End") return this.backToNow();
    const at = this.current ? list.findIndex((s) => s.iteration === this.current.snap.iteration) : list.length;
    const i = e.key === "Home" ? 0 : Math.max(0, Math.min(list.length - 1, at + (e.key === "ArrowLeft" ? -1 : 1)));
    this.scrubTo(list[i].iteration);
  }

  /** Called every animation frame. */
  tick(now) {
    if (this.store.helloCount !== this.hello) {
      // a new network (reset, load, branch): its history starts afresh
      this.hello = this.store.helloCount;
      this.cache.clear();
      this.snapshots = []; // the old network's, until the new list comes
      this.onList?.(this.snapshots);
      this.seq++; // a snapshot still on its way belongs to the old network
      if (this.current) this.backToNow();
      this.list().catch(() => null);
    }
    if (this.current && this.current.refresh()) this.updateReadout();
    // the list follows training: every 5 s while it runs, and once more soon after it stops or steps
    const state = this.store.state;
    const stale = state && state.iteration !== this.listedIteration;
    if (!this.current && stale && now - this.listedAt > (state.running ? 5000 : 1000)) {
      this.listedAt = now;
      this.listedIteration = state.iteration;
      this.list().catch(() => null);
    }
    this.drawTimeline();
  }

  drawTimeline() {
    const g = this.chart.geom;
    if (this.cssW < 20 || this.cssH < 6) return;
    const resized = fitCanvas(this.canvas, this.cssW, this.cssH);
    const key = `${g?.x}|${g?.w}|${g?.xMax}|${this.snapshots.length}|${this.firstKept}|${this.current?.snap.iteration}|${this.canvas.width}`;
    if (key === this.lastKey && !resized) return;
    this.lastKey = key;
    if (!this.current) this.updateReadout();
    const ctx = this.canvas.getContext("2d");
    const px = this.canvas.width / this.cssW;
    ctx.setTransform(px, 0, 0, px, 0, 0);
    const W = this.cssW;
    const H = this.cssH;
    ctx.clearRect(0, 0, W, H);
    if (!g) return;
    const k = W / g.W; // the chart's drawing units → this canvas (same width, zoom aside)
    const x0 = g.x * k;
    const w = g.w * k;
    const sx = (it) => x0 + (Math.min(it, g.xMax) / g.xMax) * w;
    ctx.fillStyle = rgba(INK, 0.08);
    ctx.fillRect(x0, H / 2 - 2, w, 4);
    const first = this.firstKept;
    if (first > 0) {
      // before the first kept snapshot there is nothing to show: hatched, and said where there is room
      const gap = sx(first) - x0;
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0, 0, gap, H);
      ctx.clip();
      ctx.strokeStyle = rgba(INK, 0.14);
      for (let x = x0 - H; x < x0 + gap; x += 6) {
        ctx.beginPath();
        ctx.moveTo(x, H);
        ctx.lineTo(x + H, 0);
        ctx.stroke();
      }
      ctx.font = "10px system-ui, sans-serif";
      const label = "no snapshots here";
      if (gap > ctx.measureText(label).width + 12) {
        ctx.fillStyle = "#0b0f17";
        ctx.fillRect(x0 + 4, 2, ctx.measureText(label).width + 6, H - 4);
        ctx.fillStyle = rgba(INK, 0.65);
        ctx.textBaseline = "middle";
        ctx.fillText(label, x0 + 7, H / 2 + 0.5);
      }
      ctx.restore();
    }
    for (const s of this.snapshots) {
      ctx.fillStyle = s.marker ? ACCENT : rgba(POS, 0.9);
      ctx.fillRect(Math.round(sx(s.iteration)) - 1, H / 2 - 5, 2, 10);
    }
    if (this.current) {
      const x = sx(this.current.snap.iteration);
      ctx.fillStyle = ACCENT;
      ctx.beginPath();
      ctx.arc(x, H / 2, 6, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}
