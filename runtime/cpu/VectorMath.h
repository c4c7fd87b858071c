//===- VectorMath.h - transcendental functions over blocks ------*- C++ -*-===//
//
// erf and exp of many floats at once through glibc's vector maths library
// (libmvec, the functions GCC calls when it vectorises a loop of erff or
// expf): GELU an order of magnitude faster than through the scalar erff
// (bench/elementwise_bench.cpp measures it); erf within 2 ulp of the
// exact result, exp within 3 (tests/unit/VectorMathTest.cpp measures both
// against double precision).
//
// One vector width is chosen per process (8 with AVX2, else 4), and a
// block's tail is computed in a padded vector, so every element's result
// depends on its value alone: the single-op kernels and the fused-chain
// interpreter, which both call these, agree bit for bit wherever an element
// falls in a block.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_VECTORMATH_H
#define ACCEL_RUNTIME_CPU_VECTORMATH_H

#include <cstdint>

namespace accel::rt::cpu {

/// y[i] = erf(x[i]) for i < n; y may be x.
void erfBlock(const float *x, float *y, int64_t n);
/// y[i] = exp(x[i]) for i < n; y may be x.
void expBlock(const float *x, float *y, int64_t n);

/// GELU (the erf form): y = x/2 · (1 + erf(x/√2)); y may be x.
void geluBlock(const float *x, float *y, int64_t n);
/// GELU's gradient: out = grad · (Φ(x) + x·φ(x)); out may be grad or x.
void geluGradBlock(const float *grad, const float *x, float *out, int64_t n);

/// The vector width in use (4 or 8), for tests.
int vectorMathWidth();

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_VECTORMATH_H
