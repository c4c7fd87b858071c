//===- AccelOps.h - accel dialect ops ---------------------------*- C++ -*-===//

#ifndef ACCEL_DIALECTS_ACCEL_ACCELOPS_H
#define ACCEL_DIALECTS_ACCEL_ACCELOPS_H

#include "dialects/accel/AccelDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace accel::detail {
/// Verifies an op by running its result-type inference at its location; the
/// inference reports the first shape rule the operands break.
template <typename OpTy>
llvm::LogicalResult verifyByInference(OpTy op) {
  llvm::SmallVector<mlir::Type> types;
  return OpTy::inferReturnTypes(op.getContext(), op.getLoc(),
                                typename OpTy::Adaptor(op), types);
}
} // namespace accel::detail

#define GET_OP_CLASSES
#include "dialects/accel/AccelOps.h.inc"

#endif // ACCEL_DIALECTS_ACCEL_ACCELOPS_H
