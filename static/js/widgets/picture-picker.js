// "Save a picture" (issue 13 §5: PNG of any view, on a slide in two clicks): press "PNG" in the header,
// then click any view — the network, the descent curve, the draw pad or the plane, the counters, the
// walkthrough's panels, the Descent mode's cards, the Look back drawer's sections — and it is saved as
// a PNG, as it looks now, with a line naming it and its iteration. Esc (or "PNG" again) cancels; with
// the keyboard, Tab moves between the views and Enter saves one.

import { el } from "../lib/dom.js";
import { fmtGrouped } from "../lib/format.js";
import { downloadPNG, pictureOf } from "../lib/picture.js";

export const VIEWS = ".app > .panel:not(.controls), .controls .group.counters, .descent-view .dc-card, .lookback .lb-sec:not(.lb-export-sec)";

/** A view's name: its first heading ("The network", "Confusion matrix (test images)"). */
export function viewName(view) {
  const heading = view.querySelector("h2, h3");
  return (heading?.textContent || view.getAttribute("aria-label") || "view").trim().replace(/\s+/g, " ");
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "view";
}

export class PicturePicker {
  /** button: the header's toggle; toasts: for errors; iterationOf(view) → {iteration, note?}: what the view shows. */
  constructor({ button, toasts, iterationOf }) {
    this.button = button;
    this.toasts = toasts;
    this.iterationOf = iterationOf;
    this.picking = false;
    this.views = [];
    this.lastSaved = null; // {name, filename, width, height, ms}: for tests and the status line
    this.hint = el("div", { class: "picture-hint", role: "status", "data-testid": "picture-hint", hidden: true },
      "Click a view to save it as a PNG · Esc cancels");
    document.body.append(this.hint);
    button.addEventListener("click", () => (this.picking ? this.stop() : this.start()));
    this.onPointer = (e) => this.pointer(e);
    this.onKey = (e) => this.key(e);
    this.swallowClick = (e) => {
      if (!e.isTrusted) return; // the download's own click on its link
      if (this.button.contains(e.target) && !this.picked) return;
      e.preventDefault();
      e.stopPropagation();
      if (this.picked) this.stopSwallowing(); // the click that ends the picking press: nothing else sees it
    };
  }

  visibleViews() {
    return [...document.querySelectorAll(VIEWS)].filter((v) => v.getClientRects().length && v.offsetWidth > 0 && !v.closest("[hidden]"));
  }

  start() {
    this.picking = true;
    this.views = this.visibleViews();
    for (const v of this.views) {
      v.classList.add("pickable");
      if (!v.hasAttribute("tabindex")) {
        v.setAttribute("tabindex", "0");
        v.dataset.pickTabindex = "1";
      }
      v.dataset.pictureName = viewName(v);
    }
    document.body.classList.add("picking");
    this.button.setAttribute("aria-pressed", "true");
    this.hint.hidden = false;
    document.addEventListener("pointerdown", this.onPointer, true);
    document.addEventListener("click", this.swallowClick, true);
    document.addEventListener("keydown", this.onKey, true);
  }

  stopSwallowing() {
    this.picked = false;
    clearTimeout(this.swallowTimer);
    document.removeEventListener("click", this.swallowClick, true);
  }

  /** Leave picking; `picked`: a press picked a view, and the click it ends in is swallowed too. */
  stop(picked = false) {
    this.picking = false;
    for (const v of this.views) {
      v.classList.remove("pickable");
      if (v.dataset.pickTabindex) {
        v.removeAttribute("tabindex");
        delete v.dataset.pickTabindex;
      }
    }
    this.views = [];
    document.body.classList.remove("picking");
    this.button.setAttribute("aria-pressed", "false");
    this.hint.hidden = true;
    document.removeEventListener("pointerdown", this.onPointer, true);
    document.removeEventListener("keydown", this.onKey, true);
    if (!picked) return this.stopSwallowing();
    this.picked = true;
    clearTimeout(this.swallowTimer);
    this.swallowTimer = setTimeout(() => this.stopSwallowing(), 2000); // a press that never ends in a click
  }

  pointer(e) {
    if (this.button.contains(e.target)) return; // the button's own click toggles
    e.preventDefault();
    e.stopPropagation();
    const view = e.target.closest?.(".pickable");
    this.stop(true);
    if (view) this.save(view);
  }

  key(e) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.stop();
      this.button.focus();
    } else if (e.key === "Enter" || e.key === " ") {
      const view = document.activeElement?.closest?.(".pickable");
      if (!view) return;
      e.preventDefault();
      e.stopPropagation();
      this.stop();
      this.save(view);
    }
  }

  /** Save `view` (an element) as a PNG named after it and its iteration; resolves when downloaded. */
  async save(view, name = viewName(view)) {
    const t0 = performance.now();
    const { iteration, note } = this.iterationOf(view);
    const at = iteration != null ? ` · iteration ${fmtGrouped(iteration)}` : "";
    const footer = `Backprop Lab · ${name}${at}${note ? ` (${note})` : ""}`;
    try {
      const canvas = await pictureOf(view, { footer, skip: (node) => node.classList?.contains("no-picture") });
      const filename = `backprop-lab-${slug(name)}${iteration != null ? `-${iteration}` : ""}.png`;
      const blob = await downloadPNG(canvas, filename);
      this.lastSaved = { name, filename, width: canvas.width, height: canvas.height, bytes: blob.size, ms: performance.now() - t0 };
      return this.lastSaved;
    } catch (err) {
      this.toasts?.show(err.message, "error", { title: "Could not save the picture" });
      return null;
    }
  }
}
