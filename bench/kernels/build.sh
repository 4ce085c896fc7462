#!/usr/bin/env bash
# Builds the microkernel tester/benchmark once per ISA variant into build/kernels/:
# kernels-sse2, kernels-avx2, kernels-avx512 (native, each variant of the padded
# depthwise kernels and of the GEMM microkernel with its own vector width) and
# kernels-wasm.cjs (SIMD128). The GEMM files alone allow FMA contraction, as in
# the library (CMakeLists.txt).
# Prints the names of the variants built.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/kernels
# Concurrent runs wait for each other; every output is written aside and renamed into place.
exec 9> build/kernels/.lock
flock 9
src=(bench/kernels/kernels.cc core/src/kernels/haar-plane.cc)
gemm_src=(core/src/kernels/gemm-pack.cc core/src/kernels/gemm-microkernel.cc core/src/kernels/gemm-microkernel-baseline.cc)
flags=(-O3 -std=c++17 -Icore/include -DWTCONV_NO_MULTIVERSION -DWTCONV_PADDED_KERNEL_VARIANTS -ffp-contract=off -Wno-psabi)
# name : -march : variant (the files core/src/kernels/{depthwise-conv2d-padded,gemm-microkernel,activation}-<variant>.cc and their namespace)
for variant in sse2:x86-64:baseline avx2:haswell:avx2 avx512:x86-64-v4:avx512; do
  IFS=: read -r name march isa <<< "$variant"
  out=build/kernels/kernels-$name
  if [ ! -x "$out" ] || [ -n "$(find "${src[@]}" core/src/simd.h core/src/kernels -newer "$out" -print -quit)" ]; then
    gemm=("${gemm_src[@]}")
    [ "$isa" = baseline ] || gemm+=("core/src/kernels/gemm-microkernel-$isa.cc")
    rm -rf "$out.obj" && mkdir -p "$out.obj"
    for f in "${gemm[@]}"; do
      g++ "${flags[@]}" -ffp-contract=fast -march="$march" -c "$f" -o "$out.obj/$(basename "$f" .cc).o"
    done
    g++ "${flags[@]}" -DWTCONV_GEMM_KERNEL_VARIANTS -DWTCONV_ACTIVATION_KERNEL_VARIANTS -march="$march" -DKERNEL_ISA="$isa" "${src[@]}" "core/src/kernels/depthwise-conv2d-padded-$isa.cc" "core/src/kernels/activation-$isa.cc" "$out.obj"/*.o -o "$out.tmp"
    rm -rf "$out.obj"
    mv "$out.tmp" "$out"
  fi
  echo "$name"
done
if command -v em++ > /dev/null; then
  out=build/kernels/kernels-wasm.cjs
  if [ ! -f "$out" ] || [ -n "$(find "${src[@]}" core/src/simd.h core/src/kernels -newer "$out" -print -quit)" ]; then
    NODE_PATH="${NODE_PATH:-/usr/share/nodejs}" em++ "${flags[@]}" -msimd128 -sSINGLE_FILE=1 -sENVIRONMENT=node \
      -sALLOW_MEMORY_GROWTH=1 -sEXIT_RUNTIME=1 "${src[@]}" core/src/kernels/depthwise-conv2d-padded-baseline.cc core/src/kernels/activation-baseline.cc "${gemm_src[@]}" \
      -o build/kernels/tmp-wasm.cjs
    grep -q 'data:application/octet-stream;base64' build/kernels/tmp-wasm.cjs || { echo "kernels-wasm: the module was not embedded" >&2; exit 1; }
    mv build/kernels/tmp-wasm.cjs "$out"
  fi
  echo wasm
fi
