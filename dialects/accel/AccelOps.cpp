//===- AccelOps.cpp - accel dialect ops -----------------------------------===//
//
// Result-type inference (which is also shape verification), folders and
// canonicalisations of the accel ops. Shape rules follow PyTorch; the
// messages name the offending sizes so that an import error points at the
// model's mistake, not at accel.
//
//===----------------------------------------------------------------------===//

#include "dialects/accel/AccelOps.h"

#include "dialects/accel/AccelOpHelpers.h"

#include "dialects/accel/ShapeInference.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace accel;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

using namespace accel::detail;

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

OpFoldResult ReluOp::fold(FoldAdaptor) {
  // relu is idempotent.
  if (getInput().getDefiningOp<ReluOp>())
    return getInput();
  return {};
}

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // A round trip A -> B -> A is the identity when B holds every value of A
  // exactly (e.g. bf16 -> f32 -> bf16, f8E4M3FN -> f16 -> f8E4M3FN).
  auto inner = getInput().getDefiningOp<CastOp>();
  if (!inner || inner.getInput().getType() != getType())
    return {};
  auto original = dyn_cast<FloatType>(getType().getElementType());
  auto middle = dyn_cast<FloatType>(inner.getType().getElementType());
  if (original && middle &&
      llvm::APFloatBase::isRepresentableBy(original.getFloatSemantics(),
                                           middle.getFloatSemantics()))
    return inner.getInput();
  return {};
}

#define ACCEL_BROADCAST_BINARY(OpTy)                                           \
  LogicalResult OpTy::inferReturnTypes(                                        \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return inferBroadcastBinary<OpTy>(loc, adaptor.getLhs(),                   \
                                      adaptor.getRhs(), types);                \
  }
ACCEL_BROADCAST_BINARY(AddOp)
ACCEL_BROADCAST_BINARY(SubOp)
ACCEL_BROADCAST_BINARY(MulOp)
ACCEL_BROADCAST_BINARY(DivOp)
#undef ACCEL_BROADCAST_BINARY

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  auto isOne = [](Attribute a) {
    auto splat = dyn_cast_or_null<SplatElementsAttr>(a);
    return splat && isa<FloatType>(splat.getElementType()) &&
           splat.getSplatValue<APFloat>().isExactlyValue(1.0);
  };
  if (isOne(adaptor.getRhs()) && getLhs().getType() == getType())
    return getLhs();
  if (isOne(adaptor.getLhs()) && getRhs().getType() == getType())
    return getRhs();
  return {};
}

LogicalResult MaskedFillOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  RankedTensorType mask = tensorType(adaptor.getMask());
  if (!input || !mask)
    return opError<MaskedFillOp>(loc, "expects ranked tensor operands");
  std::optional<SmallVector<int64_t>> shape =
      shape::broadcast(input.getShape(), mask.getShape());
  if (!shape)
    return opError<MaskedFillOp>(loc, "input ", input, " and mask ", mask,
                                 " do not broadcast");
  types.push_back(RankedTensorType::get(*shape, input.getElementType()));
  return success();
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  double p = adaptor.getP().convertToDouble();
  if (!(p >= 0.0 && p <= 1.0))
    return opError<DropoutOp>(loc, "probability p must be in [0, 1], got ",
                              formatFloat(adaptor.getP()));
  types.push_back(adaptor.getInput().getType());
  return success();
}

OpFoldResult DropoutOp::fold(FoldAdaptor) {
  if (getP().isZero())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (failed(checkSameElementType<MatmulOp>(
          loc, {adaptor.getLhs(), adaptor.getRhs()})))
    return failure();
  RankedTensorType l = tensorType(adaptor.getLhs());
  RankedTensorType r = tensorType(adaptor.getRhs());
  if (l.getRank() < 2 || r.getRank() < 2)
    return opError<MatmulOp>(loc, "operands must have rank >= 2, got ", l,
                             " and ", r);
  int64_t k = l.getShape().back(), rk = r.getShape().drop_back().back();
  if (k != rk)
    return opError<MatmulOp>(loc, "contracting dimensions differ: lhs ", l,
                             " has ", k, " columns, rhs ", r, " has ", rk,
                             " rows");
  std::optional<SmallVector<int64_t>> shape = shape::broadcast(
      l.getShape().drop_back(2), r.getShape().drop_back(2));
  if (!shape)
    return opError<MatmulOp>(loc, "batch dimensions do not broadcast: ", l,
                             " and ", r);
  shape->push_back(l.getShape().drop_back().back());
  shape->push_back(r.getShape().back());
  types.push_back(RankedTensorType::get(*shape, l.getElementType()));
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (failed(checkSameElementType<LinearOp>(
          loc, {adaptor.getInput(), adaptor.getWeight(), adaptor.getBias()})))
    return failure();
  RankedTensorType input = tensorType(adaptor.getInput());
  RankedTensorType weight = tensorType(adaptor.getWeight());
  if (input.getRank() < 1)
    return opError<LinearOp>(loc, "input must have rank >= 1, got ", input);
  if (weight.getRank() != 2)
    return opError<LinearOp>(loc, "weight must be [out_features, in_features], got ",
                             weight);
  if (input.getShape().back() != weight.getDimSize(1))
    return opError<LinearOp>(loc, "input has ", input.getShape().back(),
                             " features but weight ", weight, " expects ",
                             weight.getDimSize(1));
  if (adaptor.getBias() &&
      failed(checkShape<LinearOp>(loc, "bias", adaptor.getBias(),
                                  {weight.getDimSize(0)})))
    return failure();
  SmallVector<int64_t> shape(input.getShape().drop_back());
  shape.push_back(weight.getDimSize(0));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution, normalisation, pooling
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (failed(checkSameElementType<Conv2dOp>(
          loc, {adaptor.getInput(), adaptor.getWeight(), adaptor.getBias()})))
    return failure();
  RankedTensorType input = tensorType(adaptor.getInput());
  RankedTensorType weight = tensorType(adaptor.getWeight());
  if (input.getRank() != 4)
    return opError<Conv2dOp>(loc, "expects a [N, C, H, W] input, got ", input);
  if (weight.getRank() != 4)
    return opError<Conv2dOp>(loc, "expects a [O, C / groups, kH, kW] weight, got ",
                             weight);
  ArrayRef<int64_t> stride = adaptor.getStride(), padding = adaptor.getPadding(),
                    dilation = adaptor.getDilation();
  if (failed(checkPairAtLeast<Conv2dOp>(loc, "stride", stride, 1)) ||
      failed(checkPairAtLeast<Conv2dOp>(loc, "padding", padding, 0)) ||
      failed(checkPairAtLeast<Conv2dOp>(loc, "dilation", dilation, 1)))
    return failure();
  int64_t groups = adaptor.getGroups();
  if (groups < 1)
    return opError<Conv2dOp>(loc, "groups must be positive, got ", groups);
  int64_t channels = input.getDimSize(1), outChannels = weight.getDimSize(0);
  if (channels % groups != 0 || outChannels % groups != 0)
    return opError<Conv2dOp>(loc, "groups ", groups,
                             " must divide the input channels ", channels,
                             " and the output channels ", outChannels);
  if (weight.getDimSize(1) != channels / groups)
    return opError<Conv2dOp>(loc, "weight ", weight, " must have ",
                             channels / groups,
                             " input channels per group (input ", input,
                             ", groups ", groups, ")");
  if (adaptor.getBias() &&
      failed(checkShape<Conv2dOp>(loc, "bias", adaptor.getBias(), {outChannels})))
    return failure();
  SmallVector<int64_t> shape = {input.getDimSize(0), outChannels};
  for (int i = 0; i < 2; ++i)
    shape.push_back(shape::convOutputSize(input.getDimSize(2 + i),
                                          weight.getDimSize(2 + i), stride[i],
                                          padding[i], dilation[i]));
  if (shape[2] < 1 || shape[3] < 1)
    return opError<Conv2dOp>(loc, "kernel ", weight, " (dilation ",
                             formatShape(dilation), ") does not fit input ",
                             input, " with padding ", formatShape(padding));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input || input.getRank() < 2)
    return opError<BatchNormOp>(loc, "expects a [N, C, ...] input, got ",
                                adaptor.getInput().getType());
  // The affine parameters and statistics may be wider than the input (fp32
  // statistics for a bf16 activation), but they agree with each other.
  if (failed(checkSameElementType<BatchNormOp>(
          loc, {adaptor.getWeight(), adaptor.getBias(),
                adaptor.getRunningMean(), adaptor.getRunningVar()})))
    return failure();
  int64_t channels = input.getDimSize(1);
  std::pair<StringRef, Value> perChannel[] = {
      {"weight", adaptor.getWeight()},
      {"bias", adaptor.getBias()},
      {"running_mean", adaptor.getRunningMean()},
      {"running_var", adaptor.getRunningVar()}};
  for (auto [name, value] : perChannel)
    if (failed(checkShape<BatchNormOp>(loc, name, value, {channels})))
      return failure();
  if (adaptor.getTraining() && input.getNumElements() / channels <= 1)
    return opError<BatchNormOp>(
        loc, "training needs more than one value per channel, got input ",
        input);
  types.push_back(input);
  types.push_back(adaptor.getRunningMean().getType());
  types.push_back(adaptor.getRunningVar().getType());
  return success();
}

namespace {
/// In inference mode the running statistics pass through unchanged.
struct ForwardEvalRunningStats : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getTraining() || (op.getNewRunningMean().use_empty() &&
                             op.getNewRunningVar().use_empty()))
      return failure();
    rewriter.replaceAllUsesWith(op.getNewRunningMean(), op.getRunningMean());
    rewriter.replaceAllUsesWith(op.getNewRunningVar(), op.getRunningVar());
    return success();
  }
};
} // namespace

void BatchNormOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ForwardEvalRunningStats>(context);
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (failed(checkSameElementType<LayerNormOp>(
          loc, {adaptor.getInput(), adaptor.getWeight(), adaptor.getBias()})))
    return failure();
  RankedTensorType input = tensorType(adaptor.getInput());
  ArrayRef<int64_t> normalized = adaptor.getNormalizedShape();
  if (normalized.empty())
    return opError<LayerNormOp>(loc, "normalized_shape must not be empty");
  if (normalized.size() > static_cast<size_t>(input.getRank()) ||
      input.getShape().take_back(normalized.size()) != normalized)
    return opError<LayerNormOp>(loc, "normalized_shape ",
                                formatShape(normalized),
                                " must equal the trailing dimensions of ",
                                input);
  if (adaptor.getWeight() &&
      failed(checkShape<LayerNormOp>(loc, "weight", adaptor.getWeight(),
                                     normalized)))
    return failure();
  if (adaptor.getBias() &&
      failed(checkShape<LayerNormOp>(loc, "bias", adaptor.getBias(),
                                     normalized)))
    return failure();
  types.push_back(input);
  return success();
}

LogicalResult MaxPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPool2d<MaxPool2dOp>(
      loc, adaptor.getInput(), adaptor.getKernelSize(), adaptor.getStride(),
      adaptor.getPadding(), adaptor.getDilation(), adaptor.getCeilMode(),
      types);
}

LogicalResult AvgPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPool2d<AvgPool2dOp>(loc, adaptor.getInput(),
                                  adaptor.getKernelSize(), adaptor.getStride(),
                                  adaptor.getPadding(), {1, 1},
                                  adaptor.getCeilMode(), types);
}

LogicalResult AdaptiveAvgPool2dOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input || (input.getRank() != 3 && input.getRank() != 4))
    return opError<AdaptiveAvgPool2dOp>(
        loc, "expects a [N, C, H, W] or [C, H, W] input, got ",
        adaptor.getInput().getType());
  ArrayRef<int64_t> outputSize = adaptor.getOutputSize();
  if (failed(checkPairAtLeast<AdaptiveAvgPool2dOp>(loc, "output_size",
                                                   outputSize, 1)))
    return failure();
  SmallVector<int64_t> shape(input.getShape().drop_back(2));
  shape.append(outputSize.begin(), outputSize.end());
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult ClampOp::verify() {
  // NaN bounds or min > max would make the result depend on the order of
  // the comparisons, which PyTorch does not promise.
  if (!(getMin().convertToDouble() <= getMax().convertToDouble()))
    return emitOpError("needs min <= max, got [")
           << getMin().convertToDouble() << ", " << getMax().convertToDouble()
           << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  RankedTensorType input = getInput().getType(), result = getType();
  if (input.getElementType() != result.getElementType())
    return emitOpError("cannot change the element type from ")
           << input.getElementType() << " to " << result.getElementType();
  if (input.getNumElements() != result.getNumElements())
    return emitOpError("cannot reshape ")
           << input << " (" << input.getNumElements() << " elements) to "
           << result << " (" << result.getNumElements() << " elements)";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  // reshape(reshape(x)) == reshape(x): only the final shape matters.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    if (getInput().getType() == getType())
      return getInput();
    return getResult();
  }
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input || input.getRank() < 1)
    return opError<FlattenOp>(loc, "expects a tensor of rank >= 1, got ",
                              adaptor.getInput().getType());
  int64_t start = adaptor.getStartDim(), end = adaptor.getEndDim();
  if (start < 0 || start > end || end >= input.getRank())
    return opError<FlattenOp>(loc, "start_dim ", start, " and end_dim ", end,
                              " must satisfy 0 <= start_dim <= end_dim < ",
                              input.getRank());
  ArrayRef<int64_t> dims = input.getShape();
  SmallVector<int64_t> shape(dims.take_front(start));
  shape.push_back(shape::numElements(dims.slice(start, end - start + 1)));
  shape.append(dims.begin() + end + 1, dims.end());
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult FlattenOp::fold(FoldAdaptor) {
  if (getStartDim() == getEndDim())
    return getInput();
  return {};
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input)
    return opError<TransposeOp>(loc, "expects a ranked tensor");
  int64_t dim0 = adaptor.getDim0(), dim1 = adaptor.getDim1();
  if (failed(checkDim<TransposeOp>(loc, "dim0", dim0, input.getRank())) ||
      failed(checkDim<TransposeOp>(loc, "dim1", dim1, input.getRank())))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  std::swap(shape[dim0], shape[dim1]);
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

bool accel::isAbsorbedTranspose(TransposeOp t) {
  int64_t rank = t.getInput().getType().getRank();
  int64_t d0 = static_cast<int64_t>(t.getDim0());
  int64_t d1 = static_cast<int64_t>(t.getDim1());
  if (rank < 2 || std::min(d0, d1) != rank - 2 || std::max(d0, d1) != rank - 1)
    return false;
  return llvm::all_of(t->getUsers(),
                      [](Operation *u) { return isa<MatmulOp>(u); });
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (getDim0() == getDim1())
    return getInput();
  // Swapping the same pair twice is the identity, in either order.
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    if ((inner.getDim0() == getDim0() && inner.getDim1() == getDim1()) ||
        (inner.getDim0() == getDim1() && inner.getDim1() == getDim0()))
      return inner.getInput();
  }
  return {};
}

LogicalResult PermuteOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input)
    return opError<PermuteOp>(loc, "expects a ranked tensor");
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  llvm::SmallBitVector seen(input.getRank());
  bool valid = static_cast<int64_t>(perm.size()) == input.getRank();
  for (int64_t p : perm) {
    if (!valid)
      break;
    valid = p >= 0 && p < input.getRank() && !seen.test(p);
    if (valid)
      seen.set(p);
  }
  if (!valid)
    return opError<PermuteOp>(loc, "permutation ", formatShape(perm),
                              " is not a permutation of [0, ", input.getRank(),
                              ")");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(input.getDimSize(p));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  // permute(permute(x, p), q)[i] = x[p[q[i]]]: compose into one permute.
  if (auto inner = getInput().getDefiningOp<PermuteOp>()) {
    ArrayRef<int64_t> p = inner.getPermutation(), q = getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t i : q)
      composed.push_back(p[i]);
    getInputMutable().assign(inner.getInput());
    setPermutation(composed);
    if (!llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())))
      return getResult();
    return getInput();
  }
  if (llvm::equal(getPermutation(),
                  llvm::seq<int64_t>(0, getPermutation().size())))
    return getInput();
  return {};
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  if (!input)
    return opError<SliceOp>(loc, "expects a ranked tensor");
  int64_t dim = adaptor.getDim();
  if (failed(checkDim<SliceOp>(loc, "dim", dim, input.getRank())))
    return failure();
  int64_t start = adaptor.getStart(), end = adaptor.getEnd(),
          step = adaptor.getStep(), size = input.getDimSize(dim);
  if (start < 0 || start > end || end > size || step < 1)
    return opError<SliceOp>(loc, "start ", start, ", end ", end, ", step ",
                            step, " must satisfy 0 <= start <= end <= ", size,
                            " and step >= 1");
  SmallVector<int64_t> shape(input.getShape());
  shape[dim] = (end - start + step - 1) / step;
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getStart() == 0 && getStep() == 1 &&
      static_cast<int64_t>(getEnd()) ==
          getInput().getType().getDimSize(getDim()))
    return getInput();
  return {};
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return opError<ConcatOp>(loc, "expects at least one input");
  SmallVector<Value> values(inputs.begin(), inputs.end());
  if (failed(checkSameElementType<ConcatOp>(loc, values)))
    return failure();
  RankedTensorType first = tensorType(inputs[0]);
  int64_t dim = adaptor.getDim();
  if (failed(checkDim<ConcatOp>(loc, "dim", dim, first.getRank())))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (auto [i, value] : llvm::enumerate(inputs.drop_front())) {
    RankedTensorType type = tensorType(value);
    if (type.getRank() != first.getRank())
      return opError<ConcatOp>(loc, "input #", i + 1, " ", type,
                               " has a different rank from input #0 ", first);
    for (int64_t d = 0; d < first.getRank(); ++d)
      if (d != dim && type.getDimSize(d) != first.getDimSize(d))
        return opError<ConcatOp>(loc, "input #", i + 1, " ", type,
                                 " differs from input #0 ", first,
                                 " in dimension ", d);
    shape[dim] += type.getDimSize(dim);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  RankedTensorType weight = tensorType(adaptor.getWeight());
  RankedTensorType indices = tensorType(adaptor.getIndices());
  if (!weight || weight.getRank() != 2)
    return opError<EmbeddingOp>(loc,
                                "weight must be [num_embeddings, dim], got ",
                                adaptor.getWeight().getType());
  if (!indices)
    return opError<EmbeddingOp>(loc, "expects ranked indices");
  SmallVector<int64_t> shape(indices.getShape());
  shape.push_back(weight.getDimSize(1));
  types.push_back(RankedTensorType::get(shape, weight.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions, softmax and losses
//===----------------------------------------------------------------------===//

#define ACCEL_REDUCTION(OpTy)                                                  \
  LogicalResult OpTy::inferReturnTypes(                                        \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return inferReduction<OpTy>(loc, adaptor.getInput(), adaptor.getDims(),    \
                                adaptor.getKeepdim(), types);                  \
  }
ACCEL_REDUCTION(SumOp)
ACCEL_REDUCTION(MeanOp)
ACCEL_REDUCTION(AmaxOp)
#undef ACCEL_REDUCTION

#define ACCEL_SOFTMAX_LIKE(OpTy)                                               \
  LogicalResult OpTy::inferReturnTypes(                                        \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return inferSoftmaxLike<OpTy>(loc, adaptor.getInput(), adaptor.getDim(),   \
                                  types);                                      \
  }
ACCEL_SOFTMAX_LIKE(SoftmaxOp)
ACCEL_SOFTMAX_LIKE(LogSoftmaxOp)
#undef ACCEL_SOFTMAX_LIKE

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  RankedTensorType logits = tensorType(adaptor.getLogits());
  if (!logits || logits.getRank() != 2)
    return opError<CrossEntropyOp>(loc, "expects [N, C] logits, got ",
                                   adaptor.getLogits().getType());
  if (failed(checkShape<CrossEntropyOp>(loc, "target", adaptor.getTarget(),
                                        {logits.getDimSize(0)})))
    return failure();
  double smoothing = adaptor.getLabelSmoothing().convertToDouble();
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    return opError<CrossEntropyOp>(loc,
                                   "label_smoothing must be in [0, 1], got ",
                                   formatFloat(adaptor.getLabelSmoothing()));
  types.push_back(lossType(
      adaptor.getReduction(),
      RankedTensorType::get({logits.getDimSize(0)}, logits.getElementType())));
  return success();
}

LogicalResult MseLossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  RankedTensorType input = tensorType(adaptor.getInput());
  RankedTensorType target = tensorType(adaptor.getTarget());
  if (!input || input != target)
    return opError<MseLossOp>(loc, "input ", adaptor.getInput().getType(),
                              " and target ", adaptor.getTarget().getType(),
                              " must have the same type");
  types.push_back(lossType(adaptor.getReduction(), input));
  return success();
}

#define GET_OP_CLASSES
#include "dialects/accel/AccelOps.cpp.inc"
