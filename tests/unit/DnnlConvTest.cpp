//===- DnnlConvTest.cpp - convolutions through oneDNN vs LibTorch ---------===//
//
// The oneDNN kernels (forward, input and weight gradients) against ATen,
// over the options the importer accepts, on pools of 1 to 3 threads: the
// pieces (slices of the batch, ranges of output channels) are fixed by the
// geometry, so every thread count must give the same bits. Tolerance as
// the im2col kernels': 1e-5 relative to the largest magnitude.
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
  int64_t batch, channels, outChannels, size, kernel, stride, pad, dilation,
      groups;
  bool bias;
};

/// Runs `kernel` on a pool of `threads`; false if it was not planned.
bool runDnnl(ConvKernel kernel, const Conv2dGeometry &g, bool bias, int threads,
             const float *a, const float *b, const float *biasData,
             float *out) {
  std::unique_ptr<DnnlConv> conv = DnnlConv::plan(kernel, g, bias);
  if (!conv)
    return false;
  // NaN bytes: nothing may rely on a zeroed workspace (the executor's is
  // shared by all its convolutions).
  std::vector<uint8_t> raw(conv->workspaceBytes() + 64, 0xff);
  uint8_t *workspace =
      raw.data() + (64 - reinterpret_cast<uintptr_t>(raw.data()) % 64) % 64;
  conv->bind(workspace);
  ThreadPool pool(threads);
  conv->run(pool, a, b, biasData, out);
  return true;
}

bool sameBits(const at::Tensor &a, const at::Tensor &b) {
  return std::memcmp(a.data_ptr(), b.data_ptr(), a.numel() * sizeof(float)) ==
         0;
}

TEST(DnnlConv, AgainstATen) {
  at::manual_seed(11);
  // Weight gradients run through oneDNN from 32 output channels (two
  // ranges) in multiples of 16, without groups; the other cases check the
  // forward and input gradient.
  std::vector<Case> cases = {
      {4, 3, 32, 11, 3, 1, 1, 1, 1, true},    // padding, bias
      {5, 8, 8, 9, 3, 1, 2, 2, 2, false},     // dilation, groups, odd batch
      {6, 8, 8, 10, 3, 2, 1, 1, 8, true},     // depthwise, stride
      {4, 4, 48, 8, 1, 2, 0, 1, 1, true},     // 1x1, stride 2, three ranges
      {7, 6, 4, 9, 5, 1, 2, 1, 2, false},     // 5x5, groups
      {4, 3, 64, 32, 7, 2, 3, 1, 1, false},   // ResNet's stem
      {67, 16, 64, 6, 3, 1, 1, 1, 1, false},  // 8 slices: 9, 9, 9, then 8s
      {8, 128, 256, 4, 3, 2, 1, 1, 1, false}, // a stage's downsampling
      {4, 8, 144, 5, 3, 1, 1, 1, 1, false},   // ranges of 32, then 16s
      {5, 24, 40, 7, 3, 1, 1, 1, 1, true},    // channels padded to blocks
  };
  for (const Case &c : cases) {
    at::Tensor x =
        at::randn({c.batch, c.channels, c.size, c.size}).requires_grad_();
    at::Tensor w =
        at::randn({c.outChannels, c.channels / c.groups, c.kernel, c.kernel})
            .requires_grad_();
    at::Tensor b = at::randn({c.outChannels});
    at::Tensor y =
        at::conv2d(x, w, c.bias ? b : at::Tensor(), {c.stride, c.stride},
                   {c.pad, c.pad}, {c.dilation, c.dilation}, c.groups);
    at::Tensor gy = at::randn(y.sizes());
    y.backward(gy);
    at::Tensor xd = x.detach().contiguous(), wd = w.detach().contiguous();
    Conv2dGeometry g{c.batch,       c.channels, c.size,     c.size,
                     c.outChannels, c.kernel,   c.kernel,   y.size(2),
                     y.size(3),     c.stride,   c.stride,   c.pad,
                     c.pad,         c.dilation, c.dilation, c.groups};
    bool gradWeight =
        c.groups == 1 && c.outChannels >= 32 && c.outChannels % 16 == 0;
    at::Tensor out1, dx1, dw1;
    for (int threads : {1, 2, 3}) {
      std::string where = "case " + std::to_string(&c - cases.data()) + ", " +
                          std::to_string(threads) + " threads";
      at::Tensor out = at::empty(y.sizes()), dx = at::empty(x.sizes()),
                 dw = at::empty(w.sizes());
      ASSERT_TRUE(runDnnl(ConvKernel::Forward, g, c.bias, threads, data(xd),
                          data(wd), c.bias ? data(b) : nullptr, data(out)))
          << where;
      ASSERT_TRUE(runDnnl(ConvKernel::GradInput, g, false, threads, data(gy),
                          data(wd), nullptr, data(dx)))
          << where;
      ASSERT_EQ(runDnnl(ConvKernel::GradWeight, g, false, threads, data(gy),
                        data(xd), nullptr, data(dw)),
                gradWeight)
          << where;
      EXPECT_LE(relError(out, y.detach()), 1e-5) << where;
      EXPECT_LE(relError(dx, x.grad()), 1e-5) << where;
      if (gradWeight) {
        EXPECT_LE(relError(dw, w.grad()), 1e-5) << where;
      }
      if (threads == 1) {
        out1 = out, dx1 = dx, dw1 = dw;
        continue;
      }
      EXPECT_TRUE(sameBits(out, out1)) << where;
      EXPECT_TRUE(sameBits(dx, dx1)) << where;
      if (gradWeight) {
        EXPECT_TRUE(sameBits(dw, dw1)) << where;
      }
    }
  }
}

// A step must give the same bits every time.
TEST(DnnlConv, SameBitsEveryRun) {
  at::manual_seed(12);
  Conv2dGeometry g{9, 16, 6, 6, 64, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1};
  at::Tensor x = at::randn({9, 16, 6, 6}), gy = at::randn({9, 64, 6, 6});
  std::unique_ptr<DnnlConv> conv =
      DnnlConv::plan(ConvKernel::GradWeight, g, false);
  ASSERT_TRUE(conv);
  std::vector<uint8_t> raw(conv->workspaceBytes() + 64);
  conv->bind(raw.data() +
             (64 - reinterpret_cast<uintptr_t>(raw.data()) % 64) % 64);
  ThreadPool pool(3);
  at::Tensor first = at::empty({64, 16, 3, 3}),
             again = at::empty({64, 16, 3, 3});
  conv->run(pool, data(gy), data(x), nullptr, data(first));
  for (int i = 0; i < 5; ++i) {
    conv->run(pool, data(gy), data(x), nullptr, data(again));
    ASSERT_TRUE(sameBits(first, again));
  }
}

// Where accel's own kernels serve: work that makes one piece (a batch of
// one; a weight gradient of fewer than 32 output channels, or grouped),
// and taps that see only padding (im2col crops them; oneDNN would multiply
// the padding).
TEST(DnnlConv, LeavesToIm2col) {
  Conv2dGeometry one{1, 8, 8, 8, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::Forward, one, false));
  EXPECT_TRUE(DnnlConv::plan(ConvKernel::GradWeight, one, false));
  Conv2dGeometry narrow{4, 8, 8, 8, 16, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_TRUE(DnnlConv::plan(ConvKernel::Forward, narrow, false));
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::GradWeight, narrow, false));
  Conv2dGeometry grouped{4, 8, 8, 8, 32, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 2};
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::GradWeight, grouped, false));
  Conv2dGeometry oneByOne{8, 64, 1, 1, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::Forward, oneByOne, false));
  EXPECT_FALSE(DnnlConv::plan(ConvKernel::GradWeight, oneByOne, false));
}

} // namespace
