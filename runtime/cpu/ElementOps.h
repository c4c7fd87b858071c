//===- ElementOps.h - per-element maths shared by the CPU kernels -*- C++ -*-===//
//
// One definition of each elementwise function, used by the single-op
// kernels and by the fused elementwise interpreter alike, so that fusing a
// chain never changes a bit of its result.
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

inline float gelu(float x) {
  return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
}

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

inline float geluGrad(float grad, float x) {
  constexpr float kAlpha = static_cast<float>(M_2_SQRTPI * M_SQRT1_2 * 0.5);
  float cdf = 0.5f * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
  float pdf = kAlpha * std::exp(-0.5f * x * x);
  return grad * (cdf + x * pdf);
}

inline float geluTanhGrad(float grad, float x) {
  float inner = kGeluBeta * (x + kGeluKappa * x * x * x);
  float t = std::tanh(inner);
  float dInner = kGeluBeta * (1.0f + 3.0f * kGeluKappa * x * x);
  return grad * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * dInner);
}

} // namespace accel::rt::cpu::element

#endif // ACCEL_RUNTIME_CPU_ELEMENTOPS_H
