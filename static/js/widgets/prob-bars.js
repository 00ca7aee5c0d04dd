// Ten probability bars, one per digit: the fill is the probability, an optional outline ("ghost") shows
// where it moved from; the network's answer is emphasised and the true label marked.

import { el, setText } from "../lib/dom.js";

export class ProbBars {
  /** ghosts: an outline behind each fill (before → after); listItems: rows are role="listitem". */
  constructor({ count = 10, ghosts = false, listItems = false } = {}) {
    this.count = count;
    this.bars = Array.from({ length: count }, (_, d) => {
      const ghost = ghosts ? el("span", { class: "ghost" }) : null;
      const fill = el("span", { class: "fill" });
      const value = el("span", { class: "pv" });
      const row = el("div", { class: "prob", role: listItems ? "listitem" : null, "data-digit": String(d) },
        el("span", { class: "pd", text: String(d) }), el("span", { class: "track" }, ghost, fill), value);
      return { row, ghost, fill, value };
    });
    this.rows = this.bars.map((bar) => bar.row);
  }

  /** Bar d filled to p (0..1) with `text` beside it; `from` (0..1, or null) is where the fill starts, kept as the outline. */
  set(d, p, text, from = null) {
    const { ghost, fill, value } = this.bars[d];
    if (ghost) {
      ghost.style.transform = `scaleX(${from ?? 0})`;
      ghost.hidden = from == null;
    }
    if (from != null) {
      fill.style.transition = "none";
      fill.style.transform = `scaleX(${from})`;
      void fill.offsetWidth; // start the move from `from` (animated by CSS)
      fill.style.transition = "";
    }
    fill.style.transform = `scaleX(${p})`;
    setText(value, text);
  }

  /** Emphasise the `winner`; mark the `label` when it is another digit. */
  mark(winner, label = null) {
    this.bars.forEach(({ row }, d) => {
      row.classList.toggle("winner", d === winner);
      row.classList.toggle("label", d === label && d !== winner);
    });
  }
}
