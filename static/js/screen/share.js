// The Share button: a dialog that writes the link of this lesson — the network and the view, with the
// parts of the page to hide for whoever opens it — copies it, and shows it to select by hand (a phone's
// clipboard may refuse). The address carries the server's token: whoever has the link can use it.

import { $, el } from "../lib/dom.js";
import { open } from "../widgets/dialog.js";
import { HIDE_PARTS, addressWith, hiddenParts, shareHosts, writeLink } from "./lesson-link.js";

export class ShareButton {
  /** view(): the page's view now, {mode, phase, present}. */
  constructor({ store, view }) {
    this.store = store;
    this.view = view;
    this.button = $("share-toggle");
    this.button.addEventListener("click", () => this.show());
    this.panel = null;
  }

  show() {
    const hideNow = hiddenParts();
    const carry = el("input", { type: "checkbox", id: "share-network", "data-testid": "share-network", checked: true });
    const boxes = HIDE_PARTS.map(({ part, label }) => {
      const box = el("input", { type: "checkbox", value: part, "data-testid": `share-hide-${part}`, checked: hideNow.includes(part) });
      return { box, row: el("label", { class: "share-hide" }, box, ` ${label}`) };
    });
    const text = el("textarea", { id: "share-link", class: "share-link", "data-testid": "share-link", readonly: true, rows: 4,
      spellcheck: "false", "aria-label": "The link (select it and copy it if the button cannot)" });
    const where = el("p", { class: "dialog-text share-where", "data-testid": "share-where" });
    // Opened on this machine (127.0.0.1): the link must use an address the students can reach.
    const hosts = shareHosts();
    const host = el("select", { id: "share-host", "data-testid": "share-host", title: "The address in the link: one the students' devices can reach." },
      ...hosts.map((h, i) => el("option", { value: h, text: i === hosts.length - 1 && hosts.length > 1 ? `${h} (this machine only)` : h })));
    const status = el("p", { class: "share-status", "data-testid": "share-status", role: "status" });
    const copy = el("button", { type: "button", class: "primary", "data-testid": "share-copy", title: "Copy the link to the clipboard." }, "Copy link");
    const refresh = () => {
      const view = this.view();
      const link = addressWith(writeLink(this.store, { network: carry.checked, ...view, hide: boxes.filter((b) => b.box.checked).map((b) => b.box.value) }), host.value);
      text.value = link;
      where.textContent = `Opens ${describeView(view)}${carry.checked ? ", with this network (a new one: untrained)" : ", on whatever network the server has"}.`;
      status.textContent = "";
    };
    for (const input of [carry, host, ...boxes.map((b) => b.box)]) input.addEventListener("change", refresh);
    text.addEventListener("focus", () => text.select());
    copy.addEventListener("click", () => this.copy(text, status));
    const nodes = [
      where,
      el("label", { class: "share-carry" }, carry, " Carry the network: dataset, layers, σ, cost, seed, η and batch size"),
      el("fieldset", { class: "share-hides" }, el("legend", { text: "Hide for whoever opens it" }), ...boxes.map((b) => b.row)),
      hosts.length > 1 ? el("label", { class: "share-host" }, "Address ", host) : null,
      text,
      el("div", { class: "dialog-actions" }, status, copy),
      el("p", { class: "hint", text: document.querySelector('meta[name="backprop-token"]')?.content
        ? "The link holds this server's token: whoever has it can use this server."
        : "The link works on this machine (the server answers only here: start it with --host 0.0.0.0 for a class)." }),
    ];
    this.panel = open({ title: "Share this lesson", nodes, testid: "share-dialog", onClose: () => (this.panel = null) });
    refresh();
    text.focus();
  }

  /** Copy to the clipboard; when the browser refuses (no permission, not a secure origin: a phone on
   *  http://192.168…), select the text and say to copy it by hand. */
  async copy(text, status) {
    try {
      if (!navigator.clipboard?.writeText) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text.value);
      status.textContent = "Copied ✓";
      status.dataset.state = "ok";
    } catch {
      text.focus();
      text.select();
      let copied = false;
      try {
        copied = document.execCommand("copy"); // older path, works on http:// in many browsers
      } catch {
        copied = false;
      }
      status.textContent = copied ? "Copied ✓" : "Selected: copy it with your browser (⌘C / Ctrl+C, or long-press).";
      status.dataset.state = copied ? "ok" : "manual";
    }
  }
}

export function describeView({ mode, phase }) {
  if (mode === "walkthrough") return phase ? `in the backprop walkthrough, phase ${phase}` : "in the backprop walkthrough";
  if (mode === "descent") return "in the Descent view";
  return "in live training";
}
