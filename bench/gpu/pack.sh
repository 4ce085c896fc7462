#!/usr/bin/env bash
# Packs what the GPU machine (CUDA and PyTorch, no Node.js) needs into .gpu-pack/
# (ignored; must stay under 64 MiB, the device run's limit):
#   bin/node.xz                 this machine's Node binary, xz-compressed
#   dist/node/gpu-tests.mjs     test/cuda/checks.ts on the GPU (esbuild bundle)
#   dist/node/bench.mjs         CUDA timings (WTConv2d fused and baseline, conv, WaveMix)
#                               and copy bandwidth
#   dist/wasm/, wtconv.node     the CPU backends (reference results, fallback ops)
#   wtconv_cuda.node            the CUDA addon (built here with nvcc)
#   fixtures/                   ../shared/fixtures (every family the CUDA checks read)
#   torch_ref.py, workloads.json, run.sh
#   pytorch_wavemix.py, peer_server.py, safetensors_f32.py, wavemix.safetensors
#                               the PyTorch WaveMix peer and the benchmark model's weights
#   peers/fast_wtconv/          BGU-CS-VIL/WTConv's fast_wtconv sources, when
#                               WTCONV_FAST_SRC names a checkout of that repository
# Then, on the GPU machine, from the repository root: bash .gpu-pack/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu-pack
limit=$((64 * 1024 * 1024))

WTCONV_CUDA=1 bash cuda/build.sh > /tmp/wtconv-gpu-pack.log 2>&1 || { cat /tmp/wtconv-gpu-pack.log >&2; exit 1; }
bash scripts/setup.sh --quiet --build-only
rm -rf "$out"
mkdir -p "$out/bin" "$out/dist/node" "$out/dist/wasm" "$out/fixtures"
xz -T2 -6 -c "$(command -v node)" > "$out/bin/node.xz"
node bench/gpu/bundle.mjs "$out/dist/node"
cp dist/wasm/* "$out/dist/wasm/"
cp build/native/Release/wtconv.node build/cuda/Release/wtconv_cuda.node "$out/"
cp ../shared/fixtures/*.safetensors "$out/fixtures/"
cp bench/gpu/torch_ref.py bench/gpu/run.sh bench/peers/pytorch_wavemix.py bench/peers/peer_server.py bench/peers/safetensors_f32.py "$out/"
cp ../shared/peers/wavemix_w1_n16d64l1.weights.safetensors "$out/wavemix.safetensors"
node --input-type=module -e "import('./$out/dist/node/workloads.mjs').then((m) => process.stdout.write(JSON.stringify({ wtconv: m.WORKLOADS, conv: m.CONV_WORKLOADS })))" > "$out/workloads.json"
if [ -n "${WTCONV_FAST_SRC:-}" ]; then
  [ -d "$WTCONV_FAST_SRC/fast_wtconv" ] || { echo "pack.sh: $WTCONV_FAST_SRC has no fast_wtconv/" >&2; exit 1; }
  mkdir -p "$out/peers"
  cp -r "$WTCONV_FAST_SRC/fast_wtconv" "$out/peers/"
fi
size=$(du -sb "$out" | cut -f1)
if [ "$size" -ge "$limit" ]; then
  echo "pack.sh: $out is $size bytes, over the 64 MiB limit" >&2
  exit 1
fi
echo "pack.sh: $out ready ($((size / 1024 / 1024)) MiB); on the GPU machine: bash $out/run.sh"
