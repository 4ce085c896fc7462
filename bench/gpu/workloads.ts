// GPU benchmark shapes: SPEC section 6 and larger ones (bench/gpu/torch_ref.py reads the same list
// from workloads.json, written by pack.sh).
export interface Workload {
  name: string;
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  levels: number;
}

export const WORKLOADS: Workload[] = [
  { name: 'b1_n16c64s64k5l1', n: 16, c: 64, h: 64, w: 64, k: 5, levels: 1 },
  { name: 'b2_n16c64s64k5l2', n: 16, c: 64, h: 64, w: 64, k: 5, levels: 2 },
  { name: 'b3_n1c64s224k5l2', n: 1, c: 64, h: 224, w: 224, k: 5, levels: 2 },
  { name: 'b4_n8c96s56k5l3', n: 8, c: 96, h: 56, w: 56, k: 5, levels: 3 },
  { name: 'l1_n32c128s128k5l2', n: 32, c: 128, h: 128, w: 128, k: 5, levels: 2 },
  { name: 'l2_n64c96s56k5l3', n: 64, c: 96, h: 56, w: 56, k: 5, levels: 3 },
  { name: 'l3_n16c256s112k5l3', n: 16, c: 256, h: 112, w: 112, k: 5, levels: 3 },
];

// The conv workloads of the CPU benchmark (bench/conv.mjs, ../shared/peers/conv2d_*), as conv2d arguments.
export interface ConvWorkload {
  name: string;
  n: number;
  cin: number;
  cout: number;
  size: number;
  k: number;
  stride: number;
  padding: number;
  groups: number;
}

export const CONV_WORKLOADS: ConvWorkload[] = [
  { name: 'c1_n8c64s56k3', n: 8, cin: 64, cout: 64, size: 56, k: 3, stride: 1, padding: 1, groups: 1 },
  { name: 'c2_n8c256to64s56k1', n: 8, cin: 256, cout: 64, size: 56, k: 1, stride: 1, padding: 0, groups: 1 },
  { name: 'c3_n8c96s56k17dw', n: 8, cin: 96, cout: 96, size: 56, k: 17, stride: 1, padding: 8, groups: 96 },
  { name: 'c4_n1c3s224k4s4', n: 1, cin: 3, cout: 96, size: 224, k: 4, stride: 4, padding: 0, groups: 1 },
];

// The WaveMix workload (../shared/peers/wavemix_w1_n16d64l1.weights.safetensors, packed as wavemix.safetensors).
export const WAVEMIX_WEIGHTS = 'wavemix.safetensors';
