//===- gpt_step_bench.cpp - the GPT training step vs. LibTorch ------------===//
//
//   gpt_step_bench --model GPT.pt --step STEP.mlir --params INIT.safetensors
//                  --batch B --block T --vocab V [--threads N] [--steps S]
//                  [--rounds R]
//
// Times the AdamW training step of the GPT example (examples/gpt/model.py,
// exported as TorchScript): accel's compiled @train_step on the CPU
// executor, and LibTorch running the same TorchScript module op by op
// (graph optimisation off, so no fusion: the eager kernels) with autograd
// and torch::optim::AdamW, same thread count, same run, same machine, in R
// alternating rounds of S steps. Prints the median ms/step and the ratio. Not a test: numbers vary by machine.
//
//===----------------------------------------------------------------------===//

#include "bench/BenchSupport.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

#include <cblas.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <set>

using namespace llvm;
using accel::bench::msPerCall;

static cl::opt<std::string> modelPath("model", cl::Required);
static cl::opt<std::string> stepPath("step", cl::Required);
static cl::opt<std::string> paramsPath("params", cl::Required);
static cl::opt<int64_t> batch("batch", cl::Required);
static cl::opt<int64_t> block("block", cl::Required);
static cl::opt<int64_t> vocab("vocab", cl::Required);
static cl::opt<int> steps("steps", cl::desc("Steps per timing round"), cl::init(10));
static cl::opt<int> warmup("warmup", cl::init(5));
static cl::opt<int> rounds("rounds", cl::desc("Alternating timing rounds (the median is reported)"), cl::init(5));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  int threads = accel::bench::parseCommandLineThreads(argc, argv,
                                                      "accel vs. LibTorch GPT training step\n");

  torch::manual_seed(0);
  at::Tensor idx = torch::randint(0, vocab, {batch, block}, torch::kLong);
  at::Tensor targets = torch::randint(0, vocab, {batch, block}, torch::kLong);

  accel::bench::AccelStep accelStep(stepPath, paramsPath,
                                    {{"idx", idx}, {"targets", targets}}, 1e-3f,
                                    threads);

  torch::jit::setGraphExecutorOptimize(false);
  torch::jit::Module model = torch::jit::load(modelPath);
  model.train();
  // A tied embedding is one tensor reachable under two names: optimise it
  // once, as torch.optim does with Module.parameters().
  std::vector<at::Tensor> params;
  std::set<const void *> seen;
  for (const at::Tensor &p : model.parameters())
    if (seen.insert(p.data_ptr()).second)
      params.push_back(p);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3));
  auto torchStep = [&] {
    // accel runs OpenBLAS single-threaded; LibTorch gets it as configured.
    openblas_set_num_threads(threads);
    opt.zero_grad();
    at::Tensor loss = model.forward({idx, targets}).toTensor();
    loss.backward();
    opt.step();
  };
  auto [accelMs, torchMs] = accel::bench::alternatingMedians(
      rounds, steps, warmup, [&] { accelStep(); }, torchStep);

  outs() << "GPT (" << accelStep.parameters() << " parameters), batch " << batch
         << " x " << block << " tokens, AdamW, " << threads << " thread(s)\n";
  outs() << format("  accel     %8.2f ms/step\n", accelMs);
  outs() << format("  LibTorch  %8.2f ms/step\n", torchMs);
  outs() << format("  speedup   %8.2fx\n", torchMs / accelMs);
  return 0;
}
