// Picks the ISA variant of the GEMM microkernel once, from what the CPU
// supports (natively); WebAssembly has the one SIMD128 variant.
#include "gemm.h"
#include "isa-variant.h"

namespace wtconv {

namespace {

const GemmMicrokernel& pick() {
#if defined(WTCONV_GEMM_KERNEL_VARIANTS)
  switch (detect_isa_variant()) {
    case IsaVariant::kAvx512: return avx512::kGemmMicrokernel;
    case IsaVariant::kAvx2: return avx2::kGemmMicrokernel;
    case IsaVariant::kBaseline: break;
  }
#endif
  return baseline::kGemmMicrokernel;
}

}  // namespace

const GemmMicrokernel& gemm_microkernel() {
  static const GemmMicrokernel& chosen = pick();
  return chosen;
}

}  // namespace wtconv
