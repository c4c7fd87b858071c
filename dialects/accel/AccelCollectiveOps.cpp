//===- AccelCollectiveOps.cpp - collectives between ranks -----------------===//

#include "dialects/accel/AccelOps.h"

using namespace mlir;

namespace accel {

LogicalResult AllReduceOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  return success();
}

} // namespace accel
