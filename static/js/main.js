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
import { PRESENT_CANVAS_ZOOM, Presentation } from "./screen/present.js";
import { Store } from "./state/store.js";
import { Walkthrough } from "./walkthrough/walkthrough.js";
import { FieldErrors, Toasts } from "./widgets/toasts.js";

const store = new Store();
const toasts = new Toasts();
const fieldErrors = new FieldErrors();
const showError = (where, message) => fieldErrors.show(where, message);

// ----- connection --------------------------------------------------------------------------------
const badge = $("connection");
const banner = $("conn-banner");
const bannerText = $("conn-banner-text");
const BADGE_TEXT = { connecting: "connecting…", connected: "connected", reconnecting: "reconnecting…", disconnected: "disconnected" };
let lastOrigin = {}; // request type → the control that sent it, for placing `error` replies

// The summary stream (docs/protocol.md, "Detail levels"): what the view draws, within a byte budget;
// `?budget=BYTES` in the page's address asks for another budget (the server refuses one past its limit),
// `?detail=full` for every weight in every frame (the stream before budgets: for comparisons).
const pageQuery = new URLSearchParams(location.search);
let neuronsAsked = 0; // the most neurons of a layer this tab asked the server for
function streamURL() {
  if (pageQuery.get("detail") === "full") return websocketURL({ detail: "full" });
  neuronsAsked = networkView.neuronsWanted();
  const params = { detail: "summary", neurons: neuronsAsked };
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
  },
});
$("reconnect-now").addEventListener("click", () => connection.retryNow());

function send(message, origin) {
  lastOrigin[message.type] = origin;
  if (connection.send(message)) return true;
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
const checkpoints = new Checkpoints();
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
const walkthrough = new Walkthrough({ store, networkView, onExit: () => setMode("live") });
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
/** Open the walkthrough on `example` ({source, label, index, request}) once it has settled. */
function walkThrough(example) {
  setMode("walkthrough");
  const go = () => {
    if (!walkthrough.active) return;
    if (!walkthrough.settled) return void setTimeout(go, 50);
    walkthrough.picks = (walkthrough.picks || 0) + 1;
    walkthrough.setExample(example);
  };
  go();
}
const lookback = new LookBack({ store, scrubber, chart, toasts, walkThrough,
  canvases: { network: { toBlob: (done, type) => networkView.composite().toBlob(done, type) }, "descent curve": $("cost-chart"), "draw pad": $("draw-pad") } });
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
      const origin = header.request === "set_params" ? lastOrigin.set_params : lastOrigin[header.request];
      if (!origin || !showError(origin, header.message)) toasts.show(header.message, "error", { title: "The server refused that" });
      break;
    }
    case "ack":
      if (lastOrigin[header.request]) showError(lastOrigin[header.request], null);
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
        ? `Restore the best weights (${fmtPct(event.good_accuracy)} at iteration ${fmtGrouped(event.good_iteration, ",")})`
        : `Restore the weights of iteration ${fmtGrouped(event.good_iteration, ",")}`;
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
  if (!banner.hidden && connection.closeCode === 1008) {
    setText(bannerText, "The server refused this page (host, origin or token). Open the exact URL the server printed.");
  } else if (!banner.hidden && connection.retryAt) {
    const s = Math.max(0, Math.ceil((connection.retryAt - now) / 1000));
    setText(bannerText, s > 0 ? `Connection to the training server lost — reconnecting in ${s} s…` : "Connection to the training server lost — reconnecting…");
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

// Debug/test hooks.
window.__lab = { store, scrubber, lookback, descent, chart, networkView, connection, digitLab, walkthrough, presentation, fps, send, planeMaps, planeView, inspector, tooltip };

connection.connect();
requestAnimationFrame(tick);
