// HTTP calls to the server, with the page's token (if any) in the X-Backprop-Token header.

const token = document.querySelector('meta[name="backprop-token"]')?.content || "";
/** Does every tab of this server share the session this page shows (so a reset replaces everyone's)?
 *  The page says (templates/index.html); per-visitor sessions (classroom mode) answer no. */
export const sharedSession = document.querySelector('meta[name="backprop-shared"]')?.content !== "0";

let following = false; // classroom mode: this page follows the presenter (its reads are the presenter's)
/** Classroom mode: make this page's HTTP reads the presenter's session (X-Backprop-Follow), or its own. */
export function setFollowing(on) {
  following = Boolean(on);
}

function tokenHeaders(headers = {}) {
  const out = following ? { ...headers, "X-Backprop-Follow": "1" } : headers;
  return token ? { ...out, "X-Backprop-Token": token } : out;
}

/** The server's reason for a refusal: its JSON `detail` (or `message`), else the HTTP status
 *  (`error.status` holds the status code, e.g. 409 for a checkpoint name that is taken). */
async function failure(response) {
  let detail = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    const d = body?.detail || body?.message;
    if (Array.isArray(d)) detail = d.map((item) => item?.msg || String(item)).join("; "); // pydantic's list
    else if (d) detail = String(d);
  } catch {
    /* not JSON */
  }
  return Object.assign(new Error(detail), { status: response.status });
}

async function call(path, { headers = {}, ...options }) {
  const response = await fetch(path, { ...options, headers: tokenHeaders(headers), cache: "no-store" });
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

/** A request with a raw body (a file) or none (DELETE); the JSON reply. */
export function sendRaw(method, path, body = undefined) {
  const headers = body === undefined ? {} : { "Content-Type": "application/octet-stream" };
  return call(path, { method, headers, body });
}

/** A POST that outlives the page (for `pagehide`); nothing comes back. */
export function postOnUnload(path, body) {
  try {
    const headers = body === undefined ? tokenHeaders() : { ...tokenHeaders(), "Content-Type": "application/json" };
    fetch(path, { method: "POST", headers, keepalive: true, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    /* the page is going away anyway */
  }
}

/** A URL the browser fetches by itself (links, downloads): the token goes in the query. */
export function withToken(path) {
  return token ? `${path}?token=${encodeURIComponent(token)}` : path;
}

export function websocketURL(follow = false) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const params = [token ? `token=${encodeURIComponent(token)}` : "", follow ? "follow=1" : ""].filter(Boolean);
  return `${scheme}://${location.host}/ws${params.length ? `?${params.join("&")}` : ""}`;
}
