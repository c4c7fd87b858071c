//===- Broadcast.h - index helpers shared by the CPU kernels ----*- C++ -*-===//

#ifndef ACCEL_RUNTIME_CPU_BROADCAST_H
#define ACCEL_RUNTIME_CPU_BROADCAST_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <vector>

namespace accel::rt::cpu {

// Elementwise loops are split into chunks of at least this many elements:
// smaller ones cost more to hand out than to compute.
constexpr int64_t kElementGrain = 1 << 14;

inline int64_t product(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Per-dimension values of a kernel call: inline up to rank 8, so that a
/// step allocates nothing (tests/lit/run/allocations.test).
using DimVector = llvm::SmallVector<int64_t, 8>;

/// Element strides of `shape` aligned to `out` (rank padded on the left),
/// with 0 where the dimension broadcasts.
inline DimVector broadcastStrides(llvm::ArrayRef<int64_t> shape,
                                  llvm::ArrayRef<int64_t> out) {
  DimVector strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    size_t d = shape.size() - 1 - i, o = out.size() - 1 - i;
    strides[o] = shape[d] == 1 ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

/// The offset of output row `row` (all dimensions but the last) in an
/// operand with broadcast `strides`.
inline int64_t rowOffset(int64_t row, llvm::ArrayRef<int64_t> outShape,
                         llvm::ArrayRef<int64_t> strides) {
  int64_t offset = 0;
  for (int64_t d = static_cast<int64_t>(outShape.size()) - 2; d >= 0; --d) {
    offset += (row % outShape[d]) * strides[d];
    row /= outShape[d];
  }
  return offset;
}

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_BROADCAST_H
