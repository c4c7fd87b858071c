//===- CpuKernelOps.h - the ops the CPU driver runs ------------*- C++ -*-===//
//
// The names of the ops that ProgramLoader lowers to a CPU kernel, for tools
// that report coverage without loading a program (accel-import
// --list-ops). ProgramLoader checks every op it lowers against this list,
// so a kernel added there without a line here fails the tests.
//
//===----------------------------------------------------------------------===//
#ifndef ACCEL_COMPILER_LOWERING_CPUKERNELOPS_H
#define ACCEL_COMPILER_LOWERING_CPUKERNELOPS_H

#include "llvm/ADT/StringRef.h"

namespace accel {

/// Whether the CPU driver has a kernel for ops named `name` ("accel.linear",
/// "arith.addi"). Some kernels take only some element types or
/// attributes (accel.broadcast_to: floats; arith.cmpi: eq).
bool hasCpuKernel(llvm::StringRef name);

} // namespace accel

#endif // ACCEL_COMPILER_LOWERING_CPUKERNELOPS_H
