//===- ProgramFile.h - the lowered step as a file ---------------*- C++ -*-===//
//
// A compiled training step, lowered once (`accel-opt --accel-lower -o
// step.accelprog`), is a file that runners load without MLIR: the
// FlatBuffers schema ProgramFile.fbs holds every function accel-run uses
// (the training step, the evaluation forward, the gradient function).
//
// Reading trusts nothing: the file's identifier, its format version, a
// CRC-32 of its body, FlatBuffers' verifier (every offset and length in
// bounds), every enum value and kernel name, and finally checkProgram (every
// index, offset and size of the buffer table) are checked before a program
// is returned, so a damaged, truncated or foreign file ends in one error.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_PROGRAMFILE_H
#define ACCEL_RUNTIME_IO_PROGRAMFILE_H

#include "runtime/executor/Program.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace accel::rt {

/// For a classifier trained with cross-entropy: `@forward` up to the logits
/// the loss is computed from, in inference mode (dropout is the identity).
/// program.results[0] is the logits buffer ([predictions, classes]);
/// `labelsInput` names the input holding the class indices (one per
/// prediction, possibly reshaped, as a language model's targets),
/// `ignoreIndex` the label that does not count.
struct EvalProgram {
  Program program;
  std::string labelsInput;
  int64_t ignoreIndex = -100;
};

/// The functions of one compiled step that a runner uses. A function that
/// is absent or could not be lowered has, instead, the reason (an error
/// message) a runner reports when it is asked for.
struct StepPrograms {
  Program trainStep;
  std::optional<EvalProgram> classifier;
  std::string classifierError;
  std::optional<Program> forwardGrad;
  std::string forwardGradError;
};

/// The format this accel writes and reads (ProgramFile.fbs).
constexpr uint32_t kProgramFormatVersion = 1;

/// Whether `bytes` starts like a program file (its FlatBuffers identifier),
/// as opposed to MLIR text.
bool isProgramFile(llvm::StringRef bytes);

/// The largest program a file takes: half of FlatBuffers' 2 GiB, against
/// a generous estimate of the file's size.
constexpr uint64_t kProgramFileLimit = uint64_t(1) << 30;

/// The file's bytes, or an error for programs whose estimated size
/// (constants are the only large part of a program) reaches `limit`.
llvm::Expected<std::vector<uint8_t>>
serializeProgramFile(const StepPrograms &programs,
                     uint64_t limit = kProgramFileLimit);

/// Parses and checks a program file's bytes; `name` (the path) is for
/// messages.
llvm::Expected<StepPrograms> parseProgramFile(llvm::StringRef bytes,
                                              llvm::StringRef name);

/// Writes `path` atomically (a temporary file renamed over it).
llvm::Error writeProgramFile(const StepPrograms &programs,
                             llvm::StringRef path);
llvm::Expected<StepPrograms> readProgramFile(llvm::StringRef path);

} // namespace accel::rt

#endif // ACCEL_RUNTIME_IO_PROGRAMFILE_H
