//===- AutoDiff.cpp - accel-autodiff --------------------------------------===//
//
// Reverse-mode automatic differentiation of a forward function. The
// backward ops are appended after the forward ones, in reverse order of the
// forward ops, each built by the op's DifferentiableOpInterface.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/ForwardContract.h"
#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Transforms/RegionUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace accel {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;

namespace {

/// A tensor of zeros of `type`, for parameters the loss does not reach.
Value zeros(OpBuilder &b, Location loc, RankedTensorType type) {
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

/// Gradients accumulated per value: a value used by several ops gets the sum
/// of what each use contributes.
class GradientMap {
public:
  explicit GradientMap(OpBuilder &b) : b(b) {}

  Value get(Value v) const { return grads.lookup(v); }
  /// How many uses contributed to v's gradient.
  unsigned contributions(Value v) const { return counts.lookup(v); }

  LogicalResult accumulate(Location loc, Value v, Value grad) {
    if (grad.getType() != v.getType())
      return emitError(loc) << "internal error: a gradient of type "
                            << grad.getType() << " for a value of type "
                            << v.getType();
    ++counts[v];
    Value &slot = grads[v];
    if (!slot) {
      slot = grad;
      return success();
    }
    FailureOr<AddOp> sum = createChecked<AddOp>(b, loc, {slot, grad});
    if (failed(sum))
      return failure();
    slot = sum->getResult();
    return success();
  }

private:
  OpBuilder &b;
  DenseMap<Value, Value> grads;
  DenseMap<Value, unsigned> counts;
};

struct AutoDiffPass : accel::impl::AutoDiffPassBase<AutoDiffPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<func::FuncOp> forward = lookupForward(module, entry);
    if (failed(forward) || failed(verifyForwardContract(*forward)) ||
        failed(checkParameters(*forward)))
      return signalPassFailure();
    std::string name = entry + "_grad";
    if (module.lookupSymbol(name)) {
      module.emitError() << "'@" << name << "' already exists";
      return signalPassFailure();
    }
    func::FuncOp grad = (*forward).clone();
    grad.setName(name);
    module.insert(std::next(Block::iterator(*forward)), grad);
    if (failed(differentiate(grad)))
      return signalPassFailure();
  }

  /// Gradients exist for floating-point tensors only.
  LogicalResult checkParameters(func::FuncOp forward) {
    for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i) {
      auto param = forward.getArgAttrOfType<StringAttr>(
          i, AccelDialect::kParamAttrName);
      if (!param)
        continue;
      auto type = cast<RankedTensorType>(forward.getArgumentTypes()[i]);
      if (!isa<FloatType>(type.getElementType()))
        return forward.emitError()
               << "parameter \"" << param.getValue() << "\" has type " << type
               << "; only floating-point parameters take gradients (mark it "
                  "'accel.buffer' if it is not trained)";
    }
    return success();
  }

  /// FSDP's reshard-after-forward: a forward all_gather marked `reshard`
  /// is issued again right before the first backward op that reads its
  /// results, and the backward ops read the new one, so the first gather's
  /// tensors die with the unit's last forward use.
  static SmallVector<Operation *>
  regatherForBackward(ArrayRef<Operation *> forwardOps) {
    SmallVector<Operation *> regathers;
    llvm::SmallPtrSet<Operation *, 16> forward(forwardOps.begin(),
                                               forwardOps.end());
    for (Operation *op : forwardOps) {
      auto gather = dyn_cast<AllGatherOp>(op);
      if (!gather || !gather.getReshard())
        continue;
      Operation *first = nullptr;
      for (Operation *user : gather->getUsers())
        if (!forward.contains(user) &&
            (!first || user->isBeforeInBlock(first)))
          first = user;
      if (!first)
        continue;
      OpBuilder b(first);
      Operation *again = b.clone(*gather);
      for (auto [old, fresh] :
           llvm::zip(gather->getResults(), again->getResults()))
        old.replaceUsesWithIf(fresh, [&](OpOperand &use) {
          return !forward.contains(use.getOwner()) && use.getOwner() != again;
        });
      regathers.push_back(again);
    }
    return regathers;
  }

  LogicalResult differentiate(func::FuncOp func) {
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    OpBuilder b(ret);
    GradientMap grads(b);

    // d loss / d loss = 1, or with loss scaling d (s * loss) / d loss = s,
    // so every gradient comes out multiplied by the scale (as
    // GradScaler.scale(loss).backward() computes them).
    Value loss = ret.getOperand(0);
    auto lossType = cast<RankedTensorType>(loss.getType());
    Value seed;
    if (lossScale) {
      auto scaleType = RankedTensorType::get({}, b.getF32Type());
      unsigned index = func.getNumArguments();
      if (failed(func.insertArgument(
              index, scaleType,
              b.getDictionaryAttr(b.getNamedAttr(
                  AccelDialect::kLossScaleAttrName,
                  b.getStringAttr("loss_scale"))),
              func.getLoc())))
        return failure();
      seed = func.getArgument(index);
      if (scaleType != lossType)
        seed = CastOp::create(b, loss.getLoc(), lossType, seed);
    } else {
      seed = arith::ConstantOp::create(
          b, loss.getLoc(),
          DenseElementsAttr::get(lossType,
                                 b.getFloatAttr(lossType.getElementType(), 1.0)));
    }
    if (failed(grads.accumulate(loss.getLoc(), loss, seed)))
      return failure();

    // Forward ops, last first; the backward ops go before the return.
    SmallVector<Operation *> forwardOps;
    for (Operation &op : body.without_terminator())
      forwardOps.push_back(&op);
    for (Operation *op : llvm::reverse(forwardOps)) {
      SmallVector<Value> resultGrads;
      bool reached = false;
      for (Value r : op->getResults()) {
        resultGrads.push_back(grads.get(r));
        reached |= static_cast<bool>(resultGrads.back());
      }
      if (!reached)
        continue;
      auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
      // Constants have nothing to pass a gradient to.
      if (!differentiable && op->getNumOperands() == 0)
        continue;
      if (!differentiable)
        return op->emitOpError()
               << "is on the path from the parameters to the loss but has no "
                  "vector-Jacobian product";
      b.setInsertionPoint(ret);
      SmallVector<Value> operandGrads;
      if (failed(differentiable.buildVjp(b, resultGrads, operandGrads)))
        return op->emitOpError() << "failed to build its vector-Jacobian product";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
        if (g && failed(grads.accumulate(op->getLoc(), operand, g)))
          return failure();
    }

    SmallVector<Operation *> regathers = regatherForBackward(forwardOps);

    // Results: the loss, one gradient per parameter, the state the backward
    // pass updates, the forward's buffer and state updates.
    b.setInsertionPoint(ret);
    SmallVector<Value> results = {loss};
    SmallVector<Type> types = {loss.getType()};
    SmallVector<DictionaryAttr> resultAttrs = {DictionaryAttr::get(&getContext())};
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      auto param =
          func.getArgAttrOfType<StringAttr>(i, AccelDialect::kParamAttrName);
      if (!param)
        continue;
      Value arg = func.getArgument(i);
      Value g = grads.get(arg);
      if (!g)
        g = zeros(b, arg.getLoc(), cast<RankedTensorType>(arg.getType()));
      results.push_back(g);
      types.push_back(arg.getType());
      resultAttrs.push_back(b.getDictionaryAttr(
          b.getNamedAttr(AccelDialect::kGradAttrName, param)));
    }
    // State the backward pass updates (delayed FP8 scaling of incoming
    // gradients): what the VJPs return for such an argument is its next
    // value, not a gradient, and it leaves with its role.
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
      auto name =
          func.getArgAttrOfType<StringAttr>(i, AccelDialect::kFp8StateAttrName);
      Value next = name ? grads.get(func.getArgument(i)) : Value();
      if (!next)
        continue;
      if (grads.contributions(func.getArgument(i)) > 1)
        return emitError(next.getLoc())
               << "FP8 state \"" << name.getValue()
               << "\" is updated by more than one op's backward pass";
      results.push_back(next);
      types.push_back(next.getType());
      resultAttrs.push_back(b.getDictionaryAttr(
          b.getNamedAttr(AccelDialect::kFp8StateAttrName, name)));
    }
    for (unsigned i = 1, e = ret.getNumOperands(); i < e; ++i) {
      results.push_back(ret.getOperand(i));
      types.push_back(ret.getOperand(i).getType());
      resultAttrs.push_back(func.getResultAttrDict(i)
                                ? func.getResultAttrDict(i)
                                : DictionaryAttr::get(&getContext()));
    }
    func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    func.setFunctionType(
        FunctionType::get(&getContext(), func.getArgumentTypes(), types));
    func.setAllResultAttrs(resultAttrs);

    // VJPs build every operand's gradient; drop those nothing needs (the
    // gradients of inputs, say).
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (isOpTriviallyDead(&op))
        op.erase();
    // A collective is never trivially dead; a gather for the backward pass
    // whose readers all went (an input's gradient) is.
    for (Operation *op : regathers)
      if (op->use_empty())
        op->erase();
    return success();
  }
};

} // namespace
