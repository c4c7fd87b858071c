//===- SequenceKernelsTest.cpp - transformer kernels against LibTorch -----===//
//
// Layer norm (and its backward), embedding (and its backward) and masked
// fill against the ATen functions they implement, on 1 and 2 threads;
// dropout's generator against Philox4x32-10's published known answers, and
// its masks for the properties training relies on. Tolerances as in
// CpuKernelsTest: 1e-5 relative where summation orders differ, exact for
// data movement.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Philox.h"

#include "tests/unit/KernelTestSupport.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

using namespace accel::rt::cpu;
using accel::testing::data;
using accel::testing::relError;

namespace {

// Random123's known-answer vectors for Philox4x32-10 (its kat_vectors file).
TEST(Philox, KnownAnswers) {
  using A4 = std::array<uint32_t, 4>;
  EXPECT_EQ(philox4x32({0, 0, 0, 0}, {0, 0}),
            (A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                       {0xffffffff, 0xffffffff}),
            (A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                       {0xa4093822, 0x299f31d0}),
            (A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

class SequenceKernels : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override { at::manual_seed(2); }
  ThreadPool pool{GetParam()};
};

// The vectorised generator is the scalar one, lane for lane, across the
// 2^32 boundary of the block counter's low word.
TEST(Philox, BatchIsTheScalarGenerator) {
  using namespace accel::rt::cpu;
  if (!philoxBatchAvailable())
    GTEST_SKIP() << "no AVX2: dropout uses the scalar generator only";
  float u[4 * kPhiloxBatch];
  for (uint64_t seed : {0ull, 5ull, 0xfedcba9876543210ull})
    for (uint64_t stream : {0ull, 7ull, (1ull << 33) | 5})
      for (uint64_t first : {0ull, 3ull, (1ull << 32) - 9, (1ull << 40) + 1}) {
        dropoutUniformsBatch(seed, stream, first, u);
        for (int j = 0; j < kPhiloxBatch; ++j) {
          std::array<float, 4> want = dropoutUniforms(seed, stream, first + j);
          for (int i = 0; i < 4; ++i)
            ASSERT_EQ(u[4 * j + i], want[i])
                << "seed " << seed << " stream " << stream << " block "
                << first + j << " element " << i;
        }
      }
}

TEST_P(SequenceKernels, LayerNormAndGradient) {
  // 200 rows exercise more row blocks than threads; a shifted mean checks
  // that the variance does not cancel.
  at::Tensor x = at::randn({4, 50, 24}) * 3.0 + 5.0, g = at::randn({4, 50, 24});
  at::Tensor w = at::randn({24}), b = at::randn({24});
  std::vector<float> scratch(layerNormGradScratch(24));
  for (bool affine : {true, false}) {
    at::Tensor wt = affine ? w : at::Tensor(), bt = affine ? b : at::Tensor();
    auto [y, mean, rstd] = at::native_layer_norm(x, {24}, wt, bt, 1e-5);
    at::Tensor out = at::empty_like(x);
    layerNorm(pool, data(x), affine ? data(w) : nullptr,
              affine ? data(b) : nullptr, 200, 24, 1e-5, data(out));
    EXPECT_LE(relError(out, y), 1e-5) << affine;

    auto [dx, dw, db] = at::native_layer_norm_backward(
        g, x, {24}, mean, rstd, wt, bt, {true, affine, affine});
    at::Tensor gx = at::empty_like(x), gw = at::empty({24}), gb = at::empty({24});
    layerNormGrad(pool, data(g), data(x), affine ? data(w) : nullptr, 200, 24,
                  1e-5, data(gx), data(gw), data(gb), scratch.data());
    EXPECT_LE(relError(gx, dx), 1e-5) << affine;
    if (affine) {
      EXPECT_LE(relError(gw, dw), 1e-5);
      EXPECT_LE(relError(gb, db), 1e-5);
    } else {
      // ATen skips them without parameters; they are still Σ g·x̂ and Σ g.
      at::Tensor xhat = (x - mean) * rstd;
      EXPECT_LE(relError(gw, (g * xhat).sum(at::IntArrayRef{0, 1})), 1e-5);
      EXPECT_LE(relError(gb, g.sum(at::IntArrayRef{0, 1})), 1e-5);
    }
  }
}

TEST_P(SequenceKernels, EmbeddingAndGradient) {
  at::Tensor table = at::randn({10, 7});
  // Repeated indices: the gradient must add them up.
  at::Tensor idx = at::randint(0, 10, {6, 9}, at::kLong);
  at::Tensor out = at::empty({6, 9, 7});
  EXPECT_EQ(embedding(pool, data(table), 10, 7, idx.data_ptr<int64_t>(), 54,
                      data(out)),
            -1);
  EXPECT_EQ(relError(out, at::embedding(table, idx)), 0);

  at::Tensor g = at::randn({6, 9, 7});
  at::Tensor grad = at::empty({10, 7});
  embeddingGrad(pool, data(g), idx.data_ptr<int64_t>(), 54, 10, 7, data(grad));
  EXPECT_LE(relError(grad, at::embedding_dense_backward(g, idx, 10, -1, false)),
            1e-6);

  idx.view(-1)[31] = 10;
  EXPECT_EQ(embedding(pool, data(table), 10, 7, idx.data_ptr<int64_t>(), 54,
                      data(out)),
            31);
  idx.view(-1)[31] = -1;
  EXPECT_EQ(embedding(pool, data(table), 10, 7, idx.data_ptr<int64_t>(), 54,
                      data(out)),
            31);
}

TEST_P(SequenceKernels, MaskedFillBroadcasts) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases = {
      {{2, 4, 16, 16}, {16, 16}}, {{3, 5}, {3, 5}}, {{1, 5}, {4, 1}}, {{7}, {}}};
  for (auto &[xs, ms] : cases) {
    at::Tensor x = at::randn(xs);
    at::Tensor mask = at::randint(0, 2, ms, at::kLong).to(at::kBool);
    at::Tensor expected = x.masked_fill(mask, -INFINITY);
    at::Tensor out = at::empty(expected.sizes());
    maskedFill(pool, data(x), xs,
               reinterpret_cast<const uint8_t *>(mask.data_ptr<bool>()), ms,
               -INFINITY, data(out), expected.sizes().vec());
    EXPECT_TRUE(at::equal(out, expected)) << xs.size();
  }
}

TEST_P(SequenceKernels, DropoutMasks) {
  const int64_t n = 1 << 20;
  at::Tensor ones = at::ones({n}), y = at::empty({n}), again = at::empty({n});
  for (double p : {0.1, 0.5}) {
    dropout(pool, data(ones), n, p, 1234, 3, data(y));
    // Kept elements are scaled by 1 / (1 - p) (in f32, as torch does).
    float scale = static_cast<float>(1.0 / (1.0 - p));
    at::Tensor kept = y != 0;
    EXPECT_TRUE(at::equal(y.masked_select(kept),
                          at::full({kept.sum().item<int64_t>()}, scale)));
    // The keep rate is 1 - p within 6 binomial standard deviations.
    double rate = kept.to(at::kDouble).mean().item<double>();
    EXPECT_NEAR(rate, 1 - p, 6 * std::sqrt(p * (1 - p) / n)) << p;

    // A pure function of (seed, stream, position): the same call gives the
    // same mask (the backward pass relies on it), another seed or stream
    // an independent one (agreement near p^2 + (1-p)^2, not 1).
    dropout(pool, data(ones), n, p, 1234, 3, data(again));
    EXPECT_TRUE(at::equal(y, again));
    for (auto [seed, stream] : {std::pair<uint64_t, uint64_t>{1235, 3}, {1234, 4}}) {
      dropout(pool, data(ones), n, p, seed, stream, data(again));
      double agree = ((again != 0) == kept).to(at::kDouble).mean().item<double>();
      EXPECT_NEAR(agree, p * p + (1 - p) * (1 - p), 0.01) << seed << " " << stream;
    }
  }
  // A prefix's mask does not depend on the tensor's length.
  at::Tensor shortY = at::empty({1001});
  dropout(pool, data(ones), 1001, 0.3, 9, 0, data(shortY));
  dropout(pool, data(ones), n, 0.3, 9, 0, data(y));
  EXPECT_TRUE(at::equal(shortY, y.slice(0, 0, 1001)));
  // A rank's slice of a data-parallel batch draws the global tensor's mask
  // for its elements, whether the slice starts on a Philox block (of 4)
  // or inside one.
  for (int64_t first : {int64_t{0}, int64_t{4096}, int64_t{4097}, int64_t{1003}}) {
    at::Tensor slice = at::empty({5000});
    dropout(pool, data(ones), 5000, 0.3, 9, 0, data(slice),
            static_cast<uint64_t>(first));
    EXPECT_TRUE(at::equal(slice, y.slice(0, first, first + 5000))) << first;
  }
  // p = 1 drops everything (no infinite scale).
  dropout(pool, data(ones), 1001, 1.0, 9, 0, data(shortY));
  EXPECT_EQ(shortY.abs().sum().item<float>(), 0.0f);
  // Without rescaling (stochastic depth's bernoulli_ mask): the same
  // elements kept, each exactly 1, on aligned and unaligned slices.
  for (int64_t first : {int64_t{0}, int64_t{1003}}) {
    at::Tensor plain = at::empty({5000});
    dropout(pool, data(ones), 5000, 0.3, 9, 0, data(plain),
            static_cast<uint64_t>(first), /*rescale=*/false);
    at::Tensor scaled = y.slice(0, first, first + 5000);
    EXPECT_TRUE(at::equal(plain != 0, scaled != 0)) << first;
    EXPECT_TRUE(at::equal(plain, (scaled != 0).to(at::kFloat))) << first;
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, SequenceKernels, ::testing::Values(1, 2));

} // namespace
