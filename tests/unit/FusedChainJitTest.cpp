//===- FusedChainJitTest.cpp - compiled chains equal the interpreter ------===//
//
// A fused chain compiled to machine code (compiler/lowering/FusedChainJit)
// must give the interpreter's bits: every compilable step alone, with a
// scalar operand, and AdamW's update, over values that include NaN, ±inf,
// ±0 and subnormals, on a length that ends in a partial vector; with 1 and
// 2 threads (the threads split the elements anywhere). Chains that are not
// compilable stay interpreted.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/FusedChainJit.h"
#include "runtime/executor/FusedKernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace accel;
using rt::Kernel;

namespace {

constexpr int64_t kElements = 5003; // above the compile threshold, odd

std::vector<float> values(uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<float> v(kElements);
  for (float &x : v)
    x = dist(gen);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -1e-40f,
                            std::numeric_limits<float>::max(),
                            1e-30f};
  for (size_t i = 0; i < std::size(specials); ++i)
    v[(seed * 7 + i * 131) % kElements] = specials[i];
  return v;
}

/// A program holding one fused instruction over `operands` (sizes: n or 1)
/// with `results` outputs of n elements.
rt::Program programOf(const rt::FusedBody &body, llvm::ArrayRef<int64_t> operandSizes) {
  rt::Program program;
  rt::Instruction in{Kernel::Fused, {}, {}, {0}, {}};
  auto buffer = [&](int64_t n) {
    rt::BufferDesc b{rt::BufferDesc::Role::Arena, "", rt::ElementType::F32, {n}};
    program.buffers.push_back(b);
    return static_cast<int>(program.buffers.size() - 1);
  };
  for (int64_t n : operandSizes)
    in.operands.push_back(buffer(n));
  for (size_t r = 0; r < body.results.size(); ++r)
    in.results.push_back(buffer(kElements));
  program.code.push_back(in);
  program.fusedBodies.push_back(body);
  return program;
}

/// Bitwise equality, except that any NaN equals any NaN (which operand's
/// payload survives is the instruction order's business).
void expectSameBits(const std::vector<float> &want, const std::vector<float> &got,
                    const std::string &what) {
  for (int64_t i = 0; i < kElements; ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i]))
      continue;
    uint32_t a, b;
    std::memcpy(&a, &want[i], 4);
    std::memcpy(&b, &got[i], 4);
    ASSERT_EQ(a, b) << what << " at " << i << ": interpreted " << want[i]
                    << ", compiled " << got[i];
  }
}

/// Runs `body` interpreted and compiled on `inputs` and compares.
void compare(const rt::FusedBody &body, const std::vector<std::vector<float>> &inputs,
             const std::string &what) {
  std::vector<int64_t> sizes;
  std::vector<const float *> pointers;
  llvm::SmallVector<bool> scalar;
  for (const auto &v : inputs) {
    sizes.push_back(static_cast<int64_t>(v.size()));
    pointers.push_back(v.data());
    scalar.push_back(v.size() == 1);
  }
  rt::Program program = programOf(body, sizes);
  llvm::Expected<lowering::FusedChainStats> stats = lowering::compileFusedChains(program);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  ASSERT_EQ(stats->compiled, 1) << what;
  const rt::FusedBody &compiled = program.fusedBodies[0];
  ASSERT_NE(compiled.compiled, nullptr);
  for (int threads : {1, 2}) {
    rt::cpu::ThreadPool pool(threads);
    std::vector<std::vector<float>> want(body.results.size(), std::vector<float>(kElements)),
        got = want;
    std::vector<float *> wantOut, gotOut;
    for (size_t r = 0; r < body.results.size(); ++r) {
      wantOut.push_back(want[r].data());
      gotOut.push_back(got[r].data());
    }
    rt::runFused(pool, body, pointers, scalar, wantOut, kElements);
    rt::runFused(pool, compiled, pointers, scalar, gotOut, kElements);
    for (size_t r = 0; r < body.results.size(); ++r)
      expectSameBits(want[r], got[r],
                     what + " result " + std::to_string(r) + ", " +
                         std::to_string(threads) + " thread(s)");
  }
}

TEST(FusedChainJit, EveryCompilableStepGivesTheInterpretersBits) {
  std::vector<float> x = values(1), y = values(2), s = {0.75f};
  for (Kernel k : {Kernel::Add, Kernel::Sub, Kernel::Mul, Kernel::Div, Kernel::ReluGrad}) {
    // Registers 0 = x, 1 = y, 2 = scalar; step 3 = k(x, y), step 4 = it * s.
    rt::FusedBody body;
    body.steps = {{k, 0, 1}, {Kernel::Mul, 3, 2}};
    body.results = {3, 4};
    compare(body, {x, y, s}, rt::kernelName(k));
  }
  for (Kernel k : {Kernel::Neg, Kernel::Sqrt, Kernel::Rsqrt, Kernel::Relu}) {
    rt::FusedBody body;
    body.steps = {{k, 0}, {Kernel::Div, 2, 3}};
    body.results = {3, 4};
    compare(body, {x, y, s}, rt::kernelName(k));
  }
}

TEST(FusedChainJit, AdamWUpdateGivesTheInterpretersBits) {
  // As the optimizer writes it: operands param, grad, m, v, then the
  // scalars 1 - lr wd, beta1, 1 - beta1, beta2, 1 - beta2,
  // sqrt(1 - beta2^t), eps, lr / (1 - beta1^t); results param, m, v.
  rt::FusedBody body;
  auto step = [&](Kernel k, int lhs, int rhs = -1) {
    body.steps.push_back({k, lhs, rhs});
    return 12 + static_cast<int>(body.steps.size()) - 1;
  };
  int decayed = step(Kernel::Mul, 0, 4);
  int m = step(Kernel::Add, step(Kernel::Mul, 2, 5), step(Kernel::Mul, 1, 6));
  int v = step(Kernel::Add, step(Kernel::Mul, 3, 7),
               step(Kernel::Mul, step(Kernel::Mul, 1, 1), 8));
  int denom = step(Kernel::Add, step(Kernel::Div, step(Kernel::Sqrt, v), 9), 10);
  int param = step(Kernel::Sub, decayed, step(Kernel::Mul, 11, step(Kernel::Div, m, denom)));
  body.results = {param, m, v};
  std::vector<float> vState = values(6);
  for (float &e : vState)
    e = std::fabs(e) * 1e-3f; // a second moment is not negative
  compare(body,
          {values(3), values(4), values(5), vState, {0.99999f}, {0.9f}, {0.1f}, {0.999f},
           {0.001f}, {0.0447f}, {1e-8f}, {1e-2f}},
          "AdamW");
}

TEST(FusedChainJit, TranscendentalAndRoundingChainsStayInterpreted) {
  rt::FusedBody exp;
  exp.steps = {{Kernel::Exp, 0}};
  exp.results = {1};
  rt::FusedBody rounded;
  rounded.steps = {{Kernel::Add, 0, 0, rt::ElementType::BF16}};
  rounded.results = {1};
  for (const rt::FusedBody &body : {exp, rounded}) {
    rt::Program program = programOf(body, {kElements});
    llvm::Expected<lowering::FusedChainStats> stats = lowering::compileFusedChains(program);
    ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
    EXPECT_EQ(stats->compiled, 0);
    EXPECT_EQ(stats->interpreted, 1);
    EXPECT_EQ(program.fusedBodies[0].compiled, nullptr);
  }
}

TEST(FusedChainJit, SmallChainsStayInterpreted) {
  rt::FusedBody body;
  body.steps = {{Kernel::Add, 0, 0}};
  body.results = {1};
  rt::Program program = programOf(body, {kElements});
  program.buffers[program.code[0].results[0]].shape = {lowering::kMinCompiledElements - 1};
  llvm::Expected<lowering::FusedChainStats> stats = lowering::compileFusedChains(program);
  ASSERT_TRUE(static_cast<bool>(stats)) << llvm::toString(stats.takeError());
  EXPECT_EQ(stats->compiled, 0);
}

} // namespace
