// Decoder for the server's binary envelope (docs/protocol.md, "Encoding"):
//   uint32 LE header length H | H bytes of JSON header | zero padding to a multiple of 4 (= D) | arrays
// Each header.arrays[NAME] = {dtype, shape, offset}; the array starts at D + offset.

const DTYPES = { f4: Float32Array, i4: Int32Array, u1: Uint8Array };
const decoder = new TextDecoder("utf-8");

class EnvelopeError extends Error {}

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
    arrays[name] = new Ctor(buffer, start, count);
    shapes[name] = spec.shape;
  }
  return { header, arrays, shapes };
}
