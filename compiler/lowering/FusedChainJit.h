//===- FusedChainJit.h - fused elementwise chains to machine code -*- C++ -*-===//
//
// The CPU executor interprets a fused chain step by step over chunks of
// elements (runtime/executor/FusedKernel.h): every step loads and stores
// its registers, so a long chain such as AdamW's update is bound by those
// loads and stores, not by its arithmetic. This compiles such chains
// instead, through MLIR (scf + arith + math + vector, lowered to the LLVM
// dialect) and LLVM's ORC JIT for the host CPU: one loop that keeps a
// vector of every value in registers.
//
// Only chains whose every step is one IEEE operation (add, sub, mul, div,
// neg, sqrt, 1/sqrt as two operations, relu and its gradient as compares
// and selects) on f32 are compiled: the generated code then gives the same
// bits as the interpreter (no fast-math flags, no contraction into FMAs).
// Chains with transcendental steps (exp, tanh, GELU, ...) or bf16/f16
// rounding stay interpreted.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_LOWERING_FUSEDCHAINJIT_H
#define ACCEL_COMPILER_LOWERING_FUSEDCHAINJIT_H

#include "runtime/executor/Program.h"

#include "llvm/Support/Error.h"

namespace accel::lowering {

struct FusedChainStats {
  int compiled = 0;    // bodies now run as machine code
  int interpreted = 0; // bodies left to the interpreter
  double seconds = 0;  // generating, lowering and compiling
};

/// Chains on fewer elements stay interpreted: compiling them costs more
/// than it saves.
constexpr int64_t kMinCompiledElements = 4096;

/// Compiles every fused body of `program` that qualifies (see above) and
/// whose instruction has at least kMinCompiledElements elements, and sets
/// its `compiled`. The machine code stays loaded until the process exits.
/// For the CPU driver only: the pointers mean nothing to a device.
llvm::Expected<FusedChainStats> compileFusedChains(rt::Program &program);

} // namespace accel::lowering

#endif // ACCEL_COMPILER_LOWERING_FUSEDCHAINJIT_H
