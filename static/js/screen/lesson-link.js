// The lesson link's format on the page (docs/protocol.md, "Links that carry a lesson"): writing the
// fragment of the current network and view, telling a lesson link from other fragments (#present), and
// the hide flags. The server checks and normalises every link (POST /api/link); nothing here validates.

export const LINK_VERSION = 1;
/** Parts of the page a link can hide, in the server's order (server/web/links.py HIDE_PARTS). Each is
 *  marked with data-part in templates/index.html (the share button: here). */
export const HIDE_PARTS = [
  { part: "training", label: "Play, step and pace" },
  { part: "params", label: "Learning rate and batch size" },
  { part: "editor", label: "Network editor" },
  { part: "checkpoints", label: "Checkpoints" },
  { part: "explainer", label: "“One training step”" },
  { part: "controls", label: "The whole left column" },
  { part: "history", label: "Looking back" },
  { part: "draw", label: "Draw a digit / the plane" },
  { part: "modes", label: "The mode switch" },
  { part: "share", label: "The Share button" },
];
// A dataset option's name in a link (the network's own seed is `seed`).
const OPTION_KEYS = { seed: "data_seed" };

/** Does this fragment carry a lesson (any key=value but the old `#present` flag)? */
export function isLessonLink(hash) {
  const text = hash.replace(/^#/, "");
  if (!text) return false;
  return text.split("&").some((part) => {
    const key = part.split("=")[0];
    return part.includes("=") && key !== "present";
  });
}

const num = (v) => String(+v); // 0.30000 → "0.3", 1e-5 → "0.00001"

/**
 * The fragment (without "#") for the page as it is: `network` true carries the dataset, layers,
 * functions, seed, η and batch size; the view is {mode, phase, hide: [parts], present}.
 */
export function writeLink(store, { network = true, mode = "live", phase = null, hide = [], present = false } = {}) {
  const parts = [`v=${LINK_VERSION}`];
  if (network && store.ready) {
    const c = store.config;
    const ds = store.dataset;
    if (ds?.name) {
      parts.push(`dataset=${encodeURIComponent(ds.name)}`);
      const values = ds.values || {};
      for (const option of ds.options || []) {
        if (option.type === "points" || values[option.name] == null) continue; // a custom set's points: never
        parts.push(`${OPTION_KEYS[option.name] || option.name}=${num(values[option.name])}`);
      }
    }
    parts.push(`hidden=${c.sizes.slice(1, -1).join(",")}`);
    parts.push(`activation=${c.activation}`, `output=${c.output_activation}`, `cost=${c.cost}`, `seed=${c.seed ?? 0}`);
    if (store.params?.learning_rate != null) parts.push(`lr=${num(store.params.learning_rate)}`);
    if (store.params?.batch_size != null) parts.push(`batch=${store.params.batch_size}`);
  }
  parts.push(`mode=${mode}`);
  if (mode === "walkthrough" && phase != null) parts.push(`phase=${phase}`);
  const hidden = HIDE_PARTS.map((p) => p.part).filter((p) => hide.includes(p));
  if (hidden.length) parts.push(`hide=${hidden.join(",")}`);
  if (present) parts.push("present=1");
  return parts.join("&");
}

/** The fragment of only the view (what the address keeps once a link was opened: a reload never resets). */
export function viewLink({ mode = "live", phase = null, hide = [], present = null }) {
  const parts = [`v=${LINK_VERSION}`, `mode=${mode}`];
  if (phase != null) parts.push(`phase=${phase}`);
  if (hide.length) parts.push(`hide=${hide.join(",")}`);
  if (present != null) parts.push(`present=${present ? 1 : 0}`);
  return parts.join("&");
}

/** The page's address with `fragment` (the token and other query parameters kept), at `host`
 *  ("HOST:PORT"; default: the page's own). */
export function addressWith(fragment, host = null, loc = window.location) {
  return `${loc.protocol}//${host || loc.host}${loc.pathname}${loc.search}#${fragment}`;
}

/** The addresses ("HOST:PORT") a link can use: on a page opened on this machine (127.0.0.1), the ones
 *  students can reach first (the server lists them), then this machine's; elsewhere the page's own. */
export function shareHosts(loc = window.location) {
  const listed = (document.querySelector('meta[name="backprop-share-hosts"]')?.content || "").split(" ").filter(Boolean);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(loc.hostname);
  if (!loopback || !listed.length) return [loc.host];
  return [...listed.filter((h) => h !== loc.host), loc.host];
}

/** Hide these parts of the page (CSS: body[data-hide~="part"] [data-part="part"]). */
export function applyHide(parts) {
  if (parts.length) document.body.dataset.hide = parts.join(" ");
  else delete document.body.dataset.hide;
}

export function hiddenParts() {
  return (document.body.dataset.hide || "").split(" ").filter(Boolean);
}
