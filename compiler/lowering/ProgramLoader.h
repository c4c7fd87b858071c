//===- ProgramLoader.h - compiled step to runtime program -------*- C++ -*-===//
//
// The compiler's last stage, from MLIR to the runtime: parses the compiled
// training step (or takes accel-opt's module), inlines and plans it when
// that has not been done, and turns its ops into runtime instructions, which
// accel-run runs directly or rt::writeProgramFile saves (accel-opt
// --accel-lower). It is the only place that sees both worlds.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_LOWERING_PROGRAMLOADER_H
#define ACCEL_COMPILER_LOWERING_PROGRAMLOADER_H

#include "runtime/executor/Program.h"
#include "runtime/io/ProgramFile.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace accel::lowering {

using rt::EvalProgram;

/// Loads functions of compiled MLIR files under one MLIR context, so the
/// dialects are loaded once and each file is parsed once however many of
/// its functions are loaded (each is planned on its own copy). A loader
/// reads a file the first time one of its functions is asked for: later
/// changes to the file are not seen. The free functions below use a loader
/// each.
class ProgramLoader {
public:
  /// A loader with its own context, reading files by path.
  ProgramLoader();
  /// A loader of one module already in memory (accel-opt's result): its
  /// functions are asked for by `name`, the name messages give it. The
  /// loader uses the module's context and must not outlive it.
  ProgramLoader(mlir::ModuleOp module, llvm::StringRef name);
  ~ProgramLoader();

  /// Whether planning splits collectives into a start and a wait
  /// (accel-overlap-collectives, the default) or runs each where it stands.
  /// Functions already planned keep their plan.
  void setOverlapCollectives(bool on);

  /// `@train_step`, its state contract verified; see loadTrainStep.
  llvm::Expected<rt::Program> trainStep(llvm::StringRef path);
  /// Any function; see loadFunction.
  llvm::Expected<rt::Program> function(llvm::StringRef path,
                                       llvm::StringRef name);
  /// `@forward` up to its logits; see loadClassifier.
  llvm::Expected<EvalProgram> classifier(llvm::StringRef path);
  /// Everything a runner uses, as a program file holds it: the training
  /// step (an error when it cannot be lowered), and the evaluation forward
  /// and `@forward_grad` where they can be (otherwise the reason).
  llvm::Expected<rt::StepPrograms> stepPrograms(llvm::StringRef path);

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

/// `@forward` up to the logits for evaluation (see rt::EvalProgram).
llvm::Expected<EvalProgram> loadClassifier(llvm::StringRef path);

} // namespace accel::lowering

#endif // ACCEL_COMPILER_LOWERING_PROGRAMLOADER_H
