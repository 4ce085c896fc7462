// The WaveMix model (SPEC section 4b), eval mode, composed from TF.js ops as a
// TF.js user would write it: the WaveMix bench's TF.js peer. Channels-last
// (NHWC); the PyTorch state dict (wtconv Tensors, PyTorch names and layouts).
//   convolutions    conv2d ([k, k, in, out] filters), conv2dTranspose for the
//                   4x4 stride-2 upsampling ('same' padding is PyTorch's padding 1 there)
//   Haar DWT        depthwiseConv2d with the four 2x2 filters (channel c*4 + band,
//                   haarAnalysisFilter of tfjs_wtconv.mjs); the first 1x1 conv of each feed-forward
//                   takes its input channels in that order (its weight's columns
//                   permuted once) instead of a gather into cat(LL, details)
//   GELU            x / 2 * (1 + erf(x / sqrt 2)); BatchNorm with running statistics
//
// createTfjsWaveMix(tf, params, config) -> forward(x: tf.Tensor4D NHWC) -> tf.Tensor2D logits,
// config as bench/wavemix.mjs reads it from the peer file (snake_case).

import { haarAnalysisFilter } from './tfjs_wtconv.mjs';

export function createTfjsWaveMix(tf, params, config) {
  const { final_dim: d, depth, level, patch_size: patch } = config;  // widths come from the weights' shapes
  const keep = (t) => tf.keep(t);
  const get = (name) => {
    if (!params[name]) throw new Error(`tfjs peer: no '${name}' in the state dict`);
    return params[name];
  };
  // One permutation serves both: Conv2d (out, in, k, k) -> conv2d's [k, k, in, out],
  // ConvTranspose2d (in, out, k, k) -> conv2dTranspose's [k, k, out, in].
  const convFilter = (name) => keep(tf.tidy(() => tf.transpose(tf.tensor4d(get(name).data, get(name).shape), [2, 3, 1, 0])));
  const vector = (name) => keep(tf.tensor1d(get(name).data));
  const batchNorm = (prefix) => ({
    mean: vector(`${prefix}.running_mean`), variance: vector(`${prefix}.running_var`),
    offset: vector(`${prefix}.bias`), scale: vector(`${prefix}.weight`),
  });
  const quarter = d / 4;
  const analysis = keep(haarAnalysisFilter(tf, quarter, 4)), analysisLL = keep(haarAnalysisFilter(tf, quarter, 1));
  // The first 1x1 conv's filter, its input channels in the DWT's order: channel
  // c*4 + band is PyTorch's LL channel c (band 0) or detail channel d/4 + c*3 + band - 1.
  const bandOrderFilter = (name) => keep(tf.tidy(() => {
    const w = get(name);  // (out, in, 1, 1)
    const [out, inChannels] = w.shape;
    const f = new Float32Array(inChannels * out);
    for (let j = 0; j < inChannels; j++) {
      const c = j >> 2, band = j & 3;
      const from = j >= d ? j : band === 0 ? c : quarter + c * 3 + band - 1;
      for (let o = 0; o < out; o++) f[j * out + o] = w.data[o * inChannels + from];
    }
    return tf.tensor4d(f, [1, 1, inChannels, out]);
  }));

  const stem = {
    w0: convFilter('conv.0.weight'), b0: vector('conv.0.bias'),
    w1: convFilter('conv.1.weight'), b1: vector('conv.1.bias'),
    w2: convFilter('conv.2.weight'), b2: vector('conv.2.bias'),
    bn: batchNorm('conv.4'),
  };
  const blocks = [];
  for (let i = 0; i < depth; i++) {
    const p = `layers.${i}.`;
    const ffs = [];
    for (let l = 1; l <= level; l++) {
      const ff = `${p}${l === 1 && level === 1 ? 'feedforward' : `feedforward${l}`}`;
      ffs.push({
        w0: bandOrderFilter(`${ff}.0.weight`), b0: vector(`${ff}.0.bias`),
        w3: convFilter(`${ff}.3.weight`), b3: vector(`${ff}.3.bias`),
        w4: convFilter(`${ff}.4.weight`), b4: vector(`${ff}.4.bias`),
        out: get(`${ff}.4.weight`).shape[1],
        bn: batchNorm(`${ff}.5`),
      });
    }
    blocks.push({ wr: convFilter(`${p}reduction.weight`), br: vector(`${p}reduction.bias`), ffs });
  }
  const head = { w: keep(tf.tensor2d(get('pool.2.weight').data, get('pool.2.weight').shape)), b: vector('pool.2.bias') };

  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
  const bn = (x, s) => tf.batchNorm(x, s.mean, s.variance, s.offset, s.scale, 1e-5);
  const conv = (x, w, b, stride = 1, pad = 0) => tf.add(tf.conv2d(x, w, stride, pad), b);

  function block(x, blk) {
    const [n, h, w] = x.shape;
    const r = conv(x, blk.wr, blk.br);
    const views = [];
    let ll = r;
    for (let l = 1; l <= level; l++) {
      views.push(tf.depthwiseConv2d(ll, analysis, 2, 'valid'));  // [n, h/2^l, w/2^l, d], channel c*4 + band
      if (l < level) ll = tf.depthwiseConv2d(ll, analysisLL, 2, 'valid');
    }
    let upper = null;
    for (let l = level; l >= 1; l--) {
      const ff = blk.ffs[l - 1];
      const input = upper ? tf.concat([views[l - 1], upper], 3) : views[l - 1];
      const a = gelu(conv(input, ff.w0, ff.b0));
      const c = conv(a, ff.w3, ff.b3);
      const hl = h >> l, wl = w >> l;
      const t = tf.add(tf.conv2dTranspose(c, ff.w4, [n, 2 * hl, 2 * wl, ff.out], 2, 'same'), ff.b4);
      upper = bn(t, ff.bn);
    }
    return upper;
  }

  return function forward(x) {
    return tf.tidy(() => {
      let cur = conv(x, stem.w0, stem.b0, 1, 1);
      cur = conv(cur, stem.w1, stem.b1, 1, 1);
      cur = bn(gelu(conv(cur, stem.w2, stem.b2, patch, 0)), stem.bn);
      for (const blk of blocks) cur = tf.add(block(cur, blk), cur);
      const pooled = tf.mean(cur, [1, 2]);
      return tf.add(tf.matMul(pooled, head.w, false, true), head.b);
    });
  };
}
