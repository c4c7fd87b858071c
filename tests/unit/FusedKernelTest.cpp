//===- FusedKernelTest.cpp - fused chains equal their single-op kernels ---===//
//
// A fused body must compute, bit for bit, what its ops compute one kernel
// at a time: the same per-element maths (cpu/ElementOps.h), the same
// rounding after every op. Checked for every fusible kernel, with scalar
// operands, lengths that leave a partial last chunk, 1 and 2 threads.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"
#include "runtime/executor/FusedKernel.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace accel::rt;

namespace {

class FusedKernel : public ::testing::TestWithParam<int> {
protected:
  cpu::ThreadPool pool{GetParam()};
};

std::vector<float> randomData(int64_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

TEST_P(FusedKernel, EveryStepMatchesItsKernel) {
  const int64_t n = 1000; // not a multiple of the chunk
  std::vector<float> x = randomData(n, 1, 0.1f, 3.0f), y = randomData(n, 2, -2.0f, 2.0f);
  float scalar = 0.75f;
  struct Case {
    Kernel kernel;
    bool unary;
    cpu::UnaryKind unaryKind;
    cpu::BinaryKind binaryKind;
  };
  using U = cpu::UnaryKind;
  using B = cpu::BinaryKind;
  const std::vector<Case> cases = {
      {Kernel::Add, false, U::Relu, B::Add},     {Kernel::Sub, false, U::Relu, B::Sub},
      {Kernel::Mul, false, U::Relu, B::Mul},     {Kernel::Div, false, U::Relu, B::Div},
      {Kernel::Relu, true, U::Relu, B::Add},     {Kernel::Tanh, true, U::Tanh, B::Add},
      {Kernel::Sigmoid, true, U::Sigmoid, B::Add}, {Kernel::Exp, true, U::Exp, B::Add},
      {Kernel::Log, true, U::Log, B::Add},       {Kernel::Sqrt, true, U::Sqrt, B::Add},
      {Kernel::Rsqrt, true, U::Rsqrt, B::Add},   {Kernel::Neg, true, U::Neg, B::Add},
      {Kernel::Gelu, true, U::Gelu, B::Add},     {Kernel::GeluTanh, true, U::GeluTanh, B::Add}};
  for (const Case &c : cases) {
    // Registers: 0 = x, 1 = y, 2 = the scalar; step 0 is the kernel on
    // (x, y) or y; step 1 multiplies it by the scalar.
    FusedBody body;
    body.steps.push_back({c.kernel, c.unary ? 1 : 0, c.unary ? -1 : 1});
    body.steps.push_back({Kernel::Mul, 3, 2});
    body.results = {3, 4};
    std::vector<float> first(n), second(n);
    runFused(pool, body, {x.data(), y.data(), &scalar}, {false, false, true},
             {first.data(), second.data()}, n);

    std::vector<float> expected(n), scaled(n);
    if (c.unary)
      cpu::unary(pool, c.unaryKind, (c.kernel == Kernel::Log || c.kernel == Kernel::Sqrt ||
                                     c.kernel == Kernel::Rsqrt) ? x.data() : y.data(),
                 expected.data(), n);
    else
      cpu::broadcastBinary(pool, c.binaryKind, x.data(), {n}, y.data(), {n},
                           expected.data(), {n});
    if (c.unary && (c.kernel == Kernel::Log || c.kernel == Kernel::Sqrt ||
                    c.kernel == Kernel::Rsqrt)) {
      // Those need positive inputs: redo the fused run on x.
      body.steps[0] = {c.kernel, 0, -1};
      runFused(pool, body, {x.data(), y.data(), &scalar}, {false, false, true},
               {first.data(), second.data()}, n);
    }
    cpu::broadcastBinary(pool, B::Mul, expected.data(), {n}, &scalar, {},
                         scaled.data(), {n});
    EXPECT_EQ(std::memcmp(first.data(), expected.data(), n * 4), 0)
        << kernelName(c.kernel);
    EXPECT_EQ(std::memcmp(second.data(), scaled.data(), n * 4), 0)
        << kernelName(c.kernel);
  }
}

TEST_P(FusedKernel, GradientSteps) {
  const int64_t n = 777;
  std::vector<float> g = randomData(n, 3, -1.0f, 1.0f), x = randomData(n, 4, -3.0f, 3.0f);
  for (Kernel k : {Kernel::ReluGrad, Kernel::GeluGrad, Kernel::GeluTanhGrad}) {
    FusedBody body;
    body.steps.push_back({k, 0, 1});
    body.results = {2};
    std::vector<float> out(n), expected(n);
    runFused(pool, body, {g.data(), x.data()}, {false, false}, {out.data()}, n);
    if (k == Kernel::ReluGrad)
      cpu::reluGrad(pool, g.data(), x.data(), expected.data(), n);
    else
      cpu::geluGrad(pool, g.data(), x.data(), k == Kernel::GeluTanhGrad,
                    expected.data(), n);
    EXPECT_EQ(std::memcmp(out.data(), expected.data(), n * 4), 0) << kernelName(k);
  }
}

TEST_P(FusedKernel, InPlaceUpdate) {
  // p = p - lr * g, written over p (as donated optimizer state is).
  const int64_t n = 100000;
  std::vector<float> p = randomData(n, 5, -1.0f, 1.0f), g = randomData(n, 6, -1.0f, 1.0f);
  std::vector<float> expected(n);
  float lr = 0.01f;
  for (int64_t i = 0; i < n; ++i)
    expected[i] = p[i] - g[i] * lr;
  FusedBody body;
  body.steps = {{Kernel::Mul, 1, 2}, {Kernel::Sub, 0, 3}};
  body.results = {4};
  runFused(pool, body, {p.data(), g.data(), &lr}, {false, false, true}, {p.data()}, n);
  EXPECT_EQ(std::memcmp(p.data(), expected.data(), n * 4), 0);
}

INSTANTIATE_TEST_SUITE_P(Threads, FusedKernel, ::testing::Values(1, 2));

} // namespace

