//===- ForwardContract.h - the signature of a forward function --*- C++ -*-===//
//
// What every training pass may assume of the function it starts from; the
// accel-verify-forward pass reports violations, and passes that transform a
// forward function call the same check as their precondition.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_TRANSFORMS_FORWARDCONTRACT_H
#define ACCEL_COMPILER_TRANSFORMS_FORWARDCONTRACT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

namespace accel {

/// Finds the function named `entry` in `module`, reporting an error at the
/// module when there is none.
mlir::FailureOr<mlir::func::FuncOp> lookupForward(mlir::ModuleOp module,
                                                  llvm::StringRef entry);

/// Checks the forward contract (see the accel-verify-forward pass), emitting
/// one located error for the first violation.
mlir::LogicalResult verifyForwardContract(mlir::func::FuncOp forward);

} // namespace accel

#endif // ACCEL_COMPILER_TRANSFORMS_FORWARDCONTRACT_H
