#!/usr/bin/env bash
# Builds the CUDA addons (called by scripts/setup.sh; incremental):
#   build/cuda-emu/Release/wtconv_cuda_emu.node  the host emulator (always: g++ only)
#   build/cuda/Release/wtconv_cuda.node          the CUDA kernels (when nvcc is found)
# WTCONV_CUDA=0 skips the CUDA build; WTCONV_CUDA=1 makes a missing nvcc an error.
set -euo pipefail
cd "$(dirname "$0")/.."

build() {  # <out dir> [cmake-js args...]
  local out=$1
  shift
  if [ -f "$out/CMakeCache.txt" ]; then
    npx cmake-js build -d cuda --out "$out" "$@"
  else
    npx cmake-js compile -d cuda --out "$out" "$@"
  fi
}

build build/cuda-emu --CDWTCONV_CUDA_EMULATE=ON

nvcc=""
for candidate in "${CUDACXX:-}" "$(command -v nvcc || true)" /usr/local/cuda/bin/nvcc; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    nvcc=$(readlink -f "$candidate")
    # /usr/local/bin/nvcc may be a wrapper script: use the compiler it runs.
    if ! head -c 4 "$nvcc" | grep -q ELF; then
      real=$(grep -o '/[^ "]*/bin/nvcc' "$nvcc" | head -1 || true)
      [ -n "$real" ] && [ -x "$real" ] && nvcc=$real
    fi
    break
  fi
done
if [ "${WTCONV_CUDA:-}" = 0 ]; then
  echo "cuda/build.sh: WTCONV_CUDA=0: the CUDA addon is not built"
elif [ -z "$nvcc" ]; then
  [ "${WTCONV_CUDA:-}" = 1 ] && { echo "cuda/build.sh: nvcc not found (WTCONV_CUDA=1)" >&2; exit 1; }
  echo "cuda/build.sh: nvcc not found: the CUDA addon is not built (the CPU backends are unaffected)"
else
  # Two cores are shared on CI: one nvcc at a time, the 4 architectures in parallel threads.
  build build/cuda --CDCMAKE_CUDA_COMPILER="$nvcc" --CDCMAKE_CUDA_FLAGS="--threads=4"
fi
