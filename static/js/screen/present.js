// Presentation mode, for a projector at the back of a room: text ×1.5 (screens.css), the canvases'
// text and lines ×1.65 (their zoom), and side panels that fold to a rail so that the network and the
// current formula take the screen. On with the header's "Present" button, or ?present=1 / #present in
// the address; the button keeps the address in step, so a reload stays in the same mode.

import { $, el } from "../lib/dom.js";
import { isLessonLink } from "./lesson-link.js";

/** How much bigger the canvases draw their text and lines in presentation mode (11 px → 18 px). */
export const PRESENT_CANVAS_ZOOM = 1.65;

// The side panels of each mode; "left" and "right" fold together across the modes.
const PANELS = [
  { selector: ".controls", side: "left", testid: "fold-controls", name: "Controls" },
  { selector: ".draw", side: "right", testid: "fold-draw", name: "Draw a digit" },
  { selector: "#wt-side", side: "left", testid: "fold-wt-side", name: "Steps" },
  { selector: "#wt-tools", side: "right", testid: "fold-wt-tools", name: "Teach · check" },
];

/** Does the address ask for presentation mode (?present, ?present=1, #present)? */
export function presentRequested(loc = window.location) {
  const q = new URLSearchParams(loc.search).get("present");
  return (q != null && q !== "0" && q !== "false") || /^#present\b/.test(loc.hash);
}

export class Presentation {
  /** onChange(on): the page's canvases take their zoom from it. */
  constructor({ onChange }) {
    this.onChange = onChange;
    this.on = false;
    this.folds = { left: false, right: true }; // on a projector the drawing tools start folded away
    this.button = $("present-toggle");
    this.button.addEventListener("click", () => this.set(!this.on, true));
    this.toggles = [];
    for (const p of PANELS) {
      const panel = document.querySelector(p.selector);
      if (!panel) continue;
      const button = el("button", { type: "button", class: "fold-toggle", "data-testid": p.testid, "aria-expanded": "true", onclick: () => this.fold(p.side, !this.folds[p.side]) });
      panel.prepend(button);
      this.toggles.push({ ...p, button });
    }
    window.addEventListener("hashchange", () => {
      if (isLessonLink(window.location.hash)) return; // a lesson link says present=1/0 itself (open-link.js)
      if (presentRequested() !== this.on) this.set(!this.on, false);
    });
    this.renderFolds();
    this.set(presentRequested(), false);
  }

  set(on, remember) {
    this.on = on;
    document.body.classList.toggle("present", on);
    this.button.setAttribute("aria-pressed", String(on));
    if (remember) {
      const url = new URL(window.location.href);
      if (on) url.searchParams.set("present", "1");
      else url.searchParams.delete("present");
      if (!on && url.hash.startsWith("#present")) url.hash = "";
      window.history.replaceState(window.history.state, "", url);
    }
    this.onChange?.(on);
  }

  fold(side, folded) {
    this.folds[side] = folded;
    this.renderFolds();
  }

  renderFolds() {
    const body = document.body;
    body.classList.toggle("fold-left", this.folds.left);
    body.classList.toggle("fold-right", this.folds.right);
    for (const { side, name, button } of this.toggles) {
      const folded = this.folds[side];
      button.setAttribute("aria-expanded", String(!folded));
      button.title = folded ? `Show ${name.toLowerCase()} again.` : `Fold ${name.toLowerCase()} away: more room for the network and the formulas.`;
      button.textContent = folded ? (side === "left" ? `${name} ▸` : `◂ ${name}`) : side === "left" ? "◂ fold" : "fold ▸";
    }
  }
}
