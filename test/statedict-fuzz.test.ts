// Hostile weight files all the way into a layer: a saved WTConv2d state dict is
// mutated at the JSON-header level (names, dtypes, shapes, offsets, prototype
// keys) and at the byte level, then read with loadSafetensors and loaded with
// loadStateDict. Every case must end in a WTConvError or in a layer that loaded
// exactly the file's tensors and computes finite outputs; nothing may reach
// Object.prototype. fast-check prints the seed of a failing case; WTCONV_FUZZ_SEED replays.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as wt from '../ts/index.js';
import { randomTensor } from './helpers.js';

const SEED = Number(process.env.WTCONV_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.WTCONV_FUZZ_RUNS ?? 100) * 5;

const layer = () => new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 2, wavelet: 'db2', seed: 7 });
const x = randomTensor([1, 2, 9, 8], 3);

/** Splits a safetensors file into its header object and data section. */
function split(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))), data: bytes.subarray(8 + len) };
}
function join(headerJson: string, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const text = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, text.length + lengthDelta)), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const original = wt.saveSafetensors(layer().stateDict(), { format: 'pt' });
const { header: HEADER, data: DATA } = split(original);
const NAMES = Object.keys(HEADER).filter((k) => k !== '__metadata__');

type Entry = { dtype: unknown; shape: unknown; data_offsets: unknown };
const anyValue = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 33 }), fc.double(), fc.constantFrom<unknown>(null, true, 'F32', 'F16', 'I64', 'X', [], {}, [0], [0, 0], [1, 2, 3], [-1, 4], [4, 2], [2 ** 53, 2 ** 53 + 8]),
);
/** One mutation of the header object (keys kept as JSON text so __proto__ stays literal). */
const headerMutation = fc.oneof(
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom('dtype', 'shape', 'data_offsets'), anyValue).map(([name, field, v]) => ({
    label: `${name}.${field} = ${JSON.stringify(v)}`, apply: (h: Record<string, Entry>) => { if (h[name]) (h[name] as Record<string, unknown>)[field] = v; },
  })),
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'base_conv.weight', 'wavelet_convs.5.weight', '', 'x'.repeat(300))).map(([name, to]) => ({
    label: `rename ${name} -> ${to.slice(0, 20)}`, apply: (h: Record<string, Entry>) => { const e = h[name]; delete h[name]; if (e) h[`\u0000${to}`] = e; },
  })),
  fc.constantFrom(...NAMES).map((name) => ({ label: `drop ${name}`, apply: (h: Record<string, Entry>) => { delete h[name]; } })),
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...NAMES)).map(([a, b]) => ({
    label: `${a} takes ${b}'s data`, apply: (h: Record<string, Entry>) => { if (h[a] && h[b]) h[a] = { ...h[a], data_offsets: h[b].data_offsets }; },
  })),
  fc.tuple(fc.constantFrom(...NAMES), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 5 })).map(([name, shape]) => ({
    label: `${name}.shape = [${shape}]`, apply: (h: Record<string, Entry>) => { h[name] = { ...h[name], shape }; },
  })),
  fc.constantFrom<unknown>('a', 1, null, [], { config: 5 }, { __proto__: 'x' }).map((m) => ({
    label: `__metadata__ = ${JSON.stringify(m)}`, apply: (h: Record<string, Entry>) => { (h as Record<string, unknown>)['\u0000__metadata__'] = m; },
  })),
);
/** Header JSON with the \u0000-marked keys written as literal (own) keys. */
const render = (h: Record<string, unknown>) => JSON.stringify(h).replace(/"\\u0000/g, '"');

const mutatedFile = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.array(headerMutation, { minLength: 1, maxLength: 3 }), fc.constantFrom(0, 0, 0, 0, 1, -1, -8, 100), fc.constantFrom(0, 0, 0, 4, -4, -1, 64)).map(([ms, lengthDelta, dataDelta]) => {
    const h = structuredClone(HEADER) as Record<string, Entry>;
    for (const m of ms) m.apply(h);
    const data = dataDelta >= 0 ? new Uint8Array([...DATA, ...new Uint8Array(dataDelta)]) : DATA.subarray(0, DATA.length + dataDelta);
    return { label: `${ms.map((m) => m.label).join('; ')}; header length ${lengthDelta >= 0 ? '+' : ''}${lengthDelta}; data ${dataDelta}`, bytes: join(render(h), data, lengthDelta) };
  }) },
  { weight: 2, arbitrary: fc.tuple(fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })).map(([inData, flips]) => {
    // Flips in the length and header, or in the tensor data (a valid file with other numbers, NaN included).
    const bytes = original.slice();
    const start = inData ? original.length - DATA.length : 0, span = inData ? DATA.length : original.length - DATA.length;
    for (const [at, v] of flips) bytes[start + (at % span)] = v;
    return { label: `bytes ${inData ? 'of data' : 'of header'} ${flips.map(([a, v]) => `${start + (a % span)}=${v}`).join(',')}`, bytes };
  }) },
  { weight: 1, arbitrary: fc.tuple(fc.boolean(), fc.constantFrom('extra', '__proto__', 'constructor', 'wavelet_convs.2.weight')).map(([reverse, extra]) => {
    // Valid files: keys in another order, an unexpected tensor in spare data (loads with strict: false only).
    const h = structuredClone(HEADER) as Record<string, unknown>;
    const keys = Object.keys(h);
    const ordered = Object.fromEntries((reverse ? keys.reverse() : keys).map((k) => [k, h[k]]));
    ordered['\u0000' + extra] = { dtype: 'F32', shape: [2], data_offsets: [DATA.length, DATA.length + 8] };
    return { label: `valid, ${reverse ? 'reversed' : 'ordered'}, extra '${extra}'`, bytes: join(render(ordered), new Uint8Array([...DATA, ...new Uint8Array(new Float32Array([1, 2]).buffer)])) };
  }) },
);

describe('hostile files into loadSafetensors + loadStateDict', () => {
  beforeAll(async () => {
    await wt.init({ backend: 'native', threads: 2 });
  });

  it('the unmutated file loads and reproduces the layer', () => {
    const a = layer();
    const b = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 2, wavelet: 'db2', seed: 99 });
    b.loadStateDict(wt.loadSafetensors(original).tensors);
    expect(b.forward(x).data).toEqual(a.forward(x).data);
  });

  it(`${RUNS} mutated files: a WTConvError or a consistent layer, never a crash or a polluted prototype`, () => {
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    let rejected = 0, loaded = 0;
    fc.assert(fc.property(mutatedFile, fc.boolean(), ({ label, bytes }, strict) => {
      const m = new wt.WTConv2d({ channels: 2, kernelSize: 3, levels: 2, wavelet: 'db2', seed: 1 });
      const before = m.stateDict();
      const snapshot = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.data.slice()]));
      try {
        const file = wt.loadSafetensors(bytes, { maxBytes: 1 << 20 });
        m.loadStateDict(file.tensors, { strict });
        // Loaded: every parameter now holds the file's values, and the layer computes.
        for (const k of Object.keys(m.params)) expect(Array.from(m.params[k].data), `${label}: ${k}`).toEqual(Array.from(file.tensors[k].data));
        const y = m.forward(x);
        expect(y.shape).toEqual([1, 2, 9, 8]);
        loaded++;
      } catch (e) {
        if (!(e instanceof wt.WTConvError)) throw new Error(`${label}: ${String(e)}`);
        // A refused file leaves the layer exactly as it was.
        for (const [k, v] of Object.entries(m.stateDict())) expect(v.data, `${label}: ${k} changed`).toEqual(snapshot[k]);
        rejected++;
      }
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
      expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    }), { numRuns: RUNS, seed: SEED });
    console.log(`statedict fuzz: seed ${SEED}, ${RUNS} files: ${rejected} refused, ${loaded} loaded`);
    expect(rejected).toBeGreaterThan(RUNS / 4);
    expect(loaded).toBeGreaterThan(0);
  });
});
