//===- AccelFusionOps.cpp - accel.fused verification ----------------------===//

#include "dialects/accel/AccelOps.h"

using namespace mlir;

namespace accel {

static int64_t elementCount(RankedTensorType type) {
  return type.hasStaticShape() ? type.getNumElements() : -1;
}

LogicalResult FusedOp::verify() {
  if (getResults().empty())
    return emitOpError("needs at least one result");
  auto first = cast<RankedTensorType>(getResult(0).getType());
  if (!first.hasStaticShape())
    return emitOpError("needs a static iteration shape, got ") << first;
  for (Type t : getResultTypes())
    if (cast<RankedTensorType>(t).getShape() != first.getShape())
      return emitOpError("results must share one shape: ")
             << first << " and " << t;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getShape() != first.getShape() && elementCount(type) != 1)
      return emitOpError("input #")
             << i << " of type " << type
             << " neither has the iteration shape nor holds one element";
  }
  return success();
}

LogicalResult FusedOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body takes ")
           << body.getNumArguments() << " arguments for "
           << getInputs().size() << " inputs";
  for (auto [arg, input] : llvm::zip(body.getArguments(), getInputs())) {
    auto expected = RankedTensorType::get(
        {}, cast<RankedTensorType>(input.getType()).getElementType());
    if (arg.getType() != expected)
      return emitOpError("body argument #")
             << arg.getArgNumber() << " must be " << expected << ", got "
             << arg.getType();
  }
  auto isElement = [](Type t) {
    auto r = dyn_cast<RankedTensorType>(t);
    return r && r.getRank() == 0;
  };
  for (Operation &op : body.without_terminator()) {
    if (op.getNumRegions() != 0 || !llvm::all_of(op.getOperandTypes(), isElement) ||
        !llvm::all_of(op.getResultTypes(), isElement))
      return op.emitOpError("inside accel.fused must compute on rank-0 "
                            "tensors and hold no regions");
  }
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("body must end with accel.yield");
  if (yield.getValues().size() != getNumResults())
    return yield.emitOpError("yields ")
           << yield.getValues().size() << " values for " << getNumResults()
           << " results";
  for (auto [v, r] : llvm::zip(yield.getValues(), getResults())) {
    auto expected = RankedTensorType::get(
        {}, cast<RankedTensorType>(r.getType()).getElementType());
    if (v.getType() != expected)
      return yield.emitOpError("value of type ")
             << v.getType() << " for a result of type " << r.getType()
             << " (expected " << expected << ")";
  }
  return success();
}

} // namespace accel
