// Text of the network view: column captions (shortened to fit) and the output digits 0–9.

import { ACCENT, GOOD, INK, rgba } from "../lib/colors.js";
import { fmtFixed } from "../lib/format.js";

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

export function drawCaptions(ctx, layout, store, width) {
  const { sizes, config } = store;
  const L = sizes.length - 1;
  const { input } = layout;
  const xs = (store.inputNames || ["x₁", "x₂"]).join(", ");
  const inputSubs = layout.plane
    ? layout.input.nodeYs.length === 1 ? ["one number x", "x", "1"] : [`a point (${xs})`, xs, "2"]
    : ["28 × 28 = 784 pixels", "784 pixels", "784"];
  const columns = [{ x: input.x + input.size / 2, titles: ["Input", "In"], subs: inputSubs }];
  for (let l = 1; l <= L; l++) {
    const layer = layout.layers[l];
    const act = (l === L ? config.output_activation : config.activation).replace("_", " ");
    const titles = l === L ? ["Output", "Out"] : L === 2 ? ["Hidden layer", "Hidden", "H"] : [`Hidden ${l}`, `H${l}`];
    const count = layer.subset ? `${layer.k} of ${layer.n} shown` : `${layer.n} neuron${layer.n === 1 ? "" : "s"}`;
    const x = layer.heat ? (layer.heat.start + layer.x + layer.r) / 2 : layer.x;
    columns.push({ x, titles, subs: [`${count} · ${act}`, count, layer.subset ? `${layer.k}/${layer.n}` : `${layer.n}`] });
  }
  ctx.textAlign = "center";
  const boxes = []; // {row: 0 title | 1 count, text, x, w}: what was drawn, for tests
  columns.forEach((c, i) => {
    // Room for this caption: up to halfway to each neighbour, and never past the canvas edges.
    const left = i > 0 ? (c.x - columns[i - 1].x) / 2 : c.x;
    const right = i < columns.length - 1 ? (columns[i + 1].x - c.x) / 2 : width - c.x;
    const room = 2 * Math.min(left, right) - 6;
    ctx.font = `600 12px ${FONT}`;
    ctx.fillStyle = rgba(INK, 0.9);
    // the longest way of writing it that fits; when none does, none is drawn (never over a neighbour's)
    const title = c.titles.find((t) => ctx.measureText(t).width <= room);
    if (title) {
      const tw = ctx.measureText(title).width;
      const tx = Math.max(c.x, tw / 2 + 2);
      ctx.fillText(title, tx, 15);
      boxes.push({ row: 0, text: title, x: tx - tw / 2, w: tw });
    }
    ctx.font = `11px ${FONT}`;
    const sub = c.subs.find((t) => ctx.measureText(t).width <= room);
    if (sub) {
      const sw = ctx.measureText(sub).width;
      const sx = Math.min(Math.max(c.x, sw / 2 + 2), width - sw / 2 - 2);
      ctx.fillStyle = rgba(INK, 0.6);
      ctx.fillText(sub, sx, 30);
      boxes.push({ row: 1, text: sub, x: sx - sw / 2, w: sw });
    }
  });
  ctx.textAlign = "left";
  return boxes;
}

/** The box a text drawn at (x, y) with textBaseline "middle" takes: its ink's height is about 0.75 em. */
function textBox(ctx, kind, j, text, x, y, size) {
  return { kind, j, text, x, y: y - 0.375 * size, w: ctx.measureText(text).width, h: 0.75 * size };
}

/**
 * The output column's digits 0–9: the `strong` one emphasised, each with its value (`text(j)`: a string, or
 * several ways of writing it, longest first, for the first that fits; or none),
 * and a green `mark` beside the `label` digit (when the column is short enough to have room). Returns the
 * boxes of the texts drawn ({kind: "digit" | "value" | "mark", j, text, x, y, w, h}, canvas CSS px).
 */
export function drawDigitColumn(ctx, layer, { strong = null, text = null, label = null, mark = "◂ label", markAt = 46, width = null, names = null }) {
  const room = width == null ? null : width - (layer.x + layer.r + 8); // px right of the digits
  const boxes = [];
  ctx.textBaseline = "middle";
  for (let slot = 0; slot < layer.k; slot++) {
    const j = layer.visible[slot];
    const y = layer.ys[slot];
    const x = layer.x + layer.r + 8;
    const isStrong = j === strong;
    ctx.font = `${isStrong ? 700 : 500} ${isStrong ? 16 : 14}px ${FONT}`;
    ctx.fillStyle = isStrong ? ACCENT : rgba(INK, 0.75);
    const name = names ? fitName(ctx, names[j] ?? String(j), room == null ? 96 : Math.max(24, layer.spacing >= 30 ? room - 4 : room - 34)) : String(j);
    ctx.fillText(name, x, y + 1);
    boxes.push(textBox(ctx, "digit", j, name, x, y + 1, isStrong ? 16 : 14));
    const after = names ? Math.max(16, ctx.measureText(name).width + 6) : 16;
    let valueEnd = after; // where this row's value ends: the label's mark goes after it, never over it
    if (text) {
      ctx.font = `11px ${FONT}`;
      ctx.fillStyle = rgba(INK, isStrong ? 0.85 : 0.6);
      if (!names || layer.spacing >= 30) {
        const [tx, ty] = [names && layer.spacing >= 30 ? x : x + after, names && layer.spacing >= 30 ? y + 15 : y + 1];
        // `text(j)`: the value, or its ways of writing it, longest first — the first that fits the room
        const options = [text(j)].flat();
        const value = room == null ? options[0] : options.find((t) => tx - x + ctx.measureText(t).width <= room - 2) ?? options[options.length - 1];
        ctx.fillText(value, tx, ty);
        boxes.push(textBox(ctx, "value", j, value, tx, ty, 11));
        if (ty === y + 1) valueEnd = tx - x + ctx.measureText(value).width + 6;
      }
    }
    if (label === j && layer.k <= 16) {
      ctx.font = `600 11px ${FONT}`;
      ctx.fillStyle = GOOD;
      const at = Math.max(valueEnd, names ? Math.max(after + 4, layer.spacing >= 30 ? after + 4 : markAt) : markAt);
      if (room == null || room >= at + ctx.measureText(mark).width + 2) {
        ctx.fillText(mark, x + at, y + 1);
        boxes.push(textBox(ctx, "mark", j, mark, x + at, y + 1, 11));
      } else ctx.fillRect(x - 1, y + 9, 12, 2); // no room for the words: the label digit underlined in green
    }
  }
  ctx.textBaseline = "alphabetic";
  return boxes;
}

/** The live view's outputs: the winner emphasised, each activation to two decimals, the example's label. */
export function drawOutputLabels(ctx, layer, a, winner, shown, width = null, names = null) {
  const digits = names && names.every((n, i) => n === String(i));
  return drawDigitColumn(ctx, layer, {
    names: digits ? null : names,
    strong: winner,
    text: a ? (j) => fmtFixed(a[j], 2) : null,
    label: shown?.meta?.label,
    width,
  });
}

/** A class name shortened with "…" to fit `room` px in the current font. */
function fitName(ctx, name, room) {
  if (ctx.measureText(name).width <= room) return name;
  let s = name;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > room) s = s.slice(0, -1);
  return `${s}…`;
}
