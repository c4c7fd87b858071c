//===- mlp_step_bench.cpp - accel's training step vs. LibTorch eager ------===//
//
//   mlp_step_bench --step STEP.mlir --params INIT.safetensors [--threads T]
//                  [--steps N]
//
// Times the AdamW training step of the 784-1024-1024-10 MLP at batch 128:
// accel's compiled @train_step on the CPU executor, and LibTorch C++ eager
// (torch::nn + torch::optim::AdamW) with the same thread count, in one run
// on the same machine. Also measures OpenBLAS sgemm's rate as the ceiling.
// Prints ms/step, the ratio and GFLOP/s. Not a test: numbers vary by machine.
//
//===----------------------------------------------------------------------===//

#include "runtime/executor/Executor.h"
#include "runtime/io/Safetensors.h"
#include "tools/accel-run/ProgramLoader.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>
#include <torch/torch.h>

#include <chrono>
#include <cstring>

using namespace llvm;
using accel::rt::BufferDesc;

static cl::opt<std::string> stepPath("step", cl::Required);
static cl::opt<std::string> paramsPath("params", cl::Required);
static cl::opt<int> steps("steps", cl::init(50));
static cl::opt<int> warmup("warmup", cl::init(5));

template <typename F> static double msPerCall(int n, F f) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    f();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start).count() / n;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::Option *threadsOption = cl::getRegisteredOptions().lookup("threads");
  cl::ParseCommandLineOptions(argc, argv, "accel vs. LibTorch training step\n");
  int threads = threadsOption
                    ? static_cast<cl::opt<int> *>(threadsOption)->getValue()
                    : 0;
  if (threads <= 0)
    threads = 2;
  torch::set_num_threads(threads);
  openblas_set_num_threads(threads);
  const int64_t batch = 128;

  // OpenBLAS sgemm ceiling.
  std::vector<float> a(1024 * 1024, 1.0f), b(1024 * 1024, 0.5f), c(1024 * 1024);
  double gemmMs = msPerCall(20, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1024, 1024, 1024,
                1.0f, a.data(), 1024, b.data(), 1024, 0.0f, c.data(), 1024);
  });
  double gemmGflops = 2.0 * 1024 * 1024 * 1024 / (gemmMs * 1e6);

  // accel.
  Expected<accel::rt::Program> program = accel::run::loadTrainStep(stepPath);
  if (!program) {
    errs() << toString(program.takeError()) << "\n";
    return 1;
  }
  Expected<accel::io::SafetensorsFile> params =
      accel::io::SafetensorsFile::read(paramsPath);
  if (!params) {
    errs() << toString(params.takeError()) << "\n";
    return 1;
  }
  accel::rt::Executor exec(std::move(*program), threads);
  torch::manual_seed(0);
  at::Tensor x = torch::rand({batch, 784});
  at::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
  int64_t paramCount = 0;
  for (auto [i, buf] : llvm::enumerate(exec.program().buffers)) {
    if (buf.role == BufferDesc::Role::Param) {
      std::memcpy(exec.data(i), params->find(buf.name)->bytes.data(), buf.bytes());
      paramCount += buf.numElements();
    } else if (buf.role == BufferDesc::Role::OptState) {
      std::memset(exec.data(i), 0, buf.bytes());
    } else if (buf.role == BufferDesc::Role::Input) {
      const at::Tensor &t = buf.type == accel::rt::ElementType::I64 ? y : x;
      std::memcpy(exec.data(i), t.data_ptr(), buf.bytes());
    } else if (buf.role == BufferDesc::Role::Lr) {
      *exec.as<float>(i) = 1e-3f;
    }
  }
  int stepArg = -1;
  for (auto [i, buf] : llvm::enumerate(exec.program().buffers))
    if (buf.role == BufferDesc::Role::Step)
      stepArg = i;
  int64_t n = 0;
  auto accelStep = [&] {
    *exec.as<int64_t>(stepArg) = ++n;
    if (llvm::Error e = exec.run()) {
      llvm::errs() << "accel step failed: " << llvm::toString(std::move(e)) << "\n";
      std::exit(1);
    }
    exec.commitState();
  };
  msPerCall(warmup, accelStep);
  double accelMs = msPerCall(steps, accelStep);

  // LibTorch eager.
  torch::nn::Sequential model(torch::nn::Linear(784, 1024), torch::nn::ReLU(),
                              torch::nn::Linear(1024, 1024), torch::nn::ReLU(),
                              torch::nn::Linear(1024, 10));
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
  auto torchStep = [&] {
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
  };
  msPerCall(warmup, torchStep);
  double torchMs = msPerCall(steps, torchStep);

  // Forward 2·B·P, backward ~4·B·P (weights and activations) FLOPs.
  double flops = 6.0 * batch * paramCount;
  outs() << "MLP 784-1024-1024-10, batch " << batch << ", AdamW, " << threads
         << " thread(s)\n";
  outs() << format("  accel     %8.2f ms/step  %6.1f GFLOP/s\n", accelMs,
                   flops / (accelMs * 1e6));
  outs() << format("  LibTorch  %8.2f ms/step  %6.1f GFLOP/s\n", torchMs,
                   flops / (torchMs * 1e6));
  outs() << format("  speedup   %8.2fx\n", torchMs / accelMs);
  outs() << format("  OpenBLAS sgemm 1024^3: %.1f GFLOP/s (accel reaches %.0f%%)\n",
                   gemmGflops, 100 * flops / (accelMs * 1e6) / gemmGflops);
  return 0;
}
