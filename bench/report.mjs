// Prints the README's benchmark table (Markdown) from a results file of
// bench/cpu.mjs, so the table is never transcribed by hand.
//   node bench/report.mjs [bench/results/cpu-<date>.json]
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const file = process.argv[2] ?? path.join(dir, readdirSync(dir).filter((f) => /^cpu-.*\.json$/.test(f)).sort().pop());
const r = JSON.parse(readFileSync(file, 'utf8'));

const ms = (v) => (v === undefined ? '—' : v.toFixed(1));
const x = (ours, peer) => (ours && peer ? `${(peer / ours).toFixed(1)}×` : '—');
console.log(`Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ${r.threads} threads; median of ${r.repeat} runs; ${r.date.slice(0, 10)}; \`node bench/cpu.mjs\` → \`${path.relative(path.join(dir, '..', '..'), file)}\`.\n`);
const heap = r.results.some((w) => w.times['wasm threaded'].heapTensors);  // runs before wt.zeros have none
const wasmFwd = (t) => (heap ? `${ms(t['wasm threaded'].forward)} / ${ms(t['wasm threaded'].heapTensors?.forward)}` : ms(t['wasm threaded'].forward));
const wasmFb = (t) => (heap ? `${ms(t['wasm threaded'].forwardBackward)} / ${ms(t['wasm threaded'].heapTensors?.forwardBackward)}` : ms(t['wasm threaded'].forwardBackward));
const wasmVs = (t, peer) => (heap ? `${x(t['wasm threaded'].forward, peer)} / ${x(t['wasm threaded'].heapTensors?.forward, peer)}` : x(t['wasm threaded'].forward, peer));
const tfjs = r.results.some((w) => w.times['tfjs-wasm']?.forward !== undefined);  // runs before TF.js was a peer have none
console.log(`| workload | native fwd | WASM fwd (threaded${heap ? ', host / heap tensors' : ''} / 1 thread) | ORT-node fwd | ORT-web fwd |${tfjs ? ' TF.js WASM fwd |' : ''} PyTorch fwd | native fwd+bwd | WASM fwd+bwd${heap ? ' (host / heap tensors)' : ''} | PyTorch fwd+bwd |`);
console.log(`| --- | --- | --- | --- | --- |${tfjs ? ' --- |' : ''} --- | --- | --- | --- |`);
for (const w of r.results) {
  const t = w.times;
  console.log(`| ${w.workload} N${w.shape[0]} C${w.shape[1]} ${w.shape[2]}² k${w.k} L${w.levels} | ${ms(t.native.forward)} | ${wasmFwd(t)} / ${ms(t['wasm 1 thread'].forward)} | ${ms(t['ort-node'].forward)} | ${ms(t['ort-web'].forward)} |${tfjs ? ` ${ms(t['tfjs-wasm']?.forward)} |` : ''} ${ms(t.pytorch.forward)} | ${ms(t.native.forwardBackward)} | ${wasmFb(t)} | ${ms(t.pytorch.forwardBackward)} |`);
}
console.log(`\n| workload | native vs ORT-node (fwd) | WASM vs ORT-web (fwd${heap ? '; host / heap tensors' : ''}) |${tfjs ? ` WASM vs TF.js WASM (fwd${heap ? '; host / heap' : ''}) |` : ''} native vs PyTorch (fwd+bwd) | WASM / native (fwd${heap ? '; host / heap' : ''}) | 2 vs 1 thread${r.results.every((w) => w.scaling) ? ', paired' : ''} (native / WASM) | native GFLOP/s (fwd) | of peak |`);
console.log(`| --- | --- | --- |${tfjs ? ' --- |' : ''} --- | --- | --- | --- | --- |`);
for (const w of r.results) {
  const t = w.times;
  const gflops = w.gflop / (t.native.forward / 1e3);
  console.log(`| ${w.workload} | ${x(t.native.forward, t['ort-node'].forward)} | ${wasmVs(t, t['ort-web'].forward)} |${tfjs ? ` ${wasmVs(t, t['tfjs-wasm']?.forward)} |` : ''} ${x(t.native.forwardBackward, t.pytorch.forwardBackward)} | ${(t['wasm threaded'].forward / t.native.forward).toFixed(2)}×${heap ? ` / ${(t['wasm threaded'].heapTensors.forward / t.native.forward).toFixed(2)}×` : ''} | ${w.scaling ? `${w.scaling.native.toFixed(2)}× / ${w.scaling.wasm.toFixed(2)}×` : `${x(t.native.forward, t['native 1 thread'].forward)} / ${x(t['wasm threaded'].forward, t['wasm 1 thread'].forward)}`} | ${gflops.toFixed(1)} | ${r.peakGflops.native ? `${((100 * gflops) / r.peakGflops.native).toFixed(0)}%` : '—'} |`);
}
if (r.memory) {
  console.log(`\nb2 forward + backward memory (native): ${(r.memory.tensorBytes / 2 ** 20).toFixed(0)} MiB of tensors, ${(r.memory.paramBytes / 2 ** 10).toFixed(0)} KiB of parameters and gradients, ${(r.memory.workspaceBytes / 2 ** 10).toFixed(0)} KiB of scratch: ${r.memory.ratio.toFixed(3)}× the minimum. Measured peak: ${r.peakGflops.native} GFLOP/s native (FMA), ${r.peakGflops.wasm} GFLOP/s WASM (SIMD128 mul+add), ${r.threads} threads.`);
}
