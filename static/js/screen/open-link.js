// Opening a lesson link (docs/protocol.md, "Links that carry a lesson"): at page load and whenever the
// fragment changes. The server checks it (POST /api/link); a refusal is shown naming the field and
// nothing changes. In the shared session a link that would change the network (or η, batch size) asks
// first, listing what would change; then the `reset` (or `set_params`) goes over the websocket like any
// command, and once the new network is here the view follows: mode, walkthrough phase, hidden parts,
// presentation mode. The address then keeps only the view, so a reload never asks again.

import { fmtGrouped } from "../lib/format.js";
import { postJSON } from "../net/api.js";
import { ask } from "../widgets/dialog.js";
import { applyHide, isLessonLink, viewLink } from "./lesson-link.js";
import { describeView } from "./share.js";

const WAIT_MS = 30000;

export class LinkOpener {
  /**
   * store, send(message, origin), toasts; setMode(mode); walkthrough (to reach a phase);
   * presentation (set(on)); ready(): connected and the first hello is here.
   */
  constructor({ store, send, toasts, setMode, walkthrough, presentation, ready }) {
    Object.assign(this, { store, send, toasts, setMode, walkthrough, presentation, ready });
    this.busy = null;
    this.opened = 0; // links opened (tests wait on it)
    this.waiting = false; // a reset or set_params of a link is on its way
    this.replyError = null;
    this.last = null; // {link, outcome, detail?} of the latest attempt
    window.addEventListener("hashchange", () => this.openFromAddress());
  }

  /** Open the link in the address, if it holds one (once the page is connected). */
  openFromAddress() {
    if (!isLessonLink(window.location.hash)) return Promise.resolve(null);
    const hash = window.location.hash;
    const run = async () => {
      await until(() => this.ready(), WAIT_MS);
      return this.open(hash);
    };
    this.busy = (this.busy || Promise.resolve()).then(run, run);
    return this.busy;
  }

  async open(link) {
    let answer;
    try {
      answer = await postJSON("/api/link", { link });
    } catch (err) {
      return this.finish(link, "refused", err.message);
    }
    const needed = answer.reset || answer.set_params;
    let choice = needed ? "apply" : "view";
    if (needed && answer.confirm) choice = await this.confirm(answer);
    if (choice === "cancel") return this.finish(link, "cancelled");
    if (choice === "apply") {
      const error = await this.applyNetwork(answer);
      if (error) return this.finish(link, "refused", error);
    }
    await this.applyView(answer.view);
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${window.location.search}#${viewLink(answer.view)}`);
    this.toasts.show(choice === "apply" ? `${answer.changes.join("; ")}. Opened ${describeView(answer.view)}.` : `Opened ${describeView(answer.view)}.`,
      "success", { title: "Lesson link opened", key: "lesson-link", timeout: 6000 });
    return this.finish(link, choice === "apply" ? "applied" : "view");
  }

  finish(link, outcome, detail = null) {
    this.last = { link, outcome, detail };
    this.opened++;
    if (outcome === "refused") {
      this.toasts.show(detail, "error", { title: "This lesson link was not opened (nothing changed)", sticky: true, key: "lesson-link" });
    }
    return this.last;
  }

  confirm(answer) {
    const resetting = !!answer.reset;
    const trained = this.store.state?.iteration ?? answer.iteration;
    return ask({
      title: resetting ? "Open this lesson: a new network for everyone?" : "Open this lesson: change the training for everyone?",
      testid: "link-confirm",
      lines: [
        resetting
          ? `Every tab of this server shares one network. This link replaces it${trained ? ` (trained for ${iterations(trained)}; save a checkpoint first to keep it)` : ""}:`
          : "Every tab of this server shares one session. This link changes:",
      ],
      list: answer.changes,
      buttons: [
        { label: "Cancel", value: "cancel", testid: "link-cancel", focus: true, title: "Change nothing." },
        { label: "Only the view", value: "view", testid: "link-view-only", title: `Keep the network; open ${describeView(answer.view)}.` },
        { label: resetting ? "Reset and open" : "Apply and open", value: "apply", kind: "danger", testid: "link-apply",
          title: resetting ? "Replace the network for every tab, then open the lesson." : "Change it for every tab, then open the lesson." },
      ],
    });
  }

  /** Send the reset (or set_params) and wait until the session has it; an error's text, or null. */
  async applyNetwork(answer) {
    const message = answer.reset || answer.set_params;
    const hellos = this.store.helloCount;
    const done = answer.reset
      ? () => this.store.helloCount > hellos && sameNetwork(this.store, answer.network)
      : () => paramsMatch(this.store, message);
    this.replyError = null;
    this.waiting = true;
    try {
      if (!this.send(message, "link")) return "Not connected to the training server.";
      await until(() => this.replyError || done(), WAIT_MS);
    } finally {
      this.waiting = false;
    }
    return this.replyError || (done() ? null : "the server did not apply it in time");
  }

  /** The server's answer to a message this opener sent (main.js passes on its `ack` or `error`). */
  onReply(header) {
    if (this.waiting && header.type === "error") this.replyError = header.message;
  }

  async applyView(view) {
    if (view.present != null && view.present !== this.presentation.on) this.presentation.set(view.present, false);
    applyHide(view.hide);
    this.setMode(view.mode);
    if (view.mode === "walkthrough" && view.phase != null) {
      const wt = this.walkthrough;
      await until(() => !wt.active || (wt.ready && wt.bd && wt.steps.length), WAIT_MS);
      if (wt.active) wt.goPhase(view.phase);
    }
  }
}

function sameNetwork(store, network) {
  const c = store.config;
  return !!c && store.dataset?.name === network.dataset && c.sizes.slice(1, -1).join() === network.hidden.join()
    && c.activation === network.activation && c.output_activation === network.output_activation && c.cost === network.cost;
}

function paramsMatch(store, message) {
  const p = store.params || {};
  return (message.learning_rate == null || p.learning_rate === message.learning_rate)
    && (message.batch_size == null || p.batch_size === message.batch_size);
}

const iterations = (n) => `${fmtGrouped(n)} iteration${n === 1 ? "" : "s"}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolve when `test()` holds (checked every animation-frame-ish 50 ms), or after `ms` anyway. */
async function until(test, ms) {
  const end = performance.now() + ms;
  while (!test() && performance.now() < end) await sleep(50);
}
