// The walkthrough's server calls (docs/protocol.md, "The backprop walkthrough"), with the page's token.

import { getJSON, token } from "../api.js";

export { getJSON };

export async function postJSON(path, body = undefined) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers["X-Backprop-Token"] = token;
  const response = await fetch(path, { method: "POST", headers, body: body === undefined ? "{}" : JSON.stringify(body), cache: "no-store" });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const reply = await response.json();
      if (reply && (reply.detail || reply.message)) detail = String(reply.detail || reply.message);
    } catch {
      /* not JSON */
    }
    throw new Error(detail);
  }
  return response.json();
}

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
