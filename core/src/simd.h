// The one vector abstraction of the core: GCC/Clang vector extensions of
// kLanes floats. A kernel written with it compiles, from one source, to AVX-512,
// AVX2 or SSE2 in the clones that WTCONV_MULTIVERSION makes (see the lane
// count below), and to WebAssembly SIMD128. Everything here is
// always_inline so each clone lowers it to its own ISA.
#pragma once

#include <cstring>
#include <utility>
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

namespace wtconv {
namespace simd {

// By default 8 lanes natively: one ymm in the AVX2 clone of WTCONV_MULTIVERSION
// code, whose 16 registers then hold a whole kernel (at 16 lanes, a pair of ymm
// per value, they spill to the stack), two xmm in SSE2, half a zmm in the
// AVX-512 clone; in WebAssembly one v128, since V8 has only 16 vector registers
// and wider vectors there spill. A translation unit built for one ISA sets its
// own width (the ISA variants of depthwise-conv2d-padded-*.cc and
// gemm-microkernel-*.cc: 16 for AVX-512, 8 for AVX2, 4 for SSE2), and the lane
// count is part of every name here, so variants never collide.
#ifndef WTCONV_SIMD_LANES
#if defined(__wasm__)
#define WTCONV_SIMD_LANES 4
#else
#define WTCONV_SIMD_LANES 8
#endif
#endif
#define WTCONV_SIMD_NS_(n) lanes##n
#define WTCONV_SIMD_NS(n) WTCONV_SIMD_NS_(n)
inline namespace WTCONV_SIMD_NS(WTCONV_SIMD_LANES) {
constexpr int kLanes = WTCONV_SIMD_LANES;
typedef float vf __attribute__((vector_size(4 * kLanes)));

#define WTCONV_INLINE inline __attribute__((always_inline))

WTCONV_INLINE vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof(v));  // an unaligned vector load
  return v;
}
WTCONV_INLINE void store(float* p, vf v) { std::memcpy(p, &v, sizeof(v)); }
WTCONV_INLINE vf splat(float s) {
#if defined(__clang__)
  // Clang folds s - 0 to a plain broadcast (s + 0 it keeps: -0 + 0 is +0).
  const vf zero_vector = {};
  return s - zero_vector;
#else
  // GCC: 0 + s, which its target_clones clones compile to one broadcast
  // (s - 0 and an element-wise fill there cost extra work per use).
  vf v = {};
  return v + s;
#endif
}
WTCONV_INLINE vf zero() { return vf{}; }
namespace detail {
template <int S, int... I>
WTCONV_INLINE vf lanes_from(vf lo, vf hi, std::integer_sequence<int, I...>) {
#if defined(__clang__)
  return __builtin_shufflevector(lo, hi, (S + I)...);
#else
  typedef int vi __attribute__((vector_size(4 * kLanes)));
  return __builtin_shuffle(lo, hi, vi{(S + I)...});
#endif
}
}  // namespace detail
// Lanes [S, S + kLanes) of the 2 * kLanes lanes lo:hi: the vector S floats
// past lo's first, from two loads (one valignd on AVX-512).
template <int S>
WTCONV_INLINE vf lanes_from(vf lo, vf hi) {
  return detail::lanes_from<S>(lo, hi, std::make_integer_sequence<int, kLanes>());
}
// a * b + c. In a 16-lane AVX-512 or 8-lane AVX2 + FMA build one fused
// multiply-add (rounded once: results differ from the other builds' in the
// last bits); elsewhere a product and a sum, as the library compiles
// `a * b + c` (no FMA contraction).
WTCONV_INLINE vf fused_multiply_add(vf a, vf b, vf c) {
#if defined(__AVX512F__) && WTCONV_SIMD_LANES == 16
  return reinterpret_cast<vf>(_mm512_fmadd_ps(reinterpret_cast<__m512>(a), reinterpret_cast<__m512>(b),
                                              reinterpret_cast<__m512>(c)));
#elif defined(__FMA__) && WTCONV_SIMD_LANES == 8
  return reinterpret_cast<vf>(_mm256_fmadd_ps(reinterpret_cast<__m256>(a), reinterpret_cast<__m256>(b),
                                              reinterpret_cast<__m256>(c)));
#else
  return a * b + c;
#endif
}
// Sum of the lanes, in a fixed order (the same on every ISA).
WTCONV_INLINE float reduce_add(vf v) {
  float lanes[kLanes];
  std::memcpy(lanes, &v, sizeof(v));
  float s = 0.0f;
  for (int i = 0; i < kLanes; ++i) s += lanes[i];
  return s;
}

}  // inline namespace lanesN

// Four floats whatever the native width (one xmm / v128): data movement of
// the packing and unfolding kernels (deinterleaves and transposes), and the
// Winograd transforms.
typedef float f4 __attribute__((vector_size(16)));
typedef int i4 __attribute__((vector_size(16)));
WTCONV_INLINE f4 load4(const float* p) {
  f4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
WTCONV_INLINE void store4(float* p, f4 v) { std::memcpy(p, &v, sizeof(v)); }
#if defined(__clang__)
#define WTCONV_SHUFFLE4(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define WTCONV_SHUFFLE4(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, i4{i0, i1, i2, i3})
#endif
// Lanes 0, 2 of a and 0, 2 of b.
WTCONV_INLINE f4 even_lanes(f4 a, f4 b) { return WTCONV_SHUFFLE4(a, b, 0, 2, 4, 6); }
// Lanes 1, 3 of a and 1, 3 of b.
WTCONV_INLINE f4 odd_lanes(f4 a, f4 b) { return WTCONV_SHUFFLE4(a, b, 1, 3, 5, 7); }
// a0 b0 a1 b1 (low) and a2 b2 a3 b3 (high).
WTCONV_INLINE f4 interleave_low(f4 a, f4 b) { return WTCONV_SHUFFLE4(a, b, 0, 4, 1, 5); }
WTCONV_INLINE f4 interleave_high(f4 a, f4 b) { return WTCONV_SHUFFLE4(a, b, 2, 6, 3, 7); }
// Rows r0..r3 of a 4 x 4 block become its columns.
WTCONV_INLINE void transpose4(f4& r0, f4& r1, f4& r2, f4& r3) {
  const f4 a0 = interleave_low(r0, r1), a1 = interleave_high(r0, r1);
  const f4 a2 = interleave_low(r2, r3), a3 = interleave_high(r2, r3);
  r0 = WTCONV_SHUFFLE4(a0, a2, 0, 1, 4, 5);
  r1 = WTCONV_SHUFFLE4(a0, a2, 2, 3, 6, 7);
  r2 = WTCONV_SHUFFLE4(a1, a3, 0, 1, 4, 5);
  r3 = WTCONV_SHUFFLE4(a1, a3, 2, 3, 6, 7);
}
// dst[0, n) = src[0, n) (not overlapping), four at a time: in WebAssembly without
// bulk memory a memcpy of a run-time size is a call into libc's word loop.
WTCONV_INLINE void copy_floats(float* dst, const float* src, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) store4(dst + i, load4(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}
// Whether a[0, n) and b[0, n) hold the same bits, four at a time (libc's memcmp
// in WebAssembly compares byte by byte).
WTCONV_INLINE bool same_floats(const float* a, const float* b, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    i4 d{};
    for (size_t j = 0; j < 16; j += 4) {
      i4 x, y;
      std::memcpy(&x, a + i + j, sizeof(x));
      std::memcpy(&y, b + i + j, sizeof(y));
      d |= x ^ y;
    }
    if ((d[0] | d[1] | d[2] | d[3]) != 0) return false;
  }
  return std::memcmp(a + i, b + i, sizeof(float) * (n - i)) == 0;
}

}  // namespace simd
}  // namespace wtconv
