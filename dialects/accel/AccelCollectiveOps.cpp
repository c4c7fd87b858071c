//===- AccelCollectiveOps.cpp - collectives between ranks -----------------===//

#include "dialects/accel/AccelOps.h"

using namespace mlir;

namespace accel {

LogicalResult AllReduceOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  if (auto names = getNames(); names && names->size() != getInputs().size())
    return emitOpError() << "names " << names->size()
                         << " tensors but has " << getInputs().size()
                         << " operands";
  return success();
}

} // namespace accel
