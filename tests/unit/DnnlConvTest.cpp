//===- DnnlConvTest.cpp - convolutions through oneDNN vs LibTorch ---------===//
//
// The oneDNN kernels (forward, input and weight gradients) against ATen,
// over the options the importer accepts and over batches that the threads
// split unevenly (a slice of each size has its own primitive; weight
// gradients add the slices' partial sums). Tolerance as the im2col
// kernels': 1e-5 relative to the largest magnitude.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/DnnlConv.h"

#include "tests/unit/KernelTestSupport.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>

using namespace accel::rt::cpu;
using accel::testing::data;
using accel::testing::relError;

namespace {

struct Case {
  int64_t batch, channels, outChannels, size, kernel, stride, pad, dilation, groups;
  bool bias;
};

/// Runs `kernel` planned for `threads` threads; false if it was not planned.
bool runDnnl(ConvKernel kernel, const Conv2dGeometry &g, bool bias, int threads,
             const float *a, const float *b, const float *biasData, float *out) {
  std::unique_ptr<DnnlConv> conv = DnnlConv::plan(kernel, g, bias, threads);
  if (!conv)
    return false;
  std::vector<uint8_t> raw(conv->workspaceBytes() + 64);
  uint8_t *workspace =
      raw.data() + (64 - reinterpret_cast<uintptr_t>(raw.data()) % 64) % 64;
  conv->bind(workspace);
  ThreadPool pool(threads);
  conv->run(pool, a, b, biasData, out);
  return true;
}

TEST(DnnlConv, AgainstATen) {
  at::manual_seed(11);
  std::vector<Case> cases = {
      {4, 3, 8, 11, 3, 1, 1, 1, 1, true},    // padding, bias
      {5, 8, 8, 9, 3, 1, 2, 2, 2, false},    // dilation, groups, odd batch
      {6, 8, 8, 10, 3, 2, 1, 1, 8, true},    // depthwise, stride
      {4, 4, 6, 8, 1, 2, 0, 1, 1, true},     // 1x1, stride 2
      {7, 6, 4, 9, 5, 1, 2, 1, 2, false},    // 5x5, groups
      {4, 3, 16, 32, 7, 2, 3, 1, 1, false},  // ResNet's stem
      {8, 64, 64, 8, 3, 1, 1, 1, 1, false},  // ResNet's first stage
      {8, 128, 256, 4, 3, 2, 1, 1, 1, false}, // a stage's downsampling
  };
  for (const Case &c : cases) {
    at::Tensor x = at::randn({c.batch, c.channels, c.size, c.size}).requires_grad_();
    at::Tensor w = at::randn({c.outChannels, c.channels / c.groups, c.kernel, c.kernel})
                       .requires_grad_();
    at::Tensor b = at::randn({c.outChannels});
    at::Tensor y = at::conv2d(x, w, c.bias ? b : at::Tensor(), {c.stride, c.stride},
                              {c.pad, c.pad}, {c.dilation, c.dilation}, c.groups);
    at::Tensor gy = at::randn(y.sizes());
    y.backward(gy);
    at::Tensor xd = x.detach().contiguous(), wd = w.detach().contiguous();
    Conv2dGeometry g{c.batch,  c.channels, c.size,     c.size,     c.outChannels, c.kernel,
                     c.kernel, y.size(2),  y.size(3),  c.stride,   c.stride,      c.pad,
                     c.pad,    c.dilation, c.dilation, c.groups};
    for (int threads : {1, 2, 3}) {
      std::string where = "case " + std::to_string(&c - cases.data()) + ", " +
                          std::to_string(threads) + " threads";
      at::Tensor out = at::empty(y.sizes()), dx = at::empty(x.sizes()),
                 dw = at::empty(w.sizes());
      ASSERT_TRUE(runDnnl(ConvKernel::Forward, g, c.bias, threads, data(xd), data(wd),
                          c.bias ? data(b) : nullptr, data(out)))
          << where;
      ASSERT_TRUE(runDnnl(ConvKernel::GradInput, g, false, threads, data(gy), data(wd),
                          nullptr, data(dx)))
          << where;
      ASSERT_TRUE(runDnnl(ConvKernel::GradWeight, g, false, threads, data(gy), data(xd),
                          nullptr, data(dw)))
          << where;
      EXPECT_LE(relError(out, y.detach()), 1e-5) << where;
      EXPECT_LE(relError(dx, x.grad()), 1e-5) << where;
      EXPECT_LE(relError(dw, w.grad()), 1e-5) << where;
    }
  }
}

// A step must give the same bits every time: the weight gradient adds the
// slices' partial sums in one order.
TEST(DnnlConv, SameBitsEveryRun) {
  at::manual_seed(12);
  Conv2dGeometry g{9, 16, 6, 6, 32, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1};
  at::Tensor x = at::randn({9, 16, 6, 6}), gy = at::randn({9, 32, 6, 6});
  std::unique_ptr<DnnlConv> conv = DnnlConv::plan(ConvKernel::GradWeight, g, false, 3);
  ASSERT_TRUE(conv);
  std::vector<uint8_t> raw(conv->workspaceBytes() + 64);
  conv->bind(raw.data() + (64 - reinterpret_cast<uintptr_t>(raw.data()) % 64) % 64);
  ThreadPool pool(3);
  at::Tensor first = at::empty({32, 16, 3, 3}), again = at::empty({32, 16, 3, 3});
  conv->run(pool, data(gy), data(x), nullptr, data(first));
  for (int i = 0; i < 5; ++i) {
    conv->run(pool, data(gy), data(x), nullptr, data(again));
    ASSERT_EQ(std::memcmp(data(first), data(again), first.numel() * sizeof(float)), 0);
  }
}

// Where accel's own kernels serve: a batch smaller than the thread count
// (a slice per thread would leave threads idle), and taps that see only
// padding (im2col crops them; oneDNN would multiply the padding).
TEST(DnnlConv, LeavesToIm2col) {
  Conv2dGeometry small{1, 8, 8, 8, 8, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::Forward, small, false, 2));
  EXPECT_TRUE(DnnlConv::plan(ConvKernel::Forward, small, false, 1));
  Conv2dGeometry oneByOne{8, 64, 1, 1, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::Forward, oneByOne, false, 2));
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::GradWeight, oneByOne, false, 2));
}

} // namespace
