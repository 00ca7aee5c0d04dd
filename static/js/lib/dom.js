// Tiny DOM helpers: elements are built with textContent only (never innerHTML with data).

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Set text only when it changed (avoids needless layout work in the animation loop). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Device pixels per CSS pixel for canvases: the screen's devicePixelRatio (up to 3, a phone's). */
export function pixelRatio() {
  return Math.min(Math.max(window.devicePixelRatio || 1, 1), 3);
}

/** Keep a canvas's backing store matched to its CSS size × devicePixelRatio; true when it changed. */
export function fitCanvas(canvas, cssWidth, cssHeight) {
  const dpr = pixelRatio();
  const w = Math.max(1, Math.round(cssWidth * dpr));
  const h = Math.max(1, Math.round(cssHeight * dpr));
  if (canvas.width === w && canvas.height === h) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}

/** Watch an element's content-box size; calls back with (width, height) in CSS pixels. */
export function observeSize(element, callback) {
  const ro = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const box = entry.contentRect;
      callback(box.width, box.height);
    }
  });
  ro.observe(element);
  return ro;
}

/** Is keyboard focus in something that uses the keys itself (text fields, sliders, selects, a dialog)? */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.closest("dialog")) return true; // a modal dialog owns the keys
  const tag = target.tagName;
  return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
}
