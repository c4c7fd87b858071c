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

/// Which elements share a scale: the whole matrix, each row, or each block
/// of kMxBlock consecutive elements of a row (OCP Microscaling).
enum class Fp8Grouping { Tensor = 0, Row = 1, MxBlock = 2 };
constexpr int64_t kMxBlock = 32;

/// The shared scale X of an MX block whose largest magnitude is `amax`
/// (OCP Microscaling v1.0, 6.3): 2^(floor(log2(amax)) - emax), emax the
/// element format's largest exponent (8 for E4M3FN, 15 for E5M2), clamped
/// to E8M0's [2^-127, 2^127]; amax 0 gives 2^-127; NaN gives NaN; an
/// infinite amax counts as 2^128.
float mxScale(float amax, int emax);

/// Quantises x [rows, cols]. Tensor and Row groups (scale[0], scale[r])
/// are scaled up by fp8Scale and give clamp(x * scale, -fp8Max, fp8Max);
/// MxBlock groups (scale[r * cols / 32 + b]) are scaled down by mxScale
/// and give clamp(x / X, -fp8Max, fp8Max). NaN stays NaN. The caller
/// rounds `scaled` to the FP8 type. `scaled` must not overlap `x`.
void fp8Quantize(ThreadPool &pool, const float *x, int64_t rows, int64_t cols,
                 Fp8Grouping grouping, bool pow2, float fp8Max, float *scaled,
                 float *scale);

/// out [m, n] = dequantised a [m, k] · (dequantised b [n, k])ᵀ with a and
/// b holding FP8 values exactly. Tensor and Row scales dequantise by
/// division (as torchao's emulation does; multiplying by a reciprocal
/// differs), MX block scales by multiplication (exact: powers of two); then
/// one f32 GEMM. `scratch` holds (m + n) k floats.
void scaledMatmul(ThreadPool &pool, const float *a, const float *aScale,
                  Fp8Grouping aGrouping, const float *b, const float *bScale,
                  Fp8Grouping bGrouping, int64_t m, int64_t n, int64_t k,
                  float *out, float *scratch);

/// Delayed scaling's cast (TransformerEngine): scaled = clamp(x * scale,
/// -fp8Max, fp8Max) for n elements (NaN stays NaN; the caller rounds to the
/// FP8 type, which makes the clamp TE's satfinite cast) and *amax = max |x|
/// (NaN if x holds one). `scaled` must not overlap `x`.
void fp8QuantizeScaled(ThreadPool &pool, const float *x, int64_t n, float scale,
                       float fp8Max, float *scaled, float *amax);

/// Which amax of its history delayed scaling computes the scale from.
enum class Fp8AmaxAlgo { Max = 0, MostRecent = 1 };

/// TransformerEngine's DelayedScaling update after a step that saw `amax`:
/// h = history with h[0] = amax; a = max(h) (NaN if any is NaN) or amax;
/// newScale = f32(fp8Max / a) / 2^margin if a is finite and positive, else
/// scale (an infinite result becomes the largest f32); newHistory =
/// roll(h, -1) with newHistory[0] = 0. newHistory may alias history.
void fp8ScaleUpdate(const float *history, int64_t length, float scale,
                    float amax, Fp8AmaxAlgo algo, int64_t margin, float fp8Max,
                    float *newHistory, float *newScale);

/// out [m, n] = (a [m, k] · b [n, k]ᵀ) * ((1 / aScale) * (1 / bScale)):
/// one f32 GEMM of the FP8 values (exact products), then the inverse
/// scales applied to the product, as cuBLASLt applies TransformerEngine's
/// scale_inv (the order of the two multiplications is this emulation's).
void scaledMatmulOutputScaled(ThreadPool &pool, const float *a, float aScale,
                              const float *b, float bScale, int64_t m,
                              int64_t n, int64_t k, float *out);

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_FLOAT8KERNELS_H
