// HTTP calls to the server, with the page's token (if any) in the X-Backprop-Token header.

export const token = document.querySelector('meta[name="backprop-token"]')?.content || "";

/** The server's reason for a refusal: its JSON `detail` (or `message`), else the HTTP status. */
async function failure(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && (body.detail || body.message)) detail = String(body.detail || body.message);
  } catch {
    /* not JSON */
  }
  return new Error(detail);
}

async function call(path, options) {
  const headers = { ...(options.headers || {}) };
  if (token) headers["X-Backprop-Token"] = token;
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export function getJSON(path) {
  return call(path, { method: "GET" });
}

export function postJSON(path, body = undefined) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
}

export function websocketURL() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  return `${scheme}://${location.host}/ws${query}`;
}
