//===- ReferenceInterpreter.h - evaluate accel IR with ATen -----*- C++ -*-===//
//
// A test oracle: runs a func.func of accel (and arith) ops op by op, each
// with the ATen function whose semantics the op mirrors, in the op's own
// element type. Slow and obviously right by construction; it checks that
// transformations (import, autodiff, ...) preserve what a function computes,
// and the optimised runtime is checked against it.
//
// accel.dropout with p > 0 is rejected: its mask comes from accel's own
// counter-based generator, which the runtime defines.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_TESTS_REFERENCE_REFERENCEINTERPRETER_H
#define ACCEL_TESTS_REFERENCE_REFERENCEINTERPRETER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include <ATen/Tensor.h>

#include <vector>

namespace accel::reference {

struct InterpretOptions {
  /// Evaluate every floating-point value in f64, whatever its type in the
  /// IR: constants are made f64 and casts between float types are the
  /// identity. For finite-difference gradient checks, where f32 rounding
  /// would drown the differences.
  bool floatsInDouble = false;
};

/// Evaluates `function` on `arguments` (one per function argument, with the
/// argument's shape and dtype, or f64 for floats with floatsInDouble) and
/// returns its results.
llvm::Expected<std::vector<at::Tensor>>
interpret(mlir::func::FuncOp function, llvm::ArrayRef<at::Tensor> arguments,
          const InterpretOptions &options = {});

/// The LibTorch dtype of an accel element type (f32, bf16, f16, i64, i1).
llvm::Expected<at::ScalarType> scalarTypeFor(mlir::Type elementType);

} // namespace accel::reference

#endif // ACCEL_TESTS_REFERENCE_REFERENCEINTERPRETER_H
