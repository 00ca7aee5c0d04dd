// Any part of the page as a picture (issue 13 §5: "PNG of any view … on a slide in two clicks"): its
// canvases, text, tables and controls as they look now, in one opaque PNG with a caption line.
//
// The element is copied with its computed styles written inline (only those that differ from a bare
// element of the same tag; ::before/::after become spans, canvases become images of their pixels,
// form fields keep their values) and drawn through an SVG <foreignObject>. Where a browser will not
// let such a drawing be read back (it taints the canvas), the element's canvases are stacked instead.

const XHTML = "http://www.w3.org/1999/xhtml";
const SVG = "http://www.w3.org/2000/svg";
const SKIP = new Set(["SCRIPT", "STYLE", "LINK", "TEMPLATE", "NOSCRIPT"]);
const FOOTER_PX = 22;

let sandbox = null;
const defaults = new Map(); // tag → its computed style in a blank document

/** The computed style of a bare `tag` in an empty same-origin iframe (no page CSS). */
function defaultStyle(tag) {
  if (!defaults.has(tag)) {
    if (!sandbox) {
      sandbox = document.createElement("iframe");
      sandbox.title = "blank page (to read default styles)";
      sandbox.setAttribute("aria-hidden", "true");
      sandbox.tabIndex = -1;
      Object.assign(sandbox.style, { position: "fixed", left: "-10000px", top: "0", width: "10px", height: "10px", visibility: "hidden" });
      document.body.append(sandbox);
      sandbox.contentDocument.open();
      sandbox.contentDocument.write("<!DOCTYPE html><html><body></body></html>");
      sandbox.contentDocument.close();
    }
    const doc = sandbox.contentDocument;
    const node = doc.createElement(tag);
    doc.body.append(node);
    defaults.set(tag, valuesOf(sandbox.contentWindow.getComputedStyle(node)));
    node.remove();
  }
  return defaults.get(tag);
}

// Properties a child inherits: written whenever they differ from the parent's (a bare element would
// inherit the copy's parent value, not the default).
const INHERITED = /^(color|font|text-(align|indent|transform|shadow|rendering|size-adjust)|letter-spacing|word-spacing|line-height|white-space|visibility|cursor|direction|list-style|border-collapse|border-spacing|caption-side|quotes|tab-size|word-break|overflow-wrap|hyphens|-webkit-text|writing-mode|fill|stroke|paint-order|accent-color|caret-color|color-scheme|-webkit-font-smoothing)/;

function valuesOf(cs) {
  const values = {};
  for (let i = 0; i < cs.length; i++) values[cs[i]] = cs.getPropertyValue(cs[i]);
  return values;
}

/** The declarations of `values` that a bare `tag` inside the copied parent (`parent`'s values) would not
 * have, as a style attribute. */
function styleText(values, tag, parent) {
  const base = defaultStyle(tag);
  let text = "";
  for (const name in values) {
    const value = values[name];
    if (base[name] !== value || (parent && INHERITED.test(name) && parent[name] !== value)) text += `${name}:${value};`;
  }
  return text;
}

function pseudo(src, which, parent) {
  const cs = getComputedStyle(src, which);
  const content = cs.getPropertyValue("content");
  if (!content || content === "none" || content === "normal") return null;
  const quoted = content.match(/^"(.*)"$/s);
  if (!quoted) return null; // counters, images: not reproduced
  const span = document.createElementNS(XHTML, "span");
  span.setAttribute("style", styleText(valuesOf(cs), "span", parent));
  span.textContent = quoted[1].replace(/\\"/g, '"').replace(/\\([0-9a-f]{1,6}) ?/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)));
  return span;
}

function copySvg(src) {
  const dst = src.cloneNode(true);
  const all = [dst, ...dst.querySelectorAll("*")];
  const from = [src, ...src.querySelectorAll("*")];
  all.forEach((node, i) => {
    const cs = getComputedStyle(from[i]);
    node.setAttribute("style", ["fill", "stroke", "stroke-width", "opacity", "width", "height", "display", "vertical-align", "flex"]
      .map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";"));
  });
  return dst;
}

/** A copy of `src` whose look no longer depends on the page's style sheets (`parent`: the computed
 * values of the element it goes into, null for the root). */
function copyStyled(src, skip, parent = null) {
  if (src.nodeType === Node.TEXT_NODE) return document.createTextNode(src.textContent);
  if (src.nodeType !== Node.ELEMENT_NODE || SKIP.has(src.tagName) || skip(src)) return null;
  const cs = getComputedStyle(src);
  if (cs.display === "none") return null;
  if (src.namespaceURI === SVG) return copySvg(src);
  const tag = src.localName;
  const values = valuesOf(cs);
  for (const axis of ["overflow-x", "overflow-y"]) {
    if (values[axis] === "auto" || values[axis] === "scroll") values[axis] = "hidden"; // a picture does not scroll
  }
  if (src instanceof HTMLCanvasElement) {
    const img = document.createElementNS(XHTML, "img");
    try {
      img.setAttribute("src", src.width && src.height ? src.toDataURL("image/png") : "");
    } catch {
      return null;
    }
    img.setAttribute("style", styleText(values, "canvas", parent));
    return img;
  }
  const dst = document.createElementNS(XHTML, tag);
  for (const { name, value } of src.attributes) {
    if (name === "style" || name === "id" || name === "class" || name.startsWith("on") || name === "src" || name === "href") continue;
    try {
      dst.setAttribute(name, value);
    } catch {
      /* a name XML does not accept */
    }
  }
  dst.setAttribute("style", styleText(values, tag, parent));
  if (src instanceof HTMLInputElement) {
    if (src.type === "checkbox" || src.type === "radio") src.checked ? dst.setAttribute("checked", "") : dst.removeAttribute("checked");
    else dst.setAttribute("value", src.value);
  }
  if (src instanceof HTMLOptionElement) src.selected ? dst.setAttribute("selected", "") : dst.removeAttribute("selected");
  if (src instanceof HTMLTextAreaElement) dst.textContent = src.value;
  const before = pseudo(src, "::before", values);
  if (before) dst.append(before);
  if (!(src instanceof HTMLTextAreaElement)) {
    for (const child of src.childNodes) {
      const copy = copyStyled(child, skip, values);
      if (copy) dst.append(copy);
    }
  }
  const after = pseudo(src, "::after", values);
  if (after) dst.append(after);
  return dst;
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser could not draw this view as a picture"));
    img.src = url;
  });
}

function background(element) {
  for (let node = element; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== "transparent" && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
  }
  return "#0a0d13";
}

function drawFooter(ctx, text, x, y, w, scale) {
  if (!text) return;
  ctx.save();
  ctx.scale(scale, scale);
  ctx.fillStyle = "#8d98ab";
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  ctx.fillText(text, x / scale + 10, y / scale + FOOTER_PX / 2, w / scale - 20);
  ctx.restore();
}

/** The canvases of `element` stacked (the fallback where a drawn copy cannot be read back). */
function stackCanvases(element, footer, scale) {
  const canvases = [...element.querySelectorAll("canvas")].filter((c) => c.width > 1 && c.height > 1 && c.offsetParent);
  const w = Math.max(300, ...canvases.map((c) => c.width));
  const h = canvases.reduce((s, c) => s + c.height + 8, 8);
  const out = document.createElement("canvas");
  out.width = w;
  out.height = h + FOOTER_PX * scale;
  const ctx = out.getContext("2d");
  ctx.fillStyle = background(element);
  ctx.fillRect(0, 0, out.width, out.height);
  let y = 8;
  for (const c of canvases) {
    ctx.drawImage(c, 0, y);
    y += c.height + 8;
  }
  drawFooter(ctx, footer, 0, h, w, scale);
  return out;
}

/** A canvas holding `element` as it looks now, at `scale` device pixels per CSS pixel, on its own
 * background, with `footer` (a line of text) under it. `skip(node)`: leave that node out. */
export async function pictureOf(element, { footer = "", scale = Math.max(2, window.devicePixelRatio || 1), skip = () => false } = {}) {
  const rect = element.getBoundingClientRect();
  const w = Math.ceil(rect.width);
  const h = Math.ceil(rect.height);
  let copy;
  try {
    copy = copyStyled(element, skip);
  } finally {
    sandbox?.remove(); // the defaults it gave stay cached
    sandbox = null;
  }
  copy.style.margin = "0";
  copy.style.width = `${w}px`;
  copy.style.height = `${h}px`;
  copy.style.boxSizing = "border-box";
  copy.style.position = "static";
  copy.style.transform = "none";
  copy.setAttribute("xmlns", XHTML);
  const markup = new XMLSerializer().serializeToString(copy);
  const svg = `<svg xmlns="${SVG}" width="${w}" height="${h}"><foreignObject x="0" y="0" width="${w}" height="${h}">${markup}</foreignObject></svg>`;
  const out = document.createElement("canvas");
  out.width = Math.round(w * scale);
  out.height = Math.round((h + (footer ? FOOTER_PX : 0)) * scale);
  const ctx = out.getContext("2d");
  ctx.fillStyle = background(element);
  ctx.fillRect(0, 0, out.width, out.height);
  try {
    const img = await loadImage(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
    ctx.drawImage(img, 0, 0, w * scale, h * scale);
    ctx.getImageData(0, 0, 1, 1); // throws where the drawing tainted the canvas
  } catch {
    return stackCanvases(element, footer, 1);
  }
  drawFooter(ctx, footer, 0, h * scale, out.width, scale);
  return out;
}

/** Download `canvas` as `filename` (a PNG). */
export function downloadPNG(canvas, filename) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      if (!blob) return reject(new Error("the picture could not be encoded as a PNG"));
      const url = URL.createObjectURL(blob);
      const a = Object.assign(document.createElement("a"), { href: url, download: filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 5000);
      resolve(blob);
    }, "image/png");
  });
}
