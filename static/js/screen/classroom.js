// The classroom bar (classroom mode only; docs/protocol.md, "The presenter"): a student follows the
// presenter (a read-only view of their session, their walkthrough step included), goes back to their own
// network, or copies the presenter's; the presenter sees how many follow and locks the class to follow.

import { $, setText } from "../lib/dom.js";
import { getJSON, postJSON, setFollowing } from "../net/api.js";

const PUBLISH_EVERY_MS = 250; // the presenter's walkthrough step, at most this often
const MAX_EXAMPLE_BYTES = 32 * 1024; // server/web/routes/presenter.py: the walked example, as JSON

/** The shortest number that is the same float32 as x (0.5647059, not 0.5647059082984924). */
function float32Text(x) {
  const f = Math.fround(x);
  for (let digits = 1; digits < 9; digits++) {
    const t = Number(f.toPrecision(digits));
    if (Math.fround(t) === f) return t;
  }
  return Number(f.toPrecision(9));
}

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

  /** The presenter's address carries ?presenter=KEY: give it once, then take it out of the address bar;
   *  so too the cookie's redirect marker (?cookies=1: the server answers an address that carries it, in a
   *  browser without the cookie, with "This page needs a cookie"; copied or shared, it would). */
  async claim() {
    const url = new URL(window.location.href);
    const key = url.searchParams.get("presenter");
    if (!key && !url.searchParams.has("cookies")) return;
    url.searchParams.delete("presenter");
    url.searchParams.delete("cookies");
    history.replaceState(history.state, "", url.toString());
    if (!key) return;
    try {
      this.receive({ type: "classroom", ...(await postJSON("/api/classroom/present", { key })) });
    } catch (err) {
      this.toasts.show(err.message, "error", { title: "Not the presenter" });
    }
  }

  follow(on) {
    this.wantFollow = on;
    setFollowing(on);
    this.connection.reopen(); // (its URL asks for follow=1 while wantFollow: main.js's streamURL)
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
    setFollowing(following, msg.locked);
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
    else this.shownStep = this.walked = null;
  }

  /** A follower's page goes where the presenter's walkthrough is. Steps arrive faster than an example
   *  loads: each is queued behind the last, and each goes to the newest step once its example is shown. */
  followWalkthrough(view) {
    if (!view || !view.open) {
      this.shownStep = null;
      this.walked = null;
      if (document.body.dataset.mode === "walkthrough") this.setMode("live");
      return;
    }
    this.shownStep = { example: JSON.stringify(view.example), step: view.step, view };
    if (document.body.dataset.mode !== "walkthrough") this.setMode("walkthrough");
    this.moving = (this.moving || Promise.resolve()).then(() => this.catchUp()).catch(() => {});
  }

  async catchUp() {
    const wt = this.walkthrough;
    while (wt.active && !wt.settled) await new Promise((resolve) => setTimeout(resolve, 50));
    const want = this.shownStep;
    if (!want || !wt.active) return;
    const shown = this.walked && this.walked.object === wt.example && this.walked.key === want.example;
    if (want.view.example && !shown) {
      wt.picks = (wt.picks || 0) + 1; // the walkthrough's own pick of an example loses
      this.walked = { key: want.example, object: want.view.example };
      await wt.setExample(want.view.example, true);
    }
    const now = this.shownStep; // the newest step, which may have come while the example loaded
    // (no example: the presenter's was too big to send; the step still is where they are)
    if (now && now.step != null && (!now.view.example || now.example === this.walked?.key)) wt.goTo(now.step);
  }

  /** Every animation frame: the presenter's page publishes its walkthrough step when it changes. A drawing
   *  goes as the network's inputs once the server has made them (not as drawn: 84×84 values), each at
   *  float32 precision and no more; an example still over MAX_EXAMPLE_BYTES goes without it (the presenter
   *  is told, once), and a refusal is said once rather than retried. */
  tick(now) {
    if (!this.state?.you_present || now - this.publishedAt < PUBLISH_EVERY_MS) return;
    const wt = this.walkthrough;
    const open = wt.active && Boolean(wt.bd);
    if (open && wt.example?.request?.image) return; // being made into the network's inputs: a moment
    const example = open ? this.compact(wt.example) : null;
    let body = open ? { open, step: wt.index, phase: wt.phase, example } : { open: false };
    const text = JSON.stringify(body);
    if (text === this.published || text === this.refused) return;
    this.publishedAt = now;
    if (example && JSON.stringify(example).length > MAX_EXAMPLE_BYTES) {
      this.warnOnce(`tooBig:${example.source}:${example.index}:${example.label}`, `This example is ${Math.ceil(JSON.stringify(example).length / 1024)} KiB, over the ${MAX_EXAMPLE_BYTES / 1024} KiB a step can carry: your followers go to your step, but stay on their own example.`);
      body = { ...body, example: null };
    }
    this.published = text;
    postJSON("/api/classroom/walkthrough", body).catch((err) => {
      if (err.status === 422) {
        this.refused = text; // the same again would be refused again
        this.warnOnce(`refused:${err.message}`, err.message);
      }
      this.published = "";
    });
  }

  /** The example as followers need it: pixels at float32 precision (their backprop gets the same numbers). */
  compact(example) {
    const pixels = example?.request?.pixels;
    if (!pixels) return example ?? null;
    if (this.compacted?.from === example && this.compacted.pixels === pixels) return this.compacted.to;
    const to = { ...example, request: { ...example.request, pixels: Array.from(pixels, float32Text) } };
    this.compacted = { from: example, pixels, to };
    return to;
  }

  warnOnce(key, message) {
    if (this.warned === key) return;
    this.warned = key;
    this.toasts.show(message, "error", { title: "Followers do not see this example" });
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
