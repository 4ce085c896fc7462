// Which ISA variant of the per-ISA microkernels (depthwise-conv2d-padded-*,
// gemm-microkernel-*, activation-*) this CPU runs: the one test their
// dispatchers share. The avx2 and avx512 variants are built only on x86-64
// (the WTCONV_*_KERNEL_VARIANTS definitions); elsewhere this says baseline.
#pragma once

namespace wtconv {

enum class IsaVariant { kBaseline, kAvx2, kAvx512 };

// avx512: AVX-512 F, BW, DQ and VL; avx2: AVX2 with FMA; else baseline.
inline IsaVariant detect_isa_variant() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return IsaVariant::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return IsaVariant::kAvx2;
#endif
  return IsaVariant::kBaseline;
}

}  // namespace wtconv
