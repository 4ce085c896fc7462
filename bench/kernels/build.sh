#!/usr/bin/env bash
# Builds the microkernel tester/benchmark once per ISA variant into build/kernels/:
# kernels-sse2, kernels-avx2, kernels-avx512 (native, each variant of the padded
# depthwise kernels with its own vector width) and kernels-wasm.cjs (SIMD128).
# Prints the names of the variants built.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/kernels
# Concurrent runs wait for each other; every output is written aside and renamed into place.
exec 9> build/kernels/.lock
flock 9
src=(bench/kernels/kernels.cc core/src/kernels/haar-plane.cc)
flags=(-O3 -std=c++17 -Icore/include -DWTCONV_NO_MULTIVERSION -DWTCONV_PADDED_KERNEL_VARIANTS -ffp-contract=off -Wno-psabi)
# name : -march : variant (the file core/src/kernels/depthwise-conv2d-padded-<variant>.cc and its namespace)
for variant in sse2:x86-64:baseline avx2:haswell:avx2 avx512:x86-64-v4:avx512; do
  IFS=: read -r name march isa <<< "$variant"
  out=build/kernels/kernels-$name
  if [ ! -x "$out" ] || [ -n "$(find "${src[@]}" core/src/simd.h core/src/kernels -newer "$out" -print -quit)" ]; then
    g++ "${flags[@]}" -march="$march" -DKERNEL_ISA="$isa" "${src[@]}" "core/src/kernels/depthwise-conv2d-padded-$isa.cc" -o "$out.tmp"
    mv "$out.tmp" "$out"
  fi
  echo "$name"
done
if command -v em++ > /dev/null; then
  out=build/kernels/kernels-wasm.cjs
  if [ ! -f "$out" ] || [ -n "$(find "${src[@]}" core/src/simd.h core/src/kernels -newer "$out" -print -quit)" ]; then
    NODE_PATH="${NODE_PATH:-/usr/share/nodejs}" em++ "${flags[@]}" -msimd128 -sSINGLE_FILE=1 -sENVIRONMENT=node \
      -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=1 "${src[@]}" core/src/kernels/depthwise-conv2d-padded-baseline.cc \
      -o build/kernels/tmp-wasm.cjs
    grep -q 'data:application/octet-stream;base64' build/kernels/tmp-wasm.cjs || { echo "kernels-wasm: the module was not embedded" >&2; exit 1; }
    mv build/kernels/tmp-wasm.cjs "$out"
  fi
  echo wasm
fi
