// A plain float64 TypeScript WTConv2d forward written from SPEC section 1,
// independent of the C++ core: loops over planes, no padding tricks, no SIMD.
import * as wt from '../../ts/index.js';

type Plane = { data: Float64Array; h: number; w: number };

const at = (p: Plane, y: number, x: number) => (y >= 0 && y < p.h && x >= 0 && x < p.w ? p.data[y * p.w + x] : 0);

/** 'same' depthwise correlation: PyTorch pads floor((k-1)/2) before and the rest after. */
function convSame(p: Plane, weight: Float32Array, offset: number, k: number): Plane {
  const before = Math.floor((k - 1) / 2);
  const out = new Float64Array(p.h * p.w);
  for (let y = 0; y < p.h; y++)
    for (let x = 0; x < p.w; x++) {
      let s = 0;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) s += weight[offset + i * k + j] * at(p, y + i - before, x + j - before);
      out[y * p.w + x] = s;
    }
  return { data: out, h: p.h, w: p.w };
}

/** Band filters [band][row][col] from row/column 1-D filters as SPEC section 1 builds them. */
function bank(lo: number[], hi: number[]): number[][][] {
  const outer = (r: number[], c: number[]) => r.map((a) => c.map((b) => a * b));
  return [outer(lo, lo), outer(hi, lo), outer(lo, hi), outer(hi, hi)];
}

function analysis(p: Plane, f: number[][][]): Plane[] {
  const F = f[0].length;
  const pad = F / 2 - 1;
  const h = Math.ceil(p.h / 2), w = Math.ceil(p.w / 2);
  return f.map((filter) => {
    const out = new Float64Array(h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) s += filter[i][j] * at(p, 2 * y - pad + i, 2 * x - pad + j);
        out[y * w + x] = s;
      }
    return { data: out, h, w };
  });
}

function synthesis(bands: Plane[], f: number[][][], h: number, w: number): Plane {
  const F = f[0].length;
  const pad = F / 2 - 1;
  const out = new Float64Array(h * w);
  bands.forEach((b, band) => {
    for (let y = 0; y < b.h; y++)
      for (let x = 0; x < b.w; x++)
        for (let i = 0; i < F; i++)
          for (let j = 0; j < F; j++) {
            const oy = 2 * y - pad + i, ox = 2 * x - pad + j;
            if (oy >= 0 && oy < h && ox >= 0 && ox < w) out[oy * w + ox] += b.data[y * b.w + x] * f[band][i][j];
          }
  });
  return { data: out, h, w };
}

export function wtconv2dReference(x: wt.Tensor, params: Record<string, wt.Tensor>, opts: { levels: number; stride: [number, number]; wavelet: wt.WaveletName }): Float64Array {
  const [n, c, H, W] = x.shape;
  const k = params['base_conv.weight'].shape[2];
  const { decLo, decHi, recLo, recHi } = wt.waveletFilters1d(opts.wavelet);
  const dec = bank([...decLo].reverse(), [...decHi].reverse());
  const rec = bank(recLo, recHi);
  const [sh, sw] = opts.stride;
  const oh = Math.ceil(H / sh), ow = Math.ceil(W / sw);
  const y = new Float64Array(n * c * oh * ow);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const plane: Plane = { data: Float64Array.from(x.data.subarray((b * c + ch) * H * W, (b * c + ch + 1) * H * W)), h: H, w: W };
      // Analysis cascade on the LL band, then per-band conv and scale.
      const shapes: [number, number][] = [];
      const z: Plane[][] = [];
      let cur = plane;
      for (let l = 0; l < opts.levels; l++) {
        shapes.push([cur.h, cur.w]);
        const t = analysis(cur, dec);
        cur = t[0];
        z.push(t.map((band, i) => {
          const bc = ch * 4 + i;
          const conv = convSame(band, params[`wavelet_convs.${l}.weight`].data, bc * k * k, k);
          const s = params[`wavelet_scale.${l}.weight`].data[bc];
          return { data: conv.data.map((v) => v * s), h: conv.h, w: conv.w };
        }));
      }
      let next: Plane | null = null;
      for (let l = opts.levels - 1; l >= 0; l--) {
        const bands = z[l];
        if (next) bands[0] = { ...bands[0], data: bands[0].data.map((v, i) => v + next!.data[i]) };
        next = synthesis(bands, rec, shapes[l][0], shapes[l][1]);
      }
      const base = convSame(plane, params['base_conv.weight'].data, ch * k * k, k);
      const scale = params['base_scale.weight'].data[ch];
      const bias = params['base_conv.bias'] ? params['base_conv.bias'].data[ch] : 0;
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const idx = i * sh * W + j * sw;
          y[((b * c + ch) * oh + i) * ow + j] = scale * (base.data[idx] + bias) + next!.data[idx];
        }
    }
  return y;
}
