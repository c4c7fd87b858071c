//===- ProgramFuzzer.cpp - accel-run's program loader under libFuzzer ------===//
//
// MLIR text as accel-run reads it: any text must give a runtime program or
// an error, whichever entry point reads it (the training step, a gradient
// function, the evaluation forward). The loader parses, verifies, inlines,
// fuses and plans before it lowers, so this reaches the passes as well.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/ProgramLoader.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

/// The loader reads files, as accel-run does: one per process, rewritten
/// for every input and removed at exit.
const std::string &inputPath() {
  static const std::string path = [] {
    llvm::SmallString<128> p;
    if (llvm::sys::fs::createTemporaryFile("accel-program-fuzz", "mlir", p)) {
      llvm::errs() << "cannot create a temporary file\n";
      std::abort();
    }
    std::string s(p.str());
    static std::string removeAtExit = s;
    std::atexit([] { llvm::sys::fs::remove(removeAtExit); });
    return s;
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string &path = inputPath();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec)
      std::abort();
    os.write(reinterpret_cast<const char *>(data), size);
  }
  // One loader per input, as accel-run has one per run.
  accel::lowering::ProgramLoader loader;
  if (llvm::Expected<accel::rt::Program> step = loader.trainStep(path); !step)
    llvm::consumeError(step.takeError());
  if (llvm::Expected<accel::rt::Program> grad =
          loader.function(path, "forward_grad");
      !grad)
    llvm::consumeError(grad.takeError());
  if (llvm::Expected<accel::lowering::EvalProgram> eval = loader.classifier(path);
      !eval)
    llvm::consumeError(eval.takeError());
  return 0;
}
