// Backprop Lab page: wires the connection, the store and the views, switches between the modes (live
// training, the walkthrough; each in its own folder, all drawing on the shared network view) and runs
// the one requestAnimationFrame loop that draws the latest state.

import { $, setText } from "./lib/dom.js";
import { fmtGrouped, fmtPct } from "./lib/format.js";
import { Checkpoints } from "./live/checkpoints.js";
import { Controls } from "./live/controls.js";
import { CostChart } from "./live/cost-chart.js";
import { DescentView } from "./descent/descent.js";
import { LookBack } from "./history/lookback.js";
import { Scrubber } from "./history/scrubber.js";
import { Counters } from "./live/counters.js";
import { DigitLab } from "./live/digit-lab.js";
import { NetworkEditor } from "./live/editor.js";
import { Pace } from "./live/pace.js";
import { PredictionPanel } from "./live/prediction.js";
import { websocketURL } from "./net/api.js";
import { Connection } from "./net/connection.js";
import { NetworkPanel } from "./network/panel.js";
import { NeuronInspector, NeuronTooltip } from "./network/readouts.js";
import { NetworkView } from "./network/view.js";
import { DatasetPicker } from "./plane/dataset-picker.js";
import { PlaneMaps } from "./plane/paint.js";
import { PlaneView } from "./plane/plane-view.js";
import { ClassroomBar } from "./screen/classroom.js";
import { LinkOpener } from "./screen/open-link.js";
import { PRESENT_CANVAS_ZOOM, Presentation } from "./screen/present.js";
import { ShareButton } from "./screen/share.js";
import { Store } from "./state/store.js";
import { Walkthrough } from "./walkthrough/walkthrough.js";
import { PicturePicker } from "./widgets/picture-picker.js";
import { FieldErrors, Toasts } from "./widgets/toasts.js";

const store = new Store();
const toasts = new Toasts();
const fieldErrors = new FieldErrors();
const showError = (where, message) => fieldErrors.show(where, message);

// ----- connection --------------------------------------------------------------------------------
const badge = $("connection");
const banner = $("conn-banner");
const bannerText = $("conn-banner-text");
const BADGE_TEXT = { connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", disconnected: "disconnected", refused: "refused" };
const REFUSED_TEXT = "This server restarted with a new address or token — open the new link from the teacher.";
let lastOrigin = {}; // request type → the control that sent it, for placing `error` replies

// The summary stream (docs/protocol.md, "Detail levels"): what the view draws, within a byte budget;
// `?budget=BYTES` in the page's address asks for another budget (the server refuses one past its limit),
// `?detail=full` for every weight in every frame (the stream before budgets: for comparisons).
const pageQuery = new URLSearchParams(location.search);
let neuronsAsked = 0; // the most neurons of a layer this tab asked the server for
function streamURL() {
  const follow = classroom?.wantFollow ? { follow: 1 } : {}; // classroom mode: this page asked to follow the presenter
  if (pageQuery.get("detail") === "full") return websocketURL({ detail: "full", ...follow });
  neuronsAsked = networkView.neuronsWanted();
  const params = { detail: "summary", neurons: neuronsAsked, ...follow };
  if (pageQuery.get("budget")) params.budget = pageQuery.get("budget");
  return websocketURL(params);
}
const connection = new Connection(streamURL, {
  onMessage: receive,
  onStatus(status) {
    badge.dataset.state = status;
    setText(badge, BADGE_TEXT[status] || status);
    banner.hidden = status === "connected" || status === "connecting";
    document.body.classList.toggle("offline", status !== "connected");
    $("reconnect-now").hidden = status === "refused"; // it would only be refused again
    if (status === "refused") setText(bannerText, REFUSED_TEXT);
  },
});
$("reconnect-now").addEventListener("click", () => connection.retryNow());

// Changes of the network this tab asked for and not yet heard back about: an `event` `reset` or
// `loaded` beyond these was made by someone else (another tab, another person), and says so.
const ownChanges = { reset: 0, loaded: 0 };

function send(message, origin) {
  lastOrigin[message.type] = origin;
  if (connection.send(message)) {
    if (message.type === "reset") ownChanges.reset++;
    return true;
  }
  showError(origin, "Not connected to the training server — waiting to reconnect.");
  return false;
}

// ----- views -------------------------------------------------------------------------------------
const networkView = new NetworkView($("network-view"), $("network-wrap"), store);
const chart = new CostChart($("cost-chart"), $("cost-chart").parentElement, store);
const tooltip = new NeuronTooltip($("neuron-tooltip"), $("network-wrap"), store, networkView);
const inspector = new NeuronInspector($("inspector"), store, () => networkView.setPinned(null));
const controls = new Controls(store, send, showError);
const pace = new Pace(store, send, showError);
const editor = new NetworkEditor(store, send, showError);
const checkpoints = new Checkpoints({ onLoading: (n) => (ownChanges.loaded += n) });
const counters = new Counters(store);
const predictionPanel = new PredictionPanel();
const digitLab = new DigitLab(store, send, predictionPanel, showError, toasts);
// Datasets and the plane (static/js/plane/): the picker in the editor, the maps, the plane view.
fieldErrors.nodes.plane = $("err-plane");
editor.picker = new DatasetPicker(store, { select: $("dataset"), options: $("dataset-options"), note: $("dataset-note") });
editor.picker.load();
const planeMaps = new PlaneMaps(store);
networkView.setPlaneMaps(planeMaps);
const planeView = new PlaneView(store, send, planeMaps, { showError, toasts });
const networkPanel = new NetworkPanel(store, networkView, () => {
  planeView.follow();
  digitLab.follow();
});
const scrubber = new Scrubber({ root: $("history-bar"), store, networkView, chart, toasts });
checkpoints.snapshotInfo = () => ({ count: scrubber.snapshots.length, sizes: store.sizes });
scrubber.onList = () => checkpoints.details.open && checkpoints.showHistorySize();
const walkthrough = new Walkthrough({ store, networkView, onExit: () => setMode("live"), send });
const presentation = new Presentation({
  onChange(on) {
    networkView.setZoom(on ? PRESENT_CANVAS_ZOOM : 1);
    chart.setZoom(on ? PRESENT_CANVAS_ZOOM : 1);
  },
});
networkView.on("hover", (target) => tooltip.setTarget(target));
networkView.on("pin", (target) => {
  if (walkthrough.active) return walkthrough.select(target); // a click picks the walkthrough's neuron
  inspector.setTarget(target);
  tooltip.setTarget(null);
});

// ----- modes: live training ↔ backprop walkthrough -------------------------------------------------
// Each mode beside live training has enter() and leave(); the live panels stay wired all the time.
const descent = new DescentView({ root: $("descent-view"), store, toasts });
const MODES = { walkthrough, descent };
const modeButtons = [...document.querySelectorAll("#mode-switch .mode")];
function setMode(mode) {
  const previous = document.body.dataset.mode;
  if (previous === mode) return;
  document.body.dataset.mode = mode;
  for (const b of modeButtons) {
    b.classList.toggle("active", b.dataset.mode === mode);
    b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  }
  tooltip.setTarget(null);
  if (scrubber.active) scrubber.backToNow(); // every mode starts from the network as it is now
  MODES[previous]?.leave();
  MODES[mode]?.enter();
}
for (const b of modeButtons) b.addEventListener("click", () => setMode(b.dataset.mode));

// ----- looking back: diagnostics, confusion matrix, export (static/js/history/) ----------------------
/** Open the walkthrough and, once it has settled, run `then` (the walkthrough's own example pick loses). */
function inWalkthrough(then) {
  setMode("walkthrough");
  const go = () => {
    if (!walkthrough.active) return;
    if (!walkthrough.settled) return void setTimeout(go, 50);
    then();
  };
  go();
}
/** Open the walkthrough on `example` ({source, label, index, request}) once it has settled. */
function walkThrough(example) {
  inWalkthrough(() => {
    walkthrough.picks = (walkthrough.picks || 0) + 1;
    walkthrough.setExample(example);
  });
}
// the notes' simple example on the live page: its chain, in the walkthrough
$("scalar-walk").addEventListener("click", () => inWalkthrough(() => walkthrough.preset()));
// PNG of any view: the header's "PNG", then a click on the view (or the Look back drawer's export list).
const liveViews = [document.querySelector(".panel.network"), document.querySelector(".panel.chart")];
const pictures = new PicturePicker({
  button: $("picture-toggle"),
  toasts,
  iterationOf(view) {
    const now = store.state?.iteration ?? null;
    if (scrubber.active && liveViews.some((v) => v === view)) {
      return { iteration: scrubber.current.snap.iteration, note: `looking back; now ${fmtGrouped(now ?? 0)}` };
    }
    if (view.dataset.testid === "lb-confusion" && lookback.confusion) return { iteration: lookback.confusion.iteration };
    return { iteration: now };
  },
});
const lookback = new LookBack({ store, scrubber, chart, toasts, walkThrough, pictures,
  views: [["network", "The network", liveViews[0]], ["curve", "The descent curve", liveViews[1]],
    ["draw", "Draw a digit / the plane", document.querySelector(".panel.draw")]] });
$("log-scale").addEventListener("change", (e) => chart.setLog(e.target.checked));

// ----- messages ----------------------------------------------------------------------------------
const EVENT_STYLE = { diverged: "warning", epoch: "success", reset: "info", loaded: "info", restored: "info" };

function receive(msg) {
  const { header } = msg;
  switch (header.type) {
    case "hello":
      store.applyHello(msg);
      neuronsAsked = header.stream?.neurons ?? neuronsAsked;
      networkView.setPinned(null);
      editor.fill();
      predictionPanel.setNames(store.classNames);
      digitLab.resync();
      counters.update(0, true);
      counters.showSizes();
      break;
    case "frame":
      store.applyFrame(msg);
      break;
    case "prediction":
      if (planeView.owns(header)) planeView.receive(header);
      else digitLab.receive(header);
      break;
    case "event":
      onEvent(header);
      break;
    case "error": {
      if (["play", "pause", "step"].includes(header.request)) controls.forgetExpected();
      if (header.request === "reset") ownChanges.reset = Math.max(0, ownChanges.reset - 1); // refused: no event comes
      const origin = header.request === "set_params" ? lastOrigin.set_params : lastOrigin[header.request];
      if (origin === "link") {
        linkOpener.onReply(header); // the link opener says why, beside what it was doing
        break;
      }
      if (!origin || !showError(origin, header.message)) toasts.show(header.message, "error", { title: "The server refused that" });
      break;
    }
    case "classroom":
      classroom.receive(header);
      break;
    case "ack":
      if (lastOrigin[header.request] === "link") linkOpener.onReply(header);
      else if (lastOrigin[header.request]) showError(lastOrigin[header.request], null);
      break;
    default:
      break;
  }
}

const eventBanner = $("event-banner");
const restoreButton = $("event-banner-restore");
$("event-banner-close").addEventListener("click", () => (eventBanner.hidden = true));
restoreButton.addEventListener("click", () => {
  connection.send({ type: "restore_good" });
  eventBanner.hidden = true;
});
const BANNER_TITLES = { diverged: "Training diverged.", stalled: "The network stopped learning." };

function onEvent(event) {
  if (event.kind === "params") return; // visible in the controls and as chart markers
  if (event.kind in BANNER_TITLES) {
    controls.forgetExpected();
    // Training stopped by itself: say so where it cannot be missed, until dismissed.
    setText($("event-banner-title"), BANNER_TITLES[event.kind]);
    setText($("event-banner-text"), event.message);
    restoreButton.hidden = event.kind !== "stalled";
    if (event.kind === "stalled") {
      restoreButton.textContent = event.good_accuracy != null
        ? `Restore the best weights (${fmtPct(event.good_accuracy)} at iteration ${fmtGrouped(event.good_iteration)})`
        : `Restore the weights of iteration ${fmtGrouped(event.good_iteration)}`;
    }
    eventBanner.hidden = false;
    return;
  }
  if (event.kind === "reset" || event.kind === "loaded" || event.kind === "restored") eventBanner.hidden = true;
  if (event.kind === "loaded") checkpoints.onLoaded();
  if (event.kind === "epoch") {
    // At full speed an epoch ends every few seconds: a flash on the counter, not a stream of toasts.
    counters.flashEpoch(event.message);
    return;
  }
  const kind = EVENT_STYLE[event.kind] || "info";
  const titles = { epoch: "Epoch finished", reset: "New network", loaded: "Checkpoint loaded", restored: "Weights restored" };
  if (event.kind in ownChanges) {
    // the session is shared: say when someone else replaced the network this tab was looking at
    if (ownChanges[event.kind] > 0) ownChanges[event.kind]--;
    else titles[event.kind] = event.kind === "reset" ? "Someone else made a new network" : "Someone else loaded a checkpoint";
  }
  toasts.show(event.message, kind, { sticky: event.kind === "diverged", title: titles[event.kind] || null, timeout: 4500, key: event.kind });
}

// ----- the animation loop ------------------------------------------------------------------------
const frameTimes = new Float64Array(600);
const workTimes = new Float64Array(600);
let frameCount = 0;
let lastTick = 0;

function tick(now) {
  if (lastTick) frameTimes[frameCount++ % frameTimes.length] = now - lastTick;
  lastTick = now;
  const t0 = performance.now();
  controls.sync();
  pace.sync();
  editor.fill();
  counters.update(now);
  networkPanel.update();
  networkView.draw(now);
  const wanted = networkView.neuronsWanted();
  if (store.summary && wanted !== neuronsAsked && connection.connected) {
    neuronsAsked = wanted; // a bigger or smaller view (resized, presentation mode): as many neurons as it shows
    connection.send({ type: "stream", neurons: wanted });
  }
  chart.draw(now);
  scrubber.tick(now);
  lookback.tick(now);
  descent.tick(now);
  tooltip.update();
  inspector.update(now);
  digitLab.tick(now);
  planeView.tick(now);
  checkpoints.tick(now);
  walkthrough.tick(now);
  classroom.tick(now);
  if (!banner.hidden && connection.closeCode >= 4000 && connection.closeCode < 4100 && connection.closeReason) {
    // classroom mode: the reason is written for the visitor ("the room is full", "reload the page"...)
    setText(bannerText, `${connection.closeReason[0].toUpperCase()}${connection.closeReason.slice(1)}.`);
  } else if (!banner.hidden && connection.status !== "refused" && connection.retryAt) {
    const s = Math.max(0, Math.ceil((connection.retryAt - now) / 1000));
    const text = s > 0 ? `Connection to the training server lost — reconnecting in ${s} s…` : "Connection to the training server lost — reconnecting…";
    // Still unreachable after a few tries: it may have moved (a new address) rather than stopped.
    setText(bannerText, connection.failures > 3 ? `${text} If the server was started again elsewhere, open the new link from the teacher.` : text);
  }
  workTimes[frameCount % workTimes.length] = performance.now() - t0;
  requestAnimationFrame(tick);
}

/** Frame-interval statistics over the last `n` animation frames (for the smoothness check). */
function fps(n = 120) {
  const count = Math.min(n, frameCount, frameTimes.length);
  const intervals = [];
  for (let i = 1; i <= count; i++) intervals.push(frameTimes[(frameCount - i + frameTimes.length) % frameTimes.length]);
  intervals.sort((a, b) => a - b);
  const mean = intervals.reduce((a, b) => a + b, 0) / Math.max(1, count);
  let work = 0;
  for (let i = 1; i <= count; i++) work += workTimes[(frameCount - i + workTimes.length) % workTimes.length];
  return {
    frames: count,
    fps: mean ? 1000 / mean : 0,
    p95: intervals[Math.floor(count * 0.95)] || 0,
    worst: intervals[count - 1] || 0,
    workMs: work / Math.max(1, count), // time this page's own drawing takes per animation frame
  };
}

// ----- lessons: the Share button and the links it writes (static/js/screen/) ----------------------
const share = new ShareButton({
  store,
  view: () => ({
    mode: document.body.dataset.mode,
    phase: walkthrough.active ? walkthrough.phase : null,
    present: presentation.on,
  }),
});
const linkOpener = new LinkOpener({
  store, send, toasts, setMode, walkthrough, presentation,
  ready: () => connection.connected && store.ready,
});

// ----- classroom mode: follow, copy, the presenter's lock (static/js/screen/classroom.js) -------------
const classroom = new ClassroomBar({ connection, walkthrough, setMode, toasts, onCopying: (n) => (ownChanges.loaded += n) });

// Debug/test hooks.
window.__lab = { store, scrubber, lookback, pictures, descent, chart, networkView, connection, digitLab, walkthrough, presentation, fps, send, planeMaps, planeView, share, linkOpener, ownChanges, classroom, inspector, tooltip };

connection.connect();
requestAnimationFrame(tick);
linkOpener.openFromAddress();
