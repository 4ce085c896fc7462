// Plain float64 TypeScript references of the DWT / inverse DWT (SPEC section 2)
// and of conv1d/2d/3d and conv_transpose2d (SPEC section 3), written from the
// specification and independent of the C++ core (loops over elements, no
// padding tricks). The property tests (test/fuzz.test.ts) compare every public
// op against them; gradients follow from the forward by exact adjoint probing
// (every op here is affine in each of its inputs).
import type * as wt from '../../ts/index.js';

/** PyWavelets' dec_lo of db1..db4 (the other filters by the quadrature-mirror relations). */
const DEC_LO: Record<string, number[]> = {
  db1: [0.7071067811865476, 0.7071067811865476],
  db2: [-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416],
  db3: [0.03522629188570953, -0.08544127388202666, -0.13501102001025458, 0.45987750211849154, 0.8068915093110925, 0.33267055295008263],
  db4: [-0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309, -0.027983769416859854, 0.6308807679298589, 0.7148465705529157, 0.2303778133088965],
};

interface Bank {
  f: number;
  analysis: number[][];  // [band][r * f + c]
  synthesis: number[][];
}

export function filterBank(wavelet: string): Bank {
  const decLo = DEC_LO[wavelet === 'haar' ? 'db1' : wavelet];
  const f = decLo.length;
  const recLo = [...decLo].reverse();
  const decHi = recLo.map((v, i) => (i % 2 === 0 ? -v : v));
  const recHi = [...decHi].reverse();
  const lo = [...decLo].reverse(), hi = [...decHi].reverse();
  const build = (a: number[], b: number[]) =>
    [[a, a], [b, a], [a, b], [b, b]].map(([rows, cols]) => {
      const out: number[] = [];
      for (let r = 0; r < f; r++) for (let c = 0; c < f; c++) out.push(rows[r] * cols[c]);
      return out;
    });
  return { f, analysis: build(lo, hi), synthesis: build(recLo, recHi) };
}

/** One (H, W) plane -> 4 bands (ceil(H/2), ceil(W/2)), concatenated. */
function analyze(bank: Bank, x: ArrayLike<number>, off: number, H: number, W: number): Float64Array {
  const h = Math.ceil(H / 2), w = Math.ceil(W / 2), p = bank.f / 2 - 1;
  const out = new Float64Array(4 * h * w);
  for (let band = 0; band < 4; band++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let s = 0;
        for (let r = 0; r < bank.f; r++)
          for (let c = 0; c < bank.f; c++) {
            const y = 2 * i + r - p, xx = 2 * j + c - p;
            if (y >= 0 && y < H && xx >= 0 && xx < W) s += x[off + y * W + xx] * bank.analysis[band][r * bank.f + c];
          }
        out[(band * h + i) * w + j] = s;
      }
  return out;
}

/** 4 bands (h, w) -> transposed stride-2 convolution cropped to (H, W). */
function synthesize(bank: Bank, bands: ArrayLike<number>, h: number, w: number, H: number, W: number): Float64Array {
  const p = bank.f / 2 - 1;
  const out = new Float64Array(H * W);
  for (let band = 0; band < 4; band++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let r = 0; r < bank.f; r++)
          for (let c = 0; c < bank.f; c++) {
            const y = 2 * i + r - p, xx = 2 * j + c - p;
            if (y >= 0 && y < H && xx >= 0 && xx < W) out[y * W + xx] += bands[(band * h + i) * w + j] * bank.synthesis[band][r * bank.f + c];
          }
  return out;
}

/** Input size (H_l, W_l) of every level of an (H, W) signal. */
export function levelShapes(H: number, W: number, levels: number): [number, number][] {
  const s: [number, number][] = [];
  for (let l = 0; l < levels; l++, H = Math.ceil(H / 2), W = Math.ceil(W / 2)) s.push([H, W]);
  return s;
}

/** Multi-level DWT of x (N, C, H, W): every level's bands (N, C, 4, h_l, w_l), flattened. */
export function dwt2dReference(x: wt.Tensor, levels: number, wavelet: string): Float64Array[] {
  const [n, c, H, W] = x.shape;
  const bank = filterBank(wavelet);
  const shapes = levelShapes(H, W, levels);
  const out = shapes.map(([h, w]) => new Float64Array(n * c * 4 * Math.ceil(h / 2) * Math.ceil(w / 2)));
  for (let p = 0; p < n * c; p++) {
    let cur: ArrayLike<number> = x.data, off = p * H * W;
    shapes.forEach(([h, w], l) => {
      const t = analyze(bank, cur, off, h, w);
      out[l].set(t, p * t.length);
      cur = t.subarray(0, t.length / 4);
      off = 0;
    });
  }
  return out;
}

/** Inverse DWT (the LL bands of levels below the last are ignored): (N, C, H_0, W_0). */
export function idwt2dReference(bands: wt.Tensor[], shapes: [number, number][], wavelet: string): Float64Array {
  const [n, c] = bands[0].shape;
  const bank = filterBank(wavelet);
  const [H, W] = shapes[0];
  const y = new Float64Array(n * c * H * W);
  for (let p = 0; p < n * c; p++) {
    let below: Float64Array | null = null;
    for (let l = bands.length - 1; l >= 0; l--) {
      const [, , , h, w] = bands[l].shape;
      const t = Float64Array.from(bands[l].data.subarray(p * 4 * h * w, (p + 1) * 4 * h * w));
      if (below) t.set(below);
      below = synthesize(bank, t, h, w, shapes[l][0], shapes[l][1]);
    }
    y.set(below!, p * H * W);
  }
  return y;
}

export interface ConvGeometry {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

const prod = (a: number[]) => a.reduce((s, v) => s * v, 1);

/** PyTorch conv{1,2,3}d: x (N, Cin, *S), w (Cout, Cin/g, *K), bias (Cout) or null. */
export function convReference(x: wt.Tensor, w: wt.Tensor, bias: wt.Tensor | null, g: ConvGeometry): { y: Float64Array; shape: number[] } {
  const dims = x.shape.length - 2;
  const [n, cin] = x.shape;
  const cout = w.shape[0];
  const S = x.shape.slice(2), K = w.shape.slice(2);
  const O = S.map((s, a) => Math.floor((s + 2 * g.padding[a] - g.dilation[a] * (K[a] - 1) - 1) / g.stride[a]) + 1);
  const cinG = cin / g.groups, coutG = cout / g.groups;
  const y = new Float64Array(n * cout * prod(O));
  const oIdx = new Array(dims).fill(0), kIdx = new Array(dims).fill(0);
  const step = (idx: number[], lim: number[]) => {
    for (let a = dims - 1; a >= 0; a--) {
      if (++idx[a] < lim[a]) return true;
      idx[a] = 0;
    }
    return false;
  };
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++) {
      const grp = Math.floor(o / coutG);
      let j = 0;
      oIdx.fill(0);
      do {
        let acc = bias ? bias.data[o] : 0;
        for (let ci = 0; ci < cinG; ci++) {
          let t = 0;
          kIdx.fill(0);
          do {
            let xi = 0, inside = true;
            for (let a = 0; a < dims; a++) {
              const i = oIdx[a] * g.stride[a] - g.padding[a] + kIdx[a] * g.dilation[a];
              if (i < 0 || i >= S[a]) inside = false;
              xi = xi * S[a] + i;
            }
            if (inside) acc += x.data[(b * cin + grp * cinG + ci) * prod(S) + xi] * w.data[(o * cinG + ci) * prod(K) + t];
            t++;
          } while (step(kIdx, K));
        }
        y[(b * cout + o) * prod(O) + j++] = acc;
      } while (step(oIdx, O));
    }
  return { y, shape: [n, cout, ...O] };
}

/**
 * Every (x, weight, y) index triple where conv_transpose2d multiplies: x
 * (N, Cin, H, W) at xi, w (Cin, Cout/g, kh, kw) at wi, y (N, Cout, OH, OW) at yi.
 */
function forEachTransposedTap(
  xShape: readonly number[], wShape: readonly number[], outHW: [number, number], g: ConvGeometry,
  f: (xi: number, wi: number, yi: number) => void,
): void {
  const [n, cin, H, W] = xShape;
  const [, coutG, kh, kw] = wShape;
  const [OH, OW] = outHW;
  const cout = coutG * g.groups, cinG = cin / g.groups;
  for (let b = 0; b < n; b++)
    for (let ci = 0; ci < cin; ci++) {
      const grp = Math.floor(ci / cinG);
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++)
          for (let oc = 0; oc < coutG; oc++)
            for (let a = 0; a < kh; a++)
              for (let c = 0; c < kw; c++) {
                const oy = i * g.stride[0] - g.padding[0] + a * g.dilation[0];
                const ox = j * g.stride[1] - g.padding[1] + c * g.dilation[1];
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                f(((b * cin + ci) * H + i) * W + j, ((ci * coutG + oc) * kh + a) * kw + c, ((b * cout + grp * coutG + oc) * OH + oy) * OW + ox);
              }
    }
}

/** PyTorch conv_transpose2d: x (N, Cin, H, W), w (Cin, Cout/g, kh, kw). */
export function convTranspose2dReference(
  x: wt.Tensor, w: wt.Tensor, bias: wt.Tensor | null, g: ConvGeometry & { outputPadding: number[] },
): { y: Float64Array; shape: number[] } {
  const [n, , H, W] = x.shape;
  const [, coutG, kh, kw] = w.shape;
  const cout = coutG * g.groups;
  const OH = (H - 1) * g.stride[0] - 2 * g.padding[0] + g.dilation[0] * (kh - 1) + g.outputPadding[0] + 1;
  const OW = (W - 1) * g.stride[1] - 2 * g.padding[1] + g.dilation[1] * (kw - 1) + g.outputPadding[1] + 1;
  const y = new Float64Array(n * cout * OH * OW);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++) y.fill(bias ? bias.data[o] : 0, (b * cout + o) * OH * OW, (b * cout + o + 1) * OH * OW);
  forEachTransposedTap(x.shape, w.shape, [OH, OW], g, (xi, wi, yi) => (y[yi] += x.data[xi] * w.data[wi]));
  return { y, shape: [n, cout, OH, OW] };
}

/**
 * The weight gradient of convTranspose2d (the adjoint of the forward above in w):
 * grad_w[ci][oc][a][c] = sum over images and x's positions of x * grad_y at the
 * output that tap reaches.
 */
export function convTranspose2dWeightGradReference(
  x: wt.Tensor, gradY: wt.Tensor, weightShape: readonly number[], g: ConvGeometry,
): { y: Float64Array; shape: number[] } {
  const gw = new Float64Array(weightShape.reduce((p, d) => p * d, 1));
  forEachTransposedTap(x.shape, weightShape, [gradY.shape[2], gradY.shape[3]], g, (xi, wi, yi) => (gw[wi] += x.data[xi] * gradY.data[yi]));
  return { y: gw, shape: [...weightShape] };
}

/** The kernel axis each position axis d addresses (SPEC section 4). */
const DCLS_AXES: Record<string, number[][]> = { v0: [[], [0], [0, 1], [0, 2, 1]], gauss: [[], [0], [1, 0], [2, 1, 0]] };

/**
 * DCLS kernel construction (SPEC section 4): weight (out, inG, count), P (and SIG) (D, out, inG,
 * count) as flat arrays; returns the kernel (out, inG, *size). Plain arrays, so that finite
 * differences can run in float64.
 */
export function dclsConstructReference(
  weight: ArrayLike<number>, P: ArrayLike<number>, shape: [number, number, number], size: number[], version: 'v0' | 'gauss', SIG?: ArrayLike<number>,
): Float64Array {
  const [out, inG, count] = shape;
  const D = size.length;
  const axes = DCLS_AXES[version][D];
  const plane = prod(size);
  const K = new Float64Array(out * inG * plane);
  const strides = size.map((_, a) => prod(size.slice(a + 1)));
  const units = out * inG * count;
  for (let u = 0; u < units; u++) {
    const base = Math.floor(u / count) * plane;
    const p = Array.from({ length: D }, (_, d) => P[d * units + u] + Math.floor(size[d] / 2));
    if (version === 'v0') {
      for (let corner = 0; corner < 1 << D; corner++) {
        let idx = 0, f = weight[u], inside = true;
        for (let d = 0; d < D; d++) {
          const bit = (corner >> d) & 1, fl = Math.floor(p[d]), r = p[d] - fl, at = fl + bit;
          if (at < 0 || at >= size[axes[d]]) inside = false;
          f *= bit ? r : 1 - r;
          idx += at * strides[axes[d]];
        }
        if (inside) K[base + idx] += f;
      }
    } else {
      const s = Array.from({ length: D }, (_, d) => Math.abs(SIG![d * units + u]) + 0.27);
      const g = new Float64Array(plane);
      let total = 0;
      for (let i = 0; i < plane; i++) {
        let e = 0;
        for (let d = 0; d < D; d++) {
          const x = Math.floor(i / strides[axes[d]]) % size[axes[d]];
          e += ((x - p[d]) / s[d]) ** 2;
        }
        total += g[i] = Math.exp(-0.5 * e);
      }
      for (let i = 0; i < plane; i++) K[base + i] += (weight[u] * g[i]) / (total + 1e-7);
    }
  }
  return K;
}
