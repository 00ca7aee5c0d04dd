// Numbers behind one neuron: a live hover tooltip (z, a, b, σ'(z), gradients) and a pinned
// inspector (incoming weights as an image, biggest contributors w·a). Built with textContent only.

import { divergingPixels, maxAbs } from "../lib/colors.js";
import { el, setText } from "../lib/dom.js";
import { fmtGrouped, fmtNum, fmtSigned } from "../lib/format.js";
import { activationDerivative, topIndices, weightedSum } from "../lib/math.js";
import { ExactNeuron } from "./exact.js";

/**
 * Everything known about neuron `index` of layer `l` for what the network view shows. In the summary
 * stream the weights are quantised and a big layer's z and δ are not streamed: `exact` (GET /api/neuron,
 * see exact.js) then gives them, exactly; until it arrives they are null.
 */
function neuronFacts(store, l, index, exact = null, preferExact = false) {
  const shown = store.shown();
  const L = store.layers;
  if (!shown || !store.ready) return null;
  if (l === 0) {
    return { l, index, a: shown.activations[0]?.[index], x: index % 28, y: Math.floor(index / 28) };
  }
  const rec = exact && exact.layer === l && exact.index === index ? exact : null;
  const drawing = !!store.drawing;
  const nIn = store.sizes[l - 1];
  const aPrev = shown.activations[l - 1];
  let a = shown.activations[l]?.[index];
  const b = store.biases[l - 1];
  let z = shown.zs?.[l]?.[index];
  let delta = shown.deltas?.[l]?.[index] ?? null;
  let bias = b?.[index];
  let gradBias = store.nablaB[l - 1]?.[index] ?? null;
  if (store.summary) {
    bias = rec ? rec.b : bias;
    gradBias = rec ? rec.grad_b : gradBias;
    if ((z == null || (preferExact && rec)) && !drawing) {
      // a big layer: its numbers come exact from the server (its activation in the frame is for drawing)
      z = rec ? rec.z : null;
      a = rec ? rec.a : null;
      delta = rec ? rec.delta : null;
    }
    if (z == null && drawing && rec && aPrev) z = weightedSum(rec.w, [rec.b], aPrev, 0, nIn);
  } else if (z == null && store.weights[l - 1] && aPrev) {
    z = weightedSum(store.weights[l - 1], b, aPrev, index, nIn);
  }
  const act = l === L ? store.config.output_activation : store.config.activation;
  return {
    l,
    index,
    nIn,
    act,
    a,
    z,
    bias,
    dsigma: z != null && a != null ? activationDerivative(act, z, a) : null,
    delta,
    gradBias,
    isOutput: l === L,
    drawing,
  };
}

function neuronTitle(store, l, index) {
  const L = store.layers;
  const inputs = store.inputNames;
  if (l === 0 && store.inputNodes) return `Input ${inputs?.[index] ?? (store.sizes[0] === 1 ? "x" : ["x₁", "x₂"][index])}`;
  if (l === 0) return `Input pixel (${index % 28}, ${Math.floor(index / 28)})`;
  if (l === L) return `Output neuron “${store.classNames?.[index] ?? index}”`;
  return `${L > 2 ? `Hidden ${l}` : "Hidden"} · neuron ${index}`;
}

// ----- hover tooltip ------------------------------------------------------------------------------
export class NeuronTooltip {
  constructor(node, wrap, store, view) {
    this.node = node;
    this.wrap = wrap;
    this.store = store;
    this.view = view;
    this.target = null;
    this.rows = null;
    this.exact = new ExactNeuron(store);
  }

  setTarget(target) {
    this.target = target;
    this.node.hidden = !target;
    if (!target) return;
    const { layer: l, index } = target;
    this.node.replaceChildren();
    this.title = el("div", { class: "tt-title", text: neuronTitle(this.store, l, index) });
    this.node.append(this.title);
    const specs =
      l === 0
        ? [["a", "activation a (brightness)"]]
        : [
            ["z", "z = Σ w·a + b"],
            ["a", "a = σ(z)"],
            ["bias", "bias b"],
            ["dsigma", "σ′(z)"],
            ["delta", "δ = ∂C₀/∂z (this example)"],
            ["gradBias", "∂C/∂b (last batch)"],
          ];
    const table = el("dl", { class: "tt-rows" });
    this.rows = {};
    for (const [key, label] of specs) {
      const value = el("dd");
      table.append(el("dt", { text: label }), value);
      this.rows[key] = value;
    }
    this.note = el("div", { class: "tt-note" });
    this.node.append(table, this.note);
  }

  /** Called every animation frame while hovering: values stay live during training. */
  update(now = performance.now()) {
    if (!this.target) return;
    const { layer: l, index } = this.target;
    // the exact numbers are fetched only where the frames do not carry them (a big layer's neurons)
    const big = this.store.summary && l > 0 && !this.store.shown()?.zs?.[l];
    const facts = neuronFacts(this.store, l, index, big ? this.exact.get(l, index, now) : null);
    if (!facts) return;
    for (const [key, node] of Object.entries(this.rows)) {
      let text = key === "delta" || key === "gradBias" ? fmtSigned(facts[key], 3) : fmtNum(facts[key], 4);
      if (key === "delta" && facts.delta == null && facts.drawing) text = "— (no label)";
      setText(node, text);
    }
    const note =
      this.target.layer === 0
        ? this.store.inputNodes
          ? this.store.isPlane ? `A coordinate of the point fed in (${(this.store.inputNames || ["x₁", "x₂"]).join(", ")}).` : "The input fed in."
          : "A pixel of the image fed in: 0 = black, 1 = white."
        : this.target.layer > 0 && !this.view.pinned
          ? "Click to pin this neuron."
          : "";
    setText(this.note, note);
    this.position();
  }

  position() {
    const p = this.view.positionOf(this.target.layer, this.target.index);
    if (!p) return;
    const w = this.node.offsetWidth;
    const h = this.node.offsetHeight;
    const W = this.wrap.clientWidth;
    const H = this.wrap.clientHeight;
    let x = p.x + p.r + 14;
    if (x + w > W - 4) x = p.x - p.r - 14 - w;
    let y = Math.max(4, Math.min(H - h - 4, p.y - h / 2));
    // On the plane the hovered neuron's maps are drawn enlarged beside it: the numbers go elsewhere.
    const box = this.view.enlargedBox?.();
    const overlaps = (tx, ty) => box && tx < box.x + box.w && tx + w > box.x && ty < box.y + box.h && ty + h > box.y;
    if (overlaps(x, y)) {
      const other = box.x > p.x ? p.x - p.r - 14 - w : p.x + p.r + 14;
      const past = box.x > p.x ? box.x + box.w + 6 : box.x - 6 - w; // beyond the maps, same side
      if (other >= 4 && other + w <= W - 4) x = other;
      else if (past >= 4 && past + w <= W - 4) x = past;
      else if (box.y + box.h + 6 + h <= H - 4) y = box.y + box.h + 6;
      else if (box.y - 6 - h >= 4) y = box.y - 6 - h;
    }
    this.node.style.transform = `translate(${Math.round(Math.max(4, x))}px, ${Math.round(y)}px)`;
  }
}

// ----- pinned inspector ---------------------------------------------------------------------------
export class NeuronInspector {
  constructor(node, store, onClose) {
    this.node = node;
    this.store = store;
    this.onClose = onClose;
    this.target = null;
    this.updatedAt = 0;
    this.exact = new ExactNeuron(store); // the summary stream's weights are for drawing: read these
    this.shownRecord = null; // the exact record the inspector shows (null: the store's own float32 weights)
  }

  setTarget(target) {
    this.target = target && target.layer > 0 ? target : null;
    this.node.hidden = !this.target;
    if (!this.target) return;
    const { layer: l, index } = this.target;
    const nIn = this.store.sizes[l - 1];
    const close = el("button", { type: "button", class: "icon-button", title: "Unpin this neuron.", "aria-label": "Close" }, "×");
    close.addEventListener("click", () => this.onClose());
    this.formula = el("p", { class: "insp-formula" });
    const side = nIn === 784 ? 28 : Math.ceil(Math.sqrt(nIn));
    this.canvas = el("canvas", { class: "insp-weights", width: side, height: Math.ceil(nIn / side) });
    this.list = el("ol", { class: "contrib" });
    this.exactNote = el("p", { class: "insp-exact subtle" });
    delete this.node.dataset.iteration;
    this.node.replaceChildren(
      el("div", { class: "insp-head" }, el("h3", { text: neuronTitle(this.store, l, index) }), close),
      this.formula,
      el(
        "div",
        { class: "insp-body" },
        el("figure", {}, this.canvas, el("figcaption", { text: nIn === 784 ? "incoming weights (what it looks for)" : l === 1 && this.store.inputNames ? `incoming weights from ${this.store.inputNames.join(" and ")}` : `incoming weights from ${nIn} neurons` })),
        el("div", { class: "insp-contrib" }, el("h4", { text: "Biggest contributors w·a" }), this.list),
      ),
      this.exactNote,
    );
    this.updatedAt = 0;
  }

  update(now) {
    if (!this.target) return;
    const store = this.store;
    const { layer: l, index } = this.target;
    if (l > store.layers || index >= store.sizes[l]) return this.onClose();
    const rec = store.summary ? this.exact.get(l, index, now) : null;
    if (now - this.updatedAt < 200 && rec === this.shownRecord) return;
    this.updatedAt = now;
    const facts = neuronFacts(store, l, index, rec, true);
    const nIn = store.sizes[l - 1];
    let row;
    let aPrev = store.shown()?.activations?.[l - 1];
    if (store.summary) {
      if (!rec) {
        setText(this.formula, this.exact.error ? `Could not fetch its exact numbers: ${this.exact.error}` : "Fetching its exact numbers…");
        return;
      }
      row = rec.w;
      if (!store.drawing) aPrev = rec.a_prev; // the example the server showed when it answered
    } else {
      const W = store.weights[l - 1];
      if (!W) return;
      row = W.subarray(index * nIn, index * nIn + nIn);
    }
    this.shownRecord = rec;
    if (!facts || !aPrev) return;
    setText(this.formula, `z = Σ w·a + b = ${fmtNum(facts.z, 4)}\na = σ(z) = ${fmtNum(facts.a, 4)}\nσ′(z) = ${fmtNum(facts.dsigma, 3)}`);
    if (rec) this.node.dataset.iteration = String(rec.iteration);
    setText(this.exactNote, rec ? `exact numbers at iteration ${fmtGrouped(rec.iteration, ",")}` : "");
    // weights image
    const ctx = this.canvas.getContext("2d");
    const image = ctx.createImageData(this.canvas.width, this.canvas.height);
    divergingPixels(row, maxAbs(row) || 1, image.data, 0, nIn);
    ctx.putImageData(image, 0, 0);
    // contributors
    const contrib = new Float32Array(nIn);
    for (let k = 0; k < nIn; k++) contrib[k] = row[k] * aPrev[k];
    const best = topIndices(contrib, 5);
    const max = Math.abs(contrib[best[0]]) || 1;
    this.list.replaceChildren(
      ...best.map((k) => {
        const inputs = store.inputNames;
        const name = l === 1 ? (inputs ? `input ${inputs[k]}` : `pixel ${k % 28},${Math.floor(k / 28)}`) : `neuron ${k}`;
        const bar = el("span", { class: `bar ${contrib[k] >= 0 ? "pos" : "neg"}` });
        bar.style.transform = `scaleX(${Math.abs(contrib[k]) / max})`;
        return el(
          "li",
          {},
          el("span", { class: "who", text: name }),
          el("span", { class: "calc", text: `${fmtNum(row[k], 3)} × ${fmtNum(aPrev[k], 3)}` }),
          el("span", { class: "val", text: fmtSigned(contrib[k], 3) }),
          el("span", { class: "track" }, bar),
        );
      }),
      el("li", { class: "bias-row" }, el("span", { class: "who", text: "bias b" }), el("span", { class: "calc" }), el("span", { class: "val", text: fmtSigned(facts.bias, 3) })),
    );
  }
}
