//===- ProgramLoader.h - compiled step to runtime program -------*- C++ -*-===//
//
// accel-run's thin bridge from MLIR to the runtime: parses the compiled
// training step, inlines and plans it when that has not been done, and
// turns its ops into runtime instructions. It is the only place that sees
// both worlds.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_TOOLS_ACCEL_RUN_PROGRAMLOADER_H
#define ACCEL_TOOLS_ACCEL_RUN_PROGRAMLOADER_H

#include "runtime/executor/Program.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace accel::run {

struct EvalProgram;

/// Loads functions of compiled MLIR files under one MLIR context, so the
/// dialects are loaded once and each file is parsed once however many of
/// its functions are loaded (each is planned on its own copy). A loader
/// reads a file the first time one of its functions is asked for: later
/// changes to the file are not seen. The free functions below use a loader
/// each.
class ProgramLoader {
public:
  ProgramLoader();
  ~ProgramLoader();

  /// `@train_step`, its state contract verified; see loadTrainStep.
  llvm::Expected<rt::Program> trainStep(llvm::StringRef path);
  /// Any function; see loadFunction.
  llvm::Expected<rt::Program> function(llvm::StringRef path,
                                       llvm::StringRef name);
  /// `@forward` up to its logits; see loadClassifier.
  llvm::Expected<EvalProgram> classifier(llvm::StringRef path);

private:
  struct State;
  std::unique_ptr<State> state;
};

/// Loads `@train_step` from an MLIR file into a runtime program. Errors name
/// the file and, for ops the CPU driver cannot run yet, every such op kind.
llvm::Expected<rt::Program> loadTrainStep(llvm::StringRef path);

/// Loads any function of the file the same way (e.g. `forward_grad`, whose
/// results are the loss and the gradients marked `accel.grad`).
llvm::Expected<rt::Program> loadFunction(llvm::StringRef path,
                                         llvm::StringRef name);

/// For a classifier trained with cross-entropy: `@forward` up to the logits
/// the loss is computed from, in inference mode (dropout is the identity).
/// results[0] is the logits buffer ([predictions, classes]); `labelsInput`
/// names the input holding the class indices (one per prediction, possibly
/// reshaped, as a language model's targets), `ignoreIndex` the label that
/// does not count.
struct EvalProgram {
  rt::Program program;
  std::string labelsInput;
  int64_t ignoreIndex = -100;
};
llvm::Expected<EvalProgram> loadClassifier(llvm::StringRef path);

} // namespace accel::run

#endif // ACCEL_TOOLS_ACCEL_RUN_PROGRAMLOADER_H
