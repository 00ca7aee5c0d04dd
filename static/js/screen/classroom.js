// The classroom bar (classroom mode only; docs/protocol.md, "The presenter"): a student follows the
// presenter (a read-only view of their session, their walkthrough step included), goes back to their own
// network, or copies the presenter's; the presenter sees how many follow and locks the class to follow.

import { $, setText } from "../lib/dom.js";
import { getJSON, postJSON, setFollowing, websocketURL } from "../net/api.js";

const PUBLISH_EVERY_MS = 250; // the presenter's walkthrough step, at most this often

export class ClassroomBar {
  /** @param {{connection, walkthrough, setMode, toasts, onCopying(n)}} deps (onCopying: this tab's own
   *  `loaded` event is coming, +1, or not, −1) */
  constructor({ connection, walkthrough, setMode, toasts, onCopying = () => {} }) {
    this.onCopying = onCopying;
    this.connection = connection;
    this.walkthrough = walkthrough;
    this.setMode = setMode;
    this.toasts = toasts;
    this.root = $("classroom-bar");
    this.state = null; // the last `classroom` message
    this.wantFollow = false;
    this.published = "";
    this.publishedAt = 0;
    this.shownStep = null; // the presenter's walkthrough step this follower page shows
    $("cr-follow").addEventListener("click", () => this.follow(true));
    $("cr-own").addEventListener("click", () => this.follow(false));
    $("cr-copy").addEventListener("click", () => this.copy());
    $("cr-lock").addEventListener("click", () => this.lock(!this.state?.locked));
    this.claim();
  }

  /** The presenter's address carries ?presenter=KEY: give it once, then take it out of the address bar. */
  async claim() {
    const url = new URL(window.location.href);
    const key = url.searchParams.get("presenter");
    if (!key) return;
    url.searchParams.delete("presenter");
    history.replaceState(history.state, "", url.toString());
    try {
      this.receive({ type: "classroom", ...(await postJSON("/api/classroom/present", { key })) });
    } catch (err) {
      this.toasts.show(err.message, "error", { title: "Not the presenter" });
    }
  }

  follow(on) {
    this.wantFollow = on;
    setFollowing(on);
    this.connection.reopen(websocketURL(on));
    if (!on && document.body.dataset.mode === "walkthrough") this.setMode("live");
  }

  async copy() {
    this.onCopying(1);
    try {
      const { copied } = await postJSON("/api/classroom/copy");
      this.toasts.show(copied, "success", { title: "The presenter's network is now yours" });
      if (this.wantFollow) this.follow(false);
    } catch (err) {
      this.onCopying(-1);
      this.toasts.show(err.message, "error", { title: "Could not copy" });
    }
  }

  async lock(on) {
    try {
      await postJSON("/api/classroom/lock", { locked: on });
    } catch (err) {
      this.toasts.show(err.message, "error", { title: "Could not lock" });
    }
  }

  /** A `classroom` message (or the same fields from an HTTP answer). */
  receive(msg) {
    this.state = msg;
    this.root.hidden = false;
    const following = Boolean(msg.following);
    setFollowing(following);
    document.body.classList.toggle("following", following);
    document.body.classList.toggle("locked", following && msg.locked);
    this.root.dataset.role = msg.you_present ? "presenter" : "student";
    const status = msg.you_present
      ? `You are the presenter · ${msg.followers} following`
      : following
        ? (msg.locked ? "Following the presenter — locked by the presenter" : "Following the presenter (view only)")
        : msg.presenter ? "Your own network" : "Your own network · no presenter yet";
    setText($("cr-status"), status);
    $("cr-follow").hidden = msg.you_present || following;
    $("cr-own").hidden = msg.you_present || !following;
    $("cr-own").disabled = Boolean(msg.locked);
    $("cr-follow").disabled = !msg.presenter;
    $("cr-copy").hidden = msg.you_present;
    $("cr-copy").disabled = !msg.presenter || Boolean(msg.locked);
    const lock = $("cr-lock");
    lock.hidden = !msg.you_present;
    lock.setAttribute("aria-pressed", String(Boolean(msg.locked)));
    setText(lock, msg.locked ? "Unlock the class" : "Lock the class to follow");
    if (following) this.followWalkthrough(msg.walkthrough);
    else this.shownStep = null;
  }

  /** A follower's page goes where the presenter's walkthrough is. */
  followWalkthrough(view) {
    const wt = this.walkthrough;
    if (!view || !view.open) {
      this.shownStep = null;
      if (document.body.dataset.mode === "walkthrough") this.setMode("live");
      return;
    }
    const exampleKey = JSON.stringify(view.example);
    const sameExample = this.shownStep && this.shownStep.example === exampleKey;
    this.shownStep = { example: exampleKey, step: view.step };
    if (document.body.dataset.mode !== "walkthrough") this.setMode("walkthrough");
    const go = async () => {
      if (!wt.active) return;
      if (!wt.settled) return void setTimeout(go, 50);
      if (view.example && !sameExample) {
        wt.picks = (wt.picks || 0) + 1;
        await wt.setExample(view.example, true);
      }
      if (view.step != null && this.shownStep?.step === view.step) wt.goTo(view.step);
    };
    go();
  }

  /** Every animation frame: the presenter's page publishes its walkthrough step when it changes. */
  tick(now) {
    if (!this.state?.you_present || now - this.publishedAt < PUBLISH_EVERY_MS) return;
    const wt = this.walkthrough;
    const open = wt.active && Boolean(wt.bd);
    const body = open ? { open, step: wt.index, phase: wt.phase, example: wt.example } : { open: false };
    const text = JSON.stringify(body);
    if (text === this.published) return;
    this.published = text;
    this.publishedAt = now;
    postJSON("/api/classroom/walkthrough", body).catch(() => (this.published = ""));
  }

  /** The room's state over HTTP (a page that has not had its first `classroom` message yet). */
  async refresh() {
    try {
      this.receive({ type: "classroom", ...(await getJSON("/api/classroom")) });
    } catch {
      /* not classroom mode */
    }
  }
}
