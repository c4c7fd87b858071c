//===- StepContract.h - the signature of a training step --------*- C++ -*-===//
//
// What a runtime may assume of @train_step: every piece of state it reads
// comes back as a result naming it, so updating state in place, donating
// buffers and checkpointing by name are safe. accel-verify-step reports
// violations and accel-run's loader refuses steps that break it.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_TRANSFORMS_STEPCONTRACT_H
#define ACCEL_COMPILER_TRANSFORMS_STEPCONTRACT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace accel {

/// Checks the training-step contract of `step`, emitting one located error
/// for the first violation:
/// - every parameter, optimizer-state and FP8-state argument has exactly
///   one result with the same role and name, of the same type (a result
///   that lost its role would leave the state silently unchanged);
/// - a buffer argument has at most one such result (buffers nothing
///   updates, such as a constant mask, keep their value);
/// - every state result names an argument of its role;
/// - state names are usable as safetensors keys (not "__metadata__").
mlir::LogicalResult verifyStepContract(mlir::func::FuncOp step);

} // namespace accel

#endif // ACCEL_COMPILER_TRANSFORMS_STEPCONTRACT_H
