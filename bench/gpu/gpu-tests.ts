// The CUDA checks of test/cuda/checks.ts on a real GPU, as a plain Node program
// (the GPU machine has Node only as bench/gpu/pack.sh brings it: no vitest).
//   node gpu-tests.mjs --fixtures DIR [--only REGEX] [--json FILE] [--quick]
// Exits 1 when any check fails, 2 when the cuda backend cannot be initialised.
import { writeFileSync } from 'node:fs';
import * as wt from '../../ts/index.js';
import { cudaChecks } from '../../test/cuda/checks.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const fixturesDir = opt('--fixtures') ?? 'fixtures';
const only = opt('--only') ? new RegExp(opt('--only')!) : null;
const jsonOut = opt('--json');

const info = await wt.init({ backend: 'auto' });
console.log(`backend: ${info.name} ${info.device ?? ''} (${info.isa}); ${info.reason}`);
if (info.name !== 'cuda') {
  console.error('gpu-tests: the cuda backend was not chosen on this machine');
  process.exit(2);
}
const results: { name: string; ok: boolean; ms: number; error?: string }[] = [];
for (const check of cudaChecks({ fixturesDir, large: !args.includes('--quick') })) {
  if (only && !only.test(check.name)) continue;
  const t0 = performance.now();
  try {
    await check.run();
    results.push({ name: check.name, ok: true, ms: performance.now() - t0 });
    console.log(`  ok    ${check.name}`);
  } catch (e) {
    results.push({ name: check.name, ok: false, ms: performance.now() - t0, error: String((e as Error).stack ?? e) });
    console.log(`  FAIL  ${check.name}\n        ${(e as Error).message}`);
  }
}
const failed = results.filter((r) => !r.ok).length;
console.log(`gpu tests: ${results.length - failed} passed, ${failed} failed (${info.device})`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ device: info.device, isa: info.isa, results }, null, 1));
process.exit(failed ? 1 : 0);
