//===- Passes.h - accel passes ----------------------------------*- C++ -*-===//

#ifndef ACCEL_COMPILER_TRANSFORMS_PASSES_H
#define ACCEL_COMPILER_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>
#include <string>

namespace accel {

#define GEN_PASS_DECL
#include "compiler/transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/transforms/Passes.h.inc"

} // namespace accel

#endif // ACCEL_COMPILER_TRANSFORMS_PASSES_H
