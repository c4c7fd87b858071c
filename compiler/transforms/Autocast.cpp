//===- Autocast.cpp - accel-autocast --------------------------------------===//
//
// Mixed precision as torch.autocast does it, decided ahead of time: each op
// of the forward function gets its floating operands cast by the rule of
// the policy table (compiler/precision/AutocastPolicy.def), and its result
// types follow. Parameters stay f32 and are cast once.
//
//===----------------------------------------------------------------------===//

#include "compiler/precision/AutocastPolicy.h"
#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

namespace accel {
#define GEN_PASS_DEF_AUTOCASTPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;
using precision::CastRule;

namespace {

constexpr llvm::StringLiteral kRuleAttr = "accel.autocast";

RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

FloatType floatElement(Value v) {
  return dyn_cast<FloatType>(tensorOf(v).getElementType());
}

/// PyTorch's promote_types for the float types autocast meets: the wider
/// one, and f32 for bf16 with f16 (neither holds the other).
FloatType promote(FloatType a, FloatType b) {
  if (a == b)
    return a;
  if (a.getWidth() != b.getWidth())
    return a.getWidth() > b.getWidth() ? a : b;
  return Float32Type::get(a.getContext());
}

/// Sets `op`'s result types from its (recast) operands: through type
/// inference where the op has it, else the operand's element type on the
/// result's shape (unary ops, reshape).
LogicalResult refreshResultTypes(Operation *op) {
  if (isa<CastOp>(op))
    return success();
  if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
    SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getAttrDictionary(), op->getPropertiesStorage(),
            op->getRegions(), types)))
      return failure();
    for (auto [result, type] : llvm::zip(op->getResults(), types))
      result.setType(type);
    return success();
  }
  FloatType element;
  for (Value v : op->getOperands())
    if ((element = floatElement(v)))
      break;
  if (!element)
    return success();
  for (Value r : op->getResults()) {
    auto type = dyn_cast<RankedTensorType>(r.getType());
    if (type && isa<FloatType>(type.getElementType()))
      r.setType(RankedTensorType::get(type.getShape(), element));
  }
  return success();
}

struct AutocastPass : accel::impl::AutocastPassBase<AutocastPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (dtype != "bf16" && dtype != "fp16") {
      module.emitError() << "unknown precision '" << dtype
                         << "' (autocast takes bf16 or fp16; fp32 needs none)";
      return signalPassFailure();
    }
    std::string policyName =
        policy.empty() ? (dtype == "bf16" ? "cpu" : "cuda") : policy.getValue();
    std::optional<precision::Device> device = precision::parseDevice(policyName);
    if (!device) {
      module.emitError() << "unknown autocast policy '" << policyName
                         << "' (cpu or cuda)";
      return signalPassFailure();
    }
    auto f = module.lookupSymbol<func::FuncOp>(entry);
    if (!f) {
      module.emitError() << "no function '@" << entry << "' to autocast";
      return signalPassFailure();
    }
    if (f->hasAttr("accel.precision")) {
      f.emitError() << "is already autocast to "
                    << f->getAttr("accel.precision");
      return signalPassFailure();
    }
    MLIRContext *ctx = &getContext();
    low = dtype == "bf16" ? FloatType(BFloat16Type::get(ctx))
                          : FloatType(Float16Type::get(ctx));
    f32 = Float32Type::get(ctx);
    this->device = *device;
    if (failed(rewrite(f)))
      return signalPassFailure();
    f->setAttr("accel.precision", StringAttr::get(ctx, dtype.getValue()));
    f->setAttr("accel.autocast_policy", StringAttr::get(ctx, policyName));
  }

  LogicalResult rewrite(func::FuncOp f) {
    Block &body = f.getBody().front();
    entryCasts = OpBuilder::atBlockBegin(&body);
    SmallVector<Operation *> ops;
    for (Operation &op : body)
      ops.push_back(&op);
    for (Operation *op : ops) {
      if (isa<arith::ConstantOp, CastOp>(op))
        continue;
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        restoreResultTypes(ret, f.getFunctionType().getResults());
        continue;
      }
      if (failed(decide(op)))
        return failure();
    }
    return success();
  }

  /// Casts `op`'s operands by its rule and recomputes its result types.
  LogicalResult decide(Operation *op) {
    std::optional<precision::PolicyEntry> entry =
        precision::lookupPolicy(op->getName().getStringRef());
    CastRule rule = entry ? entry->rule(device) : CastRule::Inputs;
    std::string deviceName(precision::deviceName(device));
    SmallVector<FloatType> floats;
    for (Value v : op->getOperands())
      if (FloatType t = floatElement(v))
        floats.push_back(t);
    std::string reason;
    switch (rule) {
    case CastRule::LowerPrecision:
      castOperands(op, [&](FloatType t) { return t == f32 ? low : t; });
      reason = deviceName + " lower_precision_fp: " + std::string(entry->atenOp);
      break;
    case CastRule::Fp32:
      castOperands(op, [&](FloatType) { return f32; });
      reason = deviceName + " fp32: " + std::string(entry->atenOp);
      break;
    case CastRule::Promote: {
      FloatType widest = widestOf(floats);
      castOperands(op, [&](FloatType) { return widest; });
      reason = deviceName + " promote: " + std::string(entry->atenOp);
      break;
    }
    case CastRule::Inputs:
      if (failed(promoteMixedInputs(op, floats, reason)))
        return failure();
      break;
    }
    if (failed(refreshResultTypes(op)) || failed(mlir::verify(op)))
      return op->emitError("cannot run in the precision autocast chose: ")
             << reason;
    if (!reason.empty())
      op->setAttr(kRuleAttr, StringAttr::get(op->getContext(), reason));
    return success();
  }

  /// No list names the op: it runs in its inputs' type. Inputs that differ
  /// are promoted to the widest, unless the op accepts them as they are (a
  /// rank-0 f32 scalar with a reduced-precision tensor).
  LogicalResult promoteMixedInputs(Operation *op, ArrayRef<FloatType> floats,
                                   std::string &reason) {
    if (llvm::all_equal(floats))
      return success();
    if (isa<AddOp, SubOp, MulOp, DivOp>(op)) {
      auto l = tensorOf(op->getOperand(0)), r = tensorOf(op->getOperand(1));
      auto isScalar = [](RankedTensorType s, RankedTensorType other) {
        return s.getRank() == 0 && other.getRank() > 0 &&
               s.getElementType().isF32();
      };
      if (isScalar(l, r) || isScalar(r, l)) {
        reason = "inputs: f32 scalar keeps its precision";
        return success();
      }
    }
    // Ops with mixed-type kernels (batch_norm's f32 statistics with a bf16
    // input, as ATen's) take the types as they are.
    if (acceptsAsIs(op)) {
      reason = "inputs: mixed types accepted";
      return success();
    }
    FloatType widest = widestOf(floats);
    castOperands(op, [&](FloatType) { return widest; });
    reason = "inputs: promoted to widest";
    return success();
  }

  /// Whether `op` infers result types and verifies with its operands as
  /// they are; the attempt's diagnostics are dropped.
  bool acceptsAsIs(Operation *op) {
    ScopedDiagnosticHandler quiet(op->getContext(),
                                  [](Diagnostic &) { return success(); });
    SmallVector<Type> before(op->getResultTypes());
    if (succeeded(refreshResultTypes(op)) && succeeded(mlir::verify(op)))
      return true;
    for (auto [result, type] : llvm::zip(op->getResults(), before))
      result.setType(type);
    return false;
  }

  FloatType widestOf(ArrayRef<FloatType> floats) {
    FloatType widest;
    for (FloatType t : floats)
      widest = widest ? promote(widest, t) : t;
    return widest;
  }

  /// Replaces each floating operand by its cast to `target(type)`.
  void castOperands(Operation *op,
                    llvm::function_ref<FloatType(FloatType)> target) {
    for (OpOperand &use : op->getOpOperands()) {
      FloatType from = floatElement(use.get());
      if (!from)
        continue;
      FloatType to = target(from);
      if (to != from)
        use.set(castOf(use.get(), to, op));
    }
  }

  /// `v` converted to `element`, cast once per value and type: function
  /// arguments (parameters) at the top of the function, other values right
  /// after their definition.
  Value castOf(Value v, FloatType element, Operation *user) {
    Value &cached = castCache[{v, element}];
    if (cached)
      return cached;
    auto type = RankedTensorType::get(tensorOf(v).getShape(), element);
    CastOp cast;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      cast = CastOp::create(entryCasts, v.getLoc(), type, v);
      cast->setAttr(kRuleAttr,
                    StringAttr::get(v.getContext(), argumentCastRule(arg)));
    } else {
      OpBuilder b(v.getContext());
      b.setInsertionPointAfterValue(v);
      cast = CastOp::create(b, v.getLoc(), type, v);
      cast->setAttr(kRuleAttr,
                    StringAttr::get(v.getContext(),
                                    "operand cast for " +
                                        user->getName().getStringRef()));
    }
    cached = cast.getResult();
    return cached;
  }

  /// "parameter cast: fc.weight", "input cast: x", ...: the argument's role
  /// and name, so reports can point at the tensor.
  static std::string argumentCastRule(BlockArgument arg) {
    auto f = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    static const std::pair<StringRef, StringRef> roles[] = {
        {AccelDialect::kParamAttrName, "parameter cast: "},
        {AccelDialect::kBufferAttrName, "buffer cast: "},
        {AccelDialect::kInputAttrName, "input cast: "}};
    for (auto [attr, prefix] : roles)
      if (auto name = f.getArgAttrOfType<StringAttr>(arg.getArgNumber(), attr))
        return (prefix + name.getValue()).str();
    return "argument cast";
  }

  /// Results keep the function's declared types.
  void restoreResultTypes(func::ReturnOp ret, TypeRange declared) {
    for (auto [operand, type] : llvm::zip(ret->getOpOperands(), declared)) {
      if (operand.get().getType() == type)
        continue;
      OpBuilder b(ret);
      auto cast = CastOp::create(b, ret.getLoc(), type, operand.get());
      cast->setAttr(kRuleAttr,
                    StringAttr::get(ret.getContext(), "result keeps its type"));
      operand.set(cast);
    }
  }

  FloatType low, f32;
  precision::Device device = precision::Device::Cpu;
  OpBuilder entryCasts{static_cast<MLIRContext *>(nullptr)};
  llvm::DenseMap<std::pair<Value, Type>, Value> castCache;
};

} // namespace
