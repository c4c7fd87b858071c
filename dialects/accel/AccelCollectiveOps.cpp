//===- AccelCollectiveOps.cpp - collectives between ranks -----------------===//

#include "dialects/accel/AccelOps.h"

#include "mlir/IR/Builders.h"

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

LogicalResult AllReduceOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // d(Σ_q x_q)/dx_r = 1 on every rank r, and rank r's loss term reaches
  // the result on every rank: the gradient of x_r combines all ranks'
  // result gradients the same way (the mean's 1/N included).
  SmallVector<Value> present;
  SmallVector<Type> types;
  SmallVector<unsigned> at;
  SmallVector<Attribute> names;
  for (auto [i, g] : llvm::enumerate(resultGrads)) {
    if (!g)
      continue;
    present.push_back(g);
    types.push_back(g.getType());
    at.push_back(i);
    if (auto all = getNames())
      names.push_back((*all)[i]);
  }
  operandGrads.assign(getNumOperands(), Value());
  if (present.empty())
    return success();
  auto op = AllReduceOp::create(
      b, getLoc(), types, getKindAttr(), present, getRanksAttr(),
      getBucketAttr(), getNames() ? b.getArrayAttr(names) : ArrayAttr());
  for (auto [k, i] : llvm::enumerate(at))
    operandGrads[i] = op.getResult(k);
  return success();
}

} // namespace accel
