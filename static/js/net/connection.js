// The websocket to the training server: decodes messages, reconnects with jittered exponential backoff.

import { decodeEnvelope } from "./envelope.js";

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
/** Close code: this server does not take the page's token (it restarted with a new one). Final. */
export const TOKEN_REFUSED = 4401;

export class Connection {
  /**
   * @param {string | (() => string)} url websocket URL (a function: asked again at each reconnection)
   * @param {{onMessage(msg): void, onStatus(status, info): void}} handlers
   *   status: "connecting" | "connected" | "reconnecting" | "disconnected" | "refused" (final: the
   *   server refused this page's token, so retrying is pointless)
   */
  constructor(url, { onMessage, onStatus }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.socket = null;
    this.attempt = 0;
    this.timer = null;
    this.retryAt = 0;
    this.everConnected = false;
    this.attempts = 0; // connections tried since the page opened
    this.failures = 0; // failed in a row (the banner adds advice after a few)
    this.status = "connecting";
  }

  get connected() {
    return this.socket != null && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.socket || this.status === "refused") return;
    this.attempts++;
    this.setStatus(this.everConnected ? "reconnecting" : "connecting");
    let socket;
    try {
      socket = new WebSocket(typeof this.url === "function" ? this.url() : this.url);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.failures = 0;
      this.everConnected = true;
      this.setStatus("connected");
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === TOKEN_REFUSED) return this.refuse(event);
      this.scheduleRetry(event);
    };
    socket.onerror = () => {
      /* a close event follows; nothing to log (keeps the console clean) */
    };
  }

  receive(data) {
    let msg;
    try {
      if (typeof data === "string") {
        msg = { header: JSON.parse(data), arrays: {}, shapes: {} };
      } else {
        msg = decodeEnvelope(data);
      }
    } catch (err) {
      console.warn("Backprop Lab: undecodable message", err);
      return;
    }
    this.onMessage(msg);
  }

  /** The server will never take this page's token: stop, and say so (no endless reconnecting). */
  refuse(closeEvent) {
    this.closeCode = closeEvent.code;
    this.retryAt = 0;
    this.setStatus("refused", { code: closeEvent.code, reason: closeEvent.reason });
  }

  scheduleRetry(closeEvent) {
    // Exponential backoff with full jitter: 0.5 s, 1 s, 2 s, … up to 10 s, each × a random 0.5–1.5.
    const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.5 + Math.random()));
    this.attempt++;
    this.failures++;
    this.retryAt = performance.now() + delay;
    this.closeCode = closeEvent?.code ?? null;
    this.closeReason = closeEvent?.reason || "";
    this.setStatus(this.everConnected ? "reconnecting" : "disconnected", { delay, code: this.closeCode });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Connect to `url` instead, right away (classroom mode: follow the presenter, or back). */
  /** Close and connect again, to `url` (omitted: the same, asked again when it is a function). */
  reopen(url = this.url) {
    this.url = url;
    const old = this.socket;
    this.socket = null; // its close event is not a failure to retry
    if (old) old.close(1000, "switching session");
    this.attempt = 0;
    this.connect();
  }

  /** Reconnect right away (the banner's "retry now"). */
  retryNow() {
    if (this.socket || this.status === "refused") return;
    this.attempt = 0;
    this.connect();
  }

  /** Send a JSON command; false when not connected. */
  send(message) {
    if (!this.connected) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  setStatus(status, info = {}) {
    this.status = status;
    this.onStatus(status, info);
  }
}
