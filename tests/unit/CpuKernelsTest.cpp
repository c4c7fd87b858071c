//===- CpuKernelsTest.cpp - CPU kernels against LibTorch ------------------===//
//
// Each kernel on random data against the ATen function it implements, on 1
// and 2 threads. Tolerances: 1e-6 relative (to the result's largest
// magnitude) for elementwise math, where libm and ATen's vectorised
// functions differ by an ulp or two; 1e-5 for products and reductions,
// whose summation orders differ.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"

#include "tests/unit/KernelTestSupport.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

using namespace accel::rt::cpu;
using accel::testing::data;
using accel::testing::relError;

namespace {

class CpuKernels : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override { at::manual_seed(0); }
  ThreadPool pool{GetParam()};
};

TEST_P(CpuKernels, ParallelForCoversEveryIndexOnce) {
  for (int64_t n : {0, 1, 7, 100000}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallelFor(n, 10, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        ++hits[i];
    });
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(hits[i].load(), 1) << i;
  }
}

// Workers spin between loops, then sleep: loops right after one another
// (spinning workers), after a pause longer than the spin (sleeping workers
// woken), and with fewer chunks than threads (the idle worker still
// reports back before the next loop rewrites the loop's fields).
TEST(ThreadPool, LoopsAfterSpinningAndSleeping) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  int64_t expected = 0;
  for (int round = 0; round < 2000; ++round) {
    if (round % 500 == 499)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    int64_t n = round % 3 == 0 ? 2 : 1000; // 2 chunks of 3 threads, or 3
    pool.parallelFor(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i)
        ++hits[i];
    });
    expected += n;
  }
  int64_t total = 0;
  for (auto &h : hits)
    total += h.load();
  EXPECT_EQ(total, expected);
}

// The test binary runs once as is and once with ACCEL_GEMM=openblas
// (cpu_kernels_openblas_test): each library's products against ATen.
TEST(GemmLibrary, FollowsTheEnvironment) {
  const char *choice = std::getenv("ACCEL_GEMM");
  bool openblas = choice && std::strcmp(choice, "openblas") == 0;
  EXPECT_EQ(gemmLibrary(),
            openblas ? GemmLibrary::OpenBlas : GemmLibrary::OneDnn);
}

TEST_P(CpuKernels, Gemm) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      at::Tensor a = ta ? at::randn({37, 19}) : at::randn({19, 37});
      at::Tensor b = tb ? at::randn({23, 37}) : at::randn({37, 23});
      at::Tensor c = at::randn({19, 23});
      at::Tensor expected =
          0.5 * at::mm(ta ? a.t() : a, tb ? b.t() : b) + 2.0 * c;
      gemm(pool, ta, tb, 19, 23, 37, 0.5f, data(a), data(b), 2.0f, data(c));
      EXPECT_LE(relError(c, expected), 1e-5) << ta << tb;
    }
}

// Empty products: no rows or columns leave C alone; no inner dimension
// makes C = beta C (the libraries refuse leading dimensions of 0).
TEST_P(CpuKernels, GemmOfEmptyShapes) {
  std::vector<float> c(6, 3.0f);
  gemm(pool, true, false, 0, 3, 4, 1.0f, nullptr, nullptr, 0.5f, c.data());
  gemm(pool, false, true, 2, 0, 4, 1.0f, nullptr, nullptr, 0.5f, c.data());
  EXPECT_EQ(c, std::vector<float>(6, 3.0f));
  gemm(pool, false, false, 2, 3, 0, 1.0f, nullptr, nullptr, 0.5f, c.data());
  EXPECT_EQ(c, std::vector<float>(6, 1.5f));
  c.assign(6, std::numeric_limits<float>::quiet_NaN());
  gemmSerial(true, true, 2, 3, 0, 1.0f, nullptr, nullptr, 0.0f, c.data());
  EXPECT_EQ(c, std::vector<float>(6, 0.0f)); // beta 0: C is not read
}

TEST_P(CpuKernels, GemmSplitAcrossWorkers) {
  // Large products are split into fixed bands of C (by rows when m >= n,
  // else by columns) whatever the thread count, so every --threads value
  // gives the same bits. Thin products (a ResNet's late convolutions:
  // 128 x 16, 512 x 1) and small ones stay one library call.
  ThreadPool one(1);
  for (auto [m, n] : std::vector<std::pair<int64_t, int64_t>>{
           {301, 97}, {67, 413}, {1024, 128}, {128, 16}, {512, 1}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const int64_t k = m == 512 ? 2304 : m == 128 ? 576 : 129;
        at::Tensor a = ta ? at::randn({k, m}) : at::randn({m, k});
        at::Tensor b = tb ? at::randn({n, k}) : at::randn({k, n});
        at::Tensor c = at::randn({m, n}), single = c.clone(), serial = c.clone();
        at::Tensor expected = at::mm(ta ? a.t() : a, tb ? b.t() : b) + 0.5 * c;
        gemm(pool, ta, tb, m, n, k, 1.0f, data(a), data(b), 0.5f, data(c));
        gemm(one, ta, tb, m, n, k, 1.0f, data(a), data(b), 0.5f, data(single));
        gemmSerial(ta, tb, m, n, k, 1.0f, data(a), data(b), 0.5f, data(serial));
        EXPECT_LE(relError(c, expected), 1e-5) << m << " " << ta << tb;
        EXPECT_TRUE(at::equal(c, single)) << m << " " << ta << tb;
        if (std::min(m, n) < 64) { // thin: one call
          EXPECT_TRUE(at::equal(c, serial)) << m << " " << ta << tb;
        }
      }
}

TEST_P(CpuKernels, BroadcastBinary) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{64, 100}, {64, 100}}, {{64, 100}, {}}, {{64, 100}, {100}},
      {{8, 1, 5}, {7, 1}},    {{3, 1}, {3, 4}}, {{2, 3, 4}, {1, 3, 1}}};
  for (auto &[as, bs] : cases)
    for (BinaryKind kind : {BinaryKind::Add, BinaryKind::Sub, BinaryKind::Mul,
                            BinaryKind::Div}) {
      at::Tensor a = at::randn(as), b = at::randn(bs) + 3.0;
      at::Tensor expected = kind == BinaryKind::Add   ? a + b
                            : kind == BinaryKind::Sub ? a - b
                            : kind == BinaryKind::Mul ? a * b
                                                      : a / b;
      at::Tensor out = at::empty(expected.sizes());
      broadcastBinary(pool, kind, data(a), as, data(b), bs, data(out),
                      expected.sizes().vec());
      EXPECT_EQ(relError(out, expected), 0) << static_cast<int>(kind);
    }
}

TEST_P(CpuKernels, Unary) {
  at::Tensor x = at::randn({50000});
  at::Tensor pos = x.abs() + 0.1;
  const std::vector<std::pair<UnaryKind, std::pair<at::Tensor, at::Tensor>>> cases = {
      {UnaryKind::Relu, {x, at::relu(x)}},
      {UnaryKind::Tanh, {x, at::tanh(x)}},
      {UnaryKind::Sigmoid, {x, at::sigmoid(x)}},
      {UnaryKind::Exp, {x, at::exp(x)}},
      {UnaryKind::Log, {pos, at::log(pos)}},
      {UnaryKind::Sqrt, {pos, at::sqrt(pos)}},
      {UnaryKind::Rsqrt, {pos, at::rsqrt(pos)}},
      {UnaryKind::Neg, {x, at::neg(x)}},
      {UnaryKind::Gelu, {x, at::gelu(x)}},
      {UnaryKind::GeluTanh, {x, at::gelu(x, "tanh")}},
  };
  for (auto &[kind, io] : cases) {
    at::Tensor in = io.first.contiguous(), out = at::empty_like(in);
    unary(pool, kind, data(in), data(out), in.numel());
    EXPECT_LE(relError(out, io.second), 1e-6) << static_cast<int>(kind);
  }
  at::Tensor g = at::randn({50000}), out = at::empty_like(g);
  reluGrad(pool, data(g), data(x), data(out), g.numel());
  EXPECT_EQ(relError(out, at::threshold_backward(g, x, 0)), 0);
}

TEST_P(CpuKernels, ReluPropagatesNaN) {
  // ATen's relu is clamp_min(x, 0): NaN stays NaN (a model fed a NaN
  // must not train on as if it were 0), infinities pass or clamp; its
  // gradient (threshold_backward) is zero where x <= 0, so NaN passes it.
  at::Tensor x = at::tensor({NAN, INFINITY, -INFINITY, -1.0f, 2.0f, 0.0f});
  at::Tensor out = at::empty_like(x);
  unary(pool, UnaryKind::Relu, data(x), data(out), x.numel());
  EXPECT_TRUE(at::allclose(out, at::relu(x), 0, 0, /*equal_nan=*/true));
  at::Tensor g = at::ones_like(x), dx = at::empty_like(x);
  reluGrad(pool, data(g), data(x), data(dx), x.numel());
  EXPECT_TRUE(at::equal(dx, at::threshold_backward(g, x, 0)));
}

TEST_P(CpuKernels, Sum) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{128, 1024}, {0}}, {{128, 1024}, {1}}, {{4, 5, 6}, {1}},
      {{4, 5, 6}, {0, 2}}, {{4, 5, 6}, {0, 1, 2}}, {{2, 3, 4, 5}, {0, 2, 3}},
      // Reduced dimensions apart, the last kept; a convolution's bias
      // gradient, large enough to run in parallel.
      {{3, 4, 5, 6}, {0, 2}}, {{3, 4, 5, 6}, {1, 3}}, {{8, 64, 16, 16}, {0, 2, 3}}};
  for (auto &[shape, dims] : cases) {
    at::Tensor x = at::randn(shape);
    at::Tensor expected = x.sum(dims);
    at::Tensor out = at::empty(expected.sizes());
    sum(pool, data(x), shape, dims, data(out));
    EXPECT_LE(relError(out, expected), 1e-5);
  }
  // Nothing reduced: a copy (ATen's sum over no dims would reduce all).
  at::Tensor x = at::randn({3, 4}), out = at::empty({3, 4});
  sum(pool, data(x), {3, 4}, {}, data(out));
  EXPECT_TRUE(at::equal(out, x));
}

TEST_P(CpuKernels, CrossEntropyAndGradient) {
  at::Tensor logits = at::randn({64, 10}) * 3.0;
  at::Tensor target = at::randint(0, 10, {64}, at::kLong);
  target[3] = 7;
  for (auto [reduction, code] : std::vector<std::pair<LossReduction, int64_t>>{
           {LossReduction::Mean, at::Reduction::Mean},
           {LossReduction::Sum, at::Reduction::Sum},
           {LossReduction::None, at::Reduction::None}})
    for (float smoothing : {0.0f, 0.1f}) {
      at::Tensor l = logits.clone().requires_grad_();
      at::Tensor expected = at::cross_entropy_loss(l, target, {}, code, 7, smoothing);
      at::Tensor out = at::empty(expected.sizes());
      std::vector<double> perSample(64);
      crossEntropy(pool, data(logits), target.data_ptr<int64_t>(), 64, 10,
                   reduction, 7, smoothing, data(out), perSample.data());
      EXPECT_LE(relError(out, expected.detach()), 1e-6);
      at::Tensor g = at::randn(expected.sizes());
      expected.backward(g);
      at::Tensor dl = at::empty({64, 10});
      crossEntropyGrad(pool, data(g), data(logits), target.data_ptr<int64_t>(),
                       64, 10, reduction, 7, smoothing, data(dl));
      EXPECT_LE(relError(dl, l.grad()), 1e-6);
    }
}

// NaN and infinities go through every kernel as through ATen's: a NaN
// stays visible (it is never hidden as a number), infinities give what
// ATen gives. Compared with equal_nan; finite values within 1e-6, where
// libm and ATen's vectorised functions differ by an ulp.
TEST_P(CpuKernels, NonFiniteValuesAsATen) {
  const float nan = NAN, inf = INFINITY;
  auto same = [](const at::Tensor &a, const at::Tensor &b) {
    return at::allclose(a, b, 1e-6, 1e-6, /*equal_nan=*/true);
  };
  at::Tensor x = at::tensor({nan, inf, -inf, 0.0f, -0.0f, 1.5f, -2.0f});
  std::vector<std::pair<UnaryKind, at::Tensor>> unaries = {
      {UnaryKind::Tanh, at::tanh(x)},       {UnaryKind::Sigmoid, at::sigmoid(x)},
      {UnaryKind::Exp, at::exp(x)},         {UnaryKind::Log, at::log(x)},
      {UnaryKind::Sqrt, at::sqrt(x)},       {UnaryKind::Rsqrt, at::rsqrt(x)},
      {UnaryKind::Neg, at::neg(x)},         {UnaryKind::Gelu, at::gelu(x)},
      {UnaryKind::GeluTanh, at::gelu(x, "tanh")}};
  for (auto &[kind, expected] : unaries) {
    at::Tensor out = at::empty_like(x);
    unary(pool, kind, data(x), data(out), x.numel());
    EXPECT_TRUE(same(out, expected))
        << static_cast<int>(kind) << ": " << out << " vs " << expected;
  }

  // Softmax rows: a NaN or +inf makes the row NaN, -inf entries get 0.
  at::Tensor rows = at::tensor({1.0f, nan, 2.0f, 3.0f,     //
                                1.0f, inf, 2.0f, 3.0f,     //
                                1.0f, -inf, 2.0f, 3.0f,    //
                                -inf, -inf, -inf, -inf}).reshape({4, 4});
  for (bool log : {false, true}) {
    at::Tensor expected = log ? at::log_softmax(rows, 1) : at::softmax(rows, 1);
    at::Tensor out = at::empty_like(rows);
    softmax(pool, data(rows), 4, 4, log, data(out));
    EXPECT_TRUE(same(out, expected)) << log << ": " << out << " vs " << expected;
  }

  // Sums: NaN wins, inf + -inf is NaN.
  at::Tensor cols = at::tensor({1.0f, nan, inf, -inf, inf, 1.0f}).reshape({3, 2});
  at::Tensor summed = at::empty({2});
  sum(pool, data(cols), {3, 2}, {0}, data(summed));
  EXPECT_TRUE(same(summed, cols.sum(0))) << summed << " vs " << cols.sum(0);

  // Cross-entropy of a row with a NaN logit is NaN, as is the mean.
  at::Tensor logits = at::randn({4, 5});
  logits[2][1] = nan;
  at::Tensor target = at::tensor({0, 1, 2, 3}, at::kLong);
  at::Tensor loss = at::empty({});
  std::vector<double> perSample(4);
  crossEntropy(pool, data(logits), target.data_ptr<int64_t>(), 4, 5,
               LossReduction::Mean, -100, 0.0f, data(loss), perSample.data());
  EXPECT_TRUE(std::isnan(loss.item<float>()));
  EXPECT_TRUE(std::isnan(at::cross_entropy_loss(logits, target).item<float>()));

  // Layer norm: a NaN or infinity in a row makes that row NaN, others not.
  at::Tensor ln = at::randn({3, 8});
  ln[0][2] = nan;
  ln[1][5] = inf;
  at::Tensor expected = at::layer_norm(ln, {8});
  at::Tensor out = at::empty_like(ln);
  layerNorm(pool, data(ln), nullptr, nullptr, 3, 8, 1e-5, data(out));
  EXPECT_TRUE(at::allclose(out, expected, 1e-5, 1e-6, /*equal_nan=*/true))
      << out << " vs " << expected;
}

// The backward kernels under NaN and infinities, against ATen's backward
// functions (what autograd runs): a NaN in the forward's input or in the
// incoming gradient reaches the gradients ATen's does, and no further.
TEST_P(CpuKernels, NonFiniteGradientsAsATen) {
  const float nan = NAN, inf = INFINITY;
  auto same = [](const at::Tensor &a, const at::Tensor &b) {
    return at::allclose(a, b, 1e-5, 1e-6, /*equal_nan=*/true);
  };
  // GELU: x and the incoming gradient both carry NaN and infinities.
  at::Tensor x = at::tensor({nan, inf, -inf, 0.0f, 1.5f, -2.0f, 0.5f});
  at::Tensor g = at::tensor({1.0f, 1.0f, 1.0f, nan, inf, 2.0f, -inf});
  for (bool tanh : {false, true}) {
    at::Tensor expected = at::gelu_backward(g, x, tanh ? "tanh" : "none");
    at::Tensor out = at::empty_like(x);
    geluGrad(pool, data(g), data(x), tanh, data(out), x.numel());
    EXPECT_TRUE(same(out, expected)) << tanh << ": " << out << " vs " << expected;
  }

  // Softmax and log-softmax: rows whose output is NaN, rows with a NaN
  // gradient, and a row with -inf logits (output 0 / -inf).
  at::Tensor rows = at::tensor({1.0f, nan, 2.0f, 3.0f,   //
                                1.0f, 0.5f, 2.0f, 3.0f,  //
                                1.0f, -inf, 2.0f, 3.0f}).reshape({3, 4});
  at::Tensor grads = at::tensor({0.1f, 0.2f, 0.3f, 0.4f,  //
                                 0.1f, nan, 0.3f, 0.4f,   //
                                 0.1f, 0.2f, 0.3f, 0.4f}).reshape({3, 4});
  for (bool log : {false, true}) {
    at::Tensor y = log ? at::log_softmax(rows, 1) : at::softmax(rows, 1);
    at::Tensor expected =
        log ? at::_log_softmax_backward_data(grads, y, 1, at::kFloat)
            : at::_softmax_backward_data(grads, y, 1, at::kFloat);
    at::Tensor out = at::empty_like(rows);
    softmaxGrad(pool, data(grads), data(y), 3, 4, log, data(out));
    EXPECT_TRUE(same(out, expected)) << log << ": " << out << " vs " << expected;
  }

  // Cross-entropy: a NaN logit makes its row's gradient NaN (and, through
  // the mean, no other row's: the mean's gradient is 1/n).
  at::Tensor logits = at::randn({4, 5});
  logits[2][1] = nan;
  logits[0][3] = inf;
  at::Tensor target = at::tensor({0, 1, 2, 3}, at::kLong);
  at::Tensor l = logits.clone().requires_grad_();
  at::cross_entropy_loss(l, target).backward();
  at::Tensor one = at::ones({});
  at::Tensor dl = at::empty({4, 5});
  crossEntropyGrad(pool, data(one), data(logits), target.data_ptr<int64_t>(), 4,
                   5, LossReduction::Mean, -100, 0.0f, data(dl));
  EXPECT_TRUE(same(dl, l.grad())) << dl << " vs " << l.grad();

  // Layer norm: a NaN or infinity in a row poisons that row's input
  // gradient and, summed over rows, the parameter gradients.
  at::Tensor ln = at::randn({3, 8});
  ln[0][2] = nan;
  ln[1][5] = inf;
  at::Tensor w = at::randn({8}).requires_grad_(), b = at::randn({8}).requires_grad_();
  at::Tensor lnIn = ln.clone().requires_grad_();
  at::Tensor gy = at::randn({3, 8});
  at::layer_norm(lnIn, {8}, w, b).backward(gy);
  at::Tensor dx = at::empty({3, 8}), dw = at::empty({8}), db = at::empty({8});
  std::vector<float> scratch(layerNormGradScratch(8));
  at::Tensor wd = w.detach();
  layerNormGrad(pool, data(gy), data(ln), data(wd), 3, 8, 1e-5, data(dx),
                data(dw), data(db), scratch.data());
  EXPECT_TRUE(same(dx, lnIn.grad())) << dx << " vs " << lnIn.grad();
  EXPECT_TRUE(same(dw, w.grad())) << dw << " vs " << w.grad();
  EXPECT_TRUE(same(db, b.grad())) << db << " vs " << b.grad();
}

INSTANTIATE_TEST_SUITE_P(Threads, CpuKernels, ::testing::Values(1, 2));

} // namespace

namespace {

class MoreCpuKernels : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override { at::manual_seed(1); }
  ThreadPool pool{GetParam()};
};

TEST_P(MoreCpuKernels, BatchedMatmul) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{5, 7}, {7, 3}}, {{2, 4, 5, 7}, {4, 7, 3}}, {{1, 5, 7}, {6, 7, 3}}};
  for (auto &[as, bs] : cases) {
    at::Tensor a = at::randn(as), b = at::randn(bs);
    at::Tensor expected = at::matmul(a, b);
    at::Tensor out = at::empty(expected.sizes());
    batchedMatmul(pool, data(a), as, false, data(b), bs, false, data(out),
                  expected.sizes().vec());
    EXPECT_LE(relError(out, expected), 1e-5);
    // The same product from stored transposes.
    at::Tensor at_ = a.transpose(-2, -1).contiguous(), bt = b.transpose(-2, -1).contiguous();
    at::Tensor out2 = at::empty(expected.sizes());
    batchedMatmul(pool, data(at_), at_.sizes().vec(), true, data(bt), bt.sizes().vec(),
                  true, data(out2), expected.sizes().vec());
    EXPECT_EQ(relError(out2, out), 0);
  }
}

TEST_P(MoreCpuKernels, Permute) {
  at::Tensor x = at::randn({2, 3, 4, 5});
  for (std::vector<int64_t> perm : std::vector<std::vector<int64_t>>{
           {0, 1, 2, 3}, {3, 2, 1, 0}, {0, 2, 1, 3}, {1, 3, 0, 2}}) {
    at::Tensor expected = x.permute(perm).contiguous();
    at::Tensor out = at::empty(expected.sizes());
    permute(pool, data(x), {2, 3, 4, 5}, perm, data(out));
    EXPECT_EQ(relError(out, expected), 0);
  }
}

TEST_P(MoreCpuKernels, Slice) {
  at::Tensor x = at::randn({3, 10, 4});
  for (auto [dim, start, end, step] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {0, 1, 3, 1}, {1, 2, 9, 3}, {2, 0, 4, 2}, {1, 5, 6, 1}}) {
    at::Tensor expected = x.slice(dim, start, end, step).contiguous();
    at::Tensor out = at::empty(expected.sizes());
    slice(pool, reinterpret_cast<const uint8_t *>(data(x)), {3, 10, 4}, dim,
          start, end, step, sizeof(float), reinterpret_cast<uint8_t *>(data(out)));
    EXPECT_EQ(relError(out, expected), 0) << dim << " " << start;
  }
  at::Tensor labels = at::randint(0, 100, {6, 5}, at::kLong);
  at::Tensor expected = labels.slice(0, 2, 4).contiguous();
  at::Tensor out = at::empty({2, 5}, at::kLong);
  slice(pool, reinterpret_cast<const uint8_t *>(labels.data_ptr<int64_t>()), {6, 5},
        0, 2, 4, 1, sizeof(int64_t), reinterpret_cast<uint8_t *>(out.data_ptr<int64_t>()));
  EXPECT_TRUE(at::equal(out, expected));
}

TEST_P(MoreCpuKernels, ClampAsHardtanh) {
  // 64 elements: all of them in ATen's vectorised loop, whose NaN rule
  // the kernel follows.
  at::Tensor x = at::randn({64}) * 2;
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[4] = -0.5f; // the bounds themselves: no gradient
  x[5] = 0.7f;
  at::Tensor g = at::randn({64});
  at::Tensor y = at::empty({64}), dx = at::empty({64});
  clamp(pool, data(x), -0.5f, 0.7f, data(y), 64);
  clampGrad(pool, data(g), data(x), -0.5f, 0.7f, data(dx), 64);
  at::Tensor ey = at::hardtanh(x, -0.5, 0.7);
  at::Tensor edx = at::hardtanh_backward(g, x, -0.5, 0.7);
  EXPECT_TRUE(at::equal(y.isnan(), ey.isnan()));
  EXPECT_TRUE(at::equal(y.nan_to_num(0), ey.nan_to_num(0)));
  EXPECT_TRUE(at::equal(dx, edx)) << dx << " vs " << edx;
}

TEST_P(MoreCpuKernels, SliceGradAsAutograd) {
  for (auto [dim, start, end, step] : std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>>{
           {0, 1, 3, 1}, {1, 2, 9, 3}, {2, 0, 4, 2}, {1, 0, 10, 1}}) {
    at::Tensor x = at::randn({3, 10, 4}).requires_grad_();
    at::Tensor y = x.slice(dim, start, end, step);
    at::Tensor g = at::randn(y.sizes());
    y.backward(g);
    at::Tensor out = at::empty({3, 10, 4});
    sliceGrad(pool, data(g), {3, 10, 4}, dim, start, end, step, data(out));
    EXPECT_EQ(relError(out, x.grad()), 0) << dim << " " << start;
  }
}

TEST_P(MoreCpuKernels, ConcatAsATen) {
  // Floats along each dimension, and i64 labels (the kernel moves bytes).
  at::Tensor a = at::randn({2, 3, 4}), b = at::randn({2, 3, 4});
  for (int64_t dim = 0; dim < 3; ++dim) {
    at::Tensor c = at::randn({dim == 0 ? 5 : 2, dim == 1 ? 1 : 3, dim == 2 ? 2 : 4});
    at::Tensor expected = at::cat({a, c, b}, dim);
    at::Tensor out = at::empty(expected.sizes());
    int64_t outer = 1, inner = sizeof(float);
    for (int64_t d = 0; d < dim; ++d)
      outer *= expected.size(d);
    for (int64_t d = dim + 1; d < 3; ++d)
      inner *= expected.size(d);
    auto bytes = [](at::Tensor &t) {
      return reinterpret_cast<const uint8_t *>(t.data_ptr<float>());
    };
    concat(pool, {bytes(a), bytes(c), bytes(b)}, {a.size(dim), c.size(dim), b.size(dim)},
           outer, inner, reinterpret_cast<uint8_t *>(data(out)));
    EXPECT_EQ(relError(out, expected), 0) << dim;
  }
  at::Tensor x = at::randint(0, 100, {3, 2}, at::kLong), y = at::randint(0, 100, {3, 5}, at::kLong);
  at::Tensor out = at::empty({3, 7}, at::kLong);
  concat(pool,
         {reinterpret_cast<const uint8_t *>(x.data_ptr<int64_t>()),
          reinterpret_cast<const uint8_t *>(y.data_ptr<int64_t>())},
         {2, 5}, 3, sizeof(int64_t), reinterpret_cast<uint8_t *>(out.data_ptr<int64_t>()));
  EXPECT_TRUE(at::equal(out, at::cat({x, y}, 1)));
}

TEST_P(MoreCpuKernels, MseLossAsATen) {
  at::Tensor x = at::randn({7, 9}), t = at::randn({7, 9});
  at::Tensor none = at::empty({7, 9}), mean = at::empty({}), sum = at::empty({});
  mseLoss(pool, data(x), data(t), 63, LossReduction::None, data(none));
  mseLoss(pool, data(x), data(t), 63, LossReduction::Mean, data(mean));
  mseLoss(pool, data(x), data(t), 63, LossReduction::Sum, data(sum));
  EXPECT_EQ(relError(none, at::mse_loss(x, t, at::Reduction::None)), 0);
  // The reductions accumulate in double: within f32 rounding of ATen's.
  EXPECT_LE(relError(mean, at::mse_loss(x, t, at::Reduction::Mean)), 1e-6);
  EXPECT_LE(relError(sum, at::mse_loss(x, t, at::Reduction::Sum)), 1e-6);
}

TEST_P(MoreCpuKernels, SoftmaxAndGradients) {
  at::Tensor x = at::randn({33, 17}) * 4.0, g = at::randn({33, 17});
  for (bool log : {false, true}) {
    at::Tensor y = log ? at::log_softmax(x, 1) : at::softmax(x, 1);
    at::Tensor out = at::empty_like(x);
    softmax(pool, data(x), 33, 17, log, data(out));
    EXPECT_LE(relError(out, y), 1e-6) << log;
    at::Tensor expected = log ? at::_log_softmax_backward_data(g, y, 1, at::kFloat)
                              : at::_softmax_backward_data(g, y, 1, at::kFloat);
    softmaxGrad(pool, data(g), data(y), 33, 17, log, data(out));
    EXPECT_LE(relError(out, expected), 1e-5) << log;
  }
}

TEST_P(MoreCpuKernels, GeluGradAndConversions) {
  at::Tensor x = at::randn({10000}), g = at::randn({10000});
  at::Tensor out = at::empty_like(x);
  for (bool tanh : {false, true}) {
    geluGrad(pool, data(g), data(x), tanh, data(out), x.numel());
    EXPECT_LE(relError(out, at::gelu_backward(g, x, tanh ? "tanh" : "none")), 1e-5)
        << tanh;
  }
  at::Tensor i = at::randint(-1000, 1000, {100}, at::kLong);
  at::Tensor f = at::empty({100});
  intToFloat(pool, i.data_ptr<int64_t>(), data(f), 100);
  EXPECT_EQ(relError(f, i.to(at::kFloat)), 0);
  at::Tensor m = at::randint(0, 2, {100}, at::kLong).to(at::kBool);
  boolToFloat(pool, reinterpret_cast<const uint8_t *>(m.data_ptr<bool>()), data(f), 100);
  EXPECT_EQ(relError(f, m.to(at::kFloat)), 0);
}

INSTANTIATE_TEST_SUITE_P(Threads, MoreCpuKernels, ::testing::Values(1, 2));

} // namespace
