//===- InstructionCheck.h - an instruction's operands fit its kernel -*- C++
//-*-===//
//
// The kernels index an instruction's operand and result lists, its ints
// and floats, and its buffers' shapes without looking first: a Linear
// reads operands[1]'s two dimensions, a Slice ints[0..3], a Concat every
// part's rows. checkInstruction holds an instruction to what its kernel
// reads, so that a program file that is well-formed but wrong (hand-edited,
// or written by another tool) ends in one error naming the instruction
// instead of a read outside a buffer.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_EXECUTOR_INSTRUCTIONCHECK_H
#define ACCEL_RUNTIME_EXECUTOR_INSTRUCTIONCHECK_H

#include "runtime/executor/Program.h"

#include "llvm/Support/Error.h"

#include <string>

namespace accel::rt {

/// Success, or an error starting with `where` when `in` (whose buffer
/// indices are known to be valid) does not carry what its kernel reads:
///  - its operand and result counts, and at least the ints and floats the
///    kernel reads, with those that select dimensions, flags or modes in
///    range;
///  - element types: integer operands where the kernel reads indices,
///    labels or counters, flags where it reads flags, float types
///    elsewhere (reduced-precision ones run on f32 copies);
///  - shapes: elementwise operands of the result's size (or broadcasting
///    to it), products' inner dimensions equal, reductions, slices,
///    concatenations, permutations, norms, losses, embeddings, FP8 scales
///    and convolutions' channel counts consistent with their results.
/// Pooling and convolution windows are not checked against the result's
/// spatial size: the kernels test every tap against the input's bounds.
/// Collectives, waits and fused bodies are checked by checkProgram.
llvm::Error checkInstruction(const Program &program, const Instruction &in,
                             const std::string &where);

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_INSTRUCTIONCHECK_H
