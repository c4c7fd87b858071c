//===- FusedKernel.h - runs a fused elementwise chain -----------*- C++ -*-===//
//
// Interprets a FusedBody over chunks of elements: each step runs a tight
// loop over a chunk held in registers (arrays that stay in L1), so a chain
// of ops reads its inputs and writes its results once, whatever its length.
// The per-element maths is the single-op kernels' own (cpu/ElementOps.h).
// A body with machine code (FusedBody::compiled, which the loader's
// compiler/lowering/FusedChainJit sets on the CPU) runs that instead.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_EXECUTOR_FUSEDKERNEL_H
#define ACCEL_RUNTIME_EXECUTOR_FUSEDKERNEL_H

#include "runtime/cpu/ThreadPool.h"
#include "runtime/executor/Program.h"

#include "llvm/ADT/ArrayRef.h"

namespace accel::rt {

/// Registers one fused body may use (operands plus steps).
constexpr int kFusedMaxRegisters = 64;

/// Whether `kernel` can be a fused step, and with how many operands (0 if
/// it cannot).
int fusedStepArity(Kernel kernel);

/// Computes `n` elements of each output; inputs[i] has n elements, or one
/// when scalar[i].
void runFused(cpu::ThreadPool &pool, const FusedBody &body,
              llvm::ArrayRef<const float *> inputs, llvm::ArrayRef<bool> scalar,
              llvm::ArrayRef<float *> outputs, int64_t n);

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_FUSEDKERNEL_H
