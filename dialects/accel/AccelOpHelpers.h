//===- AccelOpHelpers.h - shared pieces of op verification ------*- C++ -*-===//
//
// Private to the dialect's .cpp files: error formatting and the shape checks
// that several ops (forward and gradient) share.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECTS_ACCEL_ACCELOPHELPERS_H
#define ACCEL_DIALECTS_ACCEL_ACCELOPHELPERS_H

#include "dialects/accel/AccelOps.h"
#include "dialects/accel/ShapeInference.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/SmallString.h"

namespace accel::detail {

using namespace mlir;

/// Emits "'<op name>' op <message>" at `loc` when there is one, so that
/// errors found while inferring types read like `emitOpError` ones.
template <typename OpTy, typename... Args>
LogicalResult opError(std::optional<Location> loc, Args &&...args) {
  return emitOptionalError(loc, "'", OpTy::getOperationName(), "' op ",
                           std::forward<Args>(args)...);
}

/// A shape printed the way PyTorch prints sizes, e.g. "[8, 3, 224, 224]".
inline std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os);
  os << "]";
  return s;
}

/// A float attribute's value in its shortest exact decimal form ("-0.5").
inline std::string formatFloat(const APFloat &value) {
  SmallString<16> s;
  value.toString(s);
  return std::string(s);
}

inline RankedTensorType tensorType(Value value) {
  return value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
}

/// Checks that every present operand is a ranked tensor with `elementType`.
template <typename OpTy>
LogicalResult checkSameElementType(std::optional<Location> loc,
                                   ArrayRef<Value> values) {
  Type first;
  for (Value v : values) {
    if (!v)
      continue;
    RankedTensorType type = tensorType(v);
    if (!type)
      return opError<OpTy>(loc, "expects ranked tensor operands, got ",
                           v.getType());
    if (!first)
      first = type.getElementType();
    else if (type.getElementType() != first)
      return opError<OpTy>(loc, "operands must share one element type, got ",
                           first, " and ", type.getElementType());
  }
  return success();
}

/// Checks `0 <= dim < rank` for a dimension attribute called `what`.
template <typename OpTy>
LogicalResult checkDim(std::optional<Location> loc, StringRef what,
                       int64_t dim, int64_t rank) {
  if (dim < 0 || dim >= rank)
    return opError<OpTy>(loc, what, " ", dim, " is out of range [0, ", rank,
                         ")");
  return success();
}

/// Checks each of a (height, width) pair against a lower bound.
template <typename OpTy>
LogicalResult checkPairAtLeast(std::optional<Location> loc, StringRef what,
                               ArrayRef<int64_t> pair, int64_t min) {
  for (int64_t v : pair)
    if (v < min)
      return opError<OpTy>(loc, what, " must be ",
                           min == 0 ? "non-negative" : "positive", ", got ",
                           formatShape(pair));
  return success();
}

template <typename OpTy>
LogicalResult checkShape(std::optional<Location> loc, StringRef what,
                         Value value, ArrayRef<int64_t> expected) {
  RankedTensorType type = tensorType(value);
  if (!type || type.getShape() != expected)
    return opError<OpTy>(loc, what, " must have shape ", formatShape(expected),
                         ", got ", value.getType());
  return success();
}

/// Whether `scalar` is a rank-0 f32 operand combined with an operand of
/// another float type: PyTorch's reduced-precision binary kernels read such
/// a scalar at full precision and give the other operand's type
/// (`x_bf16 / math.sqrt(d)` divides by the float, not by its bf16 rounding).
inline bool isScalarOperand(RankedTensorType scalar, RankedTensorType other) {
  return scalar && other && scalar.getRank() == 0 &&
         scalar.getElementType().isF32() &&
         isa<FloatType>(other.getElementType()) &&
         !other.getElementType().isF32();
}

template <typename OpTy>
LogicalResult inferBroadcastBinary(std::optional<Location> loc, Value lhs,
                                   Value rhs, SmallVectorImpl<Type> &types) {
  RankedTensorType l = tensorType(lhs), r = tensorType(rhs);
  if (isScalarOperand(r, l) || isScalarOperand(l, r)) {
    RankedTensorType tensor = isScalarOperand(r, l) ? l : r;
    types.push_back(tensor);
    return success();
  }
  if (failed(checkSameElementType<OpTy>(loc, {lhs, rhs})))
    return failure();
  std::optional<SmallVector<int64_t>> shape =
      shape::broadcast(l.getShape(), r.getShape());
  if (!shape)
    return opError<OpTy>(loc, "operand shapes do not broadcast: ", l, " and ",
                         r);
  types.push_back(RankedTensorType::get(*shape, l.getElementType()));
  return success();
}

/// Shared by max and average pooling: input rank 3 or 4, window attributes
/// in range, padding at most half the kernel (PyTorch's check), and an
/// output of at least one element per spatial dimension.
template <typename OpTy>
LogicalResult inferPool2d(std::optional<Location> loc, Value input,
                          ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                          ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
                          bool ceilMode, SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorType(input);
  if (!type || (type.getRank() != 3 && type.getRank() != 4))
    return opError<OpTy>(loc, "expects a [N, C, H, W] or [C, H, W] input, got ",
                         input.getType());
  if (failed(checkPairAtLeast<OpTy>(loc, "kernel_size", kernel, 1)) ||
      failed(checkPairAtLeast<OpTy>(loc, "stride", stride, 1)) ||
      failed(checkPairAtLeast<OpTy>(loc, "padding", padding, 0)) ||
      failed(checkPairAtLeast<OpTy>(loc, "dilation", dilation, 1)))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (padding[i] > kernel[i] / 2)
      return opError<OpTy>(loc, "padding ", formatShape(padding),
                           " must be at most half of kernel_size ",
                           formatShape(kernel));
  SmallVector<int64_t> shape(type.getShape());
  int64_t rank = type.getRank();
  for (int i = 0; i < 2; ++i) {
    int64_t size = shape::poolOutputSize(shape[rank - 2 + i], kernel[i],
                                         stride[i], padding[i], dilation[i],
                                         ceilMode);
    if (size < 1)
      return opError<OpTy>(loc, "window ", formatShape(kernel), " (dilation ",
                           formatShape(dilation), ") does not fit input ",
                           input.getType(), " with padding ",
                           formatShape(padding));
    shape[rank - 2 + i] = size;
  }
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

template <typename OpTy>
LogicalResult inferReduction(std::optional<Location> loc, Value input,
                             ArrayRef<int64_t> dims, bool keepdim,
                             SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorType(input);
  if (!type)
    return opError<OpTy>(loc, "expects a ranked tensor, got ", input.getType());
  if (dims.empty())
    return opError<OpTy>(loc, "expects at least one reduction dimension");
  llvm::SmallBitVector reduced(type.getRank());
  for (int64_t d : dims) {
    if (failed(checkDim<OpTy>(loc, "reduction dimension", d, type.getRank())))
      return failure();
    if (reduced.test(d))
      return opError<OpTy>(loc, "reduction dimension ", d, " is repeated");
    reduced.set(d);
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (!reduced.test(i))
      shape.push_back(type.getDimSize(i));
    else if (keepdim)
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

template <typename OpTy>
LogicalResult inferSoftmaxLike(std::optional<Location> loc, Value input,
                               int64_t dim, SmallVectorImpl<Type> &types) {
  RankedTensorType type = tensorType(input);
  if (!type)
    return opError<OpTy>(loc, "expects a ranked tensor, got ", input.getType());
  if (failed(checkDim<OpTy>(loc, "dim", dim, type.getRank())))
    return failure();
  types.push_back(type);
  return success();
}

/// Result of a loss: a scalar of `elementType`, or `unreduced` for `none`.
inline Type lossType(Reduction reduction, RankedTensorType unreduced) {
  if (reduction == Reduction::None)
    return unreduced;
  return RankedTensorType::get({}, unreduced.getElementType());
}


} // namespace accel::detail

#endif // ACCEL_DIALECTS_ACCEL_ACCELOPHELPERS_H
