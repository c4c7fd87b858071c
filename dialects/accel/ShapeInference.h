//===- ShapeInference.h - PyTorch shape rules -------------------*- C++ -*-===//
//
// The shape arithmetic of the aten ops that accel mirrors, kept free of IR
// types so that it can be unit tested against PyTorch's numbers directly.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECTS_ACCEL_SHAPEINFERENCE_H
#define ACCEL_DIALECTS_ACCEL_SHAPEINFERENCE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace accel::shape {

/// The shape two operands broadcast to under PyTorch's (NumPy's) rules:
/// trailing dimensions align and a size of 1 stretches. None when a pair of
/// aligned dimensions differs and neither is 1.
std::optional<llvm::SmallVector<int64_t>>
broadcast(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// Output length of a convolution over one dimension (floor division), as
/// torch.nn.Conv2d documents it. May be zero or negative for invalid inputs.
int64_t convOutputSize(int64_t input, int64_t kernel, int64_t stride,
                       int64_t padding, int64_t dilation);

/// Output length of a pooling window over one dimension, PyTorch's
/// pooling_output_shape: with `ceilMode` the division rounds up, but a last
/// window that would start inside the right padding is dropped.
int64_t poolOutputSize(int64_t input, int64_t kernel, int64_t stride,
                       int64_t padding, int64_t dilation, bool ceilMode);

/// Product of the dimensions (1 for a scalar).
int64_t numElements(llvm::ArrayRef<int64_t> shape);

} // namespace accel::shape

#endif // ACCEL_DIALECTS_ACCEL_SHAPEINFERENCE_H
