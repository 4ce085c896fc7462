// safetensors files: an 8-byte little-endian header length N, N bytes of UTF-8
// JSON, then the raw little-endian data. Files are read as hostile input: every
// size, offset and name is checked before any tensor is allocated, tensors are
// copied (never aliasing the input), and keys cannot reach any prototype.
import { WTConvError, fail } from '../errors.js';
import { Tensor, allocFloat32, describe } from '../tensor.js';

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

export interface LoadSafetensorsOptions {
  /** Largest file accepted, in bytes (default 2**31). */
  maxBytes?: number;
}

const MAX_HEADER = 100 * 2 ** 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Scratch for reinterpreting bfloat16 bits as a float32.
const bits = new Uint32Array(1);
const bitsAsFloat = new Float32Array(bits.buffer);

type Reader = (view: DataView, offset: number) => number;
/** The dtypes accepted on load: each is converted to float32. */
const DTYPES: Record<string, { size: number; read: Reader }> = {
  F32: { size: 4, read: (v, o) => v.getFloat32(o, true) },
  F64: { size: 8, read: (v, o) => v.getFloat64(o, true) },
  F16: { size: 2, read: (v, o) => halfToFloat(v.getUint16(o, true)) },
  BF16: { size: 2, read: (v, o) => ((bits[0] = v.getUint16(o, true) << 16), bitsAsFloat[0]) },
  I64: { size: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  I32: { size: 4, read: (v, o) => v.getInt32(o, true) },
  I16: { size: 2, read: (v, o) => v.getInt16(o, true) },
  I8: { size: 1, read: (v, o) => v.getInt8(o) },
  U8: { size: 1, read: (v, o) => v.getUint8(o) },
  BOOL: { size: 1, read: (v, o) => (v.getUint8(o) ? 1 : 0) },
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Sets an own, enumerable property, even for keys such as `__proto__`. */
function define<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const json = (v: unknown): string => JSON.stringify(v) ?? String(v);

interface Entry { name: string; dtype: string; shape: number[]; begin: number; end: number }

/** Checks one header entry against the `dataLength`-byte data section. */
function parseEntry(name: string, entry: unknown, dataLength: number): Entry {
  const what = `safetensors tensor '${name}'`;
  if (name.length === 0) fail('E_FORMAT', 'safetensors header: a tensor has an empty name');
  if (!isObject(entry)) fail('E_FORMAT', `${what}: expected an object with dtype, shape and data_offsets, got ${json(entry)}`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') fail('E_FORMAT', `${what}: expected dtype as a string, got ${json(dtype)}`);
  if (!Object.prototype.hasOwnProperty.call(DTYPES, dtype)) {
    fail('E_DTYPE', `${what}: dtype '${dtype}' is not supported (expected one of ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail('E_FORMAT', `${what}: expected shape as a list of non-negative integers, got ${json(shape)}`);
  }
  if (shape.includes(0)) fail('E_SHAPE', `${what}: shape [${shape.join(', ')}] has a zero-sized dimension; tensors must not be empty`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o))) {
    fail('E_FORMAT', `${what}: expected data_offsets as a pair of integers [begin, end], got ${json(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin < 0 || end < begin || end > dataLength) {
    fail('E_FORMAT', `${what}: expected data_offsets with 0 <= begin <= end <= ${dataLength} (the data section's length), got [${begin}, ${end}]`);
  }
  const expected = (shape as number[]).reduce((a, b) => a * b, 1) * DTYPES[dtype].size;
  if (end - begin !== expected) {
    fail('E_FORMAT', `${what}: shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Parses a safetensors file. Every tensor is converted to float32 and copied out of `bytes`. */
export function loadSafetensors(bytes: Uint8Array, options: LoadSafetensorsOptions = {}): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) fail('E_DTYPE', `loadSafetensors: expected a Uint8Array, got ${describe(bytes)}`);
  const maxBytes = options.maxBytes ?? 2 ** 31;
  if (bytes.length > maxBytes) fail('E_FORMAT', `loadSafetensors: the file has ${bytes.length} bytes, more than option 'maxBytes' allows (${maxBytes})`);
  if (bytes.length < 8) fail('E_FORMAT', `safetensors header: expected at least 8 bytes for the header length, got a ${bytes.length}-byte file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const maxHeader = Math.min(MAX_HEADER, bytes.length - 8);
  if (headerLength < 2 || headerLength > maxHeader) {
    fail('E_FORMAT', `safetensors header: expected a length in 2..${maxHeader} for a ${bytes.length}-byte file, got ${headerLength}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new WTConvError('E_FORMAT', `safetensors header: expected UTF-8 JSON (${(e as Error).message})`, { cause: e });
  }
  if (!isObject(header)) fail('E_FORMAT', `safetensors header: expected a JSON object, got ${Array.isArray(header) ? 'an array' : json(header)}`);

  // Pass 1: check everything, so that no hostile header makes us allocate.
  const dataStart = 8 + headerLength;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    const entry = header[name];
    if (name !== '__metadata__') {
      entries.push(parseEntry(name, entry, bytes.length - dataStart));
      continue;
    }
    if (!isObject(entry)) fail('E_FORMAT', `safetensors __metadata__: expected an object of strings, got ${json(entry)}`);
    for (const key of Object.keys(entry)) {
      const value = entry[key];
      if (typeof value !== 'string') fail('E_FORMAT', `safetensors __metadata__['${key}']: expected a string, got ${json(value)}`);
      define(metadata, key, value);
    }
  }
  const spans = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1], spans[i]];
    if (b.begin < a.end) fail('E_FORMAT', `safetensors tensors '${a.name}' [${a.begin}, ${a.end}] and '${b.name}' [${b.begin}, ${b.end}]: expected disjoint data_offsets, found an overlap`);
  }

  // Pass 2: copy and convert.
  const tensors: Record<string, Tensor> = {};
  for (const { name, dtype, shape, begin, end } of entries) {
    const { size, read } = DTYPES[dtype];
    let data: Float32Array;
    if (dtype === 'F32' && LITTLE_ENDIAN) {
      data = new Float32Array(bytes.slice(dataStart + begin, dataStart + end).buffer);  // fresh, aligned, bit-exact
    } else {
      data = allocFloat32((end - begin) / size);
      for (let i = 0; i < data.length; i++) data[i] = read(view, dataStart + begin + i * size);
    }
    define(tensors, name, new Tensor(data, shape));
  }
  return { tensors, metadata };
}

/** Writes float32 tensors (keys sorted, header padded with spaces to 8 bytes) and optional string metadata. */
export function saveSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  if (!isObject(tensors)) fail('E_ARG', `saveSafetensors: expected an object of tensors, got ${describe(tensors)}`);
  if (!isObject(metadata)) fail('E_ARG', `saveSafetensors: expected metadata as an object of strings, got ${describe(metadata)}`);
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (typeof value !== 'string') fail('E_ARG', `saveSafetensors metadata['${key}']: expected a string, got ${describe(value)}`);
    define(meta, key, value);
  }
  if (Object.keys(meta).length) define(header, '__metadata__', meta);
  const names = Object.keys(tensors).sort();
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (name.length === 0 || name === '__metadata__') fail('E_ARG', `saveSafetensors: expected a non-empty tensor name other than '__metadata__', got '${name}'`);
    if (!(t instanceof Tensor)) fail('E_DTYPE', `saveSafetensors tensor '${name}': expected a Tensor, got ${describe(t)}`);
    define(header, name, { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * t.size] });
    offset += 4 * t.size;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.length, 8 + padded);
  let at = 8 + padded;
  for (const name of names) {
    const d = tensors[name].data;
    if (LITTLE_ENDIAN) out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);  // bit-exact, NaN payloads included
    else for (let i = 0; i < d.length; i++) view.setFloat32(at + 4 * i, d[i], true);
    at += d.byteLength;
  }
  return out;
}
