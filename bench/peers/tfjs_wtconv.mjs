// WTConv2d (SPEC section 1, Haar) composed from TF.js ops, as a TF.js user
// would write it without this package: the bench's TF.js peer. Channels-last
// (NHWC, TF.js's layout); even sizes at every level (the bench workloads).
//   analysis   depthwiseConv2d with the four 2x2 Haar filters (channel
//              multiplier 4: channel c*4 + band, the reference's order), stride 2,
//              and the LL filter alone for the next level's input
//   per level  depthwiseConv2d ('same') with wavelet_convs.{i}, times wavelet_scale.{i}
//   synthesis  the 4x4 Haar matrix applied to each channel's bands (matMul; the
//              level above's output enters through the LL row of that matrix),
//              the four sub-pixels moved into place by one transpose
//   base       depthwiseConv2d ('same') + bias, times base_scale, plus the cascade
// Slices and concatenations of 5-D tensors, and depthToSpace, run 10-100x
// slower than these on TF.js's WASM backend (measured), so none is used.
//
// createTfjsWTConv(tf, params, config) -> forward(x: tf.Tensor4D NHWC) -> tf.Tensor4D,
// with params the layer's state dict (NCHW-shaped wtconv Tensors, PyTorch names).

// Analysis filters of the 2x2 block [[a, b], [c, d]] (SPEC section 1), [row][col][band].
const ANALYSIS = [
  [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, -0.5, -0.5]],
  [[0.5, -0.5, 0.5, -0.5], [0.5, -0.5, -0.5, 0.5]],
];

/**
 * The Haar analysis as a depthwise filter [2, 2, channels, bands] (stride 2):
 * output channel c * bands + b is band b of channel c (all four, or LL alone).
 */
export function haarAnalysisFilter(tf, channels, bands) {
  const f = new Float32Array(4 * channels * bands);
  for (let r = 0; r < 2; r++) for (let col = 0; col < 2; col++) for (let ch = 0; ch < channels; ch++) for (let b = 0; b < bands; b++) f[((r * 2 + col) * channels + ch) * bands + b] = ANALYSIS[r][col][b];
  return tf.tensor4d(f, [2, 2, channels, bands]);
}

/** Depthwise kernel [k, k, C, 1] from a (C, 1, k, k) PyTorch weight. */
function depthwiseKernel(tf, w) {
  const [c, , k] = w.shape;
  return tf.tidy(() => tf.transpose(tf.tensor4d(w.data, [c, 1, k, k]), [2, 3, 0, 1]));
}

export function createTfjsWTConv(tf, params, { channels: c, kernelSize: k, levels }) {
  const keep = (t) => tf.keep(t);
  const analysis = keep(haarAnalysisFilter(tf, c, 4));
  const analysisLL = keep(haarAnalysisFilter(tf, c, 1));
  // Synthesis: sub-pixel p = dy * 2 + dx of a block is sum_b ANALYSIS[dy][dx][b] * band_b
  // (the transform is orthogonal and symmetric): [bands] x S with S[b][p].
  const s = new Float32Array(16);
  for (let b = 0; b < 4; b++) for (let p = 0; p < 4; p++) s[b * 4 + p] = ANALYSIS[p >> 1][p & 1][b];
  const synthesis = keep(tf.tensor2d(s, [4, 4]));
  const synthesisLL = keep(tf.tensor2d(s.slice(0, 4), [1, 4]));
  const baseKernel = keep(depthwiseKernel(tf, params['base_conv.weight']));
  const baseBias = params['base_conv.bias'] ? keep(tf.tensor1d(params['base_conv.bias'].data)) : null;
  const baseScale = keep(tf.tensor1d(params['base_scale.weight'].data));
  const levelKernels = [], levelScales = [];
  for (let i = 0; i < levels; i++) {
    levelKernels.push(keep(depthwiseKernel(tf, params[`wavelet_convs.${i}.weight`])));
    levelScales.push(keep(tf.tensor1d(params[`wavelet_scale.${i}.weight`].data)));
  }

  return function forward(x) {
    return tf.tidy(() => {
      const n = x.shape[0];
      const z = [];
      let cur = x;
      for (let i = 0; i < levels; i++) {
        const [, hi, wi] = cur.shape;
        if (hi % 2 || wi % 2) throw new Error(`tfjs peer: level ${i} input ${hi}x${wi} is odd (only even sizes are composed)`);
        const bands = tf.depthwiseConv2d(cur, analysis, 2, 'valid');  // [n, h/2, w/2, 4c]
        z.push(tf.mul(tf.depthwiseConv2d(bands, levelKernels[i], 1, 'same'), levelScales[i]));
        if (i + 1 < levels) cur = tf.depthwiseConv2d(cur, analysisLL, 2, 'valid');
      }
      let next = null;
      for (let i = levels - 1; i >= 0; i--) {
        const [, hl, wl] = z[i].shape;
        const rows = n * hl * wl * c;
        let pixels = tf.matMul(tf.reshape(z[i], [rows, 4]), synthesis);  // [rows, p]
        if (next) pixels = tf.add(pixels, tf.matMul(tf.reshape(next, [rows, 1]), synthesisLL));
        // [n*hl, wl, c, dy, dx] -> [n*hl, dy, wl, dx, c]: rows 2i + dy, columns 2j + dx.
        next = tf.reshape(tf.transpose(tf.reshape(pixels, [n * hl, wl, c, 2, 2]), [0, 3, 1, 4, 2]), [n, 2 * hl, 2 * wl, c]);
      }
      let base = tf.depthwiseConv2d(x, baseKernel, 1, 'same');
      if (baseBias) base = tf.add(base, baseBias);
      const y = tf.mul(base, baseScale);
      return next ? tf.add(y, next) : y;
    });
  };
}
