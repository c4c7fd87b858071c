//===- ShapeInference.cpp - PyTorch shape rules ---------------------------===//

#include "dialects/accel/ShapeInference.h"

#include <algorithm>

namespace accel::shape {

std::optional<llvm::SmallVector<int64_t>>
broadcast(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  llvm::SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Walk from the trailing dimension; a missing leading dimension is 1.
    int64_t l = i < lhs.size() ? lhs[lhs.size() - 1 - i] : 1;
    int64_t r = i < rhs.size() ? rhs[rhs.size() - 1 - i] : 1;
    if (l != r && l != 1 && r != 1)
      return std::nullopt;
    result[rank - 1 - i] = l == 1 ? r : l;
  }
  return result;
}

int64_t convOutputSize(int64_t input, int64_t kernel, int64_t stride,
                       int64_t padding, int64_t dilation) {
  int64_t span = input + 2 * padding - dilation * (kernel - 1) - 1;
  // Floor division: a negative span must not round towards zero to 0.
  int64_t quotient = span >= 0 ? span / stride : -((-span + stride - 1) / stride);
  return quotient + 1;
}

int64_t poolOutputSize(int64_t input, int64_t kernel, int64_t stride,
                       int64_t padding, int64_t dilation, bool ceilMode) {
  int64_t span = input + 2 * padding - dilation * (kernel - 1) - 1 +
                 (ceilMode ? stride - 1 : 0);
  int64_t output =
      (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  // The last window must start inside the input or the left padding.
  if (ceilMode && (output - 1) * stride >= input + padding)
    --output;
  return output;
}

int64_t numElements(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace accel::shape
