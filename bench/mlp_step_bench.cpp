//===- mlp_step_bench.cpp - accel's training step vs. LibTorch eager ------===//
//
//   mlp_step_bench --step STEP.mlir --params INIT.safetensors [--threads T]
//                  [--steps N] [--rounds R]
//
// Times the AdamW training step of the 784-1024-1024-10 MLP at batch 128:
// accel's compiled @train_step on the CPU executor, and LibTorch C++ eager
// (torch::nn + torch::optim::AdamW) with the same thread count, in one run
// on the same machine, in R alternating rounds of N steps (medians
// reported). Also measures OpenBLAS sgemm's rate as the ceiling. Prints
// ms/step, the ratio and GFLOP/s. Not a test: numbers vary by machine.
//
//===----------------------------------------------------------------------===//

#include "bench/BenchSupport.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>
#include <torch/torch.h>


using namespace llvm;

static cl::opt<std::string> stepPath("step", cl::Required);
static cl::opt<std::string> paramsPath("params", cl::Required);
static cl::opt<int> steps("steps", cl::desc("Steps per timing round"), cl::init(20));
static cl::opt<int> warmup("warmup", cl::init(5));
static cl::opt<int> rounds("rounds", cl::desc("Alternating timing rounds (the median is reported)"), cl::init(5));

using accel::bench::msPerCall;

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  int threads = accel::bench::parseCommandLineThreads(argc, argv,
                                                      "accel vs. LibTorch training step\n");
  const int64_t batch = 128;

  // OpenBLAS sgemm ceiling (with its own threads): the best of 5 rounds.
  std::vector<float> a(1024 * 1024, 1.0f), b(1024 * 1024, 0.5f), c(1024 * 1024);
  double gemmMs = 1e30;
  for (int round = 0; round < 5; ++round)
    gemmMs = std::min(gemmMs, msPerCall(10, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1024, 1024, 1024,
                  1.0f, a.data(), 1024, b.data(), 1024, 0.0f, c.data(), 1024);
    }));
  double gemmGflops = 2.0 * 1024 * 1024 * 1024 / (gemmMs * 1e6);

  // accel.
  torch::manual_seed(0);
  at::Tensor x = torch::rand({batch, 784});
  at::Tensor y = torch::randint(0, 10, {batch}, torch::kLong);
  accel::bench::AccelStep accelStep(stepPath, paramsPath, {{"input", x}, {"y", y}},
                                    1e-3f, threads);
  int64_t paramCount = accelStep.parameters();

  // LibTorch eager.
  torch::nn::Sequential model(torch::nn::Linear(784, 1024), torch::nn::ReLU(),
                              torch::nn::Linear(1024, 1024), torch::nn::ReLU(),
                              torch::nn::Linear(1024, 10));
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
  auto torchStep = [&] {
    // accel runs OpenBLAS single-threaded; LibTorch gets it as configured.
    openblas_set_num_threads(threads);
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
  };
  auto [accelMs, torchMs] = accel::bench::alternatingMedians(
      rounds, steps, warmup, [&] { accelStep(); }, torchStep);

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
