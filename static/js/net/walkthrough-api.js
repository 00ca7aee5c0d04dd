// The walkthrough's server calls (docs/protocol.md, "The backprop walkthrough"), with the page's token.

import { getJSON, postJSON, token } from "./api.js";

export { getJSON, postJSON };

/** Leaving the page while the walkthrough is open: resume training even as the tab goes away. */
export function closeOnUnload() {
  const headers = token ? { "X-Backprop-Token": token } : {};
  try {
    fetch("/api/walkthrough/close", { method: "POST", headers, keepalive: true });
  } catch {
    /* the page is going away anyway */
  }
}

export const api = {
  open: () => postJSON("/api/walkthrough/open"),
  close: () => postJSON("/api/walkthrough/close"),
  backprop: (example) => postJSON("/api/backprop", example),
  batch: (body) => postJSON("/api/walkthrough/batch", body),
  step: (body) => postJSON("/api/walkthrough/step", body),
  teach: (body) => postJSON("/api/teach", body),
  undo: () => postJSON("/api/undo"),
  gradcheck: (body) => postJSON("/api/gradcheck", body),
  testExample: (index) => getJSON(`/api/test-example?index=${index}`),
};
