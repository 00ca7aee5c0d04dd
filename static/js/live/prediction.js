// What the network makes of the pad: the preprocessing stages, the 28×28 it receives, ten bars.
// The sentence says what its number is, in the lecture's terms: the winning output neuron's activation
// a (the number the network view shows beside it) and, for a sigmoid output, that output's share of the
// outputs' sum (what the bars show: sigmoid outputs are not probabilities, so the page normalises them).
// When no output fires convincingly (the input is unlike anything it learned), it says so.

const CONVINCING = 0.5; // the winning output's activation below which it "does not look like anything it knows"

import { $, setText } from "../lib/dom.js";
import { fmtCount, fmtFixed, fmtGrouped, fmtPct, withArticle } from "../lib/format.js";
import { ProbBars } from "../widgets/prob-bars.js";

export class PredictionPanel {
  constructor() {
    this.digit = $("prediction");
    this.verdict = $("verdict-text");
    this.preview = $("input-preview");
    this.stageCrop = $("stage-crop");
    this.stageScale = $("stage-scale");
    this.stages = $("stages");
    this.bars = new ProbBars({ listItems: true });
    $("probabilities").append(...this.bars.rows);
    this.reset();
  }

  /** The class names of the dataset (after every hello): the bars' labels and the verdict's words. */
  setNames(names) {
    this.names = names;
    this.bars.bars.forEach(({ row }, d) => {
      row.hidden = d >= names.length;
      setText(row.querySelector(".pd"), names[d] ?? String(d));
      row.title = names[d] ?? "";
    });
    this.bars.rows[0]?.parentElement?.classList.toggle("named", names.some((n, i) => n !== String(i)));
  }

  reset(message = "The network's guess appears here.") {
    setText(this.digit, "");
    setText(this.verdict, message);
    this.digit.parentElement.dataset.state = "empty";
    for (let d = 0; d < this.bars.count; d++) this.bars.set(d, 0, "");
    this.bars.mark(-1);
    for (const canvas of [this.preview, this.stageCrop, this.stageScale]) blank(canvas);
    this.stages.classList.remove("no-stages");
  }

  /** Show a `prediction` reply. `context` = {kind: "drawing"|"test", label?, index?}. */
  show(reply, context) {
    if (reply.empty || reply.digit == null) {
      this.reset(context.kind === "drawing" ? "Draw a digit in the box." : "The network's guess appears here.");
      return;
    }
    const probs = reply.probabilities || [];
    const digit = reply.digit;
    const name = (d) => this.names?.[d] ?? String(d);
    setText(this.digit, name(digit));
    const p = probs[digit];
    const outputs = reply.activations?.[reply.activations.length - 1];
    const a = outputs?.[digit];
    const n = fmtCount(outputs?.length ?? probs.length);
    let text;
    let state = "guess";
    if (Number.isFinite(a) && a < CONVINCING) {
      text = `This does not look like anything it knows: no output neuron fires above ${CONVINCING} (the highest, ${name(digit)}, is at ${fmtFixed(a, 2)}).`;
      state = "unsure";
    } else if (Number.isFinite(a)) {
      const share = context.softmax ? " (softmax: the outputs sum to 1)" : Number.isFinite(p) ? `, ${fmtPct(p, 0)} of the ${n} outputs' sum` : "";
      text = `It thinks this is ${withArticle(name(digit))}: output neuron ${name(digit)} fires at ${fmtFixed(a, 2)}${share}.`;
    } else {
      text = `It thinks this is ${withArticle(name(digit))}${Number.isFinite(p) ? ` (${fmtPct(p, 0)} of the outputs' sum)` : ""}.`;
    }
    if (context.kind === "test" && context.label != null) {
      const right = context.label === digit;
      text = `Test image #${fmtGrouped(context.index)} is ${withArticle(name(context.label))}: ${right ? "the network is right" : `the network says ${name(digit)}`}.`;
      state = right ? "right" : "wrong";
    }
    setText(this.verdict, text);
    this.digit.parentElement.dataset.state = state;
    for (let d = 0; d < this.bars.count; d++) {
      this.bars.set(d, Math.max(0, Math.min(1, probs[d] ?? 0)), fmtPct(probs[d], probs[d] < 0.1 ? 1 : 0));
    }
    this.bars.mark(digit, context.kind === "test" ? context.label : null);
    if (reply.input) paint(this.preview, { width: 28, height: 28, pixels: reply.input });
    const stages = normaliseStages(reply.stages);
    this.stages.classList.toggle("no-stages", !stages.crop && !stages.scale);
    if (stages.crop) paint(this.stageCrop, stages.crop, true);
    else blank(this.stageCrop);
    if (stages.scale) paint(this.stageScale, stages.scale, true);
    else blank(this.stageScale);
  }
}

/** Accept stage images as {width, height, pixels}, a square flat array, or rows of numbers. */
function asImage(stage) {
  if (!stage) return null;
  if (Array.isArray(stage) && Array.isArray(stage[0])) {
    return { width: stage[0].length, height: stage.length, pixels: stage.flat() };
  }
  if (Array.isArray(stage)) {
    const side = Math.round(Math.sqrt(stage.length));
    return side * side === stage.length ? { width: side, height: side, pixels: stage } : null;
  }
  if (stage.pixels && stage.width && stage.height) return stage;
  return null;
}

function normaliseStages(stages) {
  if (!stages || typeof stages !== "object") return {};
  const entries = Object.entries(stages);
  const find = (re) => entries.find(([k]) => re.test(k))?.[1];
  return {
    crop: asImage(find(/crop|bbox|box/i) ?? entries[0]?.[1]),
    scale: asImage(find(/scal|resiz|20/i) ?? entries[1]?.[1]),
  };
}

/** Paint a grayscale image into a canvas, letterboxed to keep its aspect ratio. */
function paint(canvas, image, letterbox = false) {
  const { width, height, pixels } = image;
  const src = document.createElement("canvas");
  src.width = width;
  src.height = height;
  const sctx = src.getContext("2d");
  const data = sctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const g = Math.max(0, Math.min(255, Math.round((pixels[i] || 0) * 255)));
    data.data[i * 4] = g;
    data.data[i * 4 + 1] = g;
    data.data[i * 4 + 2] = g;
    data.data[i * 4 + 3] = 255;
  }
  sctx.putImageData(data, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  if (letterbox) {
    const s = Math.min(canvas.width / width, canvas.height / height);
    const w = width * s;
    const h = height * s;
    ctx.drawImage(src, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
  } else {
    ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
  }
  canvas.dataset.filled = "true";
}

function blank(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#05070b";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  canvas.dataset.filled = "false";
}
