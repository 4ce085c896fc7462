// The Haar (db1) level of the 2-D wavelet transform on one plane, the fast
// path of dwt2d-plane.h. For the block [[a, b], [c, d]]:
//   LL = (a+b+c+d)/2, band1 = (a+b-c-d)/2, band2 = (a-b+c-d)/2, band3 = (a-b-c+d)/2,
// and synthesis is the transpose. Both filter banks of db1 are this one matrix,
// so analysis is the adjoint of synthesis and the two serve all four uses.
#pragma once

#include <cstdint>

namespace wtconv {

// bands[b] (ceil(h/2) x ceil(w/2), rows of band_stride) from the (h, w) plane
// (rows of in_stride), zero-extended to even size.
void haar_plane_analyze(const float* in, int32_t in_stride, int32_t h, int32_t w,
                        float* const bands[4], int32_t band_stride);

// The (h, w) plane (rows of out_stride, overwritten) synthesised from the four
// bands and cropped.
void haar_plane_synthesize(const float* const bands[4], int32_t band_stride, int32_t h,
                           int32_t w, float* out, int32_t out_stride);

}  // namespace wtconv
