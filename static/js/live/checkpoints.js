// Checkpoints (docs/protocol.md, "Checkpoints"): save the session under a name, list, load, download,
// delete and upload .npz files. Every outcome is shown beside the control that caused it; a load makes
// the server send `event` `loaded` and a new `hello`, which the store and the other views take from there.

import { $, el, setText } from "../lib/dom.js";
import { fmtAgo, fmtBytes, fmtGrouped } from "../lib/format.js";
import { getJSON, postJSON, sendRaw, withToken } from "../net/api.js";

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_RULE = "Names are 1 to 64 letters, digits, “_” or “-” (no spaces, dots or slashes).";
const MAX_UPLOAD = 64 * 1024 * 1024;
const NOTE_MS = { error: 8000, ok: 3500 };
const SAVED_SNAPSHOT_BYTES = 32 * 1024 * 1024; // the server keeps at most this much of snapshots in a file

/** A fetch that failed outright (server down, connection cut) gets a sentence instead of "Failed to fetch". */
async function reach(promise) {
  try {
    return await promise;
  } catch (e) {
    if (e instanceof TypeError) throw new Error("Could not reach the training server (network error) — try again when it is back.");
    throw e;
  }
}

/** A checkpoint name made from an uploaded file's name (or null when nothing usable is left). */
function nameFromFile(fileName) {
  const stem = fileName.replace(/\.npz$/i, "").replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
  return stem || null;
}

/** What a load brought back, from its reply: "η 0.2, batch 32, iteration 5,625" (older servers: the iteration). */
function restoredText(reply) {
  return reply.restored || `at iteration ${fmtGrouped(reply.iteration)}`;
}

export class Checkpoints {
  /** onLoading(n): this tab is about to load a checkpoint (+1), or the load was refused (−1), so that
   *  the `loaded` event it causes is told apart from one caused by someone else. */
  constructor({ onLoading = () => {} } = {}) {
    this.onLoading = onLoading;
    this.details = $("checkpoints");
    this.summary = $("ckpt-summary");
    this.form = $("ckpt-save-form");
    this.name = $("ckpt-name");
    this.saveButton = $("ckpt-save");
    this.withHistory = $("ckpt-snapshots");
    this.historySize = $("ckpt-snapshots-size");
    /** () => {count, sizes}: the recorded snapshots and the network's layer sizes (set by main.js). */
    this.snapshotInfo = null;
    this.list = $("ckpt-list");
    this.uploadButton = $("ckpt-upload");
    this.file = $("ckpt-file");
    this.modelLink = $("ckpt-download-model");
    this.notes = {
      save: { error: $("err-ckpt-save"), ok: $("ok-ckpt-save") },
      list: { error: $("err-ckpt-list") },
      upload: { error: $("err-ckpt-upload"), ok: $("ok-ckpt-upload") },
    };
    this.timers = new Map();
    this.itemNotes = new Map(); // name → {message, kind, until}
    this.entries = [];
    this.timesAt = 0;
    this.loading = null;

    this.modelLink.href = withToken("/api/model");
    this.details.addEventListener("toggle", () => {
      if (!this.details.open) return;
      this.refresh();
      this.showHistorySize();
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    this.name.addEventListener("input", () => {
      this.note(this.notes.save, null);
      this.showReplace();
    });
    this.uploadButton.addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => this.upload());
    this.refresh();
  }

  /** Show `message` in a note pair (error or ok), hiding the other; null hides both. */
  note(pair, message, kind = "error", ms = NOTE_MS[kind]) {
    for (const [k, node] of Object.entries(pair)) {
      clearTimeout(this.timers.get(node));
      const show = message && k === kind;
      node.hidden = !show;
      node.textContent = show ? message : "";
      if (show) this.timers.set(node, setTimeout(() => (node.hidden = true), ms));
    }
  }

  /** A note on one list entry; kept by name so that it survives the list being redrawn. */
  noteItem(name, pair, message, kind = "error") {
    this.itemNotes.set(name, { message, kind, until: performance.now() + NOTE_MS[kind] });
    this.note(pair, message, kind);
  }

  async refresh() {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const reply = await reach(getJSON("/api/checkpoints"));
        this.entries = reply.checkpoints || [];
        this.note(this.notes.list, null);
        this.render();
      } catch (e) {
        this.note(this.notes.list, `Could not list the checkpoints: ${e.message}`);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** The server loaded a checkpoint (perhaps from another tab): the list may have a new entry. */
  onLoaded() {
    if (this.details.open) this.refresh();
  }

  render() {
    const n = this.entries.length;
    setText(this.summary, n ? `${n} saved` : "none saved");
    this.summary.title = n ? `Newest: “${this.entries[0].name}”, saved ${fmtAgo(this.entries[0].mtime)}.` : "";
    this.list.replaceChildren(...this.entries.map((entry) => this.item(entry)));
    if (!n) this.list.append(el("li", { class: "ckpt-empty", text: "No checkpoints yet: name one above and save it." }));
    this.showReplace();
    this.timesAt = performance.now();
  }

  item(entry) {
    const { name } = entry;
    const sizes = entry.config?.sizes?.join("–");
    const snaps = entry.snapshots ? `${fmtGrouped(entry.snapshots)} snapshot${entry.snapshots === 1 ? "" : "s"}` : null;
    const meta = entry.error
      ? "unreadable"
      : [entry.cut_short ? "cut short" : null, entry.autosave ? "autosave" : null,
        entry.iteration != null ? `it ${fmtGrouped(entry.iteration)}` : null, snaps, sizes].filter(Boolean).join(" · ");
    const details = entry.error
      ? `This file cannot be read: ${entry.error}`
      : `${name}: ${sizes || "?"} · ${entry.config?.activation || "?"} · ${fmtBytes(entry.size)} · saved ${new Date(entry.mtime * 1000).toLocaleString()}` +
        (snaps ? ` · with history: ${snaps} to scrub back through` : "") +
        (entry.autosave ? " · saved by the server when it stopped (the 5 newest are kept; --resume continues the newest)" : "") +
        (entry.cut_short ? ` · This file is cut short (${entry.cut_short}): its network loads, its snapshots may not.` : "");
    const error = el("p", { class: "field-error", role: "alert", hidden: true });
    const ok = el("p", { class: "field-ok", role: "status", hidden: true });
    const pair = { error, ok };
    const load = el("button", { type: "button", class: "chip", title: `Replace the current network with “${name}” (training pauses).`,
      "aria-label": `Load ${name}`, "data-action": "load" }, "Load");
    const download = el("a", { class: "icon-link", href: withToken(`/api/checkpoints/${encodeURIComponent(name)}`), download: `${name}.npz`,
      title: `Download “${name}” as a .npz file.`, "aria-label": `Download ${name}`, "data-action": "download" }, "⤓");
    const remove = el("button", { type: "button", class: "icon-button ckpt-delete", title: `Delete “${name}” from the server (asks to confirm).`,
      "aria-label": `Delete ${name}`, "data-action": "delete" }, "✕");
    const kept = this.itemNotes.get(name);
    if (kept && kept.until > performance.now()) this.note(pair, kept.message, kept.kind, kept.until - performance.now());
    load.addEventListener("click", () => this.load(name, pair, load));
    remove.addEventListener("click", () => this.remove(name, pair, remove));
    remove.addEventListener("blur", () => this.disarm(remove));
    return el(
      "li",
      { class: `ckpt-item${entry.error ? " broken" : ""}${entry.cut_short ? " cut" : ""}${entry.autosave ? " autosave" : ""}`, "data-name": name, title: details },
      el("span", { class: "ckpt-name", text: name }),
      el("span", { class: "ckpt-actions" }, load, download, remove),
      el("span", { class: "ckpt-meta" }, el("span", { class: "ckpt-info", text: meta }),
        el("time", { class: "ckpt-time", "data-mtime": String(entry.mtime), text: fmtAgo(entry.mtime) })),
      error,
      ok,
    );
  }

  /** Beside "with history": how many snapshots that saves, and about how many bytes (4 per parameter each). */
  showHistorySize() {
    const info = this.snapshotInfo?.();
    if (!info?.count || !info.sizes?.length) {
      setText(this.historySize, "");
      return;
    }
    let params = 0;
    for (let l = 1; l < info.sizes.length; l++) params += info.sizes[l] * (info.sizes[l - 1] + 1);
    const per = 4 * params + 40;
    const count = Math.min(info.count, Math.max(2, Math.floor(SAVED_SNAPSHOT_BYTES / (4 * params))));
    setText(this.historySize, `(${fmtGrouped(count)} snapshot${count === 1 ? "" : "s"}, ${fmtBytes(count * per)})`);
  }

  /** "Save" says "Replace" when the typed name is already taken (and asks before it replaces). */
  showReplace() {
    const taken = this.entries.some((e) => e.name === this.name.value.trim());
    setText(this.saveButton, taken ? "Replace" : "Save");
    this.saveTitle ??= this.saveButton.title;
    this.saveButton.title = taken ? "A checkpoint of this name exists: asks before replacing it." : this.saveTitle;
  }

  async busy(button, work) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  /** Ask before a save replaces the checkpoint `name` (the server refuses to without `overwrite`). */
  confirmReplace(name) {
    const entry = this.entries.find((e) => e.name === name);
    const when = entry ? `, saved ${fmtAgo(entry.mtime)}${entry.iteration != null ? ` at iteration ${fmtGrouped(entry.iteration)}` : ""}` : "";
    return window.confirm(`A checkpoint named “${name}” exists${when}.\n\nReplace it with the current network? The old one cannot be brought back.`);
  }

  async save() {
    const name = this.name.value.trim();
    if (!NAME_RE.test(name)) {
      this.note(this.notes.save, name ? `“${name}” is not a valid name. ${NAME_RULE}` : `Type a name first. ${NAME_RULE}`);
      this.name.focus();
      return;
    }
    let overwrite = this.entries.some((e) => e.name === name);
    if (overwrite && !this.confirmReplace(name)) {
      this.note(this.notes.save, `Not saved: “${name}” was kept as it was.`, "ok");
      return;
    }
    const snapshots = this.withHistory.checked;
    await this.busy(this.saveButton, async () => {
      try {
        let entry;
        try {
          entry = await reach(postJSON("/api/checkpoints", { name, overwrite, snapshots }));
        } catch (e) {
          // saved meanwhile (another tab): ask now, and only replace it if told to
          if (e.status !== 409 || overwrite) throw e;
          if (!this.confirmReplace(name)) {
            this.note(this.notes.save, `Not saved: “${name}” was kept as it was.`, "ok");
            return;
          }
          overwrite = true;
          entry = await reach(postJSON("/api/checkpoints", { name, overwrite, snapshots }));
        }
        const at = entry.iteration != null ? ` at iteration ${fmtGrouped(entry.iteration)}` : "";
        const kept = entry.snapshots ? ` with ${fmtGrouped(entry.snapshots)} snapshot${entry.snapshots === 1 ? "" : "s"}` : "";
        this.note(this.notes.save, `${overwrite ? "Replaced" : "Saved"} “${name}”${at}${kept}.`, "ok");
        this.name.value = "";
      } catch (e) {
        this.note(this.notes.save, e.message);
      }
    });
    await this.refresh();
  }

  async load(name, pair, button) {
    await this.busy(button, async () => {
      this.onLoading(1);
      try {
        const reply = await reach(postJSON(`/api/checkpoints/${encodeURIComponent(name)}/load`));
        this.noteItem(name, pair, `Loaded ${restoredText(reply)} — training is paused.`, "ok");
      } catch (e) {
        this.onLoading(-1);
        this.noteItem(name, pair, e.message);
      }
    });
  }

  /** First press arms the button ("Delete?"), the second deletes; leaving it or waiting disarms it. */
  async remove(name, pair, button) {
    if (!button.classList.contains("armed")) {
      button.classList.add("armed");
      button.textContent = "Delete?";
      button.dataset.timer = String(setTimeout(() => this.disarm(button), 4000));
      return;
    }
    this.disarm(button);
    await this.busy(button, async () => {
      try {
        await reach(sendRaw("DELETE", `/api/checkpoints/${encodeURIComponent(name)}`));
        await this.refresh();
      } catch (e) {
        this.noteItem(name, pair, e.message);
      }
    });
  }

  disarm(button) {
    clearTimeout(+button.dataset.timer);
    button.classList.remove("armed");
    button.textContent = "✕";
  }

  async upload() {
    const file = this.file.files?.[0];
    this.file.value = ""; // choosing the same file again fires `change` again
    if (!file) return;
    if (file.size > MAX_UPLOAD) {
      this.note(this.notes.upload, `“${file.name}” is ${fmtBytes(file.size)}; checkpoints are at most 64 MB.`);
      return;
    }
    let name = nameFromFile(file.name);
    if (name && this.entries.some((e) => e.name === name)) {
      const taken = new Set(this.entries.map((e) => e.name));
      let i = 2;
      while (taken.has(`${name.slice(0, 60)}-${i}`)) i++;
      name = `${name.slice(0, 60)}-${i}`;
    }
    await this.busy(this.uploadButton, async () => {
      this.onLoading(1);
      try {
        const path = "/api/checkpoints/upload" + (name ? `?name=${encodeURIComponent(name)}` : "");
        const reply = await reach(sendRaw("POST", path, file));
        this.note(this.notes.upload, `Loaded “${file.name}”${name ? ` (kept as “${name}”)` : ""}: ${restoredText(reply)}.`, "ok");
      } catch (e) {
        this.onLoading(-1);
        this.note(this.notes.upload, `“${file.name}” was refused: ${e.message}`);
      }
    });
    await this.refresh();
  }

  /** From the animation loop: keep the relative times current while the section is open (every 20 s). */
  tick(now) {
    if (!this.details.open || now - this.timesAt < 20000) return;
    this.timesAt = now;
    for (const time of this.list.querySelectorAll("time[data-mtime]")) setText(time, fmtAgo(+time.dataset.mtime));
  }
}
