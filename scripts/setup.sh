#!/usr/bin/env bash
# Takes a fresh Debian/Ubuntu machine with Node >= 20 to a built package:
# installs what is missing (CMake, a C++ compiler, Emscripten, Chromium, npm packages)
# and rebuilds what is stale (WASM modules, native addon, TypeScript bundles).
# Safe to run again: every step is skipped or incremental when up to date.
#   --quiet       print only errors and a one-line summary
#   --build-only  do not install anything, only build
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=0
install=1
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --build-only) install=0 ;;
    *) echo "setup.sh: unknown option '$arg' (accepted: --quiet, --build-only)" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
run() { if [ "$quiet" = 1 ]; then "$@" > /tmp/wtconv-setup.log 2>&1 || { cat /tmp/wtconv-setup.log >&2; return 1; }; else "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ "$install" = 1 ]; then
  missing=()
  command -v cmake > /dev/null || missing+=(cmake)
  command -v make > /dev/null || missing+=(make)
  command -v g++ > /dev/null || missing+=(g++)
  command -v emcc > /dev/null || missing+=(emscripten)
  [ -x /usr/bin/chromium ] || missing+=(chromium)  # the browser test (test/browser.test.ts)
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing ${missing[*]} (apt-get)"
    run $sudo apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (npm ci)"
    # onnxruntime-node (a benchmark peer) must not fetch CUDA libraries from outside npm.
    run env ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund
  fi
fi

# One build at a time: concurrent runs (parallel test commands) wait here
# instead of writing the same build directories at once.
mkdir -p build
exec 9> build/.setup.lock
flock 9

say "building the WebAssembly modules"
run bash wasm/build.sh

say "building the native addon"
if [ -f build/native/CMakeCache.txt ]; then
  run npx cmake-js build --out build/native
else
  run npx cmake-js compile --out build/native
fi

say "building the CUDA addon (its host emulator always; the GPU kernels where nvcc is)"
run bash cuda/build.sh

say "building the native C ABI tests (AddressSanitizer + UBSan, ThreadSanitizer)"
run bash test/native/run.sh --build-only

stamp=dist/node/index.mjs
if [ ! -f "$stamp" ] || [ -n "$(find ts scripts/bundle.mjs package.json -newer "$stamp" -print -quit)" ]; then
  say "bundling the TypeScript (esbuild) and emitting declarations (tsc)"
  run node scripts/bundle.mjs
  run npx tsc -p tsconfig.json --emitDeclarationOnly
  touch "$stamp"
fi
[ "$quiet" = 1 ] && echo "setup: built (wasm, native, dist)" || say "done"
