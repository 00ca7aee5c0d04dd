// The backprop walkthrough mode: pauses training, picks an example, asks the server for its numbers
// (/api/backprop) and walks through the phases — drawn on the network view through its overlay hook,
// explained in the panel below it — then the mini-batch, the step, teaching and the gradient check.

import { $, isTyping, setText } from "../lib/dom.js";
import { fmtGrouped, fmtMath } from "../lib/format.js";
import { api, closeOnUnload } from "../net/walkthrough-api.js";
import { learningRateProblem, learningRateSpan, limit } from "../state/limits.js";
import { renderDCda, renderHidden, renderOutput, renderPixels } from "./explain-backward.js";
import { renderBatch, renderStep } from "./explain-batch.js";
import { renderCost, renderForward } from "./explain-forward.js";
import { GradCheckCard } from "./gradcheck.js";
import { renderLegend } from "./legend.js";
import { WalkthroughOverlay } from "./overlay.js";
import { SPEEDS, Sidebar } from "./sidebar.js";
import { BATCH_TABLE_SIZE, buildSteps, defaultSelection, focusParam } from "./steps.js";
import { planeFigure } from "./plane-figure.js";
import { ChainPanel, isChain } from "./chain.js";
import { TeachCard } from "./teach.js";
import { dataWords } from "./words.js";

const ALL_PARAMS_UP_TO = 40; // a network this small gets every parameter as a row of the mini-batch table

const RENDER = { forward: renderForward, cost: renderCost, chain: (c) => c.chain.render(c), output: renderOutput, dCda: renderDCda, hidden: renderHidden, pixels: renderPixels, batch: renderBatch, step: renderStep };

/** The lecture notes' simple network (docs/protocol.md, "The notes' simple example"): a `reset` to
 * [1, 1, 1, 1] on the one-example dataset `simple` (x = 1, target y = 1), seeded for a cost worth descending. */
export const SIMPLE_PRESET = { type: "reset", hidden: [1, 1], activation: "sigmoid", output_activation: "sigmoid", cost: "quadratic", seed: 9, dataset: "simple", dataset_options: { x: 1 } };
const SIMPLE_EXAMPLE = { source: "simple", label: 0, index: 0, request: { input: [1] } };

export class Walkthrough {
  constructor({ store, networkView, onExit, send }) {
    this.store = store;
    this.view = networkView;
    this.onExit = onExit;
    this.send = send;
    this.jump = null; // a step kind to go to once the next breakdown is shown (the preset: "chain")
    this.active = false;
    this.overlay = new WalkthroughOverlay();
    this.example = null; // {source, label, index?, request: {pixels} | {image} | {input}}
    this.bd = null; // the server's breakdown for the example
    this.version = 0;
    this.steps = [];
    this.index = 0;
    this.sel = [];
    this.batch = null; // {seed, example, key, params, table, loading, error, stale}
    this.batches = 0;
    this.stepResult = null;
    this.undoDepth = 0;
    this.lr = null;
    this.auto = false;
    this.autoMs = SPEEDS[1].ms;
    this.autoAt = 0;
    this.seq = 0;
    this.settled = false;
    this.shownCache = null;
    this.limitsFor = -1; // the hello whose limits the sidebar shows
    this.sidebar = new Sidebar($("wt-side"), {
      pick: (source) => this.pick(source),
      goPhase: (n) => this.goPhase(n),
      back: () => this.move(-1),
      next: () => this.move(1),
      toggleAuto: () => this.setAuto(!this.auto),
      setSpeed: (ms) => (this.autoMs = ms),
      setLR: (typed) => this.setLR(typed),
      undo: () => this.undo(),
      leave: () => this.onExit(),
      preset: () => this.preset(),
    });
    this.chain = new ChainPanel({ set: (param, value, merge) => this.setParameter(param, value, merge) });
    this.teach = new TeachCard($("wt-teach-card"), {
      lr: () => this.lr,
      taught: (r) => this.weightsChanged(r.undo_depth),
      walk: ({ request, label }) => this.setExample({ source: "drawing", label, request }),
      error: (message) => this.sidebar.showError(message),
      planeMaps: this.view.planeMaps,
      store: this.store,
    });
    this.gradcheck = new GradCheckCard($("wt-gc-card"), {
      set: (param, value) => this.setParameter(param, value),
      error: (message) => this.sidebar.showError(message),
    });
    this.detail = { root: $("wt-detail"), badge: $("wt-phase-badge"), title: $("wt-step-title"), caption: $("wt-step-caption"), body: $("wt-body"), stepno: $("wt-stepno") };
    this.caption = $("wt-caption");
    this.legend = $("wt-legend");
    window.addEventListener("keydown", (e) => this.key(e), true); // before the live page's shortcuts
    this.holds = []; // the pauses this tab asked for (POST /api/walkthrough/open), given back on leaving
    this.holdsFor = null; // the websocket connection that owns them (they end when it closes)
    window.addEventListener("pagehide", () => this.active && closeOnUnload(this.holds.splice(0)));
  }

  // ----- entering and leaving ----------------------------------------------------------------------
  async enter() {
    if (this.active) return;
    this.active = true;
    this.settled = false;
    this.ready = false; // true once the first example of this visit is shown
    this.view.setPinned(null);
    this.view.setOverlay((ctx, info) => this.overlay.paint(ctx, info));
    this.sidebar.showError(null);
    if (this.lr == null) this.lr = this.store.params?.learning_rate ?? null; // null: the server's own η
    this.sidebar.setLR(this.lr);
    this.sidebar.setUndo(this.undoDepth);
    this.index = 0;
    this.loading("Pausing training…");
    await this.hold();
    await this.waitPaused();
    this.settled = true;
    if (!this.active) return;
    const picks = this.picks;
    // One worth learning from: the worst-classified of a sample (on a trained network, usually a mistake).
    // A point just clicked on the plane is the one to walk; otherwise one worth learning from.
    const clicked = this.store.drawing?.meta?.source === "point" ? this.shownExample() : null;
    if (this.jump) return; // the notes' simple example is on its way (showChain)
    const example = clicked || (await this.ranked("hard").catch(() => null)) || this.shownExample() || (await this.randomTest().catch(() => null));
    if (this.picks !== picks) return; // the user picked an example meanwhile: theirs wins
    if (example) await this.setExample(example, true);
    else this.loading("No example to show yet.");
  }

  async leave() {
    if (!this.active) return;
    this.active = false;
    this.setAuto(false);
    this.seq++;
    this.view.setOverlay(null);
    this.shownCache = null;
    this.store.setDrawing(null);
    this.sidebar.showNotice(null);
    delete document.body.dataset.wtKind;
    try {
      for (const hold of this.holds.splice(0)) await api.close(hold);
    } catch (err) {
      this.sidebar.showError(`Could not hand training back: ${err.message}`);
    }
  }

  /** Pause training for the walkthrough; the server remembers whether it ran, to restore that on leaving. */
  async hold() {
    try {
      const connection = this.store.connection;
      const { hold } = await api.open(connection ? { connection } : {});
      if (hold) this.holds.push(hold);
      this.holdsFor = connection;
    } catch (err) {
      this.sidebar.showError(`Could not pause training: ${err.message}`);
    }
  }

  /** After a reconnect (a new websocket): claim the holds for it before the server ends them with the old one. */
  async claimHolds() {
    const connection = this.store.connection;
    if (this.claiming || !connection || connection === this.holdsFor || !this.holds.length) return;
    this.claiming = true;
    try {
      const claimed = [];
      for (const hold of this.holds) claimed.push((await api.open({ connection, hold })).hold);
      this.holds = claimed;
      this.holdsFor = connection;
    } catch (err) {
      this.sidebar.showError(`Could not keep training paused after reconnecting: ${err.message}`);
    } finally {
      this.claiming = false;
    }
  }

  /** Until the frames say training is paused (and one has brought an example), or a timeout. */
  waitPaused(timeout = 2000) {
    const start = performance.now();
    return new Promise((resolve) => {
      const check = () => {
        const waited = performance.now() - start;
        if ((this.store.state?.running === false && (this.store.example || waited > 800)) || waited > timeout) resolve();
        else setTimeout(check, 50);
      };
      check();
    });
  }

  /** What to do first when "Drawing" / "Your point" is picked with nothing on the teach card. */
  teachHint() {
    return this.words?.plane ? "Click a point on the plane on the right and pick its class first." : "Draw a digit on the right and pick which digit it is first.";
  }

  /** The dataset's words, for every text of the walkthrough (after every hello). */
  updateWords() {
    this.words = dataWords(this.store);
    this.sidebar.setWords(this.words);
    this.teach.setWords(this.words);
  }

  // ----- the example -------------------------------------------------------------------------------
  /** The example the last frame showed (a training image, or the test image the live view pinned). */
  shownExample() {
    const d = this.store.drawing;
    if (d?.meta?.source === "point" && d.meta.label != null) return { source: "point", label: d.meta.label, request: { input: Array.from(d.activations[0]) } }; // a point clicked on the plane
    const e = this.store.example;
    if (!e?.activations?.[0] || e.meta?.label == null) return null;
    return { source: e.meta.source === "test" ? "test" : "training", label: e.meta.label, index: e.meta.index, request: inputOf(Array.from(e.activations[0]), this.store) };
  }

  /** The training image of the last frame; when the frame showed something else, a random training image. */
  async trainingExample() {
    const e = this.shownExample();
    if (e?.source === "training") return e;
    const n = this.store.state?.train_size;
    if (!n) throw new Error("not connected to the training server yet");
    const t = await api.trainExample(Math.floor(Math.random() * n));
    return { source: "training", label: t.label, index: t.index, request: t.pixels ? { pixels: t.pixels } : { input: t.input } };
  }

  /** A training image ranked by the server with the current weights: "easy", "hard" or "mistake". */
  async ranked(kind) {
    const r = await api.example(kind, this.randomSeed());
    return { source: kind, label: r.label, index: r.index, request: inputOf(r.pixels, this.store), rank: r };
  }

  async randomTest() {
    const n = this.store.state?.test_size;
    if (!n) throw new Error("not connected to the training server yet");
    const t = await api.testExample(Math.floor(Math.random() * n));
    return { source: "test", label: t.label, index: t.index, request: t.pixels ? { pixels: t.pixels } : { input: t.input } };
  }

  async pick(source) {
    this.picks = (this.picks || 0) + 1;
    this.sidebar.showError(null);
    try {
      if (source === "easy" || source === "hard" || source === "mistake") {
        await this.setExample(await this.ranked(source));
      } else if (source === "training") {
        await this.setExample(await this.trainingExample());
      } else if (source === "test") {
        await this.setExample(await this.randomTest());
      } else if (this.store.isScalar) {
        this.sidebar.showError("The notes' simple example takes one number x: there is nothing to draw.");
      } else if (this.teach.ready) {
        await this.setExample({ source: "drawing", label: this.teach.label, request: this.teach.request() });
      } else {
        this.sidebar.showError(this.teachHint());
        (this.words?.plane ? $("wt-teach-card").querySelector("[data-testid=wt-plane-pad]") : $("wt-pad"))?.focus();
      }
    } catch (err) {
      this.sidebar.showError(`Could not load that example: ${err.message}`);
    }
  }

  // ----- the notes' simple example ---------------------------------------------------------------------
  /** The preset: the lecture notes' network [1, 1, 1, 1] on its one example, opened at the chain of its
   * last layer. It replaces the live network (a `reset`): a trained one is replaced only after asking. */
  async preset(confirmed = false) {
    const store = this.store;
    this.sidebar.showError(null);
    if (store.dataset?.name === "simple" && store.sizes.length === 4 && store.sizes.every((n) => n === 1)) {
      return this.showChain({ ...SIMPLE_EXAMPLE, request: { input: [store.dataset.values?.x ?? 1] } });
    }
    const iteration = store.state?.iteration || 0;
    if (iteration > 0 && !confirmed) {
      this.sidebar.showNotice(`This replaces the live network (${store.sizes.join("→")}, iteration ${fmtGrouped(iteration)}) by the notes' one-neuron network. Save it first (Live training → Checkpoints) to keep it.`, "Replace it", () => this.preset(true));
      return;
    }
    this.sidebar.showNotice(null);
    const hellos = store.helloCount;
    this.jump = "chain";
    this.example = { ...SIMPLE_EXAMPLE };
    this.loading("Building the notes' simple network…");
    await this.gradcheck.cancel(); // its answer must not come from the network the reset replaces
    if (!this.send(SIMPLE_PRESET, "wt-preset")) {
      this.jump = null;
      this.sidebar.showError("Not connected to the training server — waiting to reconnect.");
      return;
    }
    // the reset's hello brings the new network; tick() then loads the example's numbers (and load() jumps)
    const start = performance.now();
    while (!(store.helloCount > hellos && store.dataset?.name === "simple")) {
      if (performance.now() - start > 15000) {
        this.jump = null;
        this.sidebar.showError("The server did not build the simple network (see the message above).");
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Walk `example` of the simple network, opening at the chain step. */
  async showChain(example) {
    this.jump = "chain";
    this.picks = (this.picks || 0) + 1;
    await this.setExample(example);
  }

  async setExample(example, first = false) {
    this.example = example;
    this.batch = null;
    this.stepResult = null;
    if (first) this.index = 0;
    await this.load(true);
    this.ready = true;
  }

  /** Ask the server for the example's numbers with the current weights (fresh: new default selection). */
  async load(fresh) {
    const seq = ++this.seq;
    try {
      const bd = await api.backprop({ ...this.example.request, label: this.example.label });
      if (seq !== this.seq || !this.active) return;
      if (this.example.request.image) this.example.request = { pixels: bd.input }; // the drawing as the network sees it
      const L = bd.layers.length;
      const reshaped = !this.bd || this.bd.input.length !== bd.input.length || this.bd.layers.length !== L || this.bd.layers.some((d, i) => d.a.length !== bd.layers[i].a.length);
      this.bd = bd;
      this.version++;
      if (fresh || reshaped) this.sel = defaultSelection(bd);
      const plane = !!this.words?.plane;
      const stepsKey = `${L}|${isChain(bd)}|${plane}`;
      if (reshaped || !this.steps.length || stepsKey !== this.stepsKey) {
        this.steps = buildSteps(L, { chain: isChain(bd), plane });
        this.stepsKey = stepsKey;
        if (reshaped) this.batch = null;
      }
      this.index = Math.min(this.index, this.steps.length - 1);
      if (this.jump) {
        const to = this.steps.findIndex((s) => s.kind === this.jump);
        if (to >= 0) this.index = to;
        this.jump = null;
      }
      this.shownCache = {
        meta: { source: "walkthrough", label: bd.label, prediction: bd.prediction },
        activations: [Float32Array.from(bd.input), ...bd.layers.map((d) => Float32Array.from(d.a))],
        zs: [null, ...bd.layers.map((d) => Float32Array.from(d.z))],
        deltas: [null, ...bd.layers.map((d) => Float32Array.from(d.delta))],
      };
      this.store.setDrawing(this.shownCache);
      this.sidebar.showError(null);
      this.render();
    } catch (err) {
      if (seq === this.seq) this.sidebar.showError(`Could not backpropagate the example: ${err.message}`);
    }
  }

  /** The live weights changed (a step, teach, a set, undo): the numbers again (a Promise of their showing). */
  weightsChanged(undoDepth) {
    if (undoDepth != null) this.undoDepth = undoDepth;
    this.teach.drawPlane(); // the plane pad's map follows the new weights (on the next frame's maps)
    this.sidebar.setUndo(this.undoDepth);
    if (this.batch) this.batch.stale = true;
    return this.active && this.example ? this.load(false) : Promise.resolve();
  }

  // ----- the mini-batch and the step ---------------------------------------------------------------
  /** A seed for a random mini-batch: within hello's `limits.seed` when the server sends it, else any non-negative int32. */
  randomSeed() {
    const [lo, hi] = limit(this.store.limits, "seed") ?? [0, 2 ** 31 - 1];
    return lo + Math.floor(Math.random() * (hi - lo + 1));
  }

  /** The walked example as the network sees it (an image's pixels or a point's coordinates): column 1 of
   * the mini-batch. */
  walkedExample() {
    if (this.store.isScalar) return null; // the notes' one example is the whole training set: no column 1
    const values = this.example?.request?.pixels || this.example?.request?.input;
    return values ? { pixels: Array.from(values), label: this.example.label } : null;
  }

  /** The mini-batch: the walked example, then random training images; the server picks the rows that
   * matter for it the first time, and the same rows are kept when it is fetched again after a step. */
  async loadBatch(another = false) {
    const keep = this.batch && !another && this.batch.example === this.example;
    const seed = keep ? this.batch.seed : this.randomSeed();
    const batch = {
      seed,
      example: this.example,
      key: keep ? this.batch.key : `${seed}|${++this.batches}`,
      params: keep ? this.batch.params : this.everyParameter(),
      whys: keep ? this.batch.whys : null,
      table: keep ? this.batch.table : null,
      loading: true,
      stale: false,
    };
    this.batch = batch;
    if (!keep) this.stepResult = null;
    if (another) this.render();
    try {
      const body = { size: BATCH_TABLE_SIZE, seed: batch.seed, example: this.walkedExample() };
      if (batch.params) body.params = batch.params;
      const table = await api.batch(body);
      // the rows asked for again after a step come back without why they were chosen: keep it
      if (batch.params) table.rows.forEach((r, i) => (r.why ??= batch.whys?.[i]));
      batch.table = table;
      batch.params = table.rows.map((r) => r.param);
      batch.whys = table.rows.map((r) => r.why);
      batch.error = null;
    } catch (err) {
      batch.error = err.message;
    }
    batch.loading = false;
    if (this.batch === batch && this.active) this.render();
  }

  /** Every weight and bias of a small network (the mini-batch table can show them all), else null. */
  everyParameter() {
    const sizes = this.bd?.config?.sizes;
    if (!sizes) return null;
    const params = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      for (let j = 0; j < sizes[l + 1]; j++) {
        for (let k = 0; k < sizes[l]; k++) params.push({ layer: l, j, k });
        params.push({ layer: l, j, k: null });
      }
    }
    return params.length <= ALL_PARAMS_UP_TO ? params : null;
  }

  async takeStep() {
    const t = this.batch?.table;
    if (!t) return;
    const button = $("wt-take-step");
    if (button) button.disabled = true;
    try {
      const body = { indices: t.indices, params: this.batch.params, learning_rate: this.lr };
      if (t.example_first) body.example = this.walkedExample();
      const r = await api.step(body);
      this.stepResult = { ...r, batchKey: this.batch.key };
      this.weightsChanged(r.undo_depth); // the table is refetched with the new weights when drawn
    } catch (err) {
      this.sidebar.showError(`Could not take the step: ${err.message}`);
      if (button) button.disabled = false;
    }
  }

  /** One weight or bias set by hand (undoable): the experiment beside the gradient check, and the simple
   * example's slider (`merge`: this set joins the previous one's undo step). Resolves once it is shown. */
  async setParameter(param, value, merge = false) {
    const r = await api.set(merge ? { param, value, merge_undo: true } : { param, value });
    await this.weightsChanged(r.undo_depth);
    return r;
  }

  async undo() {
    try {
      const r = await api.undo();
      this.undoDepth = r.undo_depth;
      if (r.undone) {
        this.stepResult = null;
        this.teach.undone();
        this.weightsChanged();
      } else {
        this.sidebar.setUndo(0);
        this.sidebar.showError("Nothing to undo.");
      }
    } catch (err) {
      this.sidebar.showError(`Could not undo: ${err.message}`);
    }
  }

  /** η typed in the sidebar: {value}, or {problem} when the field held no number (see readNumber). */
  setLR({ value: v, problem: unread }) {
    const problem = unread || learningRateProblem(this.store.limits, v);
    if (problem) {
      this.sidebar.showError(problem);
      this.sidebar.setLR(this.lr);
      return;
    }
    this.sidebar.showError(null);
    this.lr = v;
    this.render();
  }

  // ----- navigation --------------------------------------------------------------------------------
  move(delta) {
    return this.goTo(this.index + delta);
  }

  /** Go to the first step of phase `n` (1 forward … 6 the step); false when not there yet. */
  goPhase(n) {
    return this.goTo(this.steps.findIndex((s) => s.phase === n));
  }

  /** The phase shown now (1–6), or null before the first example. */
  get phase() {
    return this.bd ? this.steps[this.index]?.phase ?? null : null;
  }

  goTo(index) {
    if (!this.bd || index < 0 || index >= this.steps.length || index === this.index) return false;
    this.index = index;
    this.render();
    return true;
  }

  setAuto(on) {
    this.auto = on && this.index < this.steps.length - 1;
    this.autoAt = performance.now();
    this.sidebar.setAuto(this.auto);
  }

  /** A neuron clicked on the network view: follow it (and go to its layer within the phase). */
  select(target) {
    if (!this.active || !target || target.layer < 1 || !this.bd) return;
    const { layer: l, index: j } = target;
    const L = this.bd.layers.length;
    this.sel[l] = j;
    const step = this.steps[this.index];
    let to = -1;
    if (step.kind === "forward" && l !== step.l) to = this.steps.findIndex((s) => s.kind === "forward" && s.l === l);
    else if ((step.kind === "dCda" || step.kind === "hidden") && l !== step.l) {
      to = l === L ? this.steps.findIndex((s) => s.kind === "output") : this.steps.findIndex((s) => s.kind === step.kind && s.l === l);
    } else if ((step.kind === "output" || step.kind === "cost") && l < L) to = this.steps.findIndex((s) => s.kind === "dCda" && s.l === l);
    if (step.kind === "batch" || step.kind === "step") to = -1;
    if (to >= 0) this.index = to;
    this.render();
    if (this.view.pinned) this.view.setPinned(null);
  }

  key(e) {
    if (!this.active || e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      e.stopPropagation(); // not the live page's "step the training"
      this.setAuto(false);
      this.move(e.key === "ArrowRight" ? 1 : -1);
    } else if (e.key === " " || e.code === "Space") {
      e.stopPropagation(); // not the live page's play/pause
      if (e.target instanceof HTMLButtonElement) return; // the focused button handles it
      e.preventDefault();
      this.setAuto(!this.auto);
    }
  }

  /** From the page's animation loop. */
  tick(now) {
    if (this.store.ready && this.store.helloCount !== this.wordsFor) {
      this.wordsFor = this.store.helloCount;
      this.updateWords();
    }
    if (this.store.helloCount !== this.limitsFor) {
      this.limitsFor = this.store.helloCount;
      this.sidebar.setLimits(learningRateSpan(this.store.limits), this.store.state?.test_size);
    }
    // pictures of the plane (the teach pad, the example's thumbnail) follow the weights once the maps do
    const mapsKey = this.words?.plane ? this.view.planeMaps?.pictureKey : null;
    if (mapsKey && mapsKey !== this.mapsKey) {
      this.mapsKey = mapsKey;
      this.teach.drawPlane();
      if (this.active && this.bd) this.sidebar.setFigure(planeFigure(this.view.planeMaps, this.store, this.bd.input, { side: 56, cls: "wt-example-img plane", label: "Where the example lies on the plane" }));
    }
    if (!this.active) return;
    if (this.holds.length && this.store.connection !== this.holdsFor) this.claimHolds();
    if (this.auto && now - this.autoAt > this.autoMs) {
      this.autoAt = now;
      if (!this.move(1) || this.index >= this.steps.length - 1) this.setAuto(false);
    }
    if (this.shownCache && this.store.drawing !== this.shownCache) this.store.setDrawing(this.shownCache);
    if (this.settled) {
      const running = !!this.store.state?.running;
      if (running !== this.runningShown) {
        this.runningShown = running;
        if (running) this.sidebar.showNotice("Training is running again (another tab?): the weights are changing under the walkthrough.", "Pause it", () => this.hold().then(() => this.waitPaused()).then(() => this.load(false)));
        else this.sidebar.showNotice(null);
        this.showCaption();
      }
    }
    if (this.store.helloCount !== this.helloSeen) {
      const first = this.helloSeen == null;
      this.helloSeen = this.store.helloCount;
      if (this.lr == null && this.store.params) this.sidebar.setLR((this.lr = this.store.params.learning_rate));
      if (!first && this.example && this.settled) {
        this.load(false); // a new network or a reconnect
        this.teach.guess();
      }
    }
  }

  /** The caption under the network, with what training is doing now (another tab may have resumed it). */
  showCaption() {
    if (!this.captionText) return;
    const state = this.store.state?.running ? "training is running: the weights change under you" : "training paused while you walk through";
    setText(this.caption, `${this.captionText} · ${state}`);
  }

  // ----- drawing the step --------------------------------------------------------------------------
  loading(text) {
    setText(this.detail.title, "Backprop walkthrough");
    setText(this.detail.caption, text);
    setText(this.detail.badge, "…");
    this.detail.body.replaceChildren();
  }

  context(step) {
    const bd = this.bd;
    return {
      words: this.words || dataWords(this.store),
      planeMaps: this.view.planeMaps,
      store: this.store,
      bd,
      step,
      sel: this.sel,
      L: bd.layers.length,
      cfg: bd.config,
      batch: this.batch,
      stepResult: this.stepResult,
      chain: this.chain,
      example: this.example,
      version: this.version,
      lr: this.lr,
      undoDepth: this.undoDepth,
      select: (l, j) => this.select({ layer: l, index: j }),
      newBatch: () => this.loadBatch(true),
      takeStep: () => this.takeStep(),
      undo: () => this.undo(),
    };
  }

  render() {
    if (!this.active || !this.bd) return;
    const step = this.steps[this.index];
    if ((step.kind === "batch" || step.kind === "step") && (!this.batch || this.batch.stale) && !this.batch?.loading) {
      this.loadBatch();
    }
    const bd = this.bd;
    const { caption, body } = RENDER[step.kind](this.context(step));
    setText(this.detail.badge, String(step.phase));
    setText(this.detail.title, step.title);
    setText(this.detail.stepno, `step ${this.index + 1} of ${this.steps.length}`);
    setText(this.detail.caption, caption);
    // a persistent body (the chain's) stays in place: a drag on its slider must not be cut short
    if (this.detail.body.firstChild !== body || this.detail.body.childNodes.length !== 1) this.detail.body.replaceChildren(body);
    this.detail.root.dataset.kind = step.kind;
    document.body.dataset.wtKind = step.kind; // the mini-batch and the step get more room
    this.detail.root.dataset.phase = String(step.phase);
    this.overlay.set({ bd, version: this.version, step, sel: this.sel, params: this.batch?.table ? this.batch.table.rows.map((r) => r.param) : [] });
    this.view.invalidate();
    this.sidebar.setStep(this.index, this.steps);
    this.sidebar.setUndo(this.undoDepth);
    this.sidebar.setLR(this.lr);
    renderLegend(this.legend, step.kind, !!this.words?.plane);

    const ex = this.example;
    const w = this.words || dataWords(this.store);
    // what the example is: a drawing, a point clicked on the plane, or an example of the data (image or point)
    const kind = w.thing;
    const at = ex.request?.input ? ` (${ex.request.input.map((v) => fmtMath(v, 2)).join(", ")})` : "";
    const what = ex.source === "drawing" ? (w.plane ? `Your point${at}` : "Your drawing") : ex.source === "point" ? `The point you clicked${at}`
      : ex.source === "test" ? `Test ${kind} #${fmtGrouped(ex.index)}` : `Training ${kind} #${fmtGrouped(ex.index)}`;
    const says = `network says ${w.short(bd.prediction)} ${bd.prediction === bd.label ? "✓" : "✗"}`;
    const short = ex.source === "drawing" ? what : ex.source === "point" ? `Your point${at}`
      : ex.source === "test" ? `Test ${kind} #${fmtGrouped(ex.index)}` : `Training #${fmtGrouped(ex.index)}`;
    // a ranked pick says why it was picked (its index moves to the cost line, to keep three short lines)
    const r = ex.rank;
    const of = r && fmtGrouped(r.sample);
    const title = !r ? short : ex.source === "hard" ? `Biggest nudges of ${of}` : ex.source === "easy" ? `Easiest of ${of}` : `A mistake (${fmtGrouped(r.wrong)} in ${of})`;
    const cost = `${r ? `#${fmtGrouped(ex.index)} · ` : ""}C₀ = ${fmtMath(bd.cost, 4)}`;
    if (this.store.isScalar) {
      // the notes' simple example: one number in, one neuron out, target y = 1
      const x = fmtMath(bd.input[0], 4);
      const aL = fmtMath(bd.layers[bd.layers.length - 1].a[0], 4);
      this.sidebar.setExample({ source: ex.source, title: "The notes' simple example", sub: `x = ${x} · target y = ${bd.target[0]}`, cost: `a⁽ᴸ⁾ = ${aL} · C₀ = ${fmtMath(bd.cost, 4)}`, pixels: bd.input });
      this.captionText = `The notes' simple example · x = ${x} · a⁽ᴸ⁾ = ${aL}, target y = ${bd.target[0]}`;
    } else {
      const figure = w.plane ? planeFigure(this.view.planeMaps, this.store, bd.input, { side: 56, cls: "wt-example-img plane", label: `${what}: where it lies on the plane` }) : null;
      this.sidebar.setExample({ source: ex.source, title, sub: `label ${w.short(bd.label)} · ${says}`, cost, pixels: bd.input, figure });
      this.captionText = `${what} · label ${w.short(bd.label)} · the ${says}`;
    }
    this.showCaption();

    // the mini-batch and the step: the walked example's own row (★), whose gradient for it is not tiny
    const rows = this.batch?.table?.rows;
    const param = (step.kind === "batch" || step.kind === "step") && rows ? (rows.find((r) => r.why === "example") || rows[0]).param : focusParam(step, bd, this.sel);
    this.gradcheck.set(param, { ...ex.request, label: ex.label }, bd.config.sizes, this.version, bd, w.inputNames);
  }
}


/** The request for an example the network sees as `values`: an image's pixels, else the inputs as they are
 * (a point of the plane, the simple example's x). */
function inputOf(values, store) {
  return store.dataset?.kind === "image" || (!store.dataset && values.length !== 2) ? { pixels: values } : { input: values };
}
