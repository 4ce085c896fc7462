// The machine's measured floating-point peak for the benchmark's "fraction of
// peak" column: independent multiply-add chains on vectors, on 1..T threads.
// Built natively with -march=native -ffp-contract=fast (the chains become FMA
// instructions) and for WebAssembly with -msimd128 (no FMA there: mul + add).
// usage: peak THREADS  ->  {"threads": T, "gflops": G}
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

// One register per chain: wider vectors than the ISA's would split into several
// registers and spill (AVX2 and SSE have 16 vector registers, AVX-512 32).
#if defined(__wasm__)
constexpr int kLanes = 4;
constexpr int kChains = 12;  // V8 keeps a few of its 16 vector registers
#elif defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kChains = 12;
#elif defined(__AVX__)
constexpr int kLanes = 8;
constexpr int kChains = 12;
#else
constexpr int kLanes = 4;
constexpr int kChains = 12;
#endif
typedef float vf __attribute__((vector_size(4 * kLanes)));

// Read at run time, so the compiler cannot fold the multipliers into constants
// (WebAssembly would then rebuild them at every use).
volatile float g_multiplier = 0.999999f;

// Never inlined: V8 runs a WebAssembly function's optimised code only from its
// next call on (a running call keeps its baseline code), so the measured loop
// must be a call of its own, made many times; inlined into run() and main(),
// it ran as one call of baseline code at a tenth of the machine's rate.
__attribute__((noinline)) static double chains(long iterations, float seed) {
  vf acc[kChains];
  vf m = {}, a = {};
  m += g_multiplier;
  a += seed * 1e-7f;
  for (int i = 0; i < kChains; ++i) acc[i] = m * static_cast<float>(i + 1);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * m + a;
  }
  double sum = 0;
  for (int i = 0; i < kChains; ++i) sum += acc[i][0];
  return sum;
}

// The chains run as many short calls (see chains()).
constexpr int kCalls = 200;

static double run(long iterations, float seed) {
  double s = 0;
  for (int c = 0; c < kCalls; ++c) s += chains(iterations / kCalls, seed);
  return s;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const long iterations = 100000000L / kLanes / kCalls * kCalls;
  volatile double sink = 0;
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { sink = sink + run(iterations / 10, static_cast<float>(t)); });
  sink = sink + run(iterations / 10, 1.0f);  // warm-up (and tier-up) on every thread
  for (auto& t : pool) t.join();
  pool.clear();
  // Best of three timed rounds: on a shared host the speed drifts, and the peak
  // is what the machine can do, not what it did once.
  double seconds = 1e30;
  for (int round = 0; round < 3; ++round) {
    pool.clear();
    const auto t0 = std::chrono::steady_clock::now();
    for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { sink = sink + run(iterations, static_cast<float>(t)); });
    sink = sink + run(iterations, 0.0f);
    for (auto& t : pool) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < seconds) seconds = s;
  }
  const double flops = 2.0 * kLanes * kChains * static_cast<double>(iterations) * threads;
  std::printf("{\"threads\": %d, \"gflops\": %.2f}\n", threads, flops / seconds / 1e9);
  return 0;
}
