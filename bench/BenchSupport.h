//===- BenchSupport.h - shared pieces of the step benchmarks ----*- C++ -*-===//

#ifndef ACCEL_BENCH_BENCHSUPPORT_H
#define ACCEL_BENCH_BENCHSUPPORT_H

#include "runtime/hal/Hal.h"
#include "runtime/io/Safetensors.h"
#include "compiler/lowering/FusedChainJit.h"
#include "compiler/lowering/ProgramLoader.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <ATen/ATen.h>
#include <cblas.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>
#include <cstring>
#include <map>
#include <memory>
#include <string>

namespace accel::bench {

/// Milliseconds per call of `f`, averaged over `n` calls.
template <typename F> double msPerCall(int n, F &&f) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    f();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
             .count() /
         n;
}

/// Median ms/step of two step functions, timed in alternating rounds of
/// `steps` calls (after `warmup` calls each), so that a noisy neighbour or
/// a frequency change hits both alike.
inline std::pair<double, double> alternatingMedians(int rounds, int steps, int warmup,
                                                    const std::function<void()> &a,
                                                    const std::function<void()> &b) {
  msPerCall(warmup, a);
  msPerCall(warmup, b);
  std::vector<double> ta, tb;
  for (int r = 0; r < rounds; ++r) {
    ta.push_back(msPerCall(steps, a));
    tb.push_back(msPerCall(steps, b));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2]
                        : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  return {median(ta), median(tb)};
}

/// Parses the command line and returns --threads (default 2). The flag is
/// the int option libMLIR registers under that name, as in accel-run; the
/// thread count is applied to LibTorch and to OpenBLAS (whose own threads
/// LibTorch uses, and which the sgemm ceiling measures).
inline int parseCommandLineThreads(int argc, char **argv, const char *overview) {
  llvm::cl::Option *option = llvm::cl::getRegisteredOptions().lookup("threads");
  llvm::cl::ParseCommandLineOptions(argc, argv, overview);
  int threads = option ? static_cast<llvm::cl::opt<int> *>(option)->getValue() : 0;
  if (threads <= 0)
    threads = 2;
  torch::set_num_threads(threads);
  openblas_set_num_threads(threads);
  return threads;
}

[[noreturn]] inline void die(const llvm::Twine &message) {
  llvm::errs() << message << "\n";
  std::exit(1);
}

/// accel's compiled @train_step, with parameters from a safetensors file,
/// zero optimizer state, and the batch tensors bound by input name.
class AccelStep {
public:
  AccelStep(const std::string &stepPath, const std::string &paramsPath,
            const std::map<std::string, at::Tensor> &batch, float lr, int threads) {
    llvm::Expected<rt::Program> program = lowering::loadTrainStep(stepPath);
    if (!program)
      die(llvm::toString(program.takeError()));
    // As accel-run does by default on the CPU.
    if (llvm::Expected<lowering::FusedChainStats> compiled =
            lowering::compileFusedChains(*program);
        !compiled)
      die(llvm::toString(compiled.takeError()));
    llvm::Expected<io::SafetensorsFile> params = io::SafetensorsFile::read(paramsPath);
    if (!params)
      die(llvm::toString(params.takeError()));
    rt::hal::registerBuiltinDrivers();
    llvm::Expected<std::unique_ptr<rt::hal::Executable>> loaded =
        rt::hal::loadOn("cpu", {threads}, std::move(*program));
    if (!loaded)
      die(llvm::toString(loaded.takeError()));
    exec = std::move(*loaded);
    for (auto [i, buf] : llvm::enumerate(exec->program().buffers)) {
      using Role = rt::BufferDesc::Role;
      switch (buf.role) {
      case Role::Param:
      case Role::Buffer:
        std::memcpy(exec->data(i), params->find(buf.name)->bytes.data(), buf.bytes());
        if (buf.role == Role::Param)
          paramCount += buf.numElements();
        break;
      case Role::OptState:
        std::memset(exec->data(i), 0, buf.bytes());
        break;
      case Role::Input: {
        auto it = batch.find(buf.name);
        if (it == batch.end() || it->second.nbytes() != buf.bytes())
          die("no batch tensor of the right size for input '" + buf.name + "'");
        std::memcpy(exec->data(i), it->second.data_ptr(), buf.bytes());
        break;
      }
      case Role::Lr:
        *exec->as<float>(i) = lr;
        break;
      case Role::Seed:
        seedArg = static_cast<int>(i);
        break;
      case Role::Step:
        stepArg = static_cast<int>(i);
        break;
      default:
        break;
      }
    }
  }

  /// One training step, state committed.
  void operator()() {
    *exec->as<int64_t>(stepArg) = ++steps;
    if (seedArg >= 0)
      *exec->as<int64_t>(seedArg) = steps;
    if (llvm::Error e = exec->run())
      die("accel step failed: " + llvm::toString(std::move(e)));
    exec->commitState();
  }

  int64_t parameters() const { return paramCount; }

  /// The bytes a step's kernels other than products (linears, batched
  /// products, convolutions) read and write at the least: each operand
  /// read once and each result written once. With the products' FLOPs at
  /// the sgemm rate and these at the memory bandwidth, the step's roofline.
  int64_t streamedBytes() const {
    using rt::Kernel;
    const rt::Program &p = exec->program();
    int64_t bytes = 0;
    for (const rt::Instruction &in : p.code) {
      switch (in.kernel) {
      case Kernel::Linear:
      case Kernel::BatchedMatmul:
      case Kernel::ScaledMatmul:
      case Kernel::Conv2d:
      case Kernel::Conv2dGradInput:
      case Kernel::Conv2dGradWeight:
        continue;
      default:
        for (const std::vector<int> *list : {&in.operands, &in.results})
          for (int b : *list)
            bytes += static_cast<int64_t>(p.buffers[b].bytes());
      }
    }
    return bytes;
  }

private:
  std::unique_ptr<rt::hal::Executable> exec;
  int stepArg = -1, seedArg = -1;
  int64_t steps = 0, paramCount = 0;
};

} // namespace accel::bench

#endif // ACCEL_BENCH_BENCHSUPPORT_H
