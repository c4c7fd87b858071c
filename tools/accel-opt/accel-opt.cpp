//===- accel-opt.cpp - accel's mlir-opt -----------------------------------===//
//
// Parses, verifies, transforms and prints accel IR: MlirOptMain with the
// accel dialect, the upstream dialects accel programs use, the accel passes
// and pipelines, and MLIR's generic transforms (canonicalize, cse, ...).
// The input's bracket nesting is checked before the parser recurses into it.
//
// With --accel-lower the result is not printed: the compiler's last stage
// (compiler/lowering) turns it into the runtime program, written as a
// program file (runtime/io/ProgramFile.h) that accel-run loads without MLIR.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/ProgramLoader.h"
#include "compiler/pipelines/Pipelines.h"
#include "compiler/support/Nesting.h"
#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

static llvm::cl::opt<bool> lowerToProgram(
    "accel-lower",
    llvm::cl::desc("Lower the result (after the pass pipeline) to the runtime "
                   "program and write it as a program file to -o, for "
                   "accel-run, instead of printing MLIR"),
    llvm::cl::init(false));

/// --accel-lower: parses `file`, runs the pipeline the options describe,
/// lowers @train_step (and @forward, @forward_grad where they lower) and
/// writes the program file `output`.
static int lowerToProgramFile(std::unique_ptr<llvm::MemoryBuffer> file,
                              llvm::StringRef input, llvm::StringRef output,
                              mlir::DialectRegistry &registry,
                              const mlir::MlirOptMainConfig &config) {
  if (output == "-") {
    llvm::errs() << "accel-opt: error: --accel-lower writes a binary program "
                    "file: name it with -o (e.g. -o step.accelprog)\n";
    return 1;
  }
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sources;
  sources.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler diagnostics(sources, &context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sources, &context);
  if (!module)
    return 1;
  mlir::PassManager pm(&context, mlir::ModuleOp::getOperationName());
  pm.enableVerifier(config.shouldVerifyPasses());
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)) ||
      mlir::failed(config.setupPassPipeline(pm)) ||
      mlir::failed(pm.run(*module)))
    return 1;
  accel::lowering::ProgramLoader loader(*module, input);
  llvm::Expected<accel::rt::StepPrograms> programs =
      loader.stepPrograms(input);
  if (!programs) {
    llvm::errs() << "accel-opt: error: " << llvm::toString(programs.takeError())
                 << "\n";
    return 1;
  }
  if (llvm::Error e = accel::rt::writeProgramFile(*programs, output)) {
    llvm::errs() << "accel-opt: error: " << llvm::toString(std::move(e))
                 << "\n";
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<accel::AccelDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::mpi::MPIDialect,
                  mlir::shard::ShardDialect, mlir::tensor::TensorDialect>();
  mlir::func::registerAllExtensions(registry);

  mlir::registerTransformsPasses();
  accel::registerAccelPasses();
  accel::registerAccelPipelines();

  llvm::InitLLVM init(argc, argv);
  auto [input, output] = mlir::registerAndParseCLIOptions(
      argc, argv, "accel optimizer driver: transforms accel training IR\n",
      registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  // What MlirOptMain(argc, argv, ...) does besides reading the input, which
  // happens here so that its nesting is checked first.
  if (config.shouldShowDialects()) {
    llvm::outs() << "Available Dialects: "
                 << llvm::join(registry.getDialectNames(), ", ") << "\n";
    return 0;
  }
  if (config.shouldListPasses()) {
    mlir::printRegisteredPasses();
    return 0;
  }
  std::string message;
  std::unique_ptr<llvm::MemoryBuffer> file =
      mlir::openInputFile(input, &message);
  if (!file) {
    llvm::errs() << "accel-opt: error: " << message << "\n";
    return 1;
  }
  if (llvm::Error e = accel::checkNesting(file->getBuffer(), input,
                                          accel::SourceSyntax::Mlir)) {
    llvm::errs() << "accel-opt: error: " << llvm::toString(std::move(e))
                 << "\n";
    return 1;
  }
  if (lowerToProgram)
    return lowerToProgramFile(std::move(file), input, output, registry, config);
  std::unique_ptr<llvm::ToolOutputFile> out =
      mlir::openOutputFile(output, &message);
  if (!out) {
    llvm::errs() << "accel-opt: error: " << message << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain(out->os(), std::move(file), registry, config)))
    return 1;
  out->keep();
  return 0;
}
