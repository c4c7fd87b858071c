//===- Float8Kernels.h - FP8 quantisation and scaled GEMMs ------*- C++ -*-===//
//
// The CPU emulation of FP8 training's two kernels, as torchao computes them
// (docs/fp8-recipes.md): dynamic scaling of a matrix to an FP8 range, and
// the product of two quantised matrices. Values are f32 here; the executor
// rounds the quantised values to the FP8 type when it stores them.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_FLOAT8KERNELS_H
#define ACCEL_RUNTIME_CPU_FLOAT8KERNELS_H

#include "runtime/cpu/ThreadPool.h"

#include <cstdint>

namespace accel::rt::cpu {

/// The scale that maps a group with largest magnitude `amax` onto
/// [-fp8Max, fp8Max]: f32(fp8Max * (1 / max(f64(amax), 1e-12))), as
/// torchao's amax_to_scale computes it (torch divides a scalar by a tensor
/// as a reciprocal and a product, here in f64). NaN stays NaN, infinity
/// gives 0. With `pow2`, rounded to a power of two as
/// exp2(floor(log2(scale))) in f32 gives it: log2 rounds to the next
/// integer just below a power of two, so this is not a bit floor
/// (roundScaleToPow2).
float fp8Scale(float amax, float fp8Max, bool pow2);

/// exp2(floor(log2f(scale))) for a positive, finite or zero f32 scale,
/// reproducing the rounding of f32 log2 (see docs/fp8-recipes.md: a scale
/// whose mantissa field is within a few units of 2^23 rounds up to the
/// next power of two, the margin growing with |exponent|).
float roundScaleToPow2(float scale);

/// Quantises x [rows, cols]: one scale (`rowwise` false; scale[0]) or one
/// per row (scale[r]); writes clamp(x * scale, -fp8Max, fp8Max) to
/// `scaled` (NaN stays NaN), which the caller rounds to the FP8 type. `scaled` must not overlap `x`.
void fp8Quantize(ThreadPool &pool, const float *x, int64_t rows, int64_t cols,
                 bool rowwise, bool pow2, float fp8Max, float *scaled,
                 float *scale);

/// out [m, n] = (a / aScale) [m, k] · ((b / bScale) [n, k])ᵀ with a and b
/// holding FP8 values exactly; a scale has one element, or one per row.
/// Dequantises by division (as torchao's emulation does; multiplying by a
/// reciprocal differs), then one f32 GEMM. `scratch` holds (m + n) k
/// floats.
void scaledMatmul(ThreadPool &pool, const float *a, const float *aScale,
                  bool aRowwise, const float *b, const float *bScale,
                  bool bRowwise, int64_t m, int64_t n, int64_t k, float *out,
                  float *scratch);

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_FLOAT8KERNELS_H
