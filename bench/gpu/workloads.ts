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
