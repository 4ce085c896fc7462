#!/usr/bin/env bash
# Runs on the GPU machine, from .gpu-pack/ as bench/gpu/pack.sh made it:
#   1. the CUDA checks (fixtures, agreement with native on random and large shapes,
#      device tensors, errors), 2. the same fixtures under compute-sanitizer,
#   3. CUDA timings, 4. PyTorch reference (and fast_wtconv) timings, 5. one results file.
# Results go to $OUT (or .gpu-pack/out): tests.json, sanitizer.log, cuda.json, torch.json,
# torch_wavemix.json, gpu-<device>-<date>.json. Exit status: that of the checks.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
mkdir -p "$out"
cd "$here"
[ -x bin/node ] || xz -dc bin/node.xz > bin/node && chmod +x bin/node
export WTCONV_NATIVE_PATH=$here/wtconv.node WTCONV_CUDA_PATH=$here/wtconv_cuda.node
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.csv"

bin/node dist/node/gpu-tests.mjs --fixtures fixtures --json "$out/tests.json" 2>&1 | tee "$out/tests.log"
status=${PIPESTATUS[0]}

sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1 || true)
if [ -n "$sanitizer" ]; then
  "$sanitizer" --tool memcheck --error-exitcode 99 bin/node dist/node/gpu-tests.mjs --fixtures fixtures --quick \
    --only '^fixture' > "$out/sanitizer.log" 2>&1
  echo "compute-sanitizer memcheck: exit $? (0: no error)" | tee -a "$out/sanitizer.log"
  "$sanitizer" --tool racecheck --error-exitcode 99 bin/node dist/node/gpu-tests.mjs --fixtures fixtures --quick \
    --only 'fixture wtconv2d_l2_k5_odd' >> "$out/sanitizer.log" 2>&1
  echo "compute-sanitizer racecheck: exit $? (0: no error)" | tee -a "$out/sanitizer.log"
else
  echo "compute-sanitizer not found" | tee "$out/sanitizer.log"
fi

bin/node dist/node/bench.mjs --json "$out/cuda.json"
fast=""
[ -d peers/fast_wtconv ] && fast=$here/peers
python3 torch_ref.py workloads.json $fast > "$out/torch.json"
python3 pytorch_wavemix.py wavemix.safetensors 20 1 cuda > "$out/torch_wavemix.json" || echo '{}' > "$out/torch_wavemix.json"

bin/node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs";
  const out = process.argv[1];
  const cuda = JSON.parse(readFileSync(`${out}/cuda.json`, "utf8"));
  const torch = JSON.parse(readFileSync(`${out}/torch.json`, "utf8"));
  const tests = JSON.parse(readFileSync(`${out}/tests.json`, "utf8"));
  const torchWaveMix = JSON.parse(readFileSync(`${out}/torch_wavemix.json`, "utf8"));
  const conv = (cuda.conv ?? []).map((r) => {
    const t = (torch.conv ?? []).find((x) => x.name === r.name) ?? {};
    return { ...r, ...t, forward_speedup_vs_torch: t.torch_forward_ms / r.forward_ms, backward_speedup_vs_torch: t.torch_backward_ms / r.backward_ms };
  });
  const wm = cuda.wavemix ?? {};
  const logitsDiff = wm.eval_logits && torchWaveMix.eval_logits
    ? Math.max(...torchWaveMix.eval_logits.map((v, i) => Math.abs(v - wm.eval_logits[i]))) / Math.max(...wm.eval_logits.map(Math.abs)) : null;
  const wavemix = { ...wm, eval_logits: undefined, torch_eval_forward_ms: torchWaveMix.eval_forward_ms, torch_train_step_ms: torchWaveMix.train_step_ms,
    eval_speedup_vs_torch: torchWaveMix.eval_forward_ms / wm.eval_forward_ms, train_speedup_vs_torch: torchWaveMix.train_step_ms / wm.train_step_ms,
    logits_relative_difference: logitsDiff };
  const rows = cuda.rows.map((r) => {
    const t = torch.rows.find((x) => x.name === r.name) ?? {};
    return { ...r, ...t,
      forward_speedup_vs_torch: t.torch_forward_ms / r.fused_forward_ms,
      backward_speedup_vs_torch: t.torch_backward_ms / r.fused_backward_ms,
      forward_speedup_vs_fast_wtconv: t.fast_wtconv_forward_ms ? t.fast_wtconv_forward_ms / r.fused_forward_ms : null };
  });
  const device = cuda.device.replace(/[^A-Za-z0-9]+/g, "-").toLowerCase();
  const date = new Date().toISOString().slice(0, 10);
  const file = `${out}/gpu-${device}-${date}.json`;
  writeFileSync(file, JSON.stringify({ device: cuda.device, date, copy_GBps: cuda.copy_GBps, torch: torch.torch,
    tests: { passed: tests.results.filter((x) => x.ok).length, failed: tests.results.filter((x) => !x.ok).length }, rows, conv, wavemix }, null, 1));
  console.log(`wrote ${file}`);
' "$out"
exit "$status"
