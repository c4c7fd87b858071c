//===- AccelFloat8Ops.cpp - FP8 quantisation and scaled GEMMs -------------===//

#include "dialects/accel/AccelOps.h"
#include "dialects/accel/Float8Recipes.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace accel {

//===----------------------------------------------------------------------===//
// Recipes
//===----------------------------------------------------------------------===//

FloatType Fp8Cast::type(MLIRContext *context) const {
  if (format == Fp8Format::E4M3FN)
    return Float8E4M3FNType::get(context);
  return Float8E5M2Type::get(context);
}

std::string Fp8Cast::str() const {
  std::string s = format == Fp8Format::E4M3FN ? "e4m3fn " : "e5m2 ";
  s += delayed ? "delayed" : stringifyFp8Scaling(scaling).str();
  if (roundScaleToPow2)
    s += " pow2";
  return s;
}

std::string recipeName(Fp8Recipe recipe) {
  if (recipe == Fp8Recipe::RowwiseGwHp)
    return "rowwise-gw-hp";
  return stringifyFp8Recipe(recipe).str();
}

std::string Fp8Gemm::str() const {
  if (highPrecision)
    return "high precision";
  return lhs.str() + " x " + rhs.str();
}

Fp8RecipePlan planFor(Fp8Recipe recipe, Fp8Format delayedGrad) {
  constexpr Fp8Format e4m3 = Fp8Format::E4M3FN, e5m2 = Fp8Format::E5M2;
  constexpr Fp8Scaling tensor = Fp8Scaling::Tensorwise, row = Fp8Scaling::Rowwise;
  switch (recipe) {
  case Fp8Recipe::Tensorwise: {
    // Dynamic per-tensor scales; the incoming gradient in E5M2.
    Fp8Cast x{e4m3, tensor, false}, g{e5m2, tensor, false};
    return {{false, x, x}, {false, g, x}, {false, g, x}};
  }
  case Fp8Recipe::Rowwise: {
    // Every operand E4M3 with one power-of-two scale per row of its
    // lhs · rhsᵀ form, i.e. along the dimension that is not contracted.
    Fp8Cast r{e4m3, row, true};
    return {{false, r, r}, {false, r, r}, {false, r, r}};
  }
  case Fp8Recipe::Mxfp8: {
    // OCP MX blocks of 32 along K for every operand of every GEMM, E4M3FN
    // elements (the lhs · rhsᵀ form puts K last in each).
    Fp8Cast mx{e4m3, Fp8Scaling::Mx, false};
    return {{false, mx, mx}, {false, mx, mx}, {false, mx, mx}};
  }
  case Fp8Recipe::Delayed: {
    // TransformerEngine's DelayedScaling: per-tensor scales from each
    // operand's amax history; the gradient in E5M2 (hybrid) or E4M3.
    Fp8Cast x{e4m3, tensor, false, true}, g{delayedGrad, tensor, false, true};
    return {{false, x, x}, {false, g, x}, {false, g, x}};
  }
  case Fp8Recipe::RowwiseGwHp: {
    // As rowwise, but dgrad takes the weight with one scale and wgrad stays
    // in high precision.
    Fp8Cast r{e4m3, row, true}, t{e4m3, tensor, true};
    return {{false, r, r}, {false, r, t}, {true, r, r}};
  }
  }
  llvm_unreachable("unknown FP8 recipe");
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Whether `scale` fits an operand [rows, cols]: one f32 scale, one per
/// row, or E8M0 ones per MX block.
bool isScaleFor(RankedTensorType scale, int64_t rows, int64_t cols) {
  MLIRContext *context = scale.getContext();
  return llvm::any_of(
      ArrayRef<Fp8Scaling>{Fp8Scaling::Tensorwise, Fp8Scaling::Rowwise,
                           Fp8Scaling::Mx},
      [&](Fp8Scaling s) {
        return (s != Fp8Scaling::Mx || cols % kMxBlockSize == 0) &&
               scale == scaleTypeFor(context, s, rows, cols);
      });
}

/// What every quantise op requires: a matrix in, FP8 data of its shape out.
LogicalResult verifyQuantizedMatrix(Operation *op, RankedTensorType input,
                                    RankedTensorType data) {
  if (input.getRank() != 2)
    return op->emitOpError("quantises a matrix; the input has rank ")
           << input.getRank();
  if (data.getShape() != input.getShape())
    return op->emitOpError("data must have the input's shape ")
           << input << ", not " << data;
  return success();
}

} // namespace

RankedTensorType scaleTypeFor(MLIRContext *context, Fp8Scaling scaling,
                              int64_t rows, int64_t cols) {
  Type f32 = Float32Type::get(context);
  switch (scaling) {
  case Fp8Scaling::Tensorwise:
    return RankedTensorType::get({}, f32);
  case Fp8Scaling::Rowwise:
    return RankedTensorType::get({rows, 1}, f32);
  case Fp8Scaling::Mx:
    return RankedTensorType::get({rows, cols / kMxBlockSize},
                                 Float8E8M0FNUType::get(context));
  }
  llvm_unreachable("unknown FP8 scaling");
}

LogicalResult Fp8QuantizeOp::verify() {
  RankedTensorType input = typeOf(getInput());
  if (failed(verifyQuantizedMatrix(*this, input, typeOf(getData()))))
    return failure();
  if (getScaling() == Fp8Scaling::Mx && input.getDimSize(1) % kMxBlockSize)
    return emitOpError("with mx scaling the columns must be a multiple of ")
           << kMxBlockSize << "; the input is " << input;
  if (getScaling() == Fp8Scaling::Mx && getRoundScaleToPow2())
    return emitOpError("mx scales are powers of two already; drop "
                       "round_scale_to_pow2");
  RankedTensorType expected = scaleTypeFor(
      getContext(), getScaling(), input.getDimSize(0), input.getDimSize(1));
  if (typeOf(getScale()) != expected)
    return emitOpError("with ") << stringifyFp8Scaling(getScaling())
                                << " scaling the scale is " << expected
                                << ", not " << getScale().getType();
  return success();
}

LogicalResult ScaledMatmulOp::verify() {
  RankedTensorType lhs = typeOf(getLhs()), rhs = typeOf(getRhs());
  if (lhs.getRank() != 2 || rhs.getRank() != 2)
    return emitOpError("multiplies matrices; the operands have ranks ")
           << lhs.getRank() << " and " << rhs.getRank();
  if (lhs.getDimSize(1) != rhs.getDimSize(1))
    return emitOpError("computes lhs · rhsᵀ: lhs ")
           << lhs << " and rhs " << rhs << " must have the same columns";
  int64_t k = lhs.getDimSize(1);
  // The scale types an operand with `rows` rows may have, for messages.
  auto allowed = [&](int64_t rows) {
    std::string s = "tensor<f32> or tensor<" + std::to_string(rows) + "x1xf32>";
    if (k % kMxBlockSize == 0)
      s += " or tensor<" + std::to_string(rows) + "x" +
           std::to_string(k / kMxBlockSize) + "xf8E8M0FNU>";
    return s;
  };
  if (!isScaleFor(typeOf(getLhsScale()), lhs.getDimSize(0), k))
    return emitOpError("lhs_scale must be ")
           << allowed(lhs.getDimSize(0)) << ", not " << getLhsScale().getType();
  if (!isScaleFor(typeOf(getRhsScale()), rhs.getDimSize(0), k))
    return emitOpError("rhs_scale must be ")
           << allowed(rhs.getDimSize(0)) << ", not " << getRhsScale().getType();
  RankedTensorType result = typeOf(getResult());
  if (result.getShape() !=
      ArrayRef<int64_t>{lhs.getDimSize(0), rhs.getDimSize(0)})
    return emitOpError("result must be ")
           << lhs.getDimSize(0) << "x" << rhs.getDimSize(0) << ", not "
           << result;
  bool hp = getLhsHp() || getRhsHp();
  if (hp && !(getLhsHp() && getRhsHp()))
    return emitOpError("takes both high-precision operands or neither");
  if (hp != static_cast<bool>(getRecipe()))
    return emitOpError("takes a recipe exactly when it takes the "
                       "high-precision operands (a forward GEMM)");
  if (getOutputScaled() && (typeOf(getLhsScale()).getRank() != 0 ||
                            typeOf(getRhsScale()).getRank() != 0 ||
                            !typeOf(getLhsScale()).getElementType().isF32()))
    return emitOpError("with output_scaled both scales are tensor<f32>");
  bool delayed = getRecipe() == Fp8Recipe::Delayed;
  bool delayedParts[] = {static_cast<bool>(getGradHistory()),
                         static_cast<bool>(getAmaxAlgo()),
                         static_cast<bool>(getMargin()),
                         static_cast<bool>(getGradFormat())};
  if (llvm::any_of(delayedParts, [&](bool p) { return p != delayed; }))
    return emitOpError("takes grad_state, amax_algo, margin and grad_format "
                       "exactly when its recipe is delayed");
  if (delayed && !getOutputScaled())
    return emitOpError("with the delayed recipe scales its output "
                       "(output_scaled)");
  if (hp) {
    if (typeOf(getLhsHp()).getShape() != lhs.getShape() ||
        typeOf(getRhsHp()).getShape() != rhs.getShape())
      return emitOpError("high-precision operands must have the shapes of "
                         "the quantised ones");
    Type element = result.getElementType();
    if (typeOf(getLhsHp()).getElementType() != element ||
        typeOf(getRhsHp()).getElementType() != element)
      return emitOpError("high-precision operands must have the result's "
                         "element type ")
             << element << " (their gradients are computed in it)";
  }
  return success();
}

LogicalResult Fp8QuantizeScaledOp::verify() {
  return verifyQuantizedMatrix(*this, typeOf(getInput()), typeOf(getData()));
}

LogicalResult Fp8ScaleUpdateOp::verify() {
  if (getNewHistory().getType() != getHistory().getType())
    return emitOpError("new history must have the history's type ")
           << getHistory().getType() << ", not " << getNewHistory().getType();
  if (typeOf(getHistory()).getDimSize(0) < 1)
    return emitOpError("needs a history of at least one step");
  return success();
}

Fp8QuantizeOp buildFp8Quantize(OpBuilder &b, Location loc, Value x,
                               const Fp8Cast &cast) {
  MLIRContext *context = b.getContext();
  RankedTensorType t = typeOf(x);
  return Fp8QuantizeOp::create(
      b, loc, RankedTensorType::get(t.getShape(), cast.type(context)),
      scaleTypeFor(context, cast.scaling, t.getDimSize(0), t.getDimSize(1)), x,
      Fp8ScalingAttr::get(context, cast.scaling),
      cast.roundScaleToPow2 ? b.getUnitAttr() : nullptr);
}

//===----------------------------------------------------------------------===//
// VJP
//===----------------------------------------------------------------------===//

namespace {

Value transpose(OpBuilder &b, Location loc, Value x) {
  RankedTensorType t = typeOf(x);
  return TransposeOp::create(
      b, loc,
      RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                            t.getElementType()),
      x, 0, 1);
}

/// lhs · rhsᵀ as `gemm` says, in `element`.
Value buildGemm(OpBuilder &b, Location loc, const Fp8Gemm &gemm, Value lhs,
                Value rhs, Type element) {
  int64_t m = typeOf(lhs).getDimSize(0), n = typeOf(rhs).getDimSize(0);
  auto result = RankedTensorType::get({m, n}, element);
  if (gemm.highPrecision)
    return MatmulOp::create(b, loc, result, lhs, transpose(b, loc, rhs));
  Fp8QuantizeOp l = buildFp8Quantize(b, loc, lhs, gemm.lhs);
  Fp8QuantizeOp r = buildFp8Quantize(b, loc, rhs, gemm.rhs);
  return ScaledMatmulOp::create(b, loc, result, l.getData(), l.getScale(),
                                r.getData(), r.getScale(), Value(), Value(),
                                Value(), Value(), nullptr, false, nullptr,
                                nullptr, nullptr);
}

} // namespace

LogicalResult ScaledMatmulOp::buildVjp(OpBuilder &b, ArrayRef<Value> g,
                                       SmallVectorImpl<Value> &grads) {
  if (!getRecipe())
    return emitOpError("is a backward GEMM (it has no recipe and no "
                       "high-precision operands) and has no VJP");
  if (*getRecipe() == Fp8Recipe::Delayed)
    return buildDelayedVjp(b, g[0], grads);
  Fp8RecipePlan plan = planFor(*getRecipe());
  Location loc = getLoc();
  Value lhs = getLhsHp(), rhs = getRhsHp();
  Type element = typeOf(g[0]).getElementType();
  // grad_lhs = g · rhs = g · (rhsᵀ)ᵀ; grad_rhs = gᵀ · lhs = gᵀ · (lhsᵀ)ᵀ.
  Value gradLhs = buildGemm(b, loc, plan.gradLhs, g[0], transpose(b, loc, rhs),
                            element);
  Value gradRhs = buildGemm(b, loc, plan.gradRhs, transpose(b, loc, g[0]),
                            transpose(b, loc, lhs), element);
  grads.assign(getNumOperands(), Value());
  grads[4] = gradLhs;
  grads[5] = gradRhs;
  return success();
}

LogicalResult ScaledMatmulOp::buildDelayedVjp(OpBuilder &b, Value g,
                                              SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  MLIRContext *context = b.getContext();
  Type element = typeOf(g).getElementType();
  auto f32Scalar = RankedTensorType::get({}, Float32Type::get(context));
  // x quantised with the scale `scale` into `format`.
  auto quantize = [&](Value x, Value scale, Type format) {
    RankedTensorType t = typeOf(x);
    return Fp8QuantizeScaledOp::create(
        b, loc, RankedTensorType::get(t.getShape(), format), f32Scalar, x,
        scale);
  };
  auto gemm = [&](Fp8QuantizeScaledOp l, Value ls, Fp8QuantizeScaledOp r,
                  Value rs) -> Value {
    int64_t m = typeOf(l.getData()).getDimSize(0),
            n = typeOf(r.getData()).getDimSize(0);
    return ScaledMatmulOp::create(
        b, loc, RankedTensorType::get({m, n}, element), l.getData(), ls,
        r.getData(), rs, Value(), Value(), Value(), Value(), nullptr,
        /*output_scaled=*/true, nullptr, nullptr, nullptr);
  };
  Type gradFormat = *getGradFormat();
  Type lhsFormat = typeOf(getLhs()).getElementType();
  Type rhsFormat = typeOf(getRhs()).getElementType();
  Value gs = getGradScale(), ls = getLhsScale(), rs = getRhsScale();
  Fp8QuantizeScaledOp gq = quantize(g, gs, gradFormat);
  // grad_lhs = g · rhs = g · (rhsᵀ)ᵀ; grad_rhs = gᵀ · lhs = gᵀ · (lhsᵀ)ᵀ.
  Value gradLhs = gemm(gq, gs, quantize(transpose(b, loc, getRhsHp()), rs,
                                        rhsFormat),
                       rs);
  Value gradRhs = gemm(quantize(transpose(b, loc, g), gs, gradFormat), gs,
                       quantize(transpose(b, loc, getLhsHp()), ls, lhsFormat),
                       ls);
  auto update = Fp8ScaleUpdateOp::create(
      b, loc, getGradHistory().getType(), f32Scalar, getGradHistory(), gs,
      gq.getAmax(), *getAmaxAlgo(), *getMargin(), gradFormat);
  grads.assign(getNumOperands(), Value());
  grads[4] = gradLhs;
  grads[5] = gradRhs;
  grads[6] = update.getNewHistory();
  grads[7] = update.getNewScale();
  return success();
}

} // namespace accel
