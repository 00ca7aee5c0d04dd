// A box for a table wider than the screen (a phone): it scrolls sideways inside itself — the page never
// does — and says so: a line under it while columns are hidden, and a shadow on the edge they hide behind
// (the classes more-left / more-right, which the CSS draws on the sticky columns).

import { el } from "../lib/dom.js";

export function scrollX(content) {
  const box = el("div", { class: "wt-scroll-x", tabindex: "0", role: "region", "aria-label": "Table: scrolls sideways" }, content);
  const cue = el("p", { class: "scroll-cue", "aria-hidden": "true" });
  const wrap = el("div", { class: "scroll-x-wrap" }, box, cue);
  const update = () => {
    const max = box.scrollWidth - box.clientWidth;
    const over = max > 1;
    const left = over && box.scrollLeft > 1;
    const right = over && box.scrollLeft < max - 1;
    box.classList.toggle("more-left", left);
    box.classList.toggle("more-right", right);
    wrap.classList.toggle("overflows", over);
    const text = !over ? "" : right ? "swipe the table sideways for more columns ▸" : "◂ swipe back: the table scrolls sideways";
    if (cue.textContent !== text) cue.textContent = text;
  };
  box.addEventListener("scroll", update, { passive: true });
  new ResizeObserver(update).observe(box);
  return wrap;
}
