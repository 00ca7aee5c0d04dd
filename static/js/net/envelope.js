// Decoder for the server's binary envelope (docs/protocol.md, "Encoding"):
//   uint32 LE header length H | H bytes of JSON header | zero padding to a multiple of 4 (= D) | arrays
// Each header.arrays[NAME] = {dtype, shape, offset} (+ scale, zero for a scaled array); the array starts
// at D + offset. f4/i4/u1 arrays are views of the buffer; f2 and scaled arrays come back as the
// Float32Array of the values they stand for ((q − zero) × scale, one scale per row when it is a list).

const DTYPES = { f4: Float32Array, i4: Int32Array, u1: Uint8Array, f2: Uint16Array };
const decoder = new TextDecoder("utf-8");

class EnvelopeError extends Error {}

let halfTable = null;

/** float16 bit patterns → their values (built once: 65,536 entries). */
function halves() {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v;
    if (exp === 0) v = frac * 2 ** -24; // subnormal
    else if (exp === 31) v = frac ? NaN : Infinity;
    else v = (1 + frac / 1024) * 2 ** (exp - 15);
    halfTable[h] = sign * v;
  }
  return halfTable;
}

/** The values of a quantised or float16 array (a new Float32Array). */
function values(raw, spec, count) {
  const out = new Float32Array(count);
  const half = spec.dtype === "f2" ? halves() : null;
  const zero = spec.zero || 0;
  const scale = spec.scale ?? 1;
  if (Array.isArray(scale)) {
    const rows = scale.length;
    const per = rows ? count / rows : 0;
    for (let r = 0, i = 0; r < rows; r++) {
      const s = scale[r];
      for (let end = i + per; i < end; i++) out[i] = ((half ? half[raw[i]] : raw[i]) - zero) * s;
    }
  } else if (half) {
    for (let i = 0; i < count; i++) out[i] = (half[raw[i]] - zero) * scale;
  } else {
    for (let i = 0; i < count; i++) out[i] = (raw[i] - zero) * scale;
  }
  return out;
}

/** Decode one binary frame. Returns {header, arrays: {NAME: TypedArray}, shapes: {NAME: number[]}}. */
export function decodeEnvelope(buffer) {
  if (!(buffer instanceof ArrayBuffer)) throw new EnvelopeError("envelope must be an ArrayBuffer");
  if (buffer.byteLength < 4) throw new EnvelopeError("envelope shorter than its length prefix");
  const headerLength = new DataView(buffer).getUint32(0, true);
  if (4 + headerLength > buffer.byteLength) throw new EnvelopeError("envelope header runs past the end");
  let header;
  try {
    header = JSON.parse(decoder.decode(new Uint8Array(buffer, 4, headerLength)));
  } catch (err) {
    throw new EnvelopeError(`envelope header is not JSON: ${err.message}`);
  }
  const dataStart = Math.ceil((4 + headerLength) / 4) * 4;
  const arrays = {};
  const shapes = {};
  for (const [name, spec] of Object.entries(header.arrays || {})) {
    const Ctor = DTYPES[spec.dtype];
    if (!Ctor) throw new EnvelopeError(`array ${name}: unknown dtype ${spec.dtype}`);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const start = dataStart + spec.offset;
    if (start % Ctor.BYTES_PER_ELEMENT !== 0 || start + count * Ctor.BYTES_PER_ELEMENT > buffer.byteLength) {
      throw new EnvelopeError(`array ${name}: bytes out of bounds or misaligned`);
    }
    const raw = new Ctor(buffer, start, count);
    arrays[name] = spec.dtype === "f2" || spec.scale !== undefined ? values(raw, spec, count) : raw;
    shapes[name] = spec.shape;
  }
  return { header, arrays, shapes };
}
