// The walkthrough's left column: which example, the six phases (clickable), Back/Next/auto-play,
// the learning rate used by the step and by teaching, Undo, and the way back to live training.

import { el, setText } from "../lib/dom.js";
import { fmtGrouped } from "../lib/format.js";
import { readNumber } from "../lib/number-input.js";
import { applyRange } from "../state/limits.js";
import { PHASES } from "./steps.js";
import { grayCanvas, paintGray } from "./tiles.js";

export const SPEEDS = [
  { label: "slow", ms: 7000 },
  { label: "normal", ms: 4500 },
  { label: "fast", ms: 2200 },
];

export class Sidebar {
  /** h: {pick(source), goPhase(n), back(), next(), toggleAuto(), setSpeed(ms), setLR({value} | {problem}), undo(), leave(), preset()} */
  constructor(node, h) {
    this.h = h;
    this.sources = {};
    const source = (key, text, title) => {
      const b = el("button", { type: "button", role: "radio", "aria-checked": "false", "data-source": key, title, onclick: () => h.pick(key) }, text);
      this.sources[key] = b;
      return b;
    };
    this.thumb = grayCanvas(new Float32Array(1), "wt-example-img"); // sized by the first example
    this.exTitle = el("div", { class: "ex-title", "data-testid": "wt-example-title", text: "Loading…" });
    this.exSub = el("div", { class: "ex-sub" });
    this.exCost = el("div", { class: "ex-sub" });
    this.phaseItems = PHASES.map((p) => {
      const dots = el("span", { class: "dots" });
      const button = el(
        "button",
        { type: "button", class: "phase", title: `Go to phase ${p.n}: ${p.title} — ${p.blurb}.`, onclick: () => h.goPhase(p.n) },
        el("span", { class: "num", text: String(p.n) }),
        el("span", { class: "txt" }, el("span", { class: "t", text: p.title }), el("span", { class: "b", text: p.blurb })),
        dots,
      );
      return { li: el("li", {}, button), button, dots };
    });
    this.backButton = el("button", { type: "button", id: "wt-back", "data-testid": "wt-back", title: "The previous step (shortcut: ←).", onclick: () => h.back() }, "◀ Back");
    this.nextButton = el("button", { type: "button", class: "primary", id: "wt-next", "data-testid": "wt-next", title: "The next step (shortcut: →).", onclick: () => h.next() }, "Next ▶");
    this.autoButton = el("button", { type: "button", id: "wt-auto", "aria-pressed": "false", title: "Play the steps one after another (shortcut: space); it stops before the step that changes the weights.", onclick: () => h.toggleAuto() }, "▶ Auto-play");
    this.speed = el(
      "select",
      { id: "wt-speed", title: "How long auto-play stays on each step.", "aria-label": "Auto-play speed", onchange: () => h.setSpeed(+this.speed.value) },
      ...SPEEDS.map((s) => el("option", { value: String(s.ms), text: s.label })),
    );
    this.speed.value = String(SPEEDS[1].ms);
    this.lr = el("input", { type: "number", id: "wt-lr", "data-testid": "wt-lr", step: "any", title: "The learning rate η used by “Take the step” and by “Teach it”. Press Enter to set it." });
    // {value} or {problem}: an empty field or one that is not a number changes nothing (the range: setLR)
    this.lr.addEventListener("change", () => h.setLR(readNumber(this.lr, { name: "the learning rate η" })));
    this.undoButton = el("button", { type: "button", id: "wt-undo", "data-testid": "wt-undo", title: "Restore the weights from before the last step or teach step.", disabled: true, onclick: () => h.undo() }, "↶ Undo");
    this.error = el("p", { class: "field-error", hidden: true, role: "alert" });
    this.notice = el("div", { class: "wt-notice", hidden: true, role: "status" });

    node.replaceChildren(
      el("div", { class: "wt-head" }, el("h2", { text: "Backprop walkthrough" }), el("p", { class: "subtle", text: "One gradient-descent step, with the engine's numbers." })),
      el(
        "section",
        { class: "group" },
        el(
          "div",
          { class: "wt-h-row" },
          el("h3", { class: "wt-h", text: "Example" }),
          el("button", { type: "button", class: "chip wt-preset", id: "wt-preset-simple", "data-testid": "wt-preset-simple", title: "The lecture notes' simple network: one neuron per layer, [1, 1, 1, 1], on one training example x = 1 with target y = 1 — the whole chain of its last layer, and a slider on w⁽ᴸ⁾ with the curve C₀(w) and its tangent. It replaces the live network.", onclick: () => h.preset() }, "The notes' example ▸"),
        ),
        el("div", { class: "segmented wide", role: "radiogroup", "aria-label": "Which example", "data-testid": "wt-sources" },
          source("easy", "Easy one", "A training image the network gets right with the lowest cost of a random sample: every nudge is tiny (press again for another)."),
          source("hard", "Hard one", "Of the training images a random sample of 500 gets wrong, the one with the largest gradient: the one the weights learn most from (the highest cost alone is often a confident mistake whose saturated neuron barely moves the weights). Press again for another."),
          source("mistake", "Mistake", "A training image the network gets wrong, at random (press again for another)."),
          source("training", "Shown", "The training image shown in the last frame of live training (a random one when the frame showed another kind)."),
          source("test", "Test image", "A random image from the test images (press again for another)."),
          source("drawing", "Drawing", "Your drawing on the right, with the label you pick there."),
        ),
        el("div", { class: "wt-example" }, this.thumb, el("div", { class: "ex-text" }, this.exTitle, this.exSub, this.exCost)),
      ),
      el("section", { class: "group grow" }, el("h3", { class: "wt-h", text: "Phases" }), el("ol", { class: "wt-phases" }, ...this.phaseItems.map((p) => p.li))),
      el(
        "section",
        { class: "group" },
        el("div", { class: "wt-transport wt-nav", "data-testid": "wt-nav" }, this.backButton, this.nextButton),
        el("div", { class: "wt-transport" }, this.autoButton, this.speed),
        el("p", { class: "hint" }, el("kbd", { text: "←" }), " ", el("kbd", { text: "→" }), " step · ", el("kbd", { text: "space" }), " auto-play"),
      ),
      el(
        "section",
        { class: "group" },
        el("div", { class: "wt-lr-row" }, el("label", { for: "wt-lr", title: "The learning rate used by the step and by teaching." }, el("span", { class: "math", text: "η" }), " ="), this.lr, this.undoButton),
        this.notice,
        this.error,
        el("button", { type: "button", class: "wt-leave", id: "wt-leave", title: "Close the walkthrough: training resumes from the current (possibly updated) weights.", onclick: () => h.leave() }, "▶ Resume live training"),
      ),
    );
  }

  /** The example shown: its image (`pixels`), or a ready picture (`figure`: a canvas, e.g. the plane). */
  setExample({ source, title, sub, cost, pixels, figure = null }) {
    for (const [key, b] of Object.entries(this.sources)) b.setAttribute("aria-checked", String(key === source));
    setText(this.exTitle, title);
    setText(this.exSub, sub || "");
    setText(this.exCost, cost || "");
    if (figure) {
      this.setFigure(figure);
    } else if (pixels) {
      if (!this.thumb.getContext || this.thumb.classList.contains("plane")) {
        const canvas = grayCanvas(pixels, "wt-example-img");
        this.thumb.replaceWith(canvas);
        this.thumb = canvas;
      } else paintGray(this.thumb, pixels);
    }
  }

  /** A ready picture of the example in place of the thumbnail (e.g. where a point lies on the plane). */
  setFigure(figure) {
    this.thumb.replaceWith(figure);
    this.thumb = figure;
  }

  /** The example buttons in the dataset's words: images and a drawing, or points and your point. */
  setWords(words) {
    const t = words.thing;
    const titles = {
      easy: [null, `A training ${t} the network gets right with the lowest cost of a random sample: every nudge is tiny (press again for another).`],
      hard: [null, `The training ${t} with the highest cost of a random sample of 500: the one with the most to learn (press again for another).`],
      mistake: [null, `A training ${t} the network gets wrong, at random (press again for another).`],
      training: [null, `The training ${t} shown in the last frame of live training (a random one when the frame showed another kind).`],
      test: [words.plane ? "Test point" : "Test image", `A random ${t} from the test ${words.things} (press again for another).`],
      drawing: [words.plane ? "Your point" : "Drawing", words.plane ? "The point you place on the plane on the right, with the class you pick there." : "Your drawing on the right, with the label you pick there."],
    };
    this.words = words;
    for (const [key, [text, title]] of Object.entries(titles)) {
      if (text) setText(this.sources[key], text);
      this.sources[key].title = title;
    }
  }

  setStep(index, steps) {
    const step = steps[index];
    this.phaseItems.forEach((p, i) => {
      const n = i + 1;
      const inPhase = steps.map((s, k) => [s, k]).filter(([s]) => s.phase === n);
      p.button.classList.toggle("current", step.phase === n);
      p.button.classList.toggle("done", step.phase > n);
      p.button.setAttribute("aria-current", step.phase === n ? "step" : "false");
      p.dots.replaceChildren(...(inPhase.length > 1 ? inPhase.map(([, k]) => el("i", { class: k === index ? "on" : k < index ? "past" : "" })) : []));
    });
    this.backButton.disabled = index === 0;
    this.nextButton.disabled = index === steps.length - 1;
  }

  setAuto(on) {
    this.autoButton.setAttribute("aria-pressed", String(on));
    setText(this.autoButton, on ? "❚❚ Pause" : "▶ Auto-play");
  }

  setLR(v) {
    if (document.activeElement !== this.lr) this.lr.value = v == null ? "" : String(v);
  }

  /** The server's limits (after a hello): η's range and the number of test images. */
  setLimits(lrSpan, testSize) {
    applyRange(this.lr, lrSpan);
    const w = this.words;
    if (testSize) this.sources.test.title = `A random ${w?.thing ?? "image"} from the ${fmtGrouped(testSize)} test ${w?.things ?? "images"} (press again for another).`;
  }

  setUndo(depth) {
    this.undoButton.disabled = !(depth > 0);
    setText(this.undoButton, depth > 0 ? `↶ Undo (${depth})` : "↶ Undo");
  }

  showError(message) {
    this.error.hidden = !message;
    setText(this.error, message || "");
  }

  /** A note that stays (e.g. training was resumed from another tab), with an optional action. */
  showNotice(text, actionText = null, action = null) {
    this.notice.hidden = !text;
    this.notice.replaceChildren();
    if (!text) return;
    this.notice.append(el("span", { text }));
    if (actionText) this.notice.append(el("button", { type: "button", class: "link-button", title: actionText, onclick: action }, actionText));
  }
}
