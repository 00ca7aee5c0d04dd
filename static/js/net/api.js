// HTTP calls to the server, with the page's token (if any) in the X-Backprop-Token header.

const token = document.querySelector('meta[name="backprop-token"]')?.content || "";
/** Does every tab of this server share the session this page shows (so a reset replaces everyone's)?
 *  The page says (templates/index.html); per-visitor sessions (classroom mode) answer no. */
export const sharedSession = document.querySelector('meta[name="backprop-shared"]')?.content !== "0";

let following = false; // classroom mode: this page follows the presenter (its reads are the presenter's)
let locked = false; // ... because the presenter locked the class
// What a follower may still send (server/web/classroom.py, FOLLOW_READS and OWN_ALWAYS; kept equal by
// tests/test_presenter.py): reads of the presenter's session, the walkthrough's pause of its own, the
// classroom's own routes. Anything else the server refuses (409), so the page refuses it without asking.
const FOLLOW_SENDS = new Set(["/api/predict", "/api/backprop", "/api/walkthrough/batch", "/api/walkthrough/curve",
  "/api/gradcheck", "/api/maps", "/api/line", "/api/surface", "/api/runners", "/api/walkthrough/open",
  "/api/walkthrough/close"]);
const FOLLOWING = "you are following the presenter: go back to your network to change it";
const LOCKED = "the presenter has locked the class to follow them: your own session cannot be changed until they unlock it";

/** Classroom mode: make this page's HTTP reads the presenter's session (X-Backprop-Follow), or its own;
 *  `isLocked`: the presenter locked the class (the refusal says so). */
export function setFollowing(on, isLocked = false) {
  following = Boolean(on);
  locked = following && Boolean(isLocked);
}

/** Why this request would be refused while following (null: it would not). */
function followRefusal(method, path) {
  if (!following || method === "GET") return null;
  const route = path.split("?")[0];
  return FOLLOW_SENDS.has(route) || route.startsWith("/api/classroom/") ? null : locked ? LOCKED : FOLLOWING;
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
  const refused = followRefusal(options.method, path);
  if (refused) throw Object.assign(new Error(refused), { status: 409 });
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

/** The websocket's URL, with `params` (e.g. {detail: "summary", follow: 1}) and the token in its query. */
export function websocketURL(params = {}) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = new URLSearchParams(params);
  if (token) query.set("token", token);
  const text = query.toString();
  return `${scheme}://${location.host}/ws${text ? `?${text}` : ""}`;
}
