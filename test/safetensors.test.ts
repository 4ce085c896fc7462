// safetensors reading and writing: a real fixture, bit-exact round trips, dtype
// conversion, hostile headers and a seeded mutation fuzz.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WTConvError } from '../ts/errors.js';
import { loadSafetensors, saveSafetensors } from '../ts/io/safetensors.js';
import { Tensor } from '../ts/tensor.js';

/** shared/ sits beside the repository (in development and in CI). */
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'fixtures');

/** A tiny seeded PRNG (mulberry32): floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A file from a header (a JSON string, so that keys like `__proto__` stay literal) and a data section. */
function build(header: string | object, data: Uint8Array = new Uint8Array(0), headerLength?: number): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f32 = (n: number): Uint8Array => bytesOf(new Float32Array(n));

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof WTConvError) return e.code;
    throw e;
  }
  return 'no error';
}

function expectError(bytes: Uint8Array, code: string, ...inMessage: string[]): void {
  let err: unknown;
  try {
    loadSafetensors(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WTConvError);
  expect((err as WTConvError).code).toBe(code);
  for (const s of inMessage) expect((err as WTConvError).message).toContain(s);
}

describe('loadSafetensors on a real fixture', () => {
  it('reads wtconv2d_l1_k1', () => {
    const file = loadSafetensors(new Uint8Array(readFileSync(path.join(FIXTURES, 'wtconv2d_l1_k1.safetensors'))));
    expect(typeof JSON.parse(file.metadata.config).op).toBe('string');
    const x = file.tensors.x;
    expect(x).toBeInstanceOf(Tensor);
    expect(x.shape.length).toBe(4);
    expect(x.data.length).toBe(x.shape.reduce((a, b) => a * b, 1));
    for (const t of Object.values(file.tensors)) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
  });
});

describe('saveSafetensors -> loadSafetensors', () => {
  it('round-trips bit-exactly, special values included', () => {
    const rand = mulberry32(1234);
    const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1.4e-44, 1.17e-38, 3.4e38];
    const make = (shape: number[]) => {
      const t = Tensor.zeros(shape);
      for (let i = 0; i < t.size; i++) t.data[i] = rand() < 0.3 ? special[i % special.length] : (rand() - 0.5) * 100;
      return t;
    };
    const tensors: Record<string, Tensor> = { 'b.weight': make([3, 1, 5, 5]), a: make([7]), 'layer.0.bias': make([2, 3]), scalar: new Tensor(new Float32Array([-0]), []) };
    new Uint32Array(tensors.a.data.buffer)[0] = 0x7fc01234;  // a NaN with a payload
    const metadata = { config: '{"op":"test"}', note: 'héllo ✓' };
    const bytes = saveSafetensors(tensors, metadata);
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = loadSafetensors(bytes);
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors)).toEqual(Object.keys(tensors).sort());
    for (const [k, t] of Object.entries(tensors)) {
      expect(back.tensors[k].shape).toEqual(t.shape);
      expect(new Uint32Array(back.tensors[k].data.slice().buffer)).toEqual(new Uint32Array(t.data.slice().buffer));
    }
  });

  it('omits __metadata__ when empty, and never aliases the input', () => {
    const bytes = saveSafetensors({ w: new Tensor(new Float32Array([1, 2, 3]), [3]) });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    // Misaligned input: the tensor must still be a fresh copy.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    for (const input of [bytes, shifted.subarray(1)]) {
      const w = loadSafetensors(input).tensors.w;
      input.fill(0xff, input.length - 12);
      expect(Array.from(w.data)).toEqual([1, 2, 3]);
      expect(w.data.buffer).not.toBe(input.buffer);
    }
  });

  it('validates what it saves', () => {
    const t = new Tensor(new Float32Array(1), [1]);
    expect(codeOf(() => saveSafetensors({ w: new Float32Array(1) as unknown as Tensor }))).toBe('E_DTYPE');
    expect(codeOf(() => saveSafetensors({ '': t }))).toBe('E_ARG');
    expect(codeOf(() => saveSafetensors({ __metadata__: t }))).toBe('E_ARG');
    expect(codeOf(() => saveSafetensors({ w: t }, { a: 1 as unknown as string }))).toBe('E_ARG');
  });
});

describe('loadSafetensors converts other dtypes to float32', () => {
  it('F16, BF16, F64, I64, I32', () => {
    const f16 = new Uint16Array([0x3e00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00, 0x03ff]);
    const bf16 = new Uint16Array([0x3fc0, 0xc000, 0x4049, 0xff80]);
    const f64 = new Float64Array([1.5, -2, 0.1, 1e300]);
    const i64 = new BigInt64Array([12345n, -7n, 2n ** 40n]);
    const i32 = new Int32Array([-5, 2 ** 30]);
    const scalar = new BigInt64Array([42n]);  // e.g. BatchNorm's num_batches_tracked
    const parts = [f16, bf16, f64, i64, i32, scalar].map(bytesOf);
    const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    const offsets: [number, number][] = [];
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      offsets.push([at, (at += p.length)]);
    }
    const file = loadSafetensors(build({
      h: { dtype: 'F16', shape: [2, 4], data_offsets: offsets[0] },
      bf: { dtype: 'BF16', shape: [4], data_offsets: offsets[1] },
      d: { dtype: 'F64', shape: [4], data_offsets: offsets[2] },
      l: { dtype: 'I64', shape: [3], data_offsets: offsets[3] },
      i: { dtype: 'I32', shape: [2, 1], data_offsets: offsets[4] },
      num_batches_tracked: { dtype: 'I64', shape: [], data_offsets: offsets[5] },
    }, data));
    const t = file.tensors;
    expect(Array.from(t.h.data)).toEqual([1.5, -2, 65504, 2 ** -24, -0, Infinity, NaN, 1023 * 2 ** -24]);
    expect(Object.is(t.h.data[4], -0)).toBe(true);
    expect(t.h.shape).toEqual([2, 4]);
    expect(Array.from(t.bf.data)).toEqual([1.5, -2, 3.140625, -Infinity]);
    expect(Array.from(t.d.data)).toEqual([1.5, -2, Math.fround(0.1), Infinity]);
    expect(Array.from(t.l.data)).toEqual([12345, -7, 2 ** 40]);
    expect(Array.from(t.i.data)).toEqual([-5, 2 ** 30]);
    expect(t.num_batches_tracked.shape).toEqual([]);
    expect(Array.from(t.num_batches_tracked.data)).toEqual([42]);
    for (const v of Object.values(t)) expect(v.data).toBeInstanceOf(Float32Array);
  });
});

describe('loadSafetensors refuses hostile files', () => {
  const one = (extra: object = {}) => ({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, ...extra });

  it('truncated files', () => {
    expectError(new Uint8Array(5), 'E_FORMAT', 'header');
    const good = build(one(), f32(2));
    expect(loadSafetensors(good).tensors.w.shape).toEqual([2]);
    expectError(good.subarray(0, good.length - 1), 'E_FORMAT', "'w'");
    expectError(good.subarray(0, 20), 'E_FORMAT', 'header');
  });

  it('header lengths out of range', () => {
    expectError(build(one(), f32(2), 10_000), 'E_FORMAT', 'header', '10000');
    expectError(build(one(), f32(2), 1), 'E_FORMAT', 'header');
    const huge = build(one(), f32(2));
    new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectError(huge, 'E_FORMAT', 'header');
  });

  it('headers that are not a JSON object', () => {
    expectError(build('{"w": nope}'), 'E_FORMAT', 'JSON');
    expectError(build('[1, 2]'), 'E_FORMAT', 'object');
    expectError(build('"str"'), 'E_FORMAT', 'object');
    expectError(build('null'), 'E_FORMAT', 'object');
    const badUtf8 = build('{"\u00e9": 1}');
    badUtf8[11] = 0xff;
    expectError(badUtf8, 'E_FORMAT', 'UTF-8');
  });

  it('bad entries', () => {
    expectError(build({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, f32(2)), 'E_DTYPE', "'w'", 'C64');
    expectError(build({ w: { dtype: 7, shape: [1], data_offsets: [0, 4] } }, f32(1)), 'E_FORMAT', "'w'", 'dtype');
    expectError(build({ w: 'F32' }), 'E_FORMAT', "'w'");
    expectError(build({ '': { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)), 'E_FORMAT', 'empty name');
    expectError(build({ w: { dtype: 'F32', shape: [-1, 2], data_offsets: [0, 8] } }, f32(2)), 'E_FORMAT', "'w'", 'shape');
    expectError(build({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, f32(2)), 'E_FORMAT', "'w'", 'shape');
    expectError(build({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, f32(2)), 'E_FORMAT', "'w'", 'shape');
    expectError(build({ w: { dtype: 'F32', shape: [2, 0], data_offsets: [0, 0] } }, f32(2)), 'E_SHAPE', "'w'");
    expectError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32(2)), 'E_FORMAT', "'w'", '[4, 12]');
    expectError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [-4, 4] } }, f32(2)), 'E_FORMAT', "'w'");
    expectError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, f32(2)), 'E_FORMAT', "'w'");
    expectError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, f32(2)), 'E_FORMAT', "'w'", 'data_offsets');
    expectError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 2 ** 53] } }, f32(2)), 'E_FORMAT', "'w'");
    expectError(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)), 'E_FORMAT', "'w'", '12 bytes');
    expectError(build({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, f32(2)), 'E_FORMAT', "'w'");
  });

  it('overlapping tensors', () => {
    expectError(build(one({ v: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), f32(2)), 'E_FORMAT', "'w'", "'v'", 'overlap');
    // Many tensors pointing at the same bytes are refused before any allocation.
    const many: Record<string, object> = {};
    for (let i = 0; i < 1000; i++) many[`t${i}`] = { dtype: 'F32', shape: [256], data_offsets: [0, 1024] };
    expectError(build(many, f32(256)), 'E_FORMAT', 'overlap');
  });

  it('bad metadata', () => {
    expectError(build(one({ __metadata__: { a: 1 } }), f32(2)), 'E_FORMAT', '__metadata__', "'a'");
    expectError(build(one({ __metadata__: ['a'] }), f32(2)), 'E_FORMAT', '__metadata__');
  });

  it('keeps __proto__ and friends as own properties', () => {
    const header = '{"__proto__": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "constructor": {"dtype":"F32","shape":[1],"data_offsets":[4,8]},'
      + ' "__metadata__": {"__proto__": "x", "polluted": "no"}}';
    const file = loadSafetensors(build(header, bytesOf(new Float32Array([3, 4]))));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(file.tensors)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(file.tensors, '__proto__')).toBe(true);
    expect(Object.keys(file.tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(Array.from(file.tensors['__proto__'].data)).toEqual([3]);
    expect(Array.from(file.tensors['constructor'].data)).toEqual([4]);
    expect(Object.prototype.hasOwnProperty.call(file.metadata, '__proto__')).toBe(true);
    expect(file.metadata['__proto__']).toBe('x');
    // ... and they survive a save -> load round trip.
    const back = loadSafetensors(saveSafetensors(file.tensors, file.metadata));
    expect(Object.keys(back.tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(back.metadata['__proto__']).toBe('x');
  });

  it('files larger than maxBytes', () => {
    const bytes = build(one(), f32(2));
    expect(codeOf(() => loadSafetensors(bytes, { maxBytes: bytes.length }))).toBe('no error');
    let err: unknown;
    try {
      loadSafetensors(bytes, { maxBytes: bytes.length - 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WTConvError);
    expect((err as WTConvError).code).toBe('E_FORMAT');
    expect((err as WTConvError).message).toContain('maxBytes');
  });

  it('survives 2000 seeded random mutations', () => {
    const base = saveSafetensors({
      a: new Tensor(new Float32Array([1, -2, 3, 4, 5, 6]), [2, 3]),
      b: new Tensor(new Float32Array([7]), [1]),
      c: new Tensor(new Float32Array([8, 9]), [1, 2, 1]),
    }, { config: '{"op":"x"}' });
    const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
    const tokens = new TextEncoder().encode('0123456789-.,:[]{}"e ');
    const seed = 20240607;
    const rand = mulberry32(seed);
    const int = (n: number) => Math.floor(rand() * n);
    const outcomes = { loaded: 0, refused: 0 };
    for (let iter = 0; iter < 2000; iter++) {
      let bytes = base.slice();
      for (let m = 1 + int(3); m > 0; m--) {
        const kind = int(5);
        if (kind === 0) bytes[int(bytes.length)] = int(256);  // any byte anywhere
        else if (kind === 1) bytes[8 + int(headerEnd - 8)] = tokens[int(tokens.length)];  // a JSON-ish byte in the header
        else if (kind === 2) bytes[int(8)] ^= 1 << int(8);  // flip a bit of the header length
        else if (kind === 3) bytes = bytes.slice(0, int(bytes.length + 1));  // truncate
        else {  // delete a byte in the header (header length unchanged)
          const at = 8 + int(headerEnd - 8);
          bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
        }
      }
      try {
        const file = loadSafetensors(bytes);
        for (const [name, t] of Object.entries(file.tensors)) {
          expect(t.data, `seed ${seed}, iteration ${iter}, tensor '${name}'`).toBeInstanceOf(Float32Array);
          expect(t.data.length, `seed ${seed}, iteration ${iter}, tensor '${name}'`).toBe(t.shape.reduce((a, b) => a * b, 1));
        }
        outcomes.loaded++;
      } catch (e) {
        if (!(e instanceof WTConvError)) {
          throw new Error(`seed ${seed}, iteration ${iter}: threw ${(e as Error)?.name}, not a WTConvError: ${(e as Error)?.message}`);
        }
        outcomes.refused++;
      }
    }
    // Both outcomes must occur, or the fuzz is not exercising anything.
    expect(outcomes.loaded, `seed ${seed}`).toBeGreaterThan(20);
    expect(outcomes.refused, `seed ${seed}`).toBeGreaterThan(20);
  });
});
