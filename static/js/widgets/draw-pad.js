// The drawing pad: pointer events (mouse, pen, touch; the page never scrolls while drawing), strokes
// at MNIST-like thickness, sharp at any size and devicePixelRatio (the strokes are kept and redrawn
// when the pad is resized or the screen rotates), and a downsampled copy of the ink that is small
// enough for one websocket message.

import { pixelRatio } from "../lib/dom.js";

const PAD = 336; // drawing units across the pad (12 per MNIST pixel), whatever its size on screen
const SAMPLE = 84; // what is sent: 84×84 = 7056 values, < 64 KiB as JSON
const STROKE = 26;

export class DrawPad {
  constructor(canvas, { onStroke, onStrokeEnd, onBegin }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onStroke = onStroke;
    this.onStrokeEnd = onStrokeEnd;
    this.onBegin = onBegin;
    this.pointer = null;
    this.last = null;
    this.strokes = []; // every stroke drawn since the last clear, in drawing units: [[x, y], …]
    this.image = null; // or the 28×28 example shown
    this.hasInk = false;
    this.mode = "empty"; // "empty" | "drawing" | "example"
    this.sample = document.createElement("canvas");
    this.sample.width = SAMPLE;
    this.sample.height = SAMPLE;
    this.sampleCtx = this.sample.getContext("2d", { willReadFrequently: true });
    canvas.width = PAD;
    canvas.height = PAD;
    canvas.style.touchAction = "none"; // a finger draws here; it does not scroll or zoom the page
    this.clear();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
    canvas.addEventListener("lostpointercapture", (e) => this.up(e));
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    // Browsers without touch-action still scroll on touchmove unless told not to.
    canvas.addEventListener("touchmove", (e) => this.pointer != null && e.cancelable && e.preventDefault(), { passive: false });
    new ResizeObserver(() => this.fit()).observe(canvas);
    window.addEventListener("resize", () => this.fit()); // devicePixelRatio changes (zoom, another screen)
  }

  /** Backing store = the pad's size on screen × devicePixelRatio; the ink is redrawn at the new size. */
  fit() {
    const rect = this.canvas.getBoundingClientRect();
    const css = this.canvas.clientWidth; // without the border
    if (!rect.width || !css) return;
    const zoom = rect.width / this.canvas.offsetWidth; // a CSS zoom around the pad (presentation mode)
    const size = Math.max(SAMPLE, Math.round(css * zoom * pixelRatio()));
    if (size === this.canvas.width && size === this.canvas.height) return;
    this.canvas.width = size;
    this.canvas.height = size;
    this.repaint();
  }

  /** Drawing units → backing pixels. */
  units() {
    const k = this.canvas.width / PAD;
    this.ctx.setTransform(k, 0, 0, k, 0, 0);
  }

  repaint() {
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.units();
    if (this.image) {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.image, 0, 0, PAD, PAD);
      ctx.imageSmoothingEnabled = true;
    }
    for (const stroke of this.strokes) {
      this.ink(stroke[0], stroke[0]);
      for (let i = 1; i < stroke.length; i++) this.ink(stroke[i - 1], stroke[i]);
    }
  }

  clear() {
    this.strokes = [];
    this.image = null;
    this.repaint();
    this.hasInk = false;
    this.mode = "empty";
    this.canvas.dataset.state = "empty";
  }

  /** Show a 28×28 image (a test example) on the pad. */
  showImage(pixels) {
    const small = document.createElement("canvas");
    small.width = 28;
    small.height = 28;
    const sctx = small.getContext("2d");
    const image = sctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const g = Math.max(0, Math.min(255, Math.round(pixels[i] * 255)));
      image.data.set([g, g, g, 255], i * 4);
    }
    sctx.putImageData(image, 0, 0);
    this.clear();
    this.image = small;
    this.repaint();
    this.hasInk = true;
    this.mode = "example";
    this.canvas.dataset.state = "example";
  }

  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [((e.clientX - rect.left) / rect.width) * PAD, ((e.clientY - rect.top) / rect.height) * PAD];
  }

  down(e) {
    if (e.button !== undefined && e.button !== 0 && e.pointerType === "mouse") return;
    e.preventDefault();
    if (this.mode !== "drawing") {
      this.clear();
      this.onBegin?.();
    }
    this.mode = "drawing";
    this.canvas.dataset.state = "drawing";
    this.pointer = e.pointerId;
    try {
      this.canvas.setPointerCapture?.(e.pointerId);
    } catch {
      // a synthetic or already-released pointer: drawing works without the capture
    }
    this.fit();
    this.last = this.point(e);
    this.strokes.push([this.last]);
    this.units();
    this.ink(this.last, this.last);
    this.onStroke?.();
  }

  move(e) {
    if (this.pointer !== e.pointerId) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    const stroke = this.strokes[this.strokes.length - 1];
    this.units();
    for (const ev of events.length ? events : [e]) {
      const p = this.point(ev);
      this.ink(this.last, p);
      stroke.push(p);
      this.last = p;
    }
    this.onStroke?.();
  }

  up(e) {
    if (this.pointer !== e.pointerId) return;
    this.pointer = null;
    this.last = null;
    if (this.canvas.hasPointerCapture?.(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    this.onStrokeEnd?.();
  }

  /** A round-capped segment from a to b (a dot when a = b), in drawing units. */
  ink(a, b) {
    const ctx = this.ctx;
    if (a === b || (a[0] === b[0] && a[1] === b[1])) {
      ctx.fillStyle = "#fff";
      ctx.beginPath();
      ctx.arc(a[0], a[1], STROKE / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = STROKE;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    }
    this.hasInk = true;
  }

  /** The ink as {width, height, pixels} (0..1, row-major), area-averaged down to 84×84. */
  snapshot() {
    const ctx = this.sampleCtx;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    ctx.clearRect(0, 0, SAMPLE, SAMPLE);
    ctx.drawImage(this.canvas, 0, 0, SAMPLE, SAMPLE);
    const data = ctx.getImageData(0, 0, SAMPLE, SAMPLE).data;
    const pixels = new Array(SAMPLE * SAMPLE);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round((data[i * 4] / 255) * 100) / 100;
    return { width: SAMPLE, height: SAMPLE, pixels };
  }
}
