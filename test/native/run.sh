#!/usr/bin/env bash
# Builds the native C ABI tests (test/native) twice, under AddressSanitizer +
# UBSan and under ThreadSanitizer, and runs both with ctest.
#   --build-only   build, do not run
# WTCONV_TEST_SEED=<n> replays the randomised cases of an earlier run.
set -euo pipefail
cd "$(dirname "$0")/../.."
build_only=0
[ "${1:-}" = "--build-only" ] && build_only=1
status=0
for sanitize in address,undefined thread; do
  dir="build/native-test/${sanitize%%,*}"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" -DWTCONV_SANITIZE="$sanitize" -DCMAKE_BUILD_TYPE=Release > /dev/null
  fi
  cmake --build "$dir" --parallel "$(nproc 2> /dev/null || echo 2)" > /dev/null
  if [ "$build_only" = 0 ]; then
    echo "== native tests, -fsanitize=$sanitize"
    ctest --test-dir "$dir" --output-on-failure || status=1
  fi
done
exit "$status"
