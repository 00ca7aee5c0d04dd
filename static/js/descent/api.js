// The Descent view's calls (docs/protocol.md "The Descent view"): each carries this tab's id, so a
// newer request replaces an older one still computing (409 for the older: not an error to show).

const token = document.querySelector('meta[name="backprop-token"]')?.content || "";
export const TAB = `tab-${Math.random().toString(36).slice(2, 10)}`;

function headers() {
  return token ? { "Content-Type": "application/json", "X-Backprop-Token": token } : { "Content-Type": "application/json" };
}

async function post(path, body, suffix = "") {
  const response = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify({ ...body, tab: TAB + suffix }), cache: "no-store" });
  if (response.status === 409) return { replaced: true, response };
  if (!response.ok) {
    let detail = `${response.status}`;
    try {
      const j = await response.json();
      detail = typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail);
    } catch {
      /* not JSON */
    }
    throw new Error(detail);
  }
  return { response };
}

export async function line(body) {
  const r = await post("/api/descent/line", body, "-line");
  return r.replaced ? null : r.response.json();
}

export async function runners(body) {
  const r = await post("/api/descent/runners", body, "-runners");
  return r.replaced ? null : r.response.json();
}

/** The surface, streamed: onPart({type: "coarse"|"rows"|"done", …}) for each line. Resolves to the done answer. */
export async function surface(body, onPart) {
  const r = await post("/api/descent/surface", { ...body, stream: true }, "-surface");
  if (r.replaced) return null;
  const reader = r.response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = null;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const text = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!text) continue;
      const part = JSON.parse(text);
      if (part.type === "cancelled") return null;
      if (part.type === "done") done = part;
      onPart(part);
    }
    if (end) break;
  }
  if (buffer.trim()) {
    const part = JSON.parse(buffer);
    if (part.type === "done") done = part;
    onPart(part);
  }
  return done;
}
