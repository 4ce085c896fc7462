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
constexpr int kChains = 16;
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

static double chains(long iterations, float seed) {
  vf acc[kChains];
  vf m = {}, a = {};
  m += 0.999999f;
  a += seed * 1e-7f;
  for (int i = 0; i < kChains; ++i) acc[i] = m * static_cast<float>(i + 1);
  for (long it = 0; it < iterations; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * m + a;
  }
  double sum = 0;
  for (int i = 0; i < kChains; ++i) sum += acc[i][0];
  return sum;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const long iterations = 100000000L / kLanes;
  volatile double sink = 0;
  chains(iterations / 10, 1.0f);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { sink = sink + chains(iterations, static_cast<float>(t)); });
  sink = sink + chains(iterations, 0.0f);
  for (auto& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double flops = 2.0 * kLanes * kChains * static_cast<double>(iterations) * threads;
  std::printf("{\"threads\": %d, \"gflops\": %.2f}\n", threads, flops / seconds / 1e9);
  return 0;
}
