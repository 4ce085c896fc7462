// Runtime entry points of the C ABI: errors, version, ISA, threads, workspace
// (the thread pool's and the kept transformed weights).
#include "common.h"
#include "thread-pool.h"
#include "weight-cache.h"

using wtconv::ThreadPool;
using wtconv::WeightCache;

extern "C" {

const char* wtconv_last_error(void) { return wtconv::last_error_message(); }

const char* wtconv_version(void) { return WTCONV_VERSION_STRING; }

const char* wtconv_isa(void) {
#if defined(__wasm_simd128__)
  return "wasm-simd128";
#elif defined(__wasm__)
  return "wasm";
#elif defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512f";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
  return "sse2";
#elif defined(__aarch64__)
  return "neon";
#else
  return "scalar";
#endif
}

int32_t wtconv_set_num_threads(int32_t n) { return ThreadPool::instance().set_threads(n); }
int32_t wtconv_get_num_threads(void) { return ThreadPool::instance().threads(); }
int32_t wtconv_threads_used_last(void) { return ThreadPool::instance().threads_used_last(); }
double wtconv_workspace_bytes(void) {
  return static_cast<double>(ThreadPool::instance().workspace_bytes() + WeightCache::bytes());
}
void wtconv_release_workspace(void) {
  ThreadPool::instance().release_workspace();
  WeightCache::release();
}

}  // extern "C"
