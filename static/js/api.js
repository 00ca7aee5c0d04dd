// HTTP calls to the server, with the page's token (if any) in the X-Backprop-Token header.

export const token = document.querySelector('meta[name="backprop-token"]')?.content || "";

export async function getJSON(path) {
  const headers = token ? { "X-Backprop-Token": token } : {};
  const response = await fetch(path, { headers, cache: "no-store" });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && (body.detail || body.message)) detail = String(body.detail || body.message);
    } catch {
      /* not JSON */
    }
    throw new Error(detail);
  }
  return response.json();
}

export function websocketURL() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  return `${scheme}://${location.host}/ws${query}`;
}
