// Picks the ISA variant of the GEMM microkernel once, from what the CPU
// supports (natively); WebAssembly has the one SIMD128 variant.
#include "gemm.h"

namespace wtconv {

namespace {

const GemmMicrokernel& pick() {
#if defined(WTCONV_GEMM_KERNEL_VARIANTS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return avx512::kGemmMicrokernel;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return avx2::kGemmMicrokernel;
#endif
  return baseline::kGemmMicrokernel;
}

}  // namespace

const GemmMicrokernel& gemm_microkernel() {
  static const GemmMicrokernel& chosen = pick();
  return chosen;
}

}  // namespace wtconv
