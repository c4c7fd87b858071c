//===- AccelGradOps.cpp - accel gradient ops ------------------------------===//
//
// Result types and verification of the ops that VJPs use. A gradient op's
// operands must be what the forward op would have produced and consumed, so
// most checks re-derive the forward shape and compare.
//
//===----------------------------------------------------------------------===//

#include "dialects/accel/AccelOps.h"

#include "dialects/accel/AccelOpHelpers.h"

using namespace mlir;
using namespace accel;
using namespace accel::detail;

namespace {

/// `grad` and `input` must have one type, which is the result's.
template <typename OpTy>
LogicalResult inferSameAsInput(std::optional<Location> loc, Value grad,
                               Value input, SmallVectorImpl<Type> &types) {
  if (grad.getType() != input.getType())
    return opError<OpTy>(loc, "grad ", grad.getType(), " and input ",
                         input.getType(), " must have the same type");
  types.push_back(input.getType());
  return success();
}

/// Conv2d's output type for an input and a weight type, or an error.
template <typename OpTy>
FailureOr<RankedTensorType>
convOutputType(std::optional<Location> loc, RankedTensorType input,
               RankedTensorType weight, ArrayRef<int64_t> stride,
               ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
               int64_t groups) {
  if (input.getRank() != 4 || weight.getRank() != 4)
    return opError<OpTy>(loc, "expects rank-4 input and weight, got ", input,
                         " and ", weight);
  if (failed(checkPairAtLeast<OpTy>(loc, "stride", stride, 1)) ||
      failed(checkPairAtLeast<OpTy>(loc, "padding", padding, 0)) ||
      failed(checkPairAtLeast<OpTy>(loc, "dilation", dilation, 1)))
    return failure();
  if (groups < 1 || input.getDimSize(1) != weight.getDimSize(1) * groups ||
      weight.getDimSize(0) % groups != 0)
    return opError<OpTy>(loc, "input ", input, " and weight ", weight,
                         " do not match groups ", groups);
  SmallVector<int64_t> shape = {input.getDimSize(0), weight.getDimSize(0)};
  for (int i = 0; i < 2; ++i)
    shape.push_back(shape::convOutputSize(input.getDimSize(2 + i),
                                          weight.getDimSize(2 + i), stride[i],
                                          padding[i], dilation[i]));
  return RankedTensorType::get(shape, input.getElementType());
}

template <typename OpTy>
LogicalResult verifyConvGrad(OpTy op, RankedTensorType input,
                             RankedTensorType weight) {
  Type element = op.getGrad().getType().getElementType();
  if (input.getElementType() != element || weight.getElementType() != element)
    return op.emitOpError("operands and result must share one element type");
  FailureOr<RankedTensorType> out = convOutputType<OpTy>(
      op.getLoc(), input, weight, op.getStride(), op.getPadding(),
      op.getDilation(), op.getGroups());
  if (failed(out))
    return failure();
  if (*out != op.getGrad().getType())
    return op.emitOpError("grad ")
           << op.getGrad().getType() << " is not conv2d's result " << *out
           << " for input " << input << " and weight " << weight;
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// BroadcastToOp
//===----------------------------------------------------------------------===//

LogicalResult BroadcastToOp::verify() {
  RankedTensorType input = getInput().getType(), result = getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("cannot change the element type from ")
           << input.getElementType() << " to " << result.getElementType();
  std::optional<SmallVector<int64_t>> shape =
      shape::broadcast(input.getShape(), result.getShape());
  if (!shape || ArrayRef<int64_t>(*shape) != result.getShape())
    return emitOpError("cannot broadcast ") << input << " to " << result;
  return success();
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Elementwise gradients
//===----------------------------------------------------------------------===//

LogicalResult ReluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferSameAsInput<ReluGradOp>(loc, adaptor.getGrad(),
                                      adaptor.getInput(), types);
}

LogicalResult ClampGradOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferSameAsInput<ClampGradOp>(loc, adaptor.getGrad(),
                                       adaptor.getInput(), types);
}

LogicalResult GeluGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferSameAsInput<GeluGradOp>(loc, adaptor.getGrad(),
                                      adaptor.getInput(), types);
}

//===----------------------------------------------------------------------===//
// Convolution gradients
//===----------------------------------------------------------------------===//

LogicalResult Conv2dGradInputOp::verify() {
  return verifyConvGrad(*this, getType(), getWeight().getType());
}

LogicalResult Conv2dGradWeightOp::verify() {
  return verifyConvGrad(*this, getInput().getType(), getType());
}

//===----------------------------------------------------------------------===//
// Normalisation gradients
//===----------------------------------------------------------------------===//

LogicalResult BatchNormGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input || input.getRank() < 2)
    return opError<BatchNormGradOp>(loc, "expects a [N, C, ...] input, got ",
                                    adaptor.getInput().getType());
  if (adaptor.getGrad().getType() != input)
    return opError<BatchNormGradOp>(loc, "grad ", adaptor.getGrad().getType(),
                                    " must have the input's type ", input);
  if (failed(checkSameElementType<BatchNormGradOp>(
          loc, {adaptor.getWeight(), adaptor.getRunningMean(),
                adaptor.getRunningVar()})))
    return failure();
  std::pair<StringRef, Value> perChannel[] = {
      {"weight", adaptor.getWeight()},
      {"running_mean", adaptor.getRunningMean()},
      {"running_var", adaptor.getRunningVar()}};
  for (auto [name, value] : perChannel)
    if (failed(checkShape<BatchNormGradOp>(loc, name, value,
                                           {input.getDimSize(1)})))
      return failure();
  types.push_back(input);
  types.push_back(adaptor.getWeight().getType());
  types.push_back(adaptor.getWeight().getType());
  return success();
}

LogicalResult LayerNormGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (adaptor.getGrad().getType() != input)
    return opError<LayerNormGradOp>(loc, "grad ", adaptor.getGrad().getType(),
                                    " must have the input's type ", input);
  ArrayRef<int64_t> normalized = adaptor.getNormalizedShape();
  if (normalized.empty() ||
      normalized.size() > static_cast<size_t>(input.getRank()) ||
      input.getShape().take_back(normalized.size()) != normalized)
    return opError<LayerNormGradOp>(loc, "normalized_shape ",
                                    formatShape(normalized),
                                    " must equal the trailing dimensions of ",
                                    input);
  for (auto [name, value] : {std::pair<StringRef, Value>{"weight", adaptor.getWeight()},
                             {"bias", adaptor.getBias()}})
    if (value && failed(checkShape<LayerNormGradOp>(loc, name, value, normalized)))
      return failure();
  auto paramType = RankedTensorType::get(normalized, input.getElementType());
  types.append({input, paramType, paramType});
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling gradients
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2dGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  SmallVector<Type> forward;
  if (failed(inferPool2d<MaxPool2dGradOp>(
          loc, adaptor.getInput(), adaptor.getKernelSize(), adaptor.getStride(),
          adaptor.getPadding(), adaptor.getDilation(), adaptor.getCeilMode(),
          forward)))
    return failure();
  if (adaptor.getGrad().getType() != forward.front())
    return opError<MaxPool2dGradOp>(loc, "grad ", adaptor.getGrad().getType(),
                                    " is not max_pool2d's result ",
                                    forward.front());
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult AvgPool2dGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  SmallVector<Type> forward;
  if (failed(inferPool2d<AvgPool2dGradOp>(
          loc, adaptor.getInput(), adaptor.getKernelSize(), adaptor.getStride(),
          adaptor.getPadding(), {1, 1}, adaptor.getCeilMode(), forward)))
    return failure();
  if (adaptor.getGrad().getType() != forward.front())
    return opError<AvgPool2dGradOp>(loc, "grad ", adaptor.getGrad().getType(),
                                    " is not avg_pool2d's result ",
                                    forward.front());
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult AdaptiveAvgPool2dGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  RankedTensorType grad = tensorType(adaptor.getGrad());
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input || (input.getRank() != 3 && input.getRank() != 4) ||
      grad.getRank() != input.getRank() ||
      grad.getElementType() != input.getElementType() ||
      grad.getShape().drop_back(2) != input.getShape().drop_back(2))
    return opError<AdaptiveAvgPool2dGradOp>(
        loc, "grad ", adaptor.getGrad().getType(),
        " is not an adaptive_avg_pool2d result for input ",
        adaptor.getInput().getType());
  types.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// Embedding, softmax, losses, reductions
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingGradOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  RankedTensorType grad = tensorType(adaptor.getGrad());
  RankedTensorType indices = tensorType(adaptor.getIndices());
  if (grad.getRank() != indices.getRank() + 1 ||
      grad.getShape().drop_back() != indices.getShape())
    return opError<EmbeddingGradOp>(loc, "grad ", grad,
                                    " must be the indices' shape plus one "
                                    "dimension, indices ",
                                    indices);
  int64_t rows = adaptor.getNumEmbeddings();
  if (rows < 1)
    return opError<EmbeddingGradOp>(loc, "num_embeddings must be positive, got ",
                                    rows);
  types.push_back(RankedTensorType::get({rows, grad.getShape().back()},
                                        grad.getElementType()));
  return success();
}

#define ACCEL_SOFTMAX_GRAD(OpTy)                                               \
  LogicalResult OpTy::inferReturnTypes(                                        \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    if (adaptor.getGrad().getType() != adaptor.getOutput().getType())          \
      return opError<OpTy>(loc, "grad ", adaptor.getGrad().getType(),          \
                           " and output ", adaptor.getOutput().getType(),      \
                           " must have the same type");                        \
    return inferSoftmaxLike<OpTy>(loc, adaptor.getOutput(), adaptor.getDim(),  \
                                  types);                                      \
  }
ACCEL_SOFTMAX_GRAD(SoftmaxGradOp)
ACCEL_SOFTMAX_GRAD(LogSoftmaxGradOp)
#undef ACCEL_SOFTMAX_GRAD

LogicalResult CrossEntropyGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  RankedTensorType logits = tensorType(adaptor.getLogits());
  if (!logits || logits.getRank() != 2)
    return opError<CrossEntropyGradOp>(loc, "expects [N, C] logits, got ",
                                       adaptor.getLogits().getType());
  if (failed(checkShape<CrossEntropyGradOp>(loc, "target", adaptor.getTarget(),
                                            {logits.getDimSize(0)})))
    return failure();
  Type lossGrad = lossType(
      adaptor.getReduction(),
      RankedTensorType::get({logits.getDimSize(0)}, logits.getElementType()));
  if (adaptor.getGrad().getType() != lossGrad)
    return opError<CrossEntropyGradOp>(loc, "grad ", adaptor.getGrad().getType(),
                                       " must be the loss's type ", lossGrad);
  types.push_back(logits);
  return success();
}

LogicalResult AmaxGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  SmallVector<Type> forward;
  if (failed(inferReduction<AmaxGradOp>(loc, adaptor.getInput(),
                                        adaptor.getDims(), adaptor.getKeepdim(),
                                        forward)))
    return failure();
  if (adaptor.getGrad().getType() != forward.front())
    return opError<AmaxGradOp>(loc, "grad ", adaptor.getGrad().getType(),
                               " is not amax's result ", forward.front());
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult SliceGradOp::verify() {
  RankedTensorType input = getType(), grad = getGrad().getType();
  if (input.getElementType() != grad.getElementType() ||
      input.getRank() != grad.getRank())
    return emitOpError("grad ") << grad << " and result " << input
                                << " must have one element type and rank";
  int64_t dim = getDim(), start = getStart(), end = getEnd(), step = getStep();
  if (dim < 0 || dim >= input.getRank())
    return emitOpError("dim ") << dim << " is out of range [0, "
                               << input.getRank() << ")";
  int64_t size = input.getDimSize(dim);
  if (start < 0 || start > end || end > size || step < 1)
    return emitOpError("start ") << start << ", end " << end << ", step "
                                 << step << " must satisfy 0 <= start <= end <= "
                                 << size << " and step >= 1";
  SmallVector<int64_t> sliced(input.getShape());
  sliced[dim] = (end - start + step - 1) / step;
  if (ArrayRef<int64_t>(sliced) != grad.getShape())
    return emitOpError("grad ") << grad << " is not the slice of " << input;
  return success();
}
