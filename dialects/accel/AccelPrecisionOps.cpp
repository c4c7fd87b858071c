//===- AccelPrecisionOps.cpp - loss-scaling ops ---------------------------===//

#include "dialects/accel/AccelOps.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace accel {

LogicalResult AllFiniteOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  return success();
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  if (getOnTrue() == getOnFalse())
    return getOnTrue();
  auto condition = dyn_cast_or_null<DenseElementsAttr>(adaptor.getCondition());
  if (!condition)
    return {};
  return condition.getSplatValue<bool>() ? getOnTrue() : getOnFalse();
}

} // namespace accel
