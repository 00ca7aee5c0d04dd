// The walkthrough's server calls (docs/protocol.md, "The backprop walkthrough").

import { getJSON, postJSON, postOnUnload } from "./api.js";

/** Leaving the page while the walkthrough is open: resume training even as the tab goes away. */
export function closeOnUnload() {
  postOnUnload("/api/walkthrough/close");
}

export const api = {
  open: () => postJSON("/api/walkthrough/open"),
  close: () => postJSON("/api/walkthrough/close"),
  backprop: (example) => postJSON("/api/backprop", example),
  batch: (body) => postJSON("/api/walkthrough/batch", body),
  step: (body) => postJSON("/api/walkthrough/step", body),
  predict: (body) => postJSON("/api/predict", body),
  teach: (body) => postJSON("/api/teach", body),
  undo: () => postJSON("/api/undo"),
  gradcheck: (body) => postJSON("/api/gradcheck", body),
  testExample: (index) => getJSON(`/api/test-example?index=${index}`),
};
