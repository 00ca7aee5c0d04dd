// The drawing pad: pointer events (mouse, pen, touch), strokes at MNIST-like thickness, and a
// downsampled copy of the ink that is small enough for one websocket message.

const PAD = 336; // backing-store pixels (12 per MNIST pixel)
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
    this.hasInk = false;
    this.mode = "empty"; // "empty" | "drawing" | "example"
    this.sample = document.createElement("canvas");
    this.sample.width = SAMPLE;
    this.sample.height = SAMPLE;
    this.sampleCtx = this.sample.getContext("2d", { willReadFrequently: true });
    canvas.width = PAD;
    canvas.height = PAD;
    this.clear();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  clear() {
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, PAD, PAD);
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
    this.ctx.imageSmoothingEnabled = false;
    this.ctx.drawImage(small, 0, 0, PAD, PAD);
    this.ctx.imageSmoothingEnabled = true;
    this.hasInk = true;
    this.mode = "example";
    this.canvas.dataset.state = "example";
  }

  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * PAD, y: ((e.clientY - rect.top) / rect.height) * PAD };
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
    this.canvas.setPointerCapture?.(e.pointerId);
    this.last = this.point(e);
    this.dot(this.last);
    this.onStroke?.();
  }

  move(e) {
    if (this.pointer !== e.pointerId) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) this.lineTo(this.point(ev));
    this.onStroke?.();
  }

  up(e) {
    if (this.pointer !== e.pointerId) return;
    this.pointer = null;
    this.last = null;
    this.canvas.releasePointerCapture?.(e.pointerId);
    this.onStrokeEnd?.();
  }

  dot(p) {
    const ctx = this.ctx;
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(p.x, p.y, STROKE / 2, 0, Math.PI * 2);
    ctx.fill();
    this.hasInk = true;
  }

  lineTo(p) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = STROKE;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(this.last.x, this.last.y);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    this.last = p;
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
