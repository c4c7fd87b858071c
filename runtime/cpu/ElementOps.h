//===- ElementOps.h - per-element maths shared by the CPU kernels -*- C++ -*-===//
//
// One definition of each elementwise function, used by the single-op
// kernels and by the fused elementwise interpreter alike, so that fusing a
// chain never changes a bit of its result. GELU's erf form is computed a
// block at a time instead (VectorMath.h), for the same reason.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_ELEMENTOPS_H
#define ACCEL_RUNTIME_CPU_ELEMENTOPS_H

#include <cmath>

namespace accel::rt::cpu::element {

/// NaN stays NaN, as in ATen's relu (clamp_min propagates it).
inline float relu(float x) { return x > 0.0f || x != x ? x : 0.0f; }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float rsqrt(float x) { return 1.0f / std::sqrt(x); }

constexpr float kGeluBeta = 0.7978845608028654f; // sqrt(2 / pi)
constexpr float kGeluKappa = 0.044715f;

inline float geluTanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(kGeluBeta * (x + kGeluKappa * x * x * x)));
}

/// ATen's threshold_backward: zero where input <= 0, so a NaN input passes
/// its gradient (NaN <= 0 is false).
inline float reluGrad(float grad, float input) {
  return input <= 0.0f ? 0.0f : grad;
}

inline float geluTanhGrad(float grad, float x) {
  float inner = kGeluBeta * (x + kGeluKappa * x * x * x);
  float t = std::tanh(inner);
  float dInner = kGeluBeta * (1.0f + 3.0f * kGeluKappa * x * x);
  return grad * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * dInner);
}

} // namespace accel::rt::cpu::element

#endif // ACCEL_RUNTIME_CPU_ELEMENTOPS_H
