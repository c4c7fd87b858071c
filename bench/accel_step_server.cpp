//===- accel_step_server.cpp - accel's training step, timed on request ----===//
//
// One side of bench/run_all.py's comparison: loads a compiled @train_step,
// its parameters and one batch, then times steps when the driver asks, so
// that the driver can alternate rounds between accel and each PyTorch mode
// living in their own processes. The protocol, one line each way:
//
//   <- ready PARAMETERS BYTES   (BYTES: AccelStep::streamedBytes)
//   -> run N             <- ms MS_PER_STEP   (N steps, state committed)
//   -> gemm              <- gflops RATE      (accel's products, 1024^3, the
//                                             step's threads: best of 5)
//   -> quit
//
//===----------------------------------------------------------------------===//

#include "bench/BenchSupport.h"
#include "runtime/cpu/Kernels.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <vector>

using namespace llvm;

static cl::opt<std::string> stepPath("step", cl::Required,
                                     cl::desc("Compiled training step (MLIR)"));
static cl::opt<std::string> paramsPath("params", cl::Required,
                                       cl::desc("Parameters (safetensors)"));
static cl::opt<std::string> batchPath(
    "batch", cl::Required,
    cl::desc("The batch (safetensors), one tensor per step input, by name"));
static cl::opt<float> lr("lr", cl::init(1e-3f));

/// The rate of accel's own products (runtime/cpu's gemm, the library it
/// chose, on a pool of `threads`) on a 1024^3 product: the product rate the
/// step's roofline can assume, beside the machine's torch.mm rate.
static double gemmGflops(int threads) {
  constexpr int64_t n = 1024;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  accel::rt::cpu::ThreadPool pool(threads);
  // OpenBLAS (ACCEL_GEMM=openblas) on the calling threads, as in a step.
  accel::rt::cpu::useCallerThreadsForBlas();
  auto product = [&] {
    accel::rt::cpu::gemm(pool, false, false, n, n, n, 1.0f, a.data(), b.data(),
                         0.0f, c.data());
  };
  product();
  double best = 1e30;
  for (int round = 0; round < 5; ++round)
    best = std::min(best, accel::bench::msPerCall(10, product));
  return 2.0 * n * n * n / (best / 1000) / 1e9;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  int threads = accel::bench::parseCommandLineThreads(
      argc, argv, "accel's training step, timed on request (bench/run_all.py)\n");
  Expected<accel::io::SafetensorsFile> file =
      accel::io::SafetensorsFile::read(batchPath);
  if (!file)
    accel::bench::die(toString(file.takeError()));
  // AccelStep binds inputs by name and byte size: raw bytes are enough.
  std::map<std::string, at::Tensor> batch;
  for (const std::string &name : file->names()) {
    ArrayRef<uint8_t> bytes = file->find(name)->bytes;
    batch[name] = torch::from_blob(const_cast<uint8_t *>(bytes.data()),
                                   {static_cast<int64_t>(bytes.size())},
                                   torch::kUInt8)
                      .clone();
  }
  accel::bench::AccelStep step(stepPath, paramsPath, batch, lr, threads);
  std::cout << "ready " << step.parameters() << " " << step.streamedBytes()
            << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream command(line);
    std::string verb;
    int n = 0;
    command >> verb >> n;
    if (verb == "quit")
      break;
    if (verb == "gemm") {
      std::cout << "gflops " << gemmGflops(threads) << std::endl;
      continue;
    }
    if (verb != "run" || n <= 0)
      accel::bench::die("accel_step_server: expected 'run N' or 'quit', got '" +
                        line + "'");
    std::cout << "ms " << accel::bench::msPerCall(n, [&] { step(); })
              << std::endl;
  }
  return 0;
}
