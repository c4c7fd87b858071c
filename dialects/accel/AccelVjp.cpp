//===- AccelVjp.cpp - vector-Jacobian products of the accel ops -----------===//
//
// Each forward op's DifferentiableOpInterface::buildVjp: the ops that turn
// the gradients of its results into the gradients of its operands. They are
// written in accel ops (elementwise arithmetic for the simple cases, the
// gradient ops of AccelGradOps.td where a library kernel does it better),
// so the backward pass is IR like the forward one. Broadcasting operands get
// their gradient summed back to their own shape.
//
//===----------------------------------------------------------------------===//

#include "dialects/accel/AccelOps.h"

#include "dialects/accel/AccelOpHelpers.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace accel;

#include "dialects/accel/AccelInterfaces.cpp.inc"

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

bool isFloat(Value v) { return isa<FloatType>(typeOf(v).getElementType()); }

/// Builds ops for one VJP and remembers whether any of them failed, so each
/// buildVjp reads as the formula it implements.
class VjpBuilder {
public:
  VjpBuilder(OpBuilder &b, Operation *op) : b(b), loc(op->getLoc()) {}

  template <typename OpTy>
  Value make(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (llvm::any_of(operands, [](Value v) { return !v; }))
      return fail();
    FailureOr<OpTy> op = createChecked<OpTy>(b, loc, operands, attrs);
    return succeeded(op) ? (*op)->getResult(0) : fail();
  }
  template <typename OpTy> Value unary(Value x) {
    return x ? OpTy::create(b, loc, x).getResult() : fail();
  }
  Value add(Value a, Value c) { return make<AddOp>({a, c}); }
  Value sub(Value a, Value c) { return make<SubOp>({a, c}); }
  Value mul(Value a, Value c) { return make<MulOp>({a, c}); }
  Value div(Value a, Value c) { return make<DivOp>({a, c}); }

  /// A rank-0 constant with `like`'s element type.
  Value scalar(double v, Value like) {
    auto type = RankedTensorType::get({}, typeOf(like).getElementType());
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), v)));
  }
  Value reshape(Value x, RankedTensorType type) {
    if (!x)
      return fail();
    if (x.getType() == type)
      return x;
    return ReshapeOp::create(b, loc, type, x);
  }
  Value transpose(Value x, int64_t d0, int64_t d1) {
    return make<TransposeOp>({x}, {attr("dim0", d0), attr("dim1", d1)});
  }
  /// Sums a broadcast gradient back to `target`'s shape, then converts it
  /// to `target`'s element type (a full-precision scalar operand of a
  /// reduced-precision op gets its gradient summed in the op's type and
  /// widened, as autograd does).
  Value reduceTo(Value grad, RankedTensorType target) {
    if (!grad)
      return fail();
    Value summed = sumTo(grad, target);
    if (!summed || typeOf(summed).getElementType() == target.getElementType())
      return summed;
    return CastOp::create(b, loc, target, summed);
  }
  Value sumTo(Value grad, RankedTensorType target) {
    RankedTensorType type = typeOf(grad);
    if (type.getShape() == target.getShape())
      return grad;
    int64_t extra = type.getRank() - target.getRank();
    SmallVector<int64_t> dims;
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (i < extra ||
          (target.getDimSize(i - extra) == 1 && type.getDimSize(i) != 1))
        dims.push_back(i);
    Value summed = make<SumOp>(
        {grad}, {b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims)),
                 b.getNamedAttr("keepdim", b.getUnitAttr())});
    return reshape(summed, RankedTensorType::get(target.getShape(),
                                                 type.getElementType()));
  }

  NamedAttribute attr(StringRef name, int64_t v) {
    return b.getNamedAttr(name, b.getI64IntegerAttr(v));
  }
  /// The attributes of `op` named in `names`, to pass to its gradient op.
  SmallVector<NamedAttribute> attrsOf(Operation *op,
                                      ArrayRef<StringRef> names) {
    SmallVector<NamedAttribute> out;
    for (StringRef name : names)
      if (std::optional<Attribute> a = op->getInherentAttr(name); a && *a)
        out.push_back(b.getNamedAttr(name, *a));
    return out;
  }

  LogicalResult finish(SmallVectorImpl<Value> &operandGrads,
                       ArrayRef<Value> grads) {
    operandGrads.assign(grads.begin(), grads.end());
    return failed ? failure() : success();
  }

  OpBuilder &b;
  Location loc;

private:
  Value fail() {
    failed = true;
    return Value();
  }
  bool failed = false;
};

} // namespace

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult ReluOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<ReluGradOp>({g[0], getInput()})});
}

LogicalResult ClampOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<ClampGradOp>(
                             {g[0], getInput()},
                             v.attrsOf(*this, {"min", "max"}))});
}

LogicalResult GeluOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<GeluGradOp>(
                             {g[0], getInput()},
                             v.attrsOf(*this, {"approximate"}))});
}

LogicalResult TanhOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  // d tanh = 1 - tanh².
  VjpBuilder v(b, *this);
  Value y = getResult();
  return v.finish(grads, {v.mul(g[0], v.sub(v.scalar(1.0, y), v.mul(y, y)))});
}

LogicalResult SigmoidOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  // d sigmoid = y (1 - y).
  VjpBuilder v(b, *this);
  Value y = getResult();
  return v.finish(grads, {v.mul(g[0], v.mul(y, v.sub(v.scalar(1.0, y), y)))});
}

LogicalResult ExpOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.mul(g[0], getResult())});
}

LogicalResult LogOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.div(g[0], getInput())});
}

LogicalResult SqrtOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  // d sqrt(x) = 1 / (2 sqrt(x)).
  VjpBuilder v(b, *this);
  Value y = getResult();
  return v.finish(grads, {v.div(g[0], v.mul(v.scalar(2.0, y), y))});
}

LogicalResult RsqrtOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                SmallVectorImpl<Value> &grads) {
  // d x^-1/2 = -1/2 x^-3/2 = -y³ / 2.
  VjpBuilder v(b, *this);
  Value y = getResult();
  Value cube = v.mul(y, v.mul(y, y));
  return v.finish(grads, {v.mul(g[0], v.mul(v.scalar(-0.5, y), cube))});
}

LogicalResult NegOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.unary<NegOp>(g[0])});
}

LogicalResult CastOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  // The gradient goes back to the operand's precision; integer and boolean
  // operands take none.
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()) || !isFloat(getResult()))
    return v.finish(grads, {Value()});
  return v.finish(grads, {CastOp::create(b, getLoc(), getInput().getType(),
                                         g[0])});
}

LogicalResult AddOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.reduceTo(g[0], typeOf(getLhs())),
                          v.reduceTo(g[0], typeOf(getRhs()))});
}

LogicalResult SubOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.reduceTo(g[0], typeOf(getLhs())),
                          v.reduceTo(v.unary<NegOp>(g[0]), typeOf(getRhs()))});
}

LogicalResult MulOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.reduceTo(v.mul(g[0], getRhs()), typeOf(getLhs())),
                          v.reduceTo(v.mul(g[0], getLhs()), typeOf(getRhs()))});
}

LogicalResult DivOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  // d(l/r)/dr = -(l/r)/r.
  VjpBuilder v(b, *this);
  Value dr = v.unary<NegOp>(v.div(v.mul(g[0], getResult()), getRhs()));
  return v.finish(grads, {v.reduceTo(v.div(g[0], getRhs()), typeOf(getLhs())),
                          v.reduceTo(dr, typeOf(getRhs()))});
}

LogicalResult MaskedFillOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                     SmallVectorImpl<Value> &grads) {
  // Filled positions do not depend on the input.
  VjpBuilder v(b, *this);
  Value kept = v.make<MaskedFillOp>(
      {g[0], getMask()}, {b.getNamedAttr("value", b.getF64FloatAttr(0.0))});
  return v.finish(grads, {v.reduceTo(kept, typeOf(getInput())), Value()});
}

LogicalResult DropoutOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  // Dropout is linear given its mask, and the same seed and stream give the
  // same mask: the VJP is dropout of the gradient.
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<DropoutOp>({g[0], getSeed()},
                                            v.attrsOf(*this, {"p", "stream", "rank_stride", "rescale"})),
                          Value()});
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                 SmallVectorImpl<Value> &grads) {
  // dA = G Bᵀ, dB = Aᵀ G, each summed over broadcast batch dimensions.
  VjpBuilder v(b, *this);
  int64_t ra = typeOf(getLhs()).getRank(), rb = typeOf(getRhs()).getRank();
  Value bt = v.transpose(getRhs(), rb - 2, rb - 1);
  Value at = v.transpose(getLhs(), ra - 2, ra - 1);
  return v.finish(grads,
                  {v.reduceTo(v.make<MatmulOp>({g[0], bt}), typeOf(getLhs())),
                   v.reduceTo(v.make<MatmulOp>({at, g[0]}), typeOf(getRhs()))});
}

LogicalResult LinearOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                 SmallVectorImpl<Value> &grads) {
  // With x and G flattened to matrices [M, in] and [M, out]:
  // dx = G W, dW = Gᵀ x, db = Σ_rows G.
  VjpBuilder v(b, *this);
  RankedTensorType x = typeOf(getInput()), w = typeOf(getWeight());
  int64_t in = w.getDimSize(1), out = w.getDimSize(0);
  int64_t rows = x.getNumElements() / in;
  Type element = x.getElementType();
  Value g2 = v.reshape(g[0], RankedTensorType::get({rows, out}, element));
  Value x2 = v.reshape(getInput(), RankedTensorType::get({rows, in}, element));
  Value dx = v.reshape(v.make<MatmulOp>({g2, getWeight()}), x);
  Value dw = v.make<MatmulOp>({v.transpose(g2, 0, 1), x2});
  SmallVector<Value> result = {dx, dw};
  if (getBias())
    result.push_back(v.make<SumOp>(
        {g2}, {b.getNamedAttr("dims", b.getDenseI64ArrayAttr({0}))}));
  return v.finish(grads, result);
}

//===----------------------------------------------------------------------===//
// Convolution, normalisation, pooling
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                 SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  SmallVector<NamedAttribute> attrs =
      v.attrsOf(*this, {"stride", "padding", "dilation", "groups"});
  Value dx = Conv2dGradInputOp::create(b, getLoc(), getInput().getType(),
                                       ValueRange{g[0], getWeight()}, attrs);
  Value dw = Conv2dGradWeightOp::create(b, getLoc(), getWeight().getType(),
                                        ValueRange{g[0], getInput()}, attrs);
  SmallVector<Value> result = {dx, dw};
  if (getBias())
    result.push_back(v.make<SumOp>(
        {g[0]}, {b.getNamedAttr("dims", b.getDenseI64ArrayAttr({0, 2, 3}))}));
  return v.finish(grads, result);
}

LogicalResult BatchNormOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                    SmallVectorImpl<Value> &grads) {
  // The running statistics are state, not functions to differentiate.
  VjpBuilder v(b, *this);
  if (!g[0])
    return v.finish(grads, {Value(), Value(), Value(), Value(), Value()});
  FailureOr<BatchNormGradOp> op = createChecked<BatchNormGradOp>(
      b, getLoc(),
      {g[0], getInput(), getWeight(), getRunningMean(), getRunningVar()},
      v.attrsOf(*this, {"eps", "training"}));
  if (failed(op))
    return failure();
  return v.finish(grads, {op->getGradInput(), op->getGradWeight(),
                          op->getGradBias(), Value(), Value()});
}

LogicalResult LayerNormOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                    SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  SmallVector<Value> operands = {g[0], getInput()};
  if (getWeight())
    operands.push_back(getWeight());
  if (getBias())
    operands.push_back(getBias());
  SmallVector<NamedAttribute> attrs =
      v.attrsOf(*this, {"normalized_shape", "eps"});
  attrs.push_back(b.getNamedAttr(
      "operandSegmentSizes",
      b.getDenseI32ArrayAttr({1, 1, getWeight() ? 1 : 0, getBias() ? 1 : 0})));
  FailureOr<LayerNormGradOp> op =
      createChecked<LayerNormGradOp>(b, getLoc(), operands, attrs);
  if (failed(op))
    return failure();
  SmallVector<Value> result = {op->getGradInput()};
  if (getWeight())
    result.push_back(op->getGradWeight());
  if (getBias())
    result.push_back(op->getGradBias());
  return v.finish(grads, result);
}

LogicalResult MaxPool2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                    SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<MaxPool2dGradOp>(
                             {g[0], getInput()},
                             v.attrsOf(*this, {"kernel_size", "stride",
                                               "padding", "dilation",
                                               "ceil_mode"}))});
}

LogicalResult AvgPool2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                    SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<AvgPool2dGradOp>(
                             {g[0], getInput()},
                             v.attrsOf(*this, {"kernel_size", "stride",
                                               "padding", "ceil_mode",
                                               "count_include_pad"}))});
}

LogicalResult AdaptiveAvgPool2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                            SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads,
                  {v.make<AdaptiveAvgPool2dGradOp>({g[0], getInput()})});
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()))
    return v.finish(grads, {Value()});
  return v.finish(grads, {v.reshape(g[0], typeOf(getInput()))});
}

LogicalResult BroadcastToOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                      SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()))
    return v.finish(grads, {Value()});
  return v.finish(grads, {v.reduceTo(g[0], typeOf(getInput()))});
}

LogicalResult FlattenOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()))
    return v.finish(grads, {Value()});
  return v.finish(grads, {v.reshape(g[0], typeOf(getInput()))});
}

LogicalResult TransposeOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                    SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()))
    return v.finish(grads, {Value()});
  return v.finish(grads, {v.transpose(g[0], getDim0(), getDim1())});
}

LogicalResult PermuteOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()))
    return v.finish(grads, {Value()});
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  return v.finish(grads,
                  {v.make<PermuteOp>({g[0]}, {b.getNamedAttr(
                                                 "permutation",
                                                 b.getDenseI64ArrayAttr(inverse))})});
}

LogicalResult SliceOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  if (!isFloat(getInput()))
    return v.finish(grads, {Value()});
  return v.finish(grads, {SliceGradOp::create(
                             b, getLoc(), getInput().getType(),
                             ValueRange{g[0]},
                             v.attrsOf(*this, {"dim", "start", "end", "step"}))});
}

LogicalResult ConcatOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                 SmallVectorImpl<Value> &grads) {
  // Each input's gradient is its slice of the result's.
  VjpBuilder v(b, *this);
  SmallVector<Value> result;
  int64_t offset = 0, dim = getDim();
  for (Value input : getInputs()) {
    int64_t size = typeOf(input).getDimSize(dim);
    result.push_back(
        isFloat(input)
            ? v.make<SliceOp>({g[0]}, {v.attr("dim", dim), v.attr("start", offset),
                                       v.attr("end", offset + size),
                                       v.attr("step", 1)})
            : Value());
    offset += size;
  }
  return v.finish(grads, result);
}

LogicalResult EmbeddingOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                    SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads,
                  {v.make<EmbeddingGradOp>(
                       {g[0], getIndices()},
                       {v.attr("num_embeddings",
                               typeOf(getWeight()).getDimSize(0))}),
                   Value()});
}

//===----------------------------------------------------------------------===//
// Reductions, softmax and losses
//===----------------------------------------------------------------------===//

namespace {
/// The gradient of a sum over `dims`, spread back over the input.
Value spread(VjpBuilder &v, Value grad, Value input, ArrayRef<int64_t> dims) {
  RankedTensorType in = typeOf(input);
  SmallVector<int64_t> kept(in.getShape());
  for (int64_t d : dims)
    kept[d] = 1;
  Value g = v.reshape(grad, RankedTensorType::get(kept, in.getElementType()));
  if (!g || g.getType() == in)
    return g;
  return BroadcastToOp::create(v.b, v.loc, in, g);
}
} // namespace

LogicalResult SumOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                              SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {spread(v, g[0], getInput(), getDims())});
}

LogicalResult MeanOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  int64_t count = 1;
  for (int64_t d : getDims())
    count *= typeOf(getInput()).getDimSize(d);
  Value spreadGrad = spread(v, g[0], getInput(), getDims());
  return v.finish(grads, {v.mul(spreadGrad, v.scalar(1.0 / count, g[0]))});
}

LogicalResult AmaxOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                               SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<AmaxGradOp>(
                             {g[0], getInput()},
                             v.attrsOf(*this, {"dims", "keepdim"}))});
}

LogicalResult SoftmaxOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<SoftmaxGradOp>({g[0], getResult()},
                                                v.attrsOf(*this, {"dim"}))});
}

LogicalResult LogSoftmaxOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                     SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads, {v.make<LogSoftmaxGradOp>({g[0], getResult()},
                                                   v.attrsOf(*this, {"dim"}))});
}

LogicalResult CrossEntropyOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                       SmallVectorImpl<Value> &grads) {
  VjpBuilder v(b, *this);
  return v.finish(grads,
                  {v.make<CrossEntropyGradOp>(
                       {g[0], getLogits(), getTarget()},
                       v.attrsOf(*this, {"reduction", "ignore_index",
                                         "label_smoothing"})),
                   Value()});
}

LogicalResult MseLossOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                  SmallVectorImpl<Value> &grads) {
  // d/dx (x - t)² = 2 (x - t), over the count for the mean.
  VjpBuilder v(b, *this);
  Value diff = v.sub(getInput(), getTarget());
  double factor = 2.0;
  if (getReduction() == Reduction::Mean)
    factor /= typeOf(getInput()).getNumElements();
  Value dx = v.mul(v.mul(g[0], diff), v.scalar(factor, diff));
  return v.finish(grads, {dx, v.unary<NegOp>(dx)});
}
