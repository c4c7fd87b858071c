//===- ProgramCheck.h - a program's structure checked before it runs ------===//
//
// The executor trusts a program's buffer table: it points arena buffers at
// `offset`, views at their root, and kernels at whatever indices an
// instruction names. A program built from a damaged or hand-edited file
// (an arena offset past the arena, a shape whose size overflows, an index
// past the table) would read and write outside its memory. checkProgram
// finds every such fault first, whoever built the program.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_EXECUTOR_PROGRAMCHECK_H
#define ACCEL_RUNTIME_EXECUTOR_PROGRAMCHECK_H

#include "runtime/executor/Program.h"

#include "llvm/Support/Error.h"

namespace accel::rt {

/// Success, or an error naming the first buffer, instruction or result that
/// breaks one of these:
///  - every dimension is non-negative and every buffer's byte size fits in
///    64 bits;
///  - arena buffers lie inside the arena, aligned to their element size;
///  - a view's root exists, is not itself a view, precedes it and holds at
///    least the view's bytes;
///  - a constant holds exactly its buffer's bytes;
///  - instructions, fused bodies and results name existing buffers (fused
///    steps: earlier values of their body);
///  - each instruction carries what its kernel reads (checkInstruction:
///    operand and result counts, ints and floats, element types, shapes).
llvm::Error checkProgram(const Program &program);

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_PROGRAMCHECK_H
