#!/usr/bin/env bash
# Builds the two WebAssembly modules (SIMD + pthreads, SIMD single-threaded)
# with Emscripten and places them in dist/wasm/. Incremental: CMake rebuilds
# only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
if [ ! -f build/wasm/CMakeCache.txt ]; then
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release > /dev/null
fi
cmake --build build/wasm -j "$(nproc)"
mkdir -p dist/wasm
for f in build/wasm/wtconv-threaded.js build/wasm/wtconv-threaded.wasm build/wasm/wtconv-threaded.worker.js \
         build/wasm/wtconv-simd.js build/wasm/wtconv-simd.wasm; do
  # Emscripten's glue is CommonJS: keep it .cjs so it loads under any package type.
  base=$(basename "$f")
  case "$base" in
    *.js) cp "$f" "dist/wasm/${base%.js}.cjs" ;;
    *) cp "$f" "dist/wasm/$base" ;;
  esac
done
