// A modal question (the browser's <dialog>: focus stays inside, Escape cancels): a title, a few lines
// or a list, and buttons. `ask` resolves with the chosen button's value ("cancel" for Escape or ✕).
// Also the panel the Share dialog is built in (`open`), so both look and behave alike.

import { el } from "../lib/dom.js";

let current = null; // one dialog at a time: a new one answers the old one "cancel"

/** The <dialog> element with its title and close button; `body` nodes go inside. */
function frame(title, testid, onClose) {
  const dialog = el("dialog", { class: "dialog", "data-testid": testid, "aria-labelledby": `${testid}-title` });
  const close = el("button", { type: "button", class: "icon-button dialog-close", "aria-label": "Close", title: "Close (Escape).", onclick: () => onClose("cancel") }, "×");
  const head = el("div", { class: "dialog-head" }, el("h2", { id: `${testid}-title`, text: title }), close);
  dialog.append(head);
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault(); // Escape: answer "cancel" through the same path as the buttons
    onClose("cancel");
  });
  return dialog;
}

/**
 * Ask a question. `lines`: strings (paragraphs); `list`: strings shown as a bulleted list;
 * `buttons`: [{label, value, kind: "primary" | "danger" | "", title, testid, focus}]: the one with
 * `focus: true` (else the last) has the focus first.
 */
export function ask({ title, lines = [], list = [], buttons, testid = "dialog" }) {
  current?.("cancel");
  return new Promise((resolve) => {
    let dialog = null;
    const done = (value) => {
      if (current !== done) return;
      current = null;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    current = done;
    dialog = frame(title, testid, done);
    for (const line of lines) dialog.append(el("p", { class: "dialog-text", text: line }));
    if (list.length) dialog.append(el("ul", { class: "dialog-list", "data-testid": `${testid}-changes` }, ...list.map((item) => el("li", { text: item }))));
    const row = el("div", { class: "dialog-actions" });
    for (const b of buttons) {
      row.append(el("button", { type: "button", class: b.kind || "", title: b.title, "data-testid": b.testid, onclick: () => done(b.value) }, b.label));
    }
    dialog.append(row);
    document.body.append(dialog);
    dialog.showModal();
    const first = buttons.findIndex((b) => b.focus); // the safe choice (Cancel) by default
    row.children[first >= 0 ? first : buttons.length - 1]?.focus();
  });
}

/** A modal panel of `nodes` (the Share dialog); returns {dialog, close}. `onClose` runs once when it closes. */
export function open({ title, nodes, testid, onClose = () => {} }) {
  current?.("cancel");
  let dialog = null;
  const done = () => {
    if (current !== done) return;
    current = null;
    dialog.close();
    dialog.remove();
    onClose();
  };
  current = done;
  dialog = frame(title, testid, done);
  dialog.append(...nodes.filter(Boolean));
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close: done };
}
