// The walkthrough's server calls (docs/protocol.md, "The backprop walkthrough").

import { getJSON, postJSON, postOnUnload } from "./api.js";

/** Leaving the page while the walkthrough is open: end its holds even as the tab goes away (training
 * then runs again only if it ran before the walkthrough paused it). */
export function closeOnUnload(holds) {
  for (const hold of holds) postOnUnload("/api/walkthrough/close", { hold });
}

export const api = {
  /** body: {connection} (this tab's websocket, from hello: the hold ends with it), {hold} to claim one again */
  open: (body = {}) => postJSON("/api/walkthrough/open", body),
  close: (hold) => postJSON("/api/walkthrough/close", { hold }),
  backprop: (example) => postJSON("/api/backprop", example),
  batch: (body) => postJSON("/api/walkthrough/batch", body),
  step: (body) => postJSON("/api/walkthrough/step", body),
  set: (body) => postJSON("/api/walkthrough/set", body),
  curve: (body) => postJSON("/api/walkthrough/curve", body),
  example: (kind, seed) => getJSON(`/api/walkthrough/example?kind=${encodeURIComponent(kind)}&seed=${seed}`),
  predict: (body) => postJSON("/api/predict", body),
  teach: (body) => postJSON("/api/teach", body),
  undo: () => postJSON("/api/undo"),
  gradcheck: (body) => postJSON("/api/gradcheck", body),
  testExample: (index) => getJSON(`/api/test-example?index=${index}`),
  trainExample: (index) => getJSON(`/api/train-example?index=${index}`),
};
