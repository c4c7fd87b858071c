//===- Widening.h - f32 shadows of reduced-precision buffers ----*- C++ -*-===//
//
// Kernels compute in f32. One with bf16, f16 or FP8 operands or results
// runs on f32 copies of them (shadows): the operands are widened (exactly)
// before it and the results rounded to their type after it, so each op
// rounds once, as ATen's reduced-precision kernels do. The CPU executor
// and the device drivers' loader plan the same shadows.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_EXECUTOR_WIDENING_H
#define ACCEL_RUNTIME_EXECUTOR_WIDENING_H

#include "runtime/executor/Program.h"

#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace accel::rt {

/// Whether `type` is a float type narrower than f32 (bf16, f16, FP8).
bool isReducedFloat(ElementType type);

struct WideningPlan {
  /// An instruction's shadows: (buffer, its f32 shadow) to widen before it
  /// runs, and to round into after.
  struct Shadows {
    std::vector<std::pair<int, int>> in, out;
  };
  std::vector<Shadows> perInstruction;
  /// The shadows are the buffers appended from index `firstShadow` on;
  /// shadow firstShadow + i lives at byte shadowOffsets[i] of one memory of
  /// `bytes` that every instruction reuses (they run one at a time).
  int firstShadow = 0;
  std::vector<uint64_t> shadowOffsets;
  uint64_t bytes = 0;
};

/// Gives every instruction whose kernel is not one of those that
/// `handlesAnyType` (they move or convert their buffers' own types) an f32
/// shadow of each reduced-precision operand and result: appends the
/// shadows to `p.buffers` (role Arena, unnamed) and makes the instruction
/// name them instead.
WideningPlan planWidening(Program &p,
                          llvm::function_ref<bool(Kernel)> handlesAnyType);

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_WIDENING_H
