//===- Tensors.h - shared pieces of the parity tools ------------*- C++ -*-===//

#ifndef ACCEL_TESTS_PARITY_TENSORS_H
#define ACCEL_TESTS_PARITY_TENSORS_H

#include "compiler/import/TorchScriptImporter.h"
#include "runtime/io/Safetensors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>

namespace accel::parity {

/// A random input for `spec`: normal floats, integers in [0, intBound),
/// booleans.
inline at::Tensor draw(const InputSpec &spec, int64_t intBound) {
  if (spec.elementType == "i64")
    return at::randint(0, intBound, spec.shape, at::kLong);
  if (spec.elementType == "i1")
    return at::randint(0, 2, spec.shape, at::kLong).to(at::kBool);
  at::Tensor t = at::randn(spec.shape);
  if (spec.elementType == "bf16")
    return t.to(at::kBFloat16);
  if (spec.elementType == "f16")
    return t.to(at::kHalf);
  return t;
}

/// A copy of a tensor read from a safetensors file.
inline at::Tensor fromSafetensors(const io::SafetensorsFile::Tensor &t) {
  static const std::map<io::DType, at::ScalarType> dtypes = {
      {io::DType::F32, at::kFloat}, {io::DType::BF16, at::kBFloat16},
      {io::DType::F16, at::kHalf},  {io::DType::I64, at::kLong},
      {io::DType::Bool, at::kBool}};
  return at::from_blob(const_cast<uint8_t *>(t.bytes.data()), t.shape,
                       dtypes.at(t.dtype))
      .clone();
}

/// max|actual - expected| / max|expected|, in f64.
inline double relativeError(const at::Tensor &actual,
                            const at::Tensor &expected) {
  at::Tensor a = actual.to(at::kDouble), e = expected.to(at::kDouble);
  double scale = e.abs().max().item<double>();
  double diff = (a - e).abs().max().item<double>();
  return diff / std::max(scale, 1e-30);
}

} // namespace accel::parity

#endif // ACCEL_TESTS_PARITY_TENSORS_H
