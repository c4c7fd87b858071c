//===- KernelTestSupport.h - comparing CPU kernels with ATen ----*- C++ -*-===//

#ifndef ACCEL_TESTS_UNIT_KERNELTESTSUPPORT_H
#define ACCEL_TESTS_UNIT_KERNELTESTSUPPORT_H

#include <ATen/ATen.h>

#include <algorithm>

namespace accel::testing {

/// max|actual - expected| relative to max|expected|, in f64: the error of a
/// kernel's output at the scale of the result.
inline double relError(const at::Tensor &actual, const at::Tensor &expected) {
  double scale = std::max(expected.abs().max().item<double>(), 1e-30);
  return (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>() /
         scale;
}

/// The f32 storage of a contiguous tensor, for the kernels' raw pointers.
inline float *data(at::Tensor &t) { return t.data_ptr<float>(); }

} // namespace accel::testing

#endif // ACCEL_TESTS_UNIT_KERNELTESTSUPPORT_H
