// The demo's logic, shared by the page (bundled by build.mjs) and by the test that
// recomputes its output in Node: the layer, image <-> tensor conversion, and the
// PyTorch-fixture checks (SPEC section 5) run inside the page.

/** The demo layer: 3 channels, 5x5 kernels, 3 wavelet levels, fixed weights. */
export const LAYER = { channels: 3, kernelSize: 5, levels: 3 };

/**
 * A WTConv2d with hand-set weights so the output means something: the image minus a
 * multi-scale blur of it (the LL bands of every level blurred by a 5x5 box), a
 * high-pass with a receptive field of 5 * 2^3 pixels.
 */
export function demoLayer(wt) {
  const { channels: C, kernelSize: k, levels } = LAYER;
  const layer = new wt.WTConv2d({ ...LAYER, bias: true, seed: 1 });
  const sd = {};
  const base = new Float32Array(C * k * k);
  for (let c = 0; c < C; c++) base[c * k * k + ((k * k) >> 1)] = 1;  // identity
  sd['base_conv.weight'] = wt.tensor(base, [C, 1, k, k]);
  sd['base_conv.bias'] = wt.tensor(new Float32Array(C), [C]);
  sd['base_scale.weight'] = wt.tensor(new Float32Array(C).fill(1), [1, C, 1, 1]);
  for (let i = 0; i < levels; i++) {
    const w = new Float32Array(4 * C * k * k);
    const s = new Float32Array(4 * C);
    for (let c = 0; c < C; c++) {
      w.fill(1 / (k * k), (4 * c) * k * k, (4 * c + 1) * k * k);  // band 0 (LL) of channel c
      s[4 * c] = -0.35;
    }
    sd[`wavelet_convs.${i}.weight`] = wt.tensor(w, [4 * C, 1, k, k]);
    sd[`wavelet_scale.${i}.weight`] = wt.tensor(s, [1, 4 * C, 1, 1]);
  }
  layer.loadStateDict(sd);
  return layer;
}

/** RGBA bytes (canvas ImageData layout) -> a (1, 3, h, w) tensor in [0, 1]. */
export function imageToTensor(wt, rgba, width, height) {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    data[i] = rgba[4 * i] / 255;
    data[plane + i] = rgba[4 * i + 1] / 255;
    data[2 * plane + i] = rgba[4 * i + 2] / 255;
  }
  return wt.tensor(data, [1, 3, height, width]);
}

/** A (1, 3, h, w) tensor -> opaque RGBA bytes, stretched so its min..max fills 0..255. */
export function tensorToImage(y) {
  const [, , height, width] = y.shape;
  const plane = width * height;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of y.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const rgba = new Uint8ClampedArray(4 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = Math.round((y.data[c * plane + i] - lo) * scale);
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/** SPEC section 5: relative L2 error <= 1e-5 and every element within 1e-4 * max(1, max|ref|); NaN fails. */
function parity(what, actual, ref) {
  const sameShape = actual.shape.length === ref.shape.length && actual.shape.every((d, i) => d === ref.shape[i]);
  if (!sameShape) return { what, ok: false, error: `shape [${actual.shape}] instead of [${ref.shape}]` };
  let err2 = 0;
  let ref2 = 0;
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const d = actual.data[i] - ref.data[i];
    err2 += d * d;
    ref2 += ref.data[i] * ref.data[i];
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : Math.abs(d));
    maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
  }
  let relL2 = ref2 > 0 ? Math.sqrt(err2 / ref2) : Math.sqrt(err2);
  if (Number.isNaN(relL2)) relL2 = Infinity;
  const bound = 1e-4 * Math.max(1, maxRef);
  return { what, relL2, maxAbs, ok: relL2 <= 1e-5 && maxAbs <= bound };
}

/** Runs one wtconv2d_* or dwt2d_* fixture file (forward and backward); returns every tensor compared. */
export function checkFixture(wt, name, bytes) {
  const file = wt.loadSafetensors(bytes);
  const t = file.tensors;
  const config = JSON.parse(file.metadata.config);
  const checks = [];
  if (config.op === 'wtconv2d') {
    const params = {};
    for (const [k, v] of Object.entries(t)) if (!['x', 'y', 'grad_y'].includes(k) && !k.startsWith('grad.')) params[k] = v;
    const opts = { levels: config.levels, stride: config.stride, wavelet: config.wavelet };
    checks.push(parity('y', wt.wtconv2d(t.x, params, opts), t.y));
    const grads = wt.wtconv2dBackward(t.x, params, t.grad_y, opts);
    for (const k of Object.keys(t).filter((k) => k.startsWith('grad.'))) {
      const g = grads[k.slice(5)];
      checks.push(g ? parity(k, g, t[k]) : { what: k, ok: false, error: 'no such gradient' });
    }
  } else if (config.op === 'dwt2d') {
    const { levels, wavelet } = config;
    const bands = wt.dwt2d(t.x, { levels, wavelet });
    bands.forEach((b, l) => checks.push(parity(`bands.${l}`, b, t[`bands.${l}`])));
    const gradBands = Array.from({ length: levels }, (_, l) => t[`grad_bands.${l}`]);
    checks.push(parity('grad.x', wt.dwt2dBackward(t.x, gradBands, { levels, wavelet }), t['grad.x']));
    const shapes = [[t.x.shape[2], t.x.shape[3]]];
    for (let l = 1; l < levels; l++) shapes.push([t[`bands.${l - 1}`].shape[3], t[`bands.${l - 1}`].shape[4]]);
    const refBands = Array.from({ length: levels }, (_, l) => t[`bands.${l}`]);
    checks.push(parity('idwt.y', wt.idwt2d(refBands, { shapes, wavelet }), t['idwt.y']));
    wt.idwt2dBackward(refBands, t['idwt.grad_y'], { shapes, wavelet }).forEach((g, l) =>
      checks.push(parity(`idwt.grad.bands.${l}`, g, t[`idwt.grad.bands.${l}`])),
    );
  } else {
    checks.push({ what: 'op', ok: false, error: `the page does not run op '${config.op}'` });
  }
  return { name, op: config.op, ok: checks.length > 0 && checks.every((c) => c.ok), checks };
}
