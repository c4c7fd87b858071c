//===- cuda-compile-kernels.cpp - the CUDA driver's kernels, offline ------===//
//
// Compiles the kernels the CUDA driver would compile when loading a
// program file, for a named architecture, with the driver's own NVRTC
// call and options, and writes the PTX or CUBIN: so CI, which has no GPU,
// checks that every kernel of the example models compiles (and, through
// ptxas, assembles for sm_90).
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/plugins/cuda/CudaCompiler.h"
#include "runtime/io/ProgramFile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::opt<std::string> input(cl::Positional, cl::Required,
                                  cl::desc("<step.accelprog>"));
static cl::opt<std::string>
    arch("arch", cl::init("compute_90"),
         cl::desc("compute_NN: PTX; sm_NN: a CUBIN (default compute_90)"));
static cl::opt<std::string> output("o", cl::Required,
                                   cl::desc("where the PTX or CUBIN goes"),
                                   cl::value_desc("file"));

static int failWith(Error error) {
  WithColor::error(errs(), "cuda-compile-kernels") << toString(std::move(error))
                                                   << "\n";
  return 1;
}

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(
      argc, argv,
      "compiles a program file's CUDA kernels with NVRTC, as the cuda driver "
      "does at load\n");
  ErrorOr<std::unique_ptr<MemoryBuffer>> file = MemoryBuffer::getFile(input);
  if (!file)
    return failWith(createStringError(file.getError(),
                                      "cannot read '" + input + "'"));
  Expected<accel::rt::StepPrograms> programs =
      accel::rt::parseProgramFile((*file)->getBuffer(), input);
  if (!programs)
    return failWith(programs.takeError());
  Expected<std::string> code =
      accel::rt::cuda::compileProgramKernels(programs->trainStep, arch);
  if (!code)
    return failWith(code.takeError());
  std::error_code ec;
  raw_fd_ostream out(output, ec, sys::fs::OF_None);
  if (ec)
    return failWith(createStringError(ec, "cannot write '" + output + "'"));
  out << *code;
  return 0;
}
