// Toasts for server events (epoch done, diverged, reset …) and inline errors beside controls.

import { $, el } from "../lib/dom.js";

export class Toasts {
  constructor() {
    this.node = $("toasts");
  }

  /** kind: "info" | "success" | "warning" | "error"; sticky toasts stay until dismissed. */
  show(message, kind = "info", { sticky = false, timeout = 5000, title = null, key = null } = {}) {
    if (key) for (const old of this.node.querySelectorAll(`[data-key="${key}"]`)) old.remove();
    const close = el("button", { type: "button", class: "icon-button", "aria-label": "Dismiss", title: "Dismiss this message." }, "×");
    const toast = el(
      "div",
      { class: `toast ${kind}`, role: kind === "warning" || kind === "error" ? "alert" : "status", "data-key": key },
      el("div", { class: "toast-body" }, title ? el("strong", { text: title }) : null, el("span", { text: message })),
      close,
    );
    const remove = () => {
      toast.classList.add("leaving");
      setTimeout(() => toast.remove(), 200);
    };
    close.addEventListener("click", remove);
    this.node.append(toast);
    while (this.node.children.length > 3) this.node.firstElementChild.remove();
    if (!sticky) setTimeout(remove, timeout);
    return toast;
  }
}

/** Inline error text under a control group; `null` hides it. Errors fade after a while. */
export class FieldErrors {
  constructor() {
    this.nodes = {
      transport: $("err-transport"),
      lr: $("err-lr"),
      batch: $("err-batch"),
      speed: $("err-speed"),
      reset: $("err-reset"),
      pad: $("err-pad"),
    };
    this.timers = {};
  }

  show(where, message) {
    const node = this.nodes[where];
    if (!node) return false;
    clearTimeout(this.timers[where]);
    node.hidden = !message;
    node.textContent = message || "";
    if (message) this.timers[where] = setTimeout(() => (node.hidden = true), 8000);
    return true;
  }
}
