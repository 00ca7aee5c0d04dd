// A small reader for numpy's .npz as np.savez writes it: a zip of *stored* (uncompressed) .npy files.
// Enough for the server's /api/model: little-endian float32/float64/uint8 arrays, C or Fortran order.

const DTYPES = { "<f4": Float32Array, "<f8": Float64Array, "|u1": Uint8Array, "<i4": Int32Array, "<i8": BigInt64Array };

/** Parse an ArrayBuffer holding a .npz → {name: {data, shape}} (data in C order, row-major). */
export function parseNpz(buffer) {
  const view = new DataView(buffer);
  const out = {};
  const entries = centralDirectory(view);
  for (const { name, offset, size, method } of entries) {
    if (method !== 0) throw new Error(`npz member ${name} is compressed (method ${method}); only stored zips are read`);
    const nameLen = view.getUint16(offset + 26, true);
    const extraLen = view.getUint16(offset + 28, true);
    const start = offset + 30 + nameLen + extraLen;
    out[name.replace(/\.npy$/, "")] = parseNpy(buffer, start, size);
  }
  return out;
}

function centralDirectory(view) {
  // the end-of-central-directory record: the last 22+ bytes, signature 0x06054b50
  let eocd = -1;
  for (let i = view.byteLength - 22; i >= Math.max(0, view.byteLength - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip file");
  let count = view.getUint16(eocd + 10, true);
  let cd = view.getUint32(eocd + 16, true);
  const entries = [];
  const decoder = new TextDecoder();
  while (count-- > 0) {
    if (view.getUint32(cd, true) !== 0x02014b50) throw new Error("bad zip central directory");
    const method = view.getUint16(cd + 10, true);
    let size = view.getUint32(cd + 20, true);
    const nameLen = view.getUint16(cd + 28, true);
    const extraLen = view.getUint16(cd + 30, true);
    const commentLen = view.getUint16(cd + 32, true);
    let offset = view.getUint32(cd + 42, true);
    const name = decoder.decode(new Uint8Array(view.buffer, view.byteOffset + cd + 46, nameLen));
    if (size === 0xffffffff || offset === 0xffffffff) {
      // zip64 extra field (numpy writes one for big members)
      let p = cd + 46 + nameLen;
      const end = p + extraLen;
      while (p < end) {
        const id = view.getUint16(p, true);
        const len = view.getUint16(p + 2, true);
        if (id === 1) {
          let q = p + 4;
          if (size === 0xffffffff) { q += 8; /* uncompressed */ size = Number(view.getBigUint64(q, true)); q += 8; }
          if (offset === 0xffffffff) offset = Number(view.getBigUint64(q, true));
        }
        p += 4 + len;
      }
    }
    entries.push({ name, offset, size, method });
    cd += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** One .npy inside `buffer` at `start` → {data, shape}. */
export function parseNpy(buffer, start, size) {
  const bytes = new Uint8Array(buffer, start, size);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") throw new Error("not a .npy member");
  const major = bytes[6];
  const view = new DataView(buffer, start);
  const headerLen = major >= 2 ? view.getUint32(8, true) : view.getUint16(8, true);
  const headerStart = major >= 2 ? 12 : 10;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] || "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const Type = DTYPES[descr];
  if (!Type) throw new Error(`unsupported dtype ${descr}`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerStart + headerLen;
  // copy: the member need not be aligned for a typed-array view
  const raw = new Type(buffer.slice(dataStart, dataStart + count * Type.BYTES_PER_ELEMENT));
  if (!fortran || shape.length < 2) return { data: raw, shape };
  const [rows, cols] = shape; // 2-D only: transpose the column-major data to row-major
  const data = new Type(count);
  for (let c = 0; c < cols; c++) {
    const base = c * rows;
    for (let r = 0; r < rows; r++) data[r * cols + c] = raw[base + r];
  }
  return { data, shape };
}
