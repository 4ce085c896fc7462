// The machinery behind conv1d/2d/3d and conv_transpose2d: unfold -> GEMM ->
// fold, threaded over independent blocks, with per-thread scratch from the
// pool (no allocation per call). Callers validate the geometry first
// (make_conv_geometry or their own checks).
#pragma once

#include "../kernels/gemm.h"
#include "../kernels/im2col-nd.h"
#include "conv-geometry.h"

namespace wtconv {

// Tasks a parallel convolution aims for: about eight per thread, so uneven
// tasks, and threads running at uneven speeds, still balance (a region ends
// with the last task; WaveMix's 4x4 stride-2 upsampling, 16 images, in WASM on
// 2 threads: 1.09-1.33x at eight against four, the whole model 1.025-1.03x,
// natively the same within noise).
size_t task_target();

// Floats of packed weight a thread may keep for its tasks (gemm_pack_a_whole).
constexpr size_t kHeldWeightBudget = size_t{1} << 20;
// Floats (rounded for alignment) of an m x k weight packed whole; 0 when that is
// over kHeldWeightBudget (the weight is then packed block by block per task).
size_t held_weight_floats(const GemmMicrokernel& kernel, int32_t m, int32_t k);

// y = conv(x, weight) [+ bias]; weight (out, in / groups, *kernel). bias may be NULL.
wtconv_status conv_forward_nd(const ConvGeometry& g, const float* x, const float* weight,
                              const float* bias, float* y);
// grad_x = conv^T(grad_y) (overwritten).
wtconv_status conv_backward_input_nd(const ConvGeometry& g, const float* grad_y,
                                     const float* weight, float* grad_x);
// grad_weight = sum over the batch of grad_y * unfold(x)^T (overwritten).
wtconv_status conv_backward_weight_nd(const ConvGeometry& g, const float* x, const float* grad_y,
                                      float* grad_weight);
// grad_bias[c] = sum of grad_y[:, c] (overwritten); y has `plane` values per channel.
wtconv_status channel_sum(int32_t batch, int32_t channels, size_t plane, const float* grad_y,
                          float* grad_bias);
// y[:, c] = scale[c] * y[:, c] + bias[c] + residual[:, c]; scale, bias and residual
// may each be null (that term left out).
wtconv_status channel_affine(int32_t batch, int32_t channels, size_t plane, const float* scale, const float* bias,
                             const float* residual, float* y);

// The C ABI's conv{1,2,3}d entry points share these: they validate pointers
// and run forward / backward for a geometry.
wtconv_status run_conv_forward(const ConvGeometry& g, const float* x, const float* weight,
                               const float* bias, float* y);
wtconv_status run_conv_backward(const ConvGeometry& g, const float* x, const float* weight,
                                const float* grad_y, float* grad_x, float* grad_weight,
                                float* grad_bias);

}  // namespace wtconv
